//! LDAP filter injection.

use super::{bytes, chars};

/// LDAP filter injection: `*)(uid=*`, `)(|(`, `(|(mail=*))`, `*()|&`.
#[inline(never)]
pub(super) fn ldap(b: &[u8], mask: u32) -> Option<&'static str> {
    // every form below needs an `=` or a `*`: prose in parentheses has neither
    if mask & (chars::COMPARE | chars::STAR) == 0 {
        return None;
    }
    let has = |n: &[u8]| bytes::find(b, n).is_some();
    if (has(b")(") && b.contains(&b'=') && b.iter().filter(|&&c| c == b')').count() >= 2)
        || (has(b"*(") && (b.contains(&b'|') || b.contains(&b'&')))
    {
        return Some("LDAP filter syntax");
    }
    let filter_syntax = has(b")(") || has(b"(|(") || has(b"(&(") || has(b"(!(") || has(b"*)(") || has(b"*))");
    let attribute = b.contains(&b'=') || b.contains(&b'*');
    (filter_syntax && attribute && (b.contains(&b'*') || has(b"(|") || has(b"(&") || has(b"(!")))
        .then_some("LDAP filter syntax")
}
