//! Vehicle identification numbers and their check digit.

use super::keys::has_letter_and_digit;
use super::{Emit, Hint};

pub(super) fn vin(b: &[u8], hint: Hint, emit: &mut Emit<'_>) {
    if b.len() < 17 {
        return;
    }
    let vin_char = |c: u8| (c.is_ascii_uppercase() || c.is_ascii_digit()) && !matches!(c, b'I' | b'O' | b'Q');
    let mut i = 0;
    while i + 17 <= b.len() {
        let run = b[i..].iter().take_while(|c| c.is_ascii_alphanumeric()).count();
        let candidate = run == 17 && b[i..i + 17].iter().all(|&c| vin_char(c)) && has_letter_and_digit(&b[i..i + 17]);
        if candidate && (vin_check_digit(&b[i..i + 17]) || hint == Hint::Vin) {
            emit("vin", 0.9);
            return;
        }
        i += run.max(1);
    }
}

fn vin_check_digit(v: &[u8]) -> bool {
    const WEIGHTS: [u32; 17] = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2];
    let value = |c: u8| -> u32 {
        match c {
            b'0'..=b'9' => u32::from(c - b'0'),
            b'A'..=b'H' => u32::from(c - b'A') + 1,
            b'J'..=b'N' => u32::from(c - b'J') + 1,
            b'P' => 7,
            b'R' => 9,
            b'S'..=b'Z' => u32::from(c - b'S') + 2,
            _ => 0,
        }
    };
    let sum: u32 = v.iter().zip(WEIGHTS).map(|(&c, w)| value(c) * w).sum();
    let check = sum % 11;
    let expected = if check == 10 { b'X' } else { b'0' + check as u8 };
    v[8] == expected
}
