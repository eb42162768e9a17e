//! `/api/v1/alerts`: list (read tokens; `?state=open`), one alert, and acknowledge or resolve
//! (admin tokens).

use super::access::{actor, error, Access, ApiError, Guarded, Route, Scope};
use crate::detect::{DetectError, Detector};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

pub struct AlertsApi {
    pub detector: Detector,
    pub access: Arc<Access>,
}

type Shared = Arc<AlertsApi>;

pub fn router(api: Shared) -> (Router, Vec<Route>) {
    Guarded::new(api.access.clone())
        .route(Scope::Read, Method::GET, "/api/v1/alerts", list)
        .route(Scope::Read, Method::GET, "/api/v1/alerts/{id}", one)
        .route(Scope::Admin, Method::POST, "/api/v1/alerts/{id}/{action}", change)
        .build(api)
}

impl From<DetectError> for ApiError {
    fn from(err: DetectError) -> Self {
        match err {
            DetectError::NotFound(_) => error(StatusCode::NOT_FOUND, err.to_string()),
            DetectError::Store(e) => error(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
        }
    }
}

#[derive(Deserialize)]
struct Filter {
    state: Option<String>,
    kind: Option<String>,
}

async fn list(State(api): State<Shared>, Query(filter): Query<Filter>) -> Response {
    let result = async {
        let alerts = api.detector.alerts().await.map_err(DetectError::from)?;
        let alerts: Vec<_> = alerts
            .into_iter()
            .filter(|a| filter.state.as_ref().is_none_or(|s| *s == a.state))
            .filter(|a| filter.kind.as_ref().is_none_or(|k| *k == a.kind))
            .collect();
        Ok::<_, ApiError>(json!({"alerts": alerts}))
    };
    match result.await {
        Ok(body) => Json(body).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn one(State(api): State<Shared>, Path(id): Path<String>) -> Response {
    let result = async {
        let alert = api.detector.alert(&id).await.map_err(DetectError::from)?;
        alert.ok_or_else(|| ApiError::from(DetectError::NotFound(id.clone())))
    };
    match result.await {
        Ok(alert) => Json(alert).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn change(State(api): State<Shared>, headers: HeaderMap, Path((id, action)): Path<(String, String)>) -> Response {
    let result = async {
        let state = match action.as_str() {
            "ack" | "acknowledge" => "acknowledged",
            "resolve" => "resolved",
            other => return Err(error(StatusCode::NOT_FOUND, format!("no action {other}: use ack or resolve"))),
        };
        Ok(api.detector.set_state(&id, state, &actor(&headers)).await?)
    };
    match result.await {
        Ok(alert) => Json(alert).into_response(),
        Err(e) => e.into_response(),
    }
}
