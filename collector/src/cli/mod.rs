//! Command-line interface. Each subcommand's doc comment is its help text.

mod alerts;
mod block;
mod client;
mod dead_letter;
mod test;

use client::ApiClient;

use crate::config::{Config, EXAMPLE};
use anyhow::Context;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// Meshward: API discovery and protection from inside the service mesh.
#[derive(Debug, Parser)]
#[command(name = "meshward", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the collector: gRPC ingest from the filters, spool, ClickHouse writer, HTTP API.
    Serve {
        /// YAML config file (see `meshward config example`); MESHWARD_* variables override it.
        #[arg(long, short, env = "MESHWARD_CONFIG")]
        config: Option<PathBuf>,
    },
    /// List the API inventory: each host's endpoints seen in traffic, with word-like path
    /// parameters discovered across requests.
    Endpoints {
        #[arg(long, short, env = "MESHWARD_CONFIG")]
        config: Option<PathBuf>,
        /// Only this host (the request authority).
        #[arg(long)]
        host: Option<String>,
        /// Print JSON lines instead of a table.
        #[arg(long)]
        json: bool,
        /// Check the endpoints against this OpenAPI 3.0, 3.1 or Swagger 2.0 document (YAML or
        /// JSON): documented, shadow (not in the spec), deprecated but called, mismatches, and
        /// zombie operations.
        #[arg(long)]
        spec: Option<PathBuf>,
        /// With --spec: calls older than this many days do not count (their operations can be
        /// zombies).
        #[arg(long, default_value_t = 30)]
        since_days: u64,
        /// Print a reconstructed OpenAPI document of --host instead (3.1; see --openapi-version).
        #[arg(long, requires = "host", conflicts_with = "spec")]
        openapi: bool,
        /// With --openapi: the OpenAPI version to write, 3.1 or 3.0 for older tools.
        #[arg(long, value_enum, default_value = "3.1", requires = "openapi")]
        openapi_version: crate::inventory::openapi::OpenApiVersion,
        /// Keep this template whatever discovery finds (repeatable): `/org/{org}/members`, or
        /// `host=/org/{org}/members`; adds to inventory.pinned_templates.
        #[arg(long = "pin")]
        pins: Vec<String>,
        /// List through the collector's HTTP API instead of reading ClickHouse (with --token).
        #[arg(long, env = "MESHWARD_API_URL", conflicts_with_all = ["spec", "openapi", "pins"])]
        api: Option<String>,
        /// A token from api.read_tokens, with --api.
        #[arg(long, env = "MESHWARD_API_TOKEN", hide_env_values = true)]
        token: Option<String>,
    },
    /// Pin endpoint templates over the collector's HTTP API: a pinned template is kept whatever
    /// discovery finds (`/org/{org}/members` stays one endpoint).
    Pin {
        #[arg(long, env = "MESHWARD_API_URL", default_value = "http://127.0.0.1:8080", global = true)]
        api: String,
        /// A token from api.admin_tokens (api.read_tokens may list).
        #[arg(long, env = "MESHWARD_API_TOKEN", global = true, hide_env_values = true)]
        token: Option<String>,
        #[command(subcommand)]
        command: PinCommand,
    },
    /// Analyze recorded traffic offline: the API inventory and the sensitive data and attacks in
    /// each exchange, with the same code the filter runs. Reads HAR 1.2 (browsers, Burp,
    /// proxies) or JSON lines of Meshward events; large files stream with a progress bar.
    Analyze {
        /// A .har file, or JSON lines of events (`SELECT * FROM events FORMAT JSONEachRow`).
        file: PathBuf,
        /// `table` (endpoints and a findings summary), `json`
        /// (`{"entries":[{"index","findings"}],"endpoints":[...],"summary":{...}}`) or `events`
        /// (each HAR entry as the event the filter records, a JSON line in the `events` table's
        /// columns).
        #[arg(long, value_enum, default_value = "table")]
        format: crate::analyze::Format,
        /// The mesh's `identity_hash_key`, so callers get the same ids as in the filters'
        /// events.
        #[arg(long, env = "MESHWARD_IDENTITY_KEY", hide_env_values = true)]
        identity_key: Option<String>,
        /// Detection classes to skip (repeatable), e.g. `--disable phone`.
        #[arg(long = "disable")]
        disabled: Vec<String>,
        /// Write a reconstructed OpenAPI document per host into this folder (3.1; see
        /// --openapi-version).
        #[arg(long)]
        openapi_out: Option<PathBuf>,
        /// With --openapi-out: the OpenAPI version to write, 3.1 or 3.0 for older tools.
        #[arg(long, value_enum, default_value = "3.1", requires = "openapi_out")]
        openapi_version: crate::inventory::openapi::OpenApiVersion,
        /// Check the inventory against this OpenAPI 3.0, 3.1 or Swagger 2.0 document
        /// (documented, shadow, zombie).
        #[arg(long)]
        spec: Option<PathBuf>,
        /// The host the spec describes (default: every host in the file).
        #[arg(long, requires = "spec")]
        spec_host: Option<String>,
        /// Keep this template whatever discovery finds (repeatable): `/org/{org}/members`, or
        /// `host=/org/{org}/members`.
        #[arg(long = "pin")]
        pins: Vec<String>,
    },
    /// Upload OpenAPI specs and check the inventory against them, over the collector's HTTP API.
    Spec {
        /// The collector's HTTP API.
        #[arg(long, env = "MESHWARD_API_URL", default_value = "http://127.0.0.1:8080", global = true)]
        api: String,
        /// A token from api.read_tokens (api.admin_tokens to upload).
        #[arg(long, env = "MESHWARD_API_TOKEN", global = true, hide_env_values = true)]
        token: Option<String>,
        #[command(subcommand)]
        command: SpecCommand,
    },
    /// Manage block rules over the collector's HTTP API: every sidecar enforces them within
    /// seconds (a local 403 before the request reaches the application).
    Block {
        /// The collector's HTTP API.
        #[arg(long, env = "MESHWARD_API_URL", default_value = "http://127.0.0.1:8080", global = true)]
        api: String,
        /// A token from api.admin_tokens (api.read_tokens may list).
        #[arg(long, env = "MESHWARD_API_TOKEN", global = true, hide_env_values = true)]
        token: Option<String>,
        #[command(subcommand)]
        command: Box<block::BlockCommand>,
    },
    /// Security tests for CI: run YAML tests against an API (JUnit and SARIF reports), check
    /// them, or generate them from an OpenAPI spec or the inventory (docs/security-tests.md).
    Test {
        #[command(subcommand)]
        command: test::TestCommand,
    },
    /// Alerts the detectors raised, over the collector's HTTP API.
    Alerts {
        #[arg(long, env = "MESHWARD_API_URL", default_value = "http://127.0.0.1:8080", global = true)]
        api: String,
        /// A token from api.read_tokens (api.admin_tokens to ack or resolve).
        #[arg(long, env = "MESHWARD_API_TOKEN", global = true, hide_env_values = true)]
        token: Option<String>,
        #[command(subcommand)]
        command: alerts::AlertsCommand,
    },
    /// Backtest the detectors over past events: what would have fired, and when (writes nothing).
    Detect {
        #[arg(long, short, env = "MESHWARD_CONFIG")]
        config: Option<PathBuf>,
        /// Start: an RFC 3339 time or a duration back from now (e.g. 24h).
        #[arg(long)]
        from: String,
        /// End: as --from; default now.
        #[arg(long, default_value = "0s")]
        to: String,
        /// How far the window moves between evaluations (default: detect.interval_s).
        #[arg(long, value_parser = humantime::parse_duration)]
        step: Option<std::time::Duration>,
        #[arg(long)]
        json: bool,
    },
    /// Batches the writer set aside because ClickHouse refused them while it stored the ones
    /// around them: list, replay or drop them (reads the spool folder of --config).
    DeadLetter {
        #[arg(long, short, env = "MESHWARD_CONFIG", global = true)]
        config: Option<PathBuf>,
        #[command(subcommand)]
        command: dead_letter::DeadLetterCommand,
    },
    /// Work with configuration files.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum PinCommand {
    /// Pin a template for a host (default: every host).
    Add {
        template: String,
        #[arg(long, default_value = "*")]
        host: String,
    },
    /// List the pins set through the API and those in the configuration.
    List,
    /// Remove a pin set through the API.
    Rm {
        template: String,
        #[arg(long, default_value = "*")]
        host: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum SpecCommand {
    /// Upload the OpenAPI 3.0, 3.1 or Swagger 2.0 document (YAML or JSON) of a host; the newest
    /// upload is in force.
    Upload {
        file: PathBuf,
        #[arg(long)]
        host: String,
    },
    /// Print the uploaded spec of a host, or with --reconstructed the one rebuilt from traffic.
    Show {
        #[arg(long)]
        host: String,
        /// The document rebuilt from traffic instead (OpenAPI 3.1; see --openapi-version).
        #[arg(long)]
        reconstructed: bool,
        /// With --reconstructed: the OpenAPI version to write, 3.1 or 3.0 for older tools.
        #[arg(long, value_enum, default_value = "3.1", requires = "reconstructed")]
        openapi_version: crate::inventory::openapi::OpenApiVersion,
    },
    /// List a host's shadow endpoints (called, not in its spec) and zombie operations (in the
    /// spec, not called within --since-days).
    Check {
        #[arg(long)]
        host: String,
        #[arg(long, default_value_t = 30)]
        since_days: u64,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print a commented configuration with every default.
    Example,
    /// Load and validate a configuration (file plus MESHWARD_* variables), print the result.
    Check {
        #[arg(long, short, env = "MESHWARD_CONFIG")]
        config: Option<PathBuf>,
    },
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve { config } => {
            let config = load(config)?;
            crate::server::serve(config).await
        }
        Command::Endpoints { api: Some(api), token, host, json, .. } => {
            let client = ApiClient::new(&api, token.as_deref())?;
            let mut request = client.http.get(client.url("/api/v1/endpoints"));
            if let Some(host) = &host {
                request = request.query(&[("host", host)]);
            }
            let answer: serde_json::Value = serde_json::from_str(&client.send(request).await?)?;
            let endpoints: Vec<crate::inventory::Endpoint> =
                serde_json::from_value(answer["endpoints"].clone()).context("reading the endpoints")?;
            print_endpoints(&endpoints, json)
        }
        Command::Pin { api, token, command } => {
            let client = ApiClient::new(&api, token.as_deref())?;
            match command {
                PinCommand::Add { template, host } => {
                    let body = serde_json::json!({"host": host, "template": template});
                    client.send(client.http.post(client.url("/api/v1/pins")).json(&body)).await?;
                    println!("pinned {template} on {host}");
                }
                PinCommand::Rm { template, host } => {
                    let query = [("host", host.as_str()), ("template", template.as_str())];
                    client.send(client.http.delete(client.url("/api/v1/pins")).query(&query)).await?;
                    println!("unpinned {template} on {host}");
                }
                PinCommand::List => {
                    let answer: serde_json::Value =
                        serde_json::from_str(&client.send(client.http.get(client.url("/api/v1/pins"))).await?)?;
                    for pin in answer["pins"].as_array().into_iter().flatten() {
                        println!(
                            "{}  {}  (api)",
                            pin["host"].as_str().unwrap_or(""),
                            pin["template"].as_str().unwrap_or("")
                        );
                    }
                    for (host, templates) in answer["configured"].as_object().into_iter().flatten() {
                        for template in templates.as_array().into_iter().flatten() {
                            println!("{host}  {}  (config)", template.as_str().unwrap_or(""));
                        }
                    }
                }
            }
            Ok(())
        }
        Command::Endpoints { config, host, json, spec, since_days, openapi, openapi_version, pins, .. } => {
            let config = load_for_queries(config)?;
            let client = crate::store::connect(&config.clickhouse);
            let mut pinned = crate::inventory::Pins::parse(&[config.inventory.pinned_templates.clone(), pins].concat());
            // pins set through the API count here too (none yet on a fresh database)
            let store =
                crate::inventory::InventoryStore::connect(&config.clickhouse, crate::inventory::Pins::default());
            for pin in store.stored_pins().await.unwrap_or_default() {
                pinned.add(&pin.host, [pin.template]);
            }
            let spec_ops = match &spec {
                Some(path) => {
                    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
                    let ops = crate::inventory::openapi::parse(&text)
                        .with_context(|| format!("reading the OpenAPI document {}", path.display()))?;
                    // the spec's paths take precedence over discovery for the host it describes
                    pinned.add(host.as_deref().unwrap_or("*"), ops.iter().map(|o| o.template.clone()));
                    Some(ops)
                }
                None => None,
            };
            let (url, database) = (&config.clickhouse.url, &config.clickhouse.database);
            let endpoints = crate::inventory::endpoints(&client, url, database, &pinned, host.as_deref())
                .await
                .context("reading the inventory from ClickHouse")?;
            if openapi {
                let doc =
                    crate::inventory::openapi::export(host.as_deref().unwrap_or_default(), &endpoints, openapi_version);
                println!("{}", serde_json::to_string_pretty(&doc)?);
                return Ok(());
            }
            if let Some(ops) = spec_ops {
                let since_ms = crate::inventory::openapi::window_start_ms(since_days);
                let comparison = crate::inventory::openapi::compare(&ops, &endpoints, since_ms);
                if json {
                    println!("{}", serde_json::to_string(&comparison)?);
                } else {
                    print!("{}", crate::inventory::comparison_table(&comparison));
                }
                return Ok(());
            }
            print_endpoints(&endpoints, json)
        }
        Command::Analyze {
            file,
            format,
            identity_key,
            disabled,
            openapi_out,
            openapi_version,
            spec,
            spec_host,
            pins,
        } => {
            let detect = meshward_core::detect::DetectConfig { disabled_classes: disabled, ..Default::default() };
            let options =
                crate::analyze::Options { detect, openapi_out, openapi_version, spec, spec_host, pins, identity_key };
            let progress = std::io::IsTerminal::is_terminal(&std::io::stderr());
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            crate::analyze::run(&file, format, options, &mut out, progress)?;
            std::io::Write::flush(&mut out).context("writing the output")?;
            Ok(())
        }
        Command::Spec { api, token, command } => spec_command(&api, token.as_deref(), command).await,
        Command::Test { command } => test::run(command).await,
        Command::Alerts { api, token, command } => alerts::run(&ApiClient::new(&api, token.as_deref())?, command).await,
        Command::Detect { config, from, to, step, json } => {
            let config = load_for_queries(config)?;
            let detector = crate::detect::Detector::connect(&config.clickhouse, config.detect.clone());
            let step = step.map_or(config.detect.interval_s, |s| s.as_secs());
            alerts::backtest(&detector, alerts::instant(&from)?, alerts::instant(&to)?, step, json).await
        }
        Command::Block { api, token, command } => block::run(&ApiClient::new(&api, token.as_deref())?, *command).await,
        Command::DeadLetter { config, command } => dead_letter::run(&load_for_queries(config)?, command).await,
        Command::Config { command: ConfigCommand::Example } => {
            print!("{EXAMPLE}");
            Ok(())
        }
        Command::Config { command: ConfigCommand::Check { config } } => {
            let config = load(config)?;
            println!(
                "ok: ingest {} · api {} · clickhouse {} database {} · spool {}",
                config.ingest.listen,
                config.api.listen,
                config.clickhouse.url,
                config.clickhouse.database,
                config.spool.dir.display()
            );
            Ok(())
        }
    }
}

async fn spec_command(api: &str, token: Option<&str>, command: SpecCommand) -> anyhow::Result<()> {
    let client = ApiClient::new(api, token)?;
    let send = |request: reqwest::RequestBuilder| client.send(request);
    let api = client.base.as_str();
    let client = &client.http;
    match command {
        SpecCommand::Upload { file, host } => {
            let body = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let answer = send(client.put(format!("{api}/api/v1/specs/{host}")).body(body)).await?;
            let operations = serde_json::from_str::<serde_json::Value>(&answer)?["operations"].as_u64().unwrap_or(0);
            println!("uploaded the spec of {host}: {operations} operations");
        }
        SpecCommand::Show { host, reconstructed, openapi_version } => {
            let path = if reconstructed {
                format!("{host}/reconstructed?openapi_version={}", openapi_version.name())
            } else {
                host
            };
            let answer = send(client.get(format!("{api}/api/v1/specs/{path}"))).await?;
            match serde_json::from_str::<serde_json::Value>(&answer) {
                Ok(doc) if reconstructed => println!("{}", serde_json::to_string_pretty(&doc)?),
                _ => print!("{answer}"),
            }
        }
        SpecCommand::Check { host, since_days } => {
            let query = format!("host={host}&since_days={since_days}");
            let shadow: serde_json::Value =
                serde_json::from_str(&send(client.get(format!("{api}/api/v1/shadow?{query}"))).await?)?;
            let zombies: serde_json::Value =
                serde_json::from_str(&send(client.get(format!("{api}/api/v1/zombies?{query}"))).await?)?;
            let shadow = shadow["shadow"].as_array().cloned().unwrap_or_default();
            let zombies = zombies["zombies"].as_array().cloned().unwrap_or_default();
            println!("shadow endpoints of {host} (called, not in the spec): {}", shadow.len());
            for e in &shadow {
                println!(
                    "  {:<7} {}  ({} calls)",
                    e["method"].as_str().unwrap_or(""),
                    e["template"].as_str().unwrap_or(""),
                    e["calls"]
                );
            }
            println!("zombie operations of {host} (in the spec, not called in {since_days} days): {}", zombies.len());
            for op in &zombies {
                println!("  {:<7} {}", op["method"].as_str().unwrap_or(""), op["template"].as_str().unwrap_or(""));
            }
        }
    }
    Ok(())
}

/// Loads a configuration for commands that only query ClickHouse: no ingest token needed.
fn load_for_queries(path: Option<PathBuf>) -> anyhow::Result<Config> {
    let placeholder = [("MESHWARD_INGEST__TOKEN".to_owned(), "not-used-by-query-commands".to_owned())];
    let env = placeholder.into_iter().chain(std::env::vars());
    Config::load(path.as_deref(), env).context("loading the configuration")
}

fn print_endpoints(endpoints: &[crate::inventory::Endpoint], json: bool) -> anyhow::Result<()> {
    if json {
        for endpoint in endpoints {
            println!("{}", serde_json::to_string(endpoint)?);
        }
        return Ok(());
    }
    print!("{}", crate::inventory::table(endpoints));
    if endpoints.is_empty() {
        eprintln!("no endpoints yet: no events in ClickHouse (is traffic reaching the collector?)");
    }
    Ok(())
}

fn load(path: Option<PathBuf>) -> anyhow::Result<Config> {
    Config::load(path.as_deref(), std::env::vars()).context("loading the configuration")
}
