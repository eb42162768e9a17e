//! Digit runs: cards, SSNs, phone numbers, IPv4 addresses, Aadhaar and CPF numbers, each
//! validated by its format and check digits.

use super::checksums::{card_issuer, cpf_valid, luhn, ssn_valid, verhoeff};
use super::{Emit, Hint};

/// A run of digits with single separators between groups: `4111 1111 1111 1111`,
/// `(555) 123-4567`, `+44 20 7946 0958`, `192.168.0.1`.
struct NumberSpan {
    digits: Small<24>,
    groups: Small<24>,
    separators: Small<24>,
    plus: bool,
}

/// A fixed-size list: number spans are short, and this runs for every value with a digit.
#[derive(Clone, Copy)]
struct Small<const N: usize> {
    items: [u8; N],
    len: usize,
}

impl<const N: usize> Small<N> {
    const fn new() -> Self {
        Small { items: [0; N], len: 0 }
    }
    fn push(&mut self, v: u8) {
        if self.len < N {
            self.items[self.len] = v;
            self.len += 1;
        }
    }
    fn as_slice(&self) -> &[u8] {
        &self.items[..self.len]
    }
    fn len(&self) -> usize {
        self.len
    }
    fn is_empty(&self) -> bool {
        self.len == 0
    }
    fn bump_last(&mut self) {
        if self.len > 0 {
            self.items[self.len - 1] = self.items[self.len - 1].saturating_add(1);
        }
    }
}

pub(super) fn numbers(b: &[u8], hint: Hint, emit: &mut Emit<'_>) {
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let starts = c.is_ascii_digit() || ((c == b'+' || c == b'(') && b.get(i + 1).is_some_and(u8::is_ascii_digit));
        // most bytes start nothing: decide that before looking back
        if !starts || (i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_')) {
            i += 1;
            continue;
        }
        let start = i;
        let (span, end) = read_span(b, i);
        i = end.max(i + 1);
        let followed_by_word = b.get(end).is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_');
        // `01-23-45-67-89-AB`: the digits go on into a longer token
        let token_goes_on = matches!(b.get(end), Some(b'-' | b':' | b'.' | b'/'))
            && b.get(end + 1).is_some_and(|c| c.is_ascii_alphanumeric());
        if followed_by_word || span.digits.len() < 4 {
            continue;
        }
        // `frame-139903225568640`, `order-4111...`: the digits end a hyphenated identifier, a
        // name its program made up (one long digit run in ten passes Luhn); a card field still
        // names its value a card
        let ends_identifier = start >= 2 && b[start - 1] == b'-' && b[start - 2].is_ascii_alphabetic();
        if ends_identifier && hint != Hint::Card {
            continue;
        }
        if token_goes_on || after_code_group(&b[..start]) {
            // what validates (a card, an IBAN's digits elsewhere) still counts; a bare phone shape
            // inside a longer code does not, nor an Aadhaar, whose one check digit passes for one
            // group of digits in ten
            classify(&span, hint, &mut |class, confidence| {
                if class != "phone" && class != "aadhaar" {
                    emit(class, confidence)
                }
            });
            continue;
        }
        // `Phone: 5321234567`, `Tel. 555 1234`: prose names the number, as a field name would
        let hint = if hint == Hint::None && phone_word_before(&b[..start]) { Hint::Phone } else { hint };
        classify(&span, hint, emit);
    }
}

/// Whether the words just before a number call it a phone number (`Phone:`, `mobile no.`,
/// `Tel`, `telefon numaram`).
fn phone_word_before(before: &[u8]) -> bool {
    let tail = &before[before.len().saturating_sub(24)..];
    let Some(word_end) = tail.iter().rposition(u8::is_ascii_alphabetic) else { return false };
    // only punctuation and blanks between the word and the number: `phone: `, `tel. `, `cell - `
    if !tail[word_end + 1..].iter().all(|c| matches!(c, b' ' | b':' | b'.' | b'-' | b'#' | b'=' | b'(' | b')')) {
        return false;
    }
    let words = &tail[..=word_end];
    let lower: Vec<u8> = words.iter().map(u8::to_ascii_lowercase).collect();
    let last = lower.rsplit(|c| !c.is_ascii_alphabetic()).next().unwrap_or_default();
    matches!(last, b"phone" | b"mobile" | b"tel" | b"telephone" | b"telefon" | b"cell" | b"cellphone" | b"fax")
        || (matches!(last, b"no" | b"number" | b"numaram" | b"nr") && {
            let before_last = &lower[..lower.len() - last.len()];
            let prev = before_last.rsplit(|c| !c.is_ascii_alphabetic()).find(|w| !w.is_empty()).unwrap_or_default();
            matches!(prev, b"phone" | b"mobile" | b"tel" | b"telefon" | b"cell" | b"contact")
        })
}

/// `NL91 ABNA 0417 1643 00`: the digits continue a code written in groups (an IBAN, a
/// reference), as one of the short groups run up to them mixes letters and digits.
fn after_code_group(before: &[u8]) -> bool {
    let Some(before) = before.strip_suffix(b" ") else {
        return false;
    };
    before
        .rsplit(|c| *c == b' ')
        .take(12)
        .take_while(|t| !t.is_empty() && t.len() <= 6 && t.iter().all(u8::is_ascii_alphanumeric))
        .any(|t| t.iter().any(u8::is_ascii_alphabetic) && t.iter().any(u8::is_ascii_digit))
}

fn read_span(b: &[u8], start: usize) -> (NumberSpan, usize) {
    let mut span = NumberSpan { digits: Small::new(), groups: Small::new(), separators: Small::new(), plus: false };
    span.groups.push(0);
    let mut i = start;
    if b[i] == b'+' {
        span.plus = true;
        i += 1;
    }
    while i < b.len() && span.digits.len() < 24 {
        let c = b[i];
        if c.is_ascii_digit() {
            span.digits.push(c - b'0');
            span.groups.bump_last();
            i += 1;
            continue;
        }
        // one separator (or `) ` / ` (` pairs in phone numbers) between digit groups
        let sep_len = match (c, b.get(i + 1)) {
            (b')', Some(b' ' | b'-')) | (b' ', Some(b'(')) => 2,
            (b' ' | b'-' | b'.' | b'(' | b')' | b'/' | b':', _) => 1,
            _ => 0,
        };
        // colons only between groups of four (`3123:4567:8909`), so `10.0.0.1:8080` still
        // ends at its port
        let colon_ok =
            || span.groups.as_slice().last() == Some(&4) && span.separators.as_slice().iter().all(|&s| s == b':');
        if sep_len == 0 || !b.get(i + sep_len).is_some_and(u8::is_ascii_digit) || (c == b':' && !colon_ok()) {
            break;
        }
        if span.digits.is_empty() && c != b'(' {
            break;
        }
        // a long run changing its separator is two numbers side by side (`4111...1111 4111-...`);
        // so is a long group followed by a separator
        let last_separator = span.separators.as_slice().last().copied();
        let long_group = span.groups.as_slice().last().is_some_and(|&g| g > 8);
        if (span.digits.len() >= 12 && last_separator.is_some_and(|l| l != c)) || long_group {
            break;
        }
        span.separators.push(c);
        if !span.digits.is_empty() {
            span.groups.push(0);
        }
        i += sep_len;
    }
    if span.groups.as_slice().first() == Some(&0) {
        let mut rest = Small::new();
        for &g in &span.groups.as_slice()[1..] {
            rest.push(g);
        }
        span.groups = rest;
    }
    (span, i)
}

fn classify(span: &NumberSpan, hint: Hint, emit: &mut Emit<'_>) {
    let d = span.digits.as_slice();
    let n = d.len();
    let only = |allowed: &[u8]| span.separators.as_slice().iter().all(|s| allowed.contains(s));
    let all_groups = span.groups.as_slice();
    // Aadhaar: 12 digits, the first 2-9, a Verhoeff check, whole or grouped 4-4-4 by `separators`
    let mut aadhaar = |separators: &[u8]| {
        let found = !span.plus
            && n == 12
            && (all_groups == [12] || all_groups == [4, 4, 4])
            && only(separators)
            && d[0] >= 2
            && verhoeff(d);
        if found {
            emit("aadhaar", if hint == Hint::Aadhaar { 0.99 } else { 0.85 });
        }
        found
    };
    // colons group only Aadhaar numbers (`3123:4567:8909`); elsewhere they are times and ports
    if span.separators.as_slice().contains(&b':') {
        aadhaar(b":");
        return;
    }
    // `192.168.1.0/24`: an address with a prefix length
    let cidr = all_groups.len() == 5 && span.separators.as_slice().last() == Some(&b'/') && all_groups[4] <= 3;
    let groups = if cidr { &all_groups[..4] } else { all_groups };
    let ip_separators = span.separators.as_slice().iter().filter(|&&c| c != b'(').take(if cidr { 3 } else { 4 });
    if !span.plus
        && ip_separators.clone().all(|&c| c == b'.')
        && ip_separators.count() == 3
        && groups.len() == 4
        && groups.iter().all(|&g| (1..=3).contains(&g))
    {
        let mut idx = 0;
        let ok = groups.iter().all(|&g| {
            let g = usize::from(g);
            let v = d[idx..idx + g].iter().fold(0u32, |a, &x| a * 10 + u32::from(x));
            let leading_zero = g > 1 && d[idx] == 0;
            idx += g;
            v <= 255 && !leading_zero
        });
        if ok {
            emit("ip_address", 0.9);
            return;
        }
    }
    if !span.plus && (13..=19).contains(&n) && only(b" -") && luhn(d) && card_issuer(d) {
        emit("credit_card", if hint == Hint::Card { 0.99 } else { 0.95 });
        return;
    }
    if !span.plus && n == 9 {
        let formatted =
            groups == [3, 2, 4] && only(b"- .") && span.separators.as_slice().windows(2).all(|w| w[0] == w[1]);
        if (formatted || (groups == [9] && hint == Hint::Ssn)) && ssn_valid(d) {
            emit("us_ssn", if hint == Hint::Ssn { 0.99 } else { 0.85 });
            return;
        }
    }
    if aadhaar(b" -") {
        return;
    }
    if !span.plus && n == 11 {
        let formatted = groups == [3, 3, 3, 2] && span.separators.as_slice() == b"..-";
        if (formatted || (groups == [11] && hint == Hint::Cpf)) && cpf_valid(d) {
            emit("br_cpf", 0.9);
            return;
        }
    }
    let date_like = groups.len() == 3 && (groups == [4, 2, 2] || groups == [2, 2, 4]) && only(b"-/.");
    if date_like {
        return;
    }
    if span.plus && (8..=15).contains(&n) && d[0] != 0 && only(b" -.()") {
        emit("phone", if hint == Hint::Phone { 0.99 } else { 0.85 });
    } else if hint == Hint::Phone && (7..=15).contains(&n) {
        emit("phone", 0.9);
    } else if n == 10 && (groups == [3, 3, 4]) && only(b" -.()") && d[0] >= 2 && d[3] >= 2 {
        emit("phone", 0.75);
    } else if n == 10
        && groups == [3, 3, 2, 2]
        && d[0] != 0
        && span.separators.as_slice().windows(2).all(|w| w[0] == w[1])
    {
        // `532 123 45 67`, `532.123.45.67`: grouped as Turkish and some European numbers are
        emit("phone", 0.7);
    } else if (9..=11).contains(&n)
        && d[0] == 0
        && groups.len() >= 2
        && groups[0] <= 5
        && (n > 9 || groups == [2, 7])
        && only(b" -()")
    {
        // `020 7946 0958`, `0 (917) 123 4567`, `09-7625400` (Israel: 9 digits)
        emit("phone", 0.6);
    } else if n == 11 && groups.len() == 1 && ((d[0] == 0 && matches!(d[1], 5 | 7 | 8 | 9)) || (d[0] == 1 && d[1] >= 3))
    {
        // mobile numbers written without spaces: `09171234567` (PH), `07700900123` (UK),
        // `05321234567` (TR), `09012345678` (JP), `13812345678` (CN); other 11-digit runs
        // starting with 0 are as often tax and national IDs (PESEL, Partita IVA)
        emit("phone", 0.5);
    }
}
