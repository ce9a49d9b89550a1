//! The SMS services of the contact center (DESIGN §4.3): templates, IVR
//! calls and the capability matrix that says what each service may send,
//! to whom and in which session.
//!
//! Why a module of its own: the services ride on the outbound path and the
//! channel but add rules of their own — a caller waiting in the IVR may
//! get a wait-time text only from a template, only while their call is
//! registered, and only when their expected wait is long enough. Those
//! rules are pure ([`matrix`], [`render`]); the call registry ([`calls`])
//! is the one piece of state, durable like everything the API answers for.

pub mod calls;
pub mod matrix;
pub mod render;

use std::collections::BTreeMap;
use std::time::Duration;

use crate::config::{Config, ServiceKind, Template};

pub use calls::{Call, CallRegistry};
pub use matrix::{ServiceAsk, ServiceRefusal, ServiceRule, SessionUse, check_request, service_of};
pub use render::{RenderRefusal, Rendered, render, variables_as_text};

/// What the API needs of `[templates]`, `[services]` and `[calls]`
/// (replaced on SIGHUP).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceSettings {
    /// Templates by name.
    pub templates: BTreeMap<String, Template>,
    /// `min_ewt` of the services that have one.
    pub min_ewt: BTreeMap<ServiceKind, Duration>,
    /// `[calls] expire_after`.
    pub call_expiry: Duration,
}

impl ServiceSettings {
    /// The settings of a loaded configuration.
    pub fn from_config(config: &Config) -> ServiceSettings {
        ServiceSettings {
            templates: config.templates().clone(),
            min_ewt: config
                .services()
                .iter()
                .filter_map(|(kind, service)| Some((*kind, service.min_ewt?)))
                .collect(),
            call_expiry: config.calls().expire_after,
        }
    }
}
