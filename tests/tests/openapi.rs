//! Reconstructed OpenAPI documents, written by `meshward analyze --openapi-out` from a HAR file
//! in both versions, validate with `openapi-spec-validator` (3.1 by default, 3.0 on request),
//! say nullability as their version does, and read back as specs that document every endpoint.

use anyhow::{Context, Result};
use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;

fn meshward(args: &[&std::ffi::OsStr]) -> Result<String> {
    let output = Command::new(meshward_e2e::collector::collector_binary()?).args(args).output()?;
    anyhow::ensure!(output.status.success(), "meshward {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    Ok(String::from_utf8(output.stdout)?)
}

/// Exchanges with JSON bodies whose fields are sometimes null, nested objects and arrays, an
/// odd key, bearer and API-key callers and anonymous ones.
fn har() -> Value {
    let mut entries = Vec::new();
    for i in 0..8 {
        let note = if i % 2 == 0 { json!(null) } else { json!(format!("leave at door {i}")) };
        entries.push(json!({
            "startedDateTime": "2024-03-15T12:30:45Z",
            "request": {
                "method": "POST", "url": format!("https://shop.example/api/users/{}/orders?dry_run=1", 100 + i),
                "headers": [{"name": "Authorization", "value": format!("Bearer token-{i}-abcdefgh")},
                            {"name": "Content-Type", "value": "application/json"}],
                "postData": {"mimeType": "application/json", "text": json!({
                    "items": [{"sku": format!("SKU-{i}"), "qty": i}], "note": note,
                    "gift wrap": i % 3 == 0, "address": if i % 2 == 0 { json!(null) } else { json!({"city": "Oslo"}) }
                }).to_string()}
            },
            "response": {"status": 201, "content": {"mimeType": "application/json",
                         "text": json!({"id": format!("ord-{i}"), "total": 12.5, "coupon": null}).to_string()}}
        }));
        entries.push(json!({
            "request": {"method": "GET", "url": format!("https://shop.example/api/products/{}", 7 + i),
                        "headers": if i < 4 { json!([{"name": "x-api-key", "value": format!("key-{i}-0123456789abcdef")}]) } else { json!([]) }},
            "response": {"status": if i == 7 { 404 } else { 200 }, "content": {"mimeType": "application/json",
                         "text": json!({"name": "lamp", "tags": ["home"], "discontinued": null}).to_string()}}
        }));
    }
    json!({"log": {"version": "1.2", "entries": entries}})
}

/// Every schema under `value` (a document), wherever it sits.
fn walk<'a>(value: &'a Value, found: &mut Vec<&'a Value>) {
    match value {
        Value::Object(map) => {
            found.push(value);
            map.values().for_each(|v| walk(v, found));
        }
        Value::Array(list) => list.iter().for_each(|v| walk(v, found)),
        _ => {}
    }
}

fn read(file: &Path) -> Result<Value> {
    serde_json::from_str(&std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?)
        .with_context(|| format!("{} is not JSON", file.display()))
}

#[test]
fn exported_specs_validate_in_both_versions_and_read_back() -> Result<()> {
    let dir = meshward_e2e::process::fresh_dir("openapi")?;
    let har_file = dir.join("traffic.har");
    std::fs::write(&har_file, har().to_string())?;
    let (v31_dir, v30_dir) = (dir.join("3.1"), dir.join("3.0"));
    meshward(&[
        "analyze".as_ref(),
        har_file.as_os_str(),
        "--format".as_ref(),
        "json".as_ref(),
        "--openapi-out".as_ref(),
        v31_dir.as_os_str(),
    ])?;
    meshward(&[
        "analyze".as_ref(),
        har_file.as_os_str(),
        "--format".as_ref(),
        "json".as_ref(),
        "--openapi-out".as_ref(),
        v30_dir.as_os_str(),
        "--openapi-version".as_ref(),
        "3.0".as_ref(),
    ])?;
    for (folder, version) in [(&v31_dir, "3.1.0"), (&v30_dir, "3.0.3")] {
        let file = folder.join("shop.example.openapi.json");
        let doc = read(&file)?;
        assert_eq!(doc["openapi"], version, "{doc}");
        let verdict = meshward_e2e::validate_openapi(&file)?;
        assert!(verdict.contains(&format!("valid OpenAPI {version}")), "{verdict}");
        eprintln!("{}: {}", file.display(), verdict.trim());
        let order = &doc["paths"]["/api/users/{user_id}/orders"]["post"];
        let note = &order["requestBody"]["content"]["application/json"]["schema"]["properties"]["note"];
        let coupon = &order["responses"]["201"]["content"]["application/json"]["schema"]["properties"]["coupon"];
        let mut schemas = Vec::new();
        walk(&doc, &mut schemas);
        if version == "3.1.0" {
            assert_eq!(note["type"], json!(["string", "null"]), "{doc}");
            assert_eq!(coupon["type"], json!(["string", "null"]), "{doc}");
            assert!(schemas.iter().all(|s| s.get("nullable").is_none()), "3.1 writes no `nullable`: {doc}");
        } else {
            assert_eq!((note["type"].as_str(), note["nullable"].as_bool()), (Some("string"), Some(true)), "{doc}");
            assert!(
                schemas.iter().all(|s| !s.get("type").is_some_and(Value::is_array)),
                "3.0 has no type lists: {doc}"
            );
        }
        assert!(schemas.iter().all(|s| s.get("example").is_none() && s.get("examples").is_none()), "no values: {doc}");

        // the export read back as the spec of the same traffic: every endpoint documented,
        // no mismatch, no zombie
        let compared: Value = serde_json::from_str(&meshward(&[
            "analyze".as_ref(),
            har_file.as_os_str(),
            "--format".as_ref(),
            "json".as_ref(),
            "--spec".as_ref(),
            file.as_os_str(),
        ])?)?;
        let endpoints = compared["endpoints"].as_array().cloned().unwrap_or_default();
        assert_eq!(endpoints.len(), 2, "{compared}");
        for e in &endpoints {
            assert_eq!(e["status"], "documented", "{e}");
            assert!(e.get("mismatches").is_none(), "{e}");
        }
        assert_eq!(compared["zombies"], json!([]), "{compared}");
    }

    // the validator tells the versions apart: the 3.1 document called 3.0 fails on its type lists
    let mut relabelled = read(&v31_dir.join("shop.example.openapi.json"))?;
    relabelled["openapi"] = json!("3.0.3");
    let file = dir.join("relabelled.openapi.json");
    std::fs::write(&file, relabelled.to_string())?;
    assert!(meshward_e2e::validate_openapi(&file).is_err(), "type lists are not OpenAPI 3.0");

    // --openapi-version without a document to write is refused
    let output = Command::new(meshward_e2e::collector::collector_binary()?)
        .args(["analyze".as_ref(), har_file.as_os_str(), "--openapi-version".as_ref(), "3.0".as_ref()])
        .output()?;
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("--openapi-out"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(())
}

/// The security-test generator reads Swagger 2.0 and OpenAPI 3.1 specs: Swagger paths under
/// their `basePath`, no tests for 3.1 webhooks (the API calls them, it does not serve them), and
/// a broken `$ref` is reported with where it is.
#[test]
fn test_generate_reads_swagger_2_and_openapi_3_1() -> Result<()> {
    let dir = meshward_e2e::process::fresh_dir("openapi-generate")?;
    let swagger = dir.join("swagger.yaml");
    std::fs::write(
        &swagger,
        "swagger: '2.0'\ninfo: {title: t, version: '1'}\nbasePath: /api/v1\nsecurity: [{key: []}]\n\
         securityDefinitions: {key: {type: apiKey, in: header, name: x-api-key}}\n\
         paths:\n  /users/{id}:\n    get: {parameters: [{name: id, in: path, required: true, type: integer}], responses: {'200': {description: ok}}}\n",
    )?;
    let v31 = dir.join("openapi-3.1.yaml");
    std::fs::write(
        &v31,
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\nsecurity: [{bearer: []}]\n\
         components: {securitySchemes: {bearer: {type: http, scheme: bearer}}, pathItems: {Order: {get: {parameters: [{name: id, in: path, required: true, schema: {type: [string, 'null']}}], responses: {'200': {description: ok}}}}}}\n\
         paths:\n  /orders/{id}: {$ref: '#/components/pathItems/Order'}\n\
         webhooks:\n  orderShipped: {post: {responses: {'200': {description: ok}}}}\n",
    )?;
    let generate = |spec: &Path, out: &Path| -> Result<std::process::Output> {
        Ok(Command::new(meshward_e2e::collector::collector_binary()?)
            .args(["test".as_ref(), "generate".as_ref(), "--from-openapi".as_ref(), spec.as_os_str()])
            .args(["--template".as_ref(), "bola".as_ref(), "--out".as_ref(), out.as_os_str()])
            .output()?)
    };
    for (spec, expected) in [(&swagger, "bola-get-api-v1-users-id.yaml"), (&v31, "bola-get-orders-id.yaml")] {
        let out = dir.join(format!("tests-{}", spec.file_stem().and_then(|s| s.to_str()).unwrap_or("spec")));
        let output = generate(spec, &out)?;
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let written = meshward_e2e::files_with_extension(&out, "yaml")?;
        let names: Vec<String> =
            written.iter().filter_map(|p| p.file_name().and_then(|n| n.to_str()).map(str::to_owned)).collect();
        assert_eq!(names, vec![expected.to_owned()], "one operation each, no webhook");
    }
    let broken = dir.join("broken.yaml");
    std::fs::write(
        &broken,
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths:\n  /a: {$ref: '#/components/pathItems/Missing'}\n",
    )?;
    let output = generate(&broken, &dir.join("tests-broken"))?;
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("$.paths['/a']: `$ref: #/components/pathItems/Missing` points at nothing in the document"),
        "{stderr}"
    );
    Ok(())
}
