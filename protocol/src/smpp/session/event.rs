//! What the session tells its driver ([`Event`]), why a session ended
//! ([`CloseReason`]) and why a call was refused ([`SessionError`]).
//!
//! Events are the session's only output besides PDUs and timers. They are
//! designed so that nothing the application handed over is lost silently:
//! every request accepted by [`super::Session::send_request`] ends in exactly
//! one of [`Event::Response`], [`Event::MalformedResponse`],
//! [`Event::ResponseTimeout`] or [`Event::Abandoned`], each carrying the
//! caller's `tag`, so the driver can settle or requeue the outbox entry.

use std::fmt;

use crate::smpp::pdu::{Bind, Pdu};
use crate::smpp::{COctetString, CommandId, CommandStatus, DecodeError, InterfaceVersion};

use super::state::{BindKind, State};

/// Something the driver or the application must act on or record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// (ESME) The SMSC accepted our bind.
    Bound {
        /// The kind we asked for.
        kind: BindKind,
        /// The SMSC's `system_id` from the bind response.
        system_id: COctetString,
        /// The `sc_interface_version` TLV of the response; `None` when absent,
        /// which by SMPP 3.4 §5.3.2.25 means the SMSC does not support TLVs
        /// (treat it as 3.3).
        interface_version: Option<InterfaceVersion>,
    },
    /// (ESME) The SMSC refused our bind; the session is closed. The status is
    /// the response's; `ESME_RBINDFAIL` when the SMSC answered with a
    /// different bind response carrying `ESME_ROK`.
    BindRejected {
        /// Why.
        status: CommandStatus,
    },
    /// (ESME) The SMSC sent `outbind`: it has messages for us and asks us to
    /// bind. The application decides whether to call [`super::Session::bind`].
    OutbindReceived {
        /// The SMSC's `system_id`.
        system_id: COctetString,
        /// The password the SMSC presents.
        password: COctetString,
    },
    /// (SMSC) An ESME asks to bind; answer with
    /// [`super::Session::accept_bind`] or [`super::Session::reject_bind`].
    BindRequest {
        /// The bind's sequence number.
        seq: u32,
        /// The kind asked for.
        kind: BindKind,
        /// Credentials and addressing of the bind.
        bind: Bind,
    },
    /// A request from the peer that the application answers with
    /// [`super::Session::respond`] (`deliver_sm`, `data_sm`, and in the SMSC
    /// role `submit_sm`, `query_sm`, …). `alert_notification` has no response
    /// and needs none.
    Request(Pdu),
    /// The response to one of our requests, matched by sequence number. A
    /// `generic_nack` carrying that sequence number counts as the response
    /// (its `command_status` says why).
    Response {
        /// The request's sequence number.
        seq: u32,
        /// The caller's correlation tag given to `send_request`.
        tag: u64,
        /// The request's command id.
        command: CommandId,
        /// The response, unchanged.
        pdu: Pdu,
        /// The response's command id is neither the request's response id
        /// nor `generic_nack` (a non-conforming peer). It still ends the
        /// request — waiting for another answer would only end in a timeout
        /// and a duplicate resubmission — but the driver should not read
        /// fields from it: treat it as a failure with unknown outcome.
        mismatched: bool,
    },
    /// A response to one of our requests arrived but could not be decoded.
    /// The request has ended (the peer did answer; resubmitting could
    /// duplicate a message) but its outcome is unknown.
    MalformedResponse {
        /// The request's sequence number.
        seq: u32,
        /// The caller's correlation tag.
        tag: u64,
        /// The request's command id.
        command: CommandId,
        /// What was wrong with the response.
        error: DecodeError,
    },
    /// No response came within `response_timeout`; the window slot is free
    /// again. A late response will come as [`Event::UnexpectedResponse`].
    ResponseTimeout {
        /// The request's sequence number.
        seq: u32,
        /// The caller's correlation tag.
        tag: u64,
        /// The request's command id.
        command: CommandId,
    },
    /// The session closed before the request was answered. It may or may
    /// not have reached the peer; the driver requeues it. Emitted in the
    /// order the requests were sent, just before [`Event::Closed`].
    Abandoned {
        /// The request's sequence number.
        seq: u32,
        /// The caller's correlation tag.
        tag: u64,
        /// The request's command id.
        command: CommandId,
    },
    /// A response whose sequence number matches nothing outstanding (late
    /// after a timeout, or a confused peer). Worth a log line, not fatal.
    UnexpectedResponse(Pdu),
    /// A PDU from the peer could not be decoded. If it was a request, or its
    /// command id was unknown, a `generic_nack` has been queued already.
    Malformed(DecodeError),
    /// The session answered a request of the peer with an error by itself
    /// (wrong bind state, too many unanswered requests, …). For logs and
    /// metrics; nothing to do.
    RequestRefused {
        /// The request's sequence number.
        seq: u32,
        /// The request's command id.
        command: CommandId,
        /// The status it was answered with.
        status: CommandStatus,
    },
    /// Our `enquire_link` got no answer, nor did any other PDU arrive, within
    /// `response_timeout`: the connection is dead although TCP has not
    /// noticed. [`Event::Abandoned`] for every outstanding request and
    /// [`Event::Closed`] follow; the driver drops the socket and reconnects.
    LinkDead,
    /// The session is over; always the last event. The driver writes what
    /// [`super::Session::poll_transmit`] still yields (an `unbind_resp`, a
    /// bind rejection) and closes the connection.
    Closed {
        /// Why.
        reason: CloseReason,
    },
}

/// Why a session closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloseReason {
    /// We unbound and the peer answered.
    Unbound,
    /// We unbound and the peer did not answer within `unbind_timeout`.
    UnbindTimeout,
    /// The peer unbound; we answered `unbind_resp`.
    PeerUnbound,
    /// The bind was refused with this status (by the SMSC, or — in the SMSC
    /// role — by our application).
    BindRejected(CommandStatus),
    /// No bind completed within `bind_timeout`.
    BindTimeout,
    /// The link stopped answering (see [`Event::LinkDead`]).
    LinkDead,
    /// The transport reported the connection gone.
    Disconnected,
    /// The byte stream could not be framed any more.
    Framing(DecodeError),
    /// The application closed the session.
    Local,
}

impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CloseReason::Unbound => f.write_str("unbound"),
            CloseReason::UnbindTimeout => f.write_str("no unbind_resp in time"),
            CloseReason::PeerUnbound => f.write_str("the peer unbound"),
            CloseReason::BindRejected(status) => write!(f, "bind rejected: {status}"),
            CloseReason::BindTimeout => f.write_str("no bind completed in time"),
            CloseReason::LinkDead => f.write_str("the link stopped answering enquire_link"),
            CloseReason::Disconnected => f.write_str("disconnected"),
            CloseReason::Framing(error) => write!(f, "framing lost: {error}"),
            CloseReason::Local => f.write_str("closed locally"),
        }
    }
}

/// Why the session refused a call of the application.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    /// The session is closed.
    #[error("the SMPP session is closed")]
    Closed,
    /// The session is not bound yet.
    #[error("{command} needs a bound session; the session is {state}")]
    NotBound {
        /// What was attempted.
        command: CommandId,
        /// The current state.
        state: State,
    },
    /// The command is not allowed in this state, for this role or bind kind,
    /// or is not one the caller may send through this method.
    #[error("{command} is not allowed here; the session is {state}")]
    NotAllowed {
        /// What was attempted.
        command: CommandId,
        /// The current state.
        state: State,
    },
    /// Every window slot holds an outstanding request.
    #[error("the window of {window} outstanding requests is full")]
    WindowFull {
        /// The configured window.
        window: usize,
    },
    /// No request of the peer with this sequence number awaits an answer.
    #[error("no request with sequence number {seq} awaits an answer")]
    UnknownRequest {
        /// The sequence number given.
        seq: u32,
    },
    /// The response body does not answer the request.
    #[error("{got} does not answer {request}")]
    WrongResponse {
        /// The request's command id.
        request: CommandId,
        /// The body's command id.
        got: CommandId,
    },
    /// A rejection must carry an error status.
    #[error("a rejection needs an error status, not ESME_ROK")]
    OkRejection,
}
