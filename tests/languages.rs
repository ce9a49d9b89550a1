//! Texts in Spanish, Turkish, Hindi, Chinese and emoji keep their expected
//! segment counts both ways (issue 16, item 5): sent through the API to a
//! carrier that supports the Turkish, Spanish and Hindi shift tables, and
//! received from a simulator that encodes its MO texts with the same
//! tables; the gateway picks the encoding with the fewest segments and
//! decodes each received text back exactly.

mod common;

use std::time::Duration;

use common::*;
use serde_json::{Value, json};

/// (name, text, encoding and segments with the three tables, segments in
/// UCS-2). Why each count:
/// - Spanish, 107 characters: ó, á and ú are in its single shift table (two
///   septets each): 112 septets, one 7-bit part (UCS-2: two).
/// - Turkish, 108: ş, ı and ğ from its tables: one 7-bit part (UCS-2: two).
/// - Hindi, 104 Devanagari characters: its locking shift table: one part
///   (UCS-2: two).
/// - Chinese, 84: no table has them: UCS-2, two parts of at most 67.
/// - 40 emoji, 80 UTF-16 units, never split inside a pair: two parts.
fn cases() -> Vec<(&'static str, String, &'static str, u64)> {
    vec![
        (
            "spanish",
            "¿Dónde está mi pedido? Según el número de seguimiento llegará mañana a las diez. \
             ¡Gracias por su paciencia!"
                .to_owned(),
            "gsm7",
            1,
        ),
        (
            "turkish",
            "Siparişiniz yarın öğleden sonra teslim edilecek. Kargo takip numaranızla durumu \
             görebilirsiniz. Teşekkürler!"
                .to_owned(),
            "gsm7",
            1,
        ),
        (
            "hindi",
            "आपका ऑर्डर कल शाम तक पहुंच जाएगा। कृपया अपना फ़ोन चालू रखें। किसी भी सवाल के लिए हमें जवाब दें। धन्यवाद!"
                .to_owned(),
            "gsm7",
            1,
        ),
        (
            "chinese",
            "您好，您的订单已经发货，预计明天下午送达。如果您有任何问题，请直接回复这条短信，\
             我们的客服人员会尽快与您联系。感谢您选择我们的服务，祝您生活愉快！再次感谢您的耐心等待。"
                .to_owned(),
            "ucs2",
            2,
        ),
        ("emoji", "👍".repeat(40), "ucs2", 2),
    ]
}

const TABLES: &str = "national_languages = [\"turkish\", \"spanish\", \"hindi\"]\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_language_keeps_its_segment_count_both_ways() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cases = cases();
    let customer = |k: usize| format!("+1777000{k:04}");
    let mo: String = cases
        .iter()
        .enumerate()
        .map(|(k, (_, text, _, _))| {
            format!(
                "{}\n",
                json!({"from": customer(k), "to": FROM, "text": text, "delay_ms": 100})
            )
        })
        .collect();
    let mo_file = dir.path().join("mo.jsonl");
    std::fs::write(&mo_file, mo).expect("write the MO file");
    let sim = start_sim(
        dir.path(),
        &[
            "--mo-file",
            &mo_file.display().to_string(),
            "--mo-national-languages",
            "turkish,spanish,hindi",
        ],
    );
    let (sink, events) = start_sink().await;
    let (config, api) = write_config(dir.path(), sim.addr, sink, "");
    let text = std::fs::read_to_string(&config).expect("config");
    std::fs::write(
        &config,
        text.replace("window = 64\n", &format!("window = 64\n{TABLES}")),
    )
    .expect("write the config");
    let _gateway = Gateway::start(&config, &api);

    // Out: the API's answer, and what reached the carrier.
    let mut ids = Vec::new();
    for (k, (name, text, encoding, segments)) in cases.iter().enumerate() {
        let accepted =
            post_message(&api, json!({"from": FROM, "to": customer(k), "text": text})).await;
        assert_eq!(accepted["encoding"], *encoding, "{name}: {accepted}");
        assert_eq!(accepted["segments"], *segments, "{name}: {accepted}");
        ids.push(accepted["id"].as_str().expect("an id").to_owned());
    }
    wait_for_status(&api, &ids, "delivered", Duration::from_secs(30)).await;
    let records = sim_records(&sim);
    for (k, (name, _, encoding, segments)) in cases.iter().enumerate() {
        let digits = customer(k).trim_start_matches('+').to_owned();
        let submits: Vec<&Value> = records
            .iter()
            .filter(|r| r["destination_addr"] == digits)
            .collect();
        assert_eq!(submits.len() as u64, *segments, "{name}: {submits:?}");
        let data_coding = if *encoding == "gsm7" { 0 } else { 8 };
        assert!(
            submits.iter().all(|r| r["data_coding"] == data_coding),
            "{name}: {submits:?}"
        );
    }

    // In: every text arrives whole, decoded exactly, with its count.
    wait_until(Duration::from_secs(30), "every MO message", || {
        events
            .all()
            .iter()
            .filter(|e| e["type"] == "message.received")
            .count()
            >= cases.len()
    })
    .await;
    let received: Vec<Value> = events
        .all()
        .into_iter()
        .filter(|e| e["type"] == "message.received")
        .collect();
    for (k, (name, text, encoding, segments)) in cases.iter().enumerate() {
        let event = received
            .iter()
            .find(|e| e["data"]["from"] == customer(k))
            .unwrap_or_else(|| panic!("{name}: not received: {received:?}"));
        let data = &event["data"];
        assert_eq!(data["text"], *text, "{name}: {data}");
        assert_eq!(data["encoding"], *encoding, "{name}: {data}");
        assert_eq!(data["segments"], *segments, "{name}: {data}");
    }
}

/// Without the tables the same texts cost what UCS-2 costs: two parts
/// each, except what fits GSM 03.38 as it is (none here).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_tables_the_national_texts_go_as_ucs2() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sim = start_sim(dir.path(), &[]);
    let (sink, _events) = start_sink().await;
    let (config, api) = write_config(dir.path(), sim.addr, sink, "");
    let _gateway = Gateway::start(&config, &api);
    for (k, (name, text, _, _)) in cases().iter().enumerate() {
        let accepted = post_message(
            &api,
            json!({"from": FROM, "to": format!("+1777100{k:04}"), "text": text}),
        )
        .await;
        assert_eq!(accepted["encoding"], "ucs2", "{name}: {accepted}");
        assert_eq!(accepted["segments"], 2, "{name}: {accepted}");
    }
}
