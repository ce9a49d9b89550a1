//! `carrier-gateway`: the daemon binary and its operator tools.
//!
//! The command line is a contract (DESIGN §4.1); each subcommand lives in its
//! own module under `cli/`, and this file only parses arguments and maps
//! failures to exit codes (2 for bad input, 1 for everything else).

mod cli;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "carrier-gateway", version, about)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// SMPP PDU tools: decode hex to JSON, encode JSON to hex.
    Pdu {
        #[command(subcommand)]
        action: cli::pdu::PduCommand,
    },
}

fn main() -> ExitCode {
    let args = Args::parse();
    let result = match args.command {
        Command::Pdu { action } => cli::pdu::run(action),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(cli::CliError::BadInput(message)) => {
            eprintln!("carrier-gateway: {message}");
            ExitCode::from(2)
        }
        Err(cli::CliError::Failed(error)) => {
            eprintln!("carrier-gateway: {error:#}");
            ExitCode::FAILURE
        }
    }
}
