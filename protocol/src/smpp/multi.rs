//! The two list fields of submit_multi: destination addresses (with their
//! count, `number_of_dests`) and the unsuccessful SMEs of its response (with
//! `no_unsuccess`).

use super::CommandStatus;
use super::error::{DecodeError, DecodeErrorKind};
use super::field::{Field, Reader, Spec, Writer};
use super::octets::COctetString;
use super::values::{Npi, Ton};

const ADDR: Spec = Spec::cstr(21, CommandStatus::InvalidDestinationAddress);

/// One destination of a submit_multi: an SME address (dest_flag 1) or a
/// distribution list name (dest_flag 2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DestAddress {
    /// dest_flag 1.
    SmeAddress {
        /// dest_addr_ton.
        dest_addr_ton: Ton,
        /// dest_addr_npi.
        dest_addr_npi: Npi,
        /// destination_addr.
        destination_addr: COctetString,
    },
    /// dest_flag 2.
    DistributionList {
        /// dl_name.
        dl_name: COctetString,
    },
}

/// `number_of_dests` followed by that many `dest_address` entries (at most 254).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DestAddresses(pub Vec<DestAddress>);

impl Field for DestAddresses {
    fn decode(r: &mut Reader<'_>, spec: &Spec) -> Result<Self, DecodeError> {
        let count = r.u8(&spec.named("number_of_dests"))?;
        if usize::from(count) > spec.max {
            return Err(r.error(DecodeErrorKind::InvalidValue(count.into()), spec));
        }
        let mut list = Vec::with_capacity(usize::from(count).min(r.remaining() / 3));
        for _ in 0..count {
            let flag_spec = Spec::cstr(1, CommandStatus::InvalidDestinationFlag).named("dest_flag");
            let flag = r.u8(&flag_spec)?;
            list.push(match flag {
                1 => DestAddress::SmeAddress {
                    dest_addr_ton: Ton::from(r.u8(&spec.named("dest_addr_ton"))?),
                    dest_addr_npi: Npi::from(r.u8(&spec.named("dest_addr_npi"))?),
                    destination_addr: r.c_octet_string(&ADDR.named("destination_addr"))?,
                },
                2 => DestAddress::DistributionList {
                    dl_name: r.c_octet_string(
                        &Spec::cstr(21, CommandStatus::InvalidDistributionListName)
                            .named("dl_name"),
                    )?,
                },
                other => {
                    return Err(r.error(DecodeErrorKind::InvalidValue(other.into()), &flag_spec));
                }
            });
        }
        Ok(DestAddresses(list))
    }

    fn encode(&self, w: &mut Writer<'_>) {
        // The count is one octet; a longer list is cut at 255 entries so the
        // count and the entries written always agree.
        let list = &self.0[..self.0.len().min(255)];
        w.u8(list.len() as u8);
        for dest in list {
            match dest {
                DestAddress::SmeAddress {
                    dest_addr_ton,
                    dest_addr_npi,
                    destination_addr,
                } => {
                    w.u8(1);
                    w.u8(dest_addr_ton.value());
                    w.u8(dest_addr_npi.value());
                    destination_addr.encode(w);
                }
                DestAddress::DistributionList { dl_name } => {
                    w.u8(2);
                    dl_name.encode(w);
                }
            }
        }
    }

    fn encoded_len(&self) -> usize {
        1 + self.0[..self.0.len().min(255)]
            .iter()
            .map(|d| match d {
                DestAddress::SmeAddress {
                    destination_addr, ..
                } => 3 + destination_addr.encoded_len(),
                DestAddress::DistributionList { dl_name } => 1 + dl_name.encoded_len(),
            })
            .sum::<usize>()
    }
}

/// One destination a submit_multi could not reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsuccessSme {
    /// dest_addr_ton.
    pub dest_addr_ton: Ton,
    /// dest_addr_npi.
    pub dest_addr_npi: Npi,
    /// destination_addr.
    pub destination_addr: COctetString,
    /// error_status_code: why.
    pub error_status_code: CommandStatus,
}

/// `no_unsuccess` followed by that many `unsuccess_sme` entries.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UnsuccessSmes(pub Vec<UnsuccessSme>);

impl Field for UnsuccessSmes {
    fn decode(r: &mut Reader<'_>, spec: &Spec) -> Result<Self, DecodeError> {
        let count = r.u8(&spec.named("no_unsuccess"))?;
        let mut list = Vec::with_capacity(usize::from(count).min(r.remaining() / 7));
        for _ in 0..count {
            list.push(UnsuccessSme {
                dest_addr_ton: Ton::from(r.u8(&spec.named("dest_addr_ton"))?),
                dest_addr_npi: Npi::from(r.u8(&spec.named("dest_addr_npi"))?),
                destination_addr: r.c_octet_string(&ADDR.named("destination_addr"))?,
                error_status_code: CommandStatus::from(r.u32(&spec.named("error_status_code"))?),
            });
        }
        Ok(UnsuccessSmes(list))
    }

    fn encode(&self, w: &mut Writer<'_>) {
        let list = &self.0[..self.0.len().min(255)];
        w.u8(list.len() as u8);
        for sme in list {
            w.u8(sme.dest_addr_ton.value());
            w.u8(sme.dest_addr_npi.value());
            sme.destination_addr.encode(w);
            w.u32(sme.error_status_code.value());
        }
    }

    fn encoded_len(&self) -> usize {
        1 + self.0[..self.0.len().min(255)]
            .iter()
            .map(|s| 6 + s.destination_addr.encoded_len())
            .sum::<usize>()
    }
}
