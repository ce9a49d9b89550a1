//! From an accepted message to the parts that carry it: encoding choice
//! and segmentation. Each link turns a part into its protocol's request
//! (for SMPP, `transport::smpp::submit`).
//!
//! The plan is a pure function of the stored record (text, encoding,
//! reference) and the carrier's options, so a restart rebuilds exactly the
//! segments that were accepted — same split, same concatenation reference —
//! without storing PDUs.

use carrier_protocol::segment::split::{Segments, SplitOptions, split};
use carrier_protocol::text::choose::{EncodingOptions, EncodingPlan, choose};
use carrier_protocol::text::{Encoding, gsm7};

/// Per-carrier encoding options.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PlanOptions {
    /// Which encodings and national tables the carrier supports.
    pub encoding: EncodingOptions,
    /// Whether GSM septets are packed (default: one septet per octet).
    pub gsm7_packed: bool,
}

/// Why a text cannot be sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// Too many segments.
    #[error("the text needs {0} segments; at most {1} are allowed")]
    TooLong(usize, usize),
    /// The stored encoding is not usable for the text (should not happen).
    #[error("the text cannot be encoded as {0}")]
    NotEncodable(&'static str),
}

/// Most segments a message may have.
pub const MAX_SEGMENTS: usize = 10;

/// Chooses the encoding for new text; returns the plan and its segment count.
pub fn choose_encoding(text: &str, options: &PlanOptions) -> Result<EncodingPlan, PlanError> {
    let plan = choose(text, &options.encoding);
    if plan.segments() > MAX_SEGMENTS {
        return Err(PlanError::TooLong(plan.segments(), MAX_SEGMENTS));
    }
    Ok(plan)
}

/// Rebuilds the segments of a stored message.
pub fn segments(
    text: &str,
    encoding: &str,
    reference: u16,
    options: &PlanOptions,
) -> Result<Segments, PlanError> {
    let chosen = choose(text, &options.encoding);
    let plan = if chosen.encoding().as_str() == encoding {
        chosen
    } else {
        let forced = match encoding {
            "ucs2" => Encoding::Ucs2,
            "latin1" => Encoding::Latin1,
            _ => Encoding::Gsm7,
        };
        EncodingPlan::new(
            text,
            forced,
            gsm7::Tables::DEFAULT,
            options.encoding.concatenation,
        )
        .map_err(|_| PlanError::NotEncodable(forced.as_str()))?
    };
    let split_options = SplitOptions {
        reference,
        gsm7_form: if options.gsm7_packed {
            carrier_protocol::segment::split::Gsm7Form::Packed
        } else {
            carrier_protocol::segment::split::Gsm7Form::Unpacked
        },
        max_segments: MAX_SEGMENTS,
    };
    split(&plan, &split_options).map_err(|_| PlanError::TooLong(plan.segments(), MAX_SEGMENTS))
}

/// Cuts `text` into parts of at most `max` bytes of UTF-8, at character
/// boundaries, preferring the last space within a part (a link that
/// carries text as text, but limits a request's size: SIP over UDP).
pub fn text_parts(text: &str, max: usize) -> Vec<std::sync::Arc<str>> {
    let max = max.max(4);
    let mut parts = Vec::new();
    let mut rest = text;
    while rest.len() > max {
        let mut cut = max;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        if let Some(space) = rest[..cut].rfind(' ').filter(|&at| at > max / 2) {
            cut = space + 1;
        }
        parts.push(std::sync::Arc::from(&rest[..cut]));
        rest = &rest[cut..];
    }
    parts.push(std::sync::Arc::from(rest));
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_cut_at_characters_and_spaces() {
        assert_eq!(text_parts("hello", 800).len(), 1);
        let text = "word ".repeat(400);
        let parts = text_parts(&text, 800);
        assert!(parts.iter().all(|p| p.len() <= 800));
        assert!(parts[..parts.len() - 1].iter().all(|p| p.ends_with(' ')));
        assert_eq!(parts.concat(), text);
        let emoji = "\u{1F600}".repeat(300);
        let parts = text_parts(&emoji, 798);
        assert!(parts.iter().all(|p| p.len() <= 798));
        assert_eq!(parts.concat(), emoji);
    }
}
