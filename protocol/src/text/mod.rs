//! Text codecs for SMS: GSM 7-bit with the national language tables (3GPP TS 23.038), UCS-2
//! (really UTF-16BE), ISO-8859-1, and the choice between them.
//!
//! Why this module exists and how it is cut:
//! - Everything here is sans-IO and allocation-aware: encoders write into caller-provided
//!   buffers (`*_into`) and the convenience forms allocate exactly one output buffer.
//! - Codecs never panic on input. Encoding reports the first unencodable character with its byte
//!   index; decoding of carrier input is strict by default and has lenient variants where the
//!   spec prescribes a display behaviour (GSM escapes, UTF-16 lossy decoding).
//! - [`Encoding`] is the small closed set the gateway can put on the wire; [`choose()`] picks one
//!   by *fewest segments*, because segments are what carriers bill and what limits delivery.
//! - [`decode`] is the single entry point for inbound `short_message` octets keyed by the SMPP
//!   `data_coding` octet, so the interpretation of the (overlapping) SMPP and TS 23.038 coding
//!   schemes lives in one place.

pub mod choose;
pub mod gsm7;
pub mod latin1;
mod national;
mod tables;
pub mod ucs2;

use std::fmt;

pub use choose::{Concatenation, EncodingOptions, EncodingPlan, LanguageSet, choose};
pub use gsm7::Tables;
pub use national::NationalLanguage;

/// An encoding the gateway can put in `short_message`, with its SMPP `data_coding` value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// GSM 7-bit default alphabet (optionally with national shift tables); `data_coding` 0x00
    /// ("SMSC default alphabet").
    Gsm7,
    /// UCS-2 on the wire, UTF-16BE in fact (surrogate pairs for characters beyond the BMP);
    /// `data_coding` 0x08.
    Ucs2,
    /// ISO-8859-1; `data_coding` 0x03. Only some carriers accept it.
    Latin1,
    /// Opaque octets; `data_coding` 0x04 ("octet unspecified, 8-bit binary").
    Binary,
}

impl Encoding {
    /// Stable lower-case name: "gsm7", "ucs2", "latin1" or "binary".
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Gsm7 => "gsm7",
            Self::Ucs2 => "ucs2",
            Self::Latin1 => "latin1",
            Self::Binary => "binary",
        }
    }

    /// The SMPP `data_coding` value to send with this encoding.
    #[must_use]
    pub const fn data_coding(self) -> u8 {
        match self {
            Self::Gsm7 => 0x00,
            Self::Latin1 => 0x03,
            Self::Binary => 0x04,
            Self::Ucs2 => 0x08,
        }
    }
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why inbound `short_message` octets could not be decoded as text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The data coding says the payload is binary (8-bit data), not text.
    #[error("data_coding 0x{data_coding:02X} denotes binary data, not text")]
    Binary {
        /// The `data_coding` octet.
        data_coding: u8,
    },
    /// The data coding says the payload is compressed (TS 23.042), which is not supported.
    #[error("data_coding 0x{data_coding:02X} denotes compressed text, which is not supported")]
    Compressed {
        /// The `data_coding` octet.
        data_coding: u8,
    },
    /// A character set this crate does not implement (JIS, Cyrillic, Hebrew, KS C 5601, ...).
    #[error("data_coding 0x{data_coding:02X} denotes an unsupported character set")]
    Unsupported {
        /// The `data_coding` octet.
        data_coding: u8,
    },
    /// IA5 (`data_coding` 0x01) text with an octet above 0x7F.
    #[error("octet 0x{value:02X} at index {index} is not IA5/ASCII")]
    Ia5 {
        /// Index of the offending octet.
        index: usize,
        /// The offending octet.
        value: u8,
    },
    /// Invalid GSM 7-bit data.
    #[error(transparent)]
    Gsm7(#[from] gsm7::DecodeError),
    /// Invalid UTF-16BE data.
    #[error(transparent)]
    Ucs2(#[from] ucs2::DecodeError),
}

/// How an SMPP `data_coding` octet says the payload is encoded (see [`classify_data_coding`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DataCodingKind {
    /// GSM 7-bit default alphabet.
    Gsm7,
    /// IA5 / ASCII (SMPP value 0x01).
    Ia5,
    /// ISO-8859-1 (SMPP value 0x03).
    Latin1,
    /// UCS-2 / UTF-16BE.
    Ucs2,
    /// 8-bit binary data.
    Binary,
    /// Compressed (TS 23.042).
    Compressed,
    /// A character set not implemented here.
    Unsupported,
}

/// Interprets an SMPP `data_coding` octet.
///
/// Values 0x00..=0x0F follow the SMPP v3.4 §5.2.19 table (0 SMSC default taken as GSM 7-bit,
/// 1 IA5, 2 and 4 binary, 3 Latin-1, 8 UCS-2; 5, 6, 7, 9, 0x0A, 0x0D, 0x0E are character sets we
/// do not implement; 0x0B, 0x0C and 0x0F are reserved). Values from 0x10 follow the TS 23.038 §4
/// coding groups: general data coding (00xx, 01xx: bit 5 = compressed, bits 3..2 = alphabet),
/// the reserved groups 1000..1011 (which the spec says to treat as the GSM 7-bit default
/// alphabet), message waiting groups 1100/1101 (GSM 7-bit) and 1110 (UCS-2), and the
/// data coding / message class group 1111 (bit 2: GSM 7-bit or 8-bit data).
#[must_use]
pub const fn classify_data_coding(data_coding: u8) -> DataCodingKind {
    use DataCodingKind as K;
    match data_coding {
        0x00 => K::Gsm7,
        0x01 => K::Ia5,
        0x02 | 0x04 => K::Binary,
        0x03 => K::Latin1,
        0x08 => K::Ucs2,
        0x05..=0x07 | 0x09..=0x0F => K::Unsupported,
        0x10..=0x7F => {
            if data_coding & 0x20 != 0 {
                K::Compressed
            } else {
                match (data_coding >> 2) & 0x03 {
                    0b01 => K::Binary,
                    0b10 => K::Ucs2,
                    // 0b00 is GSM 7-bit; 0b11 is reserved, which §4 says to read as GSM 7-bit.
                    _ => K::Gsm7,
                }
            }
        }
        // Reserved groups 1000..1011, message waiting groups 1100 (discard) and 1101 (store).
        0x80..=0xDF => K::Gsm7,
        0xE0..=0xEF => K::Ucs2,
        0xF0..=0xFF => {
            if data_coding & 0x04 != 0 {
                K::Binary
            } else {
                K::Gsm7
            }
        }
    }
}

/// Decodes inbound `short_message` (or `message_payload`) octets by their SMPP `data_coding`.
///
/// GSM 7-bit payloads are taken as *unpacked* (one septet per octet), which is what SMPP
/// carries for `data_coding` 0 unless a carrier says otherwise; for packed payloads use
/// [`gsm7::unpack`] and [`gsm7::decode_unpacked`] directly. `national` is `(locking, single)`
/// from the UDH (see `segment::udh::Udh::national`); unknown or table-less languages fall back to
/// the default tables as TS 23.038 §6.2.1.2.4 requires of a receiving entity. The UDH itself
/// must already be stripped from `bytes`.
///
/// # Errors
/// See [`DecodeError`]: binary, compressed or unsupported codings, and invalid data.
pub fn decode(
    data_coding: u8,
    bytes: &[u8],
    national: (Option<NationalLanguage>, Option<NationalLanguage>),
) -> Result<String, DecodeError> {
    match classify_data_coding(data_coding) {
        DataCodingKind::Gsm7 => {
            let tables = Tables::for_decoding(national.0, national.1);
            Ok(gsm7::decode_unpacked(bytes, tables)?)
        }
        DataCodingKind::Ia5 => {
            if let Some((index, &value)) = bytes.iter().enumerate().find(|(_, b)| **b > 0x7F) {
                return Err(DecodeError::Ia5 { index, value });
            }
            // All octets are ASCII, so Latin-1 decoding is the identity mapping.
            Ok(latin1::decode(bytes))
        }
        DataCodingKind::Latin1 => Ok(latin1::decode(bytes)),
        DataCodingKind::Ucs2 => Ok(ucs2::decode(bytes)?),
        DataCodingKind::Binary => Err(DecodeError::Binary { data_coding }),
        DataCodingKind::Compressed => Err(DecodeError::Compressed { data_coding }),
        DataCodingKind::Unsupported => Err(DecodeError::Unsupported { data_coding }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_names_and_data_coding() {
        assert_eq!(Encoding::Gsm7.as_str(), "gsm7");
        assert_eq!(Encoding::Ucs2.as_str(), "ucs2");
        assert_eq!(Encoding::Latin1.as_str(), "latin1");
        assert_eq!(Encoding::Binary.as_str(), "binary");
        assert_eq!(Encoding::Gsm7.data_coding(), 0x00);
        assert_eq!(Encoding::Latin1.data_coding(), 0x03);
        assert_eq!(Encoding::Binary.data_coding(), 0x04);
        assert_eq!(Encoding::Ucs2.data_coding(), 0x08);
        assert_eq!(Encoding::Ucs2.to_string(), "ucs2");
    }

    #[test]
    fn classify_smpp_and_gsm_groups() {
        use DataCodingKind as K;
        assert_eq!(classify_data_coding(0x00), K::Gsm7);
        assert_eq!(classify_data_coding(0x01), K::Ia5);
        assert_eq!(classify_data_coding(0x02), K::Binary);
        assert_eq!(classify_data_coding(0x03), K::Latin1);
        assert_eq!(classify_data_coding(0x04), K::Binary);
        assert_eq!(classify_data_coding(0x05), K::Unsupported);
        assert_eq!(classify_data_coding(0x08), K::Ucs2);
        assert_eq!(classify_data_coding(0x0E), K::Unsupported);
        // General data coding with class: 0x10 GSM class 0, 0x14 8-bit, 0x18 UCS-2.
        assert_eq!(classify_data_coding(0x10), K::Gsm7);
        assert_eq!(classify_data_coding(0x14), K::Binary);
        assert_eq!(classify_data_coding(0x18), K::Ucs2);
        assert_eq!(classify_data_coding(0x1C), K::Gsm7);
        assert_eq!(classify_data_coding(0x20), K::Compressed);
        // Automatic deletion group mirrors the general group.
        assert_eq!(classify_data_coding(0x48), K::Ucs2);
        // Reserved groups are read as GSM 7-bit.
        assert_eq!(classify_data_coding(0x80), K::Gsm7);
        // Message waiting groups.
        assert_eq!(classify_data_coding(0xC0), K::Gsm7);
        assert_eq!(classify_data_coding(0xD8), K::Gsm7);
        assert_eq!(classify_data_coding(0xE8), K::Ucs2);
        // Data coding / message class group.
        assert_eq!(classify_data_coding(0xF0), K::Gsm7);
        assert_eq!(classify_data_coding(0xF1), K::Gsm7);
        assert_eq!(classify_data_coding(0xF4), K::Binary);
        assert_eq!(classify_data_coding(0xF6), K::Binary);
    }

    #[test]
    fn decode_by_data_coding() {
        assert_eq!(decode(0, b"\x48\x49\x00", (None, None)).unwrap(), "HI@");
        assert_eq!(decode(0xF0, b"\x1b\x65", (None, None)).unwrap(), "€");
        assert_eq!(decode(1, b"plain", (None, None)).unwrap(), "plain");
        assert_eq!(
            decode(1, b"a\xe9", (None, None)),
            Err(DecodeError::Ia5 {
                index: 1,
                value: 0xE9
            })
        );
        assert_eq!(decode(3, b"caf\xe9", (None, None)).unwrap(), "café");
        assert_eq!(
            decode(8, &[0x00, 0x41, 0x20, 0xAC], (None, None)).unwrap(),
            "A€"
        );
        assert_eq!(
            decode(4, b"\x01\x02", (None, None)),
            Err(DecodeError::Binary { data_coding: 4 })
        );
        assert_eq!(
            decode(2, b"", (None, None)),
            Err(DecodeError::Binary { data_coding: 2 })
        );
        assert_eq!(
            decode(0x06, b"", (None, None)),
            Err(DecodeError::Unsupported { data_coding: 6 })
        );
        assert_eq!(
            decode(0x24, b"", (None, None)),
            Err(DecodeError::Compressed { data_coding: 0x24 })
        );
        assert!(matches!(
            decode(0, b"\x80", (None, None)),
            Err(DecodeError::Gsm7(_))
        ));
        assert!(matches!(
            decode(8, b"\x00", (None, None)),
            Err(DecodeError::Ucs2(_))
        ));
    }

    #[test]
    fn decode_with_national_tables() {
        use NationalLanguage as L;
        // Turkish locking 0x07 is 'ı'; Turkish single shift 0x47 is 'Ğ'.
        let text = decode(0, &[0x07, 0x1B, 0x47], (Some(L::Turkish), Some(L::Turkish))).unwrap();
        assert_eq!(text, "ıĞ");
        // Spanish has no locking table: the receiver falls back to the default alphabet.
        let text = decode(0, &[0x07, 0x1B, 0x41], (Some(L::Spanish), Some(L::Spanish))).unwrap();
        assert_eq!(text, "ìÁ");
    }
}
