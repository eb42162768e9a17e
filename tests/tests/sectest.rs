//! The security-test runner against a deliberately vulnerable API and its fixed twin: tests
//! generated from the API's OpenAPI spec flag every planted bug on the vulnerable twin and
//! nothing on the fixed one, with destructive and time-based probes allowed; each suite run
//! twice in a row gives the same outcomes; the JUnit and SARIF reports validate against their
//! schemas, SARIF locations relative to the repository; `generate` names the environment the
//! suite reads and `run` checks all of it first; a broken test file is reported with file, line
//! and the fix.

use anyhow::{Context, Result};
use meshward_e2e::vuln_api::{VulnApi, PASSWORD};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

fn meshward(args: &[&str], env: &BTreeMap<String, String>) -> Result<Output> {
    Ok(Command::new(meshward_e2e::collector::collector_binary()?).args(args).envs(env).output()?)
}

/// Credentials and object ids of the generated tests' conventions, for one running twin.
async fn environment(api: &VulnApi) -> Result<BTreeMap<String, String>> {
    let http = reqwest::Client::new();
    let mut env = BTreeMap::new();
    for (user, var) in [("alice", "A"), ("bob", "B"), ("admin", "ADMIN"), ("mallory", "OTHER_TENANT")] {
        let answer = http
            .post(format!("{}/api/login", api.url()))
            .json(&serde_json::json!({"username": user, "password": PASSWORD}))
            .send()
            .await?;
        let status = answer.status();
        let answer: serde_json::Value = answer.json().await.with_context(|| format!("login of {user}: {status}"))?;
        let token = answer["token"].as_str().with_context(|| format!("no token from the login of {user}: {answer}"))?;
        env.insert(format!("MESHWARD_TOKEN_{var}"), token.to_owned());
        env.insert(format!("MESHWARD_{var}_USERNAME"), user.to_owned());
        env.insert(format!("MESHWARD_{var}_PASSWORD"), PASSWORD.to_owned());
    }
    // alice owns order 1 and is user 2, bob order 2 and user 3, the admin order 3 and user 1;
    // products are public: any id will do
    for (owner, order, user) in [("A", 1, 2), ("B", 2, 3), ("ADMIN", 3, 1)] {
        env.insert(format!("MESHWARD_{owner}_ORDER_ID"), order.to_string());
        env.insert(format!("MESHWARD_{owner}_USER_ID"), user.to_string());
        env.insert(format!("MESHWARD_{owner}_PRODUCT_ID"), "1".to_owned());
    }
    Ok(env)
}

fn outcomes(results: &Path) -> Result<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(results).with_context(|| format!("reading {}", results.display()))?;
    let results: Vec<serde_json::Value> = serde_json::from_str(&text)?;
    Ok(results
        .iter()
        .map(|r| (r["id"].as_str().unwrap_or("").to_owned(), r["outcome"].as_str().unwrap_or("").to_owned()))
        .collect())
}

/// Planted bug -> the generated tests that must catch it.
const PLANTED: &[(&str, &[&str])] = &[
    (
        "BOLA on orders",
        &["bola-get-api-orders-order-id", "bola-admin-get-api-orders-order-id", "bola-tenant-get-api-orders-order-id"],
    ),
    ("BOLA on profiles", &["bola-get-api-users-user-id-profile", "bola-tenant-get-api-users-user-id-profile"]),
    ("another user's password changed", &["bola-put-api-users-user-id-password"]),
    ("missing authentication on profiles", &["auth-required-get-api-users-user-id-profile"]),
    ("BFLA on admin users", &["bfla-get-api-admin-users"]),
    ("BFLA on the reset behind a GET", &["bfla-get-api-maintenance-reset"]),
    ("unsigned JWT accepted", &["broken-auth-get-api-orders-order-id", "broken-auth-get-api-users-me"]),
    ("JWT signed with a common password", &["jwt-weak-secret"]),
    ("SQL injection in product search", &["sqli-get-api-products", "nosqli-get-api-products"]),
    ("mass assignment of role", &["mass-assignment-put-api-users-me", "mass-assignment-post-api-users"]),
    ("password hashes and emails exposed", &["data-exposure-get-api-debug-users", "data-exposure-get-api-admin-users"]),
    ("login messages tell known users", &["user-enumeration-post-api-login"]),
    ("no rate limit on logins", &["rate-limit-post-api-login"]),
    ("catastrophic backtracking in the coupon pattern", &["redos-get-api-coupons-check"]),
    ("verbose errors", &["verbose-errors-get-api-orders-order-id", "verbose-errors-put-api-users-me"]),
    ("no HSTS", &["hsts"]),
    ("no CSP", &["csp"]),
    ("no nosniff", &["nosniff"]),
    ("CORS reflects any origin", &["cors"]),
];

/// One `meshward test run` of the suite against a twin with all probes allowed; its summary and
/// the outcome of each test, with the reports under `dir` named after `name`.
fn run_suite(
    generated: &Path,
    api: &VulnApi,
    env: &BTreeMap<String, String>,
    dir: &Path,
    name: &str,
) -> Result<(String, BTreeMap<String, String>)> {
    let (junit, sarif, json) =
        (dir.join(format!("{name}.xml")), dir.join(format!("{name}.sarif")), dir.join(format!("{name}.json")));
    let run = meshward(
        &[
            "test",
            "run",
            &generated.to_string_lossy(),
            "--base-url",
            &api.url(),
            "--allow",
            "destructive,time-based",
            "--rate",
            "0",
            "--junit",
            &junit.to_string_lossy(),
            "--sarif",
            &sarif.to_string_lossy(),
            "--json",
            &json.to_string_lossy(),
        ],
        env,
    )?;
    let summary = format!("{}{}", String::from_utf8_lossy(&run.stdout), String::from_utf8_lossy(&run.stderr));
    assert_eq!(run.status.success(), api.fixed, "exit code of {name}:\n{summary}");
    Ok((summary, outcomes(&json)?))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_tests_flag_every_planted_bug_and_nothing_on_the_fixed_twin() -> Result<()> {
    let vulnerable = VulnApi::start(false).await?;
    let fixed = VulnApi::start(true).await?;
    let dir = meshward_e2e::process::fresh_dir("sectest")?;
    let spec = meshward_e2e::workspace_root().join("tests/fixtures/vuln-api.openapi.yaml");
    let generated = dir.join("generated");
    let out = meshward(
        &["test", "generate", "--from-openapi", &spec.to_string_lossy(), "--out", &generated.to_string_lossy()],
        &BTreeMap::new(),
    )?;
    let printed = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    println!("{printed}");
    let valid = meshward(&["test", "validate", &generated.to_string_lossy()], &BTreeMap::new())?;
    assert!(valid.status.success(), "generated tests do not validate: {}", String::from_utf8_lossy(&valid.stderr));
    // the spec's public operations get no BOLA test
    for public in ["bola-get-api-products-product-id", "bola-post-api-users", "bola-tenant-get-api-products-product-id"]
    {
        assert!(!generated.join(format!("{public}.yaml")).exists(), "{public} was generated");
    }

    // every variable `generate` named is one the conventions give, and `run` refuses to start
    // without one of them
    let env = environment(&fixed).await?;
    let named: Vec<&str> =
        printed.lines().filter_map(|l| l.split_whitespace().next()).filter(|w| w.starts_with("MESHWARD_")).collect();
    assert!(named.len() >= 10, "generate named {named:?}");
    for name in &named {
        assert!(env.contains_key(*name), "generate named {name}, which the conventions do not give");
    }
    let mut short = env.clone();
    short.remove("MESHWARD_B_PASSWORD");
    let refused = meshward(
        &["test", "run", &generated.to_string_lossy(), "--base-url", &fixed.url(), "--allow", "destructive"],
        &short,
    )?;
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success() && stderr.contains("MESHWARD_B_PASSWORD is not set"), "{stderr}");
    assert!(stderr.contains("nothing was run"), "{stderr}");

    let mut found = BTreeMap::new();
    for api in [&vulnerable, &fixed] {
        let twin = if api.fixed { "fixed" } else { "vulnerable" };
        // twice in a row, with fresh logins as a CI job would: the same outcomes
        let (summary, first) = run_suite(&generated, api, &environment(api).await?, &dir, twin)?;
        println!("--- {twin} ---\n{summary}");
        let (again, second) = run_suite(&generated, api, &environment(api).await?, &dir, &format!("{twin}-again"))?;
        let changed: Vec<String> = first
            .iter()
            .filter(|(id, o)| second.get(*id) != Some(*o))
            .map(|(id, o)| format!("{id}: {o} then {}", second.get(id).map_or("missing", String::as_str)))
            .collect();
        assert!(changed.is_empty(), "the {twin} twin's second run differs: {changed:?}\n{again}");
        if api.fixed {
            let flagged_on_fixed: Vec<String> = first
                .iter()
                .filter(|(_, o)| *o != "passed" && *o != "skipped")
                .map(|(id, o)| format!("{id} ({o})"))
                .collect();
            assert!(flagged_on_fixed.is_empty(), "false alarms on the fixed twin: {flagged_on_fixed:?}\n{summary}");
            assert!(first.values().all(|o| o == "passed"), "with everything allowed nothing is skipped:\n{summary}");
        } else {
            for (bug, tests) in PLANTED {
                for test in *tests {
                    let outcome = first.get(*test).map(String::as_str).unwrap_or("missing");
                    assert_eq!(outcome, "failed", "{test} should catch {bug}:\n{summary}");
                }
                found.insert(*bug, tests.join(", "));
            }
            let errors: Vec<&String> = first.iter().filter(|(_, o)| *o == "error").map(|(id, _)| id).collect();
            assert!(errors.is_empty(), "tests that could not run on the vulnerable twin: {errors:?}\n{summary}");
        }
        let (junit, sarif) = (dir.join(format!("{twin}.xml")), dir.join(format!("{twin}.sarif")));
        let script = meshward_e2e::workspace_root().join("scripts/validate_reports.py");
        meshward_e2e::python([script.as_os_str(), junit.as_os_str(), sarif.as_os_str()])?;
        let sarif: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&sarif)?)?;
        let results = sarif["runs"][0]["results"].as_array().cloned().unwrap_or_default();
        assert_eq!(results.is_empty(), api.fixed, "SARIF results against the {twin} twin: {}", results.len());
        for result in &results {
            let uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str().unwrap_or("");
            let relative = !uri.starts_with('/') && !uri.contains(':') && uri.ends_with(".yaml");
            assert!(relative, "not relative to the repository: {uri}");
        }
    }
    println!("| planted bug | caught by | false alarms on the fixed twin |\n|---|---|---|");
    for (bug, tests) in &found {
        println!("| {bug} | {tests} | 0 |");
    }
    Ok(())
}

#[test]
fn broken_test_files_say_where_and_how_to_fix() -> Result<()> {
    let dir = meshward_e2e::process::fresh_dir("sectest-bad")?;
    let file = dir.join("typo.yaml");
    std::fs::write(
        &file,
        "id: typo\nname: a typo\nsteps:\n  - request: { path: /x }\n    assert:\n      staus: 200\n",
    )?;
    let out = meshward(&["test", "validate", &file.to_string_lossy()], &BTreeMap::new())?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("typo.yaml:6:"), "{stderr}");
    assert!(stderr.contains("unknown field `staus`, expected one of `status`"), "{stderr}");
    let file = dir.join("actor.yaml");
    std::fs::write(&file, "id: actor\nname: x\nsteps:\n  - actor: eve\n    request: { path: /x }\n")?;
    let out = meshward(&["test", "validate", &file.to_string_lossy()], &BTreeMap::new())?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no actor \"eve\" under `actors`"), "{stderr}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hand_written_examples_log_in_extract_and_fan_out() -> Result<()> {
    let examples = meshward_e2e::workspace_root().join("examples/security-tests");
    let env: BTreeMap<String, String> = [("SHOP_PASSWORD".to_owned(), PASSWORD.to_owned())].into();
    for fixed in [false, true] {
        let api = VulnApi::start(fixed).await?;
        let dir = meshward_e2e::process::fresh_dir("sectest-examples")?;
        let json = dir.join("results.json");
        let run = meshward(
            &["test", "run", &examples.to_string_lossy(), "--base-url", &api.url(), "--json", &json.to_string_lossy()],
            &env,
        )?;
        let summary = String::from_utf8_lossy(&run.stdout);
        let results = outcomes(&json)?;
        let want = if fixed { "passed" } else { "failed" };
        assert_eq!(results.get("example-bola-orders").map(String::as_str), Some(want), "{summary}");
        assert_eq!(results.get("example-sqli-search").map(String::as_str), Some(want), "{summary}");
        assert_eq!(run.status.success(), fixed);
        // the password came from the environment: reports never show it
        assert!(!summary.contains(PASSWORD) && !std::fs::read_to_string(&json)?.contains(PASSWORD));
    }
    Ok(())
}
