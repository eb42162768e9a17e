//! What a field's name says about its value (`ssn`, `card_number`, `password`, ...).

/// What a field's name says about its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hint {
    None,
    Password,
    Secret,
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
    if has("password") || has("passwd") || has("passphrase") || k == "pwd" || k.ends_with("pwd") || k == "pass" {
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
            || (k.ends_with("key") && k != "key"))
    {
        Hint::Secret
    } else {
        Hint::None
    }
}
