#!/usr/bin/env bash
# End-to-end load benchmark: the gateway and Kannel, same workload, same
# SMSC simulator, same machine, same run. Prints one JSON line per run and a
# summary with the ratio.
#
#   benches/load.sh [MESSAGES] [which: both|gateway|kannel]
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
# needs no rebuild between its runs).
set -euo pipefail
cd "$(dirname "$0")/.."
messages=${1:-200000}
which=${2:-both}
batch=${BATCH:-100}
concurrency=${CONCURRENCY:-8}
work=$(mktemp -d /tmp/cg-load.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  if [ -x benches/kannel/stop.sh ] && [ -d "$work/kannel" ]; then benches/kannel/stop.sh "$work/kannel" || true; fi
  wait 2>/dev/null || true
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

run_gateway() {
  local sim_port api_port sink_port metrics_port
  sim_port=$(port); api_port=$(port); sink_port=$(port); metrics_port=$(port)
  "$sim_bin" sim smsc --listen 127.0.0.1:"$sim_port" >"$work/sim-gw.log" 2>&1 & pids+=($!)
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
batch_max = 500
status_events = ["delivered", "failed", "expired"]
[[carriers]]
name = "sim"
protocol = "smpp"
host = "127.0.0.1"
port = $sim_port
system_id = "gw"
password = "gw"
binds = 2
window = 256
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
  wait_port "$api_port"
  "$load" gateway --api "http://127.0.0.1:$api_port" --token load --messages "$messages" \
    --batch "$batch" --concurrency "$concurrency" --sink "127.0.0.1:$sink_port" --secret load \
    --numbers "${LIMITS:-${NUMBERS:-1}}" --label "carrier-gateway${LIMITS:+ (limits on ${LIMITS} numbers)}" \
    | tee "$work/gateway.json"
}

run_kannel() {
  local sim_port dlr_port
  benches/kannel/setup.sh >/dev/null
  sim_port=$(port); dlr_port=$(port)
  "$sim_bin" sim smsc --listen 127.0.0.1:"$sim_port" >"$work/sim-kannel.log" 2>&1 & pids+=($!)
  wait_port "$sim_port"
  mkdir -p "$work/kannel"
  url=$(DLR_PORT=$dlr_port benches/kannel/run.sh "127.0.0.1:$sim_port" "$work/kannel" | sed -n 's/^KANNEL_SENDSMS_URL=//p')
  "$load" kannel --sendsms-url "$url&dlr-mask=3&dlr-url=http%3A%2F%2F127.0.0.1%3A$dlr_port%2Fdlr%3Ftype%3D%25d" \
    --messages "${KANNEL_MESSAGES:-$messages}" --concurrency "${KANNEL_CONCURRENCY:-64}" \
    --dlr-listen "127.0.0.1:$dlr_port" --label "kannel" | tee "$work/kannel.json"
}

case "$which" in
  gateway) run_gateway ;;
  kannel) run_kannel ;;
  both) run_gateway; run_kannel ;;
esac
if [ "$which" = both ]; then
  python3 - "$work/gateway.json" "$work/kannel.json" <<'PY'
import json, sys
g, k = (json.load(open(p)) for p in sys.argv[1:3])
print("\n| | carrier-gateway | Kannel | ratio |\n|---|---|---|---|")
for key, name in [("accepted_per_s", "accepted msg/s"), ("delivered_per_s", "delivered msg/s"),
                  ("latency_ms_p50", "accept latency p50 (ms)"), ("latency_ms_p99", "accept latency p99 (ms)")]:
    ratio = g[key] / k[key] if k[key] else float("nan")
    print(f"| {name} | {g[key]:,.1f} | {k[key]:,.1f} | {ratio:.2f}x |")
PY
fi
