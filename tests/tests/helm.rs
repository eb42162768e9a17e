//! The Helm chart as Helm sees it (Helm v4's SDK through `meshward_e2e::helm`): `helm lint
//! --strict` is clean with each shipped values file; each renders manifests that validate against
//! the Kubernetes and Istio schemas and a collector configuration `meshward config check`
//! accepts; the WasmPlugin carries the shipped filter configuration; the dashboards are the ones
//! in grafana/ (read with `.Files`); values.schema.json rejects bad values saying which; NOTES.txt
//! and the `helm test` hook say and check that the collector is ready.

use anyhow::{Context, Result};
use meshward_e2e::helm::{lint, render, Rendered};
use serde_json::{json, Value};
use std::path::PathBuf;

fn chart() -> PathBuf {
    meshward_e2e::workspace_root().join("helm/meshward")
}

fn secrets() -> Value {
    json!({"ingest": {"token": "0123456789abcdef-ingest"}, "identityHashKey": "mesh-wide-identity-secret",
           "api": {"adminTokens": ["0123456789abcdef-admin"]}})
}

fn values_file(name: &str) -> Result<Value> {
    let path = chart().join(name);
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    Ok(serde_norway::from_str(&text)?)
}

fn kinds(rendered: &Rendered) -> Vec<String> {
    rendered
        .documents
        .iter()
        .map(|d| format!("{}/{}", d["kind"].as_str().unwrap_or(""), d["metadata"]["name"].as_str().unwrap_or("")))
        .collect()
}

fn validate(rendered: &Rendered, name: &str) -> Result<String> {
    let dir = meshward_e2e::process::fresh_dir("helm")?;
    let file = dir.join(format!("{name}.yaml"));
    let text: Vec<String> = rendered.documents.iter().map(serde_norway::to_string).collect::<Result<_, _>>()?;
    std::fs::write(&file, text.join("---\n"))?;
    meshward_e2e::validate_manifests(&[file]).with_context(|| format!("the chart rendered with {name} values"))
}

/// The collector's configuration from the rendered Secret, checked by `meshward config check`.
fn check_collector_config(rendered: &Rendered) -> Result<Value> {
    let secret = rendered.documents.iter().find(|d| d["kind"] == "Secret").context("no Secret")?;
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
    Ok(serde_norway::from_str(config)?)
}

fn find<'a>(rendered: &'a Rendered, kind: &str, name: &str) -> Result<&'a Value> {
    rendered
        .documents
        .iter()
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
        .with_context(|| format!("no {kind}/{name} in {:?}", kinds(rendered)))
}

#[test]
fn strict_lint_is_clean_with_every_shipped_values_file() -> Result<()> {
    for file in [None, Some("values-external.yaml"), Some("values-cluster.yaml")] {
        let mut overlays = Vec::new();
        if let Some(file) = file {
            overlays.push(values_file(file)?);
        }
        overlays.push(secrets());
        let messages = lint(&chart(), &overlays)?;
        assert!(messages.is_empty(), "helm lint --strict with {file:?}: {messages:?}");
    }
    Ok(())
}

#[test]
fn default_values_render_valid_manifests_the_collector_accepts() -> Result<()> {
    let rendered = render(&chart(), &[secrets()], "meshward", "meshward")?;
    let names = kinds(&rendered);
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
        "Pod/meshward-test-readyz",
    ] {
        assert!(names.iter().any(|n| n == want), "{want} missing from {names:?}");
    }
    let report = validate(&rendered, "default")?;
    assert!(report.contains("valid: WasmPlugin"), "{report}");
    let config = check_collector_config(&rendered)?;
    assert_eq!(config["clickhouse"]["url"], "http://meshward-clickhouse.meshward.svc.cluster.local:8123");
    assert_eq!(config["spool"]["max_bytes"], 16_106_127_360u64);
    let collector = find(&rendered, "StatefulSet", "meshward-collector")?;
    let container = &collector["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/readyz/ingest");
    assert_eq!(container["livenessProbe"]["httpGet"]["path"], "/healthz");
    assert_eq!(collector["spec"]["volumeClaimTemplates"][0]["metadata"]["name"], "spool");
    // the recommended labels, and a selector that is a subset of the pod's labels
    let labels = &collector["spec"]["template"]["metadata"]["labels"];
    for key in ["app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/component"] {
        assert_eq!(collector["spec"]["selector"]["matchLabels"][key], labels[key], "{key}");
    }
    assert_eq!(labels["app.kubernetes.io/managed-by"], "Helm");
    assert_eq!(labels["helm.sh/chart"], "meshward-0.2.0");
    // the service selects the collector's pods, not ClickHouse's
    let service = find(&rendered, "Service", "meshward-collector")?;
    assert_eq!(service["spec"]["selector"]["app.kubernetes.io/component"], "collector");
    Ok(())
}

#[test]
fn external_clickhouse_values_render_without_the_bundled_server() -> Result<()> {
    let rendered = render(&chart(), &[values_file("values-external.yaml")?, secrets()], "mw", "security")?;
    let names = kinds(&rendered);
    assert!(!names.iter().any(|n| n.contains("clickhouse")), "{names:?}");
    let autoscaler = find(&rendered, "HorizontalPodAutoscaler", "mw-meshward-collector")?;
    assert_eq!(autoscaler["spec"]["minReplicas"], 3);
    // the autoscaler owns the replica count
    assert!(find(&rendered, "StatefulSet", "mw-meshward-collector")?["spec"]["replicas"].is_null());
    let plugins: Vec<&Value> = rendered.documents.iter().filter(|d| d["kind"] == "WasmPlugin").collect();
    assert_eq!(plugins.len(), 2, "one WasmPlugin per watched namespace");
    assert_eq!(plugins[0]["metadata"]["namespace"], "shop");
    let filter = &plugins[0]["spec"]["pluginConfig"];
    assert_eq!(filter["collector_cluster"], "outbound|50051||mw-meshward-collector.security.svc.cluster.local");
    validate(&rendered, "external")?;
    let config = check_collector_config(&rendered)?;
    assert_eq!(config["clickhouse"]["url"], "http://clickhouse.database.svc.cluster.local:8123");
    assert_eq!(config["clickhouse"]["retention_days"], 90);
    assert_eq!(config["clickhouse"]["cluster"], "");
    Ok(())
}

#[test]
fn cluster_values_create_the_tables_on_the_cluster() -> Result<()> {
    let rendered = render(&chart(), &[values_file("values-cluster.yaml")?, secrets()], "meshward", "meshward")?;
    assert!(!kinds(&rendered).iter().any(|n| n.contains("clickhouse")));
    validate(&rendered, "cluster")?;
    let config = check_collector_config(&rendered)?;
    assert_eq!(config["clickhouse"]["cluster"], "meshward");
    assert_eq!(config["clickhouse"]["user"], "meshward");
    Ok(())
}

#[test]
fn the_wasmplugin_carries_the_shipped_filter_configuration() -> Result<()> {
    let rendered = render(&chart(), &[secrets()], "meshward", "meshward")?;
    let plugin = find(&rendered, "WasmPlugin", "meshward")?;
    let config = &plugin["spec"]["pluginConfig"];
    meshward_filter::FilterConfig::parse(config.to_string().as_bytes()).map_err(anyhow::Error::msg)?;
    // the chart fills the secrets from values; everything else is istio/meshward-filter.json
    let shipped: Value = serde_json::from_str(&std::fs::read_to_string(
        meshward_e2e::workspace_root().join("istio/meshward-filter.json"),
    )?)?;
    let mut expected = shipped.clone();
    expected["collector_token"] = config["collector_token"].clone();
    expected["identity_hash_key"] = config["identity_hash_key"].clone();
    assert_eq!(config["collector_token"], "0123456789abcdef-ingest");
    assert_eq!(*config, expected, "the chart's filter configuration drifted from istio/meshward-filter.json");
    // and beside it, the sidecars take the downstream address from the connection
    let patch = find(&rendered, "EnvoyFilter", "meshward-client-address")?;
    let mut hcm = patch["spec"]["configPatches"][0]["patch"]["value"]["typed_config"].clone();
    hcm.as_object_mut().context("typed_config")?.remove("@type");
    let expected: Value = serde_norway::from_str(meshward_e2e::envoy::CLIENT_ADDRESS_SETTINGS)?;
    assert_eq!(hcm, expected, "the chart's client-address patch drifted from what the end-to-end Envoy runs");
    assert_eq!(patch["spec"]["workloadSelector"]["labels"]["meshward.io/capture"], "enabled");
    Ok(())
}

#[test]
fn the_chart_ships_the_grafana_dashboards() -> Result<()> {
    let rendered = render(&chart(), &[secrets()], "meshward", "meshward")?;
    let shipped_files = meshward_e2e::files_with_extension(&meshward_e2e::workspace_root().join("grafana"), "json")?;
    assert!(!shipped_files.is_empty());
    for file in &shipped_files {
        let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let shipped: Value = serde_json::from_str(&std::fs::read_to_string(file)?)?;
        let map = rendered
            .documents
            .iter()
            .find(|d| d["kind"] == "ConfigMap" && d["data"][&name].is_string())
            .with_context(|| format!("no ConfigMap with {name}"))?;
        assert_eq!(map["metadata"]["labels"]["grafana_dashboard"], "1");
        let embedded: Value = serde_json::from_str(map["data"][&name].as_str().unwrap_or(""))?;
        assert_eq!(embedded, shipped, "{name} in the chart differs from grafana/");
    }
    let maps = rendered.documents.iter().filter(|d| d["kind"] == "ConfigMap").count();
    assert_eq!(maps, shipped_files.len(), "one ConfigMap per dashboard");
    let off = render(&chart(), &[secrets(), json!({"grafana": {"dashboards": {"enabled": false}}})], "m", "m")?;
    assert!(!off.documents.iter().any(|d| d["kind"] == "ConfigMap"));
    Ok(())
}

fn render_error(overlays: &[Value]) -> String {
    match render(&chart(), overlays, "meshward", "meshward") {
        Ok(rendered) => format!("rendered {:?}", kinds(&rendered)),
        Err(err) => format!("{err:#}"),
    }
}

#[test]
fn the_schema_rejects_bad_values_saying_which() {
    let err = render_error(&[]);
    assert!(err.contains("'/ingest/token': minLength"), "{err}");
    assert!(err.contains("'/identityHashKey': minLength"), "{err}");
    let err = render_error(&[secrets(), json!({"clickhouse": {"mode": "external"}})]);
    assert!(err.contains("'/clickhouse/url'"), "{err}");
    let err = render_error(&[secrets(), json!({"clickhouse": {"mode": "replicated"}})]);
    assert!(err.contains("'/clickhouse/mode'"), "{err}");
    // a misspelt key is an error, not silently ignored
    let err = render_error(&[secrets(), json!({"collector": {"replica": 3}})]);
    assert!(err.contains("'/collector'") && err.contains("replica"), "{err}");
    let err = render_error(&[secrets(), json!({"api": {"readTokens": ["short"]}})]);
    assert!(err.contains("'/api/readTokens/0': minLength"), "{err}");
    let err = render_error(&[secrets(), json!({"wasmPlugin": {"namespaces": []}})]);
    assert!(err.contains("'/wasmPlugin/namespaces'"), "{err}");
}

#[test]
fn notes_and_the_test_hook_check_the_collector_is_ready() -> Result<()> {
    let rendered = render(&chart(), &[secrets()], "meshward", "meshward")?;
    assert!(rendered.notes.contains("helm test meshward -n meshward"), "{}", rendered.notes);
    assert!(rendered.notes.contains("meshward.io/capture=enabled"), "{}", rendered.notes);
    assert!(rendered.notes.contains("port-forward svc/meshward-collector 8080:8080"), "{}", rendered.notes);
    let hook = find(&rendered, "Pod", "meshward-test-readyz")?;
    assert_eq!(hook["metadata"]["annotations"]["helm.sh/hook"], "test");
    let script = hook["spec"]["containers"][0]["args"][0].as_str().unwrap_or_default();
    assert!(script.contains("http://meshward-collector.meshward.svc.cluster.local:8080/readyz"), "{script}");
    assert!(script.contains("exit $status"), "{script}");
    assert_eq!(hook["spec"]["restartPolicy"], "Never");
    Ok(())
}
