//! Path templating: `/users/123/orders/9f1c...` -> `/users/{id}/orders/{id}`.
//!
//! A per-request first pass that looks at one segment at a time. It replaces segments that
//! look like identifiers (integers, UUIDs, long hex, long mixed tokens, prefixed IDs such as
//! `cus_9Xk2...`, dates, emails) and keeps words (`me`, `search`, `v2`) literal.

/// Placeholder for an identifier-like segment.
pub const ID: &str = "{id}";
const DATE: &str = "{date}";
const EMAIL: &str = "{email}";

/// Longest path we template; longer ones are cut (the raw path is still recorded).
pub const MAX_PATH_LEN: usize = 4096;

/// Templates a path (without query string).
pub fn template_path(path: &str) -> String {
    let path = truncate_to_char_boundary(path, MAX_PATH_LEN);
    let mut out = String::with_capacity(path.len());
    for (i, segment) in path.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        out.push_str(classify_segment(segment).unwrap_or(segment));
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

/// Returns the placeholder for an ID-like segment, `None` for a literal.
pub fn classify_segment(segment: &str) -> Option<&'static str> {
    if segment.is_empty() {
        return None;
    }
    let bytes = segment.as_bytes();
    if bytes.iter().all(u8::is_ascii_digit) {
        return Some(ID);
    }
    if is_date(bytes) {
        return Some(DATE);
    }
    if is_email(segment) {
        return Some(EMAIL);
    }
    if is_uuid(bytes) || is_long_hex(bytes) || is_mixed_token(bytes) || is_prefixed_id(bytes) {
        return Some(ID);
    }
    None
}

fn truncate_to_char_boundary(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

fn is_uuid(b: &[u8]) -> bool {
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// 16+ hex digits with at least one digit (object ids, hashes); pure words like
/// `deadbeefdeadbeef` still count since they are not dictionary words in practice.
fn is_long_hex(b: &[u8]) -> bool {
    b.len() >= 16 && b.iter().all(u8::is_ascii_hexdigit) && b.iter().any(u8::is_ascii_digit)
}

/// Tokens of 16+ URL-safe characters that mix letters and digits (base64, ULID, KSUID, ...).
fn is_mixed_token(b: &[u8]) -> bool {
    b.len() >= 16
        && b.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'=' | b'.' | b'~'))
        && b.iter().any(u8::is_ascii_digit)
        && b.iter().any(u8::is_ascii_alphabetic)
}

/// `cus_9Xk2LmQ8`, `ord-000123`, `CR0123456`: a short alphabetic prefix then 6+ characters
/// that contain digits.
fn is_prefixed_id(b: &[u8]) -> bool {
    let prefix_len = b.iter().take_while(|c| c.is_ascii_alphabetic()).count();
    if prefix_len == 0 || prefix_len > 8 {
        return false;
    }
    let mut rest = &b[prefix_len..];
    if let Some((first, tail)) = rest.split_first() {
        if matches!(first, b'_' | b'-') {
            rest = tail;
        }
    }
    let digits = rest.iter().filter(|c| c.is_ascii_digit()).count();
    rest.len() >= 6 && digits >= 3 && rest.iter().all(u8::is_ascii_alphanumeric)
}

/// `2024-01-31` or `20240131`.
fn is_date(b: &[u8]) -> bool {
    let dashed = b.len() == 10
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            _ => c.is_ascii_digit(),
        });
    dashed && matches!(&b[5..7], [b'0', b'1'..=b'9'] | [b'1', b'0'..=b'2'])
}

fn is_email(s: &str) -> bool {
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
        }
        None => false,
    }
}

#[cfg(test)]
mod tests;
