//! What an exchange's event keeps: which bodies are read, how much of them, which header values
//! and which headers carry API keys. The filter's configuration fills it; `meshward analyze`
//! uses the defaults, so both record the same things.

use crate::body::is_json;
use crate::detect::{DetectConfig, Direction};

pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;
pub const DEFAULT_MAX_BODY_FIELDS: usize = 256;
/// Header names whose values are safe and useful to keep. `x-request-id`, `host` and the
/// content types have fields of their own in the event, so they are not repeated here.
pub const DEFAULT_HEADER_VALUE_ALLOWLIST: &[&str] = &["user-agent", "accept", "content-length", "content-encoding"];
/// Headers that carry an API key; their values are hashed into the caller identity.
pub const DEFAULT_API_KEY_HEADERS: &[&str] = &["x-api-key", "api-key", "apikey"];

#[derive(Debug, Clone, PartialEq)]
pub struct CapturePolicy {
    /// Read bodies at all (JSON for its schema; the others for detection).
    pub capture_bodies: bool,
    /// Most bytes of each body read; a longer body is marked truncated.
    pub max_body_bytes: usize,
    /// Most field paths recorded per body.
    pub max_body_fields: usize,
    /// Lower-case header names whose values are recorded.
    pub header_value_allowlist: Vec<String>,
    /// Lower-case header names that carry API keys.
    pub api_key_headers: Vec<String>,
    /// Which peers are proxies whose `x-forwarded-for` is believed (none: the peer is the
    /// client).
    pub trusted_proxies: crate::blocklist::TrustedProxies,
}

impl Default for CapturePolicy {
    fn default() -> Self {
        CapturePolicy {
            capture_bodies: true,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_body_fields: DEFAULT_MAX_BODY_FIELDS,
            header_value_allowlist: DEFAULT_HEADER_VALUE_ALLOWLIST.iter().map(|s| (*s).to_owned()).collect(),
            api_key_headers: DEFAULT_API_KEY_HEADERS.iter().map(|s| (*s).to_owned()).collect(),
            trusted_proxies: crate::blocklist::TrustedProxies::default(),
        }
    }
}

impl CapturePolicy {
    /// Whether a body of this content type is read: JSON for its schema; with detection on,
    /// every body a detector can read (forms, multipart, XML, text, and requests without a
    /// content type). Binary bodies (images, archives, protobuf) are not.
    pub fn reads_body(&self, content_type: &str, direction: Direction, detection: &DetectConfig) -> bool {
        if !self.capture_bodies || self.max_body_bytes == 0 {
            return false;
        }
        if is_json(content_type) {
            return true;
        }
        let scanning = detection.sensitive || (detection.attacks && direction == Direction::Request);
        scanning && is_scannable(content_type, direction)
    }

    pub fn keeps_value(&self, header: &str) -> bool {
        self.header_value_allowlist.iter().any(|h| h == header)
    }
}

/// Bodies the detectors read besides JSON.
fn is_scannable(content_type: &str, direction: Direction) -> bool {
    let mime = content_type.split(';').next().unwrap_or_default().trim();
    let ends = |suffix: &str| {
        mime.len() >= suffix.len()
            && mime.get(mime.len() - suffix.len()..).is_some_and(|end| end.eq_ignore_ascii_case(suffix))
    };
    let starts = |prefix: &str| mime.get(..prefix.len()).is_some_and(|start| start.eq_ignore_ascii_case(prefix));
    (mime.is_empty() && direction == Direction::Request)
        || mime.eq_ignore_ascii_case("application/x-www-form-urlencoded")
        || mime.eq_ignore_ascii_case("multipart/form-data")
        || ends("/xml")
        || ends("+xml")
        || starts("text/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn which_bodies_are_read() {
        let policy = CapturePolicy::default();
        let on = DetectConfig::default();
        let off = DetectConfig { sensitive: false, attacks: false, ..DetectConfig::default() };
        assert!(policy.reads_body("application/json; charset=utf-8", Direction::Response, &off));
        assert!(policy.reads_body("application/problem+json", Direction::Response, &off));
        assert!(!policy.reads_body("text/html", Direction::Response, &off));
        assert!(policy.reads_body("text/html", Direction::Response, &on));
        assert!(policy.reads_body("Application/X-WWW-Form-Urlencoded", Direction::Request, &on));
        assert!(policy.reads_body("", Direction::Request, &on));
        assert!(!policy.reads_body("", Direction::Response, &on));
        assert!(!policy.reads_body("image/png", Direction::Request, &on));
        assert!(policy.reads_body("application/soap+xml", Direction::Request, &on));
        let none = CapturePolicy { capture_bodies: false, ..CapturePolicy::default() };
        assert!(!none.reads_body("application/json", Direction::Request, &on));
    }
}
