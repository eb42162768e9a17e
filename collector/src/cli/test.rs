//! `meshward test run|validate|generate|templates`.

use super::client::ApiClient;
use crate::sectest::{self, generate, report, Capability, RunOptions};
use anyhow::Context;
use clap::Subcommand;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Subcommand)]
pub enum TestCommand {
    /// Run test files or folders against an API; exit code 1 if any test fails or errors.
    Run {
        /// .yaml/.yml files, or folders searched recursively.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// The API under test; requests go nowhere else.
        #[arg(long)]
        base_url: String,
        /// Tests running at once.
        #[arg(long, default_value_t = 4)]
        concurrency: usize,
        /// Per-request timeout, e.g. 10s.
        #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
        timeout: Duration,
        /// Most requests per second across all tests (0: no limit).
        #[arg(long, default_value_t = 20.0)]
        rate: f64,
        /// Allow probes tests must ask for: time-based (slow on purpose), destructive (writes).
        #[arg(long, value_delimiter = ',', value_enum)]
        allow: Vec<Capability>,
        /// Write a JUnit XML report here.
        #[arg(long)]
        junit: Option<PathBuf>,
        /// Write a SARIF 2.1.0 report here (for code-scanning views).
        #[arg(long)]
        sarif: Option<PathBuf>,
        /// Write the results as JSON here.
        #[arg(long)]
        json: Option<PathBuf>,
    },
    /// Check test files without running them; prints each problem with file, line and fix.
    Validate {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Generate tests from an OpenAPI spec or the discovered inventory, one file per test.
    Generate {
        /// An OpenAPI 3.0 or 3.1 or Swagger 2.0 document (YAML or JSON).
        #[arg(long, conflicts_with = "from_inventory", required_unless_present = "from_inventory")]
        from_openapi: Option<PathBuf>,
        /// A host of the inventory, read from the collector's API (--api, --token).
        #[arg(long)]
        from_inventory: Option<String>,
        /// A template (see `meshward test templates`) or `all`.
        #[arg(long, default_value = "all")]
        template: String,
        /// Folder to write the tests into (created if missing).
        #[arg(long, default_value = "security-tests")]
        out: PathBuf,
        /// The collector's HTTP API, for --from-inventory.
        #[arg(long, env = "MESHWARD_API_URL", default_value = "http://127.0.0.1:8080")]
        api: String,
        /// A token from api.read_tokens, for --from-inventory.
        #[arg(long, env = "MESHWARD_API_TOKEN", hide_env_values = true)]
        token: Option<String>,
    },
    /// List the templates `generate` knows.
    Templates,
}

fn print_errors(errors: &[sectest::SpecError]) {
    for error in errors {
        eprintln!("{error}");
    }
}

pub async fn run(command: TestCommand) -> anyhow::Result<()> {
    match command {
        TestCommand::Validate { paths } => match sectest::load(&paths) {
            Ok(tests) => {
                println!("{} test files are valid", tests.len());
                Ok(())
            }
            Err(errors) => {
                print_errors(&errors);
                anyhow::bail!("{} problems in the test files", errors.len())
            }
        },
        TestCommand::Templates => {
            for (name, what) in generate::TEMPLATES {
                println!("{name:<16} {what}");
            }
            Ok(())
        }
        TestCommand::Generate { from_openapi, from_inventory, template, out, api, token } => {
            let targets: Vec<generate::Target> = if let Some(file) = from_openapi {
                let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
                let operations = crate::inventory::openapi::parse(&text)
                    .with_context(|| format!("{}: not a usable OpenAPI or Swagger document", file.display()))?;
                let mut targets: Vec<generate::Target> =
                    operations.iter().map(generate::Target::from_operation).collect();
                generate::annotate_from_openapi(&mut targets, &text)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
                targets
            } else {
                let host = from_inventory.context("give --from-openapi FILE or --from-inventory HOST")?;
                let client = ApiClient::new(&api, token.as_deref())?;
                let answer =
                    client.send(client.http.get(client.url("/api/v1/endpoints")).query(&[("host", &host)])).await?;
                let listing: serde_json::Value = serde_json::from_str(&answer).context("reading the inventory")?;
                let endpoints: Vec<crate::inventory::Endpoint> =
                    serde_json::from_value(listing["endpoints"].clone()).context("reading the inventory")?;
                anyhow::ensure!(!endpoints.is_empty(), "the inventory has no endpoints for host {host}");
                endpoints.iter().map(generate::Target::from_endpoint).collect()
            };
            let tests = generate::generate(&template, &targets).map_err(anyhow::Error::msg)?;
            std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
            for test in &tests {
                let path = out.join(format!("{}.yaml", test.id));
                std::fs::write(&path, generate::to_yaml(test)?)
                    .with_context(|| format!("writing {}", path.display()))?;
            }
            println!("wrote {} tests for {} operations into {}", tests.len(), targets.len(), out.display());
            let env = generate::required_env(&tests);
            if !env.is_empty() {
                println!("\nthe tests read these environment variables (`meshward test run` checks them first):");
                for (name, count) in env {
                    println!("  {name:<32} {count} {}", if count == 1 { "test" } else { "tests" });
                }
            }
            Ok(())
        }
        TestCommand::Run { paths, base_url, concurrency, timeout, rate, allow, junit, sarif, json } => {
            anyhow::ensure!(
                base_url.starts_with("http://") || base_url.starts_with("https://"),
                "--base-url must be an http:// or https:// URL"
            );
            let tests = match sectest::load(&paths) {
                Ok(tests) => tests,
                Err(errors) => {
                    print_errors(&errors);
                    anyhow::bail!("{} problems in the test files: nothing was run", errors.len());
                }
            };
            let missing = sectest::run::missing_env(&tests, &allow);
            if !missing.is_empty() {
                for (name, ids) in &missing {
                    let more = if ids.len() > 3 { format!(" and {} more", ids.len() - 3) } else { String::new() };
                    let some: Vec<&str> = ids.iter().take(3).map(String::as_str).collect();
                    eprintln!("{name} is not set (read by {}{more})", some.join(", "));
                }
                anyhow::bail!("{} environment variables the tests read are not set: nothing was run", missing.len());
            }
            let progress = std::io::IsTerminal::is_terminal(&std::io::stderr());
            let options =
                RunOptions { base_url: base_url.clone(), concurrency, timeout, rate: Some(rate), allow, progress };
            let results = sectest::run_all(tests, options).await?;
            print!("{}", report::summary(&results, &base_url));
            let stamp = crate::store::now_ms();
            if let Some(path) = junit {
                let timestamp = humantime::format_rfc3339_seconds(std::time::UNIX_EPOCH + Duration::from_millis(stamp));
                std::fs::write(&path, report::junit(&results, &base_url, &timestamp.to_string()))
                    .with_context(|| format!("writing {}", path.display()))?;
            }
            if let Some(path) = sarif {
                let text = serde_json::to_string_pretty(&report::sarif(&results, &base_url))?;
                std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
            }
            if let Some(path) = json {
                std::fs::write(&path, serde_json::to_string_pretty(&results)?)
                    .with_context(|| format!("writing {}", path.display()))?;
            }
            let totals = report::totals(&results);
            if totals.failed > 0 || totals.errors > 0 {
                anyhow::bail!("{} tests failed, {} could not run", totals.failed, totals.errors);
            }
            Ok(())
        }
    }
}
