//! What makes a batch acceptable. A batch is acknowledged only if the writer will be able to
//! store every event of it, so ingest checks exactly what the writer decodes, in two passes:
//!
//! 1. A walk over the wire format, without allocating, bounds what the batch expands into
//!    before anything is decoded: how many entries each repeated field of an event holds, how
//!    many such entries the whole batch holds, how long any one string is. A repeated field can
//!    cost three bytes on the wire per entry and a row of several array columns in ClickHouse; an
//!    event with a few hundred thousand of them once passed the checks and failed every INSERT
//!    after it ("Memory limit (for query) exceeded"), which stopped ingest for the whole mesh.
//! 2. The same `EventBatch::decode` the writer runs (UTF-8 in every string, wire types, nested
//!    messages), then the checks on values: 16-byte ids, statuses.
//!
//! The bounds sit well above anything a filter sends with any configuration it accepts (its
//! body-field and finding limits, Envoy's header limits); they exist to refuse what no filter
//! sends.

use meshward_proto::EventBatch;
use prost::encoding::{decode_key, decode_varint, WireType};
use prost::Message;

/// The repeated fields of `HttpEvent` (tags as in `meshward.proto`) and how many entries one
/// event may hold of each.
const EVENT_REPEATED: [(u32, &str, usize); 9] = [
    (9, "query_params", 1024),
    (10, "request_headers", 1024),
    (11, "response_headers", 1024),
    (18, "forwarded_for", 128),
    (25, "request_body_fields", 8192),
    (26, "response_body_fields", 8192),
    (32, "sensitive", 4096),
    (33, "attacks", 4096),
    (37, "rate_limited_rules", 1024),
];
/// `HttpEvent` tags whose entries are `BodyField`s, and the `BodyField` tag of its classes.
const BODY_FIELD_TAGS: [u32; 2] = [25, 26];
const BODY_FIELD_CLASSES_TAG: u32 = 3;
const MAX_CLASSES_PER_FIELD: usize = 64;
/// `EventBatch.events`.
const BATCH_EVENTS_TAG: u32 = 3;

/// Entries of repeated fields one batch may hold in all (a filter's batch of 500 rich events
/// holds some tens of thousands).
pub const MAX_BATCH_ENTRIES: usize = 1 << 18;
/// Longest string or nested message inside an event (a path, a header value, a finding).
pub const MAX_STRING_BYTES: usize = 256 << 10;

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
    #[error("event {index} holds {count} `{field}` entries, more than the {max} one event may hold")]
    TooManyEntries { index: usize, field: &'static str, count: usize, max: usize },
    #[error("batch holds more than {MAX_BATCH_ENTRIES} entries of repeated fields in all; send smaller batches")]
    BatchTooRich,
    #[error("event {index} holds a {len}-byte field (tag {tag}), longer than the {MAX_STRING_BYTES} bytes allowed")]
    FieldTooLong { index: usize, tag: u32, len: usize },
}

/// A batch that passed: what the ack and the metrics need.
#[derive(Debug, PartialEq, Eq)]
pub struct Accepted {
    pub seq: u64,
    pub events: usize,
}

/// Checks an encoded batch; returns its sequence number and event count, or the sequence
/// number (0 if unreadable) and what is wrong.
pub fn validate_batch(bytes: &[u8], max_events: usize) -> Result<Accepted, (u64, BatchError)> {
    let seq = bound_expansion(bytes, max_events)?;
    let batch = EventBatch::decode(bytes).map_err(|e| (seq, BatchError::Malformed(e.to_string())))?;
    if batch.seq == 0 {
        return Err((0, BatchError::NoSequence));
    }
    for (index, event) in batch.events.iter().enumerate() {
        if event.event_id.len() != 16 {
            return Err((batch.seq, BatchError::BadEventId { index, len: event.event_id.len() }));
        }
        if event.status > 999 {
            return Err((batch.seq, BatchError::BadStatus { index, status: event.status }));
        }
    }
    Ok(Accepted { seq: batch.seq, events: batch.events.len() })
}

/// One field on the wire: its tag and what it holds.
struct Field<'a> {
    tag: u32,
    value: Value<'a>,
}

enum Value<'a> {
    Varint(u64),
    Fixed,
    Bytes(&'a [u8]),
}

/// The fields of one message, in wire order; an error for anything unreadable.
fn fields(mut buf: &[u8]) -> impl Iterator<Item = Result<Field<'_>, String>> {
    std::iter::from_fn(move || {
        if buf.is_empty() {
            return None;
        }
        let field = (|| {
            let (tag, wire_type) = decode_key(&mut buf).map_err(|e| e.to_string())?;
            let value = match wire_type {
                WireType::Varint => Value::Varint(decode_varint(&mut buf).map_err(|e| e.to_string())?),
                WireType::SixtyFourBit => skip(&mut buf, 8).map(|_| Value::Fixed)?,
                WireType::ThirtyTwoBit => skip(&mut buf, 4).map(|_| Value::Fixed)?,
                WireType::LengthDelimited => {
                    let len = decode_varint(&mut buf).map_err(|e| e.to_string())?;
                    let len = usize::try_from(len).map_err(|_| "length overflows".to_owned())?;
                    Value::Bytes(skip(&mut buf, len)?)
                }
                WireType::StartGroup | WireType::EndGroup => return Err("groups are not used by meshward.proto".into()),
            };
            Ok(Field { tag, value })
        })();
        if field.is_err() {
            buf = &[];
        }
        Some(field)
    })
}

fn skip<'a>(buf: &mut &'a [u8], len: usize) -> Result<&'a [u8], String> {
    if buf.len() < len {
        return Err(format!("a field claims {len} bytes, {} are left", buf.len()));
    }
    let (value, rest) = buf.split_at(len);
    *buf = rest;
    Ok(value)
}

/// Pass 1: the batch's sequence number once its size bounds hold.
fn bound_expansion(bytes: &[u8], max_events: usize) -> Result<u64, (u64, BatchError)> {
    let malformed = |seq, e: String| (seq, BatchError::Malformed(e));
    let mut seq = 0;
    let mut events = Vec::new();
    for field in fields(bytes) {
        let field = field.map_err(|e| malformed(seq, e))?;
        match (field.tag, field.value) {
            // the last occurrence wins, as in any protobuf decoder
            (1, Value::Varint(value)) => seq = value,
            (BATCH_EVENTS_TAG, Value::Bytes(event)) => events.push(event),
            _ => {}
        }
    }
    if events.len() > max_events {
        return Err((seq, BatchError::TooManyEvents(events.len(), max_events)));
    }
    let mut batch_entries = 0usize;
    for (index, event) in events.into_iter().enumerate() {
        let mut counts = [0usize; EVENT_REPEATED.len()];
        for field in fields(event) {
            let field = field.map_err(|e| malformed(seq, e))?;
            let Value::Bytes(value) = field.value else { continue };
            if value.len() > MAX_STRING_BYTES {
                return Err((seq, BatchError::FieldTooLong { index, tag: field.tag, len: value.len() }));
            }
            let Some(slot) = EVENT_REPEATED.iter().position(|(tag, _, _)| *tag == field.tag) else { continue };
            counts[slot] += 1;
            batch_entries += 1;
            if BODY_FIELD_TAGS.contains(&field.tag) {
                let mut classes = 0;
                for inner in fields(value) {
                    if inner.map_err(|e| malformed(seq, e))?.tag == BODY_FIELD_CLASSES_TAG {
                        classes += 1;
                    }
                }
                if classes > MAX_CLASSES_PER_FIELD {
                    let field = "request/response_body_fields.sensitive_classes";
                    return Err((
                        seq,
                        BatchError::TooManyEntries { index, field, count: classes, max: MAX_CLASSES_PER_FIELD },
                    ));
                }
                batch_entries += classes;
            }
            let (_, name, max) = EVENT_REPEATED[slot];
            if counts[slot] > max {
                // count the rest, so the message says how many there are
                let count = fields(event).filter(|f| f.as_ref().is_ok_and(|f| f.tag == field.tag)).count();
                return Err((seq, BatchError::TooManyEntries { index, field: name, count, max }));
            }
            if batch_entries > MAX_BATCH_ENTRIES {
                return Err((seq, BatchError::BatchTooRich));
            }
        }
    }
    Ok(seq)
}

#[cfg(test)]
mod tests {
    use super::*;
    use meshward_proto::{AttackFinding, BodyField, EventBatch, Header, HttpEvent, SensitiveFinding};

    fn encode(batch: &EventBatch) -> Vec<u8> {
        batch.encode_to_vec()
    }

    fn good() -> HttpEvent {
        HttpEvent { event_id: vec![0; 16], status: 200, method: "GET".into(), ..Default::default() }
    }

    fn one(event: HttpEvent) -> Vec<u8> {
        encode(&EventBatch { seq: 1, events: vec![event], ..Default::default() })
    }

    #[test]
    fn checks() {
        let batch = EventBatch { seq: 7, events: vec![good(), good()], ..Default::default() };
        assert_eq!(validate_batch(&encode(&batch), 10), Ok(Accepted { seq: 7, events: 2 }));
        assert_eq!(
            validate_batch(&encode(&EventBatch { seq: 0, ..batch.clone() }), 10),
            Err((0, BatchError::NoSequence))
        );
        assert!(matches!(validate_batch(&encode(&batch), 1), Err((7, BatchError::TooManyEvents(2, 1)))));
        let bad = one(HttpEvent { event_id: vec![1], ..good() });
        assert_eq!(validate_batch(&bad, 10), Err((1, BatchError::BadEventId { index: 0, len: 1 })));
        let bad = one(HttpEvent { status: 1000, ..good() });
        assert!(matches!(validate_batch(&bad, 10), Err((1, BatchError::BadStatus { .. }))));
    }

    #[test]
    fn garbage_is_rejected_not_panicked_on() {
        assert!(matches!(validate_batch(&[0xff, 0xff, 0xff], 10), Err((0, BatchError::Malformed(_)))));
        assert!(matches!(validate_batch(&[0x1a, 0x05, 0x0a], 10), Err((0, BatchError::Malformed(_)))));
    }

    /// The poison batch: hundreds of thousands of empty findings, three bytes each on the wire.
    #[test]
    fn empty_repeated_entries_are_bounded_per_event_and_per_batch() {
        let poison = HttpEvent { sensitive: vec![SensitiveFinding::default(); 300_000], ..good() };
        let bytes = one(poison);
        assert!(bytes.len() < 1_000_000, "three bytes an entry: {}", bytes.len());
        match validate_batch(&bytes, 10) {
            Err((1, BatchError::TooManyEntries { index: 0, field: "sensitive", count: 300_000, max }))
                if max < 300_000 => {}
            other => panic!("not bounded: {other:?}"),
        }
        // each event within its bounds, the batch over its total
        let rich = HttpEvent {
            attacks: vec![AttackFinding::default(); 4000],
            request_headers: vec![Header::default(); 1000],
            ..good()
        };
        let batch = EventBatch { seq: 2, events: vec![rich; 60], ..Default::default() };
        assert_eq!(validate_batch(&encode(&batch), 100), Err((2, BatchError::BatchTooRich)));
        // a body field's classes count too
        let field = BodyField { path: "$.a".into(), sensitive_classes: vec![String::new(); 100], ..Default::default() };
        let bad = one(HttpEvent { request_body_fields: vec![field], ..good() });
        assert!(matches!(validate_batch(&bad, 10), Err((1, BatchError::TooManyEntries { count: 100, .. }))));
    }

    #[test]
    fn long_strings_are_refused() {
        let bad = one(HttpEvent { path: "/a".repeat(MAX_STRING_BYTES), ..good() });
        assert!(matches!(validate_batch(&bad, 10), Err((1, BatchError::FieldTooLong { index: 0, tag: 7, .. }))));
        let fine = one(HttpEvent { path: "/a".repeat(1000), ..good() });
        assert!(validate_batch(&fine, 10).is_ok());
    }

    /// What the writer's decode would refuse is refused before the ack, not skipped after it.
    #[test]
    fn what_the_writer_cannot_decode_is_rejected() {
        let mut path = one(HttpEvent { path: "/ok-path".into(), ..good() });
        let at = path.windows(8).position(|w| w == b"/ok-path").expect("path on the wire");
        path[at + 3] = 0xff;
        assert!(EventBatch::decode(path.as_slice()).is_err(), "invalid UTF-8 is what the writer refuses");
        assert!(matches!(validate_batch(&path, 10), Err((1, BatchError::Malformed(_)))));

        let source = EventBatch { seq: 3, source_id: "src-ok".into(), events: vec![good()], ..Default::default() };
        let mut bytes = encode(&source);
        let at = bytes.windows(6).position(|w| w == b"src-ok").expect("source id on the wire");
        bytes[at] = 0xc0;
        assert!(matches!(validate_batch(&bytes, 10), Err((3, BatchError::Malformed(_)))));

        // status (tag 12) sent as a length-delimited field instead of a varint
        let mut event = good().encode_to_vec();
        event.extend_from_slice(&[(12 << 3) | 2, 1, b'x']);
        let mut wrong_type = vec![0x08, 0x04, (BATCH_EVENTS_TAG << 3) as u8 | 2, event.len() as u8];
        wrong_type.extend_from_slice(&event);
        assert!(matches!(validate_batch(&wrong_type, 10), Err((4, BatchError::Malformed(_)))));
    }
}
