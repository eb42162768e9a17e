//! `/api/v1`: the API inventory, its standing against the uploaded OpenAPI specs, and the
//! specs themselves. Bearer tokens: `api.read_tokens` read, `api.admin_tokens` also upload.

use super::access::{error, Access, ApiError, Guarded, Route, Scope};
use crate::inventory::{self, openapi, Endpoint};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

/// What the inventory routes need.
pub struct InventoryApi {
    pub store: inventory::InventoryStore,
    pub access: Arc<Access>,
}

fn unavailable(what: &str, e: impl std::fmt::Display) -> ApiError {
    error(StatusCode::SERVICE_UNAVAILABLE, format!("{what}: {e}"))
}

impl InventoryApi {
    async fn endpoints(&self, host: Option<&str>) -> Result<Vec<Endpoint>, ApiError> {
        self.store.endpoints(host).await.map_err(|e| unavailable("reading the inventory", e))
    }

    async fn spec(&self, host: &str) -> Result<Option<String>, ApiError> {
        self.store.spec(host).await.map_err(|e| unavailable("reading the spec", e))
    }

    async fn comparison(&self, host: &str, since_days: u64) -> Result<openapi::Comparison, ApiError> {
        match self.store.comparison(host, since_days).await {
            Ok(Some(comparison)) => Ok(comparison),
            Ok(None) => {
                Err(error(StatusCode::NOT_FOUND, format!("no spec uploaded for host {host}: PUT /api/v1/specs/{host}")))
            }
            Err(inventory::InventoryError::BadSpec { error: e, .. }) => {
                Err(error(StatusCode::INTERNAL_SERVER_ERROR, format!("stored spec: {e}")))
            }
            Err(e) => Err(unavailable("comparing with the spec", e)),
        }
    }
}

type Shared = Arc<InventoryApi>;

pub fn router(api: Shared) -> (Router, Vec<Route>) {
    Guarded::new(api.access.clone())
        .route(Scope::Read, Method::GET, "/api/v1/endpoints", list_endpoints)
        .route(Scope::Read, Method::GET, "/api/v1/endpoint", one_endpoint)
        .route(Scope::Read, Method::GET, "/api/v1/shadow", shadow)
        .route(Scope::Read, Method::GET, "/api/v1/zombies", zombies)
        .route(Scope::Read, Method::GET, "/api/v1/specs/{host}", get_spec)
        .route(Scope::Admin, Method::PUT, "/api/v1/specs/{host}", put_spec)
        .route(Scope::Read, Method::GET, "/api/v1/specs/{host}/reconstructed", reconstructed)
        .route(Scope::Read, Method::GET, "/api/v1/pins", list_pins)
        .route(Scope::Admin, Method::POST, "/api/v1/pins", add_pin)
        .route(Scope::Admin, Method::DELETE, "/api/v1/pins", remove_pin)
        .build(api)
}

#[derive(Deserialize)]
struct Filter {
    host: Option<String>,
    method: Option<String>,
    template: Option<String>,
    #[serde(default = "default_since_days")]
    since_days: u64,
}

fn default_since_days() -> u64 {
    30
}

async fn list_endpoints(State(api): State<Shared>, Query(f): Query<Filter>) -> Response {
    match api.endpoints(f.host.as_deref()).await {
        Ok(list) => {
            let list: Vec<Endpoint> = list
                .into_iter()
                .filter(|e| f.method.as_ref().is_none_or(|m| m.eq_ignore_ascii_case(&e.method)))
                .collect();
            Json(json!({"endpoints": list})).into_response()
        }
        Err(r) => r.into_response(),
    }
}

async fn one_endpoint(State(api): State<Shared>, Query(f): Query<Filter>) -> Response {
    let (Some(host), Some(method), Some(template)) = (f.host.as_deref(), f.method.as_deref(), f.template.as_deref())
    else {
        return error(StatusCode::BAD_REQUEST, "host, method and template are required").into_response();
    };
    match api.endpoints(Some(host)).await {
        Ok(list) => match list.into_iter().find(|e| e.method.eq_ignore_ascii_case(method) && e.template == template) {
            Some(endpoint) => Json(endpoint).into_response(),
            None => error(StatusCode::NOT_FOUND, format!("no endpoint {method} {template} on {host}")).into_response(),
        },
        Err(r) => r.into_response(),
    }
}

async fn shadow(State(api): State<Shared>, Query(f): Query<Filter>) -> Response {
    let Some(host) = f.host.as_deref() else {
        return error(StatusCode::BAD_REQUEST, "host is required").into_response();
    };
    match api.comparison(host, f.since_days).await {
        Ok(c) => {
            let shadow: Vec<_> = c.endpoints.into_iter().filter(|e| e.status == openapi::Status::Shadow).collect();
            Json(json!({"host": host, "shadow": shadow})).into_response()
        }
        Err(r) => r.into_response(),
    }
}

async fn zombies(State(api): State<Shared>, Query(f): Query<Filter>) -> Response {
    let Some(host) = f.host.as_deref() else {
        return error(StatusCode::BAD_REQUEST, "host is required").into_response();
    };
    match api.comparison(host, f.since_days).await {
        Ok(c) => Json(json!({"host": host, "since_days": f.since_days, "zombies": c.zombies})).into_response(),
        Err(r) => r.into_response(),
    }
}

async fn get_spec(State(api): State<Shared>, Path(host): Path<String>) -> Response {
    match api.spec(&host).await {
        Ok(Some(text)) => text.into_response(),
        Ok(None) => error(StatusCode::NOT_FOUND, format!("no spec uploaded for host {host}")).into_response(),
        Err(r) => r.into_response(),
    }
}

async fn put_spec(State(api): State<Shared>, headers: HeaderMap, Path(host): Path<String>, body: Bytes) -> Response {
    let Ok(text) = String::from_utf8(body.to_vec()) else {
        return error(StatusCode::BAD_REQUEST, "the spec must be UTF-8 YAML or JSON").into_response();
    };
    let operations = match openapi::parse(&text) {
        Ok(ops) => ops,
        Err(e) => {
            return error(StatusCode::UNPROCESSABLE_ENTITY, format!("not a usable OpenAPI or Swagger document: {e}"))
                .into_response()
        }
    };
    let by = headers.get("user-agent").and_then(|v| v.to_str().ok()).unwrap_or("api").to_owned();
    match inventory::store_spec(&api.store.client, &api.store.url, &api.store.database, &host, &by, &text).await {
        Ok(()) => (StatusCode::CREATED, Json(json!({"host": host, "operations": operations.len()}))).into_response(),
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, format!("storing the spec: {e}")).into_response(),
    }
}

#[derive(Deserialize)]
struct ExportQuery {
    /// `3.1` (the default) or `3.0`
    openapi_version: Option<String>,
}

async fn reconstructed(State(api): State<Shared>, Path(host): Path<String>, Query(q): Query<ExportQuery>) -> Response {
    let version = match q.openapi_version.as_deref().map(str::parse::<openapi::OpenApiVersion>) {
        None => openapi::OpenApiVersion::default(),
        Some(Ok(version)) => version,
        Some(Err(e)) => return error(StatusCode::BAD_REQUEST, format!("openapi_version: {e}")).into_response(),
    };
    match api.endpoints(Some(&host)).await {
        Ok(list) if list.is_empty() => {
            error(StatusCode::NOT_FOUND, format!("no traffic seen for host {host}")).into_response()
        }
        Ok(list) => Json(openapi::export(&host, &list, version)).into_response(),
        Err(r) => r.into_response(),
    }
}

#[derive(Deserialize)]
struct PinBody {
    /// a host, or `*` for every host
    #[serde(default = "every_host")]
    host: String,
    template: String,
}

fn every_host() -> String {
    "*".to_owned()
}

async fn list_pins(State(api): State<Shared>) -> Response {
    match api.store.stored_pins().await {
        Ok(pins) => Json(json!({"pins": pins, "configured": api.store.pins.by_host})).into_response(),
        Err(e) => unavailable("reading the pins", e).into_response(),
    }
}

async fn change_pin(api: Shared, headers: HeaderMap, pin: PinBody, pinned: bool) -> Response {
    if !pin.template.starts_with('/') || pin.host.is_empty() {
        return error(StatusCode::BAD_REQUEST, "give a template starting with '/' and a host (or '*')").into_response();
    }
    match api.store.set_pin(&pin.host, &pin.template, pinned, &super::access::actor(&headers)).await {
        Ok(()) => Json(json!({"host": pin.host, "template": pin.template, "pinned": pinned})).into_response(),
        Err(e) => unavailable("storing the pin", e).into_response(),
    }
}

async fn add_pin(State(api): State<Shared>, headers: HeaderMap, Json(pin): Json<PinBody>) -> Response {
    change_pin(api, headers, pin, true).await
}

async fn remove_pin(State(api): State<Shared>, headers: HeaderMap, Query(pin): Query<PinBody>) -> Response {
    change_pin(api, headers, pin, false).await
}
