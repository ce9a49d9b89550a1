//! SIGTERM drains (the command line, README.md): intake stops, outstanding submits get
//! their responses, the binds unbind, the store is flushed, the process
//! exits 0; after a restart the rest goes out, and nothing is sent twice
//! (issue 5).

mod common;

use std::time::Duration;

use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_mid_send_waits_for_responses_exits_0_and_nothing_is_sent_twice() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sim = start_sim(dir.path(), &["--dlr-delay", "10"]);
    let (sink, events) = start_sink().await;
    // 1,000 a second, so the stop lands in the middle of the sending.
    let (config, api) = write_config(dir.path(), sim.addr, sink, "per_second = 1000\n");
    let mut gateway = Gateway::start(&config, &api);

    let ids = send_batches(&api, 5_000, 250, "drain").await;
    wait_until(Duration::from_secs(60), "1,000 submits", || {
        sim_records(&sim).len() >= 1_000
    })
    .await;
    let status = gateway
        .process
        .as_mut()
        .and_then(|p| p.terminate())
        .expect("the gateway stops after SIGTERM");
    assert_eq!(status.code(), Some(0), "exit status {status:?}");
    let at_stop = sim_records(&sim).len();
    assert!(at_stop < 5_000, "everything was sent before the stop");

    gateway.restart();
    wait_until(Duration::from_secs(120), "5,000 delivered events", || {
        events
            .all()
            .iter()
            .filter(|e| e["type"] == "message.status" && e["data"]["status"] == "delivered")
            .filter_map(|e| e["data"]["id"].as_str().map(str::to_owned))
            .collect::<std::collections::HashSet<_>>()
            .len()
            == 5_000
    })
    .await;
    let texts = accepted_texts(&sim);
    assert_eq!(texts.len(), 5_000);
    let twice: Vec<_> = texts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        twice.is_empty(),
        "{} sent twice after a clean stop at {at_stop} submits, e.g. {:?}",
        twice.len(),
        twice.first()
    );
    wait_for_status(&api, &ids[..20], "delivered", Duration::from_secs(10)).await;
}
