//! The `command_id` of every SMPP 3.4 and 5.0 PDU.
//!
//! Names are the spec's own in snake_case, because they are also the JSON form
//! of `carrier-gateway pdu` and the words operators grep for in logs.

/// Generates the enum, its wire values and its spec names from one table, so the
/// three can never disagree.
macro_rules! command_ids {
    ($($variant:ident = $value:literal, $name:literal;)*) => {
        /// An SMPP command id (SMPP 5.0 §4.7.5). Unknown ids are kept in `Other`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum CommandId {
            $(#[doc = $name] $variant,)*
            /// An id this crate does not know.
            Other(u32),
        }

        impl CommandId {
            /// Every known command id, in the spec's order.
            pub const ALL: &'static [CommandId] = &[$(CommandId::$variant,)*];

            /// The value on the wire.
            #[inline(always)]
            pub const fn value(self) -> u32 {
                match self {
                    $(CommandId::$variant => $value,)*
                    CommandId::Other(v) => v,
                }
            }

            /// The spec's name in snake_case (`"submit_sm"`), or `None` for `Other`.
            pub const fn name(self) -> Option<&'static str> {
                match self {
                    $(CommandId::$variant => Some($name),)*
                    CommandId::Other(_) => None,
                }
            }

            /// The id for a spec name in snake_case.
            pub fn from_name(name: &str) -> Option<CommandId> {
                match name {
                    $($name => Some(CommandId::$variant),)*
                    _ => None,
                }
            }
        }

        impl From<u32> for CommandId {
            fn from(v: u32) -> Self {
                match v {
                    $($value => CommandId::$variant,)*
                    other => CommandId::Other(other),
                }
            }
        }
    };
}

command_ids! {
    GenericNack = 0x8000_0000, "generic_nack";
    BindReceiver = 0x0000_0001, "bind_receiver";
    BindReceiverResp = 0x8000_0001, "bind_receiver_resp";
    BindTransmitter = 0x0000_0002, "bind_transmitter";
    BindTransmitterResp = 0x8000_0002, "bind_transmitter_resp";
    QuerySm = 0x0000_0003, "query_sm";
    QuerySmResp = 0x8000_0003, "query_sm_resp";
    SubmitSm = 0x0000_0004, "submit_sm";
    SubmitSmResp = 0x8000_0004, "submit_sm_resp";
    DeliverSm = 0x0000_0005, "deliver_sm";
    DeliverSmResp = 0x8000_0005, "deliver_sm_resp";
    Unbind = 0x0000_0006, "unbind";
    UnbindResp = 0x8000_0006, "unbind_resp";
    ReplaceSm = 0x0000_0007, "replace_sm";
    ReplaceSmResp = 0x8000_0007, "replace_sm_resp";
    CancelSm = 0x0000_0008, "cancel_sm";
    CancelSmResp = 0x8000_0008, "cancel_sm_resp";
    BindTransceiver = 0x0000_0009, "bind_transceiver";
    BindTransceiverResp = 0x8000_0009, "bind_transceiver_resp";
    Outbind = 0x0000_000B, "outbind";
    EnquireLink = 0x0000_0015, "enquire_link";
    EnquireLinkResp = 0x8000_0015, "enquire_link_resp";
    SubmitMulti = 0x0000_0021, "submit_multi";
    SubmitMultiResp = 0x8000_0021, "submit_multi_resp";
    AlertNotification = 0x0000_0102, "alert_notification";
    DataSm = 0x0000_0103, "data_sm";
    DataSmResp = 0x8000_0103, "data_sm_resp";
    BroadcastSm = 0x0000_0111, "broadcast_sm";
    BroadcastSmResp = 0x8000_0111, "broadcast_sm_resp";
    QueryBroadcastSm = 0x0000_0112, "query_broadcast_sm";
    QueryBroadcastSmResp = 0x8000_0112, "query_broadcast_sm_resp";
    CancelBroadcastSm = 0x0000_0113, "cancel_broadcast_sm";
    CancelBroadcastSmResp = 0x8000_0113, "cancel_broadcast_sm_resp";
}

impl CommandId {
    /// Whether this is a response (bit 31 set), `generic_nack` included.
    pub const fn is_response(self) -> bool {
        self.value() & 0x8000_0000 != 0
    }

    /// The response id that answers this request (`submit_sm` → `submit_sm_resp`).
    /// `None` for responses and for requests that have no response (`outbind`,
    /// `alert_notification`).
    pub fn response(self) -> Option<CommandId> {
        match self {
            CommandId::Outbind | CommandId::AlertNotification | CommandId::Other(_) => None,
            id if id.is_response() => None,
            id => Some(CommandId::from(id.value() | 0x8000_0000)),
        }
    }
}

impl std::fmt::Display for CommandId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "command_id 0x{:08x}", self.value()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_names_and_responses_agree() {
        for &id in CommandId::ALL {
            assert_eq!(CommandId::from(id.value()), id);
            let name = id.name().expect("known ids have names");
            assert_eq!(CommandId::from_name(name), Some(id));
        }
        assert_eq!(
            CommandId::SubmitSm.response(),
            Some(CommandId::SubmitSmResp)
        );
        assert_eq!(
            CommandId::EnquireLink.response(),
            Some(CommandId::EnquireLinkResp)
        );
        assert_eq!(CommandId::Outbind.response(), None);
        assert_eq!(CommandId::SubmitSmResp.response(), None);
        assert_eq!(CommandId::from(0x1234), CommandId::Other(0x1234));
        assert!(CommandId::GenericNack.is_response());
    }
}
