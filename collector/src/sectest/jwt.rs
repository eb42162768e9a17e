//! HS256 JSON Web Tokens, as far as `forge_jwt` needs them: which of a list of secrets signs a
//! token (found offline, without a request), and a new token signed with it.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

/// HMAC-SHA256 (RFC 2104) of `data` under `key`.
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.map(|b| b ^ byte);
    let inner = Sha256::new().chain_update(pad(0x36)).chain_update(data).finalize();
    Sha256::new().chain_update(pad(0x5c)).chain_update(inner).finalize().into()
}

/// A token with these claims, signed with HS256 under `secret`.
pub fn sign_hs256(claims: &serde_json::Value, secret: &[u8]) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let claims = URL_SAFE_NO_PAD.encode(claims.to_string());
    let input = format!("{header}.{claims}");
    let signature = URL_SAFE_NO_PAD.encode(hmac_sha256(secret, input.as_bytes()));
    format!("{input}.{signature}")
}

/// The claims of an HS256 token whose signature `secret` makes; `None` for any other token.
pub fn verify_hs256(token: &str, secret: &[u8]) -> Option<serde_json::Value> {
    let parts = Parts::parse(token).ok()?;
    let expected = hmac_sha256(secret, parts.input.as_bytes());
    // the comparison's time does not depend on where the signatures differ
    let same = subtle::ConstantTimeEq::ct_eq(expected.as_slice(), parts.signature.as_slice());
    bool::from(same).then_some(parts.claims)
}

struct Parts<'a> {
    input: &'a str,
    claims: serde_json::Value,
    signature: Vec<u8>,
}

impl<'a> Parts<'a> {
    fn parse(token: &'a str) -> Result<Parts<'a>, String> {
        let token = token.trim();
        let token = token.strip_prefix("Bearer ").unwrap_or(token);
        let (input, signature) = token.rsplit_once('.').ok_or("not a JWT (no dots)")?;
        let (header, claims) = input.split_once('.').ok_or("not a JWT (two dots expected)")?;
        let decode = |part: &str, what: &str| {
            let bytes = URL_SAFE_NO_PAD.decode(part).map_err(|_| format!("not a JWT (its {what} is not base64url)"))?;
            serde_json::from_slice::<serde_json::Value>(&bytes)
                .map_err(|_| format!("not a JWT (its {what} is not JSON)"))
        };
        let header = decode(header, "header")?;
        if header["alg"].as_str() != Some("HS256") {
            return Err(format!("signed with {}, not HS256", header["alg"]));
        }
        let claims = decode(claims, "claims")?;
        let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| "not a JWT (its signature is not base64url)")?;
        Ok(Parts { input, claims, signature })
    }
}

/// Which secret of the list signs the token, and a token forged with it: the same claims, issued
/// now and valid for an hour. `Err` says why the token cannot be tested (not an HS256 JWT).
pub fn crack<'s>(token: &str, secrets: &[&'s str]) -> Result<Option<(&'s str, String)>, String> {
    let parts = Parts::parse(token)?;
    let Some(secret) = secrets.iter().find(|s| hmac_sha256(s.as_bytes(), parts.input.as_bytes()) == *parts.signature)
    else {
        return Ok(None);
    };
    let mut claims = parts.claims;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    if let Some(object) = claims.as_object_mut() {
        object.insert("iat".into(), now.into());
        if object.contains_key("exp") {
            object.insert("exp".into(), (now + 3600).into());
        }
    }
    Ok(Some((secret, sign_hs256(&claims, secret.as_bytes()))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231() {
        // test case 2
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(meshward_core::ids::hex(&mac), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
        // test case 6: a key longer than the block is hashed first
        let mac = hmac_sha256(&[0xaa; 131], b"Test Using Larger Than Block-Size Key - Hash Key First");
        assert_eq!(meshward_core::ids::hex(&mac), "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    }

    #[test]
    fn cracks_a_weak_secret_and_forges_with_it() {
        let token = sign_hs256(&serde_json::json!({"sub": "2", "exp": 1}), b"letmein");
        assert!(verify_hs256(&token, b"letmein").is_some() && verify_hs256(&token, b"other").is_none());
        let found = crack(&token, &["secret", "letmein"]).ok().flatten();
        let Some((secret, forged)) = found else { panic!("not cracked") };
        assert_eq!(secret, "letmein");
        let claims = verify_hs256(&forged, b"letmein").unwrap_or_default();
        assert_eq!(claims["sub"], "2");
        assert!(claims["exp"].as_u64().unwrap_or(0) > 1);
        assert!(matches!(crack(&token, &["secret"]), Ok(None)));
        assert!(crack("tok-alice-1", &["secret"]).is_err());
        let unsigned = "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.";
        assert!(crack(unsigned, &["secret"]).unwrap_err().contains("not HS256"));
    }
}
