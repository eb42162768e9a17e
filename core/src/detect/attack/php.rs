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
    if any(ANGLE) && memchr::memmem::find_iter(b, b"<?").any(|p| open_tag(&b[p + 2..])) {
        return Some("PHP open tag");
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
    // `${'a'}`, `$ { CONSTANT }`: variable variables (`$ { }` names nothing)
    for p in memchr::memchr_iter(b'$', b) {
        let spaces = b[p + 1..].iter().take_while(|c| **c == b' ').count();
        let open = p + 1 + spaces;
        let inside = b.get(open + 1..).map_or(0, |r| r.iter().take_while(|c| **c == b' ').count());
        if spaces > 0 && b.get(open) == Some(&b'{') && b.get(open + 1 + inside).is_some_and(|c| *c != b'}') {
            return Some("PHP variable variable");
        }
        if b.get(p + 1) == Some(&b'{') && matches!(b.get(p + 2), Some(b'\'' | b'"' | b'@' | b' ')) {
            return Some("PHP variable variable");
        }
    }
    // $a(...), $GLOBALS['x'](1), ${'a'}(1), foo::$bar()
    for p in memchr::memchr_iter(b'$', b) {
        let mut i = p + 1;
        // `${}()` calls nothing
        if b.get(i) == Some(&b'{') && b.get(i + 1) == Some(&b'}') {
            continue;
        }
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

/// What follows a `<?`: PHP's tags (`<?php `, `<?=`, a short tag before code, a `<?` that ends
/// the value) or else a processing instruction (`<?xml version=...`, `<?xml-stylesheet`,
/// `<?xpacket`) or prose (`&lt;? should not`).
fn open_tag(rest: &[u8]) -> bool {
    match rest.first() {
        None | Some(b'=') => true,
        Some(c) if c.is_ascii_whitespace() => {
            let code = rest.trim_ascii_start();
            let word = code.iter().take_while(|c| c.is_ascii_alphabetic()).count();
            const STARTS: &[&[u8]] =
                &[b"php", b"echo", b"print", b"eval", b"system", b"exec", b"passthru", b"include", b"require", b"if"];
            STARTS.contains(&&code[..word])
                || code.iter().take(256).any(|c| matches!(c, b';' | b'(' | b'$' | b'=' | b'"' | b'\'' | b'`'))
        }
        // a processing instruction's target: `php` is PHP's, `xml` a declaration when
        // attributes follow it (`<?xml:echo 1;` and `<?xml  ();` are PHP's short tag)
        Some(c) if c.is_ascii_alphabetic() || *c == b'_' => {
            let name = rest.iter().take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.')).count();
            match &rest[..name] {
                b"php" => true,
                b"xml" => {
                    !(rest.get(3).is_some_and(|c| c.is_ascii_whitespace())
                        && rest.get(4).is_some_and(|c| c.is_ascii_alphabetic()))
                }
                _ => false,
            }
        }
        // no target starts with a digit, and a short tag needs a blank
        Some(c) => !c.is_ascii_digit(),
    }
}

/// Names PHP shares with SQL (`chr(58)||`, `substr(version(),1,1)`, `exec(@s)`) are SQL in a
/// value that reads as SQL and shows no PHP syntax; elsewhere (`chr(123)`, `exec (x)`) they
/// stay PHP calls.
pub(super) fn sql_function(name: &str, b: &[u8], start: usize) -> bool {
    matches!(name, "substr" | "chr" | "exec") && !php_syntax(b, start) && sql_syntax(b)
}

fn word_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// A variable (`$x`, not Oracle's `v$version` or a `$1` parameter), a tag, string
/// concatenation with `.` (`chr(112).chr(104)`), `@` silencing the call at `start`.
fn php_syntax(b: &[u8], start: usize) -> bool {
    let variable = || {
        memchr::memchr_iter(b'$', b).any(|p| {
            (p == 0 || !word_byte(b[p - 1]))
                && b.get(p + 1).is_some_and(|c| c.is_ascii_alphabetic() || matches!(c, b'_' | b'{'))
        })
    };
    let concatenation = || {
        memchr::memchr_iter(b'.', b).any(|p| {
            p > 0
                && matches!(b[p - 1], b')' | b'\'' | b'"')
                && b.get(p + 1).is_some_and(|c| c.is_ascii_alphabetic() || matches!(c, b'\'' | b'"' | b'$'))
        })
    };
    (start > 0 && b[start - 1] == b'@')
        || bytes::find(b, b"<?").is_some()
        || bytes::find(b, b"?>").is_some()
        || variable()
        || concatenation()
}

/// `||` concatenation, `@` variables (`@s`, `@@version`), or an SQL word.
fn sql_syntax(b: &[u8]) -> bool {
    const WORDS: &[&[u8]] = &[
        b"select",
        b"union",
        b"from",
        b"where",
        b"and",
        b"or",
        b"xor",
        b"not",
        b"null",
        b"declare",
        b"cast",
        b"convert",
        b"case",
        b"when",
        b"then",
        b"like",
        b"limit",
        b"offset",
        b"having",
        b"as",
        b"int",
        b"version",
        b"database",
        b"user",
        b"current_user",
        b"ascii",
        b"char",
        b"varchar",
        b"nchar",
        b"concat",
        b"sleep",
        b"benchmark",
        b"waitfor",
        b"dual",
    ];
    bytes::find(b, b"||").is_some()
        || memchr::memchr_iter(b'@', b).any(|p| b.get(p + 1).is_some_and(|c| c.is_ascii_alphabetic() || *c == b'@'))
        || b.split(|c| !word_byte(*c)).any(|w| WORDS.contains(&w))
}

/// A function name as a bare word (`phpinfo`, `shell_exec`): not one a sentence goes on after
/// (`phpinfo can leak`) or a file's extension (`safe.phpinfo`). Variables and streams (`$_get`,
/// `php://`) count anywhere, and so do configuration directives.
pub(super) fn function_word(pattern: &str, b: &[u8], start: usize, end: usize) -> bool {
    // PHP needs a blank after `<?php`: `<?php12345` is text
    if pattern == "<?php" {
        return !b.get(end).is_some_and(u8::is_ascii_alphanumeric);
    }
    let function = pattern.bytes().all(|c| c.is_ascii_lowercase() || c == b'_')
        && super::keywords::PHP_WORDS.iter().any(|r| r.pattern == pattern);
    if !function {
        return true;
    }
    let extension = start > 1 && b[start - 1] == b'.' && word_byte(b[start - 2]);
    let prose = b.get(end) == Some(&b' ') && b.get(end + 1).is_some_and(u8::is_ascii_alphabetic);
    !(extension || prose)
}
