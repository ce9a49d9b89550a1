//! `carrier-gateway status`: the running daemon's live view
//! (`GET /v1/status`) as tables an operator reads at a glance, or the JSON
//! with `--json`.

use std::io::Write;
use std::path::Path;

use serde_json::Value;

use super::CliError;
use super::api_client::{ApiClient, error_text};

/// Prints the status of the daemon that `config` configures.
pub fn run(config: &Path, json: bool) -> Result<(), CliError> {
    let (status, body) = ApiClient::from_config(config)?.get("/v1/status")?;
    if status != 200 {
        return Err(CliError::Failed(anyhow::anyhow!(error_text(status, &body))));
    }
    let mut out = std::io::stdout().lock();
    if json {
        writeln!(out, "{body}")?;
    } else {
        out.write_all(render(&body).as_bytes())?;
    }
    Ok(())
}

/// The tables.
fn render(body: &Value) -> String {
    let mut text = String::new();
    let count = |key: &str| body[key].as_u64().unwrap_or(0);
    text += &format!(
        "carrier-gateway {}, up {}\n",
        body["version"].as_str().unwrap_or("?"),
        humantime::format_duration(std::time::Duration::from_secs(count("uptime_s"))),
    );
    text += &format!(
        "outbox {}  inbox {}  webhook backlog {}  dead letters {}\n\n",
        count("outbox_depth"),
        count("inbox_depth"),
        count("webhook_backlog"),
        count("dead_letters"),
    );
    text += &format!(
        "{:<20} {:<8} {:>8} {:>8} {:>12}\n",
        "carrier", "protocol", "links", "window", "rate (msg/s)"
    );
    for carrier in body["carriers"].as_array().into_iter().flatten() {
        let links = format!(
            "{}/{}",
            carrier["links_up"].as_u64().unwrap_or(0),
            carrier["links"].as_u64().unwrap_or(0)
        );
        let rate = carrier["rate"]
            .as_f64()
            .map_or_else(|| "unpaced".to_owned(), |r| format!("{r:.1}"));
        text += &format!(
            "{:<20} {:<8} {:>8} {:>8} {:>12}\n",
            carrier["name"].as_str().unwrap_or(""),
            carrier["protocol"].as_str().unwrap_or(""),
            links,
            carrier["window_in_use"].as_u64().unwrap_or(0),
            rate,
        );
    }
    text += &format!(
        "\n{:<18} {:<20} {:>10} {:>10}  held by\n",
        "number", "carrier", "queued", "sent/min"
    );
    for number in body["numbers"].as_array().into_iter().flatten() {
        let held = match (number["held_by"].as_str(), number["held_by_limit"].as_str()) {
            (Some(by), Some(limit)) => format!("{by} ({limit})"),
            (Some(by), None) => by.to_owned(),
            _ => "-".to_owned(),
        };
        text += &format!(
            "{:<18} {:<20} {:>10} {:>10}  {}\n",
            number["number"].as_str().unwrap_or(""),
            number["carrier"].as_str().unwrap_or("-"),
            number["queued"].as_u64().unwrap_or(0),
            number["sent_last_minute"].as_u64().unwrap_or(0),
            held,
        );
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tables_show_every_figure() {
        let body = serde_json::json!({
            "version": "0.1.0", "uptime_s": 3725,
            "carriers": [{"name": "acme", "protocol": "smpp", "links_up": 1, "links": 2,
                          "window_in_use": 7, "rate": 20.0}],
            "numbers": [{"number": "+15550001111", "carrier": "acme", "queued": 42,
                         "held_by": "per_second", "held_by_limit": "campaign:C1",
                         "sent_last_minute": 60}],
            "outbox_depth": 43, "inbox_depth": 2, "webhook_backlog": 5, "dead_letters": 1
        });
        let text = render(&body);
        assert!(text.contains("up 1h 2m 5s"), "{text}");
        assert!(
            text.contains("outbox 43  inbox 2  webhook backlog 5  dead letters 1"),
            "{text}"
        );
        assert!(
            text.contains("acme                 smpp          1/2        7         20.0"),
            "{text}"
        );
        assert!(
            text.contains("+15550001111       acme                         42         60  per_second (campaign:C1)"),
            "{text}"
        );
    }
}
