//! Test templates: YAML tests generated from an OpenAPI spec or the discovered inventory, one
//! file per template and operation, ready to run and to edit.
//!
//! Generated tests take their credentials and object ids from the environment, so the files
//! hold no secret and fit any deployment:
//! `MESHWARD_TOKEN_A`, `MESHWARD_TOKEN_B` (two ordinary users), `MESHWARD_TOKEN_ADMIN`,
//! `MESHWARD_TOKEN_OTHER_TENANT`, per path parameter the id of an object each owns
//! (`MESHWARD_A_ORDER_ID`, `MESHWARD_B_ORDER_ID`, `MESHWARD_ADMIN_ORDER_ID` for `{order_id}`),
//! and for the login's fields the users' credentials (`MESHWARD_A_USERNAME`,
//! `MESHWARD_A_PASSWORD`, ...).
//!
//! Each test proves its point by reading state back or by comparing two answers, never by a
//! write's status alone; names and objects a test creates carry `{{unique}}`, so tests and runs
//! never collide; tests that change what others read (privileges, passwords, bursts of failed
//! logins, resets) run after them (`order`).

use super::spec::{Actor, Assertions, Capability, ForgeJwt, JsonAssert, Payloads, Request, Severity, Step, TestFile};
use std::collections::BTreeMap;

/// An operation to test, from a spec or the inventory.
#[derive(Debug, Clone, Default)]
pub struct Target {
    pub method: String,
    pub template: String,
    pub secured: bool,
    pub admin: bool,
    pub query_params: Vec<String>,
    /// top-level JSON body fields and their types
    pub body_fields: Vec<(String, String)>,
    /// operationId, summary and tags: what the operation says it does
    pub words: String,
    /// string inputs (query parameters, top-level body fields) validated by a regex: a `pattern`,
    /// or an email format or name (the usual home of a hand-written regex)
    pub patterned: Vec<String>,
}

impl Target {
    pub fn from_operation(op: &crate::inventory::openapi::Operation) -> Target {
        Target {
            method: op.method.to_ascii_uppercase(),
            template: op.template.clone(),
            secured: op.secured,
            admin: op.tags.iter().any(|t| t.eq_ignore_ascii_case("admin")) || is_admin_path(&op.template),
            query_params: op.query_params.clone(),
            body_fields: top_level_fields(&op.request_fields),
            words: op.tags.join(" "),
            patterned: Vec::new(),
        }
    }

    pub fn from_endpoint(e: &crate::inventory::Endpoint) -> Target {
        let mut target = Target {
            method: e.method.to_ascii_uppercase(),
            template: e.template.clone(),
            secured: e.auth.iter().any(|a| a != "none"),
            admin: is_admin_path(&e.template),
            query_params: e.query_params.clone(),
            body_fields: top_level_fields(&e.request_fields),
            words: String::new(),
            patterned: Vec::new(),
        };
        target.patterned = target.inputs().into_iter().filter(|name| looks_like(name, EMAIL)).collect();
        target
    }

    fn path_params(&self) -> Vec<String> {
        self.template
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(str::to_owned)
            .collect()
    }

    fn writes(&self) -> bool {
        !matches!(self.method.as_str(), "GET" | "HEAD" | "OPTIONS")
    }

    /// The template with `{param}` as `{{param}}` variables.
    fn path(&self) -> String {
        self.template.replace('{', "{{").replace('}', "}}")
    }

    fn slug(&self) -> String {
        let mut slug = format!("{}-{}", self.method.to_ascii_lowercase(), self.template);
        slug = slug.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
        while slug.contains("--") {
            slug = slug.replace("--", "-");
        }
        slug.trim_matches('-').to_owned()
    }

    /// String inputs: query parameters and string body fields.
    fn inputs(&self) -> Vec<String> {
        self.query_params
            .iter()
            .cloned()
            .chain(self.body_fields.iter().filter(|(_, k)| k == "string").map(|(n, _)| n.clone()))
            .collect()
    }

    fn field(&self, words: &[&str]) -> Option<&str> {
        self.body_fields.iter().map(|(n, _)| n.as_str()).find(|n| looks_like(n, words))
    }

    /// A login: a POST taking a user name (or email) and a password, named as one.
    fn is_login(&self) -> bool {
        self.method == "POST"
            && self.field(PASSWORD).is_some()
            && self.field(USER).is_some()
            && says(
                &format!("{} {}", self.template, self.words),
                &["login", "signin", "logon", "authenticate", "token", "session"],
            )
    }

    /// A change of a user's password, the user named in the path.
    fn is_password_change(&self) -> bool {
        matches!(self.method.as_str(), "PUT" | "PATCH" | "POST")
            && !self.is_login()
            && self.field(PASSWORD).is_some()
            && !self.path_params().is_empty()
            && says(&self.template, &["password", "passwd"])
    }

    /// Whether it resets, seeds, initialises or deletes data, by its method, path, operationId,
    /// summary or tags: such operations run only with `--allow destructive`, and last.
    fn wipes(&self) -> bool {
        const WIPES: &[&str] = &[
            "reset", "seed", "populate", "purge", "wipe", "truncate", "drop", "flush", "delete", "remove", "destroy",
            "erase", "clear", "createdb", "recreate", "restore", "initdb", "initiali",
        ];
        let text = format!("{} {}", self.template, self.words);
        self.method == "DELETE" || says(&text, WIPES) || words(&text).iter().any(|w| w == "init")
    }
}

const PASSWORD: &[&str] = &["password", "passwd", "pwd", "pass"];
const USER: &[&str] = &["username", "user", "login", "email", "user_name", "username_or_email"];
const EMAIL: &[&str] = &["email", "e_mail", "mail"];

/// Whether a field name is one of the words (`userName` and `user-name` as `user_name`).
fn looks_like(name: &str, words: &[&str]) -> bool {
    let mut snake = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            snake.push('_');
        }
        snake.push(if c == '-' { '_' } else { c.to_ascii_lowercase() });
    }
    words.iter().any(|w| snake == *w || snake.ends_with(&format!("_{w}")) || snake.starts_with(&format!("{w}_")))
}

/// Whether a text (path, operationId, summary) has a word starting with one of the stems; words
/// split at anything not a letter or digit and at camelCase humps.
fn says(text: &str, stems: &[&str]) -> bool {
    words(text).iter().any(|w| stems.iter().any(|s| w.starts_with(s)))
}

fn words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut previous_lower = false;
    for c in text.chars() {
        if (!c.is_ascii_alphanumeric() || (c.is_ascii_uppercase() && previous_lower)) && !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
        if c.is_ascii_alphanumeric() {
            word.push(c.to_ascii_lowercase());
        }
        previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
    }
    words.push(word);
    words
}

fn is_admin_path(template: &str) -> bool {
    template.split('/').any(|s| s.eq_ignore_ascii_case("admin") || s.eq_ignore_ascii_case("internal"))
}

/// `$.name: string` -> (`name`, `string`), top level only.
fn top_level_fields(fields: &[String]) -> Vec<(String, String)> {
    fields
        .iter()
        .filter_map(|f| {
            let (path, kind) = f.split_once(": ")?;
            let name = path.strip_prefix("$.")?;
            (!name.contains(['.', '['])).then(|| (name.to_owned(), kind.to_owned()))
        })
        .collect()
}

/// Adds what `inventory::openapi::parse` does not keep to the targets of an OpenAPI document:
/// each operation's operationId and summary (to tell a reset from a read) and the string inputs
/// a `pattern` or an email format validates.
pub fn annotate_from_openapi(targets: &mut [Target], text: &str) -> Result<(), String> {
    let doc: serde_json::Value = serde_norway::from_str(text).map_err(|e| format!("reading the document: {e}"))?;
    let resolve = |v: &serde_json::Value| -> serde_json::Value {
        match v.get("$ref").and_then(|r| r.as_str()).and_then(|r| r.strip_prefix('#')) {
            Some(pointer) => doc.pointer(pointer).cloned().unwrap_or_else(|| v.clone()),
            None => v.clone(),
        }
    };
    for target in targets.iter_mut() {
        let Some(op) = doc.pointer(&format!(
            "/paths/{}/{}",
            target.template.replace('~', "~0").replace('/', "~1"),
            target.method.to_ascii_lowercase()
        )) else {
            continue;
        };
        for key in ["operationId", "summary"] {
            if let Some(text) = op.get(key).and_then(|v| v.as_str()) {
                target.words.push(' ');
                target.words.push_str(text);
            }
        }
        let validated = |name: &str, schema: &serde_json::Value| {
            schema.get("pattern").is_some()
                || schema.get("format").and_then(|f| f.as_str()) == Some("email")
                || looks_like(name, EMAIL)
        };
        let mut patterned = Vec::new();
        for param in op.get("parameters").and_then(|p| p.as_array()).into_iter().flatten() {
            let param = resolve(param);
            let (Some(name), Some("query")) =
                (param.get("name").and_then(|n| n.as_str()), param.get("in").and_then(|i| i.as_str()))
            else {
                continue;
            };
            let schema = param.get("schema").map(&resolve).unwrap_or_default();
            if schema.get("type").and_then(|t| t.as_str()).unwrap_or("string") == "string" && validated(name, &schema) {
                patterned.push(name.to_owned());
            }
        }
        let content = op.pointer("/requestBody/content").and_then(|c| c.as_object());
        let schema = content
            .and_then(|c| c.iter().find(|(mime, _)| mime.contains("json")).map(|(_, c)| c))
            .and_then(|c| c.get("schema"))
            .map(&resolve);
        if let Some(properties) = schema.as_ref().and_then(|s| s.get("properties")).and_then(|p| p.as_object()) {
            for (name, property) in properties {
                let property = resolve(property);
                if property.get("type").and_then(|t| t.as_str()) == Some("string") && validated(name, &property) {
                    patterned.push(name.clone());
                }
            }
        }
        target.patterned = patterned;
    }
    Ok(())
}

/// Every template: Metlo's nine (bola, bola-admin, bola-tenant, broken-auth, generic, hsts, csp,
/// sqli-time, auth-required) and the rest.
pub const TEMPLATES: &[(&str, &str)] = &[
    ("bola", "user A reads or changes an object of user B (a changed password: B logs in with A's)"),
    ("bola-admin", "an ordinary user reads an object the admin owns"),
    ("bola-tenant", "a user of another tenant reads a user's object"),
    ("bfla", "an ordinary user calls an admin operation"),
    ("auth-required", "an operation that needs credentials answers an anonymous call"),
    ("broken-auth", "malformed, expired or unsigned (alg none) tokens are accepted"),
    ("jwt-weak-secret", "user A's HS256 token is signed with a common weak secret, and a token forged with it works"),
    ("sqli", "SQL injection into each parameter and body field: SQL errors, 5xx"),
    ("sqli-time", "time-based SQL injection (needs --allow time-based)"),
    ("nosqli", "NoSQL operator injection into each parameter and body field"),
    ("mass-assignment", "privileged fields (role, is_admin) in a write are stored, as reading the object back shows"),
    ("data-exposure", "an answer holds passwords, hashes, tokens, keys, cards or other users' emails"),
    ("user-enumeration", "a login fails differently (status, message, time) for a known and an unknown user"),
    ("rate-limit", "a burst of failed logins is neither refused with 429 nor slowed down"),
    (
        "redos",
        "a pathological input to a regex-validated field takes far longer than a benign one (needs --allow time-based)",
    ),
    ("hsts", "no Strict-Transport-Security header"),
    ("csp", "no Content-Security-Policy header"),
    ("nosniff", "no X-Content-Type-Options: nosniff header"),
    ("verbose-errors", "malformed input answered with a stack trace or database error"),
    ("cors", "an arbitrary Origin is reflected in Access-Control-Allow-Origin"),
    ("generic", "each operation answers user A without a 5xx or an error leak"),
];

/// When generated tests run (`order`): reads first, then writes, then tests that change
/// privileges or credentials, then bursts, then operations that wipe data, then probes that may
/// keep the API busy.
const READS: u8 = 0;
const WRITES: u8 = 1;
const CHANGES_ACCESS: u8 = 2;
const BURSTS: u8 = 3;
const WIPES: u8 = 4;
const SLOW: u8 = 5;

/// Tests of one template (or `all`) for the targets.
pub fn generate(template: &str, targets: &[Target]) -> Result<Vec<TestFile>, String> {
    if template == "all" {
        let mut all = Vec::new();
        for (name, _) in TEMPLATES {
            all.extend(generate(name, targets)?);
        }
        return Ok(all);
    }
    let mut tests = Vec::new();
    let safe = || targets.iter().filter(|t| !t.wipes());
    let once = |f: &dyn Fn(&Target) -> Option<TestFile>| safe().filter(|t| t.method == "GET").find_map(f);
    let login = targets.iter().find(|t| t.is_login());
    match template {
        "bola" => tests.extend(safe().filter_map(|t| bola(t, "b", "user_b", "MESHWARD_TOKEN_B", "bola", targets))),
        "bola-admin" => tests
            .extend(safe().filter_map(|t| bola(t, "admin", "admin", "MESHWARD_TOKEN_ADMIN", "bola-admin", targets))),
        "bola-tenant" => tests.extend(safe().filter_map(bola_tenant)),
        "bfla" => tests.extend(targets.iter().filter(|t| t.admin).map(bfla)),
        "auth-required" => tests.extend(targets.iter().filter(|t| t.secured).map(auth_required)),
        "broken-auth" => tests.extend(targets.iter().filter(|t| t.secured).map(broken_auth)),
        "jwt-weak-secret" => tests.extend(
            safe()
                .filter(|t| t.method == "GET" && t.secured && !t.admin)
                // the simplest call: the caller itself (`/me`), then the fewest parameters
                .min_by_key(|t| {
                    (!t.template.ends_with("/me"), t.path_params().len(), t.query_params.len(), t.template.len())
                })
                .map(jwt_weak_secret),
        ),
        "sqli" => tests.extend(safe().filter_map(|t| injection(t, "sqli", "sqli"))),
        "sqli-time" => tests.extend(safe().filter_map(|t| injection(t, "sqli-time", "sqli_time"))),
        "nosqli" => tests.extend(safe().filter_map(|t| injection(t, "nosqli", "nosqli"))),
        "mass-assignment" => tests.extend(safe().filter_map(|t| mass_assignment(t, targets))),
        "data-exposure" => tests.extend(safe().filter(|t| t.method == "GET").map(data_exposure)),
        "user-enumeration" => tests.extend(login.and_then(user_enumeration)),
        "rate-limit" => tests.extend(login.and_then(rate_limit)),
        "redos" => {
            // one at a time: a probe keeping the API busy would slow another's benign baseline
            for (i, mut t) in safe().filter_map(redos).enumerate() {
                t.order = SLOW.saturating_add(u8::try_from(i).unwrap_or(u8::MAX));
                tests.push(t);
            }
        }
        "hsts" => tests.extend(once(&|t| header_test(t, "hsts", "strict-transport-security"))),
        "csp" => tests.extend(once(&|t| header_test(t, "csp", "content-security-policy"))),
        "nosniff" => tests.extend(once(&|t| header_test(t, "nosniff", "x-content-type-options"))),
        "verbose-errors" => tests.extend(safe().filter_map(verbose_errors)),
        "cors" => tests.extend(once(&|t| Some(cors(t)))),
        "generic" => tests.extend(targets.iter().map(generic)),
        other => {
            let names: Vec<&str> = TEMPLATES.iter().map(|(n, _)| *n).collect();
            return Err(format!("no template {other:?}; there are: all, {}", names.join(", ")));
        }
    }
    Ok(tests)
}

/// The environment variables the tests read, each with how many tests read it.
pub fn required_env(tests: &[TestFile]) -> Vec<(String, usize)> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for test in tests {
        for name in test.env_vars() {
            *counts.entry(name).or_default() += 1;
        }
    }
    counts.into_iter().collect()
}

fn env_var(owner: &str, name: &str) -> String {
    let name: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect();
    format!("${{MESHWARD_{}_{name}}}", owner.to_ascii_uppercase())
}

fn bearer(var: &str) -> Actor {
    Actor { bearer: Some(format!("${{{var}}}")), ..Actor::default() }
}

fn actors(list: &[(&str, &str)]) -> BTreeMap<String, Actor> {
    list.iter().map(|(name, var)| ((*name).to_owned(), bearer(var))).collect()
}

/// Path parameters filled with ids `owner` owns.
fn ids_of(target: &Target, owner: &str) -> BTreeMap<String, String> {
    target.path_params().iter().map(|p| (p.clone(), env_var(owner, p))).collect()
}

fn request(target: &Target) -> Request {
    Request {
        method: target.method.clone(),
        path: target.path(),
        query: BTreeMap::new(),
        headers: BTreeMap::new(),
        json: target.writes().then(|| sample_body(target, &[])),
        form: BTreeMap::new(),
        body: None,
    }
}

/// The password a test sets: strong enough for any password rule, and its own.
const NEW_PASSWORD: &str = "Mw-{{unique}}-Pw9!";

/// A value of a field's type; strings are this test's own (`{{unique}}`), shaped by the name.
fn sample_value(name: &str, kind: &str) -> serde_json::Value {
    match kind {
        "integer" => 1.into(),
        "number" => 1.5.into(),
        "boolean" => true.into(),
        "array" => serde_json::json!([]),
        "object" => serde_json::json!({}),
        _ if looks_like(name, EMAIL) => "{{unique}}@example.com".into(),
        _ if looks_like(name, PASSWORD) => NEW_PASSWORD.into(),
        _ if looks_like(name, USER) || looks_like(name, &["name"]) => "{{unique}}".into(),
        _ => "meshward-{{unique}}".into(),
    }
}

/// A JSON body with every known field, some replaced.
fn sample_body(target: &Target, replace: &[(&str, serde_json::Value)]) -> serde_json::Value {
    let mut body = serde_json::Map::new();
    for (name, kind) in &target.body_fields {
        body.insert(name.clone(), sample_value(name, kind));
    }
    for (name, value) in replace {
        body.insert((*name).to_owned(), value.clone());
    }
    serde_json::Value::Object(body)
}

fn step(name: &str, actor: Option<&str>, request: Request, assertions: Assertions) -> Step {
    Step {
        name: name.to_owned(),
        actor: actor.map(str::to_owned),
        setup: false,
        guard: false,
        forge_jwt: None,
        request,
        versus: None,
        samples: None,
        burst: None,
        payloads: None,
        extract: BTreeMap::new(),
        assertions,
    }
}

fn status(value: impl Into<serde_json::Value>) -> Assertions {
    Assertions { status: Some(value.into()), ..Assertions::default() }
}

fn setup(mut s: Step) -> Step {
    s.setup = true;
    s
}

fn guard(mut s: Step) -> Step {
    s.guard = true;
    s
}

#[allow(clippy::too_many_arguments)]
fn test(
    template: &str,
    target: &Target,
    name: String,
    severity: Severity,
    tags: &[&str],
    vars: BTreeMap<String, String>,
    actors: BTreeMap<String, Actor>,
    steps: Vec<Step>,
) -> TestFile {
    let description = TEMPLATES.iter().find(|(n, _)| *n == template).map(|(_, d)| (*d).to_owned()).unwrap_or_default();
    let wipes = target.wipes();
    TestFile {
        id: format!("{template}-{}", target.slug()),
        name,
        description: format!(
            "Generated by `meshward test generate --template {template}`: {description}.{}",
            if wipes {
                " The operation resets or deletes data: it runs only with --allow destructive, last."
            } else {
                ""
            }
        ),
        severity,
        tags: {
            let mut all: Vec<String> = tags.iter().map(|t| (*t).to_owned()).collect();
            if !all.iter().any(|t| t == template) {
                all.push(template.to_owned());
            }
            all
        },
        requires: if target.writes() || wipes { vec![Capability::Destructive] } else { Vec::new() },
        vars,
        actors,
        order: if wipes {
            WIPES
        } else if target.writes() {
            WRITES
        } else {
            READS
        },
        steps,
        cleanup: Vec::new(),
    }
}

fn bola(
    target: &Target,
    owner: &str,
    owner_actor: &str,
    owner_token: &str,
    template: &str,
    all: &[Target],
) -> Option<TestFile> {
    // public operations (no `security`) serve anyone's objects by design
    if target.path_params().is_empty() || target.admin || !target.secured {
        return None;
    }
    let name = format!("{} {}: a user cannot reach another's object", target.method, target.template);
    let tags = ["OWASP-API1:2023", "bola"];
    let actor_list = [("user_a", "MESHWARD_TOKEN_A"), (owner_actor, owner_token)];
    if !target.writes() {
        let steps = vec![
            setup(step(
                &format!("{owner_actor} reads its own object"),
                Some(owner_actor),
                request(target),
                status("2xx"),
            )),
            step(
                &format!("user_a reads {owner_actor}'s object: refused"),
                Some("user_a"),
                request(target),
                status("!2xx"),
            ),
        ];
        return Some(test(
            template,
            target,
            name,
            Severity::High,
            &tags,
            ids_of(target, owner),
            actors(&actor_list),
            steps,
        ));
    }
    if target.is_password_change() {
        // the admin's password is not for a test to change
        if owner != "b" {
            return None;
        }
        let login = all.iter().find(|t| t.is_login())?;
        let (user_field, password_field) = (login.field(USER)?, login.field(PASSWORD)?);
        let password = target.field(PASSWORD)?;
        let mut change = request(target);
        change.json = Some(sample_body(target, &[(password, NEW_PASSWORD.into())]));
        let mut log_in = request(login);
        log_in.json = Some(sample_body(
            login,
            &[(user_field, env_var("b", user_field).into()), (password_field, NEW_PASSWORD.into())],
        ));
        let mut t = test(
            template,
            target,
            format!("{} {}: a user cannot change another user's password", target.method, target.template),
            Severity::Critical,
            &["OWASP-API1:2023", "bola", "account-takeover"],
            ids_of(target, owner),
            actors(&actor_list[..1]),
            vec![
                guard(step(
                    "user_a sets a new password for user_b (a refusal passes)",
                    Some("user_a"),
                    change,
                    status("2xx"),
                )),
                step(
                    "user_b cannot log in with the password user_a set",
                    None,
                    log_in,
                    Assertions { issues_credentials: Some(false), ..Assertions::default() },
                ),
            ],
        );
        // put both passwords back: where the API changed user_b's, the first restores it; where
        // it changed the caller's own instead, the second does
        let restore = |user: &str, owner: &str| {
            let mut r = request(target);
            for param in target.path_params() {
                r.path = r.path.replace(&format!("{{{{{param}}}}}"), &env_var(owner, &param));
            }
            r.json = Some(sample_body(target, &[(password, env_var(owner, password_field).into())]));
            step(&format!("user_a puts {user}'s password back"), Some("user_a"), r, Assertions::default())
        };
        t.cleanup = vec![restore("user_b", "b"), restore("user_a", "a")];
        t.order = CHANGES_ACCESS;
        return Some(t);
    }
    // a write: proven by the owner reading its object back, never by the write's status
    let readable = all.iter().any(|t| t.method == "GET" && t.template == target.template);
    let marked = target.body_fields.iter().any(|(_, kind)| kind == "string");
    if target.method == "DELETE" || !readable || !marked {
        return None;
    }
    let read = Request { method: "GET".into(), json: None, ..request(target) };
    let steps = vec![
        guard(step(
            &format!("user_a writes {owner_actor}'s object (a refusal passes)"),
            Some("user_a"),
            request(target),
            status("2xx"),
        )),
        step(
            &format!("{owner_actor}'s object does not hold what user_a wrote"),
            Some(owner_actor),
            read,
            Assertions { not_contains: vec!["{{unique}}".into()], ..Assertions::default() },
        ),
    ];
    Some(test(template, target, name, Severity::High, &tags, ids_of(target, owner), actors(&actor_list), steps))
}

fn bola_tenant(target: &Target) -> Option<TestFile> {
    if target.path_params().is_empty() || target.admin || target.writes() || !target.secured {
        return None;
    }
    Some(test(
        "bola-tenant",
        target,
        format!("{} {}: another tenant cannot reach a user's object", target.method, target.template),
        Severity::Critical,
        &["OWASP-API1:2023", "bola", "multi-tenant"],
        ids_of(target, "b"),
        actors(&[("user_b", "MESHWARD_TOKEN_B"), ("other_tenant", "MESHWARD_TOKEN_OTHER_TENANT")]),
        vec![
            setup(step("user_b reads its own object", Some("user_b"), request(target), status("2xx"))),
            step("other_tenant reads it: refused", Some("other_tenant"), request(target), status("!2xx")),
        ],
    ))
}

fn bfla(target: &Target) -> TestFile {
    let mut steps = vec![step("user_a calls it: refused", Some("user_a"), request(target), status([401, 403, 404]))];
    if !target.writes() {
        steps.insert(0, setup(step("admin calls it", Some("admin"), request(target), status("2xx"))));
    }
    test(
        "bfla",
        target,
        format!("{} {}: only admins may call it", target.method, target.template),
        Severity::High,
        &["OWASP-API5:2023", "bfla"],
        ids_of(target, "admin"),
        actors(&[("user_a", "MESHWARD_TOKEN_A"), ("admin", "MESHWARD_TOKEN_ADMIN")]),
        steps,
    )
}

fn auth_required(target: &Target) -> TestFile {
    test(
        "auth-required",
        target,
        format!("{} {}: anonymous calls are refused", target.method, target.template),
        Severity::High,
        &["OWASP-API2:2023", "authentication"],
        ids_of(target, "a"),
        BTreeMap::new(),
        vec![step("no credentials: refused", None, request(target), status([401, 403]))],
    )
}

/// An unsigned (`alg: none`) and an expired HS256 token claiming user 1: a service that reads
/// claims without verifying them accepts these.
const UNSIGNED_JWT: &str = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiIxIiwicm9sZSI6ImFkbWluIn0.";
const EXPIRED_JWT: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIiwiZXhwIjoxNTc3ODM2ODAwfQ.\
                           5mhBHqs5_DTLdINd9p5m7ZJ6XD0Xc55kIaCRY5r6HRA";

fn broken_auth(target: &Target) -> TestFile {
    let with = |name: &str, header: &str| {
        let mut r = request(target);
        r.headers.insert("authorization".into(), header.to_owned());
        step(name, None, r, status([401, 403]))
    };
    test(
        "broken-auth",
        target,
        format!("{} {}: bad tokens are refused", target.method, target.template),
        Severity::Critical,
        &["OWASP-API2:2023", "authentication"],
        ids_of(target, "a"),
        BTreeMap::new(),
        vec![
            with("malformed token: refused", "Bearer not-a-token"),
            with("expired token: refused", &format!("Bearer {EXPIRED_JWT}")),
            with("unsigned token (alg none): refused", &format!("Bearer {UNSIGNED_JWT}")),
        ],
    )
}

fn jwt_weak_secret(target: &Target) -> TestFile {
    let mut forged = request(target);
    forged.headers.insert("authorization".into(), "Bearer {{forged_jwt}}".into());
    let mut attempt = step(
        "a token forged with the weak secret that signs user_a's (if one does) is refused",
        None,
        forged,
        status([401, 403]),
    );
    attempt.forge_jwt =
        Some(ForgeJwt { token: "${MESHWARD_TOKEN_A}".into(), secrets: Payloads::Builtin("jwt_secrets".into()) });
    let mut t = test(
        "jwt-weak-secret",
        target,
        "user_a's token is not signed with a common weak secret".to_owned(),
        Severity::Critical,
        &["OWASP-API2:2023", "authentication", "jwt"],
        ids_of(target, "a"),
        actors(&[("user_a", "MESHWARD_TOKEN_A")]),
        vec![setup(step("user_a's own token works here", Some("user_a"), request(target), status("2xx"))), attempt],
    );
    t.id = "jwt-weak-secret".into();
    t
}

/// One step per input (query parameter, string body field, path parameter) with the payloads.
fn injection(target: &Target, template: &str, list: &str) -> Option<TestFile> {
    let mut steps = Vec::new();
    let assertions = if list == "sqli_time" {
        Assertions { max_time_ms: Some(2_500), ..Assertions::default() }
    } else {
        Assertions { status: Some("<500".into()), no_error_leak: true, ..Assertions::default() }
    };
    let mut add = |input: String, request: Request| {
        let mut s = step(&format!("{list} in {input}"), Some("user_a"), request, assertions.clone());
        s.payloads = Some(Payloads::Builtin(list.to_owned()));
        steps.push(s);
    };
    for param in &target.query_params {
        let mut r = request(target);
        r.query.insert(param.clone(), "{{payload}}".into());
        add(format!("query {param}"), r);
    }
    for (field, kind) in &target.body_fields {
        if kind == "string" {
            let mut r = request(target);
            r.json = Some(sample_body(target, &[(field, "{{payload}}".into())]));
            add(format!("body {field}"), r);
        }
    }
    for param in target.path_params() {
        let mut r = request(target);
        r.path = r.path.replace(&format!("{{{{{param}}}}}"), "{{payload}}");
        add(format!("path {param}"), r);
    }
    if steps.is_empty() {
        return None;
    }
    let mut t = test(
        template,
        target,
        format!("{} {}: {} does not reach the database", target.method, target.template, list.replace('_', " ")),
        Severity::Critical,
        &["OWASP-API8:2023", "injection"],
        ids_of(target, "a"),
        actors(&[("user_a", "MESHWARD_TOKEN_A")]),
        steps,
    );
    if list == "sqli_time" {
        t.requires.push(Capability::TimeBased);
    }
    Some(t)
}

/// Fields a client must not set, with the value that would grant a privilege.
fn privileged() -> Vec<(&'static str, serde_json::Value)> {
    vec![
        ("role", "admin".into()),
        ("is_admin", true.into()),
        ("admin", true.into()),
        ("permissions", serde_json::json!(["*"])),
    ]
}

fn mass_assignment(target: &Target, all: &[Target]) -> Option<TestFile> {
    if !matches!(target.method.as_str(), "POST" | "PUT" | "PATCH")
        || target.body_fields.is_empty()
        || target.is_login()
        || target.is_password_change()
    {
        return None;
    }
    let extras = privileged();
    let mut write = request(target);
    write.json = Some(sample_body(target, &extras));
    let not_privileged = Assertions {
        json: extras
            .iter()
            .map(|(name, value)| JsonAssert {
                // wherever the answer keeps it (`{"data": {"admin": true}}`)
                path: format!("$..{name}"),
                equals: None,
                not_equals: Some(value.clone()),
                exists: None,
            })
            .collect(),
        ..Assertions::default()
    };
    let names: Vec<&str> = extras.iter().map(|(n, _)| *n).collect();
    let mut write_step = guard(step(
        &format!("user_a writes {} along with the usual fields (a refusal passes)", names.join(", ")),
        Some("user_a"),
        write,
        status("2xx"),
    ));
    let mut vars = ids_of(target, "a");
    let mut actors_map = actors(&[("user_a", "MESHWARD_TOKEN_A")]);
    let mut steps = Vec::new();
    let login = all.iter().find(|t| t.is_login());
    let me = all.iter().find(|t| t.method == "GET" && t.template.ends_with("/me"));
    let registers = target.method == "POST" && target.field(PASSWORD).is_some() && target.field(USER).is_some();
    // the object is read back where it lives: the same path; for a registration, as the new
    // user once logged in; else the path of the object a create made (its id from the answer,
    // or the value sent for the parameter's field), as the admin
    if all.iter().any(|t| t.method == "GET" && t.template == target.template) {
        steps.push(write_step);
        steps.push(step(
            "user_a reads it back: no privilege was stored",
            Some("user_a"),
            Request { method: "GET".into(), json: None, ..request(target) },
            not_privileged,
        ));
    } else if let (true, Some(login), Some(me)) = (registers, login, me) {
        let (user_field, password_field) = (login.field(USER)?, login.field(PASSWORD)?);
        let user = sample_value(user_field, "string");
        let mut log_in = request(login);
        log_in.json = login_body(login, user, sample_value(password_field, "string"));
        let mut logged_in = setup(step("the new user logs in", None, log_in, status("2xx")));
        logged_in.extract.insert(
            "new_user_token".into(),
            super::spec::Extract {
                regex: Some(r#""[A-Za-z_]*[Tt]oken[A-Za-z_]*"\s*:\s*"([^"]+)""#.into()),
                ..Default::default()
            },
        );
        actors_map.insert("new_user".into(), Actor { bearer: Some("{{new_user_token}}".into()), ..Actor::default() });
        steps.push(write_step);
        steps.push(logged_in);
        steps.push(step(
            "the new user reads itself: no privilege was stored",
            Some("new_user"),
            Request { method: "GET".into(), json: None, ..request(me) },
            not_privileged,
        ));
    } else {
        let prefix = format!("{}/{{", target.template.trim_end_matches('/'));
        let object = all
            .iter()
            .filter(|t| {
                t.method == "GET"
                    && t.template.starts_with(&prefix)
                    && t.path_params().len() == target.path_params().len() + 1
            })
            .min_by_key(|t| t.template.len())?;
        let param = object.path_params().last()?.clone();
        if let Some((field, kind)) = target.body_fields.iter().find(|(n, _)| *n == param) {
            if let serde_json::Value::String(sent) = sample_value(field, kind) {
                vars.insert(param.clone(), sent);
            }
        } else {
            write_step.extract.insert(
                param.clone(),
                super::spec::Extract { json: Some(format!("$['id','{param}']")), ..Default::default() },
            );
        }
        actors_map.extend(actors(&[("admin", "MESHWARD_TOKEN_ADMIN")]));
        steps.push(write_step);
        steps.push(step(
            "the admin reads the new object: no privilege was stored",
            Some("admin"),
            Request { method: "GET".into(), path: object.path(), ..request(object) },
            not_privileged,
        ));
    }
    let mut t = test(
        "mass-assignment",
        target,
        format!("{} {}: privileged fields in the body are not stored", target.method, target.template),
        Severity::High,
        &["OWASP-API3:2023", "mass-assignment"],
        vars,
        actors_map,
        steps,
    );
    t.order = CHANGES_ACCESS;
    Some(t)
}

fn data_exposure(target: &Target) -> TestFile {
    test(
        "data-exposure",
        target,
        format!(
            "{} {}: hands out no passwords, hashes, tokens, cards or other users' emails",
            target.method, target.template
        ),
        Severity::High,
        &["OWASP-API3:2023", "excessive-data-exposure"],
        ids_of(target, "a"),
        actors(&[("user_a", "MESHWARD_TOKEN_A")]),
        vec![step(
            "user_a calls it: the answer holds no secret and no one else's email",
            Some("user_a"),
            request(target),
            Assertions { no_sensitive_data: true, ..Assertions::default() },
        )],
    )
}

/// A login body: the user and password fields given, the rest samples.
fn login_body(login: &Target, user: serde_json::Value, password: serde_json::Value) -> Option<serde_json::Value> {
    Some(sample_body(login, &[(login.field(USER)?, user), (login.field(PASSWORD)?, password)]))
}

fn user_enumeration(login: &Target) -> Option<TestFile> {
    let user_field = login.field(USER)?;
    let unknown = if looks_like(user_field, EMAIL) { "{{unique}}@example.com" } else { "{{unique}}" };
    let mut known = request(login);
    known.json = login_body(login, env_var("a", user_field).into(), "wrong-{{unique}}".into());
    let mut other = request(login);
    other.json = login_body(login, unknown.into(), "wrong-{{unique}}".into());
    let mut compare = step(
        "a wrong password for user_a fails as a login of an unknown user does (status, message, time)",
        None,
        known,
        Assertions { same_status: true, same_body: true, time_gap_ms: Some(50), ..Assertions::default() },
    );
    compare.versus = Some(other);
    compare.samples = Some(5);
    let mut t = test(
        "user-enumeration",
        login,
        format!("{} {}: failures do not tell known users from unknown ones", login.method, login.template),
        Severity::Medium,
        &["OWASP-API2:2023", "authentication", "enumeration"],
        BTreeMap::new(),
        BTreeMap::new(),
        vec![compare],
    );
    // failed logins change nothing but a lockout counter
    t.requires.clear();
    t.order = CHANGES_ACCESS;
    Some(t)
}

fn rate_limit(login: &Target) -> Option<TestFile> {
    let user_field = login.field(USER)?;
    // an unknown user, so that a per-account lockout locks no one real
    let unknown = if looks_like(user_field, EMAIL) { "{{unique}}@example.com" } else { "{{unique}}" };
    let mut attempt = request(login);
    attempt.json = login_body(login, unknown.into(), "wrong-{{unique}}".into());
    let mut burst = step(
        "30 failed logins in a row: some are refused (429) or slowed down",
        None,
        attempt,
        Assertions { rate_limited: true, ..Assertions::default() },
    );
    burst.burst = Some(30);
    let mut t = test(
        "rate-limit",
        login,
        format!("{} {}: a burst of failed logins is limited", login.method, login.template),
        Severity::Medium,
        &["OWASP-API4:2023", "rate-limiting"],
        BTreeMap::new(),
        BTreeMap::new(),
        vec![burst],
    );
    t.requires.clear();
    t.order = BURSTS;
    Some(t)
}

/// Inputs that make a backtracking regex engine take exponential time on a nested quantifier
/// (`^([a-z0-9]+)*$`, `([-.\w]*[a-z])*@`): a long run of what the inner part matches, then a
/// character that makes the match fail at the end. Long enough for seconds on a backtracking
/// engine, short enough to stay bounded.
fn redos_payloads() -> Vec<String> {
    ["a", "A", "0"].iter().map(|c| format!("{}!", c.repeat(26))).collect()
}

fn redos(target: &Target) -> Option<TestFile> {
    let mut steps = Vec::new();
    for input in &target.patterned {
        let benign: serde_json::Value =
            if looks_like(input, EMAIL) { "{{unique}}@example.com".into() } else { "meshward".into() };
        let (mut slow, mut fast) = (request(target), request(target));
        if target.query_params.contains(input) {
            slow.query.insert(input.clone(), "{{payload}}".into());
            fast.query.insert(input.clone(), benign.as_str().unwrap_or_default().to_owned());
        } else {
            slow.json = Some(sample_body(target, &[(input, "{{payload}}".into())]));
            fast.json = Some(sample_body(target, &[(input, benign)]));
        }
        let mut s = step(
            &format!("a pathological {input} is answered about as fast as a benign one"),
            Some("user_a"),
            slow,
            Assertions { time_gap_ms: Some(1_000), ..Assertions::default() },
        );
        s.versus = Some(fast);
        s.samples = Some(2);
        s.payloads = Some(Payloads::List(redos_payloads()));
        steps.push(s);
    }
    if steps.is_empty() {
        return None;
    }
    let mut t = test(
        "redos",
        target,
        format!("{} {}: its input patterns do not backtrack catastrophically", target.method, target.template),
        Severity::Medium,
        &["OWASP-API4:2023", "redos"],
        ids_of(target, "a"),
        actors(&[("user_a", "MESHWARD_TOKEN_A")]),
        steps,
    );
    t.requires.push(Capability::TimeBased);
    // a pathological input may keep the API busy: after everything else
    t.order = SLOW;
    Some(t)
}

fn header_test(target: &Target, template: &str, header: &str) -> Option<TestFile> {
    let assertions = Assertions { headers_present: vec![header.to_owned()], ..Assertions::default() };
    let mut t = test(
        template,
        target,
        format!("responses carry {header}"),
        Severity::Medium,
        &["OWASP-API8:2023", "security-headers"],
        ids_of(target, "a"),
        actors(&[("user_a", "MESHWARD_TOKEN_A")]),
        vec![step(&format!("{header} on {}", target.template), Some("user_a"), request(target), assertions)],
    );
    t.id = template.to_owned();
    Some(t)
}

fn cors(target: &Target) -> TestFile {
    let mut r = request(target);
    r.headers.insert("origin".into(), "https://evil.example".into());
    let assertions = Assertions {
        header_not_contains: [("access-control-allow-origin".to_owned(), "https://evil.example".to_owned())].into(),
        ..Assertions::default()
    };
    let mut t = test(
        "cors",
        target,
        "an arbitrary Origin is not allowed".to_owned(),
        Severity::Medium,
        &["OWASP-API8:2023", "cors"],
        ids_of(target, "a"),
        actors(&[("user_a", "MESHWARD_TOKEN_A")]),
        vec![step("request from https://evil.example", Some("user_a"), r, assertions)],
    );
    t.id = "cors".into();
    t
}

fn verbose_errors(target: &Target) -> Option<TestFile> {
    let leak = Assertions { no_error_leak: true, ..Assertions::default() };
    let mut steps = Vec::new();
    if target.writes() {
        let mut r = request(target);
        r.json = None;
        r.body = Some("{\"unterminated".into());
        r.headers.insert("content-type".into(), "application/json".into());
        steps.push(step("malformed JSON body", Some("user_a"), r, leak.clone()));
    }
    for param in target.path_params() {
        let mut r = request(target);
        r.path = r.path.replace(&format!("{{{{{param}}}}}"), "%27%22%3E%00x");
        steps.push(step(&format!("malformed {param}"), Some("user_a"), r, leak.clone()));
    }
    if steps.is_empty() {
        return None;
    }
    Some(test(
        "verbose-errors",
        target,
        format!("{} {}: bad input gets no stack trace or database error", target.method, target.template),
        Severity::Medium,
        &["OWASP-API8:2023", "error-handling"],
        ids_of(target, "a"),
        actors(&[("user_a", "MESHWARD_TOKEN_A")]),
        steps,
    ))
}

fn generic(target: &Target) -> TestFile {
    let assertions = Assertions { status: Some("<500".into()), no_error_leak: true, ..Assertions::default() };
    test(
        "generic",
        target,
        format!("{} {}: answers without a server error", target.method, target.template),
        Severity::Low,
        &["smoke"],
        ids_of(target, "a"),
        actors(&[("user_a", "MESHWARD_TOKEN_A")]),
        vec![step("user_a calls it", Some("user_a"), request(target), assertions)],
    )
}

/// The YAML of a generated test, with a header saying where its inputs come from.
pub fn to_yaml(test: &TestFile) -> Result<String, serde_norway::Error> {
    let yaml = serde_norway::to_string(test)?;
    let vars = test.env_vars();
    Ok(format!(
        "# Generated by `meshward test generate`; edit freely. Reads from the environment: {}.\n{yaml}",
        if vars.is_empty() { "nothing".to_owned() } else { vars.join(", ") }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(method: &str, template: &str, fields: &[(&str, &str)]) -> Target {
        Target {
            method: method.into(),
            template: template.into(),
            secured: true,
            admin: is_admin_path(template),
            query_params: vec!["q".into()],
            body_fields: fields.iter().map(|(n, k)| ((*n).to_owned(), (*k).to_owned())).collect(),
            patterned: vec!["q".into()],
            ..Target::default()
        }
    }

    fn shop() -> Vec<Target> {
        let mut login = target("POST", "/api/login", &[("username", "string"), ("password", "string")]);
        login.secured = false;
        let mut public = target("GET", "/api/products/{product_id}", &[]);
        public.secured = false;
        let mut reset = target("GET", "/api/maintenance/reset", &[]);
        reset.words = "resetDatabase Reset the database to its seed data".into();
        vec![
            login,
            public,
            reset,
            target("GET", "/api/orders/{order_id}", &[]),
            target("GET", "/api/users/me", &[]),
            target("PUT", "/api/users/me", &[("name", "string"), ("email", "string")]),
            target("PUT", "/api/users/{user_id}/password", &[("password", "string")]),
            target("GET", "/api/admin/users", &[]),
        ]
    }

    fn by_id(tests: &[TestFile], id: &str) -> Option<TestFile> {
        tests.iter().find(|t| t.id == id).cloned()
    }

    #[test]
    fn every_template_generates_valid_tests() {
        let targets = shop();
        for (name, _) in TEMPLATES {
            let tests = generate(name, &targets).unwrap();
            assert!(!tests.is_empty(), "{name} generated nothing");
            for t in tests {
                let yaml = to_yaml(&t).unwrap();
                let parsed = TestFile::parse(std::path::Path::new("gen.yaml"), &yaml);
                assert!(parsed.is_ok(), "{name}: {parsed:?}\n{yaml}");
            }
        }
        assert!(generate("nope", &targets).is_err());
    }

    #[test]
    fn bola_reads_b_objects_as_a_and_skips_public_operations() {
        let tests = generate("bola", &shop()).unwrap();
        let t = by_id(&tests, "bola-get-api-orders-order-id").unwrap();
        let yaml = to_yaml(&t).unwrap();
        assert!(yaml.contains("${MESHWARD_B_ORDER_ID}") && yaml.contains("${MESHWARD_TOKEN_A}"), "{yaml}");
        assert!(by_id(&tests, "bola-get-api-products-product-id").is_none(), "a public operation got a BOLA test");
    }

    #[test]
    fn a_changed_password_is_proven_by_logging_in_as_the_victim() {
        let tests = generate("bola", &shop()).unwrap();
        let t = by_id(&tests, "bola-put-api-users-user-id-password").unwrap();
        assert!(t.steps[0].guard);
        let proof = &t.steps[1];
        assert_eq!(proof.request.path, "/api/login");
        assert_eq!(proof.assertions.issues_credentials, Some(false));
        let body = proof.request.json.clone().unwrap_or_default();
        assert_eq!(body["username"], "${MESHWARD_B_USERNAME}");
        assert_eq!(body["password"], NEW_PASSWORD);
        // both passwords are put back, and the test runs after the tests that read
        assert_eq!(t.cleanup.len(), 2);
        assert!(t.order > WRITES);
        // never for the admin
        assert!(by_id(&generate("bola-admin", &shop()).unwrap(), "bola-admin-put-api-users-user-id-password").is_none());
    }

    #[test]
    fn mass_assignment_reads_the_object_back_with_its_own_names() {
        let tests = generate("mass-assignment", &shop()).unwrap();
        let t = by_id(&tests, "mass-assignment-put-api-users-me").unwrap();
        assert!(t.steps[0].guard && t.steps[0].assertions.json.is_empty(), "the write is not judged by its answer");
        assert_eq!(t.steps[1].request.method, "GET");
        assert!(!t.steps[1].assertions.json.is_empty());
        let body = t.steps[0].request.json.clone().unwrap_or_default();
        assert_eq!(body["email"], "{{unique}}@example.com");
        assert_eq!(body["role"], "admin");
        // a login is not a write to read back
        assert!(by_id(&tests, "mass-assignment-post-api-login").is_none());
        // a create is read back at the new object's path
        let mut create = shop();
        create.push(target("POST", "/api/users", &[("username", "string"), ("password", "string")]));
        create.push(target("GET", "/api/users/{user_id}/profile", &[]));
        let t = by_id(&generate("mass-assignment", &create).unwrap(), "mass-assignment-post-api-users").unwrap();
        // a registration: the new user logs in and reads itself
        assert_eq!(t.steps[1].request.path, "/api/login");
        assert_eq!(t.steps[2].request.path, "/api/users/me");
        assert_eq!(t.steps[2].actor.as_deref(), Some("new_user"));
        // another create: the new object's path, its id from the answer
        create.push(target("POST", "/api/orders", &[("item", "string")]));
        let t = by_id(&generate("mass-assignment", &create).unwrap(), "mass-assignment-post-api-orders").unwrap();
        assert_eq!(t.steps[1].request.path, "/api/orders/{{order_id}}");
        assert!(t.steps[0].extract.contains_key("order_id"));
    }

    #[test]
    fn operations_that_wipe_data_run_last_and_only_when_allowed() {
        let all = generate("all", &shop()).unwrap();
        let reset: Vec<&TestFile> = all.iter().filter(|t| t.id.ends_with("get-api-maintenance-reset")).collect();
        assert!(!reset.is_empty());
        for t in &reset {
            assert!(t.needs(Capability::Destructive), "{}", t.id);
            assert_eq!(t.order, WIPES, "{}", t.id);
            assert!(
                ["generic", "auth-required", "broken-auth", "bfla"].iter().any(|p| t.id.starts_with(p)),
                "{}",
                t.id
            );
        }
        let latest_other =
            all.iter().filter(|t| !t.id.contains("reset") && !t.id.starts_with("redos")).map(|t| t.order).max();
        assert!(latest_other < Some(WIPES));
        assert!(says("api_views.main.populate_db Creates and populates the database", &["populate"]));
        assert!(says("/createdb", &["createdb"]) && !says("/api/orders", &["reset", "init"]));
        let wipes = |words: &str| Target { words: words.into(), ..target("GET", "/api/x", &[]) }.wipes();
        assert!(wipes("initDatabase") && wipes("init") && wipes("Seed the demo data") && wipes("initialize"));
        assert!(!wipes("initiatePayment") && !wipes("List definitions"));
    }

    #[test]
    fn logins_get_enumeration_and_rate_limit_tests() {
        let targets = shop();
        let t = by_id(&generate("user-enumeration", &targets).unwrap(), "user-enumeration-post-api-login").unwrap();
        let s = &t.steps[0];
        assert!(s.versus.is_some() && s.assertions.same_body && s.assertions.same_status);
        assert!(t.requires.is_empty());
        let t = by_id(&generate("rate-limit", &targets).unwrap(), "rate-limit-post-api-login").unwrap();
        assert_eq!(t.steps[0].burst, Some(30));
        let t = by_id(&generate("redos", &targets).unwrap(), "redos-get-api-orders-order-id").unwrap();
        assert!(t.needs(Capability::TimeBased));
    }

    #[test]
    fn required_environment_is_listed() {
        let tests = generate("all", &shop()).unwrap();
        let names: Vec<String> = required_env(&tests).into_iter().map(|(n, _)| n).collect();
        for name in ["MESHWARD_TOKEN_A", "MESHWARD_B_USERNAME", "MESHWARD_A_PASSWORD", "MESHWARD_A_PRODUCT_ID"] {
            assert!(names.iter().any(|n| n == name), "{name} not in {names:?}");
        }
    }
}
