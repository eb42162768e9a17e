//! Bearer tokens and what each may do: `api.read_tokens` read, `api.admin_tokens` also change
//! things, and the filters' ingest token may fetch the block list.

use crate::ingest::auth::TokenCheck;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Scope {
    /// the block list, for filters (the ingest token) and anyone who may read
    Filter,
    Read,
    Admin,
}

/// A refusal or failure: a status and a message saying what to do.
#[derive(Debug)]
pub struct ApiError(pub StatusCode, pub String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({"error": self.1}))).into_response()
    }
}

pub fn error(status: StatusCode, message: impl Into<String>) -> ApiError {
    ApiError(status, message.into())
}

pub struct Access {
    pub read: Vec<TokenCheck>,
    pub admin: Vec<TokenCheck>,
    pub filter: Option<TokenCheck>,
}

impl Access {
    pub fn new(read: &[String], admin: &[String], ingest_token: &str) -> Self {
        Access {
            read: read.iter().map(|t| TokenCheck::new(t)).collect(),
            admin: admin.iter().map(|t| TokenCheck::new(t)).collect(),
            filter: (!ingest_token.is_empty()).then(|| TokenCheck::new(ingest_token)),
        }
    }

    /// Checks the bearer token (in constant time) against the scope.
    pub fn authorize(&self, headers: &HeaderMap, scope: Scope) -> Result<(), ApiError> {
        if self.read.is_empty() && self.admin.is_empty() && (scope != Scope::Filter || self.filter.is_none()) {
            return Err(error(
                StatusCode::UNAUTHORIZED,
                "no API tokens configured: set api.read_tokens or api.admin_tokens",
            ));
        }
        let presented = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim)
            .unwrap_or_default()
            .as_bytes();
        let admin = self.admin.iter().any(|t| t.matches(presented));
        let read = admin || self.read.iter().any(|t| t.matches(presented));
        let filter = read || self.filter.as_ref().is_some_and(|t| t.matches(presented));
        match (scope, admin, read, filter) {
            (Scope::Admin, true, _, _) | (Scope::Read, _, true, _) | (Scope::Filter, _, _, true) => Ok(()),
            (Scope::Admin, false, true, _) => {
                Err(error(StatusCode::FORBIDDEN, "this token may read, not change: use an admin token"))
            }
            _ => Err(error(StatusCode::UNAUTHORIZED, "missing or unknown bearer token")),
        }
    }
}

/// Who made a change, for the record: the `x-meshward-actor` header the CLI sets, else `api`.
pub fn actor(headers: &HeaderMap) -> String {
    headers
        .get("x-meshward-actor")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128)
        .unwrap_or("api")
        .to_owned()
}
