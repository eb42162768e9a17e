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

/// The shapes sqlmap sends (its boundaries around its payloads, values made up here): the
/// statements stacked after a `;`, conditions after a closing bracket, quote-delimited
/// tautologies without blanks, its heuristic probes.
#[test]
fn sqlmap_shapes() {
    for s in [
        // stacked statements, each database's delay
        "shoes';select sleep(1)#",
        "shoes';select pg_sleep(1)--",
        "shoes);select like('abcdefg',upper(hex(randomblob(100000000/2))))--",
        "shoes';waitfor delay '0:0:1'--",
        "shoes';call regexp_substring(repeat(right(char(5819),0),100000000),null)--",
        "shoes';begin dbms_lock.sleep(1); end--",
        "shoes';declare @x char(9);set @x=0x303a303a31;waitfor delay @x--",
        "shoes';select count(*) from generate_series(1,1000000)--",
        "shoes';select dbms_pipe.receive_message('abcd',1) from dual--",
        "shoes';(select * from (select(sleep(1)))abcd)#",
        "shoes';select benchmark(1000000,md5('abcd'))#",
        "shoes;select count(*) from all_users t1,all_users t2,all_users t3",
        "shoes');select sleep(1) and ('abcd'='abcd",
        // MSSQL conditionals
        "shoes;if(5819=5819) select 5819 else drop function xyzw--",
        "1;if(7=7) waitfor delay '0:0:1'--",
        // HAVING and WHERE after a break
        "1 having 5819=5819",
        "shoes' having 1234=1234-- abcd",
        "1) as abcd where 5=5",
        "1) as abcd where 8361=8361 and (9045=9045",
        "shoes' in boolean mode) and 7=7#",
        "shoes') as abcd where 8361=8361-- x",
        // quote-delimited tautologies without blanks
        "x'or'b'='b",
        "shoes'and'abcd'='abcd",
        "x\"or\"a\"=\"a",
        // heuristic probes: a run of quotes and brackets
        "shoes'\"(),.(.",
        "shoes).,'\".(\"'(",
        "\"(',,)'.",
        "1'\")(,.).,",
    ] {
        assert!(detect_with(s, true).is_some(), "missed {s}");
    }
    for s in [
        "if you select one, else drop it",
        "rock'n'roll",
        "o'reilly's 'best' book",
        "(see above).",
        "\"hello\", (world).",
        "shoes (size 9), red",
        "it's 5 o'clock; having fun",
        "as seen where 5 stars",
        "in boolean mode) and more",
        "'quoted' and 'more'",
    ] {
        assert!(detect_with(s, true).is_none(), "flagged {s}: {:?}", detect_with(s, true));
    }
}
