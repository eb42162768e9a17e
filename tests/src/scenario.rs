//! Labelled incident scenarios for the detectors: hours of realistic traffic with synthetic
//! timestamps (callers reading their own objects, logins with the odd typo, a little noise),
//! and injected incidents, each with a kind, a subject and when it starts. `measure` stores a
//! scenario in a real ClickHouse through the collector's own row mapping, replays the detectors
//! window by window as the live job would, and scores them against the labels.

use crate::rng::Rng;
use anyhow::Result;
use meshward::config::DetectConfig;
use meshward::detect::rules::Kind;
use meshward::detect::Detector;
use meshward_proto::{HttpEvent, SensitiveFinding};

/// One injected incident.
#[derive(Debug, Clone)]
pub struct Incident {
    pub kind: Kind,
    pub subject: String,
    /// the endpoint it hits (a spike there during the incident is a symptom, not a false alert)
    pub endpoint: &'static str,
    pub start_s: u64,
}

/// Incidents last ten minutes at most; symptoms count until then.
const INCIDENT_S: u64 = 600;

/// Incidents injected per scenario, one of each kind.
const INCIDENTS: u64 = 12;

pub struct Scenario {
    pub events: Vec<HttpEvent>,
    pub incidents: Vec<Incident>,
    pub start_s: u64,
    pub end_s: u64,
}

fn event(
    rng: &mut Rng,
    at_ms: u64,
    method: &str,
    path: String,
    template: &str,
    status: u32,
    caller: usize,
) -> HttpEvent {
    let mut id = rng.next_u64().to_be_bytes().to_vec();
    id.extend_from_slice(&rng.next_u64().to_be_bytes());
    HttpEvent {
        event_id: id,
        start_time_ms: at_ms,
        duration_us: 8_000 + rng.below(30_000),
        method: method.into(),
        authority: HOST.into(),
        path,
        path_template: template.into(),
        status,
        client_ip: format!("10.{}.{}.{}", caller % 7, caller % 31, caller % 200 + 1),
        caller_id: format!("c{caller:04}"),
        caller_id_source: "bearer".into(),
        request_id: format!("r{:016x}", rng.next_u64()),
        ..HttpEvent::default()
    }
}

fn finding(class: &str, location: &str) -> SensitiveFinding {
    SensitiveFinding {
        class: class.into(),
        direction: meshward_proto::Direction::Response as i32,
        part: "body".into(),
        location: location.into(),
        confidence: 0.9,
        masked_sample: None,
        count: 1,
    }
}

/// `hours` of traffic ending at `end_s`, with one incident of each kind at a random time in the
/// second half (the first half builds history).
pub fn generate(seed: u64, hours: u64, end_s: u64) -> Scenario {
    let mut rng = Rng::new(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let start_s = end_s - hours * 3600;
    let callers = 300usize;
    let mut events = Vec::new();
    // normal traffic: ~150 requests a minute
    for minute in 0..hours * 60 {
        let base = (start_s + minute * 60) * 1000;
        for _ in 0..140 + rng.below(20) {
            let at = base + rng.below(60_000);
            let caller = rng.below(callers as u64) as usize;
            let e = match rng.below(100) {
                0..=4 => {
                    let status = if rng.below(100) < 3 { 401 } else { 200 };
                    let mut e = event(&mut rng, at, "POST", "/api/login".into(), "/api/login", status, caller);
                    e.caller_id = String::new();
                    e.caller_id_source = String::new();
                    e
                }
                5..=44 => {
                    let path = format!("/api/products/SKU-{}", rng.below(50));
                    let mut e = event(&mut rng, at, "GET", path, "/api/products/{sku}", 200, caller);
                    if rng.below(10) < 3 {
                        e.query_params = vec!["currency".into()];
                    }
                    e
                }
                45..=79 => {
                    // a caller reads one of its own few orders
                    let order = caller as u64 * 10 + rng.below(4);
                    let status = if rng.below(1000) < 5 { 500 } else { 200 };
                    event(&mut rng, at, "GET", format!("/api/orders/{order}"), "/api/orders/{order_id}", status, caller)
                }
                _ => {
                    let mut e =
                        event(&mut rng, at, "GET", format!("/api/users/{caller}"), "/api/users/{user_id}", 200, caller);
                    e.sensitive = vec![finding("email", "$.email"), finding("phone", "$.phone")];
                    e
                }
            };
            events.push(e);
        }
    }
    let mut incidents = Vec::new();
    // the second half is cut into one slot per incident, handed out in a random order; each
    // incident starts at a random minute of the first part of its slot, so none overlap
    let half = start_s + hours * 1800;
    let slot_s = hours * 1800 / INCIDENTS;
    let mut order: Vec<u64> = (0..INCIDENTS).collect();
    for i in (1..order.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        order.swap(i, j);
    }
    let mut slots = order.into_iter();
    let mut slot = |rng: &mut Rng| {
        let index = slots.next().unwrap_or(0);
        half + index * slot_s + rng.below(slot_s.saturating_sub(INCIDENT_S + 300).max(60)) / 60 * 60
    };
    // credential stuffing: one address, 300 failed logins in 10 minutes
    let at = slot(&mut rng);
    let stuffer = format!("203.0.113.{}", 1 + rng.below(200));
    for i in 0..300 {
        let mut e = event(&mut rng, (at + i * 2) * 1000, "POST", "/api/login".into(), "/api/login", 401, 0);
        e.client_ip.clone_from(&stuffer);
        e.caller_id = String::new();
        events.push(e);
    }
    incidents.push(Incident {
        kind: Kind::CredentialStuffing,
        subject: stuffer,
        endpoint: "POST /api/login",
        start_s: at,
    });
    // BOLA scraping: one caller reads 300 other people's orders in 10 minutes
    let at = slot(&mut rng);
    let scraper = 7usize;
    for i in 0..300 {
        let order = 50_000 + i;
        events.push(event(
            &mut rng,
            (at + i * 2) * 1000,
            "GET",
            format!("/api/orders/{order}"),
            "/api/orders/{order_id}",
            200,
            scraper,
        ));
    }
    incidents.push(Incident {
        kind: Kind::Enumeration,
        subject: format!("c{scraper:04}"),
        endpoint: "GET /api/orders/{order_id}",
        start_s: at,
    });
    // a data-exposure regression: product responses start carrying card numbers
    let at = slot(&mut rng);
    for i in 0..200 {
        let mut e = event(
            &mut rng,
            (at + i * 3) * 1000,
            "GET",
            format!("/api/products/SKU-{}", i % 50),
            "/api/products/{sku}",
            200,
            i as usize,
        );
        e.sensitive = vec![finding("credit_card", "$.payment.card")];
        events.push(e);
    }
    incidents.push(Incident {
        kind: Kind::DataExposure,
        subject: "credit_card in $.payment.card".into(),
        endpoint: "GET /api/products/{sku}",
        start_s: at,
    });
    // an error spike: orders fail three times in five for 10 minutes
    let at = slot(&mut rng);
    for i in 0..400 {
        let caller = (i % callers as u64) as usize;
        let status = if i % 5 < 3 { 503 } else { 200 };
        let order = caller as u64 * 10;
        events.push(event(
            &mut rng,
            (at + i * 3 / 2) * 1000,
            "GET",
            format!("/api/orders/{order}"),
            "/api/orders/{order_id}",
            status,
            caller,
        ));
    }
    incidents.push(Incident {
        kind: Kind::ErrorSpike,
        subject: "GET /api/orders/{order_id}".into(),
        endpoint: "GET /api/orders/{order_id}",
        start_s: at,
    });
    // an attack burst: one address sends 30 injections
    let at = slot(&mut rng);
    let attacker = format!("198.51.100.{}", 1 + rng.below(200));
    for i in 0..30 {
        let mut e =
            event(&mut rng, (at + i * 10) * 1000, "GET", "/api/products/SKU-1".into(), "/api/products/{sku}", 200, 1);
        e.client_ip.clone_from(&attacker);
        e.attacks = vec![meshward_proto::AttackFinding {
            class: "sqli".into(),
            direction: meshward_proto::Direction::Request as i32,
            part: "query".into(),
            location: "q".into(),
            reason: "union select".into(),
            severity: 4,
        }];
        events.push(e);
    }
    incidents.push(Incident {
        kind: Kind::AttackBurst,
        subject: attacker,
        endpoint: "GET /api/products/{sku}",
        start_s: at,
    });
    // distributed stuffing: 600 failed logins from 50 addresses in 4 minutes, 12 each
    let at = slot(&mut rng);
    let botnet = 1 + rng.below(150);
    for i in 0..600 {
        let mut e = event(&mut rng, at * 1000 + i * 400, "POST", "/api/login".into(), "/api/login", 401, 0);
        e.client_ip = format!("192.0.2.{}", botnet + i % 50);
        e.caller_id = String::new();
        events.push(e);
    }
    incidents.push(Incident {
        kind: Kind::DistributedStuffing,
        subject: "*".into(),
        endpoint: "POST /api/login",
        start_s: at,
    });
    // a surge: product reads at five times their rate for 10 minutes, from everyone
    let at = slot(&mut rng);
    for i in 0..2500 {
        let caller = rng.below(callers as u64) as usize;
        let path = format!("/api/products/SKU-{}", rng.below(50));
        events.push(event(&mut rng, at * 1000 + i * 240, "GET", path, "/api/products/{sku}", 200, caller));
    }
    incidents.push(Incident {
        kind: Kind::RateSpike,
        subject: "GET /api/products/{sku}".into(),
        endpoint: "GET /api/products/{sku}",
        start_s: at,
    });
    // a slow dependency: order reads take over a second for 10 minutes
    let at = slot(&mut rng);
    for i in 0..600 {
        let caller = rng.below(callers as u64) as usize;
        let order = caller as u64 * 10 + rng.below(4);
        let mut e = event(
            &mut rng,
            at * 1000 + i * 1000,
            "GET",
            format!("/api/orders/{order}"),
            "/api/orders/{order_id}",
            200,
            caller,
        );
        e.duration_us = 1_200_000 + rng.below(800_000);
        events.push(e);
    }
    incidents.push(Incident {
        kind: Kind::LatencySpike,
        subject: "GET /api/orders/{order_id}".into(),
        endpoint: "GET /api/orders/{order_id}",
        start_s: at,
    });
    // a profile regression: profiles start carrying the friends list, 40 addresses each
    let at = slot(&mut rng);
    for i in 0..300 {
        let caller = rng.below(callers as u64) as usize;
        let mut e = event(
            &mut rng,
            at * 1000 + i * 2000,
            "GET",
            format!("/api/users/{caller}"),
            "/api/users/{user_id}",
            200,
            caller,
        );
        let mut friends = finding("email", "$.friends[*].email");
        friends.count = 40;
        e.sensitive = vec![finding("email", "$.email"), finding("phone", "$.phone"), friends];
        events.push(e);
    }
    incidents.push(Incident {
        kind: Kind::SensitiveRise,
        subject: "GET /api/users/{user_id}".into(),
        endpoint: "GET /api/users/{user_id}",
        start_s: at,
    });
    // a documented endpoint goes live: wishlists
    let at = slot(&mut rng);
    for i in 0..100 {
        let caller = rng.below(callers as u64) as usize;
        let path = format!("/api/wishlists/{caller}");
        events.push(event(&mut rng, at * 1000 + i * 6000, "GET", path, "/api/wishlists/{wishlist_id}", 200, caller));
    }
    incidents.push(Incident {
        kind: Kind::NewEndpoint,
        subject: HOST.into(),
        endpoint: "GET /api/wishlists/{wishlist_id}",
        start_s: at,
    });
    // a shadow endpoint: an internal export nobody documented starts answering
    let at = slot(&mut rng);
    for i in 0..60 {
        let path = format!("/api/internal/export/{}", 9000 + i);
        events.push(event(&mut rng, at * 1000 + i * 10_000, "GET", path, "/api/internal/export/{export_id}", 200, 3));
    }
    incidents.push(Incident {
        kind: Kind::ShadowEndpoint,
        subject: HOST.into(),
        endpoint: "GET /api/internal/export/{export_id}",
        start_s: at,
    });
    // an undocumented parameter on a documented endpoint: products?debug=
    let at = slot(&mut rng);
    for i in 0..40 {
        let caller = rng.below(callers as u64) as usize;
        let path = format!("/api/products/SKU-{}", rng.below(50));
        let mut e = event(&mut rng, at * 1000 + i * 15_000, "GET", path, "/api/products/{sku}", 200, caller);
        e.query_params = vec!["currency".into(), "debug".into()];
        events.push(e);
    }
    incidents.push(Incident {
        kind: Kind::UndocumentedParameter,
        subject: format!("param debug at {HOST}"),
        endpoint: "GET /api/products/{sku}",
        start_s: at,
    });
    debug_assert_eq!(incidents.len() as u64, INCIDENTS);
    Scenario { events, incidents, start_s, end_s }
}

/// The scenario's host.
const HOST: &str = "shop.example.com";

/// The host's OpenAPI document, uploaded when the scenario starts: everything normal traffic
/// calls, and wishlists, which go live during it.
pub const SPEC: &str = r#"openapi: 3.0.3
info: {title: shop, version: "1"}
paths:
  /api/login:
    post:
      responses: {"200": {description: ok}}
  /api/products/{sku}:
    get:
      parameters:
        - {name: sku, in: path, required: true, schema: {type: string}}
        - {name: currency, in: query, schema: {type: string}}
      responses: {"200": {description: ok}}
  /api/orders/{id}:
    get:
      parameters: [{name: id, in: path, required: true, schema: {type: integer}}]
      responses: {"200": {description: ok}}
  /api/users/{id}:
    get:
      parameters: [{name: id, in: path, required: true, schema: {type: integer}}]
      responses: {"200": {description: ok}}
  /api/wishlists/{id}:
    get:
      parameters: [{name: id, in: path, required: true, schema: {type: integer}}]
      responses: {"200": {description: ok}}
"#;

/// Per detector kind: incidents, detected within `deadline_s`, time to detect, false alerts.
#[derive(Debug, Default, Clone)]
pub struct Score {
    pub incidents: u32,
    pub detected: u32,
    pub detect_seconds: Vec<u64>,
    pub false_alerts: u32,
    /// alerts of this kind on an incident's endpoint while it lasted (a symptom of it)
    pub symptoms: u32,
}

/// Replays the detectors over a stored scenario: a window ending every `step_s`, as the live job
/// evaluates; the first firing of each (kind, subject) counts once.
pub async fn measure(
    detector: &Detector,
    scenario: &Scenario,
    step_s: u64,
    deadline_s: u64,
) -> Result<std::collections::BTreeMap<&'static str, Score>> {
    let mut scores: std::collections::BTreeMap<&'static str, Score> = std::collections::BTreeMap::new();
    for incident in &scenario.incidents {
        scores.entry(incident.kind.as_str()).or_default().incidents += 1;
    }
    // (kind, subject) -> when it first fired, on which endpoint
    let mut first: std::collections::BTreeMap<(Kind, String), (u64, String)> = std::collections::BTreeMap::new();
    // from an hour in, so every rule has some history
    let mut end = scenario.start_s + 3600;
    while end <= scenario.end_s {
        let from = end - detector.config.window_s;
        for (kind, finding) in detector.evaluate(from, end).await? {
            first.entry((kind, finding.subject)).or_insert((end, finding.endpoint));
        }
        end += step_s;
    }
    for ((kind, subject), (at, endpoint)) in &first {
        let score = scores.entry(kind.as_str()).or_default();
        let during = |i: &&Incident| *at >= i.start_s && *at <= i.start_s + INCIDENT_S + 300;
        match scenario.incidents.iter().find(|i| i.kind == *kind && i.subject == *subject) {
            Some(incident) if *at >= incident.start_s && *at - incident.start_s <= deadline_s => {
                score.detected += 1;
                score.detect_seconds.push(at - incident.start_s);
            }
            Some(_) => {}
            None if scenario
                .incidents
                .iter()
                .filter(during)
                .any(|i| i.endpoint == endpoint || subject.contains(i.endpoint)) =>
            {
                score.symptoms += 1
            }
            None => score.false_alerts += 1,
        }
    }
    Ok(scores)
}

/// The scenario as a filter with the default inspection budget would have recorded it if its
/// traffic came at `load_per_s` exchanges a second (a sidecar saturated by it): each event's
/// bodies are inspected or not as the budget decides on a clock running that much faster (so
/// that each endpoint's rate is scaled alike), and an event not inspected loses what only the
/// bodies show (body fields, body findings) while an inspected one carries its weight.
pub fn budgeted(scenario: &Scenario, load_per_s: f64) -> Scenario {
    use meshward_core::recorder::inspection::{variant_key, InspectionConfig, Inspector};
    let mut inspector = Inspector::new(InspectionConfig::default(), 11);
    let span_s = (scenario.end_s - scenario.start_s).max(1) as f64;
    let speedup = (load_per_s * span_s / scenario.events.len().max(1) as f64).max(1.0);
    let mut events = scenario.events.clone();
    events.sort_by_key(|e| e.start_time_ms);
    for event in &mut events {
        let virtual_us = (event.start_time_ms as f64 * 1000.0 / speedup) as u64;
        let attack_seen = event.attacks.iter().any(|a| a.part != "body");
        let key = variant_key(&event.method, &event.authority, &event.path_template, &event.query_params);
        let decision = inspector.decide(key, virtual_us, attack_seen);
        inspector.tick(virtual_us);
        if decision.deep {
            event.inspection = meshward_proto::Inspection::Deep as i32;
            event.inspection_weight = decision.weight;
        } else {
            event.inspection = meshward_proto::Inspection::Metadata as i32;
            event.inspection_weight = 0.0;
            event.request_body_fields.clear();
            event.response_body_fields.clear();
            event.sensitive.retain(|s| s.part != "body");
            event.attacks.retain(|a| a.part != "body");
        }
    }
    Scenario { events, incidents: scenario.incidents.clone(), start_s: scenario.start_s, end_s: scenario.end_s }
}

/// The detection settings scenarios run with: the defaults, scaled to the scenario's traffic.
pub fn detect_config() -> DetectConfig {
    DetectConfig { window_s: 300, stuffing_min_failures: 20, attack_burst_min: 10, ..DetectConfig::default() }
}

/// The saturating load of the Envoy benchmark (the default filter, 1 KiB, one worker), at which
/// the budgeted runs sample: what a sidecar that busy records.
pub const BUDGET_LOAD_PER_S: f64 = 7_000.0;

/// Stores each seed's scenario (passed through `transform`) in its own database and scores the
/// detectors on it.
async fn score_seeds(
    server: &crate::clickhouse::ClickHouse,
    seeds: &[u64],
    hours: u64,
    end_s: u64,
    tag: &str,
    transform: &dyn Fn(Scenario) -> Scenario,
) -> Result<std::collections::BTreeMap<&'static str, Score>> {
    let mut totals: std::collections::BTreeMap<&'static str, Score> = std::collections::BTreeMap::new();
    for seed in seeds {
        let database = format!("meshward_scenario_{tag}_{seed}");
        let config = meshward::config::ClickHouseConfig { url: server.url(), database, ..Default::default() };
        meshward::store::migrate(&config).await?;
        let scenario = transform(generate(*seed, hours, end_s));
        let detector = Detector::connect(&config, detect_config());
        let rows: Vec<_> = scenario
            .events
            .iter()
            .cloned()
            .filter_map(|e| {
                let received = e.start_time_ms + 50;
                meshward::store::event_row(e, "scenario", 1, received)
            })
            .collect();
        for chunk in rows.chunks(50_000) {
            meshward::store::insert_rows(&detector.client, &config.url, chunk).await?;
        }
        let operations = meshward::inventory::openapi::parse(SPEC)?;
        let client = detector.client.clone().with_database(&config.database);
        meshward::inventory::store_operations(&client, &config.url, HOST, scenario.start_s * 1000, &operations).await?;
        for (kind, score) in measure(&detector, &scenario, 60, 120).await? {
            let total = totals.entry(kind).or_default();
            total.incidents += score.incidents;
            total.detected += score.detected;
            total.detect_seconds.extend(score.detect_seconds);
            total.false_alerts += score.false_alerts;
            total.symptoms += score.symptoms;
        }
    }
    Ok(totals)
}

/// `make quality`'s section: several seeds of `hours` each, stored in a ClickHouse of our own,
/// the detectors replayed every minute, scored against the labels; and the same with the
/// events as the inspection budget would have recorded them at the benchmark's saturating load.
pub async fn report(seeds: &[u64], hours: u64) -> Result<String> {
    use std::fmt::Write as _;
    let dir = crate::process::fresh_dir("scenarios")?;
    let server = crate::clickhouse::ClickHouse::start(&dir).await?;
    let end_s = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs() / 60 * 60;
    let totals = score_seeds(&server, seeds, hours, end_s, "full", &|s| s).await?;
    let budget = score_seeds(&server, seeds, hours, end_s, "budget", &|s| budgeted(&s, BUDGET_LOAD_PER_S)).await?;
    let quiet_days = seeds.len() as f64 * (hours - 1) as f64 / 24.0;
    let mut out = String::new();
    writeln!(out, "## Detectors on labelled incident scenarios\n")?;
    writeln!(
        out,
        "{} scenarios (seeds {:?}) of {hours} hours each: ~150 requests a minute from 300 callers (their own orders and \
         profiles, products, logins with a 3% typo rate, 0.5% server errors), with one incident of each kind injected at a \
         random minute of the second half: credential stuffing (300 failed logins from one address in 10 minutes), BOLA \
         scraping (one caller reads 300 other orders in 10 minutes), a data-exposure regression (product responses start \
         carrying card numbers), an error spike (60% 503s on orders for 10 minutes), an attack burst (30 injections from \
         one address in 5 minutes), distributed stuffing (600 failed logins from 50 addresses in 4 minutes), a rate spike \
         (product reads at five times their rate for 10 minutes), a latency spike (order reads over a second for 10 \
         minutes), a rise in sensitive records (profiles carry 40 more addresses each for 10 minutes), a documented \
         endpoint going live, a shadow endpoint (not in the host's spec) and an undocumented query parameter on a \
         documented endpoint; incidents do not overlap. Events go into ClickHouse 18.16 through the collector's row mapping; the detectors run every simulated \
         minute over the last 5 minutes, as the live job does (`tests/src/scenario.rs`). *Detected* means the alert for the \
         incident's subject fired within 2 simulated minutes of its start; an alert of another kind on an incident's \
         endpoint while it lasts is counted as a symptom of it (a stuffing run is also a rate spike on the login); any other \
         (kind, subject) that fired is a false alert. Goal: every incident within 2 minutes, under 1 false alert per simulated day.\n",
        seeds.len(),
        seeds
    )?;
    writeln!(
        out,
        "| detector | incidents | detected ≤ 2 min | recall | precision | median time to detect | false alerts | per simulated day | symptoms of other incidents | detected under the budget | false alerts under the budget |"
    )?;
    writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")?;
    for (kind, score) in &totals {
        let mut times = score.detect_seconds.clone();
        times.sort_unstable();
        let median = times.get(times.len() / 2).map_or("-".to_owned(), |s| format!("{s} s"));
        let recall = if score.incidents == 0 {
            "-".to_owned()
        } else {
            format!("{:.0}%", 100.0 * f64::from(score.detected) / f64::from(score.incidents))
        };
        // alerts that named an incident or a symptom of one are true; the rest are false
        let fired = score.detected + score.symptoms + score.false_alerts;
        let precision = if fired == 0 {
            "-".to_owned()
        } else {
            format!("{:.0}%", 100.0 * f64::from(fired - score.false_alerts) / f64::from(fired))
        };
        let budgeted = budget.get(kind).cloned().unwrap_or_default();
        writeln!(
            out,
            "| {kind} | {} | {} | {recall} | {precision} | {median} | {} | {:.2} | {} | {} of {} | {} |",
            score.incidents,
            score.detected,
            score.false_alerts,
            f64::from(score.false_alerts) / quiet_days.max(0.01),
            score.symptoms,
            budgeted.detected,
            budgeted.incidents,
            budgeted.false_alerts
        )?;
    }
    writeln!(
        out,
        "\n*Under the budget*: the same scenarios as a filter with the default inspection budget would have recorded \
         them if their traffic came at {BUDGET_LOAD_PER_S:.0} exchanges a second, the Envoy benchmark's saturating load \
         (`scenario::budgeted`): each event's bodies inspected or not as the budget decides on a clock running that much \
         faster, so every endpoint's rate scales alike; an event not inspected loses its body fields and body findings, \
         an inspected one carries its weight, which the detectors sum.\n"
    )?;
    Ok(out)
}
