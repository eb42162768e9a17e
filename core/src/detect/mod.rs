//! Sensitive-data and attack detection over the parts of an HTTP exchange.
//!
//! The filter runs this inside the sidecar so raw values never leave the pod; `meshward analyze`
//! runs the same code over recorded traffic. A `Detector` is built once from its configuration
//! (keyword automata, custom regexes) and then scans values: each finding names a class, where it
//! was found and how sure the detector is, never the value itself (a masked sample only when the
//! operator asks for one).
//!
//! Parts are walked by `walk` (query strings, forms, multipart, cookies) and `body::json_walk`
//! (JSON); every value goes through `sensitive` (PII and secrets, validated where a checksum or
//! rule exists) and, on requests, through `attack` (SQL injection and XSS by tokenizing, the other
//! classes by keywords with context checks).

mod attack;
mod bytes;
pub mod leak;
mod normalize;
mod sensitive;
mod shape;
pub mod walk;

use crate::body::{json_walk, Walk, WalkLimits};
use regex_lite::Regex;
use rustc_hash::FxHashMap;
use std::fmt;
use std::sync::RwLock;

pub use attack::ATTACK_CLASSES;
pub use normalize::normalize;
pub use sensitive::{SECRET_CLASSES, SENSITIVE_CLASSES};

/// Which side of the exchange a value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    Request,
    Response,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Request => "request",
            Direction::Response => "response",
        }
    }

    /// The direction of a finding as the wire and the events table number it
    /// (`meshward.proto`'s `Direction`): 2 is the response, anything else the request, as the
    /// baselines' `d = 2` filters and `finding_location_sql!` read it.
    pub fn from_wire(value: i64) -> Direction {
        if value == 2 {
            Direction::Response
        } else {
            Direction::Request
        }
    }
}

/// The part of a message a value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Part {
    Path,
    Query,
    Header,
    Cookie,
    Body,
}

impl Part {
    pub fn as_str(self) -> &'static str {
        match self {
            Part::Path => "path",
            Part::Query => "query",
            Part::Header => "header",
            Part::Cookie => "cookie",
            Part::Body => "body",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Sensitive,
    Attack,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Sensitive => "sensitive",
            Kind::Attack => "attack",
        }
    }
}

/// One thing found in one value.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub kind: Kind,
    /// `credit_card`, `sqli`, ... or the name of a custom class
    pub class: String,
    pub direction: Direction,
    pub part: Part,
    /// parameter, header or cookie name, or the JSON field path (`$.cards[*].number`)
    pub field: String,
    /// 0..1
    pub confidence: f32,
    /// why an attack matched, in a few words (empty for sensitive data)
    pub reason: &'static str,
    /// 1 low .. 4 critical (attacks; 0 for sensitive data)
    pub severity: u8,
    /// the value with all but its edges masked, only when `masked_samples` is on
    pub masked_sample: Option<String>,
    /// how many values of this class the field held (a list of 500 cards: one finding, 500);
    /// what the collector's "records per response" baseline counts
    pub count: u32,
}

impl Finding {
    /// `request.query.q`, `response.body.$.user.email`
    pub fn location(&self) -> String {
        finding_location(self.direction.as_str(), self.part.as_str(), &self.field)
    }
}

/// Where a finding was made, as one string: `request.query.q`, `response.body.$.user.email`,
/// `request.path` (no trailing dot when the field is empty). The one spelling of it; SQL that
/// reads locations out of the events table spells them with [`finding_location_sql!`], which
/// the SQL compatibility test holds to this function on both ClickHouse servers.
pub fn finding_location(direction: &str, part: &str, field: &str) -> String {
    if field.is_empty() {
        format!("{direction}.{part}")
    } else {
        format!("{direction}.{part}.{field}")
    }
}

/// [`finding_location`] as a ClickHouse expression (a string literal, for `concat!`) over
/// three SQL expressions: the wire direction (`Direction::from_wire`), the part and the field.
/// `finding_location_sql!("d", "p", "l")`.
#[macro_export]
macro_rules! finding_location_sql {
    ($direction:literal, $part:literal, $field:literal) => {
        concat!(
            "concat(if(",
            $direction,
            " = 2, 'response', 'request'), '.', ",
            $part,
            ", if(",
            $field,
            " = '', '', concat('.', ",
            $field,
            ")))"
        )
    };
}

/// An operator-defined sensitive class.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct CustomClass {
    pub name: String,
    /// regex the value (or a part of it) must match
    pub regex: String,
    /// optional regex the field name must match as well
    #[serde(default)]
    pub key_regex: Option<String>,
}

/// What to look for.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct DetectConfig {
    /// Look for sensitive data (requests and responses).
    pub sensitive: bool,
    /// Look for attacks (requests only).
    pub attacks: bool,
    /// Class names to skip (`phone`, `ip_address`, `xss`, ...).
    pub disabled_classes: Vec<String>,
    pub custom_classes: Vec<CustomClass>,
    /// Attach a masked sample (`4111********1111`) to sensitive findings. Off by default.
    pub masked_samples: bool,
    /// Most findings kept per message; the rest are dropped.
    pub max_findings: usize,
}

impl Default for DetectConfig {
    fn default() -> Self {
        DetectConfig {
            sensitive: true,
            attacks: true,
            disabled_classes: Vec::new(),
            custom_classes: Vec::new(),
            masked_samples: false,
            max_findings: 64,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DetectError {
    #[error("custom class {name:?}: invalid {which} regex: {source}")]
    BadRegex { name: String, which: &'static str, source: regex_lite::Error },
    #[error("custom class needs a name and a regex")]
    EmptyCustomClass,
    #[error("unknown class {0:?} in disabled_classes (known: see DETECTION.md)")]
    UnknownClass(String),
}

impl DetectConfig {
    /// Checks the configuration without building a detector (its keyword automata take
    /// megabytes and milliseconds): the class names it disables, its custom regexes.
    pub fn validate(&self) -> Result<(), DetectError> {
        self.compile_custom().map(|_| ())
    }

    fn compile_custom(&self) -> Result<Vec<CompiledCustom>, DetectError> {
        for class in &self.disabled_classes {
            let known = SENSITIVE_CLASSES.contains(&class.as_str())
                || ATTACK_CLASSES.contains(&class.as_str())
                || self.custom_classes.iter().any(|c| &c.name == class);
            if !known {
                return Err(DetectError::UnknownClass(class.clone()));
            }
        }
        let mut custom = Vec::with_capacity(self.custom_classes.len());
        for class in &self.custom_classes {
            if class.name.is_empty() || class.regex.is_empty() {
                return Err(DetectError::EmptyCustomClass);
            }
            let compile = |pattern: &str, which| {
                Regex::new(pattern).map_err(|source| DetectError::BadRegex { name: class.name.clone(), which, source })
            };
            let value = compile(&class.regex, "value")?;
            let key = class.key_regex.as_deref().map(|k| compile(k, "key")).transpose()?;
            custom.push(CompiledCustom { name: class.name.clone(), value, key });
        }
        Ok(custom)
    }
}

struct CompiledCustom {
    name: String,
    value: Regex,
    key: Option<Regex>,
}

/// Where the value being scanned sits.
#[derive(Debug, Clone, Copy)]
pub struct Site<'a> {
    pub direction: Direction,
    pub part: Part,
    /// name of the parameter, header, cookie or JSON path
    pub field: &'a str,
    /// the last name component (`number` for `$.cards[*].number`), used for key hints
    pub key: &'a str,
}

/// Findings of one message, bounded.
#[derive(Debug, Default)]
pub struct Findings {
    pub items: Vec<Finding>,
    pub dropped: u32,
    max: usize,
}

/// Most distinct field names whose hints a detector remembers; past it, names are read each
/// time. An API has a few hundred field names; 1024 of at most 64 bytes bound the cache to
/// about 100 KB.
const MAX_HINTS: usize = 1024;

/// What each field name says about its values, remembered across messages: the same names come
/// in every request of an API, and reading one takes some forty substring tests.
#[derive(Debug, Default)]
struct HintCache {
    /// Fx hashing: keys are short field names, and SipHash took as long as the lookup saved
    hints: RwLock<FxHashMap<Box<str>, sensitive::Hint>>,
}

impl HintCache {
    fn hint(&self, key: &str) -> sensitive::Hint {
        // names that hint nothing by length are not worth a slot
        if key.is_empty() || key.len() > sensitive::MAX_HINT_KEY {
            return sensitive::Hint::None;
        }
        // a poisoned lock only means another thread panicked mid-insert: the map is still whole
        if let Some(hint) = self.hints.read().unwrap_or_else(|e| e.into_inner()).get(key) {
            return *hint;
        }
        let hint = sensitive::hint(key);
        let mut hints = self.hints.write().unwrap_or_else(|e| e.into_inner());
        if hints.len() < MAX_HINTS {
            hints.insert(key.into(), hint);
        }
        hint
    }
}

impl Findings {
    pub fn new(max: usize) -> Self {
        Findings { items: Vec::new(), dropped: 0, max }
    }

    /// One finding per class and field: a list of 500 cards is one exposure, not 500, and the
    /// finding counts them. True when the class was already found in the field.
    fn count_again(&mut self, class: &str, part: Part, field: &str) -> bool {
        match self.items.iter_mut().find(|f| f.class == class && f.field == field && f.part == part) {
            Some(found) => {
                found.count = found.count.saturating_add(1);
                true
            }
            None => false,
        }
    }

    fn push(&mut self, finding: Finding) {
        if self.count_again(&finding.class, finding.part, &finding.field) {
            return;
        }
        if self.items.len() >= self.max {
            self.dropped = self.dropped.saturating_add(1);
            return;
        }
        self.items.push(finding);
    }
}

/// A compiled detector; build once, scan many.
#[derive(Default)]
pub struct Detector {
    config: DetectConfig,
    custom: Vec<CompiledCustom>,
    attacks: attack::Rules,
    secrets: sensitive::Secrets,
    hints: HintCache,
}

impl fmt::Debug for Detector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Detector").field("config", &self.config).finish_non_exhaustive()
    }
}

impl Detector {
    pub fn new(config: DetectConfig) -> Result<Self, DetectError> {
        let custom = config.compile_custom()?;
        Ok(Detector { config, custom, ..Detector::default() })
    }

    pub fn config(&self) -> &DetectConfig {
        &self.config
    }

    fn enabled(&self, class: &str) -> bool {
        !self.config.disabled_classes.iter().any(|c| c == class)
    }

    /// Scans one value. Attack detection runs on requests only.
    pub fn scan_value(&self, site: Site<'_>, value: &str, out: &mut Findings) {
        if value.is_empty() {
            return;
        }
        let opaque = shape::opaque(value.as_bytes());
        if self.config.sensitive {
            let hint = self.hints.hint(site.key);
            let mut emit =
                |class: &'static str, confidence: f32| self.emit_sensitive(site, class, confidence, value, out);
            sensitive::scan(&self.secrets, hint, value, opaque, &mut emit);
            for custom in &self.custom {
                let key_ok = custom.key.as_ref().is_none_or(|k| k.is_match(site.key));
                if key_ok && custom.value.is_match(value) && self.enabled(&custom.name) {
                    let finding = self.sensitive_finding(site, custom.name.clone(), 0.9, value);
                    out.push(finding);
                }
            }
        }
        // a number, a UUID or a timestamp cannot carry an attack
        let numeric = || value.bytes().all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'-' | b'+' | b'e' | b'E'));
        if self.config.attacks && site.direction == Direction::Request && !numeric() && !opaque {
            let normalized = normalize(value);
            let mut found: Vec<&'static str> = Vec::new();
            let mut emit = |class: &'static str, reason: &'static str, severity: u8| {
                if self.enabled(class) && !found.contains(&class) {
                    found.push(class);
                    out.push(attack_finding(site.direction, site.part, site.field, class, reason, severity));
                }
            };
            self.attacks.scan(site, &normalized, &mut emit);
            // an attack sent in base64 runs once the application decodes it
            if let Some(decoded) = normalize::base64_text(value) {
                self.attacks.scan(site, &normalize(&decoded), &mut emit);
            }
        }
    }

    fn emit_sensitive(&self, site: Site<'_>, class: &'static str, confidence: f32, value: &str, out: &mut Findings) {
        if self.enabled(class) && !out.count_again(class, site.part, site.field) {
            out.push(self.sensitive_finding(site, class.to_owned(), confidence, value));
        }
    }

    fn sensitive_finding(&self, site: Site<'_>, class: String, confidence: f32, value: &str) -> Finding {
        Finding {
            kind: Kind::Sensitive,
            class,
            direction: site.direction,
            part: site.part,
            field: site.field.to_owned(),
            confidence,
            reason: "",
            severity: 0,
            masked_sample: self.config.masked_samples.then(|| mask(value)),
            count: 1,
        }
    }

    /// Scans a request line: the path (attacks on its decoded segments) and each query parameter
    /// (name and value).
    pub fn scan_path_and_query(&self, path: &str, query: &str, out: &mut Findings) {
        if self.config.attacks {
            let site = Site { direction: Direction::Request, part: Part::Path, field: "", key: "" };
            let normalized = normalize(path);
            let mut emit = |class: &'static str, reason: &'static str, severity: u8| {
                if self.enabled(class) {
                    out.push(attack_finding(Direction::Request, Part::Path, "", class, reason, severity));
                }
            };
            self.attacks.scan_path(&normalized, &mut emit);
            // segments with more than name characters get the value checks (`/if(now()=sysdate(),
            // sleep(12),0)`, `/users/1'or'1'='1`)
            for segment in normalized.split('/') {
                let plain =
                    segment.bytes().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b'~'));
                if !plain {
                    self.attacks.scan(site, segment, &mut emit);
                }
            }
        }
        self.scan_pairs(Direction::Request, Part::Query, query, out);
    }

    /// `a=1&b=2` pairs (query strings and form bodies): names are scanned for attacks too,
    /// because `__proto__[x]` and `user[$ne]` live in the name.
    pub fn scan_pairs(&self, direction: Direction, part: Part, pairs: &str, out: &mut Findings) {
        for (name, value) in walk::form_pairs(pairs) {
            let site = Site { direction, part, field: &name, key: &name };
            self.scan_value(site, &value, out);
            if self.config.attacks && direction == Direction::Request && !name.is_empty() {
                self.scan_name(direction, part, &name, out);
            }
        }
    }

    /// A parameter, cookie or JSON key name: attacks hide there too (`java.lang.Runtime=x`,
    /// `user[$ne]`, `__proto__[a]`), so names get the attack scan values get.
    fn scan_name(&self, direction: Direction, part: Part, name: &str, out: &mut Findings) {
        let normalized = normalize(name);
        let site = Site { direction, part, field: name, key: "" };
        let mut emit = |class: &'static str, reason: &'static str, severity: u8| {
            if self.enabled(class) {
                out.push(attack_finding(direction, part, name, class, reason, severity));
            }
        };
        self.attacks.scan(site, &normalized, &mut emit);
        self.attacks.scan_name(&normalized, &mut emit);
    }

    /// Whether `scan_header` reads this header's value at all (not pseudo-headers, credentials
    /// or fixed-format headers). `name` is lower case, as Envoy hands it over.
    pub fn scans_header(&self, direction: Direction, name: &str) -> bool {
        let cookie = (direction == Direction::Request && name == "cookie")
            || (direction == Direction::Response && name == "set-cookie");
        cookie
            || !(name.starts_with(':')
                || matches!(name, "authorization" | "proxy-authorization" | "x-api-key" | "api-key" | "apikey")
                || SAFE_HEADERS.contains(&name))
    }

    /// One header. Cookies are split into their pairs; `authorization` is where credentials
    /// belong, so it is not reported as sensitive (the identity hash covers it).
    pub fn scan_header(&self, direction: Direction, name: &str, value: &str, out: &mut Findings) {
        // Envoy hands names over in lower case; recorded traffic may not be
        let lower: std::borrow::Cow<'_, str> =
            if name.bytes().any(|c| c.is_ascii_uppercase()) { name.to_ascii_lowercase().into() } else { name.into() };
        let lower = lower.as_ref();
        if lower.starts_with(':') {
            return;
        }
        if (direction == Direction::Request && lower == "cookie")
            || (direction == Direction::Response && lower == "set-cookie")
        {
            for (cookie, cookie_value) in walk::cookie_pairs(value) {
                let site = Site { direction, part: Part::Cookie, field: cookie, key: cookie };
                self.scan_value(site, cookie_value, out);
                if self.config.attacks && direction == Direction::Request && !cookie.is_empty() {
                    self.scan_name(direction, Part::Cookie, cookie, out);
                }
            }
            return;
        }
        // where credentials belong: the caller identity hashes them, they are not a leak
        if matches!(lower, "authorization" | "proxy-authorization" | "x-api-key" | "api-key" | "apikey") {
            return;
        }
        if SAFE_HEADERS.contains(&lower) {
            return;
        }
        // upload helpers send the file name in a header of their own
        let key = if matches!(lower, "x-filename" | "x_filename" | "x.filename" | "x-file-name") {
            "filename"
        } else {
            lower
        };
        let site = Site { direction, part: Part::Header, field: lower, key };
        self.scan_value(site, value, out);
    }

    /// Checks the request's headers as a whole for protocol anomalies (conflicting
    /// Content-Length, duplicate Host, smuggling).
    pub fn scan_protocol<'h>(&self, headers: impl Iterator<Item = (&'h str, &'h str)>, out: &mut Findings) {
        if !self.config.attacks || !self.enabled("protocol") {
            return;
        }
        if let Some(reason) = attack::protocol_anomaly(headers) {
            out.push(attack_finding(Direction::Request, Part::Header, "", "protocol", reason, 3));
        }
    }

    /// Scans a whole request: path, query, headers (cookies split), framing and body. Returns
    /// the body's JSON walk when it is JSON. For recorded traffic (`meshward analyze`, quality
    /// reports); the filter calls the parts as Envoy hands them over.
    pub fn scan_request(
        &self,
        uri: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        limits: WalkLimits,
        out: &mut Findings,
    ) -> Option<Walk> {
        let (path, query) = crate::split_path_query(uri);
        self.scan_path_and_query(path, query, out);
        for (name, value) in headers {
            self.scan_header(Direction::Request, name, value, out);
        }
        self.scan_protocol(headers.iter().copied(), out);
        let content_type = headers.iter().find(|(n, _)| n.eq_ignore_ascii_case("content-type")).map_or("", |(_, v)| *v);
        self.scan_body(Direction::Request, content_type, body, limits, out)
    }

    /// Scans a response: headers (`set-cookie` split) and body, sensitive data only.
    pub fn scan_response(
        &self,
        headers: &[(&str, &str)],
        body: &[u8],
        limits: WalkLimits,
        out: &mut Findings,
    ) -> Option<Walk> {
        for (name, value) in headers {
            self.scan_header(Direction::Response, name, value, out);
        }
        let content_type = headers.iter().find(|(n, _)| n.eq_ignore_ascii_case("content-type")).map_or("", |(_, v)| *v);
        self.scan_body(Direction::Response, content_type, body, limits, out)
    }

    /// Scans a body of the given content type and returns its JSON walk (field paths and
    /// types) when it is JSON, so callers parse each body once.
    pub fn scan_body(
        &self,
        direction: Direction,
        content_type: &str,
        body: &[u8],
        limits: WalkLimits,
        out: &mut Findings,
    ) -> Option<Walk> {
        let mime = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        let scanning = self.config.sensitive || (self.config.attacks && direction == Direction::Request);
        if crate::body::is_json(&mime) {
            if !scanning {
                return Some(crate::body::json_fields(body, limits));
            }
            let mut last_key_scanned = String::new();
            let mut sink = |path: &str, key: &str, value: &str| {
                // JSON's literals (and strings spelling them) carry no data and no attack; they
                // reach the sink for their keys (`{"$ne": null}`)
                if !matches!(value, "true" | "false" | "null") {
                    let site = Site { direction, part: Part::Body, field: path, key };
                    self.scan_value(site, value, out);
                }
                // keys made of more than word characters get the attack scan once each
                let plain = key.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
                    && !matches!(key, "__proto__" | "prototype" | "constructor");
                if self.config.attacks && direction == Direction::Request && !plain && last_key_scanned != key {
                    last_key_scanned = key.to_owned();
                    self.scan_name(direction, Part::Body, key, out);
                }
            };
            let walk = json_walk(body, limits, &mut sink);
            // `{"__proto__": {"admin": true}}`: the polluting key holds an object, which no
            // value's own key shows
            if let Some(path) = walk.prototype_key.as_deref() {
                if self.config.attacks && direction == Direction::Request {
                    self.scan_name(direction, Part::Body, path, out);
                }
            }
            return Some(walk);
        }
        if !scanning || body.is_empty() {
            return None;
        }
        let text = String::from_utf8_lossy(body);
        let xml = mime.ends_with("/xml")
            || mime.ends_with("+xml")
            || (mime.is_empty() && text.trim_start().starts_with("<?xml"));
        if xml {
            // element text and attribute values one by one; the document as a whole only when
            // it holds markup beyond elements (DOCTYPE and entity declarations, CDATA, processing
            // instructions, XInclude and XSLT): element and attribute names are the schema's
            // (`<java.util.Date>` in a SOAP body names a type, it does not run one)
            for (name, value) in walk::xml_values(&text) {
                let site = Site { direction, part: Part::Body, field: name, key: name };
                self.scan_value(site, value, out);
            }
            if xml_markup_beyond_elements(&text) {
                let site = Site { direction, part: Part::Body, field: "", key: "" };
                self.scan_value(site, &text, out);
            }
        } else if mime == "application/x-www-form-urlencoded" {
            self.scan_pairs(direction, Part::Body, &text, out);
        } else if mime.starts_with("multipart/") {
            for field in walk::multipart_fields(content_type, &text) {
                if let Some(filename) = field.filename {
                    let site = Site { direction, part: Part::Body, field: &field.name, key: "filename" };
                    self.scan_value(site, filename, out);
                }
                let site = Site { direction, part: Part::Body, field: &field.name, key: &field.name };
                self.scan_value(site, field.value, out);
            }
        } else {
            // a body without a content type is read as a form as well, as servers do
            if mime.is_empty() {
                self.scan_pairs(direction, Part::Body, text.trim_end(), out);
            }
            let site = Site { direction, part: Part::Body, field: "", key: "" };
            // `password = "..."`, `api_key: ...` in configuration-like text are found in it too
            self.scan_value(site, &text, out);
        }
        None
    }
}

/// Whether an XML document holds declarations, CDATA, processing instructions (other than the
/// leading `<?xml ...?>`), XInclude or XSLT: where attacks live in markup, not in values.
fn xml_markup_beyond_elements(text: &str) -> bool {
    let body = text.trim_start();
    let body = match body.strip_prefix("<?xml") {
        Some(rest) => rest.split_once("?>").map_or(rest, |(_, after)| after),
        None => body,
    };
    let lower = body.to_ascii_lowercase();
    lower.contains("<!") || lower.contains("<?") || lower.contains(":include") || lower.contains("xsl:")
}

/// Nesting past which a GraphQL operation is a finding: deep queries are how one request asks
/// for the whole graph.
pub const GRAPHQL_MAX_DEPTH: u32 = 10;
/// Aliases past which a GraphQL operation is a finding: one request, many logins or lookups.
pub const GRAPHQL_MAX_ALIASES: u32 = 10;

impl Detector {
    /// GraphQL requests that read the schema (introspection), batch operations, nest deeper than
    /// `GRAPHQL_MAX_DEPTH` or alias more than `GRAPHQL_MAX_ALIASES` fields: `graphql` findings.
    pub fn scan_operation(&self, operation: &crate::operation::Operation, out: &mut Findings) {
        if !self.config.attacks || operation.kind == "rpc" || !self.enabled("graphql") {
            return;
        }
        let mut flag = |reason: &'static str, severity: u8| {
            out.push(attack_finding(Direction::Request, Part::Body, "$.query", "graphql", reason, severity));
        };
        if operation.introspection {
            flag("GraphQL introspection query", 2);
        }
        if operation.batch > 1 {
            flag("batched GraphQL operations", 1);
        }
        if operation.depth > GRAPHQL_MAX_DEPTH {
            flag("GraphQL query nested too deep", 2);
        }
        if operation.aliases > GRAPHQL_MAX_ALIASES {
            flag("GraphQL query with many aliases", 2);
        }
    }
}

fn attack_finding(
    direction: Direction,
    part: Part,
    field: &str,
    class: &str,
    reason: &'static str,
    severity: u8,
) -> Finding {
    Finding {
        kind: Kind::Attack,
        class: class.to_owned(),
        direction,
        part,
        field: field.to_owned(),
        confidence: 0.9,
        reason,
        severity,
        masked_sample: None,
        count: 1,
    }
}

/// Headers whose values are set by clients and proxies in fixed formats; scanning them only
/// finds noise (dates, encodings, addresses the event already records).
const SAFE_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "content-type",
    "accept-encoding",
    "accept-language",
    "accept",
    "connection",
    "keep-alive",
    "date",
    "x-request-id",
    "x-forwarded-for",
    "x-forwarded-proto",
    "x-forwarded-port",
    "x-envoy-expected-rq-timeout-ms",
    "x-envoy-attempt-count",
    "x-envoy-internal",
    "x-b3-traceid",
    "x-b3-spanid",
    "x-b3-parentspanid",
    "x-b3-sampled",
    "traceparent",
    "tracestate",
    "etag",
    "if-none-match",
    "last-modified",
    "if-modified-since",
    "cache-control",
    "pragma",
    "vary",
    "server",
    "x-envoy-upstream-service-time",
    "strict-transport-security",
    "content-security-policy",
];

/// Keeps the first and last two characters of a value and masks the rest: enough to recognise
/// a test card or a known key, not enough to use it.
pub fn mask(value: &str) -> String {
    let chars: Vec<char> = value.chars().take(64).collect();
    let keep = if chars.len() >= 12 {
        4
    } else if chars.len() >= 6 {
        2
    } else {
        0
    };
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| if i < keep || i + keep >= chars.len() || !c.is_alphanumeric() { *c } else { '*' })
        .collect()
}

#[cfg(test)]
mod tests;
