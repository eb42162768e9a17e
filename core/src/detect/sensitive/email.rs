//! Email addresses.

use super::{bytes, Emit, Hint};

pub(super) fn email(b: &[u8], hint: Hint, emit: &mut Emit<'_>) {
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
