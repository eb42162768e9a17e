//! The benchmark's varied traffic through Envoy: the request/response pairs of
//! `core/benches/support/traffic.rs` (the same ones criterion and the instruction counts use), an
//! upstream that answers each request with its own pair's response, a wrk script that sends the
//! pairs in turn, and an open-loop generator that sends them at a constant rate and measures
//! each latency from when its request was due, so a slow answer cannot hide the ones queued
//! behind it.

#[path = "../../core/benches/support/traffic.rs"]
pub mod corpus;

use anyhow::{Context, Result};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use corpus::Pair;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;

/// The header that tells the upstream which pair a request is.
pub const PAIR_HEADER: &str = "x-bench-pair";

/// Answers each request with the response of the pair its `x-bench-pair` names.
pub struct BenchUpstream {
    pub port: u16,
    task: JoinHandle<()>,
}

impl Drop for BenchUpstream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl BenchUpstream {
    pub async fn start(pairs: &[Pair]) -> Result<BenchUpstream> {
        let responses: Arc<Vec<(u16, axum::body::Bytes)>> =
            Arc::new(pairs.iter().map(|p| (p.status, axum::body::Bytes::from(p.response_body.clone()))).collect());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let app = axum::Router::new().fallback(move |headers: HeaderMap, body: axum::body::Bytes| {
            let responses = responses.clone();
            async move {
                drop(body);
                let index = headers
                    .get(PAIR_HEADER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<usize>().ok())
                    .unwrap_or(0);
                match responses.get(index) {
                    Some((status, body)) => (
                        StatusCode::from_u16(*status).unwrap_or(StatusCode::OK),
                        [("content-type", "application/json")],
                        body.clone(),
                    )
                        .into_response(),
                    None => StatusCode::NOT_FOUND.into_response(),
                }
            }
        });
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(BenchUpstream { port, task })
    }
}

/// A Lua string literal.
fn lua(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for b in text.bytes() {
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            0x20..=0x7e => out.push(b as char),
            other => out.push_str(&format!("\\{other}")),
        }
    }
    out.push('"');
    out
}

/// A wrk script that sends the pairs in turn, each wrk thread from its own offset. The
/// requests are formatted once, in `init`, so wrk does no work per request beyond sending.
pub fn wrk_script(dir: &Path, name: &str, pairs: &[Pair]) -> Result<PathBuf> {
    let mut script = String::from("local pairs = {\n");
    for (i, pair) in pairs.iter().enumerate() {
        let mut headers: Vec<String> = pair.headers.iter().map(|(n, v)| format!("[{}] = {}", lua(n), lua(v))).collect();
        headers.push(format!("[{}] = \"{i}\"", lua(PAIR_HEADER)));
        let body = if pair.request_body.is_empty() { "nil".to_owned() } else { lua(&pair.request_body) };
        script.push_str(&format!(
            "  {{{}, {}, {{{}}}, {}}},\n",
            lua(pair.method),
            lua(&pair.target),
            headers.join(", "),
            body
        ));
    }
    script.push_str(
        "}\nlocal requests = {}\nlocal next = 1\nlocal counter = 0\n\
         function setup(thread)\n  counter = counter + 1\n  thread:set(\"offset\", counter * 97)\nend\n\
         function init(args)\n  for i, p in ipairs(pairs) do\n    requests[i] = wrk.format(p[1], p[2], p[3], p[4])\n  end\n\
         \x20 next = (offset or 0) % #requests + 1\nend\n\
         function request()\n  local r = requests[next]\n  next = next % #requests + 1\n  return r\nend\n",
    );
    let path = dir.join(name);
    std::fs::write(&path, script).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// Latencies of one open-loop run, in microseconds, sorted.
#[derive(Debug, Clone, Default)]
pub struct Latencies {
    pub micros: Vec<u64>,
    /// requests that failed or answered a status other than the pair's
    pub errors: u64,
    /// requests sent later than due by more than a millisecond (the generator fell behind)
    pub late: u64,
}

impl Latencies {
    /// The latency at quantile `q` (0..1), in milliseconds.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        if self.micros.is_empty() {
            return 0.0;
        }
        let i = ((self.micros.len() - 1) as f64 * q).round() as usize;
        self.micros[i.min(self.micros.len() - 1)] as f64 / 1000.0
    }
}

/// A request ready to send: method, URL, headers, body, and the status its pair answers.
type Prepared = (reqwest::Method, String, reqwest::header::HeaderMap, axum::body::Bytes, u16);

/// Sends the pairs in turn at `rate` requests a second for `duration`, each on its own task as
/// it falls due (open loop), and measures each from when it was due to when its answer ended.
/// The pacer sleeps on its own thread, as the runtime's timer has millisecond granularity.
pub async fn open_loop(base_url: &str, pairs: &[Pair], rate: f64, duration: Duration) -> Result<Latencies> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .timeout(Duration::from_secs(10))
        .build()
        .context("building the load client")?;
    let requests: Arc<Vec<Prepared>> = Arc::new(
        pairs
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let mut headers = reqwest::header::HeaderMap::new();
                for (name, value) in &p.headers {
                    if let (Ok(n), Ok(v)) = (
                        reqwest::header::HeaderName::from_bytes(name.as_bytes()),
                        reqwest::header::HeaderValue::from_str(value),
                    ) {
                        headers.insert(n, v);
                    }
                }
                headers.insert(PAIR_HEADER, reqwest::header::HeaderValue::from(i));
                let method = reqwest::Method::from_bytes(p.method.as_bytes()).unwrap_or(reqwest::Method::GET);
                (
                    method,
                    format!("{base_url}{}", p.target),
                    headers,
                    axum::body::Bytes::from(p.request_body.clone()),
                    p.status,
                )
            })
            .collect(),
    );
    let total = (rate * duration.as_secs_f64()) as u64;
    let interval = Duration::from_secs_f64(1.0 / rate);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(u64, Instant)>();
    let pacer = std::thread::spawn(move || {
        let start = Instant::now() + Duration::from_millis(50);
        let mut late = 0u64;
        for i in 0..total {
            let due = start + interval.mul_f64(i as f64);
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            } else if now - due > Duration::from_millis(1) {
                late += 1;
            }
            if tx.send((i, due)).is_err() {
                break;
            }
        }
        late
    });
    let mut tasks = Vec::with_capacity(total as usize);
    while let Some((i, due)) = rx.recv().await {
        let client = client.clone();
        let requests = requests.clone();
        tasks.push(tokio::spawn(async move {
            let (method, url, headers, body, status) = &requests[(i as usize) % requests.len()];
            let sent = client.request(method.clone(), url).headers(headers.clone()).body(body.clone()).send().await;
            let ok = match sent {
                Ok(response) => response.status().as_u16() == *status && response.bytes().await.is_ok(),
                Err(_) => false,
            };
            (ok, due.elapsed().as_micros() as u64)
        }));
    }
    let mut latencies = Latencies { late: pacer.join().unwrap_or(0), ..Latencies::default() };
    for task in tasks {
        match task.await {
            Ok((true, micros)) => latencies.micros.push(micros),
            _ => latencies.errors += 1,
        }
    }
    latencies.micros.sort_unstable();
    Ok(latencies)
}
