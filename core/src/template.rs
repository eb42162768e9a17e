//! Path templating: `/users/123/orders/9f1c...` -> `/users/{user_id}/orders/{order_id}`.
//!
//! A per-request first pass that looks at one segment at a time. It replaces segments that
//! look like identifiers (integers, UUIDs, long hex, long mixed tokens, prefixed IDs such as
//! `cus_9Xk2...`, dates, emails) and keeps words (`me`, `search`, `v2`) literal. A parameter is
//! named after the collection before it (`orders` -> `order_id`), else `id`; names repeat
//! with a suffix (`id_2`) so a template never names two parameters alike. Word-like IDs
//! (`/users/alice`) are left to cross-request discovery.

/// Placeholder for an identifier-like segment.
pub const ID: &str = "{id}";
/// How every placeholder in a template starts.
pub const PARAM_PREFIX: &str = "{";
const DATE: &str = "{date}";
const EMAIL: &str = "{email}";

/// Longest path we template; longer ones are cut (the raw path is still recorded).
pub const MAX_PATH_LEN: usize = 4096;

/// Templates a path (without query string).
pub fn template_path(path: &str) -> String {
    let path = truncate_to_char_boundary(path, MAX_PATH_LEN);
    let mut out = String::with_capacity(path.len() + 16);
    let mut previous: Option<&str> = None;
    // where each parameter name sits in `out`, to keep names unique without allocating
    let mut names = Names::default();
    // split on `/` by hand: segments are short, and `str::split` set up a searcher for each
    let bytes = path.as_bytes();
    let mut start = 0;
    let mut first = true;
    while start <= bytes.len() {
        let end = bytes[start..].iter().position(|&c| c == b'/').map_or(bytes.len(), |p| start + p);
        let segment = &path[start..end];
        start = end + 1;
        if !first {
            out.push('/');
        }
        first = false;
        // `85860563.json`, `{name}:publish`: the id is the stem, the suffix stays
        let (class, suffix) = classify_with_suffix(segment);
        match class {
            Some(ID) => {
                push_param(&mut out, previous, &mut names);
                out.push_str(suffix);
                previous = None;
            }
            Some(placeholder) => {
                out.push_str(placeholder);
                out.push_str(suffix);
                previous = None;
            }
            None => {
                out.push_str(segment);
                previous = Some(segment);
            }
        }
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

/// A segment's format extension (`.json`, `.xml`: 1 to 5 lowercase letters after the last dot)
/// or custom method (`:publish`, `:batchGet`: letters after the first colon, as Google's API
/// style puts them), and the stem before it; `(segment, "")` without one.
fn split_suffix(segment: &str) -> (&str, &str) {
    let at = match segment.find(':') {
        Some(colon) => Some(colon).filter(|&c| {
            let verb = &segment[c + 1..];
            !verb.is_empty() && verb.bytes().all(|b| b.is_ascii_alphabetic())
        }),
        None => segment.rfind('.').filter(|&d| {
            let ext = &segment[d + 1..];
            (1..=5).contains(&ext.len()) && ext.bytes().all(|b| b.is_ascii_lowercase())
        }),
    };
    match at {
        Some(at) if at > 0 => (&segment[..at], &segment[at..]),
        _ => (segment, ""),
    }
}

/// Appends `{name}`: `users` -> `{user_id}`, `payment-methods` -> `{payment_method_id}`, and
/// `{id}` when the segment before is not a plain word (a version like `v2`, a parameter,
/// nothing); a name already used in this template gets `_2`, `_3`, ...
pub(crate) fn push_param(out: &mut String, previous: Option<&str>, names: &mut Names) {
    out.push('{');
    let start = out.len();
    let word = previous.filter(|w| {
        w.len() >= 2 && w.len() <= 40 && w.bytes().all(|c| c.is_ascii_alphabetic() || c == b'-' || c == b'_')
    });
    match word {
        Some(word) => {
            let (stem, suffix) = singular(word);
            out.extend(stem.chars().map(|c| if c == '-' { '_' } else { c.to_ascii_lowercase() }));
            out.push_str(suffix);
            out.push_str("_id");
        }
        None => out.push_str("id"),
    }
    let base_end = out.len();
    let mut n = 2u32;
    while names.iter().any(|(s, e)| out[s..e] == out[start..]) {
        out.truncate(base_end);
        out.push('_');
        let mut digits = [0u8; 10];
        let mut len = 0;
        let mut v = n;
        loop {
            digits[len] = b'0' + (v % 10) as u8;
            len += 1;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        out.extend(digits[..len].iter().rev().map(|&d| d as char));
        n += 1;
    }
    names.push(start, out.len());
    out.push('}');
}

/// Where the parameter names of a template sit in it: inline for the usual few, on the heap
/// beyond eight (templating is on every request's path; most paths have one or two).
#[derive(Default)]
pub(crate) struct Names {
    inline: [(usize, usize); 8],
    len: usize,
    more: Vec<(usize, usize)>,
}

impl Names {
    fn push(&mut self, start: usize, end: usize) {
        if self.len < self.inline.len() {
            self.inline[self.len] = (start, end);
            self.len += 1;
        } else {
            self.more.push((start, end));
        }
    }

    fn iter(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.inline[..self.len].iter().copied().chain(self.more.iter().copied())
    }
}

/// A rough English singular, enough for API collection names (`categories`, `addresses`,
/// `boxes`, `users`), as a stem of the word plus a suffix; unknown words stay as they are.
fn singular(word: &str) -> (&str, &'static str) {
    let lower_ends =
        |suffix: &str| word.len() > suffix.len() && word[word.len() - suffix.len()..].eq_ignore_ascii_case(suffix);
    if lower_ends("ies") && word.len() >= 5 {
        return (&word[..word.len() - 3], "y");
    }
    if ["sses", "xes", "ches", "shes"].iter().any(|suffix| lower_ends(suffix)) {
        return (&word[..word.len() - 2], "");
    }
    if word.len() > 3 && lower_ends("s") && !lower_ends("ss") && !lower_ends("us") {
        return (&word[..word.len() - 1], "");
    }
    (word, "")
}

/// Returns the placeholder for an ID-like segment, `None` for a literal.
pub fn classify_segment(segment: &str) -> Option<&'static str> {
    classify_with_suffix(segment).0
}

/// What a segment is (see `classify_segment`) and the suffix kept after its placeholder: a
/// format extension or custom method after an id (`85860563.json`, `<id>:open`), else `""`.
fn classify_with_suffix(segment: &str) -> (Option<&'static str>, &str) {
    if segment.is_empty() {
        return (None, "");
    }
    let bytes = segment.as_bytes();
    // one pass decides which checks can match at all, and where a suffix could start
    let (mut digits, mut at, mut punct) = (0, false, false);
    for &c in bytes {
        if c.is_ascii_digit() {
            digits += 1;
        } else if c == b'@' {
            at = true;
        } else if c == b'.' || c == b':' {
            punct = true;
        }
    }
    if punct {
        let (stem, suffix) = split_suffix(segment);
        if !suffix.is_empty() {
            if let Some(class) = classify_counted(stem, stem.bytes().filter(u8::is_ascii_digit).count(), false) {
                return (Some(class), suffix);
            }
        }
    }
    (classify_counted(segment, digits, at), "")
}

/// `classify_segment` with the segment's digits counted and whether it has an `@`.
fn classify_counted(segment: &str, digits: usize, at: bool) -> Option<&'static str> {
    let bytes = segment.as_bytes();
    if bytes.is_empty() {
        return None;
    }
    // most segments are short names (`users`, `orders`): without a digit or `@`, nothing under
    // 11 bytes can be an id (the shortest digitless one is a prefixed id: `a_` and 10 more)
    if bytes.len() <= 10 && digits == 0 && !at {
        return None;
    }
    if digits == bytes.len() {
        return Some(ID);
    }
    // `2024-03-01`: eight digits in ten bytes
    if digits == 8 && is_date(bytes) {
        return Some(DATE);
    }
    if at && is_email(segment) {
        return Some(EMAIL);
    }
    if is_uuid(bytes) || is_long_hex(bytes) || is_mixed_token(bytes) || is_prefixed_id(bytes) {
        return Some(ID);
    }
    None
}

fn truncate_to_char_boundary(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// `7c9e6679-7425-40de-944b-e07fc1f90ae7`, either case.
pub(crate) fn is_uuid(b: &[u8]) -> bool {
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// 16+ hex digits with at least one digit (object ids, hashes); pure words like
/// `deadbeefdeadbeef` still count since they are not dictionary words in practice.
fn is_long_hex(b: &[u8]) -> bool {
    b.len() >= 16 && b.iter().all(u8::is_ascii_hexdigit) && b.iter().any(u8::is_ascii_digit)
}

/// Tokens of 16+ URL-safe characters that look random (base64, ULID, KSUID, ...): either
/// their character class (digit, lower, upper) changes every few characters, or they hold a long
/// digit run beside letters. Words (`droplets_http_response_time_50p`) and camelCase
/// (`getUserProfileSettings`) change class rarely and stay literal.
fn is_mixed_token(b: &[u8]) -> bool {
    if b.len() < 16 || !b.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'=' | b'.' | b'~')) {
        return false;
    }
    let shape = Shape::of(b);
    shape.has_alpha && (shape.looks_random() || shape.longest_digit_run >= 4)
}

/// `cus_9Xk2LmQ8aa`, `acct_DmYpIkHxBljSJP`, `ord-000123`, `CR0123456`: a short alphabetic prefix,
/// then 6+ alphanumerics with 3+ digits, or 10+ that look random.
fn is_prefixed_id(b: &[u8]) -> bool {
    let prefix_len = b.iter().take_while(|c| c.is_ascii_alphabetic()).count();
    if prefix_len == 0 || prefix_len > 8 {
        return false;
    }
    let mut rest = &b[prefix_len..];
    let mut separated = false;
    if let Some((first, tail)) = rest.split_first() {
        if matches!(first, b'_' | b'-') {
            rest = tail;
            separated = true;
        }
    }
    if rest.len() < 6 || !rest.iter().all(u8::is_ascii_alphanumeric) {
        return false;
    }
    let digits = rest.iter().filter(|c| c.is_ascii_digit()).count();
    // after an explicit `prefix_`, a rest that merely changes case often is random enough
    // (about one random base62 id in ten has no digit at all)
    digits >= 3
        || (rest.len() >= 10 && {
            let shape = Shape::of(rest);
            shape.looks_random() || (separated && shape.changes_often())
        })
}

/// Character-class statistics of a token, separators ignored.
struct Shape {
    chars: usize,
    transitions: usize,
    longest_digit_run: usize,
    has_alpha: bool,
    has_digit: bool,
    /// Lowercase runs of a single letter (`DmYpIk`): rare in camelCase words, common at random.
    single_lower_runs: usize,
}

impl Shape {
    fn of(b: &[u8]) -> Shape {
        let class = |c: u8| match c {
            b'0'..=b'9' => 0,
            b'a'..=b'z' => 1,
            b'A'..=b'Z' => 2,
            _ => 3,
        };
        let mut shape = Shape {
            chars: 0,
            transitions: 0,
            longest_digit_run: 0,
            has_alpha: false,
            has_digit: false,
            single_lower_runs: 0,
        };
        let (mut previous, mut run) = (None, 0usize);
        let close_run = |shape: &mut Shape, class: Option<u8>, run: usize| {
            if class == Some(1) && run == 1 {
                shape.single_lower_runs += 1;
            }
            if class == Some(0) {
                shape.longest_digit_run = shape.longest_digit_run.max(run);
            }
        };
        for &c in b {
            let k = class(c);
            if k == 3 {
                close_run(&mut shape, previous, run);
                previous = None;
                run = 0;
                continue;
            }
            shape.chars += 1;
            shape.has_alpha |= k != 0;
            shape.has_digit |= k == 0;
            if previous == Some(k) {
                run += 1;
            } else {
                if previous.is_some() {
                    shape.transitions += 1;
                }
                close_run(&mut shape, previous, run);
                run = 1;
            }
            previous = Some(k);
        }
        close_run(&mut shape, previous, run);
        shape
    }

    /// Random tokens change class often (3+ times, runs under 3 characters on average) and mix
    /// in digits or one-letter lowercase runs, which camelCase words do not.
    fn looks_random(&self) -> bool {
        self.changes_often() && (self.has_digit || self.single_lower_runs >= 3)
    }

    fn changes_often(&self) -> bool {
        self.transitions >= 3 && self.chars < 3 * (self.transitions + 1)
    }
}

/// `2024-01-31` or `20240131`.
fn is_date(b: &[u8]) -> bool {
    let dashed = b.len() == 10
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            _ => c.is_ascii_digit(),
        });
    dashed && matches!(&b[5..7], [b'0', b'1'..=b'9'] | [b'1', b'0'..=b'2'])
}

fn is_email(s: &str) -> bool {
    // a byte loop: most segments are short and have no `@`, and a searcher costs more than it
    let b = s.as_bytes();
    let Some(at) = b.iter().position(|&c| c == b'@') else { return false };
    let domain = &b[at + 1..];
    at > 0 && domain.contains(&b'.') && domain.first() != Some(&b'.') && domain.last() != Some(&b'.')
}

#[cfg(test)]
mod tests;
