//! PHP injection beyond the keywords: php.ini lines, calls through expressions, function names
//! spelled in pieces, and PHP structures (serialized objects, variable calls, wrappers).

use super::bytes;

/// The bracket that closes the one at `open` (`[` or `{`), nesting counted, within 256 bytes.
fn closing(b: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (q, &c) in b.iter().enumerate().skip(open).take(256) {
        match c {
            b'[' | b'{' => depth += 1,
            b']' | b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(q);
                }
            }
            _ => {}
        }
    }
    None
}

/// A value that is a php.ini line (`memory_limit = 512M`, `opcache.jit=50`): what an attacker
/// writes into a `.user.ini` or passes to `ini_set` through a parameter.
#[inline(never)]
pub(super) fn php_ini_setting(b: &[u8]) -> Option<&'static str> {
    const DIRECTIVES: &[&[u8]] = &[
        b"engine",
        b"extension",
        b"extension_dir",
        b"precision",
        b"smtp",
        b"memory_limit",
        b"unserialize_max_depth",
        b"max_execution_time",
        b"post_max_size",
        b"upload_max_filesize",
        b"error_reporting",
        b"error_log",
        b"include_path",
        b"short_open_tag",
        b"expose_php",
        b"file_uploads",
        b"upload_tmp_dir",
        b"sendmail_path",
        b"sendmail_from",
        b"max_input_time",
        b"max_input_vars",
        b"output_buffering",
        b"variables_order",
        b"request_order",
        b"default_charset",
        b"user_ini.filename",
        b"html_errors",
        b"log_errors",
    ];
    const SECTIONS: &[&[u8]] = &[
        b"opcache.",
        b"mbstring.",
        b"session.",
        b"zend.",
        b"pcre.",
        b"xdebug.",
        b"mysqli.",
        b"assert.",
        b"phar.",
        b"zlib.",
        b"mail.",
        b"realpath_cache",
    ];
    let b = b.trim_ascii_start();
    let name = b.iter().take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.')).count();
    if name == 0 || !b[name..].trim_ascii_start().starts_with(b"=") {
        return None;
    }
    let key = &b[..name];
    let known = DIRECTIVES.contains(&key)
        || SECTIONS.iter().any(|s| key.len() > s.len() && key.starts_with(s) && !key.ends_with(b"."));
    known.then_some("PHP configuration setting")
}

/// `(system)(ls)`, `("system")("id")`, `[system][0](ls)`: a function name called through an
/// expression, or spelled out of pieces and then called.
#[inline(never)]
pub(super) fn php_expression_call(b: &[u8]) -> Option<&'static str> {
    if bytes::find(b, b")(").is_some() || bytes::find(b, b"](").is_some() {
        const NAMES: &[&[u8]] =
            &[b"system", b"exec", b"shell_exec", b"passthru", b"popen", b"proc_open", b"assert", b"eval", b"tem"];
        if NAMES.iter().any(|n| bytes::find(b, n).is_some()) {
            return Some("PHP function called through an expression");
        }
    }
    php_spelled_call(b)
}

/// A high-risk PHP function spelled out of pieces and then called: `(sy.(st).em)('uname')`,
/// `"sys"."t"."em"(ls)`, `"\x73y\x73tem"(ls)`, `[system][0](ls)`. A call on an expression
/// (a closing quote, parenthesis or bracket, then `(`) and the name once quotes, dots, brackets,
/// spaces, comments and hex escapes are taken out.
fn php_spelled_call(b: &[u8]) -> Option<&'static str> {
    let expression_call = b.iter().enumerate().any(|(i, &c)| {
        matches!(c, b')' | b']' | b'}' | b'"' | b'\'') && {
            let mut j = i + 1;
            loop {
                while b.get(j) == Some(&b' ') {
                    j += 1;
                }
                if b[j.min(b.len())..].starts_with(b"/*") {
                    match bytes::find(&b[j + 2..b.len().min(j + 258)], b"*/") {
                        Some(q) => j += 2 + q + 2,
                        None => break false,
                    }
                } else {
                    break b.get(j) == Some(&b'(');
                }
            }
        }
    });
    if !expression_call {
        return None;
    }
    let mut compact = Vec::with_capacity(b.len().min(512));
    let mut i = 0;
    while i < b.len() && compact.len() < 512 {
        let c = b[i];
        if b[i..].starts_with(b"/*") {
            i = bytes::find(&b[i + 2..], b"*/").map_or(b.len(), |q| i + 2 + q + 2);
            continue;
        }
        if c == b'\\' && b.get(i + 1) == Some(&b'x') {
            let hex = b
                .get(i + 2..i + 4)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            if let Some(byte) = hex {
                compact.push(byte.to_ascii_lowercase());
                i += 4;
                continue;
            }
        }
        if !matches!(c, b'\'' | b'"' | b'.' | b'(' | b')' | b'[' | b']' | b'{' | b'}' | b' ' | b'\t') {
            compact.push(c);
        }
        i += 1;
    }
    const NAMES: &[&[u8]] = &[b"system", b"shell_exec", b"passthru", b"proc_open", b"popen"];
    NAMES.iter().any(|n| bytes::find(&compact, n).is_some()).then_some("PHP function spelled in pieces and called")
}

/// PHP open tags, serialized objects and variable function calls. `mask`: the value's
/// `char_mask`, to skip the searches for what its characters rule out (a URL or a time of day
/// has the colon that brings it here, and nothing else this looks for).
#[inline(never)]
pub(super) fn php_structures(b: &[u8], mask: u32) -> Option<&'static str> {
    use super::chars::*;
    let any = |bits: u32| mask & bits != 0;
    if let Some(p) = any(ANGLE).then(|| bytes::find(b, b"<?")).flatten() {
        let rest = &b[p + 2..];
        let xml_decl = rest.starts_with(b"xml")
            && rest.get(3).is_some_and(|c| c.is_ascii_whitespace())
            && rest.get(4).is_some_and(|c| c.is_ascii_alphabetic());
        if !xml_decl {
            return Some("PHP open tag");
        }
    }
    let tag = |t: &[u8]| bytes::find(b, t).is_some();
    let brackets = any(BRACKET) && (tag(b"[php]") || tag(b"[/php]") || tag(b"[\\php]"));
    if brackets || any(BRACE) && (tag(b"{php}") || tag(b"{/php}")) {
        return Some("PHP open tag");
    }
    // O:8:"stdClass":1:{...} / a:2:{i:0;...}
    let serialized = any(COLON) && any(QUOTE | BRACE);
    for (i, w) in b.windows(2).enumerate().filter(|_| serialized) {
        if matches!(w[0], b'o' | b'c' | b'a') && w[1] == b':' && (i == 0 || !b[i - 1].is_ascii_alphanumeric()) {
            let digits = b[i + 2..].iter().take_while(|c| c.is_ascii_digit()).count();
            let after = b.get(i + 2 + digits..i + 4 + digits);
            if digits > 0 && (after == Some(b":\"") || (w[0] == b'a' && after.is_some_and(|a| a.starts_with(b":{")))) {
                return Some("PHP serialized object");
            }
        }
    }
    // `${'a'}`, `$ { CONSTANT }`: variable variables
    for p in memchr::memchr_iter(b'$', b) {
        let spaces = b[p + 1..].iter().take_while(|c| **c == b' ').count();
        if spaces > 0 && b.get(p + 1 + spaces) == Some(&b'{') {
            return Some("PHP variable variable");
        }
        if b.get(p + 1) == Some(&b'{') && matches!(b.get(p + 2), Some(b'\'' | b'"' | b'@' | b' ')) {
            return Some("PHP variable variable");
        }
    }
    // $a(...), $GLOBALS['x'](1), ${'a'}(1), foo::$bar()
    for p in memchr::memchr_iter(b'$', b) {
        let mut i = p + 1;
        if b.get(i) == Some(&b'{') {
            let window = &b[i..b.len().min(i + 256)];
            i = window.iter().position(|&c| c == b'}').map_or(i + window.len(), |q| i + q + 1);
        } else {
            let name = b[i..].iter().take_while(|c| c.is_ascii_alphanumeric() || **c == b'_').count();
            if name == 0 || b[i].is_ascii_digit() {
                continue;
            }
            i += name;
        }
        loop {
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            if matches!(b.get(i), Some(b'[' | b'{')) && i > p + 1 && !matches!(b.get(i + 1), Some(b']' | b'}')) {
                // `$__[$_[1]]`, `$OOO0{0}`: an index, nested indexes included
                i = closing(b, i).map_or(b.len(), |q| q + 1);
            } else if b[i..].starts_with(b"/*") {
                i = bytes::find(&b[i + 2..], b"*/").map_or(b.len(), |q| i + 2 + q + 2);
            } else if b[i..].starts_with(b"//") || b.get(i) == Some(&b'#') {
                i = b[i..].iter().position(|&c| c == b'\n').map_or(b.len(), |q| i + q + 1);
            } else {
                break;
            }
        }
        if b.get(i) == Some(&b'(') {
            return Some("PHP variable function call");
        }
    }
    None
}
