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
        crate::ids::hex(&digest.as_bytes()[..16])
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

/// Credentials kept in an `IdentityCache`; longer ones are derived each time.
const MAX_CACHED_CREDENTIALS: usize = 1024;
/// Entries per generation of an `IdentityCache` (two generations: about 600 KB at most, 50 KB
/// for 100 callers with 500-byte tokens).
const CACHE_ENTRIES: usize = 512;

/// The identities of recent credentials: a caller sends the same token on every request, and
/// decoding a JWT and hashing it costs thousands of instructions. Entries are keyed by the
/// credentials themselves, compared in full, so no token can be given another's identity.
#[derive(Debug)]
pub struct IdentityCache {
    key: IdentityKey,
    entries: crate::recent::Recent<Box<[u8]>, Option<CallerIdentity>>,
    scratch: Vec<u8>,
}

impl IdentityCache {
    pub fn new(key: IdentityKey) -> Self {
        IdentityCache { key, entries: crate::recent::Recent::new(CACHE_ENTRIES), scratch: Vec::new() }
    }

    /// `caller_identity` of these credentials, from the cache when they were seen before.
    pub fn identify(&mut self, authorization: Option<&str>, api_key: Option<&str>) -> Option<CallerIdentity> {
        if authorization.is_none() && api_key.is_none() {
            return None;
        }
        self.scratch.clear();
        for part in [authorization, api_key] {
            // the separator can be in neither: a header value holds no NUL
            self.scratch.push(if part.is_some() { 1 } else { 0 });
            self.scratch.extend_from_slice(part.unwrap_or_default().as_bytes());
            self.scratch.push(0);
        }
        if self.scratch.len() > MAX_CACHED_CREDENTIALS {
            return caller_identity(&self.key, authorization, api_key);
        }
        if let Some(known) = self.entries.get(self.scratch.as_slice()) {
            return known.clone();
        }
        let identity = caller_identity(&self.key, authorization, api_key);
        self.entries.insert(self.scratch.as_slice().into(), identity.clone());
        identity
    }
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
    fn the_cache_gives_what_deriving_gives() {
        let mut cache = IdentityCache::new(key());
        let payload = URL_SAFE_NO_PAD.encode(r#"{"sub":"user-1","iss":"a"}"#);
        let jwt = format!("Bearer h.{payload}.s");
        let cases: [(Option<&str>, Option<&str>); 6] = [
            (Some("Bearer tok-1"), None),
            (Some("Bearer tok-2"), None),
            (None, Some("key-1")),
            (Some(jwt.as_str()), None),
            (Some("Bearer tok-1"), Some("key-1")),
            (None, None),
        ];
        for _ in 0..3 {
            for (auth, api_key) in cases {
                assert_eq!(
                    cache.identify(auth, api_key),
                    caller_identity(&key(), auth, api_key),
                    "{auth:?} {api_key:?}"
                );
            }
        }
        // an authorization that ends where an API key begins is not that pair
        assert_ne!(cache.identify(Some("ab"), None), cache.identify(Some("a"), Some("b")));
        for i in 0..(CACHE_ENTRIES * 2) {
            let token = format!("Bearer t-{i}");
            assert_eq!(cache.identify(Some(&token), None), caller_identity(&key(), Some(&token), None));
        }
        assert!(cache.entries.len() <= 2 * CACHE_ENTRIES);
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
