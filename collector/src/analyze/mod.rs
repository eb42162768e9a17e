//! `meshward analyze`: the inventory and findings of recorded traffic, with the code the
//! filter runs (`core::template`, `core::detect`) and the collector's inventory builder. Reads
//! HAR 1.2 or JSON lines of Meshward events as a stream; memory is bounded by the number of
//! distinct per-request templates (`MAX_TEMPLATES`), not by the file.

pub mod har;

use crate::inventory::{self, Endpoint, TemplateStats};
use anyhow::Context;
use base64::Engine;
use meshward_core::body::WalkLimits;
use meshward_core::detect::{DetectConfig, Detector, Findings, Kind};
use meshward_core::identity::{caller_identity, IdentityKey};
use meshward_core::{query_param_names, split_path_query, template_path, DiscoveryConfig};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;

/// Most distinct (host, method, per-request template) groups kept; later new ones are counted
/// in `Summary::templates_dropped`.
pub const MAX_TEMPLATES: usize = 200_000;
/// Most distinct callers remembered per group (the count saturates there).
pub const MAX_CALLERS: usize = 10_000;
/// Most bytes of each body scanned, as the filter's default cap.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
}

/// One finding as `analyze --format json` prints it (same class names as the events).
#[derive(Debug, Serialize)]
pub struct EntryFinding {
    pub kind: &'static str,
    pub class: String,
    pub location: String,
    pub confidence: f32,
    #[serde(skip_serializing_if = "str::is_empty")]
    pub reason: &'static str,
}

#[derive(Debug, Default, Serialize)]
pub struct Summary {
    pub entries: u64,
    pub entries_with_findings: u64,
    /// `attack sqli` -> entries
    pub findings_by_class: BTreeMap<String, u64>,
    pub templates_dropped: u64,
}

#[derive(Default)]
struct Group {
    calls: u64,
    first_seen_ms: u64,
    last_seen_ms: u64,
    statuses: BTreeSet<u16>,
    callers: HashSet<String>,
    query_params: BTreeSet<String>,
    request_fields: BTreeSet<String>,
    response_fields: BTreeSet<String>,
    auth: BTreeSet<String>,
    sensitive: BTreeSet<String>,
}

/// What one recorded exchange contributes to the inventory.
struct Observation {
    host: String,
    method: String,
    template: String,
    ts_ms: u64,
    status: u16,
    caller: String,
    auth: String,
    query_params: Vec<String>,
    request_fields: Vec<String>,
    response_fields: Vec<String>,
    sensitive: Vec<String>,
}

struct Aggregator {
    groups: HashMap<(String, String, String), Group>,
    summary: Summary,
}

impl Aggregator {
    fn add(&mut self, o: Observation) {
        let key = (o.host, o.method, o.template);
        if !self.groups.contains_key(&key) && self.groups.len() >= MAX_TEMPLATES {
            self.summary.templates_dropped += 1;
            return;
        }
        let g = self.groups.entry(key).or_insert_with(|| Group { first_seen_ms: u64::MAX, ..Group::default() });
        g.calls += 1;
        g.first_seen_ms = g.first_seen_ms.min(o.ts_ms);
        g.last_seen_ms = g.last_seen_ms.max(o.ts_ms);
        g.statuses.insert(o.status);
        if g.callers.len() < MAX_CALLERS {
            g.callers.insert(o.caller);
        }
        g.query_params.extend(o.query_params);
        g.request_fields.extend(o.request_fields);
        g.response_fields.extend(o.response_fields);
        g.auth.insert(o.auth);
        g.sensitive.extend(o.sensitive);
    }

    fn endpoints(self, pins: &inventory::Pins) -> (Vec<Endpoint>, Summary) {
        let stats = self
            .groups
            .into_iter()
            .map(|((authority, method, path_template), g)| TemplateStats {
                authority,
                method,
                path_template,
                calls: g.calls,
                first_seen_ms: g.first_seen_ms,
                last_seen_ms: g.last_seen_ms,
                statuses: g.statuses.into_iter().collect(),
                callers: g.callers.len() as u64,
                query_params: g.query_params.into_iter().collect(),
                request_fields: g.request_fields.into_iter().collect(),
                response_fields: g.response_fields.into_iter().collect(),
                auth: g.auth.into_iter().collect(),
                sensitive: g.sensitive.into_iter().collect(),
            })
            .collect();
        (inventory::build_pinned(stats, DiscoveryConfig::default(), pins), self.summary)
    }
}

/// Splits `https://host:8443/a/b?x=1` into (scheme, authority, path and query).
fn split_url(url: &str) -> (&str, &str, &str) {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let target = &rest[end..];
    (scheme, &rest[..end], if target.is_empty() || target.starts_with('?') { "/" } else { target })
}

/// `2024-03-15T12:30:45.123+01:00` (HAR's `startedDateTime`) in epoch milliseconds; 0 when
/// it cannot be read.
pub fn parse_time_ms(text: &str) -> u64 {
    let b = text.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> { text.get(r)?.parse().ok() };
    let (Some(y), Some(mo), Some(d), Some(h), Some(mi), Some(s)) =
        (num(0..4), num(5..7), num(8..10), num(11..13), num(14..16), num(17..19))
    else {
        return 0;
    };
    // days from civil (Howard Hinnant's algorithm)
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if mo > 2 { mo - 3 } else { mo + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let mut ms = ((days * 24 + h) * 60 + mi) * 60_000 + s * 1000;
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        let digits: String = text[i + 1..].chars().take_while(char::is_ascii_digit).collect();
        i += 1 + digits.len();
        let padded = format!("{digits:0<3}");
        ms += padded.get(..3).and_then(|f| f.parse::<i64>().ok()).unwrap_or(0);
    }
    if let Some(sign @ (b'+' | b'-')) = b.get(i) {
        let (oh, om) = (num(i + 1..i + 3).unwrap_or(0), num(i + 4..i + 6).unwrap_or(0));
        let offset = (oh * 60 + om) * 60_000;
        ms -= if *sign == b'+' { offset } else { -offset };
    }
    u64::try_from(ms).unwrap_or(0)
}

fn field_list(walk: Option<meshward_core::Walk>) -> Vec<String> {
    walk.map(|w| w.fields.into_iter().map(|f| format!("{}: {}", f.path, f.field_type.as_str())).collect())
        .unwrap_or_default()
}

fn textual(mime: &str) -> bool {
    let m = mime.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    m.is_empty() || m.starts_with("text/") || m.contains("json") || m.contains("xml") || m.contains("form")
}

fn body_bytes(text: &str, encoding: &str, mime: &str) -> Vec<u8> {
    if !textual(mime) {
        return Vec::new();
    }
    let mut bytes = if encoding.eq_ignore_ascii_case("base64") {
        base64::engine::general_purpose::STANDARD.decode(text.trim()).unwrap_or_default()
    } else {
        text.as_bytes().to_vec()
    };
    bytes.truncate(MAX_BODY_BYTES);
    bytes
}

struct Analyzer {
    detector: Detector,
    identity_key: IdentityKey,
    limits: WalkLimits,
}

impl Analyzer {
    fn har_entry(&self, entry: har::Entry) -> (Observation, Findings) {
        let mut findings = Findings::new(64);
        let req = &entry.request;
        let (_, authority, target) = split_url(&req.url);
        let headers: Vec<(&str, &str)> = req.headers.iter().map(|h| (h.name.as_str(), h.value.as_str())).collect();
        let header = |name: &str| headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| *v);
        let host = header("host").filter(|_| authority.is_empty()).unwrap_or(authority).to_owned();
        let (mut body, mut mime) = (Vec::new(), header("content-type").unwrap_or_default().to_owned());
        if let Some(post) = &req.post_data {
            if !post.mime_type.is_empty() {
                mime.clone_from(&post.mime_type);
            }
            body = if post.text.is_empty() && !post.params.is_empty() {
                post.params.iter().map(|p| format!("{}={}", p.name, p.value)).collect::<Vec<_>>().join("&").into_bytes()
            } else {
                body_bytes(&post.text, "", &mime)
            };
        }
        let mut request_headers = headers.clone();
        if header("content-type").is_none() && !mime.is_empty() {
            request_headers.push(("content-type", mime.as_str()));
        }
        let request_walk = self.detector.scan_request(target, &request_headers, &body, self.limits, &mut findings);
        let res = &entry.response;
        let response_headers: Vec<(&str, &str)> =
            res.headers.iter().map(|h| (h.name.as_str(), h.value.as_str())).collect();
        let response_mime = if res.content.mime_type.is_empty() {
            response_headers.iter().find(|(n, _)| n.eq_ignore_ascii_case("content-type")).map_or("", |(_, v)| *v)
        } else {
            res.content.mime_type.as_str()
        };
        let mut response_headers_typed = response_headers.clone();
        response_headers_typed.retain(|(n, _)| !n.eq_ignore_ascii_case("content-type"));
        response_headers_typed.push(("content-type", response_mime));
        let response_body = body_bytes(&res.content.text, &res.content.encoding, response_mime);
        let response_walk =
            self.detector.scan_response(&response_headers_typed, &response_body, self.limits, &mut findings);
        let (path, query) = split_path_query(target);
        let api_key = ["x-api-key", "api-key", "apikey"].iter().find_map(|n| header(n));
        let identity = caller_identity(&self.identity_key, header("authorization"), api_key);
        let (caller, auth) = identity.map(|i| (i.id, i.source.to_owned())).unwrap_or_default();
        let observation = Observation {
            host,
            method: req.method.to_ascii_uppercase(),
            template: template_path(path),
            ts_ms: parse_time_ms(&entry.started_date_time),
            status: u16::try_from(res.status).unwrap_or(0),
            caller,
            auth,
            query_params: query_param_names(query),
            request_fields: field_list(request_walk),
            response_fields: field_list(response_walk),
            sensitive: sensitive_locations(&findings),
        };
        (observation, findings)
    }
}

fn sensitive_locations(findings: &Findings) -> Vec<String> {
    findings
        .items
        .iter()
        .filter(|f| f.kind == Kind::Sensitive)
        .map(|f| format!("{}: {}", f.location(), f.class))
        .collect()
}

fn entry_findings(findings: &Findings) -> Vec<EntryFinding> {
    findings
        .items
        .iter()
        .map(|f| EntryFinding {
            kind: f.kind.as_str(),
            class: f.class.clone(),
            location: f.location(),
            confidence: f.confidence,
            reason: f.reason,
        })
        .collect()
}

/// Counts bytes read, for the progress bar.
struct Counting<R> {
    inner: R,
    bar: Option<indicatif::ProgressBar>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(bar) = &self.bar {
            bar.inc(n as u64);
        }
        Ok(n)
    }
}

/// What `analyze` does besides reading the file.
#[derive(Debug, Default)]
pub struct Options {
    pub detect: DetectConfig,
    /// write one reconstructed OpenAPI document per host into this folder
    pub openapi_out: Option<std::path::PathBuf>,
    /// compare the inventory of `spec_host` (or of every host) with this OpenAPI document
    pub spec: Option<std::path::PathBuf>,
    pub spec_host: Option<String>,
    /// templates kept whatever discovery finds (`/org/{org}` or `host=/org/{org}`)
    pub pins: Vec<String>,
}

/// Analyzes one file and writes the result to `out`. Returns the summary.
pub fn run(
    path: &Path,
    format: Format,
    options: Options,
    out: &mut dyn Write,
    progress: bool,
) -> anyhow::Result<Summary> {
    let detect = options.detect.clone();
    let spec = match &options.spec {
        Some(spec_path) => {
            let text =
                std::fs::read_to_string(spec_path).with_context(|| format!("reading {}", spec_path.display()))?;
            Some(
                inventory::openapi::parse(&text)
                    .with_context(|| format!("reading the OpenAPI document {}", spec_path.display()))?,
            )
        }
        None => None,
    };
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let bar = progress.then(|| {
        let bar = indicatif::ProgressBar::new(size);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} {bytes}/{total_bytes} {wide_bar} {bytes_per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let mut reader = BufReader::with_capacity(1 << 20, Counting { inner: file, bar: bar.clone() });
    let first = reader.fill_buf().context("reading the file")?.iter().copied().find(|c| !c.is_ascii_whitespace());
    let analyzer = Analyzer {
        detector: Detector::new(detect).context("invalid detection settings")?,
        identity_key: IdentityKey::derive("meshward-analyze"),
        limits: WalkLimits::default(),
    };
    let mut aggregator = Aggregator { groups: HashMap::new(), summary: Summary::default() };
    let json = format == Format::Json;
    if json {
        out.write_all(b"{\"entries\":[")?;
    }
    let mut write_error: Option<std::io::Error> = None;
    let mut record = |index: u64, findings: Vec<EntryFinding>, aggregator: &mut Aggregator| {
        let summary = &mut aggregator.summary;
        summary.entries += 1;
        if !findings.is_empty() {
            summary.entries_with_findings += 1;
        }
        for f in &findings {
            *summary.findings_by_class.entry(format!("{} {}", f.kind, f.class)).or_insert(0) += 1;
        }
        if json && write_error.is_none() {
            let line = serde_json::json!({"index": index, "findings": findings});
            let sep: &[u8] = if index == 0 { b"\n" } else { b",\n" };
            if let Err(e) = out.write_all(sep).and_then(|()| out.write_all(line.to_string().as_bytes())) {
                write_error = Some(e);
            }
        }
    };
    let is_har = first == Some(b'{') && !looks_like_event_lines(reader.buffer());
    let mut index = 0u64;
    if is_har {
        har::read_har(&mut reader, &mut |entry| {
            let (observation, findings) = analyzer.har_entry(entry);
            aggregator.add(observation);
            record(index, entry_findings(&findings), &mut aggregator);
            index += 1;
        })
        .with_context(|| format!("{} is not a valid HAR file (after {index} entries)", path.display()))?;
    } else {
        har::read_event_lines(&mut reader, &mut |event| {
            let (observation, findings) = event_observation(event);
            aggregator.add(observation);
            record(index, findings, &mut aggregator);
            index += 1;
        })
        .with_context(|| format!("reading {} as JSON lines of Meshward events", path.display()))?;
    }
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    if let Some(e) = write_error {
        return Err(e).context("writing the output");
    }
    let mut pins = inventory::Pins::parse(&options.pins);
    if let Some(ops) = &spec {
        pins.add(options.spec_host.as_deref().unwrap_or("*"), ops.iter().map(|o| o.template.clone()));
    }
    let (endpoints, summary) = aggregator.endpoints(&pins);
    if let Some(dir) = &options.openapi_out {
        write_specs(dir, &endpoints)?;
    }
    let comparison = spec.map(|ops| {
        let host = options.spec_host.as_deref();
        let scoped: Vec<Endpoint> = endpoints.iter().filter(|e| host.is_none_or(|h| h == e.host)).cloned().collect();
        inventory::openapi::compare(&ops, &scoped, 0)
    });
    match format {
        Format::Json => {
            out.write_all(b"\n],\"endpoints\":")?;
            match &comparison {
                Some(c) => {
                    serde_json::to_writer(&mut *out, &c.endpoints)?;
                    out.write_all(b",\"zombies\":")?;
                    serde_json::to_writer(&mut *out, &c.zombies)?;
                }
                None => serde_json::to_writer(&mut *out, &endpoints)?,
            }
            out.write_all(b",\"summary\":")?;
            serde_json::to_writer(&mut *out, &summary)?;
            out.write_all(b"}\n")?;
        }
        Format::Table => {
            match &comparison {
                Some(c) => out.write_all(inventory::comparison_table(c).as_bytes())?,
                None => out.write_all(inventory::table(&endpoints).as_bytes())?,
            }
            writeln!(out, "\n{} entries, {} with findings", summary.entries, summary.entries_with_findings)?;
            for (class, n) in &summary.findings_by_class {
                writeln!(out, "  {class:<32} {n}")?;
            }
        }
    }
    Ok(summary)
}

/// One `<host>.openapi.json` per host.
fn write_specs(dir: &Path, endpoints: &[Endpoint]) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let hosts: BTreeSet<&str> = endpoints.iter().map(|e| e.host.as_str()).collect();
    for host in hosts {
        let name: String =
            host.chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '-' { c } else { '_' }).collect();
        let file = dir.join(format!("{name}.openapi.json"));
        let doc = inventory::openapi::export(host, endpoints);
        std::fs::write(&file, serde_json::to_string_pretty(&doc)?)
            .with_context(|| format!("writing {}", file.display()))?;
    }
    Ok(())
}

/// A file of JSON lines whose first line has Meshward event columns (not `"log"`).
fn looks_like_event_lines(head: &[u8]) -> bool {
    let first_line = head.split(|c| *c == b'\n').next().unwrap_or_default();
    let text = String::from_utf8_lossy(first_line);
    !text.contains("\"log\"") && (text.contains("\"path_template\"") || text.contains("\"authority\""))
}

fn event_observation(e: har::EventLine) -> (Observation, Vec<EntryFinding>) {
    let direction = |d: u8| if d == 1 { "request" } else { "response" };
    let mut findings = Vec::new();
    let mut sensitive = Vec::new();
    for (i, class) in e.sensitive_class.iter().enumerate() {
        let location = format!(
            "{}.{}.{}",
            direction(e.sensitive_direction.get(i).copied().unwrap_or(0)),
            e.sensitive_part.get(i).map_or("", String::as_str),
            e.sensitive_location.get(i).map_or("", String::as_str)
        );
        sensitive.push(format!("{location}: {class}"));
        let confidence = e.sensitive_confidence.get(i).copied().unwrap_or(0.0);
        findings.push(EntryFinding { kind: "sensitive", class: class.clone(), location, confidence, reason: "" });
    }
    for (i, class) in e.attack_class.iter().enumerate() {
        let location = format!(
            "{}.{}.{}",
            direction(e.attack_direction.get(i).copied().unwrap_or(1)),
            e.attack_part.get(i).map_or("", String::as_str),
            e.attack_location.get(i).map_or("", String::as_str)
        );
        findings.push(EntryFinding { kind: "attack", class: class.clone(), location, confidence: 0.9, reason: "" });
    }
    let pair = |paths: Vec<String>, types: Vec<String>| -> Vec<String> {
        paths.into_iter().zip(types).map(|(p, t)| format!("{p}: {t}")).collect()
    };
    let template = if e.path_template.is_empty() { template_path(&e.path) } else { e.path_template };
    let caller = if e.caller_id.is_empty() { e.client_ip } else { e.caller_id };
    let observation = Observation {
        host: e.authority,
        method: e.method,
        template,
        ts_ms: e.ts_ms,
        status: u16::try_from(e.status).unwrap_or(0),
        caller,
        auth: e.caller_id_source,
        query_params: e.query_params,
        request_fields: pair(e.request_field_paths, e.request_field_types),
        response_fields: pair(e.response_field_paths, e.response_field_types),
        sensitive,
    };
    (observation, findings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_urls() {
        assert_eq!(parse_time_ms("1970-01-01T00:00:01.5Z"), 1500);
        assert_eq!(parse_time_ms("2024-03-15T12:30:45.123+01:00"), 1_710_502_245_123);
        assert_eq!(parse_time_ms("garbage"), 0);
        assert_eq!(split_url("https://a.example:8443/x/y?q=1"), ("https", "a.example:8443", "/x/y?q=1"));
        assert_eq!(split_url("http://a.example?q=1"), ("http", "a.example", "/"));
    }

    #[test]
    fn har_entries_give_findings_and_endpoints() -> anyhow::Result<()> {
        let mut entries = Vec::new();
        for i in 0..6 {
            entries.push(serde_json::json!({
                "startedDateTime": "2024-03-15T12:30:45Z",
                "request": {"method": "GET", "url": format!("https://shop.example/api/users/{}?fields=all", 100 + i),
                            "headers": [{"name": "Authorization", "value": format!("Bearer token-{i}-abcdefgh")}]},
                "response": {"status": 200, "content": {"mimeType": "application/json",
                             "text": format!("{{\"id\":{i},\"email\":\"u{i}@example.com\"}}")}}
            }));
        }
        entries.push(serde_json::json!({
            "request": {"method": "POST", "url": "https://shop.example/api/search",
                        "postData": {"mimeType": "application/x-www-form-urlencoded", "text": "q=1%27+or+%271%27%3D%271"}},
            "response": {"status": 500, "content": {"mimeType": "text/html", "text": "error"}}
        }));
        let har = serde_json::json!({"log": {"version": "1.2", "entries": entries}});
        let dir = tempfile::tempdir()?;
        let file = dir.path().join("t.har");
        std::fs::write(&file, har.to_string())?;
        let mut out = Vec::new();
        let summary = run(&file, Format::Json, Options::default(), &mut out, false)?;
        assert_eq!((summary.entries, summary.entries_with_findings), (7, 7));
        let doc: serde_json::Value = serde_json::from_slice(&out)?;
        let last = &doc["entries"][6]["findings"][0];
        assert_eq!(
            (last["kind"].as_str(), last["class"].as_str(), last["location"].as_str()),
            (Some("attack"), Some("sqli"), Some("request.body.q"))
        );
        assert_eq!(doc["entries"][0]["findings"][0]["location"], "response.body.$.email");
        let endpoints = doc["endpoints"].as_array().cloned().unwrap_or_default();
        let templates: Vec<&str> = endpoints.iter().filter_map(|e| e["template"].as_str()).collect();
        assert_eq!(templates, vec!["/api/search", "/api/users/{user_id}"]);
        assert_eq!(endpoints[1]["callers"], 6);
        assert_eq!(endpoints[1]["auth"][0], "bearer");
        assert_eq!(endpoints[1]["query_params"][0], "fields");
        assert_eq!(endpoints[1]["sensitive"][0], "response.body.$.email: email");
        let mut table = Vec::new();
        run(&file, Format::Table, Options::default(), &mut table, false)?;
        let table = String::from_utf8_lossy(&table);
        assert!(table.contains("/api/users/{user_id}") && table.contains("attack sqli"), "{table}");
        // against a spec that documents only the users endpoint, plus one never called
        let spec = dir.path().join("spec.yaml");
        std::fs::write(
            &spec,
            "openapi: 3.0.0\ninfo: {title: t, version: '1'}\npaths:\n  /api/users/{id}:\n    get: {responses: {'200': {description: ok}}}\n  /api/ping:\n    get: {responses: {'200': {description: ok}}}\n",
        )?;
        let specs = dir.path().join("specs");
        let options = Options { spec: Some(spec), openapi_out: Some(specs.clone()), ..Options::default() };
        let mut out = Vec::new();
        run(&file, Format::Json, options, &mut out, false)?;
        let doc: serde_json::Value = serde_json::from_slice(&out)?;
        let status: Vec<(&str, &str)> = doc["endpoints"]
            .as_array()
            .map(|a| a.iter().filter_map(|e| Some((e["template"].as_str()?, e["status"].as_str()?))).collect())
            .unwrap_or_default();
        assert_eq!(status, vec![("/api/search", "shadow"), ("/api/users/{id}", "documented")], "the spec's path wins");
        assert_eq!(doc["zombies"][0]["template"], "/api/ping");
        let exported: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(specs.join("shop.example.openapi.json"))?)?;
        assert!(exported["paths"]["/api/users/{id}"]["get"].is_object());
        Ok(())
    }
}
