//! Test templates: YAML tests generated from an OpenAPI spec or the discovered inventory, one
//! file per template and operation, ready to run and to edit.
//!
//! Generated tests take their credentials and object ids from the environment, so the files
//! hold no secret and fit any deployment:
//! `MESHWARD_TOKEN_A`, `MESHWARD_TOKEN_B` (two ordinary users), `MESHWARD_TOKEN_ADMIN`,
//! `MESHWARD_TOKEN_OTHER_TENANT`, and per path parameter the id of an object each owns:
//! `MESHWARD_A_ORDER_ID`, `MESHWARD_B_ORDER_ID`, `MESHWARD_ADMIN_ORDER_ID` for `{order_id}`.

use super::spec::{Actor, Assertions, Capability, JsonAssert, Payloads, Request, Severity, Step, TestFile};
use std::collections::BTreeMap;

/// An operation to test, from a spec or the inventory.
#[derive(Debug, Clone)]
pub struct Target {
    pub method: String,
    pub template: String,
    pub secured: bool,
    pub admin: bool,
    pub query_params: Vec<String>,
    /// top-level JSON body fields and their types
    pub body_fields: Vec<(String, String)>,
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
        }
    }

    pub fn from_endpoint(e: &crate::inventory::Endpoint) -> Target {
        Target {
            method: e.method.to_ascii_uppercase(),
            template: e.template.clone(),
            secured: e.auth.iter().any(|a| a != "none"),
            admin: is_admin_path(&e.template),
            query_params: e.query_params.clone(),
            body_fields: top_level_fields(&e.request_fields),
        }
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

/// Every template: Metlo's nine (bola, bola-admin, bola-tenant, broken-auth, generic, hsts, csp,
/// sqli-time, auth-required) and bfla, sqli, nosqli, mass-assignment, nosniff, verbose-errors,
/// cors.
pub const TEMPLATES: &[(&str, &str)] = &[
    ("bola", "user A reads (or, with destructive, changes) an object of user B"),
    ("bola-admin", "an ordinary user reads an object the admin owns"),
    ("bola-tenant", "a user of another tenant reads a user's object"),
    ("bfla", "an ordinary user calls an admin operation"),
    ("auth-required", "an operation that needs credentials answers an anonymous call"),
    ("broken-auth", "malformed, expired or unsigned (alg none) tokens are accepted"),
    ("sqli", "SQL injection into each parameter and body field: SQL errors, 5xx"),
    ("sqli-time", "time-based SQL injection (needs --allow time-based)"),
    ("nosqli", "NoSQL operator injection into each parameter and body field"),
    ("mass-assignment", "privileged fields (role, is_admin) in a write are accepted"),
    ("hsts", "no Strict-Transport-Security header"),
    ("csp", "no Content-Security-Policy header"),
    ("nosniff", "no X-Content-Type-Options: nosniff header"),
    ("verbose-errors", "malformed input answered with a stack trace or database error"),
    ("cors", "an arbitrary Origin is reflected in Access-Control-Allow-Origin"),
    ("generic", "each operation answers user A without a 5xx or an error leak"),
];

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
    let once = |f: &dyn Fn(&Target) -> Option<TestFile>| targets.iter().filter(|t| t.method == "GET").find_map(f);
    match template {
        "bola" => tests.extend(targets.iter().filter_map(|t| bola(t, "b", "user_b", "MESHWARD_TOKEN_B", "bola"))),
        "bola-admin" => {
            tests.extend(targets.iter().filter_map(|t| bola(t, "admin", "admin", "MESHWARD_TOKEN_ADMIN", "bola-admin")))
        }
        "bola-tenant" => tests.extend(targets.iter().filter_map(bola_tenant)),
        "bfla" => tests.extend(targets.iter().filter(|t| t.admin).map(bfla)),
        "auth-required" => tests.extend(targets.iter().filter(|t| t.secured).map(auth_required)),
        "broken-auth" => tests.extend(targets.iter().filter(|t| t.secured).map(broken_auth)),
        "sqli" => tests.extend(targets.iter().filter_map(|t| injection(t, "sqli", "sqli"))),
        "sqli-time" => tests.extend(targets.iter().filter_map(|t| injection(t, "sqli-time", "sqli_time"))),
        "nosqli" => tests.extend(targets.iter().filter_map(|t| injection(t, "nosqli", "nosqli"))),
        "mass-assignment" => tests.extend(targets.iter().filter_map(|t| mass_assignment(t, targets))),
        "hsts" => tests.extend(once(&|t| header_test(t, "hsts", "strict-transport-security"))),
        "csp" => tests.extend(once(&|t| header_test(t, "csp", "content-security-policy"))),
        "nosniff" => tests.extend(once(&|t| header_test(t, "nosniff", "x-content-type-options"))),
        "verbose-errors" => tests.extend(targets.iter().filter_map(verbose_errors)),
        "cors" => tests.extend(once(&|t| Some(cors(t)))),
        "generic" => tests.extend(targets.iter().map(generic)),
        other => {
            let names: Vec<&str> = TEMPLATES.iter().map(|(n, _)| *n).collect();
            return Err(format!("no template {other:?}; there are: all, {}", names.join(", ")));
        }
    }
    Ok(tests)
}

fn env_id(owner: &str, param: &str) -> String {
    let param: String =
        param.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect();
    format!("${{MESHWARD_{}_{param}}}", owner.to_ascii_uppercase())
}

fn bearer(var: &str) -> Actor {
    Actor { bearer: Some(format!("${{{var}}}")), ..Actor::default() }
}

fn actors(list: &[(&str, &str)]) -> BTreeMap<String, Actor> {
    list.iter().map(|(name, var)| ((*name).to_owned(), bearer(var))).collect()
}

/// Path parameters filled with ids `owner` owns.
fn ids_of(target: &Target, owner: &str) -> BTreeMap<String, String> {
    target.path_params().iter().map(|p| (p.clone(), env_id(owner, p))).collect()
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

fn sample_value(kind: &str) -> serde_json::Value {
    match kind {
        "integer" => 1.into(),
        "number" => 1.5.into(),
        "boolean" => true.into(),
        "array" => serde_json::json!([]),
        "object" => serde_json::json!({}),
        _ => "meshward-test".into(),
    }
}

/// A JSON body with every known field, some replaced.
fn sample_body(target: &Target, replace: &[(&str, serde_json::Value)]) -> serde_json::Value {
    let mut body = serde_json::Map::new();
    for (name, kind) in &target.body_fields {
        body.insert(name.clone(), sample_value(kind));
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
        request,
        payloads: None,
        extract: BTreeMap::new(),
        assertions,
    }
}

fn status(value: impl Into<serde_json::Value>) -> Assertions {
    Assertions { status: Some(value.into()), ..Assertions::default() }
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
    TestFile {
        id: format!("{template}-{}", target.slug()),
        name,
        description: format!("Generated by `meshward test generate --template {template}`: {description}."),
        severity,
        tags: {
            let mut all: Vec<String> = tags.iter().map(|t| (*t).to_owned()).collect();
            if !all.iter().any(|t| t == template) {
                all.push(template.to_owned());
            }
            all
        },
        requires: if target.writes() { vec![Capability::Destructive] } else { Vec::new() },
        vars,
        actors,
        steps,
    }
}

fn bola(target: &Target, owner: &str, owner_actor: &str, owner_token: &str, template: &str) -> Option<TestFile> {
    if target.path_params().is_empty() || target.admin {
        return None;
    }
    let mut setup =
        step(&format!("{owner_actor} reads its own object"), Some(owner_actor), request(target), status("2xx"));
    setup.setup = true;
    // a write is checked without the owner writing first
    let steps = if target.writes() {
        vec![step("user_a uses it", Some("user_a"), request(target), status("!2xx"))]
    } else {
        vec![setup, step("user_a reads it", Some("user_a"), request(target), status("!2xx"))]
    };
    Some(test(
        template,
        target,
        format!("{} {}: a user cannot reach another's object", target.method, target.template),
        Severity::High,
        &["OWASP-API1:2023", "bola"],
        ids_of(target, owner),
        actors(&[("user_a", "MESHWARD_TOKEN_A"), (owner_actor, owner_token)]),
        steps,
    ))
}

fn bola_tenant(target: &Target) -> Option<TestFile> {
    if target.path_params().is_empty() || target.admin || target.writes() {
        return None;
    }
    let mut setup = step("user_b reads its own object", Some("user_b"), request(target), status("2xx"));
    setup.setup = true;
    Some(test(
        "bola-tenant",
        target,
        format!("{} {}: another tenant cannot reach a user's object", target.method, target.template),
        Severity::Critical,
        &["OWASP-API1:2023", "bola", "multi-tenant"],
        ids_of(target, "b"),
        actors(&[("user_b", "MESHWARD_TOKEN_B"), ("other_tenant", "MESHWARD_TOKEN_OTHER_TENANT")]),
        vec![setup, step("other_tenant reads it", Some("other_tenant"), request(target), status("!2xx"))],
    ))
}

fn bfla(target: &Target) -> TestFile {
    let mut setup = step("admin calls it", Some("admin"), request(target), status("2xx"));
    setup.setup = true;
    let mut steps = vec![step("user_a calls it", Some("user_a"), request(target), status([401, 403, 404]))];
    if !target.writes() {
        steps.insert(0, setup);
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
        vec![step("no credentials", None, request(target), status([401, 403]))],
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
            with("malformed token", "Bearer not-a-token"),
            with("expired token", &format!("Bearer {EXPIRED_JWT}")),
            with("unsigned token (alg none)", &format!("Bearer {UNSIGNED_JWT}")),
        ],
    )
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

const PRIVILEGED: &[(&str, bool)] = &[("role", false), ("is_admin", true), ("admin", true)];

fn mass_assignment(target: &Target, all: &[Target]) -> Option<TestFile> {
    if !matches!(target.method.as_str(), "POST" | "PUT" | "PATCH") || target.body_fields.is_empty() {
        return None;
    }
    let extras: Vec<(&str, serde_json::Value)> = PRIVILEGED
        .iter()
        .map(|(name, flag)| (*name, if *flag { true.into() } else { "admin".into() }))
        .chain([("permissions", serde_json::json!(["*"]))])
        .collect();
    let mut write = request(target);
    write.json = Some(sample_body(target, &extras));
    let not_privileged = Assertions {
        json: PRIVILEGED
            .iter()
            .map(|(name, flag)| JsonAssert {
                path: format!("$.{name}"),
                equals: None,
                not_equals: Some(if *flag { true.into() } else { "admin".into() }),
                exists: None,
            })
            .collect(),
        ..Assertions::default()
    };
    let mut steps = vec![step("write with privileged fields", Some("user_a"), write, not_privileged.clone())];
    // read it back where the same path can be read
    if all.iter().any(|t| t.method == "GET" && t.template == target.template) {
        let read = Request { method: "GET".into(), json: None, ..request(target) };
        steps.push(step("read it back", Some("user_a"), read, not_privileged));
    }
    Some(test(
        "mass-assignment",
        target,
        format!("{} {}: privileged fields in the body are ignored", target.method, target.template),
        Severity::High,
        &["OWASP-API3:2023", "mass-assignment"],
        ids_of(target, "a"),
        actors(&[("user_a", "MESHWARD_TOKEN_A")]),
        steps,
    ))
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
    let mut vars: Vec<String> = Vec::new();
    let yaml = serde_norway::to_string(test)?;
    let mut rest = yaml.as_str();
    while let Some(start) = rest.find("${") {
        let tail = &rest[start + 2..];
        let Some(end) = tail.find('}') else { break };
        let name = tail[..end].to_owned();
        if !vars.contains(&name) {
            vars.push(name);
        }
        rest = &tail[end..];
    }
    Ok(format!(
        "# Generated by `meshward test generate`; edit freely. Reads from the environment: {}.\n{yaml}",
        if vars.is_empty() { "nothing".to_owned() } else { vars.join(", ") }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(method: &str, template: &str) -> Target {
        Target {
            method: method.into(),
            template: template.into(),
            secured: true,
            admin: is_admin_path(template),
            query_params: vec!["q".into()],
            body_fields: vec![("name".into(), "string".into())],
        }
    }

    #[test]
    fn every_template_generates_valid_tests() {
        let targets = [
            target("GET", "/api/orders/{order_id}"),
            target("PUT", "/api/users/me"),
            target("GET", "/api/admin/users"),
        ];
        for (name, _) in TEMPLATES {
            let tests = generate(name, &targets).unwrap_or_default();
            assert!(!tests.is_empty(), "{name} generated nothing");
            for t in tests {
                let yaml = to_yaml(&t).unwrap_or_default();
                let parsed = TestFile::parse(std::path::Path::new("gen.yaml"), &yaml);
                assert!(parsed.is_ok(), "{name}: {parsed:?}\n{yaml}");
            }
        }
        assert!(generate("nope", &targets).is_err());
    }

    #[test]
    fn bola_reads_b_objects_as_a() {
        let tests = generate("bola", &[target("GET", "/api/orders/{order_id}")]).unwrap_or_default();
        let yaml = to_yaml(&tests[0]).unwrap_or_default();
        assert!(yaml.contains("${MESHWARD_B_ORDER_ID}") && yaml.contains("${MESHWARD_TOKEN_A}"), "{yaml}");
        assert_eq!(tests[0].id, "bola-get-api-orders-order-id");
    }
}
