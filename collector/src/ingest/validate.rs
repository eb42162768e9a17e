//! What makes a batch acceptable.

use meshward_proto::EventBatch;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BatchError {
    #[error("batch has sequence number 0; sequence numbers start at 1")]
    NoSequence,
    #[error("batch holds {0} events, more than the collector's ingest.max_batch_events ({1})")]
    TooManyEvents(usize, usize),
    #[error("event {index} has a {len}-byte id; ids are 16 bytes")]
    BadEventId { index: usize, len: usize },
    #[error("event {index} has status {status}, outside 0..=999")]
    BadStatus { index: usize, status: u32 },
}

/// Checks a batch; returns its event count.
pub fn validate_batch(batch: &EventBatch, max_events: usize) -> Result<usize, BatchError> {
    if batch.seq == 0 {
        return Err(BatchError::NoSequence);
    }
    if batch.events.len() > max_events {
        return Err(BatchError::TooManyEvents(batch.events.len(), max_events));
    }
    for (index, event) in batch.events.iter().enumerate() {
        if event.event_id.len() != 16 {
            return Err(BatchError::BadEventId {
                index,
                len: event.event_id.len(),
            });
        }
        if event.status > 999 {
            return Err(BatchError::BadStatus {
                index,
                status: event.status,
            });
        }
    }
    Ok(batch.events.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use meshward_proto::HttpEvent;

    #[test]
    fn checks() {
        let good = HttpEvent {
            event_id: vec![0; 16],
            status: 200,
            ..Default::default()
        };
        let batch = EventBatch {
            seq: 1,
            events: vec![good.clone()],
            ..Default::default()
        };
        assert_eq!(validate_batch(&batch, 10), Ok(1));
        assert_eq!(
            validate_batch(
                &EventBatch {
                    seq: 0,
                    ..batch.clone()
                },
                10
            ),
            Err(BatchError::NoSequence)
        );
        assert!(validate_batch(&batch, 0).is_err());
        let bad = EventBatch {
            seq: 1,
            events: vec![HttpEvent {
                event_id: vec![1],
                ..good
            }],
            ..Default::default()
        };
        assert_eq!(
            validate_batch(&bad, 10),
            Err(BatchError::BadEventId { index: 0, len: 1 })
        );
    }
}
