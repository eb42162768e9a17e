//! What makes a token sequence an injection: a break out of a string or number followed by a
//! condition, comparison, call or comment; UNION SELECT; stacked statements; and the rest.

use super::structure::{condition, index_in_all, markup, quoted_word, select_from, stacked, word_at};
use super::tokens::{operand, Tok, Tokens, MAX_TOKENS};
use super::words::{FuncKind, Kw};
use arrayvec::ArrayVec;

pub(super) fn check(t: &Tokens, s: &[u8], quoted: bool) -> Option<&'static str> {
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
    let at_break = match code[i] {
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
        // `1 having 5=5`: a HAVING with a comparison, after a value as much as after a break
        Tok::Kw(Kw::Having)
            if code.get(i + 1).is_some_and(|t| operand(*t))
                && code.get(i + 2) == Some(&Tok::Cmp)
                && code.get(i + 3).is_some_and(|t| operand(*t)) =>
        {
            Some("HAVING condition after a value")
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
    };
    if at_break.is_some() || !(in_quotes || closed_parens) {
        return at_break;
    }
    // `' and 91 78 and 'x'='x`, `' in boolean mode) and 7=7`, `1) as x where 5=5`: the break
    // is followed by something else first, and by the condition after it
    let ends_with_comment = all.last() == Some(&Tok::Comment);
    let quote = in_quotes.then(|| t.words.first().and_then(|&(_, end)| s.get(end).copied())).flatten();
    (i + 1..n.min(i + 16))
        .filter(|&k| matches!(code[k], Tok::Kw(Kw::Logic)) || word_at(t, all, s, shift + k) == b"where")
        .find_map(|k| {
            let text = |m: usize| word_at(t, all, s, shift + k + 1 + m);
            let unary = word_at(t, all, s, shift + k) == b"not";
            condition(&code[k + 1..], &text, ends_with_comment, quote, unary, true)
        })
        .map(|_| "condition later after a break")
}
