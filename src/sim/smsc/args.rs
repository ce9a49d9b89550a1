//! The flags of `carrier-gateway sim smsc` (the command line, README.md fixes `--listen`,
//! `--dlr-delay`, `--mo-file` and `--throttle-every`; the rest expose the
//! simulator's other fault and checking knobs, `--receipt-first` and
//! `--fail-every` for receipt-correlation tests), kept beside the simulator so
//! the daemon's CLI only has to `#[command(flatten)]` or embed them.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use carrier_protocol::text::NationalLanguage;
use carrier_protocol::text::choose::LanguageSet;

use super::{Account, SmscSimConfig};

/// `carrier-gateway sim smsc`: an SMPP SMSC simulator.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct SmscArgs {
    /// Address to listen on, e.g. 127.0.0.1:2775 (port 0 picks a free one;
    /// the chosen address is printed on stdout).
    #[arg(long, value_name = "ADDR")]
    pub listen: SocketAddr,

    /// Milliseconds between accepting a submit that asks for a receipt and
    /// sending the receipt (0: at once).
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub dlr_delay: u64,

    /// Send no delivery receipts at all.
    #[arg(long, conflicts_with = "dlr_delay")]
    pub no_receipts: bool,

    /// JSON-lines file of MO messages to play after the first receiving bind:
    /// {"from": "+1555…", "to": "+1555…", "text": "…", "delay_ms": 0}; a line
    /// {"receipt_for": "ID", "stat": "DELIVRD", "delay_ms": 0} (from/to
    /// optional) sends a delivery receipt for any message id instead.
    #[arg(long, value_name = "FILE")]
    pub mo_file: Option<PathBuf>,

    /// Answer every Nth submit with ESME_RTHROTTLED (and do not accept it).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub throttle_every: Option<u64>,

    /// Answer ESME_RTHROTTLED to submits beyond N per second on each
    /// connection (sliding one-second window), as carriers throttle.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_rate: Option<u32>,

    /// Send the delivery receipt of an accepted submit before its
    /// submit_sm_resp, on the same connection (ignores --dlr-delay): the
    /// ESME sees a receipt for an id it has not been told yet.
    #[arg(long, conflicts_with = "no_receipts")]
    pub receipt_first: bool,

    /// The receipt of every Nth accepted submit (counted across
    /// connections) says stat:UNDELIV err:001 (message_state 5) instead of
    /// DELIVRD.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub fail_every: Option<u64>,

    /// The submit_sm_resp of every Nth accepted submit carries an empty
    /// message_id (a carrier bug the gateway must survive).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub empty_message_id_every: Option<u64>,

    /// The submit_sm_resp of every Nth accepted submit repeats the id of
    /// the submit accepted before it; its receipt names its own id.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub repeat_message_id_every: Option<u64>,

    /// Close each connection abruptly at its Nth submit, leaving that submit
    /// unanswered (tests resending of unacknowledged messages).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub drop_after: Option<u64>,

    /// Append one JSON line per accepted submit to FILE.
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,

    /// Append one JSON line per bind request to FILE (command, system_id,
    /// interface_version, outcome, conn, at_ms).
    #[arg(long, value_name = "FILE")]
    pub record_binds: Option<PathBuf>,

    /// Never answer a bind (tests an ESME's bind timeout).
    #[arg(long)]
    pub stall_binds: bool,

    /// After each accepted bind, send one deliver_sm of exactly OCTETS
    /// (64 to 65535), to test an ESME's maximum PDU length.
    #[arg(long, value_name = "OCTETS", value_parser = parse_oversize)]
    pub oversize_pdu: Option<usize>,

    /// Accept only binds with this system_id (default: any).
    #[arg(long, value_name = "ID")]
    pub system_id: Option<String>,

    /// With --system-id: also require this password.
    #[arg(long, value_name = "PASSWORD", requires = "system_id")]
    pub password: Option<String>,

    /// Refuse binds beyond N simultaneous bound sessions (ESME_RBINDFAIL).
    #[arg(long, value_name = "N")]
    pub max_connections: Option<usize>,

    /// GSM national shift tables MO texts may be encoded with (comma
    /// separated: `turkish,spanish,hindi`…), as a carrier that supports
    /// them sends them; default none (GSM 03.38 or UCS-2).
    #[arg(long, value_name = "LIST", value_parser = parse_languages)]
    pub mo_national_languages: Option<LanguageSet>,

    /// Outstanding deliver_sm (receipts, MO) per bind.
    #[arg(long, value_name = "N", default_value_t = 256, value_parser = parse_window)]
    pub window: usize,
}

/// A comma-separated list of national language names.
fn parse_languages(text: &str) -> Result<LanguageSet, String> {
    text.split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(|name| {
            NationalLanguage::ALL
                .into_iter()
                .find(|l| l.as_str() == name)
                .ok_or_else(|| format!("unknown national language `{name}`"))
        })
        .collect()
}

/// A window of 1 to 2^20 (the session's maximum).
fn parse_window(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if (1..=carrier_protocol::smpp::session::MAX_WINDOW).contains(&n) => Ok(n),
        _ => Err(format!(
            "expected 1 to {}",
            carrier_protocol::smpp::session::MAX_WINDOW
        )),
    }
}

/// A PDU size within [`super::OVERSIZE_PDU_RANGE`].
fn parse_oversize(text: &str) -> Result<usize, String> {
    let range = super::OVERSIZE_PDU_RANGE;
    match text.parse::<usize>() {
        Ok(n) if range.contains(&n) => Ok(n),
        _ => Err(format!("expected {} to {}", range.start(), range.end())),
    }
}

impl SmscArgs {
    /// The simulator's configuration.
    pub fn to_config(&self) -> SmscSimConfig {
        let mut config = SmscSimConfig::new(self.listen);
        config.dlr_delay = (!self.no_receipts).then(|| Duration::from_millis(self.dlr_delay));
        config.mo_file = self.mo_file.clone();
        config.throttle_every = self.throttle_every;
        config.max_rate = self.max_rate;
        config.receipt_first = self.receipt_first;
        config.fail_every = self.fail_every;
        config.empty_message_id_every = self.empty_message_id_every;
        config.repeat_message_id_every = self.repeat_message_id_every;
        config.drop_after = self.drop_after;
        config.record = self.record.clone();
        config.record_binds = self.record_binds.clone();
        config.stall_binds = self.stall_binds;
        config.oversize_pdu = self.oversize_pdu;
        config.accounts = self
            .system_id
            .iter()
            .map(|system_id| Account {
                system_id: system_id.clone(),
                password: self.password.clone(),
            })
            .collect();
        config.max_connections = self.max_connections;
        config.window = self.window;
        config.mo_languages = self.mo_national_languages.unwrap_or_default();
        config
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        smsc: SmscArgs,
    }

    fn parse(args: &[&str]) -> Result<SmscArgs, clap::Error> {
        Cli::try_parse_from(std::iter::once("sim").chain(args.iter().copied())).map(|c| c.smsc)
    }

    #[test]
    fn design_flags_map_to_the_config() {
        let args = parse(&[
            "--listen",
            "127.0.0.1:2775",
            "--dlr-delay",
            "250",
            "--mo-file",
            "mo.jsonl",
            "--throttle-every",
            "3",
        ])
        .expect("valid");
        let config = args.to_config();
        assert_eq!(config.listen, "127.0.0.1:2775".parse().expect("addr"));
        assert_eq!(config.dlr_delay, Some(Duration::from_millis(250)));
        assert_eq!(config.mo_file, Some(PathBuf::from("mo.jsonl")));
        assert_eq!(config.throttle_every, Some(3));
        assert!(config.accounts.is_empty());
        assert_eq!(config.window, 256);
    }

    #[test]
    fn defaults_send_receipts_at_once() {
        let config = parse(&["--listen", "127.0.0.1:0"])
            .expect("valid")
            .to_config();
        assert_eq!(config.dlr_delay, Some(Duration::ZERO));
        assert_eq!(config.drop_after, None);
        assert!(!config.receipt_first);
        assert_eq!(config.fail_every, None);
    }

    #[test]
    fn receipt_test_flags() {
        let config = parse(&[
            "--listen",
            "127.0.0.1:0",
            "--receipt-first",
            "--fail-every",
            "4",
        ])
        .expect("valid")
        .to_config();
        assert!(config.receipt_first);
        assert_eq!(config.fail_every, Some(4));
        assert!(parse(&["--listen", "127.0.0.1:0", "--fail-every", "0"]).is_err());
        assert!(parse(&["--listen", "127.0.0.1:0", "--fail-every", "x"]).is_err());
        assert!(
            parse(&[
                "--listen",
                "127.0.0.1:0",
                "--receipt-first",
                "--no-receipts"
            ])
            .is_err()
        );
    }

    #[test]
    fn extra_flags() {
        let config = parse(&[
            "--listen",
            "[::1]:2775",
            "--no-receipts",
            "--drop-after",
            "5",
            "--record",
            "r.jsonl",
            "--system-id",
            "gw",
            "--password",
            "secret",
            "--max-connections",
            "2",
            "--window",
            "10",
        ])
        .expect("valid")
        .to_config();
        assert_eq!(config.dlr_delay, None);
        assert_eq!(config.drop_after, Some(5));
        assert_eq!(config.record, Some(PathBuf::from("r.jsonl")));
        assert_eq!(
            config.accounts,
            vec![Account {
                system_id: "gw".into(),
                password: Some("secret".into())
            }]
        );
        assert_eq!(config.max_connections, Some(2));
        assert_eq!(config.window, 10);
    }

    #[test]
    fn connection_setting_flags() {
        let config = parse(&[
            "--listen",
            "127.0.0.1:0",
            "--record-binds",
            "binds.jsonl",
            "--stall-binds",
            "--oversize-pdu",
            "2048",
        ])
        .expect("valid")
        .to_config();
        assert_eq!(config.record_binds, Some(PathBuf::from("binds.jsonl")));
        assert!(config.stall_binds);
        assert_eq!(config.oversize_pdu, Some(2048));
        let defaults = parse(&["--listen", "127.0.0.1:0"])
            .expect("valid")
            .to_config();
        assert_eq!(
            (
                defaults.record_binds,
                defaults.stall_binds,
                defaults.oversize_pdu
            ),
            (None, false, None)
        );
        assert!(parse(&["--listen", "127.0.0.1:0", "--oversize-pdu", "10"]).is_err());
        assert!(parse(&["--listen", "127.0.0.1:0", "--oversize-pdu", "70000"]).is_err());
    }

    #[test]
    fn bad_flags_are_refused() {
        assert!(parse(&[]).is_err(), "--listen is required");
        assert!(parse(&["--listen", "nowhere"]).is_err());
        assert!(parse(&["--listen", "127.0.0.1:0", "--throttle-every", "0"]).is_err());
        assert!(parse(&["--listen", "127.0.0.1:0", "--password", "x"]).is_err());
        assert!(parse(&["--listen", "127.0.0.1:0", "--window", "0"]).is_err());
        assert!(
            parse(&[
                "--listen",
                "127.0.0.1:0",
                "--no-receipts",
                "--dlr-delay",
                "5"
            ])
            .is_err()
        );
    }
}
