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
    router_and_routes(state).0
}

/// The router, and every token-protected route with the scope it needs (for the test that
/// walks them all).
pub fn router_and_routes(state: ApiState) -> (Router, Vec<access::Route>) {
    let (inventory, mut routes) = inventory::router(state.inventory.clone());
    let (blocklist, more) = blocklist::router(state.blocklist.clone());
    routes.extend(more);
    let (alerts, more) = alerts::router(state.alerts.clone());
    routes.extend(more);
    let api = inventory.merge(blocklist).merge(alerts).layer(middleware::from_fn(answer_in_time));
    let router = Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/readyz/ingest", get(ready_for_ingest))
        .route("/metrics", get(metrics))
        .with_state(state)
        .merge(api);
    (router, routes)
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

#[cfg(test)]
mod tests {
    use super::access::{Access, Scope};
    use super::*;

    const READ: &str = "read-token-0123456789abcdef";
    const ADMIN: &str = "admin-token-0123456789abcdef";
    const INGEST: &str = "ingest-token-0123456789abcdef";

    /// The API over a ClickHouse that is not there: refusals come before any handler runs,
    /// and a handler that runs answers 503.
    fn state(dir: &std::path::Path) -> anyhow::Result<ApiState> {
        let mut config = crate::config::Config::default();
        config.spool.dir = dir.join("spool");
        config.clickhouse.url = "http://127.0.0.1:1".into();
        let access = Arc::new(Access::new(&[READ.to_owned()], &[ADMIN.to_owned()], INGEST));
        let store = crate::inventory::InventoryStore::connect(&config.clickhouse, crate::inventory::Pins::default());
        let blocklist = Arc::new(crate::blocklist::Blocklist::new(
            crate::store::connect(&config.clickhouse),
            config.clickhouse.url.clone(),
            config.clickhouse.database.clone(),
        ));
        let detector = crate::detect::Detector::connect(&config.clickhouse, config.detect.clone());
        let (spool, _reader) = crate::spool::open(&config.spool)?;
        Ok(ApiState {
            inventory: Arc::new(inventory::InventoryApi { store, access: access.clone() }),
            blocklist: Arc::new(blocklist::BlocklistApi { blocklist, access: access.clone() }),
            alerts: Arc::new(alerts::AlertsApi { detector, access }),
            metrics: metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder().handle(),
            schema_ready: Arc::default(),
            store_healthy: Arc::default(),
            clickhouse_reachable: Arc::default(),
            spool,
        })
    }

    #[tokio::test]
    async fn every_route_refuses_missing_and_wrong_tokens_and_each_token_keeps_to_its_scope() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let (router, routes) = router_and_routes(state(dir.path())?);
        assert!(routes.len() >= 20, "{routes:?}");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let server = tokio::spawn(async move { axum::serve(listener, router).await });
        let client = reqwest::Client::new();
        for route in &routes {
            let path = route.path.replace("{host}", "shop.example").replace("{id}", "r-1").replace("{action}", "ack");
            let url = format!("http://{address}{path}");
            let status = |token: Option<&'static str>| {
                let mut request = client.request(route.method.clone(), &url);
                if let Some(token) = token {
                    request = request.bearer_auth(token);
                }
                async move { request.send().await.map(|r| r.status().as_u16()) }
            };
            let what = format!("{} {}", route.method, route.path);
            // what changes anything needs an admin token
            if route.method != reqwest::Method::GET {
                assert_eq!(route.scope, Scope::Admin, "{what} changes state: it needs the admin scope");
            }
            assert_eq!(status(None).await?, 401, "{what} without a token");
            assert_eq!(status(Some("wrong-token-0123456789abcdef")).await?, 401, "{what} with a wrong token");
            let read = status(Some(READ)).await?;
            let ingest = status(Some(INGEST)).await?;
            let admin = status(Some(ADMIN)).await?;
            assert!(admin != 401 && admin != 403, "{what}: the admin token was refused ({admin})");
            match route.scope {
                Scope::Admin => assert_eq!((read, ingest), (403, 401), "{what}: read and ingest tokens"),
                Scope::Read => {
                    assert!(read != 401 && read != 403, "{what}: the read token was refused ({read})");
                    assert_eq!(ingest, 401, "{what}: the ingest token reads only the block list");
                }
                Scope::Filter => assert!(
                    ![401, 403].contains(&read) && ![401, 403].contains(&ingest),
                    "{what}: the block list is for filters and readers ({read}, {ingest})"
                ),
            }
        }
        server.abort();
        Ok(())
    }
}
