//! What a keyword match needs around it to count: a word start, a call, or a rule of its own.

use super::bytes;
use super::keywords::{Ctx, Rule};

fn word_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

pub(super) fn context_ok(b: &[u8], start: usize, end: usize, ctx: Ctx) -> bool {
    let starts_word = start == 0 || !word_byte(b[start - 1]) || !word_byte(b[start]);
    match ctx {
        Ctx::Any => true,
        Ctx::WordStart => starts_word,
        Ctx::Call => {
            // `FOOcall_user_func()`: a long name glued to junk, called with nothing
            let glued = !starts_word && end - start >= 8 && b[end..].starts_with(b"()");
            if !(starts_word || glued) || (end < b.len() && word_byte(b[end])) {
                return false;
            }
            let mut i = end;
            // spaces, block comments and line-comment-newline pairs before the `(`
            loop {
                while i < b.len() && b[i].is_ascii_whitespace() {
                    i += 1;
                }
                if b[i..].starts_with(b"/*") {
                    match b[i + 2..b.len().min(i + 258)].windows(2).position(|w| w == b"*/") {
                        Some(p) => i += 2 + p + 2,
                        None => return false,
                    }
                } else if b[i..].starts_with(b"//") || b[i..].starts_with(b"#") {
                    match b[i..b.len().min(i + 256)].iter().position(|&c| c == b'\n') {
                        Some(p) => i += p + 1,
                        None => return false,
                    }
                } else if b.get(i) == Some(&b'"') || b.get(i) == Some(&b'\'') {
                    // ("system")("id"): a quoted name closed right before the call
                    i += 1;
                } else {
                    break;
                }
            }
            b.get(i) == Some(&b'(')
        }
    }
}

/// Checks some keywords need beyond their context.
pub(super) fn extra_ok(rule: &Rule, b: &[u8], start: usize, end: usize) -> bool {
    match rule.pattern {
        // a `<!doctype` alone is ordinary HTML; with a SYSTEM or PUBLIC identifier or an
        // internal subset it is an entity declaration
        // CDATA wrapping markup or quotes smuggles them past XML-aware filters
        "<![cdata[" => b[end..].iter().any(|c| matches!(c, b'<' | b'\'' | b'"')),
        "<!doctype" => {
            let rest = &b[end..];
            bytes::find(rest, b"system").is_some() || bytes::find(rest, b"public").is_some() || rest.contains(&b'[')
        }
        "jndi:" => {
            b[start..].starts_with(b"jndi:ldap")
                || b[start..].starts_with(b"jndi:rmi")
                || b[start..].starts_with(b"jndi:dns")
        }
        "ro0ab" => {
            end + 4 <= b.len() && b[end..].iter().take(4).all(|c| c.is_ascii_alphanumeric() || *c == b'+' || *c == b'/')
        }
        // a PHP call: `chr(65)`, `system('id')`, `exec /**/ (x)`; prose puts a space before its
        // parenthesis (`the system (v2)`), so a spaced call needs a code-like argument
        _ if rule.class == "php_injection" && rule.ctx == Ctx::WordStart => {
            super::php::function_word(rule.pattern, b, start, end)
        }
        _ if rule.class == "php_injection" && rule.ctx == Ctx::Call => {
            if super::php::sql_function(rule.pattern, b, start) {
                return false;
            }
            let Some(open) = b[end..b.len().min(end + 64)].iter().position(|&c| c == b'(') else { return false };
            let gap = &b[end..end + open];
            let arg = b.get(end + open + 1).copied();
            let commented =
                bytes::find(gap, b"/*").is_some() || gap.contains(&b'#') || bytes::find(gap, b"//").is_some();
            let quoted_name = gap.contains(&b'"') || gap.contains(&b'\'');
            // tabs, line breaks or runs of spaces before the parenthesis are code, not prose
            let code_gap = gap.iter().any(|c| matches!(c, b'\t' | b'\n' | b'\r')) || gap.len() > 1;
            // `substr()`, `print_r( )`, `exec /**/ ()`, `file_exists (\n\n)`: a call with nothing inside
            let inside = &b[end + open + 1..];
            let blank = inside.iter().take_while(|c| c.is_ascii_whitespace()).count();
            let empty_call = inside.get(blank) == Some(&b')');
            let code_inside = inside[..blank].iter().any(|c| matches!(c, b'\t' | b'\n' | b'\r'));
            match arg {
                _ if empty_call => {
                    (gap.is_empty() && end - start >= 5) || commented || code_gap || (code_inside && gap.len() <= 1)
                }
                None | Some(b')') => false,
                _ if gap.is_empty() || commented || quoted_name || code_gap => true,
                Some(c) => matches!(c, b'"' | b'\'' | b'$' | b'`'),
            }
        }
        "process.env" | "name()" | "jar:" => start == 0 || !word_byte(b[start - 1]),
        _ if rule.class == "sqli" => end >= b.len() || !word_byte(b[end]),
        // `while(!0);`, `while(Infinity);`: an endless loop, not the word in prose
        // `while((true)))` too: the condition's parentheses doubled
        "while(" => {
            let body = &b[end..b.len().min(end + 16)];
            body.iter().position(|&c| c == b')').is_some_and(|close| {
                let after = body.get(close + 1).copied();
                let doubled = body.first() == Some(&b'(') && after == Some(b')');
                close <= 12 && (matches!(after, None | Some(b';' | b'{')) || doubled)
            })
        }
        // `${jndi:ldap://...}` is Log4Shell, reported as such
        "ldap://" | "dict://" | "file://" => !b[..start].ends_with(b"jndi:"),
        _ => true,
    }
}
