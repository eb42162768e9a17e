//! A real Envoy 1.40 (from `make setup`) with a generated bootstrap: one listener in front of
//! an upstream, optionally with a wasm filter, and clusters for the collector's gRPC ingest and
//! HTTP API.

use crate::process::{free_port, wait_http_ok, Guard};
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Which HTTP filter runs before the router.
#[derive(Debug, Clone)]
pub enum Filter {
    None,
    /// The do-nothing wasm module: the cost of wasm alone.
    Noop,
    /// The same module making the host calls Meshward makes for a deeply inspected exchange and
    /// nothing else: the floor under any filter that records what Meshward records.
    HostReads,
    /// The host calls of a metadata-only exchange (no body reads).
    MetadataReads,
    /// Meshward's filter with this JSON configuration.
    Meshward {
        config: serde_json::Value,
    },
    /// Experiment: the recorder as a native dynamic module.
    Native {
        so: PathBuf,
        config: serde_json::Value,
    },
    /// Another build of the filter (benchmark experiments compare builds side by side).
    MeshwardBuild {
        wasm: PathBuf,
        config: serde_json::Value,
    },
}

#[derive(Debug, Clone)]
pub struct EnvoyOptions {
    pub upstream_port: u16,
    pub collector_grpc_port: u16,
    /// The collector's HTTP API (the `meshward_api` cluster the filter fetches block lists from).
    pub collector_api_port: u16,
    pub filter: Filter,
    pub concurrency: u32,
    /// Pin Envoy to these CPUs (`taskset -c`), for benchmarks.
    pub cpu_list: Option<String>,
    /// Serve TLS on the listener and require client certificates signed by this CA (mTLS).
    pub mtls: Option<MtlsFiles>,
}

/// PEM files for an mTLS listener.
#[derive(Debug, Clone)]
pub struct MtlsFiles {
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    pub client_ca: PathBuf,
}

fn transport_socket(mtls: &MtlsFiles) -> String {
    format!(
        r#"      transport_socket:
        name: envoy.transport_sockets.tls
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
          require_client_certificate: true
          common_tls_context:
            tls_certificates: [ {{ certificate_chain: {{ filename: "{}" }}, private_key: {{ filename: "{}" }} }} ]
            validation_context: {{ trusted_ca: {{ filename: "{}" }} }}
"#,
        mtls.server_cert.display(),
        mtls.server_key.display(),
        mtls.client_ca.display()
    )
}

pub struct Envoy {
    pub dir: PathBuf,
    pub listen_port: u16,
    pub admin_port: u16,
    process: Option<Guard>,
    http: reqwest::Client,
}

pub fn envoy_binary() -> Result<PathBuf> {
    if let Some(path) = std::env::var_os("MESHWARD_ENVOY") {
        return Ok(PathBuf::from(path));
    }
    let path = crate::workspace_root().join(".tools").join("envoy");
    if !path.exists() {
        bail!("no Envoy at {}: run `make setup`", path.display());
    }
    Ok(path)
}

/// The built filter (`make build` puts it there).
pub fn meshward_wasm() -> Result<PathBuf> {
    let path = crate::target_dir().join("wasm32-wasip1").join("wasm").join("meshward_filter.wasm");
    if !path.exists() {
        bail!("no filter at {}: run `make build`", path.display());
    }
    Ok(path)
}

pub fn noop_wasm() -> Result<PathBuf> {
    let path = crate::target_dir().join("wasm32-wasip1").join("wasm").join("meshward_noop_filter.wasm");
    if !path.exists() {
        bail!("no no-op filter at {}: run `make build`", path.display());
    }
    Ok(path)
}

/// The filter configuration shipped for Istio (`istio/meshward-filter.json`, also inside the
/// WasmPlugin and EnvoyFilter manifests), with what differs here: the bootstrap's cluster
/// names, the test secrets and fast flushes. Tests and the demo run this, so the shipped
/// configuration is the one the end-to-end tests exercise.
pub fn default_filter_config() -> serde_json::Value {
    let path = crate::workspace_root().join("istio/meshward-filter.json");
    let mut config: serde_json::Value = std::fs::read_to_string(&path)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_else(|| panic!("{} must hold the filter configuration as JSON", path.display()));
    for (pointer, value) in local_overrides() {
        if let Some(slot) = config.pointer_mut(pointer) {
            *slot = value;
        }
    }
    config
}

/// The only settings the local stack changes in the shipped configuration.
pub fn local_overrides() -> Vec<(&'static str, serde_json::Value)> {
    vec![
        ("/collector_cluster", "meshward_collector".into()),
        ("/collector_token", crate::TEST_TOKEN.into()),
        ("/identity_hash_key", "meshward-demo-identity-key".into()),
        ("/flush_interval_ms", 200.into()),
        ("/blocklist/cluster", "meshward_api".into()),
        ("/blocklist/authority", "meshward-collector".into()),
        // no gateway here: the harness's client at 127.0.0.1 plays it, writing x-forwarded-for
        // as a gateway appends it; any other peer's header is not believed
        ("/trusted_proxy_cidrs", serde_json::json!(["127.0.0.1/32"])),
        ("/trusted_proxy_principals", serde_json::json!([])),
    ]
}

/// A plugin configuration as the YAML string of a `google.protobuf.StringValue`.
fn string_value(configuration: &str) -> String {
    serde_json::to_string(configuration).unwrap_or_else(|_| "\"\"".into())
}

fn wasm_filter(name: &str, path: &Path, configuration: &str) -> String {
    let configuration = string_value(configuration);
    format!(
        r#"          - name: envoy.filters.http.wasm
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
              config:
                name: {name}
                root_id: {name}
                failure_policy: FAIL_OPEN
                vm_config:
                  vm_id: {name}
                  runtime: envoy.wasm.runtime.v8
                  code: {{ local: {{ filename: "{path}" }} }}
                configuration:
                  "@type": type.googleapis.com/google.protobuf.StringValue
                  value: {configuration}
"#,
        path = path.display()
    )
}

/// The recorder as an Envoy dynamic module (`experiments/native-recorder`), for measurements.
fn native_filter(path: &Path, configuration: &str) -> String {
    let configuration = string_value(configuration);
    format!(
        r#"          - name: envoy.filters.http.dynamic_modules
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.dynamic_modules.v3.DynamicModuleFilter
              dynamic_module_config:
                module: {{ local: {{ filename: "{path}" }} }}
              filter_name: meshward
              filter_config:
                "@type": type.googleapis.com/google.protobuf.StringValue
                value: {configuration}
"#,
        path = path.display()
    )
}

fn bootstrap(options: &EnvoyOptions, listen_port: u16, admin_port: u16) -> Result<String> {
    let filter = match &options.filter {
        Filter::None => String::new(),
        Filter::Noop => wasm_filter("noop", &noop_wasm()?, ""),
        Filter::HostReads => wasm_filter("noop", &noop_wasm()?, r#"{"host_reads": true}"#),
        Filter::MetadataReads => wasm_filter("noop", &noop_wasm()?, r#"{"metadata_reads": true}"#),
        Filter::Meshward { config } => wasm_filter("meshward", &meshward_wasm()?, &config.to_string()),
        Filter::MeshwardBuild { wasm, config } => wasm_filter("meshward", wasm, &config.to_string()),
        Filter::Native { so, config } => native_filter(so, &config.to_string()),
    };
    Ok(format!(
        r#"node:
  id: sample-api-6f7c9d-x2k4p.demo
  cluster: sample-api
  metadata: {{ WORKLOAD_NAME: sample-api, NAMESPACE: demo }}
admin:
  address: {{ socket_address: {{ address: 127.0.0.1, port_value: {admin_port} }} }}
static_resources:
  listeners:
  - name: ingress
    address: {{ socket_address: {{ address: 127.0.0.1, port_value: {listen_port} }} }}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress
          # the request id back to the caller: a client's record of what it sent (sqlmap's HAR)
          # joins the filter's events by it
          always_set_request_id_in_response: true
{client_address}          route_config:
            virtual_hosts:
            - name: app
              domains: ["*"]
              routes: [ {{ match: {{ prefix: "/" }}, route: {{ cluster: app }} }} ]
          http_filters:
{filter}          - name: envoy.filters.http.router
            typed_config: {{ "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }}
{tls}  clusters:
  - name: app
    type: STATIC
    connect_timeout: 1s
    load_assignment:
      cluster_name: app
      endpoints: [ {{ lb_endpoints: [ {{ endpoint: {{ address: {{ socket_address: {{ address: 127.0.0.1, port_value: {upstream} }} }} }} }} ] }} ]
  - name: meshward_collector
    type: STATIC
    connect_timeout: 1s
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config: {{ http2_protocol_options: {{}} }}
    load_assignment:
      cluster_name: meshward_collector
      endpoints: [ {{ lb_endpoints: [ {{ endpoint: {{ address: {{ socket_address: {{ address: 127.0.0.1, port_value: {grpc} }} }} }} }} ] }} ]
  - name: meshward_api
    type: STATIC
    connect_timeout: 1s
    load_assignment:
      cluster_name: meshward_api
      endpoints: [ {{ lb_endpoints: [ {{ endpoint: {{ address: {{ socket_address: {{ address: 127.0.0.1, port_value: {api} }} }} }} }} ] }} ]
"#,
        upstream = options.upstream_port,
        grpc = options.collector_grpc_port,
        api = options.collector_api_port,
        tls = options.mtls.as_ref().map(transport_socket).unwrap_or_default(),
        client_address = CLIENT_ADDRESS_SETTINGS.lines().map(|l| format!("          {l}\n")).collect::<String>(),
    ))
}

/// The connection manager settings that make the connection's peer the downstream address
/// (`source.address`) instead of an entry of a client-written x-forwarded-for (what
/// `use_remote_address: false`, a sidecar's default, makes it), pass the header on as it came
/// (the filter believes it only from its trusted proxies), keep the caller's request id, and
/// count the private and loopback ranges as internal (Envoy 1.40 counts none by default: every
/// caller would be "external", its `x-envoy-*` headers stripped). `istio/client-address.yaml`
/// sets the same on the sidecars (a test checks).
pub const CLIENT_ADDRESS_SETTINGS: &str = "use_remote_address: true
skip_xff_append: true
preserve_external_request_id: true
internal_address_config:
  cidr_ranges:
  - {address_prefix: 10.0.0.0, prefix_len: 8}
  - {address_prefix: 172.16.0.0, prefix_len: 12}
  - {address_prefix: 192.168.0.0, prefix_len: 16}
  - {address_prefix: 127.0.0.0, prefix_len: 8}
  - {address_prefix: 'fc00::', prefix_len: 7}
  - {address_prefix: '::1', prefix_len: 128}
";

impl Envoy {
    pub async fn start(dir: &Path, options: &EnvoyOptions) -> Result<Envoy> {
        std::fs::create_dir_all(dir)?;
        let listen_port = free_port()?;
        let admin_port = free_port()?;
        let config = dir.join("envoy.yaml");
        std::fs::write(&config, bootstrap(options, listen_port, admin_port)?)?;
        let mut command = match &options.cpu_list {
            Some(cpus) => {
                let mut c = Command::new("taskset");
                c.arg("-c").arg(cpus).arg(envoy_binary()?);
                c
            }
            None => Command::new(envoy_binary()?),
        };
        command
            .arg("-c")
            .arg(&config)
            .arg("--concurrency")
            .arg(options.concurrency.to_string())
            .arg("--base-id")
            .arg(admin_port.to_string())
            .arg("--log-level")
            .arg("warn");
        let mut guard = Guard::spawn("envoy", command, &dir.join("envoy.log"))?;
        let http = reqwest::Client::new();
        let ready_url = format!("http://127.0.0.1:{admin_port}/ready");
        let ready = wait_http_ok(&http, &ready_url, "Envoy to be ready", Duration::from_secs(60)).await;
        if let Err(err) = ready {
            bail!("{err}\n{}", guard.exited().unwrap_or_else(|| crate::process::tail(&guard.log, 30)));
        }
        Ok(Envoy { dir: dir.to_path_buf(), listen_port, admin_port, process: Some(guard), http })
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.listen_port)
    }

    pub fn pid(&self) -> Option<u32> {
        self.process.as_ref().and_then(Guard::pid)
    }

    pub fn admin_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.admin_port)
    }

    /// A counter from `/stats`, e.g. `wasmcustom.meshward.events_acked`; 0 when absent.
    pub async fn stat(&self, name: &str) -> Result<u64> {
        let url = format!("{}/stats?filter=^{}$", self.admin_url(), name.replace('.', "\\."));
        let body = self.http.get(url).send().await?.text().await.context("reading Envoy stats")?;
        Ok(body
            .lines()
            .find_map(|line| line.strip_prefix(&format!("{name}: ")))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0))
    }

    pub fn log_tail(&self) -> String {
        crate::process::tail(&self.dir.join("envoy.log"), 40)
    }

    pub fn stop(&mut self) {
        if let Some(mut p) = self.process.take() {
            p.stop(Duration::from_secs(5));
        }
    }
}
