//! The media store through the API, against the real binary: an upload is
//! checked against its bytes, stored and fsync'd before its `201` (it
//! survives a `kill -9` right after), served whole and by `Range`, and by
//! a signed link without the token until the link expires; an executable
//! declared as `image/jpeg`, a video declared as an image, an empty body
//! and a body over `[media] max_bytes` are refused with the contract's
//! JSON and leave nothing behind.

mod common;

use std::time::Duration;

use common::*;
use serde_json::Value;

fn jpeg(n: usize) -> Vec<u8> {
    let mut bytes = vec![
        0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0,
    ];
    bytes.extend((0..n).map(|i| (i * 7 % 256) as u8));
    bytes
}

async fn upload(api: &str, content_type: &str, body: Vec<u8>) -> (u16, Value) {
    let response = client()
        .post(format!("{api}/v1/media"))
        .bearer_auth(TOKEN)
        .header("Content-Type", content_type)
        .body(body)
        .send()
        .await
        .expect("POST /v1/media");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn media_files(dir: &std::path::Path) -> usize {
    let root = dir.join("state/media");
    let mut count = 0;
    for entry in std::fs::read_dir(&root).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            count += std::fs::read_dir(&path).into_iter().flatten().count();
        }
    }
    count
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn media_are_stored_durably_and_served_by_token_range_or_signed_link() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sim = start_sim(dir.path(), &[]);
    let (sink, _events) = start_sink().await;
    let extra = "\n[media]\nmax_bytes = 200000\nurl_ttl = \"3s\"\n";
    let (config, api) = write_config(dir.path(), sim.addr, sink, extra);
    let mut gateway = Gateway::start(&config, &api);

    let photo = jpeg(150_000);
    let (status, stored) = upload(&api, "image/jpeg", photo.clone()).await;
    assert_eq!(status, 201, "{stored}");
    assert_eq!(stored["content_type"], "image/jpeg");
    assert_eq!(stored["size"], photo.len());
    assert_eq!(stored["sha256"], sha256_hex(&photo));
    let id = stored["id"].as_str().expect("id").to_owned();
    let link = stored["url"].as_str().expect("a signed link").to_owned();

    // Acknowledged means durable: a kill -9 right after loses nothing.
    gateway.kill9();
    gateway.restart();

    let whole = client()
        .get(format!("{api}/v1/media/{id}"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("GET");
    assert_eq!(whole.status().as_u16(), 200);
    assert_eq!(whole.headers()["content-type"], "image/jpeg");
    assert_eq!(whole.headers()["accept-ranges"], "bytes");
    assert_eq!(whole.headers()["x-content-type-options"], "nosniff");
    assert_eq!(
        whole.bytes().await.expect("body").as_ref(),
        photo.as_slice()
    );

    let part = client()
        .get(format!("{api}/v1/media/{id}"))
        .bearer_auth(TOKEN)
        .header("Range", "bytes=1000-1999")
        .send()
        .await
        .expect("GET range");
    assert_eq!(part.status().as_u16(), 206);
    assert_eq!(
        part.headers()["content-range"],
        format!("bytes 1000-1999/{}", photo.len()).as_str()
    );
    assert_eq!(
        part.bytes().await.expect("body").as_ref(),
        &photo[1000..2000]
    );
    let unsatisfiable = client()
        .get(format!("{api}/v1/media/{id}"))
        .bearer_auth(TOKEN)
        .header("Range", format!("bytes={}-", photo.len()))
        .send()
        .await
        .expect("GET range");
    assert_eq!(unsatisfiable.status().as_u16(), 416);

    // The signed link works without the token ...
    let signed = client().get(&link).send().await.expect("GET link");
    assert_eq!(signed.status().as_u16(), 200);
    assert_eq!(
        signed.bytes().await.expect("body").as_ref(),
        photo.as_slice()
    );
    // ... not for another id, not without the token otherwise ...
    let other = link.replace(&id, "med_00000000000000000000000000000000");
    assert_eq!(
        client()
            .get(&other)
            .send()
            .await
            .expect("GET")
            .status()
            .as_u16(),
        401
    );
    let bare = client()
        .get(format!("{api}/v1/media/{id}"))
        .send()
        .await
        .expect("GET");
    assert_eq!(bare.status().as_u16(), 401);
    // ... and not once it has expired.
    tokio::time::sleep(Duration::from_millis(3_200)).await;
    assert_eq!(
        client()
            .get(&link)
            .send()
            .await
            .expect("GET")
            .status()
            .as_u16(),
        401
    );

    let unknown = client()
        .get(format!(
            "{api}/v1/media/med_ffffffffffffffffffffffffffffffff"
        ))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("GET");
    assert_eq!(unknown.status().as_u16(), 404);
    let unknown: Value = unknown.json().await.expect("JSON");
    assert_eq!(unknown["error"]["code"], "unknown_media");

    // Refusals: the contract's JSON, and nothing stored.
    let files_before = media_files(dir.path());
    let mut exe = b"MZ\x90\x00\x03\x00\x00\x00".to_vec();
    exe.extend(vec![0u8; 4096]);
    let (status, refused) = upload(&api, "image/jpeg", exe).await;
    assert_eq!(
        (status, &refused["error"]["code"]),
        (415, &Value::from("media_type_not_allowed")),
        "{refused}"
    );
    let mp4 = b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom".repeat(10);
    let (status, refused) = upload(&api, "image/png", mp4).await;
    assert_eq!(
        (status, &refused["error"]["code"]),
        (415, &Value::from("media_type_not_allowed")),
        "{refused}"
    );
    let untyped = client()
        .post(format!("{api}/v1/media"))
        .bearer_auth(TOKEN)
        .body(jpeg(100))
        .send()
        .await
        .expect("POST");
    assert_eq!(untyped.status().as_u16(), 415, "a Content-Type is required");
    let (status, refused) = upload(&api, "image/jpeg", Vec::new()).await;
    assert_eq!(
        (status, &refused["error"]["code"]),
        (400, &Value::from("empty_media")),
        "{refused}"
    );
    let (status, refused) = upload(&api, "image/jpeg", jpeg(300_000)).await;
    assert_eq!(
        (status, &refused["error"]["code"]),
        (413, &Value::from("media_too_large")),
        "{refused}"
    );
    assert_eq!(media_files(dir.path()), files_before);
    let tmp = std::fs::read_dir(dir.path().join("state/media/tmp"))
        .expect("tmp")
        .count();
    assert_eq!(tmp, 0, "no half-written upload stays");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn media_in_a_message_go_as_links_and_internal_urls_are_never_fetched() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sim = start_sim(dir.path(), &[]);
    let (sink, _events) = start_sink().await;
    let extra = "\n[media]\npublic_url = \"https://gw.example.net\"\n\
                 fetch_hosts = [\"127.0.0.1\", \"10.0.0.1\", \"localhost\"]\nfetch_timeout = \"3s\"\n";
    let (config, api) = write_config(dir.path(), sim.addr, sink, extra);
    let _gateway = Gateway::start(&config, &api);
    let (status, stored) = upload(&api, "image/jpeg", jpeg(2_000)).await;
    assert_eq!(status, 201, "{stored}");
    let id = stored["id"].as_str().expect("id").to_owned();

    let customer = "+15557654321";
    let sent = post_message(
        &api,
        serde_json::json!({"from": FROM, "to": customer, "text": "Your diagram:", "media": [{"id": id}]}),
    )
    .await;
    let message_id = sent["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{sent}"))
        .to_owned();
    wait_for_status(
        &api,
        std::slice::from_ref(&message_id),
        "delivered",
        Duration::from_secs(20),
    )
    .await;
    let message = get_message(&api, &message_id).await;
    assert_eq!(message["fallback"], "sms_link", "{message}");
    assert_eq!(message["media"], serde_json::json!([id]));
    let texts: Vec<String> = sim_records(&sim).iter().map(record_text).collect();
    assert_eq!(texts.len(), 1, "text and link fit one SMS: {texts:?}");
    assert!(
        texts[0].starts_with("Your diagram:\nhttps://gw.example.net/v1/media/"),
        "{texts:?}"
    );
    assert!(texts[0].contains(&id), "{texts:?}");

    // URLs at internal addresses are refused before any connection, by
    // literal or by name, whatever the allow-list says.
    for url in [
        "https://127.0.0.1/x.jpg",
        "https://10.0.0.1/x.jpg",
        "https://localhost/x.jpg",
        "http://127.0.0.1/x.jpg",
        "https://cdn.elsewhere.test/x.jpg",
    ] {
        let refused = post_message(
            &api,
            serde_json::json!({"from": FROM, "to": customer, "text": "x", "media": [{"url": url}]}),
        )
        .await;
        assert_eq!(
            refused["error"]["code"], "media_unavailable",
            "{url}: {refused}"
        );
    }
    let unknown = post_message(
        &api,
        serde_json::json!({"from": FROM, "to": customer, "media": [{"id": "med_00000000000000000000000000000000"}]}),
    )
    .await;
    assert_eq!(unknown["error"]["code"], "unknown_media", "{unknown}");

    // A repeated request with its client_ref gets the first answer, also
    // in a batch, and a batch that uses one client_ref twice sends once.
    let request = serde_json::json!({"from": FROM, "to": customer, "text": "Again:",
        "media": [{"id": id}], "client_ref": "media-once"});
    let first = post_message(&api, request.clone()).await;
    let again = post_message(&api, request.clone()).await;
    assert_eq!(first["id"], again["id"], "{first} {again}");
    let twice = client()
        .post(format!("{api}/v1/messages/batch"))
        .bearer_auth(TOKEN)
        .json(&serde_json::json!({"messages": [
            {"from": FROM, "to": customer, "text": "batch", "client_ref": "batch-once"},
            {"from": FROM, "to": customer, "text": "batch", "client_ref": "batch-once"},
            {"from": FROM, "to": customer, "text": "other", "client_ref": "batch-once"},
        ]}))
        .send()
        .await
        .expect("POST batch");
    let twice: Value = twice.json().await.expect("JSON");
    let results = twice["results"].as_array().expect("results");
    assert_eq!(results[0]["id"], results[1]["id"], "{twice}");
    assert_eq!(
        results[2]["error"]["code"], "duplicate_client_ref",
        "{twice}"
    );
}
