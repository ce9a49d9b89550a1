//! A streaming multipart parser (RFC 2046 §5.1, RFC 2387), sans-IO: it is
//! fed the body in whatever chunks arrive and hands back events — a part's
//! headers, pieces of its decoded content, its end — holding back only the
//! few bytes that could be the start of a boundary. A 50 MB video part goes
//! through in constant memory, and the limits stop an oversized part as soon
//! as it crosses them, not after it was buffered.
//!
//! Nested multiparts (an MM7 body is `multipart/related` whose content part
//! is often `multipart/mixed`) are followed through a stack of boundaries;
//! every event says at which depth it is. Line ends may be CRLF or bare LF.

use std::collections::VecDeque;

use super::MimeError;
use super::headers::{MAX_HEADER_BYTES, PartHeaders, boundary_of, parse_header_block};
use super::transfer::BodyDecoder;

/// What a body may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MimeLimits {
    /// Most decoded bytes of one part.
    pub max_part_bytes: u64,
    /// Most decoded bytes of all parts together.
    pub max_total_bytes: u64,
    /// Most parts, containers included.
    pub max_parts: usize,
    /// Most nesting levels (1: no nested multipart).
    pub max_depth: usize,
}

impl Default for MimeLimits {
    fn default() -> Self {
        MimeLimits {
            max_part_bytes: 10 * 1024 * 1024,
            max_total_bytes: 20 * 1024 * 1024,
            max_parts: 64,
            max_depth: 4,
        }
    }
}

/// What the parser found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MultipartEvent {
    /// A part begins. A multipart part's own parts follow at `depth + 1`,
    /// before its `PartEnd`.
    PartStart {
        /// 0 for the parts of the outermost multipart.
        depth: usize,
        /// Its headers.
        headers: PartHeaders,
    },
    /// A piece of the current part's content, transfer-decoded.
    Data(Vec<u8>),
    /// The current part at `depth` ended.
    PartEnd {
        /// Its depth.
        depth: usize,
    },
    /// The outermost multipart's closing delimiter was read; anything after
    /// it (the epilogue) is ignored.
    End,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before the first delimiter of the innermost level.
    Preamble,
    /// Just after a delimiter of the innermost level.
    AfterDelimiter,
    /// In a part's header block.
    Headers,
    /// In a part's content.
    Body,
    /// After a nested multipart's closing delimiter, until its container
    /// part ends at the next delimiter of the level above.
    NestedEpilogue,
    /// Done.
    End,
}

/// What follows a candidate delimiter.
enum AfterCandidate {
    /// Not enough bytes to tell.
    NeedMore,
    /// `--`: the level closes.
    Close,
    /// Transport padding and a line end, `n` bytes in all: a part follows.
    Open(usize),
    /// Something else: the candidate was content (a longer boundary-like
    /// line).
    NotDelimiter,
}

/// Where the next delimiter is.
enum Search {
    /// At this offset (of its `--`).
    Found(usize),
    /// Maybe at this offset: what follows it has not arrived yet.
    Pending(usize),
    /// Not in the buffer.
    NotFound,
}

/// The streaming parser.
#[derive(Debug)]
pub struct MultipartParser {
    /// `--boundary` of each open level, outermost first.
    levels: Vec<Vec<u8>>,
    state: State,
    buf: Vec<u8>,
    /// The buffer starts at the beginning of a line.
    line_start: bool,
    limits: MimeLimits,
    decoder: Option<BodyDecoder>,
    part_bytes: u64,
    total_bytes: u64,
    parts: usize,
    input_done: bool,
    pending: VecDeque<MultipartEvent>,
}

impl MultipartParser {
    /// A parser for a body of `content_type` (which must be `multipart/*`
    /// with a boundary).
    pub fn new(content_type: &str, limits: MimeLimits) -> Result<MultipartParser, MimeError> {
        let content_type = super::headers::parse_content_type(content_type)?;
        let boundary = boundary_of(&content_type)?;
        Ok(MultipartParser {
            levels: vec![delimiter(&boundary)],
            state: State::Preamble,
            buf: Vec::new(),
            line_start: true,
            limits,
            decoder: None,
            part_bytes: 0,
            total_bytes: 0,
            parts: 0,
            input_done: false,
            pending: VecDeque::new(),
        })
    }

    /// Adds input.
    pub fn feed(&mut self, input: &[u8]) {
        if self.state != State::End {
            self.buf.extend_from_slice(input);
        }
    }

    /// Says there is no more input: the next events drain what is left,
    /// and a body that ends before its closing delimiter is an error.
    pub fn finish_input(&mut self) {
        self.input_done = true;
    }

    /// The next event; `Ok(None)` when more input is needed (or, after
    /// `End`, for ever).
    pub fn next_event(&mut self) -> Result<Option<MultipartEvent>, MimeError> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Ok(Some(event));
            }
            if !self.step()? {
                if self.input_done && self.state != State::End {
                    return Err(self.truncated());
                }
                return Ok(None);
            }
        }
    }

    fn truncated(&self) -> MimeError {
        if self.parts == 0 {
            let boundary = self
                .levels
                .first()
                .map(|d| String::from_utf8_lossy(&d[2..]).into_owned())
                .unwrap_or_default();
            MimeError::BoundaryNotFound(boundary)
        } else {
            MimeError::Truncated(match self.state {
                State::Headers => "inside a part's headers",
                State::Body => "inside a part's content",
                State::Preamble | State::NestedEpilogue => "inside a nested multipart",
                _ => "before the closing boundary",
            })
        }
    }

    fn innermost(&self) -> &[u8] {
        self.levels.last().map(Vec::as_slice).unwrap_or_default()
    }

    /// Advances as far as the buffered input allows; `false` when it needs
    /// more.
    fn step(&mut self) -> Result<bool, MimeError> {
        match self.state {
            State::End => Ok(false),
            State::Preamble => Ok(self.skip_to_delimiter()),
            State::AfterDelimiter => match after_candidate(&self.buf, 0, self.input_done) {
                AfterCandidate::NeedMore => Ok(false),
                AfterCandidate::NotDelimiter => Err(MimeError::Truncated(
                    "a boundary line is followed by garbage",
                )),
                AfterCandidate::Close => {
                    self.consume(2);
                    self.levels.pop();
                    if self.levels.is_empty() {
                        self.state = State::End;
                        self.buf.clear();
                        self.pending.push_back(MultipartEvent::End);
                    } else {
                        self.state = State::NestedEpilogue;
                        self.line_start = false;
                    }
                    Ok(true)
                }
                AfterCandidate::Open(n) => {
                    self.consume(n);
                    self.line_start = true;
                    self.state = State::Headers;
                    Ok(true)
                }
            },
            State::Headers => self.headers(),
            State::Body => self.body(),
            State::NestedEpilogue => {
                if !self.skip_to_delimiter() {
                    return Ok(false);
                }
                // The container part of the level we are back at ends here.
                self.pending.push_back(MultipartEvent::PartEnd {
                    depth: self.levels.len() - 1,
                });
                Ok(true)
            }
        }
    }

    /// Drops what comes before the innermost level's next delimiter (a
    /// preamble, or a nested multipart's epilogue); `true` once past it.
    fn skip_to_delimiter(&mut self) -> bool {
        let delimiter = self.innermost().to_vec();
        match self.find_delimiter(&delimiter) {
            Search::Found(at) => {
                self.consume(at + delimiter.len());
                self.state = State::AfterDelimiter;
                true
            }
            Search::Pending(at) => {
                self.discard_before(at.saturating_sub(1));
                false
            }
            Search::NotFound => {
                self.discard_keeping(delimiter.len() + 2);
                false
            }
        }
    }

    fn headers(&mut self) -> Result<bool, MimeError> {
        let end = if self.buf.starts_with(b"\r\n") {
            Some((0, 2))
        } else if self.buf.starts_with(b"\n") {
            Some((0, 1))
        } else {
            find(&self.buf, b"\n\r\n")
                .map(|i| (i + 1, 2))
                .into_iter()
                .chain(find(&self.buf, b"\n\n").map(|i| (i + 1, 1)))
                .min_by_key(|(i, _)| *i)
        };
        let Some((block_end, terminator)) = end else {
            if self.buf.len() > MAX_HEADER_BYTES {
                return Err(MimeError::HeadersTooLarge);
            }
            return Ok(false);
        };
        let headers = parse_header_block(&self.buf[..block_end])?;
        self.consume(block_end + terminator);
        self.line_start = true;
        self.parts += 1;
        if self.parts > self.limits.max_parts {
            return Err(MimeError::TooManyParts(self.limits.max_parts));
        }
        let depth = self.levels.len() - 1;
        let content_type = headers.content_type()?;
        if content_type.type_() == mime::MULTIPART {
            let boundary = boundary_of(&content_type)?;
            if self.levels.len() >= self.limits.max_depth {
                return Err(MimeError::TooDeep(self.limits.max_depth));
            }
            self.levels.push(delimiter(&boundary));
            self.state = State::Preamble;
        } else {
            self.decoder = Some(BodyDecoder::new(headers.transfer_encoding()?));
            self.part_bytes = 0;
            self.state = State::Body;
        }
        self.pending
            .push_back(MultipartEvent::PartStart { depth, headers });
        Ok(true)
    }

    fn body(&mut self) -> Result<bool, MimeError> {
        let delimiter = self.innermost().to_vec();
        let (found, take) = match self.find_delimiter(&delimiter) {
            Search::Found(at) => (Some(at), at),
            // Keep the line end that may belong to the delimiter.
            Search::Pending(at) => (None, at.saturating_sub(2)),
            // Keep what could still be "\r\n--boundary".
            Search::NotFound => (None, self.buf.len().saturating_sub(delimiter.len() + 2)),
        };
        match found {
            Some(at) => {
                // The line end before the delimiter belongs to it.
                let mut end = at;
                if end > 0 && self.buf[end - 1] == b'\n' {
                    end -= 1;
                    if end > 0 && self.buf[end - 1] == b'\r' {
                        end -= 1;
                    }
                }
                let content: Vec<u8> = self.buf[..end].to_vec();
                self.consume(at + delimiter.len());
                let mut out = Vec::new();
                if let Some(decoder) = self.decoder.as_mut() {
                    decoder.push(&content, &mut out)?;
                    decoder.finish(&mut out)?;
                }
                self.decoder = None;
                self.emit_data(out)?;
                self.pending.push_back(MultipartEvent::PartEnd {
                    depth: self.levels.len() - 1,
                });
                self.state = State::AfterDelimiter;
                Ok(true)
            }
            None => {
                if take == 0 {
                    return Ok(false);
                }
                let content: Vec<u8> = self.buf[..take].to_vec();
                self.consume(take);
                self.line_start = false;
                let mut out = Vec::new();
                if let Some(decoder) = self.decoder.as_mut() {
                    decoder.push(&content, &mut out)?;
                }
                self.emit_data(out)?;
                Ok(false)
            }
        }
    }

    fn emit_data(&mut self, data: Vec<u8>) -> Result<(), MimeError> {
        if data.is_empty() {
            return Ok(());
        }
        self.part_bytes += data.len() as u64;
        self.total_bytes += data.len() as u64;
        if self.part_bytes > self.limits.max_part_bytes {
            return Err(MimeError::PartTooLarge(self.limits.max_part_bytes));
        }
        if self.total_bytes > self.limits.max_total_bytes {
            return Err(MimeError::BodyTooLarge(self.limits.max_total_bytes));
        }
        self.pending.push_back(MultipartEvent::Data(data));
        Ok(())
    }

    /// The first real delimiter line of `delimiter` in the buffer. A
    /// candidate at offset 0 counts only at the start of a line; elsewhere
    /// it must follow a line feed.
    fn find_delimiter(&self, delimiter: &[u8]) -> Search {
        let mut from = 0;
        let mut pattern = Vec::with_capacity(delimiter.len() + 1);
        pattern.push(b'\n');
        pattern.extend_from_slice(delimiter);
        loop {
            let candidate = if from == 0 && self.line_start && self.buf.starts_with(delimiter) {
                Some(0)
            } else {
                find(&self.buf[from..], &pattern).map(|i| from + i + 1)
            };
            let Some(at) = candidate else {
                return Search::NotFound;
            };
            match after_candidate(&self.buf, at + delimiter.len(), self.input_done) {
                AfterCandidate::NeedMore => return Search::Pending(at),
                AfterCandidate::NotDelimiter => from = at + 1,
                AfterCandidate::Close | AfterCandidate::Open(_) => return Search::Found(at),
            }
        }
    }

    fn consume(&mut self, n: usize) {
        self.buf.drain(..n.min(self.buf.len()));
    }

    fn discard_before(&mut self, at: usize) {
        if at > 0 {
            self.consume(at);
            self.line_start = false;
        }
    }

    fn discard_keeping(&mut self, keep: usize) {
        if self.buf.len() > keep {
            let drop = self.buf.len() - keep;
            self.consume(drop);
            self.line_start = false;
        }
    }
}

/// `--boundary`.
fn delimiter(boundary: &str) -> Vec<u8> {
    let mut d = b"--".to_vec();
    d.extend_from_slice(boundary.as_bytes());
    d
}

/// What follows a candidate delimiter ending at `at`.
fn after_candidate(buf: &[u8], at: usize, input_done: bool) -> AfterCandidate {
    let rest = buf.get(at..).unwrap_or_default();
    if rest.starts_with(b"--") {
        return AfterCandidate::Close;
    }
    if rest == b"-" && !input_done {
        return AfterCandidate::NeedMore;
    }
    let padding = rest
        .iter()
        .take_while(|b| matches!(b, b' ' | b'\t'))
        .count();
    let tail = &rest[padding..];
    if tail.starts_with(b"\r\n") {
        AfterCandidate::Open(padding + 2)
    } else if tail.starts_with(b"\n") {
        AfterCandidate::Open(padding + 1)
    } else if (tail.is_empty() || tail == b"\r") && !input_done {
        AfterCandidate::NeedMore
    } else {
        AfterCandidate::NotDelimiter
    }
}

/// The first offset of `needle` in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A part with its whole content, as [`parse_all`] collects them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// 0 for the outermost multipart's parts.
    pub depth: usize,
    /// Its headers.
    pub headers: PartHeaders,
    /// Its decoded content (empty for a multipart container).
    pub content: Vec<u8>,
}

/// Parses a whole body at once (small bodies, tests): every part in
/// document order, containers before their parts.
pub fn parse_all(
    content_type: &str,
    body: &[u8],
    limits: MimeLimits,
) -> Result<Vec<Part>, MimeError> {
    let mut parser = MultipartParser::new(content_type, limits)?;
    parser.feed(body);
    parser.finish_input();
    let mut parts: Vec<Part> = Vec::new();
    // Index of the open leaf part receiving data.
    let mut open: Option<usize> = None;
    while let Some(event) = parser.next_event()? {
        match event {
            MultipartEvent::PartStart { depth, headers } => {
                parts.push(Part {
                    depth,
                    headers,
                    content: Vec::new(),
                });
                open = Some(parts.len() - 1);
            }
            MultipartEvent::Data(data) => {
                if let Some(part) = open.and_then(|i| parts.get_mut(i)) {
                    part.content.extend_from_slice(&data);
                }
            }
            MultipartEvent::PartEnd { .. } => open = None,
            MultipartEvent::End => break,
        }
    }
    Ok(parts)
}
