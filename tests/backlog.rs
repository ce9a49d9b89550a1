//! The backlog lives on disk: a number with more messages than the
//! dispatcher keeps in memory, and a conversation longer than its
//! in-memory share, are sent in full, once each, in conversation order,
//! across restarts with the carrier down.

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use common::*;
use serde_json::{Value, json};

const LONG_CONVERSATION: &str = "+15550001111";

fn batch(texts: impl Iterator<Item = (String, String)>) -> Vec<Value> {
    texts
        .map(|(to, text)| json!({"from": FROM, "to": to, "text": text}))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backlog_larger_than_memory_is_sent_once_in_order_after_restarts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let carrier: SocketAddr = format!("127.0.0.1:{}", free_port())
        .parse()
        .expect("address");
    let (sink, _events) = start_sink().await;
    let (config, api) = write_config(dir.path(), carrier, sink, "");
    let mut gateway = Gateway::start(&config, &api);
    let client = client();

    // The carrier is down. 1,500 customers (more than a number keeps in
    // memory) and one customer with 60 messages (more than a conversation
    // keeps), interleaved.
    let mut ids = Vec::new();
    let mut long_texts = Vec::new();
    for round in 0..6 {
        let mut messages: Vec<(String, String)> = (0..250)
            .map(|i| {
                let n = round * 250 + i;
                (format!("+1666{n:07}"), format!("many {n}"))
            })
            .collect();
        for i in 0..10 {
            let text = format!("long {}", round * 10 + i);
            long_texts.push(text.clone());
            messages.insert(i * 25, (LONG_CONVERSATION.to_owned(), text));
        }
        ids.extend(post_batch(&client, &api, batch(messages.into_iter())).await);
        if round == 2 {
            // A clean restart and a crash, with the backlog on disk.
            assert!(
                gateway
                    .process
                    .as_mut()
                    .and_then(|p| p.terminate())
                    .is_some_and(|s| s.success())
            );
            gateway.restart();
        }
        if round == 4 {
            gateway.kill9();
            gateway.restart();
        }
    }
    assert_eq!(ids.len(), 1_560);

    // The carrier comes back.
    let sim = start_sim_on(dir.path(), carrier, &[]);
    wait_for_status(&api, &ids, "delivered", Duration::from_secs(120)).await;

    let records = sim_records(&sim);
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut long_order = Vec::new();
    for record in &records {
        let text = record_text(record);
        if record["destination_addr"]
            .as_str()
            .is_some_and(|to| to.ends_with(&LONG_CONVERSATION[1..]))
        {
            long_order.push(text.clone());
        }
        *seen.entry(text).or_default() += 1;
    }
    assert_eq!(seen.len(), 1_560, "every message reached the carrier");
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "sent more than once: {twice:?}");
    assert_eq!(
        long_order, long_texts,
        "the long conversation kept its order"
    );
    drop(gateway);
}
