//! The filter's bounded outbox: events waiting to be sent, and sent batches waiting for the
//! collector's acknowledgement.
//!
//! Invariants:
//! - queued bytes never exceed `max_queued_bytes` nor queued events `max_queued_events`:
//!   an event that does not fit is dropped and counted (`dropped_buffer_full`);
//! - unacknowledged batches never exceed `max_unacked_bytes`: no new batch is cut while the
//!   window is full, so events wait in the queue (and the queue bound applies);
//! - a batch keeps its sequence number until acknowledged; after a disconnect every
//!   unacknowledged batch is sent again, in order, with the same number, so the collector
//!   can tell a resend from new data.
//!
//! Items are opaque encoded events; the caller supplies the batch encoder, so this module
//! stays free of the wire format and can be tested natively.

use std::collections::VecDeque;

/// Bounds of one outbox (one per worker VM).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutboxLimits {
    pub max_queued_events: usize,
    pub max_queued_bytes: usize,
    pub max_batch_events: usize,
    pub max_batch_bytes: usize,
    pub max_unacked_bytes: usize,
}

impl Default for OutboxLimits {
    fn default() -> Self {
        OutboxLimits {
            max_queued_events: 10_000,
            max_queued_bytes: 8 << 20,
            max_batch_events: 500,
            max_batch_bytes: 1 << 20,
            max_unacked_bytes: 8 << 20,
        }
    }
}

/// Counters the outbox keeps; the filter mirrors them into Envoy stats.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct OutboxStats {
    pub dropped_buffer_full: u64,
    pub dropped_too_large: u64,
    pub acked_events: u64,
    pub rejected_events: u64,
    /// events put on the wire for the first time
    pub sent_events: u64,
    /// batches put on the wire again after a disconnect
    pub resent_batches: u64,
}

#[derive(Debug)]
struct Pending {
    seq: u64,
    events: usize,
    payload: Vec<u8>,
    sent: bool,
    attempts: u32,
}

/// Why `push` refused an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushError {
    BufferFull,
    TooLarge,
}

#[derive(Debug)]
pub struct Outbox {
    limits: OutboxLimits,
    queue: VecDeque<Vec<u8>>,
    queued_bytes: usize,
    pending: VecDeque<Pending>,
    pending_bytes: usize,
    next_seq: u64,
    stats: OutboxStats,
}

impl Outbox {
    pub fn new(limits: OutboxLimits) -> Self {
        Outbox {
            limits,
            queue: VecDeque::new(),
            queued_bytes: 0,
            pending: VecDeque::new(),
            pending_bytes: 0,
            next_seq: 1,
            stats: OutboxStats::default(),
        }
    }

    pub fn stats(&self) -> OutboxStats {
        self.stats
    }

    pub fn queued_events(&self) -> usize {
        self.queue.len()
    }

    pub fn unacked_batches(&self) -> usize {
        self.pending.len()
    }

    /// Bytes held now, queued and unacknowledged.
    pub fn held_bytes(&self) -> usize {
        self.queued_bytes + self.pending_bytes
    }

    /// Whether enough is queued to fill a batch.
    pub fn batch_ready(&self) -> bool {
        self.queue.len() >= self.limits.max_batch_events || self.queued_bytes >= self.limits.max_batch_bytes
    }

    /// Whether there is anything to send now (queued events or unsent batches).
    pub fn has_work(&self) -> bool {
        !self.queue.is_empty() || self.pending.iter().any(|p| !p.sent)
    }

    pub fn push(&mut self, event: Vec<u8>) -> Result<(), PushError> {
        if event.len() > self.limits.max_batch_bytes {
            self.stats.dropped_too_large += 1;
            return Err(PushError::TooLarge);
        }
        if self.queue.len() >= self.limits.max_queued_events
            || self.queued_bytes + event.len() > self.limits.max_queued_bytes
        {
            self.stats.dropped_buffer_full += 1;
            return Err(PushError::BufferFull);
        }
        self.queued_bytes += event.len();
        self.queue.push_back(event);
        Ok(())
    }

    /// The next payload to put on the wire: first any batch not sent on the current stream,
    /// then a new batch cut from the queue if the unacknowledged window has room.
    /// The caller must call `mark_sent(seq)` once the host accepted it.
    pub fn next_payload<F>(&mut self, encode: F) -> Option<(u64, &[u8])>
    where
        F: FnOnce(u64, &[Vec<u8>]) -> Vec<u8>,
    {
        if let Some(index) = self.pending.iter().position(|p| !p.sent) {
            let pending = &self.pending[index];
            return Some((pending.seq, &pending.payload));
        }
        if self.queue.is_empty() || self.pending_bytes >= self.limits.max_unacked_bytes {
            return None;
        }
        let mut count = 0;
        let mut bytes = 0;
        for event in &self.queue {
            if count == self.limits.max_batch_events || (count > 0 && bytes + event.len() > self.limits.max_batch_bytes)
            {
                break;
            }
            count += 1;
            bytes += event.len();
        }
        let events: Vec<Vec<u8>> = self.queue.drain(..count).collect();
        self.queued_bytes -= bytes;
        let seq = self.next_seq;
        self.next_seq += 1;
        let payload = encode(seq, &events);
        self.pending_bytes += payload.len();
        self.pending.push_back(Pending { seq, events: count, payload, sent: false, attempts: 0 });
        self.pending.back().map(|p| (p.seq, p.payload.as_slice()))
    }

    pub fn mark_sent(&mut self, seq: u64) {
        if let Some(p) = self.pending.iter_mut().find(|p| p.seq == seq) {
            p.sent = true;
            p.attempts += 1;
            if p.attempts == 1 {
                self.stats.sent_events += p.events as u64;
            } else {
                self.stats.resent_batches += 1;
            }
        }
    }

    /// The collector has the batch durably: forget it. Returns its event count.
    pub fn ack(&mut self, seq: u64) -> Option<usize> {
        let index = self.pending.iter().position(|p| p.seq == seq)?;
        let pending = self.pending.remove(index)?;
        self.pending_bytes -= pending.payload.len();
        self.stats.acked_events += pending.events as u64;
        Some(pending.events)
    }

    /// The collector will never take the batch: forget it, counted as rejected.
    pub fn reject(&mut self, seq: u64) -> Option<usize> {
        let index = self.pending.iter().position(|p| p.seq == seq)?;
        let pending = self.pending.remove(index)?;
        self.pending_bytes -= pending.payload.len();
        self.stats.rejected_events += pending.events as u64;
        Some(pending.events)
    }

    /// The stream is gone: everything unacknowledged must be sent again on the next one.
    pub fn disconnected(&mut self) {
        for p in &mut self.pending {
            p.sent = false;
        }
    }
}

#[cfg(test)]
mod tests;
