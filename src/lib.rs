//! carrier-gateway: the daemon's library.
//!
//! Everything except argument parsing lives here, so that integration tests
//! and benchmarks can start the real server tasks (and the embedded carrier
//! simulators and webhook sink) in-process, while `main.rs` stays a thin
//! command-line front end. The layout follows a message's journey: `api` →
//! `store` → `outbound` → `transport`, and back through `core_link`.

pub mod api;
pub mod cli;
pub mod config;
pub mod core_link;
pub mod daemon;
pub mod metrics;
pub mod outbound;
pub mod settings;
pub mod sim;
pub mod store;
pub mod systemd;
pub mod transport;
