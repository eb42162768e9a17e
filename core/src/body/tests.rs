//! Tests of the body walk.

use super::*;

fn fields(body: &str) -> Vec<(String, &'static str)> {
    json_fields(body.as_bytes(), WalkLimits::default())
        .fields
        .into_iter()
        .map(|f| (f.path, f.field_type.as_str()))
        .collect()
}

#[test]
fn nested_objects_and_arrays() {
    let got = fields(
        r#"{"user":{"email":"a@b.c","age":3,"tags":["x","y"]},"cards":[{"number":"4111"},{"number":"5500","cvv":1}]}"#,
    );
    let want = [
        ("$.user", "object"),
        ("$.user.email", "string"),
        ("$.user.age", "integer"),
        ("$.user.tags", "array"),
        ("$.user.tags[*]", "string"),
        ("$.cards", "array"),
        ("$.cards[*]", "object"),
        ("$.cards[*].number", "string"),
        ("$.cards[*].cvv", "integer"),
    ];
    let mut want: Vec<(String, &str)> = want.iter().map(|(p, t)| (p.to_string(), *t)).collect();
    let mut got = got;
    got.sort();
    want.sort();
    assert_eq!(got, want);
}

#[test]
fn values_reach_the_sink_with_path_and_key() {
    let mut seen = Vec::new();
    let body = br#"{"cards":[{"number":4111111111111111},7],"a b":"x","tags":["t"],"n":null,"o":{"p":{"q":1},"r":2}}"#;
    let walk = json_walk(body, WalkLimits::default(), &mut |p, k, v| {
        assert_eq!(k, last_key(p), "{p}");
        seen.push(format!("{p}|{k}|{v}"))
    });
    assert!(walk.complete);
    assert_eq!(
        seen,
        vec![
            "$.cards[*].number|number|4111111111111111",
            "$.cards[*]|cards|7",
            "$['a b']|a b|x",
            "$.tags[*]|tags|t",
            "$.n|n|null",
            "$.o.p.q|q|1",
            "$.o.r|r|2"
        ]
    );
    assert_eq!(last_key("$"), "");
}

#[test]
fn merges_integer_and_number() {
    assert_eq!(fields(r#"[1, 2.5]"#), vec![("$[*]".to_string(), "number")]);
}

#[test]
fn odd_keys_are_quoted() {
    assert_eq!(fields(r#"{"a b":1}"#), vec![("$['a b']".to_string(), "integer")]);
}

#[test]
fn truncated_json_keeps_what_came_before() {
    let walk = json_fields(br#"{"id": 7, "user": {"email": "a@b.c", "tags": [1, 2"#, WalkLimits::default());
    assert!(!walk.complete);
    let paths: Vec<&str> = walk.fields.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, vec!["$.id", "$.user.email", "$.user.tags[*]"]);
    let walk = json_fields(&[0xff, 0xfe], WalkLimits::default());
    assert!(!walk.complete && walk.fields.is_empty());
    // a byte that is not UTF-8 ends the walk where it stands, in the middle of a string or
    // cut off in its middle by a body cap; what came before is kept
    for bad in [&b"{\"id\": 7, \"name\": \"Jos\xe9\", \"age\": 3}"[..], b"{\"id\": 7, \"name\": \"Jos\xc3"] {
        let walk = json_fields(bad, WalkLimits::default());
        let paths: Vec<&str> = walk.fields.iter().map(|f| f.path.as_str()).collect();
        assert!(!walk.complete && paths == ["$.id"], "{paths:?}");
    }
    assert!(!json_fields(br#"{"a":1} trailing"#, WalkLimits::default()).complete);
    assert!(json_fields(br#"{"a":1}"#, WalkLimits::default()).complete);
}

#[test]
fn limits_hold() {
    let deep = "[".repeat(100) + &"]".repeat(100);
    let got = json_fields(deep.as_bytes(), WalkLimits { max_fields: 1000, max_depth: 5 }).fields;
    assert_eq!(got.len(), 4);
    let very_deep = "[".repeat(100_000);
    assert!(!json_fields(very_deep.as_bytes(), WalkLimits::default()).complete);
    let wide: String = format!("{{{}}}", (0..500).map(|i| format!("\"k{i}\":1")).collect::<Vec<_>>().join(","));
    let got = json_fields(wide.as_bytes(), WalkLimits { max_fields: 10, max_depth: 5 }).fields;
    assert_eq!(got.len(), 10);
}

proptest::proptest! {
    /// Any bytes, any cut: no panic, and the output respects the limits.
    #[test]
    fn arbitrary_input_is_bounded(body in proptest::collection::vec(proptest::num::u8::ANY, 0..512), cut in 0usize..512) {
        let limits = WalkLimits { max_fields: 8, max_depth: 4 };
        let walk = json_fields(&body[..cut.min(body.len())], limits);
        proptest::prop_assert!(walk.fields.len() <= 8);
    }

    #[test]
    fn cut_json_is_a_prefix_of_whole(cut in 0usize..120) {
        let body = br#"{"a":1,"b":{"c":"x","d":[true,null,{"e":2.5}]},"f":"g"}"#;
        let whole = json_fields(body, WalkLimits::default());
        let part = json_fields(&body[..cut.min(body.len())], WalkLimits::default());
        for field in &part.fields {
            proptest::prop_assert!(whole.fields.iter().any(|w| w.path == field.path));
        }
    }
}

/// Everything a walk gives: fields, whether it completed, the prototype key, and what the sink
/// received, in order.
type Observed = (Vec<(String, &'static str)>, bool, Option<String>, Vec<String>);

fn observe(
    walker: fn(&[u8], WalkLimits, Option<super::ValueSink<'_>>) -> Walk,
    body: &[u8],
    limits: WalkLimits,
    with_sink: bool,
) -> Observed {
    let mut seen = Vec::new();
    let mut sink = |p: &str, k: &str, v: &str| seen.push(format!("{p}|{k}|{v}"));
    let walk = walker(body, limits, if with_sink { Some(&mut sink) } else { None });
    let fields = walk.fields.into_iter().map(|f| (f.path, f.field_type.as_str())).collect();
    (fields, walk.complete, walk.prototype_key, seen)
}

/// The parser and serde_json's visitor (`oracle`) walk `body` alike, whole and cut anywhere,
/// with and without a sink.
fn same_as_serde(body: &[u8], limits: WalkLimits) -> Result<(), String> {
    for cut in 0..=body.len() {
        for with_sink in [true, false] {
            let part = &body[..cut];
            let ours = observe(super::walk, part, limits, with_sink);
            let serde = observe(super::oracle::serde_walk, part, limits, with_sink);
            if ours != serde {
                return Err(format!(
                    "{:?} (cut at {cut} of {}, sink {with_sink}):\n ours  {ours:?}\n serde {serde:?}",
                    String::from_utf8_lossy(part),
                    body.len()
                ));
            }
        }
    }
    Ok(())
}

#[test]
fn invalid_json_stops_where_serde_json_stops() {
    let cases: &[&str] = &[
        "01",
        "-",
        "-01",
        "1.",
        "1.e3",
        "1e",
        "1e+",
        "1e400",
        "-1e400",
        "1e-400",
        "-0",
        "-0.0",
        "0e99999",
        "18446744073709551615",
        "18446744073709551616",
        "-9223372036854775808",
        "-9223372036854775809",
        "123456789012345678901234567890",
        "[1,]",
        "[,1]",
        "[1 2]",
        "[1,,2]",
        "{\"a\":1,}",
        "{,}",
        "{1:2}",
        "{\"a\" 1}",
        "{\"a\":}",
        "{\"a\":1 \"b\":2}",
        "\"\\ud800\"",
        "\"\\udc00\"",
        "\"\\ud800\\u0041\"",
        "\"\\ud83d\\ude00\"",
        "\"\\u00e9\\u20ac\"",
        "\"\\x41\"",
        "\"\\u12g4\"",
        "\"a\u{1}b\"",
        "\"tab\there\"",
        "tru",
        "nul",
        "falsey",
        "true false",
        "[true,fals]",
        "{\"a\":nul}",
        "  ",
        "",
        "[]",
        "{}",
        "[[]]",
        "{\"a\":{}}",
        "{\"__proto__\":{\"x\":1}}",
        "{\"constructor\":{\"prototype\":{\"x\":1}}}",
        "{\"a b\":1,\"it's\":2}",
        "[\"é\",\"日本\",\"\\n\\t\\\"\\\\\\/\\b\\f\\r\"]",
        "{\"k\\u0041\":1}",
        "[1.5e3,-2.25E-2,3e0,0.1]",
        // skipped below max_depth (3 here): lenient on surrogates and range, strict on structure
        "[[[[\"\\ud800\"]]]]",
        "[[[[1e400]]]]",
        "[[[[01]]]]",
        "[[[[1,]]]]",
        "[[[{\"a\":\"\\ud800\"}]]]",
        "[[[{\"\\ud800\":1}]]]",
        "[[[{1:1}]]]",
        "[[[[tru]]]]",
        "[[[[\"a\u{2}\"]]]]",
        "[[[[\"\\q\"]]]]",
    ];
    let limits = WalkLimits { max_fields: 64, max_depth: 3 };
    for case in cases {
        if let Err(diff) = same_as_serde(case.as_bytes(), limits) {
            panic!("{diff}");
        }
    }
    let deep = "[".repeat(200) + &"]".repeat(200);
    for max_depth in [16, 127, 128, 129, 300] {
        let limits = WalkLimits { max_fields: 8, max_depth };
        assert_eq!(
            observe(super::walk, deep.as_bytes(), limits, true),
            observe(super::oracle::serde_walk, deep.as_bytes(), limits, true),
            "depth {max_depth}"
        );
    }
}

/// JSON values of every kind, with the strings and numbers where parsers differ most.
fn json_value() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
    use proptest::prelude::*;
    use serde_json::Value;
    let string = prop_oneof![
        "[a-z]{0,8}",
        "[ -~]{0,12}",
        proptest::sample::select(vec![
            "__proto__",
            "prototype",
            "a b",
            "it's",
            "x\\y",
            "é",
            "😀",
            "\n\t\u{1}",
            "\u{7f}"
        ])
        .prop_map(str::to_owned),
        any::<String>().prop_map(|s| s.chars().take(6).collect()),
    ];
    let number = prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1_000_000i64..1_000_000, 0u32..6).prop_map(|(m, d)| Value::from(m as f64 / 10f64.powi(d as i32))),
        Just(Value::from(-0.0)),
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number,
        string.clone().prop_map(Value::String)
    ];
    leaf.prop_recursive(5, 48, 6, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec((string.clone(), inner), 0..6)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        ]
    })
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 200, ..Default::default() })]

    /// Valid JSON, compact or pretty, whole and cut anywhere: the same walk as serde_json's.
    #[test]
    fn walks_like_serde_json(value in json_value(), pretty in proptest::bool::ANY, max_depth in 1usize..7, max_fields in 1usize..40) {
        let text = if pretty { serde_json::to_string_pretty(&value) } else { serde_json::to_string(&value) };
        let text = text.unwrap_or_default();
        let limits = WalkLimits { max_fields, max_depth };
        if let Err(diff) = same_as_serde(text.as_bytes(), limits) {
            return Err(proptest::test_runner::TestCaseError::fail(diff));
        }
    }

    /// Any bytes: the same walk as serde_json's.
    #[test]
    fn bytes_walk_like_serde_json(body in proptest::collection::vec(proptest::sample::select(b"{}[],:\"\\u0123456789.eE+-truefalsn abc\n\xc3\xa9".to_vec()), 0..48)) {
        let limits = WalkLimits { max_fields: 16, max_depth: 3 };
        if let Err(diff) = same_as_serde(&body, limits) {
            return Err(proptest::test_runner::TestCaseError::fail(diff));
        }
    }
}
