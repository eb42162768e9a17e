//! What makes a batch acceptable. A batch is acknowledged only if the writer will be able to
//! store every event of it, so ingest checks what the writer's `EventBatch::decode` needs, and
//! bounds what the batch expands into, in one walk over the wire format that allocates nothing
//! (decoding the batch at ingest too doubled the collector's CPU per event):
//!
//! - the wire format against `meshward.proto` itself (its descriptor, compiled in by
//!   `meshward-proto`): every known field with the wire type the proto gives it, UTF-8 in every
//!   string, nested messages likewise, unknown fields skipped as any decoder skips them. A test
//!   checks on mutated batches that what this accepts, `EventBatch::decode` accepts;
//! - bounds: entries per repeated field of an event, entries per batch, bytes per string inside
//!   an event. A repeated field costs three bytes on the wire per entry and a row of several
//!   array columns in ClickHouse; an event with a few hundred thousand of them once passed the
//!   checks and failed every INSERT after it ("Memory limit (for query) exceeded"), which stopped
//!   ingest for the whole mesh;
//! - values: a sequence number, 16-byte event ids, statuses up to 999, the event count.
//!
//! The bounds sit well above anything a filter sends with any configuration it accepts (its
//! body-field and finding limits, Envoy's header limits); they exist to refuse what no filter
//! sends.

use prost::encoding::{decode_key, decode_varint, skip_field, DecodeContext, WireType};
use prost::Message;
use prost_types::field_descriptor_proto::{Label, Type};
use std::sync::OnceLock;

/// How many entries one message may hold of a repeated field, by `Message.field`; the fields
/// not named here may hold `DEFAULT_MAX_ENTRIES`. `EventBatch.events` is bounded by
/// `ingest.max_batch_events`.
const MAX_ENTRIES: [(&str, usize); 11] = [
    ("HttpEvent.query_params", 1024),
    ("HttpEvent.request_headers", 1024),
    ("HttpEvent.response_headers", 1024),
    ("HttpEvent.forwarded_for", 128),
    ("HttpEvent.request_body_fields", 8192),
    ("HttpEvent.response_body_fields", 8192),
    ("HttpEvent.sensitive", 4096),
    ("HttpEvent.attacks", 4096),
    ("HttpEvent.rate_limited_rules", 1024),
    // the filter keeps 16 (core::operation)
    ("HttpEvent.operation_fields", 64),
    ("BodyField.sensitive_classes", 64),
];
const DEFAULT_MAX_ENTRIES: usize = 1024;
/// Entries of repeated fields one batch may hold in all (a filter's batch of 500 rich events
/// holds some tens of thousands).
pub const MAX_BATCH_ENTRIES: usize = 1 << 18;
/// Longest string, bytes or nested message inside an event (a path, a header value, a finding).
pub const MAX_STRING_BYTES: usize = 256 << 10;
/// Repeated fields one message of the proto may have (checked when the schema is read): the
/// walk counts their entries in a small array.
const MAX_REPEATED: usize = 16;
/// Nesting deeper than this is refused (prost's decoder refuses past 100).
const MAX_DEPTH: u32 = 32;

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
    BadStatus { index: usize, status: u64 },
    #[error("event {index} holds {count} `{field}` entries, more than the {max} one message may hold")]
    TooManyEntries { index: usize, field: String, count: usize, max: usize },
    #[error("batch holds more than {MAX_BATCH_ENTRIES} entries of repeated fields in all; send smaller batches")]
    BatchTooRich,
    #[error("event {index} holds a {len}-byte `{field}`, longer than the {MAX_STRING_BYTES} bytes allowed")]
    FieldTooLong { index: usize, field: String, len: usize },
}

/// A batch that passed: what the ack and the metrics need.
#[derive(Debug, PartialEq, Eq)]
pub struct Accepted {
    pub seq: u64,
    pub events: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Varint,
    Fixed64,
    Fixed32,
    Str,
    Bytes,
    /// index into `Schema::messages`
    Message(usize),
}

impl Kind {
    fn wire_type(self) -> WireType {
        match self {
            Kind::Varint => WireType::Varint,
            Kind::Fixed64 => WireType::SixtyFourBit,
            Kind::Fixed32 => WireType::ThirtyTwoBit,
            Kind::Str | Kind::Bytes | Kind::Message(_) => WireType::LengthDelimited,
        }
    }
}

#[derive(Debug, Clone)]
struct FieldSpec {
    /// `Message.field`, for errors
    name: String,
    kind: Kind,
    repeated: bool,
    /// where its entries are counted, for a repeated field
    count_slot: usize,
    max_entries: usize,
}

#[derive(Debug, Default)]
struct MessageSpec {
    /// by tag
    fields: Vec<Option<FieldSpec>>,
}

impl MessageSpec {
    fn field(&self, tag: u32) -> Option<&FieldSpec> {
        self.fields.get(tag as usize).and_then(Option::as_ref)
    }
}

/// `meshward.proto` as the walk needs it.
#[derive(Debug)]
struct Schema {
    messages: Vec<MessageSpec>,
    batch: usize,
    event: usize,
    batch_seq: u32,
    batch_events: u32,
    event_id: u32,
    event_status: u32,
}

fn schema() -> Result<&'static Schema, BatchError> {
    static SCHEMA: OnceLock<Result<Schema, String>> = OnceLock::new();
    SCHEMA
        .get_or_init(|| Schema::from_descriptor(meshward_proto::FILE_DESCRIPTOR_SET))
        .as_ref()
        .map_err(|e| BatchError::Malformed(format!("the collector cannot read its own proto descriptor: {e}")))
}

impl Schema {
    fn from_descriptor(bytes: &[u8]) -> Result<Schema, String> {
        let set = prost_types::FileDescriptorSet::decode(bytes).map_err(|e| e.to_string())?;
        let file = set.file.iter().find(|f| f.package() == "meshward.v1").ok_or("no meshward.v1 package")?;
        let names: Vec<&str> = file.message_type.iter().map(|m| m.name()).collect();
        let index = |name: &str| names.iter().position(|n| *n == name);
        let mut messages = Vec::new();
        for message in &file.message_type {
            let mut spec = MessageSpec::default();
            for field in &message.field {
                let tag = usize::try_from(field.number()).map_err(|_| "a negative field number")?;
                let kind = match field.r#type() {
                    Type::Double | Type::Fixed64 | Type::Sfixed64 => Kind::Fixed64,
                    Type::Float | Type::Fixed32 | Type::Sfixed32 => Kind::Fixed32,
                    Type::Int64 | Type::Uint64 | Type::Int32 | Type::Uint32 | Type::Bool | Type::Enum => Kind::Varint,
                    Type::Sint32 | Type::Sint64 => Kind::Varint,
                    Type::String => Kind::Str,
                    Type::Bytes => Kind::Bytes,
                    Type::Message => {
                        let name = field.type_name().rsplit('.').next().unwrap_or_default();
                        Kind::Message(index(name).ok_or_else(|| format!("unknown message type {}", field.type_name()))?)
                    }
                    Type::Group => return Err(format!("{}.{} is a group", message.name(), field.name())),
                };
                let name = format!("{}.{}", message.name(), field.name());
                let max_entries =
                    MAX_ENTRIES.iter().find(|(n, _)| *n == name).map_or(DEFAULT_MAX_ENTRIES, |(_, max)| *max);
                if spec.fields.len() <= tag {
                    spec.fields.resize(tag + 1, None);
                }
                let repeated = field.label() == Label::Repeated;
                let count_slot = spec.fields.iter().flatten().filter(|f| f.repeated).count();
                if repeated && count_slot >= MAX_REPEATED {
                    return Err(format!("{} has more than {MAX_REPEATED} repeated fields", message.name()));
                }
                spec.fields[tag] = Some(FieldSpec { name, kind, repeated, count_slot, max_entries });
            }
            messages.push(spec);
        }
        let tag_of = |message: usize, field: &str| -> Result<u32, String> {
            let spec = &messages[message];
            let slot = spec
                .fields
                .iter()
                .position(|f| f.as_ref().is_some_and(|f| f.name.ends_with(&format!(".{field}"))))
                .ok_or_else(|| format!("no field {field}"))?;
            u32::try_from(slot).map_err(|e| e.to_string())
        };
        let batch = index("EventBatch").ok_or("no EventBatch")?;
        let event = index("HttpEvent").ok_or("no HttpEvent")?;
        Ok(Schema {
            batch_seq: tag_of(batch, "seq")?,
            batch_events: tag_of(batch, "events")?,
            event_id: tag_of(event, "event_id")?,
            event_status: tag_of(event, "status")?,
            messages,
            batch,
            event,
        })
    }
}

/// Checks an encoded batch; returns its sequence number and event count, or the sequence
/// number (0 if unreadable) and what is wrong.
pub fn validate_batch(bytes: &[u8], max_events: usize) -> Result<Accepted, (u64, BatchError)> {
    let schema = schema().map_err(|e| (0, e))?;
    let mut walk = Walk { schema, entries: 0, seq: 0, events: 0, event_id_len: 0, status: 0 };
    let outcome = walk.message(schema.batch, bytes, 0, None);
    let seq = walk.seq;
    outcome.map_err(|e| (seq, e))?;
    if seq == 0 {
        return Err((0, BatchError::NoSequence));
    }
    if walk.events > max_events {
        return Err((seq, BatchError::TooManyEvents(walk.events, max_events)));
    }
    Ok(Accepted { seq, events: walk.events })
}

struct Walk<'s> {
    schema: &'s Schema,
    /// entries of repeated fields so far
    entries: usize,
    seq: u64,
    events: usize,
    /// of the event being walked
    event_id_len: usize,
    status: u64,
}

fn malformed(e: impl std::fmt::Display) -> BatchError {
    BatchError::Malformed(e.to_string())
}

fn take<'a>(buf: &mut &'a [u8], len: usize) -> Result<&'a [u8], BatchError> {
    if buf.len() < len {
        return Err(malformed(format!("a field claims {len} bytes, {} are left", buf.len())));
    }
    let (value, rest) = buf.split_at(len);
    *buf = rest;
    Ok(value)
}

fn length_delimited<'a>(buf: &mut &'a [u8]) -> Result<&'a [u8], BatchError> {
    let len = decode_varint(buf).map_err(malformed)?;
    take(buf, usize::try_from(len).map_err(malformed)?)
}

impl Walk<'_> {
    /// Walks one message; `event` is the index of the event it is in (None: the batch).
    fn message(&mut self, spec: usize, mut buf: &[u8], depth: u32, event: Option<usize>) -> Result<(), BatchError> {
        if depth > MAX_DEPTH {
            return Err(malformed("messages nested too deep"));
        }
        let message = &self.schema.messages[spec];
        let mut counts = [0usize; MAX_REPEATED];
        let whole = buf;
        while !buf.is_empty() {
            let (tag, wire_type) = decode_key(&mut buf).map_err(malformed)?;
            let Some(field) = message.field(tag) else {
                skip_field(wire_type, tag, &mut buf, DecodeContext::default()).map_err(malformed)?;
                continue;
            };
            let packed =
                field.repeated && wire_type == WireType::LengthDelimited && field.kind.wire_type() != wire_type;
            if wire_type != field.kind.wire_type() && !packed {
                return Err(malformed(format!(
                    "`{}` (field {tag}) is sent as {wire_type:?}, the proto says {:?}",
                    field.name,
                    field.kind.wire_type()
                )));
            }
            let mut entries = 1;
            if packed {
                entries = self.packed(field.kind, length_delimited(&mut buf)?)?;
            } else {
                match field.kind {
                    Kind::Varint => {
                        let value = decode_varint(&mut buf).map_err(malformed)?;
                        if spec == self.schema.batch && tag == self.schema.batch_seq {
                            self.seq = value;
                        } else if spec == self.schema.event && tag == self.schema.event_status {
                            self.status = value;
                        }
                    }
                    Kind::Fixed64 => drop(take(&mut buf, 8)?),
                    Kind::Fixed32 => drop(take(&mut buf, 4)?),
                    Kind::Str | Kind::Bytes | Kind::Message(_) => {
                        let value = length_delimited(&mut buf)?;
                        if let Some(index) = event {
                            if value.len() > MAX_STRING_BYTES {
                                return Err(BatchError::FieldTooLong {
                                    index,
                                    field: field.name.clone(),
                                    len: value.len(),
                                });
                            }
                        }
                        match field.kind {
                            Kind::Str => drop(
                                std::str::from_utf8(value)
                                    .map_err(|e| malformed(format!("`{}` is not UTF-8: {e}", field.name)))?,
                            ),
                            Kind::Bytes if spec == self.schema.event && tag == self.schema.event_id => {
                                self.event_id_len = value.len();
                            }
                            Kind::Message(inner) if spec == self.schema.batch && tag == self.schema.batch_events => {
                                self.event(inner, value, depth)?;
                            }
                            Kind::Message(inner) => self.message(inner, value, depth + 1, event)?,
                            _ => {}
                        }
                    }
                }
            }
            if field.repeated && !(spec == self.schema.batch && tag == self.schema.batch_events) {
                let count = &mut counts[field.count_slot];
                *count += entries;
                self.entries += entries;
                if *count > field.max_entries {
                    let count = count_entries(whole, tag);
                    let index = event.unwrap_or(0);
                    return Err(BatchError::TooManyEntries {
                        index,
                        field: field.name.clone(),
                        count,
                        max: field.max_entries,
                    });
                }
                if self.entries > MAX_BATCH_ENTRIES {
                    return Err(BatchError::BatchTooRich);
                }
            }
        }
        Ok(())
    }

    /// One event of the batch, with its value checks.
    fn event(&mut self, spec: usize, bytes: &[u8], depth: u32) -> Result<(), BatchError> {
        let index = self.events;
        self.events += 1;
        (self.event_id_len, self.status) = (0, 0);
        self.message(spec, bytes, depth + 1, Some(index))?;
        if self.event_id_len != 16 {
            return Err(BatchError::BadEventId { index, len: self.event_id_len });
        }
        if self.status > 999 {
            return Err(BatchError::BadStatus { index, status: self.status });
        }
        Ok(())
    }

    /// A packed repeated scalar: its values, counted.
    fn packed(&self, kind: Kind, mut values: &[u8]) -> Result<usize, BatchError> {
        let mut n = 0;
        while !values.is_empty() {
            match kind {
                Kind::Varint => drop(decode_varint(&mut values).map_err(malformed)?),
                Kind::Fixed64 => drop(take(&mut values, 8)?),
                Kind::Fixed32 => drop(take(&mut values, 4)?),
                _ => return Err(malformed("only scalars are packed")),
            }
            n += 1;
        }
        Ok(n)
    }
}

/// How many times `tag` occurs in a message (for the error that says how many there are).
fn count_entries(mut buf: &[u8], wanted: u32) -> usize {
    let mut n = 0;
    while let Ok((tag, wire_type)) = decode_key(&mut buf) {
        n += usize::from(tag == wanted);
        if skip_field(wire_type, tag, &mut buf, DecodeContext::default()).is_err() {
            break;
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use meshward_proto::{AttackFinding, BodyField, EventBatch, Header, HttpEvent, SensitiveFinding};
    use proptest::prelude::*;

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
    fn the_schema_comes_from_the_proto_and_bounds_every_repeated_field_of_an_event() {
        let schema = schema().expect("the descriptor reads");
        let event = &schema.messages[schema.event];
        let repeated: Vec<&str> =
            event.fields.iter().flatten().filter(|f| f.repeated).map(|f| f.name.as_str()).collect();
        assert_eq!(repeated.len(), 10, "{repeated:?}");
        for name in repeated {
            assert!(MAX_ENTRIES.iter().any(|(n, _)| *n == name), "{name} needs a bound of its own in MAX_ENTRIES");
        }
        assert_eq!((schema.batch_seq, schema.batch_events, schema.event_id, schema.event_status), (1, 3, 1, 12));
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
        let bad = one(HttpEvent { event_id: Vec::new(), ..good() });
        assert_eq!(validate_batch(&bad, 10), Err((1, BatchError::BadEventId { index: 0, len: 0 })));
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
            Err((1, BatchError::TooManyEntries { index: 0, field, count: 300_000, max }))
                if field == "HttpEvent.sensitive" && max < 300_000 => {}
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
        match validate_batch(&bad, 10) {
            Err((1, BatchError::FieldTooLong { index: 0, field, .. })) if field == "HttpEvent.path" => {}
            other => panic!("{other:?}"),
        }
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
        let mut wrong_type = vec![0x08, 0x04, (3 << 3) | 2, event.len() as u8];
        wrong_type.extend_from_slice(&event);
        assert!(EventBatch::decode(wrong_type.as_slice()).is_err());
        assert!(matches!(validate_batch(&wrong_type, 10), Err((4, BatchError::Malformed(_)))));

        // unknown fields are skipped, as the writer's decoder skips them
        let mut unknown = one(good());
        unknown.extend_from_slice(&[(15 << 3) | 2, 2, 0xff, 0xfe]);
        assert!(EventBatch::decode(unknown.as_slice()).is_ok());
        assert!(validate_batch(&unknown, 10).is_ok());
    }

    fn event_strategy() -> impl Strategy<Value = HttpEvent> {
        let text = "[a-z/{}é]{0,12}";
        (text, text, proptest::collection::vec(text, 0..3), 0u32..1000, any::<u64>(), any::<f32>()).prop_map(
            |(path, class, params, status, shape, weight)| HttpEvent {
                path,
                query_params: params,
                status,
                request_body_shape: shape,
                inspection_weight: weight,
                request_headers: vec![Header { name: "a".into(), value: Some(class.clone()) }],
                sensitive: vec![SensitiveFinding { class, count: 2, ..Default::default() }],
                request_body_fields: vec![BodyField {
                    path: "$.x".into(),
                    r#type: "string".into(),
                    ..Default::default()
                }],
                ..good()
            },
        )
    }

    proptest! {
        /// On batches damaged anywhere (bytes changed, cut, inserted), whatever the walk
        /// accepts the writer's decoder decodes, so nothing acknowledged is skipped later; and
        /// undamaged batches are accepted.
        #[test]
        fn what_the_walk_accepts_the_writer_decodes(
            events in proptest::collection::vec(event_strategy(), 1..4),
            edits in proptest::collection::vec((any::<proptest::sample::Index>(), any::<u8>(), 0u8..3), 0..4),
        ) {
            let batch = EventBatch { seq: 9, source_id: "src".into(), events, ..Default::default() };
            let mut bytes = encode(&batch);
            prop_assert!(validate_batch(&bytes, 100).is_ok());
            for (at, byte, how) in edits {
                let i = at.index(bytes.len());
                match how {
                    0 => bytes[i] = byte,
                    1 => bytes.truncate(i),
                    _ => bytes.insert(i, byte),
                }
                if bytes.is_empty() {
                    break;
                }
            }
            if validate_batch(&bytes, 100).is_ok() {
                prop_assert!(EventBatch::decode(bytes.as_slice()).is_ok(), "accepted but undecodable: {:?}", bytes);
            }
        }
    }
}
