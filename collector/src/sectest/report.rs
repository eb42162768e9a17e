//! What a run says: a summary for the terminal, JUnit XML for CI test views, SARIF 2.1.0 for
//! code-scanning views (GitHub, GitLab, Azure DevOps). SARIF and JUnit are written with
//! serde_json and an XML escaper: the documents are small and fixed in shape, and tests validate
//! both against their published schemas.

use super::run::{Outcome, TestResult};
use super::spec::Severity;
use quick_xml::escape::escape;
use serde_json::json;
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// Counts by outcome.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    pub passed: usize,
    pub failed: usize,
    pub errors: usize,
    pub skipped: usize,
}

pub fn totals(results: &[TestResult]) -> Totals {
    let mut t = Totals::default();
    for r in results {
        match r.outcome {
            Outcome::Passed => t.passed += 1,
            Outcome::Failed => t.failed += 1,
            Outcome::Error => t.errors += 1,
            Outcome::Skipped => t.skipped += 1,
        }
    }
    t
}

/// One line per test, its failures under it, then the totals.
pub fn summary(results: &[TestResult], base_url: &str) -> String {
    let mut out = String::new();
    for r in results {
        let mark = match r.outcome {
            Outcome::Passed => "PASS ",
            Outcome::Failed => "FAIL ",
            Outcome::Error => "ERROR",
            Outcome::Skipped => "SKIP ",
        };
        let _ = writeln!(
            out,
            "{mark} {:<8} {}  {} ({} ms, {})",
            r.severity.as_str(),
            r.id,
            r.name,
            r.duration_ms,
            r.file.display()
        );
        if let Some(message) = &r.message {
            let _ = writeln!(out, "        {message}");
        }
        for f in r.failures.iter().take(10) {
            let payload = f.payload.as_deref().map(|p| format!(" [payload {p:?}]")).unwrap_or_default();
            let _ = writeln!(out, "        {}: {}{payload}: {}", f.step, f.request, f.message);
        }
        if r.failures.len() > 10 {
            let _ = writeln!(out, "        ... and {} more", r.failures.len() - 10);
        }
    }
    let t = totals(results);
    let _ = writeln!(
        out,
        "\n{} tests against {base_url}: {} passed, {} failed, {} errors, {} skipped",
        results.len(),
        t.passed,
        t.failed,
        t.errors,
        t.skipped
    );
    out
}

fn seconds(ms: u64) -> String {
    format!("{:.3}", ms as f64 / 1000.0)
}

fn failure_text(r: &TestResult) -> String {
    r.failures
        .iter()
        .map(|f| {
            let payload = f.payload.as_deref().map(|p| format!(" [payload {p:?}]")).unwrap_or_default();
            format!("{}: {}{payload}: {}", f.step, f.request, f.message)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// JUnit XML (the Jenkins/Surefire dialect most CI systems read): one suite, one case per test.
pub fn junit(results: &[TestResult], base_url: &str, timestamp: &str) -> String {
    let t = totals(results);
    let total_ms: u64 = results.iter().map(|r| r.duration_ms).sum();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"meshward\" tests=\"{}\" failures=\"{}\" errors=\"{}\" time=\"{}\">",
        results.len(),
        t.failed,
        t.errors,
        seconds(total_ms)
    );
    let _ = writeln!(
        out,
        "  <testsuite name=\"meshward security tests\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" \
         time=\"{}\" timestamp=\"{}\">",
        results.len(),
        t.failed,
        t.errors,
        t.skipped,
        seconds(total_ms),
        escape(timestamp)
    );
    let _ = writeln!(out, "    <properties><property name=\"base_url\" value=\"{}\"/></properties>", escape(base_url));
    for r in results {
        let _ = write!(
            out,
            "    <testcase name=\"{}\" classname=\"{}\" time=\"{}\"",
            escape(format!("{}: {}", r.id, r.name)),
            escape(r.file.display().to_string()),
            seconds(r.duration_ms)
        );
        match r.outcome {
            Outcome::Passed => out.push_str("/>\n"),
            Outcome::Failed => {
                let first = r.failures.first().map(|f| f.message.as_str()).unwrap_or("failed");
                let _ = writeln!(
                    out,
                    ">\n      <failure type=\"{}\" message=\"{}\">{}</failure>\n    </testcase>",
                    r.severity.as_str(),
                    escape(first),
                    escape(failure_text(r))
                );
            }
            Outcome::Error | Outcome::Skipped => {
                let element = if r.outcome == Outcome::Error { "error" } else { "skipped" };
                let message = r.message.as_deref().unwrap_or_default();
                let _ = writeln!(
                    out,
                    ">\n      <{element} message=\"{}\">{}</{element}>\n    </testcase>",
                    escape(message),
                    escape(message)
                );
            }
        }
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub reads `security-severity` (0.0-10.0) to rank security results.
fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "0.0",
    }
}

/// Characters a SARIF `uri` (an RFC 3986 reference) cannot hold as they are.
const URI_PATH: &percent_encoding::AsciiSet =
    &percent_encoding::CONTROLS.add(b' ').add(b'"').add(b'#').add(b'%').add(b'<').add(b'>').add(b'?').add(b'`');

/// The root a test file is located against: the git repository holding it (the nearest folder
/// with a `.git`, as `git rev-parse --show-toplevel` finds), else the current directory.
fn source_root(file: &Path) -> Option<PathBuf> {
    let file = std::fs::canonicalize(file).ok()?;
    let repository = file.ancestors().skip(1).find(|dir| dir.join(".git").exists()).map(Path::to_path_buf);
    repository.or_else(|| std::env::current_dir().ok().and_then(|d| std::fs::canonicalize(d).ok()))
}

/// A test file as code-scanning views want it: relative to `root` with `/` separators, or as
/// given when it is not under it.
fn relative_uri(file: &Path, root: Option<&Path>) -> String {
    let canonical = std::fs::canonicalize(file).unwrap_or_else(|_| file.to_path_buf());
    let shown = root.and_then(|root| canonical.strip_prefix(root).ok()).unwrap_or(file);
    let text = shown.display().to_string().replace('\\', "/");
    percent_encoding::utf8_percent_encode(&text, URI_PATH).to_string()
}

fn file_uri(dir: &Path) -> String {
    let text = dir.display().to_string().replace('\\', "/");
    let text = percent_encoding::utf8_percent_encode(&text, URI_PATH).to_string();
    let text = if text.starts_with('/') { text } else { format!("/{text}") };
    if text.ends_with('/') {
        format!("file://{text}")
    } else {
        format!("file://{text}/")
    }
}

/// SARIF 2.1.0: a rule per test, a result per failed test, located at its test file (the thing
/// a repository holds, relative to the repository's root) with the failing requests in the
/// message.
pub fn sarif(results: &[TestResult], base_url: &str) -> serde_json::Value {
    let root = results.first().and_then(|r| source_root(&r.file));
    let rules: Vec<serde_json::Value> = results
        .iter()
        .map(|r| {
            let description = if r.description.is_empty() { r.name.clone() } else { r.description.clone() };
            // SARIF wants distinct tags
            let mut tags: Vec<&str> = Vec::new();
            for tag in &r.tags {
                if !tags.contains(&tag.as_str()) {
                    tags.push(tag);
                }
            }
            json!({
                "id": r.id,
                "name": r.id,
                "shortDescription": {"text": r.name},
                "fullDescription": {"text": description},
                "defaultConfiguration": {"level": level(r.severity)},
                "properties": {"tags": tags, "security-severity": security_severity(r.severity)},
            })
        })
        .collect();
    let findings: Vec<serde_json::Value> = results
        .iter()
        .enumerate()
        .filter(|(_, r)| r.outcome == Outcome::Failed)
        .map(|(index, r)| {
            let first = r.failures.first();
            let headline = first.map(|f| format!("{}: {}", f.request, f.message)).unwrap_or_default();
            json!({
                "ruleId": r.id,
                "ruleIndex": index,
                "level": level(r.severity),
                "message": {"text": format!("{} — {headline} (against {base_url}; {} failed checks)", r.name, r.failures.len())},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": relative_uri(&r.file, root.as_deref()), "uriBaseId": "%SRCROOT%"},
                        "region": {"startLine": 1}
                    }
                }],
                "partialFingerprints": {"meshwardTest/v1": format!("{}:{}", r.id, first.map(|f| f.step.as_str()).unwrap_or(""))},
                "properties": {
                    "failures": r.failures.iter().map(|f| json!({
                        "step": f.step, "request": f.request, "status": f.status, "payload": f.payload, "message": f.message
                    })).collect::<Vec<_>>()
                }
            })
        })
        .collect();
    let mut run = json!({
        "tool": {"driver": {
            "name": "meshward",
            "version": env!("CARGO_PKG_VERSION"),
            "rules": rules
        }},
        "results": findings,
        "properties": {"baseUrl": base_url}
    });
    if let Some(root) = &root {
        run["originalUriBaseIds"] = json!({"%SRCROOT%": {"uri": file_uri(root)}});
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [run]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_are_relative_to_the_repository() {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("my repo");
        std::fs::create_dir_all(repo.join(".git")).unwrap();
        std::fs::create_dir_all(repo.join("security-tests")).unwrap();
        let file = repo.join("security-tests/bola.yaml");
        std::fs::write(&file, "id: x").unwrap();
        let root = source_root(&file).unwrap();
        assert_eq!(root, std::fs::canonicalize(&repo).unwrap());
        assert_eq!(relative_uri(&file, Some(&root)), "security-tests/bola.yaml");
        assert!(file_uri(&root).starts_with("file:///") && file_uri(&root).ends_with("/my%20repo/"));
    }
}
