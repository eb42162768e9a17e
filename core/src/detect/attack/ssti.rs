//! Server-side template injection: template delimiters holding arithmetic, calls or internals.

use super::bytes;

/// Template expressions: `{{7*7}}`, `${...}`, `#{...}`, `<%= %>`, `{% %}`, `*{...}`.
#[inline(never)]
pub(super) fn template(b: &[u8]) -> Option<&'static str> {
    for (open, close) in [
        (&b"{{"[..], &b"}}"[..]),
        (b"${", b"}"),
        (b"#{", b"}"),
        (b"<%", b"%>"),
        (b"{%", b"%}"),
        (b"*{", b"}"),
        (b"@{", b"}"),
        (b"[[", b"]]"),
    ] {
        let mut from = 0;
        let mut seen = 0;
        while let Some(p) = bytes::find(&b[from..], open) {
            seen += 1;
            if seen > 64 {
                break;
            }
            let start = from + p + open.len();
            // expressions are short: look for the end within 513 bytes
            let window = &b[start..b.len().min(start + 513)];
            let end = bytes::find(window, close).map_or(start + window.len(), |q| start + q);
            let inner = &b[start..end];
            from = start;
            if inner.is_empty() || inner.len() > 512 {
                continue;
            }
            if open == b"${" && (inner.starts_with(b"jndi") || inner.contains(&b':')) && !inner.contains(&b'(') {
                continue; // Log4j lookups and shell defaults are handled elsewhere
            }
            let arithmetic = inner.windows(3).any(|w| {
                w[0].is_ascii_digit()
                    && matches!(w[1], b'*' | b'+' | b'/' | b'-')
                    && (w[2].is_ascii_digit() || w[2] == b'\'')
            });
            let code = inner.contains(&b'(') || bytes::find(inner, b"__").is_some() || inner.contains(&b'[');
            let names = [
                &b"config"[..],
                b"self",
                b"request",
                b"lipsum",
                b"cycler",
                b"joiner",
                b"namespace",
                b"runtime",
                b"getclass",
                b"t(java",
                b"system",
                b"class.",
                b"exec",
                b"import",
                b"freemarker",
                b"object",
            ];
            let known = names.iter().any(|n| bytes::find(inner, n).is_some());
            let only_names = inner.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b' ' | b'-'));
            if arithmetic || known || (code && !only_names) {
                if open == b"[[" && !arithmetic && !known {
                    continue;
                }
                return Some("template expression");
            }
        }
    }
    None
}
