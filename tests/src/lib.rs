//! Test harness for Meshward: starts real ClickHouse, collector and Envoy processes on free
//! loopback ports with their own folders, a sample API, and a traffic driver. Used by the
//! end-to-end tests, `meshward-stack` (demo, up) and `meshward-bench`.

pub mod benign;
pub mod blocklist;
pub mod certs;
pub mod clickhouse;
pub mod collector;
pub mod corpus;
pub mod envoy;
pub mod helm;
pub mod process;
pub mod quality;
pub mod rng;
pub mod sample_api;
pub mod scenario;
pub mod stack;
pub mod traffic;
pub mod vuln_api;
pub mod zookeeper;

use std::path::PathBuf;

/// The workspace root (this crate lives in `tests/`).
pub fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}

/// Cargo's target folder: `CARGO_TARGET_DIR`, or `target/` in the workspace.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| workspace_root().join("target"))
}

/// Where harness runs keep their folders: `build/` in the workspace, or `MESHWARD_BUILD_DIR`.
pub fn build_dir() -> PathBuf {
    std::env::var_os("MESHWARD_BUILD_DIR").map(PathBuf::from).unwrap_or_else(|| workspace_root().join("build"))
}

/// Shared-secret used by the harness for ingest.
pub const TEST_TOKEN: &str = "meshward-test-ingest-token-0123456789";
/// Tokens of the collector's HTTP API in tests: one that reads, one that may also upload.
pub const API_READ_TOKEN: &str = "meshward-test-api-read-token-0123";
pub const API_ADMIN_TOKEN: &str = "meshward-test-api-admin-token-0123";
