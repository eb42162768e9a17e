//! Runs the filter's per-request detection work in a loop: built for wasm32-wasip1 and run
//! under a wasm runtime with a profiler, it shows where detection spends its time inside a
//! VM (`make` does not build it; see docs/benchmark-method.md).

use meshward_core::body::WalkLimits;
use meshward_core::detect::{Detector, Direction, Findings};
use std::hint::black_box;

fn main() {
    let rounds: usize = std::env::args().nth(1).and_then(|n| n.parse().ok()).unwrap_or(20_000);
    let items: Vec<String> = (0..12).map(|i| format!(r#"{{"sku":"SKU-{i:06}","qty":{i},"price":1.5}}"#)).collect();
    let body = format!(r#"{{"id":1,"name":"bench","items":[{}],"pad":"{}"}}"#, items.join(","), "x".repeat(300));
    let detector = Detector::default();
    let limits = WalkLimits::default();
    let request_headers = [
        ("host", "127.0.0.1:10000"),
        ("content-type", "application/json"),
        ("authorization", "Bearer bench-token-0123456789"),
        ("content-length", "1024"),
        ("user-agent", "wrk"),
    ];
    let response_headers = [("content-type", "application/json"), ("content-length", "1024"), ("date", "x")];
    let mut total = 0;
    for _ in 0..rounds {
        let mut out = Findings::new(64);
        detector.scan_path_and_query("/bench", "", &mut out);
        for (n, v) in request_headers {
            detector.scan_header(Direction::Request, n, v, &mut out);
        }
        detector.scan_body(Direction::Request, "application/json", black_box(body.as_bytes()), limits, &mut out);
        for (n, v) in response_headers {
            detector.scan_header(Direction::Response, n, v, &mut out);
        }
        detector.scan_body(Direction::Response, "application/json", black_box(body.as_bytes()), limits, &mut out);
        total += out.items.len();
    }
    println!("{rounds} requests, {total} findings");
}
