//! One HTTP exchange: records what the request and response carry into an `HttpEvent`.

use crate::config::FilterConfig;
use crate::root::now_ms;
use crate::shared::Shared;
use meshward_core::body::WalkLimits;
use meshward_core::identity::caller_identity;
use meshward_core::{
    forwarded_for, json_fields, query_param_names, split_path_query, template_path,
};
use meshward_proto::{BodyField, Header, HttpEvent};
use prost::Message;
use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::{Action, BufferType, MapType};
use std::cell::RefCell;
use std::rc::Rc;
use std::time::UNIX_EPOCH;

pub struct Exchange {
    shared: Rc<RefCell<Shared>>,
    config: Rc<FilterConfig>,
    event: Option<HttpEvent>,
    start_us: u64,
    request_body: Option<Vec<u8>>,
    response_body: Option<Vec<u8>>,
}

impl Exchange {
    pub fn new(shared: Rc<RefCell<Shared>>) -> Self {
        let config = shared
            .try_borrow()
            .map(|s| s.config.clone())
            .unwrap_or_default();
        Exchange {
            shared,
            config,
            event: None,
            start_us: 0,
            request_body: None,
            response_body: None,
        }
    }

    fn headers(map: MapType) -> Vec<(String, Vec<u8>)> {
        hostcalls::get_map_bytes(map).unwrap_or_default()
    }

    fn record_headers(&self, headers: &[(String, Vec<u8>)]) -> Vec<Header> {
        headers
            .iter()
            .filter(|(name, _)| !name.starts_with(':'))
            .map(|(name, value)| Header {
                name: name.clone(),
                value: self
                    .config
                    .header_value_allowlist
                    .iter()
                    .any(|allowed| allowed == name)
                    .then(|| String::from_utf8_lossy(value).into_owned()),
            })
            .collect()
    }

    fn wants_body(&self, content_type: &str) -> bool {
        self.config.capture_bodies && self.config.max_body_bytes > 0 && is_json(content_type)
    }

    fn body_fields(
        &self,
        body: Option<&Vec<u8>>,
        counts_unparsed: &mut u64,
    ) -> (Vec<BodyField>, bool) {
        let Some(body) = body.filter(|b| !b.is_empty()) else {
            return (Vec::new(), false);
        };
        let truncated = body.len() >= self.config.max_body_bytes;
        let limits = WalkLimits {
            max_fields: self.config.max_body_fields,
            ..WalkLimits::default()
        };
        match json_fields(body, limits) {
            Some(fields) => (
                fields
                    .into_iter()
                    .map(|f| BodyField {
                        path: f.path,
                        r#type: f.field_type.as_str().to_owned(),
                        sensitive_classes: Vec::new(),
                    })
                    .collect(),
                truncated,
            ),
            None => {
                *counts_unparsed += 1;
                (Vec::new(), truncated)
            }
        }
    }
}

fn header<'a>(headers: &'a [(String, Vec<u8>)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .and_then(|(_, v)| std::str::from_utf8(v).ok())
}

fn is_json(content_type: &str) -> bool {
    let mime = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    mime == "application/json" || mime.ends_with("+json")
}

fn now_us() -> u64 {
    hostcalls::get_current_time()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_micros() as u64)
}

fn property_u64(path: Vec<&str>) -> u64 {
    match hostcalls::get_property(path) {
        Ok(Some(bytes)) if bytes.len() == 8 => {
            let mut raw = [0u8; 8];
            raw.copy_from_slice(&bytes);
            u64::try_from(i64::from_le_bytes(raw)).unwrap_or(0)
        }
        _ => 0,
    }
}

fn property_string(path: Vec<&str>) -> String {
    match hostcalls::get_property(path) {
        Ok(Some(bytes)) => String::from_utf8_lossy(&bytes).into_owned(),
        _ => String::new(),
    }
}

/// Appends one body chunk, up to the cap.
fn capture_chunk(buffer: &mut Option<Vec<u8>>, kind: BufferType, chunk_size: usize, cap: usize) {
    let Some(captured) = buffer.as_mut() else {
        return;
    };
    let room = cap.saturating_sub(captured.len());
    if room == 0 || chunk_size == 0 {
        return;
    }
    if let Ok(Some(bytes)) = hostcalls::get_buffer(kind, 0, chunk_size.min(room)) {
        captured.extend_from_slice(&bytes);
    }
}

impl Context for Exchange {}

impl HttpContext for Exchange {
    fn on_http_request_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        self.start_us = now_us();
        let headers = Self::headers(MapType::HttpRequestHeaders);
        let raw_path = header(&headers, ":path").unwrap_or("/");
        let (path, query) = split_path_query(raw_path);
        let content_type = header(&headers, "content-type")
            .unwrap_or_default()
            .to_owned();
        let api_key = self
            .config
            .api_key_headers
            .iter()
            .find_map(|name| header(&headers, name));
        let identity = self.shared.try_borrow().ok().and_then(|shared| {
            caller_identity(
                &shared.identity_key,
                header(&headers, "authorization"),
                api_key,
            )
        });
        let (caller_id, caller_id_source) = identity
            .map(|i| (i.id, i.source.to_owned()))
            .unwrap_or_default();
        if self.wants_body(&content_type) {
            self.request_body = Some(Vec::new());
        }
        self.event = Some(HttpEvent {
            start_time_ms: self.start_us / 1000,
            method: header(&headers, ":method").unwrap_or_default().to_owned(),
            scheme: header(&headers, ":scheme").unwrap_or_default().to_owned(),
            authority: header(&headers, ":authority")
                .unwrap_or_default()
                .to_owned(),
            path: path.to_owned(),
            path_template: template_path(path),
            query_params: query_param_names(query),
            request_headers: self.record_headers(&headers),
            forwarded_for: header(&headers, "x-forwarded-for")
                .map(forwarded_for)
                .unwrap_or_default(),
            request_id: header(&headers, "x-request-id")
                .unwrap_or_default()
                .to_owned(),
            request_content_type: content_type,
            caller_id,
            caller_id_source,
            ..HttpEvent::default()
        });
        Action::Continue
    }

    fn on_http_request_body(&mut self, body_size: usize, _end_of_stream: bool) -> Action {
        capture_chunk(
            &mut self.request_body,
            BufferType::HttpRequestBody,
            body_size,
            self.config.max_body_bytes,
        );
        Action::Continue
    }

    fn on_http_response_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        let headers = Self::headers(MapType::HttpResponseHeaders);
        let content_type = header(&headers, "content-type")
            .unwrap_or_default()
            .to_owned();
        if self.wants_body(&content_type) {
            self.response_body = Some(Vec::new());
        }
        let recorded = self.record_headers(&headers);
        if let Some(event) = self.event.as_mut() {
            event.status = header(&headers, ":status")
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            event.response_headers = recorded;
            event.response_content_type = content_type;
        }
        Action::Continue
    }

    fn on_http_response_body(&mut self, body_size: usize, _end_of_stream: bool) -> Action {
        capture_chunk(
            &mut self.response_body,
            BufferType::HttpResponseBody,
            body_size,
            self.config.max_body_bytes,
        );
        Action::Continue
    }

    fn on_log(&mut self) {
        let Some(mut event) = self.event.take() else {
            return;
        };
        let mut unparsed = 0;
        (event.request_body_fields, event.request_body_truncated) =
            self.body_fields(self.request_body.as_ref(), &mut unparsed);
        (event.response_body_fields, event.response_body_truncated) =
            self.body_fields(self.response_body.as_ref(), &mut unparsed);
        if event.status == 0 {
            event.status = property_u64(vec!["response", "code"]) as u32;
        }
        event.duration_us = now_us().saturating_sub(self.start_us);
        event.request_body_bytes = property_u64(vec!["request", "size"]);
        event.response_body_bytes = property_u64(vec!["response", "size"]);
        event.request_total_bytes = property_u64(vec!["request", "total_size"]);
        event.response_total_bytes = property_u64(vec!["response", "total_size"]);
        event.source_address = property_string(vec!["source", "address"]);
        event.peer_principal = property_string(vec!["connection", "uri_san_peer_certificate"]);
        event.protocol = property_string(vec!["request", "protocol"]);
        let Ok(mut shared) = self.shared.try_borrow_mut() else {
            return;
        };
        event.event_id = shared.ids.next_id();
        event.workload = shared.node.workload.clone();
        event.namespace = shared.node.namespace.clone();
        shared.counts.body_unparsed += unparsed;
        shared.enqueue(event.encode_to_vec());
        if shared.outbox.batch_ready() {
            shared.flush(now_ms(), false);
        }
    }
}
