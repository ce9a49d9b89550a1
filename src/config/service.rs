//! Predefined message templates (`[templates.<name>]`) and the SMS services'
//! settings (`[services.<name>]`).
//!
//! Templates are checked at load — every `{{variable}}` well formed — so a
//! typo in a brace shows up in `check-config`, not in a customer's message.
//! The template syntax is defined here, and so is [`Template::render`], so
//! that the check and the use cannot disagree.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use crate::config::reader::{Ctx, Node, TableReader};
use crate::config::values::{Language, language_from_str, name_is_valid, parse_duration};

/// A predefined message in one or more languages, with `{{variable}}`
/// placeholders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    /// The template's name, as the API's `template` field gives it.
    pub name: String,
    texts: BTreeMap<Language, String>,
}

/// A placeholder of a template that the request gave no value for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("template variable `{0}` has no value")]
pub struct MissingVariable(pub String);

/// One piece of a template text.
enum Piece<'t> {
    Literal(&'t str),
    Variable(&'t str),
}

/// Splits a template text into literals and `{{ name }}` variables; the error
/// says what is wrong with the first bad placeholder.
fn pieces(text: &str) -> Result<Vec<Piece<'_>>, String> {
    let mut pieces = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        let (literal, after_open) = rest.split_at(open);
        if !literal.is_empty() {
            pieces.push(Piece::Literal(literal));
        }
        let after_open = after_open.get(2..).unwrap_or_default();
        let Some(close) = after_open.find("}}") else {
            return Err("has a `{{` without a closing `}}`".to_owned());
        };
        let (inside, after_close) = after_open.split_at(close);
        let name = inside.trim();
        let valid = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(format!(
                "has `{{{{{inside}}}}}`, which is not a variable \
                 (letters, digits and `_`, e.g. `{{{{ewt_minutes}}}}`)"
            ));
        }
        pieces.push(Piece::Variable(name));
        rest = after_close.get(2..).unwrap_or_default();
    }
    if !rest.is_empty() {
        pieces.push(Piece::Literal(rest));
    }
    Ok(pieces)
}

impl Template {
    /// The text in `language`, if the template has one.
    pub fn text(&self, language: &Language) -> Option<&str> {
        self.texts.get(language).map(String::as_str)
    }

    /// The languages the template is written in.
    pub fn languages(&self) -> impl Iterator<Item = &Language> {
        self.texts.keys()
    }

    /// The text in `language` with every `{{name}}` replaced by
    /// `variables[name]`. `Ok(None)` if the template has no text in
    /// `language`.
    pub fn render(
        &self,
        language: &Language,
        variables: &HashMap<String, String>,
    ) -> Result<Option<String>, MissingVariable> {
        let Some(text) = self.texts.get(language) else {
            return Ok(None);
        };
        // Texts were checked at load, so this cannot fail; treat a failure
        // as "no such text" rather than panic.
        let Ok(pieces) = pieces(text) else {
            return Ok(None);
        };
        let mut out = String::with_capacity(text.len());
        for piece in pieces {
            match piece {
                Piece::Literal(literal) => out.push_str(literal),
                Piece::Variable(name) => match variables.get(name) {
                    Some(value) => out.push_str(value),
                    None => return Err(MissingVariable(name.to_owned())),
                },
            }
        }
        Ok(Some(out))
    }
}

/// Decodes `[templates]`: a table of templates, each a table of language →
/// text.
pub(crate) fn decode_templates(
    node: &Node<'_, '_>,
    cx: &mut Ctx<'_, '_>,
) -> Option<BTreeMap<String, Template>> {
    let mut table = node.table(cx)?;
    let mut templates = BTreeMap::new();
    let mut ok = true;
    for (name, key_span, value) in table.rest() {
        let mut template_ok = true;
        if !name_is_valid(name) {
            cx.error(
                key_span.clone(),
                value.path(),
                format!(
                    "`{name}` is not a valid template name: use letters, digits, `_`, `-` or `.`"
                ),
            );
            template_ok = false;
        }
        let Some(mut texts_table) = value.table(cx) else {
            ok = false;
            continue;
        };
        let mut texts = BTreeMap::new();
        for (language, language_span, text_node) in texts_table.rest() {
            let language = language_from_str(language, |message| {
                cx.error(language_span.clone(), text_node.path(), message);
            });
            let Some(text) = text_node.string(cx) else {
                template_ok = false;
                continue;
            };
            if text.trim().is_empty() {
                text_node.error(cx, "must not be empty");
                template_ok = false;
                continue;
            }
            if let Err(why) = pieces(text) {
                text_node.error(cx, why);
                template_ok = false;
                continue;
            }
            match language {
                Some(language) => {
                    if texts.insert(language.clone(), text.to_owned()).is_some() {
                        cx.error(
                            language_span,
                            text_node.path(),
                            format!("language `{language}` is given twice (tags ignore case)"),
                        );
                        template_ok = false;
                    }
                }
                None => template_ok = false,
            }
        }
        if texts.is_empty() && template_ok {
            cx.error(
                texts_table.span(),
                texts_table.path(),
                "a template needs a text in at least one language, e.g. `en = \"…\"`",
            );
            template_ok = false;
        }
        ok &= template_ok;
        templates.insert(
            name.to_owned(),
            Template {
                name: name.to_owned(),
                texts,
            },
        );
    }
    table.finish(cx);
    ok.then_some(templates)
}

/// The outbound SMS services (docs/api.md).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    serde::Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ServiceKind {
    /// `channel`: within an existing session.
    Channel,
    /// `outbound`: opens a new session with the customer.
    Outbound,
    /// `session_less`: a one-off message.
    SessionLess,
    /// `wait_time`: a template to a caller waiting in the IVR.
    WaitTime,
    /// `in_call`: during a registered call.
    InCall,
    /// `deflection`: moves a caller from the IVR to SMS.
    Deflection,
    /// `app_launch`: a link that opens an app.
    AppLaunch,
}

impl ServiceKind {
    /// Every service, in the API's order.
    pub const ALL: [ServiceKind; 7] = [
        ServiceKind::Channel,
        ServiceKind::Outbound,
        ServiceKind::SessionLess,
        ServiceKind::WaitTime,
        ServiceKind::InCall,
        ServiceKind::Deflection,
        ServiceKind::AppLaunch,
    ];

    /// The API and configuration name, e.g. `"wait_time"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceKind::Channel => "channel",
            ServiceKind::Outbound => "outbound",
            ServiceKind::SessionLess => "session_less",
            ServiceKind::WaitTime => "wait_time",
            ServiceKind::InCall => "in_call",
            ServiceKind::Deflection => "deflection",
            ServiceKind::AppLaunch => "app_launch",
        }
    }

    /// Parses an API or configuration name.
    pub fn parse(name: &str) -> Option<ServiceKind> {
        ServiceKind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// Whether the service has an EWT threshold (`min_ewt`).
    pub fn has_ewt_threshold(self) -> bool {
        matches!(self, ServiceKind::WaitTime | ServiceKind::Deflection)
    }
}

/// Settings of one service (`[services.<name>]`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ServiceConfig {
    /// The EWT threshold: requests whose `ewt_seconds` is below it are
    /// refused (`422 below_ewt_threshold`); equal is accepted. Only for
    /// `wait_time` and `deflection`. Optional; default: no threshold.
    pub min_ewt: Option<Duration>,
}

fn decode_service(
    mut table: TableReader<'_, '_>,
    cx: &mut Ctx<'_, '_>,
    kind: ServiceKind,
) -> Option<ServiceConfig> {
    let min_ewt = if kind.has_ewt_threshold() {
        table.optional(cx, "min_ewt", parse_duration)
    } else {
        Some(None)
    };
    table.finish_with_hint(cx, |key| {
        (key == "min_ewt").then(|| {
            format!(
                "`{}` has no EWT threshold; min_ewt applies only to wait_time and deflection",
                kind.as_str()
            )
        })
    });
    Some(ServiceConfig { min_ewt: min_ewt? })
}

/// `[calls]`: the IVR calls the contact center registers
/// (`PUT /v1/calls/{call_id}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallsConfig {
    /// A call never ended with `DELETE` is forgotten this long after it was
    /// registered (or registered again), so a lost `DELETE` cannot tag a
    /// customer's texts with a call for ever. Default 4 h.
    pub expire_after: Duration,
}

impl Default for CallsConfig {
    fn default() -> Self {
        CallsConfig {
            expire_after: Duration::from_secs(4 * 3600),
        }
    }
}

/// Decodes `[calls]`.
pub(crate) fn decode_calls(
    mut table: TableReader<'_, '_>,
    cx: &mut Ctx<'_, '_>,
) -> Option<CallsConfig> {
    let expire_after = table.or_default(
        cx,
        "expire_after",
        CallsConfig::default().expire_after,
        crate::config::values::parse_positive_duration,
    );
    table.finish(cx);
    Some(CallsConfig {
        expire_after: expire_after?,
    })
}

/// Decodes `[services]`: one optional table per known service name.
pub(crate) fn decode_services(
    node: &Node<'_, '_>,
    cx: &mut Ctx<'_, '_>,
) -> Option<BTreeMap<ServiceKind, ServiceConfig>> {
    let mut table = node.table(cx)?;
    let mut services = BTreeMap::new();
    let mut ok = true;
    for kind in ServiceKind::ALL {
        let Some(service) = table.take(kind.as_str()) else {
            continue;
        };
        match service.table(cx).and_then(|t| decode_service(t, cx, kind)) {
            Some(config) => {
                services.insert(kind, config);
            }
            None => ok = false,
        }
    }
    table.finish_with_hint(cx, |_| {
        let names: Vec<&str> = ServiceKind::ALL.iter().map(|k| k.as_str()).collect();
        Some(format!(
            "not a service; the services are {}",
            names.join(", ")
        ))
    });
    ok.then_some(services)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(text: &str) -> Template {
        Template {
            name: "t".into(),
            texts: BTreeMap::from([(Language::english(), text.to_owned())]),
        }
    }

    #[test]
    fn placeholders_are_checked() {
        assert!(pieces("plain").is_ok());
        assert!(pieces("about {{ewt_minutes}} min").is_ok());
        assert!(pieces("{{ a }}{{b_2}}").is_ok());
        assert!(pieces("{{").is_err());
        assert!(pieces("x {{ewt_minutes} min").is_err());
        assert!(pieces("{{}}").is_err());
        assert!(pieces("{{1x}}").is_err());
        assert!(pieces("{{a b}}").is_err());
    }

    #[test]
    fn render_replaces_variables() {
        let t = template("Wait {{ ewt_minutes }} min, {{name}}.");
        let vars = HashMap::from([
            ("ewt_minutes".to_owned(), "7".to_owned()),
            ("name".to_owned(), "Ana".to_owned()),
        ]);
        assert_eq!(
            t.render(&Language::english(), &vars),
            Ok(Some("Wait 7 min, Ana.".to_owned()))
        );
        let es = Language::parse("es").expect("valid");
        assert_eq!(t.render(&es, &vars), Ok(None));
        assert_eq!(
            t.render(&Language::english(), &HashMap::new()),
            Err(MissingVariable("ewt_minutes".into()))
        );
    }

    #[test]
    fn service_names_round_trip() {
        for kind in ServiceKind::ALL {
            assert_eq!(ServiceKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(ServiceKind::parse("sessionless"), None);
    }
}
