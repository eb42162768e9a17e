//! State one worker VM shares between its root context and its HTTP contexts: configuration,
//! the outbox and the gRPC stream to the collector.

use crate::blocklist::BlocklistSync;
use crate::metrics::Counts;
use meshward_core::backoff::{Backoff, RECONNECT_MAX_MS, RECONNECT_MIN_MS};
use meshward_core::filter_config::FilterConfig;
use meshward_core::ids::EventIds;
use meshward_core::outbox::Outbox;
use meshward_core::Recorder;
use meshward_proto::{Ack, FilterStats, INGEST_METHOD, INGEST_SERVICE};
use prost::encoding::{encode_key, encode_varint, WireType};
use prost::Message;
use proxy_wasm::hostcalls;
use std::collections::HashMap;
use std::rc::Rc;

pub struct Shared {
    pub config: Rc<FilterConfig>,
    /// records every exchange of this VM (detection, inspection budget, event encoding)
    pub recorder: Recorder,
    pub outbox: Outbox,
    pub ids: EventIds,
    pub counts: Counts,
    pub blocklist: BlocklistSync,
    /// requests blocked or marked per rule since the last tick (for per-rule counters)
    pub rule_hits: HashMap<String, u64>,
    /// when the outbox is next flushed from the tick
    pub next_flush_ms: u64,
    stream: Option<u32>,
    next_attempt_ms: u64,
    reconnect: Backoff,
}

impl Shared {
    pub fn new(config: FilterConfig, seed: [u8; 16]) -> Self {
        let ids = EventIds::new(seed);
        let reconnect = Backoff::new(RECONNECT_MIN_MS, RECONNECT_MAX_MS, ids.seed());
        Shared {
            recorder: Recorder::new(config.recorder(), ids.seed()),
            outbox: Outbox::new(config.outbox_limits()),
            config: Rc::new(config),
            ids,
            counts: Counts::default(),
            blocklist: BlocklistSync::new(),
            rule_hits: HashMap::new(),
            next_flush_ms: 0,
            stream: None,
            next_attempt_ms: 0,
            reconnect,
        }
    }

    /// Takes a new configuration. The outbox keeps what it holds unless its bounds changed.
    pub fn reconfigure(&mut self, config: FilterConfig) {
        if config.outbox_limits() != self.config.outbox_limits() {
            self.outbox = Outbox::new(config.outbox_limits());
        }
        let node = self.recorder.node().clone();
        self.recorder = Recorder::new(config.recorder(), self.ids.seed());
        self.recorder.set_node(node);
        self.config = Rc::new(config);
    }

    /// Puts an encoded event into the outbox; counts it if it has to be dropped. A dropped
    /// event may have carried a body shape's definition, so the shapes start over.
    pub fn enqueue(&mut self, event: Vec<u8>) {
        self.counts.captured += 1;
        if self.outbox.push(event).is_err() {
            self.recorder.forget_shapes();
        }
    }

    /// Sends what can be sent. Only the root context may open or drop the stream; an HTTP
    /// context sending a full batch leaves any failure for the next tick.
    pub fn flush(&mut self, now_ms: u64, from_root: bool) {
        if !self.outbox.has_work() {
            return;
        }
        let token = match self.stream {
            Some(token) => token,
            None if from_root && now_ms >= self.next_attempt_ms => match self.open_stream() {
                Some(token) => token,
                None => {
                    self.failed(now_ms);
                    return;
                }
            },
            None => return,
        };
        let source_id = self.ids.source_id();
        let stats = self.filter_stats();
        loop {
            let next = self.outbox.next_payload(|seq, events| encode_batch(seq, &source_id, events, &stats));
            let Some((seq, payload)) = next else { break };
            match hostcalls::send_grpc_stream_message(token, Some(payload), false) {
                Ok(()) => self.outbox.mark_sent(seq),
                Err(_) if from_root => {
                    self.stream = None;
                    self.outbox.disconnected();
                    self.recorder.forget_shapes();
                    self.failed(now_ms);
                    break;
                }
                Err(_) => break,
            }
        }
        self.sync_counts();
    }

    fn open_stream(&mut self) -> Option<u32> {
        let auth = format!("Bearer {}", self.config.collector_token);
        let metadata: Vec<(&str, &[u8])> =
            if self.config.collector_token.is_empty() { Vec::new() } else { vec![("authorization", auth.as_bytes())] };
        let token =
            hostcalls::open_grpc_stream(&self.config.collector_cluster, INGEST_SERVICE, INGEST_METHOD, metadata)
                .ok()?;
        self.stream = Some(token);
        Some(token)
    }

    fn failed(&mut self, now_ms: u64) {
        self.counts.stream_failures += 1;
        self.next_attempt_ms = now_ms + self.reconnect.next_delay_ms();
    }

    /// An acknowledgement arrived on the stream.
    pub fn on_ack(&mut self, message: &[u8]) {
        let Ok(ack) = Ack::decode(message) else {
            return;
        };
        if ack.code == meshward_proto::ack::Code::Rejected as i32 {
            self.outbox.reject(ack.seq);
        } else {
            self.outbox.ack(ack.seq);
            self.reconnect.reset();
        }
        self.sync_counts();
    }

    /// The stream ended; everything unacknowledged goes again on the next one.
    pub fn on_stream_closed(&mut self, token: u32, status: u32, now_ms: u64) {
        if self.stream != Some(token) {
            return;
        }
        self.stream = None;
        self.outbox.disconnected();
        // the next stream may reach another collector replica, or a restarted one
        self.recorder.forget_shapes();
        if status != 0 {
            self.failed(now_ms);
        }
    }

    fn sync_counts(&mut self) {
        let stats = self.outbox.stats();
        self.counts.sent = stats.sent_events;
        self.counts.acked = stats.acked_events;
        self.counts.rejected = stats.rejected_events;
        self.counts.dropped_buffer_full = stats.dropped_buffer_full;
        self.counts.dropped_too_large = stats.dropped_too_large;
        self.counts.resent_batches = stats.resent_batches;
    }

    fn filter_stats(&self) -> FilterStats {
        let stats = self.outbox.stats();
        FilterStats { dropped_buffer_full: stats.dropped_buffer_full, dropped_too_large: stats.dropped_too_large }
    }
}

/// Encodes an `EventBatch` around already-encoded events, without decoding them again.
fn encode_batch(seq: u64, source_id: &str, events: &[Vec<u8>], stats: &FilterStats) -> Vec<u8> {
    let events_len: usize = events.iter().map(|e| e.len() + 6).sum();
    let mut buf = Vec::with_capacity(events_len + source_id.len() + 32);
    encode_key(1, WireType::Varint, &mut buf);
    encode_varint(seq, &mut buf);
    prost::encoding::string::encode(2, &source_id.to_owned(), &mut buf);
    for event in events {
        encode_key(3, WireType::LengthDelimited, &mut buf);
        encode_varint(event.len() as u64, &mut buf);
        buf.extend_from_slice(event);
    }
    prost::encoding::message::encode(4, stats, &mut buf);
    buf
}

#[cfg(test)]
mod tests {
    use super::*;
    use meshward_proto::{EventBatch, HttpEvent};

    #[test]
    fn hand_encoded_batch_decodes() {
        let events: Vec<Vec<u8>> = (0..3)
            .map(|i| HttpEvent { method: "GET".into(), status: 200 + i, ..Default::default() }.encode_to_vec())
            .collect();
        let stats = FilterStats { dropped_buffer_full: 7, ..Default::default() };
        let bytes = encode_batch(42, "abc", &events, &stats);
        let batch = EventBatch::decode(bytes.as_slice()).unwrap_or_default();
        assert_eq!(batch.seq, 42);
        assert_eq!(batch.source_id, "abc");
        assert_eq!(batch.events.len(), 3);
        assert_eq!(batch.events[2].status, 202);
        assert_eq!(batch.stats.map(|s| s.dropped_buffer_full), Some(7));
    }
}
