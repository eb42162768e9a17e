//! sqlmap, the real tool, against the vulnerable API through Envoy with the filter: for each
//! technique sqlmap runs on its own, records its requests to HAR (`--har`), and the filter's
//! events in ClickHouse say what Envoy saw of each. Envoy returns its request id with every
//! answer, so each of sqlmap's requests is joined to its event. A request whose tested value
//! differs from the target's own value carries a payload there (sqlmap's random numbers and
//! words excepted: they are plain values); it counts as detected when its event holds an
//! `sqli` finding at that location. Requests without a payload are sqlmap's baseline: any
//! attack finding on them is a false positive.

use crate::clickhouse::ClickHouse;
use crate::stack::{Stack, StackOptions};
use crate::vuln_api::VulnApi;
use anyhow::{bail, Context, Result};
use meshward_core::detect::walk::form_decode;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// sqlmap's techniques, by the letter `--technique` takes.
pub const TECHNIQUES: &[(char, &str)] = &[
    ('B', "boolean-based blind"),
    ('E', "error-based"),
    ('U', "UNION query"),
    ('S', "stacked queries"),
    ('T', "time-based blind"),
    ('Q', "inline queries"),
];

/// One request sqlmap starts from, and the parameter it tests.
#[derive(Debug, Clone)]
pub struct Target {
    pub name: &'static str,
    /// Path and query, e.g. `/api/products?search=shoes`.
    pub path: &'static str,
    /// A JSON body: sqlmap then sends a POST with its payloads inside the JSON values.
    pub json_body: Option<&'static str>,
    pub parameter: &'static str,
}

/// The product search (injectable: SQLite behind it) and the login (parameterized: sqlmap
/// sends every payload its level and risk hold and finds nothing).
pub const TARGETS: &[Target] = &[
    Target { name: "search (injectable)", path: "/api/products?search=shoes", json_body: None, parameter: "search" },
    Target {
        name: "login JSON (not injectable)",
        path: "/api/login",
        json_body: Some(r#"{"username": "alice", "password": "wonderland"}"#),
        parameter: "username",
    },
];

#[derive(Debug, Clone)]
pub struct SqlmapOptions {
    pub techniques: String,
    pub level: u8,
    pub risk: u8,
    /// Let sqlmap extend level and risk for the database it recognised (its own default).
    pub extend_for_dbms: bool,
    pub targets: Vec<Target>,
}

impl Default for SqlmapOptions {
    fn default() -> Self {
        SqlmapOptions {
            techniques: TECHNIQUES.iter().map(|(letter, _)| *letter).collect(),
            level: 2,
            risk: 2,
            extend_for_dbms: true,
            targets: TARGETS.to_vec(),
        }
    }
}

/// What one technique against one target came to.
#[derive(Debug, Default, Clone)]
pub struct Outcome {
    pub requests: usize,
    pub payloads: usize,
    /// Payload requests with an `sqli` finding at the payload's location.
    pub flagged: usize,
    /// Requests without a payload, and those of them with any attack finding.
    pub baseline: usize,
    pub baseline_flagged: usize,
    /// Attack classes other than sqli reported on payload requests, with counts.
    pub other_classes: BTreeMap<String, usize>,
    /// Payload values that were not flagged (a few).
    pub misses: Vec<String>,
    /// Baseline requests with findings: `class at location` (a few).
    pub false_findings: Vec<String>,
    /// sqlmap requests Envoy's events could not be joined to (none expected).
    pub unmatched: usize,
    /// What sqlmap concluded (its last lines).
    pub verdict: String,
}

impl Outcome {
    pub fn rate(&self) -> f64 {
        if self.payloads == 0 {
            0.0
        } else {
            100.0 * self.flagged as f64 / self.payloads as f64
        }
    }
}

/// Outcomes by (technique letter, target name).
pub struct Report {
    pub sqlmap_version: String,
    pub options: SqlmapOptions,
    pub outcomes: Vec<(char, &'static str, Outcome)>,
}

/// The sqlmap `make setup` installs into the project's virtualenv.
pub fn sqlmap_binary() -> Result<PathBuf> {
    let path = crate::workspace_root().join(".tools/py/bin/sqlmap");
    anyhow::ensure!(path.exists(), "no sqlmap at {}: run `make setup`", path.display());
    Ok(path)
}

/// Runs sqlmap once per technique and target through a stack of its own.
pub async fn measure(options: &SqlmapOptions) -> Result<Report> {
    let sqlmap = sqlmap_binary()?;
    let version = std::process::Command::new(&sqlmap).arg("--version").output().context("running sqlmap")?;
    let sqlmap_version = String::from_utf8_lossy(&version.stdout).trim().to_owned();
    let api = VulnApi::start(false).await?;
    let mut stack_options = StackOptions::new("sqlmap");
    stack_options.upstream_port = Some(api.port);
    stack_options.envoy_concurrency = 1;
    // every body read and scanned: this measures detection, not the sampling budget
    stack_options.filter_config["inspection"] = serde_json::json!({"mode": "full"});
    let stack = Stack::start(stack_options).await?;
    let (dir, envoy, clickhouse, database) = (&stack.dir, &stack.envoy, &stack.clickhouse, stack.db());
    let mut outcomes = Vec::new();
    for letter in options.techniques.chars() {
        for target in &options.targets {
            let run_dir = dir.join(format!("{letter}-{}", target.parameter));
            let har = run(&sqlmap, &envoy.url(), target, letter, options, &run_dir)?;
            let entries = har_entries(&har.har)?;
            let events = events_for(clickhouse, database, &entries).await?;
            let mut outcome = judge(target, &entries, &events);
            outcome.verdict = har.verdict;
            outcomes.push((letter, target.name, outcome));
        }
    }
    drop(stack);
    Ok(Report { sqlmap_version, options: options.clone(), outcomes })
}

struct Run {
    har: PathBuf,
    verdict: String,
}

fn run(
    sqlmap: &Path,
    base: &str,
    target: &Target,
    technique: char,
    options: &SqlmapOptions,
    dir: &Path,
) -> Result<Run> {
    std::fs::create_dir_all(dir)?;
    let har = dir.join("sqlmap.har");
    let url = format!("{base}{}", target.path);
    // a loopback Referer of the site itself on every request, as browsers send: a Referer is
    // not a URL the server fetches, and nothing about it is an attack
    let referer = format!("{base}/shop/cart");
    let mut answers = vec![
        // keep the payloads of every database, not only those of the one sqlmap recognised
        "skip test payloads=N".to_owned(),
        "Do you want to follow=N".to_owned(),
    ];
    answers.push(format!("extending provided={}", if options.extend_for_dbms { "Y" } else { "N" }));
    let mut command = std::process::Command::new(sqlmap);
    command
        .arg("-u")
        .arg(&url)
        .args(["--batch", "--flush-session", "--disable-coloring", "-v", "0", "--threads", "1"])
        .arg(format!("--technique={technique}"))
        .arg(format!("--level={}", options.level))
        .arg(format!("--risk={}", options.risk))
        .arg("-p")
        .arg(target.parameter)
        .args(["--time-sec", "1", "--timeout", "10", "--retries", "0"])
        // the login answers 401 to a wrong password: that is its normal answer, not a refusal
        .arg("--ignore-code=401")
        .arg(format!("--referer={referer}"))
        .arg(format!("--answers={}", answers.join(",")))
        .arg(format!("--har={}", har.display()))
        .arg(format!("--output-dir={}", dir.join("output").display()));
    if let Some(body) = target.json_body {
        command.arg(format!("--data={body}"));
    }
    let output = command.output().with_context(|| format!("running sqlmap against {url}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    std::fs::write(dir.join("sqlmap.log"), format!("{stdout}{}", String::from_utf8_lossy(&output.stderr)))?;
    if !har.exists() {
        bail!("sqlmap wrote no HAR ({}):\n{}", har.display(), crate::process::tail(&dir.join("sqlmap.log"), 20));
    }
    let types: Vec<&str> = stdout.lines().filter_map(|l| l.trim().strip_prefix("Type: ")).collect();
    let verdict = if !types.is_empty() {
        format!("injectable: {}", types.join(", "))
    } else if stdout.contains("do not appear to be injectable") {
        "not injectable".to_owned()
    } else {
        String::new()
    };
    Ok(Run { har, verdict })
}

/// One of sqlmap's requests as the HAR holds it.
#[derive(Debug)]
pub struct Entry {
    pub url: String,
    pub body: Option<String>,
    pub headers: Vec<(String, String)>,
    pub request_id: Option<String>,
}

pub fn har_entries(path: &Path) -> Result<Vec<Entry>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let har: Value = serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
    let entries = har["log"]["entries"].as_array().with_context(|| format!("{} has no entries", path.display()))?;
    let pairs = |v: &Value| -> Vec<(String, String)> {
        v.as_array()
            .into_iter()
            .flatten()
            .map(|h| {
                (
                    h["name"].as_str().unwrap_or_default().to_ascii_lowercase(),
                    h["value"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    };
    Ok(entries
        .iter()
        .map(|e| {
            let response_headers = pairs(&e["response"]["headers"]);
            Entry {
                url: e["request"]["url"].as_str().unwrap_or_default().to_owned(),
                body: e["request"]["postData"]["text"].as_str().map(str::to_owned),
                headers: pairs(&e["request"]["headers"]),
                request_id: response_headers.into_iter().find(|(n, _)| n == "x-request-id").map(|(_, v)| v),
            }
        })
        .collect())
}

/// Attack findings of one event: (class, location).
type Findings = Vec<(String, String)>;

/// The events of these requests, by request id (waits until all that Envoy answered are in).
async fn events_for(clickhouse: &ClickHouse, database: &str, entries: &[Entry]) -> Result<HashMap<String, Findings>> {
    let ids: Vec<&str> = entries.iter().filter_map(|e| e.request_id.as_deref()).collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let list = ids.iter().map(|id| format!("'{}'", id.replace(['\'', '\\'], ""))).collect::<Vec<_>>().join(",");
    let where_ids = format!("FROM {database}.events WHERE request_id IN ({list})");
    crate::process::wait_for("sqlmap's events in ClickHouse", Duration::from_secs(60), || async {
        let n = clickhouse.count(&format!("SELECT count() {where_ids}")).await.ok()?;
        (n >= ids.len() as u64).then_some(())
    })
    .await?;
    let rows = clickhouse
        .query(&format!(
            "SELECT request_id, `attacks.class` AS class, `attacks.direction` AS direction, `attacks.part` AS part, \
             `attacks.location` AS field {where_ids} FORMAT JSONEachRow"
        ))
        .await?;
    let mut events = HashMap::new();
    for line in rows.lines().filter(|l| !l.trim().is_empty()) {
        let row: Value = serde_json::from_str(line).context("a row of sqlmap's events")?;
        let list = |k: &str| row[k].as_array().cloned().unwrap_or_default();
        let findings = list("class")
            .iter()
            .zip(list("direction"))
            .zip(list("part"))
            .zip(list("field"))
            .map(|(((class, direction), part), field)| {
                // the proto's Direction: 1 request, 2 response
                let direction = if direction.as_u64() == Some(2) { "response" } else { "request" };
                (
                    class.as_str().unwrap_or_default().to_owned(),
                    meshward_core::detect::finding_location(
                        direction,
                        part.as_str().unwrap_or_default(),
                        field.as_str().unwrap_or_default(),
                    ),
                )
            })
            .collect();
        events.insert(row["request_id"].as_str().unwrap_or_default().to_owned(), findings);
    }
    Ok(events)
}

/// sqlmap's plain values: the random numbers and words it sends to see whether a parameter
/// matters, and to build the "false" side of a comparison.
fn plain(value: &str) -> bool {
    let v = value.strip_prefix('-').unwrap_or(value);
    !v.is_empty() && v.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Values that differ from the target's own, with where the filter reports them.
fn payloads(target: &Target, entry: &Entry) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let query = |url: &str| -> Vec<(String, String)> {
        let query = url.split_once('?').map(|(_, q)| q).unwrap_or_default();
        query
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                (form_decode(name).into_owned(), form_decode(value).into_owned())
            })
            .collect()
    };
    let own: HashMap<String, String> = query(target.path).into_iter().collect();
    for (name, value) in query(&entry.url) {
        if own.get(&name) != Some(&value) && !plain(&value) {
            found.push((format!("request.query.{name}"), value));
        }
    }
    if let (Some(own_body), Some(body)) = (target.json_body, &entry.body) {
        let own: Value = serde_json::from_str(own_body).unwrap_or_default();
        match serde_json::from_str::<Value>(body) {
            Ok(Value::Object(fields)) => {
                for (name, value) in fields {
                    let text = value.as_str().map(str::to_owned).unwrap_or_else(|| value.to_string());
                    if own.get(&name) != Some(&value) && !plain(&text) {
                        found.push((format!("request.body.$.{name}"), text));
                    }
                }
            }
            // a payload that broke the JSON: the body as a whole carries it
            _ => found.push(("request.body".to_owned(), body.clone())),
        }
    }
    found
}

fn judge(target: &Target, entries: &[Entry], events: &HashMap<String, Findings>) -> Outcome {
    let mut outcome = Outcome { requests: entries.len(), ..Outcome::default() };
    for entry in entries {
        let Some(findings) = entry.request_id.as_ref().and_then(|id| events.get(id)) else {
            outcome.unmatched += 1;
            continue;
        };
        let payloads = payloads(target, entry);
        if payloads.is_empty() {
            outcome.baseline += 1;
            if !findings.is_empty() {
                outcome.baseline_flagged += 1;
                if outcome.false_findings.len() < 5 {
                    let list: Vec<String> = findings.iter().map(|(c, l)| format!("{c} at {l}")).collect();
                    outcome.false_findings.push(format!("{} ({})", entry.url, list.join(", ")));
                }
            }
            continue;
        }
        for (location, value) in payloads {
            outcome.payloads += 1;
            // a body that is no longer JSON is scanned as a whole
            let at = |l: &str| l == location || (location == "request.body" && l.starts_with("request.body"));
            if findings.iter().any(|(class, l)| class == "sqli" && at(l)) {
                outcome.flagged += 1;
            } else if outcome.misses.len() < 8 {
                outcome.misses.push(value.clone());
            }
            for (class, l) in findings {
                if class != "sqli" && at(l) {
                    *outcome.other_classes.entry(class.clone()).or_default() += 1;
                }
            }
        }
    }
    outcome
}

impl Report {
    fn totals(&self, letter: char) -> Outcome {
        let mut total = Outcome::default();
        for (_, _, o) in self.outcomes.iter().filter(|(l, ..)| *l == letter) {
            total.requests += o.requests;
            total.payloads += o.payloads;
            total.flagged += o.flagged;
            total.baseline += o.baseline;
            total.baseline_flagged += o.baseline_flagged;
            total.unmatched += o.unmatched;
            for (class, n) in &o.other_classes {
                *total.other_classes.entry(class.clone()).or_default() += n;
            }
        }
        total
    }

    /// The techniques whose payload requests fall short of `min_rate`, or whose baseline
    /// requests carry findings: what the goal (99%, none) is checked against.
    pub fn shortfalls(&self, min_rate: f64) -> Vec<String> {
        let mut out = Vec::new();
        for (letter, name) in TECHNIQUES.iter().filter(|(l, _)| self.options.techniques.contains(*l)) {
            let t = self.totals(*letter);
            if t.payloads == 0 || t.rate() < min_rate {
                out.push(format!(
                    "{name}: {} of {} payload requests flagged sqli ({:.1}%)",
                    t.flagged,
                    t.payloads,
                    t.rate()
                ));
            }
            if t.baseline_flagged > 0 || t.unmatched > 0 {
                out.push(format!(
                    "{name}: {} baseline requests with findings, {} requests without an event",
                    t.baseline_flagged, t.unmatched
                ));
            }
        }
        out
    }

    /// The DETECTION.md section.
    pub fn markdown(&self) -> String {
        let mut md = String::new();
        let o = &self.options;
        let _ = writeln!(md, "## sqlmap through Envoy with the filter\n");
        let _ = writeln!(
            md,
            "sqlmap {} (PyPI), run by `make quality` once per technique and target against the vulnerable API \
             (`tests/src/vuln_api.rs`) through Envoy with the filter (bodies always inspected), `--level {} --risk {}`, \
             keeping every database's payloads{}, a loopback `Referer` of the site on every request. Its requests are \
             recorded to HAR and joined by request id to the filter's events in ClickHouse. A payload request carries \
             a value other than the target's own in the tested parameter (sqlmap's plain random numbers and words \
             excepted); it counts when its event holds an `sqli` finding at that location. Baseline requests carry no \
             payload: any attack finding on them is false. Goal: at least 99% per technique, no baseline findings.\n",
            self.sqlmap_version,
            o.level,
            o.risk,
            if o.extend_for_dbms { ", extended for the database it recognised as it offers" } else { "" },
        );
        let _ = writeln!(md, "| technique | requests | payload requests | flagged sqli | rate | other classes on payloads | baseline requests | baseline with findings |");
        let _ = writeln!(md, "|---|---:|---:|---:|---:|---|---:|---:|");
        for (letter, name) in TECHNIQUES.iter().filter(|(l, _)| o.techniques.contains(*l)) {
            let t = self.totals(*letter);
            let others: Vec<String> = t.other_classes.iter().map(|(c, n)| format!("{c} {n}")).collect();
            let _ = writeln!(
                md,
                "| {name} (`{letter}`) | {} | {} | {} | {:.1}% | {} | {} | {} |",
                t.requests,
                t.payloads,
                t.flagged,
                t.rate(),
                others.join(", "),
                t.baseline,
                t.baseline_flagged
            );
        }
        let _ = writeln!(md, "\nPer target:\n");
        let _ = writeln!(md, "| technique | target | payload requests | flagged | sqlmap's verdict |");
        let _ = writeln!(md, "|---|---|---:|---:|---|");
        for (letter, target, outcome) in &self.outcomes {
            let verdict = if outcome.verdict.is_empty() { "-".to_owned() } else { outcome.verdict.replace('|', "/") };
            let _ = writeln!(md, "| `{letter}` | {target} | {} | {} | {verdict} |", outcome.payloads, outcome.flagged);
        }
        let misses: Vec<&String> = self.outcomes.iter().flat_map(|(_, _, o)| &o.misses).take(12).collect();
        if !misses.is_empty() {
            let _ = writeln!(md, "\nSome payloads not flagged:\n");
            for miss in misses {
                let _ = writeln!(md, "- `{}`", crate::quality::short(miss));
            }
        }
        let falses: Vec<&String> = self.outcomes.iter().flat_map(|(_, _, o)| &o.false_findings).take(8).collect();
        if !falses.is_empty() {
            let _ = writeln!(md, "\nBaseline requests with findings:\n");
            for f in falses {
                let _ = writeln!(md, "- `{}`", crate::quality::short(f));
            }
        }
        md.push('\n');
        md
    }
}
