//! Per-request cost of the core functions the filter calls on every exchange.
use criterion::{criterion_group, criterion_main, Criterion};
use meshward_core::{body::WalkLimits, identity::caller_identity, json_fields, template_path, IdentityKey};
use std::hint::black_box;

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

criterion_group!(core_benches, benches);
criterion_main!(core_benches);
