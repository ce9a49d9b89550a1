//! Business numbers and the 10DLC hierarchy they belong to: brand → campaign →
//! number.
//!
//! This is where the configuration's cross-references meet: a number names
//! its SMS carrier, its MMS carrier, its campaign and its line; a campaign
//! names its brand. Every reference is checked here, while the spans of both
//! ends are still at hand, so a dangling name is reported at the line that
//! uses it.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::ops::Range;

use crate::config::carrier::{CarrierEntry, Protocol};
use crate::config::reader::{Ctx, Node, TableReader};
use crate::config::values::{PhoneNumber, parse_name, parse_positive_u32};

/// Throughput caps; each is optional and they combine (all must allow a
/// segment). They count every segment sent to a carrier
/// (docs/architecture.md, "Fixed details").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    /// Segments per second.
    pub per_second: Option<NonZeroU32>,
    /// Segments per minute (e.g. a campaign's carrier TPM).
    pub per_minute: Option<NonZeroU32>,
    /// Segments per day (e.g. a brand's daily cap).
    pub per_day: Option<NonZeroU32>,
}

impl Limits {
    /// Whether no cap is set.
    pub fn is_unlimited(&self) -> bool {
        self.per_second.is_none() && self.per_minute.is_none() && self.per_day.is_none()
    }
}

fn decode_limits(table: &mut TableReader<'_, '_>, cx: &mut Ctx<'_, '_>) -> Option<Limits> {
    let per_second = table.optional(cx, "per_second", parse_positive_u32);
    let per_minute = table.optional(cx, "per_minute", parse_positive_u32);
    let per_day = table.optional(cx, "per_day", parse_positive_u32);
    Some(Limits {
        per_second: per_second?,
        per_minute: per_minute?,
        per_day: per_day?,
    })
}

/// A 10DLC brand (`[[brands]]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Brand {
    /// Unique id, referenced by `[[campaigns]] brand`. Required.
    pub id: String,
    /// Caps over all numbers of all the brand's campaigns.
    pub limits: Limits,
}

/// A 10DLC campaign (`[[campaigns]]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Campaign {
    /// Unique id, referenced by `[[numbers]] campaign`. Required.
    pub id: String,
    /// The brand the campaign is registered under. Required.
    pub brand: String,
    /// Caps over all numbers of the campaign.
    pub limits: Limits,
}

/// A business number (`[[numbers]]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessNumber {
    /// E.164 with `+`, or a short code. Required, unique.
    pub number: PhoneNumber,
    /// The SMS route: an `smpp` or `sip` carrier. Required.
    pub carrier: String,
    /// The MMS route: an `mm7` carrier. Optional; without it the number's
    /// media go as links in an SMS (`[media] public_url`).
    pub mms_carrier: Option<String>,
    /// The 10DLC campaign. Optional (short codes and toll-free have none).
    pub campaign: Option<String>,
    /// The line of business. Required when any `[[lines]]` exist.
    pub line: Option<String>,
    /// Caps for this number alone (`per_second` in the reference example).
    pub limits: Limits,
}

/// Names defined so far, with the span of each definition, to check
/// references and duplicates.
#[derive(Default)]
pub(crate) struct Names {
    spans: HashMap<String, Range<usize>>,
}

impl Names {
    /// Registers `name` defined at `node`; reports a duplicate (`what` is e.g.
    /// "carrier name") and returns `false` if it exists.
    pub fn define(
        &mut self,
        cx: &mut Ctx<'_, '_>,
        node: &Node<'_, '_>,
        name: &str,
        what: &str,
    ) -> bool {
        if let Some(first) = self.spans.get(name) {
            let line = cx.line_of(first);
            node.error(
                cx,
                format!("duplicate {what} `{name}` (first defined on line {line})"),
            );
            return false;
        }
        self.spans.insert(name.to_owned(), node.span());
        true
    }

    pub fn contains(&self, name: &str) -> bool {
        self.spans.contains_key(name)
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }
}

/// Decodes one `[[brands]]` table.
pub(crate) fn decode_brand(
    mut table: TableReader<'_, '_>,
    cx: &mut Ctx<'_, '_>,
    brands: &mut Names,
) -> Option<Brand> {
    let id = define_id(&mut table, cx, "id", brands, "brand id");
    let limits = decode_limits(&mut table, cx);
    table.finish(cx);
    Some(Brand {
        id: id?,
        limits: limits?,
    })
}

/// Decodes one `[[campaigns]]` table.
pub(crate) fn decode_campaign(
    mut table: TableReader<'_, '_>,
    cx: &mut Ctx<'_, '_>,
    campaigns: &mut Names,
    brands: &Names,
) -> Option<Campaign> {
    let id = define_id(&mut table, cx, "id", campaigns, "campaign id");
    let brand = table.required(cx, "brand", |node, cx| {
        let brand = parse_name(node, cx)?;
        if !brands.contains(&brand) {
            node.error(
                cx,
                format!("unknown brand `{brand}`: no [[brands]] entry has this id"),
            );
            return None;
        }
        Some(brand)
    });
    let limits = decode_limits(&mut table, cx);
    table.finish(cx);
    Some(Campaign {
        id: id?,
        brand: brand?,
        limits: limits?,
    })
}

/// Reads a required identifying key and registers it in `names`.
fn define_id(
    table: &mut TableReader<'_, '_>,
    cx: &mut Ctx<'_, '_>,
    key: &'static str,
    names: &mut Names,
    what: &str,
) -> Option<String> {
    table.required(cx, key, |node, cx| {
        let id = parse_name(node, cx)?;
        names.define(cx, node, &id, what).then_some(id)
    })
}

/// What a number's references are checked against.
pub(crate) struct References<'r> {
    pub carriers: &'r HashMap<String, CarrierEntry>,
    pub campaigns: &'r Names,
    pub lines: &'r Names,
}

/// Decodes one `[[numbers]]` table.
pub(crate) fn decode_number(
    mut table: TableReader<'_, '_>,
    cx: &mut Ctx<'_, '_>,
    numbers: &mut Names,
    refs: &References<'_>,
) -> Option<BusinessNumber> {
    let number = table.required(cx, "number", |node, cx| {
        let Some(text) = node.as_str() else {
            let hint = if node.as_integer().is_some() {
                " (write short codes as strings, e.g. \"12345\")"
            } else {
                ""
            };
            node.wrong_type(cx, &format!("a string{hint}"));
            return None;
        };
        match PhoneNumber::parse(text) {
            Ok(number) => numbers
                .define(cx, node, number.as_str(), "number")
                .then_some(number),
            Err(why) => {
                node.error(cx, why.to_string());
                None
            }
        }
    });
    let carrier = table.required(cx, "carrier", |node, cx| {
        let name = parse_name(node, cx)?;
        match refs.carriers.get(&name).map(|c| c.protocol) {
            None => {
                node.error(
                    cx,
                    format!("unknown carrier `{name}`: no [[carriers]] entry has this name"),
                );
                None
            }
            Some(Some(protocol)) if !protocol.carries_sms() => {
                node.error(
                    cx,
                    format!(
                        "carrier `{name}` is an {} carrier and cannot carry SMS; \
                         use an smpp or sip carrier here and `{name}` as `mms_carrier`",
                        protocol.as_str()
                    ),
                );
                None
            }
            Some(_) => Some(name),
        }
    });
    let mms_carrier = table.optional(cx, "mms_carrier", |node, cx| {
        let name = parse_name(node, cx)?;
        match refs.carriers.get(&name).map(|c| c.protocol) {
            None => {
                node.error(
                    cx,
                    format!("unknown carrier `{name}`: no [[carriers]] entry has this name"),
                );
                None
            }
            Some(Some(protocol)) if protocol != Protocol::Mm7 => {
                node.error(
                    cx,
                    format!(
                        "carrier `{name}` is an {} carrier, not an mm7 carrier",
                        protocol.as_str()
                    ),
                );
                None
            }
            Some(_) => Some(name),
        }
    });
    let campaign = table.optional(cx, "campaign", |node, cx| {
        let id = parse_name(node, cx)?;
        if !refs.campaigns.contains(&id) {
            node.error(
                cx,
                format!("unknown campaign `{id}`: no [[campaigns]] entry has this id"),
            );
            return None;
        }
        Some(id)
    });
    let line = match table.take("line") {
        Some(node) => parse_name(&node, cx).and_then(|name| {
            if refs.lines.contains(&name) {
                Some(Some(name))
            } else {
                node.error(
                    cx,
                    format!("unknown line `{name}`: no [[lines]] entry has this name"),
                );
                None
            }
        }),
        None if refs.lines.is_empty() => Some(None),
        None => {
            table.missing(
                cx,
                "line",
                "missing required key `line` (every number needs a line of business \
                 when [[lines]] are defined)",
            );
            None
        }
    };
    let limits = decode_limits(&mut table, cx);
    table.finish(cx);
    Some(BusinessNumber {
        number: number?,
        carrier: carrier?,
        mms_carrier: mms_carrier?,
        campaign: campaign?,
        line: line?,
        limits: limits?,
    })
}
