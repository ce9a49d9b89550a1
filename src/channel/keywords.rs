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

/// A line's own compliance words (`stop_keywords`, `start_keywords`,
/// `help_keywords`), in addition to the standard ones, folded as
/// [`fold_keyword`] folds (`ARRET`, `ALTO`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineKeywords {
    /// More opt-out words.
    pub stop: Vec<String>,
    /// More opt-in words.
    pub start: Vec<String>,
    /// More help words.
    pub help: Vec<String>,
}

/// The keyword a message is, if it is one: a standard word, or one of the
/// line's own.
pub fn match_keyword(text: &str, line: Option<&LineKeywords>) -> Option<Keyword> {
    let folded = fold_keyword(text);
    let is = |standard: &[&str], own: fn(&LineKeywords) -> &Vec<String>| {
        standard.contains(&folded.as_str()) || line.is_some_and(|l| own(l).contains(&folded))
    };
    if is(STOP_WORDS, |l| &l.stop) {
        Some(Keyword::Stop)
    } else if is(START_WORDS, |l| &l.start) {
        Some(Keyword::Start)
    } else if is(HELP_WORDS, |l| &l.help) {
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
            assert_eq!(match_keyword(stop, None), Some(Keyword::Stop), "{stop:?}");
        }
        for start in ["start", "UNSTOP", "Yes"] {
            assert_eq!(
                match_keyword(start, None),
                Some(Keyword::Start),
                "{start:?}"
            );
        }
        for help in ["help", "Info "] {
            assert_eq!(match_keyword(help, None), Some(Keyword::Help), "{help:?}");
        }
        for other in [
            "stop please",
            "please stop",
            "STOPP",
            "",
            "yes!",
            "helpdesk",
        ] {
            assert_eq!(match_keyword(other, None), None, "{other:?}");
        }
    }

    #[test]
    fn a_line_adds_its_own_words() {
        let french = LineKeywords {
            stop: vec!["ARRET".into()],
            start: vec!["ARRIVEE".into()],
            help: vec!["AIDE".into()],
        };
        assert_eq!(match_keyword(" Arrêt ", Some(&french)), Some(Keyword::Stop));
        assert_eq!(
            match_keyword("arrivée", Some(&french)),
            Some(Keyword::Start)
        );
        assert_eq!(match_keyword("AIDE", Some(&french)), Some(Keyword::Help));
        assert_eq!(match_keyword("stop", Some(&french)), Some(Keyword::Stop));
        assert_eq!(match_keyword("arrêt", None), None);
        assert_eq!(match_keyword("arrêt tout", Some(&french)), None);
    }
}
