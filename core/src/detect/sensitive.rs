//! Sensitive data in a value: PII validated by checksums and format rules where they exist
//! (Luhn and issuer ranges for cards, mod-97 for IBANs, Verhoeff for Aadhaar, check digits for
//! CPF and VINs, area/group rules for SSNs), secrets by their vendor prefixes and structure
//! (JWT headers are decoded), and key-based classes (`password`, `passport`, ...) by the name of
//! the field that holds them. Field names also raise the confidence of value-based matches.

use super::bytes;
use aho_corasick::AhoCorasick;
use base64::Engine;

/// Every built-in sensitive class.
pub const SENSITIVE_CLASSES: &[&str] = &[
    "email",
    "credit_card",
    "us_ssn",
    "iban",
    "phone",
    "ip_address",
    "date_of_birth",
    "passport",
    "drivers_license",
    "aadhaar",
    "br_cpf",
    "coordinates",
    "vin",
    "jwt",
    "aws_access_key",
    "aws_secret_key",
    "gcp_api_key",
    "azure_key",
    "github_token",
    "gitlab_token",
    "slack_token",
    "slack_webhook",
    "stripe_key",
    "private_key",
    "service_token",
    "bearer_token",
    "basic_auth",
    "password",
    "api_key",
];

/// What a field's name says about its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hint {
    None,
    Password,
    Secret,
    Ssn,
    Card,
    Birth,
    Passport,
    DriversLicense,
    Phone,
    Latitude,
    Longitude,
    Vin,
    Aadhaar,
    Cpf,
    Email,
    Iban,
}

/// Longest field name a hint is read from; longer ones hint nothing.
pub const MAX_HINT_KEY: usize = 64;

pub fn hint(key: &str) -> Hint {
    if key.is_empty() || key.len() > MAX_HINT_KEY {
        return Hint::None;
    }
    let k: String = key.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_lowercase()).collect();
    let has = |s: &str| k.contains(s);
    if ["page", "cursor", "type", "expire", "length", "policy", "hint", "count", "url", "format"].iter().any(|s| has(s))
    {
        return Hint::None;
    }
    // names of secrets, public halves, identifiers and database keys are not secrets
    let not_secret = [
        "public", "csrf", "xsrf", "primary", "foreign", "bucket", "vault", "sort", "cache", "idempot", "name", "label",
    ]
    .iter()
    .any(|s| has(s))
        || k.ends_with("id")
        || k.ends_with("ids");
    if has("password") || has("passwd") || has("passphrase") || k == "pwd" || k.ends_with("pwd") || k == "pass" {
        Hint::Password
    } else if has("ssn") || has("socialsecurity") {
        Hint::Ssn
    } else if has("card") && (has("number") || has("num") || has("no")) || k == "pan" || k == "ccnumber" || k == "cc" {
        Hint::Card
    } else if has("birth") || k == "dob" {
        Hint::Birth
    } else if has("passport") {
        Hint::Passport
    } else if has("licen") && (has("driv") || has("dl")) || k == "dlnumber" {
        Hint::DriversLicense
    } else if has("phone") || has("mobile") || k == "tel" || has("msisdn") || k == "cell" {
        Hint::Phone
    } else if k == "lat" || k == "latitude" {
        Hint::Latitude
    } else if k == "lng" || k == "lon" || k == "long" || k == "longitude" {
        Hint::Longitude
    } else if k == "vin" || has("vehicleid") {
        Hint::Vin
    } else if has("aadhaar") || has("aadhar") {
        Hint::Aadhaar
    } else if k == "cpf" || has("cpf") {
        Hint::Cpf
    } else if has("email") {
        Hint::Email
    } else if has("iban") {
        Hint::Iban
    } else if !not_secret
        && (has("secret")
            || has("apikey")
            || has("token")
            || has("accesskey")
            || has("privatekey")
            || has("credential")
            || (k.ends_with("key") && k != "key"))
    {
        Hint::Secret
    } else {
        Hint::None
    }
}

/// Prefix automaton for vendor secrets, built once per detector.
pub struct Secrets {
    automaton: Option<AhoCorasick>,
}

/// (prefix, class, body charset, minimum body length, maximum body length)
type Prefix = (&'static str, &'static str, fn(u8) -> bool, usize, usize);

fn alnum(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}
fn upper_alnum(b: u8) -> bool {
    b.is_ascii_uppercase() || b.is_ascii_digit()
}
fn word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}
fn token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}
fn hexdigit(b: u8) -> bool {
    b.is_ascii_hexdigit()
}
fn b64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'=' || b == b'-' || b == b'_'
}
fn any_visible(b: u8) -> bool {
    b.is_ascii_graphic()
}

const PREFIXES: &[Prefix] = &[
    ("AKIA", "aws_access_key", upper_alnum, 16, 16),
    ("ASIA", "aws_access_key", upper_alnum, 16, 16),
    ("ABIA", "aws_access_key", upper_alnum, 16, 16),
    ("ACCA", "aws_access_key", upper_alnum, 16, 16),
    ("A3T", "aws_access_key", upper_alnum, 17, 17),
    ("AIza", "gcp_api_key", token, 35, 35),
    ("ghp_", "github_token", alnum, 36, 36),
    ("gho_", "github_token", alnum, 36, 36),
    ("ghu_", "github_token", alnum, 36, 36),
    ("ghs_", "github_token", alnum, 36, 36),
    ("ghr_", "github_token", alnum, 36, 36),
    ("github_pat_", "github_token", word, 22, 255),
    ("glpat-", "gitlab_token", token, 20, 64),
    ("gldt-", "gitlab_token", token, 20, 64),
    ("glptt-", "gitlab_token", token, 20, 64),
    ("glrt-", "gitlab_token", token, 20, 64),
    ("glsoat-", "gitlab_token", token, 20, 64),
    ("glcbt-", "gitlab_token", token, 20, 64),
    ("glimt-", "gitlab_token", token, 20, 64),
    ("glagent-", "gitlab_token", token, 50, 64),
    ("gloas-", "gitlab_token", token, 64, 64),
    ("glffct-", "gitlab_token", token, 20, 64),
    ("glft-", "gitlab_token", token, 20, 64),
    ("GR1348941", "gitlab_token", token, 20, 64),
    ("xoxb-", "slack_token", token, 20, 255),
    ("xoxp-", "slack_token", token, 20, 255),
    ("xoxa-", "slack_token", token, 20, 255),
    ("xoxr-", "slack_token", token, 20, 255),
    ("xoxs-", "slack_token", token, 20, 255),
    ("xoxo-", "slack_token", token, 20, 255),
    ("xoxe-", "slack_token", token, 20, 255),
    // configuration tokens are long (`xoxe.xoxp-1-` and 163 characters): shorter is a doc's stand-in
    ("xoxe.xox", "slack_token", token, 150, 255),
    ("xapp-", "slack_token", token, 20, 255),
    ("hooks.slack.com/services/", "slack_webhook", any_visible, 20, 255),
    ("hooks.slack.com/workflows/", "slack_webhook", any_visible, 20, 255),
    ("hooks.slack.com/triggers/", "slack_webhook", any_visible, 20, 255),
    ("sk_live_", "stripe_key", alnum, 10, 255),
    ("sk_test_", "stripe_key", alnum, 10, 255),
    ("sk_prod_", "stripe_key", alnum, 10, 255),
    ("rk_live_", "stripe_key", alnum, 10, 255),
    ("rk_test_", "stripe_key", alnum, 10, 255),
    ("rk_prod_", "stripe_key", alnum, 10, 255),
    ("AccountKey=", "azure_key", b64, 80, 100),
    ("SharedAccessKey=", "azure_key", b64, 40, 100),
    ("npm_", "service_token", alnum, 36, 36),
    ("pypi-AgEIcHlwaS5vcmc", "service_token", token, 50, 255),
    ("shpat_", "service_token", hexdigit, 32, 32),
    ("shpca_", "service_token", hexdigit, 32, 32),
    ("shppa_", "service_token", hexdigit, 32, 32),
    ("shpss_", "service_token", hexdigit, 32, 32),
    ("dop_v1_", "service_token", hexdigit, 64, 64),
    ("doo_v1_", "service_token", hexdigit, 64, 64),
    ("dor_v1_", "service_token", hexdigit, 64, 64),
    ("sk-ant-api03-", "service_token", token, 80, 120),
    ("sk-ant-admin01-", "service_token", token, 80, 120),
    ("sk-proj-", "service_token", token, 40, 200),
    ("hf_", "service_token", alnum, 34, 34),
    ("lin_api_", "service_token", alnum, 40, 40),
    ("glc_", "service_token", b64, 32, 400),
    ("glsa_", "service_token", word, 32, 60),
    ("dapi", "service_token", hexdigit, 32, 32),
    ("pul-", "service_token", hexdigit, 40, 40),
    ("PMAK-", "service_token", token, 59, 59),
    ("NRAK-", "service_token", upper_alnum, 27, 27),
    ("dt0c01.", "service_token", |b| alnum(b) || b == b'.', 88, 88),
    ("AGE-SECRET-KEY-1", "service_token", upper_alnum, 58, 58),
    ("ATATT3", "service_token", |b| token(b) || b == b'=', 186, 186),
    ("ops_eyJ", "service_token", b64, 250, 2000),
    ("hvs.", "service_token", token, 90, 120),
    ("hvb.", "service_token", token, 138, 300),
    ("dp.pt.", "service_token", alnum, 43, 43),
    ("SG.", "service_token", |b| token(b) || b == b'.', 66, 66),
    ("sq0atp-", "service_token", token, 22, 22),
    ("sq0csp-", "service_token", token, 43, 43),
    ("xkeysib-", "service_token", token, 64, 90),
    ("rubygems_", "service_token", hexdigit, 48, 48),
    ("figd_", "service_token", token, 40, 40),
    ("pscale_tkn_", "service_token", |b| token(b) || b == b'.', 32, 64),
    ("-----BEGIN", "private_key", |_| true, 0, 0),
    ("eyJ", "jwt", |_| true, 0, 0),
    ("Bearer ", "bearer_token", |_| true, 0, 0),
    ("bearer ", "bearer_token", |_| true, 0, 0),
    ("Basic ", "basic_auth", |_| true, 0, 0),
    ("://", "basic_auth", |_| true, 0, 0),
    ("Q~", "azure_key", |_| true, 0, 0),
];

impl Secrets {
    pub fn new() -> Self {
        let automaton = AhoCorasick::new(PREFIXES.iter().map(|p| p.0)).ok();
        Secrets { automaton }
    }
}

impl Default for Secrets {
    fn default() -> Self {
        Secrets::new()
    }
}

type Emit<'e> = dyn FnMut(&'static str, f32) + 'e;

/// Scans one value and calls `emit(class, confidence)` for each class found.
/// `hint` is `hint(site.key)`, computed once per key by the caller.
/// `opaque`: the value is a UUID or a timestamp (`shape::opaque`), which only its field name can
/// make sensitive.
pub fn scan(secrets: &Secrets, hint: Hint, value: &str, opaque: bool, emit: &mut Emit<'_>) {
    by_key(hint, value, emit);
    if !opaque {
        scan_value(secrets, hint, value, emit);
    }
}

/// The classes a value shows by itself, field-name hints aside.
pub(super) fn scan_value(secrets: &Secrets, hint: Hint, value: &str, emit: &mut Emit<'_>) {
    let bytes = value.as_bytes();
    // one pass tells which recognisers can match at all; most values (names, cities, plans,
    // timestamps) rule out all but one or two of them
    let summary = Summary::of(bytes);
    if summary.at {
        email(bytes, hint, emit);
    }
    // every number class needs 4+ digits in one span
    if summary.digits >= 4 {
        numbers(bytes, hint, emit);
    }
    // two letters, two check digits, 15+ characters in all (Norway's IBAN is the shortest)
    if summary.digits >= 2 && summary.letters >= 2 && summary.digits + summary.letters >= MIN_IBAN_LEN {
        iban(bytes, hint, emit);
    }
    if summary.longest_alphanumeric_run >= VIN_LEN && summary.digits > 0 {
        vin(bytes, hint, emit);
    }
    // two coordinates with 4+ decimals each
    if summary.comma && summary.digits >= 8 {
        coordinates(value, emit);
    }
    if summary.colons >= 2 {
        ipv6(bytes, emit);
    }
    // the shortest secret the prefixes find (`Basic ` and 8 characters) is 14 bytes
    if bytes.len() >= 14 && summary.may_hold_vendor_secret(bytes) {
        vendor_secrets(secrets, bytes, emit);
    }
}

const MIN_IBAN_LEN: usize = 15;
const VIN_LEN: usize = 17;

/// What one pass over a value counts, to skip the recognisers that cannot match.
#[derive(Debug, Default)]
struct Summary {
    digits: usize,
    letters: usize,
    longest_alphanumeric_run: usize,
    /// longest run of the characters secrets are written in (letters, digits, `SECRET_PUNCTUATION`)
    longest_token_run: usize,
    colons: usize,
    at: bool,
    comma: bool,
}

impl Summary {
    fn of(b: &[u8]) -> Summary {
        let mut summary = Summary::default();
        let mut run = 0;
        let mut token_run = 0;
        for &c in b {
            if c.is_ascii_alphanumeric() {
                run += 1;
                token_run += 1;
                if c.is_ascii_digit() {
                    summary.digits += 1;
                } else {
                    summary.letters += 1;
                }
                continue;
            }
            summary.longest_alphanumeric_run = summary.longest_alphanumeric_run.max(run);
            run = 0;
            if SECRET_PUNCTUATION.contains(&c) {
                token_run += 1;
                continue;
            }
            summary.longest_token_run = summary.longest_token_run.max(token_run);
            token_run = 0;
            match c {
                b':' => summary.colons += 1,
                b'@' => summary.at = true,
                b',' => summary.comma = true,
                _ => {}
            }
        }
        summary.longest_alphanumeric_run = summary.longest_alphanumeric_run.max(run);
        summary.longest_token_run = summary.longest_token_run.max(token_run);
        summary
    }

    /// Whether a vendor prefix can match at all: every prefix and the shortest body it accepts
    /// are one run of secret characters of at least `MIN_SECRET_RUN` (checked by a test), but
    /// for credentials in a URL (`user:pass@`), `Basic ` with a short credential and a PEM
    /// header. Most values (names, prose, dates, phone numbers) have no such run and skip the
    /// prefix automaton.
    fn may_hold_vendor_secret(&self, b: &[u8]) -> bool {
        self.longest_token_run >= MIN_SECRET_RUN
            || (self.at && self.colons > 0)
            || (self.longest_token_run >= 8 && bytes::find(b, b"Basic ").is_some())
            || (self.longest_token_run >= 10 && bytes::find(b, b"-----BEGIN").is_some())
    }
}

/// Punctuation inside the secrets the prefixes find (with letters and digits).
const SECRET_PUNCTUATION: &[u8] = b"_-.+/=~";

/// The shortest run a prefix with its shortest body makes (`AKIA` + 16, `Bearer` tokens of 16,
/// JWTs, Slack webhooks).
const MIN_SECRET_RUN: usize = 14;

/// Only the classes a field name decides (`password`, `api_key`, `passport`, ...).
pub fn scan_key_only(key: &str, value: &str, emit: &mut Emit<'_>) {
    let hint = hint(key);
    if hint != Hint::None {
        by_key(hint, value, emit);
    }
}

/// Classes that only the field name can reveal, and numbers that only count with a name.
fn by_key(hint: Hint, value: &str, emit: &mut Emit<'_>) {
    // most fields hint nothing, or a class the value itself shows: no placeholder test for them
    let key_only = matches!(
        hint,
        Hint::Password
            | Hint::Secret
            | Hint::Passport
            | Hint::DriversLicense
            | Hint::Birth
            | Hint::Latitude
            | Hint::Longitude
    );
    if !key_only {
        return;
    }
    let v = value.trim();
    let placeholder = v.is_empty()
        || v.len() > 256
        || v.bytes().all(|b| b == b'*' || b == b'x' || b == b'X' || b == b'.' || b == b'-')
        || matches!(v, "true" | "false" | "null" | "undefined" | "none" | "None" | "[REDACTED]" | "REDACTED");
    if placeholder {
        return;
    }
    match hint {
        Hint::Password => emit("password", 0.9),
        Hint::Secret => {
            let compact = !v.contains(char::is_whitespace);
            // a UUID is an identifier; `${VAR}` and `$(cmd)` are substituted later
            let uuid_like = v.len() == 36 && v.bytes().filter(|&c| c == b'-').count() == 4;
            let substituted = v.contains("${") || v.contains("$(");
            // the cheap tests first: most values under a secret's name are short or have blanks
            let candidate = compact && v.len() >= 16 && !uuid_like && !substituted;
            let looks_random = || {
                has_letter_and_digit(v.as_bytes()) && entropy(v.as_bytes()) >= 3.3 && !placeholder_secret(v.as_bytes())
            };
            if candidate && looks_random() {
                emit("api_key", 0.8);
            }
        }
        Hint::Passport
            if (5..=20).contains(&v.len())
                && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b' ' || b == b'-') =>
        {
            emit("passport", 0.85)
        }
        Hint::DriversLicense if (4..=20).contains(&v.len()) && v.bytes().any(|b| b.is_ascii_digit()) => {
            emit("drivers_license", 0.85)
        }
        Hint::Birth if looks_like_date(v) => emit("date_of_birth", 0.9),
        Hint::Latitude | Hint::Longitude => {
            let limit = if hint == Hint::Latitude { 90.0 } else { 180.0 };
            if let Ok(x) = v.parse::<f64>() {
                let decimals = v.split_once('.').map(|(_, d)| d.len()).unwrap_or(0);
                if x.abs() <= limit && decimals >= 3 {
                    emit("coordinates", 0.8);
                }
            }
        }
        _ => {}
    }
}

fn has_letter_and_digit(b: &[u8]) -> bool {
    b.iter().any(u8::is_ascii_alphabetic) && b.iter().any(u8::is_ascii_digit)
}

/// Shannon entropy in bits per byte.
fn entropy(b: &[u8]) -> f64 {
    let mut counts = [0u32; 256];
    for &c in b {
        counts[c as usize] += 1;
    }
    let n = b.len() as f64;
    counts.iter().filter(|&&c| c > 0).map(|&c| f64::from(c) / n).map(|p| -p * p.log2()).sum()
}

/// `1990-04-12`, `12/04/1990`, `04.12.1990`, `1990/04/12`: a plausible calendar date.
fn looks_like_date(v: &str) -> bool {
    let v = v.split(['T', ' ']).next().unwrap_or(v);
    let parts: Vec<&str> = v.split(['-', '/', '.']).collect();
    if parts.len() != 3 || !parts.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())) {
        return false;
    }
    let nums: Vec<u32> = parts.iter().filter_map(|p| p.parse().ok()).collect();
    if nums.len() != 3 {
        return false;
    }
    let (y, a, b) = if parts[0].len() == 4 { (nums[0], nums[1], nums[2]) } else { (nums[2], nums[0], nums[1]) };
    (1900..=2100).contains(&y) && (1..=31).contains(&a) && (1..=31).contains(&b) && (a <= 12 || b <= 12)
}

fn email(b: &[u8], hint: Hint, emit: &mut Emit<'_>) {
    let local_char = |c: u8| c.is_ascii_alphanumeric() || b"._%+-'".contains(&c);
    let domain_char = |c: u8| c.is_ascii_alphanumeric() || c == b'.' || c == b'-';
    // local parts are at most 64 bytes and domains 255: bounded, so `@@@@...` stays linear
    for at in memchr::memchr_iter(b'@', b) {
        let floor = at.saturating_sub(64);
        let start = b[floor..at].iter().rposition(|&c| !local_char(c)).map_or(floor, |p| floor + p + 1);
        let ceiling = b.len().min(at + 256);
        let end = b[at + 1..ceiling].iter().position(|&c| !domain_char(c)).map_or(ceiling, |p| at + 1 + p);
        if start == at || end <= at + 1 {
            continue;
        }
        // `scheme://user:password@host` is a URL with credentials, not an address
        let userinfo =
            start > 0 && b[start - 1] == b':' && bytes::find(&b[start.saturating_sub(64)..start], b"://").is_some();
        if userinfo {
            continue;
        }
        let domain = &b[at + 1..end];
        let domain = domain.strip_suffix(b".").unwrap_or(domain);
        let labels: Vec<&[u8]> = domain.split(|&c| c == b'.').collect();
        let tld_ok = labels.last().is_some_and(|t| {
            (t.len() >= 2 && t.iter().all(u8::is_ascii_alphabetic)) || (t.starts_with(b"xn--") && t.len() > 5)
        });
        let local = &b[start..at];
        if labels.len() >= 2 && tld_ok && labels.iter().all(|l| !l.is_empty()) && !local.starts_with(b".") {
            emit("email", if hint == Hint::Email { 0.99 } else { 0.95 });
            return;
        }
    }
}

/// A run of digits with single separators between groups: `4111 1111 1111 1111`,
/// `(555) 123-4567`, `+44 20 7946 0958`, `192.168.0.1`.
struct NumberSpan {
    digits: Small<24>,
    groups: Small<24>,
    separators: Small<24>,
    plus: bool,
}

/// A fixed-size list: number spans are short, and this runs for every value with a digit.
#[derive(Clone, Copy)]
struct Small<const N: usize> {
    items: [u8; N],
    len: usize,
}

impl<const N: usize> Small<N> {
    const fn new() -> Self {
        Small { items: [0; N], len: 0 }
    }
    fn push(&mut self, v: u8) {
        if self.len < N {
            self.items[self.len] = v;
            self.len += 1;
        }
    }
    fn as_slice(&self) -> &[u8] {
        &self.items[..self.len]
    }
    fn len(&self) -> usize {
        self.len
    }
    fn is_empty(&self) -> bool {
        self.len == 0
    }
    fn bump_last(&mut self) {
        if self.len > 0 {
            self.items[self.len - 1] = self.items[self.len - 1].saturating_add(1);
        }
    }
}

fn numbers(b: &[u8], hint: Hint, emit: &mut Emit<'_>) {
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let starts = c.is_ascii_digit() || ((c == b'+' || c == b'(') && b.get(i + 1).is_some_and(u8::is_ascii_digit));
        // most bytes start nothing: decide that before looking back
        if !starts || (i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_')) {
            i += 1;
            continue;
        }
        let start = i;
        let (span, end) = read_span(b, i);
        i = end.max(i + 1);
        let followed_by_word = b.get(end).is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_');
        // `01-23-45-67-89-AB`: the digits go on into a longer token
        let token_goes_on = matches!(b.get(end), Some(b'-' | b':' | b'.' | b'/'))
            && b.get(end + 1).is_some_and(|c| c.is_ascii_alphanumeric());
        if followed_by_word || span.digits.len() < 4 {
            continue;
        }
        if token_goes_on || after_code_group(&b[..start]) {
            // what validates (a card, an IBAN's digits elsewhere) still counts; a bare phone shape
            // inside a longer code does not, nor an Aadhaar, whose one check digit passes for one
            // group of digits in ten
            classify(&span, hint, &mut |class, confidence| {
                if class != "phone" && class != "aadhaar" {
                    emit(class, confidence)
                }
            });
            continue;
        }
        // `Phone: 5321234567`, `Tel. 555 1234`: prose names the number, as a field name would
        let hint = if hint == Hint::None && phone_word_before(&b[..start]) { Hint::Phone } else { hint };
        classify(&span, hint, emit);
    }
}

/// Whether the words just before a number call it a phone number (`Phone:`, `mobile no.`,
/// `Tel`, `telefon numaram`).
fn phone_word_before(before: &[u8]) -> bool {
    let tail = &before[before.len().saturating_sub(24)..];
    let Some(word_end) = tail.iter().rposition(u8::is_ascii_alphabetic) else { return false };
    // only punctuation and blanks between the word and the number: `phone: `, `tel. `, `cell - `
    if !tail[word_end + 1..].iter().all(|c| matches!(c, b' ' | b':' | b'.' | b'-' | b'#' | b'=' | b'(' | b')')) {
        return false;
    }
    let words = &tail[..=word_end];
    let lower: Vec<u8> = words.iter().map(u8::to_ascii_lowercase).collect();
    let last = lower.rsplit(|c| !c.is_ascii_alphabetic()).next().unwrap_or_default();
    matches!(last, b"phone" | b"mobile" | b"tel" | b"telephone" | b"telefon" | b"cell" | b"cellphone" | b"fax")
        || (matches!(last, b"no" | b"number" | b"numaram" | b"nr") && {
            let before_last = &lower[..lower.len() - last.len()];
            let prev = before_last.rsplit(|c| !c.is_ascii_alphabetic()).find(|w| !w.is_empty()).unwrap_or_default();
            matches!(prev, b"phone" | b"mobile" | b"tel" | b"telefon" | b"cell" | b"contact")
        })
}

/// `NL91 ABNA 0417 1643 00`: the digits continue a code written in groups (an IBAN, a
/// reference), as one of the short groups run up to them mixes letters and digits.
fn after_code_group(before: &[u8]) -> bool {
    let Some(before) = before.strip_suffix(b" ") else {
        return false;
    };
    before
        .rsplit(|c| *c == b' ')
        .take(12)
        .take_while(|t| !t.is_empty() && t.len() <= 6 && t.iter().all(u8::is_ascii_alphanumeric))
        .any(|t| t.iter().any(u8::is_ascii_alphabetic) && t.iter().any(u8::is_ascii_digit))
}

fn read_span(b: &[u8], start: usize) -> (NumberSpan, usize) {
    let mut span = NumberSpan { digits: Small::new(), groups: Small::new(), separators: Small::new(), plus: false };
    span.groups.push(0);
    let mut i = start;
    if b[i] == b'+' {
        span.plus = true;
        i += 1;
    }
    while i < b.len() && span.digits.len() < 24 {
        let c = b[i];
        if c.is_ascii_digit() {
            span.digits.push(c - b'0');
            span.groups.bump_last();
            i += 1;
            continue;
        }
        // one separator (or `) ` / ` (` pairs in phone numbers) between digit groups
        let sep_len = match (c, b.get(i + 1)) {
            (b')', Some(b' ' | b'-')) | (b' ', Some(b'(')) => 2,
            (b' ' | b'-' | b'.' | b'(' | b')' | b'/' | b':', _) => 1,
            _ => 0,
        };
        // colons only between groups of four (`3123:4567:8909`), so `10.0.0.1:8080` still
        // ends at its port
        let colon_ok =
            || span.groups.as_slice().last() == Some(&4) && span.separators.as_slice().iter().all(|&s| s == b':');
        if sep_len == 0 || !b.get(i + sep_len).is_some_and(u8::is_ascii_digit) || (c == b':' && !colon_ok()) {
            break;
        }
        if span.digits.is_empty() && c != b'(' {
            break;
        }
        // a long run changing its separator is two numbers side by side (`4111...1111 4111-...`);
        // so is a long group followed by a separator
        let last_separator = span.separators.as_slice().last().copied();
        let long_group = span.groups.as_slice().last().is_some_and(|&g| g > 8);
        if (span.digits.len() >= 12 && last_separator.is_some_and(|l| l != c)) || long_group {
            break;
        }
        span.separators.push(c);
        if !span.digits.is_empty() {
            span.groups.push(0);
        }
        i += sep_len;
    }
    if span.groups.as_slice().first() == Some(&0) {
        let mut rest = Small::new();
        for &g in &span.groups.as_slice()[1..] {
            rest.push(g);
        }
        span.groups = rest;
    }
    (span, i)
}

fn classify(span: &NumberSpan, hint: Hint, emit: &mut Emit<'_>) {
    let d = span.digits.as_slice();
    let n = d.len();
    let only = |allowed: &[u8]| span.separators.as_slice().iter().all(|s| allowed.contains(s));
    let all_groups = span.groups.as_slice();
    // Aadhaar: 12 digits, the first 2-9, a Verhoeff check, whole or grouped 4-4-4 by `separators`
    let mut aadhaar = |separators: &[u8]| {
        let found = !span.plus
            && n == 12
            && (all_groups == [12] || all_groups == [4, 4, 4])
            && only(separators)
            && d[0] >= 2
            && verhoeff(d);
        if found {
            emit("aadhaar", if hint == Hint::Aadhaar { 0.99 } else { 0.85 });
        }
        found
    };
    // colons group only Aadhaar numbers (`3123:4567:8909`); elsewhere they are times and ports
    if span.separators.as_slice().contains(&b':') {
        aadhaar(b":");
        return;
    }
    // `192.168.1.0/24`: an address with a prefix length
    let cidr = all_groups.len() == 5 && span.separators.as_slice().last() == Some(&b'/') && all_groups[4] <= 3;
    let groups = if cidr { &all_groups[..4] } else { all_groups };
    let ip_separators = span.separators.as_slice().iter().filter(|&&c| c != b'(').take(if cidr { 3 } else { 4 });
    if !span.plus
        && ip_separators.clone().all(|&c| c == b'.')
        && ip_separators.count() == 3
        && groups.len() == 4
        && groups.iter().all(|&g| (1..=3).contains(&g))
    {
        let mut idx = 0;
        let ok = groups.iter().all(|&g| {
            let g = usize::from(g);
            let v = d[idx..idx + g].iter().fold(0u32, |a, &x| a * 10 + u32::from(x));
            let leading_zero = g > 1 && d[idx] == 0;
            idx += g;
            v <= 255 && !leading_zero
        });
        if ok {
            emit("ip_address", 0.9);
            return;
        }
    }
    if !span.plus && (13..=19).contains(&n) && only(b" -") && luhn(d) && card_issuer(d) {
        emit("credit_card", if hint == Hint::Card { 0.99 } else { 0.95 });
        return;
    }
    if !span.plus && n == 9 {
        let formatted =
            groups == [3, 2, 4] && only(b"- .") && span.separators.as_slice().windows(2).all(|w| w[0] == w[1]);
        if (formatted || (groups == [9] && hint == Hint::Ssn)) && ssn_valid(d) {
            emit("us_ssn", if hint == Hint::Ssn { 0.99 } else { 0.85 });
            return;
        }
    }
    if aadhaar(b" -") {
        return;
    }
    if !span.plus && n == 11 {
        let formatted = groups == [3, 3, 3, 2] && span.separators.as_slice() == b"..-";
        if (formatted || (groups == [11] && hint == Hint::Cpf)) && cpf_valid(d) {
            emit("br_cpf", 0.9);
            return;
        }
    }
    let date_like = groups.len() == 3 && (groups == [4, 2, 2] || groups == [2, 2, 4]) && only(b"-/.");
    if date_like {
        return;
    }
    if span.plus && (8..=15).contains(&n) && d[0] != 0 && only(b" -.()") {
        emit("phone", if hint == Hint::Phone { 0.99 } else { 0.85 });
    } else if hint == Hint::Phone && (7..=15).contains(&n) {
        emit("phone", 0.9);
    } else if n == 10 && (groups == [3, 3, 4]) && only(b" -.()") && d[0] >= 2 && d[3] >= 2 {
        emit("phone", 0.75);
    } else if n == 10
        && groups == [3, 3, 2, 2]
        && d[0] != 0
        && span.separators.as_slice().windows(2).all(|w| w[0] == w[1])
    {
        // `532 123 45 67`, `532.123.45.67`: grouped as Turkish and some European numbers are
        emit("phone", 0.7);
    } else if (9..=11).contains(&n)
        && d[0] == 0
        && groups.len() >= 2
        && groups[0] <= 5
        && (n > 9 || groups == [2, 7])
        && only(b" -()")
    {
        // `020 7946 0958`, `0 (917) 123 4567`, `09-7625400` (Israel: 9 digits)
        emit("phone", 0.6);
    } else if n == 11 && groups.len() == 1 && ((d[0] == 0 && matches!(d[1], 5 | 7 | 8 | 9)) || (d[0] == 1 && d[1] >= 3))
    {
        // mobile numbers written without spaces: `09171234567` (PH), `07700900123` (UK),
        // `05321234567` (TR), `09012345678` (JP), `13812345678` (CN); other 11-digit runs
        // starting with 0 are as often tax and national IDs (PESEL, Partita IVA)
        emit("phone", 0.5);
    }
}

pub(crate) fn luhn(d: &[u8]) -> bool {
    let sum: u32 = d
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &x)| {
            let x = u32::from(x);
            if i % 2 == 1 {
                let y = x * 2;
                if y > 9 {
                    y - 9
                } else {
                    y
                }
            } else {
                x
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Issuer ranges of the card networks, with the lengths each issues.
fn card_issuer(d: &[u8]) -> bool {
    let prefix = |k: usize| d.iter().take(k).fold(0u32, |a, &x| a * 10 + u32::from(x));
    let n = d.len();
    let (p1, p2, p3, p4, p6) = (prefix(1), prefix(2), prefix(3), prefix(4), prefix(6));
    (p1 == 4 && matches!(n, 13 | 16 | 19))
        || ((51..=55).contains(&p2) || (2221..=2720).contains(&p4)) && n == 16
        || (p2 == 34 || p2 == 37) && n == 15
        || (p4 == 6011 || (644..=649).contains(&p3) || p2 == 65 || (622126..=622925).contains(&p6)) && n >= 16
        || (3528..=3589).contains(&p4) && n >= 16
        || ((300..=305).contains(&p3) || p2 == 36 || p2 == 38 || p2 == 39) && n >= 14
        || p2 == 62 && n >= 16
        || (2200..=2204).contains(&p4) && n >= 16
        || (p2 == 50 || (56..=69).contains(&p2)) && n >= 12
        || p1 == 1 && n == 15
}

/// SSA rules: no area 000, 666 or 900-999, no group 00, no serial 0000, and not the numbers
/// printed in advertisements and examples.
fn ssn_valid(d: &[u8]) -> bool {
    let num = |r: std::ops::Range<usize>| d[r].iter().fold(0u32, |a, &x| a * 10 + u32::from(x));
    let (area, group, serial) = (num(0..3), num(3..5), num(5..9));
    let all_same = d.iter().all(|&x| x == d[0]);
    let famous = matches!((area, group, serial), (78, 5, 1120) | (219, 9, 9999) | (123, 45, 6789) | (457, 55, 5462));
    area != 0 && area != 666 && area < 900 && group != 0 && serial != 0 && !all_same && !famous
}

fn verhoeff(d: &[u8]) -> bool {
    const D: [[u8; 10]; 10] = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
        [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
        [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
        [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
        [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
        [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
        [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
        [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
        [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
    ];
    const P: [[u8; 10]; 8] = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
        [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
        [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
        [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
        [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
        [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
        [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
    ];
    let mut c = 0u8;
    for (i, &x) in d.iter().rev().enumerate() {
        c = D[c as usize][P[i % 8][x as usize] as usize];
    }
    c == 0 && !d.iter().all(|&x| x == d[0])
}

fn cpf_valid(d: &[u8]) -> bool {
    if d.iter().all(|&x| x == d[0]) {
        return false;
    }
    let check = |len: usize| {
        let sum: u32 = d[..len].iter().enumerate().map(|(i, &x)| u32::from(x) * (len as u32 + 1 - i as u32)).sum();
        let r = (sum * 10) % 11;
        if r == 10 {
            0
        } else {
            r as u8
        }
    };
    check(9) == d[9] && check(10) == d[10]
}

/// IBAN length per country (ISO 13616 registry).
fn iban_length(country: &[u8]) -> Option<usize> {
    const LENGTHS: &[(&[u8; 2], usize)] = &[
        (b"AD", 24),
        (b"AE", 23),
        (b"AL", 28),
        (b"AT", 20),
        (b"AZ", 28),
        (b"BA", 20),
        (b"BE", 16),
        (b"BG", 22),
        (b"BH", 22),
        (b"BI", 27),
        (b"BR", 29),
        (b"BY", 28),
        (b"CH", 21),
        (b"CR", 22),
        (b"CY", 28),
        (b"CZ", 24),
        (b"DE", 22),
        (b"DJ", 27),
        (b"DK", 18),
        (b"DO", 28),
        (b"EE", 20),
        (b"EG", 29),
        (b"ES", 24),
        (b"FI", 18),
        (b"FK", 18),
        (b"FO", 18),
        (b"FR", 27),
        (b"GB", 22),
        (b"GE", 22),
        (b"GI", 23),
        (b"GL", 18),
        (b"GR", 27),
        (b"GT", 28),
        (b"HN", 28),
        (b"HR", 21),
        (b"HU", 28),
        (b"IE", 22),
        (b"IL", 23),
        (b"IQ", 23),
        (b"IS", 26),
        (b"IT", 27),
        (b"JO", 30),
        (b"KW", 30),
        (b"KZ", 20),
        (b"LB", 28),
        (b"LC", 32),
        (b"LI", 21),
        (b"LT", 20),
        (b"LU", 20),
        (b"LV", 21),
        (b"LY", 25),
        (b"MC", 27),
        (b"MD", 24),
        (b"ME", 22),
        (b"MK", 19),
        (b"MN", 20),
        (b"MR", 27),
        (b"MT", 31),
        (b"MU", 30),
        (b"NI", 28),
        (b"NL", 18),
        (b"NO", 15),
        (b"OM", 23),
        (b"PK", 24),
        (b"PL", 28),
        (b"PS", 29),
        (b"PT", 25),
        (b"QA", 29),
        (b"RO", 24),
        (b"RS", 22),
        (b"RU", 33),
        (b"SA", 24),
        (b"SC", 31),
        (b"SD", 18),
        (b"SE", 24),
        (b"SI", 19),
        (b"SK", 24),
        (b"SM", 27),
        (b"SO", 23),
        (b"ST", 25),
        (b"SV", 28),
        (b"TL", 23),
        (b"TN", 24),
        (b"TR", 26),
        (b"UA", 29),
        (b"VA", 22),
        (b"VG", 24),
        (b"XK", 20),
        (b"YE", 30),
    ];
    LENGTHS.iter().find(|(c, _)| c.as_slice() == country).map(|(_, n)| *n)
}

fn iban(b: &[u8], hint: Hint, emit: &mut Emit<'_>) {
    let mut i = 0;
    while i + 4 <= b.len() {
        let starts = b[i].is_ascii_alphabetic()
            && b[i + 1].is_ascii_alphabetic()
            && b[i + 2].is_ascii_digit()
            && b[i + 3].is_ascii_digit()
            && (i == 0 || !b[i - 1].is_ascii_alphanumeric());
        if !starts {
            i += 1;
            continue;
        }
        let country = [b[i].to_ascii_uppercase(), b[i + 1].to_ascii_uppercase()];
        let Some(len) = iban_length(&country) else {
            i += 1;
            continue;
        };
        // collect up to `len` alphanumerics, allowing single spaces or dashes between groups
        let mut chars = Vec::with_capacity(len);
        let mut j = i;
        while j < b.len() && chars.len() < len {
            let c = b[j];
            if c.is_ascii_alphanumeric() {
                chars.push(c.to_ascii_uppercase());
            } else if !((c == b' ' || c == b'-') && b.get(j + 1).is_some_and(u8::is_ascii_alphanumeric)) {
                break;
            }
            j += 1;
        }
        let ends_cleanly = !b.get(j).is_some_and(u8::is_ascii_alphanumeric);
        // an IBAN is written in capitals, or all in lower case by someone typing it;
        // `LV80 bANK ...` is neither
        let letters = || b[i..j].iter().filter(|c| c.is_ascii_alphabetic());
        let one_case = letters().all(u8::is_ascii_uppercase) || letters().all(u8::is_ascii_lowercase);
        if chars.len() == len && ends_cleanly && one_case && mod97(&chars) {
            emit("iban", if hint == Hint::Iban { 0.99 } else { 0.95 });
            return;
        }
        i += 1;
    }
}

fn mod97(chars: &[u8]) -> bool {
    let mut rem: u32 = 0;
    for &c in chars[4..].iter().chain(&chars[..4]) {
        let v = if c.is_ascii_digit() { u32::from(c - b'0') } else { u32::from(c - b'A') + 10 };
        rem = if v >= 10 { (rem * 100 + v) % 97 } else { (rem * 10 + v) % 97 };
    }
    rem == 1
}

fn vin(b: &[u8], hint: Hint, emit: &mut Emit<'_>) {
    if b.len() < 17 {
        return;
    }
    let vin_char = |c: u8| (c.is_ascii_uppercase() || c.is_ascii_digit()) && !matches!(c, b'I' | b'O' | b'Q');
    let mut i = 0;
    while i + 17 <= b.len() {
        let run = b[i..].iter().take_while(|c| c.is_ascii_alphanumeric()).count();
        let candidate = run == 17 && b[i..i + 17].iter().all(|&c| vin_char(c)) && has_letter_and_digit(&b[i..i + 17]);
        if candidate && (vin_check_digit(&b[i..i + 17]) || hint == Hint::Vin) {
            emit("vin", 0.9);
            return;
        }
        i += run.max(1);
    }
}

fn vin_check_digit(v: &[u8]) -> bool {
    const WEIGHTS: [u32; 17] = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2];
    let value = |c: u8| -> u32 {
        match c {
            b'0'..=b'9' => u32::from(c - b'0'),
            b'A'..=b'H' => u32::from(c - b'A') + 1,
            b'J'..=b'N' => u32::from(c - b'J') + 1,
            b'P' => 7,
            b'R' => 9,
            b'S'..=b'Z' => u32::from(c - b'S') + 2,
            _ => 0,
        }
    };
    let sum: u32 = v.iter().zip(WEIGHTS).map(|(&c, w)| value(c) * w).sum();
    let check = sum % 11;
    let expected = if check == 10 { b'X' } else { b'0' + check as u8 };
    v[8] == expected
}

/// `37.7749, -122.4194`: a latitude and longitude pair with the precision GPS gives.
fn coordinates(value: &str, emit: &mut Emit<'_>) {
    if !value.contains(',') || value.len() > 64 {
        return;
    }
    let mut parts = value.trim().trim_matches(['(', ')', '[', ']']).split(',');
    let (Some(a), Some(b), None) = (parts.next(), parts.next(), parts.next()) else { return };
    let precise = |s: &str| {
        let s = s.trim();
        let decimals = s.split_once('.').map(|(_, d)| d.len()).unwrap_or(0);
        (decimals >= 4 && s.bytes().all(|c| c.is_ascii_digit() || c == b'.' || c == b'-'))
            .then(|| s.parse::<f64>().ok())
    };
    if let (Some(Some(lat)), Some(Some(lng))) = (precise(a), precise(b)) {
        if lat.abs() <= 90.0 && lng.abs() <= 180.0 {
            emit("coordinates", 0.85);
        }
    }
}

fn ipv6(b: &[u8], emit: &mut Emit<'_>) {
    let v6_char = |c: u8| c.is_ascii_hexdigit() || c == b':' || c == b'.';
    let mut i = 0;
    while i < b.len() {
        let run = b[i..].iter().take_while(|&&c| v6_char(c)).count();
        if (2..=45).contains(&run) {
            let mut token = &b[i..i + run];
            // a sentence's full stop, or a prefix length (`::/0`, `2001:db8::/32`)
            while let Some(stripped) = token.strip_suffix(b".") {
                token = stripped;
            }
            let run = if b.get(i + run) == Some(&b'/') { run } else { token.len() };
            let colons = token.iter().filter(|&&c| c == b':').count();
            // `fe80::1text`: the run goes on into a word, no address ends there
            let glued = (i > 0 && b[i - 1].is_ascii_alphanumeric())
                || b.get(i + run).is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_');
            if colons >= 2 && !glued {
                if let Ok(addr) = std::str::from_utf8(token).unwrap_or_default().parse::<std::net::Ipv6Addr>() {
                    let bare_unspecified = token == b"::"
                        && (i == 0 || b[i - 1] == b' ')
                        && b.get(i + run).is_none_or(|c| matches!(c, b' ' | b'/'));
                    if !addr.is_unspecified() || bare_unspecified {
                        emit("ip_address", 0.85);
                        return;
                    }
                }
            }
        }
        i += run.max(1);
    }
}

fn vendor_secrets(secrets: &Secrets, b: &[u8], emit: &mut Emit<'_>) {
    let Some(automaton) = secrets.automaton.as_ref() else { return };
    for m in automaton.find_iter(b) {
        let Some(&(prefix, class, charset, min, max)) = PREFIXES.get(m.pattern().as_usize()) else { continue };
        let (start, end) = (m.start(), m.end());
        let ok = match class {
            "private_key" => private_key(&b[end..]),
            "jwt" => jwt(&b[start..]),
            "bearer_token" => bearer(&b[end..]),
            "basic_auth" if prefix == "://" => url_credentials(b, end),
            "basic_auth" => basic(&b[end..]),
            "azure_key" if prefix == "Q~" => azure_client_secret(b, start),
            _ => {
                let glued = start > 0 && (b[start - 1].is_ascii_alphanumeric()) && !prefix.starts_with("hooks.");
                let body = b[end..].iter().take_while(|&&c| charset(c)).count();
                // `xoxp-5723...-####`: the rest masked out, a redacted sample and no secret
                let redacted = matches!(b.get(end + body), Some(b'#' | b'*'));
                !glued && !redacted && body >= min && body <= max && !placeholder_secret(&b[end..end + body])
            }
        };
        if ok {
            emit(class, 0.95);
        }
    }
}

/// Documentation placeholders: `AKIAZ3MHQ5TQ2VX7RD4K`, `ghp_xxxxxxxx...`, `abcdefgh...`.
fn placeholder_secret(body: &[u8]) -> bool {
    let lower: Vec<u8> = body.iter().map(u8::to_ascii_lowercase).collect();
    let has = |n: &[u8]| bytes::find(&lower, n).is_some();
    let repeated = lower.windows(6).any(|w| w.iter().all(|&c| c == w[0]))
        // `123123123123`, `1234-1234-1234`: a unit of up to five characters over and over
        || lower.windows(12).any(|w| (2..=5).any(|p| w.iter().zip(&w[p..]).all(|(a, b)| a == b)));
    let sequential = lower.windows(8).any(|w| w.windows(2).all(|p| p[1] == p[0] + 1));
    has(b"example") || has(b"xxxxxx") || has(b"placeholder") || has(b"your_") || has(b"dummy") || repeated || sequential
}

/// Base64 characters a PEM body needs before it counts as a key: the smallest real private key
/// (an Ed25519 one) has about 120; `anything` or nothing between the armour lines is an example.
const MIN_PEM_BODY: usize = 64;

fn private_key(rest: &[u8]) -> bool {
    let head = &rest[..rest.len().min(64)];
    let line_end = head.iter().position(|&c| c == b'-').unwrap_or(head.len());
    let label = &head[..line_end];
    let labelled =
        label.windows(11).any(|w| w == b"PRIVATE KEY") || label.windows(17).any(|w| w == b"PRIVATE KEY BLOCK");
    if !labelled {
        return false;
    }
    // the body: base64 lines (and `Proc-Type:` style headers) up to the END armour; without
    // one the text was cut (a body capped mid-key) and what there is counts
    let after_label = &rest[line_end..];
    let body_start = after_label.iter().position(|&c| c != b'-').unwrap_or(after_label.len());
    let body = &after_label[body_start..];
    let Some(end) = body.iter().position(|&c| c == b'-') else { return true };
    let body = &body[..end];
    let base64 = body.iter().filter(|&&c| c.is_ascii_alphanumeric() || c == b'+' || c == b'/' || c == b'=').count();
    base64 >= MIN_PEM_BODY && !placeholder_secret(body)
}

fn b64url_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'-' || c == b'_' || c == b'='
}

/// `eyJ<header>.<payload>.<signature>` whose header decodes to JSON naming an `alg`.
fn jwt(b: &[u8]) -> bool {
    let header_len = b.iter().take_while(|&&c| b64url_char(c)).count();
    if b.get(header_len) != Some(&b'.') {
        return false;
    }
    let payload = &b[header_len + 1..];
    let payload_len = payload.iter().take_while(|&&c| b64url_char(c)).count();
    if payload_len < 4 || payload.get(payload_len) != Some(&b'.') {
        return false;
    }
    let header = &b[..header_len];
    let trimmed: Vec<u8> = header.iter().copied().filter(|&c| c != b'=').collect();
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(&trimmed)
        .ok()
        .is_some_and(|json| json.windows(5).any(|w| w == b"\"alg\"") || json.windows(5).any(|w| w == b"\"typ\""))
}

fn bearer(rest: &[u8]) -> bool {
    let token = rest.iter().take_while(|&&c| c.is_ascii_alphanumeric() || b"-._~+/=".contains(&c)).count();
    token >= 16 && has_letter_and_digit(&rest[..token])
}

fn basic(rest: &[u8]) -> bool {
    let len = rest.iter().take_while(|&&c| c.is_ascii_alphanumeric() || c == b'+' || c == b'/' || c == b'=').count();
    if len < 8 {
        return false;
    }
    base64::engine::general_purpose::STANDARD.decode(&rest[..len]).ok().is_some_and(|d| {
        let colon = d.iter().position(|&c| c == b':');
        colon.is_some_and(|p| p > 0 && p + 1 < d.len()) && d.iter().all(|c| c.is_ascii_graphic() || *c == b' ')
    })
}

/// `scheme://user:password@host`: credentials inside a URL.
fn url_credentials(b: &[u8], after: usize) -> bool {
    let scheme_ok = after >= 4 && b[..after - 3].iter().rev().take_while(|c| c.is_ascii_alphanumeric()).count() >= 2;
    let rest = &b[after..];
    let authority_len = rest.iter().take_while(|&&c| !matches!(c, b'/' | b'?' | b'#' | b' ' | b'"' | b'\'')).count();
    let authority = &rest[..authority_len];
    let Some(at) = authority.iter().rposition(|&c| c == b'@') else { return false };
    let userinfo = &authority[..at];
    let Some(colon) = userinfo.iter().position(|&c| c == b':') else { return false };
    let password = &userinfo[colon + 1..];
    scheme_ok && colon > 0 && password.len() >= 3 && at + 1 < authority.len() && !password.starts_with(b"$")
}

/// Azure AD client secrets: `abc8Q~` followed by 31 to 34 characters.
fn azure_client_secret(b: &[u8], q: usize) -> bool {
    let charset = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'~' || c == b'.' || c == b'-';
    if q < 4 || !b[q - 1].is_ascii_digit() || !b[q - 4..q - 1].iter().all(|&c| charset(c)) {
        return false;
    }
    let body = b[q + 2..].iter().take_while(|&&c| charset(c)).count();
    (31..=34).contains(&body) && !placeholder_secret(&b[q + 2..q + 2 + body])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classes(key: &str, value: &str) -> Vec<&'static str> {
        let secrets = Secrets::new();
        let mut out = Vec::new();
        scan(&secrets, hint(key), value, crate::detect::shape::opaque(value.as_bytes()), &mut |c, _| out.push(c));
        out.sort_unstable();
        out.dedup();
        out
    }

    #[test]
    fn validated_pii() {
        assert_eq!(classes("note", "card 4111 1111 1111 1111 exp"), vec!["credit_card"]);
        assert!(classes("note", "4111 1111 1111 1112").is_empty(), "Luhn fails");
        assert_eq!(classes("", "ssn 536-90-4399"), vec!["us_ssn"]);
        assert!(classes("", "000-12-3456").is_empty());
        assert_eq!(classes("", "GB82 WEST 1234 5698 7654 32"), vec!["iban"]);
        assert!(classes("", "GB82 WEST 1234 5698 7654 33").is_empty());
        assert_eq!(classes("", "mail me: jane.doe+x@example.co.uk."), vec!["email"]);
        assert!(classes("", "user@localhost").is_empty());
        assert_eq!(classes("", "from 10.0.0.12 and"), vec!["ip_address"]);
        assert!(classes("", "version 1.2.3.456").is_empty());
        assert_eq!(classes("", "2001:db8::8a2e:370:7334"), vec!["ip_address"]);
        assert!(classes("", "12:30:45").is_empty());
        assert_eq!(classes("", "+1 (415) 555-2671"), vec!["phone"]);
        assert_eq!(classes("", "415-555-2671"), vec!["phone"]);
        assert_eq!(classes("", "call 020 7946 0958 today"), vec!["phone"]);
        assert_eq!(classes("", "078.05.1123"), vec!["us_ssn"]);
        assert!(classes("", "fe80::1text").is_empty());
        assert_eq!(classes("", "fe80::1 text"), vec!["ip_address"]);
        assert!(classes("", "LV80 bANK 0000 4351 9500 1").is_empty());
        assert!(classes("", "EE38 A200 2210 2014 5685").is_empty());
        assert_eq!(classes("", "532.123.45.67"), vec!["phone"]);
        assert_eq!(classes("", "532 123 45 67"), vec!["phone"]);
        assert_eq!(classes("", "My Israeli number is 09-7625400"), vec!["phone"]);
        assert_eq!(classes("", "My CN number is 13812345678"), vec!["phone"]);
        assert_eq!(classes("", "09171234567"), vec!["phone"]);
        // named by the words before it, not by its shape
        assert_eq!(classes("", "Phone: 5321234567"), vec!["phone"]);
        assert_eq!(classes("", "mobile no. 5321234567"), vec!["phone"]);
        assert!(classes("", "order 5321234567").is_empty());
        assert!(classes("", "hotel 5321234567").is_empty());
        // 11 digits after a 0 that no mobile range starts with: tax and national IDs
        assert!(classes("", "02070803628").is_empty());
        assert!(classes("", "12345678901").is_empty());
        // digit groups inside a longer code are no phone number
        assert_eq!(classes("", "NL91 ABNA 0417 1643 00"), vec!["iban"]);
        assert!(classes("", "ref FO62 A460 0001 6316 35").is_empty());
        assert!(classes("", "MAC: 01-23-45-67-89-AB").is_empty());
        assert!(classes("", "2024-01-15").is_empty());
        assert_eq!(classes("", "2345 6789 0124"), vec!["aadhaar"]);
        assert_eq!(classes("", "3123:4567:8909"), vec!["aadhaar"]);
        assert!(classes("", "at 12:30:45 on port 8080:443").is_empty());
        assert_eq!(classes("", "10.0.0.1:8080"), vec!["ip_address"]);
        assert_eq!(classes("", "123.456.789-09"), vec!["br_cpf"]);
        assert_eq!(classes("", "1M8GDM9AXKP042788"), vec!["vin"]);
        assert_eq!(classes("", "37.774929, -122.419416"), vec!["coordinates"]);
    }

    #[test]
    fn vendor_prefix_gate_lets_every_prefix_through() {
        let secret_char = |c: u8| c.is_ascii_alphanumeric() || SECRET_PUNCTUATION.contains(&c);
        for &(prefix, class, charset, min, _) in PREFIXES {
            if min == 0 {
                // checked by their own functions; the gate's special cases cover them
                continue;
            }
            assert!(prefix.bytes().all(secret_char), "{prefix} ({class}) has a character the gate splits runs at");
            let body_in_run = (0..=255u8).filter(|&c| charset(c)).all(secret_char);
            let run = if body_in_run { prefix.len() + min } else { prefix.len() };
            assert!(run >= MIN_SECRET_RUN, "{prefix} ({class}) can match in a run of {run} < {MIN_SECRET_RUN}");
        }
        // the special cases
        assert_eq!(classes("", "Authorization: Basic dTpwYXNz"), vec!["basic_auth"]);
        assert_eq!(classes("", "see https://ann:s3cret@example.com/x"), vec!["basic_auth"]);
    }

    #[test]
    fn keys_decide_and_raise() {
        assert_eq!(classes("password", "hunter2"), vec!["password"]);
        assert!(classes("password_policy", "min 8").is_empty());
        assert!(classes("password", "********").is_empty());
        assert_eq!(classes("dateOfBirth", "1990-04-12"), vec!["date_of_birth"]);
        assert_eq!(classes("passport_no", "X1234567"), vec!["passport"]);
        assert_eq!(classes("client_secret", "q8ZtR2vN5mXkL9pW3sYh"), vec!["api_key"]);
        assert!(classes("client_secret", "aaaaaaaaaaaaaaaaaaaa").is_empty());
        assert_eq!(classes("ssn", "536904399"), vec!["us_ssn"]);
        assert_eq!(classes("phone", "5551234"), vec!["phone"]);
        assert_eq!(classes("lat", "48.8584"), vec!["coordinates"]);
    }

    #[test]
    fn secrets_by_prefix_and_structure() {
        assert_eq!(classes("", "key AKIAZ3MHQ5TQ2VX7RD4K here"), vec!["aws_access_key"]);
        assert!(classes("", "AKIAZ3MHQ5TQ2VX7RD4").is_empty());
        assert!(classes("", "AKIAIOSFODNN7EXAMPLE").is_empty(), "documentation placeholder");
        assert_eq!(classes("", "ghp_R8vKq2LmZx9TnW4bYc7HfJ3sPd6GaE1uVo5N"), vec!["github_token"]);
        assert_eq!(classes("", "xoxb-483920175623-9182736450192-Zq8Rt3Lm5Vx2Nc7Kp1Wd4Hs6"), vec!["slack_token"]);
        assert_eq!(classes("", "xoxo-523423-234243-234233-e039d02840a0b9379c"), vec!["slack_token"], "legacy token");
        assert!(classes("", "xoxp-572370529330-573807301142-572331691188-####").is_empty(), "redacted");
        assert!(classes("", "xoxe.xoxp-1-SlackAppConfigurationAccessTokenHere").is_empty(), "too short");
        assert_eq!(classes("", "sk_live_4eC39HqLyjWDarjtT1zdp7dc"), vec!["stripe_key"]);
        assert_eq!(classes("", "-----BEGIN RSA PRIVATE KEY-----\nMIIE"), vec!["private_key"]);
        assert!(classes("", "-----BEGIN CERTIFICATE-----").is_empty());
        // gitleaks' false positives: armour around an example, or around nothing
        assert!(classes("", "-----BEGIN PRIVATE KEY-----\nanything\n-----END PRIVATE KEY-----").is_empty());
        assert!(classes("", "-----BEGIN OPENSSH PRIVATE KEY----------END OPENSSH PRIVATE KEY-----").is_empty());
        let body = "MC4CAQAwBQYDK2VwBCIEIGu8Rk2pQ7vX3nJmT9sLwYcA5hD1eF6gZ0bN4oP8qU2r\nMC4CAQAwBQYDK2Vw";
        let key = format!("-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----");
        assert_eq!(classes("", &key), vec!["private_key"]);
        assert!(classes("", "GR134894112312312312312312312").is_empty(), "a repeated unit is a placeholder");
        assert!(classes("", "client_secret=bP88Q~xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx").is_empty());
        let jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
        assert_eq!(classes("", jwt), vec!["jwt"]);
        assert_eq!(classes("", "Authorization: Basic dXNlcjpwYXNzd29yZA=="), vec!["basic_auth"]);
        assert_eq!(classes("", "postgres://app:s3cret@db.internal:5432/x"), vec!["basic_auth"]);
        assert!(classes("", "https://example.com/a@b").is_empty());
    }

    #[test]
    fn checksums() {
        assert!(luhn(&[4, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]));
        assert!(cpf_valid(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 9]));
        assert!(!cpf_valid(&[1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]));
        assert!(mod97(b"DE89370400440532013000"));
    }
}
