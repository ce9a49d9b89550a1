//! `carrier-gateway pdu decode HEX` and `pdu encode < JSON`: the operator's
//! window into SMPP captures, and a way to craft PDUs for tests.
//!
//! `decode` accepts one or more PDUs back to back (whitespace and a `0x`
//! prefix are ignored) and prints one JSON object per PDU; `encode` reads a
//! stream of such objects (or one JSON array of them) and prints the hex of
//! all of them. `encode` of what `decode` printed gives back the same bytes.
//! Both check the whole input before printing anything, and `encode`
//! requires every PDU's `sequence_number`.

use std::io::{Read, Write};

use bytes::Bytes;
use carrier_protocol::smpp::{self, FrameCheck, Pdu};
use clap::Subcommand;

use super::CliError;

#[derive(Subcommand)]
pub enum PduCommand {
    /// Decode SMPP PDUs given as hex; print each as a JSON object.
    Decode {
        /// The PDU octets in hex (spaces allowed).
        hex: String,
        /// One line per PDU instead of indented JSON.
        #[arg(long)]
        compact: bool,
    },
    /// Read JSON PDUs on stdin; print their octets as hex.
    Encode,
}

pub fn run(command: PduCommand) -> Result<(), CliError> {
    match command {
        PduCommand::Decode { hex, compact } => decode(&hex, compact),
        PduCommand::Encode => encode(),
    }
}

fn decode(hex: &str, compact: bool) -> Result<(), CliError> {
    let trimmed = hex.trim();
    let digits = trimmed
        .strip_prefix("0x")
        .or_else(|| trimmed.strip_prefix("0X"))
        .unwrap_or(trimmed);
    let octets = carrier_protocol::hex::decode(digits)
        .map_err(|e| CliError::BadInput(format!("not hex: {e}")))?;
    if octets.is_empty() {
        return Err(CliError::BadInput("no octets given".to_owned()));
    }
    let wire = Bytes::from(octets);
    let mut at = 0;
    // Everything is decoded before anything is printed: bad input prints
    // nothing half-done.
    let mut texts = Vec::new();
    while at < wire.len() {
        let rest = wire.slice(at..);
        let len = match smpp::check_frame(&rest, u32::MAX as usize) {
            Ok(FrameCheck::Complete(len)) => len,
            Ok(FrameCheck::Incomplete(missing)) => {
                return Err(CliError::BadInput(format!(
                    "PDU at octet {at} is incomplete: {missing} more octets needed"
                )));
            }
            Err(e) => return Err(CliError::BadInput(format!("PDU at octet {at}: {e}"))),
        };
        let pdu = Pdu::decode(&rest.slice(..len))
            .map_err(|e| CliError::BadInput(format!("PDU at octet {at}: {e}")))?;
        let json = smpp::json::to_json(&pdu);
        let text = if compact {
            serde_json::to_string(&json)
        } else {
            serde_json::to_string_pretty(&json)
        }
        .map_err(|e| CliError::Failed(e.into()))?;
        texts.push(text);
        at += len;
    }
    let mut out = std::io::stdout().lock();
    for text in texts {
        writeln!(out, "{text}")?;
    }
    Ok(())
}

fn encode() -> Result<(), CliError> {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input)?;
    let mut pdus = Vec::new();
    for value in serde_json::Deserializer::from_str(&input).into_iter::<serde_json::Value>() {
        let value = value.map_err(|e| CliError::BadInput(format!("invalid JSON: {e}")))?;
        match value {
            serde_json::Value::Array(items) => pdus.extend(items),
            other => pdus.push(other),
        }
    }
    if pdus.is_empty() {
        return Err(CliError::BadInput("no PDU on stdin".to_owned()));
    }
    let mut hex = String::new();
    for (i, value) in pdus.iter().enumerate() {
        let pdu = smpp::json::from_json(value)
            .map_err(|e| CliError::BadInput(format!("PDU {}: {e}", i + 1)))?;
        hex.push_str(&carrier_protocol::hex::encode(&pdu.to_bytes()));
    }
    writeln!(std::io::stdout().lock(), "{hex}")?;
    Ok(())
}
