//! The real `meshward` collector binary, with its own config, spool folder and ports.

use crate::process::{free_port, wait_http_ok, Guard};
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Settings a test may change.
#[derive(Debug, Clone)]
pub struct CollectorOptions {
    pub clickhouse_url: String,
    pub database: String,
    pub writer_max_delay_ms: u64,
    pub writer_max_batch_rows: usize,
    pub spool_max_bytes: u64,
    pub spool_segment_bytes: u64,
    pub fsync: &'static str,
    /// YAML appended to the generated config (e.g. a `blocklist:` section).
    pub extra_config: String,
    /// `clickhouse.cluster`: empty for one server.
    pub cluster: String,
    /// `log.level`.
    pub log_level: &'static str,
}

impl CollectorOptions {
    pub fn new(clickhouse_url: &str, database: &str) -> Self {
        CollectorOptions {
            clickhouse_url: clickhouse_url.to_owned(),
            database: database.to_owned(),
            writer_max_delay_ms: 200,
            writer_max_batch_rows: 50_000,
            spool_max_bytes: 1 << 30,
            spool_segment_bytes: 64 << 20,
            fsync: "always",
            extra_config: String::new(),
            cluster: String::new(),
            log_level: "info",
        }
    }
}

pub struct Collector {
    pub dir: PathBuf,
    pub grpc_port: u16,
    pub api_port: u16,
    pub options: CollectorOptions,
    process: Option<Guard>,
    http: reqwest::Client,
}

/// The collector binary: `MESHWARD_BIN`, or the workspace's debug (then release) build.
pub fn collector_binary() -> Result<PathBuf> {
    if let Some(path) = std::env::var_os("MESHWARD_BIN") {
        return Ok(PathBuf::from(path));
    }
    let target = crate::target_dir();
    for profile in ["debug", "release"] {
        let path = target.join(profile).join("meshward");
        if path.exists() {
            return Ok(path);
        }
    }
    bail!("no meshward binary under {}: run `make build` (or set MESHWARD_BIN)", target.display())
}

impl Collector {
    pub async fn start(dir: &Path, options: CollectorOptions) -> Result<Collector> {
        std::fs::create_dir_all(dir)?;
        let mut collector = Collector {
            dir: dir.to_path_buf(),
            grpc_port: free_port()?,
            api_port: free_port()?,
            options,
            process: None,
            http: reqwest::Client::new(),
        };
        collector.launch().await?;
        Ok(collector)
    }

    fn config(&self) -> String {
        let o = &self.options;
        format!(
            "ingest:\n  listen: 127.0.0.1:{grpc}\n  token: {token}\nspool:\n  dir: {spool}\n  max_bytes: {max}\n  segment_bytes: {segment}\n  fsync: {fsync}\n\
             clickhouse:\n  url: {url}\n  database: {db}\n  cluster: \"{cluster}\"\nwriter:\n  max_batch_rows: {rows}\n  max_delay_ms: {delay}\n\
             api:\n  listen: 127.0.0.1:{api}\n  read_tokens: [{read}]\n  admin_tokens: [{admin}]\nlog:\n  format: json\n  level: {log_level}\n",
            grpc = self.grpc_port,
            token = crate::TEST_TOKEN,
            spool = self.dir.join("spool").display(),
            max = o.spool_max_bytes,
            segment = o.spool_segment_bytes,
            fsync = o.fsync,
            url = o.clickhouse_url,
            db = o.database,
            cluster = o.cluster,
            rows = o.writer_max_batch_rows,
            delay = o.writer_max_delay_ms,
            api = self.api_port,
            read = crate::API_READ_TOKEN,
            admin = crate::API_ADMIN_TOKEN,
            log_level = o.log_level,
        ) + &o.extra_config
    }

    async fn launch(&mut self) -> Result<()> {
        let config = self.dir.join("meshward.yaml");
        std::fs::write(&config, self.config())?;
        let mut command = Command::new(collector_binary()?);
        command.arg("serve").arg("--config").arg(&config).env_remove("RUST_LOG");
        let log = self.dir.join(format!(
            "collector-{}.log",
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0)
        ));
        let mut guard = Guard::spawn("meshward", command, &log)?;
        let url = format!("http://127.0.0.1:{}/healthz", self.api_port);
        let up = wait_http_ok(&self.http, &url, "the collector to answer /healthz", Duration::from_secs(30)).await;
        if let Err(err) = up {
            bail!("{err}\n{}", guard.exited().unwrap_or_default());
        }
        self.process = Some(guard);
        Ok(())
    }

    /// Waits until `/readyz` says the schema is in place and writes work.
    pub async fn wait_ready(&self) -> Result<()> {
        let url = format!("http://127.0.0.1:{}/readyz", self.api_port);
        wait_http_ok(&self.http, &url, "the collector to be ready", Duration::from_secs(60)).await
    }

    /// The running collector's log file (its stderr: JSON lines).
    pub fn log_path(&self) -> Option<std::path::PathBuf> {
        self.process.as_ref().map(|p| p.log.clone())
    }

    pub fn pid(&self) -> Option<u32> {
        self.process.as_ref().and_then(crate::process::Guard::pid)
    }

    pub fn kill9(&mut self) {
        if let Some(mut p) = self.process.take() {
            p.kill9();
        }
    }

    pub fn stop(&mut self) {
        if let Some(mut p) = self.process.take() {
            p.stop(Duration::from_secs(15));
        }
    }

    pub async fn restart(&mut self) -> Result<()> {
        self.stop();
        self.launch().await
    }

    /// Starts it again after a kill or stop, same folder and ports.
    pub async fn start_again(&mut self) -> Result<()> {
        self.launch().await
    }

    /// The body of `/readyz`, whatever its status.
    pub async fn readiness(&self) -> Result<serde_json::Value> {
        let url = format!("http://127.0.0.1:{}/readyz", self.api_port);
        self.http.get(url).send().await?.json().await.context("reading /readyz")
    }

    /// One counter or gauge of `/metrics` (0 when absent or the collector does not answer).
    pub async fn metric(&self, name: &str) -> u64 {
        let text = self.metrics().await.unwrap_or_default();
        text.lines()
            .find_map(|l| l.strip_prefix(name).and_then(|rest| rest.strip_prefix(' ')))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .map_or(0, |v| v as u64)
    }

    pub async fn metrics(&self) -> Result<String> {
        let url = format!("http://127.0.0.1:{}/metrics", self.api_port);
        self.http.get(url).send().await?.text().await.context("reading collector metrics")
    }
}

/// Sends batches on one ingest stream with a bearer token; returns the acknowledgements.
pub async fn send_batches(
    port: u16,
    token: &str,
    batches: Vec<meshward_proto::EventBatch>,
) -> Result<Vec<meshward_proto::Ack>, tonic::Status> {
    send_raw_batches(port, token, batches.iter().map(prost::Message::encode_to_vec).collect()).await
}

/// Sends encoded batches byte for byte on one ingest stream (what no well-behaved client sends:
/// invalid UTF-8, wrong wire types); returns the acknowledgements.
pub async fn send_raw_batches(
    port: u16,
    token: &str,
    batches: Vec<Vec<u8>>,
) -> Result<Vec<meshward_proto::Ack>, tonic::Status> {
    let unavailable = |e: &dyn std::fmt::Display| tonic::Status::unavailable(e.to_string());
    let channel = tonic::transport::Endpoint::from_shared(format!("http://127.0.0.1:{port}"))
        .map_err(|e| unavailable(&e))?
        .connect()
        .await
        .map_err(|e| unavailable(&e))?;
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.map_err(|e| unavailable(&e))?;
    let expected = batches.len();
    let mut request = tonic::Request::new(futures::stream::iter(batches));
    let value = format!("Bearer {token}").parse().map_err(|_| tonic::Status::internal("bad header"))?;
    request.metadata_mut().insert("authorization", value);
    let path = tonic::codegen::http::uri::PathAndQuery::from_static("/meshward.v1.Ingest/Stream");
    let mut acks = grpc.streaming(request, path, RawBatchCodec).await?.into_inner();
    let mut out = Vec::new();
    while out.len() < expected {
        match acks.message().await? {
            Some(ack) => out.push(ack),
            None => break,
        }
    }
    Ok(out)
}

/// Encodes requests as the bytes given, decodes `Ack`s.
#[derive(Debug, Clone, Copy, Default)]
struct RawBatchCodec;

impl tonic::codec::Codec for RawBatchCodec {
    type Encode = Vec<u8>;
    type Decode = meshward_proto::Ack;
    type Encoder = RawBatchCodec;
    type Decoder = RawBatchCodec;

    fn encoder(&mut self) -> Self::Encoder {
        RawBatchCodec
    }

    fn decoder(&mut self) -> Self::Decoder {
        RawBatchCodec
    }
}

impl tonic::codec::Encoder for RawBatchCodec {
    type Item = Vec<u8>;
    type Error = tonic::Status;

    fn encode(&mut self, item: Vec<u8>, dst: &mut tonic::codec::EncodeBuf<'_>) -> Result<(), tonic::Status> {
        bytes::BufMut::put_slice(dst, &item);
        Ok(())
    }
}

impl tonic::codec::Decoder for RawBatchCodec {
    type Item = meshward_proto::Ack;
    type Error = tonic::Status;

    fn decode(&mut self, src: &mut tonic::codec::DecodeBuf<'_>) -> Result<Option<meshward_proto::Ack>, tonic::Status> {
        prost::Message::decode(src).map(Some).map_err(|e| tonic::Status::internal(e.to_string()))
    }
}
