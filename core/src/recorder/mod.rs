//! The exchange recorder: everything the filter does with an HTTP exchange except talk to the
//! host. It is fed what Envoy hands over (header maps, body chunks, the peer address and
//! principal, the clock) and produces the findings, the facts a block list decides on, and the
//! encoded `HttpEvent`. The filter is glue around it (host calls, enforcement, shipping), and
//! `meshward analyze` feeds it HAR entries, so both record an exchange the same way.
//!
//! Per exchange, in the order Envoy calls back:
//!
//! 1. `request_headers`: path template, query names, identity, client address, detection on
//!    path, query and headers, and the inspection decision (`inspection`); the request half of
//!    the event is encoded at once, so nothing of the header map is copied to keep.
//! 2. `Exchange::block_facts` and `Exchange::record_verdict`, when a block list is in force.
//! 3. `response_headers`: status, header names, content type.
//! 4. body chunks while they pass (`body_room`, `body_data`, `body_seen`), read only for a
//!    deeply inspected exchange;
//! 5. `finish`: bodies walked and scanned, findings, sizes, timing; the encoded event.
//!
//! Invariants: the recorder never panics on input and holds at most `max_body_bytes` per body
//! and `max_findings` findings per exchange; a metadata-only exchange reads no body at all.

pub mod encode;
pub mod inspection;
pub mod policy;
pub mod shapes;

use crate::blocklist::{self, RequestFacts};
use crate::body::WalkLimits;
use crate::detect::{DetectConfig, Detector, Direction, Findings, Kind, ATTACK_CLASSES, SENSITIVE_CLASSES};
use crate::identity::{IdentityCache, IdentityKey};
use crate::{forwarded_for, query_param_names, split_path_query, template_path};
use encode::tag;
use inspection::{Decision, InspectionConfig, InspectionStats, Inspector};
use policy::CapturePolicy;
use shapes::Shapes;
use std::cell::OnceCell;
use std::net::IpAddr;

/// A header map as Envoy hands it over: lower-case names, raw values, pseudo-headers included.
pub type HeaderMap = [(String, Vec<u8>)];

/// HTTP/1-style framing bytes per header line (`: ` and CRLF), for the size estimate.
const HEADER_LINE_OVERHEAD: u64 = 4;

/// What a recorder records and how much it inspects.
#[derive(Debug, Clone, Default)]
pub struct RecorderConfig {
    pub policy: CapturePolicy,
    pub detection: DetectConfig,
    pub inspection: InspectionConfig,
    /// The mesh's identity secret: keys the caller hash and the body shape ids.
    pub identity_secret: String,
    /// Send each body shape's fields once per window (the filter); `false` puts them in every
    /// event (`analyze`, which has no collector to expand them).
    pub dedupe_shapes: bool,
}

/// The workload whose sidecar records, from node metadata.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Node {
    pub workload: String,
    pub namespace: String,
}

/// What a recorder counted since it started (the filter reports these as Envoy stats).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecorderStats {
    /// findings per attack class, in `ATTACK_CLASSES` order
    pub attacks: [u64; ATTACK_CLASSES.len()],
    /// findings per built-in sensitive class, in `SENSITIVE_CLASSES` order
    pub sensitive: [u64; SENSITIVE_CLASSES.len()],
    /// findings of operator-defined classes
    pub custom: u64,
    /// bodies that were not complete JSON although not cut at the cap
    pub bodies_unparsed: u64,
    /// events that carried a body shape's field list
    pub shapes_defined: u64,
    pub inspection: InspectionStats,
}

impl Default for RecorderStats {
    fn default() -> Self {
        RecorderStats {
            attacks: [0; ATTACK_CLASSES.len()],
            sensitive: [0; SENSITIVE_CLASSES.len()],
            custom: 0,
            bodies_unparsed: 0,
            shapes_defined: 0,
            inspection: InspectionStats::default(),
        }
    }
}

impl RecorderStats {
    fn finding(&mut self, kind: Kind, class: &str) {
        let (names, counts): (&[&str], &mut [u64]) = match kind {
            Kind::Attack => (ATTACK_CLASSES, &mut self.attacks),
            Kind::Sensitive => (SENSITIVE_CLASSES, &mut self.sensitive),
        };
        match names.iter().position(|c| *c == class) {
            Some(i) => counts[i] += 1,
            None => self.custom += 1,
        }
    }
}

/// One worker's recorder.
pub struct Recorder {
    policy: CapturePolicy,
    detection: DetectConfig,
    /// built on the first exchange: Envoy's main thread runs a VM that never sees one
    detector: OnceCell<Detector>,
    identities: IdentityCache,
    quiet_headers: QuietHeaders,
    inspector: Inspector,
    shapes: Shapes,
    dedupe_shapes: bool,
    node: Node,
    stats: RecorderStats,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder").field("policy", &self.policy).field("node", &self.node).finish_non_exhaustive()
    }
}

/// A body passing through, kept up to the cap when it is read.
#[derive(Debug, Default)]
struct Body {
    /// `None` when this body is not read (metadata only, or a type no detector reads)
    kept: Option<Vec<u8>>,
    /// every byte that passed, kept or not
    seen: u64,
    content_type: String,
}

/// One exchange being recorded.
#[derive(Debug)]
pub struct Exchange {
    event: Vec<u8>,
    findings: Findings,
    start_us: u64,
    decision: Decision,
    request: Body,
    response: Body,
    request_header_bytes: u64,
    response_header_bytes: u64,
    status: u32,
    caller_id: String,
    client_ip: Option<IpAddr>,
    principal_recorded: bool,
    /// time spent reading bodies (measured by the host glue), for the budget
    read_cost_us: u64,
}

/// How an exchange ended, from the host.
pub struct End<'a> {
    /// when the exchange ended (the duration's end), microseconds since the epoch
    pub now_us: u64,
    pub event_id: [u8; 16],
    /// the response code when no response headers passed (a local reply, a reset)
    pub status: Option<u32>,
    /// the mTLS peer principal, unless `Exchange::record_principal` was called
    pub peer_principal: &'a str,
    /// reads the clock, to measure what deep inspection took
    pub clock: &'a dyn Fn() -> u64,
}

fn detector_of<'d>(cell: &'d OnceCell<Detector>, config: &DetectConfig) -> &'d Detector {
    cell.get_or_init(|| Detector::new(config.clone()).unwrap_or_default())
}

/// Header values that were scanned and held nothing, remembered per worker: most headers
/// repeat from request to request (a caller's client, its accept headers), and scanning a
/// browser's user agent costs thousands of instructions. Detection is a function of the
/// direction, the name and the value alone, so a value that held nothing holds nothing again;
/// entries are the bytes themselves, compared in full.
#[derive(Debug)]
struct QuietHeaders {
    seen: crate::recent::Recent<Box<[u8]>, ()>,
    key: Vec<u8>,
}

/// Values remembered per generation (two generations: about 260 KB at most).
const QUIET_HEADERS: usize = 512;

impl Default for QuietHeaders {
    fn default() -> Self {
        QuietHeaders { seen: crate::recent::Recent::new(QUIET_HEADERS), key: Vec::new() }
    }
}
/// Longer values are scanned every time.
const MAX_QUIET_VALUE: usize = 256;

impl QuietHeaders {
    /// Whether this header was seen before and held nothing; sets up `remember` for it.
    fn held_nothing(&mut self, direction: Direction, name: &str, value: &[u8]) -> bool {
        self.key.clear();
        if value.len() > MAX_QUIET_VALUE {
            return false;
        }
        self.key.push(direction as u8);
        self.key.extend_from_slice(name.as_bytes());
        self.key.push(0);
        self.key.extend_from_slice(value);
        self.seen.get(self.key.as_slice()).is_some()
    }

    /// The header `held_nothing` last asked about held nothing.
    fn remember(&mut self) {
        if !self.key.is_empty() {
            self.seen.insert(self.key.as_slice().into(), ());
        }
    }
}

/// Every finding so far, counted as `Findings` counts them (a repeat of a class in a field adds
/// to its count, one over the cap to `dropped`).
fn found(findings: &Findings) -> u64 {
    findings.items.iter().map(|f| u64::from(f.count)).sum::<u64>() + u64::from(findings.dropped)
}

/// Headers of one direction, values read in place; the request's also as a whole for protocol
/// anomalies (conflicting lengths, smuggling).
fn scan_headers(
    detector: &Detector,
    quiet: &mut QuietHeaders,
    direction: Direction,
    headers: &HeaderMap,
    findings: &mut Findings,
) {
    for (name, value) in headers {
        // the names the detector skips (credentials, fixed formats) need no memory
        if !detector.scans_header(direction, name) || quiet.held_nothing(direction, name, value) {
            continue;
        }
        let before = found(findings);
        detector.scan_header(direction, name, &String::from_utf8_lossy(value), findings);
        if found(findings) == before {
            quiet.remember();
        }
    }
    if direction == Direction::Request {
        let text = headers.iter().map(|(n, v)| (n.as_str(), std::str::from_utf8(v).unwrap_or("\u{0}")));
        detector.scan_protocol(text, findings);
    }
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.iter().find(|(n, _)| n == name).and_then(|(_, v)| std::str::from_utf8(v).ok())
}

impl Recorder {
    /// A recorder; `seed` makes its sampling differ from other workers'.
    pub fn new(config: RecorderConfig, seed: u64) -> Self {
        let window_s = config.inspection.window_s.max(1);
        Recorder {
            policy: config.policy,
            detection: config.detection,
            detector: OnceCell::new(),
            identities: IdentityCache::new(IdentityKey::derive(&config.identity_secret)),
            quiet_headers: QuietHeaders::default(),
            inspector: Inspector::new(config.inspection, seed),
            shapes: Shapes::new(&config.identity_secret, window_s),
            dedupe_shapes: config.dedupe_shapes,
            node: Node::default(),
            stats: RecorderStats::default(),
        }
    }

    pub fn set_node(&mut self, node: Node) {
        self.node = node;
    }

    pub fn node(&self) -> &Node {
        &self.node
    }

    pub fn policy(&self) -> &CapturePolicy {
        &self.policy
    }

    pub fn stats(&self) -> RecorderStats {
        RecorderStats { inspection: self.inspector.stats, ..self.stats }
    }

    /// The compiled detector (the configuration was validated when it was parsed).
    pub fn detector(&self) -> &Detector {
        detector_of(&self.detector, &self.detection)
    }

    fn detecting(&self, direction: Direction) -> bool {
        self.detection.sensitive || (self.detection.attacks && direction == Direction::Request)
    }

    /// Periodic work: the budget's throttle, and forgetting stale endpoint variants.
    pub fn tick(&mut self, now_us: u64) {
        self.inspector.tick(now_us);
    }

    /// Every body shape is defined again with its next event (the stream to the collector
    /// started over, or an event was dropped).
    pub fn forget_shapes(&mut self) {
        self.shapes.forget();
    }

    /// The request headers arrived: starts the exchange and encodes its request half. For hosts
    /// that have no mTLS principal to offer (`analyze`, tests).
    pub fn request_headers(&mut self, headers: &HeaderMap, source_address: &str, now_us: u64) -> Exchange {
        self.request_headers_from(headers, source_address, || None, now_us)
    }

    /// As `request_headers`, with the peer's mTLS principal on demand: asked for only when a
    /// forwarded header from a peer trusted by principal makes it matter.
    pub fn request_headers_from(
        &mut self,
        headers: &HeaderMap,
        source_address: &str,
        peer_principal: impl FnOnce() -> Option<String>,
        now_us: u64,
    ) -> Exchange {
        let head = RequestHead::of(headers, &self.policy.api_key_headers);
        let (path, query) = split_path_query(head.path.unwrap_or("/"));
        let method = head.method.unwrap_or_default();
        let authority = head.authority.unwrap_or_default();
        let content_type = head.content_type.unwrap_or_default();
        let forwarded = head.forwarded_for;
        let identity = self.identities.identify(head.authorization, head.api_key);
        let template = template_path(path);
        let query_names = query_param_names(query);
        let client = self.policy.trusted_proxies.client(source_address, forwarded, peer_principal);
        let client_ip = client.map(|c| c.ip);

        let mut findings = Findings::new(self.detection.max_findings);
        if self.detection.attacks || self.detection.sensitive {
            self.detector().scan_path_and_query(path, query, &mut findings);
        }
        if self.detecting(Direction::Request) {
            let detector = detector_of(&self.detector, &self.detection);
            scan_headers(detector, &mut self.quiet_headers, Direction::Request, headers, &mut findings);
        }
        let attack_seen = findings.items.iter().any(|f| f.kind == Kind::Attack);
        let variant = inspection::variant_key(method, authority, &template, &query_names);
        let decision = self.inspector.decide(variant, now_us, attack_seen);

        // most events are 400 to 900 bytes: one allocation, no growing
        let mut event = Vec::with_capacity(1024);
        encode::put_u64(&mut event, tag::START_TIME_MS, now_us / 1000);
        encode::put_str(&mut event, tag::METHOD, method);
        encode::put_str(&mut event, tag::SCHEME, head.scheme.unwrap_or_default());
        encode::put_str(&mut event, tag::AUTHORITY, authority);
        encode::put_str(&mut event, tag::PATH, path);
        encode::put_str(&mut event, tag::PATH_TEMPLATE, &template);
        for name in &query_names {
            encode::put_repeated_str(&mut event, tag::QUERY_PARAMS, name);
        }
        let mut request_header_bytes = 0;
        for (name, value) in headers {
            request_header_bytes += (name.len() + value.len()) as u64 + HEADER_LINE_OVERHEAD;
            if !name.starts_with(':') {
                let value = self.policy.keeps_value(name).then_some(value.as_slice());
                encode::put_header(&mut event, tag::REQUEST_HEADERS, name, value);
            }
        }
        for hop in forwarded.map(forwarded_for).unwrap_or_default() {
            encode::put_repeated_str(&mut event, tag::FORWARDED_FOR, &hop);
        }
        encode::put_str(&mut event, tag::SOURCE_ADDRESS, source_address);
        if let Some(client) = client {
            encode::put_str(&mut event, tag::CLIENT_IP, &ip_text(client, source_address));
        }
        encode::put_str(&mut event, tag::REQUEST_ID, head.request_id.unwrap_or_default());
        encode::put_str(&mut event, tag::REQUEST_CONTENT_TYPE, content_type);
        let (caller_id, caller_source) = identity.map(|i| (i.id, i.source)).unwrap_or_default();
        encode::put_str(&mut event, tag::CALLER_ID, &caller_id);
        encode::put_str(&mut event, tag::CALLER_ID_SOURCE, caller_source);
        let inspection = if decision.deep { encode::INSPECTION_DEEP } else { encode::INSPECTION_METADATA };
        encode::put_u64(&mut event, tag::INSPECTION, inspection);
        encode::put_f32(&mut event, tag::INSPECTION_WEIGHT, decision.weight);

        let reads = decision.deep && self.policy.reads_body(content_type, Direction::Request, &self.detection);
        Exchange {
            event,
            findings,
            start_us: now_us,
            decision,
            request: Body { kept: reads.then(Vec::new), seen: 0, content_type: content_type.to_owned() },
            response: Body::default(),
            request_header_bytes,
            response_header_bytes: 0,
            status: 0,
            caller_id,
            client_ip,
            principal_recorded: false,
            read_cost_us: 0,
        }
    }

    /// The response headers arrived.
    pub fn response_headers(&mut self, exchange: &mut Exchange, headers: &HeaderMap) {
        let content_type = header(headers, "content-type").unwrap_or_default();
        if self.detecting(Direction::Response) {
            let detector = detector_of(&self.detector, &self.detection);
            scan_headers(detector, &mut self.quiet_headers, Direction::Response, headers, &mut exchange.findings);
        }
        exchange.status = header(headers, ":status").and_then(|s| s.parse().ok()).unwrap_or(0);
        let event = &mut exchange.event;
        encode::put_u64(event, tag::STATUS, u64::from(exchange.status));
        for (name, value) in headers {
            exchange.response_header_bytes += (name.len() + value.len()) as u64 + HEADER_LINE_OVERHEAD;
            if !name.starts_with(':') {
                let value = self.policy.keeps_value(name).then_some(value.as_slice());
                encode::put_header(event, tag::RESPONSE_HEADERS, name, value);
            }
        }
        encode::put_str(event, tag::RESPONSE_CONTENT_TYPE, content_type);
        let reads =
            exchange.decision.deep && self.policy.reads_body(content_type, Direction::Response, &self.detection);
        exchange.response = Body { kept: reads.then(Vec::new), seen: 0, content_type: content_type.to_owned() };
    }

    /// How many more bytes of a body to read (0 when it is not read or is full).
    pub fn body_room(&self, exchange: &Exchange, direction: Direction) -> usize {
        exchange.body(direction).kept.as_ref().map_or(0, |kept| self.policy.max_body_bytes.saturating_sub(kept.len()))
    }

    /// Ends the exchange and returns its encoded event.
    pub fn finish(&mut self, mut exchange: Exchange, end: End<'_>) -> Vec<u8> {
        let event = &mut exchange.event;
        if exchange.status == 0 {
            if let Some(status) = end.status {
                exchange.status = status;
                encode::put_u64(event, tag::STATUS, u64::from(status));
            }
        }
        encode::put_u64(event, tag::DURATION_US, end.now_us.saturating_sub(exchange.start_us));
        if exchange.decision.deep {
            let scan_start = (end.clock)();
            for direction in [Direction::Request, Direction::Response] {
                self.scan_body(&mut exchange, direction, end.now_us);
            }
            let spent = (end.clock)().saturating_sub(scan_start) + exchange.read_cost_us;
            self.inspector.spent(spent);
        }
        let event = &mut exchange.event;
        let (request, response) = (&exchange.request, &exchange.response);
        encode::put_u64(event, tag::REQUEST_BODY_BYTES, request.seen);
        encode::put_u64(event, tag::RESPONSE_BODY_BYTES, response.seen);
        encode::put_u64(event, tag::REQUEST_TOTAL_BYTES, exchange.request_header_bytes + request.seen);
        encode::put_u64(event, tag::RESPONSE_TOTAL_BYTES, exchange.response_header_bytes + response.seen);
        if !exchange.principal_recorded {
            encode::put_str(event, tag::PEER_PRINCIPAL, end.peer_principal);
        }
        encode::put_str(event, tag::WORKLOAD, &self.node.workload);
        encode::put_str(event, tag::NAMESPACE, &self.node.namespace);
        encode::put_bytes(event, tag::EVENT_ID, &end.event_id);
        for finding in &exchange.findings.items {
            self.stats.finding(finding.kind, &finding.class);
            encode::put_finding(event, finding);
        }
        exchange.event
    }

    /// Walks and scans one kept body; encodes its shape (and fields when the shape is new in
    /// the window) and whether it was cut.
    fn scan_body(&mut self, exchange: &mut Exchange, direction: Direction, now_us: u64) {
        let body = match direction {
            Direction::Request => &exchange.request,
            Direction::Response => &exchange.response,
        };
        let Some(kept) = body.kept.as_deref().filter(|b| !b.is_empty()) else { return };
        let truncated = body.seen > kept.len() as u64;
        let limits = WalkLimits { max_fields: self.policy.max_body_fields, ..WalkLimits::default() };
        let walk = self.detector().scan_body(direction, &body.content_type, kept, limits, &mut exchange.findings);
        let (fields_tag, shape_tag, truncated_tag) = match direction {
            Direction::Request => (tag::REQUEST_BODY_FIELDS, tag::REQUEST_BODY_SHAPE, tag::REQUEST_BODY_TRUNCATED),
            Direction::Response => (tag::RESPONSE_BODY_FIELDS, tag::RESPONSE_BODY_SHAPE, tag::RESPONSE_BODY_TRUNCATED),
        };
        encode::put_bool(&mut exchange.event, truncated_tag, truncated);
        // a GraphQL or JSON-RPC request names its operation: the inventory lists it (the walk's
        // field paths say whether the body can be one, without looking at it again)
        let named = walk.as_ref().is_some_and(|w| {
            direction == Direction::Request && w.fields.iter().any(|f| crate::operation::is_operation_key(&f.path))
        });
        if named {
            if let Some(operation) = crate::operation::of_json_body(kept) {
                encode::put_str(&mut exchange.event, tag::OPERATION, &operation.label());
                for field in &operation.fields {
                    encode::put_str(&mut exchange.event, tag::OPERATION_FIELDS, field);
                }
                self.detector().scan_operation(&operation, &mut exchange.findings);
            }
        }
        let Some(walk) = walk else { return };
        if !walk.complete && !truncated {
            self.stats.bodies_unparsed += 1;
        }
        let shape = self.shapes.id(&walk.fields);
        encode::put_fixed64(&mut exchange.event, shape_tag, shape);
        if shape != 0 && (!self.dedupe_shapes || self.shapes.needs_definition(shape, now_us)) {
            self.stats.shapes_defined += u64::from(self.dedupe_shapes);
            for field in &walk.fields {
                encode::put_body_field(&mut exchange.event, fields_tag, &field.path, field.field_type.as_str());
            }
        }
    }
}

/// An address as text: the peer's own spelling when it is the client (the usual case, without
/// formatting), else formatted.
fn ip_text(client: blocklist::Client, source_address: &str) -> std::borrow::Cow<'_, str> {
    let ip = client.ip;
    // the client is the peer, `ip` parsed from `a.b.c.d:port`; IPv4 text has one spelling
    // Rust's parser accepts, IPv6 many, so those are formatted
    if client.is_peer && ip.is_ipv4() {
        if let Some((host, _)) = source_address.rsplit_once(':') {
            return host.into();
        }
        return source_address.into();
    }
    ip.to_string().into()
}

/// The request headers the recorder reads, found in one pass over the map (the first of each
/// name, as a value that is UTF-8).
#[derive(Default)]
struct RequestHead<'h> {
    path: Option<&'h str>,
    method: Option<&'h str>,
    authority: Option<&'h str>,
    scheme: Option<&'h str>,
    content_type: Option<&'h str>,
    forwarded_for: Option<&'h str>,
    authorization: Option<&'h str>,
    request_id: Option<&'h str>,
    /// the first of the configured API-key headers present, in configuration order
    api_key: Option<&'h str>,
}

impl<'h> RequestHead<'h> {
    fn of(headers: &'h HeaderMap, api_key_headers: &[String]) -> Self {
        let mut head = RequestHead::default();
        let mut seen = 0u16;
        // (position in configuration order, value) of the best API key so far
        let mut api_key: Option<(usize, Option<&'h str>)> = None;
        for (name, value) in headers {
            let slot = match name.as_str() {
                ":path" => Some((0, &mut head.path)),
                ":method" => Some((1, &mut head.method)),
                ":authority" => Some((2, &mut head.authority)),
                ":scheme" => Some((3, &mut head.scheme)),
                "content-type" => Some((4, &mut head.content_type)),
                "x-forwarded-for" => Some((5, &mut head.forwarded_for)),
                "authorization" => Some((6, &mut head.authorization)),
                "x-request-id" => Some((7, &mut head.request_id)),
                _ => None,
            };
            if let Some((bit, field)) = slot {
                if seen & (1 << bit) == 0 {
                    seen |= 1 << bit;
                    *field = std::str::from_utf8(value).ok();
                }
            }
            if let Some(rank) = api_key_headers.iter().position(|h| h == name) {
                // an earlier-configured name wins; the first header of a name is its value
                if api_key.is_none_or(|(best, _)| rank < best) {
                    api_key = Some((rank, std::str::from_utf8(value).ok()));
                }
            }
        }
        // as a lookup per configured name would: the first configured name present with a
        // value that is UTF-8
        head.api_key = match api_key {
            Some((_, Some(value))) => Some(value),
            Some((_, None)) => api_key_headers.iter().find_map(|name| header(headers, name)),
            None => None,
        };
        head
    }
}

impl Exchange {
    fn body(&self, direction: Direction) -> &Body {
        match direction {
            Direction::Request => &self.request,
            Direction::Response => &self.response,
        }
    }

    fn body_mut(&mut self, direction: Direction) -> &mut Body {
        match direction {
            Direction::Request => &mut self.request,
            Direction::Response => &mut self.response,
        }
    }

    /// Whether this exchange's bodies are read and scanned.
    pub fn deep(&self) -> bool {
        self.decision.deep
    }

    /// The status from the response headers (0 before them, or without them).
    pub fn status(&self) -> u32 {
        self.status
    }

    /// Bytes read from a body chunk (at most `Recorder::body_room` of them).
    pub fn body_data(&mut self, direction: Direction, bytes: &[u8]) {
        if let Some(kept) = self.body_mut(direction).kept.as_mut() {
            kept.extend_from_slice(bytes);
        }
    }

    /// A body chunk of this size passed, read or not.
    pub fn body_seen(&mut self, direction: Direction, size: usize) {
        self.body_mut(direction).seen += size as u64;
    }

    /// Time the host glue spent reading bodies, counted against the budget.
    pub fn add_read_cost(&mut self, us: u64) {
        self.read_cost_us = self.read_cost_us.saturating_add(us);
    }

    /// Whether the exchange found anything yet (path, query and headers so far).
    pub fn findings(&self) -> &Findings {
        &self.findings
    }

    /// What the block list decides on. `headers` are the request headers this exchange started
    /// with.
    pub fn block_facts<'a>(
        &'a self,
        headers: &'a HeaderMap,
        principal: &'a str,
        workload: &'a str,
    ) -> RequestFacts<'a> {
        let raw_path = header(headers, ":path").unwrap_or("/");
        RequestFacts {
            client_ip: self.client_ip,
            identity: &self.caller_id,
            principal,
            method: header(headers, ":method").unwrap_or_default(),
            path: split_path_query(raw_path).0,
            authority: header(headers, ":authority").unwrap_or_default(),
            workload,
            headers,
        }
    }

    /// The mTLS principal, when the host read it early (a principal rule needed it).
    pub fn record_principal(&mut self, principal: &str) {
        encode::put_str(&mut self.event, tag::PEER_PRINCIPAL, principal);
        self.principal_recorded = true;
    }

    pub fn principal_recorded(&self) -> bool {
        self.principal_recorded
    }

    /// The block list's decision on this request.
    pub fn record_verdict(&mut self, decision: &blocklist::Decision<'_>) {
        for rule in &decision.rate_limited {
            encode::put_repeated_str(&mut self.event, tag::RATE_LIMITED_RULES, rule);
        }
        let Some(rule_id) = decision.rule_id else { return };
        let verdict = match decision.verdict {
            blocklist::Verdict::Allow => 0,
            blocklist::Verdict::Block => 1,
            blocklist::Verdict::DryRun => 2,
        };
        encode::put_u64(&mut self.event, tag::VERDICT, verdict);
        encode::put_str(&mut self.event, tag::BLOCK_RULE_ID, rule_id);
    }
}

#[cfg(test)]
mod tests;
