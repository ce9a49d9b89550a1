//! `carrier-gateway check-config --config FILE` (the command line, README.md): validate, then
//! exit 0 with a one-line summary, or print every error and exit 2.
//!
//! The check returns what to print and the exit code instead of printing, so
//! that the binary's `main` stays a thin mapping and tests can assert on the
//! exact output.

use std::path::Path;

use crate::config::Config;

/// What `check-config` prints and how it exits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckReport {
    /// 0 when the configuration is valid, 2 when it is not (bad input).
    pub exit_code: u8,
    /// For standard output: `configuration OK: …` and a newline, or nothing.
    pub stdout: String,
    /// For standard error: each error on its own line, or nothing.
    pub stderr: String,
}

/// Loads and validates the configuration at `path` exactly as `run` would
/// (including `env:` secrets), and reports the outcome.
pub fn check_config(path: impl AsRef<Path>) -> CheckReport {
    match Config::load(path) {
        Ok(config) => CheckReport {
            exit_code: 0,
            stdout: format!("configuration OK: {}\n", config.summary()),
            stderr: String::new(),
        },
        Err(errors) => CheckReport {
            exit_code: 2,
            stdout: String::new(),
            stderr: format!("{errors}\n"),
        },
    }
}
