//! CRLF injection: a line break that starts a header or a status line.

/// CR or LF followed by what looks like a header or a status line.
#[inline(never)]
pub(super) fn crlf(b: &[u8], in_header: bool) -> Option<&'static str> {
    for p in memchr::memchr2_iter(b'\r', b'\n', b) {
        if in_header {
            return Some("line break in a header value");
        }
        let rest = &b[p + 1..];
        let rest = rest.strip_prefix(b"\n").unwrap_or(rest);
        let rest = rest.strip_prefix(b"\r").unwrap_or(rest);
        let rest = rest.strip_prefix(b"\n").unwrap_or(rest);
        let name_len = rest.iter().take_while(|c| c.is_ascii_alphanumeric() || **c == b'-').count();
        if name_len >= 2 && rest.get(name_len) == Some(&b':') && rest[..name_len].iter().any(u8::is_ascii_alphabetic) {
            return Some("line break followed by a header");
        }
        if rest.starts_with(b"http/1") || rest.starts_with(b"<") {
            return Some("line break followed by a response");
        }
    }
    None
}
