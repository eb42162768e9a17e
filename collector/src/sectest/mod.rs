//! Security tests for CI: YAML-defined tests (`spec`) run against one base URL (`run`), with a
//! summary, JUnit XML and SARIF reports (`report`), and templates that generate tests from an
//! OpenAPI spec or the discovered inventory (`generate`). The format: docs/security-tests.md.

pub mod generate;
pub mod jwt;
pub mod payloads;
pub mod report;
pub mod run;
pub mod spec;

pub use run::{run_all, Outcome, RunOptions, TestResult};
pub use spec::{load, Capability, SpecError, TestFile};
