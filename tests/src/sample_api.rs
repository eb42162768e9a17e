//! A small, realistic API to put behind Envoy: users, orders, products and a login, with IDs
//! in paths and JSON bodies. Runs in-process on a free loopback port.

use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::task::JoinHandle;

/// The password the login accepts (any user name).
pub const PASSWORD: &str = "correct-horse-battery";

pub struct SampleApi {
    pub port: u16,
    /// faults to turn on while it runs (the demo's error and latency incidents)
    pub chaos: Arc<Chaos>,
    task: JoinHandle<()>,
}

/// A fault on the paths under a prefix: each answer waits `delay_ms`, and every
/// `fail_every`-th one is a 503 (0: none).
#[derive(Debug, Clone, Default)]
pub struct Fault {
    pub prefix: String,
    pub delay_ms: u64,
    pub fail_every: u64,
}

#[derive(Debug, Default)]
pub struct Chaos {
    fault: Mutex<Option<Fault>>,
    seen: AtomicU64,
}

impl Chaos {
    /// Turns a fault on (`Some`) or off (`None`).
    pub fn set(&self, fault: Option<Fault>) {
        if let Ok(mut current) = self.fault.lock() {
            *current = fault;
        }
    }

    fn current(&self, path: &str) -> Option<Fault> {
        self.fault.lock().ok().and_then(|f| f.clone()).filter(|f| path.starts_with(&f.prefix))
    }
}

async fn chaos_layer(State(chaos): State<Arc<Chaos>>, request: Request, next: Next) -> Response {
    if let Some(fault) = chaos.current(request.uri().path()) {
        if fault.delay_ms > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(fault.delay_ms)).await;
        }
        let n = chaos.seen.fetch_add(1, Ordering::Relaxed);
        if fault.fail_every > 0 && n % fault.fail_every == 0 {
            return (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"error": "upstream unavailable"}))).into_response();
        }
    }
    next.run(request).await
}

impl Drop for SampleApi {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl SampleApi {
    pub async fn start() -> anyhow::Result<SampleApi> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let chaos = Arc::new(Chaos::default());
        let app = router().layer(axum::middleware::from_fn_with_state(chaos.clone(), chaos_layer));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(SampleApi { port, chaos, task })
    }
}

pub fn router() -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/api/login", post(login))
        .route("/api/users/me", get(me))
        .route("/api/users/{id}", get(user))
        .route("/api/users/{id}/orders", get(user_orders))
        .route("/api/orders", post(create_order))
        .route("/api/orders/{id}", get(order).delete(delete_order))
        .route("/api/products", get(products))
        .route("/api/products/{sku}", get(product))
        .route("/api/reports/monthly", get(monthly_report))
        // not in tests/fixtures/sample-api.openapi.yaml: a shadow endpoint when called
        .route("/api/internal/export", get(export))
        .route("/bench", get(bench_get).post(bench_post))
        .route("/bench16", post(bench16_post))
}

fn authorized(headers: &HeaderMap) -> bool {
    headers.get("authorization").is_some_and(|v| v.as_bytes().starts_with(b"Bearer "))
        || headers.contains_key("x-api-key")
}

fn unauthorized() -> Response {
    (StatusCode::UNAUTHORIZED, Json(json!({"error": "missing credentials"}))).into_response()
}

fn user_json(id: u64) -> Value {
    json!({
        "id": id,
        "name": format!("User {id}"),
        "email": format!("user{id}@example.com"),
        "phone": "+1-202-555-0147",
        "address": {"street": "1 Main St", "city": "Springfield", "zip": "12345"},
        "roles": ["customer"],
        "active": true
    })
}

async fn login(Json(body): Json<Value>) -> Response {
    let user = body.get("username").and_then(Value::as_str).unwrap_or("");
    if body.get("password").and_then(Value::as_str) == Some(PASSWORD) && !user.is_empty() {
        Json(json!({"token": format!("sk_live_{user}_5f2b9c0e7a1d4c3b"), "expires_in": 3600})).into_response()
    } else {
        (StatusCode::UNAUTHORIZED, Json(json!({"error": "invalid credentials"}))).into_response()
    }
}

async fn me(headers: HeaderMap) -> Response {
    if !authorized(&headers) {
        return unauthorized();
    }
    Json(user_json(1)).into_response()
}

/// `?expand=payment` adds the card on file and `?include=friends` forty friends' addresses:
/// the careless options the demo's data-exposure incidents use.
async fn user(headers: HeaderMap, Path(id): Path<u64>, Query(query): Query<HashMap<String, String>>) -> Response {
    if !authorized(&headers) {
        return unauthorized();
    }
    if id > 1000 {
        return (StatusCode::NOT_FOUND, Json(json!({"error": "no such user"}))).into_response();
    }
    let mut user = user_json(id);
    if query.get("expand").is_some_and(|e| e == "payment") {
        user["payment"] = json!({"card_number": "4111 1111 1111 1111", "expiry": "12/29"});
    }
    if query.get("include").is_some_and(|e| e == "friends") {
        user["friends"] = (0..40)
            .map(|f| json!({"name": format!("Friend {f}"), "email": format!("friend{f}.of{id}@example.com")}))
            .collect();
    }
    Json(user).into_response()
}

async fn monthly_report() -> Json<Value> {
    Json(json!({"month": "2026-10", "orders": 1234, "revenue": 56789.5}))
}

async fn export() -> Json<Value> {
    Json(json!({"rows": (0..3).map(|i| json!({"order": i, "total": 10.0 * f64::from(i)})).collect::<Vec<_>>()}))
}

async fn user_orders(headers: HeaderMap, Path(id): Path<u64>) -> Response {
    if !authorized(&headers) {
        return unauthorized();
    }
    Json(json!([
        {"id": format!("3fa85f64-5717-4562-b3fc-{id:012}"), "total": 12.5, "items": [{"sku": "SKU-000123", "qty": 2}]},
        {"id": format!("7c9e6679-7425-40de-944b-{id:012}"), "total": 3, "items": []}
    ]))
    .into_response()
}

async fn create_order(headers: HeaderMap, Json(body): Json<Value>) -> Response {
    if !authorized(&headers) {
        return unauthorized();
    }
    if body.get("items").and_then(Value::as_array).is_none_or(|items| items.is_empty()) {
        return (StatusCode::BAD_REQUEST, Json(json!({"error": "items required"}))).into_response();
    }
    (StatusCode::CREATED, Json(json!({"id": "9b2f6c1e-3d4a-4b5c-8d7e-0f1a2b3c4d5e", "status": "created"})))
        .into_response()
}

async fn order(headers: HeaderMap, Path(id): Path<String>) -> Response {
    if !authorized(&headers) {
        return unauthorized();
    }
    Json(json!({"id": id, "status": "shipped", "total": 42.0, "shipping": {"city": "Springfield"}})).into_response()
}

async fn delete_order(headers: HeaderMap, Path(_id): Path<String>) -> Response {
    if !authorized(&headers) {
        return unauthorized();
    }
    StatusCode::NO_CONTENT.into_response()
}

async fn products(Query(query): Query<HashMap<String, String>>) -> Response {
    let page: u64 = query.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
    let items: Vec<Value> = (0..3)
        .map(|i| json!({"sku": format!("SKU-{:06}", page * 10 + i), "name": "Widget", "price": 9.99, "in_stock": true}))
        .collect();
    Json(json!({"page": page, "items": items})).into_response()
}

async fn product(Path(sku): Path<String>) -> Response {
    Json(json!({"sku": sku, "name": "Widget", "price": 9.99, "tags": ["tools", "home"]})).into_response()
}

/// 1 KiB JSON for the benchmarks.
fn kib_json() -> Value {
    json!({"id": 1, "name": "bench", "items": (0..12).map(|i| json!({"sku": format!("SKU-{i:06}"), "qty": i, "price": 1.5})).collect::<Vec<_>>(), "pad": "x".repeat(300)})
}

async fn bench_get() -> Json<Value> {
    Json(kib_json())
}

async fn bench_post(Json(_body): Json<Value>) -> Json<Value> {
    Json(kib_json())
}

/// The JSON body the benchmark sends (about 1 KiB).
pub fn bench_body() -> String {
    kib_json().to_string()
}

/// About 16 KiB of JSON: a page of customer records, the kind of body detection reads.
fn json_16k() -> Value {
    let customers: Vec<Value> = (0..40)
        .map(|i| {
            json!({"id": 1000 + i, "name": format!("Customer {i} O'Neil"), "email": format!("customer{i}@example.com"),
                   "phone": format!("+1 415 555 {:04}", i), "address": {"street": format!("{} Main St", i + 1),
                   "city": "Springfield", "zip": format!("{:05}", 10_000 + i)}, "plan": "pro", "active": true,
                   "notes": "Prefers email; called about an invoice last week, resolved."})
        })
        .collect();
    json!({"data": customers, "page": 1, "has_more": true})
}

async fn bench16_post(Json(_body): Json<Value>) -> Json<Value> {
    Json(json_16k())
}

/// The 16 KiB JSON body of the large-body benchmark.
pub fn bench_body_16k() -> String {
    json_16k().to_string()
}
