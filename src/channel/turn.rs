//! What one customer message does to its conversation: which session it
//! belongs to (an open one, or a new one when there is none or the open one
//! is already due), whether consent goes out first, what the menu says, and
//! which queue and language the session ends up with.
//!
//! Sans-IO like [`super::session`]: it is given the stored facts (the open
//! session, whether consent was recorded, whether the customer opted out)
//! and `now`, and returns a [`TurnPlan`]; the inbound path writes the plan
//! in the same sled transaction as the message and its `message.received`.
//! That is what makes consent exactly-once: the inbound path handles one
//! message at a time, reads the consent registry, and records consent in
//! the transaction that queues it.

use crate::config::{Language, Line, MessageKey};

use super::session::{EndReason, Session, SessionOrigin, SessionStart};

/// A system message of the channel: its kind (the outbox's `system` field
/// and the transcript's `kind`) and its text in the session's language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemText {
    /// What it is.
    pub kind: SystemKind,
    /// What it says.
    pub text: String,
}

/// The kinds of system messages that sessions send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SystemKind {
    /// `consent_message`.
    Consent,
    /// `menu_prompt`.
    MenuPrompt,
    /// `timeout_message`.
    Timeout,
    /// `expiry_message` (defaults to `timeout_message`).
    Expiry,
}

impl SystemKind {
    /// The name in the outbox record and the transcript.
    pub fn as_str(self) -> &'static str {
        match self {
            SystemKind::Consent => "consent",
            SystemKind::MenuPrompt => "menu_prompt",
            SystemKind::Timeout => "timeout",
            SystemKind::Expiry => "expiry",
        }
    }
}

/// How a session got its queue in this turn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueChoice {
    /// The queue.
    pub queue: String,
    /// `true` when the reply matched it, `false` when the menu gave up and
    /// took the line's first queue.
    pub matched: bool,
}

/// The stored facts a turn is decided on.
#[derive(Debug)]
pub struct TurnFacts<'a> {
    /// The customer's number.
    pub customer: &'a str,
    /// The business number.
    pub number: &'a str,
    /// The number's line.
    pub line: &'a Line,
    /// The open session of this customer and number, if any.
    pub open: Option<Session>,
    /// Consent was sent to this customer from this number before.
    pub consented: bool,
    /// The customer opted out of this number (no system message goes out).
    pub opted_out: bool,
    /// The message's text.
    pub text: &'a str,
    /// Unix milliseconds.
    pub now: u64,
}

/// What a turn changes.
#[derive(Debug, Clone, PartialEq)]
pub struct TurnPlan {
    /// An open session found already due, ended by this message's arrival
    /// (its timer had not fired yet).
    pub ended: Option<Session>,
    /// The session the message belongs to, as it is after the turn.
    pub session: Session,
    /// The session was opened by this message.
    pub new: bool,
    /// Consent is sent (and recorded) in this turn.
    pub consent: bool,
    /// System messages to send, in order.
    pub replies: Vec<SystemText>,
    /// The queue chosen in this turn.
    pub choice: Option<QueueChoice>,
}

/// The text of `key` in `language`, falling back to the line's base text.
pub fn line_text(line: &Line, key: MessageKey, language: &str) -> Option<String> {
    let language = Language::parse(language).unwrap_or_else(|| line.language.clone());
    line.message(key, &language).map(str::to_owned)
}

/// Decides one customer message. `new_id` gives the id of a session this
/// turn opens.
pub fn plan_turn(facts: TurnFacts<'_>, new_id: impl FnOnce() -> String) -> TurnPlan {
    let TurnFacts {
        customer,
        number,
        line,
        open,
        consented,
        opted_out,
        text,
        now,
    } = facts;
    let mut ended = None;
    let open = match open {
        Some(mut session) => match session.due(now) {
            Some(reason) => {
                session.end(reason, now);
                ended = Some(session);
                None
            }
            None => Some(session),
        },
        None => None,
    };
    let new = open.is_none();
    let mut session = open.unwrap_or_else(|| {
        Session::open(
            SessionStart {
                id: new_id(),
                customer: customer.to_owned(),
                number: number.to_owned(),
                line: line.name.clone(),
                queue: match line.queues.as_slice() {
                    [only] => Some(only.name.clone()),
                    _ => None,
                },
                language: line.language.as_str().to_owned(),
                origin: SessionOrigin::Inbound,
                idle_timeout_ms: line.idle_timeout.as_millis() as u64,
                expiry_ms: line.expiry.as_millis() as u64,
            },
            now,
        )
    });
    session.touch(now);

    let mut replies = Vec::new();
    let consent = !consented && !opted_out;
    if consent && let Some(text) = line_text(line, MessageKey::Consent, &session.language) {
        replies.push(SystemText {
            kind: SystemKind::Consent,
            text,
        });
    }
    let mut choice = None;
    let has_menu = line.queues.len() > 1;
    if has_menu && session.queue.is_none() {
        if new {
            replies.push(menu_prompt(line, &session.language));
        } else {
            match line.queue_for_reply(text) {
                Some(queue) => {
                    choice = Some(QueueChoice {
                        queue: queue.name.clone(),
                        matched: true,
                    });
                }
                None if session.menu_repeats < line.menu_repeats => {
                    session.menu_repeats += 1;
                    replies.push(menu_prompt(line, &session.language));
                }
                None => {
                    choice = line.queues.first().map(|q| QueueChoice {
                        queue: q.name.clone(),
                        matched: false,
                    });
                }
            }
        }
    }
    if let Some(choice) = &choice {
        session.queue = Some(choice.queue.clone());
        if let Some(language) = line.queue(&choice.queue).and_then(|q| q.language.as_ref()) {
            session.language = language.as_str().to_owned();
        }
    }
    if opted_out {
        replies.clear();
    }
    TurnPlan {
        ended,
        session,
        new,
        consent: consent && replies.iter().any(|r| r.kind == SystemKind::Consent),
        replies,
        choice,
    }
}

/// The facts a session opened by the gateway (service `outbound`) is
/// decided on.
#[derive(Debug)]
pub struct OpeningFacts<'a> {
    /// The customer's number.
    pub customer: &'a str,
    /// The business number.
    pub number: &'a str,
    /// The number's line.
    pub line: &'a Line,
    /// The open session of this customer and number, if any.
    pub open: Option<Session>,
    /// Consent was sent to this customer from this number before.
    pub consented: bool,
    /// The queue the request preselects (checked against the line).
    pub queue: Option<&'a str>,
    /// The language the request asks for (`None`, or not a tag: the line's).
    pub language: Option<&'a str>,
    /// `Outbound` (service `outbound`) or `Deflection`.
    pub origin: SessionOrigin,
    /// The IVR call the session belongs to (deflection).
    pub call_id: Option<&'a str>,
    /// Unix milliseconds.
    pub now: u64,
}

/// What the gateway's opening message does.
#[derive(Debug, Clone, PartialEq)]
pub struct OpeningPlan {
    /// An open session found past its deadline, ended now.
    pub ended: Option<Session>,
    /// The session the message goes out in.
    pub session: Session,
    /// The session was opened by this message (`false`: the customer's
    /// open session is joined, not replaced).
    pub new: bool,
    /// Consent, sent (and recorded) before the message.
    pub consent: Option<SystemText>,
    /// The menu prompt, sent after the message: a deflected caller picks
    /// a queue as a new inbound customer would.
    pub menu: Option<SystemText>,
}

/// Decides a message that opens a session towards the customer.
///
/// `Outbound`: a session already open with them is joined rather than cut
/// off, since the agent's message continues the conversation the customer
/// is in; no menu, the gateway's side chose the queue (or none).
///
/// `Deflection`: a caller moves from the IVR to SMS, which is a new
/// conversation. An open session ends (`closed`), and the new one gets
/// consent and, unless the request preselected a queue, the menu, as a new
/// inbound session would.
pub fn plan_opening(facts: OpeningFacts<'_>, new_id: impl FnOnce() -> String) -> OpeningPlan {
    let OpeningFacts {
        customer,
        number,
        line,
        open,
        consented,
        queue,
        language,
        origin,
        call_id,
        now,
    } = facts;
    let mut ended = None;
    let open = match open {
        Some(mut session) => match session.due(now) {
            Some(reason) => {
                session.end(reason, now);
                ended = Some(session);
                None
            }
            None if origin == SessionOrigin::Deflection => {
                session.end(EndReason::Closed, now);
                ended = Some(session);
                None
            }
            None => Some(session),
        },
        None => None,
    };
    let new = open.is_none();
    let mut session = open.unwrap_or_else(|| {
        let language = language
            .and_then(Language::parse)
            .unwrap_or_else(|| line.language.clone());
        let queue = queue
            .map(str::to_owned)
            .or_else(|| match line.queues.as_slice() {
                [only] => Some(only.name.clone()),
                _ => None,
            });
        Session::open(
            SessionStart {
                id: new_id(),
                customer: customer.to_owned(),
                number: number.to_owned(),
                line: line.name.clone(),
                queue,
                language: language.as_str().to_owned(),
                origin,
                idle_timeout_ms: line.idle_timeout.as_millis() as u64,
                expiry_ms: line.expiry.as_millis() as u64,
            },
            now,
        )
    });
    if new {
        session.call_id = call_id.map(str::to_owned);
    }
    let menu = (origin == SessionOrigin::Deflection
        && new
        && session.queue.is_none()
        && line.queues.len() > 1)
        .then(|| menu_prompt(line, &session.language));
    let consent = if consented {
        None
    } else {
        line_text(line, MessageKey::Consent, &session.language).map(|text| SystemText {
            kind: SystemKind::Consent,
            text,
        })
    };
    OpeningPlan {
        ended,
        session,
        new,
        consent,
        menu,
    }
}

fn menu_prompt(line: &Line, language: &str) -> SystemText {
    SystemText {
        kind: SystemKind::MenuPrompt,
        text: line_text(line, MessageKey::MenuPrompt, language).unwrap_or_default(),
    }
}

/// What ending a due session sends: `timeout_message` for an idle session,
/// the expiry message for an expired one (none when not configured, or to
/// an opted-out customer).
pub fn ending_reply(line: Option<&Line>, session: &Session, opted_out: bool) -> Option<SystemText> {
    if opted_out {
        return None;
    }
    let (key, kind) = match session.end_reason? {
        EndReason::IdleTimeout => (MessageKey::Timeout, SystemKind::Timeout),
        EndReason::Expired => (MessageKey::Expiry, SystemKind::Expiry),
        EndReason::Closed => return None,
    };
    let text = line_text(line?, key, &session.language)?;
    Some(SystemText { kind, text })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::time::Duration;

    use super::*;
    use crate::config::{LineMessages, Queue};

    const MIN: u64 = 60_000;

    fn queue(name: &str, keywords: &[&str], language: Option<&str>) -> Queue {
        Queue {
            name: name.into(),
            keywords: keywords.iter().map(|k| k.to_string()).collect(),
            language: language.and_then(Language::parse),
        }
    }

    fn line(queues: Vec<Queue>) -> Line {
        let mut translations = BTreeMap::new();
        let mut es = BTreeMap::new();
        es.insert(MessageKey::Timeout, "Fin.".to_owned());
        translations.insert(Language::parse("es").expect("es"), es);
        Line {
            name: "support".into(),
            language: Language::english(),
            messages: LineMessages {
                consent: "Consent.".into(),
                help: "Help.".into(),
                stop: "Stopped.".into(),
                start: "Started.".into(),
                menu_prompt: Some("1 billing, 2 tech, 3 español".into()),
                timeout: Some("Timed out.".into()),
                expiry: None,
            },
            idle_timeout: Duration::from_secs(30 * 60),
            expiry: Duration::from_secs(24 * 3600),
            queues,
            menu_repeats: 2,
            translations,
            keywords: Default::default(),
            opt_out_scope: Default::default(),
        }
    }

    fn menu_line() -> Line {
        line(vec![
            queue("billing", &["1", "billing"], None),
            queue("tech", &["2", "tech"], None),
            queue("soporte", &["3", "español"], Some("es")),
        ])
    }

    fn turn(line: &Line, open: Option<Session>, consented: bool, text: &str, now: u64) -> TurnPlan {
        plan_turn(
            TurnFacts {
                customer: "+15557654321",
                number: "+15551230001",
                line,
                open,
                consented,
                opted_out: false,
                text,
                now,
            },
            || "ses_new".to_owned(),
        )
    }

    fn kinds(plan: &TurnPlan) -> Vec<SystemKind> {
        plan.replies.iter().map(|r| r.kind).collect()
    }

    #[test]
    fn first_message_gets_consent_then_the_menu() {
        let line = menu_line();
        let plan = turn(&line, None, false, "Hi, my bill is wrong", 0);
        assert!(plan.new && plan.consent);
        assert_eq!(kinds(&plan), [SystemKind::Consent, SystemKind::MenuPrompt]);
        assert_eq!(plan.session.queue, None);
        assert_eq!(plan.session.id, "ses_new");

        let next = turn(&line, Some(plan.session), true, " 2 ", MIN);
        assert!(!next.new && !next.consent);
        assert!(next.replies.is_empty());
        assert_eq!(next.session.queue.as_deref(), Some("tech"));
        assert_eq!(
            next.choice,
            Some(QueueChoice {
                queue: "tech".into(),
                matched: true
            })
        );
        assert_eq!(next.session.last_activity, MIN);
    }

    #[test]
    fn no_match_repeats_the_prompt_then_takes_the_first_queue() {
        let line = menu_line();
        let mut session = turn(&line, None, true, "hello", 0).session;
        for _ in 0..2 {
            let plan = turn(&line, Some(session), true, "what?", 1);
            assert_eq!(kinds(&plan), [SystemKind::MenuPrompt]);
            assert_eq!(plan.choice, None);
            session = plan.session;
        }
        let plan = turn(&line, Some(session), true, "still no", 2);
        assert!(plan.replies.is_empty());
        assert_eq!(plan.session.queue.as_deref(), Some("billing"));
        assert_eq!(plan.choice.map(|c| c.matched), Some(false));
    }

    #[test]
    fn a_queue_with_a_language_switches_the_session_accent_insensitively() {
        let line = menu_line();
        let session = turn(&line, None, true, "hola", 0).session;
        let plan = turn(&line, Some(session), true, "ESPANOL", 1);
        assert_eq!(plan.session.queue.as_deref(), Some("soporte"));
        assert_eq!(plan.session.language, "es");
        let mut ended = plan.session;
        ended.end(EndReason::IdleTimeout, 2);
        assert_eq!(
            ending_reply(Some(&line), &ended, false).map(|r| r.text),
            Some("Fin.".to_owned())
        );
        assert_eq!(ending_reply(Some(&line), &ended, true), None);
    }

    #[test]
    fn one_queue_means_no_menu() {
        let line = line(vec![queue("all", &[], None)]);
        let plan = turn(&line, None, true, "hello", 0);
        assert!(plan.replies.is_empty());
        assert_eq!(plan.session.queue.as_deref(), Some("all"));
    }

    #[test]
    fn a_due_session_is_ended_and_a_new_one_opened() {
        let line = menu_line();
        let first = turn(&line, None, true, "hi", 0).session;
        let plan = turn(&line, Some(first), true, "back again", 31 * MIN);
        let ended = plan.ended.as_ref().expect("the idle session ended");
        assert_eq!(ended.end_reason, Some(EndReason::IdleTimeout));
        assert!(plan.new);
        assert_eq!(kinds(&plan), [SystemKind::MenuPrompt]);
    }

    fn opening(line: &Line, open: Option<Session>, consented: bool, now: u64) -> OpeningPlan {
        plan_opening(
            OpeningFacts {
                customer: "+15557654321",
                number: "+15551230001",
                line,
                open,
                consented,
                queue: Some("tech"),
                language: Some("es"),
                origin: SessionOrigin::Outbound,
                call_id: None,
                now,
            },
            || "ses_out".to_owned(),
        )
    }

    fn deflection(line: &Line, open: Option<Session>, queue: Option<&str>) -> OpeningPlan {
        plan_opening(
            OpeningFacts {
                customer: "+15557654321",
                number: "+15551230001",
                line,
                open,
                consented: false,
                queue,
                language: None,
                origin: SessionOrigin::Deflection,
                call_id: Some("call-1"),
                now: MIN,
            },
            || "ses_deflected".to_owned(),
        )
    }

    #[test]
    fn a_deflection_opens_a_new_channel_session_with_consent_and_menu() {
        let line = menu_line();
        let inbound = turn(&line, None, true, "hi", 0).session;
        let plan = deflection(&line, Some(inbound.clone()), None);
        assert!(plan.new);
        let ended = plan.ended.expect("the open session ends");
        assert_eq!(
            (ended.id, ended.end_reason),
            (inbound.id, Some(EndReason::Closed))
        );
        assert_eq!(plan.session.id, "ses_deflected");
        assert_eq!(plan.session.origin, SessionOrigin::Deflection);
        assert_eq!(plan.session.call_id.as_deref(), Some("call-1"));
        assert_eq!(plan.session.queue, None);
        assert_eq!(plan.consent.map(|c| c.kind), Some(SystemKind::Consent));
        assert_eq!(plan.menu.map(|m| m.kind), Some(SystemKind::MenuPrompt));
        // A preselected queue needs no menu.
        let preselected = deflection(&line, None, Some("tech"));
        assert_eq!(preselected.session.queue.as_deref(), Some("tech"));
        assert_eq!(preselected.menu, None);
    }

    #[test]
    fn the_gateway_opens_a_session_with_consent_once_and_no_menu() {
        let line = menu_line();
        let plan = opening(&line, None, false, 0);
        assert!(plan.new);
        assert_eq!(plan.session.origin, SessionOrigin::Outbound);
        assert_eq!(plan.session.queue.as_deref(), Some("tech"));
        assert_eq!(plan.session.language, "es");
        assert_eq!(plan.consent.map(|c| c.kind), Some(SystemKind::Consent));
        // Consented before: none again.
        assert_eq!(opening(&line, None, true, 0).consent, None);
        // The customer's open session is joined, not replaced ...
        let inbound = turn(&line, None, true, "hi", 0).session;
        let joined = opening(&line, Some(inbound.clone()), true, MIN);
        assert!(!joined.new && joined.ended.is_none());
        assert_eq!(joined.session, inbound);
        // ... unless it is past its deadline.
        let late = opening(&line, Some(inbound), true, 31 * MIN);
        assert!(late.new);
        assert_eq!(
            late.ended.and_then(|s| s.end_reason),
            Some(EndReason::IdleTimeout)
        );
    }

    #[test]
    fn nothing_is_sent_to_an_opted_out_customer() {
        let line = menu_line();
        let plan = plan_turn(
            TurnFacts {
                customer: "+15557654321",
                number: "+15551230001",
                line: &line,
                open: None,
                consented: false,
                opted_out: true,
                text: "hi",
                now: 0,
            },
            || "ses_x".to_owned(),
        );
        assert!(plan.replies.is_empty());
        assert!(!plan.consent, "consent is not recorded as sent");
    }
}
