//! Secrets assigned inside free text: `password = "..."`, `api_key: ...`, `"client_secret":
//! "..."`, `token := "..."`, `'secret' => '...'`, `--password=...` in the configuration files,
//! code, shell lines and logs a value carries. The name decides the class as a field's name
//! does (`hint`); the value must be a literal, not code, a template or a stand-in.

use super::keys::by_key;
use super::{hint, Emit, Hint};

/// Longest name read back from an operator (as `MAX_HINT_KEY`).
const MAX_NAME: usize = 64;

/// Most secret-named assignments read in one value: a large configuration file has a few
/// hundred; past it the value is a list of them, and the first are reported.
const MAX_ASSIGNMENTS: usize = 512;

/// The shortest generic key read in free text (fields: 16).
const MIN_FREE_TEXT_KEY: usize = 20;

/// The shortest assignment worth reading: `pwd=` and a 4-character password.
pub(super) const MIN_ASSIGNMENT: usize = 8;

pub(super) fn assigned_secrets(b: &[u8], emit: &mut Emit<'_>) {
    let mut read = 0;
    for op in memchr::memchr2_iter(b'=', b':', b) {
        let Some(value_start) = operator_end(b, op) else { continue };
        let Some(name) = name_before(b, op) else { continue };
        // most names before a `:` or `=` (`time`, `id`, `lang`) are no secret's: a few
        // byte compares spare them the hint's lower-casing
        if !secret_stem(name) {
            continue;
        }
        read += 1;
        if read > MAX_ASSIGNMENTS {
            return;
        }
        let Ok(name) = std::str::from_utf8(name) else { continue };
        let name_hint = hint(name);
        if !matches!(name_hint, Hint::Password | Hint::Secret | Hint::VendorSecret(_)) {
            continue;
        }
        let Some((value, quoted)) = value_at(b, value_start) else { continue };
        if !literal(value, quoted) {
            continue;
        }
        let fits = match name_hint {
            Hint::Password => password_like(value, quoted),
            // keys and tokens are written in these; `sk_ubb4yN3m#P7r5&@*xC$utE` is not one, and
            // `4196:Axjx...` is a pair. Free text names more things `token` than fields do
            // (`io.jsonwebtoken:jjwt-0.11.2`), so a generic key is longer there than by_key asks.
            _ => {
                value.len() >= MIN_FREE_TEXT_KEY
                    && value.iter().all(|&c| c.is_ascii_alphanumeric() || b"+/=_-.~".contains(&c))
            }
        };
        // the value was cut at ASCII bytes out of a `str`
        if let (true, Ok(value)) = (fits, std::str::from_utf8(value)) {
            by_key(name_hint, value, emit);
        }
    }
}

/// Where the value starts after the operator at `op`, if it is one: `=`, `:`, `:=`, `=>`,
/// `?=`; not `==`, `!=`, `<=`, `::`, `://`, `=~`.
fn operator_end(b: &[u8], op: usize) -> Option<usize> {
    let prev = op.checked_sub(1).map(|p| b[p]);
    let next = b.get(op + 1).copied();
    if b[op] == b':' {
        return match next {
            _ if prev == Some(b':') => None,
            Some(b':' | b'/') => None,
            Some(b'=') => Some(op + 2),
            _ => Some(op + 1),
        };
    }
    // `:=` was read at its colon
    if matches!(prev, Some(b'=' | b'!' | b'<' | b'>' | b':')) {
        return None;
    }
    match next {
        Some(b'=' | b'~') => None,
        Some(b'>') => Some(op + 2),
        _ => Some(op + 1),
    }
}

fn name_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.')
}

/// The name the operator at `op` assigns to: `DB_PASSWORD`, `"client_secret"`, `\"token\"`,
/// `['db_pass']`, `spring.datasource.password`, `--api-key`.
fn name_before(b: &[u8], op: usize) -> Option<&[u8]> {
    let mut i = op;
    if b[op] == b'=' && i > 0 && b[i - 1] == b'?' {
        i -= 1;
    }
    while i > 0 && matches!(b[i - 1], b' ' | b'\t') {
        i -= 1;
    }
    // `$config['db_pass'] =>`, `ENV["TOKEN"] =`
    if i > 1 && b[i - 1] == b']' && matches!(b[i - 2], b'"' | b'\'') {
        i -= 1;
    }
    if i > 0 && matches!(b[i - 1], b'"' | b'\'') {
        i -= 1;
        // a JSON document inside a string keeps its quotes escaped
        if i > 0 && b[i - 1] == b'\\' {
            i -= 1;
        }
    }
    let end = i;
    while i > 0 && name_char(b[i - 1]) && end - i <= MAX_NAME {
        i -= 1;
    }
    if end - i > MAX_NAME {
        return None;
    }
    // `--password`, `.token`: the name proper starts at its first word character
    while i < end && !(b[i].is_ascii_alphanumeric() || b[i] == b'_') {
        i += 1;
    }
    (i < end).then(|| &b[i..end])
}

/// Whether a name holds a stem of the names `hint` reads as a password or a secret.
fn secret_stem(name: &[u8]) -> bool {
    const STEMS: [&[u8]; 7] = [b"pass", b"pwd", b"secret", b"token", b"key", b"cred", b"auth"];
    STEMS.iter().any(|s| name.windows(s.len()).any(|w| w.eq_ignore_ascii_case(s)))
}

/// The value after an operator and whether it was quoted: `"..."`, `'...'`, `` `...` ``, `\"...\"`
/// up to the closing quote on the same line; otherwise up to a blank or a separator.
fn value_at(b: &[u8], start: usize) -> Option<(&[u8], bool)> {
    let mut j = start;
    while j < b.len() && matches!(b[j], b' ' | b'\t') {
        j += 1;
    }
    let escaped = b.get(j) == Some(&b'\\') && matches!(b.get(j + 1), Some(b'"' | b'\''));
    if escaped {
        j += 1;
    }
    match b.get(j).copied()? {
        q @ (b'"' | b'\'' | b'`') => {
            let rest = &b[j + 1..];
            let line = &rest[..memchr::memchr(b'\n', rest).unwrap_or(rest.len())];
            let close = memchr::memchr(q, line)?;
            let close = if escaped { close.checked_sub(1).filter(|&c| line[c] == b'\\')? } else { close };
            Some((&line[..close], true))
        }
        _ => {
            let rest = &b[j..];
            let len =
                rest.iter().position(|&c| c.is_ascii_whitespace() || b",;&)]}>\"'<".contains(&c)).unwrap_or(rest.len());
            Some((&rest[..len], false))
        }
    }
}

/// A literal value, not a reference, a template, a type or a stand-in: `${DB_PASSWORD}`,
/// `$(cat /run/secrets/x)`, `{{ .Values.password }}`, `<your-key>`, `%PASSWORD%`,
/// `os.environ.get(...)`, `var.db_password`, `string`, `changeme`, `********`.
fn literal(v: &[u8], quoted: bool) -> bool {
    let (Some(&first), Some(&last)) = (v.first(), v.last()) else { return false };
    if v.len() > 256 || v.iter().all(|&c| c == first) {
        return false;
    }
    let has = |n: &[u8]| v.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n));
    let template = [&b"${"[..], b"$(", b"{{", b"%(", b"#{", b"<%"].iter().any(|n| has(n))
        || matches!(first, b'$' | b'`' | b'!' | b'*' | b'&' | b'@')
        || matches!((first, last), (b'<', b'>') | (b'{', b'}') | (b'%', b'%') | (b'[', b']'));
    // code: a call, an index, a field of an object (`config.password`, `process.env.TOKEN`)
    let code = !quoted && (v.iter().any(|c| b"()[]{}$".contains(c)) || dotted_identifier(v));
    let stand_in = [
        &b"changeme"[..],
        b"change_me",
        b"change-me",
        b"your",
        b"example",
        b"placeholder",
        b"dummy",
        b"redacted",
        b"replace",
        b"xxxx",
        b"****",
        b"...",
        b"passw",
        b"secret",
    ]
    .iter()
    .any(|n| has(n));
    let keyword = [
        &b"null"[..],
        b"nil",
        b"none",
        b"true",
        b"false",
        b"undefined",
        b"required",
        b"optional",
        b"string",
        b"str",
        b"bool",
        b"boolean",
        b"int",
        b"any",
        b"object",
        b"env",
        b"empty",
        b"hidden",
        b"masked",
        b"token",
        b"key",
        b"pwd",
    ]
    .iter()
    .any(|k| v.eq_ignore_ascii_case(k));
    !(template || code || stand_in || keyword)
}

/// `var.db_password`, `X25519.key_length`: names joined by dots; not `s.ZC9Ecf4M5g9o34Q6RkzGsj0z`,
/// whose long part with digits is no name.
fn dotted_identifier(v: &[u8]) -> bool {
    let name = |part: &[u8]| {
        part.first().is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_')
            && part.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'_')
            && !(part.len() >= 16 && part.iter().any(u8::is_ascii_digit))
    };
    v.contains(&b'.') && v.split(|&c| c == b'.').all(name)
}

/// A password in free text: no blanks (prose has them), 4 or more characters and, unquoted,
/// more than letters (`password: required`, `Password: click here` are words).
fn password_like(v: &[u8], quoted: bool) -> bool {
    v.len() >= 4 && !v.iter().any(u8::is_ascii_whitespace) && (quoted || !v.iter().all(u8::is_ascii_alphabetic))
}
