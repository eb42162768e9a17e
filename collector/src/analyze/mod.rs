//! `meshward analyze`: the inventory and findings of recorded traffic, with the code the
//! filter runs (`core::template`, `core::detect`) and the collector's inventory builder. Reads
//! HAR 1.2 or JSON lines of Meshward events as a stream; memory is bounded by the number of
//! distinct per-request templates (`MAX_TEMPLATES`), not by the file.

pub mod har;

use crate::inventory::{self, Discovered, Endpoint, TemplateStats};
use anyhow::Context;
use base64::Engine;
use meshward_core::detect::{finding_location, DetectConfig, Detector, Direction};
use meshward_core::recorder::inspection::{InspectionConfig, InspectionMode};
use meshward_core::recorder::End;
use meshward_core::{template_path, DiscoveryConfig, Recorder, RecorderConfig};
use meshward_proto::HttpEvent;
use prost::Message;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;

/// Most distinct (host, method, per-request template) groups kept; later new ones are counted
/// in `Summary::templates_dropped`.
pub const MAX_TEMPLATES: usize = 200_000;
/// Most distinct callers remembered per group and per endpoint (the count saturates there).
pub const MAX_CALLERS: usize = 10_000;
/// Raw paths kept per template, as the collector's inventory query keeps them
/// (`inventory::TEMPLATE_STATS`): enough to tell a constant from an id.
const SAMPLE_PATHS: usize = 3;
/// Most distinct locations counted per finding class; findings at later new locations are
/// counted together (`ClassLocations::elsewhere`), so hostile field names cannot grow memory.
pub const MAX_LOCATIONS: usize = 1_000;
/// Width the findings summary keeps its lines within.
const SUMMARY_WIDTH: usize = 132;
/// Most locations the findings summary lists per class.
const SUMMARY_LOCATIONS: usize = 3;
/// Longest location the findings summary prints whole.
const SUMMARY_LOCATION_CHARS: usize = 48;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// the inventory and a findings summary
    Table,
    /// each entry's findings, the inventory and the summary, as one JSON document
    Json,
    /// each entry as the event the filter would have sent, one JSON object per line, in the
    /// columns of the `events` table (HAR input only)
    Events,
}

/// One finding as `analyze --format json` prints it (same class names as the events).
#[derive(Debug, Serialize)]
pub struct EntryFinding {
    pub kind: &'static str,
    pub class: String,
    pub location: String,
    pub confidence: f32,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub reason: String,
}

#[derive(Debug, Default, Serialize)]
pub struct Summary {
    pub entries: u64,
    pub entries_with_findings: u64,
    /// `attack sqli` -> findings
    pub findings_by_class: BTreeMap<String, u64>,
    pub templates_dropped: u64,
    /// `attack sqli` -> where its findings were (the JSON has each entry's locations already)
    #[serde(skip)]
    pub locations_by_class: BTreeMap<String, ClassLocations>,
}

/// Where the findings of one class were, as `finding_location` names them.
#[derive(Debug, Default)]
pub struct ClassLocations {
    pub by_location: HashMap<String, u64>,
    /// findings at locations first seen after `MAX_LOCATIONS` others
    pub elsewhere: u64,
}

impl ClassLocations {
    fn add(&mut self, location: &str) {
        if let Some(n) = self.by_location.get_mut(location) {
            *n += 1;
        } else if self.by_location.len() < MAX_LOCATIONS {
            self.by_location.insert(location.to_owned(), 1);
        } else {
            self.elsewhere += 1;
        }
    }

    /// Most frequent first, then by name (a stable order for equal counts).
    pub fn ranked(&self) -> Vec<(&str, u64)> {
        let mut ranked: Vec<(&str, u64)> = self.by_location.iter().map(|(l, n)| (l.as_str(), *n)).collect();
        ranked.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        ranked
    }
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
    sample_paths: BTreeSet<String>,
    path_attacks: u64,
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
    /// the raw path (without the query)
    path: String,
    /// an attack was found in the path
    path_attack: bool,
    /// the GraphQL or JSON-RPC operation the body named
    operation: String,
}

struct Aggregator {
    groups: HashMap<(String, String, String, String), Group>,
    summary: Summary,
}

impl Aggregator {
    fn add(&mut self, o: Observation) {
        let key = (o.host, o.method, o.template, o.operation);
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
        if g.sample_paths.len() < SAMPLE_PATHS {
            g.sample_paths.insert(o.path);
        }
        g.path_attacks += u64::from(o.path_attack);
    }

    /// The inventory, each endpoint's callers counted once however many of its per-request
    /// templates they called: the union of the caller sets of the groups it merged.
    fn endpoints(self, pins: &inventory::Pins) -> (Vec<Endpoint>, Summary) {
        let mut stats = Vec::with_capacity(self.groups.len());
        let mut caller_sets = Vec::with_capacity(self.groups.len());
        for ((authority, method, path_template, operation), g) in self.groups {
            stats.push(TemplateStats {
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
                sample_paths: g.sample_paths.into_iter().collect(),
                path_attacks: g.path_attacks,
                operation,
            });
            caller_sets.push(g.callers);
        }
        let endpoints = inventory::build_pinned(stats, DiscoveryConfig::default(), pins)
            .into_iter()
            .map(|Discovered { mut endpoint, rows }| {
                // each group's set is moved into its endpoint's (a group is in one endpoint),
                // so memory stays what the groups held
                let mut callers: HashSet<String> = HashSet::new();
                for row in rows {
                    let Some(set) = caller_sets.get_mut(row) else { continue };
                    for caller in std::mem::take(set) {
                        if callers.len() >= MAX_CALLERS {
                            break;
                        }
                        callers.insert(caller);
                    }
                }
                endpoint.callers = callers.len() as u64;
                endpoint
            })
            .collect();
        (endpoints, self.summary)
    }
}

/// Who called, by the collector inventory's rule (`inventory::TEMPLATE_STATS`): the caller
/// identity, else the client address. Anonymous calls with no address are one caller.
fn caller_key(caller_id: &str, client_ip: &str) -> String {
    if caller_id.is_empty() { client_ip } else { caller_id }.to_owned()
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

/// The body of a HAR request or response, base64-decoded when HAR says so.
fn body_bytes(text: &str, encoding: &str) -> Vec<u8> {
    if encoding.eq_ignore_ascii_case("base64") {
        base64::engine::general_purpose::STANDARD.decode(text.trim()).unwrap_or_default()
    } else {
        text.as_bytes().to_vec()
    }
}

/// A HAR header list as Envoy hands headers over: lower-case names, pseudo-headers first
/// (HTTP/2 HARs list their own, which are replaced).
fn header_map(pseudo: &[(&str, &str)], headers: &[har::NameValue]) -> Vec<(String, Vec<u8>)> {
    let mut map: Vec<(String, Vec<u8>)> =
        pseudo.iter().map(|(n, v)| ((*n).to_owned(), v.as_bytes().to_vec())).collect();
    for h in headers.iter().filter(|h| !h.name.starts_with(':')) {
        map.push((h.name.to_ascii_lowercase(), h.value.as_bytes().to_vec()));
    }
    map
}

/// Sets the content type HAR gives beside the headers (`postData.mimeType`,
/// `content.mimeType`) where the headers have none.
fn with_content_type(mut map: Vec<(String, Vec<u8>)>, mime: &str) -> Vec<(String, Vec<u8>)> {
    if !mime.is_empty() && !map.iter().any(|(n, _)| n == "content-type") {
        map.push(("content-type".to_owned(), mime.as_bytes().to_vec()));
    }
    map
}

/// Feeds one body to the recorder as Envoy would: what the recorder wants of it is read, all
/// of it is counted.
fn feed_body(recorder: &Recorder, exchange: &mut meshward_core::Exchange, direction: Direction, body: &[u8]) {
    let room = recorder.body_room(exchange, direction).min(body.len());
    exchange.body_data(direction, &body[..room]);
    exchange.body_seen(direction, body.len());
}

struct Analyzer {
    recorder: Recorder,
    next_id: u64,
}

impl Analyzer {
    /// Records one HAR entry with the filter's recorder and returns its event.
    fn har_entry(&mut self, entry: har::Entry) -> HttpEvent {
        let req = &entry.request;
        let (scheme, authority, target) = split_url(&req.url);
        let host_header = req.headers.iter().find(|h| h.name.eq_ignore_ascii_case("host")).map(|h| h.value.as_str());
        let authority = if authority.is_empty() { host_header.unwrap_or_default() } else { authority };
        let method = req.method.to_ascii_uppercase();
        let pseudo = [(":method", method.as_str()), (":path", target), (":authority", authority), (":scheme", scheme)];
        let mut request_headers = header_map(&pseudo, &req.headers);
        request_headers.retain(|(n, _)| n != "host");
        let mut request_body = Vec::new();
        if let Some(post) = &req.post_data {
            request_headers = with_content_type(request_headers, &post.mime_type);
            request_body = if post.text.is_empty() && !post.params.is_empty() {
                post.params.iter().map(|p| format!("{}={}", p.name, p.value)).collect::<Vec<_>>().join("&").into_bytes()
            } else {
                post.text.as_bytes().to_vec()
            };
        }
        let res = &entry.response;
        let status = res.status.to_string();
        let response_headers =
            with_content_type(header_map(&[(":status", &status)], &res.headers), &res.content.mime_type);
        let response_body = body_bytes(&res.content.text, &res.content.encoding);

        let start_us = parse_time_ms(&entry.started_date_time).saturating_mul(1000);
        let recorder = &mut self.recorder;
        let mut exchange = recorder.request_headers(&request_headers, "", start_us);
        feed_body(recorder, &mut exchange, Direction::Request, &request_body);
        recorder.response_headers(&mut exchange, &response_headers);
        feed_body(recorder, &mut exchange, Direction::Response, &response_body);
        self.next_id += 1;
        let mut event_id = [0u8; 16];
        event_id[8..].copy_from_slice(&self.next_id.to_be_bytes());
        let end_us = start_us + (entry.time.max(0.0) * 1000.0) as u64;
        let clock = || end_us;
        let end = End { now_us: end_us, event_id, status: None, peer_principal: "", clock: &clock };
        let bytes = recorder.finish(exchange, end);
        // the recorder encodes what prost decodes (a core test holds them together)
        HttpEvent::decode(bytes.as_slice()).unwrap_or_default()
    }
}

fn direction_name(direction: impl Into<i64>) -> &'static str {
    Direction::from_wire(direction.into()).as_str()
}

/// What one recorded event contributes to the inventory, and its findings.
fn observation(event: &HttpEvent) -> (Observation, Vec<EntryFinding>) {
    let mut findings = Vec::new();
    let mut sensitive = Vec::new();
    for s in &event.sensitive {
        let location = finding_location(direction_name(s.direction), &s.part, &s.location);
        sensitive.push(format!("{location}: {}", s.class));
        findings.push(EntryFinding {
            kind: "sensitive",
            class: s.class.clone(),
            location,
            confidence: s.confidence,
            reason: String::new(),
        });
    }
    for a in &event.attacks {
        findings.push(EntryFinding {
            kind: "attack",
            class: a.class.clone(),
            location: finding_location(direction_name(a.direction), &a.part, &a.location),
            confidence: 0.9,
            reason: a.reason.clone(),
        });
    }
    let fields = |fields: &[meshward_proto::BodyField]| -> Vec<String> {
        fields.iter().map(|f| format!("{}: {}", f.path, f.r#type)).collect()
    };
    let observation = Observation {
        host: event.authority.clone(),
        method: event.method.clone(),
        template: event.path_template.clone(),
        ts_ms: event.start_time_ms,
        status: u16::try_from(event.status).unwrap_or(0),
        caller: caller_key(&event.caller_id, &event.client_ip),
        auth: event.caller_id_source.clone(),
        query_params: event.query_params.clone(),
        request_fields: fields(&event.request_body_fields),
        response_fields: fields(&event.response_body_fields),
        sensitive,
        path: event.path.clone(),
        path_attack: event.attacks.iter().any(|a| a.part == "path"),
        operation: event.operation.clone(),
    };
    (observation, findings)
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
    /// the OpenAPI version of those documents
    pub openapi_version: inventory::openapi::OpenApiVersion,
    /// compare the inventory of `spec_host` (or of every host) with this OpenAPI document
    pub spec: Option<std::path::PathBuf>,
    pub spec_host: Option<String>,
    /// templates kept whatever discovery finds (`/org/{org}` or `host=/org/{org}`)
    pub pins: Vec<String>,
    /// the mesh's `identity_hash_key`, so callers get the ids the filters give them (a fixed
    /// key of analyze's own otherwise)
    pub identity_key: Option<String>,
}

/// The key callers are hashed with when no `identity_key` is given.
const ANALYZE_IDENTITY_KEY: &str = "meshward-analyze";

/// Where each entry's result goes, as the format says; the first write error is kept.
struct Output<'o> {
    out: &'o mut dyn Write,
    format: Format,
    error: Option<std::io::Error>,
    index: u64,
}

impl Output<'_> {
    fn write(&mut self, bytes: &[u8]) {
        if self.error.is_none() {
            self.error = self.out.write_all(bytes).err();
        }
    }

    fn entry(&mut self, summary: &mut Summary, findings: Vec<EntryFinding>, event: Option<HttpEvent>) {
        summary.entries += 1;
        if !findings.is_empty() {
            summary.entries_with_findings += 1;
        }
        for f in &findings {
            let class = format!("{} {}", f.kind, f.class);
            summary.locations_by_class.entry(class.clone()).or_default().add(&f.location);
            *summary.findings_by_class.entry(class).or_insert(0) += 1;
        }
        match self.format {
            Format::Json => {
                let line = serde_json::json!({"index": self.index, "findings": findings});
                let sep: &[u8] = if self.index == 0 { b"\n" } else { b",\n" };
                self.write(sep);
                self.write(line.to_string().as_bytes());
            }
            Format::Events => {
                if let Some(row) = event.and_then(|e| crate::store::event_row(e, "analyze", 0, 0)) {
                    match serde_json::to_vec(&row) {
                        Ok(mut line) => {
                            line.push(b'\n');
                            self.write(&line);
                        }
                        Err(e) => self.error = Some(e.into()),
                    }
                }
            }
            Format::Table => {}
        }
        self.index += 1;
    }
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
    Detector::new(detect.clone()).context("invalid detection settings")?;
    // the filter's recorder, inspecting every entry, each event carrying its body fields
    let config = RecorderConfig {
        detection: detect,
        inspection: InspectionConfig { mode: InspectionMode::Full, ..InspectionConfig::default() },
        identity_secret: options.identity_key.clone().unwrap_or_else(|| ANALYZE_IDENTITY_KEY.to_owned()),
        dedupe_shapes: false,
        ..RecorderConfig::default()
    };
    let mut analyzer = Analyzer { recorder: Recorder::new(config, 1), next_id: 0 };
    let mut aggregator = Aggregator { groups: HashMap::new(), summary: Summary::default() };
    let mut output = Output { out: &mut *out, format, error: None, index: 0 };
    if format == Format::Json {
        output.write(b"{\"entries\":[");
    }
    let is_har = first == Some(b'{') && !looks_like_event_lines(reader.buffer());
    if is_har {
        har::read_har(&mut reader, &mut |entry| {
            let event = analyzer.har_entry(entry);
            let (observation, findings) = observation(&event);
            aggregator.add(observation);
            output.entry(&mut aggregator.summary, findings, Some(event));
        })
        .with_context(|| format!("{} is not a valid HAR file (after {} entries)", path.display(), output.index))?;
    } else {
        if format == Format::Events {
            anyhow::bail!("--format events reads HAR files; {} holds events already", path.display());
        }
        har::read_event_lines(&mut reader, &mut |event| {
            let (observation, findings) = event_observation(event);
            aggregator.add(observation);
            output.entry(&mut aggregator.summary, findings, None);
        })
        .with_context(|| format!("reading {} as JSON lines of Meshward events", path.display()))?;
    }
    let write_error = output.error.take();
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
        write_specs(dir, &endpoints, options.openapi_version)?;
    }
    let comparison = spec.map(|ops| {
        let host = options.spec_host.as_deref();
        let scoped: Vec<Endpoint> = endpoints.iter().filter(|e| host.is_none_or(|h| h == e.host)).cloned().collect();
        inventory::openapi::compare(&ops, &scoped, 0)
    });
    match format {
        Format::Events => {}
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
            out.write_all(findings_summary(&summary).as_bytes())?;
        }
    }
    Ok(summary)
}

/// The entries and each class's findings, with where they were, most frequent first:
/// `  attack sqli    1207  request.header.referer 1204, request.query.q 3`.
fn findings_summary(summary: &Summary) -> String {
    let mut out = format!("\n{} entries, {} with findings\n", summary.entries, summary.entries_with_findings);
    let count_width = summary.findings_by_class.values().map(|n| n.to_string().len()).max().unwrap_or(1);
    for (class, n) in &summary.findings_by_class {
        let line = format!("  {class:<32} {n:>count_width$}");
        let room = SUMMARY_WIDTH.saturating_sub(line.chars().count() + 2);
        let locations = summary.locations_by_class.get(class).map(|l| locations_cell(l, room)).unwrap_or_default();
        out.push_str(format!("{line}  {locations}").trim_end());
        out.push('\n');
    }
    out
}

/// A class's top locations with their counts within about `room` columns, and how many
/// more there were.
fn locations_cell(locations: &ClassLocations, room: usize) -> String {
    let ranked = locations.ranked();
    // the longest "+N more" the cell may need, kept free while more locations follow
    let more_room = format!(", +{} more", ranked.len()).len();
    let mut shown: Vec<String> = Vec::new();
    let mut width = 0;
    for (index, (location, n)) in ranked.iter().take(SUMMARY_LOCATIONS).enumerate() {
        let item = format!("{} {n}", shorten(location, SUMMARY_LOCATION_CHARS));
        let added = item.chars().count() + if shown.is_empty() { 0 } else { 2 };
        let reserved = if index + 1 < ranked.len() { more_room } else { 0 };
        // the first always shows: a class's main location is the point of the cell
        if !shown.is_empty() && width + added + reserved > room {
            break;
        }
        width += added;
        shown.push(item);
    }
    let rest = ranked.len() - shown.len();
    if rest > 0 {
        shown.push(format!("+{rest} more"));
    }
    if locations.elsewhere > 0 {
        shown.push(format!("{} past the {MAX_LOCATIONS}-location limit", locations.elsewhere));
    }
    shown.join(", ")
}

/// `text` cut to `max` characters, the cut marked.
fn shorten(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    if text.chars().count() <= max {
        return text.into();
    }
    let kept: String = text.chars().take(max.saturating_sub(1)).collect();
    format!("{kept}…").into()
}

/// One `<host>.openapi.json` per host.
fn write_specs(dir: &Path, endpoints: &[Endpoint], version: inventory::openapi::OpenApiVersion) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let hosts: BTreeSet<&str> = endpoints.iter().map(|e| e.host.as_str()).collect();
    for host in hosts {
        let name: String =
            host.chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '-' { c } else { '_' }).collect();
        let file = dir.join(format!("{name}.openapi.json"));
        let doc = inventory::openapi::export(host, endpoints, version);
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
    let mut findings = Vec::new();
    let mut sensitive = Vec::new();
    for (i, class) in e.sensitive_class.iter().enumerate() {
        let location = finding_location(
            direction_name(e.sensitive_direction.get(i).copied().unwrap_or(2)),
            e.sensitive_part.get(i).map_or("", String::as_str),
            e.sensitive_location.get(i).map_or("", String::as_str),
        );
        sensitive.push(format!("{location}: {class}"));
        let confidence = e.sensitive_confidence.get(i).copied().unwrap_or(0.0);
        findings.push(EntryFinding {
            kind: "sensitive",
            class: class.clone(),
            location,
            confidence,
            reason: String::new(),
        });
    }
    for (i, class) in e.attack_class.iter().enumerate() {
        let location = finding_location(
            direction_name(e.attack_direction.get(i).copied().unwrap_or(1)),
            e.attack_part.get(i).map_or("", String::as_str),
            e.attack_location.get(i).map_or("", String::as_str),
        );
        findings.push(EntryFinding {
            kind: "attack",
            class: class.clone(),
            location,
            confidence: 0.9,
            reason: String::new(),
        });
    }
    let pair = |paths: Vec<String>, types: Vec<String>| -> Vec<String> {
        paths.into_iter().zip(types).map(|(p, t)| format!("{p}: {t}")).collect()
    };
    let template = if e.path_template.is_empty() { template_path(&e.path) } else { e.path_template };
    let caller = caller_key(&e.caller_id, &e.client_ip);
    let observation = Observation {
        host: e.authority,
        method: e.method,
        template,
        ts_ms: e.ts_ms,
        status: e.status,
        caller,
        auth: e.caller_id_source,
        query_params: e.query_params,
        request_fields: pair(e.request_field_paths, e.request_field_types),
        response_fields: pair(e.response_field_paths, e.response_field_types),
        sensitive,
        path: e.path,
        path_attack: e.attack_part.iter().any(|p| p == "path"),
        operation: e.operation,
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

    /// A HAR entry of a GET by the client with this `Authorization` (anonymous when empty).
    fn get(url: &str, authorization: &str, extra_headers: &[(&str, &str)]) -> serde_json::Value {
        let mut headers: Vec<serde_json::Value> =
            extra_headers.iter().map(|(name, value)| serde_json::json!({"name": name, "value": value})).collect();
        if !authorization.is_empty() {
            headers.push(serde_json::json!({"name": "Authorization", "value": authorization}));
        }
        serde_json::json!({
            "startedDateTime": "2024-03-15T12:30:45Z",
            "request": {"method": "GET", "url": url, "headers": headers},
            "response": {"status": 200, "content": {"mimeType": "application/json", "text": "{}"}}
        })
    }

    /// `analyze`'s table of a HAR file made of these entries.
    fn table_of(entries: Vec<serde_json::Value>) -> anyhow::Result<String> {
        let dir = tempfile::tempdir()?;
        let file = dir.path().join("t.har");
        std::fs::write(&file, serde_json::json!({"log": {"version": "1.2", "entries": entries}}).to_string())?;
        let mut out = Vec::new();
        run(&file, Format::Table, Options::default(), &mut out, false)?;
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    /// The CALLERS cell of an endpoint's row.
    fn callers_of<'t>(table: &'t str, template: &str) -> Option<&'t str> {
        let header: Vec<&str> = table.lines().next()?.split_whitespace().collect();
        let column = header.iter().position(|h| *h == "CALLERS")?;
        let row = table.lines().find(|l| l.split_whitespace().nth(2) == Some(template))?;
        row.split_whitespace().nth(column)
    }

    /// `/users/1` ... `/users/50` (one per-request template) and `/org/<name>/members` for
    /// fourteen names (fourteen per-request templates discovery merges into one endpoint).
    fn users_and_orgs(authorization: &str) -> Vec<serde_json::Value> {
        let names = ["acme", "globex", "initech", "umbrella", "hooli", "vehement", "massive"];
        let names = names.iter().flat_map(|n| [(*n).to_owned(), format!("{n}-labs")]);
        (1..=50)
            .map(|i| get(&format!("https://shop.example/users/{i}"), authorization, &[]))
            .chain(names.map(|n| get(&format!("https://shop.example/org/{n}/members"), authorization, &[])))
            .collect()
    }

    #[test]
    fn callers_are_counted_once_per_endpoint() -> anyhow::Result<()> {
        let table = table_of(users_and_orgs(""))?;
        assert_eq!(callers_of(&table, "/users/{user_id}"), Some("1"), "{table}");
        assert_eq!(callers_of(&table, "/org/{org_id}/members"), Some("1"), "one anonymous client: {table}");

        let mut two = users_and_orgs("Bearer token-of-alice");
        two.extend(users_and_orgs("Bearer token-of-bob"));
        let table = table_of(two)?;
        assert_eq!(callers_of(&table, "/users/{user_id}"), Some("2"), "{table}");
        assert_eq!(callers_of(&table, "/org/{org_id}/members"), Some("2"), "{table}");

        // alice calls the users and seven organisations, bob the other seven: no template has
        // two callers, the endpoint has
        let alice_calls = 50 + 7;
        let mut halves: Vec<serde_json::Value> =
            users_and_orgs("Bearer token-of-alice").into_iter().take(alice_calls).collect();
        halves.extend(users_and_orgs("Bearer token-of-bob").into_iter().skip(alice_calls));
        let table = table_of(halves)?;
        assert_eq!(callers_of(&table, "/org/{org_id}/members"), Some("2"), "{table}");
        Ok(())
    }

    #[test]
    fn event_lines_count_anonymous_callers_by_address() -> anyhow::Result<()> {
        let names = ["acme", "globex", "initech", "umbrella", "hooli", "vehement", "massive", "soylent"];
        let mut lines = String::new();
        for client_ip in ["10.0.0.1", "10.0.0.2"] {
            for name in names.iter().flat_map(|n| [(*n).to_owned(), format!("{n}-labs")]) {
                let event = serde_json::json!({"authority": "shop.example", "method": "GET",
                    "path": format!("/org/{name}/members"), "status": 200, "client_ip": client_ip});
                lines.push_str(&format!("{event}\n"));
            }
        }
        let dir = tempfile::tempdir()?;
        let file = dir.path().join("events.jsonl");
        std::fs::write(&file, lines)?;
        let mut out = Vec::new();
        run(&file, Format::Table, Options::default(), &mut out, false)?;
        let table = String::from_utf8_lossy(&out);
        assert_eq!(callers_of(&table, "/org/{org_id}/members"), Some("2"), "{table}");
        Ok(())
    }

    #[test]
    fn findings_summary_says_where_each_class_was_found() -> anyhow::Result<()> {
        let mut entries: Vec<serde_json::Value> =
            (0..5).map(|_| get("https://shop.example/home", "", &[("Referer", "' or 1=1--")])).collect();
        entries.push(get("https://shop.example/search?q=%27%20or%201%3D1--", "", &[]));
        entries.push(get("https://shop.example/fetch?url=http://169.254.169.254/latest/meta-data/iam", "", &[]));
        let table = table_of(entries)?;
        let line_of = |class: &str| table.lines().find(|l| l.trim_start().starts_with(class)).unwrap_or_default();
        assert!(line_of("attack sqli").ends_with("  request.header.referer 5, request.query.q 1"), "{table}");
        assert!(line_of("attack ssrf").ends_with("  request.query.url 1"), "{table}");
        Ok(())
    }

    #[test]
    fn long_location_lists_are_cut_with_a_count_of_the_rest() {
        let mut locations = ClassLocations::default();
        for (i, location) in
            ["request.query.a", "request.query.b", "request.query.c", "request.query.d"].iter().enumerate()
        {
            for _ in 0..(10 - i) {
                locations.add(location);
            }
        }
        assert_eq!(
            locations_cell(&locations, 100),
            "request.query.a 10, request.query.b 9, request.query.c 8, +1 more"
        );
        assert_eq!(locations_cell(&locations, 40), "request.query.a 10, +3 more");
        let two = ClassLocations {
            by_location: [("request.query.a".into(), 2), ("request.query.b".into(), 1)].into(),
            elsewhere: 0,
        };
        assert_eq!(locations_cell(&two, 36), "request.query.a 2, request.query.b 1", "nothing follows: no room kept");
        let long = format!("response.body.$.{}", "x".repeat(200));
        let mut one = ClassLocations::default();
        one.add(&long);
        let cell = locations_cell(&one, 10);
        assert!(cell.starts_with("response.body.$.xx") && cell.ends_with("… 1"), "{cell}");
        assert_eq!(cell.chars().count(), SUMMARY_LOCATION_CHARS + 2);

        let mut many = ClassLocations::default();
        for i in 0..MAX_LOCATIONS + 3 {
            many.add(&format!("request.header.x-{i}"));
        }
        assert_eq!((many.by_location.len(), many.elsewhere), (MAX_LOCATIONS, 3));
        assert!(locations_cell(&many, 100).ends_with(", 3 past the 1000-location limit"));
    }

    /// One `POST /graphql` serving many operations: the inventory lists each (and a JSON-RPC
    /// endpoint's methods); introspection, batches, depth and aliases are findings.
    #[test]
    fn graphql_and_json_rpc_operations_are_endpoints_of_their_own() -> anyhow::Result<()> {
        let post = |url: &str, body: serde_json::Value| {
            serde_json::json!({
                "startedDateTime": "2024-03-15T12:30:45Z",
                "request": {"method": "POST", "url": url, "headers": [],
                            "postData": {"mimeType": "application/json", "text": body.to_string()}},
                "response": {"status": 200, "content": {"mimeType": "application/json", "text": "{\"data\":{}}"}}
            })
        };
        let mut entries = Vec::new();
        for i in 0..3 {
            entries.push(post(
                "https://shop.example/graphql",
                serde_json::json!({
                "query": "query GetUser($id: ID!) { user(id: $id) { id name } }", "variables": {"id": i}}),
            ));
            entries.push(post(
                "https://shop.example/graphql",
                serde_json::json!({
                "query": "mutation CreateOrder { createOrder(sku: \"A\") { id } }"}),
            ));
            entries.push(post(
                "https://shop.example/rpc",
                serde_json::json!({"jsonrpc": "2.0", "method": "users.get", "id": i}),
            ));
        }
        entries.push(post(
            "https://shop.example/graphql",
            serde_json::json!({
            "query": "query IntrospectionQuery { __schema { types { name } } }"}),
        ));
        let aliases: String =
            (0..20).map(|i| format!("l{i}: login(user: \"u\", password: \"p{i}\") {{ token }} ")).collect();
        entries.push(post(
            "https://shop.example/graphql",
            serde_json::json!({"query": format!("mutation Guess {{ {aliases} }}")}),
        ));
        let dir = tempfile::tempdir()?;
        let file = dir.path().join("t.har");
        std::fs::write(&file, serde_json::json!({"log": {"version": "1.2", "entries": entries}}).to_string())?;
        let mut out = Vec::new();
        run(&file, Format::Json, Options::default(), &mut out, false)?;
        let doc: serde_json::Value = serde_json::from_slice(&out)?;
        let endpoints = doc["endpoints"].as_array().cloned().unwrap_or_default();
        let mut listed: Vec<String> = endpoints
            .iter()
            .map(|e| {
                format!(
                    "{} {} {}",
                    e["method"].as_str().unwrap_or(""),
                    e["template"].as_str().unwrap_or(""),
                    e["operation"].as_str().unwrap_or("")
                )
            })
            .collect();
        listed.sort();
        assert_eq!(
            listed,
            [
                "POST /graphql mutation CreateOrder",
                "POST /graphql mutation Guess",
                "POST /graphql query GetUser",
                "POST /graphql query IntrospectionQuery",
                "POST /rpc rpc users.get"
            ],
            "{doc}"
        );
        let calls = endpoints.iter().find(|e| e["operation"] == "query GetUser").map(|e| e["calls"].clone());
        assert_eq!(calls, Some(serde_json::json!(3)));
        let reasons: Vec<String> = doc["entries"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|e| e["findings"].as_array().cloned().unwrap_or_default())
            .filter(|f| f["class"] == "graphql")
            .map(|f| f["reason"].as_str().unwrap_or("").to_owned())
            .collect();
        assert_eq!(reasons, ["GraphQL introspection query", "GraphQL query with many aliases"], "{doc}");
        let mut table = Vec::new();
        run(&file, Format::Table, Options::default(), &mut table, false)?;
        let table = String::from_utf8_lossy(&table);
        assert!(table.contains("/graphql query GetUser"), "{table}");
        Ok(())
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
