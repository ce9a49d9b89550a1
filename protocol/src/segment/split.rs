//! Splitting an encoded text into the SMS segments to submit.
//!
//! Decisions:
//! - Output is the complete `short_message` octets of each part (UDH + text units) plus the
//!   `esm_class` UDHI flag, or SAR parameters: exactly what a `submit_sm` needs, so the SMPP layer
//!   does no text arithmetic. All parts share one buffer allocation (`BytesMut::split` +
//!   `freeze`); a single unpacked part without UDH is the plan's buffer itself (zero copy).
//! - Split points come from the same greedy walk the chooser uses, so the plan's segment count
//!   is the number of parts: parts are filled to capacity, an escape sequence (ESC + code) or a
//!   UTF-16 surrogate pair is never cut, a text that fits one SMS gets no concatenation element.
//!   Split points are not grapheme-aware: a combining mark or a ZWJ emoji sequence can be cut
//!   between parts (handsets reassemble before display, so this only matters to handsets that
//!   show parts separately).
//! - Concatenation is per carrier: UDH with an 8-bit reference (default, 153 septets per part),
//!   UDH with a 16-bit reference (152), SMPP SAR TLVs (no concatenation octets, so full 160 /
//!   70 / 140 per part), or the whole message as one `message_payload` unit. National language
//!   IEs are UDH elements in every mode, so they cost capacity even with SAR.
//! - The 8-bit reference is the low byte of the caller's reference number.
//! - GSM text is unpacked (one septet per octet) by default, which is what SMPP `data_coding` 0
//!   carries; the per-part limit is still the air-interface septet limit. The packed form (some
//!   carriers) inserts fill bits after the UDH so the text starts on a septet boundary, and
//!   applies the CR padding of TS 23.038 §6.1.2.3.1 because `short_message` carries an octet
//!   count, not a septet count. A full packed part ends exactly on an octet boundary, so a part
//!   that would end in a plain CR at full capacity ends one septet earlier (otherwise the CR
//!   would read as padding); in that rare case a packed split can need one more part than the
//!   plan's count, which is why the segment guard checks the actual parts.
//! - A configurable maximum (at most 255, the concatenation limit) guards against runaway
//!   messages; `message_payload` is limited to 65535 octets by its TLV length.

use std::ops::Range;

use bytes::{BufMut, Bytes, BytesMut};

use super::udh::{Concat, udh_len, write_udh};
use crate::text::choose::{EncodingOptions, EncodingPlan, capacity, choose, part_end_with_last};
use crate::text::gsm7::{self, CR, Tables};
use crate::text::{Concatenation, Encoding};

/// Most parts a concatenated message can have (the total is one octet).
pub const MAX_SEGMENTS: usize = 255;
/// Most octets a `message_payload` TLV can carry.
pub const MAX_PAYLOAD_OCTETS: usize = 0xFFFF;
/// The `esm_class` bit that says `short_message` starts with a UDH.
pub const ESM_CLASS_UDHI: u8 = 0x40;

/// How GSM 7-bit text is laid out in `short_message`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Gsm7Form {
    /// One septet per octet (SMPP default).
    #[default]
    Unpacked,
    /// Septets packed 8 into 7 octets, with fill bits after the UDH and CR padding.
    Packed,
}

/// Per-carrier splitting options.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SplitOptions {
    /// Reference number shared by all parts (UDH concatenation reference or `sar_msg_ref_num`;
    /// only the low byte is used with [`Concatenation::Udh8`]).
    pub reference: u16,
    /// GSM 7-bit layout.
    pub gsm7_form: Gsm7Form,
    /// Refuse messages needing more parts than this (capped at [`MAX_SEGMENTS`]).
    pub max_segments: usize,
}

impl Default for SplitOptions {
    fn default() -> Self {
        SplitOptions {
            reference: 0,
            gsm7_form: Gsm7Form::Unpacked,
            max_segments: MAX_SEGMENTS,
        }
    }
}

/// SMPP SAR parameters of one part.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Sar {
    /// `sar_msg_ref_num`.
    pub msg_ref_num: u16,
    /// `sar_total_segments`.
    pub total_segments: u8,
    /// `sar_segment_seqnum` (1-based).
    pub segment_seqnum: u8,
}

/// One part to submit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    /// The complete user data: UDH (if any) followed by the text units. Goes in
    /// `short_message`, or in `message_payload` for [`Concatenation::Payload`].
    pub short_message: Bytes,
    /// Whether `short_message` starts with a UDH (set `esm_class` UDHI, 0x40).
    pub udhi: bool,
    /// SAR TLV values, for [`Concatenation::Sar`] messages of more than one part.
    pub sar: Option<Sar>,
}

impl Segment {
    /// The `esm_class` bits this part needs (UDHI or nothing), to OR into the PDU's value.
    #[must_use]
    pub const fn esm_class_bits(&self) -> u8 {
        if self.udhi { ESM_CLASS_UDHI } else { 0 }
    }
}

/// The parts of one message, with what the PDUs need to say about their encoding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segments {
    /// The encoding of the text units.
    pub encoding: Encoding,
    /// SMPP `data_coding` for every part.
    pub data_coding: u8,
    /// The concatenation used.
    pub concatenation: Concatenation,
    /// The GSM tables (meaningful for [`Encoding::Gsm7`]; announced in each part's UDH).
    pub tables: Tables,
    /// The parts, in order.
    pub parts: Vec<Segment>,
}

/// Why a message cannot be split.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SplitError {
    /// More parts than allowed.
    #[error("message needs {segments} segments, more than the maximum of {max}")]
    TooLong {
        /// Parts the message needs.
        segments: usize,
        /// The configured maximum.
        max: usize,
    },
    /// Too long for a `message_payload` TLV.
    #[error(
        "message of {octets} octets exceeds the message_payload limit of {MAX_PAYLOAD_OCTETS} octets"
    )]
    PayloadTooLong {
        /// Octets needed.
        octets: usize,
    },
}

/// Chooses an encoding for `text` and splits it.
///
/// # Errors
/// See [`split`].
pub fn split_text(
    text: &str,
    encoding: &EncodingOptions,
    options: &SplitOptions,
) -> Result<Segments, SplitError> {
    split(&choose(text, encoding), options)
}

/// Splits an encoded text into parts according to the plan's concatenation mode.
///
/// # Errors
/// [`SplitError::TooLong`] beyond `options.max_segments`, [`SplitError::PayloadTooLong`] for a
/// payload over 65535 octets.
pub fn split(plan: &EncodingPlan, options: &SplitOptions) -> Result<Segments, SplitError> {
    let encoding = plan.encoding();
    let tables = plan.tables();
    let national = plan.national_ie_octets();
    let packed = encoding == Encoding::Gsm7 && options.gsm7_form == Gsm7Form::Packed;
    let max = options.max_segments.min(MAX_SEGMENTS);
    let units = plan.units();
    let mut out = Segments {
        encoding,
        data_coding: plan.data_coding(),
        concatenation: plan.concatenation(),
        tables,
        parts: Vec::new(),
    };

    let single_cap = capacity(encoding, national);
    let single = match plan.concatenation() {
        Concatenation::Payload => true,
        _ => {
            plan.unit_count() <= single_cap
                && !(packed && plan.unit_count() == single_cap && ends_with_plain_cr(units))
        }
    };
    if single {
        if max == 0 {
            return Err(SplitError::TooLong {
                segments: 1,
                max: 0,
            });
        }
        let part = build_single(units, tables, packed);
        if plan.concatenation() == Concatenation::Payload && part.len() > MAX_PAYLOAD_OCTETS {
            return Err(SplitError::PayloadTooLong { octets: part.len() });
        }
        out.parts.push(Segment {
            udhi: national != 0,
            short_message: part,
            sar: None,
        });
        return Ok(out);
    }

    let concatenation = plan.concatenation();
    let cap = capacity(encoding, national + concatenation.ie_octets());
    let ranges = part_ranges(encoding, units, cap, packed);
    let total = match u8::try_from(ranges.len()) {
        Ok(total) if ranges.len() <= max => total,
        _ => {
            return Err(SplitError::TooLong {
                segments: ranges.len(),
                max,
            });
        }
    };

    let sixteen_bit = concatenation == Concatenation::Udh16;
    let reference = if sixteen_bit {
        options.reference
    } else {
        options.reference & 0xFF
    };
    let concat_for = |seq: u8| match concatenation {
        Concatenation::Udh8 | Concatenation::Udh16 => Some(Concat {
            reference,
            total,
            seq,
            sixteen_bit,
        }),
        Concatenation::Sar | Concatenation::Payload => None,
    };
    let header_len = udh_len(concat_for(1), tables);
    let mut buf = BytesMut::with_capacity(units.len() + ranges.len() * (header_len + 1));
    out.parts.reserve_exact(ranges.len());
    for (seq, range) in (1..=total).zip(ranges) {
        let concat = concat_for(seq);
        write_udh(&mut buf, concat, tables);
        let text = units.get(range).unwrap_or_default();
        if packed {
            gsm7::pack_cr_padded_into(text, gsm7::fill_bits_for_udh(header_len), &mut buf);
        } else {
            buf.put_slice(text);
        }
        out.parts.push(Segment {
            short_message: buf.split().freeze(),
            udhi: header_len != 0,
            sar: (concatenation == Concatenation::Sar).then_some(Sar {
                msg_ref_num: options.reference,
                total_segments: total,
                segment_seqnum: seq,
            }),
        });
    }
    Ok(out)
}

/// The whole text as one unit, with national IEs if the tables need them.
fn build_single(units: &Bytes, tables: Tables, packed: bool) -> Bytes {
    let header_len = udh_len(None, tables);
    if header_len == 0 && !packed {
        return units.clone();
    }
    let mut buf = BytesMut::with_capacity(header_len + units.len() + 1);
    write_udh(&mut buf, None, tables);
    if packed {
        gsm7::pack_cr_padded_into(units, gsm7::fill_bits_for_udh(header_len), &mut buf);
    } else {
        buf.put_slice(units);
    }
    buf.freeze()
}

/// Whether the last character of unpacked septets is a plain CR (not part of an escape).
fn ends_with_plain_cr(units: &[u8]) -> bool {
    let (end, last) = part_end_with_last(Encoding::Gsm7, units, 0, usize::MAX);
    end == units.len() && end == last + 1 && units.get(last) == Some(&CR)
}

/// The octet ranges of the parts, `cap` units each at most.
fn part_ranges(encoding: Encoding, units: &[u8], cap: usize, packed: bool) -> Vec<Range<usize>> {
    let mut ranges = Vec::with_capacity(units.len() / cap.max(1) + 1);
    let mut start = 0;
    while start < units.len() {
        let (mut end, last) = part_end_with_last(encoding, units, start, cap);
        // A full packed part ends on an octet boundary, where a final CR reads as padding.
        if packed
            && end - start == cap
            && end == last + 1
            && last > start
            && units.get(last) == Some(&CR)
        {
            end = last;
        }
        ranges.push(start..end);
        start = end;
    }
    ranges
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segment::udh::parse_udh;
    use crate::text::gsm7::ESC;
    use crate::text::{NationalLanguage as L, ucs2};

    fn opts(concatenation: Concatenation) -> EncodingOptions {
        EncodingOptions {
            concatenation,
            ..EncodingOptions::default()
        }
    }

    #[test]
    fn single_part_has_no_udh_and_is_zero_copy() {
        let plan = choose("hello", &EncodingOptions::default());
        let segs = split(&plan, &SplitOptions::default()).unwrap();
        assert_eq!(segs.parts.len(), 1);
        let part = &segs.parts[0];
        assert_eq!(&part.short_message[..], b"hello");
        assert!(!part.udhi);
        assert_eq!(part.esm_class_bits(), 0);
        assert_eq!(part.sar, None);
        assert_eq!(part.short_message.as_ptr(), plan.units().as_ptr());
        assert_eq!((segs.encoding, segs.data_coding), (Encoding::Gsm7, 0));
    }

    #[test]
    fn gsm_161_chars_is_153_plus_8() {
        let text = "x".repeat(161);
        let options = SplitOptions {
            reference: 0x1A7,
            ..SplitOptions::default()
        };
        let segs = split_text(&text, &EncodingOptions::default(), &options).unwrap();
        assert_eq!(segs.parts.len(), 2);
        let first = &segs.parts[0];
        assert!(first.udhi);
        assert_eq!(first.esm_class_bits(), ESM_CLASS_UDHI);
        assert_eq!(
            &first.short_message[..6],
            &[0x05, 0x00, 0x03, 0xA7, 0x02, 0x01]
        );
        assert_eq!(first.short_message.len(), 6 + 153);
        let second = &segs.parts[1];
        assert_eq!(
            &second.short_message[..6],
            &[0x05, 0x00, 0x03, 0xA7, 0x02, 0x02]
        );
        assert_eq!(second.short_message.len(), 6 + 8);
    }

    #[test]
    fn escape_at_boundary_moves_to_next_part() {
        // Septet 153 would be the ESC of '€'.
        let text = format!("{}€{}", "a".repeat(152), "b".repeat(10));
        let segs =
            split_text(&text, &EncodingOptions::default(), &SplitOptions::default()).unwrap();
        assert_eq!(segs.parts.len(), 2);
        let first = &segs.parts[0].short_message[6..];
        assert_eq!(first.len(), 152);
        assert!(first.iter().all(|&s| s == b'a'));
        let second = &segs.parts[1].short_message[6..];
        assert_eq!(&second[..2], &[ESC, 0x65]);
        assert_eq!(second.len(), 12);
    }

    #[test]
    fn sixteen_bit_reference() {
        let text = "y".repeat(161);
        let options = SplitOptions {
            reference: 0xBEEF,
            ..SplitOptions::default()
        };
        let segs = split_text(&text, &opts(Concatenation::Udh16), &options).unwrap();
        assert_eq!(segs.parts.len(), 2);
        assert_eq!(
            &segs.parts[0].short_message[..7],
            &[0x06, 0x08, 0x04, 0xBE, 0xEF, 0x02, 0x01]
        );
        assert_eq!(segs.parts[0].short_message.len(), 7 + 152);
        assert_eq!(segs.parts[1].short_message.len(), 7 + 9);
    }

    #[test]
    fn ucs2_emoji_at_boundary() {
        // 66 units then an emoji (2 units) at the 67-unit boundary: 68 units fit one SMS.
        let text = format!("{}😀", "a".repeat(66));
        let segs =
            split_text(&text, &EncodingOptions::default(), &SplitOptions::default()).unwrap();
        assert_eq!(segs.encoding, Encoding::Ucs2);
        assert_eq!(segs.parts.len(), 1);
        assert_eq!(segs.parts[0].short_message.len(), 136);
        // 66 + emoji + 4 = 72 units: the emoji does not fit in part 1 (67) and moves whole.
        let text = format!("{}😀{}", "a".repeat(66), "b".repeat(4));
        let segs =
            split_text(&text, &EncodingOptions::default(), &SplitOptions::default()).unwrap();
        assert_eq!(segs.parts.len(), 2);
        let p1 = &segs.parts[0].short_message[6..];
        let p2 = &segs.parts[1].short_message[6..];
        assert_eq!(p1.len(), 132);
        assert_eq!(ucs2::decode(p1).unwrap(), "a".repeat(66));
        assert_eq!(ucs2::decode(p2).unwrap(), "😀bbbb");
    }

    #[test]
    fn sar_mode_uses_full_capacity() {
        let text = "z".repeat(320);
        let options = SplitOptions {
            reference: 777,
            ..SplitOptions::default()
        };
        let segs = split_text(&text, &opts(Concatenation::Sar), &options).unwrap();
        assert_eq!(segs.parts.len(), 2);
        for (i, part) in segs.parts.iter().enumerate() {
            assert!(!part.udhi);
            assert_eq!(part.short_message.len(), 160);
            assert_eq!(
                part.sar,
                Some(Sar {
                    msg_ref_num: 777,
                    total_segments: 2,
                    segment_seqnum: u8::try_from(i + 1).unwrap()
                })
            );
        }
        // A single SAR message carries no SAR parameters.
        let segs = split_text("short", &opts(Concatenation::Sar), &options).unwrap();
        assert_eq!(segs.parts[0].sar, None);
    }

    #[test]
    fn sar_with_national_tables_still_has_udh() {
        let encoding = EncodingOptions {
            languages: [L::Turkish].into_iter().collect(),
            concatenation: Concatenation::Sar,
            ..EncodingOptions::default()
        };
        let text = "ğ".repeat(200);
        let segs = split_text(&text, &encoding, &SplitOptions::default()).unwrap();
        assert_eq!(segs.tables.locking(), L::Turkish);
        assert_eq!(segs.parts.len(), 2);
        let first = &segs.parts[0];
        assert!(first.udhi);
        assert!(first.sar.is_some());
        let (udh, rest) = parse_udh(&first.short_message).unwrap();
        assert_eq!(udh.concat(), None);
        assert_eq!(udh.national(), (Some(L::Turkish), None));
        assert_eq!(rest.len(), 155);
    }

    #[test]
    fn payload_mode_is_one_unit() {
        let text = "p".repeat(1000);
        let segs = split_text(
            &text,
            &opts(Concatenation::Payload),
            &SplitOptions::default(),
        )
        .unwrap();
        assert_eq!(segs.parts.len(), 1);
        assert_eq!(segs.parts[0].short_message.len(), 1000);
        assert!(!segs.parts[0].udhi);
        let huge = EncodingPlan::binary(vec![0u8; 70_000], Concatenation::Payload);
        assert_eq!(
            split(&huge, &SplitOptions::default()),
            Err(SplitError::PayloadTooLong { octets: 70_000 })
        );
    }

    #[test]
    fn max_segments_guard() {
        let text = "m".repeat(153 * 3 + 1);
        let options = SplitOptions {
            max_segments: 3,
            ..SplitOptions::default()
        };
        assert_eq!(
            split_text(&text, &EncodingOptions::default(), &options),
            Err(SplitError::TooLong {
                segments: 4,
                max: 3
            })
        );
        let options = SplitOptions {
            max_segments: 0,
            ..SplitOptions::default()
        };
        assert!(split_text("a", &EncodingOptions::default(), &options).is_err());
        // Above 255 parts is refused whatever the configuration.
        let plan = EncodingPlan::binary(vec![1u8; 134 * 256], Concatenation::Udh8);
        let options = SplitOptions {
            max_segments: usize::MAX,
            ..SplitOptions::default()
        };
        assert_eq!(
            split(&plan, &options),
            Err(SplitError::TooLong {
                segments: 256,
                max: 255
            })
        );
    }

    #[test]
    fn binary_and_latin1_capacities() {
        let plan = EncodingPlan::binary(vec![7u8; 140], Concatenation::Udh8);
        let segs = split(&plan, &SplitOptions::default()).unwrap();
        assert_eq!((segs.data_coding, segs.parts.len()), (4, 1));
        let plan = EncodingPlan::binary(vec![7u8; 141], Concatenation::Udh8);
        let segs = split(&plan, &SplitOptions::default()).unwrap();
        assert_eq!(segs.parts.len(), 2);
        assert_eq!(segs.parts[0].short_message.len(), 140);
        assert_eq!(segs.parts[1].short_message.len(), 6 + 7);
        let encoding = EncodingOptions {
            allow_latin1: true,
            ..EncodingOptions::default()
        };
        let text = format!("{}ç", "l".repeat(139));
        let segs = split_text(&text, &encoding, &SplitOptions::default()).unwrap();
        assert_eq!((segs.encoding, segs.parts.len()), (Encoding::Latin1, 1));
        assert_eq!(segs.parts[0].short_message.len(), 140);
    }

    #[test]
    fn packed_form_with_fill_bits() {
        let text = "hello".repeat(40); // 200 septets
        let options = SplitOptions {
            gsm7_form: Gsm7Form::Packed,
            reference: 5,
            ..SplitOptions::default()
        };
        let segs = split_text(&text, &EncodingOptions::default(), &options).unwrap();
        assert_eq!(segs.parts.len(), 2);
        let first = &segs.parts[0].short_message;
        // 6 UDH octets + 153 septets with 1 fill bit = exactly 140 octets.
        assert_eq!(first.len(), 140);
        let (_, rest) = parse_udh(first).unwrap();
        let septets = gsm7::unpack(rest, 153, 1).unwrap();
        assert_eq!(
            gsm7::decode_unpacked(&septets, Tables::DEFAULT).unwrap(),
            text[..153]
        );
        // Single packed message without UDH: "hellohello" vector.
        let segs = split_text("hellohello", &EncodingOptions::default(), &options).unwrap();
        assert_eq!(
            &segs.parts[0].short_message[..],
            &[0xe8, 0x32, 0x9b, 0xfd, 0x46, 0x97, 0xd9, 0xec, 0x37]
        );
    }

    #[test]
    fn packed_full_part_never_ends_in_cr() {
        let options = SplitOptions {
            gsm7_form: Gsm7Form::Packed,
            ..SplitOptions::default()
        };
        // 160 septets ending in CR: fits unpacked, but packed it would end on an octet boundary
        // with a CR that reads as padding, so it becomes two parts.
        let text = format!("{}\r", "c".repeat(159));
        let unpacked =
            split_text(&text, &EncodingOptions::default(), &SplitOptions::default()).unwrap();
        assert_eq!(unpacked.parts.len(), 1);
        let packed = split_text(&text, &EncodingOptions::default(), &options).unwrap();
        assert_eq!(packed.parts.len(), 2);
        let mut decoded = String::new();
        for part in &packed.parts {
            let (udh, rest) = parse_udh(&part.short_message).unwrap();
            let fill = gsm7::fill_bits_for_udh(part.short_message.len() - rest.len());
            let septets = gsm7::unpack_all(rest, fill);
            decoded += &gsm7::decode_unpacked(&septets, udh.gsm7_tables()).unwrap();
        }
        assert_eq!(decoded, text);
    }
}

#[cfg(test)]
mod proptests {
    use super::*;
    use crate::segment::udh::parse_udh;
    use crate::text::{NationalLanguage, latin1, ucs2};
    use proptest::prelude::*;

    fn any_text() -> impl Strategy<Value = String> {
        let ch = prop_oneof![
            4 => proptest::char::range('a', 'z'),
            1 => proptest::sample::select(vec![' ', '{', '}', '^', '|', '€', '\\', '[', ']', '~', '\n', '\r', '\u{c}', '@']),
            1 => proptest::sample::select(vec!['ç', 'ğ', 'ş', 'ı', 'İ', 'á', 'í', 'ó', 'ú', 'ã', 'õ', 'ê', 'Ô', 'À', 'é', 'ü', 'ñ', '`']),
            1 => proptest::char::range('\u{0900}', '\u{097F}'),
            1 => proptest::char::range('\u{0B80}', '\u{0BFF}'),
            1 => proptest::sample::select(vec!['😀', '中', 'Ā', '\u{0}', '\u{FFFF}']),
            1 => any::<char>(),
        ];
        proptest::collection::vec(ch, 0..700).prop_map(|v| v.into_iter().collect())
    }

    fn any_options() -> impl Strategy<Value = (EncodingOptions, SplitOptions)> {
        (
            any::<u16>(),
            any::<bool>(),
            0u8..4,
            any::<bool>(),
            any::<u16>(),
        )
            .prop_map(|(bits, allow_latin1, c, packed, reference)| {
                (
                    EncodingOptions {
                        languages: NationalLanguage::ALL
                            .into_iter()
                            .filter(|l| bits & (1 << l.id()) != 0)
                            .collect(),
                        allow_latin1,
                        concatenation: match c {
                            0 => Concatenation::Udh8,
                            1 => Concatenation::Udh16,
                            2 => Concatenation::Sar,
                            _ => Concatenation::Payload,
                        },
                    },
                    SplitOptions {
                        reference,
                        gsm7_form: if packed {
                            Gsm7Form::Packed
                        } else {
                            Gsm7Form::Unpacked
                        },
                        max_segments: MAX_SEGMENTS,
                    },
                )
            })
    }

    fn decode_part(segs: &Segments, part: &Segment, packed: bool) -> String {
        let (tables, text) = if part.udhi {
            let (udh, rest) = parse_udh(&part.short_message).unwrap();
            (udh.gsm7_tables(), rest)
        } else {
            (Tables::DEFAULT, &part.short_message[..])
        };
        match segs.encoding {
            Encoding::Gsm7 => {
                let septets = if packed {
                    let header = part.short_message.len() - text.len();
                    gsm7::unpack_all(text, gsm7::fill_bits_for_udh(header))
                } else {
                    text.to_vec()
                };
                gsm7::decode_unpacked(&septets, tables).unwrap()
            }
            Encoding::Ucs2 => ucs2::decode(text).unwrap(),
            Encoding::Latin1 => latin1::decode(text),
            Encoding::Binary => unreachable!("text never plans as binary"),
        }
    }

    proptest! {
        #[test]
        fn choose_split_decode_round_trip(text in any_text(), (enc, opts) in any_options()) {
            let plan = choose(&text, &enc);
            let segs = split(&plan, &opts).unwrap();
            let packed = opts.gsm7_form == Gsm7Form::Packed && segs.encoding == Encoding::Gsm7;
            if !packed && enc.concatenation != Concatenation::Payload {
                prop_assert_eq!(segs.parts.len(), plan.segments());
            }
            let total = segs.parts.len();
            let mut decoded = String::new();
            for (i, part) in segs.parts.iter().enumerate() {
                // Wire constraints: at most 140 octets per SMS, concat / SAR numbering.
                if enc.concatenation != Concatenation::Payload {
                    prop_assert!(part.short_message.len() <= 140);
                }
                if part.udhi {
                    let (udh, _) = parse_udh(&part.short_message).unwrap();
                    if let Some(c) = udh.concat() {
                        prop_assert_eq!(usize::from(c.total), total);
                        prop_assert_eq!(usize::from(c.seq), i + 1);
                        prop_assert_eq!(c.sixteen_bit, enc.concatenation == Concatenation::Udh16);
                    }
                }
                if let Some(sar) = part.sar {
                    prop_assert_eq!(usize::from(sar.segment_seqnum), i + 1);
                    prop_assert_eq!(sar.msg_ref_num, opts.reference);
                }
                decoded += &decode_part(&segs, part, packed);
            }
            if packed && text.ends_with('\r') && decoded.len() == text.len() + 1 {
                // TS 23.038 §6.1.2.3.1: a wanted final CR on an octet boundary is doubled.
                prop_assert_eq!(decoded.strip_suffix('\r'), Some(text.as_str()));
            } else {
                prop_assert_eq!(decoded, text);
            }
        }
    }
}
