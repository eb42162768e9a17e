//! Concrete API traffic generated from the public OpenAPI path corpora in
//! `../shared/corpora/openapi/` (Stripe, DigitalOcean, GitHub), to measure path templating.
//!
//! Each path template becomes several concrete paths: parameters are filled from their example,
//! enum, format or type, or, when the spec says nothing (GitHub), from the value shapes those APIs
//! really use (`octocat`, `hello-world`, `cus_...`). Literal siblings (`/customers/search` beside
//! `/customers/{customer}`) come along because they are templates of their own.

use crate::rng::Rng;
use anyhow::{Context, Result};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// One path template of a spec and the concrete paths generated from it.
#[derive(Debug, Clone)]
pub struct Sample {
    pub template: String,
    pub paths: Vec<String>,
}

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

/// Reads one corpus file (`stripe`, `digitalocean`, `github_rest`) and generates `per_template`
/// concrete paths for each template.
pub fn generate(dir: &Path, api: &str, per_template: usize) -> Result<Vec<Sample>> {
    let file = dir.join("openapi").join(format!("{api}.jsonl"));
    let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
    let mut rng = Rng::new(0x9e37_79b9_7f4a_7c15 ^ api.len() as u64);
    let mut samples = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let row: Value = serde_json::from_str(line).with_context(|| format!("a line of {}", file.display()))?;
        let Some(template) = row.get("path").and_then(Value::as_str) else { continue };
        let params = row.get("path_params").cloned().unwrap_or(Value::Null);
        let paths = (0..per_template)
            .map(|i| {
                template
                    .split('/')
                    .map(|segment| match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                        Some(name) => value(api, name, params.get(name).unwrap_or(&Value::Null), &mut rng, i),
                        None => segment.to_owned(),
                    })
                    .collect::<Vec<_>>()
                    .join("/")
            })
            .collect();
        samples.push(Sample { template: template.to_owned(), paths });
    }
    Ok(samples)
}

/// A template with parameter names erased: `/a/{x}/b` -> `/a/{}/b`.
pub fn shape(template: &str) -> String {
    template
        .split('/')
        .map(|s| if s.starts_with('{') && s.ends_with('}') { "{}" } else { s })
        .collect::<Vec<_>>()
        .join("/")
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

/// Concrete paths generated per template, in the benchmark and its regression test.
pub const SAMPLES_PER_TEMPLATE: usize = 5;

/// Feeds every generated path of one API to `core::discovery` (per-request templated first, as
/// the collector receives them), then measures how each path resolves.
pub fn discover_and_measure(samples: &[Sample]) -> Accuracy {
    let mut discovery = meshward_core::Discovery::default();
    for path in samples.iter().flat_map(|s| &s.paths) {
        discovery.observe(&meshward_core::template_path(path));
    }
    measure(samples, |p| discovery.resolve(&meshward_core::template_path(p)))
}

/// Templates every generated path with `template` and compares shapes with the spec.
pub fn measure(samples: &[Sample], mut template: impl FnMut(&str) -> String) -> Accuracy {
    let mut accuracy = Accuracy { templates: samples.len(), ..Default::default() };
    for sample in samples {
        let want = shape(&sample.template);
        let want_segments: Vec<&str> = want.split('/').collect();
        let mut ok = true;
        let (mut merged, mut missed) = (false, false);
        for path in &sample.paths {
            let got = shape(&template(path));
            if got == want {
                continue;
            }
            ok = false;
            for (g, w) in got.split('/').zip(want_segments.iter()) {
                merged |= g == "{}" && *w != "{}";
                missed |= g != "{}" && *w == "{}";
            }
            if accuracy.examples.len() < MAX_EXAMPLES {
                accuracy.examples.push(format!("`{path}` -> `{got}` (spec `{}`)", sample.template));
            }
        }
        accuracy.exact += usize::from(ok);
        accuracy.wrong_merges += usize::from(merged);
        accuracy.missed_params += usize::from(missed);
    }
    accuracy
}
