//! One pass over a value that tells which recognisers can match it at all.

use super::bytes;

/// What one pass over a value counts, to skip the recognisers that cannot match.
#[derive(Debug, Default)]
pub(super) struct Summary {
    pub(super) digits: usize,
    pub(super) letters: usize,
    pub(super) longest_alphanumeric_run: usize,
    /// longest run of the characters secrets are written in (letters, digits, `SECRET_PUNCTUATION`)
    pub(super) longest_token_run: usize,
    pub(super) colons: usize,
    /// an `=` (an assignment's operator, with `:`)
    pub(super) equals: bool,
    pub(super) at: bool,
    pub(super) comma: bool,
}

impl Summary {
    pub(super) fn of(b: &[u8]) -> Summary {
        let mut summary = Summary::default();
        let mut run = 0;
        let mut token_run = 0;
        for &c in b {
            if c.is_ascii_alphanumeric() {
                run += 1;
                token_run += 1;
                if c.is_ascii_digit() {
                    summary.digits += 1;
                } else {
                    summary.letters += 1;
                }
                continue;
            }
            summary.longest_alphanumeric_run = summary.longest_alphanumeric_run.max(run);
            run = 0;
            if SECRET_PUNCTUATION.contains(&c) {
                summary.equals |= c == b'=';
                token_run += 1;
                continue;
            }
            summary.longest_token_run = summary.longest_token_run.max(token_run);
            token_run = 0;
            match c {
                b':' => summary.colons += 1,
                b'@' => summary.at = true,
                b',' => summary.comma = true,
                _ => {}
            }
        }
        summary.longest_alphanumeric_run = summary.longest_alphanumeric_run.max(run);
        summary.longest_token_run = summary.longest_token_run.max(token_run);
        summary
    }

    /// Whether a vendor prefix can match at all: every prefix and the shortest body it accepts
    /// are one run of secret characters of at least `MIN_SECRET_RUN` (checked by a test), but
    /// for credentials in a URL (`user:pass@`), `Basic ` with a short credential and a PEM
    /// header. Most values (names, prose, dates, phone numbers) have no such run and skip the
    /// prefix automaton.
    pub(super) fn may_hold_vendor_secret(&self, b: &[u8]) -> bool {
        self.longest_token_run >= MIN_SECRET_RUN
            || (self.at && self.colons > 0)
            || (self.longest_token_run >= 8 && bytes::find(b, b"Basic ").is_some())
            || (self.longest_token_run >= 10 && bytes::find(b, b"-----BEGIN").is_some())
    }
}

/// Punctuation inside the secrets the prefixes find (with letters and digits).
pub(super) const SECRET_PUNCTUATION: &[u8] = b"_-.+/=~";

/// The shortest run a prefix with its shortest body makes (`AKIA` + 16, `Bearer` tokens of 16,
/// JWTs, Slack webhooks).
pub(super) const MIN_SECRET_RUN: usize = 14;
