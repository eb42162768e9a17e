//! SQL injection by tokenizing, in the spirit of libinjection (written for this project): the
//! value is tokenized as SQL three times, as if it were placed bare, inside `'...'` and inside
//! `"..."`, and the token sequence is checked for the structures an injection needs (breaking
//! out of a string and adding a condition, a UNION, a stacked statement, a time-delay or file
//! function) rather than for SQL words alone, so prose that mentions "select" stays quiet.
//!
//! `words` holds the SQL keywords and functions, `tokens` the tokenizer, `check` the structures
//! looked for in a token sequence (with its helpers in `structure`), and `fragment` the pieces
//! of a statement recognised before tokenizing.

mod check;
mod fragment;
mod structure;
mod tokens;
mod words;

use arrayvec::ArrayVec;
use check::check;
use fragment::{from_dual, json_operator, scientific_notation};
use tokens::{tokenize, Tokens};

pub(crate) use fragment::fragment;

/// Checks a value (lower case, decoded); returns why it is SQL injection. `fragment_words`: the
/// caller saw one of the keywords the fragment checks start from (`union`, `waitfor`, `exec`,
/// `case when`, `like`, `::`, `lo_`) in its keyword pass; most values hold none, and those checks
/// are a dozen substring searches.
#[inline(never)]
pub(crate) fn detect_with(s: &str, fragment_words: bool) -> Option<&'static str> {
    let b = s.as_bytes();
    if b.len() < 2 {
        return None;
    }
    if s.contains("dual") {
        if let Some(reason) = from_dual(s) {
            return Some(reason);
        }
    }
    if let Some(reason) = json_operator(b).or_else(|| scientific_notation(b)).or_else(|| fragment(b, fragment_words)) {
        return Some(reason);
    }
    if quote_bracket_probe(b) {
        return Some("run of quotes and brackets (a probe for a break)");
    }
    // `admin@juice-sh.op';`: a string closed and the statement ended
    if let Some(stripped) = s.trim_end().strip_suffix(';') {
        // a single token (a login, an email) rather than prose with a quote in it (`18';`)
        let token = !stripped.contains(char::is_whitespace);
        let quote = stripped.chars().last().unwrap_or('\'');
        if token && matches!(quote, '\'' | '"' | '`') && stripped.matches(quote).count() % 2 == 1 {
            return Some("string closed and statement ended");
        }
    }
    let mut t = Tokens { toks: ArrayVec::new(), words: ArrayVec::new(), executable_comment: false };
    tokenize(b, None, &mut t);
    if let Some(reason) = check(&t, b, false) {
        return Some(reason);
    }
    for q in [b'\'', b'"'] {
        if b.contains(&q) {
            tokenize(b, Some(q), &mut t);
            if let Some(reason) = check(&t, b, true) {
                return Some(reason);
            }
        }
    }
    None
}

/// `'"(),.` and `<'">)` runs: what scanners (sqlmap's heuristic check among them) send to see
/// whether the value breaks the query or the page. Both kinds of quote and a bracket, glued
/// together with no letter between them, are never text (text quotes words).
fn quote_bracket_probe(b: &[u8]) -> bool {
    const SINGLE: u8 = 1;
    const DOUBLE: u8 = 2;
    const BRACKET: u8 = 4;
    let (mut run, mut seen) = (0usize, 0u8);
    for &c in b {
        let class = match c {
            b'\'' => SINGLE,
            b'"' => DOUBLE,
            b'(' | b')' => BRACKET,
            b',' | b'.' | b'<' | b'>' => 0,
            _ => {
                run = 0;
                seen = 0;
                continue;
            }
        };
        run += 1;
        seen |= class;
        if run >= 5 && seen == SINGLE | DOUBLE | BRACKET {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests;
