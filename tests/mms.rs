//! MMS end to end over MM7 (issue 17): the real gateway against the real
//! MMSC simulator (`carrier-gateway sim mmsc`, a separate process) and a
//! webhook sink in the test process.
//!
//! - an MO MMS with a JPEG and an MP4 reaches the core with media URLs
//!   whose bytes equal the originals;
//! - an outbound MMS with two images arrives at the MMSC intact, with a
//!   SMIL part, and ends `delivered` through its delivery report;
//! - the MMSC's refusals: transient ones are retried, a permanent one sends
//!   the message as an SMS with links;
//! - `kill -9` between the MMSC's post and the MM7 response: the MMS
//!   reaches the core after the restart, once by event id, media intact;
//! - bad posts are refused with a clear error and leave nothing stored.

mod common;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use carrier_protocol::mm7::body::{ContentItem, encode_body};
use carrier_protocol::mm7::{
    DeliverReq, Mm7Address, Mm7Envelope, Mm7Message, Mm7Version, Recipients, decode,
};
use common::*;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const CUSTOMER: &str = "+15557654321";

fn sample(name: &str) -> (PathBuf, Vec<u8>) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src/sim/mmsc/media")
        .join(name);
    let bytes = std::fs::read(&path).expect("sample media");
    (path, bytes)
}

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/media")
        .join(name);
    std::fs::read(path).expect("fixture media")
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The MMSC simulator as a process.
struct Mmsc {
    _process: Process,
    addr: SocketAddr,
    record: PathBuf,
}

fn start_mmsc(dir: &Path, addr: SocketAddr, deliver_to: &str, extra: &[&str]) -> Mmsc {
    let record = dir.join("mmsc-record.jsonl");
    let mut args = vec![
        "sim".to_owned(),
        "mmsc".to_owned(),
        "--listen".to_owned(),
        addr.to_string(),
        "--record".to_owned(),
        record.display().to_string(),
        "--deliver-to".to_owned(),
        deliver_to.to_owned(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let child = Command::new(BIN)
        .args(&args)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the MMSC simulator");
    wait_for_port(addr);
    Mmsc {
        _process: Process {
            child,
            name: "mmsc",
        },
        addr,
        record,
    }
}

/// The simulator's record lines of one kind.
fn mmsc_records(mmsc: &Mmsc, kind: &str) -> Vec<Value> {
    let Ok(text) = std::fs::read_to_string(&mmsc.record) else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["kind"] == kind)
        .collect()
}

/// A config with the SMPP carrier of [`write_config`] and an MM7 carrier
/// `mms` whose MMSC is at `mmsc` and whose listener is `listen`; the
/// number [`FROM`] sends MMS through it.
fn mms_config(
    dir: &Path,
    smsc: SocketAddr,
    sink: SocketAddr,
    mmsc: SocketAddr,
    listen: SocketAddr,
    extra: &str,
) -> (PathBuf, String) {
    write_config(
        dir,
        smsc,
        sink,
        &format!(
            r#"mms_carrier = "mms"

[[carriers]]
name = "mms"
protocol = "mm7"
url = "http://{mmsc}/mm7"
vasp_id = "acme"
vas_id = "support"
listen = "{listen}"
response_timeout = "5s"
{extra}"#
        ),
    )
}

fn loopback() -> SocketAddr {
    format!("127.0.0.1:{}", free_port())
        .parse()
        .expect("address")
}

fn write_mo_file(dir: &Path, entries: &[Value]) -> String {
    let path = dir.join("mo.jsonl");
    let lines: Vec<String> = entries.iter().map(Value::to_string).collect();
    std::fs::write(&path, lines.join("\n") + "\n").expect("write the MO file");
    path.display().to_string()
}

fn received(events: &Events) -> Vec<Value> {
    events
        .all()
        .into_iter()
        .filter(|e| e["type"] == "message.received")
        .collect()
}

async fn fetch(url: &str, range: Option<&str>) -> (u16, Vec<u8>) {
    let mut request = client().get(url).bearer_auth(TOKEN);
    if let Some(range) = range {
        request = request.header("Range", range);
    }
    let response = request.send().await.expect("GET media");
    let status = response.status().as_u16();
    (status, response.bytes().await.expect("body").to_vec())
}

/// The media of a `message.received`, fetched through their URLs, by
/// content type.
async fn check_media(event: &Value, originals: &[(&str, &[u8])]) {
    let media = event["data"]["media"].as_array().expect("media");
    assert_eq!(media.len(), originals.len(), "{event}");
    for (item, (content_type, bytes)) in media.iter().zip(originals) {
        assert_eq!(item["content_type"], *content_type, "{item}");
        assert_eq!(item["size"], bytes.len() as u64, "{item}");
        let url = item["url"].as_str().expect("url");
        let (status, body) = fetch(url, None).await;
        assert_eq!(status, 200, "{url}");
        assert_eq!(
            sha256_hex(&body),
            sha256_hex(bytes),
            "{url}: the bytes changed"
        );
    }
}

async fn upload(api: &str, content_type: &str, bytes: Vec<u8>) -> String {
    let response = client()
        .post(format!("{api}/v1/media"))
        .bearer_auth(TOKEN)
        .header("Content-Type", content_type)
        .body(bytes)
        .send()
        .await
        .expect("POST /v1/media");
    assert_eq!(response.status().as_u16(), 201);
    let body: Value = response.json().await.expect("JSON");
    body["id"].as_str().expect("id").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_mo_mms_with_a_photo_and_a_video_reaches_the_core_intact() {
    let dir = tempfile::tempdir().expect("temp dir");
    let smsc = start_sim(dir.path(), &[]);
    let (sink, events) = start_sink().await;
    let (jpeg_path, jpeg) = sample("sample.jpg");
    let (mp4_path, mp4) = sample("sample.mp4");
    let listen = loopback();
    let mmsc_addr = loopback();
    let (config, api) = mms_config(dir.path(), smsc.addr, sink, mmsc_addr, listen, "");
    let _gateway = Gateway::start(&config, &api);
    wait_for_port(listen);
    let mo_file = write_mo_file(
        dir.path(),
        &[json!({
            "from": CUSTOMER,
            "to": FROM,
            "text": "The screen after the fall",
            "media": [jpeg_path, mp4_path],
            "delay_ms": 0,
        })],
    );
    let mmsc = start_mmsc(
        dir.path(),
        mmsc_addr,
        &format!("http://{listen}/mm7"),
        &["--mo-file", &mo_file],
    );
    wait_until(Duration::from_secs(30), "the MO MMS at the core", || {
        !received(&events).is_empty()
    })
    .await;
    let event = received(&events).remove(0);
    let data = &event["data"];
    assert_eq!(data["from"], CUSTOMER);
    assert_eq!(data["to"], FROM);
    assert_eq!(data["text"], "The screen after the fall");
    assert_eq!(data["carrier"], "mms");
    check_media(&event, &[("image/jpeg", &jpeg), ("video/mp4", &mp4)]).await;
    // Video is fetched in ranges.
    let url = data["media"][1]["url"].as_str().expect("url");
    let (status, head) = fetch(url, Some("bytes=0-99")).await;
    assert_eq!(status, 206);
    assert_eq!(head, mp4[..100]);
    // The MMSC got its MM7_deliver.RES at the first attempt.
    wait_until(
        Duration::from_secs(10),
        "the MMSC's acknowledgement",
        || !mmsc_records(&mmsc, "mo_acked").is_empty(),
    )
    .await;
    assert_eq!(mmsc_records(&mmsc, "mo_acked")[0]["attempts"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outbound_mms_with_two_images_arrives_with_smil_and_is_delivered() {
    let dir = tempfile::tempdir().expect("temp dir");
    let smsc = start_sim(dir.path(), &[]);
    let (sink, events) = start_sink().await;
    let listen = loopback();
    // The MMSC wants HTTP Basic credentials, which the carrier's config
    // gives.
    let mmsc = start_mmsc(
        dir.path(),
        loopback(),
        &format!("http://{listen}/mm7"),
        &[
            "--report-delay",
            "100",
            "--username",
            "acme-vasp",
            "--password",
            "s3cret",
        ],
    );
    let (config, api) = mms_config(
        dir.path(),
        smsc.addr,
        sink,
        mmsc.addr,
        listen,
        "username = \"acme-vasp\"\npassword = \"s3cret\"\n",
    );
    let _gateway = Gateway::start(&config, &api);
    let (_, jpeg) = sample("sample.jpg");
    let png = fixture("diagram.png");
    let photo = upload(&api, "image/jpeg", jpeg.clone()).await;
    let diagram = upload(&api, "image/png", png.clone()).await;
    let sent = post_message(
        &api,
        json!({"from": FROM, "to": CUSTOMER, "text": "Here is the back panel",
               "media": [{"id": photo}, {"id": diagram}]}),
    )
    .await;
    let id = sent["id"].as_str().expect("id").to_owned();
    wait_for_status(
        &api,
        std::slice::from_ref(&id),
        "delivered",
        Duration::from_secs(30),
    )
    .await;

    let submits = mmsc_records(&mmsc, "submit");
    assert_eq!(submits.len(), 1, "{submits:?}");
    let submit = &submits[0];
    assert_eq!(submit["from"], FROM);
    assert_eq!(submit["to"], json!([CUSTOMER]));
    assert_eq!(submit["vasp_id"], "acme");
    assert_eq!(submit["basic_user"], "acme-vasp");
    assert_eq!(submit["delivery_report"], true);
    assert_eq!(submit["text"], "Here is the back panel");
    assert_eq!(submit["smil"], true);
    let hashes: HashSet<&str> = submit["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["sha256"].as_str())
        .collect();
    assert!(hashes.contains(sha256_hex(&jpeg).as_str()), "{submit}");
    assert!(hashes.contains(sha256_hex(&png).as_str()), "{submit}");

    let message = get_message(&api, &id).await;
    assert_eq!(
        message["carrier_message_ids"],
        json!([submit["message_id"]])
    );
    assert!(message["fallback"].is_null(), "{message}");
    // Nothing went as SMS.
    assert!(sim_records(&smsc).is_empty());
    let statuses: Vec<Value> = events
        .all()
        .into_iter()
        .filter(|e| e["type"] == "message.status" && e["data"]["id"] == id.as_str())
        .map(|e| e["data"]["status"].clone())
        .collect();
    assert!(statuses.contains(&json!("delivered")), "{statuses:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_are_retried_or_fall_back_to_an_sms_with_links() {
    let dir = tempfile::tempdir().expect("temp dir");
    let smsc = start_sim(dir.path(), &[]);
    let (sink, _events) = start_sink().await;
    let png = fixture("diagram.png");

    // Every other submit is refused with 4006 (service unavailable): all
    // are delivered, each accepted once.
    let listen = loopback();
    let mmsc = start_mmsc(
        dir.path(),
        loopback(),
        &format!("http://{listen}/mm7"),
        &["--refuse-every", "2", "--refuse-code", "4006"],
    );
    let (config, api) = mms_config(dir.path(), smsc.addr, sink, mmsc.addr, listen, "");
    let mut gateway = Gateway::start(&config, &api);
    let media = upload(&api, "image/png", png.clone()).await;
    let mut ids = Vec::new();
    for i in 0..6 {
        let sent = post_message(
            &api,
            json!({"from": FROM, "to": format!("+1555765{i:04}"), "text": format!("diagram {i}"),
                   "media": [{"id": media}]}),
        )
        .await;
        ids.push(sent["id"].as_str().expect("id").to_owned());
    }
    wait_for_status(&api, &ids, "delivered", Duration::from_secs(60)).await;
    let submits = mmsc_records(&mmsc, "submit");
    let texts: HashSet<&str> = submits.iter().filter_map(|s| s["text"].as_str()).collect();
    assert_eq!(submits.len(), 6, "each accepted once: {submits:?}");
    assert_eq!(texts.len(), 6);
    assert!(!mmsc_records(&mmsc, "refused").is_empty());
    for id in &ids {
        assert!(get_message(&api, id).await["attempts"].as_u64() >= Some(1));
    }
    gateway.kill9();
    drop(mmsc);

    // A permanent refusal (2004, content refused): the message goes as an
    // SMS with a signed link to its medium.
    let dir = tempfile::tempdir().expect("temp dir");
    let smsc = start_sim(dir.path(), &[]);
    let listen = loopback();
    let mmsc = start_mmsc(
        dir.path(),
        loopback(),
        &format!("http://{listen}/mm7"),
        &["--refuse-every", "1", "--refuse-code", "2004"],
    );
    let (config, api) = mms_config(
        dir.path(),
        smsc.addr,
        sink,
        mmsc.addr,
        listen,
        "\n[media]\npublic_url = \"https://gw.example.net\"\n",
    );
    let _gateway = Gateway::start(&config, &api);
    let media = upload(&api, "image/png", png).await;
    let sent = post_message(
        &api,
        json!({"from": FROM, "to": CUSTOMER, "text": "Your diagram", "media": [{"id": media}]}),
    )
    .await;
    let id = sent["id"].as_str().expect("id").to_owned();
    wait_for_status(
        &api,
        std::slice::from_ref(&id),
        "delivered",
        Duration::from_secs(30),
    )
    .await;
    let message = get_message(&api, &id).await;
    assert_eq!(message["fallback"], "sms_link", "{message}");
    let sms = sim_records(&smsc);
    assert_eq!(sms.len(), 1, "{sms:?}");
    let text = record_text(&sms[0]);
    assert!(
        text.starts_with(&format!(
            "Your diagram\nhttps://gw.example.net/v1/media/{media}?expires="
        )),
        "{text}"
    );
    assert_eq!(mmsc_records(&mmsc, "refused").len(), 1);
}

/// A TCP proxy between the MMSC and the gateway's MM7 listener. While
/// `hold` is set it forwards requests but keeps the gateway's answers: the
/// MMSC never sees them. `answered` is set when one arrives.
async fn start_proxy(
    target: SocketAddr,
    hold: Arc<AtomicBool>,
    answered: Arc<AtomicBool>,
) -> SocketAddr {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the proxy");
    let addr = listener.local_addr().expect("proxy address");
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            let (hold, answered) = (hold.clone(), answered.clone());
            tokio::spawn(async move {
                let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await else {
                    return;
                };
                if !hold.load(Ordering::SeqCst) {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    return;
                }
                let (mut in_read, _in_write) = inbound.into_split();
                let (mut out_read, mut out_write) = outbound.into_split();
                let forward = tokio::spawn(async move {
                    let _ = tokio::io::copy(&mut in_read, &mut out_write).await;
                    let _ = out_write.shutdown().await;
                });
                // The answer is read and dropped: the MMSC never gets it.
                let mut buffer = [0u8; 4096];
                if let Ok(n) = out_read.read(&mut buffer).await
                    && n > 0
                {
                    answered.store(true, Ordering::SeqCst);
                }
                // Hold the MMSC's connection open until the test is done
                // with the gateway; dropping it then is a lost answer.
                while hold.load(Ordering::SeqCst) {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                forward.abort();
            });
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill9_between_the_mmscs_post_and_the_answer_loses_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let smsc = start_sim(dir.path(), &[]);
    let (sink, events) = start_sink().await;
    let (jpeg_path, jpeg) = sample("sample.jpg");
    let (mp4_path, mp4) = sample("sample.mp4");
    let listen = loopback();
    let mmsc_addr = loopback();
    let (config, api) = mms_config(dir.path(), smsc.addr, sink, mmsc_addr, listen, "");
    let mut gateway = Gateway::start(&config, &api);
    wait_for_port(listen);
    let hold = Arc::new(AtomicBool::new(true));
    let answered = Arc::new(AtomicBool::new(false));
    let proxy = start_proxy(listen, hold.clone(), answered.clone()).await;
    let mo_file = write_mo_file(
        dir.path(),
        &[
            json!({"from": CUSTOMER, "to": FROM, "text": "Before the crash",
                 "media": [jpeg_path, mp4_path], "delay_ms": 0}),
        ],
    );
    let mmsc = start_mmsc(
        dir.path(),
        mmsc_addr,
        &format!("http://{proxy}/mm7"),
        &["--mo-file", &mo_file, "--mo-retry-ms", "300"],
    );
    // The gateway stored the MMS and answered; the answer is held back.
    wait_until(Duration::from_secs(30), "the gateway's answer", || {
        answered.load(Ordering::SeqCst)
    })
    .await;
    gateway.kill9();
    hold.store(false, Ordering::SeqCst);
    // The MMSC saw no answer: it posts again, to the gateway restarted.
    gateway.restart();
    wait_until(
        Duration::from_secs(60),
        "the MMSC's acknowledgement",
        || !mmsc_records(&mmsc, "mo_acked").is_empty(),
    )
    .await;
    assert!(mmsc_records(&mmsc, "mo_acked")[0]["attempts"].as_u64() >= Some(2));
    wait_until(Duration::from_secs(30), "the MMS at the core", || {
        !received(&events).is_empty()
    })
    .await;
    // Let resends settle: any duplicate would have come by now.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let all = received(&events);
    let ids: HashSet<&str> = all.iter().filter_map(|e| e["id"].as_str()).collect();
    assert_eq!(
        ids.len(),
        1,
        "one message, duplicates by event id only: {all:?}"
    );
    assert_eq!(all[0]["data"]["text"], "Before the crash");
    check_media(&all[0], &[("image/jpeg", &jpeg), ("video/mp4", &mp4)]).await;
}

/// The files of the media store (temporary files excluded).
fn stored_media(dir: &Path) -> usize {
    let root = dir.join("state/media");
    let Ok(shards) = std::fs::read_dir(&root) else {
        return 0;
    };
    shards
        .filter_map(Result::ok)
        .filter(|e| e.file_name() != "tmp")
        .filter_map(|e| std::fs::read_dir(e.path()).ok())
        .map(|files| files.count())
        .sum()
}

fn deliver_body(items: &[ContentItem]) -> (String, Vec<u8>) {
    let mut req = DeliverReq::new(Mm7Address::number(CUSTOMER));
    let mut recipients = Recipients::default();
    recipients.to.push(Mm7Address::number(FROM));
    req.recipients = Some(recipients);
    let envelope = Mm7Envelope::new(Mm7Version::Rel6_1_4, "t-1", Mm7Message::DeliverReq(req));
    encode_body(envelope, items, 1).expect("a deliver body")
}

fn item(content_type: &str, data: Vec<u8>) -> ContentItem {
    ContentItem {
        content_type: content_type.into(),
        content_id: format!("{}@test", data.len()),
        content_location: None,
        data,
    }
}

/// Posts to the gateway's MM7 listener; returns the HTTP status and the
/// MM7 status code of the Fault, if the answer is one.
async fn post_mm7(listen: SocketAddr, content_type: &str, body: Vec<u8>) -> (u16, Option<u16>) {
    let response = client()
        .post(format!("http://{listen}/any/path"))
        .header("Content-Type", content_type)
        .body(body)
        .send()
        .await;
    let Ok(response) = response else {
        // The gateway may close a connection whose body is over the limit
        // before it is all sent.
        return (0, None);
    };
    let status = response.status().as_u16();
    let body = response.bytes().await.unwrap_or_default();
    let code = match decode(&body).map(|e| e.message) {
        Ok(Mm7Message::Fault(fault)) => fault.detail.map(|d| d.error().status.code.as_u16()),
        _ => None,
    };
    (status, code)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_posts_are_refused_and_leave_nothing_stored() {
    let dir = tempfile::tempdir().expect("temp dir");
    let smsc = start_sim(dir.path(), &[]);
    let (sink, events) = start_sink().await;
    let listen = loopback();
    let (config, api) = mms_config(dir.path(), smsc.addr, sink, loopback(), listen, "");
    let _gateway = Gateway::start(&config, &api);
    wait_for_port(listen);
    let (_, jpeg) = sample("sample.jpg");

    // A truncated multipart.
    let (content_type, body) = deliver_body(&[item("image/jpeg", jpeg.clone())]);
    let cut = body[..body.len() / 2].to_vec();
    assert_eq!(
        post_mm7(listen, &content_type, cut).await,
        (500, Some(2007))
    );

    // A wrong boundary.
    let wrong = content_type.replace("boundary=\"", "boundary=\"x");
    assert_eq!(
        post_mm7(listen, &wrong, body.clone()).await,
        (500, Some(2007))
    );

    // An executable declared as image/jpeg, beside a real photo: the whole
    // message is refused, the photo not kept either.
    let executable = std::fs::read(BIN).expect("the gateway binary")[..64 * 1024].to_vec();
    let (content_type, body) = deliver_body(&[
        item("text/plain; charset=utf-8", b"see attached".to_vec()),
        item("image/jpeg", jpeg.clone()),
        item("image/jpeg", executable),
    ]);
    assert_eq!(
        post_mm7(listen, &content_type, body).await,
        (500, Some(2004))
    );

    // A 50 MB part, over [media] max_bytes (5 MiB): refused before it is
    // all read.
    let mut huge = jpeg.clone();
    huge.resize(50 * 1024 * 1024, 0);
    let (content_type, body) = deliver_body(&[item("image/jpeg", huge)]);
    let (status, _) = post_mm7(listen, &content_type, body).await;
    assert!(status == 413 || status == 0, "HTTP {status}");

    // Nothing of any of them was kept or told to the core.
    assert_eq!(stored_media(dir.path()), 0);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(received(&events).is_empty());

    // And a good one still goes through.
    let (content_type, body) = deliver_body(&[item("image/jpeg", jpeg.clone())]);
    assert_eq!(post_mm7(listen, &content_type, body).await, (200, None));
    wait_until(Duration::from_secs(10), "the good MMS", || {
        received(&events).len() == 1
    })
    .await;
    assert_eq!(stored_media(dir.path()), 1);
}
