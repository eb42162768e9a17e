//! The `HttpEvent` wire format, written straight from borrowed data: no message struct of owned
//! strings is built and dropped per exchange. Field numbers are `meshward.proto`'s; the tests
//! decode what this writes with the generated types (`meshward-proto`), so the two cannot drift.

use crate::detect::{Direction, Finding, Kind};

/// Protobuf wire types.
#[derive(Clone, Copy)]
enum WireType {
    Varint = 0,
    SixtyFourBit = 1,
    LengthDelimited = 2,
    ThirtyTwoBit = 5,
}

/// A varint; most of what an event holds (keys, lengths, small numbers) takes one byte, which
/// is the first test. Written here rather than through prost's generic encoder, which cost a
/// quarter of a metadata-only exchange.
#[inline]
fn encode_varint(mut value: u64, buf: &mut Vec<u8>) {
    if value < 0x80 {
        buf.push(value as u8);
        return;
    }
    while value >= 0x80 {
        buf.push((value as u8) | 0x80);
        value >>= 7;
    }
    buf.push(value as u8);
}

#[inline]
fn encode_key(tag: u32, wire: WireType, buf: &mut Vec<u8>) {
    encode_varint(u64::from(tag << 3 | wire as u32), buf);
}

#[inline]
fn encoded_len_varint(value: u64) -> usize {
    // one byte per started group of seven bits
    (64 - (value | 1).leading_zeros() as usize).div_ceil(7)
}

/// `HttpEvent` field numbers.
pub mod tag {
    pub const EVENT_ID: u32 = 1;
    pub const START_TIME_MS: u32 = 2;
    pub const DURATION_US: u32 = 3;
    pub const METHOD: u32 = 4;
    pub const SCHEME: u32 = 5;
    pub const AUTHORITY: u32 = 6;
    pub const PATH: u32 = 7;
    pub const PATH_TEMPLATE: u32 = 8;
    pub const QUERY_PARAMS: u32 = 9;
    pub const REQUEST_HEADERS: u32 = 10;
    pub const RESPONSE_HEADERS: u32 = 11;
    pub const STATUS: u32 = 12;
    pub const REQUEST_BODY_BYTES: u32 = 13;
    pub const RESPONSE_BODY_BYTES: u32 = 14;
    pub const REQUEST_TOTAL_BYTES: u32 = 15;
    pub const RESPONSE_TOTAL_BYTES: u32 = 16;
    pub const SOURCE_ADDRESS: u32 = 17;
    pub const FORWARDED_FOR: u32 = 18;
    pub const PEER_PRINCIPAL: u32 = 19;
    pub const WORKLOAD: u32 = 20;
    pub const NAMESPACE: u32 = 21;
    pub const REQUEST_ID: u32 = 22;
    pub const CALLER_ID: u32 = 23;
    pub const CALLER_ID_SOURCE: u32 = 24;
    pub const REQUEST_BODY_FIELDS: u32 = 25;
    pub const RESPONSE_BODY_FIELDS: u32 = 26;
    pub const REQUEST_BODY_TRUNCATED: u32 = 27;
    pub const RESPONSE_BODY_TRUNCATED: u32 = 28;
    pub const REQUEST_CONTENT_TYPE: u32 = 29;
    pub const RESPONSE_CONTENT_TYPE: u32 = 30;
    pub const SENSITIVE: u32 = 32;
    pub const ATTACKS: u32 = 33;
    pub const VERDICT: u32 = 34;
    pub const BLOCK_RULE_ID: u32 = 35;
    pub const CLIENT_IP: u32 = 36;
    pub const RATE_LIMITED_RULES: u32 = 37;
    pub const REQUEST_BODY_SHAPE: u32 = 38;
    pub const RESPONSE_BODY_SHAPE: u32 = 39;
    pub const INSPECTION: u32 = 40;
    pub const INSPECTION_WEIGHT: u32 = 41;
    pub const OPERATION: u32 = 42;
    pub const OPERATION_FIELDS: u32 = 43;
}

/// `Inspection` enum values.
pub const INSPECTION_DEEP: u64 = 1;
pub const INSPECTION_METADATA: u64 = 2;

fn key_len(tag: u32) -> usize {
    encoded_len_varint(u64::from(tag << 3))
}

fn str_len(tag: u32, value: &[u8]) -> usize {
    key_len(tag) + encoded_len_varint(value.len() as u64) + value.len()
}

/// A string (or bytes) field; empty values are left out, as proto3 does.
pub fn put_str(buf: &mut Vec<u8>, tag: u32, value: &str) {
    put_bytes(buf, tag, value.as_bytes());
}

pub fn put_bytes(buf: &mut Vec<u8>, tag: u32, value: &[u8]) {
    if !value.is_empty() {
        put_len_delimited(buf, tag, value);
    }
}

/// An element of a repeated string: written even when empty.
pub fn put_repeated_str(buf: &mut Vec<u8>, tag: u32, value: &str) {
    put_len_delimited(buf, tag, value.as_bytes());
}

fn put_len_delimited(buf: &mut Vec<u8>, tag: u32, value: &[u8]) {
    buf.reserve(value.len() + 6);
    encode_key(tag, WireType::LengthDelimited, buf);
    encode_varint(value.len() as u64, buf);
    buf.extend_from_slice(value);
}

pub fn put_u64(buf: &mut Vec<u8>, tag: u32, value: u64) {
    if value != 0 {
        encode_key(tag, WireType::Varint, buf);
        encode_varint(value, buf);
    }
}

pub fn put_bool(buf: &mut Vec<u8>, tag: u32, value: bool) {
    put_u64(buf, tag, u64::from(value));
}

pub fn put_fixed64(buf: &mut Vec<u8>, tag: u32, value: u64) {
    if value != 0 {
        encode_key(tag, WireType::SixtyFourBit, buf);
        buf.extend_from_slice(&value.to_le_bytes());
    }
}

pub fn put_f32(buf: &mut Vec<u8>, tag: u32, value: f32) {
    if value != 0.0 {
        encode_key(tag, WireType::ThirtyTwoBit, buf);
        buf.extend_from_slice(&value.to_le_bytes());
    }
}

/// A `Header { name, value }`; the value only for allow-listed names (`Some`), as a lossy
/// UTF-8 string since proto strings must be UTF-8.
pub fn put_header(buf: &mut Vec<u8>, tag: u32, name: &str, value: Option<&[u8]>) {
    let Some(value) = value else {
        // a name alone: the common case, in one length computation
        encode_key(tag, WireType::LengthDelimited, buf);
        encode_varint(str_len(1, name.as_bytes()) as u64, buf);
        put_str(buf, 1, name);
        return;
    };
    let value = Some(String::from_utf8_lossy(value));
    let mut len = str_len(1, name.as_bytes());
    if let Some(v) = value.as_deref() {
        // an optional field is written even when empty: presence is the point
        len += str_len(2, v.as_bytes());
    }
    encode_key(tag, WireType::LengthDelimited, buf);
    encode_varint(len as u64, buf);
    put_str(buf, 1, name);
    if let Some(v) = value.as_deref() {
        put_len_delimited(buf, 2, v.as_bytes());
    }
}

/// A `BodyField { path, type }` (sensitive classes are the collector's to derive).
pub fn put_body_field(buf: &mut Vec<u8>, tag: u32, path: &str, field_type: &str) {
    let len = str_len(1, path.as_bytes()) + str_len(2, field_type.as_bytes());
    encode_key(tag, WireType::LengthDelimited, buf);
    encode_varint(len as u64, buf);
    put_str(buf, 1, path);
    put_str(buf, 2, field_type);
}

fn direction_value(direction: Direction) -> u64 {
    match direction {
        Direction::Request => 1,
        Direction::Response => 2,
    }
}

fn varint_len(tag: u32, value: u64) -> usize {
    if value == 0 {
        0
    } else {
        key_len(tag) + encoded_len_varint(value)
    }
}

fn opt_str_len(tag: u32, value: &str) -> usize {
    if value.is_empty() {
        0
    } else {
        str_len(tag, value.as_bytes())
    }
}

/// A `SensitiveFinding` or `AttackFinding`, by the finding's kind.
pub fn put_finding(buf: &mut Vec<u8>, finding: &Finding) {
    let direction = direction_value(finding.direction);
    let part = finding.part.as_str();
    match finding.kind {
        Kind::Sensitive => {
            let confidence_len = if finding.confidence != 0.0 { key_len(5) + 4 } else { 0 };
            let sample_len = finding.masked_sample.as_deref().map_or(0, |s| str_len(6, s.as_bytes()));
            let len = opt_str_len(1, &finding.class)
                + varint_len(2, direction)
                + opt_str_len(3, part)
                + opt_str_len(4, &finding.field)
                + confidence_len
                + sample_len
                + varint_len(7, u64::from(finding.count));
            encode_key(tag::SENSITIVE, WireType::LengthDelimited, buf);
            encode_varint(len as u64, buf);
            put_str(buf, 1, &finding.class);
            put_u64(buf, 2, direction);
            put_str(buf, 3, part);
            put_str(buf, 4, &finding.field);
            put_f32(buf, 5, finding.confidence);
            if let Some(sample) = finding.masked_sample.as_deref() {
                put_len_delimited(buf, 6, sample.as_bytes());
            }
            put_u64(buf, 7, u64::from(finding.count));
        }
        Kind::Attack => {
            let len = opt_str_len(1, &finding.class)
                + varint_len(2, direction)
                + opt_str_len(3, part)
                + opt_str_len(4, &finding.field)
                + opt_str_len(5, finding.reason)
                + varint_len(6, u64::from(finding.severity));
            encode_key(tag::ATTACKS, WireType::LengthDelimited, buf);
            encode_varint(len as u64, buf);
            put_str(buf, 1, &finding.class);
            put_u64(buf, 2, direction);
            put_str(buf, 3, part);
            put_str(buf, 4, &finding.field);
            put_str(buf, 5, finding.reason);
            put_u64(buf, 6, u64::from(finding.severity));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_as_protobuf_writes_them() {
        for value in [0u64, 1, 127, 128, 300, 16_383, 16_384, u32::MAX as u64, u64::MAX] {
            let mut ours = Vec::new();
            encode_varint(value, &mut ours);
            let mut theirs = Vec::new();
            prost::encoding::encode_varint(value, &mut theirs);
            assert_eq!(ours, theirs, "{value}");
            assert_eq!(encoded_len_varint(value), theirs.len(), "{value}");
        }
    }
}
