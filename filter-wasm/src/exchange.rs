//! One HTTP exchange: records what the request and response carry into an `HttpEvent`, with
//! the sensitive data and attacks `core::detect` finds in them (class and location only; raw
//! values stay in the sidecar).
//!
//! Host calls are the filter's main cost (measured in BENCHMARKS.md), so each exchange makes
//! few: one header-map read per direction, one body read per chunk it keeps, two property
//! reads at the end. Body byte counts come from the body callbacks, not from properties.

use crate::config::FilterConfig;
use crate::host::{now_ms, now_us, property_string, property_u64};
use crate::shared::Shared;
use meshward_core::blocklist;
use meshward_core::body::{is_json, WalkLimits};
use meshward_core::detect::{self, Detector, Findings, Kind};
use meshward_core::identity::caller_identity;
use meshward_core::{forwarded_for, query_param_names, split_path_query, template_path};
use meshward_proto::{AttackFinding, BodyField, Header, HttpEvent, SensitiveFinding, Verdict};
use prost::Message;
use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::{Action, BufferType, MapType};
use std::cell::RefCell;
use std::rc::Rc;

/// HTTP/1-style framing bytes per header line (`: ` and CRLF), for the size estimate.
const HEADER_LINE_OVERHEAD: u64 = 4;

type HeaderMap = Vec<(String, Vec<u8>)>;

/// A body being captured, up to the configured cap.
#[derive(Default)]
struct BodyCapture {
    /// Kept bytes; `None` when this body is not captured (not JSON, or capture off).
    kept: Option<Vec<u8>>,
    /// Every byte that passed, kept or not.
    seen: u64,
}

impl BodyCapture {
    fn chunk(&mut self, kind: BufferType, chunk_size: usize, cap: usize) {
        self.seen += chunk_size as u64;
        let Some(kept) = self.kept.as_mut() else { return };
        let room = cap.saturating_sub(kept.len());
        if room == 0 || chunk_size == 0 {
            return;
        }
        if let Ok(Some(bytes)) = hostcalls::get_buffer(kind, 0, chunk_size.min(room)) {
            kept.extend_from_slice(&bytes);
        }
    }
}

pub struct Exchange {
    shared: Rc<RefCell<Shared>>,
    config: Rc<FilterConfig>,
    detector: Rc<Detector>,
    findings: Findings,
    event: Option<HttpEvent>,
    start_us: u64,
    request_header_bytes: u64,
    response_header_bytes: u64,
    request_body: BodyCapture,
    response_body: BodyCapture,
}

impl Exchange {
    pub fn new(shared: Rc<RefCell<Shared>>) -> Self {
        let (config, detector) =
            shared.try_borrow().map(|s| (s.config.clone(), s.detector.clone())).unwrap_or_default();
        let findings = Findings::new(config.detection.max_findings);
        Exchange {
            shared,
            config,
            detector,
            findings,
            event: None,
            start_us: 0,
            request_header_bytes: 0,
            response_header_bytes: 0,
            request_body: BodyCapture::default(),
            response_body: BodyCapture::default(),
        }
    }

    /// Turns the header map into recorded headers (names; values only if allow-listed),
    /// consuming it; pseudo-headers are left out. Returns them and their byte count.
    fn record_headers(&self, headers: HeaderMap) -> (Vec<Header>, u64) {
        let mut bytes = 0;
        let mut recorded = Vec::with_capacity(headers.len());
        for (name, value) in headers {
            bytes += (name.len() + value.len()) as u64 + HEADER_LINE_OVERHEAD;
            if name.starts_with(':') {
                continue;
            }
            let keep_value = self.config.header_value_allowlist.contains(&name);
            let value = keep_value.then(|| {
                String::from_utf8(value).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
            });
            recorded.push(Header { name, value });
        }
        (recorded, bytes)
    }

    /// JSON bodies are read for their schema; with detection on, every body a detector can
    /// read (forms, multipart, XML, text, and requests without a content type) is read too.
    fn wants_body(&self, content_type: &str, direction: detect::Direction) -> bool {
        if !self.config.capture_bodies || self.config.max_body_bytes == 0 {
            return false;
        }
        if is_json(content_type) {
            return true;
        }
        let detection = &self.config.detection;
        let scanning = detection.sensitive || (detection.attacks && direction == detect::Direction::Request);
        scanning && is_scannable(content_type, direction)
    }

    /// Scans the headers of one direction for findings (values are read in place).
    fn scan_headers(&mut self, direction: detect::Direction, headers: &HeaderMap) {
        let detection = &self.config.detection;
        let scanning = detection.sensitive || (detection.attacks && direction == detect::Direction::Request);
        if !scanning {
            return;
        }
        for (name, value) in headers {
            if name.starts_with(':') {
                continue;
            }
            let value = String::from_utf8_lossy(value);
            self.detector.scan_header(direction, name, &value, &mut self.findings);
        }
        if direction == detect::Direction::Request {
            let text = headers.iter().map(|(n, v)| (n.as_str(), std::str::from_utf8(v).unwrap_or("\u{0}")));
            self.detector.scan_protocol(text, &mut self.findings);
        }
    }

    /// Field paths of a captured body (scanned for findings on the way) and whether it was cut
    /// at the cap.
    fn scan_body(
        &mut self,
        direction: detect::Direction,
        content_type: &str,
        unparsed: &mut u64,
    ) -> (Vec<BodyField>, bool) {
        let body = if direction == detect::Direction::Request { &self.request_body } else { &self.response_body };
        let Some(kept) = body.kept.as_ref().filter(|b| !b.is_empty()) else { return (Vec::new(), false) };
        let truncated = body.seen > kept.len() as u64;
        let limits = WalkLimits { max_fields: self.config.max_body_fields, ..WalkLimits::default() };
        let walk = self.detector.scan_body(direction, content_type, kept, limits, &mut self.findings);
        let Some(walk) = walk else { return (Vec::new(), truncated) };
        if !walk.complete && !truncated {
            *unparsed += 1;
        }
        let fields = walk
            .fields
            .into_iter()
            .map(|f| BodyField {
                path: f.path,
                r#type: f.field_type.as_str().to_owned(),
                sensitive_classes: Vec::new(),
            })
            .collect();
        (fields, truncated)
    }
}

impl Exchange {
    /// Checks the request against the block list; a block answers 403 here, before the
    /// request reaches the application. The event records the verdict either way.
    fn enforce(&mut self, event: &mut HttpEvent, headers: &HeaderMap) -> blocklist::Verdict {
        event.source_address = property_string(vec!["source", "address"]).unwrap_or_default();
        let client_ip = blocklist::client_ip(
            &event.source_address,
            header(headers, "x-forwarded-for"),
            self.config.trusted_proxies,
        );
        event.client_ip = client_ip.map(|ip| ip.to_string()).unwrap_or_default();
        let Ok(mut shared) = self.shared.try_borrow_mut() else { return blocklist::Verdict::Allow };
        let list = shared.blocklist.list.clone();
        if list.is_empty() {
            return blocklist::Verdict::Allow;
        }
        if list.needs_principal {
            event.peer_principal = property_string(vec!["connection", "uri_san_peer_certificate"]).unwrap_or_default();
        }
        let facts = blocklist::RequestFacts {
            client_ip,
            identity: &event.caller_id,
            principal: &event.peer_principal,
            method: &event.method,
            path: &event.path,
            authority: &event.authority,
            workload: &shared.node.workload,
            headers,
        };
        let decision = list.decide(&facts, self.start_us / 1000);
        event.rate_limited_rules = decision.rate_limited.iter().map(|id| (*id).to_owned()).collect();
        let Some(rule_id) = decision.rule_id else { return blocklist::Verdict::Allow };
        *shared.rule_hits.entry(rule_id.to_owned()).or_default() += 1;
        event.block_rule_id = rule_id.to_owned();
        if decision.verdict == blocklist::Verdict::DryRun {
            shared.counts.dry_run += 1;
            event.verdict = Verdict::DryRun as i32;
            return blocklist::Verdict::DryRun;
        }
        shared.counts.blocked += 1;
        event.verdict = Verdict::Block as i32;
        let body = serde_json::json!({
            "error": "request blocked by policy",
            "rule_id": rule_id,
            "request_id": event.request_id,
        })
        .to_string();
        let headers = vec![("content-type", "application/json"), ("x-meshward-block-rule", rule_id)];
        if hostcalls::send_http_response(403, headers, Some(body.as_bytes())).is_err() {
            // fail open: if Envoy cannot answer for us, the request goes on
            return blocklist::Verdict::Allow;
        }
        decision.verdict
    }
}

/// Moves the findings into the event: attacks and sensitive data by location, and the
/// sensitive classes onto the body fields they were found in.
fn record_findings(event: &mut HttpEvent, findings: Findings, counts: &mut crate::metrics::Counts) {
    for f in findings.items {
        counts.finding(f.kind == Kind::Attack, &f.class);
        let direction = match f.direction {
            detect::Direction::Request => meshward_proto::Direction::Request,
            detect::Direction::Response => meshward_proto::Direction::Response,
        } as i32;
        let part = f.part.as_str().to_owned();
        match f.kind {
            Kind::Attack => event.attacks.push(AttackFinding {
                class: f.class,
                direction,
                part,
                location: f.field,
                reason: f.reason.to_owned(),
                severity: u32::from(f.severity),
            }),
            Kind::Sensitive => {
                if f.part == detect::Part::Body {
                    let fields = if f.direction == detect::Direction::Request {
                        &mut event.request_body_fields
                    } else {
                        &mut event.response_body_fields
                    };
                    if let Some(field) = fields.iter_mut().find(|b| b.path == f.field) {
                        if !field.sensitive_classes.contains(&f.class) {
                            field.sensitive_classes.push(f.class.clone());
                        }
                    }
                }
                event.sensitive.push(SensitiveFinding {
                    class: f.class,
                    direction,
                    part,
                    location: f.field,
                    confidence: f.confidence,
                    masked_sample: f.masked_sample,
                    count: f.count,
                });
            }
        }
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.iter().find(|(n, _)| n == name).and_then(|(_, v)| std::str::from_utf8(v).ok())
}

/// Bodies the detectors read besides JSON; binary bodies (images, archives, protobuf) are not.
fn is_scannable(content_type: &str, direction: detect::Direction) -> bool {
    let mime = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    (mime.is_empty() && direction == detect::Direction::Request)
        || mime == "application/x-www-form-urlencoded"
        || mime == "multipart/form-data"
        || mime.ends_with("/xml")
        || mime.ends_with("+xml")
        || mime.starts_with("text/")
}

impl Context for Exchange {}

impl HttpContext for Exchange {
    fn on_http_request_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        self.start_us = now_us();
        let headers: HeaderMap = hostcalls::get_map_bytes(MapType::HttpRequestHeaders).unwrap_or_default();
        let raw_path = header(&headers, ":path").unwrap_or("/");
        let (path, query) = split_path_query(raw_path);
        let content_type = header(&headers, "content-type").unwrap_or_default().to_owned();
        let api_key = self.config.api_key_headers.iter().find_map(|name| header(&headers, name));
        let identity = self
            .shared
            .try_borrow()
            .ok()
            .and_then(|shared| caller_identity(&shared.identity_key, header(&headers, "authorization"), api_key));
        let (caller_id, caller_id_source) = identity.map(|i| (i.id, i.source.to_owned())).unwrap_or_default();
        if self.wants_body(&content_type, detect::Direction::Request) {
            self.request_body.kept = Some(Vec::new());
        }
        if self.config.detection.attacks || self.config.detection.sensitive {
            let detector = self.detector.clone();
            detector.scan_path_and_query(path, query, &mut self.findings);
        }
        let mut event = HttpEvent {
            start_time_ms: self.start_us / 1000,
            method: header(&headers, ":method").unwrap_or_default().to_owned(),
            scheme: header(&headers, ":scheme").unwrap_or_default().to_owned(),
            authority: header(&headers, ":authority").unwrap_or_default().to_owned(),
            path: path.to_owned(),
            path_template: template_path(path),
            query_params: query_param_names(query),
            forwarded_for: header(&headers, "x-forwarded-for").map(forwarded_for).unwrap_or_default(),
            request_id: header(&headers, "x-request-id").unwrap_or_default().to_owned(),
            request_content_type: content_type,
            caller_id,
            caller_id_source,
            ..HttpEvent::default()
        };
        self.scan_headers(detect::Direction::Request, &headers);
        let verdict = self.enforce(&mut event, &headers);
        (event.request_headers, self.request_header_bytes) = self.record_headers(headers);
        self.event = Some(event);
        if verdict == blocklist::Verdict::Block {
            Action::Pause
        } else {
            Action::Continue
        }
    }

    fn on_http_request_body(&mut self, body_size: usize, _end_of_stream: bool) -> Action {
        self.request_body.chunk(BufferType::HttpRequestBody, body_size, self.config.max_body_bytes);
        Action::Continue
    }

    fn on_http_response_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        let headers: HeaderMap = hostcalls::get_map_bytes(MapType::HttpResponseHeaders).unwrap_or_default();
        let content_type = header(&headers, "content-type").unwrap_or_default().to_owned();
        if self.wants_body(&content_type, detect::Direction::Response) {
            self.response_body.kept = Some(Vec::new());
        }
        self.scan_headers(detect::Direction::Response, &headers);
        let status = header(&headers, ":status").and_then(|s| s.parse().ok()).unwrap_or(0);
        let (recorded, bytes) = self.record_headers(headers);
        self.response_header_bytes = bytes;
        if let Some(event) = self.event.as_mut() {
            event.status = status;
            event.response_headers = recorded;
            event.response_content_type = content_type;
        }
        Action::Continue
    }

    fn on_http_response_body(&mut self, body_size: usize, _end_of_stream: bool) -> Action {
        self.response_body.chunk(BufferType::HttpResponseBody, body_size, self.config.max_body_bytes);
        Action::Continue
    }

    fn on_log(&mut self) {
        let Some(mut event) = self.event.take() else { return };
        let mut unparsed = 0;
        let request_type = event.request_content_type.clone();
        let response_type = event.response_content_type.clone();
        (event.request_body_fields, event.request_body_truncated) =
            self.scan_body(detect::Direction::Request, &request_type, &mut unparsed);
        (event.response_body_fields, event.response_body_truncated) =
            self.scan_body(detect::Direction::Response, &response_type, &mut unparsed);
        if event.status == 0 {
            // no response headers passed the filter (a local reply or a reset)
            event.status = property_u64(vec!["response", "code"]) as u32;
        }
        event.duration_us = now_us().saturating_sub(self.start_us);
        event.request_body_bytes = self.request_body.seen;
        event.response_body_bytes = self.response_body.seen;
        event.request_total_bytes = self.request_header_bytes + self.request_body.seen;
        event.response_total_bytes = self.response_header_bytes + self.response_body.seen;
        if event.peer_principal.is_empty() {
            event.peer_principal = property_string(vec!["connection", "uri_san_peer_certificate"]).unwrap_or_default();
        }
        let Ok(mut shared) = self.shared.try_borrow_mut() else { return };
        event.event_id = shared.ids.next_id();
        event.workload.clone_from(&shared.node.workload);
        event.namespace.clone_from(&shared.node.namespace);
        shared.counts.body_unparsed += unparsed;
        let findings = std::mem::take(&mut self.findings);
        record_findings(&mut event, findings, &mut shared.counts);
        shared.enqueue(event.encode_to_vec());
        if shared.outbox.batch_ready() {
            shared.flush(now_ms(), false);
        }
    }
}
