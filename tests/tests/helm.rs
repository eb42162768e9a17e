//! The Helm chart, rendered with a real Go-template engine (`meshward_e2e::helm`): with the
//! default values and with the external-ClickHouse values it validates against the Kubernetes
//! and Istio schemas, the collector accepts the configuration it gets, the WasmPlugin carries
//! the shipped filter configuration, and the dashboards are the ones in grafana/.

use anyhow::{Context, Result};
use meshward_e2e::helm::render;
use serde_json::{json, Value};
use std::path::PathBuf;

fn chart() -> PathBuf {
    meshward_e2e::workspace_root().join("helm/meshward")
}

fn secrets() -> Value {
    json!({"ingest": {"token": "0123456789abcdef-ingest"}, "identityHashKey": "mesh-wide-identity-secret",
           "api": {"adminTokens": ["0123456789abcdef-admin"]}})
}

fn external() -> Result<Value> {
    Ok(serde_norway::from_str(&std::fs::read_to_string(chart().join("values-external.yaml"))?)?)
}

fn kinds(docs: &[Value]) -> Vec<String> {
    docs.iter()
        .map(|d| format!("{}/{}", d["kind"].as_str().unwrap_or(""), d["metadata"]["name"].as_str().unwrap_or("")))
        .collect()
}

fn validate(docs: &[Value], name: &str) -> Result<String> {
    let dir = meshward_e2e::process::fresh_dir("helm")?;
    let file = dir.join(format!("{name}.yaml"));
    let text: Vec<String> = docs.iter().map(serde_norway::to_string).collect::<Result<_, _>>()?;
    std::fs::write(&file, text.join("---\n"))?;
    meshward_e2e::validate_manifests(&[file]).with_context(|| format!("the chart rendered with {name} values"))
}

/// The collector's configuration from the rendered Secret, checked by `meshward config check`.
fn check_collector_config(docs: &[Value]) -> Result<String> {
    let secret = docs.iter().find(|d| d["kind"] == "Secret").context("no Secret")?;
    let config = secret["stringData"]["meshward.yaml"].as_str().context("no meshward.yaml in the Secret")?;
    let file = meshward_e2e::process::fresh_dir("helm-config")?.join("meshward.yaml");
    std::fs::write(&file, config)?;
    let output = std::process::Command::new(meshward_e2e::collector::collector_binary()?)
        .args(["config", "check", "--config"])
        .arg(&file)
        .output()?;
    anyhow::ensure!(
        output.status.success(),
        "meshward rejects the chart's configuration: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(config.to_owned())
}

#[test]
fn default_values_render_valid_manifests_the_collector_accepts() -> Result<()> {
    let docs = render(&chart(), &[secrets()], "meshward", "meshward")?;
    let names = kinds(&docs);
    for want in [
        "StatefulSet/meshward-collector",
        "Service/meshward-collector",
        "Secret/meshward-collector-config",
        "PodDisruptionBudget/meshward-collector",
        "StatefulSet/meshward-clickhouse",
        "DestinationRule/meshward-collector",
        "PeerAuthentication/meshward-collector",
        "WasmPlugin/meshward",
        "ConfigMap/meshward-dashboard-meshward-inventory",
    ] {
        assert!(names.iter().any(|n| n == want), "{want} missing from {names:?}");
    }
    let report = validate(&docs, "default")?;
    assert!(report.contains("valid: WasmPlugin"), "{report}");
    let config = check_collector_config(&docs)?;
    assert!(config.contains("http://meshward-clickhouse.meshward.svc.cluster.local:8123"), "{config}");
    let collector = docs
        .iter()
        .find(|d| d["kind"] == "StatefulSet" && d["metadata"]["name"] == "meshward-collector")
        .context("no collector")?;
    let container = &collector["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/readyz/ingest");
    assert_eq!(container["livenessProbe"]["httpGet"]["path"], "/healthz");
    assert_eq!(collector["spec"]["volumeClaimTemplates"][0]["metadata"]["name"], "spool");
    Ok(())
}

#[test]
fn external_clickhouse_values_render_without_the_bundled_server() -> Result<()> {
    let docs = render(&chart(), &[external()?, secrets()], "mw", "security")?;
    let names = kinds(&docs);
    assert!(!names.iter().any(|n| n.contains("clickhouse")), "{names:?}");
    assert!(names.iter().any(|n| n == "HorizontalPodAutoscaler/mw-collector"), "{names:?}");
    let plugins = docs.iter().filter(|d| d["kind"] == "WasmPlugin").count();
    assert_eq!(plugins, 2, "one WasmPlugin per watched namespace");
    validate(&docs, "external")?;
    let config: Value = serde_norway::from_str(&check_collector_config(&docs)?)?;
    assert_eq!(config["clickhouse"]["url"], "http://clickhouse.database.svc.cluster.local:8123");
    assert_eq!(config["clickhouse"]["retention_days"], 90);
    assert_eq!(config["clickhouse"]["cluster"], "meshward");
    Ok(())
}

#[test]
fn the_wasmplugin_carries_the_shipped_filter_configuration() -> Result<()> {
    let docs = render(&chart(), &[secrets()], "meshward", "meshward")?;
    let plugin = docs.iter().find(|d| d["kind"] == "WasmPlugin").context("no WasmPlugin")?;
    let rendered = &plugin["spec"]["pluginConfig"];
    meshward_filter::FilterConfig::parse(rendered.to_string().as_bytes()).map_err(anyhow::Error::msg)?;
    // the chart fills the secrets from values; everything else is istio/meshward-filter.json
    let shipped: Value = serde_json::from_str(&std::fs::read_to_string(
        meshward_e2e::workspace_root().join("istio/meshward-filter.json"),
    )?)?;
    let mut expected = shipped.clone();
    expected["collector_token"] = rendered["collector_token"].clone();
    expected["identity_hash_key"] = rendered["identity_hash_key"].clone();
    assert_eq!(rendered["collector_token"], "0123456789abcdef-ingest");
    assert_eq!(*rendered, expected, "the chart's filter configuration drifted from istio/meshward-filter.json");
    // and beside it, the sidecars take the downstream address from the connection
    let patch = docs
        .iter()
        .find(|d| d["kind"] == "EnvoyFilter" && d["metadata"]["name"] == "meshward-client-address")
        .context("no client-address EnvoyFilter")?;
    let mut hcm = patch["spec"]["configPatches"][0]["patch"]["value"]["typed_config"].clone();
    hcm.as_object_mut().context("typed_config")?.remove("@type");
    let expected: Value = serde_norway::from_str(meshward_e2e::envoy::CLIENT_ADDRESS_SETTINGS)?;
    assert_eq!(hcm, expected, "the chart's client-address patch drifted from what the end-to-end Envoy runs");
    assert_eq!(patch["spec"]["workloadSelector"]["labels"]["meshward.io/capture"], "enabled");
    Ok(())
}

#[test]
fn the_chart_ships_the_grafana_dashboards() -> Result<()> {
    let docs = render(&chart(), &[secrets()], "meshward", "meshward")?;
    for file in meshward_e2e::files_with_extension(&meshward_e2e::workspace_root().join("grafana"), "json")? {
        let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let shipped: Value = serde_json::from_str(&std::fs::read_to_string(&file)?)?;
        let map = docs
            .iter()
            .find(|d| d["kind"] == "ConfigMap" && d["data"][&name].is_string())
            .with_context(|| format!("no ConfigMap with {name}"))?;
        assert_eq!(map["metadata"]["labels"]["grafana_dashboard"], "1");
        let embedded: Value = serde_json::from_str(map["data"][&name].as_str().unwrap_or(""))?;
        assert_eq!(embedded, shipped, "{name} in the chart differs from grafana/: run scripts/chart_dashboards.py");
    }
    Ok(())
}

#[test]
fn missing_secrets_fail_the_render_with_what_to_set() {
    let err = render(&chart(), &[], "meshward", "meshward").err().map(|e| format!("{e:#}")).unwrap_or_default();
    assert!(err.contains("ingest.token is required"), "{err}");
}
