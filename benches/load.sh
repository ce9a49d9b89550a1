#!/usr/bin/env bash
# End-to-end load benchmark: the gateway and Kannel, same workload, same
# SMSC simulator, same machine, same run. Prints one JSON line per run and a
# summary with the ratio.
#
#   benches/load.sh [MESSAGES] [which: both|gateway|kannel|pairs]
#
# `pairs` is the like-for-like mode: PAIRS rounds (3), each running the
# gateway with one message per `POST /v1/messages` and Kannel with one per
# `sendsms` (in alternating order from one round to the next), then the
# gateway through the batch API. Both sides get the same simulator, BINDS
# transceiver binds (2) with WINDOW (64) each, CONCURRENCY keep-alive
# connections (64) and receipts reported back to the client (the gateway's
# `delivered`/`failed` status webhooks, one POST each as `batch_max = 1`
# sends them; Kannel's DLR callbacks, one GET each). Each run also reports
# the CPU time per message of the measured system's own processes (the
# gateway; Kannel's bearerbox and smsbox), read from /proc before and after
# the load, so the load client and the simulator do not count, and their
# peak RSS (VmHWM). The summary gives the medians.
#
# Environment: BATCH (gateway messages per request, 100), CONCURRENCY
# (gateway concurrent requests, 8), KANNEL_CONCURRENCY (64),
# KANNEL_MESSAGES (defaults to MESSAGES), NUMBERS=N (send from N business
# numbers, round robin; 1 by default), LIMITS=N (N numbers, each with a
# per-second limit, in one campaign with a per-minute limit under one brand
# with a daily limit, all set high enough never to hold a message back: so
# `NUMBERS=1000` against `LIMITS=1000` is the cost of checking limits),
# GATEWAY_BIN (a gateway binary to measure instead of building this tree's,
# e.g. an older commit's, for a before/after pair in one run) and SIM_BIN
# (the simulator binary, by default the gateway binary; give both runs of a
# pair the same one) and LOAD_BIN (an already built load client, so a pair
# needs no rebuild between its runs). PERF_OUT=FILE records a `perf record
# -e cpu-clock -g` profile of the gateway process over each gateway run;
# PERF_STAT=FILE counts its CPU time and context switches instead (`perf
# stat`); METRICS_OUT=FILE keeps the gateway's /metrics as they were at its
# end.
set -euo pipefail
cd "$(dirname "$0")/.."
messages=${1:-200000}
which=${2:-both}
work=$(mktemp -d /tmp/cg-load.XXXXXX)
pids=()
clk_tck=$(getconf CLK_TCK)
# CPU time (user + system) of the given processes, in clock ticks; the
# fields after the command name, which is in parentheses and may hold spaces.
cpu_ticks() {
  local total=0 p fields
  for p in "$@"; do
    fields=$(sed 's/^.*) //' /proc/"$p"/stat)
    total=$((total + $(echo "$fields" | awk '{print $12 + $13}')))
  done
  echo "$total"
}
# Peak resident memory of the given processes together, in MB.
peak_rss_mb() {
  local total=0 p
  for p in "$@"; do total=$((total + $(awk '/^VmHWM:/ {print $2}' /proc/"$p"/status))); done
  echo $((total / 1024))
}
# Adds the CPU and RSS of the measured processes to a run's JSON line.
with_cost() { # JSON_FILE TICKS_BEFORE TICKS_AFTER RSS_MB
  python3 - "$@" "$clk_tck" <<'PY'
import json, sys
path, before, after, rss, hz = sys.argv[1:6]
r = json.load(open(path))
cpu_us = (int(after) - int(before)) * 1e6 / int(hz)
r["cpu_us_per_msg"] = round(cpu_us / max(r["accepted"], 1), 1)
r["rss_mb"] = int(rss)
json.dump(r, open(path, "w"))
print(json.dumps(r))
PY
}
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  if [ -x benches/kannel/stop.sh ] && [ -d "$work/kannel" ]; then benches/kannel/stop.sh "$work/kannel" || true; fi
  wait 2>/dev/null || true
  # The stores, logs and run files go too, unless KEEP_WORK=1 asks to look.
  if [ "${KEEP_WORK:-0}" != 1 ]; then rm -rf "$work"; else echo "kept $work" >&2; fi
}
trap cleanup EXIT

if [ -z "${GATEWAY_BIN:-}" ]; then cargo build --profile dist --quiet; fi
if [ -n "${LOAD_BIN:-}" ]; then
  load=$LOAD_BIN
else
  cargo bench --bench load --no-run --quiet 2>/dev/null
  load=$(cargo bench --bench load --no-run --message-format=json 2>/dev/null \
    | python3 -c 'import json,sys
for l in sys.stdin:
    m=json.loads(l)
    if m.get("reason")=="compiler-artifact" and m["target"]["name"]=="load" and m.get("executable"):
        print(m["executable"])')
fi
bin=${GATEWAY_BIN:-target/dist/carrier-gateway}
sim_bin=${SIM_BIN:-$bin}
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 200); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.05; done; echo "port $1 never opened" >&2; return 1; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(uname -r)"
echo "workload: $messages messages, receipts on (simulator --dlr-delay 0)"

# run_gateway OUT_JSON: the gateway's run, with BINDS, WINDOW, BATCH,
# CONCURRENCY and WEBHOOK_BATCH_MAX as set by the caller.
run_gateway() {
  local out=$1 sim_port api_port sink_port metrics_port gw_pid before after i
  sim_port=$(port); api_port=$(port); sink_port=$(port); metrics_port=$(port)
  rm -rf "$work/state"
  "$sim_bin" sim smsc --listen 127.0.0.1:"$sim_port" >"$work/sim-gw.log" 2>&1 & pids+=($!)
  local sim_pid=$!
  wait_port "$sim_port"
  {
    cat <<CONF
state_dir = "$work/state"
[api]
listen = "127.0.0.1:$api_port"
tokens = ["load"]
[metrics]
listen = "127.0.0.1:$metrics_port"
[core]
webhook_url = "http://127.0.0.1:$sink_port/events"
webhook_secret = "load"
batch_max = ${WEBHOOK_BATCH_MAX:-500}
status_events = ["delivered", "failed", "expired"]
[[carriers]]
name = "sim"
protocol = "smpp"
host = "127.0.0.1"
port = $sim_port
system_id = "gw"
password = "gw"
binds = ${BINDS:-2}
window = ${WINDOW:-256}
CONF
    if [ -n "${LIMITS:-}" ]; then
      echo '[[brands]]'; echo 'id = "B1"'; echo 'per_day = 100000000'
      echo '[[campaigns]]'; echo 'id = "C1"'; echo 'brand = "B1"'; echo 'per_minute = 100000000'
      for i in $(seq 1 "$LIMITS"); do
        printf '[[numbers]]\nnumber = "+1555123%04d"\ncarrier = "sim"\ncampaign = "C1"\nper_second = 1000\n' "$i"
      done
    else
      for i in $(seq 1 "${NUMBERS:-1}"); do
        printf '[[numbers]]\nnumber = "+1555123%04d"\ncarrier = "sim"\n' "$i"
      done
    fi
  } >"$work/gateway.toml"
  RUST_LOG=warn "$bin" run --config "$work/gateway.toml" >"$work/gateway.log" 2>&1 & pids+=($!)
  gw_pid=$!
  wait_port "$api_port"
  before=$(cpu_ticks "$gw_pid")
  local perf_pid=
  if [ -n "${PERF_STAT:-}" ]; then
    perf stat -e task-clock,context-switches -o "$PERF_STAT" -p "$gw_pid" 2>/dev/null & perf_pid=$!
  elif [ -n "${PERF_OUT:-}" ]; then
    perf record -q -e cpu-clock -F "${PERF_FREQ:-499}" --call-graph "${PERF_CALLGRAPH:-fp}" -o "$PERF_OUT" -p "$gw_pid" 2>/dev/null & perf_pid=$!
  fi
  "$load" gateway --api "http://127.0.0.1:$api_port" --token load --messages "$messages" \
    --batch "${BATCH:-100}" --concurrency "${CONCURRENCY:-8}" --sink "127.0.0.1:$sink_port" --secret load \
    --numbers "${LIMITS:-${NUMBERS:-1}}" --label "${LABEL:-carrier-gateway${LIMITS:+ (limits on ${LIMITS} numbers)}}" \
    >"$out"
  after=$(cpu_ticks "$gw_pid")
  if [ -n "$perf_pid" ]; then kill -INT "$perf_pid"; wait "$perf_pid" || true; fi
  with_cost "$out" "$before" "$after" "$(peak_rss_mb "$gw_pid")"
  if [ -n "${METRICS_OUT:-}" ]; then curl -s "http://127.0.0.1:$metrics_port/metrics" >"$METRICS_OUT"; fi
  kill "$gw_pid" "$sim_pid" 2>/dev/null || true
  wait "$gw_pid" "$sim_pid" 2>/dev/null || true
}

# run_kannel OUT_JSON: Kannel's run, one message per `sendsms`, DLRs on.
run_kannel() {
  local out=$1 sim_port dlr_port before after boxes
  benches/kannel/setup.sh >/dev/null
  sim_port=$(port); dlr_port=$(port)
  "$sim_bin" sim smsc --listen 127.0.0.1:"$sim_port" >"$work/sim-kannel.log" 2>&1 & pids+=($!)
  local sim_pid=$!
  wait_port "$sim_port"
  mkdir -p "$work/kannel"
  url=$(DLR_PORT=$dlr_port KANNEL_BINDS=${BINDS:-2} KANNEL_WINDOW=${KANNEL_WINDOW:-${WINDOW:-64}} \
    benches/kannel/run.sh "127.0.0.1:$sim_port" "$work/kannel" | sed -n 's/^KANNEL_SENDSMS_URL=//p')
  boxes="$(cat "$work/kannel/bearerbox.pid") $(cat "$work/kannel/smsbox.pid")"
  # shellcheck disable=SC2086
  before=$(cpu_ticks $boxes)
  "$load" kannel --sendsms-url "$url&dlr-mask=3&dlr-url=http%3A%2F%2F127.0.0.1%3A$dlr_port%2Fdlr%3Ftype%3D%25d" \
    --messages "${KANNEL_MESSAGES:-$messages}" --concurrency "${KANNEL_CONCURRENCY:-64}" \
    --dlr-listen "127.0.0.1:$dlr_port" --label "kannel" >"$out"
  # shellcheck disable=SC2086
  after=$(cpu_ticks $boxes)
  # shellcheck disable=SC2086
  with_cost "$out" "$before" "$after" "$(peak_rss_mb $boxes)"
  benches/kannel/stop.sh "$work/kannel" >/dev/null 2>&1 || true
  kill "$sim_pid" 2>/dev/null || true
  wait "$sim_pid" 2>/dev/null || true
}

# The like-for-like rounds: one per request on both sides, then the batch API.
run_pairs() {
  local rounds=${PAIRS:-3} i
  export BINDS=${BINDS:-2} WINDOW=${WINDOW:-64} KANNEL_MESSAGES=${KANNEL_MESSAGES:-$messages}
  export KANNEL_CONCURRENCY=${CONCURRENCY:-64}
  echo "like for like: $BINDS binds, window $WINDOW, $KANNEL_CONCURRENCY connections, $rounds rounds"
  for i in $(seq 1 "$rounds"); do
    one_gateway() { BATCH=1 CONCURRENCY=$KANNEL_CONCURRENCY WEBHOOK_BATCH_MAX=1 LABEL=gateway-one \
      run_gateway "$work/round$i-gateway-one.json"; }
    if [ $((i % 2)) -eq 1 ]; then one_gateway; run_kannel "$work/round$i-kannel.json"
    else run_kannel "$work/round$i-kannel.json"; one_gateway; fi
    BATCH=100 CONCURRENCY=8 WEBHOOK_BATCH_MAX=100 LABEL=gateway-batch \
      run_gateway "$work/round$i-gateway-batch.json"
  done
  python3 - "$work" "$rounds" <<'PY'
import json, statistics, sys
work, rounds = sys.argv[1], int(sys.argv[2])
runs = {k: [json.load(open(f"{work}/round{i}-{k}.json")) for i in range(1, rounds + 1)]
        for k in ("gateway-one", "kannel", "gateway-batch")}
def med(kind, key):
    return statistics.median(r[key] for r in runs[kind])
def each(kind, key):
    return " · ".join(f"{r[key]:,.1f}" for r in runs[kind])
print("\n| median of %d rounds | gateway, one per POST | Kannel, one per sendsms | ratio | gateway, batch API |" % rounds)
print("|---|---:|---:|---:|---:|")
for key, name in [("delivered_per_s", "delivered msg/s"), ("accepted_per_s", "accepted msg/s"),
                  ("cpu_us_per_msg", "CPU µs per message"), ("rss_mb", "peak RSS (MB)"),
                  ("latency_ms_p50", "accept latency p50 (ms)"), ("latency_ms_p99", "accept latency p99 (ms)")]:
    g, k, b = med("gateway-one", key), med("kannel", key), med("gateway-batch", key)
    print(f"| {name} | {g:,.1f} | {k:,.1f} | {g / k if k else float('nan'):.2f} | {b:,.1f} |")
print("\nruns:")
for kind in runs:
    for key in ("delivered_per_s", "cpu_us_per_msg"):
        print(f"- {kind} {key}: {each(kind, key)}")
lost = sum(r["messages"] - r["delivered"] for rs in runs.values() for r in rs)
print(f"- messages not confirmed delivered, all runs: {lost}")
PY
}

case "$which" in
  gateway) run_gateway "$work/gateway.json" ;;
  kannel) run_kannel "$work/kannel.json" ;;
  both) run_gateway "$work/gateway.json"; run_kannel "$work/kannel.json" ;;
  pairs) run_pairs; exit 0 ;;
  *) echo "usage: $0 [MESSAGES] [both|gateway|kannel|pairs]" >&2; exit 2 ;;
esac
if [ "$which" = both ]; then
  python3 - "$work/gateway.json" "$work/kannel.json" <<'PY'
import json, sys
g, k = (json.load(open(p)) for p in sys.argv[1:3])
print("\n| | carrier-gateway | Kannel | ratio |\n|---|---|---|---|")
for key, name in [("accepted_per_s", "accepted msg/s"), ("delivered_per_s", "delivered msg/s"),
                  ("cpu_us_per_msg", "CPU µs per message"), ("rss_mb", "peak RSS (MB)"),
                  ("latency_ms_p50", "accept latency p50 (ms)"), ("latency_ms_p99", "accept latency p99 (ms)")]:
    ratio = g[key] / k[key] if k[key] else float("nan")
    print(f"| {name} | {g[key]:,.1f} | {k[key]:,.1f} | {ratio:.2f}x |")
PY
fi
