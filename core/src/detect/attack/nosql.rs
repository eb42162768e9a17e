//! NoSQL injection: MongoDB operators, shell calls and server-side JavaScript in a value.

use super::bytes;

/// MongoDB operators and server-side JavaScript: `{ $ne: 1 }`, `db.users.find(`, `|| 1==1`.
/// `mask`: the value's `char_mask`, so that searches for strings it cannot hold are skipped.
#[inline(never)]
pub(super) fn nosql(b: &[u8], mask: u32) -> Option<&'static str> {
    use super::chars::*;
    let any = |bits: u32| mask & bits != 0;
    const OPERATORS: &[&[u8]] = &[
        b"ne",
        b"gt",
        b"gte",
        b"lt",
        b"lte",
        b"in",
        b"nin",
        b"regex",
        b"where",
        b"exists",
        b"or",
        b"and",
        b"nor",
        b"not",
        b"expr",
        b"elemmatch",
        b"comment",
    ];
    let dollars = any(DOLLAR).then(|| memchr::memchr_iter(b'$', b)).into_iter().flatten();
    for p in dollars {
        let name_len = b[p + 1..].iter().take_while(|c| c.is_ascii_alphabetic()).count();
        let name = &b[p + 1..p + 1 + name_len];
        let mut k = p + 1 + name_len;
        if b.get(k) == Some(&b'"') || b.get(k) == Some(&b'\'') {
            k += 1;
        }
        while k < b.len() && b[k] == b' ' {
            k += 1;
        }
        let before_ok = p == 0 || matches!(b[p - 1], b'{' | b' ' | b',' | b'"' | b'\'' | b'[');
        // `{$ne: 1}`, `"$gt":`, and `[$lte]` as a query-string key ends up in a value
        let bracketed = p > 0 && b[p - 1] == b'[' && b.get(p + 1 + name_len) == Some(&b']');
        if before_ok && OPERATORS.contains(&name) && (b.get(k) == Some(&b':') || bracketed) {
            return Some("MongoDB query operator");
        }
    }
    if let Some(p) = any(DOT).then(|| bytes::find(b, b"db.")).flatten() {
        let rest = &b[p + 3..];
        let coll = rest.iter().take_while(|c| c.is_ascii_alphanumeric() || **c == b'_').count();
        let method = &rest[coll..];
        if method.starts_with(b".")
            && [&b".find"[..], b".insert", b".update", b".remove", b".drop", b".aggregate", b".delete"]
                .iter()
                .any(|m| method.starts_with(m))
        {
            return Some("MongoDB shell call");
        }
    }
    let has = |n: &[u8]| bytes::find(b, n).is_some();
    let returns = any(SEMI) && (has(b"';return") || has(b"\";return"));
    let compares = any(PIPE) && any(COMPARE) && has(b"||") && has(b"==");
    let loops = any(PAREN) && any(SEMI | BRACE) && (has(b"}while(") || has(b";while("));
    (returns || compares || loops).then_some("server-side JavaScript")
}
