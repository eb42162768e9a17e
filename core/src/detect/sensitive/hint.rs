//! What a field's name says about its value (`ssn`, `card_number`, `password`, ...).

/// What a field's name says about its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hint {
    None,
    Password,
    Secret,
    /// a secret's name that says whose it is (`IBM_CLOUD_API_KEY`, `JIRA_API_TOKEN`)
    VendorSecret(Vendor),
    Ssn,
    Card,
    Birth,
    Passport,
    DriversLicense,
    Phone,
    Latitude,
    Longitude,
    Vin,
    Aadhaar,
    Cpf,
    Email,
    Iban,
}

/// Vendors whose keys have no prefix, only a length and an alphabet: the name says whose a
/// value is, the shape confirms it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vendor {
    /// IAM API keys: 44 characters of base64url
    IbmCloud,
    /// API tokens made before 2023 (`ATATT3` since): 24 letters and digits
    Atlassian,
}

impl Vendor {
    pub(super) fn fits(self, v: &[u8]) -> bool {
        match self {
            Vendor::IbmCloud => v.len() == 44 && v.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'),
            Vendor::Atlassian => v.len() == 24 && v.iter().all(u8::is_ascii_alphanumeric),
        }
    }
}

/// Longest field name a hint is read from; longer ones hint nothing.
pub const MAX_HINT_KEY: usize = 64;

pub fn hint(key: &str) -> Hint {
    if key.is_empty() || key.len() > MAX_HINT_KEY {
        return Hint::None;
    }
    let k: String = key.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_lowercase()).collect();
    let has = |s: &str| k.contains(s);
    if ["page", "cursor", "type", "expire", "length", "policy", "hint", "count", "url", "format"].iter().any(|s| has(s))
    {
        return Hint::None;
    }
    // names of secrets, public halves, identifiers and database keys are not secrets
    let not_secret = [
        "public", "csrf", "xsrf", "primary", "foreign", "bucket", "vault", "sort", "cache", "idempot", "name", "label",
    ]
    .iter()
    .any(|s| has(s))
        || k.ends_with("id")
        || k.ends_with("ids");
    // `DB_PASS`, `smtp.pass`, `dbPass`: a word of its own, not the end of `bypass` or `compass`
    let pass_word = ends_with_word(key, b"pass");
    if has("password")
        || has("passwd")
        || has("passphrase")
        || k == "pwd"
        || k.ends_with("pwd")
        || k == "pass"
        || pass_word
    {
        Hint::Password
    } else if has("ssn") || has("socialsecurity") {
        Hint::Ssn
    } else if has("card") && (has("number") || has("num") || has("no")) || k == "pan" || k == "ccnumber" || k == "cc" {
        Hint::Card
    } else if has("birth") || k == "dob" {
        Hint::Birth
    } else if has("passport") {
        Hint::Passport
    } else if has("licen") && (has("driv") || has("dl")) || k == "dlnumber" {
        Hint::DriversLicense
    } else if has("phone") || has("mobile") || k == "tel" || has("msisdn") || k == "cell" {
        Hint::Phone
    } else if k == "lat" || k == "latitude" {
        Hint::Latitude
    } else if k == "lng" || k == "lon" || k == "long" || k == "longitude" {
        Hint::Longitude
    } else if k == "vin" || has("vehicleid") {
        Hint::Vin
    } else if has("aadhaar") || has("aadhar") {
        Hint::Aadhaar
    } else if k == "cpf" || has("cpf") {
        Hint::Cpf
    } else if has("email") {
        Hint::Email
    } else if has("iban") {
        Hint::Iban
    } else if !not_secret
        && (has("secret")
            || has("apikey")
            || has("token")
            || has("accesskey")
            || has("privatekey")
            || has("credential")
            || (k.ends_with("key") && k != "key")
            // `user_auth`, `_auth` (`.npmrc`), `proxyAuth`; not `oauth`, `author`
            || ends_with_word(key, b"auth"))
    {
        if has("ibm") || has("bluemix") {
            Hint::VendorSecret(Vendor::IbmCloud)
        } else if has("jira") || has("atlassian") || has("confluence") {
            Hint::VendorSecret(Vendor::Atlassian)
        } else {
            Hint::Secret
        }
    } else {
        Hint::None
    }
}

/// Whether `key` ends with `word` (lower case) as a word of its own: after `_`, `-` or `.`, or
/// capitalised after a lower-case letter (`dbPass`).
fn ends_with_word(key: &str, word: &[u8]) -> bool {
    // bytes: the name may end in a character of several
    let Some(split) = key.len().checked_sub(word.len()).filter(|&s| s > 0) else { return false };
    let (head, tail) = key.as_bytes().split_at(split);
    let before = head[head.len() - 1];
    let capitalised = tail.first().is_some_and(u8::is_ascii_uppercase) && tail[1..] == word[1..];
    (tail.eq_ignore_ascii_case(word) && matches!(before, b'_' | b'-' | b'.'))
        || (capitalised && tail[0].eq_ignore_ascii_case(&word[0]) && before.is_ascii_lowercase())
}
