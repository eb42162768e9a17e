//! Renders the Helm chart the way `helm template` does, with a real Go text/template engine
//! (gtmpl-ng with its Helm function set): values.yaml merged with overlays, `.Chart`, `.Release`,
//! `_*.tpl` files as shared definitions, each other template rendered and split into documents.
//! No Helm binary installs from the registries here; the chart keeps to what this engine has
//! (`template` instead of `include`, `indent` instead of `nindent`, no `.Files`).

use anyhow::{Context as _, Result};
use gtmpl_ng::helm_functions::{serde_json_value_to_gtmpl_value, HELM_FUNCTIONS};
use gtmpl_ng::{Context, Template};
use serde_json::{json, Value};
use std::path::Path;

/// Deep-merges `overlay` into `base` (maps merge, anything else replaces), like `-f values.yaml`.
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

fn yaml_file(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_norway::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

/// The rendered documents (YAML parsed to JSON values), in file order.
pub fn render(chart: &Path, overlays: &[Value], release: &str, namespace: &str) -> Result<Vec<Value>> {
    let meta = yaml_file(&chart.join("Chart.yaml"))?;
    let mut values = yaml_file(&chart.join("values.yaml"))?;
    for overlay in overlays {
        merge(&mut values, overlay);
    }
    let context = json!({
        "Values": values,
        "Chart": {"Name": meta["name"], "Version": meta["version"], "AppVersion": meta["appVersion"]},
        "Release": {"Name": release, "Namespace": namespace, "Service": "Helm", "IsInstall": true},
    });
    let context = Context::from(serde_json_value_to_gtmpl_value(context));
    let mut files: Vec<_> = std::fs::read_dir(chart.join("templates"))?.flatten().map(|e| e.path()).collect();
    files.sort();
    let helpers: Vec<(String, String)> = files
        .iter()
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('_')))
        .map(|p| Ok((p.display().to_string(), std::fs::read_to_string(p)?)))
        .collect::<Result<_>>()?;
    let mut documents = Vec::new();
    for file in files.iter().filter(|p| p.extension().is_some_and(|e| e == "yaml")) {
        let name = file.display().to_string();
        let mut template = Template::with_name(name.clone());
        template.add_funcs(&HELM_FUNCTIONS);
        for (helper, text) in &helpers {
            template.add_template(helper.clone(), text.clone()).map_err(|e| anyhow::anyhow!("{helper}: {e}"))?;
        }
        template.parse(std::fs::read_to_string(file)?).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
        let text = template.render(&context).map_err(|e| anyhow::anyhow!("rendering {name}: {e}"))?;
        for doc in text.split("\n---") {
            let parsed: Value =
                serde_norway::from_str(doc).with_context(|| format!("{name} rendered invalid YAML:\n{doc}"))?;
            if !parsed.is_null() {
                documents.push(parsed);
            }
        }
    }
    Ok(documents)
}
