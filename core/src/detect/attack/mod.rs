//! Attack classes on request values. SQL injection and XSS have tokenizers of their own
//! (`sqli`, `xss`); the others are keyword rules with a context check each (a word boundary,
//! a call, a URL host) matched in one Aho-Corasick pass, plus structural checks for shell
//! syntax, traversal sequences, template expressions, LDAP filters and nested Log4j lookups.
//! Every rule sees the normalized value (decoded, lower case).
//!
//! `Rules::scan` reads a value once for its keywords and character classes (`chars`), then
//! runs the checks those allow, one file each: `traversal`, `shell` (with its word lists and
//! Windows forms), `php`, `ssti`, `ldap`, `nosql`, `xxe`, `crlf`, `log4j`, `url` (SSRF and
//! remote inclusion), `upload`; `keywords` holds the keyword tables and `context` what a
//! keyword needs around it. `protocol` reads the request's headers as a whole.

mod chars;
mod context;
mod crlf;
mod gates;
mod keywords;
mod ldap;
mod log4j;
mod nosql;
mod php;
mod protocol;
mod shell;
mod sqli;
mod ssti;
mod traversal;
mod upload;
mod url;
mod xss;
mod xxe;

use super::{bytes, Part, Site};
use aho_corasick::automaton::Automaton;
use aho_corasick::{dfa::DFA, Anchored, Input};

use chars::{byte_class, char_mask, pair_class};
use context::{context_ok, extra_ok};
use crlf::crlf;
use keywords::{
    Rule, AGENT_FILES, CODE, EXEC_CALLS, FILES, JAVA, LOG4J, NOSQL, PHP_CALLS, PHP_CONFIG, PHP_WORDS, SHELL_WORDS,
    SIGNALS, SIGNAL_BATCH, SIGNAL_EXEC_CALL, SIGNAL_NOSQL, SIGNAL_SQL, SIGNAL_SQL_FRAGMENT, SIGNAL_XSS, SQL_NAMES, SSI,
    SSRF_HOSTS, SSRF_SCHEMES, XPATH, XXE,
};
use ldap::ldap;
use log4j::log4j;
use nosql::nosql;
use php::{php_expression_call, php_ini_setting, php_structures};
use shell::{exec_call, shell, shell_start};
use ssti::template;
use traversal::{encoded_traversal, traversal};
use upload::upload_name;
use url::url_value;
use xxe::entity_reference;

pub use protocol::protocol_anomaly;

/// Every attack class the detector reports.
pub const ATTACK_CLASSES: &[&str] = &[
    "sqli",
    "xss",
    "path_traversal",
    "rfi",
    "ssrf",
    "command_injection",
    "ssti",
    "nosqli",
    "ldap_injection",
    "xpath_injection",
    "xxe",
    "log4shell",
    "crlf_injection",
    "java_injection",
    "php_injection",
    "code_injection",
    "ssi_injection",
    "protocol",
    "graphql",
];

/// All keyword rules, in one automaton.
pub struct Rules {
    automaton: Option<DFA>,
    rules: Vec<&'static Rule>,
}

impl Rules {
    pub fn new() -> Self {
        let groups: [&'static [Rule]; 18] = [
            &JAVA,
            &PHP_CALLS,
            &PHP_WORDS,
            &PHP_CONFIG,
            &FILES,
            &AGENT_FILES,
            &SSRF_HOSTS,
            &SSRF_SCHEMES,
            &CODE,
            &NOSQL,
            &XPATH,
            &XXE,
            &SSI,
            &SHELL_WORDS,
            &LOG4J,
            &SIGNALS,
            &SQL_NAMES,
            &EXEC_CALLS,
        ];
        let rules: Vec<&'static Rule> = groups.iter().flat_map(|g| g.iter()).collect();
        // a DFA: every request value goes through this automaton, and the NFA the crate picks
        // for this many patterns took 48 instructions a byte in its overlapping search against
        // 20 here (-10% on the Envoy benchmark's 1 KiB request). It costs 1.9 MB per worker
        // against 0.2 MB, small beside the event buffers (17 MiB by default), and about 10 ms
        // more to build when the filter is configured.
        // The DFA itself rather than the `AhoCorasick` wrapper, so that `any_keyword_and_mask` can step it
        // byte by byte (see there).
        let automaton = DFA::builder().build(rules.iter().map(|r| r.pattern)).ok();
        Rules { automaton, rules }
    }

    /// Scans a normalized value.
    pub fn scan(&self, site: Site<'_>, v: &str, emit: &mut dyn FnMut(&'static str, &'static str, u8)) {
        use chars::*;
        if v.len() < 2 {
            return;
        }
        let mut seen: u32 = 0;
        // a header's URL (`Referer`, `Origin`) names where the caller came from, not a URL the
        // application fetches: SSRF and remote inclusion live in parameters and bodies
        let header = site.part == Part::Header;
        let mut once = |class: &'static str, reason: &'static str, severity: u8| {
            if header && matches!(class, "ssrf" | "rfi") {
                return;
            }
            let bit = class_bit(class);
            if seen & bit == 0 {
                seen |= bit;
                emit(class, reason, severity);
            }
        };
        let b = v.as_bytes();
        let (signals, mask) = self.keywords_and_mask(b, &mut once);
        let any = |bits: u32| mask & bits != 0;
        if any(QUOTE | PAREN | COMPARE | SEMI | COMMENT | PIPE | AMP) || signals & SIGNAL_SQL != 0 {
            if let Some(reason) = sqli::detect_with(v, signals & (SIGNAL_SQL | SIGNAL_SQL_FRAGMENT) != 0) {
                once("sqli", reason, 4);
            }
        } else if signals & SIGNAL_SQL_FRAGMENT != 0 {
            if let Some(reason) = sqli::fragment(b, true) {
                once("sqli", reason, 4);
            }
        }
        // a colon or plus alone (timestamps, phone numbers) needs more to be script: a scheme
        // split by blanks or control bytes the browser drops (`ja\nvascript:`), or UTF-7 markup
        let split_scheme = any(COLON) && any(SPACE | NEWLINE | CONTROL);
        let utf7 = || any(PLUS) && bytes::find(b, b"+ad").is_some();
        let xss_classes = any(ANGLE | PAREN | BACKTICK | COMPARE | BRACKET) || signals & SIGNAL_XSS != 0;
        if (xss_classes || split_scheme || utf7()) && gates::xss(b, mask) {
            if let Some(reason) = xss::detect(v) {
                once("xss", reason, 3);
            }
        }
        if any(SLASH | HEX) && gates::traversal(b, mask) {
            if let Some(reason) = traversal(b) {
                once("path_traversal", reason, 3);
            }
        }
        if any(DOT | PERCENT | QUESTION | HEX) && gates::encoded_traversal(b, mask) {
            if let Some(reason) = encoded_traversal(b) {
                once("path_traversal", reason, 3);
            }
        }
        if any(BRACE | PERCENT | BRACKET) && gates::template(b, mask) {
            if let Some(reason) = template(b) {
                once("ssti", reason, 4);
            }
        }
        if (any(PAREN) || (any(STAR) && any(PIPE | AMP))) && gates::ldap(b, mask) {
            if let Some(reason) = ldap(b, mask) {
                once("ldap_injection", reason, 3);
            }
        }
        if gates::crlf(mask, site.part == Part::Header) {
            if let Some(reason) = crlf(b, site.part == Part::Header) {
                once("crlf_injection", reason, 3);
            }
        }
        if gates::log4j(mask) {
            if let Some(reason) = log4j(v) {
                once("log4shell", reason, 4);
            }
        }
        if (any(DOLLAR | PIPE | PAREN | QUOTE) || signals & SIGNAL_NOSQL != 0) && gates::nosql(b, mask) {
            if let Some(reason) = nosql(b, mask) {
                once("nosqli", reason, 4);
            }
        }
        if any(AMP | PERCENT) && any(SEMI) && gates::entity_reference(b) {
            if let Some(reason) = entity_reference(b) {
                once("xxe", reason, 3);
            }
        }
        if any(QUESTION | BRACKET | BRACE | COLON | DOLLAR) && gates::php_structures(mask) {
            if let Some(reason) = php_structures(b, mask) {
                once("php_injection", reason, 4);
            }
        }
        if any(COMPARE) && gates::php_ini_setting(b) {
            if let Some(reason) = php_ini_setting(b) {
                once("php_injection", reason, 3);
            }
        }
        if any(PAREN) && gates::php_expression_call(b) {
            if let Some(reason) = php_expression_call(b) {
                once("php_injection", reason, 4);
            }
        }
        if !header && any(COLON | SLASH | QUESTION) && gates::url_value(v, mask) {
            if let Some((class, reason)) = url_value(v, site.key) {
                once(class, reason, 4);
            }
        }
        // `system('id')`: the keyword pass saw the call
        if signals & SIGNAL_EXEC_CALL != 0 {
            if let Some(reason) = exec_call(b) {
                once("command_injection", reason, 4);
            }
        }
        let escaped_break = || any(SLASH) && (bytes::find(b, b"\\n").is_some() || bytes::find(b, b"\\r").is_some());
        let batch = signals & SIGNAL_BATCH != 0;
        let shell_classes = any(SHELL | ANGLE | BRACKET) || batch || escaped_break();
        // shell falls back to shell_start, so where its own gate is false shell_start decides
        if shell_classes && gates::shell(b, mask, batch) {
            if let Some(reason) = shell(v, signals & SIGNAL_BATCH != 0) {
                once("command_injection", reason, 4);
            }
        } else if let Some(reason) = shell_start(v) {
            once("command_injection", reason, 4);
        }
        if site.key == "filename" {
            if let Some((class, reason)) = upload_name(v) {
                once(class, reason, 4);
            }
        }
    }

    /// A parameter or JSON key name: prototype pollution and NoSQL operators live there.
    pub fn scan_name(&self, name: &str, emit: &mut dyn FnMut(&'static str, &'static str, u8)) {
        let n = name.to_ascii_lowercase();
        if n.contains("__proto__") || n.contains("constructor[prototype]") || n.contains("constructor.prototype") {
            emit("code_injection", "prototype pollution in a parameter name", 4);
        }
        const OPERATORS: &[&str] = &[
            "$ne",
            "$eq",
            "$gt",
            "$gte",
            "$lt",
            "$lte",
            "$in",
            "$nin",
            "$regex",
            "$where",
            "$exists",
            "$expr",
            "$or",
            "$and",
            "$not",
            "$nor",
            "$elemmatch",
            "$function",
            "$accumulator",
            "$text",
            "$size",
            "$all",
            "$type",
        ];
        let op = n.rsplit(['[', '.']).next().unwrap_or(&n).trim_end_matches(']');
        if OPERATORS.contains(&op) {
            emit("nosqli", "NoSQL query operator in a name", 4);
        }
    }

    /// The request path: traversal and restricted files (keywords), nothing that needs a value.
    pub fn scan_path(&self, path: &str, emit: &mut dyn FnMut(&'static str, &'static str, u8)) {
        let b = path.as_bytes();
        let mut seen: u32 = 0;
        if let Some(reason) = traversal(b) {
            emit("path_traversal", reason, 3);
            seen |= class_bit("path_traversal");
        }
        let Some(automaton) = self.automaton.as_ref() else { return };
        for m in overlapping(automaton, b) {
            let Some(rule) = self.rules.get(m.pattern().as_usize()) else { continue };
            let path_class =
                matches!(rule.class, "path_traversal" | "php_injection" | "java_injection" | "command_injection");
            if !path_class || !context_ok(b, m.start(), m.end(), rule.ctx) {
                continue;
            }
            let bit = class_bit(rule.class);
            if seen & bit == 0 {
                seen |= bit;
                emit(rule.class, rule.reason, rule.severity);
            }
        }
    }

    /// Keyword rules and the value's `char_mask`; returns the signal words seen and the mask.
    fn keywords_and_mask(&self, b: &[u8], once: &mut dyn FnMut(&'static str, &'static str, u8)) -> (u32, u32) {
        let Some(automaton) = self.automaton.as_ref() else { return (u32::MAX, char_mask(b)) };
        // most values hold no keyword at all, and asking that first is cheaper than setting up
        // the overlapping search (which finds nothing where this finds nothing)
        let (any, mask) = any_keyword_and_mask(automaton, b);
        if !any {
            return (0, mask);
        }
        let mut signals = 0;
        for m in overlapping(automaton, b) {
            let Some(rule) = self.rules.get(m.pattern().as_usize()) else { continue };
            if !context_ok(b, m.start(), m.end(), rule.ctx) {
                continue;
            }
            // a rule can be a signal and a finding both (`system(`)
            signals |= rule.signal;
            if !rule.class.is_empty() && extra_ok(rule, b, m.start(), m.end()) {
                once(rule.class, rule.reason, rule.severity);
            }
        }
        (signals, mask)
    }
}

/// Whether any keyword occurs in `b`, and its `char_mask`, in one pass. A plain loop over the
/// DFA's transitions: the crate's `is_match` sets up a search (input, prefilter, match state)
/// that cost about 150 instructions per value before the first byte, and most values are short
/// and hold no keyword.
fn any_keyword_and_mask(dfa: &DFA, b: &[u8]) -> (bool, u32) {
    let Ok(mut state) = dfa.start_state(Anchored::No) else { return (true, char_mask(b)) };
    let mut mask = 0;
    let mut prev = 0;
    for (i, &c) in b.iter().enumerate() {
        mask |= byte_class(c) | pair_class(prev, c);
        prev = c;
        state = dfa.next_state(Anchored::No, state, c);
        if dfa.is_match(state) {
            // the rest of the mask; `b[i..]` starts at `c` again, for the pair it may begin
            return (true, mask | char_mask(b.get(i..).unwrap_or_default()));
        }
    }
    (false, mask)
}

/// Every keyword match in `b`, overlapping ones included.
fn overlapping<'a, 'h>(dfa: &'a DFA, b: &'h [u8]) -> impl Iterator<Item = aho_corasick::Match> + use<'a, 'h> {
    dfa.try_find_overlapping_iter(Input::new(b)).into_iter().flatten()
}

impl Default for Rules {
    fn default() -> Self {
        Rules::new()
    }
}

/// A class's bit, for reporting each class once per value.
fn class_bit(class: &str) -> u32 {
    ATTACK_CLASSES.iter().position(|c| *c == class).map_or(0, |i| 1u32 << i)
}

#[cfg(test)]
mod tests;
