//! Entity references an XML parser would resolve.

/// An entity reference left after decoding the HTML ones: `&xxe;`, `%param;`.
#[inline(never)]
pub(super) fn entity_reference(b: &[u8]) -> Option<&'static str> {
    for p in memchr::memchr2_iter(b'&', b'%', b) {
        let name = b[p + 1..].iter().take_while(|c| c.is_ascii_alphanumeric() || **c == b'_').count();
        if name >= 2 && b.get(p + 1 + name) == Some(&b';') && b[p + 1].is_ascii_alphabetic() {
            let word = &b[p + 1..p + 1 + name];
            const HTML: &[&[u8]] = &[
                b"copy", b"reg", b"trade", b"hellip", b"mdash", b"ndash", b"laquo", b"raquo", b"euro", b"pound",
                b"yen", b"cent", b"deg", b"para", b"sect", b"middot", b"bull", b"times", b"divide", b"rsquo", b"lsquo",
                b"ldquo", b"rdquo", b"shy", b"iexcl", b"iquest", b"micro", b"plusmn", b"frac12", b"frac14", b"frac34",
                b"sup2", b"sup3", b"ordm", b"ordf", b"acute", b"uml", b"cedil", b"macr", b"curren", b"brvbar", b"not",
                b"zwj", b"zwnj", b"lrm", b"rlm", b"ensp", b"emsp", b"thinsp",
            ];
            let accented = word.len() > 4
                && [&b"acute"[..], b"grave", b"circ", b"uml", b"tilde", b"ring", b"slash", b"cedil", b"lig"]
                    .iter()
                    .any(|s| word.ends_with(s));
            if !HTML.contains(&word) && !accented {
                return Some("XML entity reference");
            }
        }
    }
    None
}
