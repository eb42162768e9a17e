//! Detectors and alerts end to end: a credential-stuffing run and an attack burst through a real
//! Envoy raise alerts with their evidence, a webhook receives them, `meshward alerts` lists,
//! acknowledges and resolves them, and `meshward detect` finds the same over past events.

use anyhow::{Context, Result};
use meshward_e2e::process::wait_for;
use meshward_e2e::stack::{Stack, StackOptions};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(60);

fn meshward(stack: &Stack, args: &[&str]) -> Result<String> {
    stack.meshward(args, meshward_e2e::API_ADMIN_TOKEN)
}

/// A webhook receiver: what a team's alert endpoint gets.
async fn receiver() -> Result<(u16, Arc<Mutex<Vec<serde_json::Value>>>)> {
    let received = Arc::new(Mutex::new(Vec::new()));
    let store = received.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |axum::Json(body): axum::Json<serde_json::Value>| {
            let store = store.clone();
            async move {
                if let Ok(mut all) = store.lock() {
                    all.push(body);
                }
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((port, received))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stuffing_and_attack_bursts_raise_alerts_with_evidence() -> Result<()> {
    let (hook_port, received) = receiver().await?;
    let mut options = StackOptions::new("alerts");
    options.collector_extra_config = format!(
        "detect:\n  interval_s: 1\n  window_s: 120\n  stuffing_min_failures: 10\n  attack_burst_min: 3\n  \
         webhooks: [{{url: 'http://127.0.0.1:{hook_port}/hook'}}]\nblocklist:\n  evaluate_interval_s: 1\n  policies:\n  - \
         {{name: stuffers, signal: credential_stuffing_alerts, threshold: 1, window_s: 600, key: source, block_for_s: 900}}\n"
    );
    let stack = Stack::start(options).await?;
    let url = stack.envoy.url();
    // a client behind the gateway tries 15 passwords, another sends SQL injections
    for i in 0..15 {
        let status = stack
            .client
            .post(format!("{url}/api/login"))
            .header("x-forwarded-for", "198.51.100.20")
            .json(&serde_json::json!({"username": "alice", "password": format!("guess-{i}")}))
            .send()
            .await?
            .status();
        assert_eq!(status.as_u16(), 401);
    }
    for _ in 0..4 {
        stack
            .client
            .get(format!("{url}/api/products?category=1%27%20UNION%20SELECT%20password%20FROM%20users--"))
            .header("x-forwarded-for", "203.0.113.77")
            .send()
            .await?;
    }
    // normal traffic from everyone else raises nothing
    stack.send_expecting(60, "alerts", 4).await?;

    let alerts = wait_for("both alerts", WAIT, || async {
        let listed = meshward(&stack, &["alerts", "list", "--json"]).ok()?;
        let alerts: Vec<serde_json::Value> = listed.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
        let kinds: Vec<&str> = alerts.iter().filter_map(|a| a["kind"].as_str()).collect();
        (kinds.contains(&"credential_stuffing") && kinds.contains(&"attack_burst")).then_some(alerts)
    })
    .await?;
    let stuffing = alerts.iter().find(|a| a["kind"] == "credential_stuffing").context("no stuffing alert")?;
    assert_eq!(stuffing["subject"], "198.51.100.20");
    assert_eq!(stuffing["endpoint"], "POST /api/login");
    assert_eq!(stuffing["evidence"]["failed_logins"], 15.0);
    assert_eq!(stuffing["evidence"]["sample_request_ids"].as_array().map(Vec::len), Some(5));
    let burst = alerts.iter().find(|a| a["kind"] == "attack_burst").context("no burst alert")?;
    assert_eq!(burst["subject"], "203.0.113.77");
    assert!(burst["evidence"]["details"].as_array().is_some_and(|d| d.iter().any(|c| c == "sqli")), "{burst}");
    // one alert per subject while it lasts, however many rounds saw it
    assert_eq!(alerts.iter().filter(|a| a["kind"] == "credential_stuffing").count(), 1);
    assert!(!alerts.iter().any(|a| a["kind"] == "enumeration" || a["kind"] == "error_spike"), "{alerts:?}");

    // the webhook got them
    wait_for("the webhook deliveries", WAIT, || async {
        let got = received.lock().ok()?.clone();
        got.iter().any(|b| b["alert"]["kind"] == "credential_stuffing").then_some(())
    })
    .await?;

    // the policy that follows credential-stuffing alerts blocks that client everywhere
    wait_for("the stuffer to be blocked", WAIT, || async {
        let status = stack
            .client
            .get(format!("{url}/api/products"))
            .header("x-forwarded-for", "198.51.100.20")
            .send()
            .await
            .ok()?
            .status();
        (status.as_u16() == 403).then_some(())
    })
    .await?;
    let rules = meshward(&stack, &["block", "list", "--json"])?;
    assert!(rules.contains("policy:stuffers") && rules.contains(stuffing["id"].as_str().unwrap_or("?")), "{rules}");

    // acknowledged, then resolved
    let id = stuffing["id"].as_str().unwrap_or_default().to_owned();
    meshward(&stack, &["alerts", "ack", &id])?;
    let shown = meshward(&stack, &["alerts", "show", &id])?;
    assert!(shown.contains("credential stuffing") && shown.contains("failed_logins"), "{shown}");
    meshward(&stack, &["alerts", "resolve", &id])?;
    let resolved = meshward(&stack, &["alerts", "list", "--state", "resolved", "--json"])?;
    assert!(resolved.contains(&id), "{resolved}");

    // the same rules over the past: what would have fired
    let config = stack.collector.dir.join("meshward.yaml");
    let backtest =
        meshward(&stack, &["detect", "--config", &config.to_string_lossy(), "--from", "10m", "--step", "30s"])?;
    assert!(backtest.contains("credential_stuffing") && backtest.contains("198.51.100.20"), "{backtest}");
    assert!(backtest.contains("attack_burst") && backtest.contains("203.0.113.77"), "{backtest}");
    Ok(())
}
