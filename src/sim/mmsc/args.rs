//! The flags of `carrier-gateway sim mmsc`, kept beside the simulator so the
//! daemon's CLI only embeds them. Their names are a contract with the
//! gateway's MM7 tests and the demo; README.md lists them.

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::{DEFAULT_MAX_BODY, MmscSimConfig, mo_file};

/// `carrier-gateway sim mmsc`: an MM7 MMSC simulator.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct MmscArgs {
    /// Address to listen on, e.g. 127.0.0.1:8007 (port 0 picks a free one;
    /// the chosen address is printed on stdout). Every POST, on any path,
    /// is an MM7 request.
    #[arg(long, value_name = "ADDR")]
    pub listen: SocketAddr,

    /// The VASP's MM7 URL (http://, or https://), where delivery reports and
    /// MO MMS are posted. Without it, no delivery report and no MO is sent.
    #[arg(long, value_name = "URL")]
    pub deliver_to: Option<String>,

    /// Milliseconds between accepting a submit and posting its delivery
    /// report.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub report_delay: u64,

    /// Never post delivery reports.
    #[arg(long, conflicts_with = "report_delay")]
    pub no_reports: bool,

    /// The delivery report of every Nth accepted submit says MMStatus
    /// Rejected instead of Retrieved.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub fail_every: Option<u64>,

    /// Refuse every Nth submit: HTTP 500 with a SOAP Fault whose
    /// RSErrorRsp carries --refuse-code.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub refuse_every: Option<u64>,

    /// The StatusCode of refusals (2000 to 4999): 4006 (service
    /// unavailable) is transient for the VASP; 2xxx and 4001-4004 are
    /// permanent.
    #[arg(long, value_name = "CODE", default_value_t = 4006,
          value_parser = clap::value_parser!(u16).range(2000..=4999))]
    pub refuse_code: u16,

    /// JSON-lines file of MO MMS to post in order once started:
    /// {"from": "+1555…", "to": "+1555…", "text": "…", "subject": "…",
    /// "media": ["photo.jpg", …], "delay_ms": 0} (text, subject, media and
    /// delay_ms optional; media paths relative to the file's directory).
    #[arg(long, value_name = "FILE")]
    pub mo_file: Option<PathBuf>,

    /// Most attempts to post one MO or delivery report: it is posted again
    /// until the VASP answers 200 with a success status.
    #[arg(long, value_name = "N", default_value_t = 120,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub mo_attempts: u32,

    /// Milliseconds between two attempts.
    #[arg(long, value_name = "MS", default_value_t = 500)]
    pub mo_retry_ms: u64,

    /// Require HTTP Basic with this user (and --password) on every
    /// request; others get 401.
    #[arg(long, value_name = "USER", requires = "password")]
    pub username: Option<String>,

    /// The password for --username.
    #[arg(long, value_name = "PASSWORD", requires = "username")]
    pub password: Option<String>,

    /// Append one JSON line per event (submit, refused, mo_acked,
    /// mo_gave_up, report_acked, report_gave_up) to FILE.
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,

    /// Largest request body read; larger ones get 413.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_BODY,
          value_parser = parse_max_body)]
    pub max_body: usize,
}

/// A body limit of at least 1 KiB (a SOAP envelope alone is near that).
fn parse_max_body(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if n >= 1024 => Ok(n),
        _ => Err("expected a number of bytes, at least 1024".to_owned()),
    }
}

impl MmscArgs {
    /// The simulator's configuration, with the MO file read and checked.
    ///
    /// # Errors
    /// The MO file (or a media file it names) cannot be read or is invalid:
    /// `InvalidData`, naming the line.
    pub fn to_config(&self) -> io::Result<MmscSimConfig> {
        let mut config = MmscSimConfig::new(self.listen);
        config.deliver_to = self.deliver_to.clone();
        config.report_delay = Duration::from_millis(self.report_delay);
        config.reports = !self.no_reports;
        config.fail_every = self.fail_every;
        config.refuse_every = self.refuse_every;
        config.refuse_code = self.refuse_code;
        if let Some(path) = &self.mo_file {
            config.mo = mo_file::load(path)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
        }
        config.mo_attempts = self.mo_attempts;
        config.mo_retry = Duration::from_millis(self.mo_retry_ms);
        config.credentials = self.username.clone().zip(self.password.clone());
        config.record = self.record.clone();
        config.max_body = self.max_body;
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        mmsc: MmscArgs,
    }

    fn parse(args: &[&str]) -> Result<MmscArgs, clap::Error> {
        Cli::try_parse_from(std::iter::once("sim").chain(args.iter().copied())).map(|c| c.mmsc)
    }

    #[test]
    fn defaults() {
        let config = parse(&["--listen", "127.0.0.1:0"])
            .expect("valid")
            .to_config()
            .expect("no MO file");
        assert_eq!(
            config,
            MmscSimConfig::new("127.0.0.1:0".parse().expect("addr"))
        );
        assert_eq!(config.refuse_code, 4006);
        assert_eq!(config.mo_attempts, 120);
        assert_eq!(config.mo_retry, Duration::from_millis(500));
        assert_eq!(config.max_body, 20 * 1024 * 1024);
        assert!(config.reports && config.deliver_to.is_none());
    }

    #[test]
    fn every_flag_maps_to_the_config() {
        let config = parse(&[
            "--listen",
            "[::1]:8007",
            "--deliver-to",
            "http://127.0.0.1:9000/mm7",
            "--report-delay",
            "250",
            "--fail-every",
            "3",
            "--refuse-every",
            "4",
            "--refuse-code",
            "2002",
            "--mo-attempts",
            "5",
            "--mo-retry-ms",
            "20",
            "--username",
            "vasp",
            "--password",
            "secret",
            "--record",
            "r.jsonl",
            "--max-body",
            "4096",
        ])
        .expect("valid")
        .to_config()
        .expect("no MO file");
        assert_eq!(
            config.deliver_to.as_deref(),
            Some("http://127.0.0.1:9000/mm7")
        );
        assert_eq!(config.report_delay, Duration::from_millis(250));
        assert_eq!(
            (config.fail_every, config.refuse_every, config.refuse_code),
            (Some(3), Some(4), 2002)
        );
        assert_eq!(
            (config.mo_attempts, config.mo_retry),
            (5, Duration::from_millis(20))
        );
        assert_eq!(
            config.credentials,
            Some(("vasp".to_owned(), "secret".to_owned()))
        );
        assert_eq!(config.record, Some(PathBuf::from("r.jsonl")));
        assert_eq!(config.max_body, 4096);
        let quiet = parse(&["--listen", "127.0.0.1:0", "--no-reports"])
            .expect("valid")
            .to_config()
            .expect("no MO file");
        assert!(!quiet.reports);
    }

    #[test]
    fn bad_flags_are_refused() {
        let base = ["--listen", "127.0.0.1:0"];
        let with = |extra: &[&str]| parse(&[&base[..], extra].concat());
        assert!(parse(&[]).is_err(), "--listen is required");
        assert!(with(&["--fail-every", "0"]).is_err());
        assert!(with(&["--refuse-every", "0"]).is_err());
        assert!(with(&["--refuse-code", "1000"]).is_err());
        assert!(with(&["--refuse-code", "5000"]).is_err());
        assert!(with(&["--mo-attempts", "0"]).is_err());
        assert!(with(&["--username", "u"]).is_err(), "needs --password");
        assert!(with(&["--password", "p"]).is_err(), "needs --username");
        assert!(with(&["--no-reports", "--report-delay", "5"]).is_err());
        assert!(with(&["--max-body", "10"]).is_err());
    }

    #[test]
    fn a_bad_mo_file_is_invalid_data_naming_the_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("mo.jsonl");
        std::fs::write(
            &file,
            "{\"from\": \"+1\", \"to\": \"+2\", \"text\": \"ok\"}\n{\"from\": \"+1\"}\n",
        )
        .expect("write");
        let args = parse(&[
            "--listen",
            "127.0.0.1:0",
            "--mo-file",
            &file.display().to_string(),
        ])
        .expect("valid flags");
        let error = args.to_config().expect_err("line 2 is bad");
        assert_eq!(error.kind(), io::ErrorKind::InvalidData);
        assert!(error.to_string().contains("line 2"), "{error}");
    }
}
