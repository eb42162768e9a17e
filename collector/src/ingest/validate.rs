//! What makes a batch acceptable. Ingest decodes only a view of the fields it checks (prost
//! skips the rest without allocating); the writer decodes the whole batch later.

use prost::Message;

/// The part of an `EventBatch` ingest checks (same tags as `meshward.proto`).
#[derive(Clone, PartialEq, Message)]
struct BatchView {
    #[prost(uint64, tag = "1")]
    seq: u64,
    #[prost(message, repeated, tag = "3")]
    events: Vec<EventView>,
}

#[derive(Clone, PartialEq, Message)]
struct EventView {
    #[prost(bytes = "vec", tag = "1")]
    event_id: Vec<u8>,
    #[prost(uint32, tag = "12")]
    status: u32,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BatchError {
    #[error("batch is not a valid EventBatch message: {0}")]
    Malformed(String),
    #[error("batch has sequence number 0; sequence numbers start at 1")]
    NoSequence,
    #[error("batch holds {0} events, more than the collector's ingest.max_batch_events ({1})")]
    TooManyEvents(usize, usize),
    #[error("event {index} has a {len}-byte id; ids are 16 bytes")]
    BadEventId { index: usize, len: usize },
    #[error("event {index} has status {status}, outside 0..=999")]
    BadStatus { index: usize, status: u32 },
}

/// Checks an encoded batch; returns its sequence number and event count, or the sequence
/// number (0 if unreadable) and what is wrong.
pub fn validate_batch(bytes: &[u8], max_events: usize) -> Result<(u64, usize), (u64, BatchError)> {
    let batch = BatchView::decode(bytes).map_err(|e| (0, BatchError::Malformed(e.to_string())))?;
    let seq = batch.seq;
    if seq == 0 {
        return Err((0, BatchError::NoSequence));
    }
    if batch.events.len() > max_events {
        return Err((seq, BatchError::TooManyEvents(batch.events.len(), max_events)));
    }
    for (index, event) in batch.events.iter().enumerate() {
        if event.event_id.len() != 16 {
            return Err((seq, BatchError::BadEventId { index, len: event.event_id.len() }));
        }
        if event.status > 999 {
            return Err((seq, BatchError::BadStatus { index, status: event.status }));
        }
    }
    Ok((seq, batch.events.len()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use meshward_proto::{EventBatch, HttpEvent};

    fn encode(batch: &EventBatch) -> Vec<u8> {
        batch.encode_to_vec()
    }

    #[test]
    fn checks() {
        let good = HttpEvent { event_id: vec![0; 16], status: 200, method: "GET".into(), ..Default::default() };
        let batch = EventBatch { seq: 7, events: vec![good.clone(), good.clone()], ..Default::default() };
        assert_eq!(validate_batch(&encode(&batch), 10), Ok((7, 2)));
        assert_eq!(
            validate_batch(&encode(&EventBatch { seq: 0, ..batch.clone() }), 10),
            Err((0, BatchError::NoSequence))
        );
        assert!(matches!(validate_batch(&encode(&batch), 1), Err((7, BatchError::TooManyEvents(2, 1)))));
        let bad =
            EventBatch { seq: 1, events: vec![HttpEvent { event_id: vec![1], ..good.clone() }], ..Default::default() };
        assert_eq!(validate_batch(&encode(&bad), 10), Err((1, BatchError::BadEventId { index: 0, len: 1 })));
        let bad = EventBatch { seq: 1, events: vec![HttpEvent { status: 1000, ..good }], ..Default::default() };
        assert!(matches!(validate_batch(&encode(&bad), 10), Err((1, BatchError::BadStatus { .. }))));
    }

    #[test]
    fn garbage_is_rejected_not_panicked_on() {
        assert!(matches!(validate_batch(&[0xff, 0xff, 0xff], 10), Err((0, BatchError::Malformed(_)))));
        assert!(matches!(validate_batch(&[0x1a, 0x05, 0x0a], 10), Err((0, BatchError::Malformed(_)))));
    }
}
