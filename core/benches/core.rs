//! Per-request cost of the core functions the filter calls on every exchange.
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use meshward_core::detect::{Detector, Direction, Findings};
use meshward_core::{body::WalkLimits, identity::caller_identity, json_fields, template_path, IdentityKey};
use std::hint::black_box;

#[path = "support/bodies.rs"]
mod bodies;
#[path = "support/traffic.rs"]
#[allow(dead_code)] // the Envoy benchmark reads the fields criterion does not
mod traffic;
use bodies::{customers_json, mixed_json, order_json};

fn benches(c: &mut Criterion) {
    c.bench_function("template_path", |b| {
        b.iter(|| template_path(black_box("/api/v1/users/12345/orders/3fa85f64-5717-4562-b3fc-2c963f66afa6")))
    });
    let body = br#"{"user":{"id":42,"email":"a@example.com","name":"Alice","roles":["admin","dev"]},"items":[{"sku":"A-1","qty":2,"price":9.5},{"sku":"B-2","qty":1,"price":3}],"note":"hello"}"#;
    c.bench_function("json_fields", |b| b.iter(|| json_fields(black_box(body), WalkLimits::default())));
    // the 1 KiB body of the Envoy benchmark's upstream
    let kib: String = format!(
        r#"{{"id":1,"name":"bench","items":[{}],"pad":"{}"}}"#,
        (0..10).map(|i| format!(r#"{{"sku":"SKU-{i:06}","qty":{i},"price":1.5}}"#)).collect::<Vec<_>>().join(","),
        "x".repeat(113)
    );
    c.bench_function("json_fields_1k", |b| b.iter(|| json_fields(black_box(kib.as_bytes()), WalkLimits::default())));
    let key = IdentityKey::derive("bench");
    c.bench_function("caller_identity_bearer", |b| {
        b.iter(|| caller_identity(&key, black_box(Some("Bearer abcdefghijklmnopqrstuvwxyz0123456789")), None))
    });
}

fn detection(c: &mut Criterion) {
    let detector = Detector::default();
    let limits = WalkLimits::default();
    let response = customers_json(40);
    let request = order_json();
    let mixed = mixed_json(16);
    let mut group = c.benchmark_group("scan");
    for (name, direction, body, walk_alone) in [
        ("response_json_16k", Direction::Response, response.as_bytes(), true),
        ("request_json_1k", Direction::Request, request.as_bytes(), true),
        // the same customer records sent as a request: both detectors, as at 16 KiB in Envoy
        ("request_json_16k", Direction::Request, response.as_bytes(), false),
        // URLs, user agents, prose, markup, tokens: the values that cost the attack checks most
        ("request_json_mixed", Direction::Request, mixed.as_bytes(), false),
    ] {
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut out = Findings::new(64);
                detector.scan_body(direction, "application/json", black_box(body), limits, &mut out);
                out.items.len()
            })
        });
        if walk_alone {
            group.bench_function(format!("{name}_walk_only"), |b| b.iter(|| json_fields(black_box(body), limits)));
        }
    }
    group.finish();
}

/// Scan speed on the benchmark's varied pairs (`support/traffic.rs`): every request body of the
/// set as requests (both detectors), every response body as responses (sensitive data), per
/// iteration; throughput is the bodies' bytes.
fn varied(c: &mut Criterion) {
    let detector = Detector::default();
    let limits = WalkLimits::default();
    let mut group = c.benchmark_group("scan_varied");
    for (name, size) in [("1k", traffic::Size::Small), ("16k", traffic::Size::Large)] {
        let pairs = traffic::pairs(if size == traffic::Size::Small { 1000 } else { 200 }, size, 42);
        let requests: Vec<&[u8]> = pairs.iter().map(|p| p.request_body.as_bytes()).filter(|b| !b.is_empty()).collect();
        let responses: Vec<&[u8]> = pairs.iter().map(|p| p.response_body.as_bytes()).collect();
        for (kind, direction, bodies) in
            [("requests", Direction::Request, &requests), ("responses", Direction::Response, &responses)]
        {
            group.throughput(Throughput::Bytes(bodies.iter().map(|b| b.len() as u64).sum()));
            group.bench_function(format!("{kind}_{name}"), |b| {
                b.iter(|| {
                    let mut found = 0;
                    for body in bodies.iter() {
                        let mut out = Findings::new(64);
                        detector.scan_body(direction, "application/json", black_box(body), limits, &mut out);
                        found += out.items.len();
                    }
                    found
                })
            });
        }
    }
    group.finish();
}

criterion_group!(core_benches, benches, detection, varied);
criterion_main!(core_benches);
