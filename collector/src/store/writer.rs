//! The writer: drains the spool into ClickHouse and moves the spool's checkpoint only after
//! ClickHouse accepted everything before it.
//!
//! Rows are streamed into an open INSERT as spool records are decoded, so the writer holds no
//! rows and ClickHouse parses while the next records are read. An INSERT ends when it has
//! `max_batch_rows` rows, or when no more data is waiting and it is `max_delay_ms` old. If it
//! fails, the reader rewinds to the checkpoint and the same records are written again after a
//! backoff; meanwhile the spool keeps taking batches up to its quota.

use super::client::StoreError;
use super::rows::{event_row, EventRow, FilterReportRow, EVENTS_TABLE, FILTER_REPORTS_TABLE};
use super::shapes::{ShapeRegistry, ShapeRow, BODY_SHAPES_TABLE};
use crate::config::WriterConfig;
use crate::jitter_seed;
use crate::spool::SpoolReader;
use meshward_core::backoff::Backoff;
use meshward_proto::EventBatch;
use prost::Message;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::watch;

/// Spool records read per step; each holds one filter batch (hundreds of events).
const RECORDS_PER_READ: usize = 32;
const READ_BYTES: usize = 16 << 20;
const RETRY_MIN_MS: u64 = 200;
const RETRY_MAX_MS: u64 = 5_000;

/// The version of a changed row in the versioned tables (block rules, alerts): microseconds since
/// the epoch, or one more than the version it replaces, so versions grow even within a
/// microsecond or with a clock that stepped back.
pub fn next_version(previous: u64) -> u64 {
    now_ms().saturating_mul(1000).max(previous + 1)
}

pub struct Writer {
    client: clickhouse::Client,
    url: String,
    config: WriterConfig,
    reader: Option<SpoolReader>,
    /// body shapes, to expand the events that only name theirs
    shapes: ShapeRegistry,
    shapes_loaded: bool,
    /// Whether the last INSERT succeeded (for readiness).
    pub healthy: Arc<AtomicBool>,
}

/// One INSERT of all rows; the server has them when this returns Ok.
pub async fn insert_rows(client: &clickhouse::Client, url: &str, rows: &[EventRow]) -> Result<(), StoreError> {
    let err = StoreError::at(url);
    let mut insert = client.insert::<EventRow>(EVENTS_TABLE).await.map_err(err)?;
    for row in rows {
        insert.write(row).await.map_err(err)?;
    }
    insert.end().await.map_err(err)
}

async fn insert_shapes(client: &clickhouse::Client, url: &str, rows: &[ShapeRow]) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let err = StoreError::at(url);
    let mut insert = client.insert::<ShapeRow>(BODY_SHAPES_TABLE).await.map_err(err)?;
    for row in rows {
        insert.write(row).await.map_err(err)?;
    }
    insert.end().await.map_err(err)?;
    metrics::counter!("meshward_writer_body_shapes_total").increment(rows.len() as u64);
    Ok(())
}

/// Wall-clock epoch milliseconds (0 if the clock is before 1970).
pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

enum Step {
    /// Data to read, or the INSERT is due.
    Go,
    Stop,
}

impl Writer {
    pub fn new(client: clickhouse::Client, url: String, config: WriterConfig, reader: SpoolReader) -> Self {
        Writer {
            client,
            url,
            config,
            reader: Some(reader),
            shapes: ShapeRegistry::default(),
            shapes_loaded: false,
            healthy: Arc::new(AtomicBool::new(true)),
        }
    }

    /// Runs until `shutdown` turns true and the spool has been written out (or one more
    /// INSERT failed).
    pub async fn run(mut self, mut shutdown: watch::Receiver<bool>) {
        let mut retry = Backoff::new(RETRY_MIN_MS, RETRY_MAX_MS, jitter_seed());
        loop {
            let stopping = *shutdown.borrow();
            if !self.has_data() {
                if stopping {
                    return;
                }
                if let Some(reader) = self.reader.as_mut() {
                    tokio::select! {
                        _ = reader.wait_for_data(Duration::from_secs(1)) => {}
                        _ = shutdown.changed() => {}
                    }
                }
                continue;
            }
            match self.insert_once(&mut shutdown).await {
                Ok(rows) => {
                    retry.reset();
                    if rows > 0 {
                        self.healthy.store(true, Ordering::Relaxed);
                    }
                }
                Err(err) => {
                    metrics::counter!("meshward_writer_insert_failures_total").increment(1);
                    self.healthy.store(false, Ordering::Relaxed);
                    let delay = retry.next_delay();
                    tracing::warn!(error = %err, retry_in_ms = delay.as_millis() as u64, "INSERT into ClickHouse failed; the rows stay in the spool");
                    if let Some(reader) = self.reader.as_mut() {
                        reader.rewind();
                    }
                    if stopping {
                        return;
                    }
                    tokio::select! {
                        _ = tokio::time::sleep(delay) => {}
                        _ = shutdown.changed() => {}
                    }
                }
            }
        }
    }

    fn has_data(&self) -> bool {
        self.reader.as_ref().is_some_and(SpoolReader::has_data)
    }

    /// Reads records off the spool (blocking I/O, so on the blocking pool).
    async fn read(&mut self) -> Vec<Vec<u8>> {
        let Some(mut reader) = self.reader.take() else {
            return Vec::new();
        };
        let joined = tokio::task::spawn_blocking(move || {
            let records = reader.read(RECORDS_PER_READ, READ_BYTES);
            (reader, records)
        })
        .await;
        match joined {
            Ok((reader, records)) => {
                self.reader = Some(reader);
                records.unwrap_or_else(|err| {
                    tracing::error!(error = %err, "reading the spool failed");
                    Vec::new()
                })
            }
            Err(err) => {
                tracing::error!(error = %err, "spool reader task failed");
                Vec::new()
            }
        }
    }

    /// Waits until more data arrives, the INSERT is due, or shutdown.
    async fn wait(&mut self, until: Instant, shutdown: &mut watch::Receiver<bool>) -> Step {
        let Some(reader) = self.reader.as_mut() else {
            return Step::Stop;
        };
        tokio::select! {
            _ = reader.wait_for_data(until.saturating_duration_since(Instant::now())) => Step::Go,
            _ = shutdown.changed() => Step::Stop,
        }
    }

    /// One INSERT: streams rows until it is full or due, ends it, commits the spool position.
    async fn insert_once(&mut self, shutdown: &mut watch::Receiver<bool>) -> Result<usize, StoreError> {
        let url = self.url.clone();
        let err = StoreError::at(&url);
        if !self.shapes_loaded {
            // the shapes of what the spool still holds may have been written before a restart
            let loaded = ShapeRegistry::load(&self.client, &url).await?;
            tracing::info!(shapes = loaded.len(), "loaded the known body shapes");
            self.shapes = loaded;
            self.shapes_loaded = true;
        }
        let mut insert = self.client.insert::<EventRow>(EVENTS_TABLE).await.map_err(err)?;
        let started = Instant::now();
        let due = started + Duration::from_millis(self.config.max_delay_ms);
        let mut rows = 0usize;
        let mut reports = Vec::new();
        while rows < self.config.max_batch_rows {
            let records = self.read().await;
            if records.is_empty() {
                if Instant::now() >= due || *shutdown.borrow() {
                    break;
                }
                if let Step::Stop = self.wait(due, shutdown).await {
                    break;
                }
                continue;
            }
            let received = now_ms();
            for record in records {
                let Ok(batch) = EventBatch::decode(record.as_slice()) else {
                    metrics::counter!("meshward_writer_undecodable_records_total").increment(1);
                    continue;
                };
                let stats = batch.stats.unwrap_or_default();
                reports.push(FilterReportRow {
                    source_id: batch.source_id.clone(),
                    batch_seq: batch.seq,
                    received_ms: received,
                    events: batch.events.len() as u32,
                    dropped_buffer_full: stats.dropped_buffer_full,
                    dropped_resend_full: stats.dropped_resend_full,
                    dropped_too_large: stats.dropped_too_large,
                });
                for mut event in batch.events {
                    let unknown = self.shapes.expand(&mut event);
                    if !unknown.is_empty() {
                        self.shapes.fetch_missing(&self.client, &url, &unknown).await?;
                        let still = self.shapes.expand(&mut event);
                        metrics::counter!("meshward_writer_body_shapes_unknown_total").increment(still.len() as u64);
                    }
                    match event_row(event, &batch.source_id, batch.seq, received) {
                        Some(row) => {
                            insert.write(&row).await.map_err(err)?;
                            rows += 1;
                        }
                        None => metrics::counter!("meshward_writer_invalid_events_total").increment(1),
                    }
                }
            }
        }
        insert.end().await.map_err(err)?;
        // before the checkpoint moves, so a freed segment's shapes can be read back
        let new_shapes = self.shapes.take_new(now_ms());
        if let Err(e) = insert_shapes(&self.client, &url, &new_shapes).await {
            self.shapes.unwritten(&new_shapes);
            return Err(e);
        }
        // before the checkpoint moves: if this fails the batches are written again, and both
        // tables fold the repeats (event ids; source and sequence number)
        if !reports.is_empty() {
            let mut insert = self.client.insert::<FilterReportRow>(FILTER_REPORTS_TABLE).await.map_err(err)?;
            for report in &reports {
                insert.write(report).await.map_err(err)?;
            }
            insert.end().await.map_err(err)?;
        }
        metrics::counter!("meshward_writer_rows_total").increment(rows as u64);
        metrics::counter!("meshward_writer_inserts_total").increment(1);
        metrics::histogram!("meshward_writer_insert_seconds").record(started.elapsed().as_secs_f64());
        if let Some(reader) = self.reader.as_mut() {
            if let Err(err) = reader.commit(reader.position()) {
                tracing::error!(error = %err, "saving the spool checkpoint failed; rows may be written again after a restart");
            }
        }
        Ok(rows)
    }
}
