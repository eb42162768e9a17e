//! Block-list helpers for the benchmark: a large synthetic list, loading it through the
//! collector's API, and timing how long a new rule takes to block at Envoy.

use anyhow::{bail, Context, Result};
use std::time::{Duration, Instant};

/// `n` rules of the kinds a real list holds, none matching loopback traffic: single IPv4
/// addresses, IPv4 CIDRs of several prefix lengths, IPv6 prefixes, caller identities, and
/// principal, host and header rules.
pub fn synthetic_rules(n: usize) -> Vec<serde_json::Value> {
    let mut rng = crate::rng::Rng::new(0x9e37_79b9_7f4a_7c15);
    let mut next = move || rng.next_u64();
    (0..n)
        .map(|i| {
            let r = next();
            let [a, b, c, d, ..] = r.to_le_bytes();
            let conditions = match i % 20 {
                0..=7 => serde_json::json!({"sources": [format!("100.{a}.{b}.{c}")]}),
                8..=11 => {
                    let len = [16, 20, 24, 28][usize::from(d % 4)];
                    serde_json::json!({"sources": [format!("11.{a}.{b}.{c}/{len}")]})
                }
                12 | 13 => serde_json::json!({"sources": [format!("2001:db8:{:x}::/48", r & 0xffff)]}),
                14..=17 => serde_json::json!({"identities": [format!("{r:016x}{:016x}", next())]}),
                18 => serde_json::json!({
                    "principals": [format!("spiffe://cluster.local/ns/n{a}/sa/s{b}")],
                    "path_prefix": "/admin"
                }),
                _ => serde_json::json!({"host": format!("api-{i}.example.com"), "method": "DELETE"}),
            };
            serde_json::json!({"id": format!("bench-{i:05}"), "match": conditions, "reason": "benchmark list"})
        })
        .collect()
}

/// Creates rules through the admin API in one request.
pub async fn load_rules(http: &reqwest::Client, api_url: &str, rules: &[serde_json::Value]) -> Result<()> {
    let response = http
        .post(format!("{api_url}/api/v1/block-rules"))
        .bearer_auth(crate::API_ADMIN_TOKEN)
        .json(rules)
        .send()
        .await
        .context("loading block rules")?;
    if !response.status().is_success() {
        bail!("loading block rules: {} {}", response.status(), response.text().await.unwrap_or_default());
    }
    Ok(())
}

/// Times from the API call that creates a rule to the first request Envoy blocks because of
/// it, `tries` times (each rule deleted before the next); milliseconds, sorted.
pub async fn propagation_ms(http: &reqwest::Client, api_url: &str, envoy_url: &str, tries: usize) -> Result<Vec<f64>> {
    let probe = reqwest::Client::builder().timeout(Duration::from_secs(2)).build()?;
    let mut times = Vec::with_capacity(tries);
    for i in 0..tries {
        let value = format!("probe-{i}-{}", std::process::id());
        let rule = serde_json::json!({"match": {"header": {"name": "x-probe", "equals": value}}});
        let started = Instant::now();
        let response = http
            .post(format!("{api_url}/api/v1/block-rules"))
            .bearer_auth(crate::API_ADMIN_TOKEN)
            .json(&rule)
            .send()
            .await?;
        let created: serde_json::Value = response.json().await?;
        let id = created["rules"][0]["id"].as_str().context("no id for the created rule")?.to_owned();
        loop {
            let status = probe.get(format!("{envoy_url}/healthz")).header("x-probe", &value).send().await?.status();
            if status.as_u16() == 403 {
                times.push(started.elapsed().as_secs_f64() * 1000.0);
                break;
            }
            if started.elapsed() > Duration::from_secs(30) {
                bail!("rule {id} did not block within 30 s");
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        http.delete(format!("{api_url}/api/v1/block-rules/{id}")).bearer_auth(crate::API_ADMIN_TOKEN).send().await?;
        // start the next try at a different point of the fetch interval
        tokio::time::sleep(Duration::from_millis(137 * (i as u64 % 7))).await;
    }
    times.sort_by(|a, b| a.total_cmp(b));
    Ok(times)
}
