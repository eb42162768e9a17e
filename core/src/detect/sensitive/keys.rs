//! Classes only a field name decides (`password`, `passport`, `date_of_birth`, ...) and
//! generic API keys by name and entropy.

use super::hint::Vendor;
use super::secrets::placeholder_secret;
use super::{Emit, Hint};

/// Classes that only the field name can reveal, and numbers that only count with a name.
pub(super) fn by_key(hint: Hint, value: &str, emit: &mut Emit<'_>) {
    // most fields hint nothing, or a class the value itself shows: no placeholder test for them
    let key_only = matches!(
        hint,
        Hint::Password
            | Hint::Secret
            | Hint::VendorSecret(_)
            | Hint::Passport
            | Hint::DriversLicense
            | Hint::Birth
            | Hint::Latitude
            | Hint::Longitude
    );
    if !key_only {
        return;
    }
    let v = value.trim();
    let placeholder = v.is_empty()
        || v.len() > 256
        || v.bytes().all(|b| b == b'*' || b == b'x' || b == b'X' || b == b'.' || b == b'-')
        || matches!(v, "true" | "false" | "null" | "undefined" | "none" | "None" | "[REDACTED]" | "REDACTED");
    if placeholder {
        return;
    }
    match hint {
        Hint::Password => emit("password", 0.9),
        Hint::VendorSecret(vendor) if vendor_key(vendor, v.as_bytes()) => emit("service_token", 0.9),
        Hint::Secret | Hint::VendorSecret(_) => {
            let compact = !v.contains(char::is_whitespace);
            // a UUID is an identifier; `${VAR}` and `$(cmd)` are substituted later
            let uuid_like = v.len() == 36 && v.bytes().filter(|&c| c == b'-').count() == 4;
            let substituted = v.contains("${") || v.contains("$(");
            // the cheap tests first: most values under a secret's name are short or have blanks
            let candidate = compact && v.len() >= 16 && !uuid_like && !substituted;
            let looks_random = || {
                has_letter_and_digit(v.as_bytes()) && entropy(v.as_bytes()) >= 3.3 && !placeholder_secret(v.as_bytes())
            };
            if candidate && looks_random() {
                emit("api_key", 0.8);
            }
        }
        Hint::Passport
            if (5..=20).contains(&v.len())
                && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b' ' || b == b'-') =>
        {
            emit("passport", 0.85)
        }
        Hint::DriversLicense if (4..=20).contains(&v.len()) && v.bytes().any(|b| b.is_ascii_digit()) => {
            emit("drivers_license", 0.85)
        }
        Hint::Birth if looks_like_date(v) => emit("date_of_birth", 0.9),
        Hint::Latitude | Hint::Longitude => {
            let limit = if hint == Hint::Latitude { 90.0 } else { 180.0 };
            if let Ok(x) = v.parse::<f64>() {
                let decimals = v.split_once('.').map(|(_, d)| d.len()).unwrap_or(0);
                if x.abs() <= limit && decimals >= 3 {
                    emit("coordinates", 0.8);
                }
            }
        }
        _ => {}
    }
}

fn vendor_key(vendor: Vendor, v: &[u8]) -> bool {
    vendor.fits(v) && has_letter_and_digit(v) && !placeholder_secret(v)
}

pub(super) fn has_letter_and_digit(b: &[u8]) -> bool {
    b.iter().any(u8::is_ascii_alphabetic) && b.iter().any(u8::is_ascii_digit)
}

/// Shannon entropy in bits per byte.
fn entropy(b: &[u8]) -> f64 {
    let mut counts = [0u32; 256];
    for &c in b {
        counts[c as usize] += 1;
    }
    let n = b.len() as f64;
    counts.iter().filter(|&&c| c > 0).map(|&c| f64::from(c) / n).map(|p| -p * p.log2()).sum()
}

/// `1990-04-12`, `12/04/1990`, `04.12.1990`, `1990/04/12`: a plausible calendar date.
fn looks_like_date(v: &str) -> bool {
    let v = v.split(['T', ' ']).next().unwrap_or(v);
    let parts: Vec<&str> = v.split(['-', '/', '.']).collect();
    if parts.len() != 3 || !parts.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())) {
        return false;
    }
    let nums: Vec<u32> = parts.iter().filter_map(|p| p.parse().ok()).collect();
    if nums.len() != 3 {
        return false;
    }
    let (y, a, b) = if parts[0].len() == 4 { (nums[0], nums[1], nums[2]) } else { (nums[2], nums[0], nums[1]) };
    (1900..=2100).contains(&y) && (1..=31).contains(&a) && (1..=31).contains(&b) && (a <= 12 || b <= 12)
}
