//! Command-injection short forms and the PHP rules' context: a held-out set of short
//! commands (separators, substitutions, trailing separators, exec calls) and what users write
//! that looks like them; names PHP shares with SQL; PHP open tags beside processing
//! instructions.

use super::*;

fn found(key: &str, value: &str) -> Vec<&'static str> {
    let site = Site { direction: Direction::Request, part: Part::Query, field: key, key };
    let mut out = Vec::new();
    shared_rules().scan(site, &normalize(value), &mut |c, _, _| out.push(c));
    out
}

/// Short commands around every separator, trailing separators, and calls that hand a command
/// line to the shell (`system('id')` is command execution, whatever language carries it).
const SHORT_FORMS: &[&str] = &[
    ";id",
    "; id",
    ";id;",
    "|id",
    "| id",
    "||id",
    "|| id",
    "&id",
    "& id",
    "&&id",
    "&& id",
    "\nid",
    "\nid\n",
    "`id`",
    "$(id)",
    ";whoami",
    "|whoami",
    "&& whoami",
    "`whoami`",
    "$(whoami)",
    ";uname -a",
    "| uname -a",
    "`uname -a`",
    "$(uname -a)",
    ";true",
    "|true",
    "`true`",
    "$(true)",
    "&& true",
    ";sleep 5",
    "| sleep 5",
    "`sleep 5`",
    "$(sleep 5)",
    "& sleep 5 &",
    ";ping -c 1 x",
    "| ping -c 1 127.0.0.1",
    "& ping -n 1 127.0.0.1 &",
    ";cat /etc/passwd",
    "| cat /etc/passwd",
    "`cat /etc/passwd`",
    "$(cat /etc/passwd)",
    r#"| dir c:\"#,
    r#"& dir c:\"#,
    r#";dir c:\"#,
    r#"| type c:\windows\win.ini"#,
    "& ver",
    "| ver",
    "&& ver",
    "| net user",
    "& net user",
    ";net user",
    "id|",
    "id;",
    "id &",
    "whoami|",
    "whoami;",
    "uname -a;",
    "id`",
    "system('id')",
    r#"system("id")"#,
    r#"exec("ls")"#,
    "exec('whoami')",
    "passthru('id')",
    r#"passthru("cat /etc/passwd")"#,
    "shell_exec('id')",
    r#"shell_exec("uname -a")"#,
    "popen('id', 'r')",
    r#"popen("ls","r")"#,
    "1;id",
    "1|id",
    "1 | id",
    "x||id",
    "a&&id",
    "127.0.0.1;id",
    "127.0.0.1|whoami",
    "127.0.0.1 && ver",
    "foo`id`bar",
    "foo$(id)bar",
    "';id;'",
    r#"";id;""#,
    "'|id|'",
    "1\nid",
];

/// What users write that has a separator, a program's name or a call in it.
const LOOKALIKES: &[&str] = &[
    "rock & roll",
    "rock&roll",
    "a|b",
    "| id | name |",
    "| true | false |",
    "|---|---|",
    "| name | type | default |",
    "Q&A",
    "Q & A",
    "id",
    "true",
    ";)",
    ":-)",
    ";-)",
    "AT&T",
    "at&t",
    r#"C:\Program Files"#,
    r#"C:\Program Files\App\app.exe"#,
    "ls -la meaning",
    "what does ls -la mean",
    "id card lost",
    "true story",
    "it's true; really",
    "yes | no",
    "black & white",
    "Tom & Jerry",
    "R&D",
    "P&G",
    "salt & pepper",
    "fish & chips",
    "set the table; then eat",
    "a hero; more than",
    "type: admin",
    "dir: ltr",
    "ver 2.1",
    "version 1.0 | beta",
    "net income",
    "true|false",
    "id;name;email",
    "id,name,email",
    "name|id|email",
    "select id",
    "sort by id",
    "order by id desc",
    "1 | 2 | 3",
    "foo | bar",
    "this & that | other",
    "x && y",
    "sleep well",
    "time flies",
    "ping me",
    "cat videos",
    "who am i",
];

#[test]
fn short_forms_are_command_injection() {
    let missed: Vec<&str> =
        SHORT_FORMS.iter().copied().filter(|v| !found("q", v).contains(&"command_injection")).collect();
    assert!(missed.is_empty(), "{} of {} missed: {missed:?}", missed.len(), SHORT_FORMS.len());
}

#[test]
fn lookalikes_are_no_command() {
    for value in LOOKALIKES {
        let got = found("q", value);
        assert!(!got.contains(&"command_injection") && !got.contains(&"php_injection"), "{value}: {got:?}");
    }
}

#[test]
fn sql_payloads_are_no_php() {
    for value in [
        "1 UNION ALL SELECT NULL,CONCAT(0x71,0x7a,0x6b,0x71,0x71),NULL-- -",
        "1 AND (SELECT 2*(IF((SELECT * FROM (SELECT CONCAT(0x71,(SELECT (ELT(1=1,1))),0x71))s), 8446744073709551610, 8446744073709551610)))",
        "1 AND EXTRACTVALUE(1,CONCAT(0x5c,0x71,(SELECT (ELT(1=1,1))),0x71))",
        "1 AND 1=(SELECT CHAR(113)||CHAR(122)||CHAR(118)||CHAR(107)||CHAR(113))",
        "1 AND ORD(MID((SELECT IFNULL(CAST(COUNT(*) AS NCHAR),0x20) FROM information_schema.tables),1,1))>51",
        "1 AND SUBSTRING((SELECT @@version),1,1)='5'",
        "1 AND ASCII(SUBSTR((SELECT user()),1,1))>64",
        "1 AND HEX(SUBSTR(user(),1,1))=72",
        "1 AND SLEEP(5)",
        "1 AND BENCHMARK(5000000,MD5(0x41))",
        "1 AND 5650=CAST((CHR(113)||CHR(118)||CHR(112))||(SELECT (CASE WHEN (5650=5650) THEN 1 ELSE 0 END))::text AS NUMERIC)",
        "1 AND 7393=DBMS_PIPE.RECEIVE_MESSAGE(CHR(65)||CHR(66),5)",
        "1; exec('select 1')--",
        "declare @s varchar(8000);set @s = cast(0x65786563 as varchar(max));exec(@s);",
        "chr(11)||chr(12)||char(13)",
        "1 || substr(user,1,1) = 'a'",
        "conv(hex(substr(version() FROM 1 FOR 2)),16,10)",
        "1 AND SYSTEM_USER()='sa'",
    ] {
        let got = found("q", value);
        assert!(!got.contains(&"php_injection"), "{value}: {got:?}");
    }
}

#[test]
fn php_calls_keep_their_class() {
    // names PHP shares with SQL, with PHP syntax or nothing SQL around them
    for value in [
        "chr(123)",
        "exec\n('bar')",
        "exec  (blah)",
        "exec/*comment*/()",
        "substr()",
        "subSTR($x)",
        "eval(chr(112).chr(104).chr(112)",
        "${@print(chr(122).chr(97).chr(112))}",
        "@exec('select 1')",
        "system('id')",
        ":phpversion();",
        // open tags, and `<?xml` followed by code rather than attributes
        "<?php echo 1;",
        "test<?",
        "<?= \"test\"",
        "<? echo 'hello'; ?>",
        "<? \t\techo test",
        "<?xml :system('ls');",
        "<?xml   ();echo 1;",
        "$ { CONSTANT }",
        "${'a'}(11)",
        "phpinfo",
        "phar://phpinfo.zip/phpinfo.txt",
    ] {
        let got = found("q", value);
        assert!(got.contains(&"php_injection"), "{value}: {got:?}");
    }
}

#[test]
fn php_lookalikes_stay_quiet() {
    for value in [
        "<?xml version=\"1.0\"?><root/>",
        "<?xpacket begin=\"?\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>",
        "<?xml-stylesheet type=\"text/xsl\" href=\"style.xsl\"?>",
        "<?xsl-stylesheet?>",
        "&lt;? should not trigger",
        "var x = (a < b) ? c : d; // <?test comment",
        "<?1234",
        "<?php12345",
        "$ { }",
        "${}()",
        "Moreover, phpinfo can potentially leak sensitive configuration details",
        "/[a-z]{1,5}/",
        "data://text/plain;base64,SSBsb3ZlIFBIUAo=",
    ] {
        let got = found("q", value);
        assert!(!got.contains(&"command_injection") && !got.contains(&"php_injection"), "{value}: {got:?}");
    }
}

#[test]
fn upload_names_need_a_php_extension_or_session_id() {
    assert_eq!(upload_name("sess_d8ew88tqmabdcokhumchy8htqm").map(|f| f.0), Some("php_injection"));
    assert_eq!(upload_name("fda.php5").map(|f| f.0), Some("php_injection"));
    assert_eq!(upload_name("dangerous.phpt").map(|f| f.0), Some("php_injection"));
    assert_eq!(upload_name("sess_short"), None);
    assert_eq!(upload_name("safe.phpinfo"), None);
}

#[test]
fn payload_list_spellings() {
    // escaped line breaks and backticks as payload lists write them, brace expansion with an
    // empty item, `set` alone
    for value in [r"\nid\n", r";id\n", r"a;id\n", r"|usr/bin/id\n", r"x?user=\`whoami\`", "{id,}", ";set"] {
        let got = found("q", value);
        assert!(got.contains(&"command_injection"), "{value}: {got:?}");
    }
}
