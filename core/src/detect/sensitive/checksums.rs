//! Check digits and number rules: Luhn and issuer ranges, SSN areas, Verhoeff, CPF.

pub(super) fn luhn(d: &[u8]) -> bool {
    let sum: u32 = d
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &x)| {
            let x = u32::from(x);
            if i % 2 == 1 {
                let y = x * 2;
                if y > 9 {
                    y - 9
                } else {
                    y
                }
            } else {
                x
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Issuer ranges of the card networks, with the lengths each issues.
pub(super) fn card_issuer(d: &[u8]) -> bool {
    let prefix = |k: usize| d.iter().take(k).fold(0u32, |a, &x| a * 10 + u32::from(x));
    let n = d.len();
    let (p1, p2, p3, p4, p6) = (prefix(1), prefix(2), prefix(3), prefix(4), prefix(6));
    (p1 == 4 && matches!(n, 13 | 16 | 19))
        || ((51..=55).contains(&p2) || (2221..=2720).contains(&p4)) && n == 16
        || (p2 == 34 || p2 == 37) && n == 15
        || (p4 == 6011 || (644..=649).contains(&p3) || p2 == 65 || (622126..=622925).contains(&p6)) && n >= 16
        || (3528..=3589).contains(&p4) && n >= 16
        || ((300..=305).contains(&p3) || p2 == 36 || p2 == 38 || p2 == 39) && n >= 14
        || p2 == 62 && n >= 16
        || (2200..=2204).contains(&p4) && n >= 16
        || (p2 == 50 || (56..=69).contains(&p2)) && n >= 12
        || p1 == 1 && n == 15
}

/// SSA rules: no area 000, 666 or 900-999, no group 00, no serial 0000, and not the numbers
/// printed in advertisements and examples.
pub(super) fn ssn_valid(d: &[u8]) -> bool {
    let num = |r: std::ops::Range<usize>| d[r].iter().fold(0u32, |a, &x| a * 10 + u32::from(x));
    let (area, group, serial) = (num(0..3), num(3..5), num(5..9));
    let all_same = d.iter().all(|&x| x == d[0]);
    let famous = matches!((area, group, serial), (78, 5, 1120) | (219, 9, 9999) | (123, 45, 6789) | (457, 55, 5462));
    area != 0 && area != 666 && area < 900 && group != 0 && serial != 0 && !all_same && !famous
}

pub(super) fn verhoeff(d: &[u8]) -> bool {
    const D: [[u8; 10]; 10] = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
        [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
        [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
        [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
        [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
        [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
        [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
        [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
        [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
    ];
    const P: [[u8; 10]; 8] = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
        [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
        [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
        [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
        [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
        [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
        [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
    ];
    let mut c = 0u8;
    for (i, &x) in d.iter().rev().enumerate() {
        c = D[c as usize][P[i % 8][x as usize] as usize];
    }
    c == 0 && !d.iter().all(|&x| x == d[0])
}

pub(super) fn cpf_valid(d: &[u8]) -> bool {
    if d.iter().all(|&x| x == d[0]) {
        return false;
    }
    let check = |len: usize| {
        let sum: u32 = d[..len].iter().enumerate().map(|(i, &x)| u32::from(x) * (len as u32 + 1 - i as u32)).sum();
        let r = (sum * 10) % 11;
        if r == 10 {
            0
        } else {
            r as u8
        }
    };
    check(9) == d[9] && check(10) == d[10]
}
