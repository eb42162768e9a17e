//! Secrets by their vendor prefixes and shapes, in one Aho-Corasick pass, and the structures
//! checked after a prefix matched (JWT headers, PEM bodies, credentials in URLs).

use super::keys::has_letter_and_digit;
use super::{bytes, Emit};
use aho_corasick::AhoCorasick;
use base64::Engine;

/// Prefix automaton for vendor secrets, built once per detector.
pub struct Secrets {
    automaton: Option<AhoCorasick>,
}

/// (prefix, class, body charset, minimum body length, maximum body length)
pub(super) type Prefix = (&'static str, &'static str, fn(u8) -> bool, usize, usize);

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

pub(super) const PREFIXES: &[Prefix] = &[
    ("AKIA", "aws_access_key", upper_alnum, 16, 16),
    ("ASIA", "aws_access_key", upper_alnum, 16, 16),
    ("ABIA", "aws_access_key", upper_alnum, 16, 16),
    ("ACCA", "aws_access_key", upper_alnum, 16, 16),
    ("A3T", "aws_access_key", upper_alnum, 17, 17),
    // Google's keys all begin `AIzaSy`: `AIza` and another pair is a doc's or a test's stand-in
    ("AIzaSy", "gcp_api_key", token, 33, 33),
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
    // Square's production access tokens (Facebook's begin `EAA` too, and are longer)
    ("EAAA", "service_token", token, 60, 60),
    ("xkeysib-", "service_token", token, 64, 90),
    ("rubygems_", "service_token", hexdigit, 48, 48),
    ("figd_", "service_token", token, 40, 40),
    ("pscale_tkn_", "service_token", |b| token(b) || b == b'.', 32, 64),
    // Artifactory API keys, and reference tokens: base64 of `reftkn:01:<expiry>:<random>`
    ("AKCp", "service_token", alnum, 69, 69),
    ("cmVmdGtuOj", "service_token", alnum, 54, 54),
    ("-----BEGIN", "private_key", |_| true, 0, 0),
    ("eyJ", "jwt", |_| true, 0, 0),
    ("Bearer ", "bearer_token", |_| true, 0, 0),
    ("bearer ", "bearer_token", |_| true, 0, 0),
    ("Basic ", "basic_auth", |_| true, 0, 0),
    ("://", "basic_auth", |_| true, 0, 0),
    ("Q~", "azure_key", |_| true, 0, 0),
    // `.npmrc`: `//registry.npmjs.org/:_authToken=<token>`, a UUID for tokens made before 2021
    ("_authToken=", "service_token", |_| true, 0, 0),
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

pub(super) fn vendor_secrets(secrets: &Secrets, b: &[u8], emit: &mut Emit<'_>) {
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
            "service_token" if prefix == "_authToken=" => npm_auth_token(&b[end..]),
            _ => {
                let glued = start > 0 && (b[start - 1].is_ascii_alphanumeric()) && !prefix.starts_with("hooks.");
                let body = b[end..].iter().take_while(|&&c| charset(c)).count();
                // `xoxp-5723...-####`: the rest masked out, a redacted sample and no secret
                let redacted = matches!(b.get(end + body), Some(b'#' | b'*'));
                !glued
                    && !redacted
                    && body >= min
                    && body <= max
                    && !placeholder_secret(&b[end..end + body])
                    && shaped(prefix, &b[end..end + body])
            }
        };
        if ok {
            emit(class, 0.95);
        }
    }
    // the tokens no fixed prefix starts, found by their separators in one pass
    let separated = memchr::memchr3_iter(b'.', b':', b'-', b).any(|at| match b[at] {
        b'.' => discord_bot_token(b, at) || vault_legacy_token(b, at),
        b':' => telegram_bot_token(b, at),
        _ => mailchimp_key(b, at),
    });
    if separated {
        emit("service_token", 0.9);
    }
}

/// What a prefix's body must show besides its charset and length.
fn shaped(prefix: &str, body: &[u8]) -> bool {
    match prefix {
        // `SG.` + 22 (the key's id) + `.` + 43 (the secret)
        "SG." => body.get(22) == Some(&b'.') && body.iter().filter(|&&c| c == b'.').count() == 1,
        // `reftkn:` (the prefix says it), a two-digit version and `:`, all printable
        "cmVmdGtuOj" => {
            let mut encoded = b"cmVmdGtuOj".to_vec();
            encoded.extend_from_slice(body);
            base64::engine::general_purpose::STANDARD.decode(&encoded).ok().is_some_and(|d| {
                d.get(7..10).is_some_and(|v| v[0].is_ascii_digit() && v[1].is_ascii_digit() && v[2] == b':')
                    && d.iter().all(u8::is_ascii_graphic)
            })
        }
        _ => true,
    }
}

fn b64url(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'-' || c == b'_'
}

/// `_authToken=` in an `.npmrc`: an `npm_` token (its own prefix reports it) or, from before
/// 2021, a UUID; `${NPM_TOKEN}` is filled in at install time.
fn npm_auth_token(rest: &[u8]) -> bool {
    let len = rest.iter().take_while(|&&c| c.is_ascii_hexdigit() || c == b'-').count();
    let uuid = len == 36
        && rest[..36].iter().enumerate().all(|(i, &c)| (c == b'-') == matches!(i, 8 | 13 | 18 | 23))
        && !rest.get(36).copied().is_some_and(b64url);
    uuid && !placeholder_secret(&rest[..36])
}

/// Discord bot tokens: `<user id in base64>.<timestamp, 6>.<HMAC, 27 to 38>`, in base64url,
/// read at their first dot. The first part decodes to the bot's user id, a 17 to 20 digit
/// snowflake: other dotted text does not.
fn discord_bot_token(b: &[u8], dot: usize) -> bool {
    let id_len = b[..dot].iter().rev().take_while(|&&c| b64url(c)).count();
    let id_start = dot - id_len;
    if !(23..=27).contains(&id_len) || !matches!(b[id_start], b'M' | b'N' | b'O') {
        return false;
    }
    if id_start > 0 && b[id_start - 1] == b'.' {
        return false;
    }
    let stamp = &b[dot + 1..];
    if stamp.len() < 8 || !stamp[..6].iter().all(|&c| b64url(c)) || stamp[6] != b'.' {
        return false;
    }
    let hmac = &stamp[7..];
    let hmac_len = hmac.iter().take_while(|&&c| b64url(c)).count();
    let id = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(&b[id_start..dot]).ok();
    (27..=38).contains(&hmac_len)
        && hmac.get(hmac_len) != Some(&b'.')
        && id.is_some_and(|id| (17..=20).contains(&id.len()) && id[0] != b'0' && id.iter().all(u8::is_ascii_digit))
        && !placeholder_secret(&hmac[..hmac_len])
}

/// Telegram bot tokens: `<bot id, digits>:<35 characters starting with A>` (the Bot API's own
/// examples have 34), read at the colon.
fn telegram_bot_token(b: &[u8], colon: usize) -> bool {
    let digits = b[..colon].iter().rev().take_while(|c| c.is_ascii_digit()).count();
    let before = colon - digits;
    // glued to other text, but for the Bot API's URLs: `api.telegram.org/bot<token>/getMe`
    let glued = before > 0 && (b64url(b[before - 1]) || b[before - 1] == b':') && !b[..before].ends_with(b"/bot");
    if !(5..=16).contains(&digits) || glued {
        return false;
    }
    let secret = &b[colon + 1..];
    let len = secret.iter().take_while(|&&c| b64url(c)).count();
    secret.first() == Some(&b'A')
        && (34..=35).contains(&len)
        && has_letter_and_digit(&secret[..len])
        && !placeholder_secret(&secret[..len])
}

/// Vault service tokens before 1.10 (`hvs.` since): `s.` and 24 base62 characters, read at the
/// dot. Short enough to be a word after a dot (`s.AcceptanceTimeoutSeconds`), so all three
/// kinds of character.
fn vault_legacy_token(b: &[u8], dot: usize) -> bool {
    let Some(s) = dot.checked_sub(1).filter(|&s| b[s] == b's') else { return false };
    let glued = s > 0 && (b64url(b[s - 1]) || b[s - 1] == b'.');
    let body = &b[dot + 1..];
    let len = body.iter().take_while(|c| c.is_ascii_alphanumeric()).count();
    let token = &body[..len];
    !glued
        && len == 24
        && !body.get(len).copied().is_some_and(|c| b64url(c) || c == b'.')
        && token.iter().any(u8::is_ascii_uppercase)
        && token.iter().any(u8::is_ascii_lowercase)
        && token.iter().any(u8::is_ascii_digit)
        && !placeholder_secret(token)
}

/// Mailchimp API keys: 32 lower-case hex digits, `-us` and the data centre's number (`-us21`),
/// read at the dash.
fn mailchimp_key(b: &[u8], dash: usize) -> bool {
    if !b[dash + 1..].starts_with(b"us") || dash < 32 {
        return false;
    }
    let hex = b[..dash].iter().rev().take_while(|c| c.is_ascii_hexdigit()).count();
    let dc = b[dash + 3..].iter().take_while(|c| c.is_ascii_digit()).count();
    let key = &b[dash - 32..dash];
    let glued = dash > 32 && b64url(b[dash - 33]);
    hex == 32
        && !glued
        && (1..=2).contains(&dc)
        && !b.get(dash + 3 + dc).copied().is_some_and(b64url)
        && !key.iter().any(u8::is_ascii_uppercase)
        && has_letter_and_digit(key)
        && !placeholder_secret(key)
}

/// Documentation placeholders: `AKIAZ3MHQ5TQ2VX7RD4K`, `ghp_xxxxxxxx...`, `abcdefgh...`.
pub(super) fn placeholder_secret(body: &[u8]) -> bool {
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
