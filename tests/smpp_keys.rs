//! The SMPP connection keys on the wire: the real gateway against the real
//! SMSC simulator, one test per key, each showing what the key changes in
//! what the carrier sees (the simulator's bind record) — with a carrier
//! left at the default beside it where that makes the cause unambiguous.
//!
//! - `interface_version = "5.0"` binds with interface_version 0x50 (and the
//!   link works); the default binds with 0x34.
//! - `bind_timeout`: a bind the SMSC never answers is dropped after
//!   bind_timeout, logged, and tried again after the reconnect delay.
//! - `max_pdu_len`: a PDU above it from the SMSC closes the connection
//!   (logged with the peer) and the link binds again; a carrier whose limit
//!   is above that PDU stays bound.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{FROM, Process, Sim, start_sim, start_sink, wait_for_port, wait_until, write_config};
use serde_json::Value;

/// The simulator with its bind record file.
fn start_recording_sim(dir: &Path, extra: &[&str]) -> (Sim, PathBuf) {
    let binds = dir.join("binds.jsonl");
    let path = binds.display().to_string();
    let mut args = vec!["--record-binds", path.as_str()];
    args.extend_from_slice(extra);
    (start_sim(dir, &args), binds)
}

/// Lines of the bind record file.
fn bind_records(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

fn records_of<'a>(records: &'a [Value], system_id: &str) -> Vec<&'a Value> {
    records
        .iter()
        .filter(|r| r["system_id"] == system_id)
        .collect()
}

/// The common config (carrier `acme` with one bind, system_id `gw`) with
/// `acme_keys` added to `acme`'s table and `extra` after the number.
fn config_with(
    dir: &Path,
    sim: &Sim,
    sink: std::net::SocketAddr,
    acme_keys: &str,
    extra: &str,
) -> (PathBuf, String) {
    let (path, api) = write_config(dir, sim.addr, sink, extra);
    let text = std::fs::read_to_string(&path).expect("config");
    let carrier = "binds = 2\nwindow = 64\n";
    assert!(text.contains(carrier), "the test config changed");
    let text = text.replacen(carrier, &format!("binds = 1\nwindow = 64\n{acme_keys}"), 1);
    std::fs::write(&path, text).expect("write the config");
    (path, api)
}

/// A second SMPP carrier on the same simulator, bound as `system_id`.
fn second_carrier(sim: &Sim, name: &str, system_id: &str, keys: &str) -> String {
    format!(
        r#"
[[carriers]]
name = "{name}"
protocol = "smpp"
host = "127.0.0.1"
port = {port}
system_id = "{system_id}"
password = "secret"
{keys}"#,
        port = sim.addr.port()
    )
}

/// Starts the gateway with its log (warn and above) in `dir/gateway.log`.
fn start_gateway_logged(dir: &Path, config: &Path, api: &str) -> (Process, PathBuf) {
    let log = dir.join("gateway.log");
    let file = std::fs::File::create(&log).expect("log file");
    let child = Command::new(common::BIN)
        .args(["run", "--config"])
        .arg(config)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(file)
        .spawn()
        .expect("start the gateway");
    let process = Process {
        child,
        name: "gateway",
    };
    wait_for_port(
        api.trim_start_matches("http://")
            .parse()
            .expect("API address"),
    );
    (process, log)
}

#[tokio::test]
async fn interface_version_5_0_binds_with_0x50_and_the_default_with_0x34() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (sim, binds) = start_recording_sim(dir.path(), &[]);
    let (sink, _events) = start_sink().await;
    let default_carrier = second_carrier(&sim, "plain", "gw34", "");
    let (config, api) = config_with(
        dir.path(),
        &sim,
        sink,
        "interface_version = \"5.0\"\n",
        &default_carrier,
    );
    let _gateway = common::Gateway::start(&config, &api);

    wait_until(Duration::from_secs(20), "both carriers bound", || {
        let records = bind_records(&binds);
        !records_of(&records, "gw").is_empty() && !records_of(&records, "gw34").is_empty()
    })
    .await;
    let records = bind_records(&binds);
    for record in records_of(&records, "gw") {
        assert_eq!(record["command"], "bind_transceiver", "{record}");
        assert_eq!(record["interface_version"], 0x50, "{record}");
        assert_eq!(record["outcome"], "accepted", "{record}");
    }
    for record in records_of(&records, "gw34") {
        assert_eq!(record["interface_version"], 0x34, "{record}");
    }

    // The 5.0 bind carries traffic like any other.
    let id = common::send_one(&api, FROM, "+15557654321", "over smpp 5.0").await;
    common::wait_for_status(&api, &[id], "delivered", Duration::from_secs(20)).await;
    let submits = common::sim_records(&sim);
    assert_eq!(submits.len(), 1, "{submits:?}");
    assert_eq!(submits[0]["system_id"], "gw");
}

#[tokio::test]
async fn a_bind_the_smsc_never_answers_is_dropped_after_bind_timeout_and_retried() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_sim, binds) = start_recording_sim(dir.path(), &["--stall-binds"]);
    let (sink, _events) = start_sink().await;
    let (config, api) = config_with(
        dir.path(),
        &_sim,
        sink,
        "bind_timeout = \"1s\"\nreconnect_delay = \"200ms\"\nreconnect_max_delay = \"200ms\"\n",
        "",
    );
    let (_gateway, log) = start_gateway_logged(dir.path(), &config, &api);

    wait_until(Duration::from_secs(15), "three bind attempts", || {
        bind_records(&binds).len() >= 3
    })
    .await;
    let records = bind_records(&binds);
    assert!(
        records.iter().all(|r| r["outcome"] == "stalled"),
        "{records:?}"
    );
    // Each attempt is a new connection, started once the previous one had
    // waited bind_timeout (1 s) and the jittered reconnect delay (100–200
    // ms): not before 1 s (no early give-up), and well before the
    // simulator's own 10 s session timer could have been what closed it.
    let at: Vec<u64> = records
        .iter()
        .map(|r| r["at_ms"].as_u64().expect("at_ms"))
        .collect();
    let conns: Vec<u64> = records
        .iter()
        .map(|r| r["conn"].as_u64().expect("conn"))
        .collect();
    for pair in conns.windows(2) {
        assert_ne!(pair[0], pair[1], "a retry is a new connection: {records:?}");
    }
    for gap in at.windows(2).map(|w| w[1].saturating_sub(w[0])) {
        assert!(
            (950..=2500).contains(&gap),
            "{gap} ms between bind attempts; want bind_timeout + reconnect delay: {records:?}"
        );
    }
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        text.contains("no bind_resp within bind_timeout"),
        "no log line about the bind timeout:\n{text}"
    );
}

#[tokio::test]
async fn a_pdu_above_max_pdu_len_closes_the_connection_and_the_link_binds_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    // After every bind the SMSC sends one 2048-octet deliver_sm.
    let (sim, binds) = start_recording_sim(dir.path(), &["--oversize-pdu", "2048"]);
    let (sink, _events) = start_sink().await;
    let roomy = second_carrier(&sim, "roomy", "big", "max_pdu_len = 4096\n");
    let (config, api) = config_with(
        dir.path(),
        &sim,
        sink,
        "max_pdu_len = 1024\nreconnect_delay = \"200ms\"\nreconnect_max_delay = \"200ms\"\n",
        &roomy,
    );
    let (_gateway, log) = start_gateway_logged(dir.path(), &config, &api);

    wait_until(
        Duration::from_secs(15),
        "the small link to bind 3 times",
        || records_of(&bind_records(&binds), "gw").len() >= 3,
    )
    .await;
    let records = bind_records(&binds);
    let small = records_of(&records, "gw");
    let conns: Vec<&Value> = small.iter().map(|r| &r["conn"]).collect();
    for pair in conns.windows(2) {
        assert_ne!(
            pair[0], pair[1],
            "each bind is a new connection: {records:?}"
        );
    }
    // The same PDU within the roomy carrier's limit: one bind, kept.
    assert_eq!(records_of(&records, "big").len(), 1, "{records:?}");

    let peer = format!("127.0.0.1:{}", sim.addr.port());
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let line = text
        .lines()
        .find(|l| l.contains("framing lost"))
        .unwrap_or_else(|| panic!("no log line about the oversize PDU:\n{text}"));
    assert!(line.contains(&peer), "the log line names no peer: {line}");
    assert!(
        line.contains("2048"),
        "the log line names no length: {line}"
    );
}

#[tokio::test]
async fn ton_and_npi_keys_set_the_addresses_of_submits_and_the_default_is_automatic() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (sim, _binds) = start_recording_sim(dir.path(), &[]);
    let (sink, _events) = start_sink().await;
    let plain = second_carrier(&sim, "plain", "gwplain", "");
    let extra = format!(
        "\n[[numbers]]\nnumber = \"+15551230002\"\ncarrier = \"plain\"\n\n[[numbers]]\nnumber = \"12345\"\ncarrier = \"plain\"\n{plain}"
    );
    let (config, api) = config_with(
        dir.path(),
        &sim,
        sink,
        "source_ton = 5\nsource_npi = 0\ndest_ton = 2\ndest_npi = 8\n",
        &extra,
    );
    let _gateway = common::Gateway::start(&config, &api);
    let ids = vec![
        common::send_one(&api, FROM, "+15557654321", "configured").await,
        common::send_one(&api, "+15551230002", "+15557654321", "automatic").await,
        common::send_one(&api, "12345", "+15557654321", "short code").await,
    ];
    common::wait_for_status(&api, &ids, "delivered", Duration::from_secs(20)).await;
    let records = common::sim_records(&sim);
    let by_text = |text: &str| -> Value {
        records
            .iter()
            .find(|r| common::record_text(r) == text)
            .cloned()
            .unwrap_or_else(|| panic!("{text:?} not recorded: {records:?}"))
    };
    let plan = |r: &Value| {
        (
            r["source_addr_ton"].as_u64(),
            r["source_addr_npi"].as_u64(),
            r["dest_addr_ton"].as_u64(),
            r["dest_addr_npi"].as_u64(),
        )
    };
    let configured = by_text("configured");
    assert_eq!(
        plan(&configured),
        (Some(5), Some(0), Some(2), Some(8)),
        "{configured}"
    );
    assert_eq!(configured["source_addr"], "15551230001");
    assert_eq!(configured["destination_addr"], "15557654321");
    let automatic = by_text("automatic");
    assert_eq!(
        plan(&automatic),
        (Some(1), Some(1), Some(1), Some(1)),
        "{automatic}"
    );
    let short = by_text("short code");
    assert_eq!(
        plan(&short),
        (Some(3), Some(0), Some(1), Some(1)),
        "{short}"
    );
    assert_eq!(short["source_addr"], "12345");
}
