#!/usr/bin/env python3
"""Writes docs/grafana/carrier-gateway.json and docs/monitoring.md from one
list of panels, so the dashboard and the operator guide's PromQL agree."""
import json
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
R = "$__rate_interval"
panels = [
 # (section, title, question, [(expr, legend)], unit, kind)
 ("Traffic", "Outbound messages accepted, by service",
  "How many messages does each service send (agents in sessions, notices, wait-time, in-call, deflection, app-launch, and the channel's own replies)?",
  [(f'sum by (service) (rate(carrier_gateway_messages_accepted_total{{line=~"$line"}}[{R}]))', "{{service}}")], "ops", "timeseries"),
 ("Traffic", "Inbound messages, by line and queue",
  "How many customer texts arrive, and which queues do they land in?",
  [(f'sum by (line, queue) (rate(carrier_gateway_messages_received_total{{line=~"$line"}}[{R}]))', "{{line}} / {{queue}}")], "ops", "timeseries"),
 ("Traffic", "Messages per business number (in and out, last hour)",
  "Which numbers carry the traffic (the figure carriers cap per number)?",
  [('sum by (number) (increase(carrier_gateway_messages_accepted_total[1h]))', "out {{number}}"),
   ('sum by (number) (increase(carrier_gateway_messages_received_total[1h]))', "in {{number}}")], "short", "timeseries"),
 ("Traffic", "Outbound messages by queue and service (last hour)",
  "How much does each queue send, and through which service?",
  [(f'sum by (queue, service) (increase(carrier_gateway_messages_accepted_total{{line=~"$line"}}[1h]))', "{{queue}} {{service}}")], "short", "timeseries"),
 ("Outcomes", "Final status of outbound messages, by service",
  "Do messages reach handsets? How many fail, expire or are rejected (opted out), per service?",
  [(f'sum by (service, status) (rate(carrier_gateway_messages_total[{R}]))', "{{service}} {{status}}")], "ops", "timeseries"),
 ("Outcomes", "Delivery ratio, by service (last hour)",
  "What share of finished messages was delivered?",
  [('sum by (service) (increase(carrier_gateway_messages_total{status="delivered"}[1h])) / sum by (service) (increase(carrier_gateway_messages_total[1h]))', "{{service}}")], "percentunit", "timeseries"),
 ("Outcomes", "API refusals, by service and code",
  "What does the contact center ask for that the rules refuse (below the EWT threshold, no call, opted out, ...)?",
  [(f'sum by (service, code) (rate(carrier_gateway_api_refusals_total[{R}]))', "{{service}} {{code}}")], "ops", "timeseries"),
 ("Services", "Expected wait of callers offered SMS (p50, p90)",
  "How long were callers waiting when wait-time texts and deflections were requested?",
  [('histogram_quantile(0.5, sum by (le, service) (rate(carrier_gateway_ewt_seconds_bucket[15m])))', "p50 {{service}}"),
   ('histogram_quantile(0.9, sum by (le, service) (rate(carrier_gateway_ewt_seconds_bucket[15m])))', "p90 {{service}}")], "s", "timeseries"),
 ("Services", "IVR calls registered, ended, deflected, expired",
  "How many calls does the IVR register, and how many move to SMS?",
  [(f'sum by (change) (rate(carrier_gateway_calls_total[{R}]))', "{{change}}")], "ops", "timeseries"),
 ("Sessions", "Sessions started, by origin",
  "How do conversations begin: the customer texting, an agent, or a deflected call?",
  [(f'sum by (origin) (rate(carrier_gateway_sessions_started_total{{line=~"$line"}}[{R}]))', "{{origin}}")], "ops", "timeseries"),
 ("Sessions", "Sessions ended, by reason",
  "Do conversations end by inactivity, by their time limit, or closed (STOP, deflection)?",
  [(f'sum by (reason) (rate(carrier_gateway_sessions_ended_total{{line=~"$line"}}[{R}]))', "{{reason}}")], "ops", "timeseries"),
 ("Sessions", "Mean session duration, by line",
  "How long does a conversation last?",
  [('sum by (line) (rate(carrier_gateway_session_duration_seconds_sum{line=~"$line"}[1h])) / sum by (line) (rate(carrier_gateway_session_duration_seconds_count{line=~"$line"}[1h]))', "{{line}}")], "s", "timeseries"),
 ("Sessions", "Open sessions",
  "How many conversations are open now?",
  [('carrier_gateway_sessions_open', "open")], "short", "stat"),
 ("Sessions", "Menu choices, by queue",
  "Which queues do customers pick, and how often does the menu fall back to the first queue?",
  [(f'sum by (queue, by) (rate(carrier_gateway_queue_choices_total{{line=~"$line"}}[{R}]))', "{{queue}} ({{by}})")], "ops", "timeseries"),
 ("Compliance", "Opt-outs and opt-ins, by keyword",
  "How many customers text STOP or START, per number?",
  [(f'sum by (number, change) (increase(carrier_gateway_opt_outs_total[1h]))', "{{number}} {{change}}")], "short", "timeseries"),
 ("Compliance", "Consent messages sent",
  "How many new customers got the consent terms?",
  [(f'sum by (number) (increase(carrier_gateway_consent_sent_total[1h]))', "{{number}}")], "short", "timeseries"),
 ("Compliance", "Limit holds, by limit",
  "Which 10DLC caps (number, campaign, brand) are holding messages back?",
  [(f'sum by (limit) (increase(carrier_gateway_limit_holds_total[1h]))', "{{limit}}")], "short", "timeseries"),
 ("Carriers", "Carrier connections up",
  "Are the binds to every carrier up?",
  [('sum by (carrier) (carrier_gateway_binds_up)', "{{carrier}}")], "short", "timeseries"),
 ("Carriers", "Submit-to-response latency p99, by carrier",
  "How fast do carriers answer submits?",
  [('histogram_quantile(0.99, sum by (le, carrier) (rate(carrier_gateway_submit_response_seconds_bucket[5m])))', "{{carrier}}")], "s", "timeseries"),
 ("Carriers", "Retries and throttles, by carrier and reason",
  "Is a carrier throttling us or failing submits?",
  [(f'sum by (carrier, reason) (rate(carrier_gateway_retries_total[{R}]))', "{{carrier}} {{reason}}"),
   (f'sum by (carrier) (rate(carrier_gateway_throttles_total[{R}]))', "{{carrier}} throttled")], "ops", "timeseries"),
 ("Backlogs", "Outbox and inbox depth",
  "Is a backlog building up (carriers down or slow, core not acknowledging)?",
  [('carrier_gateway_outbox_depth', "outbox"), ('carrier_gateway_inbox_depth', "inbox")], "short", "timeseries"),
 ("Backlogs", "Webhook backlog, dead letters and delivery outcomes",
  "Is the core taking our events?",
  [('carrier_gateway_webhook_backlog', "backlog"), ('carrier_gateway_webhook_dead_letters', "dead letters"),
   (f'sum by (outcome) (rate(carrier_gateway_webhook_deliveries_total[{R}]))', "POSTs {{outcome}}")], "short", "timeseries"),
]
dash = {
 "title": "carrier-gateway",
 "uid": "carrier-gateway",
 "description": "Messages by number, line, queue and service; sessions; compliance; carriers and backlogs. Built on the metric names of docs/metrics.md; the PromQL of each panel is explained in docs/monitoring.md.",
 "tags": ["carrier-gateway", "sms"],
 "schemaVersion": 39,
 "version": 1,
 "editable": True,
 "time": {"from": "now-6h", "to": "now"},
 "refresh": "30s",
 "timezone": "utc",
 "templating": {"list": [
   {"name": "datasource", "label": "Prometheus", "type": "datasource", "query": "prometheus", "current": {}, "hide": 0},
   {"name": "line", "label": "Line", "type": "query", "datasource": {"type": "prometheus", "uid": "${datasource}"},
    "query": {"query": "label_values(carrier_gateway_messages_accepted_total, line)", "refId": "line"},
    "definition": "label_values(carrier_gateway_messages_accepted_total, line)",
    "includeAll": True, "allValue": ".*", "multi": True, "refresh": 2, "current": {}, "hide": 0},
 ]},
 "panels": [],
}
pid = 1
y = 0
section = None
x = 0
md = []
for (sec, title, question, targets, unit, kind) in panels:
    if sec != section:
        if x != 0:
            y += 8; x = 0
        dash["panels"].append({"id": pid, "type": "row", "title": sec, "collapsed": False,
                               "gridPos": {"h": 1, "w": 24, "x": 0, "y": y}, "panels": []})
        pid += 1; y += 1; section = sec
        md.append(f"\n## {sec}\n")
    p = {"id": pid, "type": kind, "title": title, "description": question,
         "datasource": {"type": "prometheus", "uid": "${datasource}"},
         "gridPos": {"h": 8, "w": 12, "x": x, "y": y},
         "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
         "options": {},
         "targets": [{"refId": chr(65+i), "expr": e, "legendFormat": l,
                      "datasource": {"type": "prometheus", "uid": "${datasource}"}} for i, (e, l) in enumerate(targets)]}
    dash["panels"].append(p); pid += 1
    md.append(f"\n### {title}\n\n{question}\n\n```promql\n" + "\n".join(e for e, _ in targets) + "\n```\n")
    if x == 0:
        x = 12
    else:
        x = 0; y += 8
json.dump(dash, open(ROOT + "/docs/grafana/carrier-gateway.json", "w"), indent=2, ensure_ascii=False)
open(ROOT + "/docs/grafana/carrier-gateway.json", "a").write("\n")
HEADER = """# Monitoring: the questions, the dashboard and its PromQL

`docs/grafana/carrier-gateway.json` is a Grafana dashboard (import it, pick
the Prometheus data source that scrapes `[metrics] listen`). Every panel is
built on the metric names of `docs/metrics.md`, and `tests/grafana.rs`
checks that each name it uses is exported by the running daemon after
traffic. This page shows the question each panel answers and the PromQL
behind it, for alerts and ad-hoc queries.

`$line` is the dashboard's line filter (all lines: `.*`); messages of
numbers without a line have `line=""`. `$__rate_interval` is Grafana's;
outside Grafana use a window of at least four scrape intervals, e.g. `[2m]`.

Both files are generated by `scripts/grafana-dashboard.py`; change the
panels there and run it again.

Suggested alerts: `carrier_gateway_binds_up == 0` for 2 minutes (a carrier
is unreachable); `carrier_gateway_outbox_depth` growing for 15 minutes;
`carrier_gateway_webhook_backlog > 10000` or any increase of
`carrier_gateway_webhook_dead_letters` (the core refuses events); a
delivery ratio below its usual level; `rate(carrier_gateway_throttles_total[5m]) > 0`
for long (the campaign's carrier throughput is set too high).
"""
open(ROOT + "/docs/monitoring.md", "w").write(HEADER + "".join(md))
