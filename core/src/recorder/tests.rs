use super::inspection::{InspectionConfig, InspectionMode};
use super::*;
use meshward_proto::{HttpEvent, Inspection, Verdict};
use prost::Message;

fn headers(pairs: &[(&str, &str)]) -> Vec<(String, Vec<u8>)> {
    pairs.iter().map(|(n, v)| ((*n).to_owned(), v.as_bytes().to_vec())).collect()
}

fn full() -> RecorderConfig {
    RecorderConfig {
        inspection: InspectionConfig { mode: InspectionMode::Full, ..InspectionConfig::default() },
        identity_secret: "secret".into(),
        dedupe_shapes: true,
        ..RecorderConfig::default()
    }
}

const ORDER: &str = r#"{"items":[{"sku":"A-1","qty":2}],"email":"jane.doe@example.com","note":"1' OR '1'='1"}"#;
const PROFILE: &str = r#"{"id":7,"name":"Jane","phone":"+1 415 555 0134"}"#;

fn request() -> Vec<(String, Vec<u8>)> {
    headers(&[
        (":method", "POST"),
        (":path", "/api/users/123/orders?expand=items&debug=1"),
        (":authority", "shop.example"),
        (":scheme", "https"),
        ("content-type", "application/json"),
        ("user-agent", "curl/8.0"),
        ("authorization", "Bearer abc.def"),
        ("x-request-id", "rid-1"),
        ("x-forwarded-for", "203.0.113.9, 10.0.0.2"),
    ])
}

fn response() -> Vec<(String, Vec<u8>)> {
    headers(&[(":status", "201"), ("content-type", "application/json"), ("x-secret", "nope")])
}

/// Records one whole exchange and decodes its event.
fn record(recorder: &mut Recorder, request_body: &str, response_body: &str, now_us: u64) -> HttpEvent {
    let mut exchange = recorder.request_headers(&request(), "10.0.0.2:5555", now_us);
    for chunk in request_body.as_bytes().chunks(20) {
        let room = recorder.body_room(&exchange, Direction::Request).min(chunk.len());
        exchange.body_data(Direction::Request, &chunk[..room]);
        exchange.body_seen(Direction::Request, chunk.len());
    }
    recorder.response_headers(&mut exchange, &response());
    let room = recorder.body_room(&exchange, Direction::Response);
    exchange.body_data(Direction::Response, &response_body.as_bytes()[..room.min(response_body.len())]);
    exchange.body_seen(Direction::Response, response_body.len());
    let clock = || now_us + 1_500;
    let end =
        End { now_us: now_us + 1_000, event_id: [9; 16], status: None, peer_principal: "spiffe://a/b", clock: &clock };
    let bytes = recorder.finish(exchange, end);
    HttpEvent::decode(bytes.as_slice()).unwrap_or_else(|e| panic!("the recorder wrote an invalid event: {e}"))
}

#[test]
fn a_whole_exchange_decodes_as_the_proto_says() {
    let mut recorder = Recorder::new(full(), 1);
    recorder.set_node(Node { workload: "shop".into(), namespace: "prod".into() });
    let event = record(&mut recorder, ORDER, PROFILE, 1_700_000_000_000_000);
    assert_eq!(event.event_id, vec![9; 16]);
    assert_eq!(event.start_time_ms, 1_700_000_000_000);
    assert_eq!(event.duration_us, 1_000);
    assert_eq!(
        (event.method.as_str(), event.scheme.as_str(), event.authority.as_str()),
        ("POST", "https", "shop.example")
    );
    assert_eq!(event.path, "/api/users/123/orders");
    assert_eq!(event.path_template, "/api/users/{user_id}/orders");
    assert_eq!(event.query_params, vec!["expand", "debug"]);
    let names: Vec<&str> = event.request_headers.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(names, ["content-type", "user-agent", "authorization", "x-request-id", "x-forwarded-for"]);
    let agent = event.request_headers.iter().find(|h| h.name == "user-agent").and_then(|h| h.value.clone());
    assert_eq!(agent.as_deref(), Some("curl/8.0"));
    assert!(event.request_headers.iter().filter(|h| h.name != "user-agent").all(|h| h.value.is_none()));
    assert_eq!(event.status, 201);
    assert_eq!(event.response_headers.len(), 2);
    assert_eq!(event.forwarded_for, vec!["203.0.113.9", "10.0.0.2"]);
    assert_eq!((event.source_address.as_str(), event.client_ip.as_str()), ("10.0.0.2:5555", "10.0.0.2"));
    assert_eq!((event.caller_id.len(), event.caller_id_source.as_str()), (32, "bearer"));
    assert_eq!(event.request_id, "rid-1");
    assert_eq!((event.workload.as_str(), event.namespace.as_str()), ("shop", "prod"));
    assert_eq!(event.peer_principal, "spiffe://a/b");
    assert_eq!(event.request_body_bytes, ORDER.len() as u64);
    assert_eq!(event.response_body_bytes, PROFILE.len() as u64);
    assert!(event.request_total_bytes > event.request_body_bytes);
    assert_eq!(event.inspection, Inspection::Deep as i32);
    assert_eq!(event.inspection_weight, 1.0);
    let fields: Vec<(&str, &str)> =
        event.request_body_fields.iter().map(|f| (f.path.as_str(), f.r#type.as_str())).collect();
    assert!(fields.contains(&("$.items[*].qty", "integer")) && fields.contains(&("$.email", "string")), "{fields:?}");
    assert_ne!(event.request_body_shape, 0);
    assert_ne!(event.response_body_shape, event.request_body_shape);
    let classes: Vec<(&str, &str)> = event.sensitive.iter().map(|s| (s.class.as_str(), s.location.as_str())).collect();
    assert!(classes.contains(&("email", "$.email")) && classes.contains(&("phone", "$.phone")), "{classes:?}");
    let attack = event.attacks.iter().find(|a| a.class == "sqli");
    assert_eq!(attack.map(|a| (a.part.as_str(), a.location.as_str())), Some(("body", "$.note")));
    assert!(attack.is_some_and(|a| !a.reason.is_empty() && a.severity > 0));
    assert_eq!(recorder.stats().inspection.deep, 1);
    let sqli = ATTACK_CLASSES.iter().position(|c| *c == "sqli").unwrap_or(usize::MAX);
    assert_eq!(recorder.stats().attacks.get(sqli), Some(&1));
}

#[test]
fn a_shape_is_defined_once_per_window_unless_every_event_carries_it() {
    let mut recorder = Recorder::new(full(), 1);
    let first = record(&mut recorder, ORDER, PROFILE, 1_000_000_000);
    let second = record(&mut recorder, ORDER, PROFILE, 1_001_000_000);
    assert!(!first.request_body_fields.is_empty());
    assert!(second.request_body_fields.is_empty() && second.response_body_fields.is_empty());
    assert_eq!(first.request_body_shape, second.request_body_shape);
    recorder.forget_shapes();
    assert!(!record(&mut recorder, ORDER, PROFILE, 1_002_000_000).request_body_fields.is_empty());
    let mut analyze = Recorder::new(RecorderConfig { dedupe_shapes: false, ..full() }, 1);
    for i in 0..3 {
        assert!(!record(&mut analyze, ORDER, PROFILE, 1_000_000_000 + i).request_body_fields.is_empty());
    }
}

#[test]
fn a_metadata_only_exchange_reads_no_body_but_scans_the_request_line() {
    // the first ten of a window are inspected; at a thousand a second the rest mostly not
    let mut recorder = Recorder::new(RecorderConfig { identity_secret: "s".into(), ..RecorderConfig::default() }, 7);
    let mut skipped = None;
    for i in 0..200u64 {
        let now = 5_000_000_000 + i * 1_000;
        let exchange = recorder.request_headers(&request(), "10.0.0.2:1", now);
        if !exchange.deep() {
            skipped = Some(exchange);
            break;
        }
    }
    let Some(mut exchange) = skipped else { panic!("nothing was sampled out") };
    assert_eq!(recorder.body_room(&exchange, Direction::Request), 0);
    exchange.body_data(Direction::Request, ORDER.as_bytes());
    exchange.body_seen(Direction::Request, ORDER.len());
    recorder.response_headers(&mut exchange, &response());
    assert_eq!(recorder.body_room(&exchange, Direction::Response), 0);
    let clock = || 0;
    let end = End { now_us: 6_000_000_000, event_id: [1; 16], status: None, peer_principal: "", clock: &clock };
    let event = HttpEvent::decode(recorder.finish(exchange, end).as_slice()).unwrap_or_default();
    assert_eq!(event.inspection, Inspection::Metadata as i32);
    assert_eq!(event.inspection_weight, 0.0);
    assert!(event.request_body_fields.is_empty() && event.request_body_shape == 0);
    assert_eq!(event.request_body_bytes, ORDER.len() as u64, "sizes are still counted");
    assert!(event.attacks.is_empty(), "the injection is in the body, which was not read");
    assert!(recorder.stats().inspection.skipped_sampled > 0);
}

#[test]
fn an_attack_in_the_query_gets_the_bodies_inspected() {
    let mut recorder = Recorder::new(RecorderConfig { identity_secret: "s".into(), ..RecorderConfig::default() }, 7);
    let mut attack = request();
    attack[1].1 = b"/api/users/1?q=1%27%20UNION%20SELECT%20password%20FROM%20users--".to_vec();
    for i in 0..500u64 {
        let exchange = recorder.request_headers(&attack, "10.0.0.2:1", 5_000_000_000 + i * 100);
        assert!(exchange.deep());
        assert!(exchange.findings().items.iter().any(|f| f.class == "sqli"));
    }
}

#[test]
fn local_replies_principals_and_verdicts() {
    let mut recorder = Recorder::new(full(), 1);
    let request = request();
    let mut exchange = recorder.request_headers(&request, "10.0.0.2:1", 1_000_000);
    let facts = exchange.block_facts(&request, "spiffe://p", "shop");
    assert_eq!((facts.method, facts.path, facts.authority), ("POST", "/api/users/123/orders", "shop.example"));
    assert_eq!(facts.client_ip.map(|ip| ip.to_string()).as_deref(), Some("10.0.0.2"));
    assert_eq!(facts.identity.len(), 32);
    exchange.record_principal("spiffe://p");
    let decision =
        blocklist::Decision { verdict: blocklist::Verdict::Block, rule_id: Some("r-1"), rate_limited: vec!["r-2"] };
    exchange.record_verdict(&decision);
    let clock = || 0;
    let end = End { now_us: 2_000_000, event_id: [1; 16], status: Some(403), peer_principal: "ignored", clock: &clock };
    let event = HttpEvent::decode(recorder.finish(exchange, end).as_slice()).unwrap_or_default();
    assert_eq!(event.status, 403);
    assert_eq!(event.peer_principal, "spiffe://p");
    assert_eq!(event.verdict, Verdict::Block as i32);
    assert_eq!((event.block_rule_id.as_str(), event.rate_limited_rules.as_slice()), ("r-1", &["r-2".to_owned()][..]));
}

#[test]
fn a_body_over_the_cap_is_cut_and_marked() {
    let config = RecorderConfig { policy: CapturePolicy { max_body_bytes: 16, ..CapturePolicy::default() }, ..full() };
    let mut recorder = Recorder::new(config, 1);
    let event = record(&mut recorder, ORDER, PROFILE, 1_000_000);
    assert!(event.request_body_truncated && event.response_body_truncated);
    assert_eq!(event.request_body_bytes, ORDER.len() as u64);
    assert_eq!(recorder.stats().bodies_unparsed, 0, "a cut body is not an unparsed one");
}

#[test]
fn hostile_headers_do_not_panic() {
    let mut recorder = Recorder::new(full(), 1);
    let hostile = vec![
        (":path".to_owned(), vec![0xff, b'/', 0xfe]),
        (":method".to_owned(), vec![0xc3]),
        ("user-agent".to_owned(), vec![0xff; 300]),
        ("cookie".to_owned(), b"a=1; ;; =; b".to_vec()),
        ("x-forwarded-for".to_owned(), b",,,".to_vec()),
    ];
    let mut exchange = recorder.request_headers(&hostile, "not an address", 0);
    recorder.response_headers(&mut exchange, &[(":status".to_owned(), b"9999999999".to_vec())]);
    let clock = || 0;
    let end = End { now_us: 0, event_id: [0; 16], status: None, peer_principal: "", clock: &clock };
    let event = HttpEvent::decode(recorder.finish(exchange, end).as_slice()).unwrap_or_default();
    assert_eq!(event.path, "/");
    assert_eq!(event.status, 0);
    let agent = event.request_headers.iter().find(|h| h.name == "user-agent").and_then(|h| h.value.clone());
    assert!(agent.is_some_and(|v| v.starts_with('\u{fffd}')));
}

#[test]
fn remembered_quiet_headers_give_the_findings_a_fresh_scan_gives() {
    let mut recorder = Recorder::new(full(), 1);
    let fresh = |headers: &[(String, Vec<u8>)]| {
        let mut recorder = Recorder::new(full(), 1);
        let clock = || 0;
        let exchange = recorder.request_headers(headers, "10.0.0.2:1", 1);
        let end = End { now_us: 2, event_id: [1; 16], status: None, peer_principal: "", clock: &clock };
        HttpEvent::decode(recorder.finish(exchange, end).as_slice()).unwrap_or_default()
    };
    let quiet = request();
    let mut attacked = request();
    attacked.push(("x-custom".to_owned(), b"1' OR '1'='1".to_vec()));
    // the same name twice: the second value's finding adds to the first's count
    attacked.push(("x-custom".to_owned(), b"1' OR '2'='2".to_vec()));
    for round in 0..3 {
        for headers in [&quiet, &attacked, &quiet] {
            let clock = || 0;
            let exchange = recorder.request_headers(headers, "10.0.0.2:1", 1 + round);
            let end = End { now_us: 2, event_id: [1; 16], status: None, peer_principal: "", clock: &clock };
            let event = HttpEvent::decode(recorder.finish(exchange, end).as_slice()).unwrap_or_default();
            let want = fresh(headers);
            assert_eq!((&event.attacks, &event.sensitive), (&want.attacks, &want.sensitive), "round {round}");
        }
    }
    // a value that was once the second of its name is not remembered as quiet
    let mut alone = request();
    alone.push(("x-custom".to_owned(), b"1' OR '2'='2".to_vec()));
    let clock = || 0;
    let exchange = recorder.request_headers(&alone, "10.0.0.2:1", 9);
    let end = End { now_us: 10, event_id: [1; 16], status: None, peer_principal: "", clock: &clock };
    let event = HttpEvent::decode(recorder.finish(exchange, end).as_slice()).unwrap_or_default();
    assert!(event.attacks.iter().any(|a| a.class == "sqli" && a.location == "x-custom"), "{:?}", event.attacks);
}

proptest::proptest! {
    /// One pass over the map finds what a lookup per name finds: the first header of a name,
    /// if its value is UTF-8; the API key of the first configured name that has one.
    #[test]
    fn one_pass_finds_what_lookups_find(
        picks in proptest::collection::vec((0usize..12, proptest::bool::ANY), 0..16)
    ) {
        const NAMES: [&str; 12] = [":path", ":method", ":authority", ":scheme", "content-type", "x-forwarded-for",
            "authorization", "x-request-id", "x-api-key", "api-key", "apikey", "accept"];
        let headers: Vec<(String, Vec<u8>)> = picks
            .iter()
            .enumerate()
            .map(|(i, (n, utf8))| (NAMES[*n].to_owned(), if *utf8 { format!("v{i}").into_bytes() } else { vec![0xff, i as u8] }))
            .collect();
        let keys: Vec<String> = ["x-api-key", "api-key", "apikey"].iter().map(|s| (*s).to_owned()).collect();
        let head = RequestHead::of(&headers, &keys);
        let found = [head.path, head.method, head.authority, head.scheme, head.content_type, head.forwarded_for,
            head.authorization, head.request_id];
        for (i, value) in found.iter().enumerate() {
            proptest::prop_assert_eq!(*value, header(&headers, NAMES[i]));
        }
        proptest::prop_assert_eq!(head.api_key, keys.iter().find_map(|name| header(&headers, name)));
    }
}
