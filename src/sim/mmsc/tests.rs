//! The simulator over real loopback sockets: a test VASP (a small hyper
//! server) receives the reports and MO, and `reqwest` plays the gateway's
//! submits. Each behaviour the gateway's MM7 tests rely on is checked end
//! to end here: ids, records, reports, refusals, corrupt bodies, MO with
//! real media and its retries, Basic auth.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use carrier_protocol::mime::MimeLimits;
use carrier_protocol::mm7::body::{ContentItem, decode_body, encode_body};
use carrier_protocol::mm7::{
    CancelReq, DeliverRsp, FaultDetail, Mm7Address, Mm7AddressKind, Mm7Envelope, Mm7Message,
    Mm7Status, Mm7StatusCode, Mm7Version, MmStatus, Recipients, SenderIdentification, StatusRsp,
    SubmitReq, decode, encode,
};
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use sha2::{Digest as _, Sha256};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use super::*;

const T: Duration = Duration::from_secs(5);

/// One post the test VASP received.
#[derive(Debug, Clone)]
struct VaspPost {
    content_type: String,
    soap_action: Option<String>,
    body: Bytes,
}

impl VaspPost {
    fn decode(&self) -> (Mm7Envelope, Vec<ContentItem>) {
        decode_body(&self.content_type, &self.body, MimeLimits::default()).expect("decodes")
    }
}

/// How the test VASP answers.
#[derive(Debug, Clone, Copy)]
struct VaspMode {
    /// Answer the first this-many posts with a bare HTTP 500.
    fail_first: usize,
    /// The status of its (HTTP 200) MM7 answers.
    status: Mm7StatusCode,
}

impl Default for VaspMode {
    fn default() -> Self {
        VaspMode {
            fail_first: 0,
            status: Mm7StatusCode::Success,
        }
    }
}

/// The gateway's MM7 listener, as the simulator sees it.
struct TestVasp {
    addr: SocketAddr,
    posts: Arc<Mutex<Vec<VaspPost>>>,
    changed: Arc<Notify>,
    task: JoinHandle<()>,
}

impl Drop for TestVasp {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TestVasp {
    async fn start(mode: VaspMode) -> TestVasp {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("binds");
        let addr = listener.local_addr().expect("addr");
        let posts = Arc::new(Mutex::new(Vec::new()));
        let changed = Arc::new(Notify::new());
        let (p, c) = (Arc::clone(&posts), Arc::clone(&changed));
        let task = tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                let (posts, changed) = (Arc::clone(&p), Arc::clone(&c));
                connections.spawn(async move {
                    let service = service_fn(move |request| {
                        let (posts, changed) = (Arc::clone(&posts), Arc::clone(&changed));
                        async move {
                            Ok::<_, std::convert::Infallible>(
                                answer(mode, &posts, &changed, request).await,
                            )
                        }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        TestVasp {
            addr,
            posts,
            changed,
            task,
        }
    }

    fn url(&self) -> String {
        format!("http://{}/mm7/inbound", self.addr)
    }

    fn posts(&self) -> Vec<VaspPost> {
        self.posts.lock().expect("lock").clone()
    }

    /// Waits (at most `T`) until at least `n` posts arrived.
    async fn wait_posts(&self, n: usize) -> Vec<VaspPost> {
        let deadline = tokio::time::Instant::now() + T;
        loop {
            let notified = self.changed.notified();
            let mut notified = std::pin::pin!(notified);
            notified.as_mut().enable();
            let posts = self.posts();
            if posts.len() >= n {
                return posts;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                panic!("{} of {n} posts arrived in {T:?}", self.posts().len());
            }
        }
    }
}

async fn answer(
    mode: VaspMode,
    posts: &Mutex<Vec<VaspPost>>,
    changed: &Notify,
    request: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let post = VaspPost {
        content_type: header("content-type").unwrap_or_default(),
        soap_action: header("soapaction"),
        body: Bytes::new(),
    };
    let body = request
        .into_body()
        .collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    let post = VaspPost { body, ..post };
    let index = {
        let mut posts = posts.lock().expect("lock");
        posts.push(post.clone());
        posts.len() - 1
    };
    changed.notify_waiters();
    if index < mode.fail_first {
        let mut response = Response::new(Full::new(Bytes::from_static(b"down")));
        *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        return response;
    }
    let (envelope, _) = post.decode();
    let status = Mm7Status::new(mode.status);
    let message = match envelope.message {
        Mm7Message::DeliverReq(_) => Mm7Message::DeliverRsp(DeliverRsp {
            status,
            service_code: None,
        }),
        Mm7Message::DeliveryReportReq(_) => Mm7Message::DeliveryReportRsp(StatusRsp { status }),
        other => panic!("the VASP got {other:?}"),
    };
    let xml = encode(&Mm7Envelope {
        message,
        ..envelope
    })
    .expect("encodes");
    let mut response = Response::new(Full::new(Bytes::from(xml)));
    response.headers_mut().insert(
        "content-type",
        hyper::header::HeaderValue::from_static("text/xml; charset=utf-8"),
    );
    response
}

fn config() -> MmscSimConfig {
    MmscSimConfig::new(SocketAddr::from(([127, 0, 0, 1], 0)))
}

async fn start(config: MmscSimConfig) -> MmscSim {
    spawn(config).await.expect("the simulator starts")
}

fn number(value: &str) -> Mm7Address {
    Mm7Address::number(value)
}

/// A Rel-5 submit (text `SenderAddress`, the `5.3.0` that carriers mix
/// with REL-5-MM7-1-2) to two recipients.
fn submit(transaction_id: &str, delivery_report: Option<bool>) -> Mm7Envelope {
    let sender = SenderIdentification {
        vasp_id: Some("acme".into()),
        vas_id: Some("support".into()),
        sender_address: Some(Mm7Address {
            kind: Mm7AddressKind::Plain,
            value: "+15551230001".into(),
            display_only: None,
        }),
    };
    let recipients = Recipients {
        to: vec![number("+15557654321")],
        cc: vec![number("+15557654322")],
        bcc: Vec::new(),
    };
    let mut req = SubmitReq::new(sender, recipients);
    req.delivery_report = delivery_report;
    req.subject = Some("Your order".into());
    req.linked_id = Some("mo-7".into());
    let mut envelope = Mm7Envelope::new(
        Mm7Version::Rel5_1_2,
        transaction_id,
        Mm7Message::SubmitReq(req),
    );
    envelope.mm7_version = Some("5.3.0".into());
    envelope
}

fn item(id: &str, content_type: &str, location: &str, data: &[u8]) -> ContentItem {
    ContentItem {
        content_type: content_type.to_owned(),
        content_id: id.to_owned(),
        content_location: Some(location.to_owned()),
        data: data.to_vec(),
    }
}

/// Some bytes that start like a PNG.
fn png() -> Vec<u8> {
    [
        &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A][..],
        &[7u8; 700],
    ]
    .concat()
}

fn sha256_hex(data: &[u8]) -> String {
    carrier_protocol::hex::encode(&Sha256::digest(data))
}

/// Posts a body to the simulator; returns the status, headers and body.
async fn post(
    sim: &MmscSim,
    content_type: &str,
    body: Vec<u8>,
    credentials: Option<(&str, &str)>,
) -> (StatusCode, reqwest::header::HeaderMap, Bytes) {
    let mut request = reqwest::Client::new()
        .post(format!("http://{}/mm7/any/path", sim.local_addr()))
        .header("content-type", content_type)
        .header("soapaction", "\"\"")
        .body(body);
    if let Some((user, password)) = credentials {
        request = request.basic_auth(user, Some(password));
    }
    let response = request.send().await.expect("the simulator answers");
    let status = StatusCode::from_u16(response.status().as_u16()).expect("status");
    let headers = response.headers().clone();
    (status, headers, response.bytes().await.expect("body"))
}

async fn post_envelope(sim: &MmscSim, envelope: Mm7Envelope) -> (StatusCode, Mm7Envelope) {
    let (content_type, body) = encode_body(envelope, &[], 1).expect("encodes");
    let (status, _, answer) = post(sim, &content_type, body, None).await;
    (status, decode(&answer).expect("the answer decodes"))
}

fn read_record(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|line| serde_json::from_str(line).expect("a record line is JSON"))
        .collect()
}

/// Waits (at most `T`) until the record file has a line of `kind`.
async fn record_line(path: &Path, kind: &str) -> Value {
    let deadline = tokio::time::Instant::now() + T;
    loop {
        if let Some(line) = read_record(path).into_iter().find(|l| l["kind"] == kind) {
            return line;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no {kind} line in {:?}",
            read_record(path)
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn fault_status(envelope: &Mm7Envelope) -> &Mm7Status {
    let Mm7Message::Fault(fault) = &envelope.message else {
        panic!("not a Fault: {envelope:?}")
    };
    let Some(FaultDetail::RsError(error)) = &fault.detail else {
        panic!("no RSErrorRsp in {fault:?}")
    };
    &error.status
}

#[tokio::test]
async fn a_submit_with_two_images_is_answered_recorded_and_reported() {
    let vasp = TestVasp::start(VaspMode::default()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let record = dir.path().join("record.jsonl");
    let mut config = config();
    config.deliver_to = Some(vasp.url());
    config.record = Some(record.clone());
    let sim = start(config).await;

    let items = [
        item("photo@vasp", "image/jpeg", "photo.jpg", sample_jpeg()),
        item("chart@vasp", "image/png", "chart.png", &png()),
        item(
            "words@vasp",
            "text/plain; charset=utf-8",
            "t.txt",
            b"Here it is",
        ),
    ];
    let (content_type, body) = encode_body(submit("tx-1", Some(true)), &items, 9).expect("encodes");
    let (status, headers, answer) = post(&sim, &content_type, body, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers["content-type"]
            .to_str()
            .is_ok_and(|t| t.starts_with("text/xml")),
        "{headers:?}"
    );
    let answer = decode(&answer).expect("a SOAP answer");
    assert_eq!(answer.transaction_id.as_deref(), Some("tx-1"));
    assert_eq!(
        answer.version,
        Mm7Version::Rel5_1_2,
        "answered in its namespace"
    );
    assert_eq!(answer.mm7_version.as_deref(), Some("5.3.0"));
    let Mm7Message::SubmitRsp(rsp) = &answer.message else {
        panic!("{answer:?}")
    };
    assert_eq!(rsp.status.code.as_u16(), 1000);
    assert_eq!(rsp.message_id.as_deref(), Some("mmsc-000001"));

    // What was recorded, in memory and in the file.
    let submits = sim.submits();
    assert_eq!(submits.len(), 1);
    let s = &submits[0];
    assert_eq!(s.message_id, "mmsc-000001");
    assert_eq!(s.namespace_release, "REL-5-MM7-1-2");
    assert_eq!(
        (s.vasp_id.as_deref(), s.vas_id.as_deref(), s.from.as_deref()),
        (Some("acme"), Some("support"), Some("+15551230001"))
    );
    assert_eq!(s.to, ["+15557654321", "+15557654322"]);
    assert_eq!(
        (
            s.subject.as_deref(),
            s.delivery_report,
            s.linked_id.as_deref()
        ),
        (Some("Your order"), Some(true), Some("mo-7"))
    );
    assert_eq!(s.text.as_deref(), Some("Here it is"));
    assert!(s.smil, "two images bring a SMIL part");
    assert_eq!(s.basic_user, None);
    let by_id = |id: &str| {
        s.items
            .iter()
            .find(|i| i.content_id == id)
            .unwrap_or_else(|| panic!("no {id} in {:?}", s.items))
    };
    assert_eq!(s.items.len(), 4, "SMIL, two images, text: {:?}", s.items);
    assert_eq!(by_id("photo@vasp").sha256, sha256_hex(sample_jpeg()));
    assert_eq!(by_id("photo@vasp").size, sample_jpeg().len());
    assert_eq!(
        by_id("photo@vasp").content_location.as_deref(),
        Some("photo.jpg")
    );
    assert_eq!(by_id("chart@vasp").sha256, sha256_hex(&png()));
    assert_eq!(by_id("chart@vasp").content_type, "image/png");
    assert_eq!(s.items[0].content_type, "application/smil");
    let line = record_line(&record, "submit").await;
    assert_eq!(line, {
        let mut expected = serde_json::to_value(s).expect("serializes");
        expected
            .as_object_mut()
            .expect("object")
            .insert("kind".into(), "submit".into());
        expected
    });
    assert_eq!(line["items"][1]["sha256"], sha256_hex(sample_jpeg()));

    // The delivery report.
    let posts = vasp.wait_posts(1).await;
    let report = &posts[0];
    assert_eq!(report.soap_action.as_deref(), Some("\"\""));
    assert!(report.content_type.starts_with("text/xml"), "{report:?}");
    let (envelope, _) = report.decode();
    assert_eq!(
        envelope.version,
        Mm7Version::Rel5_1_2,
        "in the submit's namespace"
    );
    assert_eq!(envelope.mm7_version.as_deref(), Some("5.3.0"));
    assert!(envelope.transaction_id.is_some());
    let Mm7Message::DeliveryReportReq(dr) = &envelope.message else {
        panic!("{envelope:?}")
    };
    assert_eq!(dr.message_id, "mmsc-000001");
    assert_eq!(dr.mm_status, MmStatus::Retrieved);
    assert_eq!(dr.recipient, number("+15557654321"));
    assert_eq!(
        dr.sender,
        number("+15551230001"),
        "a text sender becomes a Number"
    );
    assert!(humantime::parse_rfc3339(&dr.date).is_ok(), "{}", dr.date);
    let acked = record_line(&record, "report_acked").await;
    assert_eq!(
        (
            &acked["message_id"],
            &acked["mm_status"],
            &acked["attempts"]
        ),
        (
            &Value::from("mmsc-000001"),
            &Value::from("Retrieved"),
            &Value::from(1)
        )
    );
    let stats = sim.shutdown().await;
    assert_eq!(
        (
            stats.submits_accepted,
            stats.reports_sent,
            stats.reports_acked
        ),
        (1, 1, 1)
    );
}

#[tokio::test]
async fn fail_every_reports_rejected_and_only_asked_reports_are_sent() {
    let vasp = TestVasp::start(VaspMode::default()).await;
    let mut config = config();
    config.deliver_to = Some(vasp.url());
    config.fail_every = Some(1);
    let sim = start(config).await;
    let (status, _) = post_envelope(&sim, submit("no-report", Some(false))).await;
    assert_eq!(status, StatusCode::OK);
    let (status, answer) = post_envelope(&sim, submit("report", Some(true))).await;
    assert_eq!(status, StatusCode::OK);
    let Mm7Message::SubmitRsp(rsp) = &answer.message else {
        panic!("{answer:?}")
    };
    assert_eq!(rsp.message_id.as_deref(), Some("mmsc-000002"));
    let posts = vasp.wait_posts(1).await;
    let (envelope, _) = posts[0].decode();
    let Mm7Message::DeliveryReportReq(dr) = &envelope.message else {
        panic!("{envelope:?}")
    };
    assert_eq!(dr.message_id, "mmsc-000002");
    assert_eq!(dr.mm_status, MmStatus::Rejected);
    assert!(dr.status_text.is_some());
    sim.wait_for(T, |s| s.reports_acked == 1)
        .await
        .expect("acked");
    // Every report task has ended, and the first submit never had one.
    let deadline = tokio::time::Instant::now() + T;
    while sim.shared.pending_reports.available_permits() < MAX_PENDING_REPORTS {
        assert!(
            tokio::time::Instant::now() < deadline,
            "a report task is left"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert_eq!(vasp.posts().len(), 1);
}

#[tokio::test]
async fn refused_submits_and_corrupt_bodies_get_soap_faults() {
    let dir = tempfile::tempdir().expect("tempdir");
    let record = dir.path().join("record.jsonl");
    let mut config = config();
    config.refuse_every = Some(1);
    config.record = Some(record.clone());
    let sim = start(config).await;

    let (status, answer) = post_envelope(&sim, submit("tx-r", Some(true))).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(answer.transaction_id.as_deref(), Some("tx-r"));
    assert_eq!(answer.version, Mm7Version::Rel5_1_2);
    let refused = fault_status(&answer);
    assert_eq!(refused.code.as_u16(), 4006);
    assert!(refused.text.is_some());
    let Mm7Message::Fault(fault) = &answer.message else {
        unreachable!()
    };
    assert_eq!(fault.code_local_name(), "Server");
    assert_eq!(
        read_record(&record),
        [serde_json::json!({"kind": "refused", "transaction_id": "tx-r", "code": 4006})]
    );
    assert!(sim.submits().is_empty());

    // A multipart cut in half, one with another boundary, broken XML.
    let items = [item("p", "image/jpeg", "p.jpg", sample_jpeg())];
    let (content_type, body) = encode_body(submit("tx-c", None), &items, 3).expect("encodes");
    let half = body[..body.len() / 2].to_vec();
    let other_boundary = content_type.replacen("boundary=\"", "boundary=\"x", 1);
    let cases = [
        (content_type.as_str(), half, "truncated"),
        (other_boundary.as_str(), body, "boundary"),
        (
            "text/xml; charset=utf-8",
            b"<env:Envelope xmlns:env=\"http://schemas.xmlsoap.org/soap/envelope/\"><env:Body><Sub"
                .to_vec(),
            "",
        ),
    ];
    for (content_type, body, says) in cases {
        let (status, _, answer) = post(&sim, content_type, body, None).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        let answer = decode(&answer).expect("a SOAP Fault");
        let corrupt = fault_status(&answer);
        assert_eq!(corrupt.code, Mm7StatusCode::MessageFormatCorrupt);
        let text = corrupt.text.as_deref().unwrap_or_default();
        assert!(text.contains(says), "{text:?} should say {says:?}");
    }
    let stats = sim.shutdown().await;
    assert_eq!(
        (
            stats.submits_refused,
            stats.malformed,
            stats.submits_accepted
        ),
        (1, 3, 0)
    );
}

#[tokio::test]
async fn other_methods_operations_and_oversized_bodies_are_refused() {
    let mut config = config();
    config.max_body = 4096;
    let sim = start(config).await;
    let url = format!("http://{}/", sim.local_addr());
    let get = reqwest::get(&url).await.expect("answers");
    assert_eq!(get.status().as_u16(), 405);

    let cancel = Mm7Envelope::new(
        Mm7Version::Rel6_1_4,
        "tx-cancel",
        Mm7Message::CancelReq(CancelReq {
            sender_identification: None,
            message_id: "mmsc-000001".into(),
        }),
    );
    let (status, answer) = post_envelope(&sim, cancel).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        fault_status(&answer).code,
        Mm7StatusCode::UnsupportedOperation
    );
    assert_eq!(answer.transaction_id.as_deref(), Some("tx-cancel"));

    // Over max_body, with and without a Content-Length.
    let items = [item("p", "image/jpeg", "p.jpg", &[0xAB; 8192])];
    let (content_type, body) = encode_body(submit("tx-big", None), &items, 4).expect("encodes");
    let (status, _, _) = post(&sim, &content_type, body.clone(), None).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    // Chunked, with no length: refused once the limit is crossed, without
    // waiting for the rest (the body is never finished here).
    let mut stream = tokio::net::TcpStream::connect(sim.local_addr())
        .await
        .expect("connects");
    let head = format!(
        "POST /mm7 HTTP/1.1\r\nHost: mmsc\r\nContent-Type: {content_type}\r\n\
         Transfer-Encoding: chunked\r\n\r\n{:x}\r\n",
        5000
    );
    stream.write_all(head.as_bytes()).await.expect("writes");
    stream.write_all(&body[..5000]).await.expect("writes");
    stream.write_all(b"\r\n").await.expect("writes");
    let mut answer = Vec::new();
    let read_status_line = async {
        let mut buf = [0u8; 512];
        while !answer.windows(2).any(|w| w == b"\r\n") {
            let n = stream.read(&mut buf).await.expect("reads");
            assert!(n > 0, "closed without an answer");
            answer.extend_from_slice(&buf[..n]);
        }
    };
    tokio::time::timeout(T, read_status_line)
        .await
        .expect("answered in time");
    assert!(
        answer.starts_with(b"HTTP/1.1 413"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    sim.wait_for(T, |s| s.too_large == 2)
        .await
        .expect("counted");
    let stats = sim.shutdown().await;
    assert_eq!((stats.unsupported, stats.submits_accepted), (1, 0));
}

#[tokio::test]
async fn an_injected_mo_with_a_jpeg_and_an_mp4_arrives_on_the_third_attempt() {
    let vasp = TestVasp::start(VaspMode {
        fail_first: 2,
        ..VaspMode::default()
    })
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let record = dir.path().join("record.jsonl");
    let mut config = config();
    config.deliver_to = Some(vasp.url());
    config.mo_retry = Duration::from_millis(20);
    config.record = Some(record.clone());
    let sim = start(config).await;

    let mut mo = MoMms::new("+15557654321", "+15551230001");
    mo.text = Some("My screen is broken".into());
    mo.subject = Some("Help".into());
    mo.media = vec![
        mo_file::media_item("photo.jpg", sample_jpeg().to_vec()),
        mo_file::media_item("clip.mp4", sample_mp4().to_vec()),
    ];
    assert_eq!(sim.inject_mo(mo), Ok(0));
    let posts = vasp.wait_posts(3).await;
    assert_eq!(
        posts[0].body, posts[2].body,
        "the same request is posted again"
    );
    assert_eq!(posts[2].soap_action.as_deref(), Some("\"\""));
    let (envelope, items) = posts[2].decode();
    let Mm7Message::DeliverReq(req) = &envelope.message else {
        panic!("{envelope:?}")
    };
    assert_eq!(req.sender, number("+15557654321"));
    assert_eq!(
        req.recipients.as_ref().map(|r| r.to.clone()),
        Some(vec![number("+15551230001")])
    );
    assert_eq!(req.linked_id.as_deref(), Some("mo-1"));
    assert_eq!(
        req.mms_relay_server_id.as_deref(),
        Some("carrier-gateway-sim")
    );
    assert_eq!(req.subject.as_deref(), Some("Help"));
    assert!(
        req.time_stamp
            .as_deref()
            .is_some_and(|t| humantime::parse_rfc3339(t).is_ok())
    );
    let find = |content_type: &str| {
        items
            .iter()
            .find(|i| i.content_type.starts_with(content_type))
            .unwrap_or_else(|| panic!("no {content_type} in {items:?}"))
    };
    assert_eq!(find("image/jpeg").data, sample_jpeg());
    assert_eq!(
        find("image/jpeg").content_location.as_deref(),
        Some("photo.jpg")
    );
    assert_eq!(find("video/mp4").data, sample_mp4());
    assert_eq!(find("text/plain").data, b"My screen is broken");
    assert!(
        String::from_utf8_lossy(&find("application/smil").data).contains("<smil"),
        "a SMIL presentation"
    );
    let ids: std::collections::HashSet<&str> =
        items.iter().map(|i| i.content_id.as_str()).collect();
    assert_eq!(ids.len(), items.len(), "Content-IDs are unique: {items:?}");

    let acked = record_line(&record, "mo_acked").await;
    assert_eq!(
        acked,
        serde_json::json!({"kind": "mo_acked", "line": 0, "attempts": 3, "linked_id": "mo-1"})
    );
    let stats = sim.shutdown().await;
    assert_eq!((stats.mo_sent, stats.mo_acked, stats.mo_gave_up), (3, 1, 0));
}

#[tokio::test]
async fn configured_mo_go_first_in_order_and_unacknowledged_ones_are_given_up() {
    // The VASP answers 200, but with a failure status: never an ack.
    let vasp = TestVasp::start(VaspMode {
        fail_first: 0,
        status: Mm7StatusCode::ServiceUnavailable,
    })
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let record = dir.path().join("record.jsonl");
    let mut config = config();
    config.deliver_to = Some(vasp.url());
    config.mo_attempts = 2;
    config.mo_retry = Duration::from_millis(5);
    config.record = Some(record.clone());
    let mut first = MoMms::new("+15550000001", "+15551230001");
    first.text = Some("first".into());
    let mut second = MoMms::new("+15550000002", "+15551230001");
    second.text = Some("second".into());
    second.delay = Duration::from_millis(1);
    config.mo = vec![first, second];
    let sim = start(config).await;
    let mut third = MoMms::new("+15550000003", "+15551230001");
    third.media = vec![mo_file::media_item("p.jpg", sample_jpeg().to_vec())];
    assert_eq!(sim.inject_mo(third), Ok(2), "after the configured ones");

    let stats = sim
        .wait_for(T, |s| s.mo_gave_up == 3)
        .await
        .expect("all given up");
    assert_eq!((stats.mo_sent, stats.mo_acked), (6, 0));
    let senders: Vec<String> = vasp
        .posts()
        .iter()
        .map(|p| match p.decode().0.message {
            Mm7Message::DeliverReq(req) => req.sender.value,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        senders,
        [
            "+15550000001",
            "+15550000001",
            "+15550000002",
            "+15550000002",
            "+15550000003",
            "+15550000003"
        ]
    );
    let lines: Vec<Value> = read_record(&record);
    assert_eq!(
        lines,
        (0..3)
            .map(|line| serde_json::json!({"kind": "mo_gave_up", "line": line, "attempts": 2}))
            .collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn basic_auth_is_required_when_configured() {
    let mut config = config();
    config.credentials = Some(("vasp".into(), "s3cret".into()));
    let sim = start(config).await;
    let (content_type, body) = encode_body(submit("tx-a", None), &[], 1).expect("encodes");
    for credentials in [None, Some(("vasp", "wrong")), Some(("other", "s3cret"))] {
        let (status, headers, _) = post(&sim, &content_type, body.clone(), credentials).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{credentials:?}");
        assert_eq!(headers["www-authenticate"], "Basic realm=\"mmsc\"");
    }
    let (status, _, _) = post(&sim, &content_type, body, Some(("vasp", "s3cret"))).await;
    assert_eq!(status, StatusCode::OK);
    let submits = sim.submits();
    assert_eq!(submits.len(), 1);
    assert_eq!(submits[0].basic_user.as_deref(), Some("vasp"));
    let stats = sim.shutdown().await;
    assert_eq!((stats.unauthorized, stats.submits_accepted), (3, 1));
}

#[tokio::test]
async fn without_a_vasp_nothing_is_sent_and_bad_settings_are_refused() {
    let sim = start(config()).await;
    let mut mo = MoMms::new("+1", "+2");
    mo.text = Some("x".into());
    assert_eq!(sim.inject_mo(mo), Err(InjectError::NoVasp));
    let (status, _) = post_envelope(&sim, submit("tx", Some(true))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(sim.shutdown().await.reports_sent, 0);

    let mut bad = config();
    bad.deliver_to = Some("ftp://example.invalid/".into());
    let error = spawn(bad).await.expect_err("not http");
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
    let mut bad = config();
    bad.refuse_code = 1000;
    let error = spawn(bad).await.expect_err("a success is no refusal");
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
}
