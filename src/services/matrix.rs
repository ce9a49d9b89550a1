//! The product's capability matrix (DESIGN §4.3): which service accepts
//! free text, which needs a template, which needs a registered call, which
//! checks the caller's expected wait (EWT) against `[services.NAME]
//! min_ewt`, and which session it uses or opens.
//!
//! The matrix is data ([`ServiceRule::of`]) and the checks are one pure
//! function ([`check_request`]), so the table in the docs, the API and the
//! table-driven tests read the same thing. Looking the call up (`404
//! unknown_call`) and the session (`404 unknown_session`) is the API's, the
//! part that touches the store.

use std::time::Duration;

use crate::config::ServiceKind;

/// Where a service's message goes, session-wise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionUse {
    /// The session given by `session_id` (`channel`).
    Given,
    /// A new session with the customer, with consent (`outbound`; joins the
    /// customer's open session if there is one).
    Opens,
    /// A new channel session, with consent and the menu, that replaces the
    /// customer's open one (`deflection`).
    OpensChannel,
    /// The call's: the customer's open session with the number, if any.
    Call,
    /// None (`session_less`): a reply opens a fresh inbound session.
    None,
}

/// One row of the matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceRule {
    /// The agent may send `text` of their own.
    pub free_text: bool,
    /// A `template` is required (free text is not enough).
    pub template_required: bool,
    /// A registered call (`call_id`) is required.
    pub needs_call: bool,
    /// The call ends when the message is accepted.
    pub ends_call: bool,
    /// `ewt_seconds` is checked against `min_ewt`.
    pub ewt_threshold: bool,
    /// Its session.
    pub session: SessionUse,
}

impl ServiceRule {
    /// The row of `kind`.
    pub const fn of(kind: ServiceKind) -> ServiceRule {
        let (free_text, needs_call, ewt_threshold, session) = match kind {
            ServiceKind::Channel => (true, false, false, SessionUse::Given),
            ServiceKind::Outbound => (true, false, false, SessionUse::Opens),
            ServiceKind::SessionLess => (true, false, false, SessionUse::None),
            ServiceKind::WaitTime => (false, true, true, SessionUse::Call),
            ServiceKind::InCall => (true, true, false, SessionUse::Call),
            ServiceKind::Deflection => (false, true, true, SessionUse::OpensChannel),
            ServiceKind::AppLaunch => (false, true, false, SessionUse::Call),
        };
        ServiceRule {
            free_text,
            template_required: !free_text,
            needs_call,
            ends_call: matches!(kind, ServiceKind::Deflection),
            ewt_threshold,
            session,
        }
    }
}

/// The parts of a send request the matrix looks at.
#[derive(Debug, Clone, Copy, Default)]
pub struct ServiceAsk<'a> {
    /// `text` is given (and not empty).
    pub text: bool,
    /// `template`.
    pub template: Option<&'a str>,
    /// `media` is given (and not empty).
    pub media: bool,
    /// `session_id`.
    pub session_id: Option<&'a str>,
    /// `call_id`.
    pub call_id: Option<&'a str>,
    /// `ewt_seconds`.
    pub ewt_seconds: Option<u64>,
    /// `queue`.
    pub queue: Option<&'a str>,
}

/// Why the matrix refuses a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ServiceRefusal {
    /// `422 service_rule`, with the sentence naming the rule.
    #[error("{0}")]
    Rule(String),
    /// `422 below_ewt_threshold`.
    #[error(
        "service `{service}` needs an expected wait of at least {min_ewt} s; \
         ewt_seconds is {ewt_seconds}"
    )]
    BelowEwt {
        /// The service.
        service: &'static str,
        /// Its threshold, seconds.
        min_ewt: u64,
        /// The request's.
        ewt_seconds: u64,
    },
}

/// The service a request names, or its default: `channel` with a
/// `session_id`, `session_less` without.
pub fn service_of(
    name: Option<&str>,
    session_id: Option<&str>,
) -> Result<ServiceKind, ServiceRefusal> {
    match name {
        None if session_id.is_some() => Ok(ServiceKind::Channel),
        None => Ok(ServiceKind::SessionLess),
        Some(name) => ServiceKind::parse(name).ok_or_else(|| {
            let names: Vec<&str> = ServiceKind::ALL.iter().map(|k| k.as_str()).collect();
            ServiceRefusal::Rule(format!(
                "there is no service {name:?}; the services are {}",
                names.join(", ")
            ))
        }),
    }
}

/// Checks a request against its service's row. `min_ewt` is the service's
/// `[services.NAME] min_ewt` (`None`: no threshold configured, so
/// `ewt_seconds` is not required).
pub fn check_request(
    kind: ServiceKind,
    ask: &ServiceAsk<'_>,
    min_ewt: Option<Duration>,
) -> Result<ServiceRule, ServiceRefusal> {
    let rule = ServiceRule::of(kind);
    let name = kind.as_str();
    let refuse = |why: String| Err(ServiceRefusal::Rule(why));
    if ask.text && ask.template.is_some() {
        return refuse(format!(
            "give either `text` or `template`, not both (service `{name}`)"
        ));
    }
    if rule.template_required && ask.template.is_none() {
        return refuse(if ask.text {
            format!(
                "service `{name}` sends a predefined template only: give `template` (and its `variables`), not `text`"
            )
        } else {
            format!("service `{name}` needs a `template`")
        });
    }
    if rule.template_required && ask.media {
        return refuse(format!(
            "service `{name}` sends a predefined template only, without `media`"
        ));
    }
    match rule.session {
        SessionUse::Given if ask.session_id.is_none() => {
            return refuse(
                "service `channel` sends within a session: give its `session_id`".to_owned(),
            );
        }
        SessionUse::Given => {}
        _ if ask.session_id.is_some() => {
            return refuse(match rule.session {
                SessionUse::Opens | SessionUse::OpensChannel => format!(
                    "service `{name}` opens a new session: leave out `session_id` \
                     (or send with service `channel` to write in that session)"
                ),
                SessionUse::Call => {
                    format!("service `{name}` writes in the call's session: leave out `session_id`")
                }
                _ => format!(
                    "a `{name}` message belongs to no session: leave out `session_id`, \
                     or `service` (which then defaults to `channel`)"
                ),
            });
        }
        _ => {}
    }
    if rule.needs_call && ask.call_id.is_none() {
        return refuse(format!(
            "service `{name}` is for a caller in the IVR: give the registered call's `call_id`"
        ));
    }
    if rule.ewt_threshold
        && let Some(min_ewt) = min_ewt
    {
        let min_ewt = min_ewt.as_secs();
        let Some(ewt_seconds) = ask.ewt_seconds else {
            return refuse(format!(
                "service `{name}` checks the caller's expected wait against min_ewt ({min_ewt} s): give `ewt_seconds`"
            ));
        };
        if ewt_seconds < min_ewt {
            return Err(ServiceRefusal::BelowEwt {
                service: name,
                min_ewt,
                ewt_seconds,
            });
        }
    }
    Ok(rule)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Option<Duration> = Some(Duration::from_secs(120));

    fn ask() -> ServiceAsk<'static> {
        ServiceAsk::default()
    }

    /// The matrix of DESIGN §4.3, row by row: free text, template, call,
    /// EWT, session.
    #[test]
    fn the_matrix_is_the_contract() {
        use ServiceKind::*;
        let rows = [
            (Channel, true, false, false, SessionUse::Given),
            (Outbound, true, false, false, SessionUse::Opens),
            (SessionLess, true, false, false, SessionUse::None),
            (WaitTime, false, true, true, SessionUse::Call),
            (InCall, true, true, false, SessionUse::Call),
            (Deflection, false, true, true, SessionUse::OpensChannel),
            (AppLaunch, false, true, false, SessionUse::Call),
        ];
        for (kind, free_text, call, ewt, session) in rows {
            let rule = ServiceRule::of(kind);
            assert_eq!(rule.free_text, free_text, "{kind:?}");
            assert_eq!(rule.template_required, !free_text, "{kind:?}");
            assert_eq!(rule.needs_call, call, "{kind:?}");
            assert_eq!(rule.ewt_threshold, ewt, "{kind:?}");
            assert_eq!(rule.ewt_threshold, kind.has_ewt_threshold(), "{kind:?}");
            assert_eq!(rule.session, session, "{kind:?}");
            assert_eq!(rule.ends_call, kind == Deflection, "{kind:?}");
        }
    }

    #[test]
    fn defaults_follow_the_session_id() {
        assert_eq!(service_of(None, Some("ses_1")), Ok(ServiceKind::Channel));
        assert_eq!(service_of(None, None), Ok(ServiceKind::SessionLess));
        assert!(
            matches!(service_of(Some("sms"), None), Err(ServiceRefusal::Rule(m)) if m.contains("wait_time"))
        );
    }

    #[test]
    fn free_text_templates_and_calls() {
        let text = ServiceAsk {
            text: true,
            ..ask()
        };
        let template = ServiceAsk {
            template: Some("t"),
            ..ask()
        };
        let call = |a: ServiceAsk<'static>| ServiceAsk {
            call_id: Some("c1"),
            ..a
        };
        // Free text where the matrix says no.
        for kind in [
            ServiceKind::WaitTime,
            ServiceKind::Deflection,
            ServiceKind::AppLaunch,
        ] {
            let refusal = check_request(
                kind,
                &call(ServiceAsk {
                    ewt_seconds: Some(600),
                    ..text
                }),
                MIN,
            );
            assert!(
                matches!(refusal, Err(ServiceRefusal::Rule(m)) if m.contains("template")),
                "{kind:?}"
            );
        }
        assert!(check_request(ServiceKind::InCall, &call(text), MIN).is_ok());
        assert!(check_request(ServiceKind::InCall, &call(template), MIN).is_ok());
        assert!(check_request(ServiceKind::AppLaunch, &call(template), MIN).is_ok());
        // No call.
        let refusal = check_request(ServiceKind::InCall, &text, MIN);
        assert!(matches!(refusal, Err(ServiceRefusal::Rule(m)) if m.contains("call_id")));
        // Services without a call ignore it.
        assert!(check_request(ServiceKind::SessionLess, &call(text), MIN).is_ok());
        // Both text and template.
        let both = ServiceAsk {
            text: true,
            template: Some("t"),
            ..ask()
        };
        assert!(check_request(ServiceKind::SessionLess, &both, MIN).is_err());
    }

    #[test]
    fn ewt_is_checked_at_the_threshold() {
        let base = ServiceAsk {
            template: Some("wait_time"),
            call_id: Some("c1"),
            ..ask()
        };
        let at = |s| {
            check_request(
                ServiceKind::WaitTime,
                &ServiceAsk {
                    ewt_seconds: Some(s),
                    ..base
                },
                MIN,
            )
        };
        assert!(at(120).is_ok(), "equal to min_ewt is accepted");
        assert!(at(121).is_ok());
        assert_eq!(
            at(119),
            Err(ServiceRefusal::BelowEwt {
                service: "wait_time",
                min_ewt: 120,
                ewt_seconds: 119
            })
        );
        let missing = check_request(ServiceKind::WaitTime, &base, MIN);
        assert!(matches!(missing, Err(ServiceRefusal::Rule(m)) if m.contains("ewt_seconds")));
        // No threshold configured: nothing to check.
        assert!(check_request(ServiceKind::WaitTime, &base, None).is_ok());
        // A service without a threshold ignores ewt_seconds.
        let in_call = ServiceAsk {
            ewt_seconds: Some(1),
            ..base
        };
        assert!(check_request(ServiceKind::InCall, &in_call, MIN).is_ok());
    }

    #[test]
    fn sessions_and_queues() {
        let text = ServiceAsk {
            text: true,
            ..ask()
        };
        assert!(check_request(ServiceKind::Channel, &text, None).is_err());
        let in_session = ServiceAsk {
            session_id: Some("ses_1"),
            ..text
        };
        assert!(check_request(ServiceKind::Channel, &in_session, None).is_ok());
        for kind in [ServiceKind::Outbound, ServiceKind::SessionLess] {
            assert!(check_request(kind, &in_session, None).is_err(), "{kind:?}");
        }
        let queued = ServiceAsk {
            queue: Some("tech"),
            ..text
        };
        assert!(check_request(ServiceKind::Outbound, &queued, None).is_ok());
        // `queue` matters only to a service that opens a session; the
        // others ignore it, as services without a call ignore `call_id`.
        assert!(check_request(ServiceKind::SessionLess, &queued, None).is_ok());
    }
}
