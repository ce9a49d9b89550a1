//! Renders a request's `template`: which language, which text, and every
//! `{{variable}}` filled, or a refusal that names what is missing. A
//! message with a hole in it is never sent.
//!
//! The language is the first of the request's `language`, the session's,
//! the line's and English that the template is written in; a tag with a
//! region (`es-MX`) falls back to its language (`es`) before the next one.

use std::collections::HashMap;

use serde_json::Value;

use crate::config::Language;
use crate::config::Template;

/// A rendered template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The text, every variable filled.
    pub text: String,
    /// The language it was rendered in.
    pub language: String,
}

/// Why a template cannot be rendered (`422 service_rule`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderRefusal {
    /// No such template.
    #[error("there is no template {0:?} (see [templates] in the configuration)")]
    Unknown(String),
    /// Not written in any language of the chain.
    #[error("template {template:?} has no text in {tried}, and none to fall back to")]
    NoLanguage {
        /// The template.
        template: String,
        /// The languages tried, in order.
        tried: String,
    },
    /// A placeholder with no value.
    #[error("template {template:?} needs the variable `{variable}`: give it in `variables`")]
    MissingVariable {
        /// The template.
        template: String,
        /// The variable.
        variable: String,
    },
    /// A value that is not text.
    #[error("variable `{0}` must be a string or a number")]
    NotText(String),
    /// A value too long (or on several lines) for a slot of a template.
    #[error("variable `{0}` is longer than 120 characters or has line breaks")]
    TooLong(String),
}

/// Longest variable value.
const MAX_VARIABLE_CHARS: usize = 120;

/// The request's `variables` as text: strings as they are, numbers and
/// booleans written out.
pub fn variables_as_text(
    variables: Option<&serde_json::Map<String, Value>>,
) -> Result<HashMap<String, String>, RenderRefusal> {
    let mut out = HashMap::new();
    for (name, value) in variables.into_iter().flatten() {
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            _ => return Err(RenderRefusal::NotText(name.clone())),
        };
        // A variable fills a slot of a predefined text (a wait, a name, a
        // link): it may not carry a message of its own into a service that
        // allows templates only.
        if text.chars().count() > MAX_VARIABLE_CHARS || text.contains(['\n', '\r']) {
            return Err(RenderRefusal::TooLong(name.clone()));
        }
        out.insert(name.clone(), text);
    }
    Ok(out)
}

/// The languages to try, in order, without repeats: each given tag, then
/// its primary language, then English last.
fn language_chain(preferred: &[Option<&str>]) -> Vec<Language> {
    let mut chain: Vec<Language> = Vec::new();
    let mut push = |language: Language| {
        if !chain.contains(&language) {
            chain.push(language);
        }
    };
    for tag in preferred.iter().flatten() {
        let Some(language) = Language::parse(tag) else {
            continue;
        };
        let primary = language
            .as_str()
            .split('-')
            .next()
            .and_then(Language::parse);
        push(language);
        if let Some(primary) = primary {
            push(primary);
        }
    }
    push(Language::english());
    chain
}

/// Renders `template` in the first language of `preferred` (request,
/// session, line; English last) that it has.
pub fn render(
    template: &Template,
    preferred: &[Option<&str>],
    variables: &HashMap<String, String>,
) -> Result<Rendered, RenderRefusal> {
    let chain = language_chain(preferred);
    for language in &chain {
        match template.render(language, variables) {
            Ok(Some(text)) => {
                return Ok(Rendered {
                    text,
                    language: language.as_str().to_owned(),
                });
            }
            Ok(None) => continue,
            Err(missing) => {
                return Err(RenderRefusal::MissingVariable {
                    template: template.name.clone(),
                    variable: missing.0,
                });
            }
        }
    }
    let tried: Vec<&str> = chain.iter().map(Language::as_str).collect();
    Err(RenderRefusal::NoLanguage {
        template: template.name.clone(),
        tried: tried.join(", "),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template() -> Template {
        let config = crate::config::Config::from_str(
            r#"
state_dir = "/tmp/x"
[core]
webhook_url = "http://127.0.0.1:1/e"
webhook_secret = "s"
[templates.wait_time]
en = "Your wait is about {{ewt_minutes}} min."
es = "Su espera es de unos {{ewt_minutes}} min."
"#,
            "test.toml",
        )
        .expect("config");
        config.template("wait_time").expect("template").clone()
    }

    fn vars() -> HashMap<String, String> {
        HashMap::from([("ewt_minutes".to_owned(), "7".to_owned())])
    }

    #[test]
    fn the_request_then_the_session_then_the_line_then_english() {
        let t = template();
        let r = render(&t, &[Some("es"), Some("en"), None], &vars()).expect("render");
        assert_eq!(
            r,
            Rendered {
                text: "Su espera es de unos 7 min.".into(),
                language: "es".into()
            }
        );
        let r = render(&t, &[None, Some("es-MX"), Some("en")], &vars()).expect("render");
        assert_eq!(r.language, "es");
        let r = render(&t, &[Some("tr"), None, Some("de")], &vars()).expect("render");
        assert_eq!(r.language, "en", "English is the last resort");
    }

    #[test]
    fn a_hole_is_refused() {
        let t = template();
        let refusal = render(&t, &[Some("es")], &HashMap::new());
        assert_eq!(
            refusal,
            Err(RenderRefusal::MissingVariable {
                template: "wait_time".into(),
                variable: "ewt_minutes".into()
            })
        );
        let only_es = crate::config::Config::from_str(
            r#"
state_dir = "/tmp/x"
[core]
webhook_url = "http://127.0.0.1:1/e"
webhook_secret = "s"
[templates.t]
es = "Hola"
"#,
            "test.toml",
        )
        .expect("config");
        let refusal = render(only_es.template("t").expect("t"), &[Some("tr")], &vars());
        assert!(
            matches!(refusal, Err(RenderRefusal::NoLanguage { tried, .. }) if tried == "tr, en")
        );
    }

    #[test]
    fn variables_must_be_text_or_numbers() {
        let map: serde_json::Map<String, Value> =
            serde_json::from_str(r#"{"a": "x", "b": 7, "c": true}"#).expect("json");
        let vars = variables_as_text(Some(&map)).expect("text");
        assert_eq!(vars["b"], "7");
        let bad: serde_json::Map<String, Value> =
            serde_json::from_str(r#"{"a": {"x": 1}}"#).expect("json");
        assert_eq!(
            variables_as_text(Some(&bad)),
            Err(RenderRefusal::NotText("a".into()))
        );
    }
}
