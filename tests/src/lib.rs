//! Test harness for Meshward: starts real ClickHouse, collector and Envoy processes on free
//! loopback ports with their own folders, a sample API, and a traffic driver. Used by the
//! end-to-end tests, `meshward-stack` (demo, up) and `meshward-bench`.

pub mod bench_traffic;
pub mod benign;
pub mod blocklist;
pub mod certs;
pub mod clickhouse;
pub mod collector;
pub mod columns;
pub mod corpus;
pub mod detect_bench;
pub mod envoy;
pub mod helm;
pub mod process;
pub mod quality;
pub mod rng;
pub mod sample_api;
pub mod scenario;
pub mod soak;
pub mod sqlmap;
pub mod stack;
pub mod traffic;
pub mod vuln_api;
pub mod zookeeper;

use anyhow::Context;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

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

/// Runs the project's Python (the virtualenv `make setup` fills) with `args`: its output, or an
/// error carrying it if the program failed.
pub fn python<A: AsRef<OsStr>>(args: impl IntoIterator<Item = A>) -> anyhow::Result<String> {
    let python = workspace_root().join(".tools/py/bin/python");
    anyhow::ensure!(python.exists(), "no {}: run `make setup`", python.display());
    let output = std::process::Command::new(&python).args(args).output().context("running the project's Python")?;
    let report = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    anyhow::ensure!(output.status.success(), "{report}");
    Ok(report)
}

/// Validates an OpenAPI document (a JSON file) with `openapi-spec-validator`, as OpenAPI 3.0 or
/// 3.1 by its `openapi` field: the validator's verdict, or an error with its report.
pub fn validate_openapi(file: &Path) -> anyhow::Result<String> {
    const CHECK: &str = "
import sys, json
from openapi_spec_validator import OpenAPIV30SpecValidator, OpenAPIV31SpecValidator
doc = json.load(open(sys.argv[1]))
version = str(doc.get('openapi', ''))
validators = {'3.0': OpenAPIV30SpecValidator, '3.1': OpenAPIV31SpecValidator}
if version[:3] not in validators:
    sys.exit('openapi: %r is neither 3.0 nor 3.1' % version)
validators[version[:3]](doc).validate()
print('valid OpenAPI', version)
";
    python([OsStr::new("-c"), OsStr::new(CHECK), file.as_os_str()])
        .with_context(|| format!("{} is not a valid OpenAPI document", file.display()))
}

/// Kubernetes manifests checked by `scripts/validate_manifests.py` (Kubernetes schemas, strict;
/// Istio's CRD schemas): the report, or an error with it.
pub fn validate_manifests(files: &[PathBuf]) -> anyhow::Result<String> {
    let script = workspace_root().join("scripts/validate_manifests.py");
    python(std::iter::once(script.as_os_str()).chain(files.iter().map(|f| f.as_os_str())))
        .context("the manifests do not validate")
}

/// The files in `dir` ending in `.ext`, sorted.
pub fn files_with_extension(dir: &Path, ext: &str) -> anyhow::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    files.sort();
    Ok(files)
}

/// Shared-secret used by the harness for ingest.
pub const TEST_TOKEN: &str = "meshward-test-ingest-token-0123456789";
/// Tokens of the collector's HTTP API in tests: one that reads, one that may also upload.
pub const API_READ_TOKEN: &str = "meshward-test-api-read-token-0123";
pub const API_ADMIN_TOKEN: &str = "meshward-test-api-admin-token-0123";
