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
use crate::audit::{AuditLog, Enforcement};
use crate::config::WriterConfig;
use crate::jitter_seed;
use crate::spool::{DeadLetter, Position, SpoolError, SpoolReader};
use clickhouse::insert::Insert;
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
/// Refused INSERTs in a row before the records are tried one by one (a refusal can be the
/// server's moment, not the data: retry the whole INSERT a few times first).
const ISOLATE_AFTER_REFUSALS: u32 = 3;
/// Records set aside in one go at most; more refused in a row is the server, not the records.
const MAX_SET_ASIDE_AT_ONCE: usize = 64;

#[derive(Debug, thiserror::Error)]
enum WriteError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("setting a refused batch aside failed: {0}")]
    DeadLetter(#[from] SpoolError),
}

/// What one INSERT has taken so far.
#[derive(Default)]
struct Pending {
    rows: usize,
    reports: Vec<FilterReportRow>,
    /// blocks and dry-run matches among the rows, for the audit log once they are stored
    enforced: Vec<Enforcement>,
}

/// The version of a changed row in the versioned tables (block rules, alerts): microseconds since
/// the epoch, or one more than the version it replaces, so versions grow even within a
/// microsecond or with a clock that stepped back.
pub fn next_version(previous: u64) -> u64 {
    now_ms().saturating_mul(1000).max(previous + 1)
}

pub struct Writer {
    sink: RecordSink,
    config: WriterConfig,
    reader: Option<SpoolReader>,
    dead_letter: DeadLetter,
    /// Whether the last INSERT succeeded (for readiness).
    pub healthy: Arc<AtomicBool>,
}

/// Turns spool records into rows of ClickHouse's tables: the events, the body shapes they
/// bring and the filters' reports. The writer streams many records into one INSERT; replaying
/// a dead-letter record stores one.
pub struct RecordSink {
    client: clickhouse::Client,
    url: String,
    /// body shapes, to expand the events that only name theirs
    shapes: ShapeRegistry,
    shapes_loaded: bool,
    audit: Option<AuditLog>,
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
    pub fn new(
        client: clickhouse::Client,
        url: String,
        config: WriterConfig,
        reader: SpoolReader,
        dead_letter: DeadLetter,
        audit: AuditLog,
    ) -> Self {
        Writer {
            sink: RecordSink::new(client, url).with_audit(audit),
            config,
            reader: Some(reader),
            dead_letter,
            healthy: Arc::new(AtomicBool::new(true)),
        }
    }

    /// Runs until `shutdown` turns true and the spool has been written out (or one more
    /// INSERT failed).
    pub async fn run(mut self, mut shutdown: watch::Receiver<bool>) {
        let mut retry = Backoff::new(RETRY_MIN_MS, RETRY_MAX_MS, jitter_seed());
        // INSERTs ClickHouse refused in a row; past a few, the records are tried one by one
        let mut refusals = 0u32;
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
            // Ok(true): ClickHouse took rows
            let outcome = if refusals >= ISOLATE_AFTER_REFUSALS {
                self.isolate().await
            } else {
                self.insert_once(&mut shutdown).await.map(|rows| rows > 0).map_err(WriteError::from)
            };
            match outcome {
                Ok(stored) => {
                    retry.reset();
                    refusals = 0;
                    if stored {
                        self.healthy.store(true, Ordering::Relaxed);
                    }
                }
                Err(err) => {
                    metrics::counter!("meshward_writer_insert_failures_total").increment(1);
                    self.healthy.store(false, Ordering::Relaxed);
                    match &err {
                        WriteError::Store(e) if e.is_permanent() => refusals = ISOLATE_AFTER_REFUSALS,
                        WriteError::Store(e) if e.is_refusal() => refusals += 1,
                        _ => refusals = 0,
                    }
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
    async fn read(&mut self, max_records: usize) -> Vec<Vec<u8>> {
        let Some(mut reader) = self.reader.take() else {
            return Vec::new();
        };
        let joined = tokio::task::spawn_blocking(move || {
            let records = reader.read(max_records, READ_BYTES);
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
        let mut insert = self.sink.begin().await?;
        let started = Instant::now();
        let due = started + Duration::from_millis(self.config.max_delay_ms);
        let mut pending = Pending::default();
        while pending.rows < self.config.max_batch_rows {
            let records = self.read(RECORDS_PER_READ).await;
            if records.is_empty() {
                if Instant::now() >= due || *shutdown.borrow() {
                    break;
                }
                if let Step::Stop = self.wait(due, shutdown).await {
                    break;
                }
                continue;
            }
            let read_at = now_ms();
            for record in records {
                self.sink.write_record(&mut insert, &record, read_at, &mut pending).await?;
            }
        }
        let rows = self.sink.finish(insert, pending, started).await?;
        self.commit();
        Ok(rows)
    }

    /// Moves the checkpoint to what has been read: everything before it is stored.
    fn commit(&mut self) {
        if let Some(reader) = self.reader.as_mut() {
            if let Err(err) = reader.commit(reader.position()) {
                tracing::error!(error = %err, "saving the spool checkpoint failed; rows may be written again after a restart");
            }
        }
    }

    /// From the checkpoint, writes one record per INSERT until ClickHouse accepts one; the
    /// records it refused before that one are set aside in the dead-letter folder and the
    /// checkpoint moves past them. A server that refuses every record up to the head is not
    /// the records' fault (a schema problem, a server out of memory or disk): then nothing is
    /// set aside and the error comes back, to be retried.
    async fn isolate(&mut self) -> Result<bool, WriteError> {
        let mut refused: Vec<(Position, Vec<u8>, StoreError)> = Vec::new();
        loop {
            let Some(at) = self.reader.as_ref().map(SpoolReader::position) else {
                return Ok(false);
            };
            let Some(record) = self.read(1).await.into_iter().next() else {
                // the head, and nothing accepted
                return match refused.pop() {
                    Some((_, _, error)) => Err(error.into()),
                    None => Ok(false),
                };
            };
            match self.sink.store(&record).await {
                Ok(_) => break,
                Err(error) if error.is_refusal() && refused.len() < MAX_SET_ASIDE_AT_ONCE => {
                    refused.push((at, record, error));
                }
                Err(error) => return Err(error.into()),
            }
        }
        for (at, record, error) in &refused {
            self.dead_letter.set_aside(*at, record, &error.to_string())?;
            tracing::error!(segment = at.segment, offset = at.offset, error = %error, dead_letter = %self.dead_letter.dir().display(),
                "ClickHouse refused a batch it accepts others beside: set aside in the dead-letter folder (`meshward spool dead-letter`)");
        }
        self.commit();
        Ok(true)
    }
}

impl RecordSink {
    pub fn new(client: clickhouse::Client, url: String) -> Self {
        RecordSink { client, url, shapes: ShapeRegistry::default(), shapes_loaded: false, audit: None }
    }

    /// Writes an audit line for each block and dry-run match once it is stored.
    pub fn with_audit(mut self, audit: AuditLog) -> Self {
        self.audit = Some(audit);
        self
    }

    /// Stores one record in INSERTs of its own; returns the events stored.
    pub async fn store(&mut self, record: &[u8]) -> Result<usize, StoreError> {
        let started = Instant::now();
        let mut insert = self.begin().await?;
        let mut pending = Pending::default();
        self.write_record(&mut insert, record, now_ms(), &mut pending).await?;
        self.finish(insert, pending, started).await
    }

    /// Opens an INSERT into the events table (with the known body shapes loaded).
    async fn begin(&mut self) -> Result<Insert<EventRow>, StoreError> {
        self.load_shapes().await?;
        self.client.insert::<EventRow>(EVENTS_TABLE).await.map_err(StoreError::at(&self.url))
    }

    async fn load_shapes(&mut self) -> Result<(), StoreError> {
        if !self.shapes_loaded {
            // the shapes of what the spool still holds may have been written before a restart
            let loaded = ShapeRegistry::load(&self.client, &self.url).await?;
            tracing::info!(shapes = loaded.len(), "loaded the known body shapes");
            self.shapes = loaded;
            self.shapes_loaded = true;
        }
        Ok(())
    }

    /// Streams one spool record's events into the open INSERT.
    async fn write_record(
        &mut self,
        insert: &mut Insert<EventRow>,
        record: &[u8],
        read_at: u64,
        pending: &mut Pending,
    ) -> Result<(), StoreError> {
        let err = StoreError::at(&self.url);
        let Ok(batch) = EventBatch::decode(record) else {
            metrics::counter!("meshward_writer_undecodable_records_total").increment(1);
            return Ok(());
        };
        // stamped at ingest; records spooled by an older collector have none
        let received = if batch.received_ms > 0 { batch.received_ms } else { read_at };
        let stats = batch.stats.unwrap_or_default();
        pending.reports.push(FilterReportRow {
            source_id: batch.source_id.clone(),
            batch_seq: batch.seq,
            received_ms: received,
            events: batch.events.len() as u32,
            dropped_buffer_full: stats.dropped_buffer_full,
            dropped_too_large: stats.dropped_too_large,
        });
        for mut event in batch.events {
            let unknown = self.shapes.expand(&mut event);
            if !unknown.is_empty() {
                self.shapes.fetch_missing(&self.client, &self.url, &unknown).await?;
                let still = self.shapes.expand(&mut event);
                metrics::counter!("meshward_writer_body_shapes_unknown_total").increment(still.len() as u64);
            }
            match event_row(event, &batch.source_id, batch.seq, received) {
                Some(row) => {
                    if self.audit.is_some() {
                        pending.enforced.extend(Enforcement::of(&row));
                    }
                    insert.write(&row).await.map_err(err)?;
                    pending.rows += 1;
                }
                None => metrics::counter!("meshward_writer_invalid_events_total").increment(1),
            }
        }
        Ok(())
    }

    /// Ends the INSERT, then writes the new body shapes and the filters' reports; the records
    /// are stored when this returns Ok (the checkpoint may move).
    async fn finish(
        &mut self,
        insert: Insert<EventRow>,
        pending: Pending,
        started: Instant,
    ) -> Result<usize, StoreError> {
        let err = StoreError::at(&self.url);
        insert.end().await.map_err(err)?;
        // before the checkpoint moves, so a freed segment's shapes can be read back
        let new_shapes = self.shapes.take_new(now_ms());
        if let Err(e) = insert_shapes(&self.client, &self.url, &new_shapes).await {
            self.shapes.unwritten(&new_shapes);
            return Err(e);
        }
        // before the checkpoint moves: if this fails the batches are written again, and both
        // tables fold the repeats (event ids; source and sequence number)
        if !pending.reports.is_empty() {
            let mut insert = self.client.insert::<FilterReportRow>(FILTER_REPORTS_TABLE).await.map_err(err)?;
            for report in &pending.reports {
                insert.write(report).await.map_err(err)?;
            }
            insert.end().await.map_err(err)?;
        }
        if let Some(audit) = &self.audit {
            audit.stored(&pending.enforced);
        }
        metrics::counter!("meshward_writer_rows_total").increment(pending.rows as u64);
        metrics::counter!("meshward_writer_inserts_total").increment(1);
        metrics::histogram!("meshward_writer_insert_seconds").record(started.elapsed().as_secs_f64());
        Ok(pending.rows)
    }
}
