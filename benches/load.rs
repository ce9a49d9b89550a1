//! End-to-end load generator: HTTP API → gateway → SMPP → simulator, with
//! delivery receipts on, measured from outside like a client would see it.
//!
//! Run through `benches/load.sh`, which starts the simulator, the gateway
//! (and Kannel, as the peer) and calls this program. By hand:
//!
//! ```text
//! cargo bench --bench load -- gateway --api http://127.0.0.1:8080 --token T \
//!     --messages 200000 --batch 100 --concurrency 8 --sink 127.0.0.1:8081 --secret S
//! cargo bench --bench load -- kannel --sendsms-url 'http://…/cgi-bin/sendsms?username=…&password=…' \
//!     --messages 50000 --concurrency 64 --dlr-listen 127.0.0.1:8082
//! ```
//!
//! Reports accepted msg/s (202s per second, or Kannel's 202 "Sent." answers),
//! delivered msg/s (messages whose delivery was confirmed back to the
//! client: `message.status: delivered` webhooks for the gateway, DLR
//! callbacks for Kannel), and p50/p99 of the accept latency (per request:
//! one batch for the gateway, one message for Kannel). With `--batch 1` the
//! gateway gets one message per `POST /v1/messages`, like for like with
//! Kannel's one per `sendsms`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

struct Args {
    target: String,
    api: String,
    token: String,
    sendsms_url: String,
    messages: usize,
    batch: usize,
    concurrency: usize,
    sink: Option<SocketAddr>,
    secret: String,
    dlr_listen: Option<SocketAddr>,
    timeout: Duration,
    label: String,
    /// Business numbers to send from, +15551230001 upwards, round robin.
    numbers: usize,
    /// Report once everything is accepted, without waiting for
    /// deliveries (a backlog queued while the carrier is down).
    no_wait: bool,
}

fn parse_args() -> Args {
    let mut args = Args {
        target: String::new(),
        api: "http://127.0.0.1:8080".into(),
        token: String::new(),
        sendsms_url: String::new(),
        messages: 100_000,
        batch: 100,
        concurrency: 8,
        sink: None,
        secret: String::new(),
        dlr_listen: None,
        timeout: Duration::from_secs(300),
        label: String::new(),
        numbers: 1,
        no_wait: false,
    };
    let mut it = std::env::args().skip(1).filter(|a| a != "--bench");
    while let Some(a) = it.next() {
        let mut value = || it.next().unwrap_or_default();
        match a.as_str() {
            "gateway" | "kannel" => args.target = a,
            "--api" => args.api = value(),
            "--token" => args.token = value(),
            "--sendsms-url" => args.sendsms_url = value(),
            "--messages" => args.messages = value().parse().unwrap_or(args.messages),
            "--batch" => args.batch = value().parse().unwrap_or(args.batch),
            "--concurrency" => args.concurrency = value().parse().unwrap_or(args.concurrency),
            "--sink" => args.sink = value().parse().ok(),
            "--secret" => args.secret = value(),
            "--dlr-listen" => args.dlr_listen = value().parse().ok(),
            "--timeout" => args.timeout = Duration::from_secs(value().parse().unwrap_or(300)),
            "--label" => args.label = value(),
            "--numbers" => args.numbers = value().parse().unwrap_or(1).max(1),
            "--no-wait" => args.no_wait = true,
            _ => {}
        }
    }
    if args.label.is_empty() {
        args.label = args.target.clone();
    }
    args
}

/// Counts confirmations of delivery arriving over HTTP.
async fn counting_server(listen: SocketAddr, count: Arc<AtomicUsize>, kind: &'static str) {
    use axum::body::Bytes;
    use axum::routing::{get, post};
    let on_webhook = {
        let count = count.clone();
        move |body: Bytes| {
            let count = count.clone();
            async move {
                if let Ok(v) = serde_json::from_slice::<Value>(&body) {
                    let events = match v.get("events").and_then(Value::as_array) {
                        Some(list) => list.clone(),
                        None => vec![v],
                    };
                    let delivered = events
                        .iter()
                        .filter(|e| e["data"]["status"] == "delivered")
                        .count();
                    count.fetch_add(delivered, Ordering::Relaxed);
                }
                "ok"
            }
        }
    };
    let on_dlr = {
        let count = count.clone();
        move |axum::extract::RawQuery(q): axum::extract::RawQuery| {
            let count = count.clone();
            async move {
                // Kannel's dlr-url carries %d (the DLR type): 1 = delivered.
                if q.as_deref().is_some_and(|q| q.contains("type=1")) {
                    count.fetch_add(1, Ordering::Relaxed);
                }
                "ok"
            }
        }
    };
    let app = match kind {
        "webhook" => axum::Router::new().route("/events", post(on_webhook)),
        _ => axum::Router::new().route("/dlr", get(on_dlr)),
    };
    let Ok(listener) = tokio::net::TcpListener::bind(listen).await else {
        eprintln!("cannot listen on {listen}");
        std::process::exit(2);
    };
    let _ = axum::serve(listener, app).await;
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)] as f64 / 1000.0
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args = Arc::new(parse_args());
    let delivered = Arc::new(AtomicUsize::new(0));
    match args.target.as_str() {
        "gateway" => {
            if let Some(sink) = args.sink {
                tokio::spawn(counting_server(sink, delivered.clone(), "webhook"));
            }
        }
        "kannel" => {
            if let Some(dlr) = args.dlr_listen {
                tokio::spawn(counting_server(dlr, delivered.clone(), "dlr"));
            }
        }
        _ => {
            eprintln!("usage: load gateway|kannel [options] (see the source)");
            std::process::exit(2);
        }
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    let next = Arc::new(AtomicUsize::new(0));
    let accepted = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..args.concurrency {
        let (args, client, next, accepted, failed) = (
            args.clone(),
            client.clone(),
            next.clone(),
            accepted.clone(),
            failed.clone(),
        );
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let per_request = if args.target == "gateway" { args.batch } else { 1 };
            loop {
                let first = next.fetch_add(per_request, Ordering::Relaxed);
                if first >= args.messages {
                    break;
                }
                let count = per_request.min(args.messages - first);
                let sent = Instant::now();
                let ok = if args.target == "gateway" && per_request == 1 {
                    // One message per `POST /v1/messages`, as most API
                    // clients send (and as Kannel's `sendsms` takes them).
                    let message = json!({"from": format!("+1555123{:04}", first % args.numbers + 1), "to": format!("+1555{:07}", first), "text": format!("Load test message number {first}")});
                    match client
                        .post(format!("{}/v1/messages", args.api))
                        .bearer_auth(&args.token)
                        .json(&message)
                        .send()
                        .await
                    {
                        Ok(r) if r.status().as_u16() == 202 => 1,
                        _ => 0,
                    }
                } else if args.target == "gateway" {
                    let messages: Vec<Value> = (first..first + count)
                        .map(|i| json!({"from": format!("+1555123{:04}", i % args.numbers + 1), "to": format!("+1555{:07}", i), "text": format!("Load test message number {i}")}))
                        .collect();
                    match client
                        .post(format!("{}/v1/messages/batch", args.api))
                        .bearer_auth(&args.token)
                        .json(&json!({ "messages": messages }))
                        .send()
                        .await
                    {
                        Ok(r) if r.status().is_success() => match r.json::<Value>().await {
                            Ok(body) => body["results"]
                                .as_array()
                                .map(|a| a.iter().filter(|r| r["id"].is_string()).count())
                                .unwrap_or(0),
                            Err(_) => 0,
                        },
                        _ => 0,
                    }
                } else {
                    let url = format!(
                        "{}&from=15551230001&to=1555{:07}&text=Load+test+message+number+{}",
                        args.sendsms_url, first, first
                    );
                    match client.get(url).send().await {
                        Ok(r) if r.status().is_success() || r.status().as_u16() == 202 => 1,
                        _ => 0,
                    }
                };
                latencies.push(sent.elapsed().as_micros() as u64);
                accepted.fetch_add(ok as u64, Ordering::Relaxed);
                failed.fetch_add((count - ok) as u64, Ordering::Relaxed);
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for w in workers {
        if let Ok(l) = w.await {
            latencies.extend(l);
        }
    }
    let accept_elapsed = start.elapsed();
    let accepted_n = accepted.load(Ordering::Relaxed) as usize;
    let deadline = if args.no_wait {
        Instant::now()
    } else {
        start + args.timeout
    };
    let mut last = (0, Instant::now());
    while delivered.load(Ordering::Relaxed) < accepted_n && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let now = delivered.load(Ordering::Relaxed);
        if now != last.0 {
            last = (now, Instant::now());
        } else if last.1.elapsed() > Duration::from_secs(20) {
            break; // no progress for 20 s: report what arrived
        }
    }
    let delivered_n = delivered.load(Ordering::Relaxed);
    let delivered_elapsed = last.1.max(start + accept_elapsed).duration_since(start);
    latencies.sort_unstable();
    let report = json!({
        "label": args.label,
        "messages": args.messages,
        "accepted": accepted_n,
        "failed": failed.load(Ordering::Relaxed),
        "delivered": delivered_n,
        "accept_seconds": accept_elapsed.as_secs_f64(),
        "accepted_per_s": accepted_n as f64 / accept_elapsed.as_secs_f64(),
        "delivered_per_s": delivered_n as f64 / delivered_elapsed.as_secs_f64().max(1e-9),
        "latency_ms_p50": percentile(&latencies, 0.50),
        "latency_ms_p99": percentile(&latencies, 0.99),
        "requests": latencies.len(),
    });
    println!("{report}");
}
