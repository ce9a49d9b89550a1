//! Choosing the encoding (and GSM national language tables) that sends a text in the fewest SMS
//! segments, and the capacity arithmetic that decision rests on.
//!
//! Decisions:
//! - The objective is the number of segments, because that is what is billed and what bounds
//!   delivery; ties are broken towards the most widely supported form: default GSM before GSM
//!   with national tables, fewer national IEs before more, GSM before Latin-1 and UCS-2, and UCS-2
//!   before Latin-1 (Latin-1 relies on the SMSC converting it, UCS-2 does not).
//! - National language tables are not free: each costs a 3-octet UDH IE in *every* segment, and
//!   the first IE also costs the UDHL octet, so the chooser evaluates capacities from actual UDH
//!   sizes: `capacity = (140 - udh_octets) * 8 / 7` septets (153 with an 8-bit-reference
//!   concatenation IE, 152 with a 16-bit one, 155 / 152 for one / two national IEs in a single
//!   message, 149 / 146 with concatenation).
//! - Segment counts are exact, not `ceil(len / cap)`: an escape sequence (ESC + code) and a UTF-16
//!   surrogate pair are never split, so a part can end one unit early. The chooser runs the same
//!   greedy fill as the splitter, for all candidate table pairs in a single pass over the text.
//! - Any combination of an allowed locking table with an allowed single shift table is a
//!   candidate (the two IEs are independent in TS 23.038), plus the default tables.
//! - Plain ASCII (the common case) is one pass over the bytes writing septets straight into the
//!   output buffer; the multi-candidate evaluation only runs when it could change the answer.
//! - `segments` in a plan counts SMS on the air interface. For [`Concatenation::Payload`] the
//!   SMSC does the splitting, and the count assumes it uses 8-bit-reference UDH concatenation.

use bytes::Bytes;

use super::gsm7::{self, ESC, Tables};
use super::tables::{self, DEFAULT_LOCKING_TABLE, DEFAULT_SINGLE_TABLE, Table};
use super::{Encoding, NationalLanguage, latin1, ucs2};

/// Octets of user data in one SMS (TS 23.040 TP-UD).
pub const USER_DATA_OCTETS: usize = 140;

/// How a message longer than one SMS is concatenated; determines per-part overhead.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Concatenation {
    /// UDH concatenation IE 0x00 with an 8-bit reference (5 octets + UDHL).
    #[default]
    Udh8,
    /// UDH concatenation IE 0x08 with a 16-bit reference (6 octets + UDHL).
    Udh16,
    /// SMPP `sar_*` TLVs; no concatenation bytes in `short_message`.
    Sar,
    /// The whole message in one PDU (SMPP `message_payload`); the SMSC splits it.
    Payload,
}

impl Concatenation {
    /// Every form, the default first.
    pub const ALL: [Concatenation; 4] = [Self::Udh8, Self::Udh16, Self::Sar, Self::Payload];

    /// Lower-case name, stable for logs and configuration (`"udh8"`, `"udh16"`, `"sar"`,
    /// `"payload"`).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Udh8 => "udh8",
            Self::Udh16 => "udh16",
            Self::Sar => "sar",
            Self::Payload => "payload",
        }
    }

    /// The form named `name` (exactly as [`Self::as_str`] writes it).
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == name)
    }

    /// Octets of the concatenation IE in each part's UDH (UDHL excluded); 0 when the
    /// concatenation is not carried in the UDH.
    #[must_use]
    pub const fn ie_octets(self) -> usize {
        match self {
            Self::Udh8 => 5,
            Self::Udh16 => 6,
            Self::Sar | Self::Payload => 0,
        }
    }

    /// IE octets assumed when *counting* air-interface segments (payload mode assumes the SMSC
    /// uses 8-bit references).
    pub(crate) const fn counting_ie_octets(self) -> usize {
        match self {
            Self::Payload => Self::Udh8.ie_octets(),
            other => other.ie_octets(),
        }
    }
}

/// Octets of a UDH holding `ie_octets` of information elements: UDHL plus the IEs, or 0 when
/// there are no IEs (and thus no UDH).
#[must_use]
pub const fn udh_octets(ie_octets: usize) -> usize {
    if ie_octets == 0 { 0 } else { ie_octets + 1 }
}

/// Units of text one SMS holds with `ie_octets` of UDH information elements: septets for GSM,
/// UTF-16 code units for UCS-2, octets for Latin-1 and binary.
///
/// GSM: 160 without UDH, 153 with an 8-bit concatenation IE, 152 with a 16-bit one. UCS-2: 70,
/// 67, 66. Latin-1 / binary: 140, 134, 133.
#[must_use]
pub const fn capacity(encoding: Encoding, ie_octets: usize) -> usize {
    let available = USER_DATA_OCTETS.saturating_sub(udh_octets(ie_octets));
    match encoding {
        Encoding::Gsm7 => available * 8 / 7,
        Encoding::Ucs2 => available / 2,
        Encoding::Latin1 | Encoding::Binary => available,
    }
}

/// A set of national languages (the default tables are always allowed and not a member).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct LanguageSet(u16);

impl LanguageSet {
    /// No national languages.
    pub const EMPTY: LanguageSet = LanguageSet(0);
    /// Every national language.
    pub const ALL: LanguageSet = LanguageSet(0x3FFE);

    /// This set plus `lang` (adding [`NationalLanguage::Default`] is a no-op).
    #[must_use]
    pub const fn with(self, lang: NationalLanguage) -> LanguageSet {
        LanguageSet((self.0 | (1 << lang.id())) & Self::ALL.0)
    }

    /// Whether `lang` is a member.
    #[must_use]
    pub const fn contains(self, lang: NationalLanguage) -> bool {
        self.0 & (1 << lang.id()) != 0
    }

    /// Whether the set is empty.
    #[must_use]
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The members in identifier order.
    pub fn iter(self) -> impl Iterator<Item = NationalLanguage> {
        NationalLanguage::ALL
            .into_iter()
            .filter(move |&l| self.contains(l))
    }
}

impl FromIterator<NationalLanguage> for LanguageSet {
    fn from_iter<I: IntoIterator<Item = NationalLanguage>>(iter: I) -> Self {
        iter.into_iter().fold(Self::EMPTY, Self::with)
    }
}

/// What the chooser may use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct EncodingOptions {
    /// National languages whose locking / single shift tables may be used (per carrier and
    /// destination country; handsets must support them).
    pub languages: LanguageSet,
    /// Whether `data_coding` 3 (Latin-1) may be used.
    pub allow_latin1: bool,
    /// How long messages will be concatenated (affects per-part capacity).
    pub concatenation: Concatenation,
}

/// An explicitly requested encoding could not represent the text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// Not representable in GSM 7-bit with the given tables.
    #[error(transparent)]
    Gsm7(#[from] gsm7::EncodeError),
    /// Not representable in Latin-1.
    #[error(transparent)]
    Latin1(#[from] latin1::EncodeError),
    /// Text cannot be planned as binary; use [`EncodingPlan::binary`].
    #[error("binary encoding takes octets, not text")]
    BinaryText,
}

/// The result of choosing: encoding, tables, the encoded units and the segment count.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncodingPlan {
    encoding: Encoding,
    tables: Tables,
    units: Bytes,
    segments: usize,
    concatenation: Concatenation,
}

impl EncodingPlan {
    /// Plans `text` in a caller-chosen encoding (e.g. a carrier that only takes UCS-2). `tables`
    /// is only used for [`Encoding::Gsm7`].
    ///
    /// # Errors
    /// [`PlanError`] when the text is not representable.
    pub fn new(
        text: &str,
        encoding: Encoding,
        tables: Tables,
        concatenation: Concatenation,
    ) -> Result<EncodingPlan, PlanError> {
        let (units, tables) = match encoding {
            Encoding::Gsm7 => (gsm7::encode_unpacked(text, tables)?, tables),
            Encoding::Ucs2 => (ucs2::encode(text), Tables::DEFAULT),
            Encoding::Latin1 => (latin1::encode(text)?, Tables::DEFAULT),
            Encoding::Binary => return Err(PlanError::BinaryText),
        };
        Ok(Self::from_units(
            encoding,
            tables,
            units.into(),
            concatenation,
        ))
    }

    /// Plans opaque octets (`data_coding` 4).
    #[must_use]
    pub fn binary(data: impl Into<Bytes>, concatenation: Concatenation) -> EncodingPlan {
        Self::from_units(
            Encoding::Binary,
            Tables::DEFAULT,
            data.into(),
            concatenation,
        )
    }

    fn from_units(
        encoding: Encoding,
        tables: Tables,
        units: Bytes,
        concatenation: Concatenation,
    ) -> EncodingPlan {
        let national = national_ie_octets(encoding, tables);
        let segments = count_segments(
            encoding,
            &units,
            capacity(encoding, national),
            capacity(encoding, national + concatenation.counting_ie_octets()),
        );
        EncodingPlan {
            encoding,
            tables,
            units,
            segments,
            concatenation,
        }
    }

    /// The encoding.
    #[must_use]
    pub const fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// The SMPP `data_coding` to send.
    #[must_use]
    pub const fn data_coding(&self) -> u8 {
        self.encoding.data_coding()
    }

    /// The GSM tables ([`Tables::DEFAULT`] for other encodings).
    #[must_use]
    pub const fn tables(&self) -> Tables {
        self.tables
    }

    /// The encoded text: unpacked septets, UTF-16BE, Latin-1 or binary octets.
    #[must_use]
    pub const fn units(&self) -> &Bytes {
        &self.units
    }

    /// Number of units (septets, UTF-16 code units or octets).
    #[must_use]
    pub fn unit_count(&self) -> usize {
        match self.encoding {
            Encoding::Ucs2 => self.units.len() / 2,
            _ => self.units.len(),
        }
    }

    /// SMS segments on the air interface.
    #[must_use]
    pub const fn segments(&self) -> usize {
        self.segments
    }

    /// The concatenation the plan was computed for.
    #[must_use]
    pub const fn concatenation(&self) -> Concatenation {
        self.concatenation
    }

    /// Octets of national language IEs every segment's UDH carries (0, 3 or 6).
    #[must_use]
    pub const fn national_ie_octets(&self) -> usize {
        national_ie_octets(self.encoding, self.tables)
    }
}

const fn national_ie_octets(encoding: Encoding, tables: Tables) -> usize {
    match encoding {
        Encoding::Gsm7 => tables.ie_octets(),
        _ => 0,
    }
}

/// End (exclusive octet offset into `units`) of the part that starts at `start` and holds at
/// most `cap` units, never splitting an escape sequence or a surrogate pair. Always advances by
/// at least one character when `start < units.len()`.
pub(crate) fn part_end(encoding: Encoding, units: &[u8], start: usize, cap: usize) -> usize {
    part_end_with_last(encoding, units, start, cap).0
}

/// [`part_end`], also returning the octet offset where the part's last character starts (equal
/// to `start` for an empty part).
///
/// Runs in constant time for normal text: it cuts at `start + cap` and only looks back over
/// the run of pair-lead units (ESC, or high surrogates) ending just before the cut. In a run of
/// lead units that begins at a character boundary the leads are at even distances from the run
/// start (each lead consumes the following unit, whatever it is), so the unit before the cut
/// starts a pair exactly when the run ending there has odd length.
pub(crate) fn part_end_with_last(
    encoding: Encoding,
    units: &[u8],
    start: usize,
    cap: usize,
) -> (usize, usize) {
    let len = units.len();
    if start >= len {
        return (start, start);
    }
    let width = match encoding {
        Encoding::Ucs2 => 2,
        _ => 1,
    };
    let is_lead = |pos: usize| {
        matches!(
            (encoding, units.get(pos)),
            (Encoding::Gsm7, Some(&ESC)) | (Encoding::Ucs2, Some(0xD8..=0xDB))
        )
    };
    // Whether the unit at `pos` (>= start) starts a two-unit character.
    let starts_pair = |pos: usize| {
        let mut run = 0usize;
        let mut p = pos;
        while is_lead(p) {
            run += 1;
            match p.checked_sub(width) {
                Some(prev) if prev >= start => p = prev,
                _ => break,
            }
        }
        run % 2 == 1
    };
    let mut end = start.saturating_add(cap.max(1).saturating_mul(width));
    if end >= len {
        end = len;
    } else {
        let before = end - width;
        if starts_pair(before) {
            end = if before > start {
                before
            } else {
                // A pair wider than the capacity: take it whole rather than make no progress.
                start.saturating_add(2 * width).min(len)
            };
        }
    }
    let last = match end.checked_sub(width) {
        Some(p) if p > start => match p.checked_sub(width) {
            Some(q) if q >= start && starts_pair(q) => q,
            _ => p,
        },
        _ => start,
    };
    (end, last)
}

/// Segments needed for `units`: one if they fit `single_cap`, else greedy parts of `multi_cap`.
pub(crate) fn count_segments(
    encoding: Encoding,
    units: &[u8],
    single_cap: usize,
    multi_cap: usize,
) -> usize {
    let count = match encoding {
        Encoding::Ucs2 => units.len().div_ceil(2),
        _ => units.len(),
    };
    if count <= single_cap {
        return 1;
    }
    let mut parts = 0;
    let mut start = 0;
    while start < units.len() {
        start = part_end(encoding, units, start, multi_cap);
        parts += 1;
    }
    parts
}

/// Greedy segment fill over per-character costs; mirrors [`part_end`].
#[derive(Clone, Copy, Debug)]
struct Fill {
    single_cap: usize,
    multi_cap: usize,
    total: usize,
    parts: usize,
    used: usize,
}

impl Fill {
    const fn new(single_cap: usize, multi_cap: usize) -> Fill {
        Fill {
            single_cap,
            multi_cap,
            total: 0,
            parts: 1,
            used: 0,
        }
    }

    #[inline]
    fn add(&mut self, cost: usize) {
        self.total += cost;
        if self.used + cost > self.multi_cap && self.used > 0 {
            self.parts += 1;
            self.used = cost;
        } else {
            self.used += cost;
        }
    }

    const fn segments(&self) -> usize {
        if self.total <= self.single_cap {
            1
        } else {
            self.parts
        }
    }
}

/// Picks the encoding and tables that send `text` in the fewest segments (see the module
/// documentation for tie-breaking) and encodes it. Never fails: UCS-2 represents everything.
#[must_use]
pub fn choose(text: &str, opts: &EncodingOptions) -> EncodingPlan {
    choose_ascii(text, opts).unwrap_or_else(|| choose_general(text, opts))
}

/// The fast path: plain ASCII that the default tables can encode, decided in one pass.
fn choose_ascii(text: &str, opts: &EncodingOptions) -> Option<EncodingPlan> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let ascii_len = gsm7::encode_ascii_prefix(
        bytes,
        &DEFAULT_LOCKING_TABLE,
        &DEFAULT_SINGLE_TABLE,
        &mut out,
    )
    .ok()?;
    if ascii_len != bytes.len() {
        return None;
    }
    let escapes = out.len() != ascii_len;
    let plan = EncodingPlan::from_units(
        Encoding::Gsm7,
        Tables::DEFAULT,
        out.into(),
        opts.concatenation,
    );
    // Without escapes every character costs one septet with no UDH overhead, which nothing
    // beats; with escapes a national locking table (Portuguese has `^ \ | ~`) or Latin-1 could
    // save a segment, so let the full evaluation decide.
    if plan.segments > 1 && escapes && (!opts.languages.is_empty() || opts.allow_latin1) {
        return None;
    }
    Some(plan)
}

struct Candidate {
    tables: Tables,
    lock_bit: u16,
    single_bit: u16,
    fill: Fill,
    feasible: bool,
}

fn choose_general(text: &str, opts: &EncodingOptions) -> EncodingPlan {
    let conc = opts.concatenation.counting_ie_octets();

    // Distinct tables, indexed by bit position in the per-character masks.
    let mut lock_tables: Vec<(NationalLanguage, &'static Table)> =
        vec![(NationalLanguage::Default, &DEFAULT_LOCKING_TABLE)];
    let mut single_tables: Vec<(NationalLanguage, &'static Table)> =
        vec![(NationalLanguage::Default, &DEFAULT_SINGLE_TABLE)];
    for lang in opts.languages.iter() {
        if let Some(t) = tables::locking(lang) {
            lock_tables.push((lang, t));
        }
        single_tables.push((lang, tables::single(lang)));
    }

    let mut candidates = Vec::with_capacity(lock_tables.len() * single_tables.len());
    for (li, &(lock, _)) in lock_tables.iter().enumerate() {
        for (si, &(single, _)) in single_tables.iter().enumerate() {
            let Some(tables) = Tables::new(lock, single) else {
                continue;
            };
            let national = tables.ie_octets();
            candidates.push(Candidate {
                tables,
                lock_bit: 1 << li,
                single_bit: 1 << si,
                fill: Fill::new(
                    capacity(Encoding::Gsm7, national),
                    capacity(Encoding::Gsm7, national + conc),
                ),
                feasible: true,
            });
        }
    }
    // Tables still used by a feasible candidate; only those are looked up.
    let needed = |candidates: &[Candidate]| {
        candidates
            .iter()
            .fold((0u16, 0u16), |(l, s), c| (l | c.lock_bit, s | c.single_bit))
    };
    let (mut need_lock, mut need_single) = needed(&candidates);

    let mut ucs2_fill = Fill::new(capacity(Encoding::Ucs2, 0), capacity(Encoding::Ucs2, conc));
    let mut latin1_fill = opts.allow_latin1.then(|| {
        Fill::new(
            capacity(Encoding::Latin1, 0),
            capacity(Encoding::Latin1, conc),
        )
    });

    for ch in text.chars() {
        ucs2_fill.add(ch.len_utf16());
        if let Some(fill) = latin1_fill.as_mut() {
            if u32::from(ch) <= 0xFF {
                fill.add(1);
            } else {
                latin1_fill = None;
            }
        }
        if candidates.is_empty() {
            continue;
        }
        let mut lock_mask = 0u16;
        for (i, (_, t)) in lock_tables.iter().enumerate() {
            if need_lock & (1 << i) != 0 && t.contains(ch) {
                lock_mask |= 1 << i;
            }
        }
        let mut single_mask = 0u16;
        for (i, (_, t)) in single_tables.iter().enumerate() {
            if need_single & (1 << i) != 0 && t.contains(ch) {
                single_mask |= 1 << i;
            }
        }
        let mut died = false;
        for c in &mut candidates {
            if lock_mask & c.lock_bit != 0 {
                c.fill.add(1);
            } else if single_mask & c.single_bit != 0 {
                c.fill.add(2);
            } else {
                c.feasible = false;
                died = true;
            }
        }
        if died {
            candidates.retain(|c| c.feasible);
            (need_lock, need_single) = needed(&candidates);
        }
    }

    let best_gsm = candidates.iter().min_by_key(|c| {
        (
            c.fill.segments(),
            c.tables.ie_count(),
            c.fill.total,
            c.tables.locking().id(),
            c.tables.single().id(),
        )
    });

    let ucs2_segments = ucs2_fill.segments();
    let latin1_segments = latin1_fill.map(|f| f.segments());

    if let Some(c) = best_gsm {
        let gsm_segments = c.fill.segments();
        let beaten_by_ucs2 = ucs2_segments < gsm_segments;
        let beaten_by_latin1 = latin1_segments.is_some_and(|s| s < gsm_segments);
        if !beaten_by_ucs2
            && !beaten_by_latin1
            && let Ok(units) = gsm7::encode_unpacked(text, c.tables)
        {
            return EncodingPlan {
                encoding: Encoding::Gsm7,
                tables: c.tables,
                units: units.into(),
                segments: gsm_segments,
                concatenation: opts.concatenation,
            };
        }
    }
    if let Some(segments) = latin1_segments.filter(|&s| s < ucs2_segments)
        && let Ok(units) = latin1::encode(text)
    {
        return EncodingPlan {
            encoding: Encoding::Latin1,
            tables: Tables::DEFAULT,
            units: units.into(),
            segments,
            concatenation: opts.concatenation,
        };
    }
    EncodingPlan {
        encoding: Encoding::Ucs2,
        tables: Tables::DEFAULT,
        units: ucs2::encode(text).into(),
        segments: ucs2_segments,
        concatenation: opts.concatenation,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use NationalLanguage as L;

    #[test]
    fn concatenation_names_round_trip() {
        for c in Concatenation::ALL {
            assert_eq!(Concatenation::from_name(c.as_str()), Some(c));
        }
        assert_eq!(Concatenation::from_name("udh"), None);
        assert_eq!(Concatenation::ALL[0], Concatenation::default());
    }

    fn opts(langs: &[NationalLanguage]) -> EncodingOptions {
        EncodingOptions {
            languages: langs.iter().copied().collect(),
            ..EncodingOptions::default()
        }
    }

    fn walked(plan: &EncodingPlan) -> usize {
        let national = plan.national_ie_octets();
        count_segments(
            plan.encoding(),
            plan.units(),
            capacity(plan.encoding(), national),
            capacity(
                plan.encoding(),
                national + plan.concatenation().counting_ie_octets(),
            ),
        )
    }

    #[test]
    fn capacities() {
        use Encoding::*;
        assert_eq!(capacity(Gsm7, 0), 160);
        assert_eq!(capacity(Gsm7, 5), 153);
        assert_eq!(capacity(Gsm7, 6), 152);
        assert_eq!(capacity(Gsm7, 3), 155);
        assert_eq!(capacity(Gsm7, 6), 152);
        assert_eq!(capacity(Gsm7, 5 + 3), 149);
        assert_eq!(capacity(Gsm7, 5 + 6), 146);
        assert_eq!(capacity(Gsm7, 6 + 6), 145);
        assert_eq!(capacity(Ucs2, 0), 70);
        assert_eq!(capacity(Ucs2, 5), 67);
        assert_eq!(capacity(Ucs2, 6), 66);
        assert_eq!(capacity(Latin1, 0), 140);
        assert_eq!(capacity(Latin1, 5), 134);
        assert_eq!(capacity(Binary, 6), 133);
        assert_eq!(udh_octets(0), 0);
        assert_eq!(udh_octets(5), 6);
    }

    #[test]
    fn language_set() {
        let set: LanguageSet = [L::Turkish, L::Default, L::Urdu].into_iter().collect();
        assert!(set.contains(L::Turkish));
        assert!(set.contains(L::Urdu));
        assert!(!set.contains(L::Default));
        assert_eq!(set.iter().collect::<Vec<_>>(), [L::Turkish, L::Urdu]);
        assert!(LanguageSet::EMPTY.is_empty());
        assert_eq!(LanguageSet::ALL.iter().count(), 13);
    }

    #[test]
    fn ascii_fast_path() {
        let plan = choose("hello world", &EncodingOptions::default());
        assert_eq!(plan.encoding(), Encoding::Gsm7);
        assert_eq!(plan.tables(), Tables::DEFAULT);
        assert_eq!(plan.segments(), 1);
        assert_eq!(plan.units().len(), 11);
        assert_eq!(plan.data_coding(), 0);
        let long = "a".repeat(161);
        assert_eq!(choose(&long, &EncodingOptions::default()).segments(), 2);
        let exact = "a".repeat(160);
        assert_eq!(choose(&exact, &EncodingOptions::default()).segments(), 1);
        let braces = "{".repeat(80);
        let plan = choose(&braces, &EncodingOptions::default());
        assert_eq!((plan.segments(), plan.unit_count()), (1, 160));
    }

    #[test]
    fn escape_never_split_in_count() {
        // 152 'a' + '{' = 154 septets; the escape would straddle 153 -> 2 parts (152 + 2).
        let text = format!("{}{{{}", "a".repeat(152), "b".repeat(7));
        let plan = choose(&text, &EncodingOptions::default());
        assert_eq!(plan.unit_count(), 161);
        assert_eq!(plan.segments(), 2);
        // 305 septets where the escape straddles 153 -> needs 3 parts.
        let text = format!("{}{{{}", "a".repeat(152), "b".repeat(152));
        let plan = choose(&text, &EncodingOptions::default());
        assert_eq!(plan.unit_count(), 306);
        assert_eq!(plan.segments(), 3);
        assert_eq!(walked(&plan), 3);
    }

    #[test]
    fn picks_turkish_over_ucs2() {
        let text = "Günaydın! Bugün hava çok güzel, şehirde ılık bir rüzgar esiyor. \
                    Öğleden sonra İstanbul'da buluşalım mı? Şimdiden teşekkürler.";
        let plan = choose(text, &EncodingOptions::default());
        assert_eq!(plan.encoding(), Encoding::Ucs2);
        assert_eq!(plan.segments(), 2);
        let plan = choose(text, &opts(&[L::Turkish]));
        assert_eq!(plan.encoding(), Encoding::Gsm7);
        assert_eq!(plan.segments(), 1);
        assert_eq!(plan.tables().locking(), L::Turkish);
        assert_eq!(walked(&plan), 1);
        let decoded = gsm7::decode_unpacked(plan.units(), plan.tables()).unwrap();
        assert_eq!(decoded, text);
    }

    #[test]
    fn picks_spanish_single_shift() {
        let text = "¿Qué tal? Mañana vamos a la playa con José y Ramón, ¡qué ilusión! \
                    Llevaré la sombrilla y también algo de comer.";
        let plan = choose(text, &EncodingOptions::default());
        assert_eq!(plan.encoding(), Encoding::Ucs2);
        assert_eq!(plan.segments(), 2);
        let plan = choose(text, &opts(&[L::Spanish]));
        assert_eq!(plan.encoding(), Encoding::Gsm7);
        assert_eq!(plan.tables(), Tables::new(L::Default, L::Spanish).unwrap());
        assert_eq!(plan.segments(), 1);
    }

    #[test]
    fn picks_portuguese() {
        let text = "Não há nada como a atenção de um irmão. Você está ótimo? \
                    Ótimo, obrigado, é ótimo ver você aqui.";
        let plan = choose(text, &opts(&[L::Portuguese]));
        assert_eq!(plan.encoding(), Encoding::Gsm7);
        assert_eq!(plan.segments(), 1);
        assert_ne!(plan.tables(), Tables::DEFAULT);
        let decoded = gsm7::decode_unpacked(plan.units(), plan.tables()).unwrap();
        assert_eq!(decoded, text);
        // The cheapest single-IE option wins ties over two IEs.
        assert_eq!(plan.tables().ie_count(), 1);
    }

    #[test]
    fn escape_heavy_ascii_uses_portuguese_locking() {
        let text = "|".repeat(100);
        let plan = choose(&text, &EncodingOptions::default());
        assert_eq!((plan.encoding(), plan.segments()), (Encoding::Gsm7, 2));
        let plan = choose(&text, &opts(&[L::Portuguese]));
        assert_eq!(plan.segments(), 1);
        assert_eq!(plan.tables().locking(), L::Portuguese);
        assert_eq!(plan.unit_count(), 100);
    }

    #[test]
    fn ucs2_when_not_encodable_anywhere() {
        let text = "Turkish ğ and Chinese 中文";
        let plan = choose(text, &opts(&[L::Turkish, L::Spanish, L::Portuguese]));
        assert_eq!(plan.encoding(), Encoding::Ucs2);
        assert_eq!(plan.tables(), Tables::DEFAULT);
        assert_eq!(plan.data_coding(), 8);
        let plan = choose("emoji 😀", &opts(&[L::Turkish]));
        assert_eq!(plan.encoding(), Encoding::Ucs2);
        assert_eq!(plan.unit_count(), 8);
    }

    #[test]
    fn default_preferred_on_ties() {
        // 'é' is in the default table and in several national tables: default wins.
        let plan = choose("café", &opts(&[L::Turkish, L::Portuguese, L::Spanish]));
        assert_eq!(plan.tables(), Tables::DEFAULT);
        // A short text needing one national char: GSM (1 segment) preferred over UCS-2 (1).
        let plan = choose("ç", &opts(&[L::Spanish]));
        assert_eq!(plan.encoding(), Encoding::Gsm7);
        assert_eq!(plan.tables(), Tables::new(L::Default, L::Spanish).unwrap());
    }

    #[test]
    fn latin1_only_when_allowed_and_better() {
        let text = format!("{}ç", "x".repeat(100));
        let plan = choose(&text, &EncodingOptions::default());
        assert_eq!((plan.encoding(), plan.segments()), (Encoding::Ucs2, 2));
        let with_latin1 = EncodingOptions {
            allow_latin1: true,
            ..EncodingOptions::default()
        };
        let plan = choose(&text, &with_latin1);
        assert_eq!((plan.encoding(), plan.segments()), (Encoding::Latin1, 1));
        assert_eq!(plan.data_coding(), 3);
        // Tie between Latin-1 and UCS-2: UCS-2.
        let plan = choose("ç", &with_latin1);
        assert_eq!(plan.encoding(), Encoding::Ucs2);
        // GSM still wins when it can.
        let plan = choose("é", &with_latin1);
        assert_eq!(plan.encoding(), Encoding::Gsm7);
    }

    #[test]
    fn ucs2_surrogates_counted_and_not_split() {
        // 66 'a' + emoji (2 units) = 68 units: fits 70 in one SMS.
        let text = format!("{}😀", "a".repeat(66));
        let plan = choose(&text, &EncodingOptions::default());
        assert_eq!((plan.unit_count(), plan.segments()), (68, 1));
        // 66 'a' + emoji + 5 'b' = 73 units: the emoji would straddle 67 -> moves, 2 parts.
        let text = format!("{}😀{}", "a".repeat(66), "b".repeat(5));
        let plan = choose(&text, &EncodingOptions::default());
        assert_eq!((plan.unit_count(), plan.segments()), (73, 2));
        assert_eq!(walked(&plan), 2);
    }

    #[test]
    fn concatenation_modes_change_capacity() {
        let text = "a".repeat(305);
        let udh8 = choose(&text, &EncodingOptions::default());
        assert_eq!(udh8.segments(), 2);
        let udh16 = choose(
            &text,
            &EncodingOptions {
                concatenation: Concatenation::Udh16,
                ..EncodingOptions::default()
            },
        );
        assert_eq!(udh16.segments(), 3);
        let sar = choose(
            &text,
            &EncodingOptions {
                concatenation: Concatenation::Sar,
                ..EncodingOptions::default()
            },
        );
        assert_eq!(sar.segments(), 2);
        let sar = choose(
            &"a".repeat(321),
            &EncodingOptions {
                concatenation: Concatenation::Sar,
                ..EncodingOptions::default()
            },
        );
        assert_eq!(sar.segments(), 3);
    }

    #[test]
    fn explicit_plans() {
        let plan = EncodingPlan::new(
            "héllo",
            Encoding::Ucs2,
            Tables::DEFAULT,
            Concatenation::Udh8,
        )
        .unwrap();
        assert_eq!((plan.encoding(), plan.unit_count()), (Encoding::Ucs2, 5));
        assert!(matches!(
            EncodingPlan::new("😀", Encoding::Gsm7, Tables::DEFAULT, Concatenation::Udh8),
            Err(PlanError::Gsm7(_))
        ));
        assert!(matches!(
            EncodingPlan::new("😀", Encoding::Latin1, Tables::DEFAULT, Concatenation::Udh8),
            Err(PlanError::Latin1(_))
        ));
        assert_eq!(
            EncodingPlan::new("x", Encoding::Binary, Tables::DEFAULT, Concatenation::Udh8),
            Err(PlanError::BinaryText)
        );
        let plan = EncodingPlan::binary(vec![0u8; 141], Concatenation::Udh8);
        assert_eq!((plan.encoding(), plan.segments()), (Encoding::Binary, 2));
        assert_eq!(plan.data_coding(), 4);
        let plan =
            EncodingPlan::new("", Encoding::Gsm7, Tables::DEFAULT, Concatenation::Udh8).unwrap();
        assert_eq!(plan.segments(), 1);
    }

    #[test]
    fn part_end_rules() {
        use Encoding::*;
        // GSM: escape kept whole.
        let units = [0x61, 0x61, ESC, 0x28, 0x62];
        assert_eq!(part_end(Gsm7, &units, 0, 3), 2);
        assert_eq!(part_end(Gsm7, &units, 2, 3), 5);
        // A trailing lone ESC does not read past the end.
        assert_eq!(part_end(Gsm7, &[0x61, ESC], 0, 10), 2);
        // UCS-2: surrogate pair kept whole.
        let units = [0x00, 0x61, 0xD8, 0x3D, 0xDE, 0x00];
        assert_eq!(part_end(Ucs2, &units, 0, 2), 2);
        assert_eq!(part_end(Ucs2, &units, 2, 2), 6);
        // Binary: plain cut; always progresses.
        assert_eq!(part_end(Binary, &[0; 10], 0, 4), 4);
        assert_eq!(part_end(Binary, &[0; 10], 8, 4), 10);
        assert_eq!(part_end(Binary, &[0; 10], 3, 0), 4);
        assert_eq!(part_end(Binary, &[0; 10], 10, 4), 10);
    }
}

#[cfg(test)]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    fn any_text() -> impl Strategy<Value = String> {
        let ch = prop_oneof![
            4 => proptest::char::range('a', 'z'),
            1 => proptest::sample::select(vec![' ', '{', '}', '^', '|', '€', '\\', '[', ']', '~', '\n', '\r', '\u{c}']),
            1 => proptest::sample::select(vec!['ç', 'ğ', 'ş', 'ı', 'İ', 'á', 'í', 'ó', 'ú', 'ã', 'õ', 'ê', 'Ô', 'À', 'é', 'ü', 'ñ', '`']),
            1 => proptest::char::range('\u{0900}', '\u{097F}'),
            1 => proptest::char::range('\u{0600}', '\u{06FF}'),
            1 => proptest::sample::select(vec!['😀', '中', 'Ā', '\u{0}']),
            1 => any::<char>(),
        ];
        proptest::collection::vec(ch, 0..420).prop_map(|v| v.into_iter().collect())
    }

    fn any_options() -> impl Strategy<Value = EncodingOptions> {
        (any::<u16>(), any::<bool>(), 0u8..4).prop_map(|(bits, allow_latin1, c)| EncodingOptions {
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
        })
    }

    /// The obvious linear walk, as an oracle for the constant-time `part_end_with_last`.
    fn reference_walk(
        encoding: Encoding,
        units: &[u8],
        start: usize,
        cap: usize,
    ) -> (usize, usize) {
        let len = units.len();
        let (unit, limit) = match encoding {
            Encoding::Ucs2 => (2, cap.max(1) * 2),
            _ => (1, cap.max(1)),
        };
        let mut i = start;
        let mut last = start;
        while i < len {
            let step = match (encoding, units.get(i)) {
                (Encoding::Gsm7, Some(&ESC)) => 2,
                (Encoding::Ucs2, Some(0xD8..=0xDB)) => 4,
                _ => unit,
            };
            let next = (i + step).min(len);
            if next - start > limit && i > start {
                break;
            }
            last = i;
            i = next;
        }
        (i, last)
    }

    proptest! {
        #[test]
        fn part_end_matches_linear_walk(
            raw in proptest::collection::vec(prop_oneof![3 => Just(ESC), 1 => Just(0xD8u8), 4 => any::<u8>()], 0..60),
            cap in 1usize..12,
            ucs2 in any::<bool>(),
        ) {
            let encoding = if ucs2 { Encoding::Ucs2 } else { Encoding::Gsm7 };
            let mut units = raw;
            if ucs2 && units.len() % 2 == 1 {
                units.pop();
            }
            // Walk the whole buffer part by part from character boundaries.
            let mut start = 0;
            while start < units.len() {
                let fast = part_end_with_last(encoding, &units, start, cap);
                let slow = reference_walk(encoding, &units, start, cap);
                prop_assert_eq!(fast, slow, "start {} cap {}", start, cap);
                prop_assert!(fast.0 > start);
                start = fast.0;
            }
        }

        #[test]
        fn choice_is_optimal_and_counts_are_exact(text in any_text(), opts in any_options()) {
            let plan = choose(&text, &opts);
            // The plan's count matches the splitter's walk.
            let national = plan.national_ie_octets();
            let walked = count_segments(
                plan.encoding(),
                plan.units(),
                capacity(plan.encoding(), national),
                capacity(plan.encoding(), national + opts.concatenation.counting_ie_octets()),
            );
            prop_assert_eq!(plan.segments(), walked);
            // Brute force over every allowed encoding / table pair: nothing has fewer segments.
            let mut langs = vec![NationalLanguage::Default];
            langs.extend(opts.languages.iter());
            for &lock in &langs {
                for &single in &langs {
                    let Some(tables) = Tables::new(lock, single) else { continue };
                    if let Ok(alt) = EncodingPlan::new(&text, Encoding::Gsm7, tables, opts.concatenation) {
                        prop_assert!(plan.segments() <= alt.segments(), "{:?} beats chosen {:?}", tables, plan.tables());
                        if plan.encoding() != Encoding::Gsm7 {
                            prop_assert!(plan.segments() < alt.segments());
                        }
                    }
                }
            }
            let ucs2 = EncodingPlan::new(&text, Encoding::Ucs2, Tables::DEFAULT, opts.concatenation).unwrap();
            prop_assert!(plan.segments() <= ucs2.segments());
            if opts.allow_latin1 {
                if let Ok(alt) = EncodingPlan::new(&text, Encoding::Latin1, Tables::DEFAULT, opts.concatenation) {
                    prop_assert!(plan.segments() <= alt.segments());
                }
            } else {
                prop_assert_ne!(plan.encoding(), Encoding::Latin1);
            }
        }
    }
}
