//! One HTTP exchange: hands what Envoy passes over to the recorder (`core::recorder`), enforces
//! the block list, and queues the encoded event.
//!
//! Host calls are the filter's main cost (BENCHMARKS.md, "The floor"), so each exchange makes
//! few: one header-map read per direction, the peer address, body reads only for an exchange
//! the inspection budget chose, the mTLS principal and the clock at the end.

use crate::host::{now_ms, now_us, property_string, property_u64};
use crate::shared::Shared;
use meshward_core::blocklist;
use meshward_core::detect::Direction;
use meshward_core::recorder::{End, HeaderMap};
use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::{Action, BufferType, MapType};
use std::cell::RefCell;
use std::rc::Rc;

pub struct Exchange {
    shared: Rc<RefCell<Shared>>,
    /// `None` until the request headers arrive (and if the VM's state was busy then)
    recording: Option<meshward_core::Exchange>,
}

impl Exchange {
    pub fn new(shared: Rc<RefCell<Shared>>) -> Self {
        Exchange { shared, recording: None }
    }

    /// Reads what the recorder wants of a body chunk. The time it takes counts against the
    /// inspection budget.
    fn body_chunk(&mut self, direction: Direction, buffer: BufferType, size: usize) {
        let Some(recording) = self.recording.as_mut() else { return };
        let room = self.shared.try_borrow().map_or(0, |s| s.recorder.body_room(recording, direction)).min(size);
        if room > 0 {
            let started = now_us();
            if let Ok(Some(bytes)) = hostcalls::get_buffer(buffer, 0, room) {
                recording.body_data(direction, &bytes);
            }
            recording.add_read_cost(now_us().saturating_sub(started));
        }
        recording.body_seen(direction, size);
    }
}

/// Checks the request against the block list; a block answers 403 here, before the request
/// reaches the application. The event records the verdict either way.
fn enforce(shared: &mut Shared, recording: &mut meshward_core::Exchange, headers: &HeaderMap, now_ms: u64) -> bool {
    let list = shared.blocklist.list.clone();
    if list.is_empty() {
        return false;
    }
    let principal = if list.needs_principal {
        let principal = property_string(vec!["connection", "uri_san_peer_certificate"]).unwrap_or_default();
        recording.record_principal(&principal);
        principal
    } else {
        String::new()
    };
    let workload = shared.recorder.node().workload.clone();
    let facts = recording.block_facts(headers, &principal, &workload);
    let decision = list.decide(&facts, now_ms);
    recording.record_verdict(&decision);
    let Some(rule_id) = decision.rule_id else { return false };
    *shared.rule_hits.entry(rule_id.to_owned()).or_default() += 1;
    if decision.verdict == blocklist::Verdict::DryRun {
        shared.counts.dry_run += 1;
        return false;
    }
    shared.counts.blocked += 1;
    let request_id = headers.iter().find(|(n, _)| n == "x-request-id").map(|(_, v)| String::from_utf8_lossy(v));
    let body = serde_json::json!({
        "error": "request blocked by policy",
        "rule_id": rule_id,
        "request_id": request_id.unwrap_or_default(),
    })
    .to_string();
    let headers = vec![("content-type", "application/json"), ("x-meshward-block-rule", rule_id)];
    // fail open: if Envoy cannot answer for us, the request goes on
    hostcalls::send_http_response(403, headers, Some(body.as_bytes())).is_ok()
}

impl Context for Exchange {}

impl HttpContext for Exchange {
    fn on_http_request_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        let now = now_us();
        let headers: Vec<(String, Vec<u8>)> = hostcalls::get_map_bytes(MapType::HttpRequestHeaders).unwrap_or_default();
        let source_address = property_string(vec!["source", "address"]).unwrap_or_default();
        let Ok(mut shared) = self.shared.try_borrow_mut() else { return Action::Continue };
        // the principal costs a host call: read only when a forwarded header from a peer
        // trusted by principal needs it
        let principal = || property_string(vec!["connection", "uri_san_peer_certificate"]);
        let mut recording = shared.recorder.request_headers_from(&headers, &source_address, principal, now);
        let blocked = enforce(&mut shared, &mut recording, &headers, now / 1000);
        self.recording = Some(recording);
        if blocked {
            Action::Pause
        } else {
            Action::Continue
        }
    }

    fn on_http_request_body(&mut self, body_size: usize, _end_of_stream: bool) -> Action {
        self.body_chunk(Direction::Request, BufferType::HttpRequestBody, body_size);
        Action::Continue
    }

    fn on_http_response_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        let Some(recording) = self.recording.as_mut() else { return Action::Continue };
        let headers: Vec<(String, Vec<u8>)> =
            hostcalls::get_map_bytes(MapType::HttpResponseHeaders).unwrap_or_default();
        if let Ok(mut shared) = self.shared.try_borrow_mut() {
            shared.recorder.response_headers(recording, &headers);
        }
        Action::Continue
    }

    fn on_http_response_body(&mut self, body_size: usize, _end_of_stream: bool) -> Action {
        self.body_chunk(Direction::Response, BufferType::HttpResponseBody, body_size);
        Action::Continue
    }

    fn on_log(&mut self) {
        let Some(recording) = self.recording.take() else { return };
        let ended = now_us();
        // no response headers passed the filter: a local reply or a reset
        let status = (recording.status() == 0).then(|| property_u64(vec!["response", "code"]) as u32);
        let principal = if recording.principal_recorded() {
            String::new()
        } else {
            property_string(vec!["connection", "uri_san_peer_certificate"]).unwrap_or_default()
        };
        let Ok(mut shared) = self.shared.try_borrow_mut() else { return };
        let event_id = shared.ids.next_id();
        let clock = now_us;
        let end = End { now_us: ended, event_id, status, peer_principal: &principal, clock: &clock };
        let event = shared.recorder.finish(recording, end);
        shared.enqueue(event);
        if shared.outbox.batch_ready() {
            shared.flush(now_ms(), false);
        }
    }
}
