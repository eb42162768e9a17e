//! Bearer tokens and what each may do: `api.read_tokens` read, `api.admin_tokens` also change
//! things, and the filters' ingest token may fetch the block list.

use crate::ingest::auth::TokenCheck;
use axum::extract::{Request, State};
use axum::handler::Handler;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{on, MethodFilter};
use axum::{Json, Router};
use serde_json::json;
use std::sync::Arc;

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

/// A route of the API and the scope every request to it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub method: Method,
    pub path: &'static str,
    pub scope: Scope,
}

/// The one way handlers join the API: each route is added with its scope and runs behind a
/// layer that checks the bearer token against it, so no handler can forget to (and none checks
/// for itself). The routes are listed for the test that walks them all.
pub struct Guarded<S> {
    access: Arc<Access>,
    groups: Vec<(Scope, Router<S>, usize)>,
    routes: Vec<Route>,
}

impl<S: Clone + Send + Sync + 'static> Guarded<S> {
    pub fn new(access: Arc<Access>) -> Self {
        let groups = [Scope::Filter, Scope::Read, Scope::Admin].into_iter().map(|s| (s, Router::new(), 0)).collect();
        Guarded { access, groups, routes: Vec::new() }
    }

    /// `method path` answered by `handler` for tokens of `scope`.
    pub fn route<H, T>(mut self, scope: Scope, method: Method, path: &'static str, handler: H) -> Self
    where
        H: Handler<T, S>,
        T: 'static,
    {
        // the methods here are constants of the API (GET, POST, PUT, DELETE): each converts
        let Ok(filter) = MethodFilter::try_from(method.clone()) else { return self };
        if let Some((_, group, count)) = self.groups.iter_mut().find(|(s, _, _)| *s == scope) {
            *group = std::mem::take(group).route(path, on(filter, handler));
            *count += 1;
        }
        self.routes.push(Route { method, path, scope });
        self
    }

    /// The routes with their layers, and the table of them.
    pub fn build(self, state: S) -> (Router, Vec<Route>) {
        let mut router = Router::new();
        for (scope, group, count) in self.groups {
            if count == 0 {
                continue;
            }
            let check = middleware::from_fn_with_state((self.access.clone(), scope), require);
            router = router.merge(group.route_layer(check).with_state(state.clone()));
        }
        (router, self.routes)
    }
}

/// Lets a request through to its handler when its token may use the route's scope.
async fn require(State((access, scope)): State<(Arc<Access>, Scope)>, request: Request, next: Next) -> Response {
    match access.authorize(request.headers(), scope) {
        Ok(()) => next.run(request).await,
        Err(refusal) => refusal.into_response(),
    }
}
