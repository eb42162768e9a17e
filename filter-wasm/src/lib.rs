//! Meshward's proxy-wasm filter: thin glue between Envoy and `meshward-core`.
//!
//! Each worker's VM has one root context that owns the outbox and the gRPC stream to the
//! collector, and one HTTP context per exchange that records the exchange into an event.
//! The filter fails open: every host call's error is handled, nothing on the request path
//! blocks on the collector, and what cannot be kept is dropped and counted.

mod blocklist;
mod exchange;
mod host;
mod metrics;
mod root;
mod shared;

pub use meshward_core::filter_config::FilterConfig;

use proxy_wasm::traits::RootContext;
use proxy_wasm::types::LogLevel;

proxy_wasm::main! {{
    proxy_wasm::set_log_level(LogLevel::Warn);
    proxy_wasm::set_root_context(|_context_id| -> Box<dyn RootContext> { Box::new(root::Root::new()) });
}}
