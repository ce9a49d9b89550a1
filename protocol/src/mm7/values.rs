//! The value types MM7 messages are made of: addresses, recipients, the
//! sender's identification, the content reference, and the enumerated
//! elements (message class, priority, charged party, MM status).
//!
//! Enumerated elements keep the named values of the schema and an `Other`
//! escape holding the text as sent, so a carrier's private value survives a
//! round trip (the SMPP model's rule, applied to text).

/// Defines an enumerated text element: named values, an `Other(String)`
/// escape, case-insensitive parsing and the canonical spelling for output.
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
            /// Any other text, kept as sent.
            Other(String),
        }

        impl $name {
            /// The value for an element's text: a named value when it matches
            /// one (ignoring ASCII case), `Other` otherwise.
            pub fn from_text(text: &str) -> Self {
                $(if text.eq_ignore_ascii_case($text) {
                    return Self::$variant;
                })+
                Self::Other(text.to_owned())
            }

            /// The text written on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $text,)+
                    Self::Other(text) => text,
                }
            }
        }
    };
}

text_enum! {
    /// `MessageClass`.
    MessageClass {
        /// `Personal`.
        Personal => "Personal",
        /// `Informational`.
        Informational => "Informational",
        /// `Advertisement`.
        Advertisement => "Advertisement",
        /// `Auto`.
        Auto => "Auto",
    }
}

text_enum! {
    /// `Priority`.
    Mm7Priority {
        /// `High`.
        High => "High",
        /// `Normal`.
        Normal => "Normal",
        /// `Low`.
        Low => "Low",
    }
}

text_enum! {
    /// `ChargedParty`: who pays for the message.
    ChargedParty {
        /// `Sender`.
        Sender => "Sender",
        /// `Recipient`.
        Recipient => "Recipient",
        /// `Both`.
        Both => "Both",
        /// `Neither`.
        Neither => "Neither",
        /// `ThirdParty`.
        ThirdParty => "ThirdParty",
    }
}

text_enum! {
    /// `MMStatus`: a message's state in a delivery report (Expired …
    /// Unrecognised) or a read reply (Indeterminate, Read, Deleted).
    MmStatus {
        /// `Expired`.
        Expired => "Expired",
        /// `Retrieved`: delivered to the handset.
        Retrieved => "Retrieved",
        /// `Rejected`.
        Rejected => "Rejected",
        /// `Indeterminate`.
        Indeterminate => "Indeterminate",
        /// `Forwarded`.
        Forwarded => "Forwarded",
        /// `Deferred`.
        Deferred => "Deferred",
        /// `DeliveryConditionNotMet`.
        DeliveryConditionNotMet => "DeliveryConditionNotMet",
        /// `Unrecognised`.
        Unrecognised => "Unrecognised",
        /// `Read` (read reply).
        Read => "Read",
        /// `Deleted` (read reply: deleted without being read).
        Deleted => "Deleted",
    }
}

/// Which element holds an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mm7AddressKind {
    /// `Number`: an MSISDN.
    Number,
    /// `RFC2822Address`: an e-mail address.
    Rfc2822Address,
    /// `ShortCode`.
    ShortCode,
    /// The Rel-5 `SenderAddress` form: the address as the element's own
    /// text, with no typed child. Only meaningful in `SenderAddress`.
    Plain,
}

impl Mm7AddressKind {
    /// The element name (`None` for [`Mm7AddressKind::Plain`]).
    pub fn element(self) -> Option<&'static str> {
        match self {
            Self::Number => Some("Number"),
            Self::Rfc2822Address => Some("RFC2822Address"),
            Self::ShortCode => Some("ShortCode"),
            Self::Plain => None,
        }
    }

    pub(super) fn from_element(name: &str) -> Option<Self> {
        match name {
            "Number" => Some(Self::Number),
            "RFC2822Address" => Some(Self::Rfc2822Address),
            "ShortCode" => Some(Self::ShortCode),
            _ => None,
        }
    }
}

/// One address: a recipient, a sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mm7Address {
    /// Which element carries it.
    pub kind: Mm7AddressKind,
    /// The address text.
    pub value: String,
    /// The `displayOnly` attribute (To/Cc/Bcc addresses shown to the
    /// recipient but not delivered to).
    pub display_only: Option<bool>,
}

impl Mm7Address {
    /// A `Number` address.
    pub fn number(value: impl Into<String>) -> Self {
        Self {
            kind: Mm7AddressKind::Number,
            value: value.into(),
            display_only: None,
        }
    }

    /// A `ShortCode` address.
    pub fn short_code(value: impl Into<String>) -> Self {
        Self {
            kind: Mm7AddressKind::ShortCode,
            value: value.into(),
            display_only: None,
        }
    }

    /// An `RFC2822Address`.
    pub fn rfc2822(value: impl Into<String>) -> Self {
        Self {
            kind: Mm7AddressKind::Rfc2822Address,
            value: value.into(),
            display_only: None,
        }
    }
}

/// `Recipients`: the To, Cc and Bcc lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recipients {
    /// `To`.
    pub to: Vec<Mm7Address>,
    /// `Cc`.
    pub cc: Vec<Mm7Address>,
    /// `Bcc`.
    pub bcc: Vec<Mm7Address>,
}

impl Recipients {
    /// Whether there is no recipient at all.
    pub fn is_empty(&self) -> bool {
        self.to.is_empty() && self.cc.is_empty() && self.bcc.is_empty()
    }
}

/// `SenderIdentification`: who the VASP is, and the sender address shown.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SenderIdentification {
    /// `VASPID`.
    pub vasp_id: Option<String>,
    /// `VASID`.
    pub vas_id: Option<String>,
    /// `SenderAddress`: [`Mm7AddressKind::Plain`] for the Rel-5 text form.
    pub sender_address: Option<Mm7Address>,
}

/// `Content`: the reference to the MIME part holding the message content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentRef {
    /// The `href` attribute, e.g. `cid:part1@vasp.example`.
    pub href: String,
    /// The `allowAdaptations` attribute.
    pub allow_adaptations: Option<bool>,
}

impl ContentRef {
    /// A reference to the part with this Content-ID (`cid:` is added).
    pub fn cid(content_id: &str) -> Self {
        Self {
            href: format!("cid:{content_id}"),
            allow_adaptations: None,
        }
    }
}
