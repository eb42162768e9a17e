//! Cross-site scripting: HTML tags that run script or load content, event-handler attributes
//! (inside a tag or injected into one), script URLs, script sinks and globals outside tags, and
//! known obfuscations (JSFuck, UTF-7). Works on the normalized (decoded, lower-case) value.

mod words;

use crate::detect::bytes;
use std::borrow::Cow;
use words::{EVENTS, FORMATTING, GLOBALS, HARMFUL_ALONE, SINKS, TAGS};

/// Why `s` (a value as `normalize` leaves it: decoded, lower case) is XSS, if it is.
#[inline(never)]
pub fn detect(s: &str) -> Option<&'static str> {
    let b = s.as_bytes();
    if b.len() < 4 {
        return None;
    }
    if b.contains(&b'<') {
        if let Some(reason) = tags(b) {
            return Some(reason);
        }
    }
    // most values have nothing to squeeze (ASCII with no space or control byte): borrow them
    let plain = s.bytes().all(|c| c.is_ascii_graphic());
    let mut squeezed: Cow<'_, str> = if plain {
        Cow::Borrowed(s)
    } else if s.is_ascii() {
        // byte by byte: ASCII's blanks other than the space are control bytes
        let mut kept = Vec::with_capacity(s.len());
        kept.extend(s.bytes().filter(|c| *c != b' ' && !c.is_ascii_control()));
        Cow::Owned(String::from_utf8(kept).unwrap_or_default())
    } else {
        Cow::Owned(s.chars().filter(|c| !c.is_whitespace() && !c.is_control()).collect())
    };
    // `document/*x*/.cookie`: comments split names the browser joins
    if bytes::find(squeezed.as_bytes(), b"/*").is_some() {
        squeezed = Cow::Owned(strip_block_comments(&squeezed));
    }
    // every needle below in one pass over the squeezed value, instead of a substring search each
    let found = Needles::find(&squeezed);
    if found.any(Group::Scheme) {
        return Some("script URL");
    }
    if found.has(DATA) {
        if let Some(p) = squeezed.find("data:") {
            let rest = &squeezed[p + 5..];
            if rest.split_once(',').is_some_and(|(mime, data)| mime.len() < 40 && data.starts_with('<')) {
                return Some("data URL with markup");
            }
        }
    }
    if found.has(ALERT_TEMPLATE)
        || found.has(CALL_TEMPLATE)
        || found.has(APPLY_TEMPLATE)
        || found.has(TEMPLATE_START) && found.any(Group::Sink) && sink_call(squeezed.as_bytes()).is_some()
    {
        return Some("template literal call");
    }
    // `<?import namespace=.. implementation=..>` loads an IE behavior; `<import implementation=`
    // is the same element without the processing-instruction mark
    // `bytes::find`, not `str::contains`, which builds a searcher on every call
    let has = |n: &[u8]| bytes::find(b, n).is_some();
    if has(b"<?import") || has(b"xmlns:xss") || has(b"<import") && has(b"implementation=") {
        return Some("HTML component import");
    }
    if has(b"+adw-") || has(b"+ad4-") {
        return Some("UTF-7 encoded markup");
    }
    if handler_outside_tag(b) {
        return Some("event handler attribute");
    }
    for (i, marker) in MARKERS.iter().enumerate() {
        if found.has(Needles::MARKER_BASE + i)
            && (marker.ends_with('(')
                || found.has(URL_OPEN)
                || marker.contains('=')
                || marker.starts_with('@')
                || marker.starts_with('-'))
        {
            return Some("style or attribute script vector");
        }
    }
    if jsfuck(b) {
        return Some("JSFuck obfuscation");
    }
    if found.any(Group::Global) {
        return Some("script global");
    }
    // `sink_call` finds nothing where no sink name occurs
    if found.any(Group::Sink) {
        sink_call(squeezed.as_bytes())
    } else {
        None
    }
}

const SCHEMES: &[&str] = &[
    "javascript:",
    "vbscript:",
    "livescript:",
    "data:text/html",
    "data:image/svg",
    "data:application/x-",
    "url(javascript",
    "url(vbscript",
    "url(data:",
];
/// Needles of their own, after the schemes, by index.
const SINGLES: &[&str] = &["data:", "${alert", ".call`", ".apply`", "`${", "url("];
const DATA: usize = SCHEMES.len();
const ALERT_TEMPLATE: usize = DATA + 1;
const CALL_TEMPLATE: usize = DATA + 2;
const APPLY_TEMPLATE: usize = DATA + 3;
const TEMPLATE_START: usize = DATA + 4;
const URL_OPEN: usize = DATA + 5;
const MARKERS: &[&str] = &[
    "expression(",
    "-moz-binding",
    "behavior:url",
    "behaviour:url",
    "@import",
    "srcdoc=",
    "formaction=",
    "xlink:href",
    "background:url(",
    "background-image:url(",
];

#[derive(Clone, Copy)]
enum Group {
    Scheme,
    Global,
    Sink,
}

/// Which needles occur in a value: bit `i` for needle `i` of `Needles::all()`.
struct Needles(u128);

impl Needles {
    const MARKER_BASE: usize = SCHEMES.len() + SINGLES.len();
    const GLOBAL_BASE: usize = Self::MARKER_BASE + MARKERS.len();
    const SINK_BASE: usize = Self::GLOBAL_BASE + GLOBALS.len();
    const COUNT: usize = Self::SINK_BASE + SINKS.len();

    /// Every needle, in bit order.
    fn all() -> impl Iterator<Item = &'static &'static str> {
        SCHEMES.iter().chain(SINGLES).chain(MARKERS).chain(GLOBALS).chain(SINKS)
    }

    fn automaton() -> Option<&'static aho_corasick::AhoCorasick> {
        static AUTOMATON: std::sync::OnceLock<Option<aho_corasick::AhoCorasick>> = std::sync::OnceLock::new();
        AUTOMATON.get_or_init(|| aho_corasick::AhoCorasick::new(Self::all()).ok()).as_ref()
    }

    fn find(squeezed: &str) -> Needles {
        const { assert!(Needles::COUNT <= 128, "one bit per needle") };
        let mut bits = 0u128;
        match Self::automaton() {
            Some(automaton) => {
                for m in automaton.find_overlapping_iter(squeezed) {
                    bits |= 1 << m.pattern().as_usize();
                }
            }
            // it cannot fail to build for these needles; if it did, search them one by one
            None => {
                for (i, needle) in Self::all().enumerate() {
                    if squeezed.contains(needle) {
                        bits |= 1 << i;
                    }
                }
            }
        }
        Needles(bits)
    }

    fn has(&self, i: usize) -> bool {
        self.0 & (1 << i) != 0
    }

    fn any(&self, group: Group) -> bool {
        let (start, len) = match group {
            Group::Scheme => (0, SCHEMES.len()),
            Group::Global => (Self::GLOBAL_BASE, GLOBALS.len()),
            Group::Sink => (Self::SINK_BASE, SINKS.len()),
        };
        (self.0 >> start) & ((1u128 << len) - 1) != 0
    }
}

/// Most tags examined per value and bytes of one tag read: keeps a value full of `<` linear.
const MAX_TAGS: usize = 64;
const MAX_TAG_BYTES: usize = 2048;

fn tags(b: &[u8]) -> Option<&'static str> {
    for lt in memchr::memchr_iter(b'<', b).take(MAX_TAGS) {
        let mut i = lt + 1;
        if b.get(i) == Some(&b'/') {
            i += 1;
        }
        let name_start = i;
        while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b':' || b[i] == b'-') {
            i += 1;
        }
        // `< f o r m`: a tag name spelled out with spaces
        let mut spaced = String::new();
        if i == name_start || i == name_start + 1 {
            let mut j = name_start;
            while j + 1 < b.len() && b[j] == b' ' {
                j += 1;
            }
            while j < b.len()
                && b[j].is_ascii_alphabetic()
                && (j + 1 >= b.len() || matches!(b[j + 1], b' ' | b'>' | b'/' | b':'))
            {
                spaced.push(b[j] as char);
                j += 1;
                while j < b.len() && matches!(b[j], b' ' | b':') {
                    j += 1;
                }
            }
            if spaced.len() >= 3 && (TAGS.contains(&spaced.as_str()) || spaced == "script") {
                return Some("tag name spelled with spaces");
            }
        }
        if i > name_start && b[name_start] == b':' && b.get(name_start + 1).is_some_and(u8::is_ascii_alphabetic) {
            // `<:vmlframe`: a namespace prefix left empty
        } else if i == name_start || !b[name_start].is_ascii_alphabetic() {
            continue;
        }
        let full = std::str::from_utf8(&b[name_start..i]).unwrap_or_default();
        let name = full.rsplit(':').next().unwrap_or(full);
        let next = b.get(i).copied();
        let delimited = matches!(next, None | Some(b' ' | b'/' | b'>' | b'\t' | b'\n' | b'\r' | 0x0c));
        if !delimited {
            continue;
        }
        let closing = b[lt + 1] == b'/';
        if HARMFUL_ALONE.contains(&name) && (!closing || name == "script") {
            return Some("script-capable tag");
        }
        // attributes up to the end of the tag (or the value)
        let window = &b[i..b.len().min(i + MAX_TAG_BYTES)];
        let end = window.iter().position(|&c| c == b'>').map_or(i + window.len(), |p| i + p);
        let attrs = &b[i..end];
        if has_handler(attrs, false) {
            return Some("tag with an event handler");
        }
        if TAGS.contains(&name) || full.contains(':') {
            let squeezed: Vec<u8> = attrs.iter().copied().filter(|c| !c.is_ascii_whitespace()).collect();
            let s = String::from_utf8_lossy(&squeezed);
            if s.contains("javascript:") || s.contains("vbscript:") || s.contains("data:") || s.contains("expression(")
            {
                return Some("tag with a script URL");
            }
            // a link's href without a script URL (checked above) is a link, not a script
            let link = matches!(name, "a" | "area");
            // `<img src=` cut off at the end of the value loads nothing
            let set = |attr: &str| s.match_indices(attr).any(|(p, _)| p + attr.len() < s.len());
            if set("src=")
                || (set("href=") && !link)
                || set("style=")
                || set("action=")
                || set("dynsrc=")
                || set("lowsrc=")
                || set("datasrc=")
            {
                return Some("HTML injection with a source attribute");
            }
        }
        if !closing && !FORMATTING.contains(&name) && TAGS.contains(&name) && !presentational_only(attrs) {
            return Some("HTML injection");
        }
    }
    None
}

/// Whether a tag sets no attributes, or only ones that change how it looks (`class`, `id`,
/// `width`, ...): `"><img class="size-full` pasted from a page is markup, not an injection.
fn presentational_only(attrs: &[u8]) -> bool {
    const LOOKS: &[&[u8]] =
        &[b"class", b"id", b"title", b"alt", b"width", b"height", b"align", b"border", b"lang", b"dir"];
    // one pass: an `=` inside a quoted attribute value names nothing
    let mut quotes = 0;
    for (p, &c) in attrs.iter().enumerate() {
        if matches!(c, b'"' | b'\'') {
            quotes += 1;
        }
        // `<img src=` cut off at the end of the value sets nothing
        if c != b'=' || quotes % 2 == 1 || attrs[p + 1..].trim_ascii().is_empty() {
            continue;
        }
        let before = attrs[..p].trim_ascii_end();
        let len = before.iter().rev().take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_')).count();
        // the value is normalized, so names are already in lower case
        if !LOOKS.contains(&&before[before.len() - len..]) {
            return false;
        }
    }
    true
}

fn strip_block_comments(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find("/*") {
        out.push_str(&rest[..start]);
        match rest[start + 2..].find("*/") {
            Some(end) => rest = &rest[start + 2 + end + 2..],
            None => {
                rest = "";
                break;
            }
        }
    }
    out.push_str(rest);
    out
}

/// `onerror=` and friends: `on` + a known event stem, optional spaces, `=`.
fn has_handler(attrs: &[u8], any_name: bool) -> bool {
    let mut i = 0;
    while i + 2 < attrs.len() {
        let boundary =
            i == 0 || matches!(attrs[i - 1], b' ' | b'/' | b'"' | b'\'' | b'\t' | b'\n' | b'\r' | b';' | 0x0c | b'`');
        if boundary && attrs[i] == b'o' && attrs[i + 1] == b'n' {
            let mut j = i + 2;
            while j < attrs.len() && attrs[j].is_ascii_alphabetic() {
                j += 1;
            }
            let stem = &attrs[i + 2..j];
            let mut k = j;
            while k < attrs.len() && attrs[k].is_ascii_whitespace() {
                k += 1;
            }
            // unlisted names as long as the standard ones run (the longest listed is WebKit's)
            let unlisted = || any_name && (3..=32).contains(&stem.len());
            let listed = || EVENTS.iter().any(|e| stem.starts_with(e.as_bytes()));
            // the `=` first: it is one byte, the event list is long
            if attrs.get(k) == Some(&b'=') && (unlisted() || listed()) {
                return true;
            }
        }
        i += 1;
    }
    false
}

/// `" onmouseover="alert(1)`: a handler injected into an attribute of an existing tag. Needs a
/// quote or slash before it, so prose like `turn on=off` stays quiet.
fn handler_outside_tag(b: &[u8]) -> bool {
    let mut from = 0;
    while let Some(p) = bytes::find(&b[from..], b"on") {
        let pos = from + p;
        let before = b[pos.saturating_sub(64)..pos].iter().rev().find(|c| !c.is_ascii_whitespace()).copied();
        // after a quote or slash that closed an attribute, or as the whole value (a parameter
        // name like `  onload=`)
        let attr_context = matches!(before, Some(b'"' | b'\'' | b'/' | b'`'))
            || (pos == 0 && b.contains(&b'('))
            || (before.is_none() && b.len() < 64);
        // only blanks before it (`  onfoo= `): that is an attribute being written, whatever its
        // name, and browsers keep adding events (`onscrollend`) that no list has yet
        let any_name = pos > 0 && before.is_none() && b.len() < 64;
        // a handler name and its `=` fit in 64 bytes
        if attr_context && has_handler(&b[pos..b.len().min(pos + 64)], any_name) {
            return true;
        }
        from = pos + 2;
    }
    false
}

/// `alert(1)`, `alert\`1\``, `eval(atob(...))`: a sink called, not just named.
fn sink_call(b: &[u8]) -> Option<&'static str> {
    for sink in SINKS {
        let mut from = 0;
        while let Some(p) = bytes::find(&b[from..], sink.as_bytes()) {
            let pos = from + p;
            let end = pos + sink.len();
            from = end;
            let word_start = pos == 0 || !(b[pos - 1].is_ascii_alphanumeric() || b[pos - 1] == b'_');
            if !word_start {
                continue;
            }
            let before = pos.checked_sub(1).map(|q| b[q]);
            let called = match b.get(end) {
                Some(b'`') => true,
                // `(alert)(1)`, `a=alert,a(1)`: the function passed around, then called
                Some(b')') if before == Some(b'(') && b.get(end + 1) == Some(&b'(') => true,
                Some(b',') if before == Some(b'=') && bytes::find(&b[end..], b"(").is_some() => true,
                Some(b'(') => {
                    // a call with a script-looking argument, or preceded by script syntax
                    let prefix_js = pos > 0
                        && matches!(
                            b[pos - 1],
                            b';' | b'.'
                                | b'='
                                | b'('
                                | b'['
                                | b'{'
                                | b'>'
                                | b'\''
                                | b'"'
                                | b'+'
                                | b'|'
                                | b'&'
                                | b':'
                                | b'!'
                                | b'-'
                                | b'*'
                                | b'}'
                        );
                    let arg = b.get(end + 1).copied();
                    let arg_js = matches!(arg, Some(b'0'..=b'9' | b'\'' | b'"' | b'`' | b'/' | b'[' | b')'))
                        || b[end..].starts_with(b"(document")
                        || b[end..].starts_with(b"(window")
                        || b[end..].starts_with(b"(atob")
                        || b[end..].starts_with(b"(string");
                    (prefix_js || pos == 0)
                        && arg_js
                        && !matches!(*sink, "open" | "print" | "write" | "writeln" | "fetch")
                        || (prefix_js && arg_js && matches!(*sink, "write" | "writeln" | "open"))
                }
                _ => false,
            };
            if called {
                return Some("script sink called");
            }
        }
    }
    None
}

/// JSFuck and similar: long runs made only of `[]()!+`.
fn jsfuck(b: &[u8]) -> bool {
    let mut run = 0;
    let mut best = 0;
    for &c in b {
        if matches!(c, b'[' | b']' | b'(' | b')' | b'!' | b'+') {
            run += 1;
            best = best.max(run);
        } else {
            run = 0;
        }
    }
    best >= 12
}

#[cfg(test)]
mod tests {
    use super::detect;

    #[test]
    fn vectors() {
        for s in [
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "\" onmouseover=\"alert(1)",
            "<svg/onload=alert(1)>",
            "javascript:alert(1)",
            "java\tscript:alert(1)",
            "<a href=\"javascript:void(0)\">x</a>",
            "<iframe src=//evil>",
            "';alert(String.fromCharCode(88,83,83))//",
            "(document)[\"cookie\"]",
            "<body onload=x()>",
            "alert`1`",
            "<div style=\"background:url(javascript:alert(1))\">",
            "+adw-script+ad4-alert(1)+adw-/script+ad4-",
            "[][(![]+[])[+[]]+(![]+[])[!+[]+!+[]]]",
            "<x:script>",
            "< f o r m",
            "<input pattern=\"^a$\">",
            "style=x:url(javascript",
            "data: , <x>",
            "\"><form action=//evil>",
            "\"><img src=x>",
            "<import implementation=\"#default#time2\">",
            // only blanks before an `on...=` name: an attribute being written, listed or not
            "  onscrollend= ",
        ] {
            assert!(detect(&crate::detect::normalize(s)).is_some(), "missed {s}");
        }
    }

    #[test]
    fn ordinary_text_stays_quiet() {
        for s in [
            "a < b and c > d",
            "turn on=off",
            "the online store",
            "see <https://example.com>",
            "i <3 rust",
            "prompt engineering tips",
            "<div class=\"card\"><p>hello</p></div>",
            "please confirm (yes/no)",
            "use eval sparingly",
            "<b>bold</b> text",
            "x = a.open(file)",
            "call alert() later",
            // markup pasted from a page: looks only, or a source left empty
            "v1_other_1\"><img class=\"size-full wp-image-2764",
            "listing-price\"> <img src=",
            "import implementation details",
            "  online=yes and more text after it that runs past sixty-four bytes of value",
            "  onthisisaverylongwordthathasmorethanfiftycharacters= ",
        ] {
            let s = crate::detect::normalize(s);
            assert!(detect(&s).is_none(), "flagged {s}: {:?}", detect(&s));
        }
    }
}
