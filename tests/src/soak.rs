//! The soak: steady, varied traffic through Envoy with the filter while faults drawn from a seed
//! hit the collector, ClickHouse and the spool's disk; then the pipeline drains and every
//! answered request is accounted for: stored exactly once, or counted by the filter as dropped
//! (by reason). Any difference fails, and so does any request Envoy answered other than the
//! application did.
//!
//! Faults, one at a time, in a seed-shuffled order with seed-drawn lengths and gaps:
//! - the collector killed with SIGKILL and started again after a moment (the filter resends what
//!   was not acknowledged; what was, is in the spool);
//! - the collector away for longer than the filter's buffers hold (the filter drops and counts);
//! - ClickHouse killed and restarted (the spool holds the events meanwhile);
//! - ClickHouse stopped (SIGSTOP: connections accepted, nothing answered) and resumed;
//! - the spool's disk full: the next spool segments are links to `/dev/full`, whose writes fail
//!   with ENOSPC as a full file system's do (the collector refuses, the filter resends).

use crate::rng::Rng;
use crate::stack::{Stack, StackOptions};
use crate::traffic;
use anyhow::{Context, Result};
use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct SoakOptions {
    pub seed: u64,
    /// Cycles through every kind of fault.
    pub rounds: usize,
    /// Requests per second through Envoy.
    pub rate: u32,
    /// Most time to drain after the traffic stops.
    pub drain_timeout: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    CollectorKilled,
    CollectorAway,
    ClickHouseKilled,
    ClickHouseStopped,
    SpoolDiskFull,
}

impl FaultKind {
    const ALL: [FaultKind; 5] = [
        FaultKind::CollectorKilled,
        FaultKind::CollectorAway,
        FaultKind::ClickHouseKilled,
        FaultKind::ClickHouseStopped,
        FaultKind::SpoolDiskFull,
    ];

    fn describe(self) -> &'static str {
        match self {
            FaultKind::CollectorKilled => "collector kill -9, restarted",
            FaultKind::CollectorAway => "collector away longer than the filter's buffers hold",
            FaultKind::ClickHouseKilled => "ClickHouse kill -9, restarted",
            FaultKind::ClickHouseStopped => "ClickHouse stopped (SIGSTOP), resumed",
            FaultKind::SpoolDiskFull => "spool disk full (ENOSPC)",
        }
    }

    /// How long the fault lasts, in milliseconds: a range to draw from.
    fn lasts_ms(self) -> (u64, u64) {
        match self {
            FaultKind::CollectorKilled => (500, 3_000),
            FaultKind::CollectorAway => (12_000, 18_000),
            FaultKind::ClickHouseKilled => (2_000, 8_000),
            FaultKind::ClickHouseStopped => (2_000, 6_000),
            FaultKind::SpoolDiskFull => (5_000, 9_000),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Fault {
    pub kind: FaultKind,
    /// from the start of the traffic
    pub at: Duration,
    pub lasts: Duration,
    /// what showed that it bit, measured as it ended (empty until then)
    pub effect: String,
}

/// The faults of a run: every kind once per round, in an order and with lengths and gaps drawn
/// from the seed.
pub fn schedule(seed: u64, rounds: usize) -> Vec<Fault> {
    let mut rng = Rng::new(seed);
    let mut at = Duration::from_secs(4);
    let mut faults = Vec::new();
    for _ in 0..rounds {
        let mut kinds = FaultKind::ALL.to_vec();
        for i in (1..kinds.len()).rev() {
            kinds.swap(i, rng.below(i as u64 + 1) as usize);
        }
        for kind in kinds {
            let (low, high) = kind.lasts_ms();
            let lasts = Duration::from_millis(low + rng.below(high - low));
            faults.push(Fault { kind, at, lasts, effect: String::new() });
            at += lasts + Duration::from_millis(2_000 + rng.below(3_000));
        }
    }
    faults
}

/// The accounting at the end of a run.
#[derive(Debug, Default, Clone)]
pub struct Accounting {
    pub requests: u64,
    /// answered by Envoy with the application's status
    pub answered: u64,
    /// answered otherwise (an Envoy error, a reset): the filter must cause none
    pub envoy_errors: u64,
    pub captured: u64,
    pub stored: u64,
    /// rows a query sees more than once for one request
    pub duplicates: u64,
    pub dropped_buffer_full: u64,
    pub dropped_too_large: u64,
    pub rejected: u64,
    pub batches_resent: u64,
    pub stream_failures: u64,
    pub dead_letter: u64,
    pub drain: Duration,
}

impl Accounting {
    pub fn dropped(&self) -> u64 {
        self.dropped_buffer_full + self.dropped_too_large + self.rejected
    }

    /// Answered requests neither stored nor counted as dropped (negative: stored beyond that).
    pub fn unexplained(&self) -> i64 {
        self.answered as i64 - self.stored as i64 - self.dropped() as i64
    }

    pub fn holds(&self) -> bool {
        self.unexplained() == 0 && self.duplicates == 0 && self.envoy_errors == 0 && self.dead_letter == 0
    }
}

pub struct SoakReport {
    pub options: SoakOptions,
    pub faults: Vec<Fault>,
    pub accounting: Accounting,
    pub traffic: Duration,
}

impl SoakReport {
    /// Markdown: the seed, the faults, the accounting.
    pub fn table(&self) -> String {
        let a = &self.accounting;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "seed {} · {} rounds · {} requests/s for {:.0} s · drained in {:.1} s\n",
            self.options.seed,
            self.options.rounds,
            self.options.rate,
            self.traffic.as_secs_f64(),
            a.drain.as_secs_f64()
        );
        let _ = writeln!(out, "| fault | at s | lasted s | effect |\n|---|---:|---:|---|");
        for fault in &self.faults {
            let _ = writeln!(
                out,
                "| {} | {:.1} | {:.1} | {} |",
                fault.kind.describe(),
                fault.at.as_secs_f64(),
                fault.lasts.as_secs_f64(),
                fault.effect
            );
        }
        let _ = writeln!(out, "\n| accounting | events |\n|---|---:|");
        let rows = [
            ("requests sent", a.requests as i64),
            ("answered by Envoy as the application answered", a.answered as i64),
            ("answered otherwise (Envoy errors, resets)", a.envoy_errors as i64),
            ("captured by the filter", a.captured as i64),
            ("stored in ClickHouse", a.stored as i64),
            ("stored more than once", a.duplicates as i64),
            ("dropped by the filter: buffers full", a.dropped_buffer_full as i64),
            ("dropped by the filter: too large", a.dropped_too_large as i64),
            ("rejected by the collector", a.rejected as i64),
            ("set aside (dead letter)", a.dead_letter as i64),
            ("**unexplained** (answered − stored − dropped)", a.unexplained()),
            ("batches resent by the filter", a.batches_resent as i64),
            ("ingest streams that failed", a.stream_failures as i64),
        ];
        for (what, n) in rows {
            let _ = writeln!(out, "| {what} | {n} |");
        }
        out
    }
}

/// How long a fault may wait to bite (the spool's disk-full waits for a segment to fill).
const MAX_WAIT_FOR_EFFECT: Duration = Duration::from_secs(30);

/// Makes the spool's next segments links to `/dev/full`; returns them, to remove.
fn fill_spool_disk(spool: &Path, count: u64) -> Result<Vec<std::path::PathBuf>> {
    let newest = std::fs::read_dir(spool)
        .with_context(|| format!("reading {}", spool.display()))?
        .filter_map(|e| e.ok()?.file_name().to_str()?.strip_prefix("seg-")?.strip_suffix(".log")?.parse::<u64>().ok())
        .max()
        .unwrap_or(0);
    let mut links = Vec::new();
    for id in newest + 1..=newest + count {
        let link = spool.join(format!("seg-{id:020}.log"));
        std::os::unix::fs::symlink("/dev/full", &link).with_context(|| format!("linking {}", link.display()))?;
        links.push(link);
    }
    Ok(links)
}

/// Injects the fault, waits it out, undoes it; returns what showed that it bit.
async fn inject(stack: &mut Stack, fault: &Fault) -> Result<String> {
    let streams_before = filter_stat(stack, "stream_failures").await;
    let effect = match fault.kind {
        FaultKind::CollectorKilled | FaultKind::CollectorAway => {
            let dropped_before = filter_stat(stack, "events_dropped_buffer_full").await;
            stack.collector.kill9();
            tokio::time::sleep(fault.lasts).await;
            stack.collector.start_again().await?;
            let dropped = filter_stat(stack, "events_dropped_buffer_full").await.saturating_sub(dropped_before);
            format!("{dropped} events dropped by the filter meanwhile")
        }
        FaultKind::ClickHouseKilled => {
            let failures_before = stack.collector.metric("meshward_writer_insert_failures_total").await;
            stack.clickhouse.kill9();
            tokio::time::sleep(fault.lasts).await;
            let failures = stack.collector.metric("meshward_writer_insert_failures_total").await;
            let spooled = stack.collector.metric("meshward_spool_bytes").await;
            stack.clickhouse.restart().await?;
            format!("{} INSERTs failed, {} KiB spooled", failures.saturating_sub(failures_before), spooled >> 10)
        }
        FaultKind::ClickHouseStopped => {
            stack.clickhouse.pause()?;
            tokio::time::sleep(fault.lasts).await;
            // readiness probes ClickHouse every 5 s: wait for it to notice (at most
            // MAX_WAIT_FOR_EFFECT)
            let waited = Instant::now();
            let mut reachable = serde_json::Value::Null;
            while waited.elapsed() < MAX_WAIT_FOR_EFFECT {
                reachable = stack.collector.readiness().await.unwrap_or_default()["clickhouse_reachable"].clone();
                if reachable == false {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            stack.clickhouse.resume()?;
            format!("/readyz: clickhouse_reachable {reachable}")
        }
        FaultKind::SpoolDiskFull => {
            let refused_before = stack.collector.metric("meshward_ingest_refused_disk_full_total").await;
            let links = fill_spool_disk(&stack.collector.dir.join("spool"), 2_000)?;
            // the disk is full for the spool's next segment: it lasts from the first refusal
            // (when the current segment is full; at most MAX_WAIT_FOR_EFFECT)
            let waited = Instant::now();
            while stack.collector.metric("meshward_ingest_refused_disk_full_total").await == refused_before
                && waited.elapsed() < MAX_WAIT_FOR_EFFECT
            {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            tokio::time::sleep(fault.lasts).await;
            for link in links {
                // the appender may still hold one open: its next write fails and it moves on
                std::fs::remove_file(&link).with_context(|| format!("removing {}", link.display()))?;
            }
            let refused = stack.collector.metric("meshward_ingest_refused_disk_full_total").await;
            format!("{} batches refused: disk full", refused.saturating_sub(refused_before))
        }
    };
    let streams = filter_stat(stack, "stream_failures").await.saturating_sub(streams_before);
    Ok(format!("{effect}; {streams} ingest streams failed"))
}

/// The filter's counters, summed over its VMs (Envoy's `/stats`).
async fn filter_stat(stack: &Stack, name: &str) -> u64 {
    stack.envoy.stat(&format!("wasmcustom.meshward.{name}")).await.unwrap_or(0)
}

pub async fn run(options: SoakOptions) -> Result<SoakReport> {
    let mut stack_options = StackOptions::new(&format!("soak-{}", options.seed));
    // segments small enough that a disk-full fault meets a segment roll
    stack_options.spool_segment_bytes = 1 << 20;
    // buffers that an outage of the collector of ten seconds and more overflows at this rate
    stack_options.filter_config["max_queued_bytes"] = (192 << 10).into();
    stack_options.filter_config["max_unacked_bytes"] = (192 << 10).into();
    stack_options.filter_config["max_batch_bytes"] = (64 << 10).into();
    let mut stack = Stack::start(stack_options).await?;
    let mut faults = schedule(options.seed, options.rounds);
    // enough requests for the schedule and every fault running long; the traffic stops after
    // the last fault
    let planned_for =
        faults.last().map_or(Duration::ZERO, |f| f.at + f.lasts) + MAX_WAIT_FOR_EFFECT * faults.len() as u32;
    let requests = (planned_for.as_secs_f64() * f64::from(options.rate)) as usize + 1_000;
    let plan = traffic::plan(requests, &format!("soak{}", options.seed));

    let client = stack.client.clone();
    let url = stack.envoy.url();
    let rate = options.rate;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let load = {
        let stop = stop.clone();
        tokio::spawn(async move { traffic::send_paced(&client, &url, plan, rate, 64, &stop).await })
    };
    let started = Instant::now();
    let mut late = Duration::ZERO;
    for fault in &mut faults {
        // a fault that ran long moves the ones after it
        fault.at += late;
        tokio::time::sleep(fault.at.saturating_sub(started.elapsed())).await;
        let planned = fault.lasts;
        let began = Instant::now();
        fault.effect = inject(&mut stack, fault).await.with_context(|| format!("injecting {:?}", fault.kind))?;
        fault.lasts = began.elapsed();
        late += fault.lasts.saturating_sub(planned);
        progress(&format!(
            "{:>6.1} s  {}, {:.1} s: {}",
            fault.at.as_secs_f64(),
            fault.kind.describe(),
            fault.lasts.as_secs_f64(),
            fault.effect
        ));
    }
    tokio::time::sleep(Duration::from_secs(4)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let sent = load.await.context("the load generator failed")?;
    let traffic = started.elapsed();

    let mut accounting = Accounting { requests: sent.len() as u64, ..Accounting::default() };
    for s in &sent {
        if s.status == s.planned.status {
            accounting.answered += 1;
        } else {
            accounting.envoy_errors += 1;
        }
    }
    // drained: every captured event acknowledged or dropped, and ClickHouse holds the rest
    let drain_started = Instant::now();
    let db = stack.db().to_owned();
    let count = |sql: String| {
        let clickhouse = &stack.clickhouse;
        async move { clickhouse.count(&sql).await.unwrap_or(0) }
    };
    loop {
        let captured = filter_stat(&stack, "events_captured").await;
        let settled = filter_stat(&stack, "events_acked").await
            + filter_stat(&stack, "events_dropped_buffer_full").await
            + filter_stat(&stack, "events_dropped_too_large").await
            + filter_stat(&stack, "events_rejected").await;
        let stored = count(format!("SELECT count() FROM {db}.events")).await;
        let dropped = filter_stat(&stack, "events_dropped_buffer_full").await
            + filter_stat(&stack, "events_dropped_too_large").await
            + filter_stat(&stack, "events_rejected").await;
        if captured > 0 && settled >= captured && stored + dropped >= captured {
            break;
        }
        if drain_started.elapsed() > options.drain_timeout {
            progress("drain timed out; accounting what is there");
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    accounting.drain = drain_started.elapsed();
    accounting.captured = filter_stat(&stack, "events_captured").await;
    accounting.dropped_buffer_full = filter_stat(&stack, "events_dropped_buffer_full").await;
    accounting.dropped_too_large = filter_stat(&stack, "events_dropped_too_large").await;
    accounting.rejected = filter_stat(&stack, "events_rejected").await;
    accounting.batches_resent = filter_stat(&stack, "batches_resent").await;
    accounting.stream_failures = filter_stat(&stack, "stream_failures").await;
    let tag = format!("soak{}-%", options.seed);
    let stored = count(format!("SELECT uniqExact(request_id) FROM {db}.events WHERE request_id LIKE '{tag}'")).await;
    let rows = count(format!("SELECT count() FROM {db}.events WHERE request_id LIKE '{tag}'")).await;
    accounting.stored = stored;
    accounting.duplicates = rows.saturating_sub(stored);
    accounting.dead_letter = meshward::spool::DeadLetter::of(&stack.collector.dir.join("spool"))
        .list()
        .map(|records| records.len() as u64)
        .unwrap_or(0);
    Ok(SoakReport { options, faults, accounting, traffic })
}

fn progress(line: &str) {
    eprintln!("soak: {line}");
}
