//! A deliberately vulnerable API and its fixed twin, to measure the security-test templates:
//! every generated test must flag each planted bug on the vulnerable one and nothing on the
//! fixed one. Users, orders and products live in a real SQLite database; both twins share one
//! OpenAPI spec (`tests/fixtures/vuln-api.openapi.yaml`), which marks the public operations.
//!
//! Planted bugs (vulnerable twin only):
//! - BOLA: `GET /api/orders/{order_id}` and `GET /api/users/{user_id}/profile` return any
//!   user's object; `PUT /api/users/{user_id}/password` changes any user's password (the fixed
//!   twin changes the caller's own, whatever the path says, and answers 204 as well);
//! - missing authentication: `GET /api/users/{user_id}/profile` needs no credentials at all;
//! - BFLA: `GET /api/admin/users` and `GET /api/maintenance/reset` answer any signed-in user;
//! - broken authentication: an unsigned (`alg: none`) JWT is believed, and expiry is not
//!   checked; tokens are signed with `letmein`, a common password;
//! - SQL injection: `GET /api/products?search=` concatenates into SQL and returns the
//!   database's error message;
//! - mass assignment: `PUT /api/users/me` (which answers 204, the role not shown) and
//!   `POST /api/users` take `role` and `admin` from the body;
//! - excessive data exposure: `GET /api/debug/users` lists every user with email and password
//!   hash to anyone (the fixed twin has no debug endpoint), `GET /api/admin/users` everyone's
//!   email;
//! - user enumeration: a wrong password and an unknown user fail with different messages;
//! - no rate limit on logins (the fixed twin refuses a user name with 429 after 10 failures in
//!   a minute, until a login as that user works);
//! - ReDoS: `GET /api/coupons/check?code=` validates `^([A-Za-z0-9]+-?)+$` with a backtracking
//!   matcher (the fixed twin checks the same language in linear time);
//! - verbose errors: a malformed id or body answers with a panic message;
//! - no security headers (HSTS, CSP, nosniff); CORS reflects any origin with credentials.
//!
//! Public in both (and so no BOLA): `POST /api/login`, `POST /api/users`, `GET /api/products`,
//! `GET /api/products/{product_id}`. `GET /api/maintenance/reset` re-creates the seed data: a
//! suite must call it last, if at all.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine;
use meshward::sectest::jwt;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;

/// Every seeded user's password.
pub const PASSWORD: &str = "hunter2-but-longer";

/// The vulnerable twin's token signing secret: on every common-passwords list.
pub const WEAK_SECRET: &str = "letmein";

/// Seeded users: (id, username, role, tenant).
pub const USERS: &[(i64, &str, &str, i64)] =
    &[(1, "admin", "admin", 1), (2, "alice", "user", 1), (3, "bob", "user", 1), (4, "mallory", "user", 2)];
/// Seeded orders: (id, owner).
pub const ORDERS: &[(i64, i64)] = &[(1, 2), (2, 3), (3, 1), (4, 4)];

/// Failed logins of one user name within a minute after which the fixed twin answers 429.
const LOGIN_FAILURES: usize = 10;

struct Db {
    conn: rusqlite::Connection,
    /// failed logins per user name (fixed twin)
    failures: HashMap<String, Vec<Instant>>,
}

#[derive(Clone)]
struct App {
    fixed: bool,
    secret: Arc<Vec<u8>>,
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

fn seed(conn: &rusqlite::Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "DROP TABLE IF EXISTS users; DROP TABLE IF EXISTS orders; DROP TABLE IF EXISTS products;
         CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT UNIQUE, role TEXT, tenant INTEGER, name TEXT,
                             email TEXT, password TEXT);
         CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER, item TEXT, total REAL);
         CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT, price REAL);
         INSERT INTO products (name, price) VALUES ('red shoes', 59.0), ('blue shirt', 25.5), ('green hat', 12.0);",
    )?;
    for (id, username, role, tenant) in USERS {
        conn.execute(
            "INSERT INTO users (id, username, role, tenant, name, email, password)
             VALUES (?1, ?2, ?3, ?4, ?2, ?2 || '@example.com', ?5)",
            rusqlite::params![id, username, role, tenant, PASSWORD],
        )?;
    }
    for (id, owner) in ORDERS {
        conn.execute(
            "INSERT INTO orders (id, user_id, item, total) VALUES (?1, ?2, 'item', 10.0)",
            rusqlite::params![id, owner],
        )?;
    }
    Ok(())
}

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl VulnApi {
    /// The vulnerable twin (`fixed: false`) or the fixed one, on a free loopback port.
    pub async fn start(fixed: bool) -> anyhow::Result<VulnApi> {
        let conn = rusqlite::Connection::open_in_memory()?;
        seed(&conn)?;
        let secret = if fixed {
            // 32 bytes no list holds
            let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_nanos();
            jwt::hmac_sha256(format!("{nanos}:{}", std::process::id()).as_bytes(), b"vuln-api token secret").to_vec()
        } else {
            WEAK_SECRET.as_bytes().to_vec()
        };
        let db = Db { conn, failures: HashMap::new() };
        let app = App { fixed, secret: Arc::new(secret), db: Arc::new(Mutex::new(db)) };
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
        .route("/api/users", axum::routing::post(register))
        .route("/api/orders/{order_id}", get(order))
        .route("/api/users/{user_id}/profile", get(profile))
        .route("/api/users/{user_id}/password", axum::routing::put(change_password))
        .route("/api/users/me", get(me).put(update_me))
        .route("/api/admin/users", get(admin_users))
        .route("/api/debug/users", get(debug_users))
        .route("/api/maintenance/reset", get(reset))
        .route("/api/products", get(products))
        .route("/api/products/{product_id}", get(product))
        .route("/api/coupons/check", get(coupon))
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

/// A JSON body, or the answer to give when it is not one.
fn json_body(app: &App, body: &Bytes, at: &str) -> Result<Value, Box<Response>> {
    match serde_json::from_slice(body) {
        Ok(body) => Ok(body),
        Err(e) if !app.fixed => Err(Box::new(panic_page(at, &format!("{e:?}")))),
        Err(_) => Err(Box::new(error(StatusCode::BAD_REQUEST, "invalid JSON"))),
    }
}

impl App {
    /// The caller, from a bearer JWT (HS256, `sub` the user id). The vulnerable twin also
    /// believes unsigned tokens, and never looks at `exp`.
    fn caller(&self, headers: &HeaderMap) -> Option<(i64, String, i64)> {
        let token = headers.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ")?.trim();
        let claims = match jwt::verify_hs256(token, &self.secret) {
            Some(claims) if self.fixed => claims["exp"].as_u64().filter(|exp| *exp > now()).map(|_| claims)?,
            Some(claims) => claims,
            None if !self.fixed => {
                // planted: an unsigned token's claims are believed
                let (header, rest) = token.split_once('.')?;
                let header = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(header).ok()?;
                let header: Value = serde_json::from_slice(&header).ok()?;
                if !header["alg"].as_str()?.eq_ignore_ascii_case("none") {
                    return None;
                }
                let claims = rest.split('.').next()?;
                let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(claims).ok()?;
                serde_json::from_slice(&claims).ok()?
            }
            None => return None,
        };
        let id: i64 = claims["sub"].as_str()?.parse().ok()?;
        let db = self.db.lock().ok()?;
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

    fn token(&self, id: i64) -> String {
        jwt::sign_hs256(&json!({"sub": id.to_string(), "exp": now() + 3600}), &self.secret)
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
    if app.fixed {
        let recent = db.failures.entry(username.to_owned()).or_default();
        recent.retain(|at| at.elapsed() < Duration::from_secs(60));
        if recent.len() >= LOGIN_FAILURES {
            let mut answer = error(StatusCode::TOO_MANY_REQUESTS, "too many attempts, try again later");
            answer.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
            return answer;
        }
    }
    let user: Option<(i64, String)> = db
        .conn
        .query_row("SELECT id, password FROM users WHERE username = ?1", [username], |r| Ok((r.get(0)?, r.get(1)?)))
        .ok();
    match user {
        Some((id, stored)) if stored == password => {
            db.failures.remove(username);
            drop(db);
            Json(json!({"token": app.token(id), "user_id": id})).into_response()
        }
        found => {
            if app.fixed {
                db.failures.entry(username.to_owned()).or_default().push(Instant::now());
                return error(StatusCode::UNAUTHORIZED, "wrong user name or password");
            }
            // planted: the message tells whether the user exists
            error(StatusCode::UNAUTHORIZED, if found.is_some() { "wrong password" } else { "no such user" })
        }
    }
}

async fn register(State(app): State<App>, body: Bytes) -> Response {
    let body = match json_body(&app, &body, "src/users.rs:30:12") {
        Ok(body) => body,
        Err(answer) => return *answer,
    };
    let (Some(username), Some(password), Some(email)) =
        (body["username"].as_str(), body["password"].as_str(), body["email"].as_str())
    else {
        return error(StatusCode::BAD_REQUEST, "username, password and email are required");
    };
    // planted (vulnerable): the role, or an admin flag, comes from the request body
    let role = match (app.fixed, body["role"].as_str(), body["admin"].as_bool()) {
        (false, Some(role), _) => role.to_owned(),
        (false, None, Some(true)) => "admin".to_owned(),
        _ => "user".to_owned(),
    };
    let Ok(db) = app.db.lock() else { return error(StatusCode::SERVICE_UNAVAILABLE, "busy") };
    let inserted = db.conn.execute(
        "INSERT INTO users (username, role, tenant, name, email, password) VALUES (?1, ?2, 1, ?1, ?3, ?4)",
        rusqlite::params![username, role, email, password],
    );
    match inserted {
        Ok(_) => {
            let id = db.conn.last_insert_rowid();
            (StatusCode::CREATED, Json(json!({"id": id, "username": username}))).into_response()
        }
        Err(_) => error(StatusCode::CONFLICT, "that user name is taken"),
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

async fn change_password(
    State(app): State<App>,
    Path(user_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some((caller, _, _)) = app.caller(&headers) else { return error(StatusCode::UNAUTHORIZED, "sign in") };
    let body = match json_body(&app, &body, "src/users.rs:77:31") {
        Ok(body) => body,
        Err(answer) => return *answer,
    };
    let Some(password) = body["password"].as_str().filter(|p| p.len() >= 8) else {
        return error(StatusCode::BAD_REQUEST, "a password of 8 characters or more is required");
    };
    let target = if app.fixed {
        // the caller's own password, whatever the path says
        caller
    } else {
        // planted (vulnerable): the user in the path, whoever asks
        match user_id.parse::<i64>() {
            Ok(id) => id,
            Err(e) => return panic_page("src/users.rs:80:44", &format!("{e:?}")),
        }
    };
    let Ok(db) = app.db.lock() else { return error(StatusCode::SERVICE_UNAVAILABLE, "busy") };
    match db.conn.execute("UPDATE users SET password = ?1 WHERE id = ?2", rusqlite::params![password, target]) {
        Ok(1) => StatusCode::NO_CONTENT.into_response(),
        _ => error(StatusCode::NOT_FOUND, "no such user"),
    }
}

async fn me(State(app): State<App>, headers: HeaderMap) -> Response {
    match app.caller(&headers).and_then(|(id, _, _)| app.user_json(id)) {
        Some(user) => Json(user).into_response(),
        None => error(StatusCode::UNAUTHORIZED, "sign in"),
    }
}

/// Answers 204: what was stored shows only when the caller reads itself back.
async fn update_me(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    let Some((caller, _, _)) = app.caller(&headers) else { return error(StatusCode::UNAUTHORIZED, "sign in") };
    let body = match json_body(&app, &body, "src/users.rs:58:40") {
        Ok(body) => body,
        Err(answer) => return *answer,
    };
    let Ok(db) = app.db.lock() else { return error(StatusCode::SERVICE_UNAVAILABLE, "busy") };
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
    StatusCode::NO_CONTENT.into_response()
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

/// A password hash as a careless service stores it (bcrypt's shape; not a real bcrypt).
fn password_hash(password: &str) -> String {
    let digest = jwt::hmac_sha256(b"vuln-api salt", password.as_bytes());
    format!("$2b$12${}", base64::engine::general_purpose::STANDARD_NO_PAD.encode(&digest[..23]))
}

async fn debug_users(State(app): State<App>, headers: HeaderMap) -> Response {
    if app.fixed {
        // signed-in callers only, and then there is nothing here
        return match app.caller(&headers) {
            None => error(StatusCode::UNAUTHORIZED, "sign in"),
            Some(_) => error(StatusCode::NOT_FOUND, "not found"),
        };
    }
    // planted: a debug endpoint left on lists everyone with email and password hash
    let Ok(db) = app.db.lock() else { return error(StatusCode::SERVICE_UNAVAILABLE, "busy") };
    let rows =
        db.conn.prepare("SELECT id, username, role, email, password FROM users ORDER BY id").and_then(|mut s| {
            s.query_map([], |r| {
            Ok(json!({"id": r.get::<_, i64>(0)?, "username": r.get::<_, String>(1)?, "role": r.get::<_, String>(2)?,
                      "email": r.get::<_, String>(3)?, "password_hash": password_hash(&r.get::<_, String>(4)?)}))
        })?
        .collect::<rusqlite::Result<Vec<Value>>>()
        });
    match rows {
        Ok(users) => Json(json!({"users": users})).into_response(),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, &format!("database error: {e}")),
    }
}

/// A GET that re-creates the seed data: the suite's tests must not meet it halfway.
async fn reset(State(app): State<App>, headers: HeaderMap) -> Response {
    let Some((_, role, _)) = app.caller(&headers) else { return error(StatusCode::UNAUTHORIZED, "sign in") };
    // planted (vulnerable): any signed-in user may reset
    if app.fixed && role != "admin" {
        return error(StatusCode::FORBIDDEN, "admins only");
    }
    let Ok(mut db) = app.db.lock() else { return error(StatusCode::SERVICE_UNAVAILABLE, "busy") };
    db.failures.clear();
    match seed(&db.conn) {
        Ok(()) => Json(json!({"reset": true})).into_response(),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, &format!("database error: {e}")),
    }
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

async fn product(State(app): State<App>, Path(product_id): Path<String>) -> Response {
    let Ok(id) = product_id.parse::<i64>() else { return error(StatusCode::BAD_REQUEST, "product ids are numbers") };
    let found = app.db.lock().ok().and_then(|db| {
        db.conn
            .query_row("SELECT id, name, price FROM products WHERE id = ?1", [id], |r| {
                Ok(json!({"id": r.get::<_, i64>(0)?, "name": r.get::<_, String>(1)?, "price": r.get::<_, f64>(2)?}))
            })
            .ok()
    });
    match found {
        Some(product) => Json(product).into_response(),
        None => error(StatusCode::NOT_FOUND, "no such product"),
    }
}

/// Most steps the backtracking matcher takes before it gives up (as engines with a backtrack
/// limit do): about two seconds, so that a probe costs a bounded time.
const BACKTRACK_LIMIT: u64 = 1 << 27;

/// `^([A-Za-z0-9]+-?)+$` as a backtracking engine (PCRE, Python's `re`, JavaScript) runs it:
/// each run of letters is tried at every length, so a long run followed by a character the
/// pattern refuses takes time exponential in the run's length. `None` when it gave up.
fn backtracking_match(s: &[u8], at: usize, steps: &mut u64) -> Option<bool> {
    *steps += 1;
    if *steps > BACKTRACK_LIMIT {
        return None;
    }
    let mut end = at;
    while end < s.len() && s[end].is_ascii_alphanumeric() {
        end += 1;
    }
    // the group's `[A-Za-z0-9]+`, greedy, then shorter
    while end > at {
        if s.get(end) == Some(&b'-') && (end + 1 == s.len() || backtracking_match(s, end + 1, steps)?) {
            return Some(true);
        }
        if end == s.len() || backtracking_match(s, end, steps)? {
            return Some(true);
        }
        end -= 1;
    }
    Some(false)
}

/// The same language in one pass: runs of letters and digits, each followed by at most one `-`.
fn linear_match(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('-')
        && !s.contains("--")
        && s.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-')
}

async fn coupon(State(app): State<App>, headers: HeaderMap, Query(query): Query<HashMap<String, String>>) -> Response {
    if app.caller(&headers).is_none() {
        return error(StatusCode::UNAUTHORIZED, "sign in");
    }
    let code = query.get("code").cloned().unwrap_or_default();
    let valid = if app.fixed {
        Some(linear_match(&code))
    } else {
        // planted: catastrophic backtracking, on a worker thread as a real engine would block one
        let mut steps = 0;
        tokio::task::spawn_blocking(move || backtracking_match(code.as_bytes(), 0, &mut steps)).await.ok().flatten()
    };
    match valid {
        Some(true) => Json(json!({"valid": true, "discount": 0})).into_response(),
        Some(false) => error(StatusCode::BAD_REQUEST, "not a coupon code"),
        None => error(StatusCode::SERVICE_UNAVAILABLE, "the pattern took too long"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_matchers_read_the_same_language() {
        for (code, valid) in [
            ("SPRING-2024", true),
            ("A", true),
            ("AB-", true),
            ("-AB", false),
            ("A--B", false),
            ("", false),
            ("a!", false),
        ] {
            let mut steps = 0;
            assert_eq!(backtracking_match(code.as_bytes(), 0, &mut steps), Some(valid), "{code}");
            assert_eq!(linear_match(code), valid, "{code}");
        }
        // the pathological input: the backtracking one gives up after its limit
        let mut steps = 0;
        let evil = format!("{}!", "a".repeat(40));
        assert_eq!(backtracking_match(evil.as_bytes(), 0, &mut steps), None);
        assert!(!linear_match(&evil));
    }
}
