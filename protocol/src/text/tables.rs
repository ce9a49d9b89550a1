//! The character tables of 3GPP TS 23.038: the GSM 7-bit default alphabet (§6.2.1), its
//! extension table (§6.2.1.1) and the national language locking shift (Annex A.3) and single shift
//! (Annex A.2) tables.
//!
//! Decisions:
//! - Each table is a `[char; 128]` indexed by septet, with [`UNDEFINED`] (U+0000, which no table
//!   contains) marking reserved positions. Position 0x1B is undefined everywhere: in a locking
//!   table it is the escape to the single shift table, in a single shift table it is the reserved
//!   "escape to another extension table" that the decoder turns into a space (§6.2.1.1 note 1).
//!   Position 0x0D of the single shift tables ("CR2") is left undefined: the decoder's fallback
//!   to the main table already yields CR for it, and encoding must never produce it.
//! - Reverse lookup (char → septet) is computed at compile time by `const fn` into a 128-entry
//!   ASCII array plus a sorted array for the rest, searched by binary search. Nothing is built at
//!   run time, nothing allocates, and there is no hashing on the hot path.
//! - Where a table maps one character at two positions (the Indian single shift tables carry
//!   `¡` at 0x13 and 0x15 and `*` at 0x0B and 0x18; the spec's Kannada locking table carries ಪ
//!   at 0x24 and 0x3D), the encoder uses the lowest position that is not marked decode-only.
//! - Table contents were transcribed from TS 23.038 and checked entry by entry against three
//!   independent transcriptions (V9.1.1 as shipped in Android's `GsmAlphabet`, V16.0.0, V18.0.0).
//!   Where they disagree the majority and the evident intent of the spec were followed:
//!   * default 0x09 is `Ç` (capital, as the spec's table prints it; the Unicode mapping file's
//!     small `ç` is the historical 03.38 reading). Small `ç` is therefore *not* encodable in the
//!     default table; it needs the Turkish, Spanish or Portuguese tables, which is exactly why
//!     those tables carry it.
//!   * the Indian locking tables have `,` at 0x2C (one transcription has an apostrophe).
//!   * Tamil single shift 0x24 is U+0BEE (TAMIL DIGIT EIGHT); one edition prints U+0BEF, which
//!     would duplicate 0x25 and leave the digit eight out.
//!   * Kannada locking 0x24: the spec prints U+0CAA (ಪ, which also sits at 0x3D), evidently a
//!     typo for U+0CA1 (ಡ, otherwise missing from the table and the letter that belongs between
//!     0x23 ಠ and 0x25 ಢ); Android decodes it as ಡ. We *decode* 0x24 as ಡ but never *encode* to
//!     0x24, so every septet we send means the same under either reading (ಪ goes out as 0x3D; ಡ
//!     is not encodable with this table).
//!   * Telugu single shift 0x65: two transcriptions have `€` (as every other Indian single
//!     shift table does), two have nothing. It is decoded as `€` but never encoded.

use super::NationalLanguage;

/// Marker for a reserved / undefined table position.
pub(crate) const UNDEFINED: char = '\0';
const U: char = UNDEFINED;
/// Marker for "no septet" in the ASCII reverse array.
const NO_CODE: u8 = 0xFF;

/// One 128-entry table with its compile-time reverse index.
pub(crate) struct Table {
    chars: [char; 128],
    /// Septet for each ASCII character, or `NO_CODE`.
    ascii: [u8; 128],
    /// ASCII byte for each septet whose character is ASCII (ESC and undefined excluded), or
    /// `NO_CODE`.
    ascii_out: [u8; 128],
    /// Non-ASCII characters, sorted, for binary search; only the first `rev_len` are valid.
    rev_chars: [char; 128],
    rev_codes: [u8; 128],
    rev_len: usize,
}

const fn contains(list: &[u8], value: u8) -> bool {
    let mut i = 0;
    while i < list.len() {
        if list[i] == value {
            return true;
        }
        i += 1;
    }
    false
}

impl Table {
    /// Builds the reverse index. `decode_only` lists positions that decode but are never produced
    /// by the encoder (see the module documentation).
    const fn build(chars: [char; 128], decode_only: &[u8]) -> Table {
        let mut ascii = [NO_CODE; 128];
        let mut ascii_out = [NO_CODE; 128];
        let mut rev_chars = [char::MAX; 128];
        let mut rev_codes = [NO_CODE; 128];
        let mut rev_len = 0;
        let mut code = 0;
        while code < 128 {
            let ch = chars[code];
            let septet = code as u8;
            if ch as u32 != UNDEFINED as u32 && (ch as u32) < 128 {
                ascii_out[code] = ch as u8;
            }
            if ch as u32 != UNDEFINED as u32 && !contains(decode_only, septet) {
                if (ch as u32) < 128 {
                    if ascii[ch as usize] == NO_CODE {
                        ascii[ch as usize] = septet;
                    }
                } else {
                    // Insertion sort; the first (lowest) position wins for duplicates.
                    let mut dup = false;
                    let mut k = 0;
                    while k < rev_len {
                        if rev_chars[k] as u32 == ch as u32 {
                            dup = true;
                        }
                        k += 1;
                    }
                    if !dup {
                        let mut i = rev_len;
                        while i > 0 && rev_chars[i - 1] as u32 > ch as u32 {
                            rev_chars[i] = rev_chars[i - 1];
                            rev_codes[i] = rev_codes[i - 1];
                            i -= 1;
                        }
                        rev_chars[i] = ch;
                        rev_codes[i] = septet;
                        rev_len += 1;
                    }
                }
            }
            code += 1;
        }
        Table {
            chars,
            ascii,
            ascii_out,
            rev_chars,
            rev_codes,
            rev_len,
        }
    }

    /// The character at `septet`, or `None` when the position is undefined or `septet > 0x7F`.
    #[inline]
    pub(crate) fn char_at(&self, septet: u8) -> Option<char> {
        match self.chars.get(usize::from(septet)) {
            Some(&c) if c != UNDEFINED => Some(c),
            _ => None,
        }
    }

    /// The septet for an ASCII byte (`b < 0x80`), if the table has it.
    #[inline]
    pub(crate) fn ascii_code(&self, b: u8) -> Option<u8> {
        match self.ascii.get(usize::from(b)) {
            Some(&code) if code != NO_CODE => Some(code),
            _ => None,
        }
    }

    /// Maps ASCII `bytes` through this table into `out`, all or nothing: returns `false` and
    /// leaves `out` unchanged when a byte is not ASCII or has no septet in this table. Branch-free
    /// per byte, so it is the fast path for plain text.
    #[inline]
    pub(crate) fn map_ascii_into(&self, bytes: &[u8], out: &mut Vec<u8>) -> bool {
        let start = out.len();
        let mut miss = 0u8;
        out.extend(bytes.iter().map(|&b| {
            // NO_CODE and non-ASCII bytes both have the high bit set.
            let code = self
                .ascii
                .get(usize::from(b & 0x7F))
                .copied()
                .unwrap_or(NO_CODE)
                | (b & 0x80);
            miss |= code;
            code
        }));
        if miss & 0x80 != 0 {
            out.truncate(start);
            return false;
        }
        true
    }

    /// Decodes septets that are all ASCII characters of this table into `out` (which must be
    /// as long as `septets`); returns `false` if any septet is not (ESC, undefined, non-ASCII
    /// character, or above 0x7F), in which case `out` holds garbage.
    #[inline]
    pub(crate) fn unmap_ascii(&self, septets: &[u8], out: &mut [u8]) -> bool {
        let mut miss = 0u8;
        for (o, &s) in out.iter_mut().zip(septets) {
            let b = self
                .ascii_out
                .get(usize::from(s & 0x7F))
                .copied()
                .unwrap_or(NO_CODE)
                | (s & 0x80);
            miss |= b;
            *o = b;
        }
        miss & 0x80 == 0 && out.len() == septets.len()
    }

    /// The septet that encodes `ch`, if any.
    #[inline]
    pub(crate) fn code_of(&self, ch: char) -> Option<u8> {
        let c = u32::from(ch);
        if c < 0x80 {
            // `c < 0x80` so the conversion is lossless.
            return self.ascii_code(c as u8);
        }
        let chars = self.rev_chars.get(..self.rev_len)?;
        let pos = chars.binary_search(&ch).ok()?;
        self.rev_codes.get(pos).copied()
    }

    /// Whether the table can encode `ch`.
    #[inline]
    pub(crate) fn contains(&self, ch: char) -> bool {
        self.code_of(ch).is_some()
    }
}

/// The locking shift table (main table) for `lang`, or `None` when the spec defines none
/// (Spanish).
pub(crate) fn locking(lang: NationalLanguage) -> Option<&'static Table> {
    use NationalLanguage as L;
    Some(match lang {
        L::Default => &DEFAULT_LOCKING_TABLE,
        L::Turkish => &TURKISH_LOCKING_TABLE,
        L::Spanish => return None,
        L::Portuguese => &PORTUGUESE_LOCKING_TABLE,
        L::Bengali => &BENGALI_LOCKING_TABLE,
        L::Gujarati => &GUJARATI_LOCKING_TABLE,
        L::Hindi => &HINDI_LOCKING_TABLE,
        L::Kannada => &KANNADA_LOCKING_TABLE,
        L::Malayalam => &MALAYALAM_LOCKING_TABLE,
        L::Oriya => &ORIYA_LOCKING_TABLE,
        L::Punjabi => &PUNJABI_LOCKING_TABLE,
        L::Tamil => &TAMIL_LOCKING_TABLE,
        L::Telugu => &TELUGU_LOCKING_TABLE,
        L::Urdu => &URDU_LOCKING_TABLE,
    })
}

/// The single shift (extension) table for `lang`; every language has one.
pub(crate) fn single(lang: NationalLanguage) -> &'static Table {
    use NationalLanguage as L;
    match lang {
        L::Default => &DEFAULT_SINGLE_TABLE,
        L::Turkish => &TURKISH_SINGLE_TABLE,
        L::Spanish => &SPANISH_SINGLE_TABLE,
        L::Portuguese => &PORTUGUESE_SINGLE_TABLE,
        L::Bengali => &BENGALI_SINGLE_TABLE,
        L::Gujarati => &GUJARATI_SINGLE_TABLE,
        L::Hindi => &HINDI_SINGLE_TABLE,
        L::Kannada => &KANNADA_SINGLE_TABLE,
        L::Malayalam => &MALAYALAM_SINGLE_TABLE,
        L::Oriya => &ORIYA_SINGLE_TABLE,
        L::Punjabi => &PUNJABI_SINGLE_TABLE,
        L::Tamil => &TAMIL_SINGLE_TABLE,
        L::Telugu => &TELUGU_SINGLE_TABLE,
        L::Urdu => &URDU_SINGLE_TABLE,
    }
}

/// The default alphabet (§6.2.1).
pub(crate) static DEFAULT_LOCKING_TABLE: Table = Table::build(DEFAULT_LOCKING, &[]);
/// The default alphabet extension table (§6.2.1.1).
pub(crate) static DEFAULT_SINGLE_TABLE: Table = Table::build(DEFAULT_SINGLE, &[]);
static TURKISH_LOCKING_TABLE: Table = Table::build(TURKISH_LOCKING, &[]);
static TURKISH_SINGLE_TABLE: Table = Table::build(TURKISH_SINGLE, &[]);
static SPANISH_SINGLE_TABLE: Table = Table::build(SPANISH_SINGLE, &[]);
static PORTUGUESE_LOCKING_TABLE: Table = Table::build(PORTUGUESE_LOCKING, &[]);
static PORTUGUESE_SINGLE_TABLE: Table = Table::build(PORTUGUESE_SINGLE, &[]);
static BENGALI_LOCKING_TABLE: Table = Table::build(BENGALI_LOCKING, &[]);
static BENGALI_SINGLE_TABLE: Table = Table::build(BENGALI_SINGLE, &[]);
static GUJARATI_LOCKING_TABLE: Table = Table::build(GUJARATI_LOCKING, &[]);
static GUJARATI_SINGLE_TABLE: Table = Table::build(GUJARATI_SINGLE, &[]);
static HINDI_LOCKING_TABLE: Table = Table::build(HINDI_LOCKING, &[]);
static HINDI_SINGLE_TABLE: Table = Table::build(HINDI_SINGLE, &[]);
/// 0x24 is decode-only (spec typo, see the module documentation).
static KANNADA_LOCKING_TABLE: Table = Table::build(KANNADA_LOCKING, &[0x24]);
static KANNADA_SINGLE_TABLE: Table = Table::build(KANNADA_SINGLE, &[]);
static MALAYALAM_LOCKING_TABLE: Table = Table::build(MALAYALAM_LOCKING, &[]);
static MALAYALAM_SINGLE_TABLE: Table = Table::build(MALAYALAM_SINGLE, &[]);
static ORIYA_LOCKING_TABLE: Table = Table::build(ORIYA_LOCKING, &[]);
static ORIYA_SINGLE_TABLE: Table = Table::build(ORIYA_SINGLE, &[]);
static PUNJABI_LOCKING_TABLE: Table = Table::build(PUNJABI_LOCKING, &[]);
static PUNJABI_SINGLE_TABLE: Table = Table::build(PUNJABI_SINGLE, &[]);
static TAMIL_LOCKING_TABLE: Table = Table::build(TAMIL_LOCKING, &[]);
static TAMIL_SINGLE_TABLE: Table = Table::build(TAMIL_SINGLE, &[]);
static TELUGU_LOCKING_TABLE: Table = Table::build(TELUGU_LOCKING, &[]);
/// 0x65 (`€`) is decode-only (absent from some editions, see the module documentation).
static TELUGU_SINGLE_TABLE: Table = Table::build(TELUGU_SINGLE, &[0x65]);
static URDU_LOCKING_TABLE: Table = Table::build(URDU_LOCKING, &[]);
static URDU_SINGLE_TABLE: Table = Table::build(URDU_SINGLE, &[]);

// ---------------------------------------------------------------------------------------------
// Table data, one row of eight septets per line (0x00..0x07, 0x08..0x0F, ...). `U` = undefined.
// ---------------------------------------------------------------------------------------------

#[rustfmt::skip]
const DEFAULT_LOCKING: [char; 128] = [
    /* 0x00 */  '@',  '£',  '$',  '¥',  'è',  'é',  'ù',  'ì',
    /* 0x08 */  'ò',  'Ç', '\n',  'Ø',  'ø', '\r',  'Å',  'å',
    /* 0x10 */  'Δ',  '_',  'Φ',  'Γ',  'Λ',  'Ω',  'Π',  'Ψ',
    /* 0x18 */  'Σ',  'Θ',  'Ξ',    U,  'Æ',  'æ',  'ß',  'É',
    /* 0x20 */  ' ',  '!',  '"',  '#',  '¤',  '%',  '&', '\'',
    /* 0x28 */  '(',  ')',  '*',  '+',  ',',  '-',  '.',  '/',
    /* 0x30 */  '0',  '1',  '2',  '3',  '4',  '5',  '6',  '7',
    /* 0x38 */  '8',  '9',  ':',  ';',  '<',  '=',  '>',  '?',
    /* 0x40 */  '¡',  'A',  'B',  'C',  'D',  'E',  'F',  'G',
    /* 0x48 */  'H',  'I',  'J',  'K',  'L',  'M',  'N',  'O',
    /* 0x50 */  'P',  'Q',  'R',  'S',  'T',  'U',  'V',  'W',
    /* 0x58 */  'X',  'Y',  'Z',  'Ä',  'Ö',  'Ñ',  'Ü',  '§',
    /* 0x60 */  '¿',  'a',  'b',  'c',  'd',  'e',  'f',  'g',
    /* 0x68 */  'h',  'i',  'j',  'k',  'l',  'm',  'n',  'o',
    /* 0x70 */  'p',  'q',  'r',  's',  't',  'u',  'v',  'w',
    /* 0x78 */  'x',  'y',  'z',  'ä',  'ö',  'ñ',  'ü',  'à',
];

#[rustfmt::skip]
const DEFAULT_SINGLE: [char; 128] = [
    /* 0x00 */       U,       U,       U,       U,       U,       U,       U,       U,
    /* 0x08 */       U,       U, '\u{C}',       U,       U,       U,       U,       U,
    /* 0x10 */       U,       U,       U,       U,     '^',       U,       U,       U,
    /* 0x18 */       U,       U,       U,       U,       U,       U,       U,       U,
    /* 0x20 */       U,       U,       U,       U,       U,       U,       U,       U,
    /* 0x28 */     '{',     '}',       U,       U,       U,       U,       U,    '\\',
    /* 0x30 */       U,       U,       U,       U,       U,       U,       U,       U,
    /* 0x38 */       U,       U,       U,       U,     '[',     '~',     ']',       U,
    /* 0x40 */     '|',       U,       U,       U,       U,       U,       U,       U,
    /* 0x48 */       U,       U,       U,       U,       U,       U,       U,       U,
    /* 0x50 */       U,       U,       U,       U,       U,       U,       U,       U,
    /* 0x58 */       U,       U,       U,       U,       U,       U,       U,       U,
    /* 0x60 */       U,       U,       U,       U,       U,     '€',       U,       U,
    /* 0x68 */       U,       U,       U,       U,       U,       U,       U,       U,
    /* 0x70 */       U,       U,       U,       U,       U,       U,       U,       U,
    /* 0x78 */       U,       U,       U,       U,       U,       U,       U,       U,
];

#[rustfmt::skip]
const TURKISH_LOCKING: [char; 128] = [
    /* 0x00 */  '@',  '£',  '$',  '¥',  '€',  'é',  'ù',  'ı',
    /* 0x08 */  'ò',  'Ç', '\n',  'Ğ',  'ğ', '\r',  'Å',  'å',
    /* 0x10 */  'Δ',  '_',  'Φ',  'Γ',  'Λ',  'Ω',  'Π',  'Ψ',
    /* 0x18 */  'Σ',  'Θ',  'Ξ',    U,  'Ş',  'ş',  'ß',  'É',
    /* 0x20 */  ' ',  '!',  '"',  '#',  '¤',  '%',  '&', '\'',
    /* 0x28 */  '(',  ')',  '*',  '+',  ',',  '-',  '.',  '/',
    /* 0x30 */  '0',  '1',  '2',  '3',  '4',  '5',  '6',  '7',
    /* 0x38 */  '8',  '9',  ':',  ';',  '<',  '=',  '>',  '?',
    /* 0x40 */  'İ',  'A',  'B',  'C',  'D',  'E',  'F',  'G',
    /* 0x48 */  'H',  'I',  'J',  'K',  'L',  'M',  'N',  'O',
    /* 0x50 */  'P',  'Q',  'R',  'S',  'T',  'U',  'V',  'W',
    /* 0x58 */  'X',  'Y',  'Z',  'Ä',  'Ö',  'Ñ',  'Ü',  '§',
    /* 0x60 */  'ç',  'a',  'b',  'c',  'd',  'e',  'f',  'g',
    /* 0x68 */  'h',  'i',  'j',  'k',  'l',  'm',  'n',  'o',
    /* 0x70 */  'p',  'q',  'r',  's',  't',  'u',  'v',  'w',
    /* 0x78 */  'x',  'y',  'z',  'ä',  'ö',  'ñ',  'ü',  'à',
];

#[rustfmt::skip]
const TURKISH_SINGLE: [char; 128] = [
    /* 0x00 */       U,       U,       U,       U,       U,       U,       U,       U,
    /* 0x08 */       U,       U, '\u{C}',       U,       U,       U,       U,       U,
    /* 0x10 */       U,       U,       U,       U,     '^',       U,       U,       U,
    /* 0x18 */       U,       U,       U,       U,       U,       U,       U,       U,
    /* 0x20 */       U,       U,       U,       U,       U,       U,       U,       U,
    /* 0x28 */     '{',     '}',       U,       U,       U,       U,       U,    '\\',
    /* 0x30 */       U,       U,       U,       U,       U,       U,       U,       U,
    /* 0x38 */       U,       U,       U,       U,     '[',     '~',     ']',       U,
    /* 0x40 */     '|',       U,       U,       U,       U,       U,       U,     'Ğ',
    /* 0x48 */       U,     'İ',       U,       U,       U,       U,       U,       U,
    /* 0x50 */       U,       U,       U,     'Ş',       U,       U,       U,       U,
    /* 0x58 */       U,       U,       U,       U,       U,       U,       U,       U,
    /* 0x60 */       U,       U,       U,     'ç',       U,     '€',       U,     'ğ',
    /* 0x68 */       U,     'ı',       U,       U,       U,       U,       U,       U,
    /* 0x70 */       U,       U,       U,     'ş',       U,       U,       U,       U,
    /* 0x78 */       U,       U,       U,       U,       U,       U,       U,       U,
];

#[rustfmt::skip]
const SPANISH_SINGLE: [char; 128] = [
    /* 0x00 */       U,       U,       U,       U,       U,       U,       U,       U,
    /* 0x08 */       U,     'ç', '\u{C}',       U,       U,       U,       U,       U,
    /* 0x10 */       U,       U,       U,       U,     '^',       U,       U,       U,
    /* 0x18 */       U,       U,       U,       U,       U,       U,       U,       U,
    /* 0x20 */       U,       U,       U,       U,       U,       U,       U,       U,
    /* 0x28 */     '{',     '}',       U,       U,       U,       U,       U,    '\\',
    /* 0x30 */       U,       U,       U,       U,       U,       U,       U,       U,
    /* 0x38 */       U,       U,       U,       U,     '[',     '~',     ']',       U,
    /* 0x40 */     '|',     'Á',       U,       U,       U,       U,       U,       U,
    /* 0x48 */       U,     'Í',       U,       U,       U,       U,       U,     'Ó',
    /* 0x50 */       U,       U,       U,       U,       U,     'Ú',       U,       U,
    /* 0x58 */       U,       U,       U,       U,       U,       U,       U,       U,
    /* 0x60 */       U,     'á',       U,       U,       U,     '€',       U,       U,
    /* 0x68 */       U,     'í',       U,       U,       U,       U,       U,     'ó',
    /* 0x70 */       U,       U,       U,       U,       U,     'ú',       U,       U,
    /* 0x78 */       U,       U,       U,       U,       U,       U,       U,       U,
];

#[rustfmt::skip]
const PORTUGUESE_LOCKING: [char; 128] = [
    /* 0x00 */  '@',  '£',  '$',  '¥',  'ê',  'é',  'ú',  'í',
    /* 0x08 */  'ó',  'ç', '\n',  'Ô',  'ô', '\r',  'Á',  'á',
    /* 0x10 */  'Δ',  '_',  'ª',  'Ç',  'À',  '∞',  '^', '\\',
    /* 0x18 */  '€',  'Ó',  '|',    U,  'Â',  'â',  'Ê',  'É',
    /* 0x20 */  ' ',  '!',  '"',  '#',  'º',  '%',  '&', '\'',
    /* 0x28 */  '(',  ')',  '*',  '+',  ',',  '-',  '.',  '/',
    /* 0x30 */  '0',  '1',  '2',  '3',  '4',  '5',  '6',  '7',
    /* 0x38 */  '8',  '9',  ':',  ';',  '<',  '=',  '>',  '?',
    /* 0x40 */  'Í',  'A',  'B',  'C',  'D',  'E',  'F',  'G',
    /* 0x48 */  'H',  'I',  'J',  'K',  'L',  'M',  'N',  'O',
    /* 0x50 */  'P',  'Q',  'R',  'S',  'T',  'U',  'V',  'W',
    /* 0x58 */  'X',  'Y',  'Z',  'Ã',  'Õ',  'Ú',  'Ü',  '§',
    /* 0x60 */  '~',  'a',  'b',  'c',  'd',  'e',  'f',  'g',
    /* 0x68 */  'h',  'i',  'j',  'k',  'l',  'm',  'n',  'o',
    /* 0x70 */  'p',  'q',  'r',  's',  't',  'u',  'v',  'w',
    /* 0x78 */  'x',  'y',  'z',  'ã',  'õ',  '`',  'ü',  'à',
];

#[rustfmt::skip]
const PORTUGUESE_SINGLE: [char; 128] = [
    /* 0x00 */       U,       U,       U,       U,       U,     'ê',       U,       U,
    /* 0x08 */       U,     'ç', '\u{C}',     'Ô',     'ô',       U,     'Á',     'á',
    /* 0x10 */       U,       U,     'Φ',     'Γ',     '^',     'Ω',     'Π',     'Ψ',
    /* 0x18 */     'Σ',     'Θ',       U,       U,       U,       U,       U,     'Ê',
    /* 0x20 */       U,       U,       U,       U,       U,       U,       U,       U,
    /* 0x28 */     '{',     '}',       U,       U,       U,       U,       U,    '\\',
    /* 0x30 */       U,       U,       U,       U,       U,       U,       U,       U,
    /* 0x38 */       U,       U,       U,       U,     '[',     '~',     ']',       U,
    /* 0x40 */     '|',     'À',       U,       U,       U,       U,       U,       U,
    /* 0x48 */       U,     'Í',       U,       U,       U,       U,       U,     'Ó',
    /* 0x50 */       U,       U,       U,       U,       U,     'Ú',       U,       U,
    /* 0x58 */       U,       U,       U,     'Ã',     'Õ',       U,       U,       U,
    /* 0x60 */       U,     'Â',       U,       U,       U,     '€',       U,       U,
    /* 0x68 */       U,     'í',       U,       U,       U,       U,       U,     'ó',
    /* 0x70 */       U,       U,       U,       U,       U,     'ú',       U,       U,
    /* 0x78 */       U,       U,       U,     'ã',     'õ',       U,       U,     'â',
];

#[rustfmt::skip]
const BENGALI_LOCKING: [char; 128] = [
    /* 0x00 */ '\u{0981}', '\u{0982}', '\u{0983}', '\u{0985}', '\u{0986}', '\u{0987}', '\u{0988}', '\u{0989}',
    /* 0x08 */ '\u{098A}', '\u{098B}',       '\n', '\u{098C}',          U,       '\r',          U, '\u{098F}',
    /* 0x10 */ '\u{0990}',          U,          U, '\u{0993}', '\u{0994}', '\u{0995}', '\u{0996}', '\u{0997}',
    /* 0x18 */ '\u{0998}', '\u{0999}', '\u{099A}',          U, '\u{099B}', '\u{099C}', '\u{099D}', '\u{099E}',
    /* 0x20 */        ' ',        '!', '\u{099F}', '\u{09A0}', '\u{09A1}', '\u{09A2}', '\u{09A3}', '\u{09A4}',
    /* 0x28 */        ')',        '(', '\u{09A5}', '\u{09A6}',        ',', '\u{09A7}',        '.', '\u{09A8}',
    /* 0x30 */        '0',        '1',        '2',        '3',        '4',        '5',        '6',        '7',
    /* 0x38 */        '8',        '9',        ':',        ';',          U, '\u{09AA}', '\u{09AB}',        '?',
    /* 0x40 */ '\u{09AC}', '\u{09AD}', '\u{09AE}', '\u{09AF}', '\u{09B0}',          U, '\u{09B2}',          U,
    /* 0x48 */          U,          U, '\u{09B6}', '\u{09B7}', '\u{09B8}', '\u{09B9}', '\u{09BC}', '\u{09BD}',
    /* 0x50 */ '\u{09BE}', '\u{09BF}', '\u{09C0}', '\u{09C1}', '\u{09C2}', '\u{09C3}', '\u{09C4}',          U,
    /* 0x58 */          U, '\u{09C7}', '\u{09C8}',          U,          U, '\u{09CB}', '\u{09CC}', '\u{09CD}',
    /* 0x60 */ '\u{09CE}',        'a',        'b',        'c',        'd',        'e',        'f',        'g',
    /* 0x68 */        'h',        'i',        'j',        'k',        'l',        'm',        'n',        'o',
    /* 0x70 */        'p',        'q',        'r',        's',        't',        'u',        'v',        'w',
    /* 0x78 */        'x',        'y',        'z', '\u{09D7}', '\u{09DC}', '\u{09DD}', '\u{09F0}', '\u{09F1}',
];

#[rustfmt::skip]
const BENGALI_SINGLE: [char; 128] = [
    /* 0x00 */        '@',        '£',        '$',        '¥',        '¿',        '"',        '¤',        '%',
    /* 0x08 */        '&',       '\'',    '\u{C}',        '*',        '+',          U,        '-',        '/',
    /* 0x10 */        '<',        '=',        '>',        '¡',        '^',        '¡',        '_',        '#',
    /* 0x18 */        '*', '\u{09E6}', '\u{09E7}',          U, '\u{09E8}', '\u{09E9}', '\u{09EA}', '\u{09EB}',
    /* 0x20 */ '\u{09EC}', '\u{09ED}', '\u{09EE}', '\u{09EF}', '\u{09DF}', '\u{09E0}', '\u{09E1}', '\u{09E2}',
    /* 0x28 */        '{',        '}', '\u{09E3}', '\u{09F2}', '\u{09F3}', '\u{09F4}', '\u{09F5}',       '\\',
    /* 0x30 */ '\u{09F6}', '\u{09F7}', '\u{09F8}', '\u{09F9}', '\u{09FA}',          U,          U,          U,
    /* 0x38 */          U,          U,          U,          U,        '[',        '~',        ']',          U,
    /* 0x40 */        '|',        'A',        'B',        'C',        'D',        'E',        'F',        'G',
    /* 0x48 */        'H',        'I',        'J',        'K',        'L',        'M',        'N',        'O',
    /* 0x50 */        'P',        'Q',        'R',        'S',        'T',        'U',        'V',        'W',
    /* 0x58 */        'X',        'Y',        'Z',          U,          U,          U,          U,          U,
    /* 0x60 */          U,          U,          U,          U,          U,        '€',          U,          U,
    /* 0x68 */          U,          U,          U,          U,          U,          U,          U,          U,
    /* 0x70 */          U,          U,          U,          U,          U,          U,          U,          U,
    /* 0x78 */          U,          U,          U,          U,          U,          U,          U,          U,
];

#[rustfmt::skip]
const GUJARATI_LOCKING: [char; 128] = [
    /* 0x00 */ '\u{0A81}', '\u{0A82}', '\u{0A83}', '\u{0A85}', '\u{0A86}', '\u{0A87}', '\u{0A88}', '\u{0A89}',
    /* 0x08 */ '\u{0A8A}', '\u{0A8B}',       '\n', '\u{0A8C}', '\u{0A8D}',       '\r',          U, '\u{0A8F}',
    /* 0x10 */ '\u{0A90}', '\u{0A91}',          U, '\u{0A93}', '\u{0A94}', '\u{0A95}', '\u{0A96}', '\u{0A97}',
    /* 0x18 */ '\u{0A98}', '\u{0A99}', '\u{0A9A}',          U, '\u{0A9B}', '\u{0A9C}', '\u{0A9D}', '\u{0A9E}',
    /* 0x20 */        ' ',        '!', '\u{0A9F}', '\u{0AA0}', '\u{0AA1}', '\u{0AA2}', '\u{0AA3}', '\u{0AA4}',
    /* 0x28 */        ')',        '(', '\u{0AA5}', '\u{0AA6}',        ',', '\u{0AA7}',        '.', '\u{0AA8}',
    /* 0x30 */        '0',        '1',        '2',        '3',        '4',        '5',        '6',        '7',
    /* 0x38 */        '8',        '9',        ':',        ';',          U, '\u{0AAA}', '\u{0AAB}',        '?',
    /* 0x40 */ '\u{0AAC}', '\u{0AAD}', '\u{0AAE}', '\u{0AAF}', '\u{0AB0}',          U, '\u{0AB2}', '\u{0AB3}',
    /* 0x48 */          U, '\u{0AB5}', '\u{0AB6}', '\u{0AB7}', '\u{0AB8}', '\u{0AB9}', '\u{0ABC}', '\u{0ABD}',
    /* 0x50 */ '\u{0ABE}', '\u{0ABF}', '\u{0AC0}', '\u{0AC1}', '\u{0AC2}', '\u{0AC3}', '\u{0AC4}', '\u{0AC5}',
    /* 0x58 */          U, '\u{0AC7}', '\u{0AC8}', '\u{0AC9}',          U, '\u{0ACB}', '\u{0ACC}', '\u{0ACD}',
    /* 0x60 */ '\u{0AD0}',        'a',        'b',        'c',        'd',        'e',        'f',        'g',
    /* 0x68 */        'h',        'i',        'j',        'k',        'l',        'm',        'n',        'o',
    /* 0x70 */        'p',        'q',        'r',        's',        't',        'u',        'v',        'w',
    /* 0x78 */        'x',        'y',        'z', '\u{0AE0}', '\u{0AE1}', '\u{0AE2}', '\u{0AE3}', '\u{0AF1}',
];

#[rustfmt::skip]
const GUJARATI_SINGLE: [char; 128] = [
    /* 0x00 */        '@',        '£',        '$',        '¥',        '¿',        '"',        '¤',        '%',
    /* 0x08 */        '&',       '\'',    '\u{C}',        '*',        '+',          U,        '-',        '/',
    /* 0x10 */        '<',        '=',        '>',        '¡',        '^',        '¡',        '_',        '#',
    /* 0x18 */        '*', '\u{0964}', '\u{0965}',          U, '\u{0AE6}', '\u{0AE7}', '\u{0AE8}', '\u{0AE9}',
    /* 0x20 */ '\u{0AEA}', '\u{0AEB}', '\u{0AEC}', '\u{0AED}', '\u{0AEE}', '\u{0AEF}',          U,          U,
    /* 0x28 */        '{',        '}',          U,          U,          U,          U,          U,       '\\',
    /* 0x30 */          U,          U,          U,          U,          U,          U,          U,          U,
    /* 0x38 */          U,          U,          U,          U,        '[',        '~',        ']',          U,
    /* 0x40 */        '|',        'A',        'B',        'C',        'D',        'E',        'F',        'G',
    /* 0x48 */        'H',        'I',        'J',        'K',        'L',        'M',        'N',        'O',
    /* 0x50 */        'P',        'Q',        'R',        'S',        'T',        'U',        'V',        'W',
    /* 0x58 */        'X',        'Y',        'Z',          U,          U,          U,          U,          U,
    /* 0x60 */          U,          U,          U,          U,          U,        '€',          U,          U,
    /* 0x68 */          U,          U,          U,          U,          U,          U,          U,          U,
    /* 0x70 */          U,          U,          U,          U,          U,          U,          U,          U,
    /* 0x78 */          U,          U,          U,          U,          U,          U,          U,          U,
];

#[rustfmt::skip]
const HINDI_LOCKING: [char; 128] = [
    /* 0x00 */ '\u{0901}', '\u{0902}', '\u{0903}', '\u{0905}', '\u{0906}', '\u{0907}', '\u{0908}', '\u{0909}',
    /* 0x08 */ '\u{090A}', '\u{090B}',       '\n', '\u{090C}', '\u{090D}',       '\r', '\u{090E}', '\u{090F}',
    /* 0x10 */ '\u{0910}', '\u{0911}', '\u{0912}', '\u{0913}', '\u{0914}', '\u{0915}', '\u{0916}', '\u{0917}',
    /* 0x18 */ '\u{0918}', '\u{0919}', '\u{091A}',          U, '\u{091B}', '\u{091C}', '\u{091D}', '\u{091E}',
    /* 0x20 */        ' ',        '!', '\u{091F}', '\u{0920}', '\u{0921}', '\u{0922}', '\u{0923}', '\u{0924}',
    /* 0x28 */        ')',        '(', '\u{0925}', '\u{0926}',        ',', '\u{0927}',        '.', '\u{0928}',
    /* 0x30 */        '0',        '1',        '2',        '3',        '4',        '5',        '6',        '7',
    /* 0x38 */        '8',        '9',        ':',        ';', '\u{0929}', '\u{092A}', '\u{092B}',        '?',
    /* 0x40 */ '\u{092C}', '\u{092D}', '\u{092E}', '\u{092F}', '\u{0930}', '\u{0931}', '\u{0932}', '\u{0933}',
    /* 0x48 */ '\u{0934}', '\u{0935}', '\u{0936}', '\u{0937}', '\u{0938}', '\u{0939}', '\u{093C}', '\u{093D}',
    /* 0x50 */ '\u{093E}', '\u{093F}', '\u{0940}', '\u{0941}', '\u{0942}', '\u{0943}', '\u{0944}', '\u{0945}',
    /* 0x58 */ '\u{0946}', '\u{0947}', '\u{0948}', '\u{0949}', '\u{094A}', '\u{094B}', '\u{094C}', '\u{094D}',
    /* 0x60 */ '\u{0950}',        'a',        'b',        'c',        'd',        'e',        'f',        'g',
    /* 0x68 */        'h',        'i',        'j',        'k',        'l',        'm',        'n',        'o',
    /* 0x70 */        'p',        'q',        'r',        's',        't',        'u',        'v',        'w',
    /* 0x78 */        'x',        'y',        'z', '\u{0972}', '\u{097B}', '\u{097C}', '\u{097E}', '\u{097F}',
];

#[rustfmt::skip]
const HINDI_SINGLE: [char; 128] = [
    /* 0x00 */        '@',        '£',        '$',        '¥',        '¿',        '"',        '¤',        '%',
    /* 0x08 */        '&',       '\'',    '\u{C}',        '*',        '+',          U,        '-',        '/',
    /* 0x10 */        '<',        '=',        '>',        '¡',        '^',        '¡',        '_',        '#',
    /* 0x18 */        '*', '\u{0964}', '\u{0965}',          U, '\u{0966}', '\u{0967}', '\u{0968}', '\u{0969}',
    /* 0x20 */ '\u{096A}', '\u{096B}', '\u{096C}', '\u{096D}', '\u{096E}', '\u{096F}', '\u{0951}', '\u{0952}',
    /* 0x28 */        '{',        '}', '\u{0953}', '\u{0954}', '\u{0958}', '\u{0959}', '\u{095A}',       '\\',
    /* 0x30 */ '\u{095B}', '\u{095C}', '\u{095D}', '\u{095E}', '\u{095F}', '\u{0960}', '\u{0961}', '\u{0962}',
    /* 0x38 */ '\u{0963}', '\u{0970}', '\u{0971}',          U,        '[',        '~',        ']',          U,
    /* 0x40 */        '|',        'A',        'B',        'C',        'D',        'E',        'F',        'G',
    /* 0x48 */        'H',        'I',        'J',        'K',        'L',        'M',        'N',        'O',
    /* 0x50 */        'P',        'Q',        'R',        'S',        'T',        'U',        'V',        'W',
    /* 0x58 */        'X',        'Y',        'Z',          U,          U,          U,          U,          U,
    /* 0x60 */          U,          U,          U,          U,          U,        '€',          U,          U,
    /* 0x68 */          U,          U,          U,          U,          U,          U,          U,          U,
    /* 0x70 */          U,          U,          U,          U,          U,          U,          U,          U,
    /* 0x78 */          U,          U,          U,          U,          U,          U,          U,          U,
];

#[rustfmt::skip]
const KANNADA_LOCKING: [char; 128] = [
    /* 0x00 */          U, '\u{0C82}', '\u{0C83}', '\u{0C85}', '\u{0C86}', '\u{0C87}', '\u{0C88}', '\u{0C89}',
    /* 0x08 */ '\u{0C8A}', '\u{0C8B}',       '\n', '\u{0C8C}',          U,       '\r', '\u{0C8E}', '\u{0C8F}',
    /* 0x10 */ '\u{0C90}',          U, '\u{0C92}', '\u{0C93}', '\u{0C94}', '\u{0C95}', '\u{0C96}', '\u{0C97}',
    /* 0x18 */ '\u{0C98}', '\u{0C99}', '\u{0C9A}',          U, '\u{0C9B}', '\u{0C9C}', '\u{0C9D}', '\u{0C9E}',
    /* 0x20 */        ' ',        '!', '\u{0C9F}', '\u{0CA0}', '\u{0CA1}', '\u{0CA2}', '\u{0CA3}', '\u{0CA4}',
    /* 0x28 */        ')',        '(', '\u{0CA5}', '\u{0CA6}',        ',', '\u{0CA7}',        '.', '\u{0CA8}',
    /* 0x30 */        '0',        '1',        '2',        '3',        '4',        '5',        '6',        '7',
    /* 0x38 */        '8',        '9',        ':',        ';',          U, '\u{0CAA}', '\u{0CAB}',        '?',
    /* 0x40 */ '\u{0CAC}', '\u{0CAD}', '\u{0CAE}', '\u{0CAF}', '\u{0CB0}', '\u{0CB1}', '\u{0CB2}', '\u{0CB3}',
    /* 0x48 */          U, '\u{0CB5}', '\u{0CB6}', '\u{0CB7}', '\u{0CB8}', '\u{0CB9}', '\u{0CBC}', '\u{0CBD}',
    /* 0x50 */ '\u{0CBE}', '\u{0CBF}', '\u{0CC0}', '\u{0CC1}', '\u{0CC2}', '\u{0CC3}', '\u{0CC4}',          U,
    /* 0x58 */ '\u{0CC6}', '\u{0CC7}', '\u{0CC8}',          U, '\u{0CCA}', '\u{0CCB}', '\u{0CCC}', '\u{0CCD}',
    /* 0x60 */ '\u{0CD5}',        'a',        'b',        'c',        'd',        'e',        'f',        'g',
    /* 0x68 */        'h',        'i',        'j',        'k',        'l',        'm',        'n',        'o',
    /* 0x70 */        'p',        'q',        'r',        's',        't',        'u',        'v',        'w',
    /* 0x78 */        'x',        'y',        'z', '\u{0CD6}', '\u{0CE0}', '\u{0CE1}', '\u{0CE2}', '\u{0CE3}',
];

#[rustfmt::skip]
const KANNADA_SINGLE: [char; 128] = [
    /* 0x00 */        '@',        '£',        '$',        '¥',        '¿',        '"',        '¤',        '%',
    /* 0x08 */        '&',       '\'',    '\u{C}',        '*',        '+',          U,        '-',        '/',
    /* 0x10 */        '<',        '=',        '>',        '¡',        '^',        '¡',        '_',        '#',
    /* 0x18 */        '*', '\u{0964}', '\u{0965}',          U, '\u{0CE6}', '\u{0CE7}', '\u{0CE8}', '\u{0CE9}',
    /* 0x20 */ '\u{0CEA}', '\u{0CEB}', '\u{0CEC}', '\u{0CED}', '\u{0CEE}', '\u{0CEF}', '\u{0CDE}', '\u{0CF1}',
    /* 0x28 */        '{',        '}', '\u{0CF2}',          U,          U,          U,          U,       '\\',
    /* 0x30 */          U,          U,          U,          U,          U,          U,          U,          U,
    /* 0x38 */          U,          U,          U,          U,        '[',        '~',        ']',          U,
    /* 0x40 */        '|',        'A',        'B',        'C',        'D',        'E',        'F',        'G',
    /* 0x48 */        'H',        'I',        'J',        'K',        'L',        'M',        'N',        'O',
    /* 0x50 */        'P',        'Q',        'R',        'S',        'T',        'U',        'V',        'W',
    /* 0x58 */        'X',        'Y',        'Z',          U,          U,          U,          U,          U,
    /* 0x60 */          U,          U,          U,          U,          U,        '€',          U,          U,
    /* 0x68 */          U,          U,          U,          U,          U,          U,          U,          U,
    /* 0x70 */          U,          U,          U,          U,          U,          U,          U,          U,
    /* 0x78 */          U,          U,          U,          U,          U,          U,          U,          U,
];

#[rustfmt::skip]
const MALAYALAM_LOCKING: [char; 128] = [
    /* 0x00 */          U, '\u{0D02}', '\u{0D03}', '\u{0D05}', '\u{0D06}', '\u{0D07}', '\u{0D08}', '\u{0D09}',
    /* 0x08 */ '\u{0D0A}', '\u{0D0B}',       '\n', '\u{0D0C}',          U,       '\r', '\u{0D0E}', '\u{0D0F}',
    /* 0x10 */ '\u{0D10}',          U, '\u{0D12}', '\u{0D13}', '\u{0D14}', '\u{0D15}', '\u{0D16}', '\u{0D17}',
    /* 0x18 */ '\u{0D18}', '\u{0D19}', '\u{0D1A}',          U, '\u{0D1B}', '\u{0D1C}', '\u{0D1D}', '\u{0D1E}',
    /* 0x20 */        ' ',        '!', '\u{0D1F}', '\u{0D20}', '\u{0D21}', '\u{0D22}', '\u{0D23}', '\u{0D24}',
    /* 0x28 */        ')',        '(', '\u{0D25}', '\u{0D26}',        ',', '\u{0D27}',        '.', '\u{0D28}',
    /* 0x30 */        '0',        '1',        '2',        '3',        '4',        '5',        '6',        '7',
    /* 0x38 */        '8',        '9',        ':',        ';',          U, '\u{0D2A}', '\u{0D2B}',        '?',
    /* 0x40 */ '\u{0D2C}', '\u{0D2D}', '\u{0D2E}', '\u{0D2F}', '\u{0D30}', '\u{0D31}', '\u{0D32}', '\u{0D33}',
    /* 0x48 */ '\u{0D34}', '\u{0D35}', '\u{0D36}', '\u{0D37}', '\u{0D38}', '\u{0D39}',          U, '\u{0D3D}',
    /* 0x50 */ '\u{0D3E}', '\u{0D3F}', '\u{0D40}', '\u{0D41}', '\u{0D42}', '\u{0D43}', '\u{0D44}',          U,
    /* 0x58 */ '\u{0D46}', '\u{0D47}', '\u{0D48}',          U, '\u{0D4A}', '\u{0D4B}', '\u{0D4C}', '\u{0D4D}',
    /* 0x60 */ '\u{0D57}',        'a',        'b',        'c',        'd',        'e',        'f',        'g',
    /* 0x68 */        'h',        'i',        'j',        'k',        'l',        'm',        'n',        'o',
    /* 0x70 */        'p',        'q',        'r',        's',        't',        'u',        'v',        'w',
    /* 0x78 */        'x',        'y',        'z', '\u{0D60}', '\u{0D61}', '\u{0D62}', '\u{0D63}', '\u{0D79}',
];

#[rustfmt::skip]
const MALAYALAM_SINGLE: [char; 128] = [
    /* 0x00 */        '@',        '£',        '$',        '¥',        '¿',        '"',        '¤',        '%',
    /* 0x08 */        '&',       '\'',    '\u{C}',        '*',        '+',          U,        '-',        '/',
    /* 0x10 */        '<',        '=',        '>',        '¡',        '^',        '¡',        '_',        '#',
    /* 0x18 */        '*', '\u{0964}', '\u{0965}',          U, '\u{0D66}', '\u{0D67}', '\u{0D68}', '\u{0D69}',
    /* 0x20 */ '\u{0D6A}', '\u{0D6B}', '\u{0D6C}', '\u{0D6D}', '\u{0D6E}', '\u{0D6F}', '\u{0D70}', '\u{0D71}',
    /* 0x28 */        '{',        '}', '\u{0D72}', '\u{0D73}', '\u{0D74}', '\u{0D75}', '\u{0D7A}',       '\\',
    /* 0x30 */ '\u{0D7B}', '\u{0D7C}', '\u{0D7D}', '\u{0D7E}', '\u{0D7F}',          U,          U,          U,
    /* 0x38 */          U,          U,          U,          U,        '[',        '~',        ']',          U,
    /* 0x40 */        '|',        'A',        'B',        'C',        'D',        'E',        'F',        'G',
    /* 0x48 */        'H',        'I',        'J',        'K',        'L',        'M',        'N',        'O',
    /* 0x50 */        'P',        'Q',        'R',        'S',        'T',        'U',        'V',        'W',
    /* 0x58 */        'X',        'Y',        'Z',          U,          U,          U,          U,          U,
    /* 0x60 */          U,          U,          U,          U,          U,        '€',          U,          U,
    /* 0x68 */          U,          U,          U,          U,          U,          U,          U,          U,
    /* 0x70 */          U,          U,          U,          U,          U,          U,          U,          U,
    /* 0x78 */          U,          U,          U,          U,          U,          U,          U,          U,
];

#[rustfmt::skip]
const ORIYA_LOCKING: [char; 128] = [
    /* 0x00 */ '\u{0B01}', '\u{0B02}', '\u{0B03}', '\u{0B05}', '\u{0B06}', '\u{0B07}', '\u{0B08}', '\u{0B09}',
    /* 0x08 */ '\u{0B0A}', '\u{0B0B}',       '\n', '\u{0B0C}',          U,       '\r',          U, '\u{0B0F}',
    /* 0x10 */ '\u{0B10}',          U,          U, '\u{0B13}', '\u{0B14}', '\u{0B15}', '\u{0B16}', '\u{0B17}',
    /* 0x18 */ '\u{0B18}', '\u{0B19}', '\u{0B1A}',          U, '\u{0B1B}', '\u{0B1C}', '\u{0B1D}', '\u{0B1E}',
    /* 0x20 */        ' ',        '!', '\u{0B1F}', '\u{0B20}', '\u{0B21}', '\u{0B22}', '\u{0B23}', '\u{0B24}',
    /* 0x28 */        ')',        '(', '\u{0B25}', '\u{0B26}',        ',', '\u{0B27}',        '.', '\u{0B28}',
    /* 0x30 */        '0',        '1',        '2',        '3',        '4',        '5',        '6',        '7',
    /* 0x38 */        '8',        '9',        ':',        ';',          U, '\u{0B2A}', '\u{0B2B}',        '?',
    /* 0x40 */ '\u{0B2C}', '\u{0B2D}', '\u{0B2E}', '\u{0B2F}', '\u{0B30}',          U, '\u{0B32}', '\u{0B33}',
    /* 0x48 */          U, '\u{0B35}', '\u{0B36}', '\u{0B37}', '\u{0B38}', '\u{0B39}', '\u{0B3C}', '\u{0B3D}',
    /* 0x50 */ '\u{0B3E}', '\u{0B3F}', '\u{0B40}', '\u{0B41}', '\u{0B42}', '\u{0B43}', '\u{0B44}',          U,
    /* 0x58 */          U, '\u{0B47}', '\u{0B48}',          U,          U, '\u{0B4B}', '\u{0B4C}', '\u{0B4D}',
    /* 0x60 */ '\u{0B56}',        'a',        'b',        'c',        'd',        'e',        'f',        'g',
    /* 0x68 */        'h',        'i',        'j',        'k',        'l',        'm',        'n',        'o',
    /* 0x70 */        'p',        'q',        'r',        's',        't',        'u',        'v',        'w',
    /* 0x78 */        'x',        'y',        'z', '\u{0B57}', '\u{0B60}', '\u{0B61}', '\u{0B62}', '\u{0B63}',
];

#[rustfmt::skip]
const ORIYA_SINGLE: [char; 128] = [
    /* 0x00 */        '@',        '£',        '$',        '¥',        '¿',        '"',        '¤',        '%',
    /* 0x08 */        '&',       '\'',    '\u{C}',        '*',        '+',          U,        '-',        '/',
    /* 0x10 */        '<',        '=',        '>',        '¡',        '^',        '¡',        '_',        '#',
    /* 0x18 */        '*', '\u{0964}', '\u{0965}',          U, '\u{0B66}', '\u{0B67}', '\u{0B68}', '\u{0B69}',
    /* 0x20 */ '\u{0B6A}', '\u{0B6B}', '\u{0B6C}', '\u{0B6D}', '\u{0B6E}', '\u{0B6F}', '\u{0B5C}', '\u{0B5D}',
    /* 0x28 */        '{',        '}', '\u{0B5F}', '\u{0B70}', '\u{0B71}',          U,          U,       '\\',
    /* 0x30 */          U,          U,          U,          U,          U,          U,          U,          U,
    /* 0x38 */          U,          U,          U,          U,        '[',        '~',        ']',          U,
    /* 0x40 */        '|',        'A',        'B',        'C',        'D',        'E',        'F',        'G',
    /* 0x48 */        'H',        'I',        'J',        'K',        'L',        'M',        'N',        'O',
    /* 0x50 */        'P',        'Q',        'R',        'S',        'T',        'U',        'V',        'W',
    /* 0x58 */        'X',        'Y',        'Z',          U,          U,          U,          U,          U,
    /* 0x60 */          U,          U,          U,          U,          U,        '€',          U,          U,
    /* 0x68 */          U,          U,          U,          U,          U,          U,          U,          U,
    /* 0x70 */          U,          U,          U,          U,          U,          U,          U,          U,
    /* 0x78 */          U,          U,          U,          U,          U,          U,          U,          U,
];

#[rustfmt::skip]
const PUNJABI_LOCKING: [char; 128] = [
    /* 0x00 */ '\u{0A01}', '\u{0A02}', '\u{0A03}', '\u{0A05}', '\u{0A06}', '\u{0A07}', '\u{0A08}', '\u{0A09}',
    /* 0x08 */ '\u{0A0A}',          U,       '\n',          U,          U,       '\r',          U, '\u{0A0F}',
    /* 0x10 */ '\u{0A10}',          U,          U, '\u{0A13}', '\u{0A14}', '\u{0A15}', '\u{0A16}', '\u{0A17}',
    /* 0x18 */ '\u{0A18}', '\u{0A19}', '\u{0A1A}',          U, '\u{0A1B}', '\u{0A1C}', '\u{0A1D}', '\u{0A1E}',
    /* 0x20 */        ' ',        '!', '\u{0A1F}', '\u{0A20}', '\u{0A21}', '\u{0A22}', '\u{0A23}', '\u{0A24}',
    /* 0x28 */        ')',        '(', '\u{0A25}', '\u{0A26}',        ',', '\u{0A27}',        '.', '\u{0A28}',
    /* 0x30 */        '0',        '1',        '2',        '3',        '4',        '5',        '6',        '7',
    /* 0x38 */        '8',        '9',        ':',        ';',          U, '\u{0A2A}', '\u{0A2B}',        '?',
    /* 0x40 */ '\u{0A2C}', '\u{0A2D}', '\u{0A2E}', '\u{0A2F}', '\u{0A30}',          U, '\u{0A32}', '\u{0A33}',
    /* 0x48 */          U, '\u{0A35}', '\u{0A36}',          U, '\u{0A38}', '\u{0A39}', '\u{0A3C}',          U,
    /* 0x50 */ '\u{0A3E}', '\u{0A3F}', '\u{0A40}', '\u{0A41}', '\u{0A42}',          U,          U,          U,
    /* 0x58 */          U, '\u{0A47}', '\u{0A48}',          U,          U, '\u{0A4B}', '\u{0A4C}', '\u{0A4D}',
    /* 0x60 */ '\u{0A51}',        'a',        'b',        'c',        'd',        'e',        'f',        'g',
    /* 0x68 */        'h',        'i',        'j',        'k',        'l',        'm',        'n',        'o',
    /* 0x70 */        'p',        'q',        'r',        's',        't',        'u',        'v',        'w',
    /* 0x78 */        'x',        'y',        'z', '\u{0A70}', '\u{0A71}', '\u{0A72}', '\u{0A73}', '\u{0A74}',
];

#[rustfmt::skip]
const PUNJABI_SINGLE: [char; 128] = [
    /* 0x00 */        '@',        '£',        '$',        '¥',        '¿',        '"',        '¤',        '%',
    /* 0x08 */        '&',       '\'',    '\u{C}',        '*',        '+',          U,        '-',        '/',
    /* 0x10 */        '<',        '=',        '>',        '¡',        '^',        '¡',        '_',        '#',
    /* 0x18 */        '*', '\u{0964}', '\u{0965}',          U, '\u{0A66}', '\u{0A67}', '\u{0A68}', '\u{0A69}',
    /* 0x20 */ '\u{0A6A}', '\u{0A6B}', '\u{0A6C}', '\u{0A6D}', '\u{0A6E}', '\u{0A6F}', '\u{0A59}', '\u{0A5A}',
    /* 0x28 */        '{',        '}', '\u{0A5B}', '\u{0A5C}', '\u{0A5E}', '\u{0A75}',          U,       '\\',
    /* 0x30 */          U,          U,          U,          U,          U,          U,          U,          U,
    /* 0x38 */          U,          U,          U,          U,        '[',        '~',        ']',          U,
    /* 0x40 */        '|',        'A',        'B',        'C',        'D',        'E',        'F',        'G',
    /* 0x48 */        'H',        'I',        'J',        'K',        'L',        'M',        'N',        'O',
    /* 0x50 */        'P',        'Q',        'R',        'S',        'T',        'U',        'V',        'W',
    /* 0x58 */        'X',        'Y',        'Z',          U,          U,          U,          U,          U,
    /* 0x60 */          U,          U,          U,          U,          U,        '€',          U,          U,
    /* 0x68 */          U,          U,          U,          U,          U,          U,          U,          U,
    /* 0x70 */          U,          U,          U,          U,          U,          U,          U,          U,
    /* 0x78 */          U,          U,          U,          U,          U,          U,          U,          U,
];

#[rustfmt::skip]
const TAMIL_LOCKING: [char; 128] = [
    /* 0x00 */          U, '\u{0B82}', '\u{0B83}', '\u{0B85}', '\u{0B86}', '\u{0B87}', '\u{0B88}', '\u{0B89}',
    /* 0x08 */ '\u{0B8A}',          U,       '\n',          U,          U,       '\r', '\u{0B8E}', '\u{0B8F}',
    /* 0x10 */ '\u{0B90}',          U, '\u{0B92}', '\u{0B93}', '\u{0B94}', '\u{0B95}',          U,          U,
    /* 0x18 */          U, '\u{0B99}', '\u{0B9A}',          U,          U, '\u{0B9C}',          U, '\u{0B9E}',
    /* 0x20 */        ' ',        '!', '\u{0B9F}',          U,          U,          U, '\u{0BA3}', '\u{0BA4}',
    /* 0x28 */        ')',        '(',          U,          U,        ',',          U,        '.', '\u{0BA8}',
    /* 0x30 */        '0',        '1',        '2',        '3',        '4',        '5',        '6',        '7',
    /* 0x38 */        '8',        '9',        ':',        ';', '\u{0BA9}', '\u{0BAA}',          U,        '?',
    /* 0x40 */          U,          U, '\u{0BAE}', '\u{0BAF}', '\u{0BB0}', '\u{0BB1}', '\u{0BB2}', '\u{0BB3}',
    /* 0x48 */ '\u{0BB4}', '\u{0BB5}', '\u{0BB6}', '\u{0BB7}', '\u{0BB8}', '\u{0BB9}',          U,          U,
    /* 0x50 */ '\u{0BBE}', '\u{0BBF}', '\u{0BC0}', '\u{0BC1}', '\u{0BC2}',          U,          U,          U,
    /* 0x58 */ '\u{0BC6}', '\u{0BC7}', '\u{0BC8}',          U, '\u{0BCA}', '\u{0BCB}', '\u{0BCC}', '\u{0BCD}',
    /* 0x60 */ '\u{0BD0}',        'a',        'b',        'c',        'd',        'e',        'f',        'g',
    /* 0x68 */        'h',        'i',        'j',        'k',        'l',        'm',        'n',        'o',
    /* 0x70 */        'p',        'q',        'r',        's',        't',        'u',        'v',        'w',
    /* 0x78 */        'x',        'y',        'z', '\u{0BD7}', '\u{0BF0}', '\u{0BF1}', '\u{0BF2}', '\u{0BF9}',
];

#[rustfmt::skip]
const TAMIL_SINGLE: [char; 128] = [
    /* 0x00 */        '@',        '£',        '$',        '¥',        '¿',        '"',        '¤',        '%',
    /* 0x08 */        '&',       '\'',    '\u{C}',        '*',        '+',          U,        '-',        '/',
    /* 0x10 */        '<',        '=',        '>',        '¡',        '^',        '¡',        '_',        '#',
    /* 0x18 */        '*', '\u{0964}', '\u{0965}',          U, '\u{0BE6}', '\u{0BE7}', '\u{0BE8}', '\u{0BE9}',
    /* 0x20 */ '\u{0BEA}', '\u{0BEB}', '\u{0BEC}', '\u{0BED}', '\u{0BEE}', '\u{0BEF}', '\u{0BF3}', '\u{0BF4}',
    /* 0x28 */        '{',        '}', '\u{0BF5}', '\u{0BF6}', '\u{0BF7}', '\u{0BF8}', '\u{0BFA}',       '\\',
    /* 0x30 */          U,          U,          U,          U,          U,          U,          U,          U,
    /* 0x38 */          U,          U,          U,          U,        '[',        '~',        ']',          U,
    /* 0x40 */        '|',        'A',        'B',        'C',        'D',        'E',        'F',        'G',
    /* 0x48 */        'H',        'I',        'J',        'K',        'L',        'M',        'N',        'O',
    /* 0x50 */        'P',        'Q',        'R',        'S',        'T',        'U',        'V',        'W',
    /* 0x58 */        'X',        'Y',        'Z',          U,          U,          U,          U,          U,
    /* 0x60 */          U,          U,          U,          U,          U,        '€',          U,          U,
    /* 0x68 */          U,          U,          U,          U,          U,          U,          U,          U,
    /* 0x70 */          U,          U,          U,          U,          U,          U,          U,          U,
    /* 0x78 */          U,          U,          U,          U,          U,          U,          U,          U,
];

#[rustfmt::skip]
const TELUGU_LOCKING: [char; 128] = [
    /* 0x00 */ '\u{0C01}', '\u{0C02}', '\u{0C03}', '\u{0C05}', '\u{0C06}', '\u{0C07}', '\u{0C08}', '\u{0C09}',
    /* 0x08 */ '\u{0C0A}', '\u{0C0B}',       '\n', '\u{0C0C}',          U,       '\r', '\u{0C0E}', '\u{0C0F}',
    /* 0x10 */ '\u{0C10}',          U, '\u{0C12}', '\u{0C13}', '\u{0C14}', '\u{0C15}', '\u{0C16}', '\u{0C17}',
    /* 0x18 */ '\u{0C18}', '\u{0C19}', '\u{0C1A}',          U, '\u{0C1B}', '\u{0C1C}', '\u{0C1D}', '\u{0C1E}',
    /* 0x20 */        ' ',        '!', '\u{0C1F}', '\u{0C20}', '\u{0C21}', '\u{0C22}', '\u{0C23}', '\u{0C24}',
    /* 0x28 */        ')',        '(', '\u{0C25}', '\u{0C26}',        ',', '\u{0C27}',        '.', '\u{0C28}',
    /* 0x30 */        '0',        '1',        '2',        '3',        '4',        '5',        '6',        '7',
    /* 0x38 */        '8',        '9',        ':',        ';',          U, '\u{0C2A}', '\u{0C2B}',        '?',
    /* 0x40 */ '\u{0C2C}', '\u{0C2D}', '\u{0C2E}', '\u{0C2F}', '\u{0C30}', '\u{0C31}', '\u{0C32}', '\u{0C33}',
    /* 0x48 */          U, '\u{0C35}', '\u{0C36}', '\u{0C37}', '\u{0C38}', '\u{0C39}',          U, '\u{0C3D}',
    /* 0x50 */ '\u{0C3E}', '\u{0C3F}', '\u{0C40}', '\u{0C41}', '\u{0C42}', '\u{0C43}', '\u{0C44}',          U,
    /* 0x58 */ '\u{0C46}', '\u{0C47}', '\u{0C48}',          U, '\u{0C4A}', '\u{0C4B}', '\u{0C4C}', '\u{0C4D}',
    /* 0x60 */ '\u{0C55}',        'a',        'b',        'c',        'd',        'e',        'f',        'g',
    /* 0x68 */        'h',        'i',        'j',        'k',        'l',        'm',        'n',        'o',
    /* 0x70 */        'p',        'q',        'r',        's',        't',        'u',        'v',        'w',
    /* 0x78 */        'x',        'y',        'z', '\u{0C56}', '\u{0C60}', '\u{0C61}', '\u{0C62}', '\u{0C63}',
];

#[rustfmt::skip]
const TELUGU_SINGLE: [char; 128] = [
    /* 0x00 */        '@',        '£',        '$',        '¥',        '¿',        '"',        '¤',        '%',
    /* 0x08 */        '&',       '\'',    '\u{C}',        '*',        '+',          U,        '-',        '/',
    /* 0x10 */        '<',        '=',        '>',        '¡',        '^',        '¡',        '_',        '#',
    /* 0x18 */        '*',          U,          U,          U, '\u{0C66}', '\u{0C67}', '\u{0C68}', '\u{0C69}',
    /* 0x20 */ '\u{0C6A}', '\u{0C6B}', '\u{0C6C}', '\u{0C6D}', '\u{0C6E}', '\u{0C6F}', '\u{0C58}', '\u{0C59}',
    /* 0x28 */        '{',        '}', '\u{0C78}', '\u{0C79}', '\u{0C7A}', '\u{0C7B}', '\u{0C7C}',       '\\',
    /* 0x30 */ '\u{0C7D}', '\u{0C7E}', '\u{0C7F}',          U,          U,          U,          U,          U,
    /* 0x38 */          U,          U,          U,          U,        '[',        '~',        ']',          U,
    /* 0x40 */        '|',        'A',        'B',        'C',        'D',        'E',        'F',        'G',
    /* 0x48 */        'H',        'I',        'J',        'K',        'L',        'M',        'N',        'O',
    /* 0x50 */        'P',        'Q',        'R',        'S',        'T',        'U',        'V',        'W',
    /* 0x58 */        'X',        'Y',        'Z',          U,          U,          U,          U,          U,
    /* 0x60 */          U,          U,          U,          U,          U,        '€',          U,          U,
    /* 0x68 */          U,          U,          U,          U,          U,          U,          U,          U,
    /* 0x70 */          U,          U,          U,          U,          U,          U,          U,          U,
    /* 0x78 */          U,          U,          U,          U,          U,          U,          U,          U,
];

#[rustfmt::skip]
const URDU_LOCKING: [char; 128] = [
    /* 0x00 */ '\u{0627}', '\u{0622}', '\u{0628}', '\u{067B}', '\u{0680}', '\u{067E}', '\u{06A6}', '\u{062A}',
    /* 0x08 */ '\u{06C2}', '\u{067F}',       '\n', '\u{0679}', '\u{067D}',       '\r', '\u{067A}', '\u{067C}',
    /* 0x10 */ '\u{062B}', '\u{062C}', '\u{0681}', '\u{0684}', '\u{0683}', '\u{0685}', '\u{0686}', '\u{0687}',
    /* 0x18 */ '\u{062D}', '\u{062E}', '\u{062F}',          U, '\u{068C}', '\u{0688}', '\u{0689}', '\u{068A}',
    /* 0x20 */        ' ',        '!', '\u{068F}', '\u{068D}', '\u{0630}', '\u{0631}', '\u{0691}', '\u{0693}',
    /* 0x28 */        ')',        '(', '\u{0699}', '\u{0632}',        ',', '\u{0696}',        '.', '\u{0698}',
    /* 0x30 */        '0',        '1',        '2',        '3',        '4',        '5',        '6',        '7',
    /* 0x38 */        '8',        '9',        ':',        ';', '\u{069A}', '\u{0633}', '\u{0634}',        '?',
    /* 0x40 */ '\u{0635}', '\u{0636}', '\u{0637}', '\u{0638}', '\u{0639}', '\u{0641}', '\u{0642}', '\u{06A9}',
    /* 0x48 */ '\u{06AA}', '\u{06AB}', '\u{06AF}', '\u{06B3}', '\u{06B1}', '\u{0644}', '\u{0645}', '\u{0646}',
    /* 0x50 */ '\u{06BA}', '\u{06BB}', '\u{06BC}', '\u{0648}', '\u{06C4}', '\u{06D5}', '\u{06C1}', '\u{06BE}',
    /* 0x58 */ '\u{0621}', '\u{06CC}', '\u{06D0}', '\u{06D2}', '\u{064D}', '\u{0650}', '\u{064F}', '\u{0657}',
    /* 0x60 */ '\u{0654}',        'a',        'b',        'c',        'd',        'e',        'f',        'g',
    /* 0x68 */        'h',        'i',        'j',        'k',        'l',        'm',        'n',        'o',
    /* 0x70 */        'p',        'q',        'r',        's',        't',        'u',        'v',        'w',
    /* 0x78 */        'x',        'y',        'z', '\u{0655}', '\u{0651}', '\u{0653}', '\u{0656}', '\u{0670}',
];

#[rustfmt::skip]
const URDU_SINGLE: [char; 128] = [
    /* 0x00 */        '@',        '£',        '$',        '¥',        '¿',        '"',        '¤',        '%',
    /* 0x08 */        '&',       '\'',    '\u{C}',        '*',        '+',          U,        '-',        '/',
    /* 0x10 */        '<',        '=',        '>',        '¡',        '^',        '¡',        '_',        '#',
    /* 0x18 */        '*', '\u{0600}', '\u{0601}',          U, '\u{06F0}', '\u{06F1}', '\u{06F2}', '\u{06F3}',
    /* 0x20 */ '\u{06F4}', '\u{06F5}', '\u{06F6}', '\u{06F7}', '\u{06F8}', '\u{06F9}', '\u{060C}', '\u{060D}',
    /* 0x28 */        '{',        '}', '\u{060E}', '\u{060F}', '\u{0610}', '\u{0611}', '\u{0612}',       '\\',
    /* 0x30 */ '\u{0613}', '\u{0614}', '\u{061B}', '\u{061F}', '\u{0640}', '\u{0652}', '\u{0658}', '\u{066B}',
    /* 0x38 */ '\u{066C}', '\u{0672}', '\u{0673}', '\u{06CD}',        '[',        '~',        ']', '\u{06D4}',
    /* 0x40 */        '|',        'A',        'B',        'C',        'D',        'E',        'F',        'G',
    /* 0x48 */        'H',        'I',        'J',        'K',        'L',        'M',        'N',        'O',
    /* 0x50 */        'P',        'Q',        'R',        'S',        'T',        'U',        'V',        'W',
    /* 0x58 */        'X',        'Y',        'Z',          U,          U,          U,          U,          U,
    /* 0x60 */          U,          U,          U,          U,          U,        '€',          U,          U,
    /* 0x68 */          U,          U,          U,          U,          U,          U,          U,          U,
    /* 0x70 */          U,          U,          U,          U,          U,          U,          U,          U,
    /* 0x78 */          U,          U,          U,          U,          U,          U,          U,          U,
];

#[cfg(test)]
mod tests {
    use super::*;
    use NationalLanguage as L;

    /// (defined positions, checksum) of a table; the checksum is `Σ (septet + 1) * code point`
    /// over defined positions. The expected values were computed from the cross-checked
    /// transcription the tables were generated from, so any accidental edit shows up here.
    type Fingerprint = (usize, u64);

    fn fingerprint(table: &Table) -> Fingerprint {
        (0u8..128)
            .filter_map(|s| table.char_at(s).map(|c| (s, c)))
            .fold((0, 0), |(n, sum), (s, c)| {
                (n + 1, sum + (u64::from(s) + 1) * u64::from(u32::from(c)))
            })
    }

    #[test]
    fn table_fingerprints() {
        let expected: [(L, Option<Fingerprint>, Fingerprint); 14] = [
            (L::Default, Some((127, 1_090_007)), (10, 897_225)),
            (L::Turkish, Some((127, 1_153_779)), (17, 1_095_707)),
            (L::Spanish, None, (19, 1_066_959)),
            (L::Portuguese, Some((127, 1_302_407)), (37, 1_357_047)),
            (L::Bengali, Some((114, 9_320_748)), (82, 3_485_269)),
            (L::Gujarati, Some((120, 11_221_943)), (70, 2_141_660)),
            (L::Hindi, Some((127, 10_710_193)), (88, 4_166_538)),
            (L::Kannada, Some((120, 13_482_048)), (73, 2_716_668)),
            (L::Malayalam, Some((120, 13_980_836)), (82, 4_283_483)),
            (L::Oriya, Some((116, 11_117_400)), (75, 2_800_122)),
            (L::Punjabi, Some((110, 9_251_881)), (76, 2_781_344)),
            (L::Tamil, Some((102, 10_098_791)), (77, 3_158_353)),
            (L::Telugu, Some((120, 12_722_621)), (78, 3_590_903)),
            (L::Urdu, Some((127, 7_590_869)), (90, 3_399_349)),
        ];
        for (lang, lock, single_fp) in expected {
            assert_eq!(locking(lang).map(fingerprint), lock, "{lang} locking");
            assert_eq!(fingerprint(single(lang)), single_fp, "{lang} single shift");
        }
    }

    #[test]
    fn escape_position_is_undefined_everywhere() {
        for lang in NationalLanguage::ALL {
            assert_eq!(single(lang).char_at(0x1B), None);
            assert_eq!(single(lang).char_at(0x0D), None, "CR2 is not mapped");
            if let Some(t) = locking(lang) {
                assert_eq!(t.char_at(0x1B), None);
                assert_eq!(t.char_at(0x0A), Some('\n'));
                assert_eq!(t.char_at(0x0D), Some('\r'));
                assert_eq!(t.char_at(0x20), Some(' '));
            }
            // Page break and the euro sign are in every single shift table.
            assert_eq!(single(lang).char_at(0x0A), Some('\u{C}'));
            assert_eq!(single(lang).char_at(0x65), Some('€'));
            assert_eq!(single(lang).char_at(0x80), None);
        }
    }

    #[test]
    fn reverse_lookup() {
        let t = locking(L::Default).unwrap();
        assert_eq!(t.code_of('@'), Some(0x00));
        assert_eq!(t.code_of('Δ'), Some(0x10));
        assert_eq!(t.code_of('à'), Some(0x7F));
        assert_eq!(t.code_of('\u{0}'), None);
        assert_eq!(t.code_of('€'), None);
        assert_eq!(t.ascii_code(b'`'), None);
        assert_eq!(t.ascii_code(0xC3), None);
        // Duplicates: '¡' sits at 0x13 and 0x15 of the Indian single shift tables.
        assert_eq!(single(L::Hindi).code_of('¡'), Some(0x13));
        assert_eq!(single(L::Hindi).code_of('*'), Some(0x0B));
        let mut out = vec![9];
        assert!(t.map_ascii_into(b"Hi@", &mut out));
        assert_eq!(out, [9, b'H', b'i', 0x00]);
        assert!(!t.map_ascii_into(b"a{", &mut out));
        assert!(!t.map_ascii_into("é".as_bytes(), &mut out));
        assert_eq!(out, [9, b'H', b'i', 0x00]);
        let mut buf = [0u8; 3];
        assert!(t.unmap_ascii(&[0x48, 0x00, 0x11], &mut buf));
        assert_eq!(&buf, b"H@_");
        assert!(!t.unmap_ascii(&[0x48, 0x1B, 0x11], &mut buf));
        assert!(
            !t.unmap_ascii(&[0x48, 0x10, 0x11], &mut buf),
            "Δ is not ASCII"
        );
        assert!(!t.unmap_ascii(&[0xC8, 0x00, 0x11], &mut buf));
    }
}
