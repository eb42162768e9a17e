//! The ClickHouse client, set up to work with old (18.16) and current servers.

use crate::config::ClickHouseConfig;
use hyper_timeout::TimeoutConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::time::Duration;

/// ClickHouse closes idle HTTP connections after 3 s; ours go first.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(2);
const TCP_KEEPALIVE: Duration = Duration::from_secs(60);

/// Connections to ClickHouse that give up when the server stops answering: connecting, or
/// reading an answer, for longer than `timeout` fails the request (a server that is stopped, not
/// down, accepts connections and never answers). Writing resets the read clock, so an INSERT
/// that streams its rows for a while is not cut off.
fn connector(timeout: Duration) -> TimeoutConnector<HttpConnector> {
    let mut connector = HttpConnector::new();
    connector.set_keepalive(Some(TCP_KEEPALIVE));
    connector.set_nodelay(true);
    let mut connector = TimeoutConnector::new(connector);
    connector.set_connect_timeout(Some(timeout));
    connector.set_read_timeout(Some(timeout));
    connector.set_reset_reader_on_write(true);
    connector
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("ClickHouse at {url}: {error}")]
    ClickHouse { url: String, error: clickhouse::error::Error },
    #[error("schema migration {version} ({name}) failed on ClickHouse at {url}: {error}")]
    Migration { version: u32, name: &'static str, url: String, error: clickhouse::error::Error },
}

impl StoreError {
    /// Wraps a client error with the server it came from: `.map_err(StoreError::at(&url))`.
    pub fn at(url: &str) -> impl Fn(clickhouse::error::Error) -> StoreError + Copy + '_ {
        move |error| StoreError::ClickHouse { url: url.to_owned(), error }
    }

    /// ClickHouse answered with an exception: it refused what was sent (as opposed to not
    /// answering at all).
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            StoreError::ClickHouse { error: clickhouse::error::Error::BadResponse(_), .. }
                | StoreError::Migration { error: clickhouse::error::Error::BadResponse(_), .. }
        )
    }

    /// Type and syntax errors will fail again the same way: retrying them is pointless.
    pub fn is_permanent(&self) -> bool {
        let message = match self {
            StoreError::ClickHouse { error, .. } | StoreError::Migration { error, .. } => error.to_string(),
        };
        ["Code: 27", "Code: 53", "Code: 62", "Code: 16", "Code: 33"].iter().any(|code| message.contains(code))
    }
}

/// How long `ping` waits for an answer.
pub const PING_TIMEOUT: Duration = Duration::from_secs(3);

/// Whether the server answers a trivial query within `PING_TIMEOUT` (readiness).
pub async fn ping(client: &clickhouse::Client, url: &str) -> Result<(), StoreError> {
    let query = client.query("SELECT 1").fetch_one::<u8>();
    match tokio::time::timeout(PING_TIMEOUT, query).await {
        Ok(answer) => answer.map(|_| ()).map_err(StoreError::at(url)),
        Err(_) => Err(StoreError::ClickHouse { url: url.to_owned(), error: clickhouse::error::Error::TimedOut }),
    }
}

/// A client for the configured server and database. Validation is off: it needs
/// `RowBinaryWithNamesAndTypes`, which 18.16 lacks; compression too (18.16 answers `compress=1`
/// with an empty body).
pub fn connect(config: &ClickHouseConfig) -> clickhouse::Client {
    let http = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
        .pool_idle_timeout(POOL_IDLE_TIMEOUT)
        .build(connector(Duration::from_secs(config.timeout_s.max(1))));
    let client = clickhouse::Client::with_http_client(http)
        .with_url(&config.url)
        .with_user(&config.user)
        .with_password(&config.password)
        .with_database(&config.database)
        .with_compression(clickhouse::Compression::None)
        .with_validation(false);
    if config.cluster.is_empty() {
        client
    } else {
        // on a cluster an INSERT into a Distributed table returns once the shards have the rows,
        // not when they are queued on the server we talk to: only then may the spool move on
        client.with_setting("insert_distributed_sync", "1")
    }
}
