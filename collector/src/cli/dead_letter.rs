//! `meshward dead-letter list|replay|drop`: the batches the writer set aside because ClickHouse
//! refused them while it took the batches around them (see `spool::DeadLetter`).

use crate::config::Config;
use crate::spool::{DeadLetter, DeadRecord};
use crate::store::RecordSink;
use anyhow::Context;
use clap::Subcommand;
use meshward_proto::EventBatch;
use prost::Message;

#[derive(Debug, Subcommand)]
pub enum DeadLetterCommand {
    /// List the batches set aside: where they sat in the spool, size, sender, events, and
    /// ClickHouse's reason.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Store the batches set aside into ClickHouse again (after the cause was fixed: a schema,
    /// a server setting); each one stored is removed, the others stay with their new reason.
    Replay,
    /// Delete batches set aside without storing them.
    Drop {
        /// Where the batch sat, as listed (`<segment>-<offset>`); repeatable.
        positions: Vec<String>,
        /// Every batch set aside.
        #[arg(long, conflicts_with = "positions")]
        all: bool,
    },
}

fn name(record: &DeadRecord) -> String {
    format!("{}-{}", record.at.segment, record.at.offset)
}

/// Sender and event count of a set-aside batch, if it decodes.
fn describe(payload: &[u8]) -> (String, usize) {
    match EventBatch::decode(payload) {
        Ok(batch) => (batch.source_id, batch.events.len()),
        Err(_) => ("(undecodable)".to_owned(), 0),
    }
}

pub async fn run(config: &Config, command: DeadLetterCommand) -> anyhow::Result<()> {
    let dead = DeadLetter::of(&config.spool.dir);
    let records = dead.list().with_context(|| format!("listing {}", dead.dir().display()))?;
    match command {
        DeadLetterCommand::List { json } => {
            if records.is_empty() && !json {
                eprintln!("nothing set aside in {}", dead.dir().display());
            }
            for record in &records {
                let (source, events) = describe(&dead.read(record)?);
                let reason = record.reason.lines().next().unwrap_or_default();
                if json {
                    let line = serde_json::json!({"position": name(record), "bytes": record.bytes,
                        "source_id": source, "events": events, "reason": record.reason});
                    println!("{line}");
                } else {
                    println!("{}  {} bytes  source {source}  {events} events  {reason}", name(record), record.bytes);
                }
            }
        }
        DeadLetterCommand::Replay => {
            let mut sink = RecordSink::new(crate::store::connect(&config.clickhouse), config.clickhouse.url.clone());
            let (mut stored, mut refused) = (0, 0);
            for record in &records {
                let payload = dead.read(record)?;
                match sink.store(&payload).await {
                    Ok(events) => {
                        dead.remove(record)?;
                        stored += 1;
                        println!("{}: stored {events} events", name(record));
                    }
                    Err(err) if err.is_refusal() => {
                        refused += 1;
                        dead.set_aside(record.at, &payload, &err.to_string())?;
                        println!("{}: refused again: {err}", name(record));
                    }
                    Err(err) => return Err(err).context("ClickHouse did not answer; nothing more replayed"),
                }
            }
            println!("{stored} batches stored, {refused} still set aside");
        }
        DeadLetterCommand::Drop { positions, all } => {
            if !all && positions.is_empty() {
                anyhow::bail!("name the batches to drop (as `meshward dead-letter list` prints them) or pass --all");
            }
            for position in &positions {
                if !records.iter().any(|r| name(r) == *position) {
                    anyhow::bail!("no batch set aside at {position} (see `meshward dead-letter list`)");
                }
            }
            for record in records.iter().filter(|r| all || positions.contains(&name(r))) {
                dead.remove(record)?;
                println!("{}: dropped", name(record));
            }
        }
    }
    Ok(())
}
