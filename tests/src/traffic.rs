//! Realistic traffic for the sample API, with what each request should become in ClickHouse.

use futures::stream::{self, StreamExt};
use serde_json::{json, Value};

/// One request to send, and the row it must produce.
#[derive(Debug, Clone)]
pub struct Planned {
    pub request_id: String,
    pub method: &'static str,
    pub path: String,
    pub body: Option<Value>,
    pub bearer: Option<String>,
    pub api_key: Option<String>,
    pub template: &'static str,
    pub status: u16,
    /// Request body field paths the row must list.
    pub request_fields: &'static [&'static str],
}

/// What came back.
#[derive(Debug, Clone)]
pub struct Sent {
    pub planned: Planned,
    pub status: u16,
}

/// The secret the traffic uses as bearer token; it must never reach ClickHouse.
pub const SECRET_TOKEN: &str = "sk_live_4eC39HqLyjWDarjtT1zdp7dc";
/// The secret API key; same rule.
pub const SECRET_API_KEY: &str = "ak_9f8e7d6c5b4a39281706f5e4d3c2b1a0";

/// A deterministic mix of `n` requests; `tag` makes request ids unique per run.
pub fn plan(n: usize, tag: &str) -> Vec<Planned> {
    (0..n)
        .map(|i| {
            let request_id = format!("{tag}-{i:06}");
            let user = (i * 7 % 300) as u64 + 1;
            // one token per user among 20, so callers differ
            let bearer = Some(format!("{SECRET_TOKEN}{:02}", (i / 10) % 20));
            let base = Planned {
                request_id,
                method: "GET",
                path: String::new(),
                body: None,
                bearer: None,
                api_key: None,
                template: "",
                status: 200,
                request_fields: &[],
            };
            match i % 10 {
                0 => Planned {
                    method: "POST",
                    path: "/api/login".into(),
                    body: Some(json!({"username": format!("user{user}"), "password": if i % 20 == 0 { "wrong" } else { crate::sample_api::PASSWORD }})),
                    template: "/api/login",
                    status: if i % 20 == 0 { 401 } else { 200 },
                    request_fields: &["$.username", "$.password"],
                    ..base
                },
                1 | 2 => Planned { path: format!("/api/users/{user}"), bearer, template: "/api/users/{user_id}", ..base },
                3 => Planned { path: format!("/api/users/{user}/orders"), bearer, template: "/api/users/{user_id}/orders", ..base },
                4 => Planned {
                    method: "POST",
                    path: "/api/orders".into(),
                    body: Some(json!({"items": [{"sku": "SKU-000123", "qty": 1 + i % 3}], "shipping": {"city": "Springfield", "zip": "12345"}, "note": "leave at door"})),
                    api_key: Some(SECRET_API_KEY.to_owned()),
                    template: "/api/orders",
                    status: 201,
                    request_fields: &["$.items", "$.items[*]", "$.items[*].sku", "$.items[*].qty", "$.shipping.city"],
                    ..base
                },
                5 => Planned { path: format!("/api/orders/3fa85f64-5717-4562-b3fc-{i:012}"), bearer, template: "/api/orders/{order_id}", ..base },
                6 => Planned { path: format!("/api/products?category=tools&page={}", i % 5 + 1), template: "/api/products", ..base },
                7 => Planned { path: format!("/api/products/SKU-{:06}", i % 97), template: "/api/products/{product_id}", ..base },
                8 => Planned { path: "/api/users/me".into(), bearer, template: "/api/users/me", ..base },
                _ => Planned { path: format!("/api/users/{user}"), template: "/api/users/{user_id}", status: 401, ..base },
            }
        })
        .collect()
}

/// Sends the plan through `base_url` with `concurrency` requests in flight.
pub async fn send(client: &reqwest::Client, base_url: &str, plan: Vec<Planned>, concurrency: usize) -> Vec<Sent> {
    stream::iter(plan).map(|planned| send_one(client, base_url, planned)).buffer_unordered(concurrency).collect().await
}

/// Sends the plan at a steady `per_second` (request `i` leaves at `i / per_second` seconds, or
/// as soon as one of the `concurrency` slots frees up after that), until `stop` is set; returns
/// what was sent.
pub async fn send_paced(
    client: &reqwest::Client,
    base_url: &str,
    plan: Vec<Planned>,
    per_second: u32,
    concurrency: usize,
    stop: &std::sync::atomic::AtomicBool,
) -> Vec<Sent> {
    let start = tokio::time::Instant::now();
    let gap = std::time::Duration::from_secs(1) / per_second.max(1);
    // the requests in flight (at most `concurrency`) wait for their slot and then go, so the
    // last of them leave within `concurrency / per_second` after the stop
    stream::iter(plan.into_iter().enumerate())
        .take_while(|_| std::future::ready(!stop.load(std::sync::atomic::Ordering::Relaxed)))
        .map(|(i, planned)| async move {
            tokio::time::sleep_until(start + gap * i as u32).await;
            send_one(client, base_url, planned).await
        })
        .buffer_unordered(concurrency)
        .collect()
        .await
}

async fn send_one(client: &reqwest::Client, base_url: &str, planned: Planned) -> Sent {
    let url = format!("{base_url}{}", planned.path);
    let mut request = match planned.method {
        "POST" => client.post(&url),
        "DELETE" => client.delete(&url),
        _ => client.get(&url),
    };
    request = request.header("x-request-id", &planned.request_id).header("user-agent", "meshward-traffic/1.0");
    if let Some(token) = &planned.bearer {
        request = request.bearer_auth(token);
    }
    if let Some(key) = &planned.api_key {
        request = request.header("x-api-key", key);
    }
    if let Some(body) = &planned.body {
        request = request.json(body);
    }
    let status = match request.send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            let _ = response.bytes().await;
            status
        }
        Err(_) => 0,
    };
    Sent { planned, status }
}
