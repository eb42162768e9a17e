use super::*;
use proptest::prelude::*;

fn rule(id: &str, conditions: RuleMatch) -> Rule {
    Rule { id: id.into(), conditions, ..Rule::default() }
}

fn list(rules: Vec<Rule>) -> BlockList {
    match BlockList::compile(&PublishedList { version: 1, rules }) {
        Ok(list) => list,
        Err(e) => panic!("rules should compile: {e}"),
    }
}

fn ip(text: &str) -> Option<IpAddr> {
    text.parse().ok()
}

fn facts<'a>(client: &str, headers: &'a [(String, Vec<u8>)]) -> RequestFacts<'a> {
    RequestFacts {
        client_ip: ip(client),
        method: "GET",
        path: "/users/42/orders",
        authority: "shop.example.com:8080",
        workload: "shop",
        headers,
        ..RequestFacts::default()
    }
}

#[test]
fn cidrs_v4_and_v6_match_inside_only() {
    let rules = list(vec![
        rule("net", RuleMatch { sources: vec!["10.1.0.0/16".into()], ..RuleMatch::default() }),
        rule("one", RuleMatch { sources: vec!["192.0.2.7".into()], ..RuleMatch::default() }),
        rule("v6", RuleMatch { sources: vec!["2001:db8::/32".into()], ..RuleMatch::default() }),
    ]);
    let check = |addr: &str| rules.decide(&facts(addr, &[]), 0).rule_id.map(str::to_owned);
    assert_eq!(check("10.1.200.3").as_deref(), Some("net"));
    assert_eq!(check("10.2.0.1"), None);
    assert_eq!(check("192.0.2.7").as_deref(), Some("one"));
    assert_eq!(check("192.0.2.8"), None);
    assert_eq!(check("2001:db8:ffff::1").as_deref(), Some("v6"));
    assert_eq!(check("2001:db9::1"), None);
    assert!(rules.needs_client_ip);
}

#[test]
fn all_conditions_must_hold() {
    let rules = list(vec![rule(
        "combo",
        RuleMatch {
            sources: vec!["10.0.0.0/8".into()],
            method: Some("post".into()),
            template: Some("/users/{id}/orders".into()),
            host: Some("shop.example.com".into()),
            ..RuleMatch::default()
        },
    )]);
    let mut request = facts("10.9.9.9", &[]);
    assert_eq!(rules.decide(&request, 0).verdict, Verdict::Allow, "GET is not POST");
    request.method = "POST";
    assert_eq!(rules.decide(&request, 0).verdict, Verdict::Block);
    request.path = "/users/42/orders/7";
    assert_eq!(rules.decide(&request, 0).verdict, Verdict::Allow, "one segment too many");
    request.path = "//users/43/orders/";
    assert_eq!(rules.decide(&request, 0).verdict, Verdict::Block, "empty segments do not count");
    request.authority = "other.example.com";
    assert_eq!(rules.decide(&request, 0).verdict, Verdict::Allow);
}

#[test]
fn headers_exact_regex_and_presence() {
    let header = |name: &str, equals: Option<&str>, regex: Option<&str>| RuleMatch {
        header: Some(HeaderMatch { name: name.into(), equals: equals.map(Into::into), regex: regex.map(Into::into) }),
        ..RuleMatch::default()
    };
    let rules = list(vec![
        rule("exact", header("X-Client", Some("bad-bot"), None)),
        rule("re", header("user-agent", None, Some("(?i)sqlmap"))),
        rule("present", header("x-debug", None, None)),
    ]);
    let hits = |headers: &[(String, Vec<u8>)]| rules.decide(&facts("1.2.3.4", headers), 0).rule_id.map(str::to_owned);
    let h = |n: &str, v: &str| (n.to_owned(), v.as_bytes().to_vec());
    assert_eq!(hits(&[h("x-client", "bad-bot")]).as_deref(), Some("exact"));
    assert_eq!(hits(&[h("x-client", "bad-bot2")]), None);
    assert_eq!(hits(&[h("user-agent", "SQLMap/1.7")]).as_deref(), Some("re"));
    assert_eq!(hits(&[h("x-debug", "")]).as_deref(), Some("present"));
    assert_eq!(hits(&[h("accept", "*/*")]), None);
}

#[test]
fn identity_principal_workload_and_prefix() {
    let rules = list(vec![
        rule("who", RuleMatch { identities: vec!["abc123".into()], ..RuleMatch::default() }),
        rule(
            "peer",
            RuleMatch {
                principals: vec!["spiffe://cluster.local/ns/a/sa/b".into()],
                path_prefix: Some("/admin".into()),
                ..RuleMatch::default()
            },
        ),
        rule("wl", RuleMatch { workload: Some("billing".into()), ..RuleMatch::default() }),
    ]);
    let mut request = facts("1.2.3.4", &[]);
    request.identity = "abc123";
    assert_eq!(rules.decide(&request, 0).rule_id, Some("who"));
    request.identity = "other";
    request.principal = "spiffe://cluster.local/ns/a/sa/b";
    assert_eq!(rules.decide(&request, 0).rule_id, None, "path prefix does not hold");
    request.path = "/admin/users";
    assert_eq!(rules.decide(&request, 0).rule_id, Some("peer"));
    request.principal = "";
    request.workload = "billing";
    assert_eq!(rules.decide(&request, 0).rule_id, Some("wl"));
}

#[test]
fn block_beats_dry_run_and_expiry_ends_a_rule() {
    let mut dry = rule("a-dry", RuleMatch { sources: vec!["10.0.0.0/8".into()], ..RuleMatch::default() });
    dry.action = RuleAction::DryRun;
    let mut block = rule("b-block", RuleMatch { method: Some("GET".into()), ..RuleMatch::default() });
    block.expires_at_ms = Some(1_000);
    let rules = list(vec![dry, block]);
    let request = facts("10.0.0.1", &[]);
    let before = rules.decide(&request, 999);
    assert_eq!((before.verdict, before.rule_id), (Verdict::Block, Some("b-block")));
    let after = rules.decide(&request, 1_000);
    assert_eq!((after.verdict, after.rule_id), (Verdict::DryRun, Some("a-dry")));
}

#[test]
fn rate_limited_rules_mark_without_blocking() {
    let mut limited = rule("login-rate", RuleMatch { path_prefix: Some("/login".into()), ..RuleMatch::default() });
    limited.rate_limit = Some(RateLimit { key: RateKey::Source, requests: 10, window_s: 60, block_s: 300 });
    let rules = list(vec![limited]);
    let mut request = facts("1.2.3.4", &[]);
    request.path = "/login";
    let decision = rules.decide(&request, 0);
    assert_eq!(decision.verdict, Verdict::Allow);
    assert_eq!(decision.rate_limited, vec!["login-rate"]);
}

#[test]
fn invalid_rules_are_refused_with_the_fix() {
    let bad = |r: Rule| r.validate().err().map(|e| e.to_string()).unwrap_or_default();
    assert!(bad(rule("x", RuleMatch::default())).contains("at least one condition"));
    assert!(bad(rule("bad id!", RuleMatch { method: Some("GET".into()), ..RuleMatch::default() })).contains("letters"));
    assert!(bad(rule("x", RuleMatch { sources: vec!["10.0.0.300".into()], ..RuleMatch::default() })).contains("CIDR"));
    let header = HeaderMatch { name: "a".into(), regex: Some("(".into()), equals: None };
    assert!(bad(rule("x", RuleMatch { header: Some(header), ..RuleMatch::default() })).contains("does not compile"));
    assert!(bad(rule("x", RuleMatch { template: Some("users".into()), ..RuleMatch::default() })).contains("'/'"));
    let list = br#"{"version":1,"rules":[{"id":"a","match":{"sorces":["1.2.3.4"]}}]}"#;
    assert!(BlockList::from_json(list).is_err(), "a misspelt condition must not widen a rule");
}

#[test]
fn host_rules_ignore_ports_unless_given() {
    let rules = list(vec![
        rule("any-port", RuleMatch { host: Some("Shop.Example.com".into()), ..RuleMatch::default() }),
        rule("port", RuleMatch { host: Some("api.example.com:8443".into()), ..RuleMatch::default() }),
    ]);
    let decide = |authority: &str| {
        let request = RequestFacts { authority, ..RequestFacts::default() };
        rules.decide(&request, 0).rule_id.map(str::to_owned)
    };
    assert_eq!(decide("shop.example.com:8080").as_deref(), Some("any-port"));
    assert_eq!(decide("shop.example.com").as_deref(), Some("any-port"));
    assert_eq!(decide("api.example.com:8443").as_deref(), Some("port"));
    assert_eq!(decide("api.example.com:9000"), None);
}

fn client_ip(source: &str, forwarded: Option<&str>, trusted: &TrustedProxies) -> Option<IpAddr> {
    trusted.client(source, forwarded, || None).map(|c| c.ip)
}

fn gateway(hops: usize) -> TrustedProxies {
    TrustedProxies { hops, cidrs: vec!["10.0.0.0/24".parse().expect("a CIDR")], principals: Vec::new() }
}

#[test]
fn client_ip_follows_trusted_hops() {
    // client -> gateway (10.0.0.2) -> sidecar; the gateway appended the client's address
    assert_eq!(client_ip("10.0.0.2:5555", Some("203.0.113.9"), &gateway(1)), ip("203.0.113.9"));
    // a spoofed entry to the left of what the gateway appended is not believed
    assert_eq!(client_ip("10.0.0.2:5555", Some("1.1.1.1, 203.0.113.9"), &gateway(1)), ip("203.0.113.9"));
    assert_eq!(client_ip("10.0.0.2:5555", Some("1.1.1.1, 203.0.113.9"), &gateway(0)), ip("10.0.0.2"));
    // more trusted hops than entries: the left-most one
    assert_eq!(client_ip("10.0.0.2:5555", Some("203.0.113.9"), &gateway(5)), ip("203.0.113.9"));
    assert_eq!(client_ip("[2001:db8::1]:443", None, &gateway(1)), ip("2001:db8::1"));
    assert_eq!(client_ip("garbage", Some("also garbage"), &gateway(1)), None);
    let client = gateway(1).client("10.0.0.2:5555", None, || None);
    assert_eq!(client, Some(Client { ip: "10.0.0.2".parse().expect("ip"), is_peer: true }));
}

/// A client that reaches the sidecar directly (not through the gateway) writes whatever
/// `x-forwarded-for` it likes: it is not believed, whatever `hops` says.
#[test]
fn forwarded_entries_are_believed_only_from_trusted_peers() {
    assert_eq!(client_ip("10.9.9.9:4000", Some("198.51.100.7"), &gateway(1)), ip("10.9.9.9"));
    assert_eq!(client_ip("10.0.0.200:4000", Some("198.51.100.7"), &gateway(1)), ip("198.51.100.7"));
    // by mTLS identity; the principal is read only when it can matter
    let by_identity = TrustedProxies {
        hops: 1,
        cidrs: Vec::new(),
        principals: vec!["spiffe://cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account".into()],
    };
    let gateway_principal = || Some(by_identity.principals[0].clone());
    assert_eq!(
        by_identity.client("10.9.9.9:4000", Some("198.51.100.7"), gateway_principal).map(|c| c.ip),
        ip("198.51.100.7")
    );
    let other = || Some("spiffe://cluster.local/ns/shop/sa/frontend".to_owned());
    assert_eq!(by_identity.client("10.9.9.9:4000", Some("198.51.100.7"), other).map(|c| c.ip), ip("10.9.9.9"));
    assert_eq!(
        by_identity.client("10.9.9.9:4000", None, || panic!("no header: no need to ask")).map(|c| c.ip),
        ip("10.9.9.9")
    );
}

#[test]
fn ten_thousand_rules_index_every_kind() {
    let mut rules = Vec::new();
    for i in 0..5_000u32 {
        let [_, _, b, c] = i.to_be_bytes();
        rules.push(rule(
            &format!("cidr-{i}"),
            RuleMatch { sources: vec![format!("10.{b}.{c}.0/24")], ..RuleMatch::default() },
        ));
        rules.push(rule(
            &format!("id-{i}"),
            RuleMatch { identities: vec![format!("caller{i}")], ..RuleMatch::default() },
        ));
    }
    let compiled = list(rules);
    assert_eq!(compiled.len(), 10_000);
    assert!(compiled.unindexed.is_empty());
    let mut request = facts("10.19.135.77", &[]);
    assert_eq!(compiled.decide(&request, 0).rule_id, Some("cidr-4999"));
    request.client_ip = ip("11.0.0.1");
    request.identity = "caller17";
    assert_eq!(compiled.decide(&request, 0).rule_id, Some("id-17"));
}

proptest! {
    #[test]
    fn cidr_index_agrees_with_a_linear_scan(
        nets in prop::collection::vec((any::<u32>(), 0u8..=32), 1..40),
        probes in prop::collection::vec(any::<u32>(), 1..40),
    ) {
        let sources: Vec<String> = nets.iter().map(|(a, len)| format!("{}/{len}", std::net::Ipv4Addr::from(*a))).collect();
        let rules: Vec<Rule> = sources
            .iter()
            .enumerate()
            .map(|(i, s)| rule(&format!("r{i:03}"), RuleMatch { sources: vec![s.clone()], ..RuleMatch::default() }))
            .collect();
        let compiled = list(rules);
        for probe in probes {
            let addr = IpAddr::from(std::net::Ipv4Addr::from(probe));
            let expected = sources.iter().position(|s| s.parse::<IpNet>().is_ok_and(|n| n.trunc().contains(&addr)));
            let request = RequestFacts { client_ip: Some(addr), ..RequestFacts::default() };
            let got = compiled.decide(&request, 0).rule_id.map(str::to_owned);
            prop_assert_eq!(got, expected.map(|i| format!("r{i:03}")));
        }
    }
}
