//! The collector's configuration: a YAML file, overridable by `MESHWARD_*` environment
//! variables (`MESHWARD_CLICKHOUSE__URL=...` sets `clickhouse.url`), validated before start.

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

pub const DEFAULT_INGEST_LISTEN: &str = "127.0.0.1:50051";
pub const DEFAULT_API_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_CLICKHOUSE_URL: &str = "http://127.0.0.1:8123";
pub const DEFAULT_DATABASE: &str = "meshward";
pub const DEFAULT_SPOOL_DIR: &str = "/var/lib/meshward/spool";
pub const DEFAULT_SEGMENT_BYTES: u64 = 64 << 20;
pub const DEFAULT_SPOOL_MAX_BYTES: u64 = 10 << 30;
pub const DEFAULT_MAX_BATCH_EVENTS: usize = 10_000;
pub const DEFAULT_WRITER_BATCH_ROWS: usize = 50_000;
pub const DEFAULT_WRITER_MAX_DELAY_MS: u64 = 1_000;
/// Long enough for the heaviest query Meshward runs (a detector pass over a busy day, a
/// backfill), short enough that a stopped server shows.
pub const DEFAULT_CLICKHOUSE_TIMEOUT_S: u64 = 120;
pub const DEFAULT_RETENTION_DAYS: u32 = 30;
const ENV_PREFIX: &str = "MESHWARD_";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {error}")]
    Read { path: PathBuf, error: std::io::Error },
    #[error("config file {path}: {error}")]
    Parse { path: PathBuf, error: serde_norway::Error },
    #[error("environment variable {name}: {reason}")]
    Env { name: String, reason: String },
    #[error("invalid config: {0}")]
    Invalid(String),
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub ingest: IngestConfig,
    pub spool: SpoolConfig,
    pub clickhouse: ClickHouseConfig,
    pub writer: WriterConfig,
    pub api: ApiConfig,
    pub log: LogConfig,
    pub inventory: InventoryConfig,
    pub blocklist: BlocklistConfig,
    pub detect: DetectConfig,
}

/// Detectors and alerts (`meshward detect` backtests the same rules).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DetectConfig {
    /// Run the detectors every this many seconds, over the last `window_s`.
    pub interval_s: u64,
    pub window_s: u64,
    /// A resolved alert of the same kind, subject and endpoint does not reopen for this long.
    pub cooldown_s: u64,
    /// How far back "before" reaches for data exposure and new endpoints, in days.
    pub history_days: u64,
    pub stuffing_min_failures: u64,
    pub stuffing_spread_failures: u64,
    pub stuffing_spread_sources: u64,
    pub enumeration_min_objects: u64,
    /// A caller touching this many times the peers' median number of objects is enumerating.
    pub enumeration_peer_factor: u64,
    pub new_endpoint_min_calls: u64,
    /// An undocumented query parameter must be seen this many times in the window.
    pub undocumented_parameter_min_calls: u64,
    /// How far back the seasonal rate baseline reaches, in days (the same hour of the week
    /// needs 21 or more, the same hour of the day 3 or more).
    pub seasonal_days: u64,
    pub error_min_requests: u64,
    pub error_min_share: f64,
    /// A 5xx share this many times the endpoint's usual (90th percentile of its past hours).
    pub error_factor: f64,
    pub attack_burst_min: u64,
    /// Where new alerts go besides the log: `{url, format: generic|slack}`.
    pub webhooks: Vec<Webhook>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Webhook {
    pub url: String,
    #[serde(default)]
    pub format: WebhookFormat,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum WebhookFormat {
    /// the alert as JSON
    #[default]
    Generic,
    /// `{"text": ...}` for Slack-compatible incoming webhooks
    Slack,
}

impl Default for DetectConfig {
    fn default() -> Self {
        DetectConfig {
            interval_s: 60,
            window_s: 300,
            cooldown_s: 3600,
            history_days: 7,
            stuffing_min_failures: 20,
            stuffing_spread_failures: 200,
            stuffing_spread_sources: 20,
            enumeration_min_objects: 50,
            enumeration_peer_factor: 10,
            new_endpoint_min_calls: 5,
            undocumented_parameter_min_calls: 3,
            seasonal_days: 28,
            error_min_requests: 20,
            error_min_share: 0.2,
            error_factor: 3.0,
            attack_burst_min: 10,
            webhooks: Vec::new(),
        }
    }
}

/// Block rules: how the published list is kept current, and automatic blocks.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BlocklistConfig {
    /// How often the list the filters fetch is rebuilt from ClickHouse (changes made through
    /// other replicas, expiries), in milliseconds. Changes made through this replica's API
    /// are published at once.
    pub refresh_interval_ms: u64,
    /// How often rate limits and policies are evaluated, in seconds.
    pub evaluate_interval_s: u64,
    /// Automatic blocks: a key (source or identity) that shows a signal `threshold` times
    /// within `window_s` is blocked for `block_for_s`.
    pub policies: Vec<BlockPolicy>,
}

impl Default for BlocklistConfig {
    fn default() -> Self {
        BlocklistConfig { refresh_interval_ms: 1_000, evaluate_interval_s: 5, policies: Vec::new() }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlockPolicy {
    /// Names the rules the policy makes (`auto-<hash>-<name>`) and their `created_by`.
    pub name: String,
    pub signal: PolicySignal,
    pub threshold: u64,
    pub window_s: u64,
    #[serde(default)]
    pub key: meshward_core::blocklist::RateKey,
    pub block_for_s: u64,
    /// `block`, or `dry_run` to see what the policy would do
    #[serde(default)]
    pub action: meshward_core::blocklist::RuleAction,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum PolicySignal {
    /// requests with attack findings
    Attacks,
    /// answers 401 or 403
    AuthFailures,
    /// an open credential-stuffing alert on the source (threshold and window: one alert seen
    /// within window_s)
    CredentialStuffingAlerts,
    /// an open attack-burst alert on the source
    AttackBurstAlerts,
    /// an open enumeration alert on the caller (use key: identity)
    EnumerationAlerts,
}

/// The API inventory.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InventoryConfig {
    /// Templates to keep whatever discovery finds: `/org/{org}/members` for every host, or
    /// `api.example.com=/org/{org}/members` for one. An uploaded spec's paths are pinned too.
    pub pinned_templates: Vec<String>,
    /// How often each spec'd host's standing (documented, shadow, deprecated, zombie) is
    /// written to `inventory_status`, in seconds.
    pub status_interval_s: u64,
    /// A spec operation not called for this many days is a zombie.
    pub zombie_after_days: u64,
}

impl Default for InventoryConfig {
    fn default() -> Self {
        InventoryConfig { pinned_templates: Vec::new(), status_interval_s: 300, zombie_after_days: 30 }
    }
}

/// gRPC ingest from the filters.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IngestConfig {
    /// Address the gRPC ingest service listens on.
    pub listen: SocketAddr,
    /// Bearer token every filter must present. Required.
    pub token: String,
    /// Largest batch accepted, in events; larger ones are rejected.
    pub max_batch_events: usize,
}

/// The on-disk spool between ingest and ClickHouse.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SpoolConfig {
    /// Folder of the spool's segment files; created if missing.
    pub dir: PathBuf,
    /// Size at which a segment file is closed and a new one started.
    pub segment_bytes: u64,
    /// Disk quota: past it, ingest answers RESOURCE_EXHAUSTED until the writer catches up.
    pub max_bytes: u64,
    /// `always`: fsync before acknowledging (group commit); `never`: leave it to the OS
    /// (survives a crash of the collector, not of the machine).
    pub fsync: FsyncPolicy,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum FsyncPolicy {
    Always,
    Never,
}

/// Where events are stored.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClickHouseConfig {
    /// HTTP interface of the ClickHouse server.
    pub url: String,
    /// Database for Meshward's tables; created if missing.
    pub database: String,
    pub user: String,
    pub password: String,
    /// Days of events to keep; 0 keeps everything. Uses a table TTL where the server has one,
    /// else drops old daily partitions every hour.
    pub retention_days: u32,
    /// A cluster of the servers' `remote_servers` (with ZooKeeper and the `{shard}`/`{replica}`
    /// macros set up): tables are created `ON CLUSTER` as replicated `<name>_local` tables under
    /// `Distributed` tables with the usual names. Empty: one server.
    pub cluster: String,
    /// Seconds a request may wait on ClickHouse (connecting, or for the next byte of an answer)
    /// before it fails: the writer retries, the API answers 503, readiness turns false.
    pub timeout_s: u64,
}

/// The writer that drains the spool into ClickHouse.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WriterConfig {
    /// Rows per INSERT at most; an INSERT goes out when this many are ready...
    pub max_batch_rows: usize,
    /// ...or when the oldest waiting row is this old, in milliseconds.
    pub max_delay_ms: u64,
}

/// HTTP API: health, readiness, Prometheus metrics, and the token-protected inventory.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApiConfig {
    pub listen: SocketAddr,
    /// Bearer tokens that may read the inventory and specs (`/api/v1/...` GETs).
    pub read_tokens: Vec<String>,
    /// Bearer tokens that may also change things (upload specs); they can read too.
    pub admin_tokens: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `auto` (JSON unless stderr is a terminal), `json` or `text`.
    pub format: LogFormat,
    /// tracing filter, e.g. `info` or `meshward=debug`; `RUST_LOG` wins when set.
    pub level: String,
    /// One line per block and dry-run match (target `meshward::audit`) whatever `level` says.
    pub audit: bool,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Auto,
    Json,
    Text,
}

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
}

impl Default for IngestConfig {
    fn default() -> Self {
        IngestConfig {
            listen: addr(DEFAULT_INGEST_LISTEN),
            token: String::new(),
            max_batch_events: DEFAULT_MAX_BATCH_EVENTS,
        }
    }
}

impl Default for SpoolConfig {
    fn default() -> Self {
        SpoolConfig {
            dir: PathBuf::from(DEFAULT_SPOOL_DIR),
            segment_bytes: DEFAULT_SEGMENT_BYTES,
            max_bytes: DEFAULT_SPOOL_MAX_BYTES,
            fsync: FsyncPolicy::Always,
        }
    }
}

impl Default for ClickHouseConfig {
    fn default() -> Self {
        ClickHouseConfig {
            url: DEFAULT_CLICKHOUSE_URL.into(),
            database: DEFAULT_DATABASE.into(),
            user: "default".into(),
            password: String::new(),
            retention_days: DEFAULT_RETENTION_DAYS,
            cluster: String::new(),
            timeout_s: DEFAULT_CLICKHOUSE_TIMEOUT_S,
        }
    }
}

impl Default for WriterConfig {
    fn default() -> Self {
        WriterConfig { max_batch_rows: DEFAULT_WRITER_BATCH_ROWS, max_delay_ms: DEFAULT_WRITER_MAX_DELAY_MS }
    }
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig { listen: addr(DEFAULT_API_LISTEN), read_tokens: Vec::new(), admin_tokens: Vec::new() }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig { format: LogFormat::Auto, level: "info".into(), audit: true }
    }
}

impl Config {
    /// Reads the file (if any), applies `MESHWARD_*` overrides from `env`, validates.
    pub fn load(path: Option<&Path>, env: impl IntoIterator<Item = (String, String)>) -> Result<Config, ConfigError> {
        let text = match path {
            Some(path) => {
                std::fs::read_to_string(path).map_err(|error| ConfigError::Read { path: path.into(), error })?
            }
            None => String::new(),
        };
        let shown = path.map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("<defaults>"));
        let mut tree: serde_norway::Value = if text.trim().is_empty() {
            serde_norway::Value::Mapping(Default::default())
        } else {
            serde_norway::from_str(&text).map_err(|error| ConfigError::Parse { path: shown.clone(), error })?
        };
        for (name, value) in env {
            // Only MESHWARD_SECTION__FIELD names are overrides; others (MESHWARD_CONFIG) are not.
            if let Some(key) = name.strip_prefix(ENV_PREFIX).filter(|key| key.contains("__")) {
                apply_override(&mut tree, &name, key, &value)?;
            }
        }
        let config: Config =
            serde_norway::from_value(tree).map_err(|error| ConfigError::Parse { path: shown, error })?;
        config.validate()?;
        Ok(config)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |m: &str| Err(ConfigError::Invalid(m.to_owned()));
        if self.ingest.token.len() < 16 {
            return invalid(
                "ingest.token must be set to a secret of at least 16 characters (or MESHWARD_INGEST__TOKEN)",
            );
        }
        if self.api.read_tokens.iter().chain(&self.api.admin_tokens).any(|t| t.len() < 16) {
            return invalid("api.read_tokens and api.admin_tokens must be secrets of at least 16 characters");
        }
        if self.spool.segment_bytes < 1 << 20 || self.spool.max_bytes < self.spool.segment_bytes {
            return invalid("spool.segment_bytes must be at least 1 MiB and spool.max_bytes at least one segment");
        }
        if self.writer.max_batch_rows == 0 || self.writer.max_delay_ms == 0 {
            return invalid("writer.max_batch_rows and writer.max_delay_ms must be positive");
        }
        if self.clickhouse.timeout_s == 0 {
            return invalid("clickhouse.timeout_s must be positive");
        }
        for policy in &self.blocklist.policies {
            let name_ok = !policy.name.is_empty()
                && policy.name.len() <= 32
                && policy.name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !name_ok {
                return invalid("blocklist.policies[].name must be 1 to 32 lower-case letters, digits or '-'");
            }
            if policy.threshold == 0 || policy.window_s == 0 || policy.block_for_s == 0 {
                return invalid("blocklist.policies[]: threshold, window_s and block_for_s must be positive");
            }
        }
        if self.blocklist.refresh_interval_ms == 0 {
            return invalid("blocklist.refresh_interval_ms must be positive");
        }
        let db = &self.clickhouse.database;
        if db.is_empty() || !db.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return invalid("clickhouse.database must be letters, digits and underscores");
        }
        if !self.clickhouse.cluster.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
            return invalid("clickhouse.cluster must be the name of a cluster in the servers' remote_servers");
        }
        if !self.clickhouse.url.starts_with("http://") && !self.clickhouse.url.starts_with("https://") {
            return invalid("clickhouse.url must be the server's HTTP address, e.g. http://127.0.0.1:8123");
        }
        Ok(())
    }
}

/// `INGEST__TOKEN=x` sets `ingest.token: x`; the value is read as a YAML scalar.
fn apply_override(tree: &mut serde_norway::Value, name: &str, key: &str, value: &str) -> Result<(), ConfigError> {
    let path: Vec<String> = key.split("__").map(str::to_ascii_lowercase).collect();
    if path.iter().any(String::is_empty) {
        return Err(ConfigError::Env {
            name: name.into(),
            reason: "use SECTION__FIELD, e.g. MESHWARD_CLICKHOUSE__URL".into(),
        });
    }
    let parsed: serde_norway::Value =
        serde_norway::from_str(value).unwrap_or_else(|_| serde_norway::Value::String(value.to_owned()));
    // Tokens and passwords stay strings even when they look like numbers.
    let parsed = match parsed {
        serde_norway::Value::Number(_) | serde_norway::Value::Bool(_)
            if key.ends_with("TOKEN") || key.ends_with("PASSWORD") =>
        {
            serde_norway::Value::String(value.to_owned())
        }
        other => other,
    };
    let mut node = tree;
    for (i, part) in path.iter().enumerate() {
        let serde_norway::Value::Mapping(map) = node else {
            return Err(ConfigError::Env { name: name.into(), reason: format!("`{part}` is not inside a section") });
        };
        let key = serde_norway::Value::String(part.clone());
        if i + 1 == path.len() {
            map.insert(key, parsed);
            return Ok(());
        }
        node = map.entry(key).or_insert_with(|| serde_norway::Value::Mapping(Default::default()));
    }
    Ok(())
}

/// The commented default configuration `meshward config example` prints.
pub const EXAMPLE: &str = include_str!("config_example.yaml");

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn example_parses_and_validates_with_a_token() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("c.yaml");
        std::fs::write(&path, EXAMPLE).unwrap_or_else(|e| panic!("{e}"));
        let config = Config::load(Some(&path), env(&[("MESHWARD_INGEST__TOKEN", "0123456789abcdef0123")]));
        let config = config.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(config.clickhouse.database, "meshward");
    }

    #[test]
    fn env_overrides_nested_fields() {
        let config = Config::load(
            None,
            env(&[
                ("MESHWARD_INGEST__TOKEN", "1234567890123456"),
                ("MESHWARD_CLICKHOUSE__URL", "http://127.0.0.1:9999"),
                ("MESHWARD_WRITER__MAX_BATCH_ROWS", "7"),
                ("OTHER", "x"),
                ("MESHWARD_CONFIG", "/elsewhere.yaml"),
            ]),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(config.ingest.token, "1234567890123456");
        assert_eq!(config.clickhouse.url, "http://127.0.0.1:9999");
        assert_eq!(config.writer.max_batch_rows, 7);
    }

    #[test]
    fn errors_say_what_to_fix() {
        let err = Config::load(None, env(&[])).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("ingest.token"), "{err}");
        let err = Config::load(
            None,
            env(&[("MESHWARD_INGEST__TOKEN", "1234567890123456"), ("MESHWARD_SPOOL__FSYNC", "sometimes")]),
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(err.contains("unknown variant `sometimes`"), "{err}");
        let err =
            Config::load(None, env(&[("MESHWARD_INGEST__TOKN", "x")])).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("unknown field `tokn`"), "{err}");
    }
}
