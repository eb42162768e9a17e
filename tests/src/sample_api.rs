//! A small, realistic API to put behind Envoy: users, orders, products and a login, with IDs
//! in paths and JSON bodies. Runs in-process on a free loopback port.

use axum::extract::{Path, Query};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::collections::HashMap;
use tokio::task::JoinHandle;

/// The password the login accepts (any user name).
pub const PASSWORD: &str = "correct-horse-battery";

pub struct SampleApi {
    pub port: u16,
    task: JoinHandle<()>,
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
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router()).await;
        });
        Ok(SampleApi { port, task })
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

async fn user(headers: HeaderMap, Path(id): Path<u64>) -> Response {
    if !authorized(&headers) {
        return unauthorized();
    }
    if id > 1000 {
        return (StatusCode::NOT_FOUND, Json(json!({"error": "no such user"}))).into_response();
    }
    Json(user_json(id)).into_response()
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
