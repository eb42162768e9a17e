//! `meshward block add|list|rm|expire|import`.

use super::client::ApiClient;
use crate::store::now_ms;
use anyhow::Context;
use clap::{Args, Subcommand};
use meshward_core::blocklist::{HeaderMatch, RateKey, RateLimit, Rule, RuleAction, RuleMatch};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Subcommand)]
pub enum BlockCommand {
    /// Add a rule. Every condition given must hold; repeat --source, --identity or --principal
    /// to match any of several. Example:
    /// `meshward block add --source 203.0.113.0/24 --method POST --template /login --expires-in 1h --reason "stuffing"`
    Add(Box<AddArgs>),
    /// List the rules (active and expired) with what they match and who made them.
    List {
        /// Print the rules as JSON lines.
        #[arg(long)]
        json: bool,
    },
    /// Delete rules; requests they blocked go through again within seconds.
    Rm {
        #[arg(required = true)]
        ids: Vec<String>,
    },
    /// End rules now; they stay listed as expired.
    Expire {
        #[arg(required = true)]
        ids: Vec<String>,
    },
    /// Add many rules at once from a file: a JSON array of rules or JSON lines, one rule each
    /// (the format `block list --json` prints and the API takes).
    Import { file: PathBuf },
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// Rule id (letters, digits, '-', '_', '.'); made up if not given.
    #[arg(long)]
    id: Option<String>,
    /// Client address or CIDR, IPv4 or IPv6 (repeatable).
    #[arg(long = "source")]
    sources: Vec<String>,
    /// Caller identity hash, as events carry it in `caller_id` (repeatable).
    #[arg(long = "identity")]
    identities: Vec<String>,
    /// mTLS peer principal, e.g. spiffe://cluster.local/ns/shop/sa/web (repeatable).
    #[arg(long = "principal")]
    principals: Vec<String>,
    /// A header equal to a value: NAME=VALUE.
    #[arg(long, conflicts_with_all = ["header_regex", "header_present"])]
    header: Option<String>,
    /// A header matching a regular expression: NAME=REGEX.
    #[arg(long, conflicts_with = "header_present")]
    header_regex: Option<String>,
    /// A header that is present at all: NAME.
    #[arg(long)]
    header_present: Option<String>,
    #[arg(long)]
    method: Option<String>,
    /// An endpoint template: `{name}` segments match any one segment, e.g. /users/{id}/orders.
    #[arg(long)]
    template: Option<String>,
    #[arg(long)]
    path_prefix: Option<String>,
    /// Destination host (:authority); without a port, any port.
    #[arg(long)]
    host: Option<String>,
    /// The workload whose sidecar sees the request.
    #[arg(long)]
    workload: Option<String>,
    /// Only mark matching requests in their events; let them through.
    #[arg(long)]
    dry_run: bool,
    /// End the rule after this long, e.g. 15m, 2h, 7d.
    #[arg(long, value_parser = humantime::parse_duration)]
    expires_in: Option<Duration>,
    /// Why: shown in listings and kept with the rule.
    #[arg(long, default_value = "")]
    reason: String,
    /// Rate limit instead of a plain block: N/WINDOW, e.g. 100/1m. A key (see --rate-key) that
    /// sends more matching requests within the window is blocked for --block-for.
    #[arg(long, requires = "block_for")]
    rate_limit: Option<String>,
    /// How long a key over the rate limit stays blocked, e.g. 10m.
    #[arg(long, value_parser = humantime::parse_duration)]
    block_for: Option<Duration>,
    /// What the rate limit counts by: source (client address) or identity.
    #[arg(long, value_enum, default_value = "source")]
    rate_key: RateKeyArg,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum RateKeyArg {
    Source,
    Identity,
}

fn name_value(text: &str, flag: &str) -> anyhow::Result<(String, String)> {
    let (name, value) =
        text.split_once('=').with_context(|| format!("{flag} takes NAME=VALUE, e.g. {flag} x-client=bad-bot"))?;
    Ok((name.trim().to_ascii_lowercase(), value.to_owned()))
}

impl AddArgs {
    fn rule(self) -> anyhow::Result<Rule> {
        let header = if let Some(text) = &self.header {
            let (name, value) = name_value(text, "--header")?;
            Some(HeaderMatch { name, equals: Some(value), regex: None })
        } else if let Some(text) = &self.header_regex {
            let (name, regex) = name_value(text, "--header-regex")?;
            Some(HeaderMatch { name, equals: None, regex: Some(regex) })
        } else {
            self.header_present.map(|name| HeaderMatch { name: name.to_ascii_lowercase(), equals: None, regex: None })
        };
        let rate_limit = match (&self.rate_limit, self.block_for) {
            (Some(text), Some(block_for)) => {
                let (requests, window) =
                    text.split_once('/').context("--rate-limit takes N/WINDOW, e.g. --rate-limit 100/1m")?;
                let requests: u64 = requests.trim().parse().context("--rate-limit: N must be a whole number")?;
                let window =
                    humantime::parse_duration(window.trim()).context("--rate-limit: WINDOW, e.g. 30s or 1m")?;
                let key = match self.rate_key {
                    RateKeyArg::Source => RateKey::Source,
                    RateKeyArg::Identity => RateKey::Identity,
                };
                Some(RateLimit {
                    key,
                    requests,
                    window_s: window.as_secs().max(1),
                    block_s: block_for.as_secs().max(1),
                })
            }
            _ => None,
        };
        Ok(Rule {
            id: self.id.unwrap_or_default(),
            action: if self.dry_run { RuleAction::DryRun } else { RuleAction::Block },
            conditions: RuleMatch {
                sources: self.sources,
                identities: self.identities,
                principals: self.principals,
                header,
                method: self.method.map(|m| m.to_ascii_uppercase()),
                template: self.template,
                path_prefix: self.path_prefix,
                host: self.host,
                workload: self.workload,
            },
            rate_limit,
            expires_at_ms: self.expires_in.map(|d| now_ms() + d.as_millis() as u64),
            reason: self.reason,
            ..Rule::default()
        })
    }
}

pub async fn run(client: &ApiClient, command: BlockCommand) -> anyhow::Result<()> {
    match command {
        BlockCommand::Add(args) => {
            let rule = args.rule()?;
            check(&rule)?;
            let created = create(client, serde_json::to_vec(&rule)?).await?;
            for rule in &created {
                println!("added {} · {}", rule.id, describe(rule));
            }
        }
        BlockCommand::Import { file } => {
            let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
            let rules: Vec<Rule> = if text.trim_start().starts_with('[') {
                serde_json::from_str(&text).with_context(|| format!("{}: not a JSON array of rules", file.display()))?
            } else {
                text.lines()
                    .enumerate()
                    .filter(|(_, line)| !line.trim().is_empty())
                    .map(|(n, line)| {
                        serde_json::from_str(line).with_context(|| format!("{}:{}: not a rule", file.display(), n + 1))
                    })
                    .collect::<anyhow::Result<_>>()?
            };
            for rule in &rules {
                check(rule).with_context(|| format!("{}", file.display()))?;
            }
            let created = create(client, serde_json::to_vec(&rules)?).await?;
            println!("imported {} rules", created.len());
        }
        BlockCommand::List { json } => {
            let answer = client.send(client.http.get(client.url("/api/v1/block-rules"))).await?;
            let listing: serde_json::Value = serde_json::from_str(&answer).context("reading the rule list")?;
            let rules = listing["rules"].as_array().cloned().unwrap_or_default();
            if json {
                for rule in &rules {
                    println!("{rule}");
                }
                return Ok(());
            }
            print!("{}", table(&rules));
            eprintln!(
                "{} rules · published list version {} · etag {}",
                rules.len(),
                listing["version"],
                listing["etag"].as_str().unwrap_or("")
            );
        }
        BlockCommand::Rm { ids } => {
            for id in ids {
                client.send(client.http.delete(client.url(&format!("/api/v1/block-rules/{id}")))).await?;
                println!("deleted {id}");
            }
        }
        BlockCommand::Expire { ids } => {
            for id in ids {
                client.send(client.http.post(client.url(&format!("/api/v1/block-rules/{id}/expire")))).await?;
                println!("expired {id}");
            }
        }
    }
    Ok(())
}

/// Checks a rule here, before sending it; the collector makes up ids that are missing.
fn check(rule: &Rule) -> anyhow::Result<()> {
    if rule.id.is_empty() {
        Rule { id: "new-rule".into(), ..rule.clone() }.validate()?;
    } else {
        rule.validate()?;
    }
    Ok(())
}

async fn create(client: &ApiClient, body: Vec<u8>) -> anyhow::Result<Vec<Rule>> {
    let request = client.http.post(client.url("/api/v1/block-rules")).header("content-type", "application/json");
    let answer = client.send(request.body(body)).await?;
    let answer: serde_json::Value = serde_json::from_str(&answer).context("reading the created rules")?;
    Ok(serde_json::from_value(answer["rules"].clone()).unwrap_or_default())
}

/// One line: action, conditions, limit and expiry.
fn describe(rule: &Rule) -> String {
    let action = match rule.action {
        RuleAction::Block => "block",
        RuleAction::DryRun => "dry run",
    };
    let mut parts = vec![action.to_owned(), conditions(&rule.conditions)];
    if let Some(limit) = &rule.rate_limit {
        let key = match limit.key {
            RateKey::Source => "source",
            RateKey::Identity => "identity",
        };
        parts.push(format!(
            "over {} requests / {} s per {key}: blocked {} s",
            limit.requests, limit.window_s, limit.block_s
        ));
    }
    if let Some(at) = rule.expires_at_ms {
        parts.push(format!(
            "expires in {}",
            humantime::format_duration(Duration::from_secs(at.saturating_sub(now_ms()) / 1000))
        ));
    }
    parts.join(" · ")
}

fn conditions(m: &RuleMatch) -> String {
    let mut parts = Vec::new();
    let list = |name: &str, values: &[String]| (!values.is_empty()).then(|| format!("{name} {}", values.join(",")));
    parts.extend(list("source", &m.sources));
    parts.extend(list("identity", &m.identities));
    parts.extend(list("principal", &m.principals));
    if let Some(h) = &m.header {
        parts.push(match (&h.equals, &h.regex) {
            (Some(v), _) => format!("header {}={v}", h.name),
            (None, Some(r)) => format!("header {}~/{r}/", h.name),
            (None, None) => format!("header {}", h.name),
        });
    }
    for (name, value) in [
        ("method", &m.method),
        ("template", &m.template),
        ("path", &m.path_prefix),
        ("host", &m.host),
        ("workload", &m.workload),
    ] {
        if let Some(v) = value {
            parts.push(if name == "path" { format!("path {v}*") } else { format!("{name} {v}") });
        }
    }
    parts.join(" ")
}

fn table(rules: &[serde_json::Value]) -> String {
    let header = ["ID", "ACTION", "STATUS", "MATCH", "EXPIRES", "BY", "REASON"];
    let mut rows = Vec::new();
    for value in rules {
        let Ok(rule) = serde_json::from_value::<Rule>(strip_status(value)) else { continue };
        let expires = match rule.expires_at_ms {
            Some(at) if at > now_ms() => {
                format!("in {}", humantime::format_duration(Duration::from_secs((at - now_ms()) / 1000)))
            }
            Some(_) => "passed".to_owned(),
            None => "never".to_owned(),
        };
        let action = match (&rule.rate_limit, rule.action) {
            (Some(_), _) => "rate limit",
            (None, RuleAction::Block) => "block",
            (None, RuleAction::DryRun) => "dry run",
        };
        rows.push([
            rule.id.clone(),
            action.to_owned(),
            value["status"].as_str().unwrap_or("").to_owned(),
            conditions(&rule.conditions),
            expires,
            rule.created_by.clone(),
            rule.reason.chars().take(80).collect(),
        ]);
    }
    crate::inventory::aligned(&header, &rows)
}

/// The listing adds `status` beside the rule's own fields.
fn strip_status(value: &serde_json::Value) -> serde_json::Value {
    let mut value = value.clone();
    if let Some(object) = value.as_object_mut() {
        object.remove("status");
    }
    value
}
