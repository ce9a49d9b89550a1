//! The subcommands of `carrier-gateway`, one module each.

pub mod api_client;
pub mod demo;
pub mod events;
pub mod pdu;
pub mod run;
pub mod status;

/// How a subcommand failed: bad input (exit 2) or anything else (exit 1).
#[derive(Debug)]
pub enum CliError {
    /// The user's input is wrong; the message says where.
    BadInput(String),
    /// Something else failed (I/O on stdout, say).
    Failed(anyhow::Error),
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CliError::BadInput(message) => f.write_str(message),
            CliError::Failed(error) => write!(f, "{error:#}"),
        }
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        CliError::Failed(e.into())
    }
}
