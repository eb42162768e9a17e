//! The whole local stack: ClickHouse, collector, sample API, and Envoy running the filter.

use crate::clickhouse::ClickHouse;
use crate::collector::{Collector, CollectorOptions};
use crate::envoy::{default_filter_config, Envoy, EnvoyOptions, Filter};
use crate::sample_api::SampleApi;
use anyhow::{Context, Result};
use meshward::store::queries;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct StackOptions {
    pub name: String,
    pub database: String,
    pub envoy_concurrency: u32,
    pub filter_config: serde_json::Value,
    pub writer_max_delay_ms: u64,
    /// Spool quota and segment size of the collector (bytes).
    pub spool_max_bytes: u64,
    pub spool_segment_bytes: u64,
    /// Serve Envoy's listener with mTLS.
    pub mtls: Option<crate::envoy::MtlsFiles>,
    /// YAML appended to the collector's config (e.g. block policies).
    pub collector_extra_config: String,
    /// The collector's `log.level`.
    pub collector_log_level: &'static str,
    /// Envoy routes to this port instead of the sample API (another API under test).
    pub upstream_port: Option<u16>,
}

impl StackOptions {
    pub fn new(name: &str) -> Self {
        StackOptions {
            name: name.to_owned(),
            database: format!("meshward_{}", name.replace(|c: char| !c.is_ascii_alphanumeric(), "_")),
            envoy_concurrency: 2,
            filter_config: default_filter_config(),
            writer_max_delay_ms: 200,
            spool_max_bytes: 1 << 30,
            spool_segment_bytes: 64 << 20,
            mtls: None,
            collector_extra_config: String::new(),
            collector_log_level: "info",
            upstream_port: None,
        }
    }
}

pub struct Stack {
    pub dir: PathBuf,
    pub options: StackOptions,
    // Dropped in reverse start order: Envoy first, ClickHouse last.
    pub envoy: Envoy,
    pub collector: Collector,
    pub api: SampleApi,
    pub clickhouse: ClickHouse,
    pub client: reqwest::Client,
}

impl Stack {
    pub async fn start(options: StackOptions) -> Result<Stack> {
        let dir = crate::process::fresh_dir(&options.name)?;
        let clickhouse = ClickHouse::start(&dir.join("clickhouse")).await?;
        let mut collector_options = CollectorOptions::new(&clickhouse.url(), &options.database);
        collector_options.writer_max_delay_ms = options.writer_max_delay_ms;
        collector_options.spool_max_bytes = options.spool_max_bytes;
        collector_options.spool_segment_bytes = options.spool_segment_bytes;
        collector_options.extra_config.clone_from(&options.collector_extra_config);
        collector_options.log_level = options.collector_log_level;
        let collector = Collector::start(&dir.join("collector"), collector_options).await?;
        collector.wait_ready().await?;
        let api = SampleApi::start().await?;
        let envoy = Envoy::start(
            &dir.join("envoy"),
            &EnvoyOptions {
                upstream_port: options.upstream_port.unwrap_or(api.port),
                collector_grpc_port: collector.grpc_port,
                collector_api_port: collector.api_port,
                filter: Filter::Meshward { config: options.filter_config.clone() },
                concurrency: options.envoy_concurrency,
                cpu_list: None,
                mtls: options.mtls.clone(),
            },
        )
        .await?;
        let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build()?;
        Ok(Stack { dir, options, envoy, collector, api, clickhouse, client })
    }

    /// Sends `n` planned requests through Envoy and checks each got the status it should.
    pub async fn send_expecting(&self, n: usize, tag: &str, concurrency: usize) -> Result<Vec<crate::traffic::Sent>> {
        let sent =
            crate::traffic::send(&self.client, &self.envoy.url(), crate::traffic::plan(n, tag), concurrency).await;
        if let Some(bad) = sent.iter().find(|s| s.status != s.planned.status) {
            anyhow::bail!(
                "{} {} answered {} through Envoy, expected {}",
                bad.planned.method,
                bad.planned.path,
                bad.status,
                bad.planned.status
            );
        }
        Ok(sent)
    }

    pub fn db(&self) -> &str {
        &self.options.database
    }

    /// Events as queries see them: each once.
    pub async fn event_count(&self) -> Result<u64> {
        self.clickhouse.count(&format!("SELECT count() FROM {}.events", self.db())).await
    }

    /// Waits until exactly-once counting sees `n` events.
    pub async fn wait_for_events(&self, n: u64, timeout: Duration) -> Result<()> {
        let mut last = 0;
        let deadline = std::time::Instant::now() + timeout;
        while std::time::Instant::now() < deadline {
            last = self.event_count().await.unwrap_or(last);
            if last >= n {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        anyhow::bail!(
            "expected {n} events in ClickHouse, saw {last} after {timeout:?}; filter stats: captured {} sent {} acked {} dropped {}",
            self.envoy.stat("wasmcustom.meshward.events_captured").await.unwrap_or(0),
            self.envoy.stat("wasmcustom.meshward.events_sent").await.unwrap_or(0),
            self.envoy.stat("wasmcustom.meshward.events_acked").await.unwrap_or(0),
            self.envoy.stat("wasmcustom.meshward.events_dropped_buffer_full").await.unwrap_or(0),
        )
    }

    /// Events per endpoint template and status, as the demo prints them.
    pub async fn summary(&self) -> Result<String> {
        let sql = queries::render(queries::EVENTS_BY_ENDPOINT, self.db(), &[]);
        // TSV rendered here: 18.16's Pretty formats carry terminal colour codes even over HTTP
        let tsv = self.clickhouse.query(&format!("{sql} FORMAT TSVWithNames")).await?;
        Ok(render_table(&tsv))
    }

    /// Findings by kind, class and location, as the demo prints them.
    pub async fn findings(&self) -> Result<String> {
        let sql = queries::render(queries::FINDINGS, self.db(), &[]);
        let tsv = self.clickhouse.query(&format!("{sql} FORMAT TSVWithNames")).await?;
        Ok(render_table(&tsv))
    }

    /// Runs the `meshward` CLI against this stack's API (`MESHWARD_API_URL`,
    /// `MESHWARD_API_TOKEN`) and returns what it printed; a failure carries its stderr.
    pub fn meshward(&self, args: &[&str], token: &str) -> Result<String> {
        let output = std::process::Command::new(crate::collector::collector_binary()?)
            .args(args)
            .env("MESHWARD_API_URL", format!("http://127.0.0.1:{}", self.collector.api_port))
            .env("MESHWARD_API_TOKEN", token)
            .output()
            .with_context(|| format!("running meshward {}", args.join(" ")))?;
        anyhow::ensure!(
            output.status.success(),
            "meshward {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr)
        );
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    /// Gives the baselines history to rest on: copies of the events whose request id starts
    /// with `prefix` into each of the `hours` before the last one, `copies` per hour two minutes
    /// apart (so an hour of history carries what a two-minute window of that traffic carries,
    /// thirty times), with new event ids and synthetic timestamps, inserted into the events
    /// table so the materialized views build the hourly baselines from them. Returns the rows.
    pub async fn backfill_history(&self, prefix: &str, hours: u64, copies: u64) -> Result<u64> {
        let db = self.db();
        let columns = self
            .clickhouse
            .query(&format!(
                "SELECT name FROM system.columns WHERE database = '{db}' AND table = 'http_events' FORMAT TSV"
            ))
            .await?;
        let columns: Vec<&str> = columns.lines().filter(|c| !c.is_empty()).collect();
        let shift_ms = format!("((1 + intDiv(copy, {copies})) * 3600000 + (copy % {copies}) * 120000)");
        let expressions: Vec<String> = columns
            .iter()
            .map(|c| match *c {
                "event_id" => "MD5(concat(toString(event_id), toString(copy)))".to_owned(),
                "ts_ms" | "received_ms" => format!("{c} - {shift_ms}"),
                "ts" => format!("toDateTime(intDiv(ts_ms - {shift_ms}, 1000))"),
                other => format!("`{other}`"),
            })
            .collect();
        let quoted: Vec<String> = columns.iter().map(|c| format!("`{c}`")).collect();
        let before = self.clickhouse.count(&format!("SELECT count() FROM {db}.http_events")).await?;
        self.clickhouse
            .query(&format!(
                "INSERT INTO {db}.http_events ({}) SELECT {} FROM {db}.http_events ARRAY JOIN range({}) AS copy \
                 WHERE request_id LIKE '{prefix}%'",
                quoted.join(", "),
                expressions.join(", "),
                hours * copies
            ))
            .await?;
        let after = self.clickhouse.count(&format!("SELECT count() FROM {db}.http_events")).await?;
        Ok(after.saturating_sub(before))
    }

    /// `$.path: type` lines of an endpoint's request bodies.
    pub async fn request_body_fields(&self, method: &str, template: &str) -> Result<String> {
        let sql = queries::render(queries::REQUEST_BODY_FIELDS, self.db(), &[method, template]);
        self.clickhouse.query(&format!("{sql} FORMAT TSV")).await
    }
}

/// Aligns TSV (with a header line) into a plain-text table; numbers align right.
pub fn render_table(tsv: &str) -> String {
    let rows: Vec<Vec<&str>> = tsv.lines().map(|l| l.split('\t').collect()).collect();
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| rows.iter().filter_map(|r| r.get(c)).map(|v| v.chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for (i, row) in rows.iter().enumerate() {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(v, w)| if i > 0 && v.parse::<f64>().is_ok() { format!("{v:>w$}") } else { format!("{v:<w$}") })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
        if i == 0 {
            out.push_str(&widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>().join("  "));
            out.push('\n');
        }
    }
    out
}
