//! Bearer-token check, in constant time: ingest streams and the HTTP API use it.

use subtle::ConstantTimeEq;
use tonic::metadata::MetadataMap;

#[derive(Clone)]
pub struct TokenCheck {
    token: Vec<u8>,
}

impl std::fmt::Debug for TokenCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenCheck(..)")
    }
}

impl TokenCheck {
    pub fn new(token: &str) -> Self {
        TokenCheck { token: token.as_bytes().to_vec() }
    }

    /// Whether `authorization: Bearer <token>` matches. The comparison takes the same time
    /// wherever the first difference is; only the length can leak.
    pub fn allows(&self, metadata: &MetadataMap) -> bool {
        let Some(value) = metadata.get("authorization").and_then(|v| v.to_str().ok()) else {
            return false;
        };
        let Some(presented) = value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")) else {
            return false;
        };
        self.matches(presented.trim().as_bytes())
    }

    pub fn matches(&self, presented: &[u8]) -> bool {
        !self.token.is_empty() && presented.len() == self.token.len() && bool::from(presented.ct_eq(&self.token))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata(value: &str) -> MetadataMap {
        let mut map = MetadataMap::new();
        if let Ok(v) = value.parse() {
            map.insert("authorization", v);
        }
        map
    }

    #[test]
    fn accepts_only_the_right_token() {
        let check = TokenCheck::new("0123456789abcdef");
        assert!(check.allows(&metadata("Bearer 0123456789abcdef")));
        assert!(!check.allows(&metadata("Bearer 0123456789abcdeg")));
        assert!(!check.allows(&metadata("Bearer 0123456789abcdef0")));
        assert!(!check.allows(&metadata("0123456789abcdef")));
        assert!(!check.allows(&MetadataMap::new()));
        assert!(!TokenCheck::new("").matches(b""));
    }
}
