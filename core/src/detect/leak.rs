//! Error leakage in responses: stack traces, database errors and framework debug pages that
//! tell an attacker how the service is built (and, for SQL errors, that an injection reached
//! the database). Used by the security-test runner's `no_error_leak` assertion.

use aho_corasick::{AhoCorasick, MatchKind};
use regex::Regex;
use std::sync::OnceLock;

/// What kind of leak a marker shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeakKind {
    StackTrace,
    SqlError,
    DebugPage,
}

impl LeakKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LeakKind::StackTrace => "stack_trace",
            LeakKind::SqlError => "sql_error",
            LeakKind::DebugPage => "debug_page",
        }
    }
}

/// A leak found in a body: its kind and the marker that gave it away.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leak {
    pub kind: LeakKind,
    pub marker: String,
}

/// Literal markers, matched case-insensitively in one pass.
const MARKERS: &[(&str, LeakKind)] = &[
    ("traceback (most recent call last)", LeakKind::StackTrace),
    ("goroutine 1 [running]", LeakKind::StackTrace),
    ("panicked at ", LeakKind::StackTrace),
    ("exception in thread \"", LeakKind::StackTrace),
    ("at system.", LeakKind::StackTrace),
    ("stack trace:", LeakKind::StackTrace),
    ("fatal error: uncaught", LeakKind::StackTrace),
    ("you have an error in your sql syntax", LeakKind::SqlError),
    ("unclosed quotation mark after the character string", LeakKind::SqlError),
    ("quoted string not properly terminated", LeakKind::SqlError),
    ("sqlite3.operationalerror", LeakKind::SqlError),
    ("sqlite_error", LeakKind::SqlError),
    ("sqlstate[", LeakKind::SqlError),
    ("do not have the same number of result columns", LeakKind::SqlError),
    ("pg::syntaxerror", LeakKind::SqlError),
    ("psycopg2.errors", LeakKind::SqlError),
    ("org.hibernate.", LeakKind::SqlError),
    ("java.sql.sqlexception", LeakKind::SqlError),
    ("microsoft ole db provider for sql server", LeakKind::SqlError),
    ("warning: mysql_", LeakKind::SqlError),
    ("werkzeug debugger", LeakKind::DebugPage),
    ("you're seeing this error because you have <code>debug = true</code>", LeakKind::DebugPage),
    ("whoops! there was an error", LeakKind::DebugPage),
    ("<title>action controller: exception caught</title>", LeakKind::DebugPage),
];

/// `None` only if the automaton could not be built (it is built from the constants above).
fn markers() -> Option<&'static AhoCorasick> {
    static MARKERS_AC: OnceLock<Option<AhoCorasick>> = OnceLock::new();
    MARKERS_AC
        .get_or_init(|| {
            AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::LeftmostFirst)
                .build(MARKERS.iter().map(|(m, _)| *m))
                .ok()
        })
        .as_ref()
}

/// Shapes no literal covers: frames of Java/Node/Python traces, and database errors that name
/// the position of a syntax error.
fn patterns() -> &'static [(Regex, LeakKind)] {
    static PATTERNS: OnceLock<Vec<(Regex, LeakKind)>> = OnceLock::new();
    PATTERNS.get_or_init(|| {
        [
            // Java: "at com.example.Foo.bar(Foo.java:42)"
            (r"\bat [\w$.]+\.[\w$<>]+\([\w$]+\.(?:java|kt|scala):\d+\)", LeakKind::StackTrace),
            // Node: "at handler (/app/src/x.js:10:5)"
            (r"\bat (?:[\w$.<>]+ )?\(?/[\w./-]+\.(?:js|ts|mjs|cjs):\d+:\d+\)?", LeakKind::StackTrace),
            // Python: 'File "/app/x.py", line 3, in f'
            (r#"File "[^"]+\.py", line \d+, in "#, LeakKind::StackTrace),
            // PostgreSQL / SQLite: 'syntax error at or near "x"', 'near "x": syntax error',
            // 'unrecognized token: "x"'; the quotes may be escaped inside a JSON string
            (
                r#"(?i)syntax error at or near \\?"|near \\?"[^"]*\\?": syntax error|unrecognized token: \\?""#,
                LeakKind::SqlError,
            ),
            // Oracle: ORA-00933
            (r"\bORA-\d{5}\b", LeakKind::SqlError),
            // MySQL driver errors quoting the query
            (r"(?i)\bmysql(?:i|_fetch|_num_rows|_query)\b.*\berror\b", LeakKind::SqlError),
        ]
        .into_iter()
        .filter_map(|(re, kind)| Regex::new(re).ok().map(|re| (re, kind)))
        .collect()
    })
}

/// Every kind of leak in a body, once each, with the first marker of that kind.
pub fn error_leaks(body: &str) -> Vec<Leak> {
    let mut leaks: Vec<Leak> = Vec::new();
    let mut add = |kind: LeakKind, marker: &str| {
        if !leaks.iter().any(|l| l.kind == kind) {
            leaks.push(Leak { kind, marker: marker.chars().take(120).collect() });
        }
    };
    for found in markers().into_iter().flat_map(|ac| ac.find_iter(body)) {
        if let Some((_, kind)) = MARKERS.get(found.pattern().as_usize()) {
            add(*kind, &body[found.start()..found.end()]);
        }
    }
    for (re, kind) in patterns() {
        if let Some(m) = re.find(body) {
            add(*kind, m.as_str());
        }
    }
    leaks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(body: &str) -> Vec<&'static str> {
        error_leaks(body).iter().map(|l| l.kind.as_str()).collect()
    }

    #[test]
    fn finds_traces_sql_errors_and_debug_pages() {
        assert_eq!(kinds("Traceback (most recent call last):\n  File \"/app/x.py\", line 3, in f"), ["stack_trace"]);
        assert_eq!(kinds("java.lang.NullPointerException\n\tat com.shop.Orders.get(Orders.java:42)"), ["stack_trace"]);
        assert_eq!(kinds("TypeError: x\n    at handler (/srv/app/routes.js:10:5)"), ["stack_trace"]);
        assert_eq!(kinds(r#"{"error":"near \"'\": syntax error"}"#), ["sql_error"]);
        assert_eq!(kinds("You have an error in your SQL syntax; check the manual"), ["sql_error"]);
        assert_eq!(kinds("ORA-00933: SQL command not properly ended"), ["sql_error"]);
        assert_eq!(kinds("<h1>Werkzeug Debugger</h1>"), ["debug_page"]);
    }

    #[test]
    fn ordinary_bodies_are_quiet() {
        for body in [
            r#"{"error":"not found"}"#,
            r#"{"items":[{"name":"at home","syntax":"error-free"}]}"#,
            "Internal Server Error",
            "Meet us at System Park at 5",
        ] {
            assert!(error_leaks(body).is_empty(), "{body}");
        }
    }
}
