//! Latitude and longitude pairs.

use super::Emit;

/// `37.7749, -122.4194`: a latitude and longitude pair with the precision GPS gives.
pub(super) fn coordinates(value: &str, emit: &mut Emit<'_>) {
    if !value.contains(',') || value.len() > 64 {
        return;
    }
    let mut parts = value.trim().trim_matches(['(', ')', '[', ']']).split(',');
    let (Some(a), Some(b), None) = (parts.next(), parts.next(), parts.next()) else { return };
    let precise = |s: &str| {
        let s = s.trim();
        let decimals = s.split_once('.').map(|(_, d)| d.len()).unwrap_or(0);
        (decimals >= 4 && s.bytes().all(|c| c.is_ascii_digit() || c == b'.' || c == b'-'))
            .then(|| s.parse::<f64>().ok())
    };
    if let (Some(Some(lat)), Some(Some(lng))) = (precise(a), precise(b)) {
        if lat.abs() <= 90.0 && lng.abs() <= 180.0 {
            emit("coordinates", 0.85);
        }
    }
}
