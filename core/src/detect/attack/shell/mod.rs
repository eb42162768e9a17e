//! OS command injection: shell separators before known programs, values that are a command
//! line, shell syntax oddities and expansions. `words` holds the program lists, `windows` the
//! Windows and probe forms.

mod windows;
mod words;

use super::bytes;
use windows::{windows_batch, windows_or_probe_command};
use words::{known_command, start_words, tool_prefix, unambiguous_set, StartWord, BUILTINS, PREFIXES, WORD_PROGRAMS};

fn command_word(b: &[u8], mut i: usize) -> Option<(usize, usize, String)> {
    let limit = (i + 8).min(b.len());
    while i < limit && matches!(b[i], b' ' | b'\t' | b'{' | b'(' | b'\'' | b'"' | b'$') {
        // `|$u wget`: an unset variable before the program
        if b[i] == b'$' {
            match unset_variable_end(b, i + 1) {
                Some(end) => i = end,
                None => break,
            }
        }
        i += 1;
    }
    // `/bin/`, `/usr/bin/`, `./`
    let start = i;
    let mut word = String::new();
    let mut j = i;
    while j < b.len() && word.len() < 40 {
        let c = b[j];
        if c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.' | b'+') {
            word.push(c as char);
        } else if matches!(c, b'\'' | b'"') && b.get(j + 1) == Some(&c) && !word.is_empty() {
            // ti''me: an empty quoted string inside a word
            j += 1;
        } else if let Some(var_end) =
            (c == b'$' && known_command(&word)).then(|| unset_variable_end(b, j + 1)).flatten()
        {
            // sh$XX -c: an unset variable after a program's name expands to nothing
            j = var_end - 1;
        } else if matches!(c, b'\\' | b'\'' | b'"' | b'$' | b'@')
            && j + 1 < b.len()
            && b[j + 1].is_ascii_alphanumeric()
            && !(c == b'\\' && matches!(b[j + 1], b'n' | b'r') && known_command(&word))
        {
            // c\at, c'a't, w$@hoami: quoting tricks that the shell removes; `id\n` is a program
            // and a line break written as an escape, as payload lists carry it
        } else if c == b'/' {
            word.clear();
        } else {
            break;
        }
        j += 1;
    }
    (!word.is_empty()).then_some((start, j, word))
}

/// Where a variable name starting at `i` ends, when a space or the value's end follows it.
fn unset_variable_end(b: &[u8], i: usize) -> Option<usize> {
    let len = b[i.min(b.len())..].iter().take_while(|c| c.is_ascii_alphanumeric() || **c == b'_').count();
    let end = i + len;
    (len > 0 && b.get(i).is_some_and(|c| !c.is_ascii_digit()) && matches!(b.get(end), None | Some(b' ' | b'\t')))
        .then_some(end)
}

/// A Markdown table row (`| id | name |`): cells between pipes, not a pipeline.
fn table_row(b: &[u8]) -> bool {
    let t = b.trim_ascii();
    t.len() > 2
        && t.first() == Some(&b'|')
        && t.last() == Some(&b'|')
        && memchr::memchr_iter(b'|', t).count() >= 3
        && bytes::find(t, b" | ").is_some()
}

/// Whether `b` starts with a word of letters and nothing a command line would carry after it.
fn plain_word(b: &[u8]) -> bool {
    let n = b.iter().take_while(|c| c.is_ascii_alphabetic()).count();
    n >= 2 && matches!(b.get(n), None | Some(b' ' | b'.' | b',' | b'!' | b'?'))
}

/// Shell syntax that runs a command: a separator (`;`, `|`, `&`, backtick, `$(`, newline)
/// followed by a known program, command substitution, `${IFS}`, shellshock, brace expansion,
/// and Windows `for /f` / `if exist` batch syntax.
#[inline(never)]
pub(super) fn shell(v: &str, batch_words: bool) -> Option<&'static str> {
    let b = v.as_bytes();
    // `() { :; }; cmd`: an empty function body, as shellshock needs; `main() { println` is code
    for pattern in [&b"() {"[..], b"(){"] {
        if let Some(p) = bytes::find(b, pattern) {
            let body = b[p + pattern.len()..].iter().find(|c| !c.is_ascii_whitespace());
            let leading = b[..p].iter().all(u8::is_ascii_whitespace);
            if leading || matches!(body, Some(b':' | b'_' | b';' | b'}')) {
                return Some("shellshock function definition");
            }
        }
    }
    // worked out at the first `|`, once: a value of many pipes must stay linear
    let mut table: Option<bool> = None;
    for (i, &c) in b.iter().enumerate() {
        // `\nid\n`: a line break written as an escape, as payload lists and JSON strings carry it
        let escaped_break = c == b'\\' && matches!(b.get(i + 1), Some(b'n' | b'r'));
        let separator = match c {
            b';' | b'|' | b'&' | b'`' | b'\n' | b'\r' => true,
            b'\\' => escaped_break,
            b'$' => matches!(b.get(i + 1), Some(b'(' | b'{')),
            b'<' | b'>' => b.get(i + 1) == Some(&b'('),
            b'{' => true,
            _ => false,
        };
        if !separator || (c == b'|' && *table.get_or_insert_with(|| table_row(b))) {
            continue;
        }
        // a few more separator characters (`||`, `$((`), not a whole run of them: a value of
        // 100 000 `{` must stay linear
        let mut k = i + 1 + usize::from(escaped_break);
        while k < b.len()
            && k < i + 8
            && matches!(b[k], b'|' | b'&' | b'(' | b'{' | b';' | b'$')
            && !(b[k] == b'$' && unset_variable_end(b, k + 1).is_some())
        {
            k += 1;
        }
        let Some((start, end, word)) = command_word(b, k) else { continue };
        let mut word = word;
        let mut end = end;
        if PREFIXES.contains(&word.as_str()) {
            if let Some((s2, e2, w2)) = command_word(b, end) {
                if known_command(&w2) {
                    word = w2;
                    end = e2;
                } else if b[end..s2].iter().all(|c| *c == b' ') && b[s2..e2].iter().all(u8::is_ascii_lowercase) {
                    // `1; exec will create`, `; time flies`: the prefix word in prose, followed by
                    // a word that is no program
                    continue;
                }
            }
        }
        let builtin = BUILTINS.contains(&word.as_str());
        if !known_command(&word) && !builtin {
            continue;
        }
        let after = b.get(end).copied();
        // `id\n`, `` \`whoami\` ``: an escaped line break or backtick, as payload lists write them
        let escaped_after = b.get(end) == Some(&b'\\') && matches!(b.get(end + 1), Some(b'n' | b'r' | b'`'));
        let args_follow = matches!(
            after,
            None | Some(
                b' ' | b'\t'
                    | b'\n'
                    | b';'
                    | b'|'
                    | b'&'
                    | b'<'
                    | b'>'
                    | b'`'
                    | b')'
                    | b'$'
                    | b'\''
                    | b'"'
                    | b'}'
            )
        ) || escaped_after
            // a comma after the word is brace expansion or an argument list; after `;` it is a
            // data URI's `;base64,`
            || (after == Some(b',') && !matches!(c, b';' | b'|' | b'&' | b'\n' | b'\r' | b'\\'));
        // `;true`, `` `true` ``, `;set`: builtins that are English words count alone before a
        // separator or the value's end, and not in a list of words (`true|false`)
        if builtin {
            let alone = matches!(after, None | Some(b';' | b'|' | b'&' | b'`' | b')' | b'\n' | b'\r')) || escaped_after;
            let listed = matches!(c, b';' | b'|' | b'&') && i > 0 && b[i - 1].is_ascii_alphabetic();
            if !alone || listed || c == b'{' {
                continue;
            }
        }
        // `a hero; more than`, `Straße; links Haus`: a program that is also a word, after a
        // semicolon in prose and before a plain word
        let prose = c == b';'
            && i > 0
            && b[i - 1].is_ascii_alphabetic()
            && b.get(i + 1) == Some(&b' ')
            && after == Some(b' ')
            && WORD_PROGRAMS.contains(&word.as_str())
            && plain_word(&b[end + 1..]);
        // `name|id|email`, `a;id;b`: a word between a list's delimiters
        let field = matches!(c, b';' | b'|')
            && i > 0
            && b[i - 1].is_ascii_alphanumeric()
            && start == i + 1
            && after == Some(c)
            && b.get(end + 1).is_some_and(u8::is_ascii_alphanumeric);
        if prose || field {
            continue;
        }
        // `{` needs a comma right after the word (brace expansion `{cat,/etc/passwd}`, `{id,}`)
        // and an argument after it or a program no field list names (`{id,name}` selects fields)
        let brace_ok = c != b'{'
            || (after == Some(b',')
                && (matches!(b.get(end + 1), Some(b'/' | b'-' | b'$' | b'.' | b'~' | b'}'))
                    || unambiguous_set().contains(word.as_str()) && word.len() > 2));
        // `a=1&b=2` is a query string; `image.jpg&bcdboot /r` a program no parameter is named after
        let ampersand_ok = c != b'&'
            || i == 0
            || !b[i - 1].is_ascii_alphanumeric()
            || b.get(i + 1) == Some(&b'&')
            || (unambiguous_set().contains(word.as_str()) && matches!(after, Some(b' ')));
        if args_follow && brace_ok && ampersand_ok {
            return Some(match c {
                b'`' | b'$' | b'<' | b'>' => "command substitution",
                b'{' => "brace expansion",
                _ => "command after a shell separator",
            });
        }
    }
    if bytes::find(b, b"$(").is_some_and(|p| b.get(p + 2).is_some_and(|c| c.is_ascii_alphabetic() || *c == b'(')) {
        return Some("command substitution");
    }
    // the keyword pass saw `if` or `for` at a word start, which every batch form begins with
    let batch = if batch_words { windows_batch(b) } else { None };
    batch.or_else(|| shell_expansion(b)).or_else(|| shell_start(v))
}

/// Shell forms without a separator: `\ls` (an alias bypass), `$SHELL -c ...`, brace expansion
/// that spells a program (`c{a,oun}t`, `{,ifconfig}`), history (`!-1!-2`) and directory-stack
/// (`~+`) expansions, and `sh,-c,` handed to a compiler wrapper.
fn shell_oddities(b: &[u8]) -> Option<&'static str> {
    if let Some(rest) = b.strip_prefix(b"\\") {
        let word = rest.iter().take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_')).count();
        if word > 0
            && matches!(rest.get(word), None | Some(b' '))
            && known_command(std::str::from_utf8(&rest[..word]).unwrap_or_default())
        {
            return Some("program with its alias bypassed");
        }
    }
    if let Some(rest) = b.strip_prefix(b"$") {
        let rest = rest.strip_prefix(b"{").unwrap_or(rest);
        let name = rest.iter().take_while(|c| c.is_ascii_alphanumeric() || **c == b'_').count();
        let rest = &rest[name..];
        let rest = rest.strip_prefix(b"}").unwrap_or(rest);
        if name > 0 && rest.starts_with(b" -c ") {
            return Some("shell run from a variable");
        }
    }
    // one pass for the two bytes the checks below need, instead of a search for each
    let (brace, comma) = b.iter().fold((false, false), |(brace, comma), &c| (brace | (c == b'{'), comma | (c == b',')));
    if brace {
        if let Some(reason) = brace_expansion(b) {
            return Some(reason);
        }
    }
    let history = b.len() >= 4
        && b[0] == b'!'
        && b.iter().filter(|c| **c == b'!').count() >= 2
        && b[1..]
            .split(|c| *c == b'!')
            .all(|t| t.is_empty() || t.strip_prefix(b"-").unwrap_or(t).iter().all(u8::is_ascii_digit));
    if history {
        return Some("shell history expansion");
    }
    if let Some(rest) = b.strip_prefix(b"~") {
        if matches!(rest.first(), Some(b'+' | b'-')) && rest[1..].iter().all(u8::is_ascii_digit) {
            return Some("shell directory stack expansion");
        }
    }
    // `sh,-c,` (and so `bash,-c,`): the comma is rarer than the `s`, so search from it
    if comma && memchr::memmem::find_iter(b, b",-c,").any(|p| b[..p].ends_with(b"sh")) {
        return Some("shell handed to a program as its wrapper");
    }
    None
}

/// `c{a,oun}t`, `{l,-lh}s`, `{,ifconfig,eth0}`: a brace list whose first word is a program. A
/// plain list (`{id,name}`, a field selection) has no prefix, suffix, empty or option item.
fn brace_expansion(b: &[u8]) -> Option<&'static str> {
    let open = memchr::memchr(b'{', b)?;
    let close = open + memchr::memchr(b'}', &b[open..])?;
    let inner = &b[open + 1..close];
    if !inner.contains(&b',') || inner.contains(&b' ') || inner.len() > 64 {
        return None;
    }
    let word = |c: &u8| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.');
    let prefix_len = b[..open].iter().rev().take_while(|c| word(c)).count();
    let prefix = &b[open - prefix_len..open];
    let suffix_len = b[close + 1..].iter().take_while(|c| word(c)).count();
    let suffix = &b[close + 1..close + 1 + suffix_len];
    let items: Vec<&[u8]> = inner.split(|c| *c == b',').collect();
    let shaped = !prefix.is_empty()
        || !suffix.is_empty()
        || items.first().is_some_and(|i| i.is_empty())
        || items.iter().any(|i| i.starts_with(b"-"));
    let first = items.iter().find(|i| !(prefix.is_empty() && suffix.is_empty() && i.is_empty()))?;
    let program = [prefix, first, suffix].concat();
    (shaped && known_command(std::str::from_utf8(&program).unwrap_or_default())).then_some("brace expansion")
}

/// A value that starts with a program name that is not an English word (`ifconfig`,
/// `time ifconfig`, `/bin/sh -c ...`).
#[inline(never)]
pub(super) fn shell_start(v: &str) -> Option<&'static str> {
    let b = v.as_bytes();
    if let Some(reason) = shell_oddities(b) {
        return Some(reason);
    }
    // most values start with a word that is no program: decide that without allocating
    let first = b.iter().take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.')).count();
    // ASCII up to `first`, so a char boundary
    let head = v.get(..first).unwrap_or_default();
    // `perf --version`: a program and a long option
    if first > 0
        && b[first..].starts_with(b" --")
        && b.get(first + 3).is_some_and(u8::is_ascii_alphabetic)
        && known_command(head)
    {
        return Some("value is a shell command");
    }
    // `+1 415 555 0100`: no program's name starts with a plus, and nothing the checks below
    // read (a quote, a variable, a path, a bracket) comes first
    if b.first() == Some(&b'+') {
        return None;
    }
    // quoting that the shell removes (`c\at`, `c'a't`, `w$@hoami`); a bare `@` (an email) is no trick
    let tricks = matches!(b.get(first), Some(b'\\' | b'\'' | b'"' | b'$'));
    let path = b.get(first) == Some(&b'/');
    if first > 0 && !tricks && !path {
        // the set lookups first: the probe words are a linear list
        let base = head.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
        let starts = start_words();
        let known = starts.get(head).is_some()
            || (base.len() < head.len() && starts.get(base).is_some_and(|kind| *kind == StartWord::Program));
        if !known && !tool_prefix(head) {
            return None;
        }
    }
    if let Some(reason) = windows_or_probe_command(b) {
        return Some(reason);
    }
    let (_, end, word) = command_word(b, 0)?;
    let (end, word) = if PREFIXES.contains(&word.as_str()) {
        let (_, e, w) = command_word(b, end)?;
        (e, w)
    } else {
        (end, word)
    };
    let base = word.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
    let unambiguous = unambiguous_set().contains(word.as_str()) || unambiguous_set().contains(base);
    let after = b.get(end).copied();
    let shaped = match after {
        None => word.len() >= 4 && !matches!(word.as_str(), "curl" | "bash"),
        Some(b' ') if b[end..].iter().all(|c| *c == b' ') => {
            word.len() >= 4 && !matches!(word.as_str(), "curl" | "bash")
        }
        Some(b' ') => {
            // an argument that looks like one: an option, a path, a variable, a redirection, a
            // host or URL; `Curl O'Brien` is a name
            let rest = &b[end + 1..];
            let arg = rest.split(|c| *c == b' ').next().unwrap_or_default();
            rest.first()
                .is_some_and(|c| matches!(c, b'-' | b'/' | b'.' | b'$' | b'<' | b'>' | b'\'' | b'"' | b'`' | b'~'))
                || arg.iter().any(|c| matches!(c, b':' | b'/' | b'=' | b'|' | b';'))
                || arg.iter().rposition(|c| *c == b'.').is_some_and(|p| p + 1 < arg.len())
        }
        Some(b'<' | b'>' | b';' | b'|') => true,
        _ => false,
    };
    // programs whose names are short words need an option (`ls -la`), or a separator after
    // them (`id|`)
    let short = matches!(word.as_str(), "ls" | "id" | "ps" | "pwd" | "sh" | "cmd" | "cat" | "dir");
    let option = matches!(after, Some(b' ')) && b.get(end + 1).is_some_and(|c| matches!(c, b'-' | b'/' | b'\\'));
    (unambiguous && shaped && word.len() >= 2 && !short
        || short && shaped && option && !prose_arguments(&b[end + 1..])
        || short && separator_after(b, end))
    .then_some("value is a shell command")
}

/// `ls -la meaning`: options, then only plain words (a search phrase, where a command names a
/// path, a glob or nothing).
fn prose_arguments(rest: &[u8]) -> bool {
    let mut words =
        rest.split(|c| *c == b' ').filter(|w| !w.is_empty()).skip_while(|w| w.first() == Some(&b'-')).peekable();
    // `sh -c whoami`: the argument is a program
    words.peek().is_some()
        && words.all(|w| {
            w.iter().all(u8::is_ascii_alphabetic) && !known_command(std::str::from_utf8(w).unwrap_or_default())
        })
}

/// `id|`, `id;`, `id &`: a separator after the program at `..end`, then nothing or another
/// program (`id;name;email` is a list of columns).
fn separator_after(b: &[u8], end: usize) -> bool {
    let rest = b[end..].trim_ascii_start();
    let separators = rest.iter().take_while(|c| matches!(c, b';' | b'|' | b'&' | b'`')).count();
    let next = rest[separators..].trim_ascii();
    separators > 0 && (next.is_empty() || command_word(next, 0).is_some_and(|(_, _, w)| known_command(&w)))
}

/// Shell expansions that only a shell reads: `$[2+2]`, `${x#y}`, `${PATH%/*}`, and glob
/// classes inside system paths (`/etc/pas[s]wd`, `/bi[n]/bash`).
fn shell_expansion(b: &[u8]) -> Option<&'static str> {
    if bytes::find(b, b"$[").is_some() {
        return Some("shell arithmetic expansion");
    }
    let mut from = 0;
    while let Some(p) = bytes::find(&b[from..], b"${") {
        let start = from + p + 2;
        let name = b[start..].iter().take_while(|c| c.is_ascii_alphanumeric() || **c == b'_').count();
        if name > 0 && matches!(b.get(start + name), Some(b'#' | b'%' | b'/' | b'^' | b',' | b'@')) {
            return Some("shell parameter expansion");
        }
        from = start;
    }
    for p in memchr::memchr_iter(b'[', b) {
        let close = b[p..].iter().position(|&c| c == b']').map(|q| p + q);
        let Some(close) = close else { continue };
        // the class inside a path segment (`pas[s]wd`, `/[e]tc`): `/[a-z]{1,5}/` is a regex
        let in_path = b[..p].iter().rposition(|&c| c == b'/').is_some_and(|slash| {
            let before = &b[slash + 1..p];
            before.iter().all(u8::is_ascii_alphanumeric)
                && (!before.is_empty() || b.get(close + 1).is_some_and(u8::is_ascii_alphanumeric))
        });
        let class = &b[p + 1..close];
        let globby = !class.is_empty()
            && class.len() <= 12
            && class.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'!' | b'^' | b'-' | b'/'));
        let rooted = b.first() == Some(&b'/') || b.starts_with(b"cat ") || b.contains(&b' ');
        if in_path && globby && rooted && b.contains(&b'/') {
            return Some("shell glob in a path");
        }
    }
    None
}

/// `system('id')`, `exec("ls")`, `popen('uname -a', 'r')`: a function that hands its argument
/// to the shell, called with a command line. PHP, Perl, Ruby, Python (`os.system`) and Node run
/// commands through these names alike, so this is command execution whatever language carries
/// it; the keyword rules report the PHP call besides. `exec('select 1')` (SQL Server) and
/// `exec(@s)` name no program.
#[inline(never)]
pub(super) fn exec_call(b: &[u8]) -> Option<&'static str> {
    for name in super::keywords::EXEC_CALLS.iter().map(|r| r.pattern.as_bytes()) {
        for p in memchr::memmem::find_iter(b, name) {
            // `shell_exec` holds `exec`, `system_user()` is SQL
            if p > 0 && (b[p - 1].is_ascii_alphanumeric() || b[p - 1] == b'_') {
                continue;
            }
            let open = p + name.len() + b[p + name.len()..].iter().take_while(|c| **c == b' ').count();
            if b.get(open) != Some(&b'(') {
                continue;
            }
            // `exec(\"ls\")`: quotes escaped as a JSON or PHP string carries them
            let arg = open + 1 + b[open + 1..].iter().take_while(|c| matches!(c, b' ' | b'\\')).count();
            // command_word skips the quote that opens the argument
            let Some((_, end, word)) = command_word(b, arg) else { continue };
            let ends = matches!(
                b.get(end),
                None | Some(b' ' | b'\'' | b'"' | b'`' | b')' | b';' | b'|' | b'&' | b',' | b'<' | b'>' | b'\\')
            );
            if ends && known_command(&word) {
                return Some("shell command run by an exec call");
            }
        }
    }
    None
}
