//! Where new alerts go: the log always, and configured webhooks (the alert as JSON, or a
//! Slack-compatible `{"text"}`), each retried with backoff without holding up detection.

use super::Alert;
use crate::config::{Webhook, WebhookFormat};
use std::time::Duration;

const ATTEMPTS: u32 = 5;

pub struct Sinks {
    http: reqwest::Client,
    webhooks: Vec<Webhook>,
}

/// One line for people: what, who, where, and the evidence's headline numbers.
pub fn headline(alert: &Alert) -> String {
    let numbers: Vec<String> = alert
        .evidence
        .as_object()
        .map(|o| o.iter().filter(|(_, v)| v.is_number()).map(|(k, v)| format!("{k}={v}")).collect())
        .unwrap_or_default();
    let endpoint = if alert.endpoint.is_empty() { String::new() } else { format!(" on {}", alert.endpoint) };
    format!(
        "[{}] {} {}: {}{endpoint} ({})",
        alert.severity,
        alert.kind.replace('_', " "),
        alert.id,
        alert.subject,
        numbers.join(", ")
    )
}

impl Sinks {
    pub fn new(webhooks: Vec<Webhook>) -> Self {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap_or_default();
        Sinks { http, webhooks }
    }

    pub fn deliver(&self, alert: &Alert) {
        tracing::warn!(alert = %alert.id, kind = %alert.kind, subject = %alert.subject, endpoint = %alert.endpoint,
            evidence = %alert.evidence, "{}", headline(alert));
        for hook in &self.webhooks {
            let body = match hook.format {
                WebhookFormat::Generic => serde_json::json!({"alert": alert}),
                WebhookFormat::Slack => serde_json::json!({"text": format!("Meshward {}", headline(alert))}),
            };
            let (http, url) = (self.http.clone(), hook.url.clone());
            let id = alert.id.clone();
            tokio::spawn(async move {
                let mut delay = Duration::from_millis(500);
                for attempt in 1..=ATTEMPTS {
                    match http.post(&url).json(&body).send().await {
                        Ok(r) if r.status().is_success() => return,
                        Ok(r) => {
                            tracing::warn!(alert = %id, status = %r.status(), attempt, "webhook refused the alert")
                        }
                        Err(e) => tracing::warn!(alert = %id, error = %e, attempt, "webhook unreachable"),
                    }
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                }
                metrics::counter!("meshward_alert_webhook_failures_total").increment(1);
            });
        }
    }
}
