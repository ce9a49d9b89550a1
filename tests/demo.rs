//! The README's first command works: `carrier-gateway demo --once` starts the
//! gateway, the simulator and the console sink, the sample message is
//! delivered, the customer's long reply reaches the core in one piece and
//! opens a session with consent and the menu, their "2" picks the queue,
//! a wait-time text goes to a caller whose IVR call is registered, the
//! customer's MMS (a photo and a video over MM7) reaches the core with
//! media the core fetches whole, and the agent's MMS back is delivered.

use std::process::Command;
use std::time::{Duration, Instant};

#[test]
fn demo_delivers_its_sample_message() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_carrier-gateway"))
        .args(["demo", "--once"])
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start the demo");
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Ok(Some(status)) = child.try_wait() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the demo did not finish within 60 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let output = child.wait_with_output().expect("output");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(status.success(), "demo failed:\n{stdout}");
    assert!(stdout.contains("202 Accepted"), "{stdout}");
    assert!(stdout.contains("\"status\":\"delivered\""), "{stdout}");
    assert!(
        stdout.contains("message.received"),
        "the customer's reply reaches the core:\n{stdout}"
    );
    assert!(
        stdout.contains("tracking link? 📦"),
        "reassembled and decoded:\n{stdout}"
    );
    assert!(
        stdout.contains("curl"),
        "it shows how to send a message:\n{stdout}"
    );
    assert!(
        stdout.contains("(consent)"),
        "consent in the transcript:\n{stdout}"
    );
    assert!(stdout.contains("(menu_prompt)"), "the menu:\n{stdout}");
    assert!(
        stdout.contains("\"queue\":\"tech\""),
        "the reply picked the queue:\n{stdout}"
    );
    assert!(
        stdout.contains("201 Created") && stdout.contains("(wait_time) -> HTTP/1.1 202 Accepted"),
        "the call and the wait-time text:\n{stdout}"
    );
    // The MMS each way.
    assert!(
        stdout.contains("\"content_type\":\"image/jpeg\"")
            && stdout.contains("\"content_type\":\"video/mp4\""),
        "the customer's MMS lists its media:\n{stdout}"
    );
    for kind in ["image/jpeg", "video/mp4"] {
        let line = stdout
            .lines()
            .find(|l| l.trim_start().starts_with(kind) && l.contains("GET /v1/media/"))
            .unwrap_or_else(|| panic!("{kind} fetched:\n{stdout}"));
        let size = line.split_whitespace().nth(1).expect("size");
        assert!(
            line.ends_with(&format!("200 OK, {size} bytes")),
            "fetched whole: {line}"
        );
    }
    assert!(
        stdout.contains("(with media) -> HTTP/1.1 202 Accepted")
            && stdout.contains("\"encoding\":\"binary\""),
        "the agent's MMS:\n{stdout}"
    );
    assert!(
        stdout.contains("\"carrier_message_ids\":[\"mmsc-000001\"]")
            && stdout.contains("the MMSC took mmsc-000001 (2 parts: text/plain, image/jpeg)"),
        "delivered through the MMSC:\n{stdout}"
    );
}
