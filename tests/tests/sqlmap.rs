//! sqlmap, the real tool, against the vulnerable API through Envoy with the filter: at least
//! 99% of its payload requests carry an sqli finding where the payload is, per technique, and
//! its baseline requests (with the site's own loopback Referer) carry none. `make quality`
//! runs every technique at a higher level; this is the bounded run.

use meshward_e2e::sqlmap::{measure, SqlmapOptions};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlmap_payloads_are_flagged_where_they_are() -> anyhow::Result<()> {
    let options =
        SqlmapOptions { techniques: "BEUS".into(), level: 1, risk: 1, extend_for_dbms: false, ..Default::default() };
    let report = measure(&options).await?;
    println!("{}", report.markdown());
    let shortfalls = report.shortfalls(99.0);
    assert!(shortfalls.is_empty(), "{}\n{}", shortfalls.join("\n"), report.markdown());
    Ok(())
}
