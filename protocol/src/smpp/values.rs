//! Typed one-octet fields: TON, NPI, esm_class, registered_delivery,
//! data_coding, message_state, priority_flag, interface_version.
//!
//! Enumerations carry the spec's named values plus `Other(u8)`, so a value from
//! a carrier that the spec does not name still round-trips byte for byte.
//! Bit fields (esm_class, registered_delivery) are newtypes over the octet with
//! accessors for their parts, because their parts combine freely.

/// Generates a one-octet enumeration with named values and an `Other` escape.
macro_rules! u8_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $value:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $(#[allow(missing_docs)] $variant,)*
            /// A value the spec does not name.
            Other(u8),
        }

        impl $name {
            /// The octet on the wire.
            pub const fn value(self) -> u8 {
                match self {
                    $($name::$variant => $value,)*
                    $name::Other(v) => v,
                }
            }
        }

        impl From<u8> for $name {
            fn from(v: u8) -> Self {
                match v {
                    $($value => $name::$variant,)*
                    other => $name::Other(other),
                }
            }
        }

        impl From<$name> for u8 {
            fn from(v: $name) -> u8 {
                v.value()
            }
        }
    };
}

/// Gives a [`u8_enum!`] type names for its named values, for configuration
/// files and logs: `NAMED` (every named value, in the spec's order),
/// `name()` and `from_name()`. The names are the spec's, in lower
/// snake_case (`"network_specific"`), or its version numbers (`"3.4"`).
macro_rules! u8_enum_names {
    ($name:ident { $($variant:ident = $text:literal,)* }) => {
        impl $name {
            /// Every value the spec names, in the spec's order.
            pub const NAMED: &'static [$name] = &[$($name::$variant,)*];

            /// The value's name, or `None` for `Other`.
            pub const fn name(self) -> Option<&'static str> {
                match self {
                    $($name::$variant => Some($text),)*
                    $name::Other(_) => None,
                }
            }

            /// The value named `name` (exactly as [`Self::name`] writes it).
            pub fn from_name(name: &str) -> Option<$name> {
                match name {
                    $($text => Some($name::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

u8_enum! {
    /// Type of Number (SMPP 3.4 §5.2.5).
    Ton {
        Unknown = 0x00,
        International = 0x01,
        National = 0x02,
        NetworkSpecific = 0x03,
        SubscriberNumber = 0x04,
        Alphanumeric = 0x05,
        Abbreviated = 0x06,
    }
}

u8_enum_names! {
    Ton {
        Unknown = "unknown",
        International = "international",
        National = "national",
        NetworkSpecific = "network_specific",
        SubscriberNumber = "subscriber_number",
        Alphanumeric = "alphanumeric",
        Abbreviated = "abbreviated",
    }
}

u8_enum! {
    /// Numbering Plan Indicator (SMPP 3.4 §5.2.6).
    Npi {
        Unknown = 0x00,
        Isdn = 0x01,
        Data = 0x03,
        Telex = 0x04,
        LandMobile = 0x06,
        National = 0x08,
        Private = 0x09,
        Ermes = 0x0A,
        Internet = 0x0E,
        WapClientId = 0x12,
    }
}

u8_enum_names! {
    Npi {
        Unknown = "unknown",
        Isdn = "isdn",
        Data = "data",
        Telex = "telex",
        LandMobile = "land_mobile",
        National = "national",
        Private = "private",
        Ermes = "ermes",
        Internet = "internet",
        WapClientId = "wap_client_id",
    }
}

u8_enum! {
    /// `interface_version` of a bind (SMPP 3.4 §5.2.4): 0x34 for 3.4, 0x50 for 5.0;
    /// values up to 0x33 mean "3.3 or earlier".
    InterfaceVersion {
        V33 = 0x33,
        V34 = 0x34,
        V50 = 0x50,
    }
}

u8_enum_names! {
    InterfaceVersion {
        V33 = "3.3",
        V34 = "3.4",
        V50 = "5.0",
    }
}

u8_enum! {
    /// `priority_flag` (SMPP 3.4 §5.2.14).
    PriorityFlag {
        Level0 = 0,
        Level1 = 1,
        Level2 = 2,
        Level3 = 3,
        Level4 = 4,
    }
}

u8_enum! {
    /// `message_state` of query_sm_resp and the 0x0427 TLV (SMPP 5.0 §4.7.15).
    MessageState {
        Scheduled = 0,
        Enroute = 1,
        Delivered = 2,
        Expired = 3,
        Deleted = 4,
        Undeliverable = 5,
        Accepted = 6,
        Unknown = 7,
        Rejected = 8,
        Skipped = 9,
    }
}

impl MessageState {
    /// Whether no further state change will follow.
    pub const fn is_final(self) -> bool {
        matches!(
            self,
            MessageState::Delivered
                | MessageState::Expired
                | MessageState::Deleted
                | MessageState::Undeliverable
                | MessageState::Rejected
                | MessageState::Skipped
        )
    }
}

u8_enum! {
    /// `data_coding` (SMPP 3.4 §5.2.19). Coding-group values of GSM 03.38
    /// (0xF0–0xFF message class groups and others) arrive as `Other`;
    /// [`DataCoding::alphabet`] classifies them.
    DataCoding {
        SmscDefault = 0x00,
        Ia5 = 0x01,
        Octet8 = 0x02,
        Latin1 = 0x03,
        Octet = 0x04,
        Jis = 0x05,
        Cyrillic = 0x06,
        LatinHebrew = 0x07,
        Ucs2 = 0x08,
        Pictogram = 0x09,
        Iso2022Jp = 0x0A,
        ExtendedKanji = 0x0D,
        Ksc5601 = 0x0E,
    }
}

/// The character repertoire a `data_coding` value denotes, after resolving the
/// GSM 03.38 coding groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alphabet {
    /// GSM 7-bit default alphabet (what `data_coding` 0 means on most SMSCs).
    Gsm7,
    /// IA5 / ASCII.
    Ascii,
    /// ISO-8859-1.
    Latin1,
    /// UCS-2 (UTF-16BE in practice).
    Ucs2,
    /// 8-bit data.
    Binary,
    /// Anything else (Japanese, Cyrillic, reserved groups).
    Unsupported,
}

impl DataCoding {
    /// Resolves the coding groups of GSM 03.38 §4 as SMPP carriers use them.
    pub const fn alphabet(self) -> Alphabet {
        let v = self.value();
        match v {
            0x00 => Alphabet::Gsm7,
            0x01 => Alphabet::Ascii,
            0x02 | 0x04 => Alphabet::Binary,
            0x03 => Alphabet::Latin1,
            0x08 => Alphabet::Ucs2,
            // General data coding groups 00xx / 01xx (bit 6: auto-deletion):
            // bit 5 marks compressed text, which no carrier sends and we cannot
            // decode; otherwise bits 3-2 give the alphabet.
            0x10..=0x7F if v & 0x20 != 0 => Alphabet::Unsupported,
            0x10..=0x7F => match (v >> 2) & 0x03 {
                0 => Alphabet::Gsm7,
                1 => Alphabet::Binary,
                2 => Alphabet::Ucs2,
                _ => Alphabet::Unsupported,
            },
            // Message waiting groups: 1100 and 1101 are GSM 7-bit, 1110 UCS-2.
            0xC0..=0xDF => Alphabet::Gsm7,
            0xE0..=0xEF => Alphabet::Ucs2,
            // Data coding / message class group: bit 2 chooses 8-bit data.
            0xF0..=0xFF => {
                if v & 0x04 != 0 {
                    Alphabet::Binary
                } else {
                    Alphabet::Gsm7
                }
            }
            _ => Alphabet::Unsupported,
        }
    }
}

/// Messaging mode, bits 1-0 of esm_class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessagingMode {
    /// The SMSC's default mode (store and forward, usually).
    Default,
    /// Datagram mode.
    Datagram,
    /// Forward (transaction) mode.
    Forward,
    /// Store and forward mode.
    StoreAndForward,
}

/// Message type, bits 5-2 of esm_class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageType {
    /// A normal message.
    Default,
    /// An SMSC delivery receipt (deliver_sm / data_sm from the SMSC).
    DeliveryReceipt,
    /// An SME delivery acknowledgement.
    DeliveryAck,
    /// An SME manual/user acknowledgement.
    ManualAck,
    /// A conversation abort (Korean CDMA).
    ConversationAbort,
    /// An intermediate delivery notification.
    IntermediateNotification,
    /// A combination the spec does not define.
    Other(u8),
}

/// `esm_class` (SMPP 3.4 §5.2.12): a bit field of messaging mode, message type
/// and GSM network features (UDHI, reply path).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct EsmClass(pub u8);

impl EsmClass {
    /// The UDH indicator: short_message starts with a User Data Header.
    pub const UDHI: u8 = 0x40;
    /// The reply path bit.
    pub const REPLY_PATH: u8 = 0x80;
    /// Message type "SMSC delivery receipt".
    pub const DELIVERY_RECEIPT: u8 = 0x04;

    /// Bits 1-0.
    pub const fn messaging_mode(self) -> MessagingMode {
        match self.0 & 0x03 {
            0 => MessagingMode::Default,
            1 => MessagingMode::Datagram,
            2 => MessagingMode::Forward,
            _ => MessagingMode::StoreAndForward,
        }
    }

    /// Bits 5-2.
    pub const fn message_type(self) -> MessageType {
        match self.0 & 0x3C {
            0x00 => MessageType::Default,
            0x04 => MessageType::DeliveryReceipt,
            0x08 => MessageType::DeliveryAck,
            0x10 => MessageType::ManualAck,
            0x18 => MessageType::ConversationAbort,
            0x20 => MessageType::IntermediateNotification,
            other => MessageType::Other(other),
        }
    }

    /// Whether short_message carries a User Data Header.
    pub const fn udhi(self) -> bool {
        self.0 & Self::UDHI != 0
    }

    /// Whether this marks an SMSC delivery receipt or intermediate notification.
    pub const fn is_receipt(self) -> bool {
        matches!(
            self.message_type(),
            MessageType::DeliveryReceipt | MessageType::IntermediateNotification
        )
    }

    /// This value with the UDH indicator set.
    pub const fn with_udhi(self) -> EsmClass {
        EsmClass(self.0 | Self::UDHI)
    }
}

/// SMSC delivery receipt request, bits 1-0 of registered_delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmscReceipt {
    /// No receipt.
    None,
    /// A receipt on final success or failure.
    OnFinal,
    /// A receipt on failure only.
    OnFailure,
    /// A receipt on success only (SMPP 5.0).
    OnSuccess,
}

/// `registered_delivery` (SMPP 3.4 §5.2.17): SMSC receipt, SME acknowledgement
/// and intermediate notification requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct RegisteredDelivery(pub u8);

impl RegisteredDelivery {
    /// Ask for a receipt on final outcome (the gateway's usual request).
    pub const FINAL_RECEIPT: RegisteredDelivery = RegisteredDelivery(0x01);

    /// Bits 1-0.
    pub const fn smsc_receipt(self) -> SmscReceipt {
        match self.0 & 0x03 {
            0 => SmscReceipt::None,
            1 => SmscReceipt::OnFinal,
            2 => SmscReceipt::OnFailure,
            _ => SmscReceipt::OnSuccess,
        }
    }

    /// Bits 3-2: 1 delivery ack, 2 manual ack, 3 both.
    pub const fn sme_ack(self) -> u8 {
        (self.0 >> 2) & 0x03
    }

    /// Bit 4.
    pub const fn intermediate_notification(self) -> bool {
        self.0 & 0x10 != 0
    }
}

impl From<u8> for EsmClass {
    fn from(v: u8) -> Self {
        EsmClass(v)
    }
}
impl From<EsmClass> for u8 {
    fn from(v: EsmClass) -> u8 {
        v.0
    }
}
impl From<u8> for RegisteredDelivery {
    fn from(v: u8) -> Self {
        RegisteredDelivery(v)
    }
}
impl From<RegisteredDelivery> for u8 {
    fn from(v: RegisteredDelivery) -> u8 {
        v.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_round_trip_every_octet() {
        for v in 0..=255u8 {
            assert_eq!(Ton::from(v).value(), v);
            assert_eq!(Npi::from(v).value(), v);
            assert_eq!(DataCoding::from(v).value(), v);
            assert_eq!(MessageState::from(v).value(), v);
            assert_eq!(InterfaceVersion::from(v).value(), v);
            assert_eq!(PriorityFlag::from(v).value(), v);
        }
        assert_eq!(Ton::from(1), Ton::International);
        assert_eq!(Npi::from(0x12), Npi::WapClientId);
    }

    #[test]
    fn names_round_trip() {
        for &ton in Ton::NAMED {
            assert_eq!(ton.name().and_then(Ton::from_name), Some(ton));
        }
        for &npi in Npi::NAMED {
            assert_eq!(npi.name().and_then(Npi::from_name), Some(npi));
        }
        for &version in InterfaceVersion::NAMED {
            let name = version.name();
            assert_eq!(name.and_then(InterfaceVersion::from_name), Some(version));
        }
        assert_eq!(
            Ton::from_name("network_specific"),
            Some(Ton::NetworkSpecific)
        );
        assert_eq!(Npi::from_name("isdn"), Some(Npi::Isdn));
        assert_eq!(
            InterfaceVersion::from_name("5.0"),
            Some(InterfaceVersion::V50)
        );
        assert_eq!(Ton::from_name("International"), None);
        assert_eq!(Ton::Other(9).name(), None);
    }

    #[test]
    fn bit_fields() {
        let esm = EsmClass(0x44);
        assert!(esm.udhi());
        assert!(esm.is_receipt());
        assert_eq!(esm.message_type(), MessageType::DeliveryReceipt);
        assert_eq!(
            EsmClass(0x03).messaging_mode(),
            MessagingMode::StoreAndForward
        );
        assert_eq!(
            RegisteredDelivery(0x11).smsc_receipt(),
            SmscReceipt::OnFinal
        );
        assert!(RegisteredDelivery(0x11).intermediate_notification());
        assert_eq!(RegisteredDelivery(0x0C).sme_ack(), 3);
    }

    #[test]
    fn data_coding_groups() {
        assert_eq!(DataCoding::from(0).alphabet(), Alphabet::Gsm7);
        assert_eq!(DataCoding::from(8).alphabet(), Alphabet::Ucs2);
        assert_eq!(DataCoding::from(0xF0).alphabet(), Alphabet::Gsm7);
        assert_eq!(DataCoding::from(0xF4).alphabet(), Alphabet::Binary);
        assert_eq!(DataCoding::from(0x18).alphabet(), Alphabet::Ucs2);
        assert_eq!(DataCoding::from(0x05).alphabet(), Alphabet::Unsupported);
    }
}
