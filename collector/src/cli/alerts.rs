//! `meshward alerts list|show|ack|resolve` (over the API) and `meshward detect` (backtests the
//! detectors over past events, straight from ClickHouse, writing nothing).

use super::client::ApiClient;
use crate::detect::{rules, sinks, Alert, Detector};
use anyhow::Context;
use clap::Subcommand;
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[derive(Debug, Subcommand)]
pub enum AlertsCommand {
    /// List alerts, newest first.
    List {
        /// open, acknowledged or resolved
        #[arg(long)]
        state: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// One alert with its evidence.
    Show { id: String },
    /// Acknowledge: someone is on it (it stays open for updates).
    Ack { id: String },
    /// Resolve: over; the same alert does not reopen within detect.cooldown_s.
    Resolve { id: String },
}

pub async fn run(client: &ApiClient, command: AlertsCommand) -> anyhow::Result<()> {
    match command {
        AlertsCommand::List { state, json } => {
            let mut request = client.http.get(client.url("/api/v1/alerts"));
            if let Some(state) = &state {
                request = request.query(&[("state", state)]);
            }
            let answer: serde_json::Value = serde_json::from_str(&client.send(request).await?)?;
            let alerts: Vec<Alert> = serde_json::from_value(answer["alerts"].clone()).context("reading the alerts")?;
            if json {
                for alert in &alerts {
                    println!("{}", serde_json::to_string(alert)?);
                }
                return Ok(());
            }
            let rows: Vec<[String; 6]> = alerts
                .iter()
                .map(|a| {
                    [
                        a.id.clone(),
                        a.state.clone(),
                        a.severity.clone(),
                        a.kind.clone(),
                        a.subject.clone(),
                        a.endpoint.clone(),
                    ]
                })
                .collect();
            print!("{}", crate::inventory::aligned(&["ID", "STATE", "SEVERITY", "KIND", "SUBJECT", "ENDPOINT"], &rows));
            eprintln!("{} alerts", alerts.len());
        }
        AlertsCommand::Show { id } => {
            let answer = client.send(client.http.get(client.url(&format!("/api/v1/alerts/{id}")))).await?;
            let alert: Alert = serde_json::from_str(&answer).context("reading the alert")?;
            println!("{}\n{}", sinks::headline(&alert), serde_json::to_string_pretty(&alert.evidence)?);
        }
        AlertsCommand::Ack { id } => {
            client.send(client.http.post(client.url(&format!("/api/v1/alerts/{id}/ack")))).await?;
            println!("acknowledged {id}");
        }
        AlertsCommand::Resolve { id } => {
            client.send(client.http.post(client.url(&format!("/api/v1/alerts/{id}/resolve")))).await?;
            println!("resolved {id}");
        }
    }
    Ok(())
}

/// `2026-11-28T10:00:00Z`, or a duration back from now (`2h`, `30m`).
pub fn instant(text: &str) -> anyhow::Result<u64> {
    if let Ok(time) = humantime::parse_rfc3339_weak(text) {
        return Ok(time.duration_since(UNIX_EPOCH)?.as_secs());
    }
    let back = humantime::parse_duration(text).with_context(|| {
        format!("{text:?}: give an RFC 3339 time (2026-11-28T10:00:00Z) or a duration back from now (2h)")
    })?;
    Ok(SystemTime::now().duration_since(UNIX_EPOCH)?.saturating_sub(back).as_secs())
}

/// Slides the detection window from `from` to `to` by `step` and prints each alert the first
/// time it would have fired.
pub async fn backtest(detector: &Detector, from: u64, to: u64, step: u64, json: bool) -> anyhow::Result<()> {
    anyhow::ensure!(from < to, "--from must be before --to");
    let window = detector.config.window_s.max(1);
    let step = step.max(1);
    let mut fired: BTreeMap<String, (u64, rules::Kind, crate::detect::Finding)> = BTreeMap::new();
    let mut end = from + window.min(to - from);
    loop {
        let start = end.saturating_sub(window);
        for (kind, finding) in detector.evaluate(start, end).await? {
            let key = crate::detect::alert_key(kind.as_str(), &finding.subject, &finding.endpoint);
            fired.entry(key).or_insert((end, kind, finding));
        }
        if end >= to {
            break;
        }
        end = (end + step).min(to);
    }
    let mut rows: Vec<_> = fired.into_values().collect();
    rows.sort_by_key(|(at, ..)| *at);
    if json {
        for (at, kind, finding) in &rows {
            println!("{}", serde_json::json!({"fired_at": at, "kind": kind, "finding": finding}));
        }
        return Ok(());
    }
    let table: Vec<[String; 6]> = rows
        .iter()
        .map(|(at, kind, f)| {
            let when = humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(*at)).to_string();
            let (value, baseline) = kind.measures();
            [
                when,
                kind.as_str().to_owned(),
                f.subject.clone(),
                f.endpoint.clone(),
                format!("{value}={}", f.value),
                format!("{baseline}={}", f.baseline),
            ]
        })
        .collect();
    print!(
        "{}",
        crate::inventory::aligned(&["WOULD FIRE AT", "KIND", "SUBJECT", "ENDPOINT", "VALUE", "COMPARED WITH"], &table)
    );
    eprintln!("{} alerts would have fired between {} and {}", rows.len(), from, to);
    Ok(())
}
