//! Protocol anomalies across a request's headers: conflicting framing, duplicate Host.

/// Framing anomalies in a request's headers (names lower case).
pub fn protocol_anomaly<'h>(headers: impl Iterator<Item = (&'h str, &'h str)>) -> Option<&'static str> {
    let mut content_length: Option<&str> = None;
    let mut transfer_encoding = false;
    let mut hosts = 0;
    for (name, value) in headers {
        // Envoy hands names over in lower case; recorded traffic may not be
        let lower: std::borrow::Cow<'_, str> =
            if name.bytes().any(|c| c.is_ascii_uppercase()) { name.to_ascii_lowercase().into() } else { name.into() };
        match lower.as_ref() {
            "content-length" => {
                if content_length.is_some_and(|v| v != value)
                    || value.contains(',')
                    || !value.trim().bytes().all(|c| c.is_ascii_digit())
                {
                    return Some("conflicting or invalid Content-Length");
                }
                content_length = Some(value);
            }
            "transfer-encoding" => {
                transfer_encoding = true;
                if !value.trim().eq_ignore_ascii_case("chunked") {
                    return Some("unusual Transfer-Encoding");
                }
            }
            "host" | ":authority" => hosts += 1,
            "request-range" => return Some("obsolete Request-Range header"),
            _ => {}
        }
        if memchr::memchr3(b'\r', b'\n', 0, value.as_bytes()).is_some() {
            return Some("control character in a header value");
        }
    }
    if hosts > 1 {
        return Some("duplicate Host header");
    }
    if transfer_encoding && content_length.is_some() {
        return Some("both Content-Length and Transfer-Encoding");
    }
    None
}
