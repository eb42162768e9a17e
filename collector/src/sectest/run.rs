//! Runs tests against one base URL: tests concurrently (bounded), the steps of a test in order,
//! a step with payloads once per payload. Requests never leave the base URL (paths only, no
//! redirects followed), are rate-limited across all tests, and time out.

use super::payloads;
use super::spec::{Actor, Assertions, Capability, Extract, Payloads, Request, Severity, StatusMatch, Step, TestFile};
use futures::StreamExt;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

#[derive(Debug, Clone)]
pub struct RunOptions {
    pub base_url: String,
    pub concurrency: usize,
    pub timeout: Duration,
    /// most requests per second across all tests; `None` for no limit
    pub rate: Option<f64>,
    pub allow: Vec<Capability>,
    pub progress: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Passed,
    /// an assertion failed: the API did what the test says it must not
    Failed,
    /// the test could not be run as written (unreachable API, missing variable, ...)
    Error,
    /// not allowed in this run (`requires` without `--allow`)
    Skipped,
}

/// One failed assertion.
#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    pub step: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload: Option<String>,
    /// `GET /api/orders/7`
    pub request: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    pub message: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct TestResult {
    pub id: String,
    pub name: String,
    pub file: PathBuf,
    pub severity: Severity,
    pub tags: Vec<String>,
    pub description: String,
    pub outcome: Outcome,
    pub failures: Vec<Failure>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    pub requests: u32,
    pub duration_ms: u64,
}

/// A response as the assertions see it.
struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: String,
    elapsed: Duration,
}

/// Requests per second across every test of a run.
struct Pacer {
    interval: Option<Duration>,
    next: Mutex<Instant>,
}

impl Pacer {
    async fn wait(&self) {
        let Some(interval) = self.interval else { return };
        let at = {
            let mut next = self.next.lock().await;
            let at = (*next).max(Instant::now());
            *next = at + interval;
            at
        };
        tokio::time::sleep_until(at.into()).await;
    }
}

struct Runner {
    http: reqwest::Client,
    options: RunOptions,
    pacer: Pacer,
}

pub async fn run_all(tests: Vec<(PathBuf, TestFile)>, options: RunOptions) -> anyhow::Result<Vec<TestResult>> {
    let http =
        reqwest::Client::builder().timeout(options.timeout).redirect(reqwest::redirect::Policy::none()).build()?;
    let interval = options.rate.filter(|r| *r > 0.0).map(|r| Duration::from_secs_f64(1.0 / r));
    let runner = Arc::new(Runner { http, pacer: Pacer { interval, next: Mutex::new(Instant::now()) }, options });
    let bar = if runner.options.progress {
        let bar = indicatif::ProgressBar::new(tests.len() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} tests {elapsed} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        Some(bar)
    } else {
        None
    };
    let concurrency = runner.options.concurrency.max(1);
    let mut results: Vec<TestResult> = futures::stream::iter(tests)
        .map(|(file, test)| {
            let runner = runner.clone();
            let bar = bar.clone();
            async move {
                let result = runner.run(file, test).await;
                if let Some(bar) = bar {
                    bar.set_message(result.id.clone());
                    bar.inc(1);
                }
                result
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    results.sort_by(|a, b| a.file.cmp(&b.file).then(a.id.cmp(&b.id)));
    Ok(results)
}

/// Variables of one test run, and the secret values to keep out of reports.
#[derive(Default)]
struct Vars {
    values: BTreeMap<String, String>,
    secrets: Vec<String>,
}

impl Vars {
    /// `${ENV}` from the environment (secrets), `{{name}}` from the variables; `encode` is applied
    /// to substituted values (percent-encoding in paths).
    fn fill(&mut self, text: &str, encode: fn(&str) -> String) -> Result<String, String> {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find(['$', '{']) {
            out.push_str(&rest[..start]);
            let tail = &rest[start..];
            if let Some(body) = tail.strip_prefix("${") {
                let end = body.find('}').ok_or_else(|| format!("unclosed ${{ in {text:?}"))?;
                let name = &body[..end];
                let value = std::env::var(name)
                    .map_err(|_| format!("environment variable {name} is not set (the test uses ${{{name}}})"))?;
                if is_secret(name, &value) && !self.secrets.contains(&value) {
                    self.secrets.push(value.clone());
                }
                out.push_str(&encode(&value));
                rest = &body[end + 1..];
            } else if let Some(body) = tail.strip_prefix("{{") {
                let end = body.find("}}").ok_or_else(|| format!("unclosed {{{{ in {text:?}"))?;
                let name = body[..end].trim();
                let value = self.values.get(name).ok_or_else(|| {
                    format!(
                        "variable {{{{{name}}}}} is not defined: set it under `vars`, extract it, or use `payloads`"
                    )
                })?;
                out.push_str(&encode(value));
                rest = &body[end + 2..];
            } else {
                out.push_str(&tail[..1]);
                rest = &tail[1..];
            }
        }
        out.push_str(rest);
        Ok(out)
    }

    fn fill_json(&mut self, value: &serde_json::Value) -> Result<serde_json::Value, String> {
        Ok(match value {
            serde_json::Value::String(s) => serde_json::Value::String(self.fill(s, raw)?),
            serde_json::Value::Array(items) => {
                serde_json::Value::Array(items.iter().map(|v| self.fill_json(v)).collect::<Result<_, _>>()?)
            }
            serde_json::Value::Object(map) => serde_json::Value::Object(
                map.iter().map(|(k, v)| Ok((self.fill(k, raw)?, self.fill_json(v)?))).collect::<Result<_, String>>()?,
            ),
            other => other.clone(),
        })
    }

    /// Reports never show a secret from the environment.
    fn redact(&self, text: &str) -> String {
        self.secrets.iter().fold(text.to_owned(), |t, s| t.replace(s.as_str(), "***"))
    }
}

/// Environment values kept out of reports: those whose name says they are credentials, and
/// any long value (a token under another name). Short values such as object ids stay readable.
fn is_secret(name: &str, value: &str) -> bool {
    const WORDS: &[&str] = &["TOKEN", "PASSWORD", "PASSWD", "SECRET", "KEY", "AUTH", "COOKIE", "SESSION", "CREDENTIAL"];
    let upper = name.to_ascii_uppercase();
    !value.is_empty() && (WORDS.iter().any(|w| upper.contains(w)) || value.len() >= 12)
}

fn raw(value: &str) -> String {
    value.to_owned()
}

/// RFC 3986 unreserved characters stay; everything else in a substituted path value is encoded.
const SEGMENT: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// A substituted value inside a path: a payload stays one segment.
fn path_segment(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, SEGMENT).to_string()
}

impl Runner {
    async fn run(&self, file: PathBuf, test: TestFile) -> TestResult {
        let started = Instant::now();
        let mut result = TestResult {
            id: test.id.clone(),
            name: test.name.clone(),
            file,
            severity: test.severity,
            tags: test.tags.clone(),
            description: test.description.clone(),
            outcome: Outcome::Passed,
            failures: Vec::new(),
            message: None,
            requests: 0,
            duration_ms: 0,
        };
        let missing: Vec<&str> = test
            .requires
            .iter()
            .filter(|c| !self.options.allow.contains(c))
            .map(|c| match c {
                Capability::TimeBased => "time-based",
                Capability::Destructive => "destructive",
            })
            .collect();
        if !missing.is_empty() {
            result.outcome = Outcome::Skipped;
            result.message = Some(format!("needs --allow {}", missing.join(",")));
            return result;
        }
        let mut vars = Vars::default();
        if let Err(message) = self.steps(&test, &mut vars, &mut result).await {
            result.outcome = Outcome::Error;
            result.message = Some(vars.redact(&message));
        } else if !result.failures.is_empty() {
            result.outcome = Outcome::Failed;
        }
        for failure in &mut result.failures {
            failure.message = vars.redact(&failure.message);
            failure.request = vars.redact(&failure.request);
            failure.payload = failure.payload.as_deref().map(|p| vars.redact(p));
        }
        result.duration_ms = started.elapsed().as_millis() as u64;
        result
    }

    /// Runs the steps in order; stops after the first step with failures (later steps build on
    /// it). An `Err` is a test that could not run.
    async fn steps(&self, test: &TestFile, vars: &mut Vars, result: &mut TestResult) -> Result<(), String> {
        for (name, value) in &test.vars {
            let value = vars.fill(value, raw)?;
            vars.values.insert(name.clone(), value);
        }
        let mut logged_in: Vec<String> = Vec::new();
        for (i, step) in test.steps.iter().enumerate() {
            let label = if step.name.is_empty() { format!("step {}", i + 1) } else { step.name.clone() };
            let actor = match &step.actor {
                Some(name) => {
                    let actor = test.actors.get(name).ok_or_else(|| format!("{label}: no actor {name}"))?;
                    if !logged_in.contains(name) {
                        self.login(name, actor, vars, result).await?;
                        logged_in.push(name.clone());
                    }
                    Some(actor)
                }
                None => None,
            };
            let list: Vec<Option<String>> = match &step.payloads {
                None => vec![None],
                Some(Payloads::Builtin(name)) => payloads::builtin(name)
                    .ok_or_else(|| format!("{label}: no payload list {name}"))?
                    .iter()
                    .map(|p| Some((*p).to_owned()))
                    .collect(),
                Some(Payloads::List(items)) => items.iter().map(|p| Some(p.clone())).collect(),
            };
            let before = result.failures.len();
            for payload in list {
                if let Some(p) = &payload {
                    vars.values.insert("payload".to_owned(), p.clone());
                }
                let (shown, answer) =
                    self.send(&step.request, actor, vars).await.map_err(|e| format!("{label}: {e}"))?;
                result.requests += 1;
                let broken = check(&step.assertions, &answer, vars);
                if step.setup && !broken.is_empty() {
                    return Err(format!("{label} (setup): {shown}: {}", broken.join("; ")));
                }
                self.extract(step, &answer, vars).map_err(|e| format!("{label}: {e}"))?;
                for message in broken {
                    result.failures.push(Failure {
                        step: label.clone(),
                        payload: payload.clone(),
                        request: shown.clone(),
                        status: Some(answer.status),
                        message,
                    });
                }
            }
            if result.failures.len() > before {
                break;
            }
        }
        Ok(())
    }

    async fn login(&self, name: &str, actor: &Actor, vars: &mut Vars, result: &mut TestResult) -> Result<(), String> {
        let Some(login) = &actor.login else { return Ok(()) };
        let (shown, answer) = self.send(&login.request, None, vars).await.map_err(|e| format!("actor {name}: {e}"))?;
        result.requests += 1;
        if !(200..300).contains(&answer.status) {
            return Err(format!("actor {name}: login {shown} answered {}", answer.status));
        }
        for (var, extract) in &login.extract {
            let value =
                extract_value(extract, &answer).map_err(|e| format!("actor {name}: login, extract {var}: {e}"))?;
            vars.values.insert(var.clone(), value);
        }
        Ok(())
    }

    fn extract(&self, step: &Step, answer: &Answer, vars: &mut Vars) -> Result<(), String> {
        for (var, extract) in &step.extract {
            let value = extract_value(extract, answer).map_err(|e| format!("extract {var}: {e}"))?;
            vars.values.insert(var.clone(), value);
        }
        Ok(())
    }

    /// Sends one request as `actor`; returns how to show it and the answer.
    async fn send(
        &self,
        request: &Request,
        actor: Option<&Actor>,
        vars: &mut Vars,
    ) -> Result<(String, Answer), String> {
        let path = vars.fill(&request.path, path_segment)?;
        let url = format!("{}{path}", self.options.base_url.trim_end_matches('/'));
        let method = reqwest::Method::from_bytes(request.method.to_ascii_uppercase().as_bytes())
            .map_err(|_| format!("{} is not an HTTP method", request.method))?;
        let mut builder = self.http.request(method.clone(), &url);
        let mut query = Vec::new();
        for (name, value) in &request.query {
            query.push((vars.fill(name, raw)?, vars.fill(value, raw)?));
        }
        if !query.is_empty() {
            builder = builder.query(&query);
        }
        if let Some(actor) = actor {
            if let Some(token) = &actor.bearer {
                builder = builder.bearer_auth(vars.fill(token, raw)?);
            }
            if let Some(key) = &actor.api_key {
                builder = builder.header(vars.fill(&key.header, raw)?, vars.fill(&key.value, raw)?);
            }
            if let Some(basic) = &actor.basic {
                builder = builder.basic_auth(vars.fill(&basic.user, raw)?, Some(vars.fill(&basic.password, raw)?));
            }
            if let Some(cookie) = &actor.cookie {
                builder = builder.header("cookie", vars.fill(cookie, raw)?);
            }
            for (name, value) in &actor.headers {
                builder = builder.header(vars.fill(name, raw)?, vars.fill(value, raw)?);
            }
        }
        for (name, value) in &request.headers {
            builder = builder.header(vars.fill(name, raw)?, vars.fill(value, raw)?);
        }
        if let Some(json) = &request.json {
            builder = builder.json(&vars.fill_json(json)?);
        } else if !request.form.is_empty() {
            let mut form = Vec::new();
            for (name, value) in &request.form {
                form.push((vars.fill(name, raw)?, vars.fill(value, raw)?));
            }
            builder = builder.form(&form);
        } else if let Some(body) = &request.body {
            builder = builder.body(vars.fill(body, raw)?);
        }
        let shown = if query.is_empty() {
            format!("{method} {path}")
        } else {
            let q: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
            format!("{method} {path}?{}", q.join("&"))
        };
        self.pacer.wait().await;
        let started = Instant::now();
        let response = builder.send().await.map_err(|e| {
            let what = if e.is_timeout() { "timed out" } else { "failed" };
            format!("{shown} {what}: {e}")
        })?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.text().await.unwrap_or_default();
        Ok((shown, Answer { status, headers, body, elapsed: started.elapsed() }))
    }
}

fn extract_value(extract: &Extract, answer: &Answer) -> Result<String, String> {
    if let Some(path) = &extract.json {
        let json: serde_json::Value =
            serde_json::from_str(&answer.body).map_err(|_| format!("the answer ({}) is not JSON", answer.status))?;
        let path = serde_json_path::JsonPath::parse(path).map_err(|e| e.to_string())?;
        let node = path.query(&json).first().ok_or_else(|| format!("nothing at {path} in the answer"))?;
        return Ok(match node {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        });
    }
    if let Some(name) = &extract.header {
        return answer
            .headers
            .get(name.as_str())
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .ok_or_else(|| format!("no header {name} in the answer"));
    }
    if let Some(re) = &extract.regex {
        let re = regex::Regex::new(re).map_err(|e| e.to_string())?;
        let caps = re.captures(&answer.body).ok_or_else(|| format!("/{re}/ does not match the answer"))?;
        return Ok(caps.get(1).or_else(|| caps.get(0)).map(|m| m.as_str().to_owned()).unwrap_or_default());
    }
    Err("nothing to extract from".into())
}

/// The assertions a response breaks, as messages.
fn check(assertions: &Assertions, answer: &Answer, vars: &mut Vars) -> Vec<String> {
    let mut failures = Vec::new();
    if let Some(status) = &assertions.status {
        if let Ok(accepted) = StatusMatch::parse(status) {
            if !accepted.accepts(answer.status) {
                failures.push(format!("expected status {status}, got {}", answer.status));
            }
        }
    }
    for text in &assertions.contains {
        let text = vars.fill(text, raw).unwrap_or_else(|_| text.clone());
        if !answer.body.contains(&text) {
            failures.push(format!("the body does not contain {text:?}"));
        }
    }
    for text in &assertions.not_contains {
        let text = vars.fill(text, raw).unwrap_or_else(|_| text.clone());
        if answer.body.contains(&text) {
            failures.push(format!("the body contains {text:?}"));
        }
    }
    if !assertions.json.is_empty() {
        match serde_json::from_str::<serde_json::Value>(&answer.body) {
            Err(_) => failures.push("the body is not JSON".into()),
            Ok(json) => {
                for a in &assertions.json {
                    let Ok(path) = serde_json_path::JsonPath::parse(&a.path) else { continue };
                    let nodes = path.query(&json);
                    if let Some(want) = &a.equals {
                        let want = vars.fill_json(want).unwrap_or_else(|_| want.clone());
                        match nodes.first() {
                            Some(got) if *got == want => {}
                            Some(got) => failures.push(format!("{} is {got}, expected {want}", a.path)),
                            None => failures.push(format!("{} is missing, expected {want}", a.path)),
                        }
                    }
                    if let Some(avoid) = &a.not_equals {
                        let avoid = vars.fill_json(avoid).unwrap_or_else(|_| avoid.clone());
                        if nodes.first().is_some_and(|got| *got == avoid) {
                            failures.push(format!("{} is {avoid}", a.path));
                        }
                    }
                    match (a.exists, nodes.is_empty()) {
                        (Some(true), true) => failures.push(format!("{} is missing", a.path)),
                        (Some(false), false) => failures.push(format!("{} is present", a.path)),
                        _ => {}
                    }
                }
            }
        }
    }
    for name in &assertions.headers_present {
        if !answer.headers.contains_key(name.as_str()) {
            failures.push(format!("no {name} header"));
        }
    }
    for (name, text) in &assertions.header_not_contains {
        let value = answer.headers.get(name.as_str()).and_then(|v| v.to_str().ok()).unwrap_or_default();
        if value.contains(text.as_str()) {
            failures.push(format!("the {name} header contains {text:?}"));
        }
    }
    if let Some(max) = assertions.max_time_ms {
        let took = answer.elapsed.as_millis() as u64;
        if took > max {
            failures.push(format!("took {took} ms, more than {max} ms"));
        }
    }
    if assertions.no_error_leak {
        for leak in meshward_core::detect::leak::error_leaks(&answer.body) {
            failures.push(format!("the body leaks a {}: {:?}", leak.kind.as_str().replace('_', " "), leak.marker));
        }
    }
    failures
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_fill_and_secrets_redact() {
        let mut vars = Vars::default();
        vars.values.insert("id".into(), "a b/c".into());
        assert_eq!(vars.fill("/orders/{{id}}", path_segment).ok().as_deref(), Some("/orders/a%20b%2Fc"));
        assert_eq!(vars.fill("x={{ id }}", raw).ok().as_deref(), Some("x=a b/c"));
        assert!(vars.fill("{{nope}}", raw).err().unwrap_or_default().contains("not defined"));
        assert!(vars.fill("${MESHWARD_SURELY_UNSET_VAR}", raw).err().unwrap_or_default().contains("not set"));
        assert_eq!(vars.fill("a $ b { c", raw).ok().as_deref(), Some("a $ b { c"));
        vars.secrets.push("s3cret".into());
        assert_eq!(vars.redact("token s3cret!"), "token ***!");
    }
}
