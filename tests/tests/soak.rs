//! The short soak in `make test`: one round of every fault (`make soak` runs more, and writes
//! RELIABILITY.md). The seed is random unless `MESHWARD_SOAK_SEED` sets it; it is printed, so a
//! failure can be replayed.

use meshward_e2e::soak::{run, SoakOptions};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answered_request_is_stored_once_or_counted_as_dropped_through_faults() -> anyhow::Result<()> {
    let seed = std::env::var("MESHWARD_SOAK_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64 % 1_000_000)
    });
    eprintln!("soak seed {seed} (MESHWARD_SOAK_SEED={seed} replays it)");
    let report = run(SoakOptions { seed, rounds: 1, rate: 100, drain_timeout: Duration::from_secs(120) }).await?;
    let table = report.table();
    eprintln!("{table}");
    let a = &report.accounting;
    assert!(a.holds(), "seed {seed}: the accounting does not hold\n{table}");
    assert!(a.answered > 3_000, "the traffic ran: {table}");
    assert!(a.batches_resent > 0 && a.dropped_buffer_full > 0, "the faults bit (resends, drops): {table}");
    Ok(())
}
