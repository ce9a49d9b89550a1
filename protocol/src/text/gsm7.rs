//! GSM 7-bit codec (3GPP TS 23.038 §6.1.2, §6.2.1 and Annex A): characters ↔ septets, and
//! septets ↔ packed octets.
//!
//! Decisions:
//! - The primary form is *unpacked*: one septet per octet, which is what SMPP `data_coding` 0
//!   normally carries; the SMSC packs for the air interface. Packing is a separate step
//!   ([`pack`], [`unpack`]) so the same septets can go either way.
//! - A table pair is a [`Tables`] value (locking shift, single shift). It can only be built for
//!   tables that exist ([`Tables::new`] refuses a Spanish locking table); inbound data uses
//!   [`Tables::for_decoding`], which falls back to the default tables as a receiving entity must.
//! - Plain text is the hot path: encoding maps 32-byte chunks of ASCII through a compile-time
//!   array without branches and falls back to per-character work (escapes, UTF-8 decoding and
//!   binary search in the sorted reverse table) only for chunks that need it; decoding does the
//!   same in reverse. No tables are built at run time.
//! - Decoding follows the display rules of §6.2.1.1: an escape followed by a code the single
//!   shift table does not define shows the main table's character for that code; escape + escape
//!   (reserved for a future extension table) shows a space; a trailing lone escape is dropped.
//!   Positions undefined in the main table decode to U+FFFD. Only octets above 0x7F are errors.
//! - Packing with fill bits: after a UDH the text must start on a septet boundary, so
//!   `fill_bits = (7 - (udh_octets * 8) % 7) % 7` zero bits precede the first septet
//!   ([`fill_bits_for_udh`]).
//! - The trailing-padding ambiguity (§6.1.2.3.1): when `8n - 1` septets are packed the last octet
//!   has 7 spare bits, which a receiver that infers the septet count from the octet count reads
//!   as an extra `@` (0x00). The spec's remedy is to pad with CR instead, and receivers strip a
//!   CR that ends exactly on an octet boundary; a *wanted* final CR that ends on an octet
//!   boundary is therefore followed by a second CR. [`pack_cr_padded`] implements the sender
//!   side, [`unpack_all`] the receiver side. When the septet count is known (TP-UDL on the air
//!   interface) use [`unpack`] with the explicit count, which has no ambiguity at all.

use bytes::BufMut;

use super::NationalLanguage;
use super::tables::{self, DEFAULT_LOCKING_TABLE, Table};

/// The escape septet that switches the next septet to the single shift table.
pub const ESC: u8 = 0x1B;
/// Carriage return (the padding septet of §6.1.2.3.1).
pub const CR: u8 = 0x0D;
/// Octets of one national language shift IE in a UDH (IEI, length, language).
pub const NATIONAL_IE_OCTETS: usize = 3;

const REPLACEMENT: char = '\u{FFFD}';

/// A pair of national language tables: the locking shift (main) table and the single shift
/// (extension) table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Tables {
    locking: NationalLanguage,
    single: NationalLanguage,
}

impl Default for Tables {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl Tables {
    /// The default alphabet with the default extension table (no UDH needed).
    pub const DEFAULT: Tables = Tables {
        locking: NationalLanguage::Default,
        single: NationalLanguage::Default,
    };

    /// A table pair for encoding, or `None` when `locking` has no locking shift table (Spanish).
    #[must_use]
    pub const fn new(locking: NationalLanguage, single: NationalLanguage) -> Option<Tables> {
        if locking.has_locking_shift() {
            Some(Tables { locking, single })
        } else {
            None
        }
    }

    /// A table pair for decoding inbound data, from the national IEs of its UDH: absent IEs and
    /// a language without the requested table mean the default table (TS 23.038 §6.2.1.2.4).
    #[must_use]
    pub const fn for_decoding(
        locking: Option<NationalLanguage>,
        single: Option<NationalLanguage>,
    ) -> Tables {
        let locking = match locking {
            Some(lang) if lang.has_locking_shift() => lang,
            _ => NationalLanguage::Default,
        };
        let single = match single {
            Some(lang) => lang,
            None => NationalLanguage::Default,
        };
        Tables { locking, single }
    }

    /// The locking shift (main table) language.
    #[must_use]
    pub const fn locking(self) -> NationalLanguage {
        self.locking
    }

    /// The single shift (extension table) language.
    #[must_use]
    pub const fn single(self) -> NationalLanguage {
        self.single
    }

    /// Whether this is the default pair (no national language IE needed).
    #[must_use]
    pub const fn is_default(self) -> bool {
        matches!(self.locking, NationalLanguage::Default)
            && matches!(self.single, NationalLanguage::Default)
    }

    /// Octets of national language IEs a UDH needs for this pair (0, 3 or 6; excluding UDHL).
    #[must_use]
    pub const fn ie_octets(self) -> usize {
        let mut n = 0;
        if !matches!(self.locking, NationalLanguage::Default) {
            n += NATIONAL_IE_OCTETS;
        }
        if !matches!(self.single, NationalLanguage::Default) {
            n += NATIONAL_IE_OCTETS;
        }
        n
    }

    /// Number of national language IEs (0, 1 or 2).
    #[must_use]
    pub const fn ie_count(self) -> usize {
        self.ie_octets() / NATIONAL_IE_OCTETS
    }

    pub(crate) fn locking_table(self) -> &'static Table {
        tables::locking(self.locking).unwrap_or(&DEFAULT_LOCKING_TABLE)
    }

    pub(crate) fn single_table(self) -> &'static Table {
        tables::single(self.single)
    }

    /// Whether `ch` can be encoded with this pair (in the main or the extension table).
    #[must_use]
    pub fn can_encode(self, ch: char) -> bool {
        self.locking_table().contains(ch) || self.single_table().contains(ch)
    }
}

/// Encoding failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// A character has no mapping in the selected tables.
    #[error("character {ch:?} (U+{code:04X}) at byte index {index} is not in the GSM 7-bit tables", code = u32::from(*ch))]
    Unencodable {
        /// Byte index of the character in the input `&str`.
        index: usize,
        /// The character.
        ch: char,
    },
}

impl EncodeError {
    /// Byte index of the offending character in the input.
    #[must_use]
    pub const fn index(&self) -> usize {
        match self {
            Self::Unencodable { index, .. } => *index,
        }
    }

    /// The offending character.
    #[must_use]
    pub const fn ch(&self) -> char {
        match self {
            Self::Unencodable { ch, .. } => *ch,
        }
    }
}

/// Invalid septet data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// An octet above 0x7F in unpacked septet data.
    #[error("octet 0x{value:02X} at index {index} is not a septet")]
    InvalidSeptet {
        /// Index of the octet.
        index: usize,
        /// The octet.
        value: u8,
    },
}

/// Packed data too short for the requested number of septets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "{septets} septets after {fill_bits} fill bits need {needed} octets, only {available} present"
)]
pub struct UnpackError {
    /// Requested septet count.
    pub septets: usize,
    /// Fill bits before the first septet.
    pub fill_bits: u8,
    /// Octets needed.
    pub needed: usize,
    /// Octets present.
    pub available: usize,
}

#[inline]
fn encode_char(
    ch: char,
    index: usize,
    lock: &Table,
    single: &Table,
    out: &mut Vec<u8>,
) -> Result<(), EncodeError> {
    if let Some(code) = lock.code_of(ch) {
        out.push(code);
    } else if let Some(code) = single.code_of(ch) {
        out.extend_from_slice(&[ESC, code]);
    } else {
        return Err(EncodeError::Unencodable { index, ch });
    }
    Ok(())
}

/// Chunk size of the branch-free ASCII fast path.
const ASCII_CHUNK: usize = 32;

/// Encodes the longest ASCII prefix of `bytes` into `out` and returns its length (a char
/// boundary of the text `bytes` came from). Chunks of main-table characters take the
/// branch-free path; a chunk with an escape character or a non-ASCII byte goes byte by byte.
pub(crate) fn encode_ascii_prefix(
    bytes: &[u8],
    lock: &Table,
    single: &Table,
    out: &mut Vec<u8>,
) -> Result<usize, EncodeError> {
    let mut ascii_len = 0;
    for chunk in bytes.chunks(ASCII_CHUNK) {
        if lock.map_ascii_into(chunk, out) {
            ascii_len += chunk.len();
            continue;
        }
        for &b in chunk {
            if b >= 0x80 {
                return Ok(ascii_len);
            }
            if let Some(code) = lock.ascii_code(b) {
                out.push(code);
            } else if let Some(code) = single.ascii_code(b) {
                out.extend_from_slice(&[ESC, code]);
            } else {
                return Err(EncodeError::Unencodable {
                    index: ascii_len,
                    ch: char::from(b),
                });
            }
            ascii_len += 1;
        }
    }
    Ok(ascii_len)
}

fn encode_impl(text: &str, tables: Tables, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    let lock = tables.locking_table();
    let single = tables.single_table();
    let bytes = text.as_bytes();
    out.reserve(bytes.len());
    let ascii_len = encode_ascii_prefix(bytes, lock, single, out)?;
    // Everything before `ascii_len` is ASCII, so it is a char boundary.
    if let Some(rest) = text.get(ascii_len..) {
        for (offset, ch) in rest.char_indices() {
            encode_char(ch, ascii_len + offset, lock, single, out)?;
        }
    }
    Ok(())
}

/// Encodes `text` to unpacked septets (one per octet) with the given tables.
///
/// # Errors
/// [`EncodeError`] for the first character the tables cannot represent.
pub fn encode_unpacked(text: &str, tables: Tables) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::new();
    encode_impl(text, tables, &mut out)?;
    Ok(out)
}

/// Appends the unpacked septets of `text` to `out` and returns how many were written. On error
/// `out` is left as it was.
///
/// # Errors
/// [`EncodeError`] for the first character the tables cannot represent.
pub fn encode_unpacked_into(
    text: &str,
    tables: Tables,
    out: &mut Vec<u8>,
) -> Result<usize, EncodeError> {
    let start = out.len();
    match encode_impl(text, tables, out) {
        Ok(()) => Ok(out.len() - start),
        Err(e) => {
            out.truncate(start);
            Err(e)
        }
    }
}

/// Number of septets `text` needs with `tables` (escapes count 2), or `None` if a character is
/// not encodable. Does not allocate.
#[must_use]
pub fn septet_len(text: &str, tables: Tables) -> Option<usize> {
    let lock = tables.locking_table();
    let single = tables.single_table();
    let bytes = text.as_bytes();
    let mut n = 0usize;
    let mut ascii_len = 0;
    for &b in bytes {
        if b >= 0x80 {
            break;
        }
        if lock.ascii_code(b).is_some() {
            n += 1;
        } else if single.ascii_code(b).is_some() {
            n += 2;
        } else {
            return None;
        }
        ascii_len += 1;
    }
    if let Some(rest) = text.get(ascii_len..) {
        for ch in rest.chars() {
            if lock.contains(ch) {
                n += 1;
            } else if single.contains(ch) {
                n += 2;
            } else {
                return None;
            }
        }
    }
    Some(n)
}

/// Decodes unpacked septets to text with the given tables.
///
/// # Errors
/// [`DecodeError::InvalidSeptet`] for an octet above 0x7F.
pub fn decode_unpacked(septets: &[u8], tables: Tables) -> Result<String, DecodeError> {
    let mut out = String::new();
    decode_unpacked_into(septets, tables, &mut out)?;
    Ok(out)
}

/// Appends the text of unpacked `septets` to `out`. On error `out` is left as it was.
///
/// # Errors
/// [`DecodeError::InvalidSeptet`] for an octet above 0x7F.
pub fn decode_unpacked_into(
    septets: &[u8],
    tables: Tables,
    out: &mut String,
) -> Result<(), DecodeError> {
    let start = out.len();
    let result = decode_impl(septets, tables, out);
    if result.is_err() {
        out.truncate(start);
    }
    result
}

fn decode_impl(septets: &[u8], tables: Tables, out: &mut String) -> Result<(), DecodeError> {
    let lock = tables.locking_table();
    let single = tables.single_table();
    out.reserve(septets.len());
    let len = septets.len();
    let mut i = 0;
    while i < len {
        // Fast path: a whole chunk of septets that are ASCII characters of the main table.
        if let Some(chunk) = septets.get(i..i + ASCII_CHUNK) {
            let mut buf = [0u8; ASCII_CHUNK];
            if lock.unmap_ascii(chunk, &mut buf)
                && let Ok(ascii) = std::str::from_utf8(&buf)
            {
                out.push_str(ascii);
                i += ASCII_CHUNK;
                continue;
            }
        }
        // Slow path for the rest of this chunk (an escape at its end takes the next septet).
        let window_end = (i + ASCII_CHUNK).min(len);
        while i < window_end {
            let Some(&value) = septets.get(i) else { break };
            if value > 0x7F {
                return Err(DecodeError::InvalidSeptet { index: i, value });
            }
            let ch = if value == ESC {
                let Some(&code) = septets.get(i + 1) else {
                    // A trailing lone escape carries no character.
                    return Ok(());
                };
                if code > 0x7F {
                    return Err(DecodeError::InvalidSeptet {
                        index: i + 1,
                        value: code,
                    });
                }
                i += 2;
                if code == ESC {
                    // Reserved for another extension table: "display a space" (§6.2.1.1 note 1).
                    ' '
                } else {
                    single
                        .char_at(code)
                        .or_else(|| lock.char_at(code))
                        .unwrap_or(REPLACEMENT)
                }
            } else {
                i += 1;
                lock.char_at(value).unwrap_or(REPLACEMENT)
            };
            out.push(ch);
        }
    }
    Ok(())
}

/// Fill bits needed after a UDH of `udh_octets` octets (UDHL included) so that the first septet
/// starts on a septet boundary of the user data (TS 23.040 §9.2.3.24).
#[must_use]
pub const fn fill_bits_for_udh(udh_octets: usize) -> u8 {
    // The result is in 0..=6.
    ((7 - (udh_octets * 8) % 7) % 7) as u8
}

/// Octets that [`pack`] produces for `septet_count` septets after `fill_bits` fill bits.
#[must_use]
pub const fn packed_len(septet_count: usize, fill_bits: u8) -> usize {
    if septet_count == 0 {
        return 0;
    }
    septet_count
        .saturating_mul(7)
        .saturating_add(fill_bits as usize)
        .div_ceil(8)
}

fn pack_iter(septets: impl Iterator<Item = u8>, fill_bits: u8, out: &mut impl BufMut) {
    let mut septets = septets.peekable();
    if septets.peek().is_none() {
        return;
    }
    let mut acc: u32 = 0;
    let mut bits: u32 = u32::from(fill_bits);
    while bits >= 8 {
        out.put_u8(0);
        bits -= 8;
    }
    for septet in septets {
        acc |= u32::from(septet & 0x7F) << bits;
        bits += 7;
        if bits >= 8 {
            out.put_u8(acc as u8);
            acc >>= 8;
            bits -= 8;
        }
    }
    if bits > 0 {
        out.put_u8(acc as u8);
    }
}

/// Packs septets (low 7 bits of each input octet; the high bit is ignored) LSB-first after
/// `fill_bits` zero bits (0..=6 in practice), padding the last octet with zero bits.
#[must_use]
pub fn pack(septets: &[u8], fill_bits: u8) -> Vec<u8> {
    let mut out = Vec::with_capacity(packed_len(septets.len(), fill_bits));
    pack_into(septets, fill_bits, &mut out);
    out
}

/// [`pack`] into any [`BufMut`] (`Vec<u8>`, `BytesMut`, ...).
pub fn pack_into(septets: &[u8], fill_bits: u8, out: &mut impl BufMut) {
    pack_iter(septets.iter().copied(), fill_bits, out);
}

/// Whether packing `septets` after `fill_bits` needs the CR padding of §6.1.2.3.1: either 7
/// spare bits at the end, or a final CR ending exactly on an octet boundary.
#[must_use]
pub fn needs_cr_padding(septets: &[u8], fill_bits: u8) -> bool {
    let Some(&last) = septets.last() else {
        return false;
    };
    // Bit position modulo 8 where the last septet ends (exact for any length).
    let end_bits = ((septets.len() % 8) * 7 + usize::from(fill_bits)) % 8;
    end_bits == 1 || (end_bits == 0 && last & 0x7F == CR)
}

/// Octets [`pack_cr_padded`] produces.
#[must_use]
pub fn packed_len_cr_padded(septets: &[u8], fill_bits: u8) -> usize {
    let extra = usize::from(needs_cr_padding(septets, fill_bits));
    packed_len(septets.len() + extra, fill_bits)
}

/// [`pack`] with the CR padding of TS 23.038 §6.1.2.3.1, for transports that do not carry the
/// septet count: 7 spare bits at the end are filled with CR instead of zeros (so they are not
/// read as `@`), and a wanted final CR that ends on an octet boundary gets a second CR (so it is
/// not stripped as padding). [`unpack_all`] undoes it.
#[must_use]
pub fn pack_cr_padded(septets: &[u8], fill_bits: u8) -> Vec<u8> {
    let mut out = Vec::with_capacity(packed_len_cr_padded(septets, fill_bits));
    pack_cr_padded_into(septets, fill_bits, &mut out);
    out
}

/// [`pack_cr_padded`] into any [`BufMut`].
pub fn pack_cr_padded_into(septets: &[u8], fill_bits: u8, out: &mut impl BufMut) {
    let pad = needs_cr_padding(septets, fill_bits).then_some(CR);
    pack_iter(septets.iter().copied().chain(pad), fill_bits, out);
}

fn unpack_impl(octets: &[u8], septet_count: usize, fill_bits: u8, out: &mut Vec<u8>) {
    out.reserve(septet_count);
    let mut skip = u32::from(fill_bits);
    let mut acc: u32 = 0;
    let mut bits: u32 = 0;
    let mut remaining = septet_count;
    for &octet in octets {
        if remaining == 0 {
            break;
        }
        if skip >= 8 {
            skip -= 8;
            continue;
        }
        acc |= u32::from(octet >> skip) << bits;
        bits += 8 - skip;
        skip = 0;
        while bits >= 7 && remaining > 0 {
            out.push((acc & 0x7F) as u8);
            acc >>= 7;
            bits -= 7;
            remaining -= 1;
        }
    }
}

/// Unpacks exactly `septet_count` septets that follow `fill_bits` fill bits.
///
/// # Errors
/// [`UnpackError`] when `octets` is too short.
pub fn unpack(octets: &[u8], septet_count: usize, fill_bits: u8) -> Result<Vec<u8>, UnpackError> {
    let mut out = Vec::new();
    unpack_into(octets, septet_count, fill_bits, &mut out)?;
    Ok(out)
}

/// [`unpack`], appending to `out`.
///
/// # Errors
/// [`UnpackError`] when `octets` is too short (nothing is appended then).
pub fn unpack_into(
    octets: &[u8],
    septet_count: usize,
    fill_bits: u8,
    out: &mut Vec<u8>,
) -> Result<(), UnpackError> {
    let needed = packed_len(septet_count, fill_bits);
    if needed > octets.len() {
        return Err(UnpackError {
            septets: septet_count,
            fill_bits,
            needed,
            available: octets.len(),
        });
    }
    unpack_impl(octets, septet_count, fill_bits, out);
    Ok(())
}

/// Unpacks every complete septet in `octets` (after `fill_bits`), for transports that carry only
/// an octet count. Applies the receiver rule of §6.1.2.3.1: a final CR that ends exactly on an
/// octet boundary is padding and is removed. Seven zero padding bits from a sender that did not
/// use CR padding still come out as a final `@` (0x00); that ambiguity cannot be resolved here.
#[must_use]
pub fn unpack_all(octets: &[u8], fill_bits: u8) -> Vec<u8> {
    let total_bits = octets.len().saturating_mul(8);
    let Some(bits) = total_bits.checked_sub(usize::from(fill_bits)) else {
        return Vec::new();
    };
    let count = bits / 7;
    let mut out = Vec::with_capacity(count);
    unpack_impl(octets, count, fill_bits, &mut out);
    if bits.is_multiple_of(7) && out.last() == Some(&CR) {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::tables::DEFAULT_SINGLE_TABLE;
    use NationalLanguage as L;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn tables(lock: L, single: L) -> Tables {
        Tables::new(lock, single).unwrap()
    }

    #[test]
    fn default_alphabet_round_trip_of_every_septet() {
        let all: String = (0u8..128)
            .filter(|&s| s != ESC)
            .map(|s| DEFAULT_LOCKING_TABLE.char_at(s).unwrap())
            .collect();
        let septets = encode_unpacked(&all, Tables::DEFAULT).unwrap();
        let expected: Vec<u8> = (0u8..128).filter(|&s| s != ESC).collect();
        assert_eq!(septets, expected);
        assert_eq!(decode_unpacked(&septets, Tables::DEFAULT).unwrap(), all);
    }

    #[test]
    fn default_alphabet_known_positions() {
        let t = Tables::DEFAULT;
        assert_eq!(
            encode_unpacked("@£$¥èéùìòÇ", t).unwrap(),
            (0..10).collect::<Vec<u8>>()
        );
        assert_eq!(encode_unpacked("\n\r", t).unwrap(), [0x0A, 0x0D]);
        assert_eq!(
            encode_unpacked("ΔΦΓΛΩΠΨΣΘΞ", t).unwrap(),
            [0x10, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1A]
        );
        assert_eq!(
            encode_unpacked("_ÆæßÉ ¤", t).unwrap(),
            [0x11, 0x1C, 0x1D, 0x1E, 0x1F, 0x20, 0x24]
        );
        assert_eq!(
            encode_unpacked("¡ÄÖÑÜ§¿äöñüà", t).unwrap(),
            [
                0x40, 0x5B, 0x5C, 0x5D, 0x5E, 0x5F, 0x60, 0x7B, 0x7C, 0x7D, 0x7E, 0x7F
            ]
        );
        assert_eq!(encode_unpacked("Aa0", t).unwrap(), [0x41, 0x61, 0x30]);
    }

    #[test]
    fn default_extension_table() {
        let t = Tables::DEFAULT;
        let septets = encode_unpacked("\u{c}^{}\\[~]|€", t).unwrap();
        assert_eq!(
            septets,
            [
                ESC, 0x0A, ESC, 0x14, ESC, 0x28, ESC, 0x29, ESC, 0x2F, ESC, 0x3C, ESC, 0x3D, ESC,
                0x3E, ESC, 0x40, ESC, 0x65
            ]
        );
        assert_eq!(decode_unpacked(&septets, t).unwrap(), "\u{c}^{}\\[~]|€");
        assert_eq!(septet_len("a€", t), Some(3));
    }

    #[test]
    fn unencodable_reports_byte_index() {
        let t = Tables::DEFAULT;
        assert_eq!(
            encode_unpacked("ab`c", t),
            Err(EncodeError::Unencodable { index: 2, ch: '`' })
        );
        assert_eq!(
            encode_unpacked("éa😀", t),
            Err(EncodeError::Unencodable {
                index: 3, ch: '😀'
            })
        );
        // Small c-cedilla is not in the default alphabet (0x09 is capital Ç).
        assert_eq!(
            encode_unpacked("ç", t),
            Err(EncodeError::Unencodable { index: 0, ch: 'ç' })
        );
        assert_eq!(septet_len("x\u{0}", t), None);
        let mut out = vec![1, 2, 3];
        assert!(encode_unpacked_into("a`", t, &mut out).is_err());
        assert_eq!(out, [1, 2, 3]);
        assert_eq!(encode_unpacked_into("a{", t, &mut out), Ok(3));
        assert_eq!(out, [1, 2, 3, 0x61, ESC, 0x28]);
    }

    #[test]
    fn escape_decoding_rules() {
        let t = Tables::DEFAULT;
        // ESC + undefined extension code shows the main table character.
        assert_eq!(decode_unpacked(&[ESC, 0x41], t).unwrap(), "A");
        assert_eq!(decode_unpacked(&[ESC, 0x00], t).unwrap(), "@");
        // ESC ESC shows a space.
        assert_eq!(decode_unpacked(&[ESC, ESC, 0x41], t).unwrap(), " A");
        // Trailing lone ESC is dropped.
        assert_eq!(decode_unpacked(&[0x41, ESC], t).unwrap(), "A");
        // ESC CR2 (0x0D) falls back to CR.
        assert_eq!(decode_unpacked(&[ESC, 0x0D], t).unwrap(), "\r");
        // Octets above 0x7F are errors, also after an escape; output untouched.
        assert_eq!(
            decode_unpacked(&[0x41, 0x80], t),
            Err(DecodeError::InvalidSeptet {
                index: 1,
                value: 0x80
            })
        );
        assert_eq!(
            decode_unpacked(&[ESC, 0xFF], t),
            Err(DecodeError::InvalidSeptet {
                index: 1,
                value: 0xFF
            })
        );
        let mut s = String::from("keep");
        assert!(decode_unpacked_into(&[0x41, 0x90], t, &mut s).is_err());
        assert_eq!(s, "keep");
    }

    #[test]
    fn decode_across_fast_path_chunks() {
        let t = Tables::DEFAULT;
        // An escape as the last septet of a 32-septet chunk pairs with the next chunk.
        let text = format!("{}{{{}", "a".repeat(31), "b".repeat(40));
        let septets = encode_unpacked(&text, t).unwrap();
        assert_eq!(septets[31], ESC);
        assert_eq!(decode_unpacked(&septets, t).unwrap(), text);
        // Non-ASCII main-table characters (Greek) inside long runs.
        let text = format!("{}Δ{}£{}", "x".repeat(40), "y".repeat(30), "z".repeat(64));
        let septets = encode_unpacked(&text, t).unwrap();
        assert_eq!(decode_unpacked(&septets, t).unwrap(), text);
        // An invalid septet deep in the input is reported at its index.
        let mut bad = vec![0x41; 100];
        bad[70] = 0x9F;
        assert_eq!(
            decode_unpacked(&bad, t),
            Err(DecodeError::InvalidSeptet {
                index: 70,
                value: 0x9F
            })
        );
    }

    #[test]
    fn undefined_main_table_position_decodes_to_replacement() {
        // Bengali locking 0x0C is reserved.
        let t = tables(L::Bengali, L::Default);
        assert_eq!(decode_unpacked(&[0x0C], t).unwrap(), "\u{FFFD}");
    }

    #[test]
    fn turkish_tables() {
        let lock = tables(L::Turkish, L::Default);
        assert_eq!(encode_unpacked("ı", lock).unwrap(), [0x07]);
        assert_eq!(
            encode_unpacked("€ĞğŞşİç", lock).unwrap(),
            [0x04, 0x0B, 0x0C, 0x1C, 0x1D, 0x40, 0x60]
        );
        assert_eq!(decode_unpacked(&[0x07, 0x1F], lock).unwrap(), "ıÉ");
        let single = tables(L::Default, L::Turkish);
        let expect = [
            ('Ğ', 0x47),
            ('ğ', 0x67),
            ('İ', 0x49),
            ('ı', 0x69),
            ('Ş', 0x53),
            ('ş', 0x73),
            ('ç', 0x63),
            ('€', 0x65),
        ];
        for (ch, code) in expect {
            let s = ch.to_string();
            assert_eq!(encode_unpacked(&s, single).unwrap(), [ESC, code], "{ch}");
            assert_eq!(decode_unpacked(&[ESC, code], single).unwrap(), s);
        }
    }

    #[test]
    fn spanish_single_shift() {
        assert!(Tables::new(L::Spanish, L::Spanish).is_none());
        let t = tables(L::Default, L::Spanish);
        let expect = [
            ('Á', 0x41),
            ('á', 0x61),
            ('ç', 0x09),
            ('Í', 0x49),
            ('Ó', 0x4F),
            ('Ú', 0x55),
            ('í', 0x69),
            ('ó', 0x6F),
            ('ú', 0x75),
            ('€', 0x65),
        ];
        for (ch, code) in expect {
            let s = ch.to_string();
            assert_eq!(encode_unpacked(&s, t).unwrap(), [ESC, code], "{ch}");
        }
        // Default-table characters still come from the main table.
        assert_eq!(encode_unpacked("é", t).unwrap(), [0x05]);
    }

    #[test]
    fn portuguese_tables() {
        let single = tables(L::Default, L::Portuguese);
        let expect = [
            ('ê', 0x05),
            ('ç', 0x09),
            ('Ô', 0x0B),
            ('ô', 0x0C),
            ('Á', 0x0E),
            ('á', 0x0F),
            ('Ê', 0x1F),
            ('À', 0x41),
            ('Í', 0x49),
            ('Ó', 0x4F),
            ('Ú', 0x55),
            ('Ã', 0x5B),
            ('Õ', 0x5C),
            ('Â', 0x61),
            ('ã', 0x7B),
            ('õ', 0x7C),
            ('â', 0x7F),
        ];
        for (ch, code) in expect {
            let s = ch.to_string();
            assert_eq!(encode_unpacked(&s, single).unwrap(), [ESC, code], "{ch}");
        }
        let lock = tables(L::Portuguese, L::Default);
        assert_eq!(
            encode_unpacked("êúíóçÔôÁá", lock).unwrap(),
            [0x04, 0x06, 0x07, 0x08, 0x09, 0x0B, 0x0C, 0x0E, 0x0F]
        );
        assert_eq!(
            encode_unpacked("ª∞^\\€|`~", lock).unwrap(),
            [0x12, 0x15, 0x16, 0x17, 0x18, 0x1A, 0x7D, 0x60]
        );
        assert_eq!(
            encode_unpacked("ºÍÃÕÚãõ", lock).unwrap(),
            [0x24, 0x40, 0x5B, 0x5C, 0x5D, 0x7B, 0x7C]
        );
    }

    #[test]
    fn indian_and_urdu_tables_spot_checks() {
        // Hindi locking: 0x00 U+0901, 0x15 क (U+0915), 0x7F U+097F.
        let hi = tables(L::Hindi, L::Hindi);
        assert_eq!(
            encode_unpacked("\u{0901}\u{0915}\u{097F}", hi).unwrap(),
            [0x00, 0x15, 0x7F]
        );
        // Hindi single shift: danda U+0964 at 0x19, digits U+0966.. at 0x1C.., '@' at 0x00.
        assert_eq!(
            encode_unpacked("\u{0964}\u{0966}@", hi).unwrap(),
            [ESC, 0x19, ESC, 0x1C, ESC, 0x00]
        );
        // Indian locking tables swap the parentheses: 0x28 ')' and 0x29 '('; ',' at 0x2C.
        assert_eq!(
            encode_unpacked("(),.", hi).unwrap(),
            [0x29, 0x28, 0x2C, 0x2E]
        );
        // Bengali locking 0x7C U+09DC, Tamil single 0x24 U+0BEE, Urdu locking 0x00 U+0627.
        assert_eq!(
            encode_unpacked("\u{09DC}", tables(L::Bengali, L::Default)).unwrap(),
            [0x7C]
        );
        assert_eq!(
            encode_unpacked("\u{0BEE}\u{0BEF}", tables(L::Default, L::Tamil)).unwrap(),
            [ESC, 0x24, ESC, 0x25]
        );
        assert_eq!(
            encode_unpacked("\u{0627}\u{06D2}", tables(L::Urdu, L::Default)).unwrap(),
            [0x00, 0x5B]
        );
        // Urdu single shift: U+06D4 (Arabic full stop) at 0x3F, '\\' at 0x2F.
        assert_eq!(
            encode_unpacked("\u{06D4}\\", tables(L::Default, L::Urdu)).unwrap(),
            [ESC, 0x3F, ESC, 0x2F]
        );
        // Oriya locking 0x47 U+0B33, Punjabi single 0x23 U+0A6D, Telugu single 0x22 U+0C6C.
        assert_eq!(
            encode_unpacked("\u{0B33}", tables(L::Oriya, L::Default)).unwrap(),
            [0x47]
        );
        assert_eq!(
            encode_unpacked("\u{0A6D}", tables(L::Default, L::Punjabi)).unwrap(),
            [ESC, 0x23]
        );
        assert_eq!(
            encode_unpacked("\u{0C6C}", tables(L::Default, L::Telugu)).unwrap(),
            [ESC, 0x22]
        );
        // Gujarati, Kannada, Malayalam locking 0x01.
        assert_eq!(
            encode_unpacked("\u{0A82}", tables(L::Gujarati, L::Default)).unwrap(),
            [0x01]
        );
        assert_eq!(
            encode_unpacked("\u{0C82}", tables(L::Kannada, L::Default)).unwrap(),
            [0x01]
        );
        assert_eq!(
            encode_unpacked("\u{0D02}", tables(L::Malayalam, L::Default)).unwrap(),
            [0x01]
        );
    }

    #[test]
    fn decode_only_positions() {
        let kn = tables(L::Kannada, L::Default);
        // ಪ (U+0CAA) goes out as 0x3D, never 0x24; 0x24 decodes as ಡ (U+0CA1).
        assert_eq!(encode_unpacked("\u{0CAA}", kn).unwrap(), [0x3D]);
        assert_eq!(
            decode_unpacked(&[0x24, 0x3D], kn).unwrap(),
            "\u{0CA1}\u{0CAA}"
        );
        assert!(encode_unpacked("\u{0CA1}", kn).is_err());
        let te = tables(L::Default, L::Telugu);
        assert_eq!(decode_unpacked(&[ESC, 0x65], te).unwrap(), "€");
        assert!(encode_unpacked("€", te).is_err());
    }

    #[test]
    fn every_encodable_char_round_trips_in_every_table() {
        for lang in NationalLanguage::ALL {
            let mut tables_to_check = vec![tables::single(lang)];
            if let Some(t) = tables::locking(lang) {
                tables_to_check.push(t);
            }
            for table in tables_to_check {
                for code in 0u8..128 {
                    let Some(ch) = table.char_at(code) else {
                        continue;
                    };
                    if let Some(back) = table.code_of(ch) {
                        assert_eq!(table.char_at(back), Some(ch), "{lang} {code:#04x}");
                        assert!(back <= code, "lowest position wins");
                    }
                }
            }
        }
    }

    #[test]
    fn for_decoding_falls_back() {
        let t = Tables::for_decoding(Some(L::Spanish), None);
        assert_eq!(t, Tables::DEFAULT);
        let t = Tables::for_decoding(None, Some(L::Spanish));
        assert_eq!(t.single(), L::Spanish);
        assert_eq!(t.ie_octets(), 3);
        assert_eq!(tables(L::Turkish, L::Turkish).ie_octets(), 6);
        assert_eq!(Tables::DEFAULT.ie_count(), 0);
    }

    #[test]
    fn hellohello_vector() {
        let septets = encode_unpacked("hellohello", Tables::DEFAULT).unwrap();
        let packed = pack(&septets, 0);
        assert_eq!(hex(&packed), "e8329bfd4697d9ec37");
        assert_eq!(unpack(&packed, 10, 0).unwrap(), septets);
    }

    #[test]
    fn pack_with_fill_bits() {
        let septets = encode_unpacked("hellohello", Tables::DEFAULT).unwrap();
        // With one fill bit (the usual case after a 6-octet concatenation UDH) every bit moves
        // up by one.
        let packed = pack(&septets, 1);
        assert_eq!(hex(&packed), "d06536fb8d2eb3d96f");
        for fill in 0u8..=6 {
            let packed = pack(&septets, fill);
            assert_eq!(packed.len(), packed_len(10, fill));
            assert_eq!(
                packed.first().unwrap() & ((1u8 << fill) - 1),
                0,
                "fill bits are zero"
            );
            assert_eq!(unpack(&packed, 10, fill).unwrap(), septets, "fill {fill}");
        }
        assert_eq!(fill_bits_for_udh(6), 1);
        assert_eq!(fill_bits_for_udh(7), 0);
        assert_eq!(fill_bits_for_udh(4), 3);
        assert_eq!(fill_bits_for_udh(12), 2);
        assert_eq!(fill_bits_for_udh(0), 0);
    }

    #[test]
    fn pack_edge_cases() {
        assert!(pack(&[], 3).is_empty());
        assert_eq!(pack(&[0x41], 0), [0x41]);
        assert_eq!(pack(&[0x7F; 8], 0), [0xFF; 7]);
        // High bit of input is ignored.
        assert_eq!(pack(&[0xC1], 0), [0x41]);
        assert_eq!(
            unpack(&[0x41], 2, 0),
            Err(UnpackError {
                septets: 2,
                fill_bits: 0,
                needed: 2,
                available: 1
            })
        );
        assert_eq!(unpack(&[], 0, 0).unwrap(), Vec::<u8>::new());
        // Large fill values are whole leading zero octets.
        assert_eq!(pack(&[0x41], 8), [0x00, 0x41]);
        assert_eq!(unpack(&[0x00, 0x41], 1, 8).unwrap(), [0x41]);
    }

    #[test]
    fn cr_padding_rules() {
        // 7 septets: 49 bits, 7 spare bits in the 7th octet -> CR padding, no extra octet.
        let seven = encode_unpacked("1234567", Tables::DEFAULT).unwrap();
        assert!(needs_cr_padding(&seven, 0));
        let padded = pack_cr_padded(&seven, 0);
        assert_eq!(padded.len(), 7);
        assert_eq!(*padded.last().unwrap() >> 1, CR);
        assert_eq!(unpack_all(&padded, 0), seven);
        // Zero padding would read back as a trailing '@'.
        let plain = pack(&seven, 0);
        let mut with_at = seven.clone();
        with_at.push(0x00);
        assert_eq!(unpack_all(&plain, 0), with_at);
        // A wanted CR ending on an octet boundary gets a second CR; the receiver keeps both.
        let eight = encode_unpacked("1234567\r", Tables::DEFAULT).unwrap();
        assert!(needs_cr_padding(&eight, 0));
        let padded = pack_cr_padded(&eight, 0);
        assert_eq!(padded.len(), 8);
        let mut two_cr = eight.clone();
        two_cr.push(CR);
        assert_eq!(unpack_all(&padded, 0), two_cr);
        // With a fill bit: 6 septets + 1 fill bit = 43 bits -> no padding; 7 -> 50 -> no;
        // 8 septets + 1 fill = 57 bits -> 7 spare -> pad.
        let eight_plain = encode_unpacked("12345678", Tables::DEFAULT).unwrap();
        assert!(needs_cr_padding(&eight_plain, 1));
        assert_eq!(unpack_all(&pack_cr_padded(&eight_plain, 1), 1), eight_plain);
        assert!(!needs_cr_padding(&seven, 1));
        assert!(!needs_cr_padding(&[], 1));
        assert!(unpack_all(&[], 3).is_empty());
        assert!(unpack_all(&[0xFF], 9).is_empty());
    }

    #[test]
    fn unpacked_ascii_fast_path_matches_slow_path() {
        let text = "Hello {world} [x] ~ |^ \\ € done";
        let fast = encode_unpacked(text, Tables::DEFAULT).unwrap();
        let mut slow = Vec::new();
        for (i, ch) in text.char_indices() {
            encode_char(
                ch,
                i,
                &DEFAULT_LOCKING_TABLE,
                &DEFAULT_SINGLE_TABLE,
                &mut slow,
            )
            .unwrap();
        }
        assert_eq!(fast, slow);
        assert_eq!(septet_len(text, Tables::DEFAULT), Some(fast.len()));
    }
}

#[cfg(test)]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    /// Straightforward septet-by-septet decoder, as an oracle for the chunked fast path.
    fn reference_decode(septets: &[u8], tables: Tables) -> Result<String, DecodeError> {
        let lock = tables.locking_table();
        let single = tables.single_table();
        let mut out = String::new();
        let mut iter = septets.iter().copied().enumerate();
        while let Some((index, value)) = iter.next() {
            if value > 0x7F {
                return Err(DecodeError::InvalidSeptet { index, value });
            }
            let ch = if value == ESC {
                let Some((index, code)) = iter.next() else {
                    break;
                };
                if code > 0x7F {
                    return Err(DecodeError::InvalidSeptet { index, value: code });
                }
                if code == ESC {
                    ' '
                } else {
                    single
                        .char_at(code)
                        .or_else(|| lock.char_at(code))
                        .unwrap_or(REPLACEMENT)
                }
            } else {
                lock.char_at(value).unwrap_or(REPLACEMENT)
            };
            out.push(ch);
        }
        Ok(out)
    }

    proptest! {
        #[test]
        fn pack_unpack_identity(septets in proptest::collection::vec(0u8..128, 0..400), fill in 0u8..=6) {
            let packed = pack(&septets, fill);
            prop_assert_eq!(packed.len(), packed_len(septets.len(), fill));
            prop_assert_eq!(unpack(&packed, septets.len(), fill).unwrap(), septets.clone());
            let padded = pack_cr_padded(&septets, fill);
            let mut expected = septets.clone();
            if septets.last() == Some(&CR) && (septets.len() * 7 + usize::from(fill)) % 8 == 0 {
                expected.push(CR);
            }
            prop_assert_eq!(unpack_all(&padded, fill), expected);
        }

        #[test]
        fn unpack_never_panics(octets in proptest::collection::vec(any::<u8>(), 0..200), count in 0usize..300, fill in any::<u8>()) {
            let _ = unpack(&octets, count, fill);
            let _ = unpack_all(&octets, fill);
        }

        #[test]
        fn decode_matches_reference(
            septets in proptest::collection::vec(prop_oneof![6 => 0x20u8..0x7B, 1 => Just(ESC), 1 => any::<u8>()], 0..200),
            lock in 0u8..16,
            single in 0u8..16,
        ) {
            let tables = Tables::for_decoding(NationalLanguage::from_id(lock), NationalLanguage::from_id(single));
            prop_assert_eq!(decode_unpacked(&septets, tables), reference_decode(&septets, tables));
        }

        #[test]
        fn encode_decode_round_trip_default(text in "[ -~\u{a1}-\u{ff}ΔΦΓΛΩΠΨΣΘΞ€\n\r\u{c}]{0,200}") {
            let t = Tables::DEFAULT;
            match encode_unpacked(&text, t) {
                Ok(septets) => {
                    prop_assert_eq!(septet_len(&text, t), Some(septets.len()));
                    prop_assert_eq!(decode_unpacked(&septets, t).unwrap(), text);
                }
                Err(e) => {
                    prop_assert_eq!(septet_len(&text, t), None);
                    prop_assert!(!t.can_encode(e.ch()));
                    prop_assert_eq!(text.get(e.index()..).and_then(|s| s.chars().next()), Some(e.ch()));
                }
            }
        }
    }
}
