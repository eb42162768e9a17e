//! The ClickHouse client, set up to work with old (18.16) and current servers.

use crate::config::ClickHouseConfig;

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

    /// Type and syntax errors will fail again the same way: retrying them is pointless.
    pub fn is_permanent(&self) -> bool {
        let message = match self {
            StoreError::ClickHouse { error, .. } | StoreError::Migration { error, .. } => error.to_string(),
        };
        ["Code: 27", "Code: 53", "Code: 62", "Code: 16", "Code: 33"].iter().any(|code| message.contains(code))
    }
}

/// A client for the configured server and database. Validation is off: it needs
/// `RowBinaryWithNamesAndTypes`, which 18.16 lacks; compression too (18.16 answers `compress=1`
/// with an empty body).
pub fn connect(config: &ClickHouseConfig) -> clickhouse::Client {
    let client = clickhouse::Client::default()
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
