//! The tokenizer: a value as a sequence of SQL tokens, read bare or as if inside quotes.

use super::words::{keyword, FuncKind, Kw, DANGEROUS_FUNCS, INFO_FUNCS, SQL_FUNCS};
use arrayvec::ArrayVec;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tok {
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

/// On the stack: this runs up to three times per value that has a quote or SQL punctuation in
/// it, and two heap vectors per run were a tenth of the tokenizer's cost.
pub(super) struct Tokens {
    pub(super) toks: ArrayVec<Tok, MAX_TOKENS>,
    pub(super) words: ArrayVec<(usize, usize), MAX_TOKENS>,
    /// a MySQL executable comment (`/*!50000 ... */`) was seen
    pub(super) executable_comment: bool,
}

pub(super) const MAX_TOKENS: usize = 64;

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

pub(super) fn is_word_byte(c: u8) -> bool {
    WORD_BYTES[usize::from(c)]
}

/// Tokenizes `s` (lower case) into `t`, which it clears first (one `Tokens` serves every pass
/// over a value: returning a fresh one copied its kilobyte each time); `quote` puts the start of
/// `s` inside a string of that quote.
pub(super) fn tokenize(s: &[u8], quote: Option<u8>, t: &mut Tokens) {
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

pub(super) fn operand(t: Tok) -> bool {
    matches!(t, Tok::Str { .. } | Tok::Num | Tok::Ident | Tok::Var | Tok::Func(_) | Tok::Kw(Kw::Other))
}
