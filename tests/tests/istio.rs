//! The Istio manifests carry the filter configuration the end-to-end tests run: the WasmPlugin's
//! `pluginConfig` is `istio/meshward-filter.json`, the EnvoyFilter's configuration is the same
//! with its own cluster names (which its cluster patches define), and the harness runs that
//! file with only the local overrides. All of them parse with the filter's own parser.

use anyhow::{Context, Result};
use meshward_filter::FilterConfig;
use serde::Deserialize;
use serde_json::Value;

fn istio(file: &str) -> Result<String> {
    let path = meshward_e2e::workspace_root().join("istio").join(file);
    std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))
}

fn source() -> Result<Value> {
    Ok(serde_json::from_str(&istio("meshward-filter.json")?)?)
}

fn yaml_docs(text: &str) -> Result<Vec<Value>> {
    serde_norway::Deserializer::from_str(text)
        .map(|doc| Ok(serde_json::to_value(serde_norway::Value::deserialize(doc)?)?))
        .collect()
}

fn parses(config: &Value) -> Result<()> {
    FilterConfig::parse(config.to_string().as_bytes()).map_err(anyhow::Error::msg)?;
    Ok(())
}

#[test]
fn wasmplugin_carries_the_shipped_configuration() -> Result<()> {
    let docs = yaml_docs(&istio("wasmplugin.yaml")?)?;
    let plugin = docs.iter().find(|d| d["kind"] == "WasmPlugin").context("no WasmPlugin")?;
    assert_eq!(plugin["spec"]["pluginConfig"], source()?, "wasmplugin.yaml drifted from meshward-filter.json");
    assert_eq!(plugin["spec"]["failStrategy"], "FAIL_OPEN");
    parses(&plugin["spec"]["pluginConfig"])?;
    // the clusters are the outbound clusters of the collector Service in collector-mesh.yaml
    let mesh = yaml_docs(&istio("collector-mesh.yaml")?)?;
    let service = mesh.iter().find(|d| d["kind"] == "Service").context("no Service")?;
    let host = format!(
        "{}.{}.svc.cluster.local",
        service["metadata"]["name"].as_str().unwrap_or(""),
        service["metadata"]["namespace"].as_str().unwrap_or("")
    );
    let ports: Vec<u64> =
        service["spec"]["ports"].as_array().into_iter().flatten().filter_map(|p| p["port"].as_u64()).collect();
    for cluster in
        [&plugin["spec"]["pluginConfig"]["collector_cluster"], &plugin["spec"]["pluginConfig"]["blocklist"]["cluster"]]
    {
        let cluster = cluster.as_str().unwrap_or("");
        let matches = ports.iter().any(|port| cluster == format!("outbound|{port}||{host}"));
        assert!(matches, "{cluster} is not an outbound cluster of {host} {ports:?}");
    }
    Ok(())
}

#[test]
fn envoyfilter_carries_the_same_configuration_and_its_clusters() -> Result<()> {
    let docs = yaml_docs(&istio("envoyfilter.yaml")?)?;
    let filter = docs.iter().find(|d| d["kind"] == "EnvoyFilter").context("no EnvoyFilter")?;
    let patches = filter["spec"]["configPatches"].as_array().context("no configPatches")?;
    let wasm = patches.iter().find(|p| p["applyTo"] == "HTTP_FILTER").context("no HTTP_FILTER patch")?;
    assert_eq!(wasm["patch"]["operation"], "INSERT_BEFORE");
    assert_eq!(wasm["match"]["listener"]["filterChain"]["filter"]["subFilter"]["name"], "envoy.filters.http.router");
    let config = &wasm["patch"]["value"]["typed_config"]["config"];
    assert_eq!(config["failure_policy"], "FAIL_OPEN");
    let embedded: Value = serde_json::from_str(config["configuration"]["value"].as_str().unwrap_or(""))?;
    parses(&embedded)?;
    let mut expected = source()?;
    expected["collector_cluster"] = embedded["collector_cluster"].clone();
    expected["blocklist"]["cluster"] = embedded["blocklist"]["cluster"].clone();
    assert_eq!(embedded, expected, "envoyfilter.yaml drifted from meshward-filter.json beyond its cluster names");
    let clusters: Vec<&Value> =
        patches.iter().filter(|p| p["applyTo"] == "CLUSTER").map(|p| &p["patch"]["value"]).collect();
    let grpc =
        clusters.iter().find(|c| c["name"] == embedded["collector_cluster"]).context("no collector cluster patch")?;
    assert!(
        grpc["typed_extension_protocol_options"]["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]
            ["explicit_http_config"]["http2_protocol_options"]
            .is_object(),
        "the ingest cluster must speak HTTP/2 (gRPC)"
    );
    assert!(clusters.iter().any(|c| c["name"] == embedded["blocklist"]["cluster"]), "no block-list cluster patch");
    Ok(())
}

#[test]
fn end_to_end_tests_run_the_shipped_configuration() -> Result<()> {
    let mut expected = source()?;
    for (pointer, value) in meshward_e2e::envoy::local_overrides() {
        *expected.pointer_mut(pointer).context("an override names a setting the source lacks")? = value;
    }
    let harness = meshward_e2e::envoy::default_filter_config();
    assert_eq!(harness, expected);
    parses(&harness)
}

#[test]
fn client_address_patch_sets_what_the_end_to_end_envoy_runs() -> Result<()> {
    let docs = yaml_docs(&istio("client-address.yaml")?)?;
    let filter = docs.iter().find(|d| d["kind"] == "EnvoyFilter").context("no EnvoyFilter")?;
    let patch = &filter["spec"]["configPatches"][0];
    assert_eq!(patch["match"]["context"], "SIDECAR_INBOUND");
    assert_eq!(patch["patch"]["operation"], "MERGE");
    let mut hcm = patch["patch"]["value"]["typed_config"].clone();
    hcm.as_object_mut().context("typed_config")?.remove("@type");
    let expected: Value = serde_norway::from_str(meshward_e2e::envoy::CLIENT_ADDRESS_SETTINGS)?;
    assert_eq!(hcm, expected, "client-address.yaml drifted from what the end-to-end Envoy runs");
    Ok(())
}

#[test]
fn manifests_validate_against_kubernetes_and_istio_schemas() -> Result<()> {
    let dir = meshward_e2e::workspace_root().join("istio");
    let files: Vec<_> = ["wasmplugin.yaml", "envoyfilter.yaml", "collector-mesh.yaml", "client-address.yaml"]
        .iter()
        .map(|f| dir.join(f))
        .collect();
    let report = meshward_e2e::validate_manifests(&files)?;
    for kind in ["WasmPlugin", "EnvoyFilter", "DestinationRule", "PeerAuthentication", "Service", "Namespace"] {
        assert!(report.lines().any(|l| l.starts_with("valid:") && l.contains(kind)), "{kind} not checked:\n{report}");
    }
    Ok(())
}

#[test]
fn the_filter_lays_out_as_an_oci_wasm_artifact() -> Result<()> {
    let root = meshward_e2e::workspace_root();
    let wasm = meshward_e2e::envoy::meshward_wasm()?;
    let out = meshward_e2e::process::fresh_dir("oci")?.join("meshward-filter");
    let run = std::process::Command::new("python3")
        .arg(root.join("scripts/wasm_oci.py"))
        .arg(&wasm)
        .arg(&out)
        .arg("0.1.0")
        .output()?;
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let blob = |digest: &str| out.join("blobs/sha256").join(digest.trim_start_matches("sha256:"));
    let index: Value = serde_json::from_str(&std::fs::read_to_string(out.join("index.json"))?)?;
    assert_eq!(index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"], "0.1.0");
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(blob(index["manifests"][0]["digest"].as_str().unwrap_or("")))?)?;
    assert_eq!(manifest["config"]["mediaType"], "application/vnd.module.wasm.config.v1+json");
    assert!(blob(manifest["config"]["digest"].as_str().unwrap_or("")).exists());
    let layer = &manifest["layers"][0];
    assert_eq!(layer["mediaType"], "application/vnd.module.wasm.content.layer.v1+wasm");
    let module = std::fs::read(&wasm)?;
    assert_eq!(std::fs::read(blob(layer["digest"].as_str().unwrap_or("")))?, module, "the layer is the module");
    assert_eq!(layer["size"].as_u64(), Some(module.len() as u64));
    let oci_layout: Value = serde_json::from_str(&std::fs::read_to_string(out.join("oci-layout"))?)?;
    assert_eq!(oci_layout["imageLayoutVersion"], "1.0.0");
    Ok(())
}
