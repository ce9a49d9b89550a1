//! `check-config` end to end on files: docs/configuration.md's example passes, a broken
//! file fails with exit code 2 and every error on its own line, and a number
//! whose SMS route is a carrier whose link is not built is refused by
//! `check-config` and `run` alike.

use std::path::{Path, PathBuf};
use std::process::Command;

use carrier_gateway::config::{Config, check_config};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

const BIN: &str = env!("CARGO_BIN_EXE_carrier-gateway");

#[test]
fn design_example_passes() {
    let report = check_config(fixture("design_example.toml"));
    assert_eq!(report.exit_code, 0, "{}", report.stderr);
    assert!(report.stdout.starts_with("configuration OK: 3 carriers"));
    assert!(report.stderr.is_empty());
    let config = Config::load(fixture("design_example.toml")).expect("loads");
    assert!(config.number("+15551230001").is_some());
}

#[test]
fn a_number_routed_to_a_sip_trunk_passes_and_tls_needs_its_certificate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let routed = std::fs::read_to_string(fixture("design_example.toml"))
        .expect("fixture")
        .replace(
            "carrier = \"acme\"                               # SMS route",
            "carrier = \"trunk\"",
        );
    assert!(
        routed.contains("carrier = \"trunk\""),
        "the fixture changed"
    );
    let path = dir.path().join("sip-route.toml");
    std::fs::write(&path, &routed).expect("write");
    let report = check_config(&path);
    assert_eq!(report.exit_code, 0, "{}", report.stderr);

    // Over TLS the trunk's connections are served with our certificate:
    // without it the file is refused, by check-config and by run, before
    // anything starts.
    let tls = routed.replace(
        "transport = \"udp\"                              # \"udp\" | \"tcp\" | \"tls\"",
        "transport = \"tls\"",
    );
    assert!(tls.contains("transport = \"tls\""), "the fixture changed");
    std::fs::write(&path, &tls).expect("write");
    let check = Command::new(BIN)
        .args(["check-config", "--config"])
        .arg(&path)
        .output()
        .expect("run check-config");
    assert_eq!(check.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&check.stderr);
    for key in ["tls_cert_file", "tls_key_file"] {
        assert!(
            stderr.contains(&format!(
                "`carriers[2].{key}`: missing required key `{key}` (with transport = \"tls\")"
            )),
            "{stderr}"
        );
    }
    let run = Command::new(BIN)
        .args(["run", "--config"])
        .arg(&path)
        .env("RUST_LOG", "off")
        .output()
        .expect("run the daemon");
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("tls_cert_file"));
}

#[test]
fn systemd_example_config_passes() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("systemd/config.example.toml");
    let report = check_config(&path);
    assert_eq!(report.exit_code, 0, "{}", report.stderr);
    assert!(report.stdout.starts_with("configuration OK: 2 carriers"));
}

#[test]
fn the_module_copy_of_the_example_is_identical() {
    let here = std::fs::read_to_string(fixture("design_example.toml")).expect("fixture");
    let module = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("src/config/tests/design_example.toml"),
    )
    .expect("module fixture");
    assert_eq!(here, module);
}

#[test]
fn broken_file_reports_every_error_and_exits_2() {
    let path = fixture("broken.toml");
    let report = check_config(&path);
    assert_eq!(report.exit_code, 2);
    assert!(report.stdout.is_empty());
    let lines: Vec<&str> = report.stderr.lines().collect();
    let file = path.display().to_string();
    let expected = [
        "6:10: key `carriers[0].binds`: must be at least 1, not 0",
        "7:1: key `carriers[0].url`: unknown key `url`: not an option of smpp carriers (it belongs to mm7 carriers)",
        "12:10: key `numbers[0].number`: `5551230001` is not a valid number",
        "13:11: key `numbers[0].carrier`: unknown carrier `acme2`",
    ];
    assert_eq!(lines.len(), expected.len(), "{}", report.stderr);
    for (line, want) in lines.iter().zip(expected) {
        assert!(
            line.starts_with(&format!("{file}:{want}")),
            "{line}\nwant {want}"
        );
    }
}

#[test]
fn unreadable_file_exits_2() {
    let report = check_config(fixture("no-such-file.toml"));
    assert_eq!(report.exit_code, 2);
    assert!(report.stderr.contains("cannot read the configuration file"));
}
