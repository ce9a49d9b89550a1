//! What the simulator sends to ESMEs on its own initiative — delivery
//! receipts and mobile-originated messages — and the queue that holds them
//! until they are due.
//!
//! A receipt is kept in a compact form ([`ReceiptJob`]: the message id, the
//! two addresses, the submit time and the first 20 characters) and only
//! turned into a `deliver_sm` when it is written, so a receipt that waits
//! through a reconnect carries a fresh `done date`. An MO segment is built
//! once ([`mo_segments`]) and re-sent unchanged.
//!
//! [`DueQueue`] replaces one timer per message: every receipt of a
//! connection is delayed by the same `dlr_delay`, so in the common case they
//! become due in the order they were queued and a `VecDeque` (O(1)) is the
//! whole schedule. The few items that arrive out of order (a receipt moved
//! from a dead connection, a retry after an error answer) go to a small
//! binary heap beside it. The connection arms its single sleep at
//! [`DueQueue::next_due`].

use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, VecDeque};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use carrier_protocol::segment::{SplitOptions, split_text};
use carrier_protocol::smpp::pdu::DeliverSm;
use carrier_protocol::smpp::{
    COctetString, DataCoding, EsmClass, MessageState, Npi, ShortMessage, Tlv, TlvTag, Tlvs, Ton,
};
use carrier_protocol::text::EncodingOptions;

/// The most characters of the original message a receipt quotes (SMPP 3.4
/// Appendix B: "the first 20 characters of the short message").
pub(crate) const RECEIPT_TEXT_CHARS: usize = 20;

/// One SMPP address: type of number, numbering plan, digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Address {
    pub ton: Ton,
    pub npi: Npi,
    pub addr: COctetString,
}

/// The id a receipt reports on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ReceiptId {
    /// One of ours (the counter value; see [`format_message_id`]).
    Counter(u64),
    /// Any id, injected by a test (`receipt_for` in the MO file): 1 to 64
    /// octets without NUL, checked when it is given.
    Given(Bytes),
}

/// A delivery receipt waiting to be sent (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReceiptJob {
    /// The id the submit was answered with.
    pub message_id: ReceiptId,
    /// The receipt's source: the submit's destination.
    pub source: Address,
    /// The receipt's destination: the submit's source.
    pub dest: Address,
    /// When the submit was accepted (Unix seconds).
    pub submitted_unix: u64,
    /// The first characters of the message, already made safe (see
    /// [`receipt_text`]).
    pub text: String,
    /// The state reported (`DELIVRD` unless `fail_every` or a script says
    /// otherwise).
    pub state: MessageState,
}

impl ReceiptJob {
    /// The `deliver_sm` of this receipt, done at `done_unix` (Unix seconds).
    pub(crate) fn to_deliver_sm(&self, done_unix: u64) -> DeliverSm {
        let counter_id;
        let id: &[u8] = match &self.message_id {
            ReceiptId::Counter(n) => {
                counter_id = format_message_id(*n);
                &counter_id
            }
            ReceiptId::Given(id) => id,
        };
        let success = matches!(
            self.state,
            MessageState::Delivered | MessageState::Accepted | MessageState::Enroute
        );
        let text = format!(
            "id:{} sub:001 dlvrd:{} submit date:{} done date:{} stat:{} err:{} text:{}",
            String::from_utf8_lossy(id),
            if self.state == MessageState::Delivered {
                "001"
            } else {
                "000"
            },
            String::from_utf8_lossy(&yymmddhhmm(self.submitted_unix)),
            String::from_utf8_lossy(&yymmddhhmm(done_unix)),
            stat_name(self.state),
            if success { "000" } else { "001" },
            self.text,
        );
        let mut tlvs = Tlvs::new();
        // Ours are 16 hex digits, given ones were checked: never a NUL,
        // never too long.
        if let Ok(tlv) = Tlv::c_string(TlvTag::ReceiptedMessageId, id) {
            tlvs.push(tlv);
        }
        tlvs.push(Tlv::u8(TlvTag::MessageState, self.state.value()));
        DeliverSm {
            source_addr_ton: self.source.ton,
            source_addr_npi: self.source.npi,
            source_addr: self.source.addr.clone(),
            dest_addr_ton: self.dest.ton,
            dest_addr_npi: self.dest.npi,
            destination_addr: self.dest.addr.clone(),
            esm_class: EsmClass(EsmClass::DELIVERY_RECEIPT),
            data_coding: DataCoding::SmscDefault,
            // At most ~200 octets: the fixed part, a 64-octet id and 20
            // ASCII characters.
            short_message: ShortMessage::new(Bytes::from(text.into_bytes())).unwrap_or_default(),
            tlvs,
            ..DeliverSm::default()
        }
    }
}

/// The Appendix B `stat:` word of a state (SMPP 3.4 names, 5.0's
/// `SKIPPED`, and `SCHEDULED`).
pub(crate) fn stat_name(state: MessageState) -> &'static str {
    match state {
        MessageState::Scheduled => "SCHEDULED",
        MessageState::Enroute => "ENROUTE",
        MessageState::Delivered => "DELIVRD",
        MessageState::Expired => "EXPIRED",
        MessageState::Deleted => "DELETED",
        MessageState::Undeliverable => "UNDELIV",
        MessageState::Accepted => "ACCEPTD",
        MessageState::Rejected => "REJECTD",
        MessageState::Skipped => "SKIPPED",
        MessageState::Unknown | MessageState::Other(_) => "UNKNOWN",
    }
}

/// The state of a `stat:` word (case-insensitive; see [`stat_name`]).
pub(crate) fn parse_stat(word: &str) -> Option<MessageState> {
    [
        MessageState::Scheduled,
        MessageState::Enroute,
        MessageState::Delivered,
        MessageState::Expired,
        MessageState::Deleted,
        MessageState::Undeliverable,
        MessageState::Accepted,
        MessageState::Unknown,
        MessageState::Rejected,
        MessageState::Skipped,
    ]
    .into_iter()
    .find(|&state| stat_name(state).eq_ignore_ascii_case(word))
}

/// Something the simulator sends as a `deliver_sm`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outgoing {
    /// A delivery receipt; it goes to a bind of the submitter's system_id.
    Receipt(ReceiptJob),
    /// One segment of a mobile-originated message; any receiving bind.
    Mo(Box<DeliverSm>),
}

impl Outgoing {
    /// The `deliver_sm` to send now.
    pub(crate) fn to_deliver_sm(&self, now_unix: u64) -> DeliverSm {
        match self {
            Outgoing::Receipt(job) => job.to_deliver_sm(now_unix),
            Outgoing::Mo(sm) => (**sm).clone(),
        }
    }

    pub(crate) fn is_receipt(&self) -> bool {
        matches!(self, Outgoing::Receipt(_))
    }
}

/// An [`Outgoing`] and when it may be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Scheduled {
    pub due: Instant,
    pub item: Outgoing,
}

/// A heap entry ordered by (due, insertion order) only.
#[derive(Debug)]
struct HeapEntry {
    due: Instant,
    order: u64,
    item: Outgoing,
}

impl PartialEq for HeapEntry {
    fn eq(&self, other: &Self) -> bool {
        self.due == other.due && self.order == other.order
    }
}

impl Eq for HeapEntry {}

impl PartialOrd for HeapEntry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for HeapEntry {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.due, self.order).cmp(&(other.due, other.order))
    }
}

/// Items ordered by due time (see the module docs for the two-part shape).
#[derive(Debug, Default)]
pub(crate) struct DueQueue {
    /// Non-decreasing due times.
    fifo: VecDeque<Scheduled>,
    /// Everything that arrived earlier than `fifo`'s back.
    heap: BinaryHeap<Reverse<HeapEntry>>,
    order: u64,
}

impl DueQueue {
    pub(crate) fn push(&mut self, scheduled: Scheduled) {
        if self
            .fifo
            .back()
            .is_none_or(|back| back.due <= scheduled.due)
        {
            self.fifo.push_back(scheduled);
        } else {
            self.order += 1;
            self.heap.push(Reverse(HeapEntry {
                due: scheduled.due,
                order: self.order,
                item: scheduled.item,
            }));
        }
    }

    /// The earliest due time.
    pub(crate) fn next_due(&self) -> Option<Instant> {
        let fifo = self.fifo.front().map(|s| s.due);
        let heap = self.heap.peek().map(|Reverse(e)| e.due);
        match (fifo, heap) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The earliest item if it is due at `now`.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<Scheduled> {
        let fifo = self.fifo.front().map(|s| s.due);
        let heap = self.heap.peek().map(|Reverse(e)| e.due);
        let from_heap = match (fifo, heap) {
            (_, None) => false,
            (None, Some(_)) => true,
            (Some(a), Some(b)) => b < a,
        };
        if from_heap {
            if heap.is_some_and(|due| due <= now) {
                return self.heap.pop().map(|Reverse(e)| Scheduled {
                    due: e.due,
                    item: e.item,
                });
            }
            None
        } else if fifo.is_some_and(|due| due <= now) {
            self.fifo.pop_front()
        } else {
            None
        }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.fifo.len() + self.heap.len()
    }

    /// Everything, in no particular order.
    pub(crate) fn drain_all(&mut self) -> Vec<Scheduled> {
        let mut out: Vec<Scheduled> = self.fifo.drain(..).collect();
        out.extend(self.heap.drain().map(|Reverse(e)| Scheduled {
            due: e.due,
            item: e.item,
        }));
        out
    }
}

/// The message id for counter value `n`: 16 lowercase hex digits.
pub(crate) fn format_message_id(n: u64) -> [u8; 16] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0u8; 16];
    for (i, slot) in out.iter_mut().enumerate() {
        let shift = 60 - 4 * i;
        *slot = DIGITS[((n >> shift) & 0xF) as usize];
    }
    out
}

/// Seconds since the Unix epoch (0 if the clock is before it).
pub(crate) fn unix_now() -> (u64, u64) {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    (since.as_secs(), since.as_millis() as u64)
}

/// `YYMMDDhhmm` in UTC, the Appendix B date form.
pub(crate) fn yymmddhhmm(unix_secs: u64) -> [u8; 10] {
    let days = unix_secs / 86_400;
    let secs_of_day = unix_secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    let fields = [
        (year % 100) as u8,
        month,
        day,
        (secs_of_day / 3600) as u8,
        (secs_of_day % 3600 / 60) as u8,
    ];
    let mut out = [b'0'; 10];
    for (i, v) in fields.into_iter().enumerate() {
        out[2 * i] = b'0' + v / 10;
        out[2 * i + 1] = b'0' + v % 10;
    }
    out
}

/// (year, month, day) of a day count since 1970-01-01 (Howard Hinnant's
/// civil_from_days, for non-negative days).
fn civil_from_days(days: u64) -> (u64, u8, u8) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// The receipt's `text:` field: the first 20 characters of `text`, with
/// every character outside printable ASCII — and the few printable ones whose
/// GSM 03.38 code differs from ASCII (`@ $ _` and those GSM only reaches with
/// an escape) — replaced by `?`. The receipt is sent with `data_coding` 0 and
/// is read as ASCII by most ESMEs, so this keeps both readings identical.
pub(crate) fn receipt_text(text: &str) -> String {
    text.chars()
        .take(RECEIPT_TEXT_CHARS)
        .map(|c| match c {
            '@' | '$' | '_' | '`' | '[' | ']' | '{' | '}' | '\\' | '^' | '~' | '|' => '?',
            ' '..='~' => c,
            _ => '?',
        })
        .collect()
}

/// Why an MO message cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoError {
    /// An address is empty, too long for SMPP (20 octets) or contains NUL.
    #[error("invalid address {0:?}: 1 to 20 characters, no NUL")]
    InvalidAddress(String),
    /// The text needs more segments than a concatenated message can have.
    #[error("text cannot be sent: {0}")]
    TooLong(String),
    /// A receipt id is empty, longer than 64 octets or contains NUL.
    #[error("invalid receipt id {0:?}: 1 to 64 octets, no NUL")]
    InvalidReceiptId(String),
}

/// The SMPP form of an address given as the API gives it: `+E.164` goes out
/// as digits with TON 1 / NPI 1 (docs/architecture.md, "Fixed details");
/// bare digits of at most 8
/// characters are a short code (TON 3 network specific, NPI 0); other bare
/// digits are taken as international too; anything else is alphanumeric
/// (TON 5, NPI 0).
pub(crate) fn smpp_address(number: &str) -> Result<Address, MoError> {
    let bad = || MoError::InvalidAddress(number.to_owned());
    let (ton, npi, text) = if let Some(digits) = number.strip_prefix('+') {
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        (Ton::International, Npi::Isdn, digits)
    } else if !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()) {
        if number.len() <= 8 {
            (Ton::NetworkSpecific, Npi::Unknown, number)
        } else {
            (Ton::International, Npi::Isdn, number)
        }
    } else {
        (Ton::Alphanumeric, Npi::Unknown, number)
    };
    if text.is_empty() || text.len() > 20 {
        return Err(bad());
    }
    let addr = COctetString::try_from(text).map_err(|_| bad())?;
    Ok(Address { ton, npi, addr })
}

/// The `deliver_sm` segments of an MO message: GSM 03.38 (with the national
/// shift tables `encoding` allows) when the text fits it, UCS-2 otherwise,
/// split with an 8-bit-reference concatenation UDH when it is longer than
/// one SMS.
pub(crate) fn mo_segments(
    from: &str,
    to: &str,
    text: &str,
    reference: u8,
    encoding: &EncodingOptions,
) -> Result<Vec<DeliverSm>, MoError> {
    let source = smpp_address(from)?;
    let dest = smpp_address(to)?;
    let options = SplitOptions {
        reference: u16::from(reference),
        ..SplitOptions::default()
    };
    let segments =
        split_text(text, encoding, &options).map_err(|e| MoError::TooLong(e.to_string()))?;
    let mut out = Vec::with_capacity(segments.parts.len());
    for part in segments.parts {
        let esm_class = EsmClass(part.esm_class_bits());
        let short_message =
            ShortMessage::new(part.short_message).map_err(|e| MoError::TooLong(e.to_string()))?;
        out.push(DeliverSm {
            source_addr_ton: source.ton,
            source_addr_npi: source.npi,
            source_addr: source.addr.clone(),
            dest_addr_ton: dest.ton,
            dest_addr_npi: dest.npi,
            destination_addr: dest.addr.clone(),
            esm_class,
            data_coding: DataCoding::from(segments.data_coding),
            short_message,
            ..DeliverSm::default()
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use carrier_protocol::receipt::Receipt;
    use carrier_protocol::segment::parse_udh;

    use super::*;

    fn addr(s: &str) -> Address {
        smpp_address(s).expect("valid test address")
    }

    #[test]
    fn message_ids_are_16_hex_digits() {
        assert_eq!(&format_message_id(0), b"0000000000000000");
        assert_eq!(&format_message_id(0xdead_beef), b"00000000deadbeef");
        assert_eq!(&format_message_id(u64::MAX), b"ffffffffffffffff");
    }

    #[test]
    fn dates_are_utc_yymmddhhmm() {
        assert_eq!(&yymmddhhmm(0), b"7001010000");
        // 2024-02-29 23:59:59 UTC.
        assert_eq!(&yymmddhhmm(1_709_251_199), b"2402292359");
        // 2000-03-01 00:00 UTC.
        assert_eq!(&yymmddhhmm(951_868_800), b"0003010000");
    }

    #[test]
    fn receipt_is_appendix_b_with_tlvs_and_parses_back() {
        let job = ReceiptJob {
            message_id: ReceiptId::Counter(0x1234),
            source: addr("+15557654321"),
            dest: addr("+15551230001"),
            submitted_unix: 1_709_251_199,
            text: receipt_text("Hello there, this is longer than twenty"),
            state: MessageState::Delivered,
        };
        let sm = job.to_deliver_sm(1_709_251_260);
        let text = String::from_utf8_lossy(sm.short_message.as_bytes()).into_owned();
        assert_eq!(
            text,
            "id:0000000000001234 sub:001 dlvrd:001 submit date:2402292359 \
             done date:2403010001 stat:DELIVRD err:000 text:Hello there, this is"
        );
        assert_eq!(sm.esm_class, EsmClass(0x04));
        assert_eq!(sm.source_addr.as_bytes(), b"15557654321");
        assert_eq!(sm.destination_addr.as_bytes(), b"15551230001");
        assert_eq!(
            sm.tlvs.receipted_message_id().as_deref(),
            Some(&b"0000000000001234"[..])
        );
        assert_eq!(sm.tlvs.message_state(), Some(MessageState::Delivered));
        let parsed = Receipt::parse(sm.short_message.as_bytes()).expect("parses");
        assert_eq!(parsed.id, "0000000000001234");
        assert!(parsed.stat.is_final());
    }

    #[test]
    fn failed_and_given_id_receipts() {
        let job = ReceiptJob {
            message_id: ReceiptId::Given(Bytes::from_static(b"someid")),
            source: addr("+15557654321"),
            dest: addr("+15551230001"),
            submitted_unix: 1_709_251_199,
            text: String::new(),
            state: MessageState::Undeliverable,
        };
        let sm = job.to_deliver_sm(1_709_251_260);
        let text = String::from_utf8_lossy(sm.short_message.as_bytes()).into_owned();
        assert_eq!(
            text,
            "id:someid sub:001 dlvrd:000 submit date:2402292359 \
             done date:2403010001 stat:UNDELIV err:001 text:"
        );
        assert_eq!(
            sm.tlvs.receipted_message_id().as_deref(),
            Some(&b"someid"[..])
        );
        assert_eq!(sm.tlvs.message_state(), Some(MessageState::Undeliverable));
        let parsed = Receipt::parse(sm.short_message.as_bytes()).expect("parses");
        assert_eq!(parsed.id, "someid");
        assert_eq!(
            parsed.stat,
            carrier_protocol::receipt::ReceiptState::Undeliverable
        );
    }

    #[test]
    fn stat_words_round_trip() {
        for v in 0..=9 {
            let state = MessageState::from(v);
            assert_eq!(parse_stat(stat_name(state)), Some(state));
        }
        assert_eq!(parse_stat("delivrd"), Some(MessageState::Delivered));
        assert_eq!(parse_stat("DELIVERED"), None);
    }

    #[test]
    fn receipt_text_is_ascii_safe() {
        assert_eq!(receipt_text("a@b$c_d€é"), "a?b?c?d??");
        assert_eq!(receipt_text("Привет"), "??????");
        assert_eq!(receipt_text(&"x".repeat(50)).len(), 20);
    }

    #[test]
    fn addresses_follow_the_design() {
        let a = addr("+15551230001");
        assert_eq!((a.ton, a.npi), (Ton::International, Npi::Isdn));
        assert_eq!(a.addr.as_bytes(), b"15551230001");
        let short = addr("12345");
        assert_eq!(short.ton, Ton::NetworkSpecific);
        assert_eq!(addr("ACME").ton, Ton::Alphanumeric);
        assert!(smpp_address("").is_err());
        assert!(smpp_address("+").is_err());
        assert!(smpp_address("+1555abc").is_err());
        assert!(smpp_address(&"1".repeat(21)).is_err());
        assert!(smpp_address("a\0b").is_err());
    }

    #[test]
    fn mo_gsm_single_and_ucs2_split() {
        let one = mo_segments(
            "+15557654321",
            "+15551230001",
            "Hello",
            7,
            &EncodingOptions::default(),
        )
        .expect("valid");
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].data_coding, DataCoding::SmscDefault);
        assert!(!one[0].esm_class.udhi());
        assert_eq!(one[0].short_message.as_bytes(), b"Hello");

        let long = "Привет мир! ".repeat(10);
        let parts = mo_segments(
            "+15557654321",
            "+15551230001",
            &long,
            9,
            &EncodingOptions::default(),
        )
        .expect("valid");
        assert_eq!(parts.len(), 2);
        for (i, part) in parts.iter().enumerate() {
            assert_eq!(part.data_coding, DataCoding::Ucs2);
            assert!(part.esm_class.udhi());
            let (udh, _) = parse_udh(part.short_message.as_bytes()).expect("udh");
            let concat = udh.concat().expect("concat ie");
            assert_eq!((concat.reference, concat.total), (9, 2));
            assert_eq!(usize::from(concat.seq), i + 1);
        }
    }

    #[test]
    fn due_queue_orders_fifo_and_late_arrivals() {
        let t0 = Instant::now();
        let at = |ms| t0 + Duration::from_millis(ms);
        let mo = |n: u8| {
            Outgoing::Mo(Box::new(DeliverSm {
                sm_default_msg_id: n,
                ..DeliverSm::default()
            }))
        };
        let mut q = DueQueue::default();
        q.push(Scheduled {
            due: at(10),
            item: mo(1),
        });
        q.push(Scheduled {
            due: at(20),
            item: mo(2),
        });
        q.push(Scheduled {
            due: at(5),
            item: mo(3),
        });
        q.push(Scheduled {
            due: at(15),
            item: mo(4),
        });
        assert_eq!(q.len(), 4);
        assert_eq!(q.next_due(), Some(at(5)));
        assert!(q.pop_due(at(4)).is_none());
        let order: Vec<u8> = std::iter::from_fn(|| q.pop_due(at(100)))
            .map(|s| match s.item {
                Outgoing::Mo(sm) => sm.sm_default_msg_id,
                Outgoing::Receipt(_) => 0,
            })
            .collect();
        assert_eq!(order, vec![3, 1, 4, 2]);
        assert_eq!(q.next_due(), None);
        q.push(Scheduled {
            due: at(1),
            item: mo(5),
        });
        assert_eq!(q.drain_all().len(), 1);
        assert_eq!(q.len(), 0);
    }
}
