//! Pieces of a statement recognised without tokenizing: `union select`, casts, JSON operators,
//! large-object calls, `from dual`.

use super::tokens::is_word_byte;
use crate::detect::bytes;

/// What follows `union select` in an injection: a literal, `null`, `*`, a call, a variable or a
/// list; prose ("union select committee") has a plain word there. A line break right after
/// `select` counts too: the query goes on past the value.
fn select_list_follows(rest: &[u8]) -> bool {
    let Some(&first) = rest.first() else {
        return false;
    };
    if first.is_ascii_digit() || matches!(first, b'*' | b'(' | b'@' | b'\'' | b'"' | b'-' | b'`' | b'[') {
        return true;
    }
    let word = rest.iter().take_while(|c| is_word_byte(**c)).count();
    if word == 0 {
        return false;
    }
    let name = &rest[..word];
    let after = &rest[word..];
    name == b"null"
        || name == b"from"
        || after.trim_ascii_start().first().is_some_and(|c| matches!(c, b'(' | b','))
        || after.trim_ascii_start().starts_with(b"from")
        || after.starts_with(b"/*")
}

/// Pieces of a statement that no other text holds, checked before tokenizing because they need
/// no statement around them: `union select`, `execute immediate`, a value that is a `case when ...
/// then`, `) like (`, a PostgreSQL cast (`password::int`), a backquoted alias before `from`,
/// `` ` regexp ``, PostgreSQL large-object calls (`lo_get(16400)`).
/// `words`: the value holds a keyword the checks start from (see `detect_with`); without one
/// only the checks that start from punctuation run.
#[inline(never)]
pub(crate) fn fragment(b: &[u8], words: bool) -> Option<&'static str> {
    let find = |n: &[u8]| bytes::find(b, n);
    let word_start = |p: usize| p == 0 || !is_word_byte(b[p - 1]);
    // separators between two keywords: blanks and block comments
    let gap_end = |mut i: usize| loop {
        let blanks = b[i.min(b.len())..].iter().take_while(|c| c.is_ascii_whitespace() || **c == b'+').count();
        i += blanks;
        if b[i.min(b.len())..].starts_with(b"/*") {
            match bytes::find(&b[i + 2..b.len().min(i + 258)], b"*/") {
                Some(q) => i += 2 + q + 2,
                None => return i,
            }
        } else {
            return i;
        }
    };
    let mut from = if words { 0 } else { b.len() };
    while let Some(p) = bytes::find(&b[from..], b"union") {
        let at = from + p;
        from = at + 5;
        if !word_start(at) {
            continue;
        }
        let mut next = gap_end(at + 5);
        if next == at + 5 {
            continue;
        }
        for modifier in [&b"all"[..], b"distinct"] {
            if b[next..].starts_with(modifier) {
                let after = gap_end(next + modifier.len());
                if after > next + modifier.len() {
                    next = after;
                }
            }
        }
        if b[next..].starts_with(b"select")
            && !b.get(next + 6).is_some_and(|c| is_word_byte(*c))
            && (select_list_follows(&b[gap_end(next + 6)..]) || b.get(next + 6) == Some(&b'\n'))
        {
            return Some("UNION SELECT");
        }
    }
    // `'x'!='y`: two string literals compared, the second left open for the query's own quote
    // (the first `'!='` and the first `'<>'`, found in one pass over the quotes)
    let (mut not_equal, mut less_greater) = (None, None);
    for q in memchr::memchr_iter(b'\'', b) {
        let rest = &b[q + 1..];
        if not_equal.is_none() && rest.starts_with(b"!='") {
            not_equal = Some(q);
        }
        if less_greater.is_none() && rest.starts_with(b"<>'") {
            less_greater = Some(q);
        }
        if not_equal.is_some() && less_greater.is_some() {
            break;
        }
    }
    for p in [not_equal, less_greater].into_iter().flatten() {
        let opening = b[..p].iter().rposition(|c| *c == b'\'');
        if opening.is_some_and(|o| b[o + 1..p].iter().all(|c| is_word_byte(*c))) {
            return Some("string literals compared");
        }
    }
    if let Some(p) = words.then(|| find(b"waitfor")).flatten() {
        let next = gap_end(p + 7);
        if word_start(p) && next > p + 7 && b[next..].starts_with(b"delay") {
            return Some("WAITFOR DELAY");
        }
    }
    // `;truncate[x`, `;replace/**/t(...)`: a statement stacked at the value's start
    if let Some(rest) = b.trim_ascii_start().strip_prefix(b";") {
        const STATEMENTS: &[&[u8]] = &[
            b"truncate",
            b"drop",
            b"replace",
            b"insert",
            b"delete",
            b"update",
            b"create",
            b"alter",
            b"exec",
            b"declare",
            b"shutdown",
            b"select",
        ];
        let rest = rest.trim_ascii_start();
        let statement = STATEMENTS
            .iter()
            .any(|k| rest.starts_with(k) && !rest.get(k.len()).is_some_and(|c| c.is_ascii_alphabetic()));
        if statement {
            return Some("statement stacked at the start");
        }
    }
    if b.contains(&b'`') {
        // `` ` AS `alias` from ``, `` ` regexp ``
        for p in memchr::memchr_iter(b'`', b) {
            let next = gap_end(p + 1);
            let rest = &b[next..];
            if rest.starts_with(b"regexp") && next > p + 1 {
                return Some("backquoted name before REGEXP");
            }
            if rest.starts_with(b"as") && next > p + 1 {
                let alias = gap_end(next + 2);
                if b.get(alias) == Some(&b'`') {
                    let close = b[alias + 1..].iter().position(|c| *c == b'`').map(|q| alias + 1 + q);
                    if let Some(close) = close {
                        let from_at = gap_end(close + 1);
                        if from_at > close + 1 && b[from_at..].starts_with(b"from") {
                            return Some("backquoted alias before FROM");
                        }
                    }
                }
            }
        }
    }
    // the rest starts from a keyword
    if !words {
        return None;
    }
    if let Some(p) = find(b"execute") {
        let next = gap_end(p + 7);
        if word_start(p) && next > p + 7 && b[next..].starts_with(b"immediate") {
            return Some("EXECUTE IMMEDIATE");
        }
    }
    let trimmed = b.trim_ascii_start();
    if trimmed.starts_with(b"case when ") && bytes::find(trimmed, b" then ").is_some() {
        return Some("CASE WHEN expression");
    }
    if find(b")like(").is_some() || find(b") like (").is_some() {
        return Some("LIKE between expressions");
    }
    const CASTS: &[&[u8]] =
        &[b"int", b"integer", b"text", b"varchar", b"bigint", b"numeric", b"regclass", b"bytea", b"oid"];
    // (a searcher is built for each call: only where a colon is)
    for p in memchr::memchr(b':', b).map(|_| memchr::memmem::find_iter(b, b"::")).into_iter().flatten() {
        let word_before = p > 0 && is_word_byte(b[p - 1]);
        let rest = &b[p + 2..];
        let cast = CASTS.iter().any(|t| rest.starts_with(t) && !rest.get(t.len()).is_some_and(|c| is_word_byte(*c)));
        if word_before && cast {
            return Some("PostgreSQL type cast");
        }
    }
    let large_object = find(b"lo_").is_some();
    for call in [&b"lo_get("[..], b"lo_import(", b"lo_export(", b"lo_from_bytea("].into_iter().filter(|_| large_object)
    {
        if let Some(p) = find(call) {
            if word_start(p) {
                return Some("PostgreSQL large-object call");
            }
        }
    }
    None
}

/// PostgreSQL and MySQL JSON operators between quoted documents: `'{"a":1}'::jsonb @> '...'`,
/// `'...' -> '$.c[2].f'`, `'...' ?| array['a']`.
pub(super) fn json_operator(b: &[u8]) -> Option<&'static str> {
    if bytes::find(b, b"'::json").is_some() {
        return Some("PostgreSQL JSON cast");
    }
    const OPERATORS: &[&[u8]] = &[b"->>", b"->", b"#>>", b"#>", b"#-", b"@>", b"<@", b"?|", b"?&", b"@?", b"@@", b"?"];
    for q in memchr::memchr_iter(b'\'', b) {
        let mut i = q + 1;
        while i < b.len() && b[i] == b' ' {
            i += 1;
        }
        let Some(op) = OPERATORS.iter().find(|op| b[i..].starts_with(op)) else { continue };
        let mut j = i + op.len();
        while j < b.len() && b[j] == b' ' {
            j += 1;
        }
        let operand = b.get(j).is_some_and(|c| *c == b'\'' || c.is_ascii_digit()) || b[j..].starts_with(b"array[");
        // the quote before the operator must close a string that opened before it
        let closes = b[..q].contains(&b'\'');
        if operand && closes {
            return Some("JSON operator between strings");
        }
    }
    None
}

/// MySQL reads `1.e(` and `1.e.` as a number followed by code (CRS 942560).
pub(super) fn scientific_notation(b: &[u8]) -> Option<&'static str> {
    b.windows(4)
        .any(|w| w[0].is_ascii_digit() && w[1] == b'.' && w[2] == b'e' && matches!(w[3], b'(' | b'.' | b')' | b','))
        .then_some("MySQL scientific notation followed by code")
}

/// `select 1 from dual` (Oracle and MySQL's dummy table).
pub(super) fn from_dual(s: &str) -> Option<&'static str> {
    let pos = s.find("dual")?;
    let after = s[pos + 4..].bytes().next();
    (s[..pos].trim_end().ends_with("from") && after.is_none_or(|c| !c.is_ascii_alphanumeric()))
        .then_some("select from dual")
}
