//! `carrier-gateway`: the daemon binary and its operator tools.
//!
//! The command line is a contract (the command line, README.md); each subcommand lives in its
//! own module under `cli/`, and this file only parses arguments and maps
//! failures to exit codes (2 for bad input, 1 for everything else).

use std::path::PathBuf;
use std::process::ExitCode;

use carrier_gateway::cli;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "carrier-gateway", version, about)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the daemon in the foreground (systemd Type=notify).
    Run {
        /// The configuration file.
        #[arg(long, env = "CARRIER_GATEWAY_CONFIG")]
        config: PathBuf,
    },
    /// Validate a configuration file: exit 0, or print every error and exit 2.
    CheckConfig {
        /// The configuration file.
        #[arg(long, env = "CARRIER_GATEWAY_CONFIG")]
        config: PathBuf,
    },
    /// The gateway with embedded carrier simulators and a console webhook
    /// sink, on a built-in configuration.
    Demo {
        /// Stop once the sample message is delivered.
        #[arg(long)]
        once: bool,
    },
    /// Carrier simulators to test against.
    Sim {
        #[command(subcommand)]
        which: SimCommand,
    },
    /// The events the core kept refusing (dead letters) of a running
    /// daemon: list them, send them again.
    Events {
        #[command(subcommand)]
        action: cli::events::EventsCommand,
    },
    /// The running daemon's live view (GET /v1/status): carriers' links,
    /// numbers' queues and limits, depths and backlogs.
    Status {
        /// The daemon's configuration file.
        #[arg(long, env = "CARRIER_GATEWAY_CONFIG")]
        config: PathBuf,
        /// Print the API's JSON instead of tables.
        #[arg(long)]
        json: bool,
    },
    /// SMPP PDU tools: decode hex to JSON, encode JSON to hex.
    Pdu {
        #[command(subcommand)]
        action: cli::pdu::PduCommand,
    },
}

#[derive(Subcommand)]
enum SimCommand {
    /// An SMPP SMSC: accepts binds, answers submits, sends receipts and MO.
    // Boxed: the simulator's many flags would make every `Command` as large.
    Smsc(Box<carrier_gateway::sim::smsc::SmscArgs>),
    /// An MM7 MMSC: accepts submits, answers with message ids, posts
    /// delivery reports and MO MMS.
    Mmsc(Box<carrier_gateway::sim::mmsc::MmscArgs>),
}

fn main() -> ExitCode {
    let args = Args::parse();
    let result = match args.command {
        Command::Run { config } => cli::run::run(&config),
        Command::CheckConfig { config } => {
            let report = carrier_gateway::config::check_config(&config);
            print!("{}", report.stdout);
            eprint!("{}", report.stderr);
            return ExitCode::from(report.exit_code);
        }
        Command::Demo { once } => cli::demo::run(once),
        Command::Pdu { action } => cli::pdu::run(action),
        Command::Events { action } => cli::events::run(action),
        Command::Status { config, json } => cli::status::run(&config, json),
        Command::Sim { which } => run_sim(which),
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

/// Runs a simulator until SIGINT or SIGTERM. Bad input (an invalid MO
/// file, a bad setting) exits 2 like every other command's; anything else 1.
fn run_sim(which: SimCommand) -> Result<(), cli::CliError> {
    use carrier_gateway::sim::{mmsc, smsc};
    cli::run::init_logging();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let until_signal = || async {
        if let Err(error) = smsc::termination_signal().await {
            tracing::warn!(%error, "cannot wait for signals");
        }
    };
    let result = match which {
        SimCommand::Smsc(args) => runtime
            .block_on(smsc::run_cli(args.to_config(), until_signal()))
            .map(drop),
        SimCommand::Mmsc(args) => args
            .to_config()
            .map_err(anyhow::Error::from)
            .and_then(|config| runtime.block_on(mmsc::run_cli(config, until_signal())))
            .map(drop),
    };
    result.map_err(|e| match e.downcast_ref::<std::io::Error>() {
        Some(io)
            if matches!(
                io.kind(),
                std::io::ErrorKind::InvalidData | std::io::ErrorKind::InvalidInput
            ) =>
        {
            cli::CliError::BadInput(format!("{e:#}"))
        }
        _ => cli::CliError::Failed(e),
    })
}
