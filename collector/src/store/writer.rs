//! The writer: drains the spool into ClickHouse in large INSERTs and moves the spool's
//! checkpoint only after ClickHouse accepted them. While ClickHouse is down it retries with
//! backoff and holds its rows; the spool keeps taking batches up to its quota.

use super::client::StoreError;
use super::rows::{event_row, EventRow, EVENTS_TABLE};
use crate::config::WriterConfig;
use crate::spool::SpoolReader;
use meshward_proto::EventBatch;
use prost::Message;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::watch;

/// Spool records read per step; each holds one filter batch (hundreds of events).
const RECORDS_PER_READ: usize = 64;
const RETRY_MIN: Duration = Duration::from_millis(200);
const RETRY_MAX: Duration = Duration::from_secs(5);

pub struct Writer {
    client: clickhouse::Client,
    url: String,
    config: WriterConfig,
    reader: Option<SpoolReader>,
    /// Whether the last INSERT succeeded (for readiness).
    pub healthy: Arc<AtomicBool>,
}

/// One INSERT of all rows; the server has them when this returns Ok.
pub async fn insert_rows(
    client: &clickhouse::Client,
    url: &str,
    rows: &[EventRow],
) -> Result<(), StoreError> {
    let err = |source| StoreError::ClickHouse {
        url: url.to_owned(),
        source,
    };
    let mut insert = client.insert::<EventRow>(EVENTS_TABLE).await.map_err(err)?;
    for row in rows {
        insert.write(row).await.map_err(err)?;
    }
    insert.end().await.map_err(err)
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Decodes spool records into rows; undecodable records and invalid events are counted and skipped.
fn decode(records: Vec<Vec<u8>>, rows: &mut Vec<EventRow>) {
    let received = now_ms();
    for record in records {
        let Ok(batch) = EventBatch::decode(record.as_slice()) else {
            metrics::counter!("meshward_writer_undecodable_records_total").increment(1);
            continue;
        };
        for event in batch.events {
            match event_row(event, &batch.source_id, batch.seq, received) {
                Some(row) => rows.push(row),
                None => metrics::counter!("meshward_writer_invalid_events_total").increment(1),
            }
        }
    }
}

impl Writer {
    pub fn new(
        client: clickhouse::Client,
        url: String,
        config: WriterConfig,
        reader: SpoolReader,
    ) -> Self {
        Writer {
            client,
            url,
            config,
            reader: Some(reader),
            healthy: Arc::new(AtomicBool::new(true)),
        }
    }

    /// Runs until `shutdown` turns true; then writes what it holds (one try) and returns.
    pub async fn run(mut self, mut shutdown: watch::Receiver<bool>) {
        let max_delay = Duration::from_millis(self.config.max_delay_ms);
        let mut rows: Vec<EventRow> = Vec::new();
        let mut oldest: Option<Instant> = None;
        loop {
            let stopping = *shutdown.borrow();
            let Some(mut reader) = self.reader.take() else {
                return;
            };
            let (reader, records) = match tokio::task::spawn_blocking(move || {
                let records = reader.read(RECORDS_PER_READ, 64 << 20);
                (reader, records)
            })
            .await
            {
                Ok(result) => result,
                Err(err) => {
                    tracing::error!(error = %err, "spool reader task failed; writer stops");
                    return;
                }
            };
            let more = reader.has_data();
            self.reader = Some(reader);
            match records {
                Ok(records) if !records.is_empty() => {
                    oldest.get_or_insert_with(Instant::now);
                    decode(records, &mut rows);
                }
                Ok(_) => {}
                Err(err) => {
                    tracing::error!(error = %err, "reading the spool failed");
                    tokio::time::sleep(RETRY_MAX).await;
                }
            }
            let due = oldest.is_some_and(|t| t.elapsed() >= max_delay);
            if rows.len() >= self.config.max_batch_rows || (due && !more) || (stopping && !more) {
                if oldest.is_some() {
                    self.flush(&mut rows, &mut shutdown, stopping).await;
                    oldest = None;
                }
                if stopping {
                    return;
                }
                continue;
            }
            if !more {
                let wait = oldest.map_or(max_delay, |t| max_delay.saturating_sub(t.elapsed()));
                if let Some(reader) = self.reader.as_mut() {
                    tokio::select! {
                        _ = reader.wait_for_data(wait) => {}
                        _ = shutdown.changed() => {}
                    }
                }
            }
        }
    }

    /// Inserts until ClickHouse takes the rows, then commits the spool position.
    async fn flush(
        &mut self,
        rows: &mut Vec<EventRow>,
        shutdown: &mut watch::Receiver<bool>,
        once: bool,
    ) {
        let Some(position) = self.reader.as_ref().map(SpoolReader::position) else {
            return;
        };
        let mut delay = RETRY_MIN;
        loop {
            let started = Instant::now();
            match insert_rows(&self.client, &self.url, rows).await {
                Ok(()) => {
                    metrics::counter!("meshward_writer_rows_total").increment(rows.len() as u64);
                    metrics::counter!("meshward_writer_inserts_total").increment(1);
                    metrics::histogram!("meshward_writer_insert_seconds")
                        .record(started.elapsed().as_secs_f64());
                    self.healthy.store(true, Ordering::Relaxed);
                    break;
                }
                Err(err) => {
                    metrics::counter!("meshward_writer_insert_failures_total").increment(1);
                    self.healthy.store(false, Ordering::Relaxed);
                    tracing::warn!(error = %err, rows = rows.len(), retry_in_ms = delay.as_millis() as u64, "INSERT into ClickHouse failed; the rows stay in the spool");
                    if once || *shutdown.borrow() {
                        return;
                    }
                    tokio::select! {
                        _ = tokio::time::sleep(delay) => {}
                        _ = shutdown.changed() => {}
                    }
                    delay = (delay * 2).min(RETRY_MAX);
                }
            }
        }
        rows.clear();
        if let Some(reader) = self.reader.as_mut() {
            if let Err(err) = reader.commit(position) {
                tracing::error!(error = %err, "saving the spool checkpoint failed; rows may be written again after a restart");
            }
        }
    }
}
