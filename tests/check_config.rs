//! `check-config` end to end on files: DESIGN §4.2's example passes, a broken
//! file fails with exit code 2 and every error on its own line.

use std::path::{Path, PathBuf};

use carrier_gateway::config::{Config, check_config};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

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
