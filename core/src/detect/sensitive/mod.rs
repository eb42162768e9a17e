//! Sensitive data in a value: PII validated by checksums and format rules where they exist
//! (Luhn and issuer ranges for cards, mod-97 for IBANs, Verhoeff for Aadhaar, check digits for
//! CPF and VINs, area/group rules for SSNs), secrets by their vendor prefixes and structure
//! (JWT headers are decoded), and key-based classes (`password`, `passport`, ...) by the name of
//! the field that holds them. Field names also raise the confidence of value-based matches.
//!
//! `scan_value` counts what a value holds in one pass (`summary`) and runs the recognisers that
//! can match: `email`, `numbers` (cards, SSNs, phones, IPv4, Aadhaar, CPF, with the `checksums`
//! they need), `iban`, `vin`, `coordinates`, `ip` (IPv6) and `secrets` (vendor prefixes, JWTs,
//! private keys, credentials). `hint` reads field names, `keys` the classes only a name decides,
//! `assign` secret-named assignments inside free text (`password = "..."` in a config file).

mod assign;
mod checksums;
mod coordinates;
mod email;
mod hint;
mod iban;
mod ip;
mod keys;
mod numbers;
mod secrets;
mod summary;
mod vin;

use super::bytes;
use assign::{assigned_secrets, MIN_ASSIGNMENT};
use coordinates::coordinates;
use email::email;
use iban::iban;
use ip::ipv6;
use keys::by_key;
use numbers::numbers;
use secrets::vendor_secrets;
use summary::Summary;
use vin::vin;

pub use hint::{hint, Hint, MAX_HINT_KEY};
pub use secrets::Secrets;

/// Every built-in sensitive class; the credentials (`SECRET_CLASSES`) come last, from `jwt` on.
pub const SENSITIVE_CLASSES: &[&str] = &[
    "email",
    "credit_card",
    "us_ssn",
    "iban",
    "phone",
    "ip_address",
    "date_of_birth",
    "passport",
    "drivers_license",
    "aadhaar",
    "br_cpf",
    "coordinates",
    "vin",
    "jwt",
    "aws_access_key",
    "aws_secret_key",
    "gcp_api_key",
    "azure_key",
    "github_token",
    "gitlab_token",
    "slack_token",
    "slack_webhook",
    "stripe_key",
    "private_key",
    "service_token",
    "bearer_token",
    "basic_auth",
    "password",
    "api_key",
];

/// The credentials among the sensitive classes: tokens, keys, passwords.
pub const SECRET_CLASSES: &[&str] = SENSITIVE_CLASSES.split_at(FIRST_SECRET).1;
/// Where the credentials start in `SENSITIVE_CLASSES` (`jwt`; a test holds it there).
const FIRST_SECRET: usize = 13;

type Emit<'e> = dyn FnMut(&'static str, f32) + 'e;

/// Scans one value and calls `emit(class, confidence)` for each class found.
/// `hint` is `hint(site.key)`, computed once per key by the caller.
/// `opaque`: the value is a UUID or a timestamp (`shape::opaque`), which only its field name can
/// make sensitive.
pub fn scan(secrets: &Secrets, hint: Hint, value: &str, opaque: bool, emit: &mut Emit<'_>) {
    by_key(hint, value, emit);
    if !opaque {
        scan_value(secrets, hint, value, emit);
    }
}

/// The classes a value shows by itself, field-name hints aside.
pub(super) fn scan_value(secrets: &Secrets, hint: Hint, value: &str, emit: &mut Emit<'_>) {
    let bytes = value.as_bytes();
    // one pass tells which recognisers can match at all; most values (names, cities, plans,
    // timestamps) rule out all but one or two of them
    let summary = Summary::of(bytes);
    if summary.at {
        email(bytes, hint, emit);
    }
    // every number class needs 4+ digits in one span
    if summary.digits >= 4 {
        numbers(bytes, hint, emit);
    }
    // two letters, two check digits, 15+ characters in all (Norway's IBAN is the shortest)
    if summary.digits >= 2 && summary.letters >= 2 && summary.digits + summary.letters >= MIN_IBAN_LEN {
        iban(bytes, hint, emit);
    }
    if summary.longest_alphanumeric_run >= VIN_LEN && summary.digits > 0 {
        vin(bytes, hint, emit);
    }
    // two coordinates with 4+ decimals each
    if summary.comma && summary.digits >= 8 {
        coordinates(value, emit);
    }
    if summary.colons >= 2 {
        ipv6(bytes, emit);
    }
    // the shortest secret the prefixes find (`Basic ` and 8 characters) is 14 bytes
    if bytes.len() >= 14 && summary.may_hold_vendor_secret(bytes) {
        vendor_secrets(secrets, bytes, emit);
    }
    // `password = "..."`, `api_key: ...` in configuration files, code and logs
    // (most values hold no `=` or `:` at all: the summary knows without a search)
    if bytes.len() >= MIN_ASSIGNMENT && (summary.equals || summary.colons > 0) {
        assigned_secrets(bytes, emit);
    }
}

const MIN_IBAN_LEN: usize = 15;
const VIN_LEN: usize = 17;

#[cfg(test)]
mod tests;
