//! Runs tests against one base URL: tests concurrently (bounded), the steps of a test in order,
//! a step with payloads once per payload. Requests never leave the base URL (paths only, no
//! redirects followed), are rate-limited across all tests, and time out.

use super::spec::{Actor, Assertions, Capability, Extract, Payloads, Request, Severity, StatusMatch, Step, TestFile};
use super::{jwt, payloads};
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
    /// 0 when the request timed out (only steps that judge time see such an answer)
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: String,
    elapsed: Duration,
    timed_out: bool,
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
    // a nonce for `{{unique}}`: two runs, and two tests of a run, never make the same names
    let nonce = format!(
        "{}:{}",
        std::process::id(),
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos())
    );
    let mut groups: BTreeMap<u8, Vec<(PathBuf, TestFile)>> = BTreeMap::new();
    for (file, test) in tests {
        groups.entry(test.order).or_default().push((file, test));
    }
    let mut results: Vec<TestResult> = Vec::new();
    for (_, group) in groups {
        let done: Vec<TestResult> = futures::stream::iter(group)
            .map(|(file, test)| {
                let runner = runner.clone();
                let bar = bar.clone();
                let unique = unique_name(&nonce, &test.id);
                async move {
                    let result = runner.run(file, test, unique).await;
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
        results.extend(done);
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    results.sort_by(|a, b| a.file.cmp(&b.file).then(a.id.cmp(&b.id)));
    Ok(results)
}

/// `{{unique}}`: `mw` and ten hex digits, from the run's nonce and the test's id; letters and
/// digits only, so it fits user names, emails and slugs.
fn unique_name(nonce: &str, id: &str) -> String {
    let hash = blake3::hash(format!("{nonce}/{id}").as_bytes());
    format!("mw{}", meshward_core::ids::hex(&hash.as_bytes()[..5]))
}

/// The environment variables the tests that this run will not skip read and that are not set,
/// each with the tests that read it: checked before anything is sent.
pub fn missing_env(tests: &[(PathBuf, TestFile)], allow: &[Capability]) -> BTreeMap<String, Vec<String>> {
    let mut missing: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (_, test) in tests {
        if test.requires.iter().any(|c| !allow.contains(c)) {
            continue;
        }
        for name in test.env_vars() {
            if std::env::var_os(&name).is_none() {
                missing.entry(name).or_default().push(test.id.clone());
            }
        }
    }
    missing
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
    async fn run(&self, file: PathBuf, test: TestFile, unique: String) -> TestResult {
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
        vars.values.insert("unique".to_owned(), unique);
        let mut logged_in = Vec::new();
        if let Err(message) = self.steps(&test, &mut vars, &mut logged_in, &mut result).await {
            result.outcome = Outcome::Error;
            result.message = Some(vars.redact(&message));
        } else if !result.failures.is_empty() {
            result.outcome = Outcome::Failed;
        }
        let troubles = self.cleanup(&test, &mut vars, &mut logged_in, &mut result).await;
        if !troubles.is_empty() {
            let note = format!("cleanup: {}", vars.redact(&troubles.join("; ")));
            result.message = Some(match result.message.take() {
                Some(message) => format!("{message}; {note}"),
                None => note,
            });
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
    /// it), or at a guard that failed or a `forge_jwt` with nothing to forge (the test passes).
    /// An `Err` is a test that could not run.
    async fn steps(
        &self,
        test: &TestFile,
        vars: &mut Vars,
        logged_in: &mut Vec<String>,
        result: &mut TestResult,
    ) -> Result<(), String> {
        for (name, value) in &test.vars {
            let value = vars.fill(value, raw)?;
            vars.values.insert(name.clone(), value);
        }
        for (i, step) in test.steps.iter().enumerate() {
            let label = if step.name.is_empty() { format!("step {}", i + 1) } else { step.name.clone() };
            let before = result.failures.len();
            if let Some(stop) = self.step(test, step, &label, vars, logged_in, result).await? {
                result.message = Some(vars.redact(&stop));
                break;
            }
            if result.failures.len() > before {
                break;
            }
        }
        Ok(())
    }

    /// The cleanup steps, whatever happened before; what went wrong in them, as messages.
    async fn cleanup(
        &self,
        test: &TestFile,
        vars: &mut Vars,
        logged_in: &mut Vec<String>,
        result: &mut TestResult,
    ) -> Vec<String> {
        let mut troubles = Vec::new();
        for (i, step) in test.cleanup.iter().enumerate() {
            let label = if step.name.is_empty() { format!("cleanup step {}", i + 1) } else { step.name.clone() };
            let sent = async {
                let actor = self.actor(test, step, &label, vars, logged_in, result).await?;
                let (shown, answer) = self.send(&step.request, actor, vars, false).await?;
                result.requests += 1;
                self.extract(step, &answer, vars)?;
                let broken = check(&step.assertions, &answer, vars);
                if broken.is_empty() {
                    Ok(())
                } else {
                    Err(format!("{shown}: {}", broken.join("; ")))
                }
            };
            if let Err(e) = sent.await {
                troubles.push(format!("{label}: {e}"));
            }
        }
        troubles
    }

    /// The step's actor, logged in on first use.
    async fn actor<'t>(
        &self,
        test: &'t TestFile,
        step: &Step,
        label: &str,
        vars: &mut Vars,
        logged_in: &mut Vec<String>,
        result: &mut TestResult,
    ) -> Result<Option<&'t Actor>, String> {
        let Some(name) = &step.actor else { return Ok(None) };
        let actor = test.actors.get(name).ok_or_else(|| format!("{label}: no actor {name}"))?;
        if !logged_in.contains(name) {
            self.login(name, actor, vars, result).await?;
            logged_in.push(name.clone());
        }
        Ok(Some(actor))
    }

    /// One step: `Ok(Some(why))` ends the test as passed (a guard held the API's refusal, or
    /// there was nothing to forge).
    async fn step(
        &self,
        test: &TestFile,
        step: &Step,
        label: &str,
        vars: &mut Vars,
        logged_in: &mut Vec<String>,
        result: &mut TestResult,
    ) -> Result<Option<String>, String> {
        let actor = self.actor(test, step, label, vars, logged_in, result).await?;
        if let Some(forge) = &step.forge_jwt {
            let token = vars.fill(&forge.token, raw)?;
            let secrets = payload_list(&forge.secrets).map_err(|e| format!("{label}: {e}"))?;
            let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
            match jwt::crack(&token, &secrets) {
                Err(why) => return Ok(Some(format!("{label}: the token is {why}: no HMAC secret to guess"))),
                Ok(None) => {
                    return Ok(Some(format!("{label}: none of the {} secrets tried signs the token", secrets.len())))
                }
                Ok(Some((secret, forged))) => {
                    vars.values.insert("jwt_secret".to_owned(), secret.to_owned());
                    vars.values.insert("forged_jwt".to_owned(), forged);
                }
            }
        }
        let list: Vec<Option<String>> = match &step.payloads {
            None => vec![None],
            Some(list) => payload_list(list).map_err(|e| format!("{label}: {e}"))?.into_iter().map(Some).collect(),
        };
        let timing = step.assertions.max_time_ms.is_some()
            || step.assertions.time_gap_ms.is_some()
            || step.assertions.rate_limited;
        for payload in list {
            if let Some(p) = &payload {
                vars.values.insert("payload".to_owned(), p.clone());
            }
            let failure = |request: &str, status: Option<u16>, message: String| Failure {
                step: label.to_owned(),
                payload: payload.clone(),
                request: request.to_owned(),
                status,
                message,
            };
            if let Some(count) = step.burst {
                let mut answers = Vec::new();
                let mut shown = String::new();
                for _ in 0..count {
                    let (s, answer) =
                        self.send(&step.request, actor, vars, true).await.map_err(|e| format!("{label}: {e}"))?;
                    result.requests += 1;
                    shown = s;
                    answers.push(answer);
                }
                if step.assertions.rate_limited {
                    if let Some(message) = not_rate_limited(&answers) {
                        let last = answers.last().map(|a| a.status);
                        result.failures.push(failure(&shown, last, message));
                    }
                }
                continue;
            }
            let samples = step.samples.unwrap_or(1).max(1);
            let mut mine: Vec<Answer> = Vec::new();
            let mut theirs: Vec<Answer> = Vec::new();
            let (mut shown, mut shown_versus) = (String::new(), String::new());
            for _ in 0..samples {
                let (s, answer) =
                    self.send(&step.request, actor, vars, timing).await.map_err(|e| format!("{label}: {e}"))?;
                result.requests += 1;
                shown = s;
                mine.push(answer);
                if let Some(versus) = &step.versus {
                    let (s, answer) =
                        self.send(versus, actor, vars, timing).await.map_err(|e| format!("{label}: versus: {e}"))?;
                    result.requests += 1;
                    shown_versus = s;
                    theirs.push(answer);
                }
            }
            let Some(answer) = mine.first() else { continue };
            let mut broken = check(&step.assertions, answer, vars);
            if let Some(versus) = &step.versus {
                let sent_mine = sent_values(&step.request, vars);
                let sent_theirs = sent_values(versus, vars);
                broken.extend(compare(&step.assertions, (&mine, &sent_mine), (&theirs, &sent_theirs)));
            }
            if step.setup && !broken.is_empty() {
                return Err(format!("{label} (setup): {shown}: {}", broken.join("; ")));
            }
            if step.guard && !broken.is_empty() {
                return Ok(Some(format!(
                    "{label}: {shown} answered {}: {}, so there is nothing more to prove",
                    answer.status,
                    broken.join("; ")
                )));
            }
            self.extract(step, answer, vars).map_err(|e| format!("{label}: {e}"))?;
            if step.forge_jwt.is_some() {
                let secret = vars.values.get("jwt_secret").cloned().unwrap_or_default();
                broken =
                    broken.into_iter().map(|m| format!("a token signed with {secret:?} was accepted: {m}")).collect();
            }
            let shown = if step.versus.is_some() { format!("{shown} vs {shown_versus}") } else { shown };
            for message in broken {
                result.failures.push(failure(&shown, Some(answer.status), message));
            }
        }
        Ok(None)
    }

    async fn login(&self, name: &str, actor: &Actor, vars: &mut Vars, result: &mut TestResult) -> Result<(), String> {
        let Some(login) = &actor.login else { return Ok(()) };
        let (shown, answer) =
            self.send(&login.request, None, vars, false).await.map_err(|e| format!("actor {name}: {e}"))?;
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
        timing: bool,
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
        let response = match builder.send().await {
            Ok(response) => response,
            // for a step that judges time, no answer within the timeout is the slowest answer
            Err(e) if timing && e.is_timeout() => {
                let answer = Answer {
                    status: 0,
                    headers: reqwest::header::HeaderMap::new(),
                    body: String::new(),
                    elapsed: started.elapsed(),
                    timed_out: true,
                };
                return Ok((shown, answer));
            }
            Err(e) => {
                let what = if e.is_timeout() { "timed out" } else { "failed" };
                return Err(format!("{shown} {what}: {e}"));
            }
        };
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = match response.text().await {
            Ok(body) => body,
            Err(e) if timing && e.is_timeout() => String::new(),
            Err(e) => return Err(format!("{shown}: reading the answer ({status}) failed: {e}")),
        };
        Ok((shown, Answer { status, headers, body, elapsed: started.elapsed(), timed_out: false }))
    }
}

fn payload_list(list: &Payloads) -> Result<Vec<String>, String> {
    match list {
        Payloads::Builtin(name) => payloads::builtin(name)
            .map(|l| l.iter().map(|p| (*p).to_owned()).collect())
            .ok_or_else(|| format!("no payload list {name}")),
        Payloads::List(items) => Ok(items.clone()),
    }
}

/// The values a request sends (JSON strings, query and form values), as its answer may echo
/// them: `same_body` masks them before comparing.
fn sent_values(request: &Request, vars: &mut Vars) -> Vec<String> {
    fn strings(value: &serde_json::Value, out: &mut Vec<String>) {
        match value {
            serde_json::Value::String(s) => out.push(s.clone()),
            serde_json::Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
            serde_json::Value::Object(map) => map.values().for_each(|v| strings(v, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    if let Some(json) = &request.json {
        if let Ok(json) = vars.fill_json(json) {
            strings(&json, &mut out);
        }
    }
    for value in request.query.values().chain(request.form.values()) {
        if let Ok(value) = vars.fill(value, raw) {
            out.push(value);
        }
    }
    for segment in request.path.split('/') {
        if segment.contains("{{") {
            if let Ok(value) = vars.fill(segment, raw) {
                out.push(value);
            }
        }
    }
    // longest first, so a value inside another is not masked first; short ones match by chance
    out.retain(|v| v.chars().count() >= 3);
    out.sort_by_key(|v| std::cmp::Reverse(v.len()));
    out
}

/// A body with what differs between two calls for no reason masked: the values the request sent
/// (`<sent>`), and runs of 8 or more hex digits, digits and separators holding a digit (ids,
/// timestamps, request ids).
fn masked_body(body: &str, sent: &[String]) -> String {
    let mut text = body.to_owned();
    for value in sent {
        text = text.replace(value.as_str(), "<sent>");
    }
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.len() >= 8 && run.bytes().any(|b| b.is_ascii_digit()) {
            out.push('#');
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if c.is_ascii_hexdigit() || (!run.is_empty() && matches!(c, '-' | ':' | '.')) {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

/// The comparison assertions of a step with `versus`: its answers (and what it sent) against
/// the versus answers.
fn compare(assertions: &Assertions, mine: (&[Answer], &[String]), theirs: (&[Answer], &[String])) -> Vec<String> {
    let mut failures = Vec::new();
    let ((mine, sent_mine), (theirs, sent_theirs)) = (mine, theirs);
    if mine.is_empty() || theirs.is_empty() {
        return failures;
    }
    if assertions.same_status {
        let statuses = |answers: &[Answer]| {
            let mut s: Vec<u16> = answers.iter().map(|a| a.status).collect();
            s.sort_unstable();
            s.dedup();
            s
        };
        let (a, b) = (statuses(mine), statuses(theirs));
        if a != b {
            failures.push(format!("the answers differ in status: {a:?}, and {b:?} for the versus request"));
        }
    }
    if assertions.same_body {
        let a = masked_body(&mine[0].body, sent_mine);
        let b = masked_body(&theirs[0].body, sent_theirs);
        if a != b {
            let cut = |s: &str| s.chars().take(160).collect::<String>();
            failures.push(format!("the answers differ: {:?}, and {:?} for the versus request", cut(&a), cut(&b)));
        }
    }
    if let Some(gap) = assertions.time_gap_ms {
        let ms = |answers: &[Answer]| -> (u64, u64) {
            let times: Vec<u64> = answers.iter().map(|a| a.elapsed.as_millis() as u64).collect();
            (times.iter().copied().min().unwrap_or(0), times.iter().copied().max().unwrap_or(0))
        };
        let ((min_a, max_a), (min_b, max_b)) = (ms(mine), ms(theirs));
        if min_a > max_b + gap || min_b > max_a + gap {
            failures.push(format!(
                "the answers took {min_a}-{max_a} ms, and {min_b}-{max_b} ms for the versus request: \
                 more than {gap} ms apart"
            ));
        }
    }
    failures
}

/// Why a burst's answers show no rate limit, or `None` when they do: a 429, a 503 with
/// Retry-After, a timeout, or a late answer three times slower than the first ones and 250 ms
/// more.
fn not_rate_limited(answers: &[Answer]) -> Option<String> {
    let limited = |a: &Answer| a.status == 429 || (a.status == 503 && a.headers.contains_key("retry-after"));
    if answers.iter().any(|a| limited(a) || a.timed_out) {
        return None;
    }
    let mut first: Vec<u64> = answers.iter().take(3).map(|a| a.elapsed.as_millis() as u64).collect();
    first.sort_unstable();
    let base = first.get(first.len() / 2).copied().unwrap_or(0);
    let slowest = answers.iter().skip(3).map(|a| a.elapsed.as_millis() as u64).max().unwrap_or(0);
    if slowest > base * 3 + 250 {
        return None;
    }
    let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
    for a in answers {
        *statuses.entry(a.status).or_default() += 1;
    }
    let statuses: Vec<String> = statuses.iter().map(|(s, n)| format!("{s} x{n}")).collect();
    Some(format!(
        "{} requests in a row, none refused with 429 and none slowed down (answers: {}; slowest {slowest} ms)",
        answers.len(),
        statuses.join(", ")
    ))
}

/// Classes of the sensitive-data detector that no answer should hand out: the credentials
/// (passwords and their hashes, tokens and keys) and card numbers. Emails count from two
/// different addresses on.
fn exposed(class: &str) -> bool {
    class == "credit_card" || meshward_core::detect::SECRET_CLASSES.contains(&class)
}

/// The detector `no_sensitive_data` uses, built once (its keyword automata take a while).
fn detector() -> Option<&'static meshward_core::detect::Detector> {
    static DETECTOR: std::sync::OnceLock<Option<meshward_core::detect::Detector>> = std::sync::OnceLock::new();
    DETECTOR
        .get_or_init(|| {
            let config = meshward_core::detect::DetectConfig {
                attacks: false,
                ..meshward_core::detect::DetectConfig::default()
            };
            meshward_core::detect::Detector::new(config).ok()
        })
        .as_ref()
}

/// What sensitive data an answer's body exposes, as messages (never the values).
fn exposures(answer: &Answer) -> Vec<String> {
    use meshward_core::detect::{Direction, Findings, Part, Site};
    let Some(detector) = detector() else { return vec!["the sensitive-data detector could not be built".into()] };
    // (class, field) -> values; emails keep their values to count the different addresses
    let mut found: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut emails: Vec<String> = Vec::new();
    let mut email_fields: Vec<String> = Vec::new();
    let mut scan = |field: &str, key: &str, value: &str| {
        let mut findings = Findings::new(16);
        detector.scan_value(
            Site { direction: Direction::Response, part: Part::Body, field, key },
            value,
            &mut findings,
        );
        for f in findings.items {
            if f.class == "email" {
                let address = value.trim().to_ascii_lowercase();
                if !emails.contains(&address) {
                    emails.push(address);
                }
                if !email_fields.iter().any(|e| e == field) {
                    email_fields.push(field.to_owned());
                }
            } else if exposed(&f.class) {
                *found.entry((f.class.clone(), field.to_owned())).or_default() += 1;
            }
        }
    };
    let content_type = answer.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let body = answer.body.trim_start();
    if content_type.contains("json") || body.starts_with('{') || body.starts_with('[') {
        meshward_core::body::json_walk(answer.body.as_bytes(), meshward_core::body::WalkLimits::default(), &mut scan);
    } else if !body.is_empty() {
        scan("", "", &answer.body);
    }
    let mut messages: Vec<String> = found
        .into_iter()
        .map(|((class, field), n)| {
            let at = if field.is_empty() { String::new() } else { format!(" at {field}") };
            let times = if n > 1 { format!(" ({n} values)") } else { String::new() };
            format!("the body holds a {}{at}{times}", class.replace('_', " "))
        })
        .collect();
    if emails.len() >= 2 {
        messages.push(format!(
            "the body holds {} different email addresses (at {}): other users' emails",
            emails.len(),
            email_fields.join(", ")
        ));
    }
    messages
}

/// Whether an answer hands out a credential: a 2xx that sets a cookie, or a JSON string of 16
/// characters or more under a name saying token, jwt or session.
fn issues_credentials(answer: &Answer) -> bool {
    if !(200..300).contains(&answer.status) {
        return false;
    }
    if answer.headers.contains_key("set-cookie") {
        return true;
    }
    let mut found = false;
    let mut sink = |_: &str, key: &str, value: &str| {
        let key = key.to_ascii_lowercase();
        if ["token", "jwt", "session"].iter().any(|k| key.contains(k)) && value.len() >= 16 {
            found = true;
        }
    };
    meshward_core::body::json_walk(answer.body.as_bytes(), meshward_core::body::WalkLimits::default(), &mut sink);
    found
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
    if answer.timed_out {
        failures.push(format!("no answer within {} ms", answer.elapsed.as_millis()));
        return failures;
    }
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
    if !assertions.json.is_empty() && answer.body.trim().is_empty() {
        // an empty body (a 204) holds nothing: what must be missing or different holds
        for a in &assertions.json {
            if a.equals.is_some() || a.exists == Some(true) {
                failures.push(format!("{} is missing: the body ({}) is empty", a.path, answer.status));
            }
        }
    } else if !assertions.json.is_empty() {
        match serde_json::from_str::<serde_json::Value>(&answer.body) {
            Err(_) => failures.push(format!("the body ({}) is not JSON", answer.status)),
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
    if assertions.no_sensitive_data {
        failures.extend(exposures(answer));
    }
    if let Some(want) = assertions.issues_credentials {
        if issues_credentials(answer) != want {
            failures.push(if want {
                format!("the answer ({}) hands out no credential", answer.status)
            } else {
                format!("the answer ({}) hands out a credential: the login worked", answer.status)
            });
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

    fn answer(status: u16, body: &str, ms: u64) -> Answer {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("content-type", reqwest::header::HeaderValue::from_static("application/json"));
        Answer { status, headers, body: body.into(), elapsed: Duration::from_millis(ms), timed_out: false }
    }

    #[test]
    fn an_empty_body_holds_nothing() {
        let mut vars = Vars::default();
        let a = |path: &str, not_equals: Option<serde_json::Value>, equals: Option<serde_json::Value>| {
            super::super::spec::JsonAssert { path: path.into(), equals, not_equals, exists: None }
        };
        let none = Assertions { json: vec![a("$.role", Some("admin".into()), None)], ..Assertions::default() };
        assert!(check(&none, &answer(204, "", 1), &mut vars).is_empty());
        let some = Assertions { json: vec![a("$.role", None, Some("user".into()))], ..Assertions::default() };
        assert!(check(&some, &answer(204, "", 1), &mut vars)[0].contains("empty"));
    }

    #[test]
    fn exposures_name_passwords_hashes_and_other_users_emails() {
        let leaky = r#"{"users": [{"username": "alice", "email": "alice@example.com", "password_hash": "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW"},
                                  {"username": "bob", "email": "bob@example.com", "password_hash": "$2b$12$Fo3kT1cQWEr5tLwXcs6OqeTy0iJ6pPMFh0p4jV3S8VkiN2HnLsQ1a"}]}"#;
        let found = exposures(&answer(200, leaky, 1));
        assert!(found.iter().any(|m| m.contains("password at $.users[*].password_hash")), "{found:?}");
        assert!(found.iter().any(|m| m.contains("2 different email addresses")), "{found:?}");
        let own = r#"{"id": 2, "username": "alice", "email": "alice@example.com", "role": "user"}"#;
        assert!(exposures(&answer(200, own, 1)).is_empty());
    }

    #[test]
    fn credentials_comparisons_and_bursts() {
        assert!(issues_credentials(&answer(200, r#"{"auth_token": "eyJhbGciOiJIUzI1NiJ9.e30.x"}"#, 1)));
        assert!(!issues_credentials(&answer(200, r#"{"status": "fail", "message": "Username does not exist"}"#, 1)));
        assert!(!issues_credentials(&answer(401, r#"{"token": "0123456789abcdef0123"}"#, 1)));
        // the values each side sent, and ids, are masked before the bodies are compared
        assert_eq!(
            masked_body(r#"{"error": "no user mw3f2a9c0b11", "at": "2024-05-01T10:00:00Z"}"#, &["mw3f2a9c0b11".into()]),
            r##"{"error": "no user <sent>", "at": "#T#Z"}"##
        );
        let same = Assertions { same_status: true, same_body: true, time_gap_ms: Some(50), ..Assertions::default() };
        let known =
            [answer(401, r#"{"error": "wrong password"}"#, 2), answer(401, r#"{"error": "wrong password"}"#, 3)];
        let unknown = [answer(401, r#"{"error": "no such user"}"#, 2), answer(401, r#"{"error": "no such user"}"#, 90)];
        let failures = compare(&same, (&known, &[]), (&unknown, &[]));
        assert_eq!(failures.len(), 1, "{failures:?}");
        assert!(failures[0].contains("differ"));
        let slow = [answer(401, "{}", 300), answer(401, "{}", 320)];
        let fast = [answer(401, "{}", 2), answer(401, "{}", 3)];
        assert_eq!(compare(&same, (&slow, &[]), (&fast, &[])).len(), 1);
        // overlapping times pass
        let mixed = [answer(401, "{}", 2), answer(401, "{}", 300)];
        assert!(compare(&same, (&mixed, &[]), (&fast, &[])).is_empty());
        let open: Vec<Answer> = (0..30).map(|_| answer(401, "{}", 2)).collect();
        assert!(not_rate_limited(&open).unwrap_or_default().contains("30 requests"));
        let mut limited = open;
        limited[12] = answer(429, "{}", 1);
        assert!(not_rate_limited(&limited).is_none());
    }
}
