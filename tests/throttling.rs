//! Carrier throttling end to end: every message still delivered once, the
//! retries and throttles visible in the metrics, the binds slowing down,
//! and a conversation kept in order through throttling and a crash
//! (issue 5).

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_every_third_submit_throttled_each_message_is_delivered_once_and_binds_slow_down() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sim = start_sim(dir.path(), &["--throttle-every", "3"]);
    let (sink, _events) = start_sink().await;
    let (config, api) = write_config(dir.path(), sim.addr, sink, "");
    let _gateway = Gateway::start(&config, &api);

    let ids = send_batches(&api, 300, 100, "throttled").await;
    // Watch the binds' paced rate while the messages go out.
    let mut lowest_limit = f64::INFINITY;
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let body = metrics_text(&config).await;
        for line in body
            .lines()
            .filter(|l| l.starts_with("carrier_gateway_bind_rate_limit{"))
        {
            if let Some(v) = line.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok())
                && v > 0.0
            {
                lowest_limit = lowest_limit.min(v);
            }
        }
        let delivered = metric_sum(
            &body,
            "carrier_gateway_messages_total",
            &["status=\"delivered\""],
        );
        if delivered >= 300.0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "only {delivered} of 300 delivered"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    wait_for_status(&api, &ids[..20], "delivered", Duration::from_secs(10)).await;

    let texts = accepted_texts(&sim);
    assert_eq!(texts.len(), 300, "every message reached the simulator");
    assert!(texts.values().all(|&n| n == 1), "none accepted twice");

    let body = metrics_text(&config).await;
    // 300 accepted submits mean at least 149 throttled ones (every third
    // of at least 449 submits).
    let throttled = metric_sum(
        &body,
        "carrier_gateway_retries_total",
        &["reason=\"throttled\""],
    );
    assert!(throttled >= 149.0, "throttled retries: {throttled}\n{body}");
    let throttles = metric_sum(&body, "carrier_gateway_throttles_total", &[]);
    assert_eq!(throttles, throttled);
    let decreases = metric_sum(&body, "carrier_gateway_bind_rate_decreases_total", &[]);
    assert!(decreases >= 1.0, "the binds never slowed down\n{body}");
    assert!(
        lowest_limit.is_finite(),
        "no bind ever reported a paced rate"
    );
    // The submits at the simulator: throttling slowed them down from the
    // first burst (a window per bind) to the paced rate.
    let mut times: Vec<u64> = sim_records(&sim)
        .iter()
        .filter_map(|r| r["at_ms"].as_u64())
        .collect();
    times.sort_unstable();
    let span = times.last().copied().unwrap_or(0) - times.first().copied().unwrap_or(0);
    assert!(
        span >= 1_000,
        "300 throttled messages went out in {span} ms"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_messages_to_one_customer_arrive_in_order_through_throttling_and_a_crash() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sim = start_sim(dir.path(), &["--throttle-every", "25"]);
    let (sink, _events) = start_sink().await;
    let (config, api) = write_config(dir.path(), sim.addr, sink, "");
    let mut gateway = Gateway::start(&config, &api);

    let customer = "+16665550100";
    let client = client();
    let mut ids = Vec::new();
    for batch in 0..10 {
        let messages: Vec<Value> = (0..100)
            .map(|i| json!({"from": FROM, "to": customer, "text": format!("n{}", batch * 100 + i)}))
            .collect();
        ids.extend(post_batch(&client, &api, messages).await);
    }
    assert_eq!(ids.len(), 1000);
    // Crash the gateway part way through, then start it again.
    wait_until(Duration::from_secs(60), "300 submits", || {
        sim_records(&sim).len() >= 300
    })
    .await;
    gateway.kill9();
    gateway.restart();
    wait_until(Duration::from_secs(120), "all 1000 submitted", || {
        accepted_texts(&sim).len() >= 1000
    })
    .await;

    // In the simulator's arrival order (its record file), each message
    // first arrives after every message before it. A resend after the
    // crash may repeat what was in flight, never jump ahead.
    let records = sim_records(&sim);
    let mut next = 0usize;
    let mut repeats = 0usize;
    for record in &records {
        assert_eq!(record["destination_addr"], customer.trim_start_matches('+'));
        let text = record_text(record);
        let n: usize = text
            .trim_start_matches('n')
            .parse()
            .unwrap_or_else(|_| panic!("unexpected text {text:?}"));
        if n == next {
            next += 1;
        } else {
            assert!(n < next, "message {n} arrived before message {next}");
            repeats += 1;
        }
    }
    assert_eq!(next, 1000);
    assert!(repeats <= 64, "{repeats} resent after the crash");
    wait_for_status(&api, &ids[990..], "delivered", Duration::from_secs(30)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_queued_for_a_retired_carrier_follow_their_number_to_its_new_one() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sim = start_sim(dir.path(), &[]);
    let (sink, _events) = start_sink().await;
    let extra = format!(
        "\n[[carriers]]\nname = \"beta\"\nprotocol = \"smpp\"\nhost = \"127.0.0.1\"\nport = {}\n\
         system_id = \"gw\"\npassword = \"secret\"\n",
        sim.addr.port()
    );
    let (config, api) = write_config(dir.path(), sim.addr, sink, &extra);
    // acme points nowhere: its messages stay queued.
    let dead = free_port();
    let text = std::fs::read_to_string(&config).expect("config");
    let first_port = format!("port = {}\nsystem_id", sim.addr.port());
    let text = text.replacen(&first_port, &format!("port = {dead}\nsystem_id"), 1);
    std::fs::write(&config, &text).expect("config");
    let mut gateway = Gateway::start(&config, &api);

    let customer = "+16665550200";
    let stranded = [
        send_one(&api, FROM, customer, "via acme 1").await,
        send_one(&api, FROM, customer, "via acme 2").await,
    ];
    assert_eq!(get_message(&api, &stranded[0]).await["status"], "queued");
    if let Some(p) = gateway.process.as_mut() {
        assert!(p.terminate().is_some_and(|s| s.success()));
    }

    // The operator retires acme and moves the number to beta.
    let text = text
        .replace("name = \"acme\"", "name = \"retired\"")
        .replace(
            &format!("number = \"{FROM}\"\ncarrier = \"acme\""),
            &format!("number = \"{FROM}\"\ncarrier = \"beta\""),
        );
    std::fs::write(&config, text).expect("config");
    gateway.restart();

    // The two messages queued for the retired carrier follow the number to
    // beta (nothing of them had gone), and the conversation goes on after
    // them, in order.
    wait_for_status(&api, &stranded, "delivered", Duration::from_secs(10)).await;
    for id in &stranded {
        assert_eq!(get_message(&api, id).await["carrier"], "beta");
    }
    let next = send_one(&api, FROM, customer, "via beta").await;
    wait_for_status(&api, &[next], "delivered", Duration::from_secs(10)).await;
    let texts: Vec<String> = sim_records(&sim)
        .iter()
        .map(record_text)
        .filter(|t| t.starts_with("via "))
        .collect();
    assert_eq!(texts, ["via acme 1", "via acme 2", "via beta"]);
}

/// Issue 15's worst defect: under `--throttle-every 3`, 3-segment messages
/// on one bind stopped after 510 submits (340 accepted, 170 throttled) and
/// the throttled segments were never retried. Segments accepted for a
/// message still in flight were never written, so no group commit was
/// asked for, the count of accepted-but-unsynced segments reached its
/// bound, and the dispatcher stopped handing out work for good.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_segment_messages_under_throttling_all_get_through() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sim = start_sim(dir.path(), &["--throttle-every", "3"]);
    let (sink, _events) = start_sink().await;
    let (config, api) = write_config(dir.path(), sim.addr, sink, "");
    let text = std::fs::read_to_string(&config).expect("config");
    std::fs::write(&config, text.replacen("binds = 2", "binds = 1", 1)).expect("config");
    let _gateway = Gateway::start(&config, &api);

    let long = "three segments of GSM text ".repeat(15);
    assert!(long.len() > 306 && long.len() <= 459, "3 GSM segments");
    let client = client();
    let messages: Vec<Value> = (0..200)
        .map(|i| json!({"from": FROM, "to": format!("+1555765{i:04}"), "text": long}))
        .collect();
    let ids = post_batch(&client, &api, messages).await;
    assert_eq!(ids.len(), 200);
    wait_for_status(&api, &ids, "delivered", Duration::from_secs(60)).await;
    let records = sim_records(&sim);
    assert_eq!(records.len(), 600, "every segment accepted once");
}

/// A carrier that throttles beyond a rate (`--max-rate`, as carriers do):
/// the bind's adaptive rate settles just under it. Over a minute after a
/// 10 s start: within 20 % of the carrier's rate, and throttled submits
/// under 5 % of all submits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_adaptive_rate_converges_to_a_carriers_max_rate() {
    const MAX_RATE: f64 = 100.0;
    let dir = tempfile::tempdir().expect("temp dir");
    let sim = start_sim(dir.path(), &["--max-rate", "100", "--no-receipts"]);
    let (sink, _events) = start_sink().await;
    let (config, api) = write_config(dir.path(), sim.addr, sink, "");
    let text = std::fs::read_to_string(&config).expect("config");
    std::fs::write(&config, text.replacen("binds = 2", "binds = 1", 1)).expect("config");
    let _gateway = Gateway::start(&config, &api);
    let client = client();
    for batch in 0..80 {
        let messages: Vec<Value> = (0..100)
            .map(|i| json!({"from": FROM, "to": format!("+1555765{:04}", i), "text": format!("rate {batch} {i}")}))
            .collect();
        assert_eq!(post_batch(&client, &api, messages).await.len(), 100);
    }
    let start = Instant::now();
    let throttled = |body: &str| {
        metric_sum(
            body,
            "carrier_gateway_retries_total",
            &["reason=\"throttled\""],
        )
    };
    tokio::time::sleep(Duration::from_secs(10)).await;
    let from_ms = sim_records(&sim)
        .iter()
        .filter_map(|r| r["at_ms"].as_u64())
        .max()
        .unwrap_or(0);
    let throttled_before = throttled(&metrics_text(&config).await);
    tokio::time::sleep(Duration::from_secs(60)).await;
    let records = sim_records(&sim);
    let to_ms = records
        .iter()
        .filter_map(|r| r["at_ms"].as_u64())
        .max()
        .unwrap_or(0);
    let throttled_in = throttled(&metrics_text(&config).await) - throttled_before;
    let accepted_in = records
        .iter()
        .filter_map(|r| r["at_ms"].as_u64())
        .filter(|&at| at > from_ms && at <= to_ms)
        .count() as f64;
    let rate = accepted_in / ((to_ms - from_ms) as f64 / 1000.0);
    let share = throttled_in / (accepted_in + throttled_in);
    eprintln!(
        "max-rate {MAX_RATE}: {rate:.1} msg/s accepted, {throttled_in} throttled of {} submits ({:.2} %) over {:.1} s",
        accepted_in + throttled_in,
        share * 100.0,
        (to_ms - from_ms) as f64 / 1000.0
    );
    assert!(start.elapsed() >= Duration::from_secs(70));
    assert!(
        (0.8 * MAX_RATE..=1.05 * MAX_RATE).contains(&rate),
        "{rate} msg/s against a carrier's {MAX_RATE}"
    );
    assert!(share < 0.05, "{:.2} % of submits throttled", share * 100.0);
}

/// Sends `n` messages of three GSM segments each (batches of 100) and
/// returns their ids with their texts.
async fn send_three_part(api: &str, n: usize, tag: &str) -> Vec<(String, String)> {
    let client = client();
    let mut sent = Vec::new();
    for start in (0..n).step_by(100) {
        let texts: Vec<String> = (start..(start + 100).min(n))
            .map(|i| format!("{tag} {i:05} {}", "three segments of GSM text ".repeat(14)))
            .collect();
        let messages: Vec<Value> = texts
            .iter()
            .enumerate()
            .map(|(k, t)| json!({"from": FROM, "to": format!("+1555{:07}", start + k), "text": t}))
            .collect();
        let ids = post_batch(&client, api, messages).await;
        sent.extend(ids.into_iter().zip(texts));
    }
    sent
}

/// How many times each segment reached the simulator, by the message's
/// recipient (one per message here) and the segment's number.
fn segments_seen(sim: &Sim) -> std::collections::HashMap<(u16, u8), usize> {
    let mut seen = std::collections::HashMap::new();
    for record in sim_records(sim) {
        let Some([_, _, seq]) = record["udh_concat"]
            .as_array()
            .map(|a| [a[0].as_u64(), a[1].as_u64(), a[2].as_u64()])
        else {
            continue;
        };
        let to: u64 = record["destination_addr"]
            .as_str()
            .and_then(|d| d.get(d.len().saturating_sub(7)..))
            .and_then(|d| d.parse().ok())
            .unwrap_or(u64::MAX);
        *seen.entry((to as u16, seq.unwrap_or(0) as u8)).or_insert(0) += 1;
    }
    seen
}

/// 3,000 messages of three segments under a carrier's rate limit: every
/// segment reaches the simulator exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_thousand_three_part_messages_under_a_max_rate_arrive_exactly_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sim = start_sim(dir.path(), &["--max-rate", "400", "--no-receipts"]);
    let (sink, _events) = start_sink().await;
    let (config, api) = write_config(dir.path(), sim.addr, sink, "");
    let _gateway = Gateway::start(&config, &api);
    let sent = send_three_part(&api, 3_000, "exact").await;
    assert_eq!(sent.len(), 3_000);
    let ids: Vec<String> = sent.iter().map(|(id, _)| id.clone()).collect();
    wait_for_status(&api, &ids, "submitted", Duration::from_secs(120)).await;
    let seen = segments_seen(&sim);
    assert_eq!(seen.len(), 9_000, "every segment of every message");
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "segments sent twice: {twice:?}");
}

/// The same under `--throttle-every 3` (the floor of 20 msg/s per bind
/// makes it take about five minutes): `cargo test --test throttling --
/// --ignored`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "about five minutes: the throttle-every pacing floor"]
async fn three_thousand_three_part_messages_under_throttle_every_3_arrive_exactly_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sim = start_sim(dir.path(), &["--throttle-every", "3", "--no-receipts"]);
    let (sink, _events) = start_sink().await;
    let (config, api) = write_config(dir.path(), sim.addr, sink, "");
    let _gateway = Gateway::start(&config, &api);
    let sent = send_three_part(&api, 3_000, "every3").await;
    let ids: Vec<String> = sent.iter().map(|(id, _)| id.clone()).collect();
    wait_for_status(&api, &ids, "submitted", Duration::from_secs(900)).await;
    let seen = segments_seen(&sim);
    assert_eq!(seen.len(), 9_000, "every segment of every message");
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "segments sent twice: {twice:?}");
}

/// `kill -9` while 1,000 three-part messages go out under a carrier's rate
/// limit: after the restart every segment arrives, and what arrives twice
/// stays within the documented bound (what was in flight plus at most 256
/// accepted segments not yet covered by a group commit).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_with_three_part_messages_under_a_max_rate_stays_within_the_bound() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sim = start_sim(dir.path(), &["--max-rate", "300", "--no-receipts"]);
    let (sink, _events) = start_sink().await;
    let (config, api) = write_config(dir.path(), sim.addr, sink, "");
    let mut gateway = Gateway::start(&config, &api);
    let sent = send_three_part(&api, 1_000, "kill").await;
    wait_until(
        Duration::from_secs(60),
        "a third of the segments out",
        || sim_records(&sim).len() >= 1_000,
    )
    .await;
    gateway.kill9();
    gateway.restart();
    let ids: Vec<String> = sent.iter().map(|(id, _)| id.clone()).collect();
    wait_for_status(&api, &ids, "submitted", Duration::from_secs(120)).await;
    let seen = segments_seen(&sim);
    assert_eq!(seen.len(), 3_000, "every segment of every message");
    let duplicates: usize = seen.values().map(|n| n - 1).sum();
    eprintln!("kill -9 with three-part messages: {duplicates} segments arrived twice");
    assert!(
        duplicates <= 2 * 64 + 256,
        "{duplicates} duplicates, beyond the bound"
    );
}
