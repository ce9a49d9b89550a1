//! Compliance keywords: a keyword is the whole message, trimmed, compared
//! without regard to case, accents or repeated spaces (`" Stop "`, `"stop"`,
//! `"STÓP"`, `"opt  out"`).

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// What a compliance keyword asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keyword {
    /// Opt out of messages from this business number.
    Stop,
    /// Opt back in.
    Start,
    /// Send the help message (opted out or not).
    Help,
}

impl Keyword {
    /// The name reported as `keyword` in `message.received`.
    pub fn as_str(self) -> &'static str {
        match self {
            Keyword::Stop => "STOP",
            Keyword::Start => "START",
            Keyword::Help => "HELP",
        }
    }
}

/// Opt-out words (CTIA's list and common carriers').
const STOP_WORDS: &[&str] = &[
    "STOP",
    "STOPALL",
    "UNSUBSCRIBE",
    "CANCEL",
    "END",
    "QUIT",
    "REVOKE",
    "OPT OUT",
    "OPTOUT",
];
/// Opt-in words.
const START_WORDS: &[&str] = &["START", "UNSTOP", "YES"];
/// Help words.
const HELP_WORDS: &[&str] = &["HELP", "INFO"];

/// The keyword a message is, if it is one.
pub fn match_keyword(text: &str) -> Option<Keyword> {
    let folded = fold_keyword(text);
    let is = |words: &[&str]| words.contains(&folded.as_str());
    if is(STOP_WORDS) {
        Some(Keyword::Stop)
    } else if is(START_WORDS) {
        Some(Keyword::Start)
    } else if is(HELP_WORDS) {
        Some(Keyword::Help)
    } else {
        None
    }
}

/// Upper case, accents dropped, whitespace trimmed and collapsed: the form
/// in which keywords (compliance and menu) are compared.
pub fn fold_keyword(text: &str) -> String {
    let bare: String = text
        .nfd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_uppercase)
        .collect();
    bare.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_message_any_case_accent_or_spacing() {
        for stop in [
            "STOP",
            "stop",
            " Stop\n",
            "StÓp",
            "opt  out",
            "OptOut",
            "unsubscribe",
            "Quit",
        ] {
            assert_eq!(match_keyword(stop), Some(Keyword::Stop), "{stop:?}");
        }
        for start in ["start", "UNSTOP", "Yes"] {
            assert_eq!(match_keyword(start), Some(Keyword::Start), "{start:?}");
        }
        for help in ["help", "Info "] {
            assert_eq!(match_keyword(help), Some(Keyword::Help), "{help:?}");
        }
        for other in [
            "stop please",
            "please stop",
            "STOPP",
            "",
            "yes!",
            "helpdesk",
        ] {
            assert_eq!(match_keyword(other), None, "{other:?}");
        }
    }
}
