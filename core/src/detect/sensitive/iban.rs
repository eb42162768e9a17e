//! IBANs: per-country length (ISO 13616 registry) and mod-97.

use super::{Emit, Hint};

/// IBAN length per country (ISO 13616 registry).
fn iban_length(country: &[u8]) -> Option<usize> {
    const LENGTHS: &[(&[u8; 2], usize)] = &[
        (b"AD", 24),
        (b"AE", 23),
        (b"AL", 28),
        (b"AT", 20),
        (b"AZ", 28),
        (b"BA", 20),
        (b"BE", 16),
        (b"BG", 22),
        (b"BH", 22),
        (b"BI", 27),
        (b"BR", 29),
        (b"BY", 28),
        (b"CH", 21),
        (b"CR", 22),
        (b"CY", 28),
        (b"CZ", 24),
        (b"DE", 22),
        (b"DJ", 27),
        (b"DK", 18),
        (b"DO", 28),
        (b"EE", 20),
        (b"EG", 29),
        (b"ES", 24),
        (b"FI", 18),
        (b"FK", 18),
        (b"FO", 18),
        (b"FR", 27),
        (b"GB", 22),
        (b"GE", 22),
        (b"GI", 23),
        (b"GL", 18),
        (b"GR", 27),
        (b"GT", 28),
        (b"HN", 28),
        (b"HR", 21),
        (b"HU", 28),
        (b"IE", 22),
        (b"IL", 23),
        (b"IQ", 23),
        (b"IS", 26),
        (b"IT", 27),
        (b"JO", 30),
        (b"KW", 30),
        (b"KZ", 20),
        (b"LB", 28),
        (b"LC", 32),
        (b"LI", 21),
        (b"LT", 20),
        (b"LU", 20),
        (b"LV", 21),
        (b"LY", 25),
        (b"MC", 27),
        (b"MD", 24),
        (b"ME", 22),
        (b"MK", 19),
        (b"MN", 20),
        (b"MR", 27),
        (b"MT", 31),
        (b"MU", 30),
        (b"NI", 28),
        (b"NL", 18),
        (b"NO", 15),
        (b"OM", 23),
        (b"PK", 24),
        (b"PL", 28),
        (b"PS", 29),
        (b"PT", 25),
        (b"QA", 29),
        (b"RO", 24),
        (b"RS", 22),
        (b"RU", 33),
        (b"SA", 24),
        (b"SC", 31),
        (b"SD", 18),
        (b"SE", 24),
        (b"SI", 19),
        (b"SK", 24),
        (b"SM", 27),
        (b"SO", 23),
        (b"ST", 25),
        (b"SV", 28),
        (b"TL", 23),
        (b"TN", 24),
        (b"TR", 26),
        (b"UA", 29),
        (b"VA", 22),
        (b"VG", 24),
        (b"XK", 20),
        (b"YE", 30),
    ];
    LENGTHS.iter().find(|(c, _)| c.as_slice() == country).map(|(_, n)| *n)
}

pub(super) fn iban(b: &[u8], hint: Hint, emit: &mut Emit<'_>) {
    let mut i = 0;
    while i + 4 <= b.len() {
        let starts = b[i].is_ascii_alphabetic()
            && b[i + 1].is_ascii_alphabetic()
            && b[i + 2].is_ascii_digit()
            && b[i + 3].is_ascii_digit()
            && (i == 0 || !b[i - 1].is_ascii_alphanumeric());
        if !starts {
            i += 1;
            continue;
        }
        let country = [b[i].to_ascii_uppercase(), b[i + 1].to_ascii_uppercase()];
        let Some(len) = iban_length(&country) else {
            i += 1;
            continue;
        };
        // collect up to `len` alphanumerics, allowing single spaces or dashes between groups
        let mut chars = Vec::with_capacity(len);
        let mut j = i;
        while j < b.len() && chars.len() < len {
            let c = b[j];
            if c.is_ascii_alphanumeric() {
                chars.push(c.to_ascii_uppercase());
            } else if !((c == b' ' || c == b'-') && b.get(j + 1).is_some_and(u8::is_ascii_alphanumeric)) {
                break;
            }
            j += 1;
        }
        let ends_cleanly = !b.get(j).is_some_and(u8::is_ascii_alphanumeric);
        // an IBAN is written in capitals, or all in lower case by someone typing it;
        // `LV80 bANK ...` is neither
        let letters = || b[i..j].iter().filter(|c| c.is_ascii_alphabetic());
        let one_case = letters().all(u8::is_ascii_uppercase) || letters().all(u8::is_ascii_lowercase);
        if chars.len() == len && ends_cleanly && one_case && mod97(&chars) {
            emit("iban", if hint == Hint::Iban { 0.99 } else { 0.95 });
            return;
        }
        i += 1;
    }
}

pub(super) fn mod97(chars: &[u8]) -> bool {
    let mut rem: u32 = 0;
    for &c in chars[4..].iter().chain(&chars[..4]) {
        let v = if c.is_ascii_digit() { u32::from(c - b'0') } else { u32::from(c - b'A') + 10 };
        rem = if v >= 10 { (rem * 100 + v) % 97 } else { (rem * 10 + v) % 97 };
    }
    rem == 1
}
