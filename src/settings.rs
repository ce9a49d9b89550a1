//! From the validated configuration file to the daemon's runtime settings.
//!
//! `config` checks and locates every value; this module only translates the
//! checked values into what each part of the daemon consumes (transport
//! settings, encoding options, id formats), so those parts do not depend on
//! the file's shape.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use carrier_protocol::mm7::Mm7Version;
use carrier_protocol::text::choose::EncodingOptions;

use crate::config::MessageKey;
use crate::config::{self, Carrier, Config};
use crate::core_link::CoreLinkSettings;
use crate::daemon::Settings;
use crate::inbound::{InboundSettings, KeywordReplies, NumberInfo};
use crate::outbound::limits::NumberLimits;
use crate::outbound::plan::PlanOptions;
use crate::transport::mm7::Mm7LinkConfig;
use crate::transport::sip::SipLinkConfig;
use crate::transport::smpp::address::AddressPlan;
use crate::transport::smpp::{SmppLinkConfig, StatusTable, SubmitAddressing};

/// Default validity of an outbound message (docs/architecture.md: 24 h, per request
/// overridable).
pub const DEFAULT_VALIDITY: Duration = Duration::from_secs(24 * 3600);

impl Settings {
    /// The runtime settings of a loaded configuration.
    pub fn from_config(config: &Config) -> Settings {
        let mut smpp = Vec::new();
        let mut mm7 = Vec::new();
        let mut sip = Vec::new();
        let mut plans = HashMap::new();
        for carrier in config.carriers() {
            match carrier {
                Carrier::Smpp(c) => {
                    smpp.push(smpp_carrier(c));
                    plans.insert(c.name.clone(), plan_options(c));
                }
                Carrier::Mm7(c) => mm7.push(mm7_carrier(c, config.media().max_bytes)),
                Carrier::Sip(c) => {
                    sip.push(sip_carrier(c));
                    // Texts to a trunk are planned as text, but the API's
                    // 202 still names the SMS encoding and segments.
                    plans.insert(c.name.clone(), PlanOptions::default());
                }
            }
        }
        let mms_numbers = config
            .numbers()
            .iter()
            .filter_map(|n| Some((n.number.as_str().to_owned(), n.mms_carrier.clone()?)))
            .collect();
        let media_url_base = config
            .media()
            .public_url
            .as_ref()
            .map(|u| u.as_str().trim_end_matches('/').to_owned())
            .unwrap_or_else(|| format!("http://{}", config.api().listen));
        let numbers = config
            .numbers()
            .iter()
            .map(|n| (n.number.as_str().to_owned(), n.carrier.clone()))
            .collect();
        let limits = config
            .numbers()
            .iter()
            .map(|n| (n.number.as_str().to_owned(), number_limits(config, n)))
            .collect();
        let core = config.core();
        let inbound = InboundSettings {
            numbers: config
                .numbers()
                .iter()
                .map(|n| {
                    let line = config.line_of(n);
                    let replies = line.and_then(|l| {
                        let text = |key| l.message(key, &l.language).map(str::to_owned);
                        Some(KeywordReplies {
                            carrier: n.carrier.clone(),
                            plan: plans.get(&n.carrier).cloned().unwrap_or_default(),
                            stop: text(MessageKey::Stop)?,
                            start: text(MessageKey::Start)?,
                            help: text(MessageKey::Help)?,
                        })
                    });
                    (
                        n.number.as_str().to_owned(),
                        NumberInfo {
                            line: line.map(|l| l.name.clone()),
                            language: line.map(|l| l.language.as_str().to_owned()),
                            replies,
                            sessions: line.cloned().map(Arc::new),
                            opt_out_numbers: opt_out_numbers(config, n),
                        },
                    )
                })
                .collect(),
            media_url_base,
            ..InboundSettings::default()
        };
        Settings {
            state_dir: config.state_dir().to_owned(),
            api_listen: config.api().listen,
            metrics_listen: Some(config.metrics().listen),
            tokens: config
                .api()
                .tokens
                .iter()
                .map(|t| t.expose().to_owned())
                .collect(),
            http_limits: config.api().limits,
            smpp,
            mm7,
            sip,
            plans,
            numbers,
            mms_numbers,
            limits,
            default_validity: DEFAULT_VALIDITY,
            retention: config.store().retention,
            max_outbox: config.store().max_outbox as usize,
            core: CoreLinkSettings {
                webhook_url: core.webhook_url.to_string(),
                webhook_secret: core.webhook_secret.expose().to_owned(),
                batch_max: core.batch_max.get() as usize,
                status_events: core
                    .status_events
                    .iter()
                    .map(|s| s.as_str().to_owned())
                    .collect(),
                tls_ca_file: core.tls_ca_file.clone(),
                max_attempts: core.max_attempts,
                max_age: core.max_age,
            },
            inbound,
            services: crate::services::ServiceSettings::from_config(config),
            media: config.media().clone(),
        }
    }
}

/// The caps a number is subject to: its own, its campaign's and its
/// brand's.
/// The business numbers a customer's STOP or START to `number` changes:
/// itself, or every number of its brand when its line says so.
fn opt_out_numbers(config: &Config, number: &config::BusinessNumber) -> Vec<String> {
    let own = number.number.as_str().to_owned();
    let brand_wide = config
        .line_of(number)
        .is_some_and(|l| l.opt_out_scope == config::OptOutScope::Brand);
    let Some(brand) = config.brand_of(number).filter(|_| brand_wide) else {
        return vec![own];
    };
    let mut numbers = vec![own.clone()];
    numbers.extend(
        config
            .numbers()
            .iter()
            .filter(|other| config.brand_of(other).is_some_and(|b| b.id == brand.id))
            .map(|other| other.number.as_str().to_owned())
            .filter(|other| *other != own),
    );
    numbers
}

fn number_limits(config: &Config, number: &config::BusinessNumber) -> NumberLimits {
    let campaign = number
        .campaign
        .as_deref()
        .and_then(|id| config.campaign(id));
    let brand = campaign.and_then(|c| config.brand(&c.brand));
    NumberLimits {
        own: number.limits,
        campaign: campaign.map(|c| (c.id.clone(), c.limits)),
        brand: brand.map(|b| (b.id.clone(), b.limits)),
    }
}

fn smpp_carrier(c: &config::SmppCarrier) -> SmppLinkConfig {
    SmppLinkConfig {
        name: Arc::from(c.name.as_str()),
        host: c.host.clone(),
        port: c.port,
        tls: c.tls,
        tls_ca_file: c.tls_ca_file.clone(),
        system_id: c.system_id.clone(),
        password: c.password.expose().to_owned(),
        system_type: c.system_type.clone(),
        interface_version: c.interface_version,
        bind_timeout: c.bind_timeout,
        max_pdu_len: c.max_pdu_len,
        binds: c.binds as usize,
        window: c.window as usize,
        enquire_link_interval: c.enquire_link_interval,
        response_timeout: c.response_timeout,
        reconnect_delay: c.reconnect_delay,
        reconnect_max_delay: c.reconnect_max_delay,
        id_mapping: c.message_id_format,
        status_table: StatusTable::new(c.error_policy.clone()),
        throughput: c.throughput.map(|t| t.get()),
        addressing: SubmitAddressing {
            source: AddressPlan {
                ton: c.source_ton,
                npi: c.source_npi,
            },
            dest: AddressPlan {
                ton: c.dest_ton,
                npi: c.dest_npi,
            },
        },
    }
}

fn mm7_carrier(c: &config::Mm7Carrier, max_media_bytes: u64) -> Mm7LinkConfig {
    Mm7LinkConfig {
        name: Arc::from(c.name.as_str()),
        url: c.url.as_str().to_owned(),
        vasp_id: c.vasp_id.clone(),
        vas_id: c.vas_id.clone(),
        listen: c.listen,
        credentials: c
            .username
            .clone()
            .zip(c.password.as_ref().map(|p| p.expose().to_owned())),
        response_timeout: c.response_timeout,
        version: Mm7Version::Rel6_1_4,
        max_media_bytes,
    }
}

fn sip_carrier(c: &config::SipCarrier) -> SipLinkConfig {
    SipLinkConfig {
        name: Arc::from(c.name.as_str()),
        host: c.host.clone(),
        port: c.port,
        transport: c.transport,
        listen: c.listen,
        domain: c.domain.clone(),
        credentials: c
            .username
            .clone()
            .zip(c.password.as_ref().map(|p| p.expose().to_owned())),
        transient_codes: c.transient_codes.clone(),
        inbound_auth: c.inbound_auth,
        tls_ca_file: c.tls_ca_file.clone(),
        tls_cert_file: c.tls_cert_file.clone(),
        tls_key_file: c.tls_key_file.clone(),
    }
}

fn plan_options(c: &config::SmppCarrier) -> PlanOptions {
    PlanOptions {
        encoding: EncodingOptions {
            languages: c.national_languages.iter().copied().collect(),
            allow_latin1: c.allow_latin1,
            concatenation: c.concatenation,
        },
        gsm7_packed: c.gsm7_packed,
    }
}
