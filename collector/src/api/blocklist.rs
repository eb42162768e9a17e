//! Block rules over HTTP: `/api/v1/block-rules` to manage them (admin tokens change, read
//! tokens list) and `/api/v1/blocklist`, the compiled list the filters fetch with their ingest
//! token (conditional GET on the ETag: an unchanged list costs a 304).

use super::access::{actor, error, Access, ApiError, Guarded, Route, Scope};
use crate::blocklist::{Blocklist, BlocklistError};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use meshward_core::blocklist::Rule;
use serde_json::json;
use std::sync::Arc;

pub struct BlocklistApi {
    pub blocklist: Arc<Blocklist>,
    pub access: Arc<Access>,
}

type Shared = Arc<BlocklistApi>;

pub fn router(api: Shared) -> (Router, Vec<Route>) {
    Guarded::new(api.access.clone())
        .route(Scope::Filter, Method::GET, "/api/v1/blocklist", published)
        .route(Scope::Read, Method::GET, "/api/v1/block-rules", list)
        .route(Scope::Admin, Method::POST, "/api/v1/block-rules", create)
        .route(Scope::Read, Method::GET, "/api/v1/block-rules/{id}", one)
        .route(Scope::Admin, Method::PUT, "/api/v1/block-rules/{id}", update)
        .route(Scope::Admin, Method::DELETE, "/api/v1/block-rules/{id}", delete)
        .route(Scope::Admin, Method::POST, "/api/v1/block-rules/{id}/expire", expire)
        .build(api)
}

impl From<BlocklistError> for ApiError {
    fn from(err: BlocklistError) -> Self {
        let status = match &err {
            BlocklistError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            BlocklistError::NotFound(_) => StatusCode::NOT_FOUND,
            BlocklistError::Exists(_) => StatusCode::CONFLICT,
            BlocklistError::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
        };
        error(status, err.to_string())
    }
}

fn respond<T: serde::Serialize>(status: StatusCode, result: Result<T, ApiError>) -> Response {
    match result {
        Ok(value) => (status, Json(value)).into_response(),
        Err(err) => err.into_response(),
    }
}

async fn published(State(api): State<Shared>, headers: HeaderMap) -> Response {
    let list = api.blocklist.current();
    if list.etag.is_empty() {
        // never loaded (ClickHouse unreachable since start): filters keep what they have
        return error(StatusCode::SERVICE_UNAVAILABLE, "the block list is not loaded yet").into_response();
    }
    let etag = HeaderValue::from_str(&list.etag).unwrap_or(HeaderValue::from_static("\"\""));
    let version = HeaderValue::from(list.version);
    let unchanged = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|tag| tag.trim() == list.etag));
    metrics::counter!("meshward_blocklist_fetches_total", "answer" => if unchanged { "not_modified" } else { "list" })
        .increment(1);
    if unchanged {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
    }
    (
        StatusCode::OK,
        [
            (header::ETAG, etag),
            (header::CONTENT_TYPE, HeaderValue::from_static("application/json")),
            (header::HeaderName::from_static("x-meshward-blocklist-version"), version),
        ],
        list.body.clone(),
    )
        .into_response()
}

async fn list(State(api): State<Shared>) -> Response {
    let result = async {
        let rules = api.blocklist.list().await.map_err(BlocklistError::from)?;
        let published = api.blocklist.current();
        Ok::<_, ApiError>(json!({"version": published.version, "etag": published.etag, "rules": rules}))
    };
    respond(StatusCode::OK, result.await)
}

async fn one(State(api): State<Shared>, Path(id): Path<String>) -> Response {
    let result = async { Ok::<_, ApiError>(api.blocklist.get(&id).await?) };
    respond(StatusCode::OK, result.await)
}

/// One rule (an object) or several (an array), as JSON.
fn parse_rules(body: &[u8]) -> Result<Vec<Rule>, ApiError> {
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    let parsed = if first == Some(&b'[') {
        serde_json::from_slice::<Vec<Rule>>(body)
    } else {
        serde_json::from_slice::<Rule>(body).map(|r| vec![r])
    };
    parsed.map_err(|e| error(StatusCode::BAD_REQUEST, format!("not a block rule (JSON object or array): {e}")))
}

async fn create(State(api): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let result = async {
        let rules = parse_rules(&body)?;
        if rules.is_empty() {
            return Err(error(StatusCode::BAD_REQUEST, "no rules in the request"));
        }
        let rules = api.blocklist.create(rules, &actor(&headers)).await?;
        Ok(json!({"rules": rules}))
    };
    respond(StatusCode::CREATED, result.await)
}

async fn update(State(api): State<Shared>, headers: HeaderMap, Path(id): Path<String>, body: Bytes) -> Response {
    let result = async {
        let mut rules = parse_rules(&body)?;
        let (Some(rule), true) = (rules.pop(), rules.is_empty()) else {
            return Err(error(StatusCode::BAD_REQUEST, "PUT takes one rule object"));
        };
        Ok(api.blocklist.update(&id, rule, &actor(&headers)).await?)
    };
    respond(StatusCode::OK, result.await)
}

async fn delete(State(api): State<Shared>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let result = async {
        api.blocklist.delete(&id, &actor(&headers)).await?;
        Ok::<_, ApiError>(json!({"deleted": id}))
    };
    respond(StatusCode::OK, result.await)
}

async fn expire(State(api): State<Shared>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let result = async { Ok::<_, ApiError>(api.blocklist.expire(&id, &actor(&headers)).await?) };
    respond(StatusCode::OK, result.await)
}
