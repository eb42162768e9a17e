//! Directory traversal: `../` in its many spellings, encoded separators before system files,
//! absolute paths to system locations.

use super::bytes;

/// `../`, `..\`, `.../`, `....//` and a leading `/..`; also with the backslashes some
/// scanners put before dots and slashes (`\.\./`).
#[inline(never)]
pub(super) fn traversal(b: &[u8]) -> Option<&'static str> {
    if let Some(reason) = traversal_plain(b) {
        return Some(reason);
    }
    if b.contains(&b'\\') {
        let unescaped: Vec<u8> = b.iter().copied().filter(|&c| c != b'\\').collect();
        if bytes::find(&unescaped, b"../").is_some() {
            return Some("directory traversal sequence");
        }
    }
    // `0x2e0x2e0x2f`, `..0x5c..0x5c`: bytes written as hex literals
    if [&b"0x2e"[..], b"0x2f", b"0x5c"].iter().any(|h| bytes::find(b, h).is_some()) {
        let text = String::from_utf8_lossy(b).replace("0x2e", ".").replace("0x2f", "/").replace("0x5c", "/");
        if traversal_plain(text.as_bytes()).is_some() {
            return Some("directory traversal sequence (hex literals)");
        }
    }
    None
}

/// A system file behind separators and dots no decoder turned into `/` and `.`, as traversal
/// fuzzers write them (`%c0%ae%c0%ae%c1%pc...etc%c1%pcpasswd`, `..%%35%%63boot.ini`): what comes
/// before the file name is a run of punctuation, percent signs, hex digits and short letter runs.
#[inline(never)]
pub(super) fn encoded_traversal(b: &[u8]) -> Option<&'static str> {
    // a first letter that is a hex digit can be eaten by a decoding round (`%f` + `boot`), so
    // `oot.ini` and `esktop.ini`
    const TARGETS: &[&[u8]] = &[b"passwd", b"oot.ini", b"win.ini", b"esktop.ini", b"system.ini", b"{file}"];
    // the escapes fuzzers use: hex digits, `%u`, `0x`, and the broken IIS forms (`%c1%pc`, `%bg%qf`)
    let encoding_run = |run: &[u8]| run.len() <= 3;
    let junk = |part: &[u8]| {
        !part.is_empty() && part.len() <= 400 && part.split(|c| !c.is_ascii_alphabetic()).all(encoding_run)
    };
    let dotted = |part: &[u8]| part.iter().filter(|c| matches!(c, b'.' | b'?')).count() >= 2;
    // everything up to and including the file name is one token: prose stops at its first blank,
    // so no part `junk` reads holds one
    let b = &b[..b.iter().position(u8::is_ascii_whitespace).unwrap_or(b.len())];
    // with fewer than two dots no prefix is `dotted`, and only the `passwd` separators are left
    // (an email address has one dot before its domain and gets one search instead of six)
    let targets = if dotted(b) { TARGETS } else { &TARGETS[..1] };
    for target in targets {
        let Some(p) = bytes::find(b, target) else { continue };
        let prefix = &b[..p];
        if junk(prefix) && dotted(prefix) {
            return Some("system file behind encoded traversal");
        }
        if *target == b"passwd" {
            // `etc` + a separator that stayed encoded: `etc%c1%pcpasswd`, `etc0x5cpasswd`
            let Some(e) = memchr::memmem::rfind(&prefix[prefix.len().saturating_sub(16)..], b"etc") else { continue };
            let e = prefix.len().saturating_sub(16) + e;
            let separator = &prefix[e + 3..];
            let before = &prefix[..e];
            let encoded_separator = junk(separator)
                && separator.iter().any(|c| !c.is_ascii_alphanumeric() && !matches!(c, b'-' | b'_' | b'.' | b','));
            if encoded_separator && (before.is_empty() || junk(before)) {
                return Some("system file behind encoded separators");
            }
        }
    }
    None
}

fn traversal_plain(b: &[u8]) -> Option<&'static str> {
    let mut from = 0;
    while let Some(p) = bytes::find(&b[from..], b"..") {
        let pos = from + p;
        let mut end = pos + 2;
        while end < b.len() && b[end] == b'.' {
            end += 1;
        }
        let slash_after = matches!(b.get(end), Some(b'/' | b'\\' | b';'));
        let slash_before = pos == 0 || matches!(b[pos - 1], b'/' | b'\\' | b'=' | b'"' | b'\'' | b' ');
        // `href="../"`: a quoted link to the parent folder, with nothing past it
        let quoted_parent =
            pos > 0 && matches!(b[pos - 1], b'"' | b'\'') && end - pos == 2 && b.get(end + 1) == Some(&b[pos - 1]);
        if slash_after && slash_before && !quoted_parent {
            return Some("directory traversal sequence");
        }
        // `dir/..` at the end; `see foo/...` is an ellipsis
        if end == b.len() && end - pos == 2 && pos > 0 && matches!(b[pos - 1], b'/' | b'\\') {
            return Some("directory traversal sequence");
        }
        from = end;
    }
    // an absolute path to where systems keep configuration, logs and credentials
    const ROOTS: &[&[u8]] = &[
        b"/etc/",
        b"/proc/",
        b"/sys/",
        b"/root/",
        b"/var/log",
        b"/var/lib/",
        b"/var/www",
        b"/var/run",
        b"/usr/local/etc",
        b"/dev/",
        b"/boot/",
        b"c:\\",
        b"c:/",
        b"/windows/",
        b"/winnt/",
        b"/home/",
        b"/opt/",
        b"/usr/local/",
        b"/var/mail",
        b"/var/spool",
        b"/var/cpanel",
        b"/var/adm",
    ];
    // at the start of the value or of a word (`cat /etc/subuid`, `x; >/tmp/a`)
    let word_starts = std::iter::once(0).chain(
        b.iter()
            .enumerate()
            .filter(|(_, c)| matches!(c, b' ' | b'>' | b'<' | b';' | b'|' | b'=' | b'\'' | b'"'))
            .map(|(i, _)| i + 1),
    );
    for start in word_starts {
        if ROOTS.iter().any(|r| b[start.min(b.len())..].starts_with(r))
            || (start > 0 && b[start..].starts_with(b"/tmp/"))
        {
            return Some("absolute path to a system location");
        }
    }
    None
}
