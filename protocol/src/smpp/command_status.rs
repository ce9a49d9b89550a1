//! SMPP `command_status` values (SMPP 3.4 §5.1.3, SMPP 5.0 §4.7.6).
//!
//! Typed because the gateway's retry policy is a table keyed by these values:
//! throttling and queue-full are transient, a bad destination is permanent.

macro_rules! command_statuses {
    ($($variant:ident = $value:literal, $name:literal, $text:literal;)*) => {
        /// An SMPP command status. Unknown values (vendor-specific ranges
        /// 0x400–0x4FF included) are kept in `Other`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum CommandStatus {
            $(#[doc = $name] #[doc = ": "] #[doc = $text] $variant,)*
            /// A status this crate does not know.
            Other(u32),
        }

        impl CommandStatus {
            /// Every known status.
            pub const ALL: &'static [CommandStatus] = &[$(CommandStatus::$variant,)*];

            /// The value on the wire.
            #[inline(always)]
            pub const fn value(self) -> u32 {
                match self {
                    $(CommandStatus::$variant => $value,)*
                    CommandStatus::Other(v) => v,
                }
            }

            /// The spec's symbolic name (`"ESME_RTHROTTLED"`), if known.
            pub const fn name(self) -> Option<&'static str> {
                match self {
                    $(CommandStatus::$variant => Some($name),)*
                    CommandStatus::Other(_) => None,
                }
            }

            /// The status whose spec name is `name` (`"ESME_RTHROTTLED"`),
            /// compared ASCII-case-insensitively, as operators write them
            /// in configuration either way.
            pub fn from_name(name: &str) -> Option<CommandStatus> {
                CommandStatus::ALL
                    .iter()
                    .copied()
                    .find(|status| status.name().is_some_and(|n| n.eq_ignore_ascii_case(name)))
            }

            /// The spec's one-line description.
            pub const fn description(self) -> &'static str {
                match self {
                    $(CommandStatus::$variant => $text,)*
                    CommandStatus::Other(_) => "unknown or vendor-specific status",
                }
            }
        }

        impl From<u32> for CommandStatus {
            fn from(v: u32) -> Self {
                match v {
                    $($value => CommandStatus::$variant,)*
                    other => CommandStatus::Other(other),
                }
            }
        }
    };
}

command_statuses! {
    Ok = 0x0000_0000, "ESME_ROK", "No error";
    InvalidMessageLength = 0x0000_0001, "ESME_RINVMSGLEN", "Message length is invalid";
    InvalidCommandLength = 0x0000_0002, "ESME_RINVCMDLEN", "Command length is invalid";
    InvalidCommandId = 0x0000_0003, "ESME_RINVCMDID", "Invalid command ID";
    IncorrectBindStatus = 0x0000_0004, "ESME_RINVBNDSTS", "Incorrect BIND status for given command";
    AlreadyBound = 0x0000_0005, "ESME_RALYBND", "ESME already in bound state";
    InvalidPriorityFlag = 0x0000_0006, "ESME_RINVPRTFLG", "Invalid priority flag";
    InvalidRegisteredDelivery = 0x0000_0007, "ESME_RINVREGDLVFLG", "Invalid registered delivery flag";
    SystemError = 0x0000_0008, "ESME_RSYSERR", "System error";
    InvalidSourceAddress = 0x0000_000A, "ESME_RINVSRCADR", "Invalid source address";
    InvalidDestinationAddress = 0x0000_000B, "ESME_RINVDSTADR", "Invalid destination address";
    InvalidMessageId = 0x0000_000C, "ESME_RINVMSGID", "Message ID is invalid";
    BindFailed = 0x0000_000D, "ESME_RBINDFAIL", "Bind failed";
    InvalidPassword = 0x0000_000E, "ESME_RINVPASWD", "Invalid password";
    InvalidSystemId = 0x0000_000F, "ESME_RINVSYSID", "Invalid system ID";
    CancelFailed = 0x0000_0011, "ESME_RCANCELFAIL", "Cancel SM failed";
    ReplaceFailed = 0x0000_0013, "ESME_RREPLACEFAIL", "Replace SM failed";
    MessageQueueFull = 0x0000_0014, "ESME_RMSGQFUL", "Message queue full";
    InvalidServiceType = 0x0000_0015, "ESME_RINVSERTYP", "Invalid service type";
    InvalidNumberOfDestinations = 0x0000_0033, "ESME_RINVNUMDESTS", "Invalid number of destinations";
    InvalidDistributionListName = 0x0000_0034, "ESME_RINVDLNAME", "Invalid distribution list name";
    InvalidDestinationFlag = 0x0000_0040, "ESME_RINVDESTFLAG", "Destination flag is invalid";
    InvalidSubmitWithReplace = 0x0000_0042, "ESME_RINVSUBREP", "Invalid submit with replace request";
    InvalidEsmClass = 0x0000_0043, "ESME_RINVESMCLASS", "Invalid esm_class field data";
    CannotSubmitToDistributionList = 0x0000_0044, "ESME_RCNTSUBDL", "Cannot submit to distribution list";
    SubmitFailed = 0x0000_0045, "ESME_RSUBMITFAIL", "submit_sm, data_sm or submit_multi failed";
    InvalidSourceTon = 0x0000_0048, "ESME_RINVSRCTON", "Invalid source address TON";
    InvalidSourceNpi = 0x0000_0049, "ESME_RINVSRCNPI", "Invalid source address NPI";
    InvalidDestinationTon = 0x0000_0050, "ESME_RINVDSTTON", "Invalid destination address TON";
    InvalidDestinationNpi = 0x0000_0051, "ESME_RINVDSTNPI", "Invalid destination address NPI";
    InvalidSystemType = 0x0000_0053, "ESME_RINVSYSTYP", "Invalid system_type field";
    InvalidReplaceIfPresent = 0x0000_0054, "ESME_RINVREPFLAG", "Invalid replace_if_present flag";
    InvalidNumberOfMessages = 0x0000_0055, "ESME_RINVNUMMSGS", "Invalid number of messages";
    Throttled = 0x0000_0058, "ESME_RTHROTTLED", "Throttling error (ESME has exceeded allowed message limits)";
    InvalidScheduledDeliveryTime = 0x0000_0061, "ESME_RINVSCHED", "Invalid scheduled delivery time";
    InvalidValidityPeriod = 0x0000_0062, "ESME_RINVEXPIRY", "Invalid message validity period (expiry time)";
    InvalidPredefinedMessage = 0x0000_0063, "ESME_RINVDFTMSGID", "Predefined message invalid or not found";
    TemporaryAppError = 0x0000_0064, "ESME_RX_T_APPN", "ESME receiver temporary app error code";
    PermanentAppError = 0x0000_0065, "ESME_RX_P_APPN", "ESME receiver permanent app error code";
    RejectedAppError = 0x0000_0066, "ESME_RX_R_APPN", "ESME receiver reject message error code";
    QueryFailed = 0x0000_0067, "ESME_RQUERYFAIL", "query_sm request failed";
    InvalidTlvStream = 0x0000_00C0, "ESME_RINVTLVSTREAM", "Error in the optional part of the PDU body";
    TlvNotAllowed = 0x0000_00C1, "ESME_RTLVNOTALLWD", "TLV not allowed";
    InvalidTlvLength = 0x0000_00C2, "ESME_RINVTLVLEN", "Invalid parameter length";
    MissingTlv = 0x0000_00C3, "ESME_RMISSINGTLV", "Expected TLV missing";
    InvalidTlvValue = 0x0000_00C4, "ESME_RINVTLVVAL", "Invalid TLV value";
    DeliveryFailure = 0x0000_00FE, "ESME_RDELIVERYFAILURE", "Transaction delivery failure";
    UnknownError = 0x0000_00FF, "ESME_RUNKNOWNERR", "Unknown error";
    ServiceTypeUnauthorized = 0x0000_0100, "ESME_RSERTYPUNAUTH", "ESME not authorised to use specified service_type";
    Prohibited = 0x0000_0101, "ESME_RPROHIBITED", "ESME prohibited from using specified operation";
    ServiceTypeUnavailable = 0x0000_0102, "ESME_RSERTYPUNAVAIL", "Specified service_type is unavailable";
    ServiceTypeDenied = 0x0000_0103, "ESME_RSERTYPDENIED", "Specified service_type is denied";
    InvalidDataCoding = 0x0000_0104, "ESME_RINVDCS", "Invalid data coding scheme";
    InvalidSourceAddressSubunit = 0x0000_0105, "ESME_RINVSRCADDRSUBUNIT", "Source address sub unit is invalid";
    InvalidDestinationAddressSubunit = 0x0000_0106, "ESME_RINVDSTADDRSUBUNIT", "Destination address sub unit is invalid";
    InvalidBroadcastFrequencyInterval = 0x0000_0107, "ESME_RINVBCASTFREQINT", "Broadcast frequency interval is invalid";
    InvalidBroadcastAliasName = 0x0000_0108, "ESME_RINVBCASTALIAS_NAME", "Broadcast alias name is invalid";
    InvalidBroadcastAreaFormat = 0x0000_0109, "ESME_RINVBCASTAREAFMT", "Broadcast area format is invalid";
    InvalidNumberOfBroadcastAreas = 0x0000_010A, "ESME_RINVNUMBCAST_AREAS", "Number of broadcast areas is invalid";
    InvalidBroadcastContentType = 0x0000_010B, "ESME_RINVBCASTCNTTYPE", "Broadcast content type is invalid";
    InvalidBroadcastMessageClass = 0x0000_010C, "ESME_RINVBCASTMSGCLASS", "Broadcast message class is invalid";
    BroadcastFailed = 0x0000_010D, "ESME_RBCASTFAIL", "broadcast_sm operation failed";
    BroadcastQueryFailed = 0x0000_010E, "ESME_RBCASTQUERYFAIL", "query_broadcast_sm operation failed";
    BroadcastCancelFailed = 0x0000_010F, "ESME_RBCASTCANCELFAIL", "cancel_broadcast_sm operation failed";
    InvalidBroadcastRepNum = 0x0000_0110, "ESME_RINVBCAST_REP", "Number of repeated broadcasts is invalid";
    InvalidBroadcastServiceGroup = 0x0000_0111, "ESME_RINVBCASTSRVGRP", "Broadcast service group is invalid";
    InvalidBroadcastChannelIndicator = 0x0000_0112, "ESME_RINVBCASTCHANIND", "Broadcast channel indicator is invalid";
}

impl CommandStatus {
    /// Whether this is `ESME_ROK`.
    #[inline(always)]
    pub const fn is_ok(self) -> bool {
        matches!(self, CommandStatus::Ok | CommandStatus::Other(0))
    }
}

impl std::fmt::Display for CommandStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{name} (0x{:08x})", self.value()),
            None => write!(f, "command_status 0x{:08x}", self.value()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip() {
        for &status in CommandStatus::ALL {
            assert_eq!(CommandStatus::from(status.value()), status);
        }
        assert_eq!(CommandStatus::from(0x58), CommandStatus::Throttled);
        assert_eq!(CommandStatus::from(0x400), CommandStatus::Other(0x400));
        assert_eq!(
            CommandStatus::from_name("ESME_RTHROTTLED"),
            Some(CommandStatus::Throttled)
        );
        assert_eq!(
            CommandStatus::from_name("esme_rx_t_appn"),
            Some(CommandStatus::TemporaryAppError)
        );
        assert_eq!(CommandStatus::from_name("ESME_NOPE"), None);
        for &status in CommandStatus::ALL {
            assert_eq!(
                status.name().and_then(CommandStatus::from_name),
                Some(status)
            );
        }
        assert_eq!(
            CommandStatus::Throttled.to_string(),
            "ESME_RTHROTTLED (0x00000058)"
        );
    }
}
