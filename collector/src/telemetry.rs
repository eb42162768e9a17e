//! Logs (tracing: JSON in production, readable on a terminal) and the Prometheus recorder.

use crate::config::{LogConfig, LogFormat};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

pub fn init_logs(config: &LogConfig) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&config.level));
    // the audit log is not a verbosity: it stays on at any level unless turned off
    let audit = if config.audit { "info" } else { "off" };
    let filter = match format!("{}={audit}", crate::audit::TARGET).parse() {
        Ok(directive) => filter.add_directive(directive),
        Err(_) => filter,
    };
    let json = match config.format {
        LogFormat::Json => true,
        LogFormat::Text => false,
        LogFormat::Auto => !std::io::stderr().is_terminal(),
    };
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = if json { builder.json().flatten_event(true).try_init() } else { builder.try_init() };
}

/// Installs the global metrics recorder; `/metrics` renders from the handle.
pub fn init_metrics() -> anyhow::Result<PrometheusHandle> {
    PrometheusBuilder::new().install_recorder().map_err(|e| anyhow::anyhow!("installing the Prometheus recorder: {e}"))
}
