//! `HttpEvent` (wire) -> `EventRow` (ClickHouse). Field order and names are the table's.

use clickhouse::Row;
use meshward_proto::HttpEvent;
use serde::Serialize;

pub const EVENTS_TABLE: &str = "http_events";

#[derive(Debug, Row, Serialize)]
pub struct EventRow {
    pub event_id: [u8; 16],
    pub ts_ms: u64,
    pub ts: u32,
    pub reported_ts_ms: u64,
    pub duration_us: u64,
    pub method: String,
    pub scheme: String,
    pub authority: String,
    pub path: String,
    pub path_template: String,
    pub query_params: Vec<String>,
    #[serde(rename = "request_headers.name")]
    pub request_header_names: Vec<String>,
    #[serde(rename = "request_headers.value")]
    pub request_header_values: Vec<String>,
    #[serde(rename = "response_headers.name")]
    pub response_header_names: Vec<String>,
    #[serde(rename = "response_headers.value")]
    pub response_header_values: Vec<String>,
    pub status: u16,
    pub request_body_bytes: u64,
    pub response_body_bytes: u64,
    pub request_total_bytes: u64,
    pub response_total_bytes: u64,
    pub source_address: String,
    pub source_ip: String,
    pub forwarded_for: Vec<String>,
    pub client_ip: String,
    pub peer_principal: String,
    pub workload: String,
    pub namespace: String,
    pub request_id: String,
    pub caller_id: String,
    pub caller_id_source: String,
    #[serde(rename = "request_body_fields.path")]
    pub request_field_paths: Vec<String>,
    #[serde(rename = "request_body_fields.type")]
    pub request_field_types: Vec<String>,
    #[serde(rename = "request_body_fields.sensitive")]
    pub request_field_sensitive: Vec<Vec<String>>,
    #[serde(rename = "response_body_fields.path")]
    pub response_field_paths: Vec<String>,
    #[serde(rename = "response_body_fields.type")]
    pub response_field_types: Vec<String>,
    #[serde(rename = "response_body_fields.sensitive")]
    pub response_field_sensitive: Vec<Vec<String>>,
    pub request_body_truncated: u8,
    pub response_body_truncated: u8,
    pub request_content_type: String,
    pub response_content_type: String,
    #[serde(rename = "sensitive.class")]
    pub sensitive_class: Vec<String>,
    #[serde(rename = "sensitive.direction")]
    pub sensitive_direction: Vec<u8>,
    #[serde(rename = "sensitive.part")]
    pub sensitive_part: Vec<String>,
    #[serde(rename = "sensitive.location")]
    pub sensitive_location: Vec<String>,
    #[serde(rename = "sensitive.confidence")]
    pub sensitive_confidence: Vec<f32>,
    #[serde(rename = "sensitive.sample")]
    pub sensitive_sample: Vec<String>,
    #[serde(rename = "sensitive.count")]
    pub sensitive_count: Vec<u32>,
    #[serde(rename = "attacks.class")]
    pub attack_class: Vec<String>,
    #[serde(rename = "attacks.direction")]
    pub attack_direction: Vec<u8>,
    #[serde(rename = "attacks.part")]
    pub attack_part: Vec<String>,
    #[serde(rename = "attacks.location")]
    pub attack_location: Vec<String>,
    #[serde(rename = "attacks.reason")]
    pub attack_reason: Vec<String>,
    #[serde(rename = "attacks.severity")]
    pub attack_severity: Vec<u8>,
    pub verdict: u8,
    pub block_rule_id: String,
    pub rate_limited_rules: Vec<String>,
    /// 1 when the bodies were read and scanned (every event of a filter that predates the
    /// inspection budget), 0 for metadata only
    pub inspected: u8,
    /// what this event's body data stands for when body figures are summed: 1/p for a
    /// sampled exchange, 1 for events of older filters, 0 for metadata only
    pub inspection_weight: f32,
    pub request_body_shape: u64,
    pub response_body_shape: u64,
    pub source_id: String,
    pub batch_seq: u64,
    pub received_ms: u64,
    /// the operation a GraphQL or JSON-RPC request body names (`query GetUser`)
    pub operation: String,
    pub operation_fields: Vec<String>,
}

/// The peer's address as text, parsed as the filter parses it (`10.0.0.1:5555` -> `10.0.0.1`,
/// `[::1]:80` -> `::1`); empty when it is not an address.
fn ip_of(address: &str) -> String {
    meshward_core::blocklist::peer_ip(address).map(|ip| ip.to_string()).unwrap_or_default()
}

fn small(v: u32) -> u8 {
    u8::try_from(v).unwrap_or(u8::MAX)
}

/// The nested `*_body_fields` columns: paths, types and sensitive classes per field.
type BodyColumns = (Vec<String>, Vec<String>, Vec<Vec<String>>);

/// The body columns of one direction; each field's sensitive classes are those of the event's
/// body findings at its path (filters before the inspection budget sent them with the field).
fn body_columns(
    fields: Vec<meshward_proto::BodyField>,
    direction: meshward_proto::Direction,
    sensitive: &[meshward_proto::SensitiveFinding],
) -> BodyColumns {
    let mut columns: BodyColumns = (Vec::with_capacity(fields.len()), Vec::with_capacity(fields.len()), Vec::new());
    for field in fields {
        let mut classes = field.sensitive_classes;
        for finding in sensitive {
            let here =
                finding.direction == direction as i32 && finding.part == "body" && finding.location == field.path;
            if here && !classes.contains(&finding.class) {
                classes.push(finding.class.clone());
            }
        }
        columns.0.push(field.path);
        columns.1.push(field.r#type);
        columns.2.push(classes);
    }
    columns
}

/// `inspected` and `inspection_weight` from the event's inspection.
fn inspection(event: &HttpEvent) -> (u8, f32) {
    match meshward_proto::Inspection::try_from(event.inspection) {
        Ok(meshward_proto::Inspection::Deep) => (1, event.inspection_weight.max(1.0)),
        Ok(meshward_proto::Inspection::Metadata) => (0, 0.0),
        // a filter from before the budget inspected every exchange
        _ => (1, 1.0),
    }
}

/// What a filter VM reported with one batch: its loss counters so far (they only grow while the
/// VM lives), so the pipeline's own losses are queryable next to the events.
#[derive(Debug, Row, Serialize)]
pub struct FilterReportRow {
    pub source_id: String,
    pub batch_seq: u64,
    pub received_ms: u64,
    pub events: u32,
    pub dropped_buffer_full: u64,
    pub dropped_too_large: u64,
}

pub const FILTER_REPORTS_TABLE: &str = "filter_reports";

/// How long before its batch arrived an event may have started: a filter holds events for
/// minutes at most (its buffers are bounded), so anything older is a clock that is off.
pub const MAX_EVENT_AGE_MS: u64 = 7 * 86_400_000;
/// How far after its batch arrived an event may claim to have started (clock skew).
pub const MAX_EVENT_LEAD_MS: u64 = 10 * 60_000;

/// The time an event is stored and partitioned at: the reported start, or the batch's arrival
/// when the start lies outside the window a filter can produce. A start of 0 (or years off)
/// would put an acknowledged event into a partition retention drops, and an INSERT touching
/// more than 100 daily partitions fails outright. `received_ms` 0 (analyze, no arrival) keeps
/// the reported time.
pub fn event_time(reported_ms: u64, received_ms: u64) -> u64 {
    let window = received_ms.saturating_sub(MAX_EVENT_AGE_MS)..=received_ms.saturating_add(MAX_EVENT_LEAD_MS);
    if received_ms == 0 || window.contains(&reported_ms) {
        reported_ms
    } else {
        received_ms
    }
}

/// Converts one event; returns `None` for an event without a valid 16-byte id.
pub fn event_row(event: HttpEvent, source_id: &str, batch_seq: u64, received_ms: u64) -> Option<EventRow> {
    let event_id: [u8; 16] = event.event_id.as_slice().try_into().ok()?;
    let (request_body_shape, response_body_shape) = (event.request_body_shape, event.response_body_shape);
    let (inspected, inspection_weight) = inspection(&event);
    let (request_header_names, request_header_values) =
        event.request_headers.into_iter().map(|h| (h.name, h.value.unwrap_or_default())).unzip();
    let (response_header_names, response_header_values) =
        event.response_headers.into_iter().map(|h| (h.name, h.value.unwrap_or_default())).unzip();
    let (request_field_paths, request_field_types, request_field_sensitive) =
        body_columns(event.request_body_fields, meshward_proto::Direction::Request, &event.sensitive);
    let (response_field_paths, response_field_types, response_field_sensitive) =
        body_columns(event.response_body_fields, meshward_proto::Direction::Response, &event.sensitive);
    let source_ip = ip_of(&event.source_address);
    // the filter decides the client address by its trusted hops (core::blocklist::client_ip);
    // without one (an older filter, an address it could not parse) the client is the peer: a
    // forwarded-for entry is whatever the client wrote, and alerts and auto-blocks key on this
    let client_ip = if event.client_ip.is_empty() { source_ip.clone() } else { event.client_ip };
    let sensitive = event.sensitive;
    let attacks = event.attacks;
    let ts_ms = event_time(event.start_time_ms, received_ms);
    Some(EventRow {
        event_id,
        ts_ms,
        ts: u32::try_from(ts_ms / 1000).unwrap_or(u32::MAX),
        reported_ts_ms: event.start_time_ms,
        duration_us: event.duration_us,
        method: event.method,
        scheme: event.scheme,
        authority: event.authority,
        path: event.path,
        path_template: event.path_template,
        query_params: event.query_params,
        request_header_names,
        request_header_values,
        response_header_names,
        response_header_values,
        status: u16::try_from(event.status).unwrap_or(0),
        request_body_bytes: event.request_body_bytes,
        response_body_bytes: event.response_body_bytes,
        request_total_bytes: event.request_total_bytes,
        response_total_bytes: event.response_total_bytes,
        source_address: event.source_address,
        source_ip,
        forwarded_for: event.forwarded_for,
        client_ip,
        peer_principal: event.peer_principal,
        workload: event.workload,
        namespace: event.namespace,
        request_id: event.request_id,
        caller_id: event.caller_id,
        caller_id_source: event.caller_id_source,
        request_field_paths,
        request_field_types,
        request_field_sensitive,
        response_field_paths,
        response_field_types,
        response_field_sensitive,
        request_body_truncated: u8::from(event.request_body_truncated),
        response_body_truncated: u8::from(event.response_body_truncated),
        request_content_type: event.request_content_type,
        response_content_type: event.response_content_type,
        sensitive_class: sensitive.iter().map(|s| s.class.clone()).collect(),
        sensitive_direction: sensitive.iter().map(|s| small(s.direction as u32)).collect(),
        sensitive_part: sensitive.iter().map(|s| s.part.clone()).collect(),
        sensitive_location: sensitive.iter().map(|s| s.location.clone()).collect(),
        sensitive_confidence: sensitive.iter().map(|s| s.confidence).collect(),
        sensitive_sample: sensitive.iter().map(|s| s.masked_sample.clone().unwrap_or_default()).collect(),
        // filters from before the count send 0: one value at least
        sensitive_count: sensitive.iter().map(|s| s.count.max(1)).collect(),
        attack_class: attacks.iter().map(|a| a.class.clone()).collect(),
        attack_direction: attacks.iter().map(|a| small(a.direction as u32)).collect(),
        attack_part: attacks.iter().map(|a| a.part.clone()).collect(),
        attack_location: attacks.iter().map(|a| a.location.clone()).collect(),
        attack_reason: attacks.iter().map(|a| a.reason.clone()).collect(),
        attack_severity: attacks.iter().map(|a| small(a.severity)).collect(),
        verdict: small(event.verdict as u32),
        block_rule_id: event.block_rule_id,
        rate_limited_rules: event.rate_limited_rules,
        inspected,
        inspection_weight,
        request_body_shape,
        response_body_shape,
        source_id: source_id.to_owned(),
        batch_seq,
        received_ms,
        operation: event.operation,
        operation_fields: event.operation_fields,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_times_outside_what_a_filter_can_send_are_clamped_to_arrival() {
        let received = 1_790_000_000_000;
        assert_eq!(event_time(received - 5_000, received), received - 5_000);
        assert_eq!(event_time(received + 60_000, received), received + 60_000, "a little skew stays");
        assert_eq!(event_time(0, received), received);
        assert_eq!(event_time(received - MAX_EVENT_AGE_MS - 1, received), received);
        assert_eq!(event_time(received + 365 * 86_400_000, received), received);
        assert_eq!(event_time(12, 0), 12, "no arrival time: as reported");
        let event = HttpEvent { event_id: vec![1; 16], start_time_ms: 0, ..Default::default() };
        let row = event_row(event, "s", 1, received).expect("a row");
        assert_eq!((row.ts_ms, row.ts, row.reported_ts_ms), (received, (received / 1000) as u32, 0));
    }

    #[test]
    fn addresses() {
        assert_eq!(ip_of("10.1.2.3:5555"), "10.1.2.3");
        assert_eq!(ip_of("[::1]:80"), "::1");
        assert_eq!(ip_of("::1"), "::1");
        assert_eq!(ip_of(""), "");
        assert_eq!(ip_of("unix:/var/run/envoy.sock"), "");
    }

    #[test]
    fn event_without_valid_id_is_skipped() {
        assert!(event_row(HttpEvent::default(), "s", 1, 0).is_none());
        let event = HttpEvent {
            event_id: vec![1; 16],
            status: 200,
            source_address: "10.0.0.7:41000".into(),
            forwarded_for: vec!["1.2.3.4".into()],
            ..Default::default()
        };
        let row = event_row(event, "s", 1, 0);
        // no client address from the filter: the peer, never a forwarded-for entry
        assert_eq!(row.as_ref().map(|r| r.client_ip.as_str()), Some("10.0.0.7"));
    }
}
