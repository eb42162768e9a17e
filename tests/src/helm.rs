//! The Helm chart as Helm itself sees it: `scripts/helm_chart.py` lints (`helm lint --strict`)
//! and renders (`helm template`, test hooks included) with Helm v4's own Go SDK, the PyPI wheel
//! helm-python-sdk that `make setup` installs. No template engine of our own stands in for it.

use anyhow::{Context as _, Result};
use serde_json::Value;
use std::path::Path;

/// Deep-merges `overlay` into `base` (maps merge, anything else replaces), like repeated `-f`.
pub fn merge(base: &mut Value, overlay: &Value) {
    match (base, overlay) {
        (Value::Object(base), Value::Object(overlay)) => {
            for (key, value) in overlay {
                match base.get_mut(key) {
                    Some(slot) => merge(slot, value),
                    None => {
                        base.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (base, overlay) => *base = overlay.clone(),
    }
}

/// What `helm install` would apply: the manifests (YAML parsed to JSON values, each with the
/// template it came from) and the rendered NOTES.txt.
#[derive(Debug)]
pub struct Rendered {
    pub documents: Vec<Value>,
    pub sources: Vec<String>,
    pub notes: String,
}

fn chart_script(command: &str, chart: &Path, overlays: &[Value], release: &str, namespace: &str) -> Result<String> {
    let mut values = Value::Object(Default::default());
    for overlay in overlays {
        merge(&mut values, overlay);
    }
    let script = crate::workspace_root().join("scripts/helm_chart.py");
    let values = values.to_string();
    crate::python([
        script.as_os_str(),
        command.as_ref(),
        chart.as_os_str(),
        "--set-json".as_ref(),
        values.as_ref(),
        "--name".as_ref(),
        release.as_ref(),
        "--namespace".as_ref(),
        namespace.as_ref(),
    ])
}

/// Renders `chart` with `overlays` merged over its values.yaml, as release `release` in
/// `namespace`; an error carries Helm's message (a schema violation, a failed template).
pub fn render(chart: &Path, overlays: &[Value], release: &str, namespace: &str) -> Result<Rendered> {
    let report = chart_script("render", chart, overlays, release, namespace)?;
    // the script prints one JSON line; Helm's own log lines may precede it on stderr
    let line = report.lines().find(|l| l.starts_with("{\"documents\"")).context("no rendering in the output")?;
    let rendered: Value = serde_json::from_str(line).context("parsing the rendering")?;
    let mut documents = Vec::new();
    let mut sources = Vec::new();
    for doc in rendered["documents"].as_array().context("no documents")? {
        let manifest = doc["manifest"].as_str().unwrap_or_default();
        let source = doc["source"].as_str().unwrap_or_default().to_owned();
        let parsed: Value =
            serde_norway::from_str(manifest).with_context(|| format!("{source} rendered invalid YAML:\n{manifest}"))?;
        documents.push(parsed);
        sources.push(source);
    }
    Ok(Rendered { documents, sources, notes: rendered["notes"].as_str().unwrap_or_default().to_owned() })
}

/// `helm lint --strict` of `chart` with `overlays`: the report's messages, or an error with them
/// when any is a warning or an error.
pub fn lint(chart: &Path, overlays: &[Value]) -> Result<Vec<String>> {
    let report = chart_script("lint", chart, overlays, "meshward", "meshward").context("helm lint --strict")?;
    let line = report.lines().find(|l| l.starts_with("{\"")).context("no lint report in the output")?;
    let parsed: Value = serde_json::from_str(line).context("parsing the lint report")?;
    Ok(parsed["messages"]
        .as_array()
        .map(|m| m.iter().map(|m| format!("{}: {}", m["path"], m["error"])).collect())
        .unwrap_or_default())
}
