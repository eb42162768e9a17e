//! Scans one of the `scan/*` benchmark bodies in a loop, for instruction counts that do not
//! move with the machine's load (timings here move by ±10%):
//! `valgrind --tool=cachegrind --cache-sim=no target/wasm/examples/scan_loop request_16k 100`,
//! minus the same with 1 round (building the detector, word sets built on first use), divided by
//! the rounds less one. Build it with `cargo build --profile wasm -p meshward-core --example
//! scan_loop`: LTO and one codegen unit, as the filter ships, so that the counts do not move when
//! code moves between files (the default release profile's codegen units move them by up to 1%).
//! Bodies: `request_1k` (an order), `request_16k` and `response_16k` (40 customer records), `request_mixed`
//! (16 events of URLs, user agents, prose, markup and tokens), or
//! any JSON file, scanned as a request body.

use meshward_core::body::WalkLimits;
use meshward_core::detect::{Detector, Direction, Findings};
use std::hint::black_box;

#[path = "../benches/support/bodies.rs"]
mod bodies;

fn main() {
    let which = std::env::args().nth(1).unwrap_or_else(|| "request_16k".to_owned());
    let rounds: usize = std::env::args().nth(2).and_then(|n| n.parse().ok()).unwrap_or(1000);
    let (direction, body) = match which.as_str() {
        "request_1k" => (Direction::Request, bodies::order_json()),
        "response_16k" => (Direction::Response, bodies::customers_json(40)),
        "request_16k" => (Direction::Request, bodies::customers_json(40)),
        "request_mixed" => (Direction::Request, bodies::mixed_json(16)),
        path => match std::fs::read_to_string(path) {
            Ok(body) => (Direction::Request, body),
            Err(e) => {
                eprintln!(
                    "{path}: {e}; name a JSON file or one of request_1k, request_16k, request_mixed, response_16k"
                );
                std::process::exit(2);
            }
        },
    };
    let detector = Detector::default();
    let mut findings = 0;
    for _ in 0..rounds {
        let mut out = Findings::new(64);
        detector.scan_body(direction, "application/json", black_box(body.as_bytes()), WalkLimits::default(), &mut out);
        findings += out.items.len();
    }
    println!("{which}: {} bytes, {rounds} rounds, {findings} findings", body.len());
}
