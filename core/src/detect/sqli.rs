//! SQL injection by tokenizing, in the spirit of libinjection (written for this project): the
//! value is tokenized as SQL three times, as if it were placed bare, inside `'...'` and inside
//! `"..."`, and the token sequence is checked for the structures an injection needs (breaking
//! out of a string and adding a condition, a UNION, a stacked statement, a time-delay or file
//! function) rather than for SQL words alone, so prose that mentions "select" stays quiet.

use super::bytes;
use arrayvec::ArrayVec;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kw {
    Union,
    Select,
    From,
    Logic,
    /// like, between, in, is, regexp, sounds
    Expr,
    /// statements that can follow a `;`
    Stmt,
    Order,
    Group,
    By,
    Having,
    Limit,
    Into,
    As,
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FuncKind {
    /// delay, file and error-based functions: injections, almost never prose
    Strong,
    /// `version()`, `user()`, `database()`: information functions, common words
    Info,
    /// other SQL functions (`concat`, `substr`, `ascii`, ...)
    Sql,
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    /// quoted string; `closed` when its closing quote was seen
    Str {
        closed: bool,
    },
    Num,
    Ident,
    Kw(Kw),
    /// identifier followed by `(`
    Func(FuncKind),
    Var,
    Op,
    Cmp,
    Comment,
    LParen,
    RParen,
    Comma,
    Semi,
    Dot,
    Other,
}

const KEYWORDS: &[(&str, Kw)] = &[
    ("union", Kw::Union),
    ("select", Kw::Select),
    ("from", Kw::From),
    ("and", Kw::Logic),
    ("or", Kw::Logic),
    ("xor", Kw::Logic),
    ("not", Kw::Logic),
    ("like", Kw::Expr),
    ("rlike", Kw::Expr),
    ("regexp", Kw::Expr),
    ("between", Kw::Expr),
    ("in", Kw::Expr),
    ("is", Kw::Expr),
    ("sounds", Kw::Expr),
    ("div", Kw::Expr),
    ("mod", Kw::Expr),
    ("drop", Kw::Stmt),
    ("insert", Kw::Stmt),
    ("update", Kw::Stmt),
    ("delete", Kw::Stmt),
    ("exec", Kw::Stmt),
    ("execute", Kw::Stmt),
    ("declare", Kw::Stmt),
    ("shutdown", Kw::Stmt),
    ("truncate", Kw::Stmt),
    ("alter", Kw::Stmt),
    ("create", Kw::Stmt),
    ("waitfor", Kw::Stmt),
    ("set", Kw::Stmt),
    ("order", Kw::Order),
    ("group", Kw::Group),
    ("by", Kw::By),
    ("having", Kw::Having),
    ("limit", Kw::Limit),
    ("into", Kw::Into),
    ("where", Kw::Other),
    ("all", Kw::Other),
    ("distinct", Kw::Other),
    ("values", Kw::Other),
    ("table", Kw::Other),
    ("null", Kw::Other),
    ("true", Kw::Other),
    ("false", Kw::Other),
    ("delay", Kw::Other),
    ("procedure", Kw::Other),
    ("analyse", Kw::Other),
    ("outfile", Kw::Other),
    ("dumpfile", Kw::Other),
    ("case", Kw::Other),
    ("when", Kw::Other),
    ("then", Kw::Other),
    ("else", Kw::Other),
    ("end", Kw::Other),
    ("exists", Kw::Other),
    ("top", Kw::Other),
    ("offset", Kw::Other),
    ("database", Kw::Other),
    ("collate", Kw::Other),
    ("as", Kw::As),
];

/// Functions used for blind, error-based and file-reading injection; almost never in prose.
const DANGEROUS_FUNCS: &[&str] = &[
    "sleep",
    "benchmark",
    "pg_sleep",
    "load_file",
    "extractvalue",
    "updatexml",
    "xp_cmdshell",
    "sp_executesql",
    "sp_oacreate",
    "name_const",
    "randomblob",
    "dbms_pipe.receive_message",
    "utl_inaddr.get_host_address",
    "utl_http.request",
    "dbms_lock.sleep",
    "pg_read_file",
    "pg_ls_dir",
    "lo_import",
    "xp_dirtree",
    "xp_regread",
    "geometrycollection",
    "multipoint",
    "polygon",
    "linestring",
    "exp",
    "gtid_subset",
    "json_keys",
    "ctxsys.drithsx.sn",
    "sys_eval",
    "sys_exec",
];

const INFO_FUNCS: &[&str] = &[
    "version",
    "database",
    "user",
    "current_user",
    "system_user",
    "session_user",
    "schema",
    "db_name",
    "schema_name",
    "user_name",
    "suser_name",
    "host_name",
    "connection_id",
    "last_insert_id",
    "current_database",
    "sysdate",
];

/// Common SQL functions: a value that *is* a call of one (`concat('a',0x3a)`) is an injection probe.
const SQL_FUNCS: &[&str] = &[
    "concat",
    "concat_ws",
    "group_concat",
    "substr",
    "substring",
    "mid",
    "ascii",
    "ord",
    "hex",
    "unhex",
    "char",
    "chr",
    "cast",
    "convert",
    "coalesce",
    "ifnull",
    "nullif",
    "iif",
    "if",
    "md5",
    "sha1",
    "sha2",
    "compress",
    "uncompress",
    "decode",
    "encode",
    "xmltype",
    "rand",
    "floor",
    "pow",
    "power",
    "sin",
    "cos",
    "trim",
    "rtrim",
    "ltrim",
    "strcmp",
    "find_in_set",
    "make_set",
    "elt",
    "now",
    "len",
    "length",
    "lower",
    "upper",
    "replace",
    "reverse",
    "instr",
    "locate",
    "position",
    "count",
    "round",
    "abs",
    "log",
    "char_length",
    "bin",
    "oct",
    "conv",
    "field",
    "insert",
    "lpad",
    "rpad",
    "space",
    "repeat",
    "left",
    "right",
    "quote",
    "soundex",
    "unistr",
    "starts_with",
    "json_extract",
    "json_value",
    "to_char",
    "to_number",
    "utl_raw.cast_to_varchar2",
    "dbms_xmlgen.getxml",
    "openrowset",
    "opendatasource",
];

/// On the stack: this runs up to three times per value that has a quote or SQL punctuation in
/// it, and two heap vectors per run were a tenth of the tokenizer's cost.
struct Tokens {
    toks: ArrayVec<Tok, MAX_TOKENS>,
    words: ArrayVec<(usize, usize), MAX_TOKENS>,
    /// a MySQL executable comment (`/*!50000 ... */`) was seen
    executable_comment: bool,
}

const MAX_TOKENS: usize = 64;

impl Tokens {
    /// A token and where its text is; past `MAX_TOKENS` the rest of the value is not read.
    fn push(&mut self, tok: Tok, word: (usize, usize)) {
        if self.toks.try_push(tok).is_ok() && self.words.try_push(word).is_err() {
            self.toks.pop();
        }
    }
}

/// Bytes a word or number is made of: letters, digits, `_`, `$`, `.` and any non-ASCII byte.
const WORD_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        table[c] = b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b == b'.' || b >= 0x80;
        c += 1;
    }
    table
};

fn is_word_byte(c: u8) -> bool {
    WORD_BYTES[usize::from(c)]
}

/// Tokenizes `s` (lower case) into `t`, which it clears first (one `Tokens` serves every pass
/// over a value: returning a fresh one copied its kilobyte each time); `quote` puts the start of
/// `s` inside a string of that quote.
fn tokenize(s: &[u8], quote: Option<u8>, t: &mut Tokens) {
    t.toks.clear();
    t.words.clear();
    t.executable_comment = false;
    let mut i = 0;
    if let Some(q) = quote {
        let (end, closed) = string_end(s, 0, q);
        t.push(Tok::Str { closed }, (0, end));
        i = if closed { end + 1 } else { end };
    }
    while i < s.len() && t.toks.len() < MAX_TOKENS {
        let c = s[i];
        let start = i;
        let tok = match c {
            b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c | 0xa0 => {
                i += 1;
                continue;
            }
            b'\'' | b'"' => {
                let (end, closed) = string_end(s, i + 1, c);
                i = if closed { end + 1 } else { end };
                Tok::Str { closed }
            }
            b'`' => {
                let end = s[i + 1..].iter().position(|&x| x == b'`').map_or(s.len(), |p| i + 1 + p);
                i = (end + 1).min(s.len());
                Tok::Ident
            }
            b'0'..=b'9' => {
                i = number_end(s, i);
                Tok::Num
            }
            b'-' if s.get(i + 1) == Some(&b'-') => {
                i = s[i..].iter().position(|&x| x == b'\n').map_or(s.len(), |p| i + p);
                Tok::Comment
            }
            b'#' => {
                i = s[i..].iter().position(|&x| x == b'\n').map_or(s.len(), |p| i + p);
                Tok::Comment
            }
            b'/' if s.get(i + 1) == Some(&b'*') => {
                if s.get(i + 2) == Some(&b'!') {
                    // MySQL runs the inside of /*! ... */ as code: skip the marker and version
                    t.executable_comment = true;
                    i += 3;
                    while i < s.len() && s[i].is_ascii_digit() {
                        i += 1;
                    }
                    continue;
                }
                let end = s[i + 2..].windows(2).position(|w| w == b"*/").map_or(s.len(), |p| i + 2 + p + 2);
                i = end;
                Tok::Comment
            }
            b'*' if s.get(i + 1) == Some(&b'/') => {
                i += 2;
                continue;
            }
            b'@' => {
                i += 1;
                while i < s.len() && (is_word_byte(s[i]) || s[i] == b'@') {
                    i += 1;
                }
                Tok::Var
            }
            b'(' => {
                i += 1;
                Tok::LParen
            }
            b')' => {
                i += 1;
                Tok::RParen
            }
            b',' => {
                i += 1;
                Tok::Comma
            }
            b';' => {
                i += 1;
                Tok::Semi
            }
            b'|' if s.get(i + 1) == Some(&b'|') => {
                i += 2;
                Tok::Kw(Kw::Logic)
            }
            b'&' if s.get(i + 1) == Some(&b'&') => {
                i += 2;
                Tok::Kw(Kw::Logic)
            }
            b'=' | b'<' | b'>' | b'!' => {
                while i < s.len() && matches!(s[i], b'=' | b'<' | b'>' | b'!') {
                    i += 1;
                }
                if &s[start..i] == b"!" {
                    Tok::Kw(Kw::Logic)
                } else {
                    Tok::Cmp
                }
            }
            b'+' | b'-' | b'*' | b'/' | b'%' | b'^' | b'|' | b'&' | b'~' | b':' => {
                i += 1;
                Tok::Op
            }
            b'.' if s.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                i = number_end(s, i + 1);
                Tok::Num
            }
            b'.' => {
                i += 1;
                Tok::Dot
            }
            c if is_word_byte(c) => {
                while i < s.len() && is_word_byte(s[i]) {
                    i += 1;
                }
                word_token(s, start, i)
            }
            _ => {
                i += 1;
                Tok::Other
            }
        };
        t.push(tok, (start, i));
    }
}

fn string_end(s: &[u8], from: usize, q: u8) -> (usize, bool) {
    let mut i = from;
    while i < s.len() {
        if s[i] == b'\\' {
            i += 2;
            continue;
        }
        if s[i] == q {
            // a doubled quote is an escaped quote inside the string
            if s.get(i + 1) == Some(&q) {
                i += 2;
                continue;
            }
            return (i, true);
        }
        i += 1;
    }
    (s.len(), false)
}

fn number_end(s: &[u8], mut i: usize) -> usize {
    if s[i] == b'0' && matches!(s.get(i + 1), Some(b'x' | b'b')) {
        i += 2;
        while i < s.len() && s[i].is_ascii_hexdigit() {
            i += 1;
        }
        return i;
    }
    while i < s.len() && (s[i].is_ascii_digit() || s[i] == b'.') {
        i += 1;
    }
    if i < s.len() && s[i] == b'e' && s.get(i + 1).is_some_and(|c| c.is_ascii_digit() || *c == b'-' || *c == b'+') {
        i += 2;
        while i < s.len() && s[i].is_ascii_digit() {
            i += 1;
        }
    }
    i
}

/// The keyword a word is, by hash (a linear scan of the table was most of the tokenizer's time);
/// FxHash, as the words are short and come from the value, not from a map an attacker fills.
fn keyword(word: &[u8]) -> Option<&'static Kw> {
    static TABLE: std::sync::OnceLock<rustc_hash::FxHashMap<&'static [u8], Kw>> = std::sync::OnceLock::new();
    if word.len() > 9 {
        return None;
    }
    TABLE.get_or_init(|| KEYWORDS.iter().map(|(k, kw)| (k.as_bytes(), *kw)).collect()).get(word)
}

fn word_token(s: &[u8], start: usize, end: usize) -> Tok {
    let word = &s[start..end];
    let mut j = end;
    while j < s.len() && s[j].is_ascii_whitespace() {
        j += 1;
    }
    // a block comment between a function name and its `(` still makes it a call
    if s[j..].starts_with(b"/*") {
        if let Some(p) = s[j + 2..].windows(2).position(|w| w == b"*/") {
            j += 2 + p + 2;
            while j < s.len() && s[j].is_ascii_whitespace() {
                j += 1;
            }
        }
    }
    let call = s.get(j) == Some(&b'(');
    if let Some(kw) = keyword(word) {
        let also_function = matches!(word, b"insert" | b"database" | b"exists" | b"values" | b"mod");
        if !(call && also_function) {
            return Tok::Kw(*kw);
        }
    }
    if call {
        let name = std::str::from_utf8(word).unwrap_or_default();
        let base = name.rsplit('.').next().unwrap_or(name);
        let known = |list: &[&str]| list.contains(&name) || list.contains(&base);
        let kind = if known(DANGEROUS_FUNCS) {
            FuncKind::Strong
        } else if known(INFO_FUNCS) {
            FuncKind::Info
        } else if known(SQL_FUNCS) {
            FuncKind::Sql
        } else {
            FuncKind::Other
        };
        return Tok::Func(kind);
    }
    Tok::Ident
}

fn operand(t: Tok) -> bool {
    matches!(t, Tok::Str { .. } | Tok::Num | Tok::Ident | Tok::Var | Tok::Func(_) | Tok::Kw(Kw::Other))
}

/// Checks a value (lower case, decoded); returns why it is SQL injection. `fragment_words`: the
/// caller saw one of the keywords the fragment checks start from (`union`, `waitfor`, `exec`,
/// `case when`, `like`, `::`, `lo_`) in its keyword pass; most values hold none, and those checks
/// are a dozen substring searches.
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

/// PostgreSQL and MySQL JSON operators between quoted documents: `'{"a":1}'::jsonb @> '...'`,
/// `'...' -> '$.c[2].f'`, `'...' ?| array['a']`.
/// Pieces of a statement that no other text holds, checked before tokenizing because they need
/// no statement around them: `union select`, `execute immediate`, a value that is a `case when ...
/// then`, `) like (`, a PostgreSQL cast (`password::int`), a backquoted alias before `from`,
/// `` ` regexp ``, PostgreSQL large-object calls (`lo_get(16400)`).
/// What follows `union select` in an injection: a literal, `null`, `*`, a call, a variable or a
/// list; prose ("union select committee") has a plain word there. A line break right after
/// `select` counts too: the query goes on past the value.
fn select_list_follows(rest: &[u8]) -> bool {
    let Some(&first) = rest.first() else {
        return false;
    };
    if first.is_ascii_digit() || matches!(first, b'*' | b'(' | b'@' | b'\'' | b'"' | b'-' | b'`' | b'[') {
        return true;
    }
    let word = rest.iter().take_while(|c| is_word_byte(**c)).count();
    if word == 0 {
        return false;
    }
    let name = &rest[..word];
    let after = &rest[word..];
    name == b"null"
        || name == b"from"
        || after.trim_ascii_start().first().is_some_and(|c| matches!(c, b'(' | b','))
        || after.trim_ascii_start().starts_with(b"from")
        || after.starts_with(b"/*")
}

/// `words`: the value holds a keyword the checks start from (see `detect_with`); without one
/// only the checks that start from punctuation run.
pub(crate) fn fragment(b: &[u8], words: bool) -> Option<&'static str> {
    let find = |n: &[u8]| bytes::find(b, n);
    let word_start = |p: usize| p == 0 || !is_word_byte(b[p - 1]);
    // separators between two keywords: blanks and block comments
    let gap_end = |mut i: usize| loop {
        let blanks = b[i.min(b.len())..].iter().take_while(|c| c.is_ascii_whitespace() || **c == b'+').count();
        i += blanks;
        if b[i.min(b.len())..].starts_with(b"/*") {
            match bytes::find(&b[i + 2..b.len().min(i + 258)], b"*/") {
                Some(q) => i += 2 + q + 2,
                None => return i,
            }
        } else {
            return i;
        }
    };
    let mut from = if words { 0 } else { b.len() };
    while let Some(p) = bytes::find(&b[from..], b"union") {
        let at = from + p;
        from = at + 5;
        if !word_start(at) {
            continue;
        }
        let mut next = gap_end(at + 5);
        if next == at + 5 {
            continue;
        }
        for modifier in [&b"all"[..], b"distinct"] {
            if b[next..].starts_with(modifier) {
                let after = gap_end(next + modifier.len());
                if after > next + modifier.len() {
                    next = after;
                }
            }
        }
        if b[next..].starts_with(b"select")
            && !b.get(next + 6).is_some_and(|c| is_word_byte(*c))
            && (select_list_follows(&b[gap_end(next + 6)..]) || b.get(next + 6) == Some(&b'\n'))
        {
            return Some("UNION SELECT");
        }
    }
    // `'x'!='y`: two string literals compared, the second left open for the query's own quote
    // (the first `'!='` and the first `'<>'`, found in one pass over the quotes)
    let (mut not_equal, mut less_greater) = (None, None);
    for q in memchr::memchr_iter(b'\'', b) {
        let rest = &b[q + 1..];
        if not_equal.is_none() && rest.starts_with(b"!='") {
            not_equal = Some(q);
        }
        if less_greater.is_none() && rest.starts_with(b"<>'") {
            less_greater = Some(q);
        }
        if not_equal.is_some() && less_greater.is_some() {
            break;
        }
    }
    for p in [not_equal, less_greater].into_iter().flatten() {
        let opening = b[..p].iter().rposition(|c| *c == b'\'');
        if opening.is_some_and(|o| b[o + 1..p].iter().all(|c| is_word_byte(*c))) {
            return Some("string literals compared");
        }
    }
    if let Some(p) = words.then(|| find(b"waitfor")).flatten() {
        let next = gap_end(p + 7);
        if word_start(p) && next > p + 7 && b[next..].starts_with(b"delay") {
            return Some("WAITFOR DELAY");
        }
    }
    // `;truncate[x`, `;replace/**/t(...)`: a statement stacked at the value's start
    if let Some(rest) = b.trim_ascii_start().strip_prefix(b";") {
        const STATEMENTS: &[&[u8]] = &[
            b"truncate",
            b"drop",
            b"replace",
            b"insert",
            b"delete",
            b"update",
            b"create",
            b"alter",
            b"exec",
            b"declare",
            b"shutdown",
            b"select",
        ];
        let rest = rest.trim_ascii_start();
        let statement = STATEMENTS
            .iter()
            .any(|k| rest.starts_with(k) && !rest.get(k.len()).is_some_and(|c| c.is_ascii_alphabetic()));
        if statement {
            return Some("statement stacked at the start");
        }
    }
    if b.contains(&b'`') {
        // `` ` AS `alias` from ``, `` ` regexp ``
        for p in memchr::memchr_iter(b'`', b) {
            let next = gap_end(p + 1);
            let rest = &b[next..];
            if rest.starts_with(b"regexp") && next > p + 1 {
                return Some("backquoted name before REGEXP");
            }
            if rest.starts_with(b"as") && next > p + 1 {
                let alias = gap_end(next + 2);
                if b.get(alias) == Some(&b'`') {
                    let close = b[alias + 1..].iter().position(|c| *c == b'`').map(|q| alias + 1 + q);
                    if let Some(close) = close {
                        let from_at = gap_end(close + 1);
                        if from_at > close + 1 && b[from_at..].starts_with(b"from") {
                            return Some("backquoted alias before FROM");
                        }
                    }
                }
            }
        }
    }
    // the rest starts from a keyword
    if !words {
        return None;
    }
    if let Some(p) = find(b"execute") {
        let next = gap_end(p + 7);
        if word_start(p) && next > p + 7 && b[next..].starts_with(b"immediate") {
            return Some("EXECUTE IMMEDIATE");
        }
    }
    let trimmed = b.trim_ascii_start();
    if trimmed.starts_with(b"case when ") && bytes::find(trimmed, b" then ").is_some() {
        return Some("CASE WHEN expression");
    }
    if find(b")like(").is_some() || find(b") like (").is_some() {
        return Some("LIKE between expressions");
    }
    const CASTS: &[&[u8]] =
        &[b"int", b"integer", b"text", b"varchar", b"bigint", b"numeric", b"regclass", b"bytea", b"oid"];
    // (a searcher is built for each call: only where a colon is)
    for p in memchr::memchr(b':', b).map(|_| memchr::memmem::find_iter(b, b"::")).into_iter().flatten() {
        let word_before = p > 0 && is_word_byte(b[p - 1]);
        let rest = &b[p + 2..];
        let cast = CASTS.iter().any(|t| rest.starts_with(t) && !rest.get(t.len()).is_some_and(|c| is_word_byte(*c)));
        if word_before && cast {
            return Some("PostgreSQL type cast");
        }
    }
    let large_object = find(b"lo_").is_some();
    for call in [&b"lo_get("[..], b"lo_import(", b"lo_export(", b"lo_from_bytea("].into_iter().filter(|_| large_object)
    {
        if let Some(p) = find(call) {
            if word_start(p) {
                return Some("PostgreSQL large-object call");
            }
        }
    }
    None
}

fn json_operator(b: &[u8]) -> Option<&'static str> {
    if bytes::find(b, b"'::json").is_some() {
        return Some("PostgreSQL JSON cast");
    }
    const OPERATORS: &[&[u8]] = &[b"->>", b"->", b"#>>", b"#>", b"#-", b"@>", b"<@", b"?|", b"?&", b"@?", b"@@", b"?"];
    for q in memchr::memchr_iter(b'\'', b) {
        let mut i = q + 1;
        while i < b.len() && b[i] == b' ' {
            i += 1;
        }
        let Some(op) = OPERATORS.iter().find(|op| b[i..].starts_with(op)) else { continue };
        let mut j = i + op.len();
        while j < b.len() && b[j] == b' ' {
            j += 1;
        }
        let operand = b.get(j).is_some_and(|c| *c == b'\'' || c.is_ascii_digit()) || b[j..].starts_with(b"array[");
        // the quote before the operator must close a string that opened before it
        let closes = b[..q].contains(&b'\'');
        if operand && closes {
            return Some("JSON operator between strings");
        }
    }
    None
}

/// MySQL reads `1.e(` and `1.e.` as a number followed by code (CRS 942560).
fn scientific_notation(b: &[u8]) -> Option<&'static str> {
    b.windows(4)
        .any(|w| w[0].is_ascii_digit() && w[1] == b'.' && w[2] == b'e' && matches!(w[3], b'(' | b'.' | b')' | b','))
        .then_some("MySQL scientific notation followed by code")
}

/// `select 1 from dual` (Oracle and MySQL's dummy table).
fn from_dual(s: &str) -> Option<&'static str> {
    let pos = s.find("dual")?;
    let after = s[pos + 4..].bytes().next();
    (s[..pos].trim_end().ends_with("from") && after.is_none_or(|c| !c.is_ascii_alphanumeric()))
        .then_some("select from dual")
}

fn check(t: &Tokens, s: &[u8], quoted: bool) -> Option<&'static str> {
    let all = &t.toks;
    // comments out of the way for structure checks, but remember where they were (on the
    // stack: a tokenizer never yields more than MAX_TOKENS, and this runs up to three times per
    // value)
    let code_buf: ArrayVec<Tok, MAX_TOKENS> =
        all.iter().copied().filter(|x| *x != Tok::Comment).take(MAX_TOKENS).collect();
    let code = &code_buf[..];
    let n = code.len();
    let kw_count = code.iter().filter(|x| matches!(x, Tok::Kw(_))).count();
    if t.executable_comment && kw_count > 0 {
        return Some("MySQL executable comment");
    }
    for i in 0..n {
        match code[i] {
            // `x AS "alias" FROM t`: a select list continued
            Tok::Kw(Kw::As)
                if i > 0
                    && matches!(code[i - 1], Tok::Str { .. } | Tok::Ident | Tok::Num)
                    && matches!(code.get(i + 1), Some(Tok::Str { .. } | Tok::Ident))
                    && code.get(i + 2) == Some(&Tok::Kw(Kw::From)) =>
            {
                return Some("aliased column FROM");
            }
            Tok::Kw(Kw::Other) if word_at(t, all, s, i) == b"case" => {
                let when = code.get(i + 1).is_some_and(|_| word_at(t, all, s, i + 1) == b"when");
                if when && (i + 2..n.min(i + 12)).any(|k| word_at(t, all, s, k) == b"then") {
                    return Some("CASE WHEN");
                }
            }
            Tok::Kw(Kw::Other) if word_at(t, all, s, i) == b"procedure" && word_at(t, all, s, i + 1) == b"analyse" => {
                return Some("PROCEDURE ANALYSE");
            }
            Tok::Op if i > 0 && code.get(i + 1) == Some(&Tok::Op) && word_at(t, all, s, i) == b":" => {
                // PostgreSQL casts: `password::int`, `f(x)::text`
                const TYPES: &[&[u8]] = &[
                    b"int",
                    b"integer",
                    b"bigint",
                    b"smallint",
                    b"text",
                    b"varchar",
                    b"char",
                    b"double",
                    b"numeric",
                    b"real",
                    b"float",
                    b"bool",
                    b"boolean",
                    b"date",
                    b"bytea",
                    b"regclass",
                    b"oid",
                    b"json",
                    b"jsonb",
                ];
                let ty = word_at(t, all, s, i + 2);
                if TYPES.contains(&ty) && matches!(code[i - 1], Tok::Ident | Tok::RParen | Tok::Str { .. } | Tok::Num) {
                    return Some("PostgreSQL cast");
                }
            }
            Tok::Kw(Kw::Union) => {
                let mut j = i + 1;
                while j < n && matches!(code[j], Tok::LParen | Tok::Kw(Kw::Other)) {
                    j += 1;
                }
                // `union select` with something selected, or after something it continues (a
                // name like "Union Select" is neither)
                let continues = i > 0 && matches!(code[i - 1], Tok::Str { .. } | Tok::Num | Tok::RParen);
                if j < n && code[j] == Tok::Kw(Kw::Select) && (j + 1 < n || continues) {
                    return Some("UNION SELECT");
                }
            }
            Tok::Kw(Kw::Select)
                if select_from(&code[i..], i == 0 || quoted || matches!(code[i - 1], Tok::Semi | Tok::LParen)) =>
            {
                return Some("SELECT ... FROM");
            }
            Tok::Func(FuncKind::Strong) => {
                let arg = code.get(i + 2).copied();
                let call_shaped = matches!(
                    arg,
                    None | Some(
                        Tok::Num
                            | Tok::Str { .. }
                            | Tok::Func(_)
                            | Tok::Var
                            | Tok::RParen
                            | Tok::Kw(_)
                            | Tok::Ident
                            | Tok::LParen
                    )
                );
                if call_shaped {
                    return Some("delay, file or error-based function");
                }
            }
            Tok::Func(FuncKind::Info) => {
                // `version()`, `user(`: an empty or cut-off call, not `user(s)`
                if matches!(code.get(i + 2), None | Some(Tok::RParen)) {
                    return Some("information function call");
                }
            }
            Tok::Func(FuncKind::Sql) if i == 0 => {
                // a value that is a SQL function call with SQL-looking arguments, or cut off
                // right after the parenthesis as scanners probe
                let args = &code[(i + 2).min(n)..];
                let sqlish = args.is_empty()
                    || args.iter().any(|t| matches!(t, Tok::Str { .. } | Tok::Func(_) | Tok::Var | Tok::Kw(_)))
                    || (args.first() == Some(&Tok::Num) && matches!(args.get(1), Some(Tok::Comma | Tok::Cmp)));
                if sqlish {
                    return Some("SQL function call");
                }
            }
            Tok::Kw(Kw::Stmt) => {
                let word = |k: usize| -> &[u8] {
                    let idx = index_in_all(all, k);
                    t.words.get(idx).map(|&(a, b)| &s[a..b.min(s.len())]).unwrap_or_default()
                };
                let this = word(i);
                let next = word(i + 1);
                if this == b"waitfor" && matches!(next, b"delay" | b"time") {
                    return Some("WAITFOR DELAY");
                }
                if matches!(this, b"exec" | b"execute")
                    && (next.starts_with(b"xp_") || next.starts_with(b"sp_") || next.starts_with(b"master."))
                {
                    return Some("stored procedure execution");
                }
            }
            Tok::Kw(Kw::Into) => {
                let idx = index_in_all(all, i + 1);
                let next = t.words.get(idx).map(|&(a, b)| &s[a..b.min(s.len())]).unwrap_or_default();
                if matches!(next, b"outfile" | b"dumpfile") {
                    return Some("INTO OUTFILE");
                }
            }
            Tok::Semi => {
                if let Some(reason) = stacked(&code[i + 1..], t, i + 1, s, true) {
                    return Some(reason);
                }
            }
            Tok::Op if i + 1 < n && code[i + 1] == Tok::Op && i > 0 => {
                // `::json` casts in PostgreSQL JSON injection
                if let Some(&(ws, we)) = t.words.get(index_in_all(all, i + 2)) {
                    let w = &s[ws..we.min(s.len())];
                    if w.starts_with(b"json") {
                        return Some("PostgreSQL JSON cast");
                    }
                }
            }
            _ => {}
        }
    }
    // the structures below need a value that starts the injection: a closed string (the
    // value broke out of quotes), or a number or word as in `id=1 or 1=1`
    // a sign before a number (`-1 or 1=1`) belongs to the number
    let signed = code.len() > 1 && code[0] == Tok::Op && code[1] == Tok::Num;
    let code = if signed { &code[1..] } else { code };
    // `code[k]` is the `k + shift`-th code token for `word_at`
    let shift = usize::from(signed);
    let n = code.len();
    let first = *code.first()?;
    // a statement as the whole value (`create table x (...)`, `drop table users`)
    if !quoted && matches!(first, Tok::Kw(Kw::Stmt)) && !matches!(code.get(1), Some(Tok::Ident) if n == 2) {
        if let Some(reason) = stacked(code, t, 0, s, false) {
            return Some(reason);
        }
    }
    // a value that starts with the rest of a condition, as appended to a parameter
    // (` or 1=1`, ` order by 5--`, ` having 1=1#`): an operand before it is implied
    // `, find_in_set('22', x)`: a function call appended to a list
    if !quoted
        && first == Tok::Comma
        && matches!(code.get(1), Some(Tok::Func(FuncKind::Sql | FuncKind::Strong | FuncKind::Info)))
    {
        let args = &code[(3).min(n)..];
        if args.iter().any(|t| matches!(t, Tok::Str { .. } | Tok::Func(_) | Tok::Var)) {
            return Some("SQL function call appended to a list");
        }
    }
    // `/create table x`, `-drop table y`
    if !quoted && first == Tok::Op && matches!(code.get(1), Some(Tok::Kw(Kw::Stmt))) {
        if let Some(reason) = stacked(&code[1..], t, 1, s, false) {
            return Some(reason);
        }
    }
    let appended =
        !quoted && matches!(first, Tok::Kw(Kw::Logic | Kw::Order | Kw::Group | Kw::Having | Kw::Expr) | Tok::RParen);
    let breaks = match first {
        Tok::Str { closed } => quoted && closed,
        Tok::Num | Tok::Ident | Tok::Var => true,
        _ => appended,
    };
    if !breaks {
        return None;
    }
    let mut i = if appended { 0 } else { 1 };
    while i < n && code[i] == Tok::RParen {
        i += 1;
    }
    let closed_parens = i > 1;
    let in_quotes = matches!(first, Tok::Str { .. });
    // `admin'--`, `1)#`, `x'; --`
    if in_quotes || closed_parens {
        let first_code_index = index_in_all(all, i);
        let mut k = index_in_all(all, i - 1) + 1;
        while k < all.len() && all[k] == Tok::Semi {
            k += 1;
        }
        if all.get(k) == Some(&Tok::Comment) && (first_code_index >= all.len() || k < first_code_index) {
            // `admin'--`, `x'# `, `1)/*`: a comment that ends the query; `7" #2 needle` is text
            let text = t.words.get(k).map(|&(a, b)| &s[a.min(s.len())..b.min(s.len())]).unwrap_or_default();
            let rest = text.strip_prefix(b"--").or_else(|| text.strip_prefix(b"#"));
            let ends_query = match rest {
                Some(rest) => {
                    rest.iter().all(|c| c.is_ascii_whitespace() || *c == b'-' || *c == b'+')
                        || rest.first().is_some_and(|c| c.is_ascii_whitespace()) && text.starts_with(b"--")
                }
                None => true,
            };
            // `soap 1 '#`: a quote and a hash mark typed after a word, with a space before it
            let spaced_quote = in_quotes
                && !closed_parens
                && t.words.first().is_some_and(|&(_, end)| end > 0 && s.get(end - 1) == Some(&b' '))
                && text == b"#";
            if ends_query && !spaced_quote {
                return Some("string or parenthesis closed, rest commented out");
            }
        }
    }
    if i >= n {
        return None;
    }
    match code[i] {
        Tok::Kw(Kw::Logic) => {
            let operand_text = |k: usize| word_at(t, all, s, shift + i + 1 + k);
            // the quote the value sits in: the one that closed its first string
            let quote = in_quotes.then(|| t.words.first().and_then(|&(_, end)| s.get(end).copied())).flatten();
            let ends_with_comment = all.last() == Some(&Tok::Comment);
            // `"x" NOT "y"`: `not` is unary, no condition follows a string with it
            let unary = word_at(t, all, s, shift + i) == b"not";
            // `select 'and'` quotes a word in text; `' or '` starts with its break
            let text_before = t.words.first().is_some_and(|&(_, end)| end > 0);
            condition(&code[i + 1..], &operand_text, ends_with_comment, quote, unary, text_before)
        }
        Tok::Kw(Kw::Order | Kw::Group) if code.get(i + 1) == Some(&Tok::Kw(Kw::By)) => {
            let next = code.get(i + 2).copied();
            (matches!(next, Some(Tok::Num | Tok::Func(_))) || (in_quotes && next.is_some()))
                .then_some("ORDER/GROUP BY after a break")
        }
        Tok::Kw(Kw::Having) | Tok::Kw(Kw::Limit) if in_quotes || closed_parens || appended => {
            Some("clause after a break")
        }
        Tok::Kw(Kw::Into)
            if in_quotes
                && (matches!(word_at(t, all, s, i + 1), b"outfile" | b"dumpfile")
                    || code.get(i + 1) == Some(&Tok::Var)) =>
        {
            Some("INTO after a break")
        }
        Tok::Kw(Kw::Select) if in_quotes && select_from(&code[i..], true) => Some("SELECT after a break"),
        Tok::Kw(Kw::Stmt) if in_quotes || closed_parens => {
            stacked(&code[i..], t, i, s, true).map(|_| "statement after a break")
        }
        // `' like '%a`, `' between 1 and 2`; not `' like a robot` nor a quoted word (`"like" stamp`)
        Tok::Kw(Kw::Expr)
            if in_quotes
                && !quoted_word(t, all, s, i)
                && matches!(
                    code.get(i + 1),
                    Some(Tok::Str { .. } | Tok::Num | Tok::Var | Tok::Func(_) | Tok::LParen)
                ) =>
        {
            Some("comparison after a break")
        }
        // `">text</a>`: angle brackets of markup, not comparisons
        Tok::Cmp if markup(s) => None,
        Tok::Cmp
            if in_quotes && i + 1 < n && operand(code[i + 1]) && (i + 2 >= n || !matches!(code[i + 2], Tok::Ident)) =>
        {
            // `'='`, `' = 'x` only with more SQL after it
            (kw_count > 0
                || all.last() == Some(&Tok::Comment)
                || (i + 2 < n && matches!(code[i + 2], Tok::Kw(_) | Tok::Cmp)))
            .then_some("comparison after a break")
        }
        Tok::Op if in_quotes && matches!(code.get(i + 1), Some(Tok::Func(_) | Tok::Kw(Kw::Select))) => {
            Some("concatenated expression after a break")
        }
        _ => None,
    }
}

/// `"like" stamp`, `q="mod"&`: the keyword is a word someone put in quotes, with nothing glued
/// to the quotes around it.
fn quoted_word(t: &Tokens, all: &[Tok], s: &[u8], code_index: usize) -> bool {
    let Some(&(a, b)) = t.words.get(index_in_all(all, code_index)) else {
        return false;
    };
    let (Some(&open), Some(&close)) = (a.checked_sub(1).and_then(|p| s.get(p)), s.get(b)) else {
        return false;
    };
    let loose = |c: Option<&u8>| c.is_none_or(|c| c.is_ascii_whitespace() || matches!(c, b'=' | b'&' | b'+'));
    matches!(open, b'"' | b'\'')
        && open == close
        && loose(a.checked_sub(2).and_then(|p| s.get(p)))
        && loose(s.get(b + 1))
}

/// `</a`, or an attribute closed and a tag opened after it (`"> <img`): markup, which SQL
/// never spells.
fn markup(s: &[u8]) -> bool {
    let tag_at = |p: usize| s.get(p + 1).is_some_and(u8::is_ascii_alphabetic);
    let closes_a_tag = memchr::memmem::find_iter(s, b"</").any(|p| tag_at(p + 1));
    // the first attribute closed is enough: any tag opened later comes after it
    let closed = memchr::memchr2_iter(b'"', b'\'', s).find(|&q| s.get(q + 1) == Some(&b'>'));
    closes_a_tag || closed.is_some_and(|q| memchr::memchr_iter(b'<', &s[q + 2..]).any(|p| tag_at(q + 2 + p)))
}

/// The text of the `code_index`-th code token.
fn word_at<'s>(t: &Tokens, all: &[Tok], s: &'s [u8], code_index: usize) -> &'s [u8] {
    let idx = index_in_all(all, code_index);
    t.words.get(idx).map(|&(a, b)| &s[a.min(s.len())..b.min(s.len())]).unwrap_or_default()
}

/// Index in the token list with comments of the `code_index`-th code token.
fn index_in_all(all: &[Tok], code_index: usize) -> usize {
    let mut seen = 0;
    for (i, t) in all.iter().enumerate() {
        if *t == Tok::Comment {
            continue;
        }
        if seen == code_index {
            return i;
        }
        seen += 1;
    }
    all.len()
}

/// After `or` / `and`: a comparison, a function call, a subquery, or a bare operand that ends
/// the input (with a comment, or inside quotes); `text(k)` is the text of `rest[k]`.
fn condition<'s>(
    rest: &[Tok],
    text: &dyn Fn(usize) -> &'s [u8],
    ends_with_comment: bool,
    quote: Option<u8>,
    unary: bool,
    text_before: bool,
) -> Option<&'static str> {
    let in_quotes = quote.is_some();
    let mut i = 0;
    while i < rest.len() && matches!(rest[i], Tok::LParen | Tok::Kw(Kw::Logic) | Tok::Op) {
        i += 1;
    }
    let first = *rest.get(i)?;
    if matches!(first, Tok::Func(_)) {
        return Some("condition with a function call after a break");
    }
    if first == Tok::Kw(Kw::Select) {
        return Some("subquery after a break");
    }
    if !operand(first) {
        return None;
    }
    let mut j = i + 1;
    while j < rest.len() && rest[j] == Tok::RParen {
        j += 1;
    }
    match rest.get(j) {
        Some(Tok::Cmp) | Some(Tok::Kw(Kw::Expr)) => {
            let mut k = j + 1;
            while k < rest.len() && matches!(rest[k], Tok::LParen | Tok::Kw(Kw::Expr) | Tok::Kw(Kw::Logic) | Tok::Op) {
                k += 1;
            }
            rest.get(k)
                .copied()
                .filter(|t| operand(*t) || *t == Tok::Kw(Kw::Select))
                .map(|_| "tautology or condition after a break")
        }
        // `' and 1+1`, `' or x*1`, `' or a*b != '0`; `"and+when+the+kids"` is words joined
        // by plus signs
        Some(Tok::Op)
            if in_quotes
                && matches!(rest.get(j + 1), Some(t) if operand(*t))
                && (!(bare_word(first) && rest.get(j + 1).is_some_and(|t| bare_word(*t)))
                    || matches!(rest.get(j + 2), Some(Tok::Cmp | Tok::Kw(Kw::Expr)))) =>
        {
            Some("arithmetic condition after a break")
        }
        // `' or '1` leaves its string open for the application's closing quote; `foo' OR "BAR`
        // and `foo" OR "BAR"` leave the query with a string that never ends
        None if unary && in_quotes => None,
        None if !ends_with_comment
            && matches!(first, Tok::Str { closed } if closed || text(i).first().copied() != quote) =>
        {
            None
        }
        // `select 'and'`: a word quoted in text, whose operand is the empty string the
        // application's quote closes (`'select ' and ''`, which tests nothing); a value that
        // starts with its break (`' or '`) is the probe for it
        None if text_before && !ends_with_comment && quote.is_some_and(|q| text(i) == [q]) => None,
        None if (ends_with_comment || in_quotes) && first != Tok::Ident => Some("always-true condition after a break"),
        None if first == Tok::Kw(Kw::Other) => Some("boolean condition after a break"),
        None if ends_with_comment => Some("condition after a break, rest commented out"),
        _ => None,
    }
}

/// A plain word as an operand: a name or a keyword such as `null` or `when`.
fn bare_word(t: Tok) -> bool {
    matches!(t, Tok::Ident | Tok::Kw(Kw::Other))
}

fn select_from(rest: &[Tok], statement_start: bool) -> bool {
    let item = rest.get(1).copied();
    let item_ok = matches!(
        item,
        Some(Tok::Num | Tok::Str { .. } | Tok::Var | Tok::Func(_) | Tok::Op | Tok::LParen | Tok::Kw(Kw::Other))
    ) || (item == Some(Tok::Ident)
        && matches!(rest.get(2), Some(Tok::Comma | Tok::Kw(Kw::From | Kw::Group | Kw::Having | Kw::Order) | Tok::Dot)));
    if !item_ok {
        return false;
    }
    // `select x group by y having count(id) >= 9`
    let clause =
        rest.iter().take(24).skip(2).any(|t| matches!(t, Tok::Kw(Kw::Group | Kw::Having | Kw::Order | Kw::Limit)));
    if clause && statement_start {
        return true;
    }
    let Some(from) = rest.iter().take(24).position(|t| *t == Tok::Kw(Kw::From)) else {
        // `select @@version`, `select 1,2,3`, `select load_file(`
        // a bare item must look like SQL: `select 1`, `select @@version`, not "Select Table"
        let bare_item = rest.len() <= 2 && matches!(item, Some(Tok::Num | Tok::Var | Tok::Func(_) | Tok::Op));
        return statement_start
            && (bare_item
                || matches!(rest.get(2), Some(Tok::Comma | Tok::LParen | Tok::Op))
                || matches!(item, Some(Tok::Var | Tok::Func(_))));
    };
    match rest.get(from + 1) {
        Some(Tok::Ident | Tok::Var | Tok::LParen | Tok::Func(_)) => !matches!(rest.get(from + 2), Some(Tok::Ident)),
        None => statement_start,
        _ => false,
    }
}

/// A statement: after a `;` (or a break out of a string), or as the whole value when
/// `after_separator` is false, which asks more of it (`exec summary` is prose, and so is
/// `; exec will create`: a procedure name is followed by its arguments, not by more words).
fn stacked(rest: &[Tok], t: &Tokens, code_start: usize, s: &[u8], after_separator: bool) -> Option<&'static str> {
    let first = *rest.first()?;
    let word = |k: usize| -> &[u8] {
        let idx = index_in_all(&t.toks, code_start + k);
        t.words.get(idx).map(|&(a, b)| &s[a..b.min(s.len())]).unwrap_or_default()
    };
    let next = rest.get(1).copied();
    let ok = match first {
        // after a `;` any selected item will do (`'; select p`)
        Tok::Kw(Kw::Select) => select_from(rest, true) || (after_separator && rest.len() >= 2),
        Tok::Kw(Kw::Stmt) => match word(0) {
            b"drop" | b"create" | b"alter" | b"truncate" => {
                matches!(
                    word(1),
                    b"table"
                        | b"database"
                        | b"procedure"
                        | b"function"
                        | b"view"
                        | b"user"
                        | b"index"
                        | b"schema"
                        | b"login"
                )
            }
            b"insert" => word(1) == b"into" && matches!(rest.get(3), Some(Tok::LParen | Tok::Kw(_))),
            b"delete" => word(1) == b"from",
            b"update" => next == Some(Tok::Ident) && rest.get(2).is_some_and(|_| word(2) == b"set"),
            b"exec" | b"execute" => {
                let procedure =
                    word(1).starts_with(b"xp_") || word(1).starts_with(b"sp_") || word(1).starts_with(b"master");
                matches!(next, Some(Tok::Func(_) | Tok::Var | Tok::LParen | Tok::Str { .. }))
                    || (next == Some(Tok::Ident)
                        && (procedure || (after_separator && !matches!(rest.get(2), Some(Tok::Ident | Tok::Kw(_))))))
            }
            b"declare" | b"set" => next == Some(Tok::Var),
            b"shutdown" => next.is_none(),
            b"waitfor" => matches!(word(1), b"delay" | b"time"),
            _ => false,
        },
        Tok::Func(FuncKind::Strong | FuncKind::Info) => true,
        _ => false,
    };
    ok.then_some("stacked query")
}

#[cfg(test)]
mod tests {
    use super::detect_with;

    #[test]
    fn injections() {
        for s in [
            "1' or '1'='1",
            "' or 1=1--",
            "admin'--",
            "1 union all select null,null--",
            "1; drop table users",
            "1' and sleep(5)#",
            "-1 or 1=1",
            "' union select username, password from users--",
            "1) or (1=1",
            "'; exec master..xp_cmdshell 'dir'--",
            "1 and (select count(*) from information_schema.tables)>0",
            "' or ''='",
            "1' order by 3--",
            "\" or \"x\"=\"x",
            "1/*!50000union*/ select 1",
            "benchmark(10000000,md5(1))",
            "x' and extractvalue(1,concat(0x7e,version()))--",
            "a' or 'b",
            "1\"or!\"a",
            "aa'or column*column!='0",
            "' and 1+1",
            "1; exec sp_who",
            "' or '",
            "'and'",
        ] {
            assert!(detect_with(s, true).is_some(), "missed {s}");
        }
    }

    #[test]
    fn prose_and_data_stay_quiet() {
        for s in [
            "o'reilly and sons",
            "rock 'n' roll or something",
            "please select a date from the calendar",
            "1 or 2 items",
            "it's 5 o'clock",
            "john's order by phone",
            "select the best option",
            "drop me a line; update later",
            "\"quoted\" text",
            "a--b",
            "#hashtag",
            "1-2-3",
            "and",
            "2024-01-15",
            "union station",
            "select 'and'",
            "select 'abc'",
            // a string that never ends, `not` after a string, words joined by plus signs
            "foo\" or \"bar\"",
            "foo' or \"bar",
            "christmas stocking \"not\" stuffer",
            "/search?q=\"and+when+the+kids+are+old+enough\"&view_type=gallery",
            "bamboo charcoal soap 1 '#",
            "1; exec will create the case 7",
            "\"> <a class=x>listing-price\"> 3 <img",
        ] {
            assert!(detect_with(s, true).is_none(), "flagged {s}: {:?}", detect_with(s, true));
        }
    }
}
