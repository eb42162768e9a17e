//! The detectors over history in a real ClickHouse 18.16: twelve hours of steady traffic feed the
//! hourly baselines through the materialized views; then one endpoint's rate, latency and error
//! share jump, and one caller walks through object ids. Exactly the anomalies fire. Then four
//! days with a daily peak: the rate baseline turns seasonal and the usual peak stays quiet.

use anyhow::Result;
use meshward::config::{ClickHouseConfig, DetectConfig};
use meshward::detect::rules::Kind;
use meshward::detect::Detector;
use meshward_e2e::clickhouse::ClickHouse;

const DB: &str = "meshward_detectors";
/// Every batch below fills the same columns.
const INSERT: &str =
    "INSERT INTO meshward_detectors.http_events (event_id, ts_ms, ts, duration_us, method, authority, \
    path, path_template, status, client_ip, caller_id, request_id)";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anomalies_against_the_baselines_fire_and_steady_traffic_does_not() -> Result<()> {
    let dir = meshward_e2e::process::fresh_dir("detectors")?;
    let server = ClickHouse::start(&dir).await?;
    let config = ClickHouseConfig { url: server.url(), database: DB.into(), ..ClickHouseConfig::default() };
    meshward::store::migrate(&config).await?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs();
    let start = now - 12 * 3600;
    // twelve hours of two endpoints at a steady 120 requests an hour each, 20 ms, few errors,
    // ten callers reading a handful of orders each
    server
        .query(&format!(
            "{INSERT} SELECT MD5(concat('steady', toString(number))), toUInt64({start} + number * 15) * 1000, toDateTime({start} + number * 15), \
             toUInt64(20000 + number % 5000), 'GET', 'shop', concat('/api/orders/', toString(number % 7)), \
             if(number % 2 = 0, '/api/orders/{{order_id}}', '/api/products'), toUInt16(if(number % 100 = 0, 500, 200)), \
             concat('10.0.0.', toString(number % 10)), concat('caller', toString(number % 10)), concat('steady-', toString(number)) \
             FROM numbers(2800)"
        ))
        .await?;
    // the last five minutes: /api/products gets 600 requests, slow and failing; caller666 walks
    // through 80 order ids
    server
        .query(&format!(
            "{INSERT} SELECT MD5(concat('spike', toString(number))), toUInt64({now} - 240 + number % 200) * 1000, toDateTime({now} - 240 + number % 200), \
             toUInt64(900000), 'GET', 'shop', '/api/products', '/api/products', toUInt16(if(number % 2 = 0, 503, 200)), \
             concat('10.0.1.', toString(number % 50)), concat('buyer', toString(number % 50)), concat('spike-', toString(number)) \
             FROM numbers(600)"
        ))
        .await?;
    server
        .query(&format!(
            "{INSERT} SELECT MD5(concat('walk', toString(number))), toUInt64({now} - 200 + number) * 1000, toDateTime({now} - 200 + number), \
             toUInt64(20000), 'GET', 'shop', concat('/api/orders/', toString(1000 + number)), '/api/orders/{{order_id}}', toUInt16(200), \
             '10.9.9.9', 'caller666', concat('walk-', toString(number)) \
             FROM numbers(80)"
        ))
        .await?;
    let detector = Detector::connect(&config, DetectConfig { enumeration_min_objects: 50, ..DetectConfig::default() });
    let found = detector.evaluate(now - 300, now + 1).await?;
    let fired: Vec<(Kind, String)> = found.iter().map(|(k, f)| (*k, f.subject.clone())).collect();
    for (kind, subject) in [
        (Kind::RateSpike, "GET /api/products"),
        (Kind::LatencySpike, "GET /api/products"),
        (Kind::ErrorSpike, "GET /api/products"),
        (Kind::Enumeration, "caller666"),
    ] {
        assert!(fired.iter().any(|(k, s)| *k == kind && s == subject), "{kind:?} on {subject} missing from {fired:?}");
    }
    // the orders endpoint stayed fast and healthy (its rate did rise: the walker's 80 requests)
    assert!(
        !fired.iter().any(|(k, s)| s.contains("/api/orders") && matches!(k, Kind::LatencySpike | Kind::ErrorSpike)),
        "{fired:?}"
    );
    assert!(!fired.iter().any(|(k, s)| *k == Kind::Enumeration && s != "caller666"), "{fired:?}");
    // the evidence says how much data the baseline rests on
    let (_, rate) =
        found.iter().find(|(k, _)| *k == Kind::RateSpike).ok_or_else(|| anyhow::anyhow!("no rate spike"))?;
    assert!(rate.details.iter().any(|d| d == "baseline_hours=12" || d == "baseline_hours=11"), "{:?}", rate.details);
    assert!(rate.value > 3.0 * rate.baseline, "{rate:?}");
    // 120 an hour: the steady traffic's rate, as a number (not the bits of an integer)
    assert!((100.0..=140.0).contains(&rate.baseline), "{rate:?}");

    // Seasonal: four days of two endpoints at 100 requests an hour, 1200 in this hour of the
    // day. This hour's usual peak is no spike (against the last 24 hours it would be); four
    // times the peak is, and says it was judged against the same hour of the day.
    let this_hour = (now + 1) / 3600 * 3600;
    for template in ["/api/catalog", "/api/search"] {
        server
            .query(&format!(
                "{INSERT} SELECT MD5(concat('{template}', 'day', toString(number))), toUInt64(t) * 1000, toDateTime(t), \
                 toUInt64(20000), 'GET', 'seasonal', '{template}', '{template}', toUInt16(200), '10.2.0.1', '', 'day' \
                 FROM (SELECT {this_hour} - 4 * 86400 + number * 36 AS t, number FROM numbers(9600))"
            ))
            .await?;
        server
            .query(&format!(
                "{INSERT} SELECT MD5(concat('{template}', 'peak', toString(number))), toUInt64(t) * 1000, toDateTime(t), \
                 toUInt64(20000), 'GET', 'seasonal', '{template}', '{template}', toUInt16(200), '10.2.0.1', '', 'peak' \
                 FROM (SELECT {this_hour} - (1 + number % 4) * 86400 + intDiv(number, 4) * 3 AS t, number FROM numbers(4400))"
            ))
            .await?;
    }
    // the last two minutes: catalog at its usual peak (40 requests), search at four times it
    for (template, requests) in [("/api/catalog", 40), ("/api/search", 160)] {
        server
            .query(&format!(
                "{INSERT} SELECT MD5(concat('{template}', 'now', toString(number))), toUInt64(t) * 1000, toDateTime(t), \
                 toUInt64(20000), 'GET', 'seasonal', '{template}', '{template}', toUInt16(200), '10.2.0.1', '', 'now' \
                 FROM (SELECT {now} - 119 + intDiv(number * 119, {requests}) AS t, number FROM numbers({requests}))"
            ))
            .await?;
    }
    let found = detector.evaluate(now - 300, now + 1).await?;
    let spikes: Vec<&meshward::detect::Finding> =
        found.iter().filter(|(k, _)| *k == Kind::RateSpike).map(|(_, f)| f).collect();
    assert!(!spikes.iter().any(|f| f.subject == "GET /api/catalog"), "the usual peak fired: {spikes:?}");
    let search = spikes
        .iter()
        .find(|f| f.subject == "GET /api/search")
        .ok_or_else(|| anyhow::anyhow!("four times the peak did not fire: {spikes:?}"))?;
    assert!(search.details.iter().any(|d| d == "baseline=hour_of_day"), "{:?}", search.details);
    assert!(search.details.iter().any(|d| d == "baseline_hours=4"), "{:?}", search.details);
    assert!((1100.0..=1300.0).contains(&search.baseline), "{search:?}");

    // Word-like ids on a host with a spec: new users are not new endpoints, the first call of a
    // documented operation is one, an undocumented path is a shadow endpoint.
    let spec = r#"{"openapi": "3.0.3", "info": {"title": "words", "version": "1"}, "paths": {
        "/api/users/{username}": {"get": {"responses": {"200": {"description": "ok"}}}},
        "/api/teams/{team}": {"get": {"responses": {"200": {"description": "ok"}}}}}}"#;
    let operations = meshward::inventory::openapi::parse(spec)?;
    let client = detector.client.clone().with_database(DB);
    meshward::inventory::store_operations(&client, &config.url, "words", (now - 7200) * 1000, &operations).await?;
    let calls = |template: &str, at: u64| {
        format!(
            "{INSERT} SELECT MD5(concat('{template}', toString({at}), toString(number))), toUInt64({at} + number) * 1000, \
             toDateTime({at} + number), toUInt64(20000), 'GET', 'words', '{template}', '{template}', toUInt16(200), \
             '10.3.0.1', 'reader', concat('w-', toString(number)) FROM numbers(6)"
        )
    };
    for (template, at) in [
        ("/api/users/alice", now - 3 * 3600),
        ("/api/users/bob", now - 2 * 3600),
        ("/api/users/carol", now - 100),
        ("/api/users/dave", now - 90),
        ("/api/teams/red", now - 80),
        ("/api/admin/dump", now - 70),
    ] {
        server.query(&calls(template, at)).await?;
    }
    let found = detector.evaluate(now - 300, now + 1).await?;
    let on_words: Vec<(Kind, &str)> = found
        .iter()
        .filter(|(k, f)| f.subject == "words" && matches!(k, Kind::NewEndpoint | Kind::ShadowEndpoint))
        .map(|(k, f)| (*k, f.endpoint.as_str()))
        .collect();
    assert_eq!(
        on_words,
        vec![(Kind::NewEndpoint, "GET /api/teams/red"), (Kind::ShadowEndpoint, "GET /api/admin/dump")],
        "{found:?}"
    );
    Ok(())
}
