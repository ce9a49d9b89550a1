//! Lines of business (`[[lines]]`): the queues a customer can reach through a
//! number, the system messages they get, and those messages per language.
//!
//! The compliance texts (consent, HELP, STOP, START) are required: sending
//! without them would break carrier rules, so a line missing one is a
//! configuration error rather than a silent gap. Messages are modelled as a
//! base set in the line's language plus per-language overrides, resolved by
//! [`Line::message`], so the channel logic asks one question — "the STOP text
//! in Spanish" — and gets the override or the base text.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::config::reader::{Ctx, Node, TableReader};
use crate::config::routing::Names;
use crate::config::values::{
    Language, language_from_str, parse_choice, parse_int, parse_language, parse_list, parse_name,
    parse_non_empty, parse_positive_duration,
};

/// A system message of a line; the variants are the configuration keys
/// that `[lines.messages.<lang>]` may override.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MessageKey {
    /// `consent_message`: sent once per (customer, number), with the privacy terms.
    Consent,
    /// `help_message`: the answer to HELP.
    Help,
    /// `stop_message`: the confirmation of STOP.
    Stop,
    /// `start_message`: the confirmation of START.
    Start,
    /// `menu_prompt`: asks the customer to pick a queue.
    MenuPrompt,
    /// `timeout_message`: sent when a session ends by idle timeout.
    Timeout,
    /// `expiry_message`: sent when a session reaches its hard expiry.
    Expiry,
}

impl MessageKey {
    /// Every key, in configuration order.
    pub const ALL: [MessageKey; 7] = [
        MessageKey::Consent,
        MessageKey::Help,
        MessageKey::Stop,
        MessageKey::Start,
        MessageKey::MenuPrompt,
        MessageKey::Timeout,
        MessageKey::Expiry,
    ];

    /// The configuration key, e.g. `"stop_message"`.
    pub fn config_key(self) -> &'static str {
        match self {
            MessageKey::Consent => "consent_message",
            MessageKey::Help => "help_message",
            MessageKey::Stop => "stop_message",
            MessageKey::Start => "start_message",
            MessageKey::MenuPrompt => "menu_prompt",
            MessageKey::Timeout => "timeout_message",
            MessageKey::Expiry => "expiry_message",
        }
    }
}

/// A line's system messages in its own language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineMessages {
    /// `consent_message`. Required.
    pub consent: String,
    /// `help_message`. Required.
    pub help: String,
    /// `stop_message`. Required.
    pub stop: String,
    /// `start_message`. Required.
    pub start: String,
    /// `menu_prompt`. Required when the line has two or more queues.
    pub menu_prompt: Option<String>,
    /// `timeout_message`. Optional; without it an idle session ends silently.
    pub timeout: Option<String>,
    /// `expiry_message`. Optional; defaults to `timeout_message`.
    pub expiry: Option<String>,
}

impl LineMessages {
    fn get(&self, key: MessageKey) -> Option<&str> {
        match key {
            MessageKey::Consent => Some(&self.consent),
            MessageKey::Help => Some(&self.help),
            MessageKey::Stop => Some(&self.stop),
            MessageKey::Start => Some(&self.start),
            MessageKey::MenuPrompt => self.menu_prompt.as_deref(),
            MessageKey::Timeout => self.timeout.as_deref(),
            MessageKey::Expiry => self.expiry.as_deref().or(self.timeout.as_deref()),
        }
    }
}

/// A queue of a line (`[[lines.queues]]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queue {
    /// Name, unique within the line; reported to the core. Required.
    pub name: String,
    /// Replies that select this queue from the menu, trimmed and in lower
    /// case (matching is case-insensitive). Required when the line has two or
    /// more queues; unique within the line; never STOP, START or HELP.
    pub keywords: Vec<String>,
    /// Language the session switches to when this queue is chosen. Optional.
    pub language: Option<Language>,
}

/// A line of business (`[[lines]]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// Unique name, referenced by `[[numbers]] line`. Required.
    pub name: String,
    /// Language of the base messages and of new sessions. Default `"en"`.
    pub language: Language,
    /// Base system messages.
    pub messages: LineMessages,
    /// A session with no message for this long ends. Default `"30m"`.
    pub idle_timeout: Duration,
    /// A session ends this long after it started, active or not. Default `"24h"`.
    pub expiry: Duration,
    /// The queues, in menu order. May be empty.
    pub queues: Vec<Queue>,
    /// `menu_repeats`: how many times a reply that matches no queue gets the
    /// menu prompt again before the first queue is chosen. Default 2.
    pub menu_repeats: u8,
    /// `[lines.messages.<lang>]`: per-language overrides of any message.
    pub translations: BTreeMap<Language, BTreeMap<MessageKey, String>>,
    /// `stop_keywords`, `start_keywords`, `help_keywords`: the line's own
    /// compliance words beside the standard ones (e.g. `ARRET`, `ALTO`).
    pub keywords: crate::channel::LineKeywords,
    /// `opt_out_scope`: what a STOP (or START) to one of the line's numbers
    /// changes. Default `"number"`.
    pub opt_out_scope: OptOutScope,
}

/// What a customer's STOP or START covers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum OptOutScope {
    /// The business number it was sent to.
    #[default]
    Number,
    /// Every business number of that number's brand (through its
    /// campaign); a number without a brand: itself.
    Brand,
}

/// Whether `keyword` is a compliance keyword, standard or the line's own:
/// those are handled before any menu, so a queue keyword equal to one could
/// never be selected.
fn is_compliance_keyword(keyword: &str, line: &crate::channel::LineKeywords) -> bool {
    crate::channel::match_keyword(keyword, Some(line)).is_some()
}

/// Decodes `stop_keywords`, `start_keywords` and `help_keywords`: words
/// that are not already a compliance keyword of another kind (or listed
/// twice), folded for comparison.
fn decode_line_keywords(
    table: &mut TableReader<'_, '_>,
    cx: &mut Ctx<'_, '_>,
) -> Option<crate::channel::LineKeywords> {
    use crate::channel::keywords::fold_keyword;
    use crate::channel::{Keyword, LineKeywords};
    let mut line = LineKeywords::default();
    let mut ok = true;
    for (key, kind) in [
        ("stop_keywords", Keyword::Stop),
        ("start_keywords", Keyword::Start),
        ("help_keywords", Keyword::Help),
    ] {
        let Some(node) = table.take(key) else {
            continue;
        };
        let words = parse_list(&node, cx, |item, cx| {
            let word = fold_keyword(&parse_non_empty(item, cx)?);
            if word.is_empty() {
                item.error(cx, "must not be blank");
                return None;
            }
            if let Some(other) = crate::channel::match_keyword(&word, Some(&line)) {
                let message = if other == kind {
                    format!("`{word}` is already a {} keyword", other.as_str())
                } else {
                    format!(
                        "`{word}` is already a {} keyword; a word can mean one thing only",
                        other.as_str()
                    )
                };
                item.error(cx, message);
                return None;
            }
            // Seen by the next items and lists.
            match kind {
                Keyword::Stop => line.stop.push(word.clone()),
                Keyword::Start => line.start.push(word.clone()),
                Keyword::Help => line.help.push(word.clone()),
            }
            Some(word)
        });
        ok &= words.is_some();
    }
    ok.then_some(line)
}

impl Line {
    /// The text of `key` in `language`: the override for that language if
    /// there is one, else the base text. `None` for optional messages that are
    /// not configured.
    pub fn message(&self, key: MessageKey, language: &Language) -> Option<&str> {
        let translated = self.translations.get(language).and_then(|t| {
            t.get(&key).map(String::as_str).or_else(|| match key {
                MessageKey::Expiry => t.get(&MessageKey::Timeout).map(String::as_str),
                _ => None,
            })
        });
        translated.or_else(|| self.messages.get(key))
    }

    /// The queue called `name`.
    pub fn queue(&self, name: &str) -> Option<&Queue> {
        self.queues.iter().find(|q| q.name == name)
    }

    /// The queue a menu reply selects: the reply equals one of the queue's
    /// keywords, compared as compliance keywords are (case, accents and
    /// repeated spaces ignored, see [`crate::channel::keywords`]).
    pub fn queue_for_reply(&self, reply: &str) -> Option<&Queue> {
        let reply = crate::channel::keywords::fold_keyword(reply);
        self.queues.iter().find(|q| {
            q.keywords
                .iter()
                .any(|k| crate::channel::keywords::fold_keyword(k) == reply)
        })
    }
}

fn normalize_keyword(text: &str) -> String {
    text.trim().to_lowercase()
}

/// Decodes the `keywords` of one queue; `seen` holds the keywords of the
/// line's earlier queues with their queue's name, for duplicates.
fn parse_keywords(
    node: &Node<'_, '_>,
    cx: &mut Ctx<'_, '_>,
    seen: &mut Vec<(String, usize)>,
    queue_index: usize,
    compliance: &crate::channel::LineKeywords,
) -> Option<Vec<String>> {
    parse_list(node, cx, |item, cx| {
        let keyword = normalize_keyword(&parse_non_empty(item, cx)?);
        if is_compliance_keyword(&keyword, compliance) {
            item.error(
                cx,
                format!(
                    "`{keyword}` is a compliance keyword, answered before any menu; \
                     it can never select a queue"
                ),
            );
            return None;
        }
        if let Some((_, other)) = seen.iter().find(|(k, _)| *k == keyword) {
            let message = if *other == queue_index {
                format!("keyword `{keyword}` is listed twice")
            } else {
                format!("keyword `{keyword}` already selects queue {other} of this line")
            };
            item.error(cx, message);
            return None;
        }
        seen.push((keyword.clone(), queue_index));
        Some(keyword)
    })
}

fn decode_queue(
    mut table: TableReader<'_, '_>,
    cx: &mut Ctx<'_, '_>,
    index: usize,
    names: &mut Names,
    keywords_seen: &mut Vec<(String, usize)>,
    keywords_required: bool,
    compliance: &crate::channel::LineKeywords,
) -> Option<Queue> {
    let name = table.required(cx, "name", |node, cx| {
        let name = parse_name(node, cx)?;
        names.define(cx, node, &name, "queue name").then_some(name)
    });
    let keywords = match table.take("keywords") {
        Some(node) => {
            parse_keywords(&node, cx, keywords_seen, index, compliance).and_then(|keywords| {
                if keywords.is_empty() && keywords_required {
                    node.error(cx, "must list at least one keyword: the line has a menu");
                    None
                } else {
                    Some(keywords)
                }
            })
        }
        None if keywords_required => {
            table.missing(
                cx,
                "keywords",
                "missing required key `keywords` (the line has several queues, \
                 so each needs menu keywords)",
            );
            None
        }
        None => Some(Vec::new()),
    };
    let language = table.optional(cx, "language", parse_language);
    table.finish(cx);
    Some(Queue {
        name: name?,
        keywords: keywords?,
        language: language?,
    })
}

/// Decodes one `[lines.messages.<lang>]` table.
fn decode_translation(
    mut table: TableReader<'_, '_>,
    cx: &mut Ctx<'_, '_>,
) -> Option<BTreeMap<MessageKey, String>> {
    let mut messages = BTreeMap::new();
    let mut ok = true;
    for key in MessageKey::ALL {
        match table.optional(cx, key.config_key(), parse_non_empty) {
            Some(Some(text)) => {
                messages.insert(key, text);
            }
            Some(None) => {}
            None => ok = false,
        }
    }
    table.finish(cx);
    ok.then_some(messages)
}

fn decode_translations(
    node: &Node<'_, '_>,
    cx: &mut Ctx<'_, '_>,
) -> Option<BTreeMap<Language, BTreeMap<MessageKey, String>>> {
    let mut table = node.table(cx)?;
    let mut translations = BTreeMap::new();
    let mut ok = true;
    for (key, key_span, value) in table.rest() {
        let language = language_from_str(key, |message| {
            cx.error(key_span.clone(), value.path(), message);
        });
        let messages = value.table(cx).and_then(|t| decode_translation(t, cx));
        match (language, messages) {
            (Some(language), Some(messages)) => {
                if translations.insert(language.clone(), messages).is_some() {
                    cx.error(
                        key_span,
                        value.path(),
                        format!("language `{language}` is given twice (tags ignore case)"),
                    );
                    ok = false;
                }
            }
            _ => ok = false,
        }
    }
    table.finish(cx);
    ok.then_some(translations)
}

/// Decodes one `[[lines]]` table and registers its name in `lines`.
pub(crate) fn decode(
    mut table: TableReader<'_, '_>,
    cx: &mut Ctx<'_, '_>,
    lines: &mut Names,
) -> Option<Line> {
    let name = table.required(cx, "name", |node, cx| {
        let name = parse_name(node, cx)?;
        lines.define(cx, node, &name, "line name").then_some(name)
    });
    let language = table.optional(cx, "language", parse_language);
    let consent = table.required(cx, "consent_message", parse_non_empty);
    let help = table.required(cx, "help_message", parse_non_empty);
    let stop = table.required(cx, "stop_message", parse_non_empty);
    let start = table.required(cx, "start_message", parse_non_empty);
    let timeout = table.optional(cx, "timeout_message", parse_non_empty);
    let expiry_message = table.optional(cx, "expiry_message", parse_non_empty);
    let idle_timeout = table.or_default(
        cx,
        "idle_timeout",
        Duration::from_secs(30 * 60),
        parse_positive_duration,
    );
    let expiry = table.or_default(
        cx,
        "expiry",
        Duration::from_secs(24 * 60 * 60),
        parse_positive_duration,
    );

    let line_keywords = decode_line_keywords(&mut table, cx);
    let opt_out_scope = table.or_default(
        cx,
        "opt_out_scope",
        OptOutScope::Number,
        parse_choice(
            "opt-out scope",
            &[
                ("number", OptOutScope::Number),
                ("brand", OptOutScope::Brand),
            ],
        ),
    );
    let compliance = line_keywords.clone().unwrap_or_default();
    let queue_tables = match table.take("queues") {
        Some(node) => node.table_array(cx, "lines.queues"),
        None => Vec::new(),
    };
    let several_queues = queue_tables.len() > 1;
    let mut queue_names = Names::default();
    let mut keywords_seen = Vec::new();
    let mut queues = Some(Vec::with_capacity(queue_tables.len()));
    for (index, queue_table) in queue_tables.into_iter().enumerate() {
        let queue = decode_queue(
            queue_table,
            cx,
            index,
            &mut queue_names,
            &mut keywords_seen,
            several_queues,
            &compliance,
        );
        match (queue, queues.as_mut()) {
            (Some(queue), Some(list)) => list.push(queue),
            _ => queues = None,
        }
    }

    let menu_prompt = match table.take("menu_prompt") {
        Some(node) => parse_non_empty(&node, cx).map(Some),
        None if several_queues => {
            table.missing(
                cx,
                "menu_prompt",
                "missing required key `menu_prompt` (the line has several queues)",
            );
            None
        }
        None => Some(None),
    };
    let menu_repeats = table.or_default(cx, "menu_repeats", 2, parse_int(0, 10));
    let translations = table.or_default(cx, "messages", BTreeMap::new(), decode_translations);
    table.finish(cx);

    let language = language?.unwrap_or_else(Language::english);
    Some(Line {
        name: name?,
        language,
        messages: LineMessages {
            consent: consent?,
            help: help?,
            stop: stop?,
            start: start?,
            menu_prompt: menu_prompt?,
            timeout: timeout?,
            expiry: expiry_message?,
        },
        idle_timeout: idle_timeout?,
        expiry: expiry?,
        queues: queues?,
        menu_repeats: menu_repeats?,
        translations: translations?,
        keywords: line_keywords?,
        opt_out_scope: opt_out_scope?,
    })
}
