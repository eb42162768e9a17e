//! Host calls the root and HTTP contexts both make, each failure mapped to "unknown".

use proxy_wasm::hostcalls;
use std::time::{Duration, UNIX_EPOCH};

/// Time since the epoch on Envoy's clock; `None` if the host cannot say.
pub fn since_epoch() -> Option<Duration> {
    hostcalls::get_current_time().ok()?.duration_since(UNIX_EPOCH).ok()
}

/// Milliseconds since the epoch (0 if unknown).
pub fn now_ms() -> u64 {
    since_epoch().map_or(0, |d| d.as_millis() as u64)
}

/// Microseconds since the epoch (0 if unknown).
pub fn now_us() -> u64 {
    since_epoch().map_or(0, |d| d.as_micros() as u64)
}

/// A string property; `None` when absent or empty.
pub fn property_string(path: Vec<&str>) -> Option<String> {
    let bytes = hostcalls::get_property(path).ok().flatten()?;
    let value = String::from_utf8_lossy(&bytes).into_owned();
    (!value.is_empty()).then_some(value)
}

/// An integer property (Envoy serialises them as 8 little-endian bytes); 0 when absent.
pub fn property_u64(path: Vec<&str>) -> u64 {
    match hostcalls::get_property(path) {
        Ok(Some(bytes)) if bytes.len() == 8 => {
            let mut raw = [0u8; 8];
            raw.copy_from_slice(&bytes);
            u64::try_from(i64::from_le_bytes(raw)).unwrap_or(0)
        }
        _ => 0,
    }
}
