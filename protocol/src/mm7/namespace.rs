//! Which MM7 schema a message speaks: the namespace URIs of TS 23.140's
//! releases, and the SOAP 1.1 envelope namespace.
//!
//! Input is accepted in every MM7 namespace from REL-5-MM7-1-0 to
//! REL-6-MM7-1-4, under any prefix or as the default namespace. Deployed
//! MMSCs are not always exact about the URI, so matching forgives what does
//! not change its meaning: `https` for `http`, ASCII case, a trailing `/` or
//! `.xsd` (the schema file's name, which some configurations use as the
//! namespace), and whitespace inside the URI (line-wrapped samples in carrier
//! documentation). Output always uses the exact URI of the version the caller
//! chose for the carrier.

/// The SOAP 1.1 envelope namespace.
pub const SOAP_ENVELOPE_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";

/// A misspelt SOAP envelope namespace found in copies of the TS 23.140
/// example messages; accepted on input as SOAP 1.1, never written.
const SOAP_ENVELOPE_NS_ALIAS: &str = "http://schemas.xmlsoap.org/soap/soap-envelope";

/// Every MM7 schema namespace starts with this (before the release name).
const MM7_NS_BASE: &str = "://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/";

/// An MM7 schema version: the namespace URI and the `MM7Version` text that
/// goes with it.
///
/// The `MM7Version` texts are the TS 23.140 versions that published each
/// schema. 5.3.0 with REL-5-MM7-1-0, 6.3.0 with REL-6-MM7-1-0 and 6.8.0 with
/// REL-6-MM7-1-4 are what deployed MMSCs send; carriers do mix them (REL-5-MM7-1-2
/// with 5.3.0 is common), so [`super::Mm7Envelope::mm7_version`] can carry any
/// text the carrier wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mm7Version {
    /// REL-5-MM7-1-0 (TS 23.140 5.3.0).
    Rel5_1_0,
    /// REL-5-MM7-1-1 (5.4.0).
    Rel5_1_1,
    /// REL-5-MM7-1-2 (5.5.0).
    Rel5_1_2,
    /// REL-5-MM7-1-3 (5.6.0).
    Rel5_1_3,
    /// REL-5-MM7-1-4 (5.8.0).
    Rel5_1_4,
    /// REL-5-MM7-1-5 (5.10.0).
    Rel5_1_5,
    /// REL-6-MM7-1-0 (6.3.0).
    Rel6_1_0,
    /// REL-6-MM7-1-1 (6.4.0).
    Rel6_1_1,
    /// REL-6-MM7-1-2 (6.5.0).
    Rel6_1_2,
    /// REL-6-MM7-1-3 (6.7.0).
    Rel6_1_3,
    /// REL-6-MM7-1-4 (6.8.0).
    Rel6_1_4,
}

impl Mm7Version {
    /// Every version, oldest first.
    pub const ALL: [Mm7Version; 11] = [
        Self::Rel5_1_0,
        Self::Rel5_1_1,
        Self::Rel5_1_2,
        Self::Rel5_1_3,
        Self::Rel5_1_4,
        Self::Rel5_1_5,
        Self::Rel6_1_0,
        Self::Rel6_1_1,
        Self::Rel6_1_2,
        Self::Rel6_1_3,
        Self::Rel6_1_4,
    ];

    /// The release name, e.g. `REL-6-MM7-1-4`.
    pub fn release(self) -> &'static str {
        match self {
            Self::Rel5_1_0 => "REL-5-MM7-1-0",
            Self::Rel5_1_1 => "REL-5-MM7-1-1",
            Self::Rel5_1_2 => "REL-5-MM7-1-2",
            Self::Rel5_1_3 => "REL-5-MM7-1-3",
            Self::Rel5_1_4 => "REL-5-MM7-1-4",
            Self::Rel5_1_5 => "REL-5-MM7-1-5",
            Self::Rel6_1_0 => "REL-6-MM7-1-0",
            Self::Rel6_1_1 => "REL-6-MM7-1-1",
            Self::Rel6_1_2 => "REL-6-MM7-1-2",
            Self::Rel6_1_3 => "REL-6-MM7-1-3",
            Self::Rel6_1_4 => "REL-6-MM7-1-4",
        }
    }

    /// The namespace URI written on output.
    pub fn namespace(self) -> &'static str {
        match self {
            Self::Rel5_1_0 => {
                "http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/REL-5-MM7-1-0"
            }
            Self::Rel5_1_1 => {
                "http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/REL-5-MM7-1-1"
            }
            Self::Rel5_1_2 => {
                "http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/REL-5-MM7-1-2"
            }
            Self::Rel5_1_3 => {
                "http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/REL-5-MM7-1-3"
            }
            Self::Rel5_1_4 => {
                "http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/REL-5-MM7-1-4"
            }
            Self::Rel5_1_5 => {
                "http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/REL-5-MM7-1-5"
            }
            Self::Rel6_1_0 => {
                "http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/REL-6-MM7-1-0"
            }
            Self::Rel6_1_1 => {
                "http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/REL-6-MM7-1-1"
            }
            Self::Rel6_1_2 => {
                "http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/REL-6-MM7-1-2"
            }
            Self::Rel6_1_3 => {
                "http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/REL-6-MM7-1-3"
            }
            Self::Rel6_1_4 => {
                "http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/REL-6-MM7-1-4"
            }
        }
    }

    /// The `MM7Version` element's usual text for this schema, e.g. `6.8.0`.
    pub fn version_text(self) -> &'static str {
        match self {
            Self::Rel5_1_0 => "5.3.0",
            Self::Rel5_1_1 => "5.4.0",
            Self::Rel5_1_2 => "5.5.0",
            Self::Rel5_1_3 => "5.6.0",
            Self::Rel5_1_4 => "5.8.0",
            Self::Rel5_1_5 => "5.10.0",
            Self::Rel6_1_0 => "6.3.0",
            Self::Rel6_1_1 => "6.4.0",
            Self::Rel6_1_2 => "6.5.0",
            Self::Rel6_1_3 => "6.7.0",
            Self::Rel6_1_4 => "6.8.0",
        }
    }

    /// Rel-5 schemas carry `SenderAddress` as text; Rel-6 ones as an
    /// address element (`Number`, `RFC2822Address` or `ShortCode`).
    pub fn is_rel5(self) -> bool {
        matches!(
            self,
            Self::Rel5_1_0
                | Self::Rel5_1_1
                | Self::Rel5_1_2
                | Self::Rel5_1_3
                | Self::Rel5_1_4
                | Self::Rel5_1_5
        )
    }

    /// The version whose namespace this URI is, forgiving the variations
    /// listed in the module documentation; `None` for any other URI.
    pub fn from_namespace(uri: &str) -> Option<Self> {
        let compact: String = uri.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        let mut rest = compact.as_str();
        rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.len() > 4 && rest.is_char_boundary(rest.len() - 4) {
            let (head, tail) = rest.split_at(rest.len() - 4);
            if tail.eq_ignore_ascii_case(".xsd") {
                rest = head;
            }
        }
        let after_scheme = strip_prefix_ignore_case(rest, "https")
            .or_else(|| strip_prefix_ignore_case(rest, "http"))?;
        let release = strip_prefix_ignore_case(after_scheme, MM7_NS_BASE)?;
        Self::ALL
            .into_iter()
            .find(|v| v.release().eq_ignore_ascii_case(release))
    }
}

/// Whether `uri` is the SOAP 1.1 envelope namespace (or its known misspelling).
pub(super) fn is_soap_envelope(uri: &str) -> bool {
    let uri = uri.trim();
    uri == SOAP_ENVELOPE_NS
        || uri == SOAP_ENVELOPE_NS.trim_end_matches('/')
        || uri == SOAP_ENVELOPE_NS_ALIAS
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}
