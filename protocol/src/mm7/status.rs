//! MM7 request status: the `Status` block of every response, its numeric
//! `StatusCode` (TS 23.140 table "MM7 status codes") and what the gateway
//! should do about each one.
//!
//! The classification drives retries, so it is a table here and in the tests
//! rather than a rule spread over the transport:
//!
//! | codes | class | why |
//! |---|---|---|
//! | 1000, 1100 | Success | accepted (partially: some recipients failed, which their delivery reports say) |
//! | 2000–2009 | Permanent | the request itself is wrong: address, content, format, ids; sending it again gives the same answer |
//! | 3000, 3001 | Transient | the server failed or cannot do it now |
//! | 3002–3004 | Permanent | rejected, or a feature the server does not have |
//! | 4000 | Transient | unspecified service error; retry within the outbox's budget |
//! | 4001–4004, 4007, 4008 | Permanent | identification, version, operation, validation, denial |
//! | 4005, 4006 | Transient | service error or service unavailable: overload, maintenance |
//! | other 1xxx | Success | a success code we do not know |
//! | other 3xxx, 4xxx | Transient | a server or service error we do not know: retried, the retry budget bounds the cost |
//! | anything else | Permanent | client errors and codes outside the spec's ranges |

use std::fmt;

/// What the gateway should do with the request that got this status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusClass {
    /// Accepted.
    Success,
    /// Failed for now; the same request may succeed later.
    Transient,
    /// Failed; the same request will fail again.
    Permanent,
}

/// An MM7 `StatusCode`: the named codes of TS 23.140 and an escape for any
/// other number a carrier sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mm7StatusCode {
    /// 1000 Success.
    Success,
    /// 1100 Partial success.
    PartialSuccess,
    /// 2000 Client error.
    ClientError,
    /// 2001 Operation restricted.
    OperationRestricted,
    /// 2002 Address Error.
    AddressError,
    /// 2003 Address Not Found.
    AddressNotFound,
    /// 2004 Multimedia content refused.
    ContentRefused,
    /// 2005 Message ID Not found.
    MessageIdNotFound,
    /// 2006 LinkedID not found.
    LinkedIdNotFound,
    /// 2007 Message format corrupt.
    MessageFormatCorrupt,
    /// 2008 Application ID not found.
    ApplicationIdNotFound,
    /// 2009 Reply Application ID not found.
    ReplyApplicationIdNotFound,
    /// 3000 Server Error.
    ServerError,
    /// 3001 Not Possible.
    NotPossible,
    /// 3002 Message rejected.
    MessageRejected,
    /// 3003 Multiple addresses not supported.
    MultipleAddressesNotSupported,
    /// 3004 Application Addressing not supported.
    ApplicationAddressingNotSupported,
    /// 4000 General service error.
    GeneralServiceError,
    /// 4001 Improper identification.
    ImproperIdentification,
    /// 4002 Unsupported version.
    UnsupportedVersion,
    /// 4003 Unsupported operation.
    UnsupportedOperation,
    /// 4004 Validation error.
    ValidationError,
    /// 4005 Service error.
    ServiceError,
    /// 4006 Service unavailable.
    ServiceUnavailable,
    /// 4007 Service denied.
    ServiceDenied,
    /// 4008 Application denied.
    ApplicationDenied,
    /// Any other code.
    Other(u16),
}

/// Every named code with its number and class: the one table the
/// conversions, the classification and the tests read.
const NAMED: [(Mm7StatusCode, u16, StatusClass); 26] = {
    use Mm7StatusCode as C;
    use StatusClass::{Permanent as P, Success as S, Transient as T};
    [
        (C::Success, 1000, S),
        (C::PartialSuccess, 1100, S),
        (C::ClientError, 2000, P),
        (C::OperationRestricted, 2001, P),
        (C::AddressError, 2002, P),
        (C::AddressNotFound, 2003, P),
        (C::ContentRefused, 2004, P),
        (C::MessageIdNotFound, 2005, P),
        (C::LinkedIdNotFound, 2006, P),
        (C::MessageFormatCorrupt, 2007, P),
        (C::ApplicationIdNotFound, 2008, P),
        (C::ReplyApplicationIdNotFound, 2009, P),
        (C::ServerError, 3000, T),
        (C::NotPossible, 3001, T),
        (C::MessageRejected, 3002, P),
        (C::MultipleAddressesNotSupported, 3003, P),
        (C::ApplicationAddressingNotSupported, 3004, P),
        (C::GeneralServiceError, 4000, T),
        (C::ImproperIdentification, 4001, P),
        (C::UnsupportedVersion, 4002, P),
        (C::UnsupportedOperation, 4003, P),
        (C::ValidationError, 4004, P),
        (C::ServiceError, 4005, T),
        (C::ServiceUnavailable, 4006, T),
        (C::ServiceDenied, 4007, P),
        (C::ApplicationDenied, 4008, P),
    ]
};

impl Mm7StatusCode {
    /// The code for a number (a named variant when TS 23.140 names it).
    pub fn from_u16(code: u16) -> Self {
        NAMED
            .iter()
            .find(|(_, n, _)| *n == code)
            .map_or(Self::Other(code), |(c, _, _)| *c)
    }

    /// The number on the wire.
    pub fn as_u16(self) -> u16 {
        match self {
            Self::Other(n) => n,
            named => NAMED
                .iter()
                .find(|(c, _, _)| *c == named)
                .map_or(0, |(_, n, _)| *n),
        }
    }

    /// What to do about it (see the module documentation's table).
    pub fn class(self) -> StatusClass {
        let n = self.as_u16();
        if let Some((_, _, class)) = NAMED.iter().find(|(_, m, _)| *m == n) {
            return *class;
        }
        match n / 1000 {
            1 => StatusClass::Success,
            3 | 4 => StatusClass::Transient,
            _ => StatusClass::Permanent,
        }
    }

    /// Whether the request succeeded (fully or partially).
    pub fn is_success(self) -> bool {
        self.class() == StatusClass::Success
    }

    /// Every named code, for tests and documentation.
    pub fn named() -> impl Iterator<Item = (Mm7StatusCode, u16, StatusClass)> {
        NAMED.into_iter()
    }
}

impl fmt::Display for Mm7StatusCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.as_u16())
    }
}

/// The `Status` block of a response: the code, its text and any details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mm7Status {
    /// `StatusCode`.
    pub code: Mm7StatusCode,
    /// `StatusText`.
    pub text: Option<String>,
    /// `Details`: the schema allows any content; its text is kept.
    pub details: Option<String>,
}

impl Mm7Status {
    /// A status with a code and no text.
    pub fn new(code: Mm7StatusCode) -> Self {
        Self {
            code,
            text: None,
            details: None,
        }
    }

    /// 1000 Success with the text `Success`.
    pub fn success() -> Self {
        Self {
            code: Mm7StatusCode::Success,
            text: Some("Success".to_owned()),
            details: None,
        }
    }
}
