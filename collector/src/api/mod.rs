//! The collector's HTTP API: liveness, readiness and Prometheus metrics, the token-protected
//! inventory (`inventory`) and block rules (`blocklist`).

pub mod access;
pub mod alerts;
pub mod blocklist;
pub mod inventory;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
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
    /// whether ClickHouse answered the last probe (`store::ping`) in time
    pub clickhouse_reachable: Arc<AtomicBool>,
    pub spool: crate::spool::Spool,
}

pub fn router(state: ApiState) -> Router {
    let inventory = inventory::router(state.inventory.clone());
    let blocklist = blocklist::router(state.blocklist.clone());
    let alerts = alerts::router(state.alerts.clone());
    let api = inventory.merge(blocklist).merge(alerts).layer(middleware::from_fn(answer_in_time));
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/readyz/ingest", get(ready_for_ingest))
        .route("/metrics", get(metrics))
        .with_state(state)
        .merge(api)
}

/// How long an API request may take; its ClickHouse queries are what can take long.
pub const ANSWER_WITHIN: std::time::Duration = std::time::Duration::from_secs(15);

/// Answers 503 when a request is not done within `ANSWER_WITHIN` (ClickHouse stopped or
/// overloaded), instead of keeping the caller waiting for as long as the server is away.
async fn answer_in_time(request: Request, next: Next) -> Response {
    match tokio::time::timeout(ANSWER_WITHIN, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            metrics::counter!("meshward_api_timeouts_total").increment(1);
            let message = format!("ClickHouse did not answer within {} s; try again later", ANSWER_WITHIN.as_secs());
            access::error(StatusCode::SERVICE_UNAVAILABLE, message).into_response()
        }
    }
}

/// Whether the collector acknowledges batches: its spool is below quota. ClickHouse may be
/// away meanwhile, which is what the spool is for; this is the Kubernetes readiness probe, so a
/// ClickHouse outage does not take the collector out of its Service and leave the filters to
/// drop what their buffers cannot hold.
async fn ready_for_ingest(State(state): State<ApiState>) -> (StatusCode, Json<serde_json::Value>) {
    let spool_full = state.spool.is_full();
    let body = json!({"ready": !spool_full, "spool_bytes": state.spool.bytes_used(), "spool_full": spool_full});
    (if spool_full { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::OK }, Json(body))
}

/// Whether everything works: the schema is applied, ClickHouse answers and takes the writer's
/// INSERTs, the spool is below quota. For operators and monitors.
async fn readyz(State(state): State<ApiState>) -> (StatusCode, Json<serde_json::Value>) {
    let schema = state.schema_ready.load(Ordering::Relaxed);
    let store = state.store_healthy.load(Ordering::Relaxed);
    let reachable = state.clickhouse_reachable.load(Ordering::Relaxed);
    let spool_full = state.spool.is_full();
    let ready = schema && store && reachable && !spool_full;
    let body = json!({
        "ready": ready,
        "schema": schema,
        "clickhouse_reachable": reachable,
        "clickhouse_writes_ok": store,
        "spool_bytes": state.spool.bytes_used(),
        "spool_full": spool_full,
    });
    (if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE }, Json(body))
}

async fn metrics(State(state): State<ApiState>) -> String {
    state.metrics.render()
}
