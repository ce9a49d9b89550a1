//! `carrier-gateway pdu`: bad input prints nothing half-done (exit 2, one
//! line on stderr), and what `decode` prints, `encode` turns back into the
//! same octets.

use std::io::Write;
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_carrier-gateway");
/// enquire_link, sequence number 1.
const ENQUIRE_LINK: &str = "00000010000000150000000000000001";

fn run(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run");
    if let Some(mut input) = child.stdin.take() {
        input.write_all(stdin.as_bytes()).expect("stdin");
    }
    child.wait_with_output().expect("output")
}

fn assert_refused(output: &Output) {
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(output.stdout.is_empty(), "printed half-done: {output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
}

#[test]
fn decode_prints_nothing_when_garbage_follows_a_valid_pdu() {
    let valid = ENQUIRE_LINK;
    let ok = run(&["pdu", "decode", "--compact", valid], "");
    assert!(ok.status.success(), "{ok:?}");
    assert_refused(&run(&["pdu", "decode", &format!("{valid}0000")], ""));
    assert_refused(&run(&["pdu", "decode", &format!("{valid}zz")], ""));
}

#[test]
fn encode_requires_a_sequence_number_and_round_trips_decode() {
    assert_refused(&run(&["pdu", "encode"], r#"{"command": "enquire_link"}"#));
    assert_refused(&run(
        &["pdu", "encode"],
        r#"{"command": "enquire_link", "sequence_number": 1} {"command": "enquire_link"}"#,
    ));
    let valid = ENQUIRE_LINK;
    let decoded = run(&["pdu", "decode", "--compact", valid], "");
    let encoded = run(
        &["pdu", "encode"],
        &String::from_utf8_lossy(&decoded.stdout),
    );
    assert!(encoded.status.success(), "{encoded:?}");
    assert_eq!(String::from_utf8_lossy(&encoded.stdout).trim(), valid);
}
