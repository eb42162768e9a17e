//! Records the benchmark's varied exchanges (`benches/support/traffic.rs`) through the recorder
//! the filter runs, as Envoy hands them over, for instruction counts per whole exchange:
//!
//! ```text
//! cargo build --profile wasm -p meshward-core --example exchange_loop
//! valgrind --tool=cachegrind --cache-sim=no target/wasm/examples/exchange_loop full small 3
//! ```
//!
//! minus the same with 1 round, divided by (rounds - 1) x 1000 exchanges. `full` inspects every
//! exchange, `metadata` none (what every exchange costs); `default` runs the inspection budget
//! at 5,000 exchanges a second on a simulated clock, in the first seconds of its window. `small` is about 1 KiB each way,
//! `large` about 16 KiB; `off` after the rounds turns both detectors off. It prints the share
//! inspected and the event bytes per exchange.

use meshward_core::detect::Direction;
use meshward_core::recorder::inspection::{InspectionConfig, InspectionMode};
use meshward_core::recorder::End;
use meshward_core::{Recorder, RecorderConfig};
use std::hint::black_box;

#[path = "../benches/support/traffic.rs"]
mod traffic;

const PAIRS: usize = 1000;
/// Simulated arrival rate in the default mode: Envoy's core saturated at 1 KiB.
const EXCHANGES_PER_S: u64 = 5_000;

type Headers = Vec<(String, Vec<u8>)>;

fn header_maps(pair: &traffic::Pair, i: usize) -> (Headers, Headers) {
    let mut request: Headers = vec![
        (":authority".into(), b"shop.example".to_vec()),
        (":path".into(), pair.target.clone().into_bytes()),
        (":method".into(), pair.method.as_bytes().to_vec()),
        (":scheme".into(), b"http".to_vec()),
    ];
    request.extend(pair.headers.iter().map(|(n, v)| ((*n).to_owned(), v.clone().into_bytes())));
    request.push(("x-forwarded-proto".into(), b"http".to_vec()));
    request.push(("x-request-id".into(), format!("5a1b2c3d-0000-4000-8000-{i:012}").into_bytes()));
    let response: Headers = vec![
        (":status".into(), pair.status.to_string().into_bytes()),
        ("content-type".into(), b"application/json".to_vec()),
        ("content-length".into(), pair.response_body.len().to_string().into_bytes()),
        ("date".into(), b"Fri, 04 Dec 2026 18:00:00 GMT".to_vec()),
        ("x-envoy-upstream-service-time".into(), b"1".to_vec()),
    ];
    (request, response)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "full".into());
    let size = args.next().unwrap_or_else(|| "small".into());
    let rounds: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(3);
    // `off` as a fourth argument: both detectors off (the metadata the event keeps, alone)
    let detection = match args.next().as_deref() {
        Some("off") => meshward_core::DetectConfig { sensitive: false, attacks: false, ..Default::default() },
        _ => meshward_core::DetectConfig::default(),
    };
    let size = if size == "large" { traffic::Size::Large } else { traffic::Size::Small };
    let inspection = match mode.as_str() {
        "default" => InspectionConfig::default(),
        // never deep: the cost of the metadata every exchange gets
        "metadata" => InspectionConfig {
            first_per_window: 0,
            max_per_endpoint_per_s: 0.0,
            min_share: 0.0,
            ..InspectionConfig::default()
        },
        _ => InspectionConfig { mode: InspectionMode::Full, ..InspectionConfig::default() },
    };
    let pairs = traffic::pairs(PAIRS, size, 42);
    let maps: Vec<(Headers, Headers)> = pairs.iter().enumerate().map(|(i, p)| header_maps(p, i)).collect();
    let config = RecorderConfig {
        inspection,
        detection,
        identity_secret: "bench".into(),
        dedupe_shapes: true,
        ..RecorderConfig::default()
    };
    let mut recorder = Recorder::new(config, 7);
    let (mut bytes, mut exchanges) = (0usize, 0u64);
    let mut now = 1_800_000_000_000_000u64;
    for _ in 0..rounds {
        for (pair, (request, response)) in pairs.iter().zip(&maps) {
            now += 1_000_000 / EXCHANGES_PER_S;
            let mut exchange = recorder.request_headers(black_box(request), "10.0.0.7:41000", now);
            let room = recorder.body_room(&exchange, Direction::Request).min(pair.request_body.len());
            exchange.body_data(Direction::Request, &pair.request_body.as_bytes()[..room]);
            exchange.body_seen(Direction::Request, pair.request_body.len());
            recorder.response_headers(&mut exchange, black_box(response));
            let room = recorder.body_room(&exchange, Direction::Response).min(pair.response_body.len());
            exchange.body_data(Direction::Response, &pair.response_body.as_bytes()[..room]);
            exchange.body_seen(Direction::Response, pair.response_body.len());
            let clock = || now + 200;
            let end = End { now_us: now + 150, event_id: [1; 16], status: None, peer_principal: "", clock: &clock };
            bytes += black_box(recorder.finish(exchange, end)).len();
            exchanges += 1;
            if exchanges % 1000 == 0 {
                recorder.tick(now);
            }
        }
    }
    let stats = recorder.stats().inspection;
    println!(
        "{exchanges} exchanges, {:.1}% inspected, {:.0} event bytes per exchange",
        100.0 * stats.deep as f64 / exchanges.max(1) as f64,
        bytes as f64 / exchanges.max(1) as f64
    );
}
