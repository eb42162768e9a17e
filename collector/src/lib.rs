//! Meshward collector: takes event streams from the Envoy filters, spools them to disk, writes
//! them to ClickHouse, and serves health and metrics. `main.rs` is only the CLI's edge.

pub mod analyze;
pub mod api;
pub mod audit;
pub mod blocklist;
pub mod cli;
pub mod config;
pub mod detect;
pub mod ingest;
pub mod inventory;
pub mod sectest;
pub mod server;
pub mod spool;
pub mod store;
pub mod telemetry;

/// A seed that differs between collector processes, for retry jitter (`core::backoff`).
pub(crate) fn jitter_seed() -> u64 {
    use std::hash::BuildHasher;
    std::collections::hash_map::RandomState::new().hash_one(std::process::id())
}
