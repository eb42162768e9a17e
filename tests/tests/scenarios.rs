//! A labelled incident scenario (eight hours of traffic, one incident of each kind in the last four) replayed
//! through the detectors as the live job runs them: every incident is caught within two
//! simulated minutes and nothing else fires. `make quality` runs more and longer ones.

use anyhow::Result;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_injected_incident_is_caught_and_quiet_traffic_raises_nothing() -> Result<()> {
    let report = meshward_e2e::scenario::report(&[11], 8).await?;
    println!("{report}");
    for line in report.lines().filter(|l| l.starts_with("| ") && !l.starts_with("| detector")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let (kind, incidents, detected, false_alerts) = (cells[1], cells[2], cells[3], cells[7]);
        assert_eq!(incidents, detected, "{kind}: not every incident caught within 2 minutes:\n{report}");
        assert_eq!(false_alerts, "0", "{kind}: false alerts:\n{report}");
    }
    Ok(())
}
