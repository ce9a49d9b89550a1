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
//! `delay_ms` (optional, default 0) is waited before the message, counted
//! from the previous one (from the first receiving bind for the first).
//! Blank lines and lines starting with `#` are ignored.

use std::path::Path;
use std::time::Duration;

use super::outgoing::{MoError, mo_segments};

/// One scripted MO message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoScriptEntry {
    /// Sender (the customer), e.g. `+15557654321`.
    pub from: String,
    /// Recipient (the business number), e.g. `+15551230001` or a short code.
    pub to: String,
    /// The text.
    pub text: String,
    /// Wait before sending, after the previous entry.
    pub delay: Duration,
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
    for key in obj.keys() {
        if !matches!(key.as_str(), "from" | "to" | "text" | "delay_ms") {
            return Err(format!("unknown key {key:?}"));
        }
    }
    let string = |key: &str| -> Result<String, String> {
        obj.get(key)
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| format!("{key:?} must be a string"))
    };
    let delay_ms = match obj.get("delay_ms") {
        None | Some(serde_json::Value::Null) => 0,
        Some(v) => v
            .as_u64()
            .ok_or_else(|| "\"delay_ms\" must be a non-negative integer".to_owned())?,
    };
    let entry = MoScriptEntry {
        from: string("from")?,
        to: string("to")?,
        text: string("text")?,
        delay: Duration::from_millis(delay_ms),
    };
    // Fail now, not when the entry's turn comes.
    mo_segments(&entry.from, &entry.to, &entry.text, 0).map_err(|e: MoError| e.to_string())?;
    Ok(entry)
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
        assert_eq!(entries[0].text, "Hello");
        assert_eq!(entries[1].to, "12345");
        assert_eq!(entries[1].delay, Duration::from_millis(250));
        assert_eq!(entries[2].delay, Duration::ZERO);
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
