//! A deliberately vulnerable API and its fixed twin, to measure the security-test templates:
//! every generated test must flag each planted bug on the vulnerable one and nothing on the
//! fixed one. Products live in a real SQLite database.
//!
//! Planted bugs (vulnerable twin only):
//! - BOLA: `GET /api/orders/{order_id}` and `GET /api/users/{user_id}/profile` return any
//!   user's object;
//! - missing authentication: `GET /api/users/{user_id}/profile` needs no credentials at all;
//! - BFLA: `GET /api/admin/users` answers any signed-in user;
//! - broken authentication: a JWT is believed without checking signature or expiry;
//! - SQL injection: `GET /api/products?search=` concatenates into SQL and returns the
//!   database's error message;
//! - mass assignment: `PUT /api/users/me` takes `role` from the body;
//! - verbose errors: a malformed id or body answers with a panic message;
//! - no security headers (HSTS, CSP, nosniff); CORS reflects any origin with credentials.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::task::JoinHandle;

/// Every user's password.
pub const PASSWORD: &str = "hunter2-but-longer";

/// Seeded users: (id, username, role, tenant).
pub const USERS: &[(i64, &str, &str, i64)] =
    &[(1, "admin", "admin", 1), (2, "alice", "user", 1), (3, "bob", "user", 1), (4, "mallory", "user", 2)];
/// Seeded orders: (id, owner).
pub const ORDERS: &[(i64, i64)] = &[(1, 2), (2, 3), (3, 1), (4, 4)];

struct Db {
    conn: rusqlite::Connection,
    tokens: HashMap<String, i64>,
    next_token: u64,
}

#[derive(Clone)]
struct App {
    fixed: bool,
    db: Arc<Mutex<Db>>,
}

pub struct VulnApi {
    pub port: u16,
    pub fixed: bool,
    task: JoinHandle<()>,
}

impl Drop for VulnApi {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl VulnApi {
    /// The vulnerable twin (`fixed: false`) or the fixed one, on a free loopback port.
    pub async fn start(fixed: bool) -> anyhow::Result<VulnApi> {
        let conn = rusqlite::Connection::open_in_memory()?;
        conn.execute_batch(
            "CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT, role TEXT, tenant INTEGER, name TEXT, email TEXT);
             CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER, item TEXT, total REAL);
             CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT, price REAL);
             INSERT INTO products (name, price) VALUES ('red shoes', 59.0), ('blue shirt', 25.5), ('green hat', 12.0);",
        )?;
        for (id, username, role, tenant) in USERS {
            conn.execute(
                "INSERT INTO users (id, username, role, tenant, name, email) VALUES (?1, ?2, ?3, ?4, ?2, ?2 || '@example.com')",
                rusqlite::params![id, username, role, tenant],
            )?;
        }
        for (id, owner) in ORDERS {
            conn.execute(
                "INSERT INTO orders (id, user_id, item, total) VALUES (?1, ?2, 'item', 10.0)",
                rusqlite::params![id, owner],
            )?;
        }
        let app = App { fixed, db: Arc::new(Mutex::new(Db { conn, tokens: HashMap::new(), next_token: 1 })) };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router(app)).await;
        });
        Ok(VulnApi { port, fixed, task })
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

fn router(app: App) -> Router {
    let headers_app = app.clone();
    Router::new()
        .route("/api/login", axum::routing::post(login))
        .route("/api/orders/{order_id}", get(order))
        .route("/api/users/{user_id}/profile", get(profile))
        .route("/api/users/me", get(me).put(update_me))
        .route("/api/admin/users", get(admin_users))
        .route("/api/products", get(products))
        .layer(axum::middleware::from_fn(move |request: axum::extract::Request, next: axum::middleware::Next| {
            let fixed = headers_app.fixed;
            async move {
                let origin = request.headers().get(header::ORIGIN).cloned();
                let mut response = next.run(request).await;
                let headers = response.headers_mut();
                if fixed {
                    headers.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
                    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'"));
                    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
                } else if let Some(origin) = origin {
                    // planted: any origin may read answers with the caller's credentials
                    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
                    headers.insert(header::ACCESS_CONTROL_ALLOW_CREDENTIALS, HeaderValue::from_static("true"));
                }
                response
            }
        }))
        .with_state(app)
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({"error": message}))).into_response()
}

/// What an unhandled error looks like in a careless service: its panic message.
fn panic_page(location: &str, detail: &str) -> Response {
    let body = format!(
        "thread 'tokio-runtime-worker' panicked at {location}:\ncalled `Result::unwrap()` on an `Err` value: {detail}\n\
         note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace"
    );
    (StatusCode::INTERNAL_SERVER_ERROR, body).into_response()
}

impl App {
    /// The caller, from a bearer token. The vulnerable twin also believes any JWT's `sub`.
    fn caller(&self, headers: &HeaderMap) -> Option<(i64, String, i64)> {
        let token = headers.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ")?.trim();
        let db = self.db.lock().ok()?;
        let id = match db.tokens.get(token) {
            Some(id) => *id,
            None if !self.fixed && token.starts_with("eyJ") => {
                // planted: the claims are read, the signature and expiry are not checked
                let claims = token.split('.').nth(1)?;
                let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(claims).ok()?;
                let claims: Value = serde_json::from_slice(&claims).ok()?;
                claims["sub"].as_str()?.parse().ok()?
            }
            None => return None,
        };
        db.conn
            .query_row("SELECT id, role, tenant FROM users WHERE id = ?1", [id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .ok()
    }

    fn user_json(&self, id: i64) -> Option<Value> {
        let db = self.db.lock().ok()?;
        db.conn
            .query_row("SELECT id, username, role, name, email FROM users WHERE id = ?1", [id], |r| {
                Ok(json!({"id": r.get::<_, i64>(0)?, "username": r.get::<_, String>(1)?, "role": r.get::<_, String>(2)?,
                          "name": r.get::<_, String>(3)?, "email": r.get::<_, String>(4)?}))
            })
            .ok()
    }
}

async fn login(State(app): State<App>, body: Bytes) -> Response {
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return error(StatusCode::BAD_REQUEST, "invalid JSON");
    };
    let (Some(username), Some(password)) = (body["username"].as_str(), body["password"].as_str()) else {
        return error(StatusCode::BAD_REQUEST, "username and password are required");
    };
    let Ok(mut db) = app.db.lock() else { return error(StatusCode::SERVICE_UNAVAILABLE, "busy") };
    let id: Option<i64> = db.conn.query_row("SELECT id FROM users WHERE username = ?1", [username], |r| r.get(0)).ok();
    match id {
        Some(id) if password == PASSWORD => {
            let token = format!("tok-{username}-{}", db.next_token);
            db.next_token += 1;
            db.tokens.insert(token.clone(), id);
            Json(json!({"token": token, "user_id": id})).into_response()
        }
        _ => error(StatusCode::UNAUTHORIZED, "wrong user name or password"),
    }
}

async fn order(State(app): State<App>, Path(order_id): Path<String>, headers: HeaderMap) -> Response {
    let Some((caller, role, _)) = app.caller(&headers) else { return error(StatusCode::UNAUTHORIZED, "sign in") };
    let id: i64 = match order_id.parse() {
        Ok(id) => id,
        Err(e) if !app.fixed => return panic_page("src/orders.rs:42:17", &format!("{e:?}")),
        Err(_) => return error(StatusCode::BAD_REQUEST, "order ids are numbers"),
    };
    let found = app.db.lock().ok().and_then(|db| {
        db.conn
            .query_row("SELECT id, user_id, item, total FROM orders WHERE id = ?1", [id], |r| {
                Ok((
                    r.get::<_, i64>(1)?,
                    json!({"id": r.get::<_, i64>(0)?, "item": r.get::<_, String>(2)?, "total": r.get::<_, f64>(3)?}),
                ))
            })
            .ok()
    });
    match found {
        // planted (vulnerable): no owner check
        Some((owner, order)) if !app.fixed || owner == caller || role == "admin" => Json(order).into_response(),
        _ => error(StatusCode::NOT_FOUND, "no such order"),
    }
}

async fn profile(State(app): State<App>, Path(user_id): Path<String>, headers: HeaderMap) -> Response {
    let caller = app.caller(&headers);
    if app.fixed && caller.is_none() {
        return error(StatusCode::UNAUTHORIZED, "sign in");
    }
    let id: i64 = match user_id.parse() {
        Ok(id) => id,
        Err(e) if !app.fixed => return panic_page("src/users.rs:17:9", &format!("{e:?}")),
        Err(_) => return error(StatusCode::BAD_REQUEST, "user ids are numbers"),
    };
    // planted (vulnerable): no authentication and no owner check
    let allowed = !app.fixed || caller.as_ref().is_some_and(|(c, role, _)| *c == id || role == "admin");
    match app.user_json(id) {
        Some(user) if allowed => Json(user).into_response(),
        _ => error(StatusCode::NOT_FOUND, "no such user"),
    }
}

async fn me(State(app): State<App>, headers: HeaderMap) -> Response {
    match app.caller(&headers).and_then(|(id, _, _)| app.user_json(id)) {
        Some(user) => Json(user).into_response(),
        None => error(StatusCode::UNAUTHORIZED, "sign in"),
    }
}

async fn update_me(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    let Some((caller, _, _)) = app.caller(&headers) else { return error(StatusCode::UNAUTHORIZED, "sign in") };
    let body: Value = match serde_json::from_slice(&body) {
        Ok(body) => body,
        Err(e) if !app.fixed => return panic_page("src/users.rs:58:40", &format!("{e:?}")),
        Err(_) => return error(StatusCode::BAD_REQUEST, "invalid JSON"),
    };
    if let Ok(db) = app.db.lock() {
        for field in ["name", "email"] {
            if let Some(value) = body[field].as_str() {
                let _ = db
                    .conn
                    .execute(&format!("UPDATE users SET {field} = ?1 WHERE id = ?2"), rusqlite::params![value, caller]);
            }
        }
        // planted (vulnerable): the role comes from the request body
        if let (false, Some(role)) = (app.fixed, body["role"].as_str()) {
            let _ = db.conn.execute("UPDATE users SET role = ?1 WHERE id = ?2", rusqlite::params![role, caller]);
        }
    }
    match app.user_json(caller) {
        Some(user) => Json(user).into_response(),
        None => error(StatusCode::NOT_FOUND, "no such user"),
    }
}

async fn admin_users(State(app): State<App>, headers: HeaderMap) -> Response {
    let Some((_, role, _)) = app.caller(&headers) else { return error(StatusCode::UNAUTHORIZED, "sign in") };
    // planted (vulnerable): any signed-in user is let in
    if app.fixed && role != "admin" {
        return error(StatusCode::FORBIDDEN, "admins only");
    }
    let users: Vec<Value> = USERS.iter().filter_map(|(id, ..)| app.user_json(*id)).collect();
    Json(json!({"users": users})).into_response()
}

async fn products(State(app): State<App>, Query(query): Query<HashMap<String, String>>) -> Response {
    let search = query.get("search").cloned().unwrap_or_default();
    let Ok(db) = app.db.lock() else { return error(StatusCode::SERVICE_UNAVAILABLE, "busy") };
    let rows = |sql: &str, params: &[&dyn rusqlite::ToSql]| -> rusqlite::Result<Vec<Value>> {
        let mut statement = db.conn.prepare(sql)?;
        let rows = statement.query_map(params, |r| {
            Ok(json!({"id": r.get::<_, i64>(0)?, "name": r.get::<_, String>(1)?, "price": r.get::<_, f64>(2)?}))
        })?;
        rows.collect()
    };
    let result = if app.fixed {
        rows("SELECT id, name, price FROM products WHERE name LIKE '%' || ?1 || '%'", &[&search])
    } else {
        // planted: the search text becomes SQL, and the database's error goes back to the caller
        rows(&format!("SELECT id, name, price FROM products WHERE name LIKE '%{search}%'"), &[])
    };
    match result {
        Ok(items) => Json(json!({"products": items})).into_response(),
        Err(e) if !app.fixed => error(StatusCode::INTERNAL_SERVER_ERROR, &format!("database error: {e}")),
        Err(_) => error(StatusCode::INTERNAL_SERVER_ERROR, "something went wrong"),
    }
}
