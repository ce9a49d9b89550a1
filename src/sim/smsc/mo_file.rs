//! The `--mo-file`: a script of mobile-originated messages that the
//! simulator plays to the first ESME that can receive them, so a gateway can
//! be tested end to end (consent, keywords, menus) without a test harness
//! that speaks SMPP.
//!
//! The file is JSON lines, read and validated completely when the simulator
//! starts — a typo fails the start with its line number rather than
//! surfacing halfway through a run:
//!
//! ```text
//! {"from": "+15557654321", "to": "+15551230001", "text": "Hello", "delay_ms": 0}
//! ```
//!
//! A line may instead inject a delivery receipt for any message id, so a
//! test can show how a gateway treats a receipt for an id it never sent
//! (`stat`, optional, is an Appendix B word, default `DELIVRD`; `from` and
//! `to`, optional, are the receipt's source and destination addresses):
//!
//! ```text
//! {"receipt_for": "someid", "stat": "DELIVRD", "delay_ms": 0}
//! ```
//!
//! It goes to any receiving bind, like an MO message.
//!
//! `delay_ms` (optional, default 0) is waited before the entry, counted
//! from the previous one (from the first receiving bind for the first).
//! `part_delay_ms` (optional, default 0) spaces the parts of a long MO
//! message, so a test can stop the gateway between two parts.
//! Blank lines and lines starting with `#` are ignored.

use std::path::Path;
use std::time::Duration;

use carrier_protocol::smpp::MessageState;
use carrier_protocol::text::EncodingOptions;

use super::outgoing::{MoError, mo_segments, parse_stat, smpp_address};

/// The longest injected receipt id: `receipted_message_id` holds 65 octets
/// with its NUL.
pub const MAX_RECEIPT_ID: usize = 64;

/// One scripted entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoScriptEntry {
    /// What to send.
    pub action: ScriptAction,
    /// Wait before sending, after the previous entry.
    pub delay: Duration,
}

/// What a script entry sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScriptAction {
    /// A mobile-originated message.
    Mo {
        /// Sender (the customer), e.g. `+15557654321`.
        from: String,
        /// Recipient (the business number), e.g. `+15551230001` or a short code.
        to: String,
        /// The text.
        text: String,
        /// Wait between its parts, when it has several.
        part_delay: Duration,
    },
    /// A delivery receipt for an arbitrary message id.
    Receipt {
        /// The id reported on (1 to [`MAX_RECEIPT_ID`] octets, no NUL).
        id: String,
        /// The state reported.
        state: MessageState,
        /// The receipt's source address (the handset), if given.
        from: Option<String>,
        /// The receipt's destination address (the business number), if given.
        to: Option<String>,
    },
}

/// Why an MO file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum MoFileError {
    /// The file could not be read.
    #[error("cannot read MO file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A line is not a valid entry.
    #[error("MO file {path}, line {line}: {message}")]
    Line {
        /// The file.
        path: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
}

/// Reads and validates the file.
pub fn load(path: &Path) -> Result<Vec<MoScriptEntry>, MoFileError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| MoFileError::Io {
        path: name.clone(),
        source,
    })?;
    parse(&text).map_err(|(line, message)| MoFileError::Line {
        path: name,
        line,
        message,
    })
}

/// Parses the file's text; an error carries the 1-based line and a message.
pub(crate) fn parse(text: &str) -> Result<Vec<MoScriptEntry>, (usize, String)> {
    let mut out = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let entry = parse_line(line).map_err(|message| (index + 1, message))?;
        out.push(entry);
    }
    Ok(out)
}

fn parse_line(line: &str) -> Result<MoScriptEntry, String> {
    let value: serde_json::Value =
        serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
    let obj = value
        .as_object()
        .ok_or_else(|| "expected a JSON object".to_owned())?;
    let is_receipt = obj.contains_key("receipt_for");
    for key in obj.keys() {
        let known = match key.as_str() {
            "from" | "to" | "delay_ms" => true,
            "text" | "part_delay_ms" => !is_receipt,
            "receipt_for" | "stat" => is_receipt,
            _ => false,
        };
        if !known {
            return Err(if key == "stat" {
                "\"stat\" needs \"receipt_for\"".to_owned()
            } else if key == "text" {
                "a \"receipt_for\" line has no \"text\"".to_owned()
            } else {
                format!("unknown key {key:?}")
            });
        }
    }
    let string = |key: &str| -> Result<String, String> {
        obj.get(key)
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| format!("{key:?} must be a string"))
    };
    let optional = |key: &str| -> Result<Option<String>, String> {
        match obj.get(key) {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(_) => string(key).map(Some),
        }
    };
    let delay_ms = match obj.get("delay_ms") {
        None | Some(serde_json::Value::Null) => 0,
        Some(v) => v
            .as_u64()
            .ok_or_else(|| "\"delay_ms\" must be a non-negative integer".to_owned())?,
    };
    let delay = Duration::from_millis(delay_ms);
    if is_receipt {
        let id = string("receipt_for")?;
        if id.is_empty() || id.len() > MAX_RECEIPT_ID || id.contains('\0') {
            return Err(format!(
                "\"receipt_for\" must be 1 to {MAX_RECEIPT_ID} octets without NUL"
            ));
        }
        let state = match optional("stat")? {
            None => MessageState::Delivered,
            Some(word) => parse_stat(&word).ok_or_else(|| {
                format!("unknown \"stat\" {word:?} (DELIVRD, UNDELIV, EXPIRED, REJECTD, …)")
            })?,
        };
        let (from, to) = (optional("from")?, optional("to")?);
        for address in from.iter().chain(&to) {
            smpp_address(address).map_err(|e| e.to_string())?;
        }
        return Ok(MoScriptEntry {
            action: ScriptAction::Receipt {
                id,
                state,
                from,
                to,
            },
            delay,
        });
    }
    let (from, to, text) = (string("from")?, string("to")?, string("text")?);
    // Fail now, not when the entry's turn comes.
    mo_segments(&from, &to, &text, 0, &EncodingOptions::default())
        .map_err(|e: MoError| e.to_string())?;
    let part_delay = match obj.get("part_delay_ms") {
        None | Some(serde_json::Value::Null) => 0,
        Some(v) => v
            .as_u64()
            .ok_or_else(|| "\"part_delay_ms\" must be a non-negative integer".to_owned())?,
    };
    Ok(MoScriptEntry {
        action: ScriptAction::Mo {
            from,
            to,
            text,
            part_delay: Duration::from_millis(part_delay),
        },
        delay,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_entries_and_skips_comments() {
        let text = "# greeting\n\
            {\"from\": \"+15557654321\", \"to\": \"+15551230001\", \"text\": \"Hello\", \"delay_ms\": 0}\n\
            \n\
            {\"from\": \"+15557654321\", \"to\": \"12345\", \"text\": \"STOP\", \"delay_ms\": 250}\n\
            {\"from\": \"+15557654321\", \"to\": \"+15551230001\", \"text\": \"hola\"}\n";
        let entries = parse(text).expect("valid");
        assert_eq!(entries.len(), 3);
        assert!(matches!(&entries[0].action, ScriptAction::Mo { text, .. } if text == "Hello"));
        assert!(matches!(&entries[1].action, ScriptAction::Mo { to, .. } if to == "12345"));
        assert_eq!(entries[1].delay, Duration::from_millis(250));
        assert_eq!(entries[2].delay, Duration::ZERO);
    }

    #[test]
    fn receipt_lines() {
        let text = "{\"receipt_for\": \"someid\", \"stat\": \"UNDELIV\", \"delay_ms\": 5}\n\
            {\"receipt_for\": \"x\", \"from\": \"+15557654321\", \"to\": \"+15551230001\"}\n";
        let entries = parse(text).expect("valid");
        assert_eq!(
            entries[0],
            MoScriptEntry {
                action: ScriptAction::Receipt {
                    id: "someid".into(),
                    state: MessageState::Undeliverable,
                    from: None,
                    to: None,
                },
                delay: Duration::from_millis(5),
            }
        );
        assert_eq!(
            entries[1].action,
            ScriptAction::Receipt {
                id: "x".into(),
                state: MessageState::Delivered,
                from: Some("+15557654321".into()),
                to: Some("+15551230001".into()),
            }
        );
        let long = "x".repeat(MAX_RECEIPT_ID + 1);
        let cases = [
            ("{\"receipt_for\": \"\"}".to_owned(), "receipt_for"),
            (format!("{{\"receipt_for\": \"{long}\"}}"), "receipt_for"),
            ("{\"receipt_for\": 7}".to_owned(), "must be a string"),
            (
                "{\"receipt_for\": \"a\", \"stat\": \"GONE\"}".to_owned(),
                "unknown \"stat\"",
            ),
            (
                "{\"receipt_for\": \"a\", \"text\": \"hi\"}".to_owned(),
                "no \"text\"",
            ),
            (
                "{\"receipt_for\": \"a\", \"to\": \"+\"}".to_owned(),
                "invalid address",
            ),
            (
                "{\"from\": \"+1\", \"to\": \"+2\", \"text\": \"x\", \"stat\": \"DELIVRD\"}"
                    .to_owned(),
                "needs",
            ),
        ];
        for (line, expected) in cases {
            let (n, message) = parse(&line).expect_err(&line);
            assert_eq!(n, 1, "{line}");
            assert!(message.contains(expected), "{line}: {message}");
        }
    }

    #[test]
    fn errors_name_the_line() {
        let cases = [
            ("{\"from\": \"+1\", \"to\": \"+2\"}", "\"text\""),
            ("[1, 2]", "object"),
            (
                "{\"from\": \"+1\", \"to\": \"+2\", \"text\": \"x\", \"delay\": 1}",
                "unknown key",
            ),
            (
                "{\"from\": \"+1\", \"to\": \"+2\", \"text\": \"x\", \"delay_ms\": -1}",
                "delay_ms",
            ),
            (
                "{\"from\": \"+\", \"to\": \"+2\", \"text\": \"x\"}",
                "invalid address",
            ),
            ("not json", "not JSON"),
        ];
        for (line, expected) in cases {
            let text = format!("\n{line}\n");
            let (n, message) = parse(&text).expect_err(line);
            assert_eq!(n, 2, "{line}");
            assert!(message.contains(expected), "{line}: {message}");
        }
    }

    #[test]
    fn load_reports_missing_files() {
        let err = load(Path::new("/nonexistent/mo.jsonl")).expect_err("missing");
        assert!(err.to_string().contains("/nonexistent/mo.jsonl"));
    }
}
