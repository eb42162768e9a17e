//! Concrete API traffic generated from the public OpenAPI path corpora in
//! `../shared/corpora/openapi/` (every spec there), to measure path templating and the inventory.
//!
//! Each path template becomes several concrete paths: parameters are filled from their example,
//! enum, format or type, or, when the spec says nothing (GitHub), from the value shapes those APIs
//! really use (`octocat`, `hello-world`, `cus_...`). Literal siblings (`/customers/search` beside
//! `/customers/{customer}`) come along because they are templates of their own.

use crate::rng::Rng;
use anyhow::{Context, Result};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The corpora folder: `MESHWARD_CORPORA`, or `../shared/corpora` beside the workspace.
pub fn corpora_dir() -> PathBuf {
    std::env::var_os("MESHWARD_CORPORA")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::workspace_root().join("..").join("shared").join("corpora"))
}

/// The corpora folder when it is there. Without it (a clone with no `../shared` beside it) the
/// tests that need it skip, unless `CI` is set: there a missing corpus is an error.
pub fn corpora_or_skip(test: &str) -> anyhow::Result<Option<PathBuf>> {
    let dir = corpora_dir();
    if dir.is_dir() {
        return Ok(Some(dir));
    }
    // `CI=true` (any value but empty, 0 or false) as CI systems set it
    let ci = std::env::var("CI").is_ok_and(|v| !matches!(v.trim(), "" | "0" | "false"));
    if ci {
        anyhow::bail!(
            "{test}: no corpora at {} (set MESHWARD_CORPORA; CI is set, so this is not skipped)",
            dir.display()
        );
    }
    eprintln!("{test}: skipped, no corpora at {} (set MESHWARD_CORPORA to run it)", dir.display());
    Ok(None)
}

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const HEX: &[u8] = b"0123456789abcdef";
const LOGINS: &[&str] = &[
    "octocat",
    "mona",
    "hubot",
    "acme-corp",
    "torvalds",
    "rust-lang",
    "kubernetes",
    "jdoe",
    "ana-maria",
    "devops-team",
];
const REPOS: &[&str] = &[
    "hello-world",
    "linux",
    "meshward",
    "api-gateway",
    "docs",
    "infra",
    "web-app",
    "cli",
    "sdk-go",
    "terraform-modules",
];
const WORDS: &[&str] =
    &["production", "staging", "primary", "backup", "frontend", "billing", "analytics", "default", "blue", "canary"];

/// Stripe-style object prefixes by parameter name.
fn stripe_prefix(name: &str) -> &'static str {
    match name {
        "customer" => "cus",
        "account" => "acct",
        "charge" => "ch",
        "invoice" => "in",
        "intent" => "pi",
        "session" => "cs",
        "quote" => "qt",
        "reader" => "tmr",
        "transaction" => "txn",
        "card" => "card",
        "source" => "src",
        "refund" => "re",
        "payment_method" => "pm",
        "subscription" | "subscription_exposed_id" => "sub",
        "product" => "prod",
        "price" => "price",
        "plan" => "plan",
        "coupon" => "co",
        "person" => "person",
        _ => "obj",
    }
}

/// `octocat`, `mona-77`, `rust-lang-tools`: a word from the list, mostly with a suffix, so
/// values keep coming as they do in real traffic.
fn open_name(rng: &mut Rng, words: &[&str]) -> String {
    let word = rng.pick(words);
    match rng.next_u64() % 4 {
        0 => word.to_owned(),
        1 => format!("{word}-{}", rng.next_u64() % 1000),
        2 => format!("{word}-{}", rng.pick(WORDS)),
        _ => format!("{}{}", word.replace('-', ""), rng.next_u64() % 100),
    }
}

/// `staging-42`: a word and a number below `numbers`.
fn word_value(rng: &mut Rng, numbers: u64) -> String {
    let word = rng.pick(WORDS);
    format!("{word}-{}", rng.next_u64() % numbers)
}

/// `main`, `release-1.4`, `feature%2Flogin-27`: a few common names, mostly names of their own.
fn branch(rng: &mut Rng) -> String {
    match rng.next_u64() % 5 {
        0 => rng.pick(&["main", "develop", "master"]).to_owned(),
        1 => format!("release-{}.{}", rng.next_u64() % 5, rng.next_u64() % 20),
        2 => format!("feature%2F{}", word_value(rng, 1000)),
        3 => format!("fix-{}", rng.next_u64() % 10_000),
        _ => word_value(rng, 1000),
    }
}

fn uuid(rng: &mut Rng) -> String {
    let h = rng.chars(HEX, 32);
    format!("{}-{}-4{}-a{}-{}", &h[..8], &h[8..12], &h[13..16], &h[17..20], &h[20..32])
}

/// A value for one path parameter; `i` varies it between samples.
fn value(api: &str, name: &str, param: &Value, rng: &mut Rng, i: usize) -> String {
    let schema = param.get("schema").cloned().unwrap_or(Value::Null);
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        if let Some(v) = values.get(i % values.len().max(1)) {
            return v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string());
        }
    }
    let format = schema.get("format").and_then(Value::as_str).unwrap_or("");
    let kind = schema.get("type").and_then(Value::as_str).unwrap_or("");
    match format {
        "uuid" => return uuid(rng),
        "ipv4" => return format!("203.0.113.{}", rng.next_u64() % 250 + 1),
        "ipv6" => return format!("2001:db8::{:x}", rng.next_u64() % 65535),
        "date" => return format!("2024-{:02}-{:02}", rng.next_u64() % 12 + 1, rng.next_u64() % 28 + 1),
        _ => {}
    }
    if kind == "integer" {
        return (rng.next_u64() % 90_000_000 + 1000).to_string();
    }
    let example = param.get("example").filter(|e| !e.is_null());
    match example {
        Some(Value::Number(_)) => return (rng.next_u64() % 90_000_000 + 1000).to_string(),
        Some(Value::String(s)) => {
            // some examples carry their JSON quotes (`"123e4567-..."`): the value is inside
            let s = s.trim_matches('"');
            if s.len() == 36 && s.matches('-').count() == 4 {
                return uuid(rng);
            }
            // the example is one value among many: other callers use their own
            return if i == 0 { s.to_owned() } else { word_value(rng, 1000) };
        }
        _ => {}
    }
    if api == "stripe" {
        let len = 14 + (rng.next_u64() % 10) as usize;
        return format!("{}_{}", stripe_prefix(name), rng.chars(BASE62, len));
    }
    // GitHub: no schemas; use the shapes the API really has
    match name {
        // real logins and repository names are an open set: a word, often with a suffix
        "owner" | "org" | "username" | "enterprise" => open_name(rng, LOGINS),
        "repo" => open_name(rng, REPOS),
        // an open set as well; a `/` inside a path parameter is sent escaped, as clients
        // (octokit among them) encode it
        "ref" | "branch" => branch(rng),
        "basehead" => format!("{}...{}", branch(rng), branch(rng)),
        "commit_sha" | "sha" | "tree_sha" | "file_sha" => rng.chars(HEX, 40),
        n if n.ends_with("_id") || n.ends_with("_number") || n == "id" => (rng.next_u64() % 9_000_000 + 1).to_string(),
        // slugs, names and the rest
        _ => word_value(rng, 100),
    }
}

/// A segment with each `{name}` in it replaced by `fill(name)`: `{id}`, `{id}.json`,
/// `{name}:publish`, `{sha}.{diffType}`.
fn fill_segment(segment: &str, mut fill: impl FnMut(&str) -> String) -> String {
    let mut out = String::new();
    let mut rest = segment;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}').map(|c| open + c) else { break };
        out.push_str(&rest[..open]);
        out.push_str(&fill(&rest[open + 1..close]));
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    out
}

/// A template with parameter names erased: `/a/{x}/b` -> `/a/{}/b`, `/t/{id}.json` -> `/t/{}.json`.
pub fn shape(template: &str) -> String {
    template.split('/').map(|s| fill_segment(s, |_| "{}".to_owned())).collect::<Vec<_>>().join("/")
}

/// How well per-request templating recovers one API's templates.
#[derive(Debug, Default, Clone)]
pub struct Accuracy {
    pub templates: usize,
    pub exact: usize,
    /// Templates where a literal segment became a parameter (a literal sibling swallowed).
    pub wrong_merges: usize,
    /// Templates where a parameter stayed literal (one endpoint split into many).
    pub missed_params: usize,
    pub examples: Vec<String>,
}

/// Misses an `Accuracy` keeps as examples.
const MAX_EXAMPLES: usize = 200;

/// One generated request: a spec operation (method and template) called with concrete values.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub template: String,
    pub path: String,
    /// query parameter names sent (a few of the operation's)
    pub query: Vec<String>,
    pub caller: u32,
}

/// Every corpus API in `dir/openapi`, by file stem.
pub fn apis(dir: &Path) -> Result<Vec<String>> {
    Ok(crate::files_with_extension(&dir.join("openapi"), "jsonl")?
        .iter()
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect())
}

/// `per_operation` requests for every method of every template of `api`, from a pool of
/// `callers` callers, each with a few of the operation's query parameters.
pub fn generate_requests(dir: &Path, api: &str, per_operation: usize, callers: u32) -> Result<Vec<Request>> {
    let file = dir.join("openapi").join(format!("{api}.jsonl"));
    let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
    let mut rng = Rng::new(0x9e37_79b9_7f4a_7c15 ^ (api.len() as u64) << 7 ^ per_operation as u64);
    let mut requests = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let row: Value = serde_json::from_str(line).with_context(|| format!("a line of {}", file.display()))?;
        let Some(template) = row.get("path").and_then(Value::as_str) else { continue };
        let params = row.get("path_params").cloned().unwrap_or(Value::Null);
        let query: Vec<&str> =
            row.get("query_params").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
        let methods: Vec<&str> =
            row.get("methods").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
        for method in methods {
            for i in 0..per_operation {
                let path = template
                    .split('/')
                    .map(|segment| {
                        fill_segment(segment, |name| {
                            value(api, name, params.get(name).unwrap_or(&Value::Null), &mut rng, i)
                        })
                    })
                    .collect::<Vec<_>>()
                    .join("/");
                let sent = query.iter().filter(|_| rng.below(3) == 0).map(|q| (*q).to_owned()).collect();
                requests.push(Request {
                    method: method.to_owned(),
                    template: template.to_owned(),
                    path,
                    query: sent,
                    caller: rng.below(u64::from(callers.max(1))) as u32,
                });
            }
        }
    }
    Ok(requests)
}

/// The inventory the collector builds from `requests` (in this order): per-request templates
/// grouped by method as ClickHouse groups them, then `inventory::build` (cross-request
/// discovery). Measured per operation (method and spec template): exact when every one of its
/// requests lands on an endpoint whose template has the spec's shape.
pub fn inventory_measure(requests: &[Request]) -> Accuracy {
    use std::collections::{BTreeSet, HashMap};
    let mut rows: Vec<meshward::inventory::TemplateStats> = Vec::new();
    let mut row_of: HashMap<(String, String), usize> = HashMap::new();
    let mut callers: Vec<BTreeSet<u32>> = Vec::new();
    let mut request_row = Vec::with_capacity(requests.len());
    for request in requests {
        let template = meshward_core::template_path(&request.path);
        let key = (request.method.clone(), template.clone());
        let index = *row_of.entry(key).or_insert_with(|| {
            rows.push(meshward::inventory::TemplateStats {
                authority: "api.example".into(),
                method: request.method.clone(),
                path_template: template,
                statuses: vec![200],
                ..Default::default()
            });
            callers.push(BTreeSet::new());
            rows.len() - 1
        });
        let row = &mut rows[index];
        row.calls += 1;
        callers[index].insert(request.caller);
        row.callers = callers[index].len() as u64;
        // as ClickHouse's topK(3)(path): a few distinct raw paths
        if row.sample_paths.len() < 3 && !row.sample_paths.contains(&request.path) {
            row.sample_paths.push(request.path.clone());
        }
        for q in &request.query {
            if !row.query_params.contains(q) {
                row.query_params.push(q.clone());
            }
        }
        request_row.push(index);
    }
    let endpoints = meshward::inventory::build(rows, meshward_core::DiscoveryConfig::default());
    let mut endpoint_of = vec![String::new(); request_row.len().max(1)];
    let mut template_of_row = HashMap::new();
    for endpoint in &endpoints {
        for row in &endpoint.rows {
            template_of_row.insert(*row, endpoint.endpoint.template.clone());
        }
    }
    for (i, row) in request_row.iter().enumerate() {
        endpoint_of[i] = template_of_row.get(row).cloned().unwrap_or_default();
    }
    score(requests, &endpoint_of)
}

/// What the filter's per-request templating alone gives for `requests`, scored as
/// `inventory_measure` scores the inventory.
pub fn per_request_measure(requests: &[Request]) -> Accuracy {
    let templates: Vec<String> = requests.iter().map(|r| meshward_core::template_path(&r.path)).collect();
    score(requests, &templates)
}

/// Per operation (method and spec template): exact when each of its requests got a template
/// of the spec's shape (`endpoint_of[i]` for request `i`).
fn score(requests: &[Request], endpoint_of: &[String]) -> Accuracy {
    use std::collections::BTreeMap;
    // per operation: the requests' templates
    let mut operations: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
    for (i, request) in requests.iter().enumerate() {
        operations.entry((request.template.clone(), request.method.clone())).or_default().push(i);
    }
    let mut accuracy = Accuracy { templates: operations.len(), ..Default::default() };
    for ((template, method), indices) in operations {
        let want = shape(&template);
        let want_segments: Vec<&str> = want.split('/').collect();
        let (mut ok, mut merged, mut missed) = (true, false, false);
        for i in indices {
            let got = shape(&endpoint_of[i]);
            if got == want {
                continue;
            }
            ok = false;
            for (g, w) in got.split('/').zip(want_segments.iter()) {
                merged |= !w.contains("{}") && g.contains("{}");
                missed |= w.contains("{}") && !g.contains("{}");
            }
            if accuracy.examples.len() < MAX_EXAMPLES {
                accuracy.examples.push(format!("{method} `{}` -> `{got}` (spec `{template}`)", requests[i].path));
            }
        }
        accuracy.exact += usize::from(ok);
        accuracy.wrong_merges += usize::from(merged);
        accuracy.missed_params += usize::from(missed);
    }
    accuracy
}

/// `requests` in an order of their own, shuffled by `seed` (Fisher-Yates).
pub fn shuffled(requests: &[Request], seed: u64) -> Vec<Request> {
    let mut rng = Rng::new(seed);
    let mut out = requests.to_vec();
    for i in (1..out.len()).rev() {
        out.swap(i, rng.below(i as u64 + 1) as usize);
    }
    out
}
