//! The collector's HTTP API: liveness, readiness and Prometheus metrics, the token-protected
//! inventory (`inventory`) and block rules (`blocklist`).

pub mod access;
pub mod alerts;
pub mod blocklist;
pub mod inventory;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use metrics_exporter_prometheus::PrometheusHandle;
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// What readiness looks at.
#[derive(Clone)]
pub struct ApiState {
    pub inventory: Arc<inventory::InventoryApi>,
    pub blocklist: Arc<blocklist::BlocklistApi>,
    pub alerts: Arc<alerts::AlertsApi>,
    pub metrics: PrometheusHandle,
    pub schema_ready: Arc<AtomicBool>,
    pub store_healthy: Arc<AtomicBool>,
    pub spool: crate::spool::Spool,
}

pub fn router(state: ApiState) -> Router {
    let inventory = inventory::router(state.inventory.clone());
    let blocklist = blocklist::router(state.blocklist.clone());
    let alerts = alerts::router(state.alerts.clone());
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(state)
        .merge(inventory)
        .merge(blocklist)
        .merge(alerts)
}

async fn readyz(State(state): State<ApiState>) -> (StatusCode, Json<serde_json::Value>) {
    let schema = state.schema_ready.load(Ordering::Relaxed);
    let store = state.store_healthy.load(Ordering::Relaxed);
    let spool_full = state.spool.is_full();
    let ready = schema && store && !spool_full;
    let body = json!({
        "ready": ready,
        "schema": schema,
        "clickhouse_writes_ok": store,
        "spool_bytes": state.spool.bytes_used(),
        "spool_full": spool_full,
    });
    (if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE }, Json(body))
}

async fn metrics(State(state): State<ApiState>) -> String {
    state.metrics.render()
}
