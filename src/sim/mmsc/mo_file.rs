//! The `--mo-file`: mobile-originated MMS for the simulator to post to the
//! VASP, so a gateway can be tested end to end (media storage, the core's
//! webhook, replies by `LinkedID`) without a harness that speaks MM7.
//!
//! JSON lines, read and validated completely when the simulator starts —
//! media files included — so a typo or a missing photo fails the start
//! with its line number instead of surfacing halfway through a run:
//!
//! ```text
//! {"from": "+15557654321", "to": "+15551230001", "text": "Broken screen", "subject": "Help", "media": ["photo.jpg", "/tmp/clip.mp4"], "delay_ms": 0}
//! ```
//!
//! `from` and `to` are required, and at least one of `text` and `media`.
//! Media paths are relative to the MO file's directory. A media file's
//! content type is what its bytes are, else what its extension says, else
//! `application/octet-stream`. `delay_ms` (default 0) is waited before the
//! message, after the previous one was acknowledged or given up. Blank
//! lines and lines starting with `#` are ignored.

use std::path::{Path, PathBuf};
use std::time::Duration;

use carrier_protocol::mm7::body::ContentItem;
use serde::Deserialize;

use super::media::content_type_of;

/// Most media bytes of one MO MMS (all its files together): what an MMSC
/// carries in one message, and what keeps the loaded file in bounds.
pub const MAX_MEDIA_BYTES: u64 = 20 * 1024 * 1024;

/// One mobile-originated MMS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoMms {
    /// The sender (the customer's handset), e.g. `+15557654321`.
    pub from: String,
    /// The recipient (the business number or short code).
    pub to: String,
    /// A text part (`text/plain; charset=utf-8`), first when present.
    pub text: Option<String>,
    /// `Subject`.
    pub subject: Option<String>,
    /// Media parts, after the text. An empty `content_id` gets a unique one
    /// when the message is sent.
    pub media: Vec<ContentItem>,
    /// Wait before posting it, after the previous MO was acknowledged or
    /// given up.
    pub delay: Duration,
}

impl MoMms {
    /// A message with neither text nor media yet, sent at once.
    pub fn new(from: impl Into<String>, to: impl Into<String>) -> MoMms {
        MoMms {
            from: from.into(),
            to: to.into(),
            text: None,
            subject: None,
            media: Vec::new(),
            delay: Duration::ZERO,
        }
    }
}

/// A media item of `data`, typed from its bytes or `name`'s extension, with
/// `name` as its Content-Location and no Content-ID yet.
pub fn media_item(name: &str, data: Vec<u8>) -> ContentItem {
    ContentItem {
        content_type: content_type_of(Path::new(name), &data).to_owned(),
        content_id: String::new(),
        content_location: Some(name.to_owned()),
        data,
    }
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
    /// A line is not a valid MO MMS.
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

/// Reads and validates the file and every media file it names.
pub fn load(path: &Path) -> Result<Vec<MoMms>, MoFileError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| MoFileError::Io {
        path: name.clone(),
        source,
    })?;
    let base = path.parent().unwrap_or(Path::new("."));
    parse(&text, base).map_err(|(line, message)| MoFileError::Line {
        path: name,
        line,
        message,
    })
}

/// One line as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    from: String,
    to: String,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    subject: Option<String>,
    #[serde(default)]
    media: Vec<PathBuf>,
    #[serde(default)]
    delay_ms: u64,
}

/// Parses the file's text, reading media relative to `base`; an error
/// carries the 1-based line and a message.
pub(crate) fn parse(text: &str, base: &Path) -> Result<Vec<MoMms>, (usize, String)> {
    let mut out = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        out.push(parse_line(line, base).map_err(|message| (index + 1, message))?);
    }
    Ok(out)
}

fn parse_line(line: &str, base: &Path) -> Result<MoMms, String> {
    let line: Line = serde_json::from_str(line).map_err(|e| e.to_string())?;
    for (key, value) in [("from", &line.from), ("to", &line.to)] {
        if value.trim().is_empty() {
            return Err(format!("\"{key}\" is empty"));
        }
    }
    if line.text.is_none() && line.media.is_empty() {
        return Err("an MO MMS needs \"text\" or \"media\"".to_owned());
    }
    let mut total = 0u64;
    let mut media = Vec::with_capacity(line.media.len());
    for relative in &line.media {
        let path = base.join(relative);
        let size = std::fs::metadata(&path)
            .map_err(|e| format!("media {}: {e}", path.display()))?
            .len();
        total = total.saturating_add(size);
        if total > MAX_MEDIA_BYTES {
            return Err(format!(
                "media of one MO MMS exceed {MAX_MEDIA_BYTES} bytes (at {})",
                path.display()
            ));
        }
        let data = std::fs::read(&path).map_err(|e| format!("media {}: {e}", path.display()))?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "media".to_owned());
        media.push(media_item(&name, data));
    }
    Ok(MoMms {
        from: line.from,
        to: line.to,
        text: line.text,
        subject: line.subject,
        media,
        delay: Duration::from_millis(line.delay_ms),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::mmsc::{sample_jpeg, sample_mp4};

    #[test]
    fn a_file_with_media_loads_typed_and_relative_to_its_directory() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("media")).expect("mkdir");
        // The JPEG is named .bin: its bytes decide; the note's extension does.
        std::fs::write(dir.path().join("media/photo.bin"), sample_jpeg()).expect("write");
        std::fs::write(dir.path().join("clip.mp4"), sample_mp4()).expect("write");
        std::fs::write(dir.path().join("note.txt"), "plain words").expect("write");
        std::fs::write(dir.path().join("blob"), [0u8, 1, 2]).expect("write");
        let absolute = dir.path().join("clip.mp4");
        let file = dir.path().join("mo.jsonl");
        std::fs::write(
            &file,
            format!(
                "# a comment\n\n\
                 {{\"from\": \"+15557654321\", \"to\": \"+15551230001\", \"text\": \"Hello\"}}\n\
                 {{\"from\": \"+15557654322\", \"to\": \"12345\", \"subject\": \"Pics\", \
                 \"media\": [\"media/photo.bin\", {:?}, \"note.txt\", \"blob\"], \"delay_ms\": 250}}\n",
                absolute.display().to_string()
            ),
        )
        .expect("write");
        let mo = load(&file).expect("valid");
        assert_eq!(mo.len(), 2);
        assert_eq!(mo[0].text.as_deref(), Some("Hello"));
        assert!(mo[0].media.is_empty());
        assert_eq!(mo[1].delay, Duration::from_millis(250));
        assert_eq!(mo[1].subject.as_deref(), Some("Pics"));
        let types: Vec<&str> = mo[1]
            .media
            .iter()
            .map(|m| m.content_type.as_str())
            .collect();
        assert_eq!(
            types,
            [
                "image/jpeg",
                "video/mp4",
                "text/plain; charset=utf-8",
                "application/octet-stream"
            ]
        );
        assert_eq!(mo[1].media[0].data, sample_jpeg());
        assert_eq!(
            mo[1].media[0].content_location.as_deref(),
            Some("photo.bin")
        );
        assert_eq!(mo[1].media[1].data, sample_mp4());
    }

    #[test]
    fn a_bad_line_is_refused_with_its_number() {
        let dir = tempfile::tempdir().expect("tempdir");
        let base = dir.path();
        let good = r#"{"from": "+1", "to": "+2", "text": "ok"}"#;
        let cases = [
            ("not json", "expected"),
            (
                r#"{"from": "+1", "to": "+2"}"#,
                "needs \"text\" or \"media\"",
            ),
            (
                r#"{"from": "", "to": "+2", "text": "x"}"#,
                "\"from\" is empty",
            ),
            (r#"{"to": "+2", "text": "x"}"#, "missing field `from`"),
            (
                r#"{"from": "+1", "to": "+2", "text": "x", "colour": 1}"#,
                "unknown field `colour`",
            ),
            (
                r#"{"from": "+1", "to": "+2", "text": "x", "delay_ms": -5}"#,
                "invalid value",
            ),
            (
                r#"{"from": "+1", "to": "+2", "media": ["missing.jpg"]}"#,
                "missing.jpg",
            ),
        ];
        for (bad, says) in cases {
            let text = format!("{good}\n# comment\n{bad}\n{good}\n");
            let (line, message) = parse(&text, base).expect_err(bad);
            assert_eq!(line, 3, "{bad}: {message}");
            assert!(message.contains(says), "{bad}: {message}");
        }
        let file = base.join("mo.jsonl");
        std::fs::write(&file, format!("{good}\n{{\"from\": 1}}\n")).expect("write");
        let error = load(&file).expect_err("line 2 is bad").to_string();
        assert!(error.contains("mo.jsonl, line 2:"), "{error}");
        let missing = load(&base.join("nope.jsonl"))
            .expect_err("no file")
            .to_string();
        assert!(missing.contains("cannot read MO file"), "{missing}");
    }
}
