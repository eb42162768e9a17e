//! Turns an encoded request value into the text an attack would be interpreted as: percent
//! decoding (repeated, for double encoding, including `%uXXXX` and overlong UTF-8 such as
//! `%c0%ae`), HTML entities, NUL bytes removed, ASCII lower case. Attack rules match on this
//! form only, so every rule sees through the same evasions.

use arrayvec::ArrayString;

/// Most decoding rounds; three covers the double and triple encodings scanners use.
const MAX_ROUNDS: usize = 3;

/// `BYTE_CLASS` bits: a byte that starts an encoding (or is not ASCII), an upper-case letter, an
/// ampersand (an entity only when `entity_possible` says so: `a=1&b=2` is none).
const ENCODED: u8 = 1;
const UPPER: u8 = 2;
const AMP: u8 = 4;
const BYTE_CLASS: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        table[c] = if !b.is_ascii() || matches!(b, b'%' | b'\\' | 0) {
            ENCODED
        } else if b == b'&' {
            AMP
        } else if b.is_ascii_uppercase() {
            UPPER
        } else {
            0
        };
        c += 1;
    }
    table
};

/// A value as the attack rules read it: borrowed when it needs no change, on the stack when only
/// its case changes and it is short (names, cities, sentences: most values that have capitals).
pub enum Normalized<'a> {
    Borrowed(&'a str),
    Short(ArrayString<SHORT>),
    Owned(String),
}

const SHORT: usize = 96;

impl std::ops::Deref for Normalized<'_> {
    type Target = str;

    fn deref(&self) -> &str {
        match self {
            Normalized::Borrowed(s) => s,
            Normalized::Short(s) => s,
            Normalized::Owned(s) => s,
        }
    }
}

impl std::fmt::Debug for Normalized<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&**self, f)
    }
}

impl std::fmt::Display for Normalized<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self)
    }
}

impl PartialEq<&str> for Normalized<'_> {
    fn eq(&self, other: &&str) -> bool {
        **self == **other
    }
}

pub fn normalize(value: &str) -> Normalized<'_> {
    // most values need nothing but lower case, and many not even that: one pass tells which
    let bits = value.bytes().fold(0u8, |bits, c| bits | BYTE_CLASS[usize::from(c)]);
    if bits & ENCODED == 0 && (bits & AMP == 0 || !entity_possible(value.as_bytes())) {
        if bits & UPPER == 0 {
            return Normalized::Borrowed(value);
        }
        if let Ok(mut short) = ArrayString::<SHORT>::from(value) {
            // ASCII case only: byte lengths stay as they are
            short.make_ascii_lowercase();
            return Normalized::Short(short);
        }
        return Normalized::Owned(value.to_ascii_lowercase());
    }
    let mut bytes: Vec<u8> = value.as_bytes().to_vec();
    for _ in 0..MAX_ROUNDS {
        match percent_decode(&bytes) {
            Some(decoded) => bytes = decoded,
            None => break,
        }
    }
    let bytes = fold_overlong(&bytes);
    let mut text = String::from_utf8_lossy(&bytes).into_owned();
    // twice: an XML body's `&amp;tab;` is `&tab;` to the HTML it carries
    for _ in 0..2 {
        if !text.contains('&') {
            break;
        }
        let decoded = decode_entities(&text);
        if decoded == text {
            break;
        }
        text = decoded;
    }
    if text.contains("\\u") || text.contains("\\x") {
        text = decode_js_escapes(&text);
    }
    if !text.is_ascii() {
        text = text.chars().map(fold_fullwidth).collect();
    }
    text.retain(|c| c != '\0');
    text.make_ascii_lowercase();
    Normalized::Owned(text)
}

/// The text a value carries in base64 (`d2hpbGUodHJ1ZSk7`), when the whole value is base64 of
/// printable text: CRS decodes such values too (`t:base64Decode`) because an attack sent encoded
/// runs once the application decodes it. Tokens and IDs decode to binary and are left alone.
pub fn base64_text(value: &str) -> Option<String> {
    use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
    use base64::engine::{DecodePaddingMode, Engine};
    const LENIENT: GeneralPurposeConfig = GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true);
    const STANDARD: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::STANDARD, LENIENT);
    const URL_SAFE: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::URL_SAFE, LENIENT);
    let b = value.as_bytes();
    // short values are words; 16 characters hold 12 bytes, enough for a payload
    if !(16..=8192).contains(&b.len()) {
        return None;
    }
    // ASCII's high bit is clear, so each 4-character group of encoded text starts with one of
    // the first 32 letters of the alphabet: four looks reject most words and IDs
    if ![0, 4, 8, 12].iter().all(|&i| matches!(b[i], b'A'..=b'Z' | b'a'..=b'f')) {
        return None;
    }
    // one pass, left as soon as a byte is not base64: most values have a blank or `@` early
    let (mut standard, mut url_safe, mut letters, mut digits, mut padding) = (false, false, false, false, 0);
    for &c in b {
        match c {
            b'a'..=b'z' | b'A'..=b'Z' if padding == 0 => letters = true,
            b'0'..=b'9' if padding == 0 => digits = true,
            b'+' | b'/' if padding == 0 => standard = true,
            b'-' | b'_' if padding == 0 => url_safe = true,
            b'=' if padding < 2 => padding += 1,
            _ => return None,
        }
    }
    // all letters (a long word) or all digits carry nothing
    if !(letters && digits || standard || url_safe) {
        return None;
    }
    let body = &value[..b.len() - padding];
    let engine = match (standard, url_safe) {
        (true, true) => return None,
        (_, true) => &URL_SAFE,
        _ => &STANDARD,
    };
    // the first 3 bytes tell text from binary (random bytes pass with p = 0.05)
    let printable = |d: &[u8]| d.iter().all(|c| c.is_ascii_graphic() || c.is_ascii_whitespace());
    let mut head = [0u8; 3];
    let head_len = engine.decode_slice(&body[..4], &mut head).ok()?;
    if !printable(&head[..head_len]) {
        return None;
    }
    let decoded = engine.decode(body).ok()?;
    // printable ASCII, so the bytes are a `String` as they are
    printable(&decoded).then(|| String::from_utf8(decoded).ok()).flatten()
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// One round of percent decoding; `None` when there was nothing to decode.
fn percent_decode(input: &[u8]) -> Option<Vec<u8>> {
    if !input.contains(&b'%') {
        return None;
    }
    let mut out = Vec::with_capacity(input.len());
    let mut changed = false;
    let mut i = 0;
    while i < input.len() {
        let b = input[i];
        if b == b'%' {
            if let (Some(h), Some(l)) = (input.get(i + 1).and_then(|&c| hex(c)), input.get(i + 2).and_then(|&c| hex(c)))
            {
                out.push(h << 4 | l);
                i += 3;
                changed = true;
                continue;
            }
            // IIS-style %uXXXX
            if matches!(input.get(i + 1), Some(b'u' | b'U')) {
                let digits: Option<Vec<u8>> = (2..6).map(|k| input.get(i + k).and_then(|&c| hex(c))).collect();
                if let Some(d) = digits {
                    let code = u32::from(d[0]) << 12 | u32::from(d[1]) << 8 | u32::from(d[2]) << 4 | u32::from(d[3]);
                    let c = char::from_u32(code).map(fold_fullwidth).unwrap_or('\u{fffd}');
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                    i += 6;
                    changed = true;
                    continue;
                }
            }
        }
        out.push(b);
        i += 1;
    }
    changed.then_some(out)
}

/// Full-width forms (`％`, `＜`) and slash look-alikes (`∕`, `∖`) are read as ASCII by some
/// back ends.
fn fold_fullwidth(c: char) -> char {
    let code = c as u32;
    match code {
        0xff01..=0xff5e => char::from_u32(code - 0xff01 + 0x21).unwrap_or(c),
        0x2215 | 0x2044 | 0x29f8 | 0xefc8 | 0xf025 => '/',
        0x2216 | 0xfe68 | 0x29f9 => '\\',
        0x2024 => '.',
        // the high bit stripped, as old browsers did with US-ASCII pages: `¼script¾` is `<script>`
        0xbc => '<',
        0xbe => '>',
        0xa2 => '"',
        0xa7 => '\'',
        _ => c,
    }
}

/// Overlong UTF-8 (`c0 ae` for `.`, `c0 af` / `c1 9c` for slashes, `e0 80 ae`,
/// `f0 80 80 ae`, ...) decoded the way lenient servers decode it.
fn fold_overlong(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        let b = input[i];
        let continuation = |k: usize| input.get(i + k).is_some_and(|c| c & 0xc0 == 0x80);
        if (b == 0xc0 || b == 0xc1) && continuation(1) {
            let n = input[i + 1];
            let c = if b == 0xc1 && n & 0x3f == 0x2f { b'/' } else { ((b & 0x01) << 6) | (n & 0x3f) };
            out.push(if c == b'\\' { b'/' } else { c });
            i += 2;
            continue;
        }
        if (b == 0xc0 || b == 0xc1) && input.get(i + 1).is_some_and(|c| c.is_ascii_punctuation()) {
            // a lone overlong lead before an ASCII byte: dropped by lenient decoders
            i += 1;
            continue;
        }
        let extra = match b {
            0xe0 => 2,
            0xf0 => 3,
            0xf8 => 4,
            0xfc => 5,
            _ => 0,
        };
        if extra > 0 && (1..=extra).all(continuation) && input[i + 1..i + extra].iter().all(|&c| c & 0x3e == 0) {
            let last = input[i + extra];
            let prev = input[i + extra - 1];
            out.push(((prev & 0x01) << 6) | (last & 0x3f));
            i += extra + 1;
            continue;
        }
        out.push(b);
        i += 1;
    }
    out
}

/// JavaScript `\u006f` and `\x6f` escapes (also written `\\u006f` inside JSON strings), as
/// ModSecurity's `t:jsDecode` reads them. A run of `\x` escapes is bytes: UTF-8 where it is
/// (`\xc2\xbc` is `¼`), one Latin-1 character per byte where not (a lone `\xbc` too is `¼`,
/// which `fold_fullwidth` reads as the `<` a US-ASCII page makes of it).
fn decode_js_escapes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut bytes: Vec<u8> = Vec::new();
    let mut rest = text;
    while let Some(pos) = rest.find('\\') {
        if pos > 0 {
            flush_bytes(&mut bytes, &mut out);
        }
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        let escape = |prefix: char, digits: usize| {
            after
                .strip_prefix(prefix)
                .and_then(|h| h.get(..digits))
                .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
                .and_then(|h| u32::from_str_radix(h, 16).ok())
        };
        if let Some(byte) = escape('x', 2) {
            bytes.push(byte as u8);
            rest = &after[3..];
            continue;
        }
        flush_bytes(&mut bytes, &mut out);
        match escape('u', 4).and_then(char::from_u32) {
            Some(c) => {
                // drop a backslash that escaped this one
                if out.ends_with('\\') {
                    out.pop();
                }
                out.push(c);
                rest = &after[5..];
            }
            None => {
                out.push('\\');
                rest = after;
            }
        }
    }
    flush_bytes(&mut bytes, &mut out);
    out.push_str(rest);
    out
}

/// Appends the bytes of a run of `\x` escapes: UTF-8 where valid, Latin-1 elsewhere.
fn flush_bytes(bytes: &mut Vec<u8>, out: &mut String) {
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        out.extend(chunk.invalid().iter().map(|&b| char::from(b)));
    }
    bytes.clear();
}

/// Whether an `&` in `b` can start what `decode_entities` decodes: `&#` or a name and a `;`
/// after it. Query strings and prose (`a=1&b=2`, `Tom & Jerry`) have none and stay as they are.
fn entity_possible(b: &[u8]) -> bool {
    memchr::memchr_iter(b'&', b).any(|p| match b.get(p + 1) {
        Some(b'#') => true,
        Some(c) if c.is_ascii_alphabetic() => memchr::memchr(b';', &b[p + 1..]).is_some(),
        _ => false,
    })
}

/// Numeric (`&#60;`, `&#x3c;`, with or without `;`) and the named entities attacks use.
fn decode_entities(text: &str) -> String {
    const NAMED: &[(&str, char)] = &[
        ("lt", '<'),
        ("gt", '>'),
        ("quot", '"'),
        ("apos", '\''),
        ("amp", '&'),
        ("colon", ':'),
        ("lpar", '('),
        ("rpar", ')'),
        ("sol", '/'),
        ("bsol", '\\'),
        ("tab", '\t'),
        ("newline", '\n'),
        ("nbsp", ' '),
        ("semi", ';'),
        ("equals", '='),
        ("period", '.'),
        ("grave", '`'),
    ];
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find('&') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        if let Some(num) = after.strip_prefix('#') {
            let (digits, radix, skip) = if let Some(h) = num.strip_prefix(['x', 'X']) {
                (h.bytes().take_while(u8::is_ascii_hexdigit).count(), 16, 2)
            } else {
                (num.bytes().take_while(u8::is_ascii_digit).count(), 10, 1)
            };
            let start = skip;
            let digits_str = &after[start..start + digits];
            if digits > 0 && digits <= 8 {
                if let Some(c) = u32::from_str_radix(digits_str, radix).ok().and_then(char::from_u32) {
                    out.push(c);
                    let mut consumed = 1 + start + digits;
                    if rest[pos + consumed..].starts_with(';') {
                        consumed += 1;
                    }
                    rest = &rest[pos + consumed..];
                    continue;
                }
            }
        } else if let Some((name, c)) = NAMED.iter().find(|(name, _)| {
            after.get(..name.len()).is_some_and(|a| a.eq_ignore_ascii_case(name))
                && after.as_bytes().get(name.len()) == Some(&b';')
        }) {
            out.push(*c);
            rest = &rest[pos + 2 + name.len()..];
            continue;
        }
        out.push('&');
        rest = after;
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn base64_text_only_where_the_whole_value_is_text() {
        use super::base64_text;
        assert_eq!(base64_text("d2hpbGUodHJ1ZSk7Cg==").as_deref(), Some("while(true);\n"));
        assert_eq!(base64_text("d2hpbGUodHJ1ZSk7Cg").as_deref(), Some("while(true);\n"));
        // binary, a word, an ID, too short
        assert_eq!(base64_text("3q2+7wAAAAD/////AAAAAA=="), None);
        assert_eq!(base64_text("internationalization"), None);
        assert_eq!(base64_text("550e8400-e29b-41d4-a716-446655440000"), None);
        assert_eq!(base64_text("aGVsbG8="), None);
    }

    #[test]
    fn decodes_the_usual_evasions() {
        assert_eq!(normalize("%2527%20OR%201=1"), "' or 1=1");
        assert_eq!(normalize("%c0%ae%c0%ae%c0%af"), "../");
        assert_eq!(normalize("%u003cscript%u003e"), "<script>");
        assert_eq!(normalize("&#x3C;img src=x onerror&#61;alert(1)&gt;"), "<img src=x onerror=alert(1)>");
        assert_eq!(normalize("&#60&#115;"), "<s");
        assert_eq!(normalize("a%00b&amp;c"), "ab&c");
        assert_eq!(normalize("100% & 5%z"), "100% & 5%z");
        // an ampersand that starts no entity leaves the value as it is (borrowed when in lower case)
        assert!(matches!(normalize("id=1&token=abc"), super::Normalized::Borrowed("id=1&token=abc")));
        assert_eq!(normalize("AT&T & Co"), "at&t & co");
        assert_eq!(normalize("Tom &amp; Jerry &LT;b&gt;"), "tom & jerry <b>");
        assert_eq!(normalize("&#60;s &x"), "<s &x");
        assert_eq!(normalize("%ff%fe"), "\u{fffd}\u{fffd}");
        assert_eq!(normalize("＜script＞"), "<script>");
        assert_eq!(normalize("c\\u006Fnsole"), "console");
        assert_eq!(normalize("\\\\u0070roto \\uZZZZ"), "proto \\uzzzz");
        // `\x` runs are bytes: UTF-8 where valid, Latin-1 otherwise, then the US-ASCII fold
        assert_eq!(normalize("\\x3cb\\x3E"), "<b>");
        assert_eq!(normalize("\\xbcscript\\xbe"), "<script>");
        assert_eq!(normalize("\\xc2\\xbcs\\xc3\\xa9"), "<s\u{e9}");
        assert_eq!(normalize("C:\\xampp\\x"), "c:\\xampp\\x");
    }
}
