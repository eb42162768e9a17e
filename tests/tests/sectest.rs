//! The security-test runner against a deliberately vulnerable API and its fixed twin: tests
//! generated from the API's OpenAPI spec flag every planted bug on the vulnerable twin and
//! nothing on the fixed one; the JUnit and SARIF reports validate against their schemas; a
//! broken test file is reported with file, line and the fix.

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
        let answer: serde_json::Value = http
            .post(format!("{}/api/login", api.url()))
            .json(&serde_json::json!({"username": user, "password": PASSWORD}))
            .send()
            .await?
            .json()
            .await?;
        let token = answer["token"].as_str().context("no token from the login")?;
        env.insert(format!("MESHWARD_TOKEN_{var}"), token.to_owned());
    }
    // alice owns order 1 and is user 2, bob order 2 and user 3, the admin order 3 and user 1
    for (owner, order, user) in [("A", 1, 2), ("B", 2, 3), ("ADMIN", 3, 1)] {
        env.insert(format!("MESHWARD_{owner}_ORDER_ID"), order.to_string());
        env.insert(format!("MESHWARD_{owner}_USER_ID"), user.to_string());
    }
    Ok(env)
}

fn outcomes(results: &Path) -> Result<BTreeMap<String, String>> {
    let results: Vec<serde_json::Value> = serde_json::from_str(&std::fs::read_to_string(results)?)?;
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
    ("missing authentication on profiles", &["auth-required-get-api-users-user-id-profile"]),
    ("BFLA on admin users", &["bfla-get-api-admin-users"]),
    ("unverified JWT accepted", &["broken-auth-get-api-orders-order-id", "broken-auth-get-api-users-me"]),
    ("SQL injection in product search", &["sqli-get-api-products", "nosqli-get-api-products"]),
    ("mass assignment of role", &["mass-assignment-put-api-users-me"]),
    ("verbose errors", &["verbose-errors-get-api-orders-order-id", "verbose-errors-put-api-users-me"]),
    ("no HSTS", &["hsts"]),
    ("no CSP", &["csp"]),
    ("no nosniff", &["nosniff"]),
    ("CORS reflects any origin", &["cors"]),
];

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
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let valid = meshward(&["test", "validate", &generated.to_string_lossy()], &BTreeMap::new())?;
    assert!(valid.status.success(), "generated tests do not validate: {}", String::from_utf8_lossy(&valid.stderr));

    let mut found = BTreeMap::new();
    for api in [&vulnerable, &fixed] {
        let name = if api.fixed { "fixed" } else { "vulnerable" };
        let env = environment(api).await?;
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
                "destructive",
                "--rate",
                "0",
                "--junit",
                &junit.to_string_lossy(),
                "--sarif",
                &sarif.to_string_lossy(),
                "--json",
                &json.to_string_lossy(),
            ],
            &env,
        )?;
        let summary = String::from_utf8_lossy(&run.stdout);
        println!("--- {name} ---\n{summary}");
        assert_eq!(run.status.success(), api.fixed, "exit code against the {name} twin:\n{summary}");
        let results = outcomes(&json)?;
        if api.fixed {
            let flagged_on_fixed: Vec<String> = results
                .iter()
                .filter(|(_, o)| *o != "passed" && *o != "skipped")
                .map(|(id, o)| format!("{id} ({o})"))
                .collect();
            assert!(flagged_on_fixed.is_empty(), "false alarms on the fixed twin: {flagged_on_fixed:?}");
        } else {
            for (bug, tests) in PLANTED {
                for test in *tests {
                    let outcome = results.get(*test).map(String::as_str).unwrap_or("missing");
                    assert_eq!(outcome, "failed", "{test} should catch {bug}:\n{summary}");
                }
                found.insert(*bug, tests.join(", "));
            }
            // the time-based probes were not allowed
            assert!(results.iter().filter(|(id, _)| id.starts_with("sqli-time")).all(|(_, o)| o == "skipped"));
        }
        let script = meshward_e2e::workspace_root().join("scripts/validate_reports.py");
        meshward_e2e::python([script.as_os_str(), junit.as_os_str(), sarif.as_os_str()])?;
        let sarif: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&sarif)?)?;
        let results = sarif["runs"][0]["results"].as_array().map_or(0, Vec::len);
        assert_eq!(results == 0, api.fixed, "SARIF results against the {name} twin: {results}");
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
