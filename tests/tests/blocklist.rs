//! Block lists end to end: rules made with `meshward block` reach a real Envoy (two workers)
//! through the collector's API, block there with a local 403, and stop blocking when deleted or
//! expired; the last list holds while the collector is down; rate limits and policies block
//! automatically, with their cause.

use anyhow::{Context, Result};
use meshward_e2e::process::wait_for;
use meshward_e2e::stack::{Stack, StackOptions};
use std::time::Duration;

const PROPAGATION: Duration = Duration::from_secs(15);
/// How often the filter's VMs look for a list another VM fetched.
const ADOPT_INTERVAL_MS: u64 = 250;

fn block_cli(stack: &Stack, args: &[&str]) -> Result<String> {
    stack.meshward(&[&["block"], args].concat(), meshward_e2e::API_ADMIN_TOKEN)
}

/// The id `meshward block add` printed (`added <id> · ...`).
fn added_id(output: &str) -> Result<String> {
    output
        .lines()
        .find_map(|l| l.strip_prefix("added "))
        .and_then(|rest| rest.split_whitespace().next())
        .map(str::to_owned)
        .context("no rule id in the output of `block add`")
}

/// One request on a connection of its own, so successive requests land on either worker.
async fn status(stack: &Stack, path: &str, headers: &[(&str, &str)]) -> Result<(u16, String)> {
    let client = reqwest::Client::builder().pool_max_idle_per_host(0).timeout(Duration::from_secs(5)).build()?;
    let mut request = client.get(format!("{}{path}", stack.envoy.url()));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await?;
    let code = response.status().as_u16();
    Ok((code, response.text().await.unwrap_or_default()))
}

/// Waits until a request gets `want`, then until every worker has the list: the VM that
/// fetched it applies it at once, the others on their next tick (250 ms).
async fn wait_status(stack: &Stack, path: &str, headers: &[(&str, &str)], want: u16) -> Result<()> {
    wait_for(&format!("{path} {headers:?} to answer {want}"), PROPAGATION, || async {
        status(stack, path, headers).await.ok().filter(|(code, _)| *code == want).map(|_| ())
    })
    .await?;
    tokio::time::sleep(Duration::from_millis(2 * ADOPT_INTERVAL_MS)).await;
    Ok(())
}

fn options(name: &str) -> StackOptions {
    let mut options = StackOptions::new(name);
    options.envoy_concurrency = 2;
    // a gateway in front appends the client address to x-forwarded-for
    options.filter_config["trusted_proxies"] = 1.into();
    options
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_block_on_every_worker_until_deleted_or_expired() -> Result<()> {
    let mut stack = Stack::start(options("blocklist")).await?;
    let bot = [("x-client", "bad-bot")];
    assert_eq!(status(&stack, "/api/products", &bot).await?.0, 200);

    let added = block_cli(&stack, &["add", "--header", "x-client=bad-bot", "--reason", "scraper"])?;
    let rule = added_id(&added)?;
    wait_status(&stack, "/api/products", &bot, 403).await?;
    for i in 0..40 {
        let request_id = format!("blocked-{i}");
        let (code, body) =
            status(&stack, "/api/products", &[("x-client", "bad-bot"), ("x-request-id", &request_id)]).await?;
        assert_eq!(code, 403, "request {i} passed a rule every worker holds");
        let body: serde_json::Value = serde_json::from_str(&body)?;
        assert_eq!(body["rule_id"], rule.as_str());
        assert_eq!(body["request_id"], request_id.as_str());
        let (code, _) = status(&stack, "/api/products", &[("x-client", "good")]).await?;
        assert_eq!(code, 200, "a request the rule does not match was blocked");
    }
    // both workers served (and so blocked) some of those connections
    let listener = format!("listener.127.0.0.1_{}", stack.envoy.listen_port);
    for worker in ["worker_0", "worker_1"] {
        let served = stack.envoy.stat(&format!("{listener}.{worker}.downstream_cx_total")).await?;
        assert!(served > 0, "{worker} served no connection");
    }
    // counters reach Envoy on the filter's next tick
    let per_rule = format!("wasmcustom.meshward.blocks.rule.{rule}");
    wait_for("per-rule block counters", Duration::from_secs(5), || async {
        let blocked = stack.envoy.stat("wasmcustom.meshward.requests_blocked").await.ok()?;
        let by_rule = stack.envoy.stat(&per_rule).await.ok()?;
        (blocked >= 40 && by_rule >= 40).then_some(())
    })
    .await?;

    // the listing shows who made it and why
    let listing = block_cli(&stack, &["list"])?;
    assert!(listing.contains(&rule) && listing.contains("scraper") && listing.contains("header x-client=bad-bot"));

    // a dry-run rule lets requests through and marks their events
    let dry = added_id(&block_cli(&stack, &["add", "--dry-run", "--source", "198.51.100.0/24"])?)?;
    let proxied = [("x-forwarded-for", "198.51.100.9"), ("x-request-id", "dry-run-probe")];
    wait_for("the dry-run rule to mark an event", PROPAGATION, || async {
        let sent = status(&stack, "/api/products", &proxied).await.ok()?;
        assert_eq!(sent.0, 200, "a dry-run rule blocked");
        tokio::time::sleep(Duration::from_millis(700)).await;
        let sql = format!(
            "SELECT count() FROM {}.events WHERE request_id = 'dry-run-probe' AND verdict = 2 AND block_rule_id = '{dry}'",
            stack.db()
        );
        stack.clickhouse.count(&sql).await.ok().filter(|n| *n > 0)
    })
    .await?;
    // blocked requests are events too, with their verdict, rule and client address
    let sql = format!(
        "SELECT count() FROM {}.events WHERE verdict = 1 AND block_rule_id = '{rule}' AND status = 403 \
         AND request_id LIKE 'blocked-%'",
        stack.db()
    );
    wait_for("blocked requests in ClickHouse", Duration::from_secs(30), || async {
        stack.clickhouse.count(&sql).await.ok().filter(|n| *n == 40)
    })
    .await?;
    // the blocks view lists each of them with its rule's reason; the audit log has a JSON line
    // for each, written once its event was stored
    let sql = format!(
        "SELECT count() FROM {}.blocks WHERE action = 'block' AND rule_id = '{rule}' AND reason = 'scraper' \
         AND request_id LIKE 'blocked-%' AND client = '127.0.0.1' AND endpoint = '/api/products'",
        stack.db()
    );
    assert_eq!(stack.clickhouse.count(&sql).await?, 40, "{sql}");
    let sql = format!("SELECT count() FROM {}.blocks WHERE action = 'dry_run' AND rule_id = '{dry}'", stack.db());
    assert!(stack.clickhouse.count(&sql).await? > 0, "{sql}");
    let log = stack.collector.log_path().context("no collector log")?;
    let audited = |action: &'static str, rule: String| {
        let log = log.clone();
        move || {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            text.lines()
                .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                .filter(|l| l["target"] == "meshward::audit" && l["action"] == action && l["rule_id"] == rule.as_str())
                .collect::<Vec<_>>()
        }
    };
    let blocks = audited("block", rule.clone());
    wait_for("40 audit lines of the blocks", Duration::from_secs(10), || async {
        // the wait for the rule to take hold blocked one more, without a request id of ours
        let ours =
            blocks().iter().filter(|l| l["request_id"].as_str().is_some_and(|r| r.starts_with("blocked-"))).count();
        (ours == 40).then_some(())
    })
    .await?;
    let line = blocks().into_iter().find(|l| l["request_id"] == "blocked-7").context("no audit line of blocked-7")?;
    assert_eq!(line["message"], "enforcement");
    assert_eq!(line["reason"], "scraper");
    assert_eq!(line["client"], "127.0.0.1");
    assert_eq!(line["status"], 403);
    assert_eq!(line["endpoint"], "/api/products");
    assert_eq!(line["event_id"].as_str().map(str::len), Some(32));
    assert!(!audited("dry_run", dry.clone())().is_empty(), "no audit line of the dry-run match");
    let sql = format!("SELECT count() FROM {}.events WHERE client_ip = '198.51.100.9'", stack.db());
    assert!(stack.clickhouse.count(&sql).await? > 0, "the trusted forwarded-for hop is the client address");

    // a read token may list rules, not change them; an admin token updates one in place
    let rules_url = format!("http://127.0.0.1:{}/api/v1/block-rules", stack.collector.api_port);
    let changed =
        serde_json::json!({"match": {"header": {"name": "x-client", "equals": "worse-bot"}}, "reason": "renamed"});
    let refused = stack
        .client
        .put(format!("{rules_url}/{rule}"))
        .bearer_auth(meshward_e2e::API_READ_TOKEN)
        .json(&changed)
        .send()
        .await?;
    assert_eq!(refused.status().as_u16(), 403);
    let updated = stack
        .client
        .put(format!("{rules_url}/{rule}"))
        .bearer_auth(meshward_e2e::API_ADMIN_TOKEN)
        .json(&changed)
        .send()
        .await?;
    assert_eq!(updated.status().as_u16(), 200);
    let updated: serde_json::Value = updated.json().await?;
    assert_eq!(updated["id"], rule.as_str());
    let worse = [("x-client", "worse-bot")];
    wait_status(&stack, "/api/products", &worse, 403).await?;
    wait_status(&stack, "/api/products", &bot, 200).await?;
    let history = format!("SELECT count() FROM {}.block_rules WHERE id = '{rule}'", stack.db());
    assert_eq!(stack.clickhouse.count(&history).await?, 2, "an update is a new version, the old one stays");

    // deleting the rule lets the bot through again
    block_cli(&stack, &["rm", &rule])?;
    wait_status(&stack, "/api/products", &worse, 200).await?;

    // a rule with an expiry stops blocking by itself
    let short = [("x-client", "short-lived")];
    block_cli(&stack, &["add", "--header", "x-client=short-lived", "--expires-in", "4s"])?;
    wait_status(&stack, "/api/products", &short, 403).await?;
    wait_status(&stack, "/api/products", &short, 200).await?;
    let listing = block_cli(&stack, &["list"])?;
    assert!(listing.contains("expired"), "{listing}");

    // with the collector down the last list stays in force, and failed fetches are counted
    let evil = [("x-client", "evil")];
    block_cli(&stack, &["add", "--header", "x-client=evil", "--method", "GET", "--template", "/api/users/{id}"])?;
    wait_status(&stack, "/api/users/7", &evil, 403).await?;
    assert_eq!(status(&stack, "/api/products", &evil).await?.0, 200, "the template limits the rule");
    stack.collector.stop();
    wait_for("failed block-list fetches", PROPAGATION, || async {
        stack.envoy.stat("wasmcustom.meshward.blocklist_fetch_failures").await.ok().filter(|n| *n >= 2)
    })
    .await?;
    for _ in 0..20 {
        assert_eq!(status(&stack, "/api/users/8", &evil).await?.0, 403, "the last list was dropped");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_and_policies_block_automatically_with_their_cause() -> Result<()> {
    let mut options = options("autoblock");
    options.collector_extra_config = "blocklist:\n  evaluate_interval_s: 1\n  policies:\n  - name: attackers\n    \
        signal: attacks\n    threshold: 3\n    window_s: 300\n    key: source\n    block_for_s: 600\n"
        .to_owned();
    let stack = Stack::start(options).await?;

    // more than 5 requests to /api/orders/... within a minute from one client: blocked there
    let limited = block_cli(
        &stack,
        &["add", "--path-prefix", "/api/orders", "--rate-limit", "5/1m", "--block-for", "10m", "--reason", "slow down"],
    )?;
    let parent = added_id(&limited)?;
    let greedy = [("x-forwarded-for", "192.0.2.10")];
    wait_for("the rate-limited rule to mark requests", PROPAGATION, || async {
        status(&stack, "/api/orders/1", &greedy).await.ok()?;
        let sql = format!("SELECT count() FROM {}.events WHERE has(rate_limited_rules, '{parent}')", stack.db());
        stack.clickhouse.count(&sql).await.ok().filter(|n| *n > 0)
    })
    .await?;
    for i in 0..8 {
        // the app answers 401 (no token): what counts is that the filter let it through
        assert_ne!(status(&stack, &format!("/api/orders/{i}"), &greedy).await?.0, 403, "blocked before the limit");
    }
    wait_status(&stack, "/api/orders/99", &greedy, 403).await?;
    assert_eq!(status(&stack, "/api/products", &greedy).await?.0, 200, "only the limited endpoints are blocked");
    assert_ne!(status(&stack, "/api/orders/1", &[("x-forwarded-for", "192.0.2.11")]).await?.0, 403);

    // three SQL injections from one client: that client is blocked everywhere
    let attacker = [("x-forwarded-for", "203.0.113.50")];
    for _ in 0..3 {
        let path = "/api/products?q=1%27%20UNION%20SELECT%20password%20FROM%20users--";
        assert_eq!(status(&stack, path, &attacker).await?.0, 200);
    }
    wait_status(&stack, "/healthz", &attacker, 403).await?;
    assert_eq!(status(&stack, "/healthz", &[("x-forwarded-for", "203.0.113.51")]).await?.0, 200);

    // each automatic block says what caused it
    let api = format!("http://127.0.0.1:{}/api/v1/block-rules", stack.collector.api_port);
    let listing: serde_json::Value =
        stack.client.get(api).bearer_auth(meshward_e2e::API_READ_TOKEN).send().await?.json().await?;
    let rules = listing["rules"].as_array().cloned().unwrap_or_default();
    let by = |prefix: &str| rules.iter().find(|r| r["created_by"].as_str().is_some_and(|c| c.starts_with(prefix)));
    let rate = by("rate_limit:").context("no rule made by the rate limit")?;
    assert_eq!(rate["created_by"], format!("rate_limit:{parent}"));
    assert_eq!(rate["match"]["sources"][0], "192.0.2.10");
    assert_eq!(rate["match"]["path_prefix"], "/api/orders");
    assert!(rate["reason"].as_str().unwrap_or("").contains("limit 5"), "{rate}");
    let policy = by("policy:attackers").context("no rule made by the policy")?;
    assert_eq!(policy["match"]["sources"][0], "203.0.113.50");
    let reason = policy["reason"].as_str().unwrap_or("");
    assert!(reason.contains("3 requests with attack findings") && reason.contains("sqli"), "{reason}");
    assert!(policy["expires_at_ms"].as_u64().is_some());
    Ok(())
}

/// A client that reaches the sidecar directly (not through the trusted proxy, the harness's
/// 127.0.0.1) and writes an innocent address into `x-forwarded-for` is attributed to its own
/// address: the forged header moves neither the stored client address nor a per-source
/// automatic block onto the innocent address.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_forwarded_for_neither_moves_attribution_nor_blocks_an_innocent_address() -> Result<()> {
    let stack = Stack::start(options("forged-xff")).await?;
    let limited = block_cli(
        &stack,
        &["add", "--path-prefix", "/api/orders", "--rate-limit", "5/1m", "--block-for", "10m", "--reason", "slow down"],
    )?;
    let parent = added_id(&limited)?;
    let innocent = "192.0.2.77";
    let forger = reqwest::Client::builder()
        .local_address(Some("127.0.0.2".parse()?))
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(5))
        .build()?;
    let forged = |i: usize| {
        forger.get(format!("{}/api/orders/{i}", stack.envoy.url())).header("x-forwarded-for", innocent).send()
    };
    wait_for("the rate-limited rule to mark the forger's requests", PROPAGATION, || async {
        forged(0).await.ok()?;
        let sql = format!("SELECT count() FROM {}.events WHERE has(rate_limited_rules, '{parent}')", stack.db());
        stack.clickhouse.count(&sql).await.ok().filter(|n| *n > 0)
    })
    .await?;
    for i in 0..12 {
        forged(i).await?;
    }
    // the block lands on the forger's own address
    wait_for("the forger to be blocked", PROPAGATION, || async {
        (forged(99).await.ok()?.status().as_u16() == 403).then_some(())
    })
    .await?;
    tokio::time::sleep(Duration::from_millis(2 * ADOPT_INTERVAL_MS)).await;
    let (code, body) = status(&stack, "/api/orders/1", &[("x-forwarded-for", innocent)]).await?;
    let rules_url = format!("http://127.0.0.1:{}/api/v1/block-rules", stack.collector.api_port);
    let rules = stack.client.get(&rules_url).bearer_auth(meshward_e2e::API_READ_TOKEN).send().await?.text().await?;
    assert_ne!(code, 403, "the innocent is not blocked: {body}\nrules: {rules}");

    let db = stack.db();
    let by_client = stack
        .clickhouse
        .query(&format!(
            "SELECT client_ip, count() FROM {db}.events WHERE path LIKE '/api/orders/%' GROUP BY client_ip ORDER BY client_ip FORMAT TSV"
        ))
        .await?;
    let clients: Vec<&str> = by_client.lines().filter_map(|l| l.split('\t').next()).collect();
    assert!(clients.contains(&"127.0.0.2"), "the forger is attributed to its own address: {by_client}");
    let api = format!("http://127.0.0.1:{}/api/v1/block-rules", stack.collector.api_port);
    let listing: serde_json::Value =
        stack.client.get(api).bearer_auth(meshward_e2e::API_READ_TOKEN).send().await?.json().await?;
    let sources: Vec<String> = listing["rules"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["match"]["sources"][0].as_str().map(str::to_owned))
        .collect();
    assert_eq!(sources, ["127.0.0.2"], "one automatic block, on the forger: {listing}");
    Ok(())
}
