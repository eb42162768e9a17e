//! Detection quality on the public labelled corpora in `../shared/corpora/` (CRS regression
//! tests, libinjection, PayloadsAllTheThings, Presidio, gitleaks) and on generated benign
//! traffic, run through exactly the `core::detect` code the filter runs. `make quality` writes
//! the result into `DETECTION.md`.

use crate::corpus::corpora_dir;
use anyhow::{Context, Result};
use meshward_core::body::WalkLimits;
use meshward_core::detect::{walk::form_decode, Detector, Direction, Findings, Kind, Part, Site};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

fn read_jsonl(path: &Path) -> Result<Vec<Value>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).with_context(|| format!("bad JSON line in {}", path.display())))
        .collect()
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// Counts for one class: positives seen and detected, with a few misses to show.
#[derive(Default)]
pub struct Rate {
    pub total: usize,
    pub hit: usize,
    pub misses: Vec<String>,
}

impl Rate {
    fn add(&mut self, hit: bool, sample: &str) {
        self.total += 1;
        if hit {
            self.hit += 1;
        } else {
            self.misses.push(sample.to_owned());
        }
    }

    pub fn pct(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            100.0 * self.hit as f64 / self.total as f64
        }
    }
}

fn attack_classes(out: &Findings) -> Vec<&str> {
    out.items.iter().filter(|f| f.kind == Kind::Attack).map(|f| f.class.as_str()).collect()
}

/// Which detector classes count as detecting a corpus label.
pub fn accepted(label: &str) -> Option<&'static [&'static str]> {
    Some(match label {
        // CRS files MongoDB operator injection under SQL injection
        "sqli" => &["sqli", "nosqli"],
        // CRS files XML entity declarations (`<!ENTITY % x SYSTEM "http://...">`, rule 941130)
        // and SSI directives (`<!--#echo var=...-->`, 941180) under XSS: reported under their own class
        "xss" => &["xss", "xxe", "ssi_injection"],
        "path_traversal" => &["path_traversal"],
        "command_injection" => &["command_injection"],
        // PayloadsAllTheThings' command-injection lists also hold PHP and template code execution
        // (`system('ls')`, `{${phpinfo()}}`, `{{4+4}}`): reported under their own class
        "patt_command_injection" => &["command_injection", "php_injection", "code_injection", "ssti", "ssi_injection"],
        // its XXE lists hold XSS carried in XML (`<xml><IMG SRC="javas<!-- -->cript:...">`), XPath
        // (`count(/child::node())`) and PHP inside XML elements; its LDAP list XPath too
        "patt_xxe" => &["xxe", "xss", "xpath_injection", "php_injection"],
        "patt_ldap_injection" => &["ldap_injection", "xpath_injection"],
        "ssrf" => &["ssrf"],
        "rfi" => &["rfi"],
        "ssti" => &["ssti"],
        "php_injection" => &["php_injection"],
        "java_injection" => &["java_injection", "log4shell"],
        "code_injection_other" => &["code_injection", "nosqli"],
        "file_inclusion" => &["path_traversal", "rfi", "php_injection", "ssrf"],
        "file_inclusion_target" => &["path_traversal", "php_injection"],
        "xxe" => &["xxe"],
        "nosqli" => &["nosqli", "sqli", "code_injection"],
        "ldap_injection" => &["ldap_injection"],
        "crlf_injection" => &["crlf_injection"],
        "ssi_esi" => &["ssi_injection"],
        _ => return None,
    })
}

fn scan_uri_request(detector: &Detector, request: &Value) -> Findings {
    let mut out = Findings::new(64);
    let uri = s(request, "uri");
    let headers: Vec<(String, String)> = request
        .get("headers")
        .and_then(Value::as_object)
        .map(|h| h.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned())).collect())
        .unwrap_or_default();
    let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let body = s(request, "data");
    detector.scan_request(uri, &headers, body.as_bytes(), WalkLimits::default(), &mut out);
    out
}

fn scan_param(detector: &Detector, value: &str) -> Findings {
    let mut out = Findings::new(64);
    let site = Site { direction: Direction::Request, part: Part::Query, field: "q", key: "q" };
    detector.scan_value(site, value, &mut out);
    out
}

/// Attack detection rates: (corpus, class) -> rate.
pub fn attack_rates(detector: &Detector, dir: &Path) -> Result<BTreeMap<(String, String), Rate>> {
    let mut rates: BTreeMap<(String, String), Rate> = BTreeMap::new();
    for row in read_jsonl(&dir.join("crs/crs_regression.jsonl"))? {
        let label = s(&row, "label");
        let pl1 = row.get("paranoia_level").and_then(Value::as_u64) == Some(1);
        if s(&row, "polarity") != "positive" || !pl1 {
            continue;
        }
        let Some(classes) = accepted(label) else { continue };
        let Some(request) = row.get("request") else { continue };
        let found = attack_classes(&scan_uri_request(detector, request)).iter().any(|c| classes.contains(c));
        let sample = format!(
            "{} {} {}",
            s(request, "uri"),
            request.get("headers").map(Value::to_string).unwrap_or_default(),
            s(request, "data")
        );
        rates.entry(("CRS PL1".into(), label.into())).or_default().add(found, &sample);
    }
    for row in read_jsonl(&dir.join("libinjection/libinjection.jsonl"))? {
        let label = s(&row, "label");
        let Some(classes) = accepted(label) else { continue };
        let value = form_decode(s(&row, "payload"));
        let found = attack_classes(&scan_param(detector, &value)).iter().any(|c| classes.contains(c));
        rates.entry(("libinjection".into(), label.into())).or_default().add(found, &value);
    }
    let patt = read_jsonl(&dir.join("payloadsallthethings/patt_payloads.jsonl"))?;
    let mut rows_per_source: BTreeMap<&str, usize> = BTreeMap::new();
    for row in &patt {
        *rows_per_source.entry(s(row, "source")).or_default() += 1;
    }
    for vector in patt_vectors(&patt) {
        if !patt_payload(vector.source, &rows_per_source) || one_character(&vector.payload) {
            continue;
        }
        let label = vector.label;
        let Some(classes) = accepted(&format!("patt_{label}")).or_else(|| accepted(label)) else { continue };
        let found = attack_classes(&scan_param(detector, &vector.payload)).iter().any(|c| classes.contains(c));
        rates.entry(("PayloadsAllTheThings".into(), label.into())).or_default().add(found, &vector.payload);
    }
    Ok(rates)
}

/// One PayloadsAllTheThings payload: its label, its text and the file it comes from.
struct PattVector<'a> {
    label: &'a str,
    payload: String,
    source: &'a str,
}

/// How each record of html5sec's vector list (`MarioXSSVectors.txt`) ends; a record spans as
/// many lines as its vector does.
const HTML5SEC_END: &str = "//[\"'`-->]]>]</div>";

/// The non-`weak` payloads with their labels. The corpus has one row per line of a file, but the
/// html5sec list holds multi-line vectors (an SVG document, an XSLT sheet): its lines are joined
/// back into the records the file delimits, since one line of a vector is not a payload.
fn patt_vectors(patt: &[Value]) -> Vec<PattVector<'_>> {
    let mut vectors: Vec<PattVector<'_>> = Vec::new();
    let mut open = false;
    for row in patt {
        if row.get("weak").and_then(Value::as_bool) == Some(true) {
            open = false;
            continue;
        }
        let (label, source, payload) = (s(row, "label"), s(row, "source"), s(row, "payload"));
        let multi_line = source.ends_with("/MarioXSSVectors.txt");
        match vectors.last_mut() {
            Some(last) if open && multi_line && last.source == source && last.label == label => {
                last.payload.push('\n');
                last.payload.push_str(payload);
            }
            _ => vectors.push(PattVector { label, payload: payload.to_owned(), source }),
        }
        open = multi_line && !payload.trim_end().ends_with(HTML5SEC_END);
    }
    vectors
}

/// Whether a payload is one character written as an HTML or JavaScript escape (`&#x003c;`,
/// `&LT;`, `\u003c`): the corpus marks the short spellings of a lone `<` `weak`, as it does every
/// row under 4 characters, and the longer spellings are the same probe.
fn one_character(payload: &str) -> bool {
    let p = payload.trim().to_ascii_lowercase();
    let hex = |d: &str| !d.is_empty() && d.bytes().all(|c| c.is_ascii_hexdigit());
    let dec = |d: &str| !d.is_empty() && d.bytes().all(|c| c.is_ascii_digit());
    let entity = p.strip_prefix('&').map(|e| e.strip_suffix(';').unwrap_or(e));
    match entity {
        Some(e) => {
            e.strip_prefix("#x").is_some_and(hex)
                || e.strip_prefix('#').is_some_and(dec)
                || ["lt", "gt", "quot", "apos", "amp"].contains(&e)
        }
        None => p.strip_prefix("\\x").or_else(|| p.strip_prefix("\\u")).is_some_and(|d| hex(d) && d.len() <= 4),
    }
}

/// PayloadsAllTheThings keeps sample files (images, SVG and XML documents, notebooks, exploit
/// scripts) beside its payload lists; one line of such a file is not a payload. Rows count
/// when they come from a list (`.txt` or outside `Files/`) or are a whole one-line file.
fn patt_payload(source: &str, rows_per_source: &BTreeMap<&str, usize>) -> bool {
    let path = source.split_once(':').map_or(source, |(_, p)| p);
    let list = !path.contains("/Files/") || path.ends_with(".txt");
    list || rows_per_source.get(source).copied() == Some(1)
}

/// One benign set: its name, how many values were flagged, and by which classes.
pub type FalsePositives = (String, Rate, BTreeMap<String, usize>);

/// False positives: (set, rate of values with any attack finding, counts per class).
pub fn false_positives(detector: &Detector, dir: &Path) -> Result<Vec<FalsePositives>> {
    let mut sets = Vec::new();
    let mut lib = Rate::default();
    let mut lib_classes = BTreeMap::new();
    for row in read_jsonl(&dir.join("libinjection/libinjection.jsonl"))? {
        if s(&row, "label") != "benign" {
            continue;
        }
        let value = form_decode(s(&row, "payload"));
        let classes = attack_classes(&scan_param(detector, &value)).into_iter().map(str::to_owned).collect::<Vec<_>>();
        for c in &classes {
            *lib_classes.entry(c.clone()).or_insert(0) += 1;
        }
        record_fp(&mut lib, &classes, &value);
    }
    sets.push(("libinjection benign (hard negatives)".to_owned(), lib, lib_classes));
    let mut crs = Rate::default();
    let mut crs_classes = BTreeMap::new();
    let crs_rows = read_jsonl(&dir.join("crs/crs_regression.jsonl"))?;
    // a negative only promises that its one rule stays quiet: the same request is another
    // test's positive often enough (83 times) that those are left out
    let flagged_by_crs: std::collections::HashSet<String> = crs_rows
        .iter()
        .filter(|row| s(row, "polarity") == "positive")
        .filter_map(|row| row.get("request").map(|r| r.to_string()))
        .collect();
    let mut left_out = 0;
    for row in &crs_rows {
        if s(row, "label") != "benign" || s(row, "polarity") != "negative" {
            continue;
        }
        let Some(request) = row.get("request") else { continue };
        if flagged_by_crs.contains(&request.to_string()) {
            left_out += 1;
            continue;
        }
        let classes =
            attack_classes(&scan_uri_request(detector, request)).into_iter().map(str::to_owned).collect::<Vec<_>>();
        for c in &classes {
            *crs_classes.entry(c.clone()).or_insert(0) += 1;
        }
        let headers = request.get("headers").map(Value::to_string).unwrap_or_default();
        record_fp(&mut crs, &classes, &format!("{} {headers} {}", s(request, "uri"), s(request, "data")));
    }
    sets.push((
        format!("CRS negatives (hard cases, all paranoia levels; {left_out} that are also a CRS positive left out)"),
        crs,
        crs_classes,
    ));
    let mut gen = Rate::default();
    let mut gen_classes = BTreeMap::new();
    for (field, value) in crate::benign::values() {
        let mut out = Findings::new(64);
        let site = Site { direction: Direction::Request, part: Part::Body, field: &field, key: &field };
        detector.scan_value(site, &value, &mut out);
        let encoded: String = value
            .bytes()
            .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
            .collect();
        detector.scan_path_and_query("/search", &format!("{field}={encoded}"), &mut out);
        let classes = attack_classes(&out).into_iter().map(str::to_owned).collect::<Vec<_>>();
        for c in &classes {
            *gen_classes.entry(c.clone()).or_insert(0) += 1;
        }
        record_fp(&mut gen, &classes, &format!("{field}={value}"));
    }
    sets.push(("generated benign traffic (body field and query parameter)".to_owned(), gen, gen_classes));
    Ok(sets)
}

/// Counts a benign value; a flagged one is kept with the classes that flagged it.
fn record_fp(rate: &mut Rate, classes: &[String], sample: &str) {
    rate.total += 1;
    if !classes.is_empty() {
        rate.hit += 1;
        rate.misses.push(format!("[{}] {sample}", classes.join(",")));
    }
}

/// Recall and precision of one sensitive class.
#[derive(Default)]
pub struct PrecisionRecall {
    pub positives: usize,
    pub found: usize,
    pub false_found: usize,
    pub misses: Vec<String>,
    pub false_samples: Vec<String>,
}

impl PrecisionRecall {
    pub fn recall(&self) -> f64 {
        if self.positives == 0 {
            0.0
        } else {
            100.0 * self.found as f64 / self.positives as f64
        }
    }
    pub fn precision(&self) -> f64 {
        let flagged = self.found + self.false_found;
        if flagged == 0 {
            100.0
        } else {
            100.0 * self.found as f64 / flagged as f64
        }
    }
}

fn presidio_class(label: &str) -> Option<&'static str> {
    Some(match label {
        "EMAIL_ADDRESS" => "email",
        "CREDIT_CARD" => "credit_card",
        "US_SSN" => "us_ssn",
        "IBAN_CODE" => "iban",
        "PHONE_NUMBER" | "PH_MOBILE_NUMBER" | "TR_PHONE_NUMBER" => "phone",
        "IP_ADDRESS" => "ip_address",
        "IN_AADHAAR" => "aadhaar",
        _ => return None,
    })
}

fn gitleaks_class(rule: &str) -> Option<&'static str> {
    Some(match rule {
        "aws-access-token" => "aws_access_key",
        "azure-ad-client-secret" => "azure_key",
        "gcp-api-key" => "gcp_api_key",
        "private-key" => "private_key",
        "slack-webhook-url" => "slack_webhook",
        "stripe-access-token" => "stripe_key",
        "generic-api-key" => "api_key",
        "jwt" => "jwt",
        r if r.starts_with("slack-") => "slack_token",
        r if r.starts_with("github-") => "github_token",
        r if r.starts_with("gitlab-") => "gitlab_token",
        "anthropic-api-key"
        | "anthropic-admin-api-key"
        | "atlassian-api-token"
        | "age-secret-key"
        | "databricks-api-token"
        | "grafana-cloud-api-token"
        | "grafana-service-account-token"
        | "huggingface-access-token"
        | "1password-service-account-token"
        | "vault-batch-token"
        | "vault-service-token"
        | "square-access-token"
        | "square-secret"
        | "mailchimp-api-key"
        | "telegram-bot-api-token"
        | "artifactory-api-key"
        | "artifactory-reference-token"
        | "npm-access-token"
        | "pypi-upload-token"
        | "openai-api-key"
        | "sendgrid-api-token"
        | "doppler-api-token"
        | "postman-api-token"
        | "new-relic-user-api-key"
        | "dynatrace-api-token"
        | "pulumi-api-token"
        | "linear-api-key"
        | "rubygems-api-token"
        | "shopify-access-token"
        | "digitalocean-access-token" => "service_token",
        _ => return None,
    })
}

fn sensitive_classes(detector: &Detector, direction: Direction, content_type: &str, body: &str) -> Vec<String> {
    let mut out = Findings::new(64);
    detector.scan_body(direction, content_type, body.as_bytes(), WalkLimits::default(), &mut out);
    let mut classes: Vec<String> =
        out.items.iter().filter(|f| f.kind == Kind::Sensitive).map(|f| f.class.clone()).collect();
    classes.sort();
    classes.dedup();
    classes
}

/// `real_secret`: the row holds a secret (of a type we may not claim): calling it a generic
/// `api_key` is then right, not a false find.
fn score(
    table: &mut BTreeMap<String, PrecisionRecall>,
    claimed: &[&str],
    truth: Option<&str>,
    found: &[String],
    sample: &str,
    real_secret: bool,
) {
    if let Some(t) = truth {
        let pr = table.entry(t.to_owned()).or_default();
        pr.positives += 1;
        if found.iter().any(|c| c == t) {
            pr.found += 1;
        } else {
            pr.misses.push(sample.to_owned());
        }
    }
    for class in found {
        if Some(class.as_str()) != truth && claimed.contains(&class.as_str()) && !(real_secret && class == "api_key") {
            let pr = table.entry(class.clone()).or_default();
            pr.false_found += 1;
            pr.false_samples.push(format!("{class}: {sample}"));
        }
    }
}

/// Presidio strings wrapped as a JSON response field; gitleaks lines as a text response body.
pub fn sensitive_quality(
    detector: &Detector,
    dir: &Path,
) -> Result<(BTreeMap<String, PrecisionRecall>, BTreeMap<String, PrecisionRecall>)> {
    let mut presidio = BTreeMap::new();
    let claimed: Vec<&str> = ["email", "credit_card", "us_ssn", "iban", "phone", "ip_address", "aadhaar"].to_vec();
    for row in read_jsonl(&dir.join("presidio/presidio_recognizer_tests.jsonl"))? {
        let payload = s(&row, "payload");
        let body = serde_json::json!({ "note": payload }).to_string();
        let found = sensitive_classes(detector, Direction::Response, "application/json", &body);
        score(&mut presidio, &claimed, presidio_class(s(&row, "label")), &found, payload, false);
    }
    let mut gitleaks = BTreeMap::new();
    let claimed: Vec<&str> = vec![
        "aws_access_key",
        "azure_key",
        "gcp_api_key",
        "private_key",
        "slack_webhook",
        "stripe_key",
        "api_key",
        "jwt",
        "slack_token",
        "github_token",
        "gitlab_token",
        "service_token",
    ];
    for row in read_jsonl(&dir.join("gitleaks/gitleaks_rule_samples.jsonl"))? {
        let tp = s(&row, "polarity") == "tp";
        if tp && row.get("generated").and_then(Value::as_bool) == Some(true) {
            continue;
        }
        let payload = s(&row, "payload");
        let found = sensitive_classes(detector, Direction::Response, "text/plain", payload);
        let truth = if tp { gitleaks_class(s(&row, "label")) } else { None };
        if tp && truth.is_none() {
            // a secret type we do not claim: only count what we wrongly call it
            let found: Vec<String> =
                found.into_iter().filter(|c| c != "password" && c != "basic_auth" && c != "bearer_token").collect();
            score(&mut gitleaks, &claimed, None, &found, payload, true);
            continue;
        }
        score(&mut gitleaks, &claimed, truth, &found, payload, tp);
    }
    Ok((presidio, gitleaks))
}

pub fn short(sample: &str) -> String {
    let one_line: String = sample.chars().take(100).collect::<String>().replace('`', "'").replace('\n', "\\n");
    one_line.chars().filter(|c| !c.is_control()).collect()
}

/// Every miss (or false find) of one corpus and class, for working on the detectors:
/// `meshward-quality --misses "CRS PL1:sqli"`, `--misses "fp:generated"`, `--misses "presidio:phone"`.
pub fn misses(which: &str) -> Result<Vec<String>> {
    let dir = corpora_dir();
    let detector = Detector::default();
    let (corpus, class) = which.split_once(':').unwrap_or((which, ""));
    if corpus == "fp" {
        return Ok(false_positives(&detector, &dir)?
            .into_iter()
            .filter(|(n, _, _)| n.contains(class))
            .flat_map(|(_, r, _)| r.misses)
            .collect());
    }
    if corpus == "presidio" || corpus == "gitleaks" {
        let (p, g) = sensitive_quality(&detector, &dir)?;
        let table = if corpus == "presidio" { p } else { g };
        return Ok(table
            .into_iter()
            .filter(|(c, _)| c == class)
            .flat_map(|(_, pr)| {
                pr.misses
                    .into_iter()
                    .map(|m| format!("MISS {m}"))
                    .chain(pr.false_samples.into_iter().map(|m| format!("FALSE {m}")))
            })
            .collect());
    }
    Ok(attack_rates(&detector, &dir)?
        .remove(&(corpus.to_owned(), class.to_owned()))
        .map(|r| r.misses)
        .unwrap_or_default())
}

/// Attack detection, false-positive and sensitive-data counts, one line per corpus and class: the quick
/// measurement to compare before and after a rule change (the report also runs scenarios).
pub fn attack_summary() -> Result<String> {
    let dir = corpora_dir();
    let detector = Detector::default();
    let mut out = String::new();
    for ((corpus, class), rate) in attack_rates(&detector, &dir)? {
        let _ = writeln!(out, "{corpus}:{class}\t{}/{}", rate.hit, rate.total);
    }
    for (set, rate, _) in false_positives(&detector, &dir)? {
        let _ = writeln!(out, "fp {set}\t{}/{}", rate.hit, rate.total);
    }
    let (presidio, gitleaks) = sensitive_quality(&detector, &dir)?;
    for (corpus, table) in [("presidio", presidio), ("gitleaks", gitleaks)] {
        for (class, pr) in table {
            let _ = writeln!(out, "{corpus}:{class}\tfound {}/{}, false {}", pr.found, pr.positives, pr.false_found);
        }
    }
    Ok(out)
}

/// The whole report as Markdown.
pub fn report() -> Result<String> {
    let dir = corpora_dir();
    let detector = Detector::default();
    let mut md = String::new();
    let _ = writeln!(md, "# Detection quality\n");
    let _ = writeln!(
        md,
        "Written by `make quality` (`meshward-quality --write DETECTION.md`) from the labelled corpora in `../shared/corpora/` \
         and generated benign traffic, with the default detector configuration: the same `meshward_core::detect` code the \
         filter runs in Envoy and `meshward analyze` runs offline.\n"
    );
    let rates = attack_rates(&detector, &dir)?;
    let _ = writeln!(md, "## Attacks: detection rate per class\n");
    let _ = writeln!(
        md,
        "Goal: at least 95% per class. A row counts as detected when a finding of the row's class is reported; \
         where a corpus files payloads of another class under a label, the classes that count are listed below \
         the table.\n"
    );
    let _ = writeln!(md, "| corpus | class | rows | detected | rate |");
    let _ = writeln!(md, "|---|---|---:|---:|---:|");
    for ((corpus, class), rate) in &rates {
        let _ = writeln!(md, "| {corpus} | {class} | {} | {} | {:.1}% |", rate.total, rate.hit, rate.pct());
    }
    let _ = writeln!(md, "\nClasses that count for a label besides its own:\n");
    for label in
        ["java_injection", "code_injection_other", "file_inclusion", "file_inclusion_target", "nosqli", "sqli", "xss"]
    {
        if let Some(classes) = accepted(label) {
            let _ = writeln!(md, "- `{label}`: {}", classes.join(", "));
        }
    }
    for label in ["command_injection", "xxe", "ldap_injection"] {
        if let Some(classes) = accepted(&format!("patt_{label}")) {
            let _ = writeln!(md, "- `{label}` (PayloadsAllTheThings only): {}", classes.join(", "));
        }
    }
    let _ = writeln!(
        md,
        "\nPayloadsAllTheThings rows that are lines of sample files (images, SVG and XML documents, notebooks, \
         scripts) rather than payload lists are left out; `weak` rows too, and rows that are one character \
         written as an HTML or JavaScript escape (`&#x003c;`, `\\u003c`: the longer spellings of the `weak` \
         `&lt`). The lines of html5sec's multi-line vectors (`MarioXSSVectors.txt`) are joined back into the \
         vectors the file delimits.\n"
    );
    let _ = writeln!(md, "\nSome misses:\n");
    for ((corpus, class), rate) in &rates {
        for miss in rate.misses.iter().take(2) {
            let _ = writeln!(md, "- {corpus} {class}: `{}`", short(miss));
        }
    }
    let _ = writeln!(md, "\n## Attacks: false positives\n");
    let _ = writeln!(md, "Goal: at most 0.5% on benign traffic.\n");
    let _ = writeln!(md, "| set | values | flagged | rate | by class |");
    let _ = writeln!(md, "|---|---:|---:|---:|---|");
    let fps = false_positives(&detector, &dir)?;
    for (name, rate, classes) in &fps {
        let by: Vec<String> = classes.iter().map(|(c, n)| format!("{c} {n}")).collect();
        let _ = writeln!(md, "| {name} | {} | {} | {:.2}% | {} |", rate.total, rate.hit, rate.pct(), by.join(", "));
    }
    let _ = writeln!(md, "\nSome flagged values:\n");
    for (name, rate, _) in &fps {
        for sample in rate.misses.iter().take(3) {
            let _ = writeln!(md, "- {name}: `{}`", short(sample));
        }
    }
    let (presidio, gitleaks) = sensitive_quality(&detector, &dir)?;
    for (title, table) in [
        ("Presidio recognizer tests (each string as a JSON field)", &presidio),
        ("gitleaks rule samples (literal true positives, all false positives; as a text body)", &gitleaks),
    ] {
        let _ = writeln!(md, "\n## Sensitive data: {title}\n");
        let _ = writeln!(md, "Goal: at least 95% recall and 95% precision per class.\n");
        let _ = writeln!(md, "| class | positives | found | recall | false finds | precision |");
        let _ = writeln!(md, "|---|---:|---:|---:|---:|---:|");
        for (class, pr) in table {
            let _ = writeln!(
                md,
                "| {class} | {} | {} | {} | {} | {:.1}% |",
                pr.positives,
                pr.found,
                // no literal true positive in the corpus: nothing to recall
                if pr.positives == 0 { "n/a".to_owned() } else { format!("{:.1}%", pr.recall()) },
                pr.false_found,
                pr.precision()
            );
        }
        let _ = writeln!(md);
        for (class, pr) in table {
            for m in pr.misses.iter().take(2) {
                let _ = writeln!(md, "- {class} missed: `{}`", short(m));
            }
            for m in pr.false_samples.iter().take(2) {
                let _ = writeln!(md, "- {class} wrongly found in: `{}`", short(m));
            }
        }
    }
    Ok(md)
}

/// A header map as Envoy hands it to the filter.
type Headers = Vec<(String, Vec<u8>)>;

/// The header maps Envoy would hand the filter for one benchmark pair.
fn pair_headers(pair: &crate::bench_traffic::corpus::Pair, i: usize) -> (Headers, Headers) {
    let mut request: Headers = vec![
        (":authority".into(), b"shop.example".to_vec()),
        (":path".into(), pair.target.clone().into_bytes()),
        (":method".into(), pair.method.as_bytes().to_vec()),
        (":scheme".into(), b"http".to_vec()),
    ];
    request.extend(pair.headers.iter().map(|(n, v)| ((*n).to_owned(), v.clone().into_bytes())));
    request.push(("x-request-id".into(), format!("5a1b2c3d-0000-4000-8000-{i:012}").into_bytes()));
    let response = vec![
        (":status".into(), pair.status.to_string().into_bytes()),
        ("content-type".into(), b"application/json".to_vec()),
    ];
    (request, response)
}

/// Findings per `kind class`: as many as the events show, and as many as their weights estimate.
#[derive(Debug, Default, Clone, Copy)]
struct Counted {
    seen: f64,
    estimated: f64,
}

/// Records `exchanges` of the benchmark's varied pairs at `load_per_s` (a simulated clock) with
/// the recorder the filter runs, and counts the findings of the events.
fn record_pairs(
    pairs: &[crate::bench_traffic::corpus::Pair],
    inspection: meshward_core::recorder::inspection::InspectionConfig,
    exchanges: usize,
    load_per_s: f64,
) -> (BTreeMap<String, Counted>, f64) {
    use prost::Message;
    let config = meshward_core::RecorderConfig {
        inspection,
        identity_secret: "quality".into(),
        dedupe_shapes: false,
        ..meshward_core::RecorderConfig::default()
    };
    let mut recorder = meshward_core::Recorder::new(config, 3);
    let maps: Vec<_> = pairs.iter().enumerate().map(|(i, p)| pair_headers(p, i)).collect();
    let mut counts: BTreeMap<String, Counted> = BTreeMap::new();
    let mut deep = 0usize;
    let step_us = (1e6 / load_per_s) as u64;
    let mut now = 1_800_000_000_000_000u64;
    for n in 0..exchanges {
        let (pair, (request, response)) = (&pairs[n % pairs.len()], &maps[n % pairs.len()]);
        now += step_us;
        let mut exchange = recorder.request_headers(request, "10.1.2.3:4000", now);
        let room = recorder.body_room(&exchange, Direction::Request).min(pair.request_body.len());
        exchange.body_data(Direction::Request, &pair.request_body.as_bytes()[..room]);
        exchange.body_seen(Direction::Request, pair.request_body.len());
        recorder.response_headers(&mut exchange, response);
        let room = recorder.body_room(&exchange, Direction::Response).min(pair.response_body.len());
        exchange.body_data(Direction::Response, &pair.response_body.as_bytes()[..room]);
        exchange.body_seen(Direction::Response, pair.response_body.len());
        deep += usize::from(exchange.deep());
        // the budget's clock: what this worker spent is what it would spend at this load
        let clock = || now + 60;
        let end = meshward_core::recorder::End {
            now_us: now + 40,
            event_id: [0; 16],
            status: None,
            peer_principal: "",
            clock: &clock,
        };
        let event = meshward_proto::HttpEvent::decode(recorder.finish(exchange, end).as_slice()).unwrap_or_default();
        let weight = f64::from(event.inspection_weight);
        let body = |part: &str| if part == "body" { weight } else { 1.0 };
        for s in &event.sensitive {
            let c = counts.entry(format!("sensitive {}", s.class)).or_default();
            c.seen += 1.0;
            c.estimated += body(&s.part);
        }
        for a in &event.attacks {
            let c = counts.entry(format!("attack {}", a.class)).or_default();
            c.seen += 1.0;
            c.estimated += body(&a.part);
        }
        if n % 1000 == 999 {
            recorder.tick(now);
        }
    }
    (counts, deep as f64 / exchanges.max(1) as f64)
}

/// DETECTION.md's section on the inspection budget: the findings a budgeted filter still
/// reports at the benchmark's saturating load, against inspecting every exchange.
pub fn budget_section(load_per_s: f64) -> String {
    use meshward_core::recorder::inspection::{InspectionConfig, InspectionMode};
    let pairs = crate::bench_traffic::corpus::pairs(1000, crate::bench_traffic::corpus::Size::Small, 42);
    // two simulated minutes, so the budget's windows and rates are past their start
    let exchanges = (load_per_s * 120.0) as usize;
    let (budget, share) = record_pairs(&pairs, InspectionConfig::default(), exchanges, load_per_s);
    // every exchange inspected: the same pairs give the same findings each cycle
    let full_config = InspectionConfig { mode: InspectionMode::Full, ..InspectionConfig::default() };
    let (full_once, _) = record_pairs(&pairs, full_config, pairs.len(), load_per_s);
    let cycles = exchanges as f64 / pairs.len() as f64;
    let mut md = String::new();
    let _ = writeln!(md, "## Under the inspection budget\n");
    let _ = writeln!(
        md,
        "The filter reads and scans bodies for a sample of exchanges (`inspection` in the filter configuration; the \
         default samples each endpoint variant, the first ten of each minute and then about ten a second, at least 1%, \
         within a tenth of the worker's time). Path, query and headers are scanned on every exchange. Here the \
         benchmark's {} varied request/response pairs (`core/benches/support/traffic.rs`: names, emails, phone numbers, \
         cards, tokens, injections in query strings and bodies) are recorded for two simulated minutes at {load_per_s:.0} \
         exchanges a second, the Envoy benchmark's saturating load, with the default budget ({:.1}% of exchanges deeply \
         inspected) and with every exchange inspected. *Seen* is how many findings the events carry; *estimated* sums \
         each body finding's event weight (1/p) and counts the others once, which is how the collector's SQL counts \
         them.\n",
        pairs.len(),
        100.0 * share
    );
    let _ = writeln!(md, "| finding | full inspection | seen under the budget | share seen | estimated from the weights | estimate / full |");
    let _ = writeln!(md, "|---|---:|---:|---:|---:|---:|");
    for (class, once) in &full_once {
        let full = once.seen * cycles;
        let got = budget.get(class).copied().unwrap_or_default();
        let _ = writeln!(
            md,
            "| {class} | {full:.0} | {:.0} | {:.1}% | {:.0} | {:.2} |",
            got.seen,
            100.0 * got.seen / full.max(1.0),
            got.estimated,
            got.estimated / full.max(1.0)
        );
    }
    let _ = writeln!(md);
    md
}
