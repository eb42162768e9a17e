//! `meshward analyze` over generated HAR files: time and peak memory.

use anyhow::{bail, Context, Result};
use meshward_e2e::sample_api::{bench_body, bench_body_16k};
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use crate::Cli;

/// Writes a HAR file of about `target_bytes`: API calls with JSON bodies (customer records,
/// orders), word-like and numeric IDs, query strings, some with PII and some with injections.
fn write_har(path: &Path, target_bytes: u64) -> Result<u64> {
    use std::io::Write as _;
    let file = std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    out.write_all(br#"{"log":{"version":"1.2","creator":{"name":"meshward-bench","version":"1"},"entries":["#)?;
    let mut written: u64 = 0;
    let mut i: u64 = 0;
    let names = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"];
    while written < target_bytes {
        let id = (i * 7919) % 100_000;
        let (method, url, request_body, response_body) = match i % 5 {
            0 => (
                "GET",
                format!("https://shop.example.com/api/users/{id}/orders?page={}", i % 9),
                String::new(),
                bench_body_16k(),
            ),
            1 => (
                "GET",
                format!("https://shop.example.com/api/org/{}/members", names[(i % 8) as usize]),
                String::new(),
                bench_body(),
            ),
            2 => (
                "POST",
                "https://shop.example.com/api/orders".to_owned(),
                bench_body(),
                format!(r#"{{"id":"{id}","status":"created"}}"#),
            ),
            3 => (
                "GET",
                format!(
                    "https://shop.example.com/api/search?q={}",
                    if i % 50 == 3 { "1%27%20or%20%271%27%3D%271" } else { "red+shoes" }
                ),
                String::new(),
                bench_body(),
            ),
            _ => (
                "GET",
                format!("https://shop.example.com/api/products/SKU-{id:06}"),
                String::new(),
                r#"{"sku":"x","price":9.99}"#.to_owned(),
            ),
        };
        let post = if request_body.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::json!({"mimeType": "application/json", "text": request_body})
        };
        let entry = serde_json::json!({
            "startedDateTime": format!("2024-03-15T12:{:02}:{:02}.000Z", (i / 60) % 60, i % 60),
            "time": 12.5,
            "request": {"method": method, "url": url, "httpVersion": "HTTP/1.1",
                        "headers": [{"name": "Accept", "value": "application/json"},
                                    {"name": "Authorization", "value": format!("Bearer token-{}", i % 97)}],
                        "queryString": [], "cookies": [], "headersSize": -1, "bodySize": request_body.len(),
                        "postData": post},
            "response": {"status": 200, "statusText": "OK", "httpVersion": "HTTP/1.1",
                         "headers": [{"name": "Content-Type", "value": "application/json"}], "cookies": [],
                         "content": {"size": response_body.len(), "mimeType": "application/json", "text": response_body},
                         "redirectURL": "", "headersSize": -1, "bodySize": response_body.len()},
            "cache": {}, "timings": {"send": 0, "wait": 10, "receive": 2}
        });
        let text = entry.to_string();
        if i > 0 {
            out.write_all(b",")?;
        }
        out.write_all(text.as_bytes())?;
        written += text.len() as u64 + 1;
        i += 1;
    }
    out.write_all(b"]}}")?;
    out.flush()?;
    Ok(i)
}

/// `meshward analyze` over generated HAR files of two sizes: time and peak memory.
pub fn analyze_bench(cli: &Cli, dir: &Path, report: &mut String) -> Result<()> {
    let bin = std::env::var("MESHWARD_BIN").unwrap_or_else(|_| "target/release/meshward".into());
    writeln!(report, "## `meshward analyze` over a HAR file\n")?;
    writeln!(
        report,
        "Generated HAR 1.2 files (API calls with 1 to 16 KiB JSON bodies, word-like and numeric IDs, PII in \
         responses, some injections in query strings), analyzed by the release binary with `--format json` into \
         /dev/null, on one core. Peak memory is the process's maximum resident set size (GNU time).\n"
    )?;
    writeln!(report, "| file | entries | seconds | MB/s | peak RSS MB |")?;
    writeln!(report, "|---|---:|---:|---:|---:|")?;
    for mb in [100u64, (cli.har_gb * 1024.0) as u64] {
        let path = dir.join(format!("traffic-{mb}mb.har"));
        let entries = write_har(&path, mb << 20)?;
        let size = std::fs::metadata(&path)?.len();
        let output = Command::new("/usr/bin/time")
            .args(["-f", "%e %M"])
            .arg(&bin)
            .args(["analyze", "--format", "json"])
            .arg(&path)
            .stdout(std::process::Stdio::null())
            .output()
            .context("running /usr/bin/time meshward analyze (make bench installs GNU time)")?;
        let stderr = String::from_utf8_lossy(&output.stderr);
        if !output.status.success() {
            bail!("meshward analyze failed: {stderr}");
        }
        let last = stderr.lines().last().unwrap_or_default();
        let mut fields = last.split_whitespace();
        let seconds: f64 = fields.next().and_then(|v| v.parse().ok()).unwrap_or(0.0);
        let rss_kb: f64 = fields.next().and_then(|v| v.parse().ok()).unwrap_or(0.0);
        eprintln!("analyze {mb} MB: {seconds:.1} s, {:.0} MB peak", rss_kb / 1024.0);
        writeln!(
            report,
            "| {:.0} MB | {entries} | {seconds:.1} | {:.0} | {:.0} |",
            size as f64 / 1048576.0,
            size as f64 / 1048576.0 / seconds.max(0.001),
            rss_kb / 1024.0
        )?;
        let _ = std::fs::remove_file(&path);
    }
    writeln!(report)?;
    Ok(())
}
