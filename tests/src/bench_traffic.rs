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

/// A request as bytes on the wire (HTTP/1.1, keep-alive), and the status its pair answers.
struct Wire {
    bytes: Vec<u8>,
    status: u16,
}

fn wire(pair: &Pair, index: usize, authority: &str) -> Wire {
    let mut head = format!("{} {} HTTP/1.1\r\nhost: {authority}\r\n", pair.method, pair.target);
    for (name, value) in &pair.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("{PAIR_HEADER}: {index}\r\ncontent-length: {}\r\n\r\n", pair.request_body.len()));
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(pair.request_body.as_bytes());
    Wire { bytes, status: pair.status }
}

/// Reads one response off a keep-alive connection: the status, and its body by content-length.
async fn read_response(
    stream: &mut tokio::io::BufReader<tokio::net::TcpStream>,
    line: &mut String,
) -> std::io::Result<u16> {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt};
    line.clear();
    stream.read_line(line).await?;
    let status = line.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let mut length = 0usize;
    loop {
        line.clear();
        if stream.read_line(line).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).await?;
    Ok(status)
}

/// Connections the open-loop generator keeps; requests wait for a free one, and the wait
/// counts in their latency.
const CONNECTIONS: usize = 64;

/// Sends the pairs in turn at `rate` requests a second for `duration`, each as it falls due
/// (open loop), over keep-alive connections written and read by hand (an HTTP client library
/// took more of the shared core than the upstream it talks to at these rates), and measures
/// each from when it was due to when its answer ended. The pacer sleeps on its own thread, as
/// the runtime's timer has millisecond granularity.
pub async fn open_loop(base_url: &str, pairs: &[Pair], rate: f64, duration: Duration) -> Result<Latencies> {
    use tokio::io::AsyncWriteExt;
    let authority = base_url.trim_start_matches("http://").to_owned();
    let requests: Arc<Vec<Wire>> = Arc::new(pairs.iter().enumerate().map(|(i, p)| wire(p, i, &authority)).collect());
    let total = (rate * duration.as_secs_f64()) as u64;
    let interval = Duration::from_secs_f64(1.0 / rate);
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<(u64, Instant)>();
    let rx = Arc::new(tokio::sync::Mutex::new(rx));
    let mut workers = Vec::new();
    for _ in 0..CONNECTIONS {
        let rx = rx.clone();
        let requests = requests.clone();
        let authority = authority.clone();
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0u64;
            let mut line = String::new();
            let mut stream: Option<tokio::io::BufReader<tokio::net::TcpStream>> = None;
            loop {
                let next = rx.lock().await.recv().await;
                let Some((i, due)) = next else { break };
                let request = &requests[(i as usize) % requests.len()];
                if stream.is_none() {
                    stream = tokio::net::TcpStream::connect(&authority).await.ok().map(tokio::io::BufReader::new);
                }
                let Some(s) = stream.as_mut() else {
                    errors += 1;
                    continue;
                };
                let answered = match s.get_mut().write_all(&request.bytes).await {
                    Ok(()) => read_response(s, &mut line).await,
                    Err(e) => Err(e),
                };
                match answered {
                    Ok(status) if status == request.status => latencies.push(due.elapsed().as_micros() as u64),
                    Ok(_) => errors += 1,
                    Err(_) => {
                        errors += 1;
                        stream = None;
                    }
                }
            }
            (latencies, errors)
        }));
    }
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
    let late = tokio::task::spawn_blocking(move || pacer.join().unwrap_or(0)).await.unwrap_or(0);
    let mut out = Latencies { late, ..Latencies::default() };
    for worker in workers {
        if let Ok((latencies, errors)) = worker.await {
            out.micros.extend(latencies);
            out.errors += errors;
        }
    }
    out.micros.sort_unstable();
    Ok(out)
}
