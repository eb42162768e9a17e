//! The root context of one worker VM: reads the configuration, ticks, owns the gRPC stream.

use crate::exchange::Exchange;
use crate::host::{now_ms, property_string, since_epoch};
use crate::metrics::Metrics;
use crate::shared::Shared;
use meshward_core::filter_config::FilterConfig;
use meshward_core::recorder::Node;
use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{BufferType, ContextType};
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

pub struct Root {
    shared: Rc<RefCell<Shared>>,
    metrics: Option<Metrics>,
}

impl Root {
    pub fn new() -> Self {
        Root { shared: Rc::new(RefCell::new(Shared::new(FilterConfig::default(), random_seed()))), metrics: None }
    }
}

fn random_seed() -> [u8; 16] {
    let mut seed = [0u8; 16];
    if getrandom::fill(&mut seed).is_err() {
        // No entropy from the host: fall back to the clock, still unique per VM start in practice.
        seed = since_epoch().map_or(0, |d| d.as_nanos()).to_le_bytes();
    }
    seed
}

/// Node metadata: `xds.node.*` in Envoy 1.40 (measured), `node.*` in older releases.
fn node_property(tail: &[&str]) -> Option<String> {
    ["xds", ""].iter().find_map(|prefix| {
        let mut path: Vec<&str> = if prefix.is_empty() { vec!["node"] } else { vec![prefix, "node"] };
        path.extend_from_slice(tail);
        property_string(path)
    })
}

fn node_info() -> Node {
    let workload = node_property(&["metadata", "WORKLOAD_NAME"])
        .or_else(|| node_property(&["metadata", "NAME"]))
        .or_else(|| node_property(&["id"]))
        .unwrap_or_default();
    let namespace = node_property(&["metadata", "NAMESPACE"]).unwrap_or_default();
    Node { workload, namespace }
}

impl Context for Root {
    fn on_grpc_stream_message(&mut self, _token_id: u32, message_size: usize) {
        let message = hostcalls::get_buffer(BufferType::GrpcReceiveBuffer, 0, message_size).ok().flatten();
        if let (Some(message), Ok(mut shared)) = (message, self.shared.try_borrow_mut()) {
            shared.on_ack(&message);
        }
    }

    fn on_http_call_response(&mut self, token_id: u32, _num_headers: usize, body_size: usize, _num_trailers: usize) {
        if let Ok(mut shared) = self.shared.try_borrow_mut() {
            let Shared { blocklist, counts, .. } = &mut *shared;
            blocklist.on_response(token_id, body_size, counts);
        }
    }

    fn on_grpc_stream_close(&mut self, token_id: u32, status_code: u32) {
        if let Ok(mut shared) = self.shared.try_borrow_mut() {
            shared.on_stream_closed(token_id, status_code, now_ms());
        }
    }
}

impl RootContext for Root {
    fn on_configure(&mut self, plugin_configuration_size: usize) -> bool {
        let bytes = hostcalls::get_buffer(BufferType::PluginConfiguration, 0, plugin_configuration_size)
            .ok()
            .flatten()
            .unwrap_or_default();
        let Ok(mut shared) = self.shared.try_borrow_mut() else {
            return true;
        };
        let config = match FilterConfig::parse(&bytes) {
            Ok(config) => config,
            Err(err) => {
                // Fail open: a bad configuration must not take traffic down.
                log::warn!("meshward: {err}; using the default configuration");
                shared.counts.config_errors += 1;
                FilterConfig::default()
            }
        };
        let _ = hostcalls::set_tick_period(Duration::from_millis(config.tick_ms()));
        shared.reconfigure(config);
        shared.recorder.set_node(node_info());
        // a reloaded VM starts empty: take the list the other VMs hold at once
        let Shared { blocklist, counts, .. } = &mut *shared;
        blocklist.adopt_shared(counts);
        if self.metrics.is_none() {
            self.metrics = Some(Metrics::define());
        }
        true
    }

    fn on_tick(&mut self) {
        let Ok(mut shared) = self.shared.try_borrow_mut() else {
            return;
        };
        let now = now_ms();
        shared.recorder.tick(now.saturating_mul(1000));
        if now >= shared.next_flush_ms {
            shared.flush(now, true);
            shared.next_flush_ms = now + shared.config.flush_interval_ms;
        }
        let config = shared.config.clone();
        let Shared { blocklist, counts, rule_hits, recorder, .. } = &mut *shared;
        blocklist.tick(&config.blocklist, &config.collector_token, now, counts);
        if let Some(metrics) = self.metrics.as_mut() {
            metrics.report(counts, &recorder.stats(), rule_hits);
        }
    }

    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Exchange::new(self.shared.clone())))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}
