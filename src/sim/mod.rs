//! Simulators of the gateway's peers: the carriers' ends of its links and the
//! contact-center core's webhook receiver, run
//! in-process by integration tests, the load benchmark and `demo`, or
//! stand-alone through `carrier-gateway sim …` (the command line, README.md).
//!
//! They live in the daemon crate rather than in tests because users test
//! their own deployments against them too (as with SMPPSim), so they are
//! held to production quality: bounded memory, no panics on hostile input,
//! and the same protocol crate the gateway uses, in the other role.

pub mod mmsc;
pub mod smsc;
pub mod webhook_receiver;

pub use webhook_receiver::{ReceivedEvent, ReceiverOptions, RecordedRequest, WebhookReceiver};
