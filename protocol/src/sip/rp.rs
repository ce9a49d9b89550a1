//! `application/vnd.3gpp.sms` bodies (3GPP TS 24.341): an RP-DATA message
//! (TS 24.011 §7.3.1) carrying a TPDU (TS 23.040 §9.2): SMS-DELIVER from
//! the network, or SMS-SUBMIT from a device — decoded to the text, the
//! addresses and the concatenation information the inbound path needs.
//!
//! Every length is checked against what is there: a TPDU from a trunk is
//! untrusted input like any other.

use crate::segment::parse_udh;
use crate::text::gsm7::{self, Tables};

/// Why a body is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RpError {
    /// Fewer bytes than a field needs.
    #[error("the {0} is cut short")]
    Truncated(&'static str),
    /// Not RP-DATA.
    #[error("RP message type {0} is not RP-DATA (0 or 1)")]
    NotRpData(u8),
    /// A TPDU type other than SMS-DELIVER or SMS-SUBMIT.
    #[error("TP message type {0} is neither SMS-DELIVER nor SMS-SUBMIT")]
    UnsupportedTpdu(u8),
    /// A user data header that does not parse.
    #[error("bad user data header: {0}")]
    BadUdh(String),
    /// A data coding this decoder does not read (compressed).
    #[error("data coding scheme 0x{0:02x} is not supported")]
    UnsupportedDcs(u8),
    /// The text does not decode.
    #[error("the user data does not decode: {0}")]
    BadText(String),
}

/// An RP-DATA message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpData {
    /// Network to mobile (MTI 1) rather than mobile to network (MTI 0).
    pub from_network: bool,
    /// RP-Message Reference.
    pub reference: u8,
    /// RP-Originator Address (the service centre, network to mobile).
    pub originator: Option<String>,
    /// RP-Destination Address (the service centre, mobile to network).
    pub destination: Option<String>,
    /// RP-User Data: the TPDU.
    pub tpdu: Vec<u8>,
}

/// How the text was coded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TpAlphabet {
    /// GSM 7-bit, packed.
    Gsm7,
    /// 8-bit data (decoded as Latin-1 for display).
    Octets,
    /// UCS-2.
    Ucs2,
}

/// What a TPDU says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsTpdu {
    /// SMS-DELIVER (`true`) or SMS-SUBMIT.
    pub deliver: bool,
    /// The originating (DELIVER) or destination (SUBMIT) address: `+` and
    /// digits for international numbers, digits, or alphanumeric text.
    pub address: String,
    /// The alphabet.
    pub alphabet: TpAlphabet,
    /// The text.
    pub text: String,
    /// `(reference, total, sequence)` of a concatenated message's part.
    pub concat: Option<(u16, u8, u8)>,
}

struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], RpError> {
        let end = self.at.checked_add(n).ok_or(RpError::Truncated(what))?;
        let slice = self
            .bytes
            .get(self.at..end)
            .ok_or(RpError::Truncated(what))?;
        self.at = end;
        Ok(slice)
    }

    fn byte(&mut self, what: &'static str) -> Result<u8, RpError> {
        Ok(self.take(1, what)?[0])
    }

    fn rest(&self) -> &'a [u8] {
        self.bytes.get(self.at..).unwrap_or_default()
    }
}

/// BCD digits, low nibble first, `F` filler ignored (`*#abc` for 0xA–0xE).
fn bcd(bytes: &[u8], digits: usize) -> String {
    let mut out = String::with_capacity(digits.min(bytes.len() * 2));
    for byte in bytes {
        for nibble in [byte & 0x0F, byte >> 4] {
            if out.len() == digits {
                return out;
            }
            out.push(match nibble {
                0..=9 => char::from(b'0' + nibble),
                10 => '*',
                11 => '#',
                12 => 'a',
                13 => 'b',
                14 => 'c',
                _ => return out,
            });
        }
    }
    out
}

fn with_plus(ton_npi: u8, digits: String) -> String {
    if (ton_npi >> 4) & 0x07 == 1 {
        format!("+{digits}")
    } else {
        digits
    }
}

/// An RP address: length octet (of what follows), TON/NPI, BCD digits.
fn rp_address(cursor: &mut Cursor<'_>, what: &'static str) -> Result<Option<String>, RpError> {
    let len = usize::from(cursor.byte(what)?);
    if len == 0 {
        return Ok(None);
    }
    let field = cursor.take(len, what)?;
    let ton_npi = field[0];
    Ok(Some(with_plus(ton_npi, bcd(&field[1..], usize::MAX))))
}

/// Decodes an RP-DATA message.
pub fn decode_rp_data(bytes: &[u8]) -> Result<RpData, RpError> {
    let mut cursor = Cursor { bytes, at: 0 };
    let mti = cursor.byte("RP message type")? & 0x07;
    if mti > 1 {
        return Err(RpError::NotRpData(mti));
    }
    let reference = cursor.byte("RP message reference")?;
    let originator = rp_address(&mut cursor, "RP originator address")?;
    let destination = rp_address(&mut cursor, "RP destination address")?;
    let len = usize::from(cursor.byte("RP user data length")?);
    let tpdu = cursor.take(len, "RP user data")?.to_vec();
    Ok(RpData {
        from_network: mti == 1,
        reference,
        originator,
        destination,
        tpdu,
    })
}

/// A TP address: digit count, TON/NPI, semi-octets (or packed GSM text
/// for alphanumeric addresses).
fn tp_address(cursor: &mut Cursor<'_>) -> Result<String, RpError> {
    let digits = usize::from(cursor.byte("TP address length")?);
    let ton_npi = cursor.byte("TP address type")?;
    let field = cursor.take(digits.div_ceil(2), "TP address")?;
    if (ton_npi >> 4) & 0x07 == 5 {
        // Alphanumeric: `digits` semi-octets of packed GSM 7-bit.
        let septets = digits * 4 / 7;
        let unpacked =
            gsm7::unpack(field, septets, 0).map_err(|e| RpError::BadText(e.to_string()))?;
        return gsm7::decode_unpacked(&unpacked, Tables::DEFAULT)
            .map_err(|e| RpError::BadText(e.to_string()));
    }
    Ok(with_plus(ton_npi, bcd(field, digits)))
}

fn alphabet_of(dcs: u8) -> Result<TpAlphabet, RpError> {
    match dcs >> 4 {
        0b0000..=0b0011 => {
            if dcs & 0x20 != 0 {
                return Err(RpError::UnsupportedDcs(dcs));
            }
            Ok(match (dcs >> 2) & 0x03 {
                1 => TpAlphabet::Octets,
                2 => TpAlphabet::Ucs2,
                _ => TpAlphabet::Gsm7,
            })
        }
        0b0100..=0b0111 => Err(RpError::UnsupportedDcs(dcs)),
        0b1110 => Ok(TpAlphabet::Ucs2),
        0b1111 => Ok(if dcs & 0x04 != 0 {
            TpAlphabet::Octets
        } else {
            TpAlphabet::Gsm7
        }),
        _ => Ok(TpAlphabet::Gsm7),
    }
}

/// Decodes an SMS-DELIVER or SMS-SUBMIT TPDU.
pub fn decode_tpdu(bytes: &[u8]) -> Result<SmsTpdu, RpError> {
    let mut cursor = Cursor { bytes, at: 0 };
    let first = cursor.byte("TP first octet")?;
    let mti = first & 0x03;
    let udhi = first & 0x40 != 0;
    let deliver = match mti {
        0 => true,
        1 => false,
        other => return Err(RpError::UnsupportedTpdu(other)),
    };
    if !deliver {
        cursor.byte("TP message reference")?;
    }
    let address = tp_address(&mut cursor)?;
    cursor.byte("TP protocol identifier")?;
    let dcs = cursor.byte("TP data coding scheme")?;
    if deliver {
        cursor.take(7, "TP service centre time stamp")?;
    } else {
        let validity = match (first >> 3) & 0x03 {
            0 => 0,
            2 => 1,
            _ => 7,
        };
        cursor.take(validity, "TP validity period")?;
    }
    let udl = usize::from(cursor.byte("TP user data length")?);
    let user_data = cursor.rest();
    let alphabet = alphabet_of(dcs)?;
    let (header_len, concat, tables) = if udhi {
        let (udh, _) = parse_udh(user_data).map_err(|e| RpError::BadUdh(e.to_string()))?;
        let header_len = 1 + usize::from(user_data.first().copied().unwrap_or(0));
        let concat = udh.concat().map(|c| (c.reference, c.total, c.seq));
        (header_len, concat, udh.gsm7_tables())
    } else {
        (0, None, Tables::DEFAULT)
    };
    let text = match alphabet {
        TpAlphabet::Gsm7 => {
            let header_septets = (header_len * 8).div_ceil(7);
            let fill_bits = (header_septets * 7 - header_len * 8) as u8;
            let septets = udl
                .checked_sub(header_septets)
                .ok_or(RpError::Truncated("TP user data"))?;
            let octets = user_data
                .get(header_len..)
                .ok_or(RpError::Truncated("TP user data"))?;
            if octets.len() * 8 < septets * 7 + usize::from(fill_bits) {
                return Err(RpError::Truncated("TP user data"));
            }
            let unpacked = gsm7::unpack(octets, septets, fill_bits)
                .map_err(|e| RpError::BadText(e.to_string()))?;
            gsm7::decode_unpacked(&unpacked, tables).map_err(|e| RpError::BadText(e.to_string()))?
        }
        TpAlphabet::Octets | TpAlphabet::Ucs2 => {
            let data = user_data
                .get(header_len..udl)
                .ok_or(RpError::Truncated("TP user data"))?;
            if alphabet == TpAlphabet::Ucs2 {
                if data.len() % 2 != 0 {
                    return Err(RpError::BadText("an odd number of UCS-2 octets".to_owned()));
                }
                let units: Vec<u16> = data
                    .chunks(2)
                    .map(|c| u16::from_be_bytes([c[0], c[1]]))
                    .collect();
                String::from_utf16(&units).map_err(|e| RpError::BadText(e.to_string()))?
            } else {
                data.iter().map(|&b| char::from(b)).collect()
            }
        }
    };
    Ok(SmsTpdu {
        deliver,
        address,
        alphabet,
        text,
        concat,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hex;

    fn bytes(text: &str) -> Vec<u8> {
        hex::decode(text).expect("hex")
    }

    /// The SMS-DELIVER example of the Diafaan PDU tutorial (an alphanumeric
    /// sender, GSM 7-bit text).
    #[test]
    fn a_deliver_with_an_alphanumeric_sender() {
        let tpdu = decode_tpdu(&bytes(
            "240DD0E474D81C0EBB010000111011315214000BE474D81C0EBB5DE3771B",
        ))
        .expect("valid");
        assert!(tpdu.deliver);
        assert_eq!(tpdu.address, "diafaan");
        assert_eq!(tpdu.text, "diafaan.com");
        assert_eq!(tpdu.alphabet, TpAlphabet::Gsm7);
    }

    /// The SMS-SUBMIT example of the dreamfabric PDU tutorial (relative
    /// validity, international destination).
    #[test]
    fn a_submit_with_an_international_destination() {
        let tpdu =
            decode_tpdu(&bytes("11000B916407281553F80000AA0AE8329BFD4697D9EC37")).expect("valid");
        assert!(!tpdu.deliver);
        assert_eq!(tpdu.address, "+46708251358");
        assert_eq!(tpdu.text, "hellohello");
    }

    #[test]
    fn rp_data_with_a_ucs2_concatenated_part() {
        // SMS-DELIVER, UDHI, from +15557654321, UCS-2, a concat IE (ref 7,
        // 2 parts, part 1) and "Hé 📦".
        let text = "Hé 📦";
        let mut ud = vec![0x05, 0x00, 0x03, 0x07, 0x02, 0x01];
        for unit in text.encode_utf16() {
            ud.extend_from_slice(&unit.to_be_bytes());
        }
        let mut tpdu = vec![0x44, 11, 0x91];
        tpdu.extend_from_slice(&bytes("5155674523F1"));
        tpdu.extend_from_slice(&[0x00, 0x08]);
        tpdu.extend_from_slice(&[0x62, 0x21, 0x50, 0x21, 0x43, 0x65, 0x00]);
        tpdu.push(ud.len() as u8);
        tpdu.extend_from_slice(&ud);
        let mut rp = vec![0x01, 0x2A, 0x07, 0x91];
        rp.extend_from_slice(&bytes("5155010000F0"));
        rp.push(0x00);
        rp.push(tpdu.len() as u8);
        rp.extend_from_slice(&tpdu);
        let rp_data = decode_rp_data(&rp).expect("RP-DATA");
        assert!(rp_data.from_network);
        assert_eq!(rp_data.reference, 0x2A);
        assert_eq!(rp_data.originator.as_deref(), Some("+15551000000"));
        let sms = decode_tpdu(&rp_data.tpdu).expect("TPDU");
        assert_eq!(sms.address, "+15557654321");
        assert_eq!(sms.alphabet, TpAlphabet::Ucs2);
        assert_eq!(sms.text, text);
        assert_eq!(sms.concat, Some((7, 2, 1)));
    }

    #[test]
    fn cut_and_odd_inputs_are_refused_without_panicking() {
        let good = bytes("240DD0E474D81C0EBB010000111011315214000BE474D81C0EBB5DE3771B");
        for cut in 0..good.len() {
            let _ = decode_tpdu(&good[..cut]);
        }
        assert!(decode_tpdu(&good[..good.len() - 2]).is_err());
        assert!(matches!(
            decode_rp_data(&[0x04, 0x01]),
            Err(RpError::NotRpData(4))
        ));
        assert!(decode_rp_data(&[0x00, 0x01, 0x05, 0x91]).is_err());
        assert!(matches!(
            decode_tpdu(&[0x02]),
            Err(RpError::UnsupportedTpdu(2))
        ));
    }
}
