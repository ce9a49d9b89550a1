//! carrier-gateway: the daemon's library.
//!
//! Everything except argument parsing lives here, so that integration tests
//! and benchmarks can start the real server tasks (and the embedded carrier
//! simulators and webhook sink) in-process, while `main.rs` stays a thin
//! command-line front end. The layout follows a message's journey: out,
//! `api` → `store` → `outbound` → `transport`; in, `transport` → `inbound`
//! → `core_link`. `docs/architecture.md` draws the whole map.

pub mod api;
pub mod backoff;
pub mod channel;
pub mod cli;
pub mod config;
pub mod core_link;
pub mod daemon;
pub mod inbound;
pub mod media;
pub mod message_status;
pub mod metrics;
pub mod outbound;
pub mod services;
pub mod settings;
pub mod sim;
pub mod store;
pub mod systemd;
pub mod tls;
pub mod transport;
