//! Who may send which request in which session state: the SMPP operation
//! matrix as code.
//!
//! SMPP 3.4 §2.3 (table 2-1) and SMPP 5.0 §2.4 fix, per PDU, the bind states
//! it is legal in and the direction it travels. Both directions of the
//! session use the same table: [`BindKind::permits`] decides whether we may
//! send a request (so an illegal one is refused locally, before it costs a
//! round trip) and whether the peer may (so an illegal one is answered with
//! `ESME_RINVBNDSTS`). Keeping it in one function means the two can never
//! disagree.

use std::fmt;

use crate::smpp::CommandId;
use crate::smpp::pdu::{Bind, BindResp, Body};

/// Which end of the SMPP session we are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// The client: we bind and submit (the gateway's carrier transport).
    Esme,
    /// The server: we accept binds and answer submits (the SMSC simulator).
    Smsc,
}

impl Role {
    /// The other end.
    pub const fn peer(self) -> Role {
        match self {
            Role::Esme => Role::Smsc,
            Role::Smsc => Role::Esme,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::Esme => "ESME",
            Role::Smsc => "SMSC",
        })
    }
}

/// The three kinds of bind; the names are the ESME's point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BindKind {
    /// `bind_transmitter`: the ESME submits, nothing is delivered to it.
    Transmitter,
    /// `bind_receiver`: the SMSC delivers, the ESME may not submit.
    Receiver,
    /// `bind_transceiver`: both.
    Transceiver,
}

impl BindKind {
    /// The bind request's command id.
    pub const fn request_id(self) -> CommandId {
        match self {
            BindKind::Transmitter => CommandId::BindTransmitter,
            BindKind::Receiver => CommandId::BindReceiver,
            BindKind::Transceiver => CommandId::BindTransceiver,
        }
    }

    /// The bind response's command id.
    pub const fn response_id(self) -> CommandId {
        match self {
            BindKind::Transmitter => CommandId::BindTransmitterResp,
            BindKind::Receiver => CommandId::BindReceiverResp,
            BindKind::Transceiver => CommandId::BindTransceiverResp,
        }
    }

    /// The kind a bind request's command id asks for.
    pub const fn from_request(id: CommandId) -> Option<BindKind> {
        match id {
            CommandId::BindTransmitter => Some(BindKind::Transmitter),
            CommandId::BindReceiver => Some(BindKind::Receiver),
            CommandId::BindTransceiver => Some(BindKind::Transceiver),
            _ => None,
        }
    }

    /// Whether the ESME may submit (transmitter or transceiver).
    pub const fn esme_transmits(self) -> bool {
        !matches!(self, BindKind::Receiver)
    }

    /// Whether the SMSC may deliver to the ESME (receiver or transceiver).
    pub const fn esme_receives(self) -> bool {
        !matches!(self, BindKind::Transmitter)
    }

    /// Whether `sender` may send the request `command` on a session bound as
    /// `self` (SMPP 3.4 table 2-1, SMPP 5.0 §2.4). Binds, outbind and
    /// responses are not covered: they belong to the open state or to no
    /// state, and the session handles them itself.
    pub const fn permits(self, sender: Role, command: CommandId) -> bool {
        use CommandId as C;
        match command {
            C::EnquireLink | C::Unbind => true,
            // ESME → SMSC, transmitter or transceiver.
            C::SubmitSm
            | C::SubmitMulti
            | C::QuerySm
            | C::CancelSm
            | C::ReplaceSm
            | C::BroadcastSm
            | C::QueryBroadcastSm
            | C::CancelBroadcastSm => matches!(sender, Role::Esme) && self.esme_transmits(),
            // SMSC → ESME, receiver or transceiver.
            C::DeliverSm | C::AlertNotification => {
                matches!(sender, Role::Smsc) && self.esme_receives()
            }
            // Both ways, each in the direction the bind opened.
            C::DataSm => match sender {
                Role::Esme => self.esme_transmits(),
                Role::Smsc => self.esme_receives(),
            },
            _ => false,
        }
    }

    /// The bind request body of this kind.
    pub(crate) fn request(self, bind: Bind) -> Body {
        match self {
            BindKind::Transmitter => Body::BindTransmitter(bind),
            BindKind::Receiver => Body::BindReceiver(bind),
            BindKind::Transceiver => Body::BindTransceiver(bind),
        }
    }

    /// The bind response body of this kind.
    pub(crate) fn response(self, resp: BindResp) -> Body {
        match self {
            BindKind::Transmitter => Body::BindTransmitterResp(resp),
            BindKind::Receiver => Body::BindReceiverResp(resp),
            BindKind::Transceiver => Body::BindTransceiverResp(resp),
        }
    }
}

impl fmt::Display for BindKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BindKind::Transmitter => "transmitter",
            BindKind::Receiver => "receiver",
            BindKind::Transceiver => "transceiver",
        })
    }
}

/// The session's state (SMPP 3.4 §2.3, with the transitions made explicit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Connected, not bound.
    Open,
    /// A bind is in progress: as ESME we sent it and await the response; as
    /// SMSC we received it and await the application's accept or reject.
    Binding(BindKind),
    /// Bound; requests flow as the bind kind allows.
    Bound(BindKind),
    /// We sent `unbind` and await `unbind_resp`; no new requests, but
    /// responses to outstanding ones and the peer's requests still arrive.
    Unbinding(BindKind),
    /// Finished; the driver closes the connection (after writing what
    /// [`super::Session::poll_transmit`] still yields).
    Closed,
}

impl State {
    /// The bind kind, while bound or unbinding.
    pub const fn bound_kind(self) -> Option<BindKind> {
        match self {
            State::Bound(kind) | State::Unbinding(kind) => Some(kind),
            _ => None,
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            State::Open => f.write_str("open"),
            State::Binding(kind) => write!(f, "binding as {kind}"),
            State::Bound(kind) => write!(f, "bound as {kind}"),
            State::Unbinding(kind) => write!(f, "unbinding (was bound as {kind})"),
            State::Closed => f.write_str("closed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_matrix() {
        use BindKind::*;
        use CommandId as C;
        // ESME requests.
        assert!(Transmitter.permits(Role::Esme, C::SubmitSm));
        assert!(Transceiver.permits(Role::Esme, C::SubmitMulti));
        assert!(!Receiver.permits(Role::Esme, C::SubmitSm));
        assert!(!Receiver.permits(Role::Esme, C::DataSm));
        assert!(Receiver.permits(Role::Esme, C::EnquireLink));
        assert!(!Transceiver.permits(Role::Esme, C::DeliverSm));
        // SMSC requests.
        assert!(Receiver.permits(Role::Smsc, C::DeliverSm));
        assert!(Transceiver.permits(Role::Smsc, C::AlertNotification));
        assert!(!Transmitter.permits(Role::Smsc, C::DeliverSm));
        assert!(!Transmitter.permits(Role::Smsc, C::DataSm));
        assert!(!Transceiver.permits(Role::Smsc, C::SubmitSm));
        assert!(Transmitter.permits(Role::Smsc, C::Unbind));
        // Never within a bound session.
        for kind in [Transmitter, Receiver, Transceiver] {
            for role in [Role::Esme, Role::Smsc] {
                assert!(!kind.permits(role, C::BindTransceiver));
                assert!(!kind.permits(role, C::Outbind));
                assert!(!kind.permits(role, C::SubmitSmResp));
                assert!(!kind.permits(role, C::Other(0x99)));
            }
        }
    }

    #[test]
    fn bind_ids() {
        for kind in [
            BindKind::Transmitter,
            BindKind::Receiver,
            BindKind::Transceiver,
        ] {
            assert_eq!(BindKind::from_request(kind.request_id()), Some(kind));
            assert_eq!(kind.request_id().response(), Some(kind.response_id()));
            assert_eq!(
                kind.request(Bind::default()).command_id(),
                kind.request_id()
            );
            assert_eq!(
                kind.response(BindResp::default()).command_id(),
                kind.response_id()
            );
        }
    }
}
