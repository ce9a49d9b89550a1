//! Configuration errors that say exactly where they are.
//!
//! docs/architecture.md ("Bad input") asks for "every error with its
//! location, before anything starts", and `check-config` prints them all at
//! once. So an error is a plain record —
//! file, line, column, the key it is about, a sentence — and [`ConfigErrors`]
//! is the non-empty list of every one found in a pass. Positions are computed
//! from byte offsets into the source by [`SourceMap`], the only place that
//! knows about lines.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// One problem in a configuration file.
///
/// Displays as `FILE:LINE:COL: key `KEY_PATH`: MESSAGE`. An error that is not
/// about a key (a TOML syntax error) leaves `key_path` empty and displays
/// without the `key` part; an error about the whole file (it cannot be read)
/// has `line` and `column` 0 and displays as `FILE: MESSAGE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The file as it was given to [`Config::load`](crate::config::Config::load).
    pub file: PathBuf,
    /// 1-based line, or 0 for an error about the whole file.
    pub line: usize,
    /// 1-based column in characters, or 0 for an error about the whole file.
    pub column: usize,
    /// The key the error is about, written like `carriers[1].window`; empty when
    /// there is none.
    pub key_path: String,
    /// What is wrong, as a sentence fragment. Never contains a secret's value.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:", self.file.display())?;
        if self.line > 0 {
            write!(f, "{}:{}:", self.line, self.column)?;
        }
        if !self.key_path.is_empty() {
            write!(f, " key `{}`:", self.key_path)?;
        }
        write!(f, " {}", self.message)
    }
}

impl std::error::Error for ConfigError {}

/// Every error found in one configuration file, in file order. Never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors {
    errors: Vec<ConfigError>,
}

impl ConfigErrors {
    /// Wraps a list of errors, sorted by position. Returns `None` for an empty
    /// list, so that a `ConfigErrors` always holds at least one error.
    pub fn new(mut errors: Vec<ConfigError>) -> Option<ConfigErrors> {
        if errors.is_empty() {
            return None;
        }
        errors.sort_by(|a, b| {
            (a.line, a.column, &a.key_path, &a.message).cmp(&(
                b.line,
                b.column,
                &b.key_path,
                &b.message,
            ))
        });
        errors.dedup();
        Some(ConfigErrors { errors })
    }

    /// An error about the whole file, such as "cannot read".
    pub(crate) fn whole_file(file: &Path, message: String) -> ConfigErrors {
        ConfigErrors {
            errors: vec![ConfigError {
                file: file.to_path_buf(),
                line: 0,
                column: 0,
                key_path: String::new(),
                message,
            }],
        }
    }

    /// The errors, in file order.
    pub fn errors(&self) -> &[ConfigError] {
        &self.errors
    }

    /// Iterates over the errors in file order.
    pub fn iter(&self) -> std::slice::Iter<'_, ConfigError> {
        self.errors.iter()
    }

    /// How many errors there are (at least one).
    pub fn len(&self) -> usize {
        self.errors.len()
    }

    /// Always `false`; present because `len` is.
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }
}

impl fmt::Display for ConfigErrors {
    /// One error per line, no trailing newline.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

impl IntoIterator for ConfigErrors {
    type Item = ConfigError;
    type IntoIter = std::vec::IntoIter<ConfigError>;

    fn into_iter(self) -> Self::IntoIter {
        self.errors.into_iter()
    }
}

impl<'a> IntoIterator for &'a ConfigErrors {
    type Item = &'a ConfigError;
    type IntoIter = std::slice::Iter<'a, ConfigError>;

    fn into_iter(self) -> Self::IntoIter {
        self.errors.iter()
    }
}

/// An error found while decoding, located by a byte span of the source; turned
/// into a [`ConfigError`] by [`SourceMap::locate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SpannedError {
    pub span: Range<usize>,
    pub key_path: String,
    pub message: String,
}

/// Byte offset → (line, column) for one source text.
pub(crate) struct SourceMap<'s> {
    text: &'s str,
    /// Byte offset at which each line starts; `line_starts[0] == 0`.
    line_starts: Vec<usize>,
}

impl<'s> SourceMap<'s> {
    pub fn new(text: &'s str) -> SourceMap<'s> {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        SourceMap { text, line_starts }
    }

    /// 1-based line and character column of a byte offset (clamped to the text).
    pub fn position(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line_index = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        let line_start = self.line_starts.get(line_index).copied().unwrap_or(0);
        let column = self
            .text
            .get(line_start..offset)
            .map_or(0, |prefix| prefix.chars().count());
        (line_index + 1, column + 1)
    }

    /// The source text under a span, if the span is valid.
    pub fn snippet(&self, span: Range<usize>) -> Option<&'s str> {
        self.text.get(span)
    }

    pub fn locate(&self, file: &Path, error: SpannedError) -> ConfigError {
        let (line, column) = self.position(error.span.start);
        ConfigError {
            file: file.to_path_buf(),
            line,
            column,
            key_path: error.key_path,
            message: error.message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_lines_and_characters() {
        let map = SourceMap::new("a = 1\nñame = \"x\"\n\nz");
        assert_eq!(map.position(0), (1, 1));
        assert_eq!(map.position(4), (1, 5));
        assert_eq!(map.position(6), (2, 1));
        // `ñ` is two bytes but one column.
        assert_eq!(map.position(8), (2, 2));
        assert_eq!(map.position(18), (3, 1));
        assert_eq!(map.position(19), (4, 1));
        assert_eq!(map.position(20), (4, 2));
        assert_eq!(map.position(10_000), (4, 2));
    }

    #[test]
    fn display_forms() {
        let mut error = ConfigError {
            file: PathBuf::from("gw.toml"),
            line: 3,
            column: 10,
            key_path: "carriers[1].window".into(),
            message: "must be at least 1".into(),
        };
        assert_eq!(
            error.to_string(),
            "gw.toml:3:10: key `carriers[1].window`: must be at least 1"
        );
        error.key_path.clear();
        assert_eq!(error.to_string(), "gw.toml:3:10: must be at least 1");
        error.line = 0;
        error.column = 0;
        assert_eq!(error.to_string(), "gw.toml: must be at least 1");
    }

    #[test]
    fn errors_are_sorted_deduplicated_and_never_empty() {
        assert!(ConfigErrors::new(Vec::new()).is_none());
        let at = |line, key: &str| ConfigError {
            file: PathBuf::from("f"),
            line,
            column: 1,
            key_path: key.into(),
            message: "m".into(),
        };
        let errors = ConfigErrors::new(vec![at(9, "b"), at(2, "a"), at(9, "b")]);
        let errors = errors.expect("non-empty");
        assert_eq!(errors.len(), 2);
        assert!(!errors.is_empty());
        assert_eq!(errors.errors()[0].line, 2);
        assert_eq!(errors.to_string(), "f:2:1: key `a`: m\nf:9:1: key `b`: m");
    }
}
