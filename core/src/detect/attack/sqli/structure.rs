//! The parts of a statement `check` looks for: conditions, `select ... from`, stacked
//! statements, and the word under a token.

use super::tokens::{operand, Tok, Tokens};
use super::words::{FuncKind, Kw};

/// `"like" stamp`, `q="mod"&`: the keyword is a word someone put in quotes, with nothing glued
/// to the quotes around it.
pub(super) fn quoted_word(t: &Tokens, all: &[Tok], s: &[u8], code_index: usize) -> bool {
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
pub(super) fn markup(s: &[u8]) -> bool {
    let tag_at = |p: usize| s.get(p + 1).is_some_and(u8::is_ascii_alphabetic);
    let closes_a_tag = memchr::memmem::find_iter(s, b"</").any(|p| tag_at(p + 1));
    // the first attribute closed is enough: any tag opened later comes after it
    let closed = memchr::memchr2_iter(b'"', b'\'', s).find(|&q| s.get(q + 1) == Some(&b'>'));
    closes_a_tag || closed.is_some_and(|q| memchr::memchr_iter(b'<', &s[q + 2..]).any(|p| tag_at(q + 2 + p)))
}

/// The text of the `code_index`-th code token.
pub(super) fn word_at<'s>(t: &Tokens, all: &[Tok], s: &'s [u8], code_index: usize) -> &'s [u8] {
    let idx = index_in_all(all, code_index);
    t.words.get(idx).map(|&(a, b)| &s[a.min(s.len())..b.min(s.len())]).unwrap_or_default()
}

/// Index in the token list with comments of the `code_index`-th code token.
pub(super) fn index_in_all(all: &[Tok], code_index: usize) -> usize {
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
pub(super) fn condition<'s>(
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
pub(super) fn bare_word(t: Tok) -> bool {
    matches!(t, Tok::Ident | Tok::Kw(Kw::Other))
}

pub(super) fn select_from(rest: &[Tok], statement_start: bool) -> bool {
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
pub(super) fn stacked(
    rest: &[Tok],
    t: &Tokens,
    code_start: usize,
    s: &[u8],
    after_separator: bool,
) -> Option<&'static str> {
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
        // `;call regexp_substring(...)`: a procedure called with its arguments
        Tok::Ident if after_separator && word(0) == b"call" => matches!(next, Some(Tok::Func(_))),
        // `;begin dbms_lock.sleep(5); end`: an anonymous block around a call
        Tok::Ident if after_separator && word(0) == b"begin" => matches!(next, Some(Tok::Func(_))),
        // MSSQL's `;if(1=1) select 1 else drop function x`: a condition choosing a statement
        Tok::Func(FuncKind::Sql) if after_separator && word(0) == b"if" => {
            rest.iter().skip(2).take(16).any(|t| matches!(t, Tok::Kw(Kw::Select | Kw::Stmt)))
        }
        _ => false,
    };
    ok.then_some("stacked query")
}
