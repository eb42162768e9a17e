//! Discovery at scale: `REQUESTS` requests over `TEMPLATES` endpoint templates (ids of several
//! shapes, word-like names from an open set, literal siblings), each templated per request and
//! fed to `core::discovery`, then every request resolved. Prints paths per second for both
//! phases, the distinct per-request templates and the peak resident memory (VmHWM), which is
//! what bounds the inventory: the tree holds the distinct per-request templates, not requests.
//!
//! `cargo run --release -p meshward-core --example discovery_load [requests] [templates]`

use meshward_core::{template_path, Discovery};
use std::time::Instant;

#[path = "../benches/support/traffic.rs"]
#[allow(dead_code)]
mod traffic;

use traffic::Rng;

const RESOURCES: &[&str] = &[
    "users", "orders", "items", "carts", "invoices", "accounts", "projects", "repos", "teams", "files", "jobs",
    "events", "tickets", "notes", "tags", "groups", "members", "keys", "hooks", "runs",
];
const WORDS: &[&str] = &["north", "blue", "acme", "delta", "lima", "nova", "oak", "pine", "ruby", "zen"];

/// A template: `/api/v1/<resource>/{param}/<resource>...`, its parameter kinds chosen per position.
fn templates(n: usize, rng: &mut Rng) -> Vec<Vec<(bool, u64)>> {
    (0..n)
        .map(|_| {
            let depth = 2 + rng.below(4);
            (0..depth).map(|i| (i % 2 == 1, rng.below(RESOURCES.len() * 50) as u64)).collect()
        })
        .collect()
}

fn path(template: &[(bool, u64)], rng: &mut Rng, out: &mut String) {
    out.clear();
    out.push_str("/api/v1");
    for &(param, literal) in template {
        out.push('/');
        if param {
            match rng.below(3) {
                0 => out.push_str(&rng.below(10_000_000).to_string()),
                1 => out.push_str(&format!("{:016x}", rng.next_u64())),
                _ => out.push_str(&format!("{}-{}", WORDS[rng.below(10)], rng.below(100_000))),
            }
        } else {
            let resource = RESOURCES[(literal % RESOURCES.len() as u64) as usize];
            out.push_str(&format!("{resource}{}", literal / RESOURCES.len() as u64));
        }
    }
}

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let requests: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000_000);
    let count: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5_000);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let templates = templates(count, &mut rng);
    let mut discovery = Discovery::default();
    let mut distinct = std::collections::HashSet::new();
    let mut raw = String::new();
    let started = Instant::now();
    for i in 0..requests {
        path(&templates[i % count], &mut rng, &mut raw);
        let templated = template_path(&raw);
        // the inventory feeds each distinct per-request template once, with its callers
        if distinct.insert(templated.clone()) {
            discovery.observe(&templated);
        }
    }
    let observed = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let mut resolved_bytes = 0usize;
    for templated in &distinct {
        resolved_bytes += discovery.resolve(templated).len();
    }
    let resolved = started.elapsed().as_secs_f64();
    println!(
        "{requests} requests over {count} templates: {} distinct per-request templates; templating and grouping \
         {:.2} M paths/s; resolving the distinct templates {:.2} M/s ({resolved_bytes} bytes out); peak RSS {:.0} MiB",
        distinct.len(),
        requests as f64 / observed / 1e6,
        distinct.len() as f64 / resolved.max(1e-9) / 1e6,
        peak_rss_mib()
    );
}
