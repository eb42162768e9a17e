//! The YAML test format (docs/security-tests.md): one test per file, with actors, steps,
//! extraction and assertions. Loading checks everything that can be checked without sending a
//! request, and says where a problem is (file, line) and how to fix it.

use super::payloads;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Where the format is described, named in every loading error.
pub const FORMAT_DOC: &str = "docs/security-tests.md";

#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("{file}: cannot read it: {error}")]
    Read { file: PathBuf, error: std::io::Error },
    #[error("{file}:{line}:{column}: {message} (the format: {FORMAT_DOC})")]
    Yaml { file: PathBuf, line: usize, column: usize, message: String },
    #[error("{file}: {message} (the format: {FORMAT_DOC})")]
    Invalid { file: PathBuf, message: String },
    #[error("{0}: no .yaml or .yml test files there")]
    Empty(PathBuf),
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    #[default]
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// Probes a test may only run when the operator allows them (`--allow`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Capability {
    /// slow on purpose (time-based injection)
    TimeBased,
    /// changes or deletes data
    Destructive,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestFile {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default)]
    pub severity: Severity,
    /// e.g. `OWASP-API1:2023`, `bola`
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requires: Vec<Capability>,
    /// variables: `{{name}}` in any string; values may use `${ENV_VAR}`
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub vars: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub actors: BTreeMap<String, Actor>,
    /// tests run by ascending `order`, those of one order concurrently: a test that changes
    /// state others read (roles, passwords, a reset) runs after them
    #[serde(default, skip_serializing_if = "is_zero")]
    pub order: u8,
    pub steps: Vec<Step>,
    /// steps that run after `steps` whatever happened (restore what the test changed); their
    /// answers are not judged
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cleanup: Vec<Step>,
}

fn is_zero(n: &u8) -> bool {
    *n == 0
}

/// Who sends a step: one kind of credentials, extra headers, and an optional login that runs
/// first and extracts variables the credentials can use (`bearer: "{{token}}"`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Actor {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bearer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<ApiKey>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basic: Option<Basic>,
    /// a `Cookie` header value, e.g. `session={{sid}}`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cookie: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login: Option<Login>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKey {
    pub header: String,
    pub value: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Basic {
    pub user: String,
    pub password: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Login {
    pub request: Request,
    pub extract: BTreeMap<String, Extract>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// an actor of `actors`; none sends the request without credentials
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// a precondition: if its assertions fail the test cannot say anything (an error, not a
    /// finding), e.g. "the owner can read the object" before "another user cannot"
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub setup: bool,
    /// a gate: if its assertions fail the test ends and passes, since the API refused what the
    /// rest of the test would prove (e.g. a write with privileged fields that is rejected)
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub guard: bool,
    /// find which of a list of secrets signs an HS256 token, offline, and forge one with it
    /// (`{{forged_jwt}}`, `{{jwt_secret}}`); when none does, the test ends and passes
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forge_jwt: Option<ForgeJwt>,
    pub request: Request,
    /// a second request whose answers the comparison assertions (`same_status`, `same_body`,
    /// `time_gap_ms`) hold the request's answers against
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub versus: Option<Request>,
    /// with `versus`: how many times each side is sent, in turn (default 1, at most 20)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub samples: Option<u32>,
    /// send the request this many times in a row (2 to 100) for `rate_limited`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub burst: Option<u32>,
    /// fan the step out: once per payload (`{{payload}}`), a built-in list name or a list
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payloads: Option<Payloads>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extract: BTreeMap<String, Extract>,
    #[serde(default, rename = "assert", skip_serializing_if = "Assertions::is_empty")]
    pub assertions: Assertions,
}

/// An HS256 token to test against a list of weak signing secrets.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForgeJwt {
    /// a token the API issued, e.g. `${MESHWARD_TOKEN_A}`
    pub token: String,
    /// a built-in list name (`jwt_secrets`) or a list
    pub secrets: Payloads,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Payloads {
    Builtin(String),
    List(Vec<String>),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    #[serde(default = "default_method")]
    pub method: String,
    /// relative to `--base-url`; must start with '/'
    pub path: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub query: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub form: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

fn default_method() -> String {
    "GET".to_owned()
}

/// Where a variable's value comes from: one of a JSON path (`$.token`), a response header, or
/// a regex over the body (its first group, else the whole match).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Extract {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regex: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Assertions {
    /// `200`, `[401, 403]`, `"2xx"`, `"400-499"`, `"<500"`, `"!200"`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contains: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_contains: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub json: Vec<JsonAssert>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers_present: Vec<String>,
    /// a header that, if present, must not contain this text (e.g. a reflected origin)
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub header_not_contains: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_time_ms: Option<u64>,
    /// no stack trace, SQL error or debug page in the body (`core::detect::leak`)
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_error_leak: bool,
    /// no password (or hash), token, key or card number in the body, and no two different
    /// email addresses (`core::detect`'s sensitive-data detector)
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_sensitive_data: bool,
    /// whether the answer hands out a credential: a 2xx that sets a cookie or holds a JSON
    /// string under a name with token, jwt or session in it (a login that worked)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issues_credentials: Option<bool>,
    /// with `versus`: both sides answered with the same statuses
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub same_status: bool,
    /// with `versus`: both sides answered with the same body, once the values each side sent
    /// and long numbers or hex strings (ids, times) are masked
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub same_body: bool,
    /// with `versus`: every answer of one side did not come more than this many milliseconds
    /// after every answer of the other (a timeout counts as the timeout)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_gap_ms: Option<u64>,
    /// with `burst`: some answer was 429 (or 503 with Retry-After), or the burst slowed down
    /// (a late answer took three times the first ones' and 250 ms more, or timed out)
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub rate_limited: bool,
}

impl Assertions {
    /// No assertion at all (a step whose answer is not judged, e.g. in `cleanup`).
    pub fn is_empty(&self) -> bool {
        serde_json::to_value(self).is_ok_and(|v| v.as_object().is_some_and(|o| o.is_empty()))
    }

    /// Assertions that compare a step's answers with its `versus` answers.
    pub fn compares(&self) -> bool {
        self.same_status || self.same_body || self.time_gap_ms.is_some()
    }
}

/// A JSON path that must exist (`exists: true`), be missing (`exists: false`), equal a value,
/// or not equal one (missing counts as not equal).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonAssert {
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equals: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_equals: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exists: Option<bool>,
}

/// An accepted status, parsed from the `status` assertion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusMatch {
    Any(Vec<u16>),
    Range(u16, u16),
    Not(Box<StatusMatch>),
}

impl StatusMatch {
    pub fn parse(value: &serde_json::Value) -> Result<Self, String> {
        let bad = || {
            format!(
                "status {value}: use a code (200), a list ([401, 403]), a class (\"2xx\"), a range (\"400-499\"), \
                 \"<500\", or \"!\" before any of them"
            )
        };
        let code = |n: u64| u16::try_from(n).ok().filter(|c| (100..=599).contains(c));
        match value {
            serde_json::Value::Number(n) => {
                n.as_u64().and_then(code).map(|c| StatusMatch::Any(vec![c])).ok_or_else(bad)
            }
            serde_json::Value::Array(items) => items
                .iter()
                .map(|v| v.as_u64().and_then(code))
                .collect::<Option<Vec<u16>>>()
                .filter(|codes| !codes.is_empty())
                .map(StatusMatch::Any)
                .ok_or_else(bad),
            serde_json::Value::String(text) => {
                let text = text.trim();
                if let Some(rest) = text.strip_prefix('!') {
                    let inner = if let Ok(n) = rest.trim().parse::<u64>() {
                        serde_json::Value::from(n)
                    } else {
                        serde_json::Value::from(rest.trim())
                    };
                    return StatusMatch::parse(&inner).map(|m| StatusMatch::Not(Box::new(m)));
                }
                if let Some(n) = text.strip_prefix('<').and_then(|n| n.trim().parse::<u16>().ok()) {
                    return Ok(StatusMatch::Range(100, n.saturating_sub(1)));
                }
                if let Some(class) =
                    text.strip_suffix("xx").and_then(|c| c.parse::<u16>().ok()).filter(|c| (1..=5).contains(c))
                {
                    return Ok(StatusMatch::Range(class * 100, class * 100 + 99));
                }
                if let Some((from, to)) = text.split_once('-') {
                    if let (Ok(from), Ok(to)) = (from.trim().parse::<u16>(), to.trim().parse::<u16>()) {
                        if from <= to {
                            return Ok(StatusMatch::Range(from, to));
                        }
                    }
                }
                text.parse::<u64>().ok().and_then(code).map(|c| StatusMatch::Any(vec![c])).ok_or_else(bad)
            }
            _ => Err(bad()),
        }
    }

    pub fn accepts(&self, status: u16) -> bool {
        match self {
            StatusMatch::Any(codes) => codes.contains(&status),
            StatusMatch::Range(from, to) => (*from..=*to).contains(&status),
            StatusMatch::Not(inner) => !inner.accepts(status),
        }
    }
}

impl TestFile {
    /// Parses one file's text; `file` names it in errors.
    pub fn parse(file: &Path, text: &str) -> Result<TestFile, SpecError> {
        let test: TestFile = serde_norway::from_str(text).map_err(|error| {
            let (line, column) = error.location().map_or((1, 1), |l| (l.line(), l.column()));
            // serde_norway appends "at line X column Y": the prefix says it already
            let message = error.to_string();
            let message = message.split(" at line ").next().unwrap_or(&message).to_owned();
            SpecError::Yaml { file: file.to_path_buf(), line, column, message }
        })?;
        test.check().map_err(|message| SpecError::Invalid { file: file.to_path_buf(), message })?;
        Ok(test)
    }

    /// What serde cannot check: references, exclusive choices, patterns.
    fn check(&self) -> Result<(), String> {
        if self.id.trim().is_empty() || self.id.contains(char::is_whitespace) {
            return Err("id must be a non-empty word without spaces, e.g. bola-orders".into());
        }
        if self.steps.is_empty() {
            return Err("a test needs at least one step under `steps`".into());
        }
        for (name, actor) in &self.actors {
            let kinds =
                [actor.bearer.is_some(), actor.api_key.is_some(), actor.basic.is_some(), actor.cookie.is_some()];
            if kinds.iter().filter(|k| **k).count() > 1 {
                return Err(format!("actor {name}: give one of bearer, api_key, basic or cookie"));
            }
            if let Some(login) = &actor.login {
                check_request(&login.request).map_err(|e| format!("actor {name}, login: {e}"))?;
                for (var, extract) in &login.extract {
                    check_extract(extract).map_err(|e| format!("actor {name}, login, extract {var}: {e}"))?;
                }
            }
        }
        for (i, step) in self.steps.iter().chain(&self.cleanup).enumerate() {
            let kind = if i < self.steps.len() { "step" } else { "cleanup step" };
            let n = if i < self.steps.len() { i + 1 } else { i + 1 - self.steps.len() };
            let at = if step.name.is_empty() { format!("{kind} {n}") } else { format!("{kind} {n} ({})", step.name) };
            if let Some(actor) = &step.actor {
                if !self.actors.contains_key(actor) {
                    let known: Vec<&str> = self.actors.keys().map(String::as_str).collect();
                    return Err(format!("{at}: no actor {actor:?} under `actors` (there are: {})", known.join(", ")));
                }
            }
            check_request(&step.request).map_err(|e| format!("{at}: {e}"))?;
            for list in [&step.payloads, &step.forge_jwt.as_ref().map(|f| f.secrets.clone())].into_iter().flatten() {
                if let Payloads::Builtin(name) = list {
                    if payloads::builtin(name).is_none() {
                        return Err(format!(
                            "{at}: no built-in payload list {name:?} (there are: {}); or give a list",
                            payloads::NAMES.join(", ")
                        ));
                    }
                }
            }
            if step.setup && step.guard {
                return Err(format!(
                    "{at}: a step is either `setup` (its failure is an error) or `guard` (its failure passes the test)"
                ));
            }
            if let Some(versus) = &step.versus {
                check_request(versus).map_err(|e| format!("{at}: versus: {e}"))?;
            } else if step.assertions.compares() || step.samples.is_some() {
                return Err(format!(
                    "{at}: `same_status`, `same_body`, `time_gap_ms` and `samples` compare with a `versus` request: add one"
                ));
            }
            if step.samples.is_some_and(|n| !(1..=20).contains(&n)) {
                return Err(format!("{at}: samples must be 1 to 20"));
            }
            match step.burst {
                Some(n) if !(2..=100).contains(&n) => return Err(format!("{at}: burst must be 2 to 100 requests")),
                Some(_) if step.versus.is_some() || step.payloads.is_some() => {
                    return Err(format!("{at}: a `burst` step takes no `versus` and no `payloads`"))
                }
                None if step.assertions.rate_limited => {
                    return Err(format!("{at}: `rate_limited` judges a `burst`: add `burst: 30`"))
                }
                _ => {}
            }
            for (var, extract) in &step.extract {
                check_extract(extract).map_err(|e| format!("{at}, extract {var}: {e}"))?;
            }
            if let Some(status) = &step.assertions.status {
                StatusMatch::parse(status).map_err(|e| format!("{at}: {e}"))?;
            }
            for assertion in &step.assertions.json {
                serde_json_path::JsonPath::parse(&assertion.path)
                    .map_err(|e| format!("{at}: JSON path {:?}: {e}", assertion.path))?;
                let given = [assertion.equals.is_some(), assertion.not_equals.is_some(), assertion.exists.is_some()];
                if given.iter().filter(|g| **g).count() != 1 {
                    return Err(format!(
                        "{at}: JSON assertion {}: give one of `equals`, `not_equals` or `exists`",
                        assertion.path
                    ));
                }
            }
        }
        Ok(())
    }

    /// The environment variables it reads (`${NAME}`), in order of first use.
    pub fn env_vars(&self) -> Vec<String> {
        let text = serde_json::to_string(self).unwrap_or_default();
        let mut vars: Vec<String> = Vec::new();
        let mut rest = text.as_str();
        while let Some(start) = rest.find("${") {
            let tail = &rest[start + 2..];
            let Some(end) = tail.find('}') else { break };
            let name = &tail[..end];
            if !name.is_empty() && !vars.iter().any(|v| v == name) {
                vars.push(name.to_owned());
            }
            rest = &tail[end..];
        }
        vars
    }

    /// Whether it sends probes that need `--allow`.
    pub fn needs(&self, capability: Capability) -> bool {
        self.requires.contains(&capability)
    }
}

fn check_request(request: &Request) -> Result<(), String> {
    if !request.path.starts_with('/') {
        return Err(format!(
            "request path {:?} must start with '/': tests only reach the --base-url they are run against",
            request.path
        ));
    }
    if !request.method.chars().all(|c| c.is_ascii_alphabetic()) || request.method.is_empty() {
        return Err(format!("request method {:?} is not an HTTP method", request.method));
    }
    let bodies = [request.json.is_some(), !request.form.is_empty(), request.body.is_some()];
    if bodies.iter().filter(|b| **b).count() > 1 {
        return Err("a request takes one of json, form or body".into());
    }
    Ok(())
}

fn check_extract(extract: &Extract) -> Result<(), String> {
    match (&extract.json, &extract.header, &extract.regex) {
        (Some(path), None, None) => {
            serde_json_path::JsonPath::parse(path).map(|_| ()).map_err(|e| format!("JSON path {path:?}: {e}"))
        }
        (None, Some(_), None) => Ok(()),
        (None, None, Some(re)) => regex::Regex::new(re).map(|_| ()).map_err(|e| format!("regex {re:?}: {e}")),
        _ => Err("give exactly one of json, header or regex".into()),
    }
}

/// The test files under the given files and folders (folders recursively, `.yaml`/`.yml`),
/// parsed and checked; every file's problem is reported, not just the first.
pub fn load(paths: &[PathBuf]) -> Result<Vec<(PathBuf, TestFile)>, Vec<SpecError>> {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        let before = files.len();
        collect(path, &mut files, &mut errors);
        if files.len() == before && errors.is_empty() {
            errors.push(SpecError::Empty(path.clone()));
        }
    }
    files.sort();
    let mut tests = Vec::new();
    for file in files {
        match std::fs::read_to_string(&file) {
            Ok(text) => match TestFile::parse(&file, &text) {
                Ok(test) => tests.push((file, test)),
                Err(e) => errors.push(e),
            },
            Err(error) => errors.push(SpecError::Read { file, error }),
        }
    }
    let mut seen = std::collections::HashMap::new();
    for (file, test) in &tests {
        if let Some(other) = seen.insert(test.id.clone(), file.clone()) {
            errors.push(SpecError::Invalid {
                file: file.clone(),
                message: format!(
                    "id {} is also used by {}: ids name results, make them unique",
                    test.id,
                    other.display()
                ),
            });
        }
    }
    if errors.is_empty() {
        Ok(tests)
    } else {
        Err(errors)
    }
}

fn collect(path: &Path, files: &mut Vec<PathBuf>, errors: &mut Vec<SpecError>) {
    if path.is_dir() {
        match std::fs::read_dir(path) {
            Ok(entries) => {
                for entry in entries.flatten() {
                    let p = entry.path();
                    if p.is_dir() || is_test_file(&p) {
                        collect(&p, files, errors);
                    }
                }
            }
            Err(error) => errors.push(SpecError::Read { file: path.to_path_buf(), error }),
        }
    } else if path.exists() {
        files.push(path.to_path_buf());
    } else {
        errors.push(SpecError::Read {
            file: path.to_path_buf(),
            error: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file or folder"),
        });
    }
}

fn is_test_file(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| e == "yaml" || e == "yml")
}
