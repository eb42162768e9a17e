//! A proxy-wasm HTTP filter with no logic, so benchmarks can separate the cost of running
//! any wasm module in Envoy from the cost of Meshward's work.
//!
//! With the plugin configuration `host_reads` it makes, per exchange, the host calls the
//! Meshward filter makes for a deeply inspected exchange (both header maps, both bodies chunk by
//! chunk, the clock twice, the peer address and the mTLS SAN) and throws the answers away: the
//! floor under any filter that records what Meshward records, whatever its own code costs. With
//! `metadata_reads` it makes those of a metadata-only exchange: the same without the bodies.
use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, BufferType, ContextType, LogLevel, MapType};

proxy_wasm::main! {{
    proxy_wasm::set_log_level(LogLevel::Warn);
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> { Box::new(NoopRoot { reads: Reads::None }) });
}}

#[derive(Clone, Copy, PartialEq)]
enum Reads {
    None,
    Metadata,
    All,
}

struct NoopRoot {
    reads: Reads,
}
impl Context for NoopRoot {}
impl RootContext for NoopRoot {
    fn on_configure(&mut self, size: usize) -> bool {
        let config = hostcalls::get_buffer(BufferType::PluginConfiguration, 0, size).ok().flatten();
        // the words alone, without a JSON parser: this module stays as small as a module can be
        let has = |key: &[u8]| config.as_ref().is_some_and(|c| c.windows(key.len()).any(|w| w == key));
        self.reads = if has(b"metadata_reads") {
            Reads::Metadata
        } else if has(b"host_reads") {
            Reads::All
        } else {
            Reads::None
        };
        true
    }
    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
    fn create_http_context(&self, _id: u32) -> Option<Box<dyn HttpContext>> {
        match self.reads {
            Reads::None => Some(Box::new(NoopHttp)),
            reads => Some(Box::new(HostReads { bodies: reads == Reads::All })),
        }
    }
}

struct NoopHttp;
impl Context for NoopHttp {}
impl HttpContext for NoopHttp {}

/// Reads what Meshward reads and keeps nothing.
struct HostReads {
    bodies: bool,
}
impl Context for HostReads {}
impl HttpContext for HostReads {
    fn on_http_request_headers(&mut self, _: usize, _: bool) -> Action {
        let _ = hostcalls::get_current_time();
        let _ = hostcalls::get_map_bytes(MapType::HttpRequestHeaders);
        let _ = hostcalls::get_property(vec!["source", "address"]);
        Action::Continue
    }
    fn on_http_request_body(&mut self, size: usize, _: bool) -> Action {
        if self.bodies && size > 0 {
            let _ = hostcalls::get_buffer(BufferType::HttpRequestBody, 0, size);
        }
        Action::Continue
    }
    fn on_http_response_headers(&mut self, _: usize, _: bool) -> Action {
        let _ = hostcalls::get_map_bytes(MapType::HttpResponseHeaders);
        Action::Continue
    }
    fn on_http_response_body(&mut self, size: usize, _: bool) -> Action {
        if self.bodies && size > 0 {
            let _ = hostcalls::get_buffer(BufferType::HttpResponseBody, 0, size);
        }
        Action::Continue
    }
    fn on_log(&mut self) {
        let _ = hostcalls::get_current_time();
        let _ = hostcalls::get_property(vec!["connection", "uri_san_peer_certificate"]);
    }
}
