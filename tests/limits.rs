//! 10DLC limits measured at the carrier: the real gateway against the SMSC
//! simulator, whose record file has the arrival time of every submit
//! (docs/configuration.md limits, §4.6; issue 5).

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};

const SLOW: &str = "+15551230002";

/// Arrival times (ms) of the submits from `number` (as on the wire: no `+`).
fn arrivals(sim: &Sim, number: &str) -> Vec<u64> {
    let digits = number.trim_start_matches('+');
    let mut times: Vec<u64> = sim_records(sim)
        .iter()
        .filter(|r| r["source_addr"] == digits)
        .filter_map(|r| r["at_ms"].as_u64())
        .collect();
    times.sort_unstable();
    times
}

/// The most arrivals within any window of `span_ms`.
fn max_in_window(times: &[u64], span_ms: u64) -> usize {
    let mut max = 0;
    let mut lo = 0;
    for hi in 0..times.len() {
        while times[hi] - times[lo] >= span_ms {
            lo += 1;
        }
        max = max.max(hi - lo + 1);
    }
    max
}

async fn send_many(api: &str, from: &str, n: usize, tag: &str) -> Vec<String> {
    let mut ids = Vec::new();
    for k in 0..n {
        ids.push(send_one(api, from, &format!("+1666{k:07}"), &format!("{tag} {k}")).await);
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_number_at_one_per_second_does_not_slow_one_at_fifty() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sim = start_sim(dir.path(), &[]);
    let (sink, _events) = start_sink().await;
    let extra = format!(
        "per_second = 50\n\n[[numbers]]\nnumber = \"{SLOW}\"\ncarrier = \"acme\"\nper_second = 1\n"
    );
    let (config, api) = write_config(dir.path(), sim.addr, sink, &extra);
    let _gateway = Gateway::start(&config, &api);

    // The slow number's messages are queued first: a single FIFO would put
    // them in front of the fast number's.
    let slow = send_many(&api, SLOW, 6, "slow").await;
    let fast = send_many(&api, FROM, 200, "fast").await;
    wait_for_status(&api, &fast, "delivered", Duration::from_secs(30)).await;

    let fast_times = arrivals(&sim, FROM);
    assert_eq!(fast_times.len(), 200);
    // At most 50 in any second (a little slack for the loopback's jitter
    // between the gateway's clock and the simulator's)…
    assert!(
        max_in_window(&fast_times, 980) <= 50,
        "fast number over its cap: {}",
        max_in_window(&fast_times, 980)
    );
    // …and not slowed down by the other number: 200 at 50/s is a burst of
    // 50 and 3 more seconds.
    let span = fast_times[199] - fast_times[0];
    assert!(
        (2_900..5_000).contains(&span),
        "200 messages at 50/s took {span} ms"
    );

    wait_for_status(&api, &slow, "delivered", Duration::from_secs(30)).await;
    let slow_times = arrivals(&sim, SLOW);
    assert_eq!(slow_times.len(), 6);
    for pair in slow_times.windows(2) {
        assert!(pair[1] - pair[0] >= 950, "1/s number: {slow_times:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_campaign_per_minute_cap_holds_across_its_numbers() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sim = start_sim(dir.path(), &[]);
    let (sink, _events) = start_sink().await;
    let extra = format!(
        "campaign = \"C1\"\n\n[[numbers]]\nnumber = \"{SLOW}\"\ncarrier = \"acme\"\ncampaign = \"C1\"\n\n\
         [[brands]]\nid = \"B1\"\n\n[[campaigns]]\nid = \"C1\"\nbrand = \"B1\"\nper_minute = 20\n"
    );
    let (config, api) = write_config(dir.path(), sim.addr, sink, &extra);
    let _gateway = Gateway::start(&config, &api);

    let mut ids = send_many(&api, FROM, 15, "a").await;
    ids.extend(send_many(&api, SLOW, 15, "b").await);
    // 20 go at once; the other 10 wait for the minute to pass.
    wait_until(Duration::from_secs(20), "20 submits", || {
        sim_records(&sim).len() >= 20
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let records = sim_records(&sim);
    assert_eq!(records.len(), 20, "the campaign sent more than its cap");
    let from_both = [FROM, SLOW].map(|n| arrivals(&sim, n).len());
    assert!(from_both.iter().all(|&n| n > 0), "{from_both:?}");
    let mut queued = 0;
    for id in &ids {
        if get_message(&api, id).await["status"] == "queued" {
            queued += 1;
        }
    }
    assert_eq!(queued, 10, "held messages stay queued");
    let body = metrics_text(&config).await;
    assert!(
        metric_sum(
            &body,
            "carrier_gateway_limit_holds_total",
            &["limit=\"campaign:C1\""]
        ) >= 1.0,
        "{body}"
    );
    assert_eq!(metric_sum(&body, "carrier_gateway_outbox_depth", &[]), 10.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_daily_cap_holds_across_restarts_and_crashes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sim = start_sim(dir.path(), &[]);
    let (sink, _events) = start_sink().await;
    let extra = "campaign = \"C1\"\n\n[[brands]]\nid = \"B1\"\nper_day = 5\n\n\
                 [[campaigns]]\nid = \"C1\"\nbrand = \"B1\"\n";
    let (config, api) = write_config(dir.path(), sim.addr, sink, extra);
    let mut gateway = Gateway::start(&config, &api);

    let ids = send_many(&api, FROM, 8, "day").await;
    wait_until(Duration::from_secs(20), "5 submits", || {
        sim_records(&sim).len() >= 5
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(sim_records(&sim).len(), 5);

    // A clean restart, then a crash: the count survives both.
    if let Some(p) = gateway.process.as_mut() {
        assert!(p.terminate().is_some_and(|s| s.success()));
    }
    gateway.restart();
    send_many(&api, FROM, 1, "after restart").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    gateway.kill9();
    gateway.restart();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(sim_records(&sim).len(), 5, "the daily cap was exceeded");
    let mut statuses = std::collections::HashMap::<String, usize>::new();
    for id in &ids {
        let body: Value = get_message(&api, id).await;
        *statuses
            .entry(body["status"].as_str().unwrap_or("?").to_owned())
            .or_default() += 1;
    }
    assert_eq!(statuses.get("queued"), Some(&3), "{statuses:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_applies_new_limits_without_dropping_binds() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sim = start_sim(dir.path(), &[]);
    let (sink, _events) = start_sink().await;
    let (config, api) = write_config(dir.path(), sim.addr, sink, "per_second = 1\n");
    let gateway = Gateway::start(&config, &api);

    let ids = send_many(&api, FROM, 20, "reload").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let before = sim_records(&sim);
    assert!(before.len() <= 3, "1/s sent {}", before.len());

    // A new number and a higher limit, then SIGHUP.
    let text = std::fs::read_to_string(&config)
        .expect("config")
        .replace("per_second = 1\n", "per_second = 100\n")
        + &format!("\n[[numbers]]\nnumber = \"{SLOW}\"\ncarrier = \"acme\"\n");
    std::fs::write(&config, text).expect("rewrite the config");
    let pid = gateway
        .process
        .as_ref()
        .map(|p| p.child.id())
        .expect("running");
    let _ = std::process::Command::new("kill")
        .args(["-HUP", &pid.to_string()])
        .status();
    wait_for_status(&api, &ids, "delivered", Duration::from_secs(10)).await;
    // The new number is known without a restart.
    send_one(&api, SLOW, "+16660000001", "new number").await;

    // Every submit came over the two binds made at start (a bind made
    // again would be a third connection).
    let conns: std::collections::BTreeSet<u64> = sim_records(&sim)
        .iter()
        .filter_map(|r| r["conn"].as_u64())
        .collect();
    assert!(
        conns.len() <= 2,
        "binds were dropped and made again: {conns:?}"
    );
    let body = metrics_text(&config).await;
    assert_eq!(
        metric_sum(&body, "carrier_gateway_binds_up", &["acme"]),
        2.0
    );

    // A broken file is refused and the running configuration stays.
    std::fs::write(&config, "this is not toml [").expect("break the config");
    let _ = std::process::Command::new("kill")
        .args(["-HUP", &pid.to_string()])
        .status();
    tokio::time::sleep(Duration::from_millis(300)).await;
    send_one(&api, SLOW, "+16660000002", "still configured").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_held_by_a_cap_expires_when_its_validity_ends() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sim = start_sim(dir.path(), &[]);
    let (sink, events) = start_sink().await;
    let (config, api) = write_config(dir.path(), sim.addr, sink, "per_day = 1\n");
    let _gateway = Gateway::start(&config, &api);

    let first = send_one(&api, FROM, "+16660000010", "the day's only one").await;
    wait_for_status(
        &api,
        std::slice::from_ref(&first),
        "delivered",
        Duration::from_secs(10),
    )
    .await;
    let response = post_message(
        &api,
        serde_json::json!({
            "from": FROM, "to": "+16660000011", "text": "held", "validity": "2s"
        }),
    )
    .await;
    let held = response["id"].as_str().expect("accepted").to_owned();
    assert_eq!(get_message(&api, &held).await["status"], "queued");
    wait_for_status(
        &api,
        std::slice::from_ref(&held),
        "expired",
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(
        sim_records(&sim).len(),
        1,
        "the held message was never sent"
    );
    wait_until(Duration::from_secs(10), "the expired event", || {
        events.all().iter().any(|e| {
            e["type"] == "message.status"
                && e["data"]["id"] == held.as_str()
                && e["data"]["status"] == "expired"
        })
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_per_minute_cap_holds_across_a_clean_restart_and_a_crash() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sim = start_sim(dir.path(), &[]);
    let (sink, _events) = start_sink().await;
    let (config, api) = write_config(dir.path(), sim.addr, sink, "per_minute = 3\n");
    let mut gateway = Gateway::start(&config, &api);

    let first = send_many(&api, FROM, 3, "minute").await;
    wait_for_status(&api, &first, "delivered", Duration::from_secs(10)).await;

    // A clean restart remembers the three sends of this minute…
    if let Some(p) = gateway.process.as_mut() {
        assert!(p.terminate().is_some_and(|s| s.success()));
    }
    gateway.restart();
    send_one(&api, FROM, "+16660000020", "after a clean restart").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(sim_records(&sim).len(), 3, "the cap forgot a clean restart");

    // …and after a crash, not knowing, it assumes the minute is used up.
    gateway.kill9();
    gateway.restart();
    send_one(&api, FROM, "+16660000021", "after a crash").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(sim_records(&sim).len(), 3, "the cap forgot a crash");
}

/// SIGHUP adds a number with its own limit: its first messages, sent the
/// moment the API knows the number, are already limited (the limits reach
/// the dispatcher before the number goes live).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_number_added_by_sighup_is_limited_from_its_first_message() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sim = start_sim(dir.path(), &[]);
    let (sink, _events) = start_sink().await;
    let (config, api) = write_config(dir.path(), sim.addr, sink, "");
    let gateway = Gateway::start(&config, &api);
    let text = std::fs::read_to_string(&config).expect("config")
        + &format!("\n[[numbers]]\nnumber = \"{SLOW}\"\ncarrier = \"acme\"\nper_second = 1\n");
    std::fs::write(&config, text).expect("rewrite the config");
    let pid = gateway
        .process
        .as_ref()
        .map(|p| p.child.id())
        .expect("running");
    let _ = std::process::Command::new("kill")
        .args(["-HUP", &pid.to_string()])
        .status();
    // Send from the new number as soon as the API takes it.
    let client = client();
    let body = json!({"from": SLOW, "to": "+16660000001", "text": "first"});
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let response = client
            .post(format!("{api}/v1/messages"))
            .bearer_auth(TOKEN)
            .json(&body)
            .send()
            .await
            .expect("POST");
        if response.status().as_u16() == 202 {
            break;
        }
        assert!(Instant::now() < deadline, "the new number never went live");
    }
    let ids = send_many(&api, SLOW, 4, "burst").await;
    wait_for_status(&api, &ids, "delivered", Duration::from_secs(15)).await;
    let mut times: Vec<u64> = sim_records(&sim)
        .iter()
        .filter(|r| r["source_addr"].as_str() == SLOW.strip_prefix('+'))
        .filter_map(|r| r["at_ms"].as_u64())
        .collect();
    times.sort_unstable();
    assert_eq!(times.len(), 5);
    for pair in times.windows(2) {
        assert!(
            pair[1] - pair[0] >= 950,
            "per_second = 1 not held: {times:?}"
        );
    }
}
