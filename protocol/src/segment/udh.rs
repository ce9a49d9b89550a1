//! User Data Header (3GPP TS 23.040 §9.2.3.24): building and parsing.
//!
//! Decisions:
//! - The elements the gateway acts on are typed: concatenation with 8-bit (IEI 0x00) and 16-bit
//!   (IEI 0x08) references, national language single shift (0x24) and locking shift (0x25). Every
//!   other element is kept as raw `Other { id, data }` so a UDH can be forwarded unchanged, and
//!   `encode(parse(x)) == x` for every valid header.
//! - Parsing is strict and total: it never panics, and every structural problem (UDHL beyond the
//!   data, an IE running past the UDHL, a concatenation IE with total 0 or a sequence number
//!   outside `1..=total`, a known IE with the wrong length) is an error naming the octet offset in
//!   the user data. A national language IE with a reserved language identifier is not an error;
//!   it is kept as `Other` and ignored by [`Udh::national`], as TS 23.038 asks of receivers.
//! - When an element occurs more than once the last occurrence is the one used (TS 23.040
//!   §9.2.3.24: "the last occurrence of the IE shall be used").
//! - Splitting (the hot path) does not build a [`Udh`]; it writes the octets directly with
//!   `write_udh`, so a part costs no allocation beyond the shared output buffer.

use bytes::{BufMut, Bytes, BytesMut};

use crate::text::NationalLanguage;
use crate::text::gsm7::Tables;

/// IEI of the concatenation element with an 8-bit reference.
pub const IEI_CONCAT_8: u8 = 0x00;
/// IEI of the concatenation element with a 16-bit reference.
pub const IEI_CONCAT_16: u8 = 0x08;
/// IEI of the national language single shift element.
pub const IEI_SINGLE_SHIFT: u8 = 0x24;
/// IEI of the national language locking shift element.
pub const IEI_LOCKING_SHIFT: u8 = 0x25;

/// Maximum octets of a UDH including UDHL (UDHL is one octet). Whether header and text fit the
/// 140 octets of an SMS is the splitter's concern; a header alone may be longer in
/// `message_payload`, and the parser accepts what the encoder can produce.
pub const MAX_UDH_OCTETS: usize = 256;

/// Concatenated short message information.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Concat {
    /// Reference number shared by all parts (0..=255 when `sixteen_bit` is false).
    pub reference: u16,
    /// Total number of parts (1..=255).
    pub total: u8,
    /// 1-based sequence number of this part (1..=total).
    pub seq: u8,
    /// Whether the reference is 16-bit (IEI 0x08) rather than 8-bit (IEI 0x00).
    pub sixteen_bit: bool,
}

impl Concat {
    const fn iei(self) -> u8 {
        if self.sixteen_bit {
            IEI_CONCAT_16
        } else {
            IEI_CONCAT_8
        }
    }

    const fn data_len(self) -> usize {
        if self.sixteen_bit { 4 } else { 3 }
    }

    const fn is_valid(self) -> bool {
        self.total != 0
            && self.seq != 0
            && self.seq <= self.total
            && (self.sixteen_bit || self.reference <= 0xFF)
    }

    fn write(self, out: &mut impl BufMut) {
        out.put_u8(self.iei());
        // `data_len` is 3 or 4.
        out.put_u8(self.data_len() as u8);
        if self.sixteen_bit {
            out.put_u16(self.reference);
        } else {
            // Validated (or masked by the splitter) to fit 8 bits.
            out.put_u8((self.reference & 0xFF) as u8);
        }
        out.put_u8(self.total);
        out.put_u8(self.seq);
    }
}

/// One information element.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum InformationElement {
    /// Concatenation (IEI 0x00 or 0x08 according to `sixteen_bit`).
    Concat(Concat),
    /// National language single shift (IEI 0x24).
    SingleShift(NationalLanguage),
    /// National language locking shift (IEI 0x25).
    LockingShift(NationalLanguage),
    /// Any other element, kept verbatim.
    Other {
        /// The IEI.
        id: u8,
        /// The element data (without IEI and length octets).
        data: Vec<u8>,
    },
}

impl InformationElement {
    /// The IEI.
    #[must_use]
    pub fn id(&self) -> u8 {
        match self {
            Self::Concat(c) => c.iei(),
            Self::SingleShift(_) => IEI_SINGLE_SHIFT,
            Self::LockingShift(_) => IEI_LOCKING_SHIFT,
            Self::Other { id, .. } => *id,
        }
    }

    /// Octets this element occupies in the UDH (IEI + length + data).
    #[must_use]
    pub fn encoded_len(&self) -> usize {
        2 + match self {
            Self::Concat(c) => c.data_len(),
            Self::SingleShift(_) | Self::LockingShift(_) => 1,
            Self::Other { data, .. } => data.len(),
        }
    }
}

/// A parsed or to-be-encoded User Data Header.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Udh {
    elements: Vec<InformationElement>,
}

/// Why user data does not start with a valid UDH.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UdhError {
    /// No octet for UDHL.
    #[error("user data is empty: no UDHL octet at offset 0")]
    Empty,
    /// UDHL (at offset 0) claims more octets than follow it.
    #[error("UDHL {udhl} at offset 0 exceeds the {available} octets that follow")]
    LengthBeyondData {
        /// The UDHL value.
        udhl: u8,
        /// Octets after the UDHL octet.
        available: usize,
    },
    /// An IEI at `offset` is the last octet of the UDH, so its length octet is missing.
    #[error("information element at offset {offset} has no length octet before the end of the UDH")]
    TruncatedElement {
        /// Offset of the IEI.
        offset: usize,
    },
    /// An element's data runs past the end of the UDH.
    #[error(
        "information element 0x{id:02X} at offset {offset} with length {len} runs past the end of the UDH"
    )]
    ElementBeyondUdh {
        /// Offset of the IEI.
        offset: usize,
        /// The IEI.
        id: u8,
        /// The element length.
        len: u8,
    },
    /// A known element with the wrong length.
    #[error(
        "information element 0x{id:02X} at offset {offset} has length {len}, expected {expected}"
    )]
    BadElementLength {
        /// Offset of the IEI.
        offset: usize,
        /// The IEI.
        id: u8,
        /// The element length.
        len: u8,
        /// The length the element must have.
        expected: u8,
    },
    /// A concatenation element with a total of 0 parts.
    #[error("concatenation element at offset {offset} has a total of 0 parts")]
    ConcatTotalZero {
        /// Offset of the IEI.
        offset: usize,
    },
    /// A concatenation element whose sequence number is 0 or above the total.
    #[error(
        "concatenation element at offset {offset} has sequence number {seq} outside 1..={total}"
    )]
    ConcatSeqOutOfRange {
        /// Offset of the IEI.
        offset: usize,
        /// The sequence number.
        seq: u8,
        /// The total.
        total: u8,
    },
}

/// Why a [`Udh`] cannot be encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UdhEncodeError {
    /// The elements exceed the 255 octets a one-octet UDHL can announce.
    #[error("UDH of {len} octets exceeds the maximum of {MAX_UDH_OCTETS} (UDHL is one octet)")]
    TooLong {
        /// Encoded length including UDHL.
        len: usize,
    },
    /// A concatenation element with total 0, sequence outside `1..=total`, or an 8-bit
    /// reference above 255.
    #[error("invalid concatenation element {0:?}")]
    InvalidConcat(Concat),
}

impl Udh {
    /// An empty header.
    #[must_use]
    pub const fn new() -> Udh {
        Udh {
            elements: Vec::new(),
        }
    }

    /// Appends an element.
    pub fn push(&mut self, element: InformationElement) {
        self.elements.push(element);
    }

    /// The elements in order.
    #[must_use]
    pub fn elements(&self) -> &[InformationElement] {
        &self.elements
    }

    /// The concatenation information (last occurrence wins).
    #[must_use]
    pub fn concat(&self) -> Option<Concat> {
        self.elements.iter().rev().find_map(|e| match e {
            InformationElement::Concat(c) => Some(*c),
            _ => None,
        })
    }

    /// The national language tables as `(locking, single)` (last occurrence of each wins).
    #[must_use]
    pub fn national(&self) -> (Option<NationalLanguage>, Option<NationalLanguage>) {
        let locking = self.elements.iter().rev().find_map(|e| match e {
            InformationElement::LockingShift(l) => Some(*l),
            _ => None,
        });
        let single = self.elements.iter().rev().find_map(|e| match e {
            InformationElement::SingleShift(l) => Some(*l),
            _ => None,
        });
        (locking, single)
    }

    /// The GSM tables to decode the text after this header with.
    #[must_use]
    pub fn gsm7_tables(&self) -> Tables {
        let (locking, single) = self.national();
        Tables::for_decoding(locking, single)
    }

    /// Encoded length including the UDHL octet.
    #[must_use]
    pub fn encoded_len(&self) -> usize {
        1 + self
            .elements
            .iter()
            .map(InformationElement::encoded_len)
            .sum::<usize>()
    }

    /// Writes UDHL and the elements to `out`. On error nothing is written.
    ///
    /// # Errors
    /// [`UdhEncodeError`] for elements longer than UDHL can announce or an invalid
    /// concatenation element.
    pub fn encode_into(&self, out: &mut BytesMut) -> Result<(), UdhEncodeError> {
        let len = self.encoded_len();
        if len > MAX_UDH_OCTETS {
            return Err(UdhEncodeError::TooLong { len });
        }
        for e in &self.elements {
            if let InformationElement::Concat(c) = e
                && !c.is_valid()
            {
                return Err(UdhEncodeError::InvalidConcat(*c));
            }
        }
        out.reserve(len);
        // `len <= 256`, so UDHL fits; every element is shorter than that, so its length too.
        out.put_u8((len - 1) as u8);
        for e in &self.elements {
            match e {
                InformationElement::Concat(c) => c.write(out),
                InformationElement::SingleShift(l) => {
                    out.put_slice(&[IEI_SINGLE_SHIFT, 1, l.id()]);
                }
                InformationElement::LockingShift(l) => {
                    out.put_slice(&[IEI_LOCKING_SHIFT, 1, l.id()]);
                }
                InformationElement::Other { id, data } => {
                    out.put_u8(*id);
                    out.put_u8(data.len() as u8);
                    out.put_slice(data);
                }
            }
        }
        Ok(())
    }

    /// The encoded header.
    ///
    /// # Errors
    /// See [`Udh::encode_into`].
    pub fn to_bytes(&self) -> Result<Bytes, UdhEncodeError> {
        let mut out = BytesMut::with_capacity(self.encoded_len());
        self.encode_into(&mut out)?;
        Ok(out.freeze())
    }
}

impl From<Vec<InformationElement>> for Udh {
    fn from(elements: Vec<InformationElement>) -> Self {
        Udh { elements }
    }
}

/// Parses the UDH at the start of `user_data` (first octet UDHL) and returns it with the rest of
/// the user data (which, for packed GSM text, still begins with the fill bits).
///
/// # Errors
/// [`UdhError`] naming the offset of the first structural problem.
pub fn parse_udh(user_data: &[u8]) -> Result<(Udh, &[u8]), UdhError> {
    let (&udhl, after) = user_data.split_first().ok_or(UdhError::Empty)?;
    let header_len = usize::from(udhl);
    let Some((mut header, rest)) = after.split_at_checked(header_len) else {
        return Err(UdhError::LengthBeyondData {
            udhl,
            available: after.len(),
        });
    };
    // Every element takes at least two octets.
    let mut elements = Vec::with_capacity(header_len / 2);
    let mut offset = 1;
    while let Some((&id, tail)) = header.split_first() {
        let (&len, tail) = tail
            .split_first()
            .ok_or(UdhError::TruncatedElement { offset })?;
        let data_len = usize::from(len);
        let Some((data, tail)) = tail.split_at_checked(data_len) else {
            return Err(UdhError::ElementBeyondUdh { offset, id, len });
        };
        elements.push(parse_element(offset, id, len, data)?);
        header = tail;
        offset += 2 + data_len;
    }
    Ok((Udh { elements }, rest))
}

fn parse_element(
    offset: usize,
    id: u8,
    len: u8,
    data: &[u8],
) -> Result<InformationElement, UdhError> {
    let bad_len = |expected| UdhError::BadElementLength {
        offset,
        id,
        len,
        expected,
    };
    let concat = |reference: u16, total: u8, seq: u8, sixteen_bit: bool| {
        if total == 0 {
            Err(UdhError::ConcatTotalZero { offset })
        } else if seq == 0 || seq > total {
            Err(UdhError::ConcatSeqOutOfRange { offset, seq, total })
        } else {
            Ok(InformationElement::Concat(Concat {
                reference,
                total,
                seq,
                sixteen_bit,
            }))
        }
    };
    match id {
        IEI_CONCAT_8 => match *data {
            [reference, total, seq] => concat(u16::from(reference), total, seq, false),
            _ => Err(bad_len(3)),
        },
        IEI_CONCAT_16 => match *data {
            [hi, lo, total, seq] => concat(u16::from_be_bytes([hi, lo]), total, seq, true),
            _ => Err(bad_len(4)),
        },
        IEI_SINGLE_SHIFT | IEI_LOCKING_SHIFT => match *data {
            [lang] => Ok(match NationalLanguage::from_id(lang) {
                Some(l) if id == IEI_SINGLE_SHIFT => InformationElement::SingleShift(l),
                Some(l) => InformationElement::LockingShift(l),
                None => InformationElement::Other {
                    id,
                    data: data.to_vec(),
                },
            }),
            _ => Err(bad_len(1)),
        },
        _ => Ok(InformationElement::Other {
            id,
            data: data.to_vec(),
        }),
    }
}

/// Octets [`write_udh`] writes for these elements (0 when there is nothing to write).
#[must_use]
pub(crate) const fn udh_len(concat: Option<Concat>, tables: Tables) -> usize {
    let concat_len = match concat {
        Some(c) => 2 + c.data_len(),
        None => 0,
    };
    crate::text::choose::udh_octets(concat_len + tables.ie_octets())
}

/// Writes a UDH with an optional concatenation element followed by the national language
/// elements of `tables` (single shift, then locking shift, as handsets emit them). Writes
/// nothing when there are no elements. `concat` must be valid (the splitter builds it).
pub(crate) fn write_udh(out: &mut impl BufMut, concat: Option<Concat>, tables: Tables) {
    let len = udh_len(concat, tables);
    if len == 0 {
        return;
    }
    // At most 1 + 6 + 6 octets.
    out.put_u8((len - 1) as u8);
    if let Some(c) = concat {
        c.write(out);
    }
    if tables.single() != NationalLanguage::Default {
        out.put_slice(&[IEI_SINGLE_SHIFT, 1, tables.single().id()]);
    }
    if tables.locking() != NationalLanguage::Default {
        out.put_slice(&[IEI_LOCKING_SHIFT, 1, tables.locking().id()]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use NationalLanguage as L;

    #[test]
    fn parse_concat_8() {
        let data = [0x05, 0x00, 0x03, 0xAB, 0x02, 0x01, b'h', b'i'];
        let (udh, rest) = parse_udh(&data).unwrap();
        assert_eq!(rest, b"hi");
        assert_eq!(
            udh.concat(),
            Some(Concat {
                reference: 0xAB,
                total: 2,
                seq: 1,
                sixteen_bit: false
            })
        );
        assert_eq!(udh.national(), (None, None));
        assert_eq!(udh.to_bytes().unwrap(), &data[..6]);
    }

    #[test]
    fn parse_concat_16_and_national() {
        let data = [
            0x0C, 0x08, 0x04, 0x12, 0x34, 0x03, 0x03, 0x24, 0x01, 0x01, 0x25, 0x01, 0x03, 0x41,
        ];
        let (udh, rest) = parse_udh(&data).unwrap();
        assert_eq!(rest, [0x41]);
        assert_eq!(
            udh.concat(),
            Some(Concat {
                reference: 0x1234,
                total: 3,
                seq: 3,
                sixteen_bit: true
            })
        );
        assert_eq!(udh.national(), (Some(L::Portuguese), Some(L::Turkish)));
        assert_eq!(
            udh.gsm7_tables(),
            Tables::new(L::Portuguese, L::Turkish).unwrap()
        );
        assert_eq!(udh.encoded_len(), 13);
        assert_eq!(udh.to_bytes().unwrap(), &data[..13]);
    }

    #[test]
    fn unknown_elements_preserved() {
        // Port addressing (0x05) and a national IE with a reserved language id (0x20).
        let data = [
            0x0B, 0x05, 0x04, 0x0B, 0x84, 0x23, 0xF0, 0x24, 0x01, 0x20, 0x70, 0x00,
        ];
        let (udh, rest) = parse_udh(&data).unwrap();
        assert!(rest.is_empty());
        assert_eq!(
            udh.elements(),
            [
                InformationElement::Other {
                    id: 0x05,
                    data: vec![0x0B, 0x84, 0x23, 0xF0]
                },
                InformationElement::Other {
                    id: 0x24,
                    data: vec![0x20]
                },
                InformationElement::Other {
                    id: 0x70,
                    data: vec![]
                },
            ]
        );
        assert_eq!(udh.national(), (None, None));
        assert_eq!(udh.to_bytes().unwrap(), &data[..]);
    }

    #[test]
    fn empty_udh_and_last_occurrence_wins() {
        let (udh, rest) = parse_udh(&[0x00, 0x61]).unwrap();
        assert!(udh.elements().is_empty());
        assert_eq!(rest, [0x61]);
        let data = [0x0A, 0x00, 0x03, 1, 2, 1, 0x00, 0x03, 9, 3, 2];
        let (udh, _) = parse_udh(&data).unwrap();
        assert_eq!(udh.concat().map(|c| (c.reference, c.seq)), Some((9, 2)));
    }

    #[test]
    fn errors_name_offsets() {
        assert_eq!(parse_udh(&[]), Err(UdhError::Empty));
        assert_eq!(
            parse_udh(&[0x05, 0x00, 0x03]),
            Err(UdhError::LengthBeyondData {
                udhl: 5,
                available: 2
            })
        );
        assert_eq!(
            parse_udh(&[0x01, 0x00]),
            Err(UdhError::TruncatedElement { offset: 1 })
        );
        assert_eq!(
            parse_udh(&[0x04, 0x00, 0x03, 0x01, 0x02]),
            Err(UdhError::ElementBeyondUdh {
                offset: 1,
                id: 0,
                len: 3
            })
        );
        assert_eq!(
            parse_udh(&[0x07, 0x70, 0x00, 0x00, 0x03, 0x01, 0x00, 0x01]),
            Err(UdhError::ConcatTotalZero { offset: 3 })
        );
        assert_eq!(
            parse_udh(&[0x05, 0x00, 0x03, 0x01, 0x02, 0x00]),
            Err(UdhError::ConcatSeqOutOfRange {
                offset: 1,
                seq: 0,
                total: 2
            })
        );
        assert_eq!(
            parse_udh(&[0x05, 0x00, 0x03, 0x01, 0x02, 0x03]),
            Err(UdhError::ConcatSeqOutOfRange {
                offset: 1,
                seq: 3,
                total: 2
            })
        );
        assert_eq!(
            parse_udh(&[0x04, 0x00, 0x02, 0x01, 0x01]),
            Err(UdhError::BadElementLength {
                offset: 1,
                id: 0,
                len: 2,
                expected: 3
            })
        );
        assert_eq!(
            parse_udh(&[0x04, 0x24, 0x02, 0x01, 0x01]),
            Err(UdhError::BadElementLength {
                offset: 1,
                id: 0x24,
                len: 2,
                expected: 1
            })
        );
    }

    #[test]
    fn encode_errors() {
        let mut out = BytesMut::new();
        let bad = Udh::from(vec![InformationElement::Concat(Concat {
            reference: 300,
            total: 2,
            seq: 1,
            sixteen_bit: false,
        })]);
        assert!(matches!(
            bad.encode_into(&mut out),
            Err(UdhEncodeError::InvalidConcat(_))
        ));
        let bad = Udh::from(vec![InformationElement::Concat(Concat {
            reference: 1,
            total: 2,
            seq: 3,
            sixteen_bit: true,
        })]);
        assert!(bad.to_bytes().is_err());
        let big = Udh::from(vec![InformationElement::Other {
            id: 0x70,
            data: vec![0; 254],
        }]);
        assert_eq!(
            big.encode_into(&mut out),
            Err(UdhEncodeError::TooLong { len: 257 })
        );
        let max = Udh::from(vec![InformationElement::Other {
            id: 0x70,
            data: vec![0; 253],
        }]);
        assert_eq!(max.to_bytes().unwrap().len(), 256);
        assert!(out.is_empty());
        let mut udh = Udh::new();
        udh.push(InformationElement::SingleShift(L::Spanish));
        assert_eq!(udh.to_bytes().unwrap(), &[0x03, 0x24, 0x01, 0x02][..]);
    }

    #[test]
    fn write_udh_layouts() {
        let mut out = BytesMut::new();
        write_udh(&mut out, None, Tables::DEFAULT);
        assert!(out.is_empty());
        let concat = Concat {
            reference: 0x42,
            total: 3,
            seq: 2,
            sixteen_bit: false,
        };
        write_udh(
            &mut out,
            Some(concat),
            Tables::new(L::Turkish, L::Turkish).unwrap(),
        );
        assert_eq!(
            &out[..],
            &[
                0x0B, 0x00, 0x03, 0x42, 0x03, 0x02, 0x24, 0x01, 0x01, 0x25, 0x01, 0x01
            ]
        );
        assert_eq!(
            udh_len(Some(concat), Tables::new(L::Turkish, L::Turkish).unwrap()),
            12
        );
        let (udh, rest) = parse_udh(&out).unwrap();
        assert!(rest.is_empty());
        assert_eq!(udh.concat(), Some(concat));
        assert_eq!(udh.national(), (Some(L::Turkish), Some(L::Turkish)));
    }
}

#[cfg(test)]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    fn element() -> impl Strategy<Value = InformationElement> {
        prop_oneof![
            (
                any::<u8>(),
                1u8..=255,
                any::<u8>(),
                any::<bool>(),
                any::<u16>()
            )
                .prop_map(|(r8, total, seq, sixteen_bit, r16)| {
                    InformationElement::Concat(Concat {
                        reference: if sixteen_bit { r16 } else { u16::from(r8) },
                        total,
                        seq: seq % total + 1,
                        sixteen_bit,
                    })
                }),
            proptest::sample::select(NationalLanguage::ALL.to_vec())
                .prop_map(InformationElement::SingleShift),
            proptest::sample::select(NationalLanguage::ALL.to_vec())
                .prop_map(InformationElement::LockingShift),
            (
                any::<u8>().prop_filter("not a typed IEI", |id| {
                    ![
                        IEI_CONCAT_8,
                        IEI_CONCAT_16,
                        IEI_SINGLE_SHIFT,
                        IEI_LOCKING_SHIFT,
                    ]
                    .contains(id)
                }),
                proptest::collection::vec(any::<u8>(), 0..20)
            )
                .prop_map(|(id, data)| InformationElement::Other { id, data }),
            (14u8..=255).prop_map(|lang| InformationElement::Other {
                id: IEI_SINGLE_SHIFT,
                data: vec![lang]
            }),
        ]
    }

    proptest! {
        #[test]
        fn parse_never_panics(data in proptest::collection::vec(any::<u8>(), 0..200)) {
            if let Ok((udh, rest)) = parse_udh(&data) {
                // A successfully parsed header re-encodes to exactly the octets it came from.
                let encoded = udh.to_bytes().unwrap();
                prop_assert_eq!(encoded.len() + rest.len(), data.len());
                prop_assert_eq!(&encoded[..], &data[..encoded.len()]);
            }
        }

        #[test]
        fn encode_parse_identity(elements in proptest::collection::vec(element(), 0..8), tail in proptest::collection::vec(any::<u8>(), 0..10)) {
            let udh = Udh::from(elements);
            let mut out = BytesMut::new();
            udh.encode_into(&mut out).unwrap();
            prop_assert_eq!(out.len(), udh.encoded_len());
            out.extend_from_slice(&tail);
            let (parsed, rest) = parse_udh(&out).unwrap();
            prop_assert_eq!(parsed, udh);
            prop_assert_eq!(rest, &tail[..]);
        }
    }
}
