//! SMPP delivery receipts: parsing the Appendix B text, merging the receipt TLVs, and
//! normalizing message ids so a receipt finds the message it reports on.
//!
//! Why it looks like this:
//!
//! * **Lenient, single-pass tokenizer instead of a fixed layout or regexes.** SMPP 3.4
//!   Appendix B only *suggests* `id:… sub:… dlvrd:… submit date:… done date:… stat:…
//!   err:… text:…`; carriers vary key case, order, spacing, field widths, date lengths, add
//!   their own fields and drop others. The scanner walks the bytes once, recognises
//!   `word:` (and the two-word `submit date:` / `done date:`) as keys, takes a value up
//!   to the next whitespace, skips unknown keys, and lets `text:` run to the end because
//!   it echoes user text that may contain spaces and colons. If a key repeats, the first
//!   occurrence wins. No allocation happens unless a piece is not valid UTF-8.
//! * **Borrowing.** [`Receipt<'a>`] points into the `short_message` (or TLV) bytes through
//!   [`Cow`]s, so parsing a receipt allocates nothing; [`Receipt::into_owned`] detaches it
//!   when it must outlive the PDU. Text fields are decoded lossily (U+FFFD) rather than
//!   rejected: a receipt with one odd byte should still close its message.
//! * **A receipt needs an id and a state.** Anything else is optional, and a malformed
//!   optional field (a 13-digit date, February 30th, a non-numeric `sub`) becomes `None`
//!   without failing the receipt. Requiring `stat` keeps an ordinary mobile-originated
//!   text that happens to contain `id:` from being taken for a receipt.
//! * **TLVs win over text.** SMPP 3.4 defines the id and state of a receipt as the
//!   `receipted_message_id` (0x001E) and `message_state` (0x0427) TLVs and leaves the text
//!   vendor-specific; carriers that send both often format the text id differently
//!   (decimal vs hex). So in [`Receipt::from_deliver_sm`] a present TLV (an empty
//!   `receipted_message_id` counts as absent) replaces the corresponding text field,
//!   the remaining fields (counts, dates, `err`, `text`) still come from the text, and
//!   `network_error_code` (0x0423) is kept beside the text `err`. [`Receipt::id_source`]
//!   records which one supplied the id, because the two may need different id formats.
//! * **Ids are compared as canonical keys, not strings.** Carriers answer `submit_sm_resp`
//!   with an id in one base and quote it in the receipt in another (Kannel's
//!   `msg-id-type`). [`normalize`] turns an id plus its configured [`IdFormat`] into a
//!   [`MessageIdKey`]: a number for numeric formats (so leading zeros, case and base do
//!   not matter) or a case-folded string otherwise; the gateway stores the key of the
//!   `submit_sm_resp` id and looks the receipt up with [`MessageIdMapping::receipt_key`].
//!   Numbers wider than 128 bits fall back to text with leading zeros stripped, which
//!   still matches within one base but not across bases (no bignum conversion).
//! * **Dates are validated and converted without a date library.** Two-digit years are
//!   taken as 2000–2099 (receipts report on messages sent minutes or days ago) and times
//!   as UTC, since Appendix B carries no zone; [`ReceiptTime::unix_timestamp`] uses the
//!   days-from-civil algorithm.

use std::borrow::Cow;
use std::fmt;

/// Why a receipt could not be built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ReceiptError {
    /// Neither an `id:` field nor a `receipted_message_id` TLV with a non-empty value.
    #[error("delivery receipt has no message id")]
    MissingId,
    /// Neither a `stat:` field nor a `message_state` TLV.
    #[error("delivery receipt has no message state")]
    MissingStat,
}

/// Where [`Receipt::id`] came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdSource {
    /// The `id:` field of the receipt text.
    Text,
    /// The `receipted_message_id` TLV (0x001E).
    Tlv,
}

/// The receipt TLVs of a `deliver_sm` / `data_sm`, as far as they are present.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReceiptTlvs<'a> {
    /// `receipted_message_id` (0x001E), a C-octet string; a trailing NUL is allowed.
    pub receipted_message_id: Option<&'a [u8]>,
    /// `message_state` (0x0427).
    pub message_state: Option<u8>,
    /// `network_error_code` (0x0423): network type, then a big-endian error code.
    pub network_error_code: Option<[u8; 3]>,
}

/// A delivery receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt<'a> {
    /// The message id as sent (trimmed); see [`MessageIdMapping::receipt_key`].
    pub id: Cow<'a, str>,
    /// Whether [`Receipt::id`] came from the text or the TLV.
    pub id_source: IdSource,
    /// `sub:` — number of short messages originally submitted.
    pub submitted: Option<u32>,
    /// `dlvrd:` — number of short messages delivered.
    pub delivered: Option<u32>,
    /// `submit date:` — when the message was submitted.
    pub submit_date: Option<ReceiptTime>,
    /// `done date:` — when the message reached its reported state.
    pub done_date: Option<ReceiptTime>,
    /// `stat:` or the `message_state` TLV.
    pub stat: ReceiptState<'a>,
    /// `err:` — the carrier's error code as text.
    pub err: Option<ErrCode<'a>>,
    /// The `network_error_code` TLV.
    pub network_error: Option<NetworkErrorCode>,
    /// `text:` — the start of the original message, raw bytes up to the end of the input.
    pub text: Option<Cow<'a, [u8]>>,
}

impl<'a> Receipt<'a> {
    /// Parses the text of a receipt (the `short_message` of a `deliver_sm` whose
    /// `esm_class` marks a delivery receipt).
    ///
    /// # Errors
    ///
    /// [`ReceiptError::MissingId`] without a non-empty id, [`ReceiptError::MissingStat`]
    /// without a state.
    pub fn parse(short_message: &'a [u8]) -> Result<Self, ReceiptError> {
        Self::from_deliver_sm(short_message, ReceiptTlvs::default())
    }

    /// Builds a receipt from the TLVs alone, for carriers that send no receipt text.
    ///
    /// # Errors
    ///
    /// [`ReceiptError::MissingId`] without a non-empty id, [`ReceiptError::MissingStat`]
    /// without a state.
    pub fn from_tlvs(
        receipted_message_id: &'a [u8],
        message_state: Option<u8>,
        network_error_code: Option<[u8; 3]>,
    ) -> Result<Self, ReceiptError> {
        Self::from_deliver_sm(
            &[],
            ReceiptTlvs {
                receipted_message_id: Some(receipted_message_id),
                message_state,
                network_error_code,
            },
        )
    }

    /// Builds a receipt from the text and the TLVs of one PDU. A present TLV wins over the
    /// corresponding text field (id, state); the other fields come from the text. The text
    /// may be empty or not a receipt at all if the TLVs carry the id and the state.
    ///
    /// # Errors
    ///
    /// [`ReceiptError::MissingId`] without a non-empty id, [`ReceiptError::MissingStat`]
    /// without a state.
    pub fn from_deliver_sm(
        short_message: &'a [u8],
        tlvs: ReceiptTlvs<'a>,
    ) -> Result<Self, ReceiptError> {
        let fields = scan(short_message);

        let tlv_id = tlvs
            .receipted_message_id
            .map(c_octet_string)
            .filter(|id| !id.is_empty());
        let (id, id_source) = match (tlv_id, fields.id) {
            (Some(id), _) => (id, IdSource::Tlv),
            (None, Some(id)) => (id, IdSource::Text),
            (None, None) => return Err(ReceiptError::MissingId),
        };

        let stat = match (tlvs.message_state, fields.stat) {
            (Some(state), _) => ReceiptState::from_message_state(state),
            (None, Some(raw)) => ReceiptState::parse(raw),
            (None, None) => return Err(ReceiptError::MissingStat),
        };

        Ok(Receipt {
            id: String::from_utf8_lossy(id),
            id_source,
            submitted: fields.sub.and_then(parse_u32),
            delivered: fields.dlvrd.and_then(parse_u32),
            submit_date: fields.submit_date.and_then(ReceiptTime::parse),
            done_date: fields.done_date.and_then(ReceiptTime::parse),
            stat,
            err: fields.err.map(ErrCode::parse),
            network_error: tlvs.network_error_code.map(NetworkErrorCode::from_bytes),
            text: fields.text.map(Cow::Borrowed),
        })
    }

    /// Detaches the receipt from the PDU buffer.
    pub fn into_owned(self) -> Receipt<'static> {
        Receipt {
            id: Cow::Owned(self.id.into_owned()),
            id_source: self.id_source,
            submitted: self.submitted,
            delivered: self.delivered,
            submit_date: self.submit_date,
            done_date: self.done_date,
            stat: self.stat.into_owned(),
            err: self.err.map(ErrCode::into_owned),
            network_error: self.network_error,
            text: self.text.map(|text| Cow::Owned(text.into_owned())),
        }
    }
}

/// The message state a receipt reports.
///
/// Text values are matched case-insensitively: the SMPP 3.4 seven-letter forms
/// (`DELIVRD`, `EXPIRED`, `DELETED`, `UNDELIV`, `ACCEPTD`, `UNKNOWN`, `REJECTD`,
/// `ENROUTE`), SMPP 5.0's `SKIPPED`, and the full words `DELIVERED`, `UNDELIVERABLE`,
/// `UNDELIVERED`, `ACCEPTED`, `REJECTED`, `SCHEDULED`. Anything else is kept in
/// [`ReceiptState::Other`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ReceiptState<'a> {
    /// `SCHEDULED` (0, SMPP 5.0).
    Scheduled,
    /// `ENROUTE` (1).
    Enroute,
    /// `DELIVRD` (2).
    Delivered,
    /// `EXPIRED` (3).
    Expired,
    /// `DELETED` (4).
    Deleted,
    /// `UNDELIV` (5).
    Undeliverable,
    /// `ACCEPTD` (6).
    Accepted,
    /// `UNKNOWN` (7).
    Unknown,
    /// `REJECTD` (8).
    Rejected,
    /// `SKIPPED` (9, SMPP 5.0).
    Skipped,
    /// An unrecognised `stat:` value, verbatim.
    Other(Cow<'a, str>),
    /// A `message_state` TLV value outside 0..=9.
    OtherCode(u8),
}

impl<'a> ReceiptState<'a> {
    /// The state for a `message_state` TLV value.
    pub fn from_message_state(value: u8) -> ReceiptState<'static> {
        match value {
            0 => ReceiptState::Scheduled,
            1 => ReceiptState::Enroute,
            2 => ReceiptState::Delivered,
            3 => ReceiptState::Expired,
            4 => ReceiptState::Deleted,
            5 => ReceiptState::Undeliverable,
            6 => ReceiptState::Accepted,
            7 => ReceiptState::Unknown,
            8 => ReceiptState::Rejected,
            9 => ReceiptState::Skipped,
            other => ReceiptState::OtherCode(other),
        }
    }

    /// The state for a `stat:` value.
    pub fn parse(raw: &'a [u8]) -> Self {
        const LONGEST: usize = 13; // "UNDELIVERABLE"
        let mut upper = [0u8; LONGEST];
        let known = match upper.get_mut(..raw.len()) {
            Some(buf) => {
                buf.copy_from_slice(raw);
                buf.make_ascii_uppercase();
                match &*buf {
                    b"SCHEDULED" => Some(ReceiptState::Scheduled),
                    b"ENROUTE" => Some(ReceiptState::Enroute),
                    b"DELIVRD" | b"DELIVERED" => Some(ReceiptState::Delivered),
                    b"EXPIRED" => Some(ReceiptState::Expired),
                    b"DELETED" => Some(ReceiptState::Deleted),
                    b"UNDELIV" | b"UNDELIVERABLE" | b"UNDELIVERED" => {
                        Some(ReceiptState::Undeliverable)
                    }
                    b"ACCEPTD" | b"ACCEPTED" => Some(ReceiptState::Accepted),
                    b"UNKNOWN" => Some(ReceiptState::Unknown),
                    b"REJECTD" | b"REJECTED" => Some(ReceiptState::Rejected),
                    b"SKIPPED" => Some(ReceiptState::Skipped),
                    _ => None,
                }
            }
            None => None,
        };
        known.unwrap_or_else(|| ReceiptState::Other(String::from_utf8_lossy(raw)))
    }

    /// The SMPP `message_state` value (`None` for [`ReceiptState::Other`]).
    pub fn message_state(&self) -> Option<u8> {
        Some(match self {
            ReceiptState::Scheduled => 0,
            ReceiptState::Enroute => 1,
            ReceiptState::Delivered => 2,
            ReceiptState::Expired => 3,
            ReceiptState::Deleted => 4,
            ReceiptState::Undeliverable => 5,
            ReceiptState::Accepted => 6,
            ReceiptState::Unknown => 7,
            ReceiptState::Rejected => 8,
            ReceiptState::Skipped => 9,
            ReceiptState::OtherCode(code) => *code,
            ReceiptState::Other(_) => return None,
        })
    }

    /// The canonical seven-letter `stat:` form, for the states that have one.
    pub fn stat_name(&self) -> Option<&'static str> {
        Some(match self {
            ReceiptState::Scheduled => "SCHEDULED",
            ReceiptState::Enroute => "ENROUTE",
            ReceiptState::Delivered => "DELIVRD",
            ReceiptState::Expired => "EXPIRED",
            ReceiptState::Deleted => "DELETED",
            ReceiptState::Undeliverable => "UNDELIV",
            ReceiptState::Accepted => "ACCEPTD",
            ReceiptState::Unknown => "UNKNOWN",
            ReceiptState::Rejected => "REJECTD",
            ReceiptState::Skipped => "SKIPPED",
            ReceiptState::Other(_) | ReceiptState::OtherCode(_) => return None,
        })
    }

    /// Whether no further state change is expected, after the SMPP 5.0 state table:
    /// delivered, expired, deleted, undeliverable, accepted, rejected and skipped are final;
    /// scheduled and enroute are intermediate. `UNKNOWN` ("may be intermediate or
    /// permanent") and unrecognised states are reported as not final, so the caller's own
    /// receipt timeout decides. Note that some carriers use `ACCEPTD` for "accepted by the
    /// network, still pending" (Kannel treats it as buffered); override per carrier if so.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            ReceiptState::Delivered
                | ReceiptState::Expired
                | ReceiptState::Deleted
                | ReceiptState::Undeliverable
                | ReceiptState::Accepted
                | ReceiptState::Rejected
                | ReceiptState::Skipped
        )
    }

    /// Detaches an [`ReceiptState::Other`] value from the input.
    pub fn into_owned(self) -> ReceiptState<'static> {
        match self {
            ReceiptState::Scheduled => ReceiptState::Scheduled,
            ReceiptState::Enroute => ReceiptState::Enroute,
            ReceiptState::Delivered => ReceiptState::Delivered,
            ReceiptState::Expired => ReceiptState::Expired,
            ReceiptState::Deleted => ReceiptState::Deleted,
            ReceiptState::Undeliverable => ReceiptState::Undeliverable,
            ReceiptState::Accepted => ReceiptState::Accepted,
            ReceiptState::Unknown => ReceiptState::Unknown,
            ReceiptState::Rejected => ReceiptState::Rejected,
            ReceiptState::Skipped => ReceiptState::Skipped,
            ReceiptState::Other(raw) => ReceiptState::Other(Cow::Owned(raw.into_owned())),
            ReceiptState::OtherCode(code) => ReceiptState::OtherCode(code),
        }
    }
}

/// The `err:` field: the raw text and, when it is a decimal or `0x`-prefixed hex number,
/// its value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ErrCode<'a> {
    /// The value as sent.
    pub raw: Cow<'a, str>,
    /// The numeric value, if `raw` is one.
    pub code: Option<u32>,
}

impl<'a> ErrCode<'a> {
    fn parse(raw: &'a [u8]) -> Self {
        let code = match raw {
            [b'0', b'x' | b'X', hex @ ..] => parse_u32_radix(hex, 16),
            decimal => parse_u32(decimal),
        };
        ErrCode {
            raw: String::from_utf8_lossy(raw),
            code,
        }
    }

    /// Detaches the value from the input.
    pub fn into_owned(self) -> ErrCode<'static> {
        ErrCode {
            raw: Cow::Owned(self.raw.into_owned()),
            code: self.code,
        }
    }
}

/// The `network_error_code` TLV (0x0423).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NetworkErrorCode {
    /// 1 ANSI-136 access denied, 2 IS-95 access denied, 3 GSM, 4 ANSI-136 cause,
    /// 5 IS-95 cause, 6 ANSI-41, 7 SMPP error, 8 message-centre specific.
    pub network_type: u8,
    /// The network's error code.
    pub error_code: u16,
}

impl NetworkErrorCode {
    /// Decodes the three TLV value bytes.
    pub fn from_bytes([network_type, hi, lo]: [u8; 3]) -> Self {
        Self {
            network_type,
            error_code: u16::from_be_bytes([hi, lo]),
        }
    }
}

/// A validated receipt date, `YYMMDDhhmm` or `YYMMDDhhmmss`, taken as UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReceiptTime {
    year: u16,
    month: u8,
    day: u8,
    hour: u8,
    minute: u8,
    second: Option<u8>,
}

impl ReceiptTime {
    /// A time if every component is in range (day within its month, leap years
    /// included; seconds 0–59).
    pub fn new(
        year: u16,
        month: u8,
        day: u8,
        hour: u8,
        minute: u8,
        second: Option<u8>,
    ) -> Option<Self> {
        let valid = (1..=12).contains(&month)
            && day >= 1
            && day <= days_in_month(year, month)
            && hour < 24
            && minute < 60
            && second.is_none_or(|s| s < 60);
        valid.then_some(Self {
            year,
            month,
            day,
            hour,
            minute,
            second,
        })
    }

    /// Parses 10 (`YYMMDDhhmm`) or 12 (`YYMMDDhhmmss`) ASCII digits; `YY` is 2000+YY.
    pub fn parse(digits: &[u8]) -> Option<Self> {
        let (date, second) = match digits {
            [date @ .., s1, s2] if digits.len() == 12 => (date, Some(two_digits(*s1, *s2)?)),
            date if digits.len() == 10 => (date, None),
            _ => return None,
        };
        let [y1, y2, mo1, mo2, d1, d2, h1, h2, mi1, mi2] = *date else {
            return None;
        };
        Self::new(
            2000 + u16::from(two_digits(y1, y2)?),
            two_digits(mo1, mo2)?,
            two_digits(d1, d2)?,
            two_digits(h1, h2)?,
            two_digits(mi1, mi2)?,
            second,
        )
    }

    /// The year, e.g. 2024.
    pub fn year(&self) -> u16 {
        self.year
    }

    /// The month, 1–12.
    pub fn month(&self) -> u8 {
        self.month
    }

    /// The day of the month, 1–31.
    pub fn day(&self) -> u8 {
        self.day
    }

    /// The hour, 0–23.
    pub fn hour(&self) -> u8 {
        self.hour
    }

    /// The minute, 0–59.
    pub fn minute(&self) -> u8 {
        self.minute
    }

    /// The second, 0–59, if the carrier sent 12 digits.
    pub fn second(&self) -> Option<u8> {
        self.second
    }

    /// Seconds since the Unix epoch, taking the time as UTC (a missing second is 0).
    pub fn unix_timestamp(&self) -> i64 {
        let days = days_from_civil(i64::from(self.year), self.month, self.day);
        days * 86_400
            + i64::from(self.hour) * 3_600
            + i64::from(self.minute) * 60
            + i64::from(self.second.unwrap_or(0))
    }
}

impl fmt::Display for ReceiptTime {
    /// ISO 8601, e.g. `2024-02-29T13:05Z` or `2024-02-29T13:05:09Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute
        )?;
        if let Some(second) = self.second {
            write!(f, ":{second:02}")?;
        }
        f.write_str("Z")
    }
}

fn is_leap(year: u16) -> bool {
    year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: u8, day: u8) -> i64 {
    let month = i64::from(month);
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

fn two_digits(tens: u8, units: u8) -> Option<u8> {
    if tens.is_ascii_digit() && units.is_ascii_digit() {
        Some((tens - b'0') * 10 + (units - b'0'))
    } else {
        None
    }
}

fn parse_u32(digits: &[u8]) -> Option<u32> {
    parse_u32_radix(digits, 10)
}

fn parse_u32_radix(digits: &[u8], radix: u32) -> Option<u32> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u32, |acc, &b| {
        let digit = char::from(b).to_digit(radix)?;
        acc.checked_mul(radix)?.checked_add(digit)
    })
}

// ---------------------------------------------------------------------------------------
// Tokenizer
// ---------------------------------------------------------------------------------------

/// The recognised fields of a receipt text, as raw byte slices.
#[derive(Debug, Default)]
struct Fields<'a> {
    id: Option<&'a [u8]>,
    sub: Option<&'a [u8]>,
    dlvrd: Option<&'a [u8]>,
    submit_date: Option<&'a [u8]>,
    done_date: Option<&'a [u8]>,
    stat: Option<&'a [u8]>,
    err: Option<&'a [u8]>,
    text: Option<&'a [u8]>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Id,
    Sub,
    Dlvrd,
    SubmitDate,
    DoneDate,
    Stat,
    Err,
    Text,
    Unknown,
}

/// Field separators. NUL is included because some carriers pad or terminate the text.
fn is_separator(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n' | 0)
}

fn skip_separators(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|&b| !is_separator(b)).unwrap_or(s.len());
    s.get(start..).unwrap_or_default()
}

/// Splits `s` after its first whitespace-delimited token.
fn split_token(s: &[u8]) -> (&[u8], &[u8]) {
    let end = s.iter().position(|&b| is_separator(b)).unwrap_or(s.len());
    s.split_at_checked(end).unwrap_or((s, &[]))
}

/// If `s` starts with a key (`word:`, or `submit date:` / `done date:` with any number of
/// blanks), returns it and the bytes after its colon.
fn key_at(s: &[u8]) -> Option<(Key, &[u8])> {
    if !s.first()?.is_ascii_alphabetic() {
        return None;
    }
    let len = s
        .iter()
        .position(|&b| !(b.is_ascii_alphanumeric() || b == b'_' || b == b'-'))
        .unwrap_or(s.len());
    let (word, after) = s.split_at_checked(len)?;
    match after {
        [b':', value @ ..] => Some((classify(word), value)),
        [b' ' | b'\t', ..] => {
            let key = if word.eq_ignore_ascii_case(b"submit") {
                Key::SubmitDate
            } else if word.eq_ignore_ascii_case(b"done") {
                Key::DoneDate
            } else {
                return None;
            };
            let after = after.trim_ascii_start();
            match after {
                [d, a, t, e, b':', value @ ..]
                    if [*d, *a, *t, *e].eq_ignore_ascii_case(b"date") =>
                {
                    Some((key, value))
                }
                _ => None,
            }
        }
        _ => None,
    }
}

fn classify(word: &[u8]) -> Key {
    const KEYS: &[(&[u8], Key)] = &[
        (b"id", Key::Id),
        (b"stat", Key::Stat),
        (b"sub", Key::Sub),
        (b"dlvrd", Key::Dlvrd),
        (b"err", Key::Err),
        (b"text", Key::Text),
        (b"submit_date", Key::SubmitDate),
        (b"done_date", Key::DoneDate),
        (b"submitdate", Key::SubmitDate),
        (b"donedate", Key::DoneDate),
        (b"submit-date", Key::SubmitDate),
        (b"done-date", Key::DoneDate),
    ];
    KEYS.iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(word))
        .map_or(Key::Unknown, |(_, key)| *key)
}

/// Takes a value after a key's colon: up to the next separator. If blanks follow the
/// colon, the next token is the value unless it is itself a key (then the value is empty).
fn value_at(s: &[u8]) -> (&[u8], &[u8]) {
    match s.first() {
        Some(&b) if !is_separator(b) => split_token(s),
        _ => {
            let rest = skip_separators(s);
            if rest.is_empty() || key_at(rest).is_some() {
                (&[], rest)
            } else {
                split_token(rest)
            }
        }
    }
}

/// One pass over a receipt text. The first occurrence of a key wins; `text:` takes the
/// remainder of the input verbatim (trailing NUL padding removed).
fn scan(input: &[u8]) -> Fields<'_> {
    let end = input.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    let mut rest = input.get(..end).unwrap_or_default();
    let mut fields = Fields::default();
    loop {
        rest = skip_separators(rest);
        if rest.is_empty() {
            break;
        }
        let Some((key, after_colon)) = key_at(rest) else {
            rest = split_token(rest).1;
            continue;
        };
        if key == Key::Text {
            fields.text.get_or_insert(after_colon);
            break;
        }
        let (value, next) = value_at(after_colon);
        rest = next;
        let slot = match key {
            Key::Id => &mut fields.id,
            Key::Sub => &mut fields.sub,
            Key::Dlvrd => &mut fields.dlvrd,
            Key::SubmitDate => &mut fields.submit_date,
            Key::DoneDate => &mut fields.done_date,
            Key::Stat => &mut fields.stat,
            Key::Err => &mut fields.err,
            Key::Text | Key::Unknown => continue,
        };
        if slot.is_none() && !value.is_empty() {
            *slot = Some(value);
        }
    }
    fields
}

/// The value of a C-octet string: up to the first NUL, blanks trimmed.
fn c_octet_string(value: &[u8]) -> &[u8] {
    let end = value.iter().position(|&b| b == 0).unwrap_or(value.len());
    value.get(..end).unwrap_or_default().trim_ascii()
}

// ---------------------------------------------------------------------------------------
// Message-id normalization
// ---------------------------------------------------------------------------------------

/// How a carrier writes a message id in one place (`submit_sm_resp`, receipt text, or the
/// `receipted_message_id` TLV).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum IdFormat {
    /// An opaque string compared ASCII-case-insensitively after trimming (UUIDs and other
    /// alphanumeric ids).
    #[default]
    Verbatim,
    /// An opaque, case-sensitive string (ids in mixed-case alphabets such as base62).
    Exact,
    /// A decimal number: leading zeros do not matter.
    Decimal,
    /// A hexadecimal number, optional `0x`: leading zeros and case do not matter.
    Hex,
    /// Guess per id: all decimal digits → decimal, else all hex digits → hex, else
    /// verbatim. Identical ids always match, and a hex id with at least one letter matches
    /// its decimal form; but a hex id made only of digits is read as decimal, so
    /// cross-base carriers lose about (10/16)^n of their receipts (2.3 % for 8-digit ids)
    /// and distinct hex ids may collide (`"26"` and `"1a"`). Configure the real formats
    /// once known.
    Auto,
}

impl IdFormat {
    /// Every format, the default first.
    pub const ALL: [IdFormat; 5] = [
        IdFormat::Verbatim,
        IdFormat::Exact,
        IdFormat::Decimal,
        IdFormat::Hex,
        IdFormat::Auto,
    ];

    /// Lower-case name, stable for logs and configuration (`"verbatim"`, `"hex"`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            IdFormat::Verbatim => "verbatim",
            IdFormat::Exact => "exact",
            IdFormat::Decimal => "decimal",
            IdFormat::Hex => "hex",
            IdFormat::Auto => "auto",
        }
    }

    /// The format named `name` (exactly as [`Self::as_str`] writes it).
    pub fn from_name(name: &str) -> Option<IdFormat> {
        IdFormat::ALL.into_iter().find(|f| f.as_str() == name)
    }
}

/// Per-carrier id formats, so that the key of the `submit_sm_resp` id equals the key of
/// the receipt's id.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct MessageIdMapping {
    /// Format of `submit_sm_resp.message_id`.
    pub submit: IdFormat,
    /// Format of the receipt text's `id:` field.
    pub receipt: IdFormat,
    /// Format of the `receipted_message_id` TLV.
    pub receipted_message_id: IdFormat,
}

impl MessageIdMapping {
    /// Guess everywhere; see [`IdFormat::Auto`].
    pub const AUTO: Self = Self::new(IdFormat::Auto, IdFormat::Auto);

    /// `submit` and text-`receipt` formats; the TLV is taken to be in the `submit` format,
    /// since SMPP defines `receipted_message_id` as the id returned in `submit_sm_resp`.
    pub const fn new(submit: IdFormat, receipt: IdFormat) -> Self {
        Self {
            submit,
            receipt,
            receipted_message_id: submit,
        }
    }

    /// Kannel's `msg-id-type` (0–3): bit 0 set means `submit_sm_resp` ids are hex, bit 1
    /// means `deliver_sm` ids are hex, otherwise decimal. Like Kannel, the receipt format
    /// also applies to the TLV. `None` for other values; an unset `msg-id-type` is
    /// [`MessageIdMapping::default`] (verbatim).
    pub const fn from_kannel_msg_id_type(msg_id_type: u8) -> Option<Self> {
        const fn base(hex: bool) -> IdFormat {
            if hex {
                IdFormat::Hex
            } else {
                IdFormat::Decimal
            }
        }
        if msg_id_type > 3 {
            return None;
        }
        let receipt = base(msg_id_type & 0x02 != 0);
        Some(Self {
            submit: base(msg_id_type & 0x01 != 0),
            receipt,
            receipted_message_id: receipt,
        })
    }

    /// The key under which to remember a `submit_sm_resp` message id.
    ///
    /// # Errors
    ///
    /// [`IdError::Empty`] for an empty id.
    pub fn submit_key(&self, message_id: &str) -> Result<MessageIdKey, IdError> {
        normalize(message_id, self.submit)
    }

    /// The key to look a receipt up with, using the format of the id's source.
    ///
    /// # Errors
    ///
    /// [`IdError::Empty`] for an empty id.
    pub fn receipt_key(&self, receipt: &Receipt<'_>) -> Result<MessageIdKey, IdError> {
        let format = match receipt.id_source {
            IdSource::Text => self.receipt,
            IdSource::Tlv => self.receipted_message_id,
        };
        normalize(&receipt.id, format)
    }
}

/// Why an id could not be normalized.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// The id was empty (or only blanks and NULs).
    #[error("message id is empty")]
    Empty,
}

/// A canonical message id: equal keys denote the same message.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MessageIdKey {
    /// An id read as a number (decimal or hex).
    Numeric(u128),
    /// An id compared as text (already case-folded unless [`IdFormat::Exact`]).
    Text(Box<str>),
}

impl fmt::Display for MessageIdKey {
    /// Numbers print in decimal.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MessageIdKey::Numeric(n) => write!(f, "{n}"),
            MessageIdKey::Text(text) => f.write_str(text),
        }
    }
}

/// Turns a raw id in the given format into its canonical key. Blanks and NULs around the
/// id are ignored. An id that does not fit its numeric format (wrong characters) is
/// compared as verbatim text instead; one wider than 128 bits is compared as text with
/// leading zeros stripped and case folded.
///
/// # Errors
///
/// [`IdError::Empty`] if nothing but blanks and NULs remains.
pub fn normalize(raw: &str, format: IdFormat) -> Result<MessageIdKey, IdError> {
    let id = raw.trim_matches(|c: char| c.is_ascii_whitespace() || c == '\0');
    if id.is_empty() {
        return Err(IdError::Empty);
    }
    let key = match format {
        IdFormat::Verbatim => folded(id),
        IdFormat::Exact => MessageIdKey::Text(id.into()),
        IdFormat::Decimal => numeric(id, id, 10),
        IdFormat::Hex => numeric(id, strip_hex_prefix(id), 16),
        IdFormat::Auto => {
            let hex = strip_hex_prefix(id);
            if id.bytes().all(|b| b.is_ascii_digit()) {
                numeric(id, id, 10)
            } else if !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                numeric(id, hex, 16)
            } else {
                folded(id)
            }
        }
    };
    Ok(key)
}

fn folded(id: &str) -> MessageIdKey {
    MessageIdKey::Text(id.to_ascii_lowercase().into_boxed_str())
}

fn strip_hex_prefix(id: &str) -> &str {
    id.strip_prefix("0x")
        .or_else(|| id.strip_prefix("0X"))
        .unwrap_or(id)
}

/// `digits` (a suffix of `id`) in `radix`; falls back to text as documented on
/// [`normalize`].
fn numeric(id: &str, digits: &str, radix: u32) -> MessageIdKey {
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return folded(id);
    }
    let value = digits.chars().try_fold(0u128, |acc, c| {
        let digit = c.to_digit(radix)?;
        acc.checked_mul(u128::from(radix))?
            .checked_add(u128::from(digit))
    });
    match value {
        Some(n) => MessageIdKey::Numeric(n),
        // Too wide: keep the digits in canonical form (an overflow implies a non-zero digit).
        None => folded(digits.trim_start_matches('0')),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_format_names_round_trip() {
        for f in IdFormat::ALL {
            assert_eq!(IdFormat::from_name(f.as_str()), Some(f));
        }
        assert_eq!(IdFormat::from_name("base64"), None);
        assert_eq!(IdFormat::ALL[0], IdFormat::default());
    }

    fn parse(s: &str) -> Receipt<'_> {
        match Receipt::parse(s.as_bytes()) {
            Ok(receipt) => receipt,
            Err(e) => panic!("{s:?} did not parse: {e}"),
        }
    }

    fn time(digits: &str) -> Option<ReceiptTime> {
        ReceiptTime::parse(digits.as_bytes())
    }

    #[test]
    fn appendix_b_template() {
        let r = parse(
            "id:IIIIIIIIII sub:SSS dlvrd:DDD submit date:YYMMDDhhmm done date:YYMMDDhhmm \
             stat:DDDDDDD err:E Text: . . . . . . . . .",
        );
        assert_eq!(r.id, "IIIIIIIIII");
        assert_eq!(r.id_source, IdSource::Text);
        assert_eq!((r.submitted, r.delivered), (None, None));
        assert_eq!((r.submit_date, r.done_date), (None, None));
        assert_eq!(r.stat, ReceiptState::Other("DDDDDDD".into()));
        assert_eq!(
            r.err,
            Some(ErrCode {
                raw: "E".into(),
                code: None
            })
        );
        assert_eq!(r.text.as_deref(), Some(&b" . . . . . . . . ."[..]));
    }

    #[test]
    fn appendix_b_filled_in() {
        let r = parse(
            "id:0123456789 sub:001 dlvrd:001 submit date:0809011130 done date:0809011131 \
             stat:DELIVRD err:000 Text:Hello World",
        );
        assert_eq!(r.id, "0123456789");
        assert_eq!((r.submitted, r.delivered), (Some(1), Some(1)));
        assert_eq!(r.submit_date, ReceiptTime::new(2008, 9, 1, 11, 30, None));
        assert_eq!(r.done_date, ReceiptTime::new(2008, 9, 1, 11, 31, None));
        assert_eq!(r.stat, ReceiptState::Delivered);
        assert!(r.stat.is_final());
        assert_eq!(r.err.as_ref().and_then(|e| e.code), Some(0));
        assert_eq!(r.err.as_ref().map(|e| &*e.raw), Some("000"));
        assert_eq!(r.text.as_deref(), Some(&b"Hello World"[..]));
        assert_eq!(r.network_error, None);
        // Borrowed: nothing was allocated.
        assert!(matches!(r.id, Cow::Borrowed(_)));
        assert!(matches!(r.text, Some(Cow::Borrowed(_))));
    }

    #[test]
    fn kannel_style() {
        let r = parse(
            "id:1234567890 sub:001 dlvrd:000 submit date:2301311559 done date:2301311600 \
             stat:UNDELIV err:034 text:Your code is 1234",
        );
        assert_eq!(r.stat, ReceiptState::Undeliverable);
        assert_eq!(r.stat.message_state(), Some(5));
        assert_eq!(r.delivered, Some(0));
        assert_eq!(r.err.and_then(|e| e.code), Some(34));
        assert_eq!(
            r.done_date.map(|t| t.to_string()).as_deref(),
            Some("2023-01-31T16:00Z")
        );
    }

    #[test]
    fn text_with_colons_and_spaces_runs_to_the_end() {
        let r = parse("id:77 stat:DELIVRD text:Meet at 10:30 stat:REJECTD id:99 ok\0\0");
        assert_eq!(r.id, "77");
        assert_eq!(r.stat, ReceiptState::Delivered);
        assert_eq!(
            r.text.as_deref(),
            Some(&b"Meet at 10:30 stat:REJECTD id:99 ok"[..])
        );
    }

    #[test]
    fn twelve_digit_dates() {
        let r = parse("id:abc submit date:240229235958 done date:240301000001 stat:DELIVRD");
        let submit = r.submit_date.unwrap();
        assert_eq!((submit.year(), submit.month(), submit.day()), (2024, 2, 29));
        assert_eq!(
            (submit.hour(), submit.minute(), submit.second()),
            (23, 59, Some(58))
        );
        assert_eq!(submit.unix_timestamp(), 1_709_251_198);
        assert_eq!(r.done_date.unwrap().unix_timestamp(), 1_709_251_201);
    }

    #[test]
    fn invalid_dates_become_none() {
        for bad in [
            "2302291200",     // 2023 is not a leap year
            "2313011200",     // month 13
            "2300011200",     // month 0
            "2301001200",     // day 0
            "2304311200",     // April 31st
            "2301012400",     // hour 24
            "2301011260",     // minute 60
            "230101120060",   // second 60
            "230101120",      // 9 digits
            "23010112000",    // 11 digits
            "20230101120000", // 14 digits
            "23O1011200",     // letter O
        ] {
            assert_eq!(time(bad), None, "{bad}");
            let text = format!("id:1 submit date:{bad} stat:DELIVRD");
            let r = Receipt::parse(text.as_bytes()).unwrap();
            assert_eq!(r.submit_date, None, "{bad}");
            assert_eq!(r.stat, ReceiptState::Delivered);
        }
        assert!(time("2402291200").is_some());
        assert!(time("0002291200").is_some()); // 2000 is a leap year
    }

    #[test]
    fn unix_timestamps() {
        assert_eq!(
            ReceiptTime::new(1970, 1, 1, 0, 0, None)
                .unwrap()
                .unix_timestamp(),
            0
        );
        assert_eq!(time("0001010000").unwrap().unix_timestamp(), 946_684_800);
        assert_eq!(
            time("991231235959").unwrap().unix_timestamp(),
            4_102_444_799
        );
        assert_eq!(
            ReceiptTime::new(1969, 12, 31, 23, 59, Some(59))
                .unwrap()
                .unix_timestamp(),
            -1
        );
    }

    #[test]
    fn missing_fields() {
        let r = parse("id:42 stat:EXPIRED");
        assert_eq!(r.id, "42");
        assert_eq!(r.stat, ReceiptState::Expired);
        assert_eq!(
            (r.submitted, r.delivered, r.submit_date, r.done_date),
            (None, None, None, None)
        );
        assert_eq!((r.err, r.text), (None, None));

        assert_eq!(
            Receipt::parse(b"stat:DELIVRD err:0"),
            Err(ReceiptError::MissingId)
        );
        assert_eq!(
            Receipt::parse(b"id:42 err:0"),
            Err(ReceiptError::MissingStat)
        );
        assert_eq!(
            Receipt::parse(b"id: stat:DELIVRD"),
            Err(ReceiptError::MissingId)
        );
        assert_eq!(Receipt::parse(b""), Err(ReceiptError::MissingId));
        // An ordinary message mentioning an id is not a receipt.
        assert_eq!(
            Receipt::parse(b"Hi, my id:4711, call me"),
            Err(ReceiptError::MissingStat)
        );
    }

    #[test]
    fn key_case_order_spacing_underscores_and_unknown_fields() {
        let r = parse(
            "  Stat:delivrd   mcc:310 mnc:260 ID:AbC-9 SUB:1 Dlvrd:0001 \
             Submit_Date:2401021530 DONE_DATE:240102153107\tErr:0x0B  Text:hi",
        );
        assert_eq!(r.id, "AbC-9");
        assert_eq!(r.stat, ReceiptState::Delivered);
        assert_eq!((r.submitted, r.delivered), (Some(1), Some(1)));
        assert_eq!(r.submit_date, ReceiptTime::new(2024, 1, 2, 15, 30, None));
        assert_eq!(r.done_date, ReceiptTime::new(2024, 1, 2, 15, 31, Some(7)));
        assert_eq!(r.err.and_then(|e| e.code), Some(11));
        assert_eq!(r.text.as_deref(), Some(&b"hi"[..]));

        let r = parse("id:1 SUBMIT   DATE:2401021530 done\tdate:2401021531 STAT:Rejected");
        assert!(r.submit_date.is_some() && r.done_date.is_some());
        assert_eq!(r.stat, ReceiptState::Rejected);
    }

    #[test]
    fn blank_after_colon() {
        let r = parse("id: 123 sub: err: stat: DELIVRD text:");
        assert_eq!(r.id, "123");
        assert_eq!(r.submitted, None);
        assert_eq!(r.err, None);
        assert_eq!(r.stat, ReceiptState::Delivered);
        assert_eq!(r.text.as_deref(), Some(&b""[..]));
    }

    #[test]
    fn first_occurrence_wins() {
        let r = parse("id:1 id:2 stat:ENROUTE stat:DELIVRD");
        assert_eq!((&*r.id, &r.stat), ("1", &ReceiptState::Enroute));
        assert!(!r.stat.is_final());
    }

    #[test]
    fn states() {
        let cases: &[(&str, ReceiptState<'_>, u8)] = &[
            ("DELIVRD", ReceiptState::Delivered, 2),
            ("delivered", ReceiptState::Delivered, 2),
            ("EXPIRED", ReceiptState::Expired, 3),
            ("Deleted", ReceiptState::Deleted, 4),
            ("UNDELIV", ReceiptState::Undeliverable, 5),
            ("UNDELIVERABLE", ReceiptState::Undeliverable, 5),
            ("ACCEPTD", ReceiptState::Accepted, 6),
            ("accepted", ReceiptState::Accepted, 6),
            ("UNKNOWN", ReceiptState::Unknown, 7),
            ("REJECTD", ReceiptState::Rejected, 8),
            ("REJECTED", ReceiptState::Rejected, 8),
            ("ENROUTE", ReceiptState::Enroute, 1),
            ("SKIPPED", ReceiptState::Skipped, 9),
            ("scheduled", ReceiptState::Scheduled, 0),
        ];
        for (raw, state, code) in cases {
            assert_eq!(&ReceiptState::parse(raw.as_bytes()), state, "{raw}");
            assert_eq!(state.message_state(), Some(*code));
            assert_eq!(&ReceiptState::from_message_state(*code), state);
        }
        assert_eq!(
            ReceiptState::parse(b"BUFFRED"),
            ReceiptState::Other("BUFFRED".into())
        );
        assert_eq!(
            ReceiptState::parse(b"UNDELIVERABLE!"),
            ReceiptState::Other("UNDELIVERABLE!".into())
        );
        assert_eq!(ReceiptState::parse(b"BUFFRED").message_state(), None);
        assert_eq!(
            ReceiptState::from_message_state(42),
            ReceiptState::OtherCode(42)
        );
        assert_eq!(ReceiptState::OtherCode(42).message_state(), Some(42));
        assert_eq!(ReceiptState::Delivered.stat_name(), Some("DELIVRD"));
        let finals: Vec<u8> = (0..=9)
            .filter(|v| ReceiptState::from_message_state(*v).is_final())
            .collect();
        assert_eq!(finals, [2, 3, 4, 5, 6, 8, 9]);
    }

    #[test]
    fn tlv_only() {
        let r = Receipt::from_tlvs(b"0A1B2C3D\0", Some(2), Some([3, 0x00, 0x22])).unwrap();
        assert_eq!(r.id, "0A1B2C3D");
        assert_eq!(r.id_source, IdSource::Tlv);
        assert_eq!(r.stat, ReceiptState::Delivered);
        assert_eq!(
            r.network_error,
            Some(NetworkErrorCode {
                network_type: 3,
                error_code: 34
            })
        );
        assert_eq!((r.submit_date, r.text), (None, None));

        assert_eq!(
            Receipt::from_tlvs(b"\0", Some(2), None),
            Err(ReceiptError::MissingId)
        );
        assert_eq!(
            Receipt::from_tlvs(b"abc", None, None),
            Err(ReceiptError::MissingStat)
        );
    }

    #[test]
    fn tlvs_win_over_text() {
        let text = b"id:169552957 sub:001 dlvrd:001 submit date:2401010000 done date:2401010001 \
                     stat:DELIVRD err:000 text:x";
        let r = Receipt::from_deliver_sm(
            text,
            ReceiptTlvs {
                receipted_message_id: Some(b"0A1B2C3D\0"),
                message_state: Some(5),
                network_error_code: Some([7, 0, 0x45]),
            },
        )
        .unwrap();
        assert_eq!((&*r.id, r.id_source), ("0A1B2C3D", IdSource::Tlv));
        assert_eq!(r.stat, ReceiptState::Undeliverable);
        assert_eq!(r.done_date, ReceiptTime::new(2024, 1, 1, 0, 1, None));
        assert_eq!(r.err.as_ref().and_then(|e| e.code), Some(0));
        assert_eq!(r.network_error.map(|n| n.error_code), Some(0x45));

        // Only some TLVs present: each missing one falls back to the text.
        let r = Receipt::from_deliver_sm(
            text,
            ReceiptTlvs {
                message_state: Some(8),
                ..ReceiptTlvs::default()
            },
        )
        .unwrap();
        assert_eq!((&*r.id, r.id_source), ("169552957", IdSource::Text));
        assert_eq!(r.stat, ReceiptState::Rejected);

        // Text that is not a receipt does not matter when the TLVs say it all.
        let r = Receipt::from_deliver_sm(
            b"\x00\xff garbage",
            ReceiptTlvs {
                receipted_message_id: Some(b"x1"),
                message_state: Some(3),
                network_error_code: None,
            },
        )
        .unwrap();
        assert_eq!((&*r.id, r.stat), ("x1", ReceiptState::Expired));
    }

    #[test]
    fn non_utf8_is_lossy_not_fatal() {
        let r = Receipt::parse(b"id:12\xff3 stat:DELIVRD text:caf\xe9").unwrap();
        assert_eq!(r.id, "12\u{fffd}3");
        assert_eq!(r.text.as_deref(), Some(&b"caf\xe9"[..]));
        let owned: Receipt<'static> = r.clone().into_owned();
        assert_eq!(owned, r);
    }

    #[test]
    fn into_owned_outlives_the_buffer() {
        let owned = {
            let buffer = b"id:9 stat:weird err:x text:t".to_vec();
            Receipt::parse(&buffer).unwrap().into_owned()
        };
        assert_eq!(owned.stat, ReceiptState::Other("weird".into()));
        assert_eq!(owned.err.map(|e| e.raw), Some("x".into()));
    }

    #[test]
    fn garbage_is_rejected_or_parsed_but_never_panics() {
        let inputs: &[&[u8]] = &[
            b"",
            b"\0\0\0",
            b":::::",
            b"id:",
            b"id",
            b"submit",
            b"submit ",
            b"submit date",
            b"done date:",
            b"text:",
            b"stat:",
            b"id:1 stat:\xff\xfe",
            b"\xff\xfe\xfd id:\x80 stat:\x81",
            b"id:1 stat:DELIVRD submit date:99999999999999999999",
            b"id:1 stat:DELIVRD sub:99999999999999999999 dlvrd:-1 err:0x",
        ];
        for input in inputs {
            let _ = Receipt::parse(input);
        }
        let r =
            Receipt::parse(b"id:1 stat:DELIVRD sub:99999999999999999999 dlvrd:-1 err:0x").unwrap();
        assert_eq!((r.submitted, r.delivered), (None, None));
        assert_eq!(r.err.and_then(|e| e.code), None);
    }

    // --- id normalization -----------------------------------------------------------

    fn key(raw: &str, format: IdFormat) -> MessageIdKey {
        normalize(raw, format).unwrap()
    }

    #[test]
    fn hex_submit_decimal_receipt() {
        let mapping = MessageIdMapping::new(IdFormat::Hex, IdFormat::Decimal);
        let receipt = parse("id:169552957 stat:DELIVRD");
        assert_eq!(
            mapping.submit_key("0A1B2C3D").unwrap(),
            mapping.receipt_key(&receipt).unwrap()
        );
        assert_eq!(
            mapping.submit_key("0A1B2C3D"),
            Ok(MessageIdKey::Numeric(0x0A1B_2C3D))
        );
        // And the other way round.
        let mapping = MessageIdMapping::new(IdFormat::Decimal, IdFormat::Hex);
        let receipt = parse("id:0a1b2c3d stat:DELIVRD");
        assert_eq!(
            mapping.submit_key("169552957").unwrap(),
            mapping.receipt_key(&receipt).unwrap()
        );
    }

    #[test]
    fn tlv_id_uses_its_own_format() {
        // Spec-conforming carrier: TLV repeats the submit_sm_resp id, text is decimal.
        let mapping = MessageIdMapping::new(IdFormat::Hex, IdFormat::Decimal);
        let receipt = Receipt::from_deliver_sm(
            b"id:169552957 stat:DELIVRD",
            ReceiptTlvs {
                receipted_message_id: Some(b"0a1b2c3d\0"),
                ..ReceiptTlvs::default()
            },
        )
        .unwrap();
        assert_eq!(
            mapping.receipt_key(&receipt).unwrap(),
            mapping.submit_key("0A1B2C3D").unwrap()
        );
    }

    #[test]
    fn kannel_msg_id_type() {
        use IdFormat::{Decimal, Hex};
        let formats =
            |t| MessageIdMapping::from_kannel_msg_id_type(t).map(|m| (m.submit, m.receipt));
        assert_eq!(formats(0), Some((Decimal, Decimal)));
        assert_eq!(formats(1), Some((Hex, Decimal)));
        assert_eq!(formats(2), Some((Decimal, Hex)));
        assert_eq!(formats(3), Some((Hex, Hex)));
        assert_eq!(formats(4), None);
    }

    #[test]
    fn leading_zeros_and_case() {
        assert_eq!(
            key("000123", IdFormat::Decimal),
            key("123", IdFormat::Decimal)
        );
        assert_eq!(key("000123", IdFormat::Decimal), MessageIdKey::Numeric(123));
        assert_eq!(key("00ABCDEF", IdFormat::Hex), key("abcdef", IdFormat::Hex));
        assert_eq!(key("0xABCDEF", IdFormat::Hex), key("abcdef", IdFormat::Hex));
        assert_eq!(key("0", IdFormat::Decimal), MessageIdKey::Numeric(0));
        assert_eq!(key("000", IdFormat::Hex), MessageIdKey::Numeric(0));
        assert_eq!(key(" 42\0", IdFormat::Decimal), MessageIdKey::Numeric(42));
        // Verbatim keeps zeros but ignores case.
        assert_ne!(
            key("000123", IdFormat::Verbatim),
            key("123", IdFormat::Verbatim)
        );
        assert_eq!(
            key("AbC", IdFormat::Verbatim),
            key("aBc", IdFormat::Verbatim)
        );
        assert_ne!(key("AbC", IdFormat::Exact), key("aBc", IdFormat::Exact));
    }

    #[test]
    fn uuid_like_ids_are_verbatim() {
        let upper = "3F2504E0-4F89-11D3-9A0C-0305E82C3301";
        let lower = "3f2504e0-4f89-11d3-9a0c-0305e82c3301";
        assert_eq!(
            key(upper, IdFormat::Verbatim),
            key(lower, IdFormat::Verbatim)
        );
        assert_eq!(
            key(upper, IdFormat::Verbatim),
            MessageIdKey::Text(lower.into())
        );
        // Configured as numeric but not a number: compared as verbatim text.
        assert_eq!(key(upper, IdFormat::Hex), key(lower, IdFormat::Verbatim));
        assert_eq!(key(upper, IdFormat::Decimal), key(lower, IdFormat::Auto));
        // Without dashes a UUID is a 128-bit hex number and fits.
        assert_eq!(
            key("3F2504E04F8911D39A0C0305E82C3301", IdFormat::Hex),
            MessageIdKey::Numeric(0x3F25_04E0_4F89_11D3_9A0C_0305_E82C_3301)
        );
    }

    #[test]
    fn wider_than_128_bits_falls_back_to_text() {
        let max = u128::MAX.to_string();
        assert_eq!(
            key(&max, IdFormat::Decimal),
            MessageIdKey::Numeric(u128::MAX)
        );
        let wide = "340282366920938463463374607431768211456"; // u128::MAX + 1
        assert_eq!(
            key(wide, IdFormat::Decimal),
            MessageIdKey::Text(wide.into())
        );
        assert_eq!(
            key(&format!("000{wide}"), IdFormat::Decimal),
            key(wide, IdFormat::Decimal)
        );
        let hex33 = "1FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF";
        assert_eq!(
            key(&format!("0x00{hex33}"), IdFormat::Hex),
            MessageIdKey::Text(hex33.to_ascii_lowercase().into())
        );
    }

    #[test]
    fn empty_id_is_an_error() {
        for format in [
            IdFormat::Verbatim,
            IdFormat::Exact,
            IdFormat::Decimal,
            IdFormat::Hex,
            IdFormat::Auto,
        ] {
            assert_eq!(normalize("", format), Err(IdError::Empty));
            assert_eq!(normalize(" \0\t", format), Err(IdError::Empty));
        }
    }

    #[test]
    fn auto_strategy() {
        let auto = MessageIdMapping::AUTO;
        assert_eq!(
            auto.submit_key("0A1B2C3D"),
            auto.receipt_key(&parse("id:169552957 stat:DELIVRD"))
        );
        assert_eq!(key("000123", IdFormat::Auto), key("123", IdFormat::Auto));
        assert_eq!(key("0x1F", IdFormat::Auto), MessageIdKey::Numeric(31));
        assert_eq!(key("0x", IdFormat::Auto), MessageIdKey::Text("0x".into()));
        assert_eq!(
            key("ab-12", IdFormat::Auto),
            MessageIdKey::Text("ab-12".into())
        );
        // The documented limit: an all-digit hex id is read as decimal.
        assert_ne!(key("123", IdFormat::Auto), key("291", IdFormat::Auto));
    }

    #[test]
    fn hex_prefix_alone_is_text() {
        assert_eq!(key("0x", IdFormat::Hex), MessageIdKey::Text("0x".into()));
        assert_eq!(key("x", IdFormat::Hex), MessageIdKey::Text("x".into()));
        assert_eq!(
            key("+12", IdFormat::Decimal),
            MessageIdKey::Text("+12".into())
        );
        assert_eq!(key("-12", IdFormat::Hex), MessageIdKey::Text("-12".into()));
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        const STATES: &[(&str, u8)] = &[
            ("DELIVRD", 2),
            ("EXPIRED", 3),
            ("DELETED", 4),
            ("UNDELIV", 5),
            ("ACCEPTD", 6),
            ("UNKNOWN", 7),
            ("REJECTD", 8),
            ("ENROUTE", 1),
        ];

        fn random_case(s: &str, mask: u64) -> String {
            s.chars()
                .enumerate()
                .map(|(i, c)| {
                    if mask >> (i % 64) & 1 == 1 {
                        c.to_ascii_uppercase()
                    } else {
                        c.to_ascii_lowercase()
                    }
                })
                .collect()
        }

        fn date() -> impl Strategy<Value = (ReceiptTime, bool)> {
            (
                0u16..100,
                1u8..=12,
                1u8..=31,
                0u8..24,
                0u8..60,
                0u8..60,
                any::<bool>(),
            )
                .prop_filter_map("valid date", |(y, mo, d, h, mi, s, secs)| {
                    let second = secs.then_some(s);
                    ReceiptTime::new(2000 + y, mo, d, h, mi, second).map(|t| (t, secs))
                })
        }

        fn date_digits(t: ReceiptTime) -> String {
            let seconds = t.second().map(|s| format!("{s:02}")).unwrap_or_default();
            format!(
                "{:02}{:02}{:02}{:02}{:02}{seconds}",
                t.year() - 2000,
                t.month(),
                t.day(),
                t.hour(),
                t.minute()
            )
        }

        proptest! {
            #[test]
            fn arbitrary_bytes_never_panic(
                input in proptest::collection::vec(any::<u8>(), 0..300),
            ) {
                let _ = Receipt::parse(&input);
                let _ = Receipt::from_tlvs(&input, input.first().copied(), None);
                let _ = ReceiptTime::parse(&input);
                let _ = ReceiptState::parse(&input);
            }

            #[test]
            fn receipt_like_noise_never_panics(
                pieces in proptest::collection::vec(
                    prop::sample::select(vec![
                        "id:", "ID:", "stat:", "sub:", "dlvrd:", "submit", "done", " date:",
                        "date:", "text:", "err:", "0x", ":", " ", "\t", "\0", "DELIVRD", "12",
                        "2401011200", "\u{ff}", "submit date:", "x",
                    ]),
                    0..40,
                ),
            ) {
                let input = pieces.concat();
                if let Ok(r) = Receipt::parse(input.as_bytes()) {
                    prop_assert!(!r.id.is_empty());
                    prop_assert!(!r.id.bytes().any(is_separator));
                }
            }

            /// Receipts in any field order, key case and spacing, with unknown fields,
            /// parse back to their fields.
            #[test]
            fn structured_receipts_round_trip(
                id in "[0-9A-Za-z_-]{1,24}",
                sub in proptest::option::of(0u32..1000),
                dlvrd in proptest::option::of(0u32..1000),
                submit in proptest::option::of(date()),
                done in proptest::option::of(date()),
                state in prop::sample::select(STATES),
                err in proptest::option::of(0u32..1000),
                text in proptest::option::of("[ -~]{0,40}"),
                extra in proptest::collection::vec(("[a-z]{3,6}", "[0-9a-z]{1,8}"), 0..3),
                case_mask in any::<u64>(),
                spaces in proptest::collection::vec(1usize..4, 16),
                order_seed in any::<u64>(),
                underscore in any::<bool>(),
            ) {
                let (submit_key, done_key) = if underscore {
                    ("submit_date", "done_date")
                } else {
                    ("submit date", "done date")
                };
                let mut fields = vec![format!("{}:{id}", random_case("id", case_mask))];
                fields.push(format!("{}:{}", random_case("stat", case_mask >> 3), state.0));
                if let Some(v) = sub { fields.push(format!("sub:{v:03}")); }
                if let Some(v) = dlvrd { fields.push(format!("DLVRD:{v}")); }
                if let Some((t, _)) = &submit {
                    let key = random_case(submit_key, case_mask >> 7);
                    fields.push(format!("{key}:{}", date_digits(*t)));
                }
                if let Some((t, _)) = &done {
                    let key = random_case(done_key, case_mask >> 11);
                    fields.push(format!("{key}:{}", date_digits(*t)));
                }
                if let Some(v) = err { fields.push(format!("Err:{v:03}")); }
                for (k, v) in &extra {
                    // Unknown keys must not shadow known ones.
                    if classify(k.as_bytes()) == Key::Unknown {
                        fields.push(format!("{k}:{v}"));
                    }
                }
                let mut state_rng = order_seed | 1;
                for i in (1..fields.len()).rev() {
                    state_rng ^= state_rng << 13;
                    state_rng ^= state_rng >> 7;
                    state_rng ^= state_rng << 17;
                    let j = usize::try_from(state_rng % (i as u64 + 1)).unwrap();
                    fields.swap(i, j);
                }
                if let Some(t) = &text {
                    fields.push(format!("{}:{t}", random_case("text", case_mask >> 17)));
                }
                let mut input = String::new();
                for (i, f) in fields.iter().enumerate() {
                    if i > 0 {
                        input.push_str(&" ".repeat(spaces[i % spaces.len()]));
                    }
                    input.push_str(f);
                }

                let r = Receipt::parse(input.as_bytes()).unwrap();
                prop_assert_eq!(&*r.id, id.as_str());
                prop_assert_eq!(r.stat.message_state(), Some(state.1));
                prop_assert_eq!(r.submitted, sub);
                prop_assert_eq!(r.delivered, dlvrd);
                prop_assert_eq!(r.submit_date, submit.map(|(t, _)| t));
                prop_assert_eq!(r.done_date, done.map(|(t, _)| t));
                prop_assert_eq!(r.err.and_then(|e| e.code), err);
                prop_assert_eq!(r.text.as_deref(), text.as_deref().map(str::as_bytes));
            }

            #[test]
            fn hex_and_decimal_forms_of_a_number_match(
                n in any::<u128>(),
                zeros_a in 0usize..4,
                zeros_b in 0usize..4,
                upper in any::<bool>(),
                prefix in any::<bool>(),
            ) {
                let hex = if upper { format!("{n:X}") } else { format!("{n:x}") };
                let hex = format!("{}{}{hex}", if prefix { "0x" } else { "" }, "0".repeat(zeros_a));
                let dec = format!("{}{n}", "0".repeat(zeros_b));
                let mapping = MessageIdMapping::new(IdFormat::Hex, IdFormat::Decimal);
                let receipt_text = format!("id:{dec} stat:DELIVRD");
                let receipt = Receipt::parse(receipt_text.as_bytes()).unwrap();
                prop_assert_eq!(mapping.submit_key(&hex).unwrap(), MessageIdKey::Numeric(n));
                prop_assert_eq!(mapping.receipt_key(&receipt).unwrap(), MessageIdKey::Numeric(n));
            }

            #[test]
            fn normalize_never_panics_and_is_deterministic(raw in any::<String>()) {
                let blank = raw
                    .trim_matches(|c: char| c.is_ascii_whitespace() || c == '\0')
                    .is_empty();
                for format in [
                    IdFormat::Verbatim,
                    IdFormat::Exact,
                    IdFormat::Decimal,
                    IdFormat::Hex,
                    IdFormat::Auto,
                ] {
                    let a = normalize(&raw, format);
                    prop_assert_eq!(a.clone(), normalize(&raw, format));
                    prop_assert_eq!(a.is_err(), blank);
                }
            }

            /// `unix_timestamp` agrees with counting days one year and month at a time.
            #[test]
            fn unix_timestamp_matches_naive_count((t, _) in date()) {
                let mut days: i64 =
                    (1970..t.year()).map(|y| if is_leap(y) { 366 } else { 365 }).sum();
                days += (1..t.month()).map(|m| i64::from(days_in_month(t.year(), m))).sum::<i64>();
                days += i64::from(t.day()) - 1;
                let expected = days * 86_400
                    + i64::from(t.hour()) * 3_600
                    + i64::from(t.minute()) * 60
                    + i64::from(t.second().unwrap_or(0));
                prop_assert_eq!(t.unix_timestamp(), expected);
            }
        }
    }
}
