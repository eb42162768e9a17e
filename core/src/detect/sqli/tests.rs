//! Injections the tokenizer must catch and text it must leave alone.

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
