//! Command-line interface. Each subcommand's doc comment is its help text.

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
    /// Work with configuration files.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
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

fn load(path: Option<PathBuf>) -> anyhow::Result<Config> {
    Config::load(path.as_deref(), std::env::vars()).context("loading the configuration")
}
