//! Tests of the whole loader: the reference example, every kind of error with its
//! line and key path, one-pass collection, secrets and durations.
//!
//! Lines are found by searching the test's own text (`line_of`) rather than
//! written as numbers, so that each assertion says which line it means.

use std::collections::HashMap;
use std::ffi::OsString;
use std::time::Duration;

use carrier_protocol::receipt::{IdFormat, MessageIdMapping};
use carrier_protocol::smpp::{CommandStatus, DEFAULT_MAX_PDU_LEN, InterfaceVersion, Npi, Ton};
use carrier_protocol::text::NationalLanguage;
use carrier_protocol::text::choose::Concatenation;

use crate::config::*;

/// The reference configuration example (`tests/fixtures/design_example.toml`), verbatim.
const DESIGN_EXAMPLE: &str = include_str!("design_example.toml");

/// The environment the tests see.
fn test_env(name: &str) -> Option<OsString> {
    let env: HashMap<&str, &str> = HashMap::from([
        ("SMPP_PASSWORD", "envpw123"),
        ("API_TOKEN", "token-from-env"),
        ("HOOK_SECRET", "hook-from-env"),
        ("EMPTY", ""),
    ]);
    env.get(name).map(OsString::from)
}

fn parse(text: &str) -> Result<Config, ConfigErrors> {
    Config::from_str_with_env(text, "gw.toml", test_env)
}

fn parse_ok(text: &str) -> Config {
    match parse(text) {
        Ok(config) => config,
        Err(errors) => panic!("expected a valid configuration, got:\n{errors}"),
    }
}

fn parse_err(text: &str) -> Vec<ConfigError> {
    match parse(text) {
        Ok(config) => panic!("expected errors, got {config:?}"),
        Err(errors) => errors.into_iter().collect(),
    }
}

/// 1-based line of the `nth` (0-based) line of `text` containing `needle`.
fn nth_line_of(text: &str, needle: &str, nth: usize) -> usize {
    text.lines()
        .enumerate()
        .filter(|(_, line)| line.contains(needle))
        .nth(nth)
        .map(|(i, _)| i + 1)
        .unwrap_or_else(|| panic!("`{needle}` (#{nth}) not in the test text"))
}

fn line_of(text: &str, needle: &str) -> usize {
    nth_line_of(text, needle, 0)
}

/// Asserts that `text` has exactly one error, at `line`, about `key_path`,
/// whose message contains `fragment`; returns it.
#[track_caller]
fn single_error(text: &str, line: usize, key_path: &str, fragment: &str) -> ConfigError {
    let errors = parse_err(text);
    assert_eq!(
        errors.len(),
        1,
        "expected one error, got:\n{}",
        errors
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    );
    let error = errors.into_iter().next().expect("one error");
    assert_eq!(
        (error.line, error.key_path.as_str()),
        (line, key_path),
        "{error}"
    );
    assert!(
        error.message.contains(fragment),
        "`{}` does not contain `{fragment}`",
        error.message
    );
    error
}

const CORE: &str = r#"
[core]
webhook_url = "http://127.0.0.1:8081/events"
webhook_secret = "hook"
"#;

/// A minimal valid configuration whose last table is an SMPP carrier, so that
/// text appended to it adds keys to that carrier.
fn smpp(extra: &str) -> String {
    format!(
        r#"{CORE}
[[carriers]]
name = "acme"
protocol = "smpp"
host = "smsc.example.net"
port = 2775
system_id = "gw"
password = "pw"
{extra}"#
    )
}

/// The carriers, brand, campaign and line that numbers refer to, then
/// `numbers`.
fn routed(numbers: &str) -> String {
    format!(
        r#"{CORE}
[[carriers]]
name = "acme"
protocol = "smpp"
host = "127.0.0.1"
port = 2775
system_id = "gw"
password = "pw"

[[carriers]]
name = "acme-mms"
protocol = "mm7"
url = "http://127.0.0.1:7070/mm7"
vasp_id = "acme"
listen = "127.0.0.1:7071"

[[brands]]
id = "B1"

[[campaigns]]
id = "C1"
brand = "B1"

[[lines]]
name = "support"
consent_message = "consent"
help_message = "help"
stop_message = "stop"
start_message = "start"

{numbers}"#
    )
}

/// A line with the given extra keys/tables after the required messages.
fn with_line(extra: &str) -> String {
    format!(
        r#"{CORE}
[[lines]]
name = "support"
consent_message = "consent"
help_message = "help"
stop_message = "stop"
start_message = "start"
{extra}"#
    )
}

// ---------------------------------------------------------------------------
// the reference example
// ---------------------------------------------------------------------------

#[test]
fn design_example_parses_with_every_value() {
    let config = parse_ok(DESIGN_EXAMPLE);

    assert_eq!(
        config.state_dir(),
        std::path::Path::new("/var/lib/carrier-gateway")
    );
    assert_eq!(config.api().listen.to_string(), "127.0.0.1:8080");
    let tokens: Vec<&str> = config.api().tokens.iter().map(Secret::expose).collect();
    assert_eq!(tokens, ["change-me"]);
    assert_eq!(config.metrics().listen.to_string(), "127.0.0.1:9090");
    let core = config.core();
    assert_eq!(core.webhook_url.as_str(), "http://127.0.0.1:8081/events");
    assert_eq!(core.webhook_secret.expose(), "change-me");
    assert_eq!(core.batch_max.get(), 1);
    assert_eq!(core.status_events, StatusSet::all());

    assert_eq!(config.carriers().len(), 3);
    let Some(Carrier::Smpp(acme)) = config.carrier("acme") else {
        panic!("acme is an smpp carrier");
    };
    assert_eq!(acme.host, "127.0.0.1");
    assert_eq!(acme.port, 2775);
    assert!(!acme.tls);
    assert_eq!(acme.system_id, "gw");
    assert_eq!(acme.password.expose(), "secret");
    assert_eq!(acme.binds, 2);
    assert_eq!(acme.window, 64);
    // Defaults of everything the example does not set.
    assert_eq!(acme.tls_ca_file, None);
    assert_eq!(acme.system_type, "");
    assert_eq!(acme.interface_version, InterfaceVersion::V34);
    assert_eq!(acme.throughput, None);
    assert_eq!(acme.enquire_link_interval, Duration::from_secs(30));
    assert_eq!(acme.response_timeout, Duration::from_secs(10));
    assert_eq!(acme.bind_timeout, Duration::from_secs(10));
    assert_eq!(acme.reconnect_delay, Duration::from_secs(1));
    assert_eq!(acme.reconnect_max_delay, Duration::from_secs(60));
    assert_eq!(
        (
            acme.source_ton,
            acme.source_npi,
            acme.dest_ton,
            acme.dest_npi
        ),
        (None, None, None, None)
    );
    assert!(!acme.gsm7_packed);
    assert!(!acme.allow_latin1);
    assert!(acme.national_languages.is_empty());
    assert_eq!(acme.concatenation, Concatenation::Udh8);
    assert_eq!(acme.message_id_format, MessageIdMapping::default());
    assert_eq!(acme.max_pdu_len, DEFAULT_MAX_PDU_LEN);
    assert!(acme.error_policy.is_empty());

    let Some(Carrier::Mm7(mms)) = config.carrier("acme-mms") else {
        panic!("acme-mms is an mm7 carrier");
    };
    assert_eq!(mms.url.as_str(), "http://127.0.0.1:7070/mm7");
    assert_eq!(mms.vasp_id, "acme");
    assert_eq!(mms.vas_id.as_deref(), Some("support"));
    assert_eq!(mms.listen.to_string(), "127.0.0.1:7071");
    assert_eq!(mms.response_timeout, Duration::from_secs(30));
    assert_eq!((mms.username.as_deref(), &mms.password), (None, &None));

    let Some(Carrier::Sip(trunk)) = config.carrier("trunk") else {
        panic!("trunk is a sip carrier");
    };
    assert_eq!((trunk.host.as_str(), trunk.port), ("127.0.0.1", 5070));
    assert_eq!(trunk.transport, SipTransport::Udp);
    assert_eq!(trunk.listen.to_string(), "127.0.0.1:5060");
    assert_eq!(trunk.domain, "sip.example.net");
    assert_eq!(trunk.username.as_deref(), Some("gw"));
    assert_eq!(trunk.password.as_ref().map(Secret::expose), Some("secret"));
    assert_eq!(
        config
            .carriers()
            .iter()
            .map(Carrier::protocol)
            .collect::<Vec<_>>(),
        [Protocol::Smpp, Protocol::Mm7, Protocol::Sip]
    );

    let brand = config.brand("B1").expect("brand B1");
    assert_eq!(brand.limits.per_day.map(|n| n.get()), Some(2000));
    let campaign = config.campaign("C1").expect("campaign C1");
    assert_eq!(campaign.brand, "B1");
    assert_eq!(campaign.limits.per_minute.map(|n| n.get()), Some(4500));

    let number = config.number("+15551230001").expect("the number");
    assert_eq!(number.number.kind(), NumberKind::E164);
    assert_eq!(number.limits.per_second.map(|n| n.get()), Some(1));
    assert_eq!(
        config.sms_carrier_of(number).map(Carrier::name),
        Some("acme")
    );
    assert_eq!(
        config.mms_carrier_of(number).map(|c| c.name.as_str()),
        Some("acme-mms")
    );
    assert_eq!(
        config.campaign_of(number).map(|c| c.id.as_str()),
        Some("C1")
    );
    assert_eq!(config.brand_of(number).map(|b| b.id.as_str()), Some("B1"));
    assert_eq!(
        config.line_of(number).map(|l| l.name.as_str()),
        Some("support")
    );
    assert!(config.number("+15551230002").is_none());
    assert!(config.number("15551230001").is_none());

    let line = config.line("support").expect("line support");
    let en = Language::english();
    let es = Language::parse("es").expect("valid");
    assert_eq!(line.language, en);
    assert_eq!(line.idle_timeout, Duration::from_secs(30 * 60));
    assert_eq!(line.expiry, Duration::from_secs(24 * 3600));
    assert!(line.messages.consent.starts_with("Acme Support: msgs"));
    assert_eq!(
        line.message(MessageKey::MenuPrompt, &en),
        Some("Reply 1 for Billing or 2 for Technical support.")
    );
    assert!(
        line.message(MessageKey::Stop, &es)
            .is_some_and(|m| m.starts_with("Se ha dado de baja"))
    );
    // No Spanish HELP: the base text.
    assert_eq!(
        line.message(MessageKey::Help, &es),
        Some(line.messages.help.as_str())
    );
    // No expiry_message: the timeout message stands in.
    assert_eq!(
        line.message(MessageKey::Expiry, &en),
        line.messages.timeout.as_deref()
    );
    let queues: Vec<(&str, &[String])> = line
        .queues
        .iter()
        .map(|q| (q.name.as_str(), q.keywords.as_slice()))
        .collect();
    assert_eq!(
        queues,
        [
            ("billing", &["1".to_owned(), "billing".to_owned()][..]),
            (
                "tech",
                &["2".to_owned(), "tech".to_owned(), "support".to_owned()][..]
            ),
            (
                "soporte",
                &["3".to_owned(), "espanol".to_owned(), "español".to_owned()][..]
            ),
        ]
    );
    assert_eq!(
        line.queue("soporte").and_then(|q| q.language.clone()),
        Some(es.clone())
    );
    assert_eq!(
        line.queue_for_reply(" ESPAÑOL ").map(|q| q.name.as_str()),
        Some("soporte")
    );
    assert_eq!(
        line.queue_for_reply("Tech").map(|q| q.name.as_str()),
        Some("tech")
    );
    assert!(line.queue_for_reply("4").is_none());

    let template = config.template("wait_time").expect("template");
    assert!(
        template
            .text(&en)
            .is_some_and(|t| t.contains("{{ewt_minutes}}"))
    );
    assert_eq!(
        template.render(
            &es,
            &HashMap::from([("ewt_minutes".to_owned(), "7".to_owned())])
        ),
        Ok(Some(
            "Gracias por esperar. Su espera es de unos 7 min.".to_owned()
        ))
    );
    assert_eq!(
        config.service(ServiceKind::WaitTime).min_ewt,
        Some(Duration::from_secs(120))
    );
    assert_eq!(
        config.service(ServiceKind::Deflection).min_ewt,
        Some(Duration::from_secs(300))
    );
    assert_eq!(config.service(ServiceKind::Channel).min_ewt, None);

    assert_eq!(
        config.summary(),
        "3 carriers (1 smpp, 1 mm7, 1 sip), 1 number, 1 line, 1 campaign, 1 brand, \
         1 template, 2 services"
    );
}

#[test]
fn defaults_of_a_minimal_configuration() {
    let config = parse_ok(CORE);
    assert_eq!(config.state_dir(), std::path::Path::new(DEFAULT_STATE_DIR));
    assert_eq!(config.api().listen, DEFAULT_API_LISTEN);
    assert!(config.api().tokens.is_empty());
    assert_eq!(config.metrics().listen, DEFAULT_METRICS_LISTEN);
    assert!(config.carriers().is_empty());
    assert_eq!(
        config.summary(),
        "0 carriers, 0 numbers, 0 lines, 0 campaigns, 0 brands, 0 templates, 0 services"
    );
}

// ---------------------------------------------------------------------------
// Files and check-config
// ---------------------------------------------------------------------------

/// A file in the temp directory, removed on drop.
struct TempFile(std::path::PathBuf);

impl TempFile {
    fn new(name: &str, contents: &str) -> TempFile {
        let path = std::env::temp_dir().join(format!(
            "carrier-gateway-config-test-{}-{name}",
            std::process::id()
        ));
        std::fs::write(&path, contents).expect("write temp file");
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn load_reads_the_file_and_names_it_in_errors() {
    let file = TempFile::new("load.toml", DESIGN_EXAMPLE);
    let config = Config::load(&file.0).expect("the example loads");
    assert_eq!(config.carriers().len(), 3);

    let bad = TempFile::new("bad.toml", &smpp("window = 0\n"));
    let errors = Config::load(&bad.0).expect_err("window 0");
    let error = &errors.errors()[0];
    assert_eq!(error.file, bad.0);
    assert!(
        error
            .to_string()
            .starts_with(&format!("{}:{}:", bad.0.display(), error.line))
    );

    let missing = std::env::temp_dir().join("carrier-gateway-config-test-does-not-exist.toml");
    let errors = Config::load(&missing).expect_err("no file");
    assert_eq!(errors.len(), 1);
    assert_eq!(errors.errors()[0].line, 0);
    assert!(
        errors
            .to_string()
            .contains("cannot read the configuration file")
    );
}

#[test]
fn check_config_reports_ok_or_every_error_with_exit_2() {
    let good = TempFile::new("check-good.toml", DESIGN_EXAMPLE);
    let report = check_config(&good.0);
    assert_eq!(report.exit_code, 0);
    assert_eq!(
        report.stdout,
        "configuration OK: 3 carriers (1 smpp, 1 mm7, 1 sip), 1 number, 1 line, \
         1 campaign, 1 brand, 1 template, 2 services\n"
    );
    assert!(report.stderr.is_empty());

    let text = smpp("window = 0\nbinds = 0\nbogus = 1\n");
    let bad = TempFile::new("check-bad.toml", &text);
    let report = check_config(&bad.0);
    assert_eq!(report.exit_code, 2);
    assert!(report.stdout.is_empty());
    let lines: Vec<&str> = report.stderr.lines().collect();
    assert_eq!(lines.len(), 3, "{}", report.stderr);
    let file = bad.0.display().to_string();
    assert_eq!(
        lines[0],
        format!(
            "{file}:{}:10: key `carriers[0].window`: must be at least 1, not 0",
            line_of(&text, "window")
        )
    );
    assert!(lines[1].contains("key `carriers[0].binds`"));
    assert!(lines[2].contains("key `carriers[0].bogus`: unknown key `bogus`"));
}

// ---------------------------------------------------------------------------
// Syntax errors
// ---------------------------------------------------------------------------

#[test]
fn syntax_error_stops_with_its_position() {
    let text = format!("{CORE}\n[api\nlisten = 1\nunknown = 2\n");
    let errors = parse_err(&text);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].line, line_of(&text, "[api"));
    assert_eq!(errors[0].key_path, "");
    assert!(errors[0].message.starts_with("invalid TOML"));
    assert!(!errors[0].to_string().contains("key `"));
}

#[test]
fn syntax_error_recovery_noise_is_not_reported() {
    let text = format!("{CORE}\nx = [1, 2\ny = 3\n");
    let errors = parse_err(&text);
    assert_eq!(errors.len(), 1, "{errors:?}");
    // The parser notices the missing `]` where the next line starts.
    assert_eq!(errors[0].line, line_of(&text, "y = 3"));
}

#[test]
fn duplicate_keys_are_named() {
    let text = smpp("window = 1\nwindow = 2\n");
    let errors = parse_err(&text);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].line, nth_line_of(&text, "window", 1));
    assert_eq!(errors[0].message, "duplicate key `window`");
}

// ---------------------------------------------------------------------------
// Unknown keys
// ---------------------------------------------------------------------------

#[test]
fn unknown_keys_everywhere_are_reported_at_the_key() {
    let text = format!(
        r#"colour = "blue"
[api]
listen = "127.0.0.1:8080"
tokenz = ["x"]
[metrics]
path = "/m"
{CORE}batch = 5
[[carriers]]
name = "acme"
protocol = "smpp"
host = "127.0.0.1"
port = 2775
system_id = "gw"
password = "pw"
windw = 3
[carriers.error_policy]
retry = ["ESME_RTHROTTLED"]
[[lines]]
name = "support"
consent_message = "c"
help_message = "h"
stop_message = "s"
start_message = "s"
greeting = "hi"
[[lines.queues]]
name = "q"
priority = 1
[lines.messages.es]
stop_mesage = "x"
[services.wait_time]
max_ewt = "1m"
[services.chanel]
"#
    );
    let errors = parse_err(&text);
    let got: Vec<(usize, &str)> = errors
        .iter()
        .map(|e| (e.line, e.key_path.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (line_of(&text, "colour"), "colour"),
            (line_of(&text, "tokenz"), "api.tokenz"),
            (line_of(&text, "path ="), "metrics.path"),
            (line_of(&text, "batch ="), "core.batch"),
            (line_of(&text, "windw"), "carriers[0].windw"),
            (line_of(&text, "retry"), "carriers[0].error_policy.retry"),
            (line_of(&text, "greeting"), "lines[0].greeting"),
            (line_of(&text, "priority"), "lines[0].queues[0].priority"),
            (
                line_of(&text, "stop_mesage"),
                "lines[0].messages.es.stop_mesage"
            ),
            (line_of(&text, "max_ewt"), "services.wait_time.max_ewt"),
            (line_of(&text, "chanel"), "services.chanel"),
        ],
        "{errors:#?}"
    );
    assert!(errors.iter().all(|e| e.message.starts_with("unknown key")));
    let windw = &errors[4];
    assert_eq!(windw.message, "unknown key `windw`; did you mean `window`?");
    assert_eq!(windw.column, 1);
    assert!(
        errors[10]
            .message
            .contains("the services are channel, outbound")
    );
}

#[test]
fn keys_of_another_protocol_are_unknown_with_a_hint() {
    let text = smpp("url = \"http://x/\"\nlisten = \"127.0.0.1:7071\"\n");
    let errors = parse_err(&text);
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert_eq!(
        (errors[0].line, errors[0].key_path.as_str()),
        (line_of(&text, "url = \"http://x/\""), "carriers[0].url")
    );
    assert_eq!(
        errors[0].message,
        "unknown key `url`: not an option of smpp carriers (it belongs to mm7 carriers)"
    );
    assert!(
        errors[1]
            .message
            .contains("(it belongs to mm7 and sip carriers)")
    );

    let text = format!(
        r#"{CORE}
[[carriers]]
name = "m"
protocol = "mm7"
url = "http://127.0.0.1:7070/mm7"
vasp_id = "v"
listen = "127.0.0.1:7071"
binds = 2
"#
    );
    single_error(
        &text,
        line_of(&text, "binds"),
        "carriers[0].binds",
        "not an option of mm7 carriers (it belongs to smpp carriers)",
    );
}

#[test]
fn min_ewt_belongs_only_to_services_with_a_threshold() {
    let text = format!("{CORE}\n[services.channel]\nmin_ewt = \"1m\"\n");
    single_error(
        &text,
        line_of(&text, "min_ewt"),
        "services.channel.min_ewt",
        "min_ewt applies only to wait_time and deflection",
    );
}

// ---------------------------------------------------------------------------
// Types and values
// ---------------------------------------------------------------------------

#[test]
fn wrong_types_are_reported_at_the_value() {
    let text = smpp("window = \"64\"\ntls = \"yes\"\n");
    let errors = parse_err(&text);
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert_eq!(errors[0].key_path, "carriers[0].window");
    assert_eq!(errors[0].message, "expected an integer, found a string");
    assert_eq!(errors[0].column, 10);
    assert_eq!(errors[1].key_path, "carriers[0].tls");
    assert_eq!(
        errors[1].message,
        "expected a boolean (true or false), found a string"
    );

    let text = format!("{CORE}\n[api]\ntokens = \"x\"\n");
    single_error(
        &text,
        line_of(&text, "tokens"),
        "api.tokens",
        "expected an array",
    );

    let text = format!("{CORE}\n[carriers]\nname = \"x\"\n");
    single_error(
        &text,
        line_of(&text, "[carriers]"),
        "carriers",
        "expected an array of tables (`[[carriers]]` sections), found a table",
    );

    let text = format!("api = 5\n{CORE}");
    single_error(
        &text,
        line_of(&text, "api ="),
        "api",
        "expected a table, found an integer",
    );
}

#[test]
fn bad_smpp_values() {
    let cases: &[(&str, &str, &str)] = &[
        ("window = 0", "window", "must be at least 1, not 0"),
        ("window = -5", "window", "must be at least 1, not -5"),
        ("window = 70000", "window", "must be at most 65535"),
        ("binds = 0", "binds", "must be at least 1, not 0"),
        ("binds = 65", "binds", "must be at most 64"),
        ("throughput = 0", "throughput", "must be at least 1"),
        ("max_pdu_len = 100", "max_pdu_len", "must be at least 1024"),
        (
            "interface_version = \"3.3\"",
            "interface_version",
            "expected one of \"3.4\", \"5.0\"",
        ),
        (
            "interface_version = 3.4",
            "interface_version",
            "expected a string, found a float",
        ),
        (
            "concatenation = \"udh\"",
            "concatenation",
            "not a valid concatenation",
        ),
        (
            "system_type = \"0123456789abc\"",
            "system_type",
            "SMPP allows at most 12",
        ),
        (
            "enquire_link_interval = \"30x\"",
            "enquire_link_interval",
            "is not a duration",
        ),
        (
            "enquire_link_interval = 30",
            "enquire_link_interval",
            "expected a duration string",
        ),
        (
            "response_timeout = \"0s\"",
            "response_timeout",
            "must be longer than zero",
        ),
        (
            "reconnect_delay = \"\"",
            "reconnect_delay",
            "is not a duration",
        ),
        ("source_ton = 256", "source_ton", "must be at most 255"),
        ("source_ton = \"planet\"", "source_ton", "not a valid TON"),
        (
            "dest_npi = true",
            "dest_npi",
            "expected a NPI number (0–255) or name",
        ),
        (
            "national_languages = [\"klingon\"]",
            "national_languages[0]",
            "not a valid national language",
        ),
        (
            "message_id_format = \"base64\"",
            "message_id_format",
            "not a valid message id format",
        ),
        (
            "tls_ca_file = \"/nonexistent/ca.pem\"\ntls = true",
            "tls_ca_file",
            "does not exist",
        ),
    ];
    for (extra, key, fragment) in cases {
        let text = smpp(&format!("{extra}\n"));
        let first_key = extra.split(' ').next().unwrap_or_default();
        single_error(
            &text,
            line_of(&text, first_key),
            &format!("carriers[0].{key}"),
            fragment,
        );
    }
}

#[test]
fn smpp_bind_fields_have_spec_lengths() {
    let text = smpp("").replace(
        "system_id = \"gw\"",
        "system_id = \"a-very-long-system-id\"",
    );
    single_error(
        &text,
        line_of(&text, "system_id"),
        "carriers[0].system_id",
        "is 21 octets long; SMPP allows at most 15",
    );
    let text = smpp("").replace("system_id = \"gw\"", "system_id = \"gwé\"");
    single_error(
        &text,
        line_of(&text, "system_id"),
        "carriers[0].system_id",
        "must be ASCII",
    );
}

#[test]
fn port_zero_and_bad_ports() {
    let text = smpp("").replace("port = 2775", "port = 0");
    single_error(
        &text,
        line_of(&text, "port = 0"),
        "carriers[0].port",
        "must be at least 1",
    );
    let text = smpp("").replace("port = 2775", "port = 65536");
    single_error(
        &text,
        line_of(&text, "port ="),
        "carriers[0].port",
        "must be at most 65535",
    );
    let text = format!("{CORE}\n[api]\nlisten = \"127.0.0.1:0\"\n");
    single_error(&text, line_of(&text, "listen"), "api.listen", "has port 0");
    let text = format!("{CORE}\n[metrics]\nlisten = \"localhost:9090\"\n");
    single_error(
        &text,
        line_of(&text, "listen"),
        "metrics.listen",
        "is not an IP:PORT address",
    );
}

#[test]
fn bad_urls() {
    let text = CORE.replace("http://127.0.0.1:8081/events", "127.0.0.1:8081/events");
    single_error(
        &text,
        line_of(&text, "webhook_url"),
        "core.webhook_url",
        "must start with http:// or https://",
    );
    let text = CORE.replace("http://127.0.0.1:8081/events", "http://:8081/events");
    single_error(
        &text,
        line_of(&text, "webhook_url"),
        "core.webhook_url",
        "has no host",
    );
    let text = format!(
        r#"{CORE}
[[carriers]]
name = "m"
protocol = "mm7"
url = "http://mmsc.example.net:99999/mm7"
vasp_id = "v"
listen = "127.0.0.1:7071"
"#
    );
    single_error(
        &text,
        line_of(&text, "url = \"http://mmsc"),
        "carriers[0].url",
        "not a valid port",
    );
}

#[test]
fn missing_required_keys_point_at_their_table() {
    let text = smpp("").replace("host = \"smsc.example.net\"\n", "");
    single_error(
        &text,
        line_of(&text, "[[carriers]]"),
        "carriers[0].host",
        "missing required key `host`",
    );

    let text = smpp("").replace("protocol = \"smpp\"\n", "");
    // Without a protocol, no other key of the carrier can be judged.
    single_error(
        &text,
        line_of(&text, "[[carriers]]"),
        "carriers[0].protocol",
        "missing required key `protocol`",
    );

    let text = smpp("").replace("protocol = \"smpp\"", "protocol = \"smtp\"");
    single_error(
        &text,
        line_of(&text, "protocol"),
        "carriers[0].protocol",
        "expected one of \"smpp\", \"mm7\", \"sip\"",
    );

    let text = "state_dir = \"/tmp/x\"\n";
    single_error(text, 1, "core", "missing required table `[core]`");

    let text = CORE.replace("webhook_secret = \"hook\"\n", "");
    single_error(
        &text,
        line_of(&text, "[core]"),
        "core.webhook_secret",
        "missing required key `webhook_secret`",
    );
}

#[test]
fn api_tokens_are_required_off_loopback() {
    let text = format!("{CORE}\n[api]\nlisten = \"0.0.0.0:8080\"\ntokens = []\n");
    single_error(
        &text,
        line_of(&text, "tokens"),
        "api.tokens",
        "an empty token list is allowed only when `listen` is a loopback address",
    );
    // Without a tokens key, the error is at `listen`.
    let text = format!("{CORE}\n[api]\nlisten = \"10.1.2.3:8080\"\n");
    single_error(
        &text,
        line_of(&text, "listen"),
        "api.tokens",
        "`10.1.2.3:8080`",
    );
    // Loopback (v4, v6) may go without tokens; elsewhere tokens suffice.
    parse_ok(&format!("{CORE}\n[api]\nlisten = \"127.0.0.2:8080\"\n"));
    parse_ok(&format!(
        "{CORE}\n[api]\nlisten = \"[::1]:8080\"\ntokens = []\n"
    ));
    parse_ok(&format!(
        "{CORE}\n[api]\nlisten = \"0.0.0.0:8080\"\ntokens = [\"t\"]\n"
    ));
    let text = format!("{CORE}\n[api]\ntokens = [\"\"]\n");
    single_error(
        &text,
        line_of(&text, "tokens"),
        "api.tokens[0]",
        "must not be empty",
    );
}

#[test]
fn listeners_must_not_clash() {
    let text = format!(
        r#"{CORE}
[metrics]
listen = "127.0.0.1:8080"
"#
    );
    single_error(
        &text,
        line_of(&text, "listen"),
        "metrics.listen",
        "`127.0.0.1:8080` clashes with `127.0.0.1:8080` of the default of `api.listen`",
    );
    // A default that collides is reported at the explicit address.
    let text = format!("[api]\nlisten = \"127.0.0.1:9090\"\n{CORE}");
    single_error(
        &text,
        line_of(&text, "listen"),
        "api.listen",
        "`127.0.0.1:9090` clashes with `127.0.0.1:9090`, the default of `metrics.listen`; \
         set `metrics.listen`",
    );
    let text = format!(
        r#"{CORE}
[[carriers]]
name = "m"
protocol = "mm7"
url = "http://127.0.0.1:7070/mm7"
vasp_id = "v"
listen = "0.0.0.0:5060"

[[carriers]]
name = "t-udp"
protocol = "sip"
host = "127.0.0.1"
listen = "127.0.0.1:5060"
domain = "sip.example.net"

[[carriers]]
name = "t-tcp"
protocol = "sip"
host = "127.0.0.1"
transport = "tcp"
listen = "127.0.0.1:5060"
domain = "sip.example.net"
"#
    );
    // The UDP trunk may share the port with the MMSC's HTTP listener; the TCP one may not.
    let mm7_line = line_of(&text, "0.0.0.0:5060");
    single_error(
        &text,
        nth_line_of(&text, "listen = \"127.0.0.1:5060\"", 1),
        "carriers[2].listen",
        &format!("clashes with `0.0.0.0:5060` of `carriers[0].listen` on line {mm7_line}"),
    );
}

#[test]
fn smpp_options_parse() {
    let ca = TempFile::new("ca.pem", "-----BEGIN CERTIFICATE-----\n");
    let text = smpp(&format!(
        r#"tls = true
tls_ca_file = "{}"
system_type = "VMA"
interface_version = "5.0"
binds = 4
window = 10
throughput = 50
enquire_link_interval = "1m"
response_timeout = "5s"
bind_timeout = "3s"
reconnect_delay = "500ms"
reconnect_max_delay = "2m"
source_ton = "alphanumeric"
source_npi = 0
dest_ton = 1
dest_npi = "isdn"
gsm7_packed = true
allow_latin1 = true
national_languages = ["turkish", "spanish"]
concatenation = "sar"
max_pdu_len = 4096
message_id_format = {{ submit = "hex", receipt = "decimal" }}

[carriers.error_policy]
transient = ["0x00000045", "ESME_RX_P_APPN", 1024]
permanent = ["esme_rthrottled", "255"]
"#,
        ca.0.display()
    ));
    let config = parse_ok(&text);
    let Some(Carrier::Smpp(c)) = config.carrier("acme") else {
        panic!("smpp carrier");
    };
    assert!(c.tls);
    assert_eq!(c.tls_ca_file.as_deref(), Some(ca.0.as_path()));
    assert_eq!(c.system_type, "VMA");
    assert_eq!(c.interface_version, InterfaceVersion::V50);
    assert_eq!((c.binds, c.window), (4, 10));
    assert_eq!(c.throughput.map(|t| t.get()), Some(50));
    assert_eq!(c.enquire_link_interval, Duration::from_secs(60));
    assert_eq!(c.response_timeout, Duration::from_secs(5));
    assert_eq!(c.bind_timeout, Duration::from_secs(3));
    assert_eq!(c.reconnect_delay, Duration::from_millis(500));
    assert_eq!(c.reconnect_max_delay, Duration::from_secs(120));
    assert_eq!(
        (c.source_ton, c.source_npi, c.dest_ton, c.dest_npi),
        (
            Some(Ton::Alphanumeric),
            Some(Npi::Unknown),
            Some(Ton::International),
            Some(Npi::Isdn)
        )
    );
    assert!(c.gsm7_packed && c.allow_latin1);
    assert_eq!(
        c.national_languages,
        [NationalLanguage::Turkish, NationalLanguage::Spanish]
    );
    assert_eq!(c.concatenation, Concatenation::Sar);
    assert_eq!(c.max_pdu_len, 4096);
    assert_eq!(
        c.message_id_format,
        MessageIdMapping {
            submit: IdFormat::Hex,
            receipt: IdFormat::Decimal,
            receipted_message_id: IdFormat::Hex,
        }
    );
    let policy = &c.error_policy;
    assert_eq!(
        policy.classify(CommandStatus::from(0x45)),
        Some(ErrorClass::Transient)
    );
    assert_eq!(
        policy.classify(CommandStatus::from(0x65)),
        Some(ErrorClass::Transient)
    );
    assert_eq!(
        policy.classify(CommandStatus::from(0x400)),
        Some(ErrorClass::Transient)
    );
    assert_eq!(
        policy.classify(CommandStatus::from(0x58)),
        Some(ErrorClass::Permanent)
    );
    assert_eq!(
        policy.classify(CommandStatus::from(0xFF)),
        Some(ErrorClass::Permanent)
    );
    assert_eq!(policy.classify(CommandStatus::from(0x14)), None);

    let short = PhoneNumber::parse("12345").expect("valid");
    let e164 = PhoneNumber::parse("+15551230001").expect("valid");
    assert_eq!(c.source_ton_npi(&short), (Ton::Alphanumeric, Npi::Unknown));
    assert_eq!(c.dest_ton_npi(&e164), (Ton::International, Npi::Isdn));

    // Automatic TON/NPI when nothing is configured.
    let plain = parse_ok(&smpp(""));
    let Some(Carrier::Smpp(p)) = plain.carrier("acme") else {
        panic!("smpp carrier");
    };
    assert_eq!(p.source_ton_npi(&e164), (Ton::International, Npi::Isdn));
    assert_eq!(
        p.source_ton_npi(&short),
        (Ton::NetworkSpecific, Npi::Unknown)
    );
    assert_eq!(p.dest_ton_npi(&short), (Ton::NetworkSpecific, Npi::Unknown));

    // One string sets every id format.
    let config = parse_ok(&smpp("message_id_format = \"decimal\"\n"));
    let Some(Carrier::Smpp(c)) = config.carrier("acme") else {
        panic!("smpp carrier");
    };
    assert_eq!(c.message_id_format.receipted_message_id, IdFormat::Decimal);
}

#[test]
fn core_tls_ca_file_needs_an_https_webhook() {
    let ca = TempFile::new("core-ca.pem", "pem");
    let core = |url: &str| {
        format!(
            "[core]\nwebhook_url = \"{url}\"\nwebhook_secret = \"hook\"\ntls_ca_file = \"{}\"\n",
            ca.0.display()
        )
    };
    let config = parse_ok(&core("https://core.example/events"));
    assert_eq!(config.core().tls_ca_file.as_deref(), Some(ca.0.as_path()));
    let text = core("http://core.example/events");
    single_error(
        &text,
        line_of(&text, "tls_ca_file"),
        "core.tls_ca_file",
        "is set but `webhook_url` is not https://",
    );
}

#[test]
fn smpp_cross_field_checks() {
    let ca = TempFile::new("ca2.pem", "pem");
    let text = smpp(&format!("tls_ca_file = \"{}\"\n", ca.0.display()));
    single_error(
        &text,
        line_of(&text, "tls_ca_file"),
        "carriers[0].tls_ca_file",
        "is set but `tls` is false",
    );
    let text = smpp("reconnect_delay = \"10s\"\nreconnect_max_delay = \"5s\"\n");
    single_error(
        &text,
        line_of(&text, "reconnect_max_delay"),
        "carriers[0].reconnect_max_delay",
        "(5s) is shorter than `reconnect_delay` (10s)",
    );
    let text = smpp("reconnect_delay = \"2m\"\n");
    single_error(
        &text,
        line_of(&text, "[[carriers]]"),
        "carriers[0].reconnect_max_delay",
        "the default (1m) is shorter",
    );
    let text = smpp("national_languages = [\"urdu\", \"urdu\"]\n");
    single_error(
        &text,
        line_of(&text, "national_languages"),
        "carriers[0].national_languages[1]",
        "`urdu` is listed twice",
    );
}

#[test]
fn error_policy_errors() {
    let text = smpp(
        "[carriers.error_policy]\ntransient = [\"ESME_RTHROTTLED\", \"ESME_NOPE\", \"0xZZ\", 0]\n\
         permanent = [\"0x58\", 1.5]\n",
    );
    let errors = parse_err(&text);
    let got: Vec<(&str, &str)> = errors
        .iter()
        .map(|e| (e.key_path.as_str(), e.message.as_str()))
        .collect();
    assert_eq!(got.len(), 5, "{got:#?}");
    assert_eq!(got[0].0, "carriers[0].error_policy.transient[1]");
    assert!(got[0].1.contains("`ESME_NOPE` is not a command_status"));
    assert_eq!(got[1].0, "carriers[0].error_policy.transient[2]");
    assert_eq!(got[2].0, "carriers[0].error_policy.transient[3]");
    assert!(got[2].1.contains("ESME_ROK"));
    assert_eq!(got[3].0, "carriers[0].error_policy.permanent[0]");
    assert_eq!(
        got[3].1,
        format!(
            "command_status 0x00000058 is already classified on line {}",
            line_of(&text, "transient")
        )
    );
    assert_eq!(got[4].0, "carriers[0].error_policy.permanent[1]");
    assert!(got[4].1.contains("found a float"));
}

#[test]
fn smpp_password_errors_never_show_the_password() {
    let text = smpp("").replace("password = \"pw\"", "password = \"0123456789\"");
    let error = single_error(
        &text,
        line_of(&text, "password"),
        "carriers[0].password",
        "longer than the 8 characters",
    );
    assert!(!error.to_string().contains("0123456789"));
}

#[test]
fn sip_carrier_options() {
    let text = format!(
        r#"{CORE}
[[carriers]]
name = "t"
protocol = "sip"
host = "trunk.example.net"
transport = "tls"
listen = "127.0.0.1:5061"
domain = "sip.example.net"
tls_cert_file = "{manifest}"
tls_key_file = "{manifest}"
"#,
        manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")
    );
    let config = parse_ok(&text);
    let Some(Carrier::Sip(sip)) = config.carrier("t") else {
        panic!("sip carrier");
    };
    assert_eq!((sip.port, sip.transport), (5061, SipTransport::Tls));
    assert_eq!(sip.username, None);

    let text = format!("{text}username = \"gw\"\n");
    single_error(
        &text,
        line_of(&text, "username"),
        "carriers[0].username",
        "is set without `password`",
    );
    let bad = text.replace("transport = \"tls\"", "transport = \"sctp\"");
    let errors = parse_err(&bad);
    assert!(errors.iter().any(|e| e.key_path == "carriers[0].transport"));
    // Certificate files belong to TLS, which needs them.
    let udp = text.replace("transport = \"tls\"", "transport = \"udp\"");
    let errors = parse_err(&udp);
    assert!(errors.iter().any(|e| {
        e.key_path == "carriers[0].tls_cert_file"
            && e.to_string()
                .contains("is set but `transport` is not \"tls\"")
    }));
}

// ---------------------------------------------------------------------------
// Numbers and references
// ---------------------------------------------------------------------------

#[test]
fn numbers_resolve_their_references() {
    let text = routed(
        r#"[[numbers]]
number = "+15551230001"
carrier = "acme"
campaign = "C1"
line = "support"
per_second = 3
per_minute = 60
per_day = 1000

[[numbers]]
number = "12345"
carrier = "acme"
line = "support"
"#,
    );
    let config = parse_ok(&text);
    let short = config.number("12345").expect("short code");
    assert_eq!(short.number.kind(), NumberKind::ShortCode);
    assert!(short.campaign.is_none() && short.mms_carrier.is_none());
    assert!(short.limits.is_unlimited());
    assert!(config.brand_of(short).is_none());
    assert!(config.mms_carrier_of(short).is_none());
    let long = config.number("+15551230001").expect("long code");
    assert_eq!(
        (
            long.limits.per_second.map(|n| n.get()),
            long.limits.per_minute.map(|n| n.get()),
            long.limits.per_day.map(|n| n.get())
        ),
        (Some(3), Some(60), Some(1000))
    );
}

#[test]
fn numbers_route_to_smpp_and_sip_carriers_and_media_to_mm7() {
    let sip = r#"
[[carriers]]
name = "trunk"
protocol = "sip"
host = "127.0.0.1"
listen = "127.0.0.1:5060"
domain = "sip.example.net"
"#;
    let text = routed(&format!(
        "{sip}\n[[numbers]]\nnumber = \"+15551230001\"\ncarrier = \"trunk\"\nline = \"support\"\n"
    ));
    parse_ok(&text);

    // An MMS route to an mm7 carrier is the right kind of route.
    parse_ok(&routed(
        "[[numbers]]\nnumber = \"+15551230001\"\ncarrier = \"acme\"\n\
         mms_carrier = \"acme-mms\"\nline = \"support\"\n",
    ));
    // An SMS route to it is not.
    let text = routed(
        "[[numbers]]\nnumber = \"+15551230001\"\ncarrier = \"acme-mms\"\nline = \"support\"\n",
    );
    assert!(
        parse_err(&text)
            .iter()
            .any(|e| e.to_string().contains("numbers[0].carrier"))
    );
}

#[test]
fn a_number_needs_no_line_when_no_lines_exist() {
    let text = smpp("[[numbers]]\nnumber = \"+15551230001\"\ncarrier = \"acme\"\n");
    let config = parse_ok(&text);
    let number = config.number("+15551230001").expect("number");
    assert!(number.line.is_none());
    assert!(config.line_of(number).is_none());
}

#[test]
fn bad_numbers_and_references() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "number = \"15551230001\"",
            "number",
            "is not a valid number",
        ),
        ("number = \"+1555\"", "number", "is not a valid number"),
        ("number = \"+0155512300\"", "number", "not starting with 0"),
        (
            "number = \"+1 555 123 0001\"",
            "number",
            "is not a valid number",
        ),
        ("number = \"123456789\"", "number", "is not a valid number"),
        ("number = 12345", "number", "write short codes as strings"),
        ("carrier = \"nope\"", "carrier", "unknown carrier `nope`"),
        (
            "carrier = \"acme-mms\"",
            "carrier",
            "is an mm7 carrier and cannot carry SMS",
        ),
        (
            "mms_carrier = \"acme\"",
            "mms_carrier",
            "`acme` is an smpp carrier, not an mm7 carrier",
        ),
        (
            "mms_carrier = \"ghost\"",
            "mms_carrier",
            "unknown carrier `ghost`",
        ),
        ("campaign = \"C9\"", "campaign", "unknown campaign `C9`"),
        ("line = \"sales\"", "line", "unknown line `sales`"),
        ("per_second = 0", "per_second", "must be at least 1"),
    ];
    for (replacement, key, fragment) in cases {
        let field = replacement.split(' ').next().unwrap_or_default();
        let mut number = vec![
            "number = \"+15551230001\"",
            "carrier = \"acme\"",
            "line = \"support\"",
        ];
        match number.iter_mut().find(|l| l.starts_with(field)) {
            Some(slot) => *slot = replacement,
            None => number.push(replacement),
        }
        let text = routed(&format!("[[numbers]]\n{}\n", number.join("\n")));
        single_error(
            &text,
            line_of(&text, replacement),
            &format!("numbers[0].{key}"),
            fragment,
        );
    }
}

#[test]
fn a_number_needs_its_line_when_lines_exist() {
    let text = routed("[[numbers]]\nnumber = \"+15551230001\"\ncarrier = \"acme\"\n");
    single_error(
        &text,
        line_of(&text, "[[numbers]]"),
        "numbers[0].line",
        "every number needs a line of business when [[lines]] are defined",
    );
}

#[test]
fn duplicates_are_reported_at_the_second_definition() {
    let text = routed(
        r#"[[numbers]]
number = "+15551230001"
carrier = "acme"
line = "support"

[[numbers]]
number = "+15551230001"
carrier = "acme"
line = "support"

[[carriers]]
name = "acme"
protocol = "sip"
host = "127.0.0.1"
listen = "127.0.0.1:5060"
domain = "d.example"

[[lines]]
name = "support"
consent_message = "c"
help_message = "h"
stop_message = "s"
start_message = "s"

[[brands]]
id = "B1"

[[campaigns]]
id = "C1"
brand = "B1"
"#,
    );
    let errors = parse_err(&text);
    let got: Vec<(usize, &str, &str)> = errors
        .iter()
        .map(|e| (e.line, e.key_path.as_str(), e.message.as_str()))
        .collect();
    let first = |needle: &str| line_of(&text, needle);
    let second = |needle: &str| nth_line_of(&text, needle, 1);
    assert_eq!(
        got,
        [
            (
                second("number = \"+15551230001\""),
                "numbers[1].number",
                format!(
                    "duplicate number `+15551230001` (first defined on line {})",
                    first("number = \"+15551230001\"")
                )
                .as_str()
            ),
            (
                second("name = \"acme\""),
                "carriers[2].name",
                format!(
                    "duplicate carrier name `acme` (first defined on line {})",
                    first("name = \"acme\"")
                )
                .as_str()
            ),
            (
                second("name = \"support\""),
                "lines[1].name",
                format!(
                    "duplicate line name `support` (first defined on line {})",
                    first("name = \"support\"")
                )
                .as_str()
            ),
            (
                second("id = \"B1\""),
                "brands[1].id",
                format!(
                    "duplicate brand id `B1` (first defined on line {})",
                    first("id = \"B1\"")
                )
                .as_str()
            ),
            (
                second("id = \"C1\""),
                "campaigns[1].id",
                format!(
                    "duplicate campaign id `C1` (first defined on line {})",
                    first("id = \"C1\"")
                )
                .as_str()
            ),
        ]
    );
}

#[test]
fn campaigns_name_existing_brands() {
    let text = format!("{CORE}\n[[campaigns]]\nid = \"C1\"\nbrand = \"B7\"\n");
    single_error(
        &text,
        line_of(&text, "brand ="),
        "campaigns[0].brand",
        "unknown brand `B7`",
    );
    let text = format!("{CORE}\n[[campaigns]]\nid = \"C1\"\n");
    single_error(
        &text,
        line_of(&text, "[[campaigns]]"),
        "campaigns[0].brand",
        "missing required key `brand`",
    );
}

// ---------------------------------------------------------------------------
// Lines, templates, services, core
// ---------------------------------------------------------------------------

#[test]
fn line_rules() {
    // Two queues need a menu prompt and keywords.
    let text = with_line(
        "[[lines.queues]]\nname = \"a\"\nkeywords = [\"1\"]\n[[lines.queues]]\nname = \"b\"\n",
    );
    let errors = parse_err(&text);
    let got: Vec<(usize, &str)> = errors
        .iter()
        .map(|e| (e.line, e.key_path.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (line_of(&text, "[[lines]]"), "lines[0].menu_prompt"),
            (
                nth_line_of(&text, "[[lines.queues]]", 1),
                "lines[0].queues[1].keywords"
            ),
        ]
    );

    let text = with_line(
        "menu_prompt = \"1 or 2\"\n[[lines.queues]]\nname = \"a\"\nkeywords = [\"1\", \"Help\"]\n\
         [[lines.queues]]\nname = \"b\"\nkeywords = [\"2\", \" ONE \", \"2\", \"\"]\n\
         [[lines.queues]]\nname = \"a\"\nkeywords = [\"3\"]\nlanguage = \"spanish\"\n",
    );
    let errors = parse_err(&text);
    let got: Vec<(&str, &str)> = errors
        .iter()
        .map(|e| (e.key_path.as_str(), e.message.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (
                "lines[0].queues[0].keywords[1]",
                "`help` is a compliance keyword, answered before any menu; it can never select a queue"
            ),
            (
                "lines[0].queues[1].keywords[2]",
                "keyword `2` is listed twice"
            ),
            ("lines[0].queues[1].keywords[3]", "must not be empty"),
            (
                "lines[0].queues[2].name",
                format!(
                    "duplicate queue name `a` (first defined on line {})",
                    line_of(&text, "name = \"a\"")
                )
                .as_str()
            ),
            (
                "lines[0].queues[2].language",
                "`spanish` is not a language tag (expected e.g. \"en\", \"es\" or \"pt-BR\")"
            ),
        ]
    );
}

#[test]
fn keywords_are_unique_across_queues() {
    let text = with_line(
        "menu_prompt = \"?\"\n[[lines.queues]]\nname = \"a\"\nkeywords = [\"one\"]\n\
         [[lines.queues]]\nname = \"b\"\nkeywords = [\"ONE\"]\n",
    );
    single_error(
        &text,
        line_of(&text, "[\"ONE\"]"),
        "lines[0].queues[1].keywords[0]",
        "keyword `one` already selects queue 0 of this line",
    );
}

#[test]
fn line_defaults_and_translations() {
    let text = with_line(
        "language = \"pt-BR\"\nidle_timeout = \"1h 30m\"\nexpiry = \"5m\"\n\
         timeout_message = \"bye\"\nexpiry_message = \"expired\"\n\
         [lines.messages.EN]\nconsent_message = \"hello\"\ntimeout_message = \"see you\"\n",
    );
    let config = parse_ok(&text);
    let line = config.line("support").expect("line");
    let en = Language::english();
    assert_eq!(line.language.as_str(), "pt-br");
    assert_eq!(line.idle_timeout, Duration::from_secs(90 * 60));
    assert_eq!(line.expiry, Duration::from_secs(300));
    assert_eq!(line.message(MessageKey::Consent, &en), Some("hello"));
    assert_eq!(line.message(MessageKey::Timeout, &en), Some("see you"));
    // A translated timeout text beats the base expiry text: the customer
    // reads their language.
    assert_eq!(line.message(MessageKey::Expiry, &en), Some("see you"));
    assert_eq!(
        line.message(MessageKey::Expiry, &line.language),
        Some("expired")
    );
    assert!(line.queues.is_empty());
    assert_eq!(line.message(MessageKey::MenuPrompt, &en), None);

    let bad = with_line(
        "[lines.messages.english]\nstop_message = \"x\"\n[lines.messages.es]\nstop_message = \"\"\n",
    );
    let errors = parse_err(&bad);
    let got: Vec<(usize, &str)> = errors
        .iter()
        .map(|e| (e.line, e.key_path.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (
                line_of(&bad, "[lines.messages.english]"),
                "lines[0].messages.english"
            ),
            (
                nth_line_of(&bad, "stop_message", 2),
                "lines[0].messages.es.stop_message"
            ),
        ]
    );
}

#[test]
fn required_line_messages() {
    let text = with_line("").replace("help_message = \"help\"\n", "");
    single_error(
        &text,
        line_of(&text, "[[lines]]"),
        "lines[0].help_message",
        "missing required key `help_message`",
    );
}

#[test]
fn durations_parse() {
    for (text, expected) in [
        ("30s", Duration::from_secs(30)),
        ("5m", Duration::from_secs(300)),
        ("24h", Duration::from_secs(24 * 3600)),
        ("1h 30m", Duration::from_secs(5400)),
        ("2days", Duration::from_secs(2 * 86_400)),
        ("250ms", Duration::from_millis(250)),
    ] {
        let config = parse_ok(&with_line(&format!("idle_timeout = \"{text}\"\n")));
        assert_eq!(
            config.line("support").map(|l| l.idle_timeout),
            Some(expected),
            "{text}"
        );
    }
    for bad in ["30", "thirty seconds", "-5s", "5 parsecs", ""] {
        let text = with_line(&format!("idle_timeout = \"{bad}\"\n"));
        single_error(
            &text,
            line_of(&text, "idle_timeout"),
            "lines[0].idle_timeout",
            "is not a duration",
        );
    }
    // min_ewt may be zero: every EWT qualifies.
    let config = parse_ok(&format!("{CORE}\n[services.wait_time]\nmin_ewt = \"0s\"\n"));
    assert_eq!(
        config.service(ServiceKind::WaitTime).min_ewt,
        Some(Duration::ZERO)
    );
}

#[test]
fn template_errors() {
    let text = format!(
        "{CORE}\n[templates.greet]\nen = \"Hi {{{{name}}\"\nxx_yy = \"x\"\nes = 5\n[templates.empty]\n"
    );
    let errors = parse_err(&text);
    let got: Vec<(usize, &str)> = errors
        .iter()
        .map(|e| (e.line, e.key_path.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (line_of(&text, "en ="), "templates.greet.en"),
            (line_of(&text, "xx_yy"), "templates.greet.xx_yy"),
            (line_of(&text, "es ="), "templates.greet.es"),
            (line_of(&text, "[templates.empty]"), "templates.empty"),
        ],
        "{errors:#?}"
    );
    assert!(errors[0].message.contains("without a closing `}}`"));
    assert!(errors[1].message.contains("is not a language tag"));
    assert!(errors[3].message.contains("at least one language"));
}

#[test]
fn core_options() {
    let text = format!(
        "{CORE}batch_max = 500\nstatus_events = [\"delivered\", \"failed\", \"delivered\"]\n"
    );
    let config = parse_ok(&text);
    assert_eq!(config.core().batch_max.get(), 500);
    let events: Vec<MessageStatus> = config.core().status_events.iter().collect();
    assert_eq!(events, [MessageStatus::Delivered, MessageStatus::Failed]);
    assert!(
        !config
            .core()
            .status_events
            .contains(MessageStatus::Submitted)
    );
    assert_eq!(
        format!("{:?}", config.core().status_events),
        "{Delivered, Failed}"
    );

    let config = parse_ok(&format!("{CORE}status_events = []\n"));
    assert_eq!(config.core().status_events.iter().count(), 0);

    let text = format!("{CORE}batch_max = 0\nstatus_events = [\"read\"]\n");
    let errors = parse_err(&text);
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert_eq!(errors[0].key_path, "core.batch_max");
    assert_eq!(errors[1].key_path, "core.status_events[0]");
    assert!(errors[1].message.contains("not a valid message status"));
}

// ---------------------------------------------------------------------------
// One pass, every error
// ---------------------------------------------------------------------------

#[test]
fn every_error_is_reported_in_one_pass() {
    let text = String::from(
        r#"state_dir = 7
[api]
listen = "0.0.0.0:8080"
tokens = []

[core]
webhook_url = "ftp://core/events"
webhook_secret = "env:NOT_SET"

[[carriers]]
name = "acme"
protocol = "smpp"
host = "127.0.0.1"
port = 2775
system_id = "gw"
password = "pw"
binds = 0
window = -1
url = "http://x/"

[[carriers]]
name = "mms"
protocol = "mm7"
vasp_id = "v"
listen = "127.0.0.1:7071"

[[campaigns]]
id = "C1"
brand = "nobody"

[[numbers]]
number = "+1555"
carrier = "mms"
mms_carrier = "acme"
campaign = "C2"

[[lines]]
name = "support"
consent_message = "c"
help_message = "h"
stop_message = "s"
start_message = "s"
idle_timeout = "soon"

[services.wait_time]
min_ewt = 120
"#,
    );
    let errors = parse_err(&text);
    let got: Vec<(usize, &str)> = errors
        .iter()
        .map(|e| (e.line, e.key_path.as_str()))
        .collect();
    let expected = [
        (line_of(&text, "state_dir"), "state_dir"),
        (line_of(&text, "tokens"), "api.tokens"),
        (line_of(&text, "webhook_url"), "core.webhook_url"),
        (line_of(&text, "webhook_secret"), "core.webhook_secret"),
        (line_of(&text, "binds"), "carriers[0].binds"),
        (line_of(&text, "window"), "carriers[0].window"),
        (line_of(&text, "url = \"http://x/\""), "carriers[0].url"),
        (nth_line_of(&text, "[[carriers]]", 1), "carriers[1].url"),
        (line_of(&text, "nobody"), "campaigns[0].brand"),
        (line_of(&text, "+1555"), "numbers[0].number"),
        (line_of(&text, "carrier = \"mms\""), "numbers[0].carrier"),
        (line_of(&text, "mms_carrier"), "numbers[0].mms_carrier"),
        (line_of(&text, "campaign = \"C2\""), "numbers[0].campaign"),
        (line_of(&text, "[[numbers]]"), "numbers[0].line"),
        (line_of(&text, "idle_timeout"), "lines[0].idle_timeout"),
        (line_of(&text, "min_ewt"), "services.wait_time.min_ewt"),
    ];
    let mut expected = expected.to_vec();
    expected.sort();
    assert_eq!(got, expected, "{errors:#?}");
    // Sorted by position, so the output reads top to bottom.
    assert!(
        errors
            .windows(2)
            .all(|w| (w[0].line, w[0].column) <= (w[1].line, w[1].column))
    );
}

// ---------------------------------------------------------------------------
// Secrets
// ---------------------------------------------------------------------------

#[test]
fn env_secrets_resolve_and_are_redacted() {
    let text = String::from(
        r#"[api]
tokens = ["env:API_TOKEN", "inline-token"]
[core]
webhook_url = "https://core.example.com/events"
webhook_secret = "env:HOOK_SECRET"
[[carriers]]
name = "acme"
protocol = "smpp"
host = "127.0.0.1"
port = 2775
system_id = "gw"
password = "env:SMPP_PASSWORD"
[[carriers]]
name = "t"
protocol = "sip"
host = "127.0.0.1"
listen = "127.0.0.1:5060"
domain = "d.example"
username = "u"
password = "sip-inline-pw"
"#,
    );
    let config = parse_ok(&text);
    let tokens = &config.api().tokens;
    assert_eq!(tokens[0].expose(), "token-from-env");
    assert_eq!(tokens[0].source(), &SecretSource::Env("API_TOKEN".into()));
    assert_eq!(tokens[1].expose(), "inline-token");
    assert_eq!(tokens[1].source(), &SecretSource::Inline);
    assert_eq!(config.core().webhook_secret.expose(), "hook-from-env");
    let Some(Carrier::Smpp(acme)) = config.carrier("acme") else {
        panic!("smpp");
    };
    assert_eq!(acme.password.expose(), "envpw123");

    let debug = format!("{config:?}");
    for secret in [
        "token-from-env",
        "inline-token",
        "hook-from-env",
        "envpw123",
        "sip-inline-pw",
    ] {
        assert!(!debug.contains(secret), "Debug shows `{secret}`");
    }
    assert!(debug.contains("Secret(env:SMPP_PASSWORD, <redacted>)"));
    assert!(debug.contains("Secret(<redacted>)"));
}

#[test]
fn env_secret_errors_have_locations() {
    let text = String::from(
        r#"[api]
tokens = ["env:EMPTY", "env:bad-name"]
[core]
webhook_url = "http://127.0.0.1:8081/events"
webhook_secret = "env:MISSING_SECRET"
"#,
    );
    let errors = parse_err(&text);
    let got: Vec<(usize, &str, &str)> = errors
        .iter()
        .map(|e| (e.line, e.key_path.as_str(), e.message.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (2, "api.tokens[0]", "environment variable `EMPTY` is empty"),
            (
                2,
                "api.tokens[1]",
                "`env:bad-name` does not name an environment variable \
                 (letters, digits and `_`, not starting with a digit)"
            ),
            (
                5,
                "core.webhook_secret",
                "environment variable `MISSING_SECRET` is not set"
            ),
        ]
    );
    assert_eq!(errors[0].column, 11);
    assert_eq!(errors[1].column, 24);

    // An SMPP password may be empty (some SMSCs authenticate by address).
    let config = parse_ok(&smpp("").replace("password = \"pw\"", "password = \"env:EMPTY\""));
    let Some(Carrier::Smpp(acme)) = config.carrier("acme") else {
        panic!("smpp");
    };
    assert_eq!(acme.password.expose(), "");
}

#[test]
fn process_environment_is_the_default_source() {
    // PATH is set in any test environment; a webhook secret read from it
    // proves `from_str` consults the real environment.
    let text = CORE.replace("\"hook\"", "\"env:PATH\"");
    let config = Config::from_str(&text, "gw.toml").expect("PATH is set");
    assert_eq!(
        config.core().webhook_secret.source(),
        &SecretSource::Env("PATH".into())
    );
}

#[test]
fn store_section_defaults_values_and_errors() {
    let config = parse_ok(&smpp(""));
    assert_eq!(config.store().retention, Duration::from_secs(7 * 24 * 3600));
    assert_eq!(config.store().max_outbox, 1_000_000);

    let text = format!(
        "[store]\nretention = \"36h\"\nmax_outbox = 5000\n{}",
        smpp("")
    );
    let config = parse_ok(&text);
    assert_eq!(config.store().retention, Duration::from_secs(36 * 3600));
    assert_eq!(config.store().max_outbox, 5000);

    let text = format!(
        "[store]\nretention = \"0s\"\nmax_outbox = 0\nkeep = 1\n{}",
        smpp("")
    );
    let errors = parse_err(&text);
    let keys: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    for key in ["store.retention", "store.max_outbox", "store.keep"] {
        assert!(keys.iter().any(|k| k.contains(key)), "{key} in {keys:?}");
    }
}

#[test]
fn menu_repeats_defaults_to_two_and_is_bounded() {
    let config = parse_ok(&with_line(""));
    assert_eq!(config.lines()[0].menu_repeats, 2);
    let config = parse_ok(&with_line("menu_repeats = 0\n"));
    assert_eq!(config.lines()[0].menu_repeats, 0);
    let text = with_line("menu_repeats = 11\n");
    single_error(
        &text,
        line_of(&text, "menu_repeats"),
        "lines[0].menu_repeats",
        "must be at most 10",
    );
}

#[test]
fn a_line_has_its_own_compliance_words_each_meaning_one_thing() {
    let text = with_line(
        "stop_keywords = [\"ARRET\", \"alto\"]\nstart_keywords = [\"Arrivée\"]\nhelp_keywords = [\"aide\"]\n",
    );
    let config = parse_ok(&text);
    let line = config.line("support").expect("line");
    assert_eq!(line.keywords.stop, ["ARRET", "ALTO"]);
    assert_eq!(line.keywords.start, ["ARRIVEE"]);
    assert_eq!(line.keywords.help, ["AIDE"]);

    let twice = with_line("stop_keywords = [\"arret\"]\nhelp_keywords = [\"ARRÊT\"]\n");
    single_error(
        &twice,
        line_of(&twice, "[\"ARRÊT\"]"),
        "lines[0].help_keywords[0]",
        "`ARRET` is already a STOP keyword; a word can mean one thing only",
    );
    let standard = with_line("start_keywords = [\"info\"]\n");
    single_error(
        &standard,
        line_of(&standard, "[\"info\"]"),
        "lines[0].start_keywords[0]",
        "`INFO` is already a HELP keyword; a word can mean one thing only",
    );
    // A queue keyword that a compliance word would always take first.
    let queue = with_line(
        "stop_keywords = [\"alto\"]\nmenu_prompt = \"?\"\n[[lines.queues]]\nname = \"a\"\nkeywords = [\"1\"]\n\
         [[lines.queues]]\nname = \"b\"\nkeywords = [\"Alto\"]\n",
    );
    single_error(
        &queue,
        line_of(&queue, "[\"Alto\"]"),
        "lines[0].queues[1].keywords[0]",
        "`alto` is a compliance keyword, answered before any menu; it can never select a queue",
    );
}

#[test]
fn opt_out_scope_is_number_or_brand() {
    let number = parse_ok(&with_line(""));
    assert_eq!(
        number.line("support").expect("line").opt_out_scope,
        crate::config::OptOutScope::Number
    );
    let brand = parse_ok(&with_line("opt_out_scope = \"brand\"\n"));
    assert_eq!(
        brand.line("support").expect("line").opt_out_scope,
        crate::config::OptOutScope::Brand
    );
    let errors = parse_err(&with_line("opt_out_scope = \"campaign\"\n"));
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].key_path, "lines[0].opt_out_scope");
}

#[test]
fn calls_expire_after_a_configured_bound() {
    assert_eq!(
        parse_ok(CORE).calls().expire_after,
        Duration::from_secs(4 * 3600),
        "default"
    );
    let config = parse_ok(&format!("{CORE}\n[calls]\nexpire_after = \"30m\"\n"));
    assert_eq!(config.calls().expire_after, Duration::from_secs(1800));
    let text = format!("{CORE}\n[calls]\nexpire_after = \"0s\"\n");
    single_error(
        &text,
        line_of(&text, "expire_after"),
        "calls.expire_after",
        "",
    );
    let text = format!("{CORE}\n[calls]\nttl = \"1h\"\n");
    single_error(&text, line_of(&text, "ttl"), "calls.ttl", "unknown key");
}

#[test]
fn media_retention_must_outlive_the_links() {
    let config = parse_ok(&format!(
        "{CORE}\n[media]\nretention = \"10d\"\nurl_ttl = \"2d\"\nfetch_hosts = [\"CDN.example.com\"]\n"
    ));
    assert_eq!(config.media().fetch_hosts, ["cdn.example.com"]);
    let text = format!("{CORE}\n[media]\nretention = \"8d\"\nurl_ttl = \"2d\"\n");
    single_error(
        &text,
        line_of(&text, "retention"),
        "media.retention",
        "at least url_ttl plus the longest validity",
    );
}
