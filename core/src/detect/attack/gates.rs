//! Necessary conditions of the structural checks: when a gate is false, its check returns None
//! whatever it would have read, so `Rules::scan` skips it. Each gate is worked out from what
//! every path of its check that can return Some needs (a character class from the value's
//! mask, a literal, where a byte sits) and costs a fraction of the check: benign values with
//! slashes, dots and parentheses (user agents, prose, URLs) used to go through most checks.
//! `tests::gates_hold` tosses generated values built from the checks' own needles at every gate
//! and its check; the corpora's `--summary` is the same with and without the gates.

use super::bytes;
use super::chars::*;

fn any(mask: u32, bits: u32) -> bool {
    mask & bits != 0
}

/// Bytes before which a `/` starts a word (`cat /etc/x`, `x;>/tmp/a`, `f='/etc'`).
fn word_start(c: u8) -> bool {
    matches!(c, b' ' | b'>' | b'<' | b';' | b'|' | b'=' | b'\'' | b'"')
}

/// `traversal`: a `..` run (or `\.\./`), hex-literal bytes, or a system root at a word start
/// (`/...` or `c:`).
pub(super) fn traversal(b: &[u8], mask: u32) -> bool {
    if any(mask, HEX) {
        return true;
    }
    if !any(mask, SLASH) {
        return false;
    }
    if any(mask, DOT) && (bytes::find(b, b"..").is_some() || b.contains(&b'\\')) {
        return true;
    }
    b.first() == Some(&b'/')
        || memchr::memchr2_iter(b'/', b':', b).any(|p| match b[p] {
            b'/' => p > 0 && word_start(b[p - 1]),
            _ => p > 0 && b[p - 1] == b'c' && (p == 1 || word_start(b[p - 2])),
        })
}

/// `encoded_traversal`: a target file in the value's first token (`passwd`, a `.ini`, `{file}`).
pub(super) fn encoded_traversal(b: &[u8], mask: u32) -> bool {
    let token = &b[..b.iter().position(u8::is_ascii_whitespace).unwrap_or(b.len())];
    bytes::find(token, b"passwd").is_some()
        || (any(mask, DOT) && bytes::find(token, b".ini").is_some())
        || (any(mask, BRACE) && any(mask, DOT | QUESTION))
}

/// `php_structures`: tags, `[php]`, serialized objects, `${`, variable calls.
pub(super) fn php_structures(mask: u32) -> bool {
    any(mask, BRACKET | BRACE)
        || (any(mask, ANGLE) && any(mask, QUESTION))
        || (any(mask, COLON) && any(mask, QUOTE))
        || (any(mask, DOLLAR) && any(mask, PAREN))
}

/// `php_ini_setting`: a lower-case key first, then `=`.
pub(super) fn php_ini_setting(b: &[u8]) -> bool {
    b.trim_ascii_start().first().is_some_and(u8::is_ascii_lowercase)
}

/// `php_expression_call`: a `(` right after what closes an expression or a comment.
pub(super) fn php_expression_call(b: &[u8]) -> bool {
    memchr::memchr_iter(b'(', b).any(|p| {
        let before = b[..p].iter().rposition(|&c| c != b' ');
        before.is_some_and(|q| matches!(b[q], b')' | b']' | b'}' | b'"' | b'\'' | b'/'))
    })
}

/// `url_value`: a scheme, or without one an internal host before the first `/?#\` (all have a
/// dot or a dash, start with a digit, `+`, `localhost` or `metadata`, or take `@`/`[`), or
/// `http?`.
pub(super) fn url_value(v: &str, mask: u32) -> bool {
    if any(mask, COLON) {
        return true;
    }
    let t = v.trim();
    let host = &t[..t.find(['/', '?', '#', '\\']).unwrap_or(t.len())];
    any(mask, AT | BRACKET)
        || host.contains(['.', '-'])
        || host.as_bytes().first().is_some_and(|c| c.is_ascii_digit() || *c == b'+')
        || host.starts_with("localhost")
        || host.starts_with("metadata")
        || matches!(t, "http?" | "https?" | "ftp?" | "ftps?" | "file?")
}

/// `shell`: what it finds beyond `shell_start` (to which it falls back) needs a separator, a
/// substitution, a glob in a path or a batch word.
pub(super) fn shell(b: &[u8], mask: u32, batch_words: bool) -> bool {
    any(mask, SEMI | PIPE | AMP | BACKTICK | NEWLINE | BRACE)
        || (any(mask, DOLLAR) && any(mask, PAREN | BRACKET))
        || (any(mask, ANGLE) && any(mask, PAREN))
        || (any(mask, BRACKET) && any(mask, SLASH))
        || batch_words
        || (any(mask, SLASH) && (bytes::find(b, b"\\n").is_some() || bytes::find(b, b"\\r").is_some()))
}

/// `xss::detect`: its needles are matched with blanks and comments squeezed out, so no exact
/// gate on words exists; what is left needs one of these classes, or a letter of the
/// scheme and global names that have none of them (single bytes survive squeezing).
pub(super) fn xss(b: &[u8], mask: u32) -> bool {
    any(mask, ANGLE | BACKTICK | COMPARE | BRACKET | AT | PAREN | DOT | COMMENT | PLUS)
        || (any(mask, DOLLAR) && any(mask, BRACE))
        || (any(mask, COLON) && any(mask, SLASH))
        // javascript:/vbscript:/livescript: (v), xmlns:xss (x), globalthis and -moz-binding (b),
        // xmlhttprequest (q)
        || b.iter().any(|c| matches!(c, b'b' | b'q' | b'v' | b'x'))
}

/// `ssti::template`: an opener (`{{ ${ #{ {% *{ @{`, `<%`, `[[`).
pub(super) fn template(b: &[u8], mask: u32) -> bool {
    let brace_opener = any(mask, BRACE)
        && memchr::memchr_iter(b'{', b)
            .any(|i| (i > 0 && matches!(b[i - 1], b'{' | b'$' | b'#' | b'*' | b'@')) || b.get(i + 1) == Some(&b'%'));
    brace_opener
        || (any(mask, PERCENT) && any(mask, ANGLE) && bytes::find(b, b"<%").is_some())
        || (any(mask, BRACKET) && bytes::find(b, b"[[").is_some())
}

/// `ldap`: a parenthesised filter with `*`, or with `=` and `|`, `&`, a comment or `)(`.
pub(super) fn ldap(b: &[u8], mask: u32) -> bool {
    any(mask, PAREN)
        && (any(mask, STAR)
            || (any(mask, COMPARE)
                && b.contains(&b'=')
                && (any(mask, PIPE | AMP | COMMENT) || bytes::find(b, b")(").is_some())))
}

/// `crlf`: in a header any line break; elsewhere one followed by a header, a status line or
/// markup.
pub(super) fn crlf(mask: u32, in_header: bool) -> bool {
    any(mask, NEWLINE) && (in_header || any(mask, COLON | ANGLE | SLASH))
}

/// `log4j`: `${` and a `name:` lookup.
pub(super) fn log4j(mask: u32) -> bool {
    any(mask, DOLLAR) && any(mask, BRACE) && any(mask, COLON)
}

/// `nosql`: an operator (`$ne:`, `[$ne]`), a `';return`, `||` with `==`, a `while(` loop or
/// a `db.` call.
pub(super) fn nosql(b: &[u8], mask: u32) -> bool {
    (any(mask, DOLLAR) && any(mask, COLON | BRACKET))
        || (any(mask, QUOTE) && any(mask, SEMI))
        || (any(mask, PIPE) && any(mask, COMPARE))
        || (any(mask, PAREN) && any(mask, SEMI | BRACE) && bytes::find(b, b"while(").is_some())
        || (any(mask, DOT) && bytes::find(b, b"db.").is_some())
}

/// `entity_reference`: `&` or `%` before a letter.
pub(super) fn entity_reference(b: &[u8]) -> bool {
    memchr::memchr2_iter(b'&', b'%', b).any(|p| b.get(p + 1).is_some_and(u8::is_ascii_alphabetic))
}
