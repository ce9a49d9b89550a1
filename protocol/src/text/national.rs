//! National language identifiers of 3GPP TS 23.038 §6.2.1.2.4.
//!
//! The identifier is what travels on the wire (as the single octet of the UDH information
//! elements 0x24 "single shift" and 0x25 "locking shift", TS 23.040 §9.2.3.24.15/16), so the enum
//! is `repr(u8)` with exactly the spec's values and conversion is a checked `from_id` rather than a
//! cast: an unknown identifier from a carrier must stay representable as raw data (the UDH parser
//! keeps it as an unknown element) instead of being forced into a variant.
//!
//! Not every language has both tables: Spanish has a single shift table but no locking shift
//! table (Annex A.3.2 is void). That asymmetry is expressed here once (`has_locking_shift`) and
//! the table lookup returns `Option`, so no caller can silently "use" a table that does not exist.

use std::fmt;

/// A national language of 3GPP TS 23.038 §6.2.1.2.4, with its spec identifier as discriminant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum NationalLanguage {
    /// The GSM 7-bit default alphabet and its extension table (§6.2.1, §6.2.1.1).
    Default = 0,
    /// Turkish (A.2.1 single shift, A.3.1 locking shift).
    Turkish = 1,
    /// Spanish (A.2.2 single shift; no locking shift table).
    Spanish = 2,
    /// Portuguese (A.2.3, A.3.3).
    Portuguese = 3,
    /// Bengali and Assamese (A.2.4, A.3.4).
    Bengali = 4,
    /// Gujarati (A.2.5, A.3.5).
    Gujarati = 5,
    /// Hindi (A.2.6, A.3.6).
    Hindi = 6,
    /// Kannada (A.2.7, A.3.7).
    Kannada = 7,
    /// Malayalam (A.2.8, A.3.8).
    Malayalam = 8,
    /// Oriya (A.2.9, A.3.9).
    Oriya = 9,
    /// Punjabi (A.2.10, A.3.10).
    Punjabi = 10,
    /// Tamil (A.2.11, A.3.11).
    Tamil = 11,
    /// Telugu (A.2.12, A.3.12).
    Telugu = 12,
    /// Urdu (A.2.13, A.3.13).
    Urdu = 13,
}

impl NationalLanguage {
    /// Every language, in identifier order.
    pub const ALL: [NationalLanguage; 14] = [
        Self::Default,
        Self::Turkish,
        Self::Spanish,
        Self::Portuguese,
        Self::Bengali,
        Self::Gujarati,
        Self::Hindi,
        Self::Kannada,
        Self::Malayalam,
        Self::Oriya,
        Self::Punjabi,
        Self::Tamil,
        Self::Telugu,
        Self::Urdu,
    ];

    /// The spec identifier (the octet carried in UDH IEs 0x24 / 0x25).
    #[must_use]
    pub const fn id(self) -> u8 {
        self as u8
    }

    /// The language for a spec identifier, or `None` for reserved identifiers (14..=255).
    #[must_use]
    pub const fn from_id(id: u8) -> Option<Self> {
        Some(match id {
            0 => Self::Default,
            1 => Self::Turkish,
            2 => Self::Spanish,
            3 => Self::Portuguese,
            4 => Self::Bengali,
            5 => Self::Gujarati,
            6 => Self::Hindi,
            7 => Self::Kannada,
            8 => Self::Malayalam,
            9 => Self::Oriya,
            10 => Self::Punjabi,
            11 => Self::Tamil,
            12 => Self::Telugu,
            13 => Self::Urdu,
            _ => return None,
        })
    }

    /// Lower-case English name, stable for logs and configuration ("default", "turkish", ...).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Default => "default",
            Self::Turkish => "turkish",
            Self::Spanish => "spanish",
            Self::Portuguese => "portuguese",
            Self::Bengali => "bengali",
            Self::Gujarati => "gujarati",
            Self::Hindi => "hindi",
            Self::Kannada => "kannada",
            Self::Malayalam => "malayalam",
            Self::Oriya => "oriya",
            Self::Punjabi => "punjabi",
            Self::Tamil => "tamil",
            Self::Telugu => "telugu",
            Self::Urdu => "urdu",
        }
    }

    /// Whether the spec defines a locking shift table for this language (all but Spanish).
    #[must_use]
    pub const fn has_locking_shift(self) -> bool {
        !matches!(self, Self::Spanish)
    }

    /// Whether the spec defines a single shift table for this language (all of them do).
    #[must_use]
    pub const fn has_single_shift(self) -> bool {
        true
    }
}

impl fmt::Display for NationalLanguage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_match_spec() {
        for (i, lang) in NationalLanguage::ALL.iter().enumerate() {
            assert_eq!(usize::from(lang.id()), i);
            assert_eq!(NationalLanguage::from_id(lang.id()), Some(*lang));
        }
        assert_eq!(NationalLanguage::Urdu.id(), 13);
        assert_eq!(NationalLanguage::from_id(14), None);
        assert_eq!(NationalLanguage::from_id(255), None);
    }

    #[test]
    fn only_spanish_lacks_a_locking_table() {
        for lang in NationalLanguage::ALL {
            assert_eq!(lang.has_locking_shift(), lang != NationalLanguage::Spanish);
            assert!(lang.has_single_shift());
        }
    }

    #[test]
    fn names() {
        assert_eq!(NationalLanguage::Portuguese.to_string(), "portuguese");
        assert_eq!(NationalLanguage::Default.as_str(), "default");
    }
}
