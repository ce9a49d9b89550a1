//! Numbers on SMPP: `+E.164` in the gateway, digits with a type of number
//! and numbering plan on the wire.
//!
//! Out, an E.164 number goes as its digits without `+`, TON 1
//! (international) / NPI 1 (ISDN); a short code as its digits, TON 3
//! (network specific) / NPI 0 — unless the carrier's `source_ton`,
//! `source_npi`, `dest_ton` or `dest_npi` says otherwise. In, an address
//! marked international, or long enough to be one, comes back as `+E.164`
//! so the core sees one spelling of a customer whatever the carrier sends.

use carrier_protocol::smpp::{COctetString, Npi, Ton};

/// The TON/NPI a carrier wants on one side of its submits; `None` means
/// automatic.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AddressPlan {
    /// Type of number, if fixed by the carrier's config.
    pub ton: Option<Ton>,
    /// Numbering plan, if fixed by the carrier's config.
    pub npi: Option<Npi>,
}

impl AddressPlan {
    /// The wire form of `number` (`+E.164` or a short code).
    pub fn encode(self, number: &str) -> (Ton, Npi, COctetString) {
        let (ton, npi, digits) = match number.strip_prefix('+') {
            Some(digits) => (Ton::International, Npi::Isdn, digits),
            None => (Ton::NetworkSpecific, Npi::Unknown, number),
        };
        (
            self.ton.unwrap_or(ton),
            self.npi.unwrap_or(npi),
            // Numbers are checked at the API (at most 15 digits), so this
            // always fits the field.
            COctetString::try_from(digits).unwrap_or_default(),
        )
    }
}

/// Shortest all-digit address taken as a full international number when the
/// carrier marks it with TON unknown: short codes have 3 to 8 digits, E.164
/// numbers with their country code have 10 or more in every plan we route.
const MIN_INTERNATIONAL_DIGITS: usize = 10;

/// The gateway's spelling of an address received from the carrier.
pub fn decode(ton: Ton, address: &[u8]) -> String {
    let text = String::from_utf8_lossy(address);
    let text = text.trim();
    if let Some(digits) = text.strip_prefix('+') {
        return format!("+{digits}");
    }
    let all_digits = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    let international = match ton {
        Ton::International => all_digits,
        Ton::Unknown => all_digits && text.len() >= MIN_INTERNATIONAL_DIGITS,
        _ => false,
    };
    if international {
        format!("+{text}")
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn automatic_plan() {
        let (ton, npi, addr) = AddressPlan::default().encode("+15551230001");
        assert_eq!(
            (ton, npi, addr.as_bytes()),
            (Ton::International, Npi::Isdn, &b"15551230001"[..])
        );
        let (ton, npi, addr) = AddressPlan::default().encode("12345");
        assert_eq!(
            (ton, npi, addr.as_bytes()),
            (Ton::NetworkSpecific, Npi::Unknown, &b"12345"[..])
        );
    }

    #[test]
    fn configured_plan_wins() {
        let plan = AddressPlan {
            ton: Some(Ton::National),
            npi: Some(Npi::Unknown),
        };
        let (ton, npi, addr) = plan.encode("+15551230001");
        assert_eq!(
            (ton, npi, addr.as_bytes()),
            (Ton::National, Npi::Unknown, &b"15551230001"[..])
        );
    }

    #[test]
    fn inbound_addresses_are_normalized() {
        assert_eq!(decode(Ton::International, b"15557654321"), "+15557654321");
        assert_eq!(decode(Ton::Unknown, b"15557654321"), "+15557654321");
        assert_eq!(decode(Ton::Unknown, b"+15557654321"), "+15557654321");
        assert_eq!(decode(Ton::NetworkSpecific, b"12345"), "12345");
        assert_eq!(decode(Ton::Unknown, b"12345"), "12345");
        assert_eq!(decode(Ton::Alphanumeric, b"ACME"), "ACME");
        assert_eq!(decode(Ton::International, b"\xff1"), "\u{fffd}1");
    }
}
