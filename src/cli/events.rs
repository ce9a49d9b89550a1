//! `carrier-gateway events dead` and `events requeue ID`: the dead letters
//! (events the core kept refusing) of a running daemon, through its API.

use std::io::Write;
use std::path::PathBuf;

use clap::Subcommand;
use serde_json::{Value, json};

use super::CliError;
use super::api_client::{ApiClient, error_text};

#[derive(Subcommand)]
pub enum EventsCommand {
    /// List the dead letters (GET /v1/events/dead).
    Dead {
        /// The daemon's configuration file.
        #[arg(long, env = "CARRIER_GATEWAY_CONFIG")]
        config: PathBuf,
        /// Print the API's JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Send a dead letter again (POST /v1/events/dead/{id}/requeue).
    Requeue {
        /// The daemon's configuration file.
        #[arg(long, env = "CARRIER_GATEWAY_CONFIG")]
        config: PathBuf,
        /// The event id (`evt_…`).
        id: String,
    },
}

pub fn run(command: EventsCommand) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    match command {
        EventsCommand::Dead { config, json } => {
            let (status, body) = ApiClient::from_config(&config)?.get("/v1/events/dead")?;
            if status != 200 {
                return Err(CliError::Failed(anyhow::anyhow!(error_text(status, &body))));
            }
            if json {
                writeln!(out, "{body}")?;
                return Ok(());
            }
            let letters = body["dead_letters"].as_array().cloned().unwrap_or_default();
            writeln!(
                out,
                "{} dead letter(s)",
                body["count"].as_u64().unwrap_or(0)
            )?;
            if !letters.is_empty() {
                writeln!(
                    out,
                    "{:<36} {:<18} {:<24} {:>8}  {:<24} error",
                    "id", "type", "order key", "attempts", "parked at"
                )?;
            }
            for letter in &letters {
                writeln!(
                    out,
                    "{:<36} {:<18} {:<24} {:>8}  {:<24} {}",
                    text(letter, "id"),
                    text(letter, "type"),
                    text(letter, "order_key"),
                    letter["attempts"].as_u64().unwrap_or(0),
                    text(letter, "parked_at"),
                    text(letter, "error"),
                )?;
            }
        }
        EventsCommand::Requeue { config, id } => {
            let path = format!("/v1/events/dead/{id}/requeue");
            let (status, body) = ApiClient::from_config(&config)?.post(&path, &json!({}))?;
            match status {
                202 => writeln!(out, "{id}: re-queued")?,
                404 => return Err(CliError::BadInput(error_text(status, &body))),
                _ => return Err(CliError::Failed(anyhow::anyhow!(error_text(status, &body)))),
            }
        }
    }
    Ok(())
}

fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key].as_str().unwrap_or("")
}
