//! Caller identity as a keyed hash: the same caller gets the same id on every sidecar that
//! shares the key, and the id reveals nothing about the token it came from.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;

const KEY_CONTEXT: &str = "meshward 2026 caller identity v1";
/// JWT payloads larger than this are not decoded (a `sub` never needs more).
const MAX_JWT_PAYLOAD: usize = 8 * 1024;

/// 32-byte key derived from the operator's secret.
#[derive(Clone)]
pub struct IdentityKey([u8; 32]);

impl IdentityKey {
    pub fn derive(secret: &str) -> Self {
        IdentityKey(blake3::derive_key(KEY_CONTEXT, secret.as_bytes()))
    }

    /// 128-bit keyed hash as 32 hex characters.
    pub fn hash_hex(&self, domain: &str, value: &[u8]) -> String {
        let mut hasher = blake3::Hasher::new_keyed(&self.0);
        hasher.update(domain.as_bytes());
        hasher.update(&[0]);
        hasher.update(value);
        let digest = hasher.finalize();
        hex16(&digest.as_bytes()[..16])
    }
}

impl std::fmt::Debug for IdentityKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdentityKey(..)")
    }
}

/// Who called, as a keyed hash, and what it was derived from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerIdentity {
    pub id: String,
    /// `jwt_sub`, `bearer`, `basic` or `api_key`
    pub source: &'static str,
}

/// Derives the caller identity from an `Authorization` header value and/or an API key header
/// value. A JWT bearer token is identified by its issuer and subject (so token refreshes keep
/// the identity); any other bearer token by the token itself; basic auth by the user name.
pub fn caller_identity(
    key: &IdentityKey,
    authorization: Option<&str>,
    api_key: Option<&str>,
) -> Option<CallerIdentity> {
    if let Some(auth) = authorization.map(str::trim).filter(|a| !a.is_empty()) {
        let (scheme, credentials) = auth.split_once(' ').unwrap_or((auth, ""));
        let credentials = credentials.trim();
        if scheme.eq_ignore_ascii_case("bearer") && !credentials.is_empty() {
            if let Some(subject) = jwt_subject(credentials) {
                return Some(CallerIdentity { id: key.hash_hex("jwt_sub", subject.as_bytes()), source: "jwt_sub" });
            }
            return Some(CallerIdentity { id: key.hash_hex("bearer", credentials.as_bytes()), source: "bearer" });
        }
        if scheme.eq_ignore_ascii_case("basic") {
            if let Ok(decoded) = STANDARD.decode(credentials) {
                let user = decoded.split(|b| *b == b':').next().unwrap_or_default();
                return Some(CallerIdentity { id: key.hash_hex("basic", user), source: "basic" });
            }
        }
    }
    let api_key = api_key.map(str::trim).filter(|k| !k.is_empty())?;
    Some(CallerIdentity { id: key.hash_hex("api_key", api_key.as_bytes()), source: "api_key" })
}

/// `iss` + `sub` of a JWT, without verifying it (we identify, we do not authenticate).
pub fn jwt_subject(token: &str) -> Option<String> {
    let mut parts = token.split('.');
    let (_header, payload, _sig) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || payload.len() > MAX_JWT_PAYLOAD {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let sub = claims.get("sub")?.as_str()?;
    let iss = claims.get("iss").and_then(|v| v.as_str()).unwrap_or("");
    Some(format!("{iss}\u{0}{sub}"))
}

fn hex16(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(HEX[usize::from(b >> 4)] as char);
        out.push(HEX[usize::from(b & 0xf)] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> IdentityKey {
        IdentityKey::derive("test-secret")
    }

    #[test]
    fn bearer_token_is_hashed_not_kept() {
        let id =
            caller_identity(&key(), Some("Bearer s3cr3t-token-value"), None).unwrap_or_else(|| panic!("no identity"));
        assert_eq!(id.source, "bearer");
        assert_eq!(id.id.len(), 32);
        assert!(!id.id.contains("s3cr3t"));
        let again = caller_identity(&key(), Some("bearer s3cr3t-token-value"), None);
        assert_eq!(again.map(|i| i.id), Some(id.id.clone()));
        let other_key = caller_identity(&IdentityKey::derive("other"), Some("Bearer s3cr3t-token-value"), None);
        assert_ne!(other_key.map(|i| i.id), Some(id.id));
    }

    #[test]
    fn jwt_identified_by_subject() {
        let payload = URL_SAFE_NO_PAD.encode(r#"{"sub":"user-42","iss":"auth","exp":1}"#);
        let payload2 = URL_SAFE_NO_PAD.encode(r#"{"sub":"user-42","iss":"auth","exp":2}"#);
        let a = caller_identity(&key(), Some(&format!("Bearer eyJhbGciOiJIUzI1NiJ9.{payload}.sig")), None);
        let b = caller_identity(&key(), Some(&format!("Bearer eyJhbGciOiJIUzI1NiJ9.{payload2}.other")), None);
        assert_eq!(a.as_ref().map(|i| i.source), Some("jwt_sub"));
        assert_eq!(a, b);
    }

    #[test]
    fn api_key_and_basic() {
        assert_eq!(caller_identity(&key(), None, Some("k-123")).map(|i| i.source), Some("api_key"));
        let basic = format!("Basic {}", STANDARD.encode("alice:pw"));
        let basic2 = format!("Basic {}", STANDARD.encode("alice:other"));
        let a = caller_identity(&key(), Some(&basic), None);
        assert_eq!(a.as_ref().map(|i| i.source), Some("basic"));
        assert_eq!(a, caller_identity(&key(), Some(&basic2), None));
        assert_eq!(caller_identity(&key(), Some(""), None), None);
        assert_eq!(caller_identity(&key(), Some("Bearer"), None), None);
    }
}
