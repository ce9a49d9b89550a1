#!/usr/bin/env bash
# The backlog on disk, at scale: 1,000,000 messages queued through the batch
# API while the carrier is down, then a restart, then the carrier back.
# Reports the gateway's RSS with the backlog queued, how soon the API listens
# after a restart, the RSS after it, and that every message reached the
# carrier exactly once (from the simulator's record) and was delivered.
#
#   benches/backlog.sh [MESSAGES]
#
# Environment: GATEWAY_BIN and LOAD_BIN (already built binaries, as in
# benches/load.sh), BATCH (messages per request, 1000), CONCURRENCY (4).
set -euo pipefail
cd "$(dirname "$0")/.."
messages=${1:-1000000}
batch=${BATCH:-1000}
concurrency=${CONCURRENCY:-4}
work=$(mktemp -d /tmp/cg-backlog.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
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
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 2000); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.005; done; echo "port $1 never opened" >&2; return 1; }
rss_mb() { awk '/VmRSS/ {printf "%.0f", $2/1024}' /proc/"$1"/status; }
hwm_mb() { awk '/VmHWM/ {printf "%.0f", $2/1024}' /proc/"$1"/status; }
metric() { curl -s "http://127.0.0.1:$metrics_port/metrics" | awk -v n="$1" -v l="$2" 'index($0, n) == 1 && index($0, l) { s += $NF } END { printf "%d", s }'; }

sim_port=$(port); api_port=$(port); sink_port=$(port); metrics_port=$(port)
cat >"$work/gateway.toml" <<CONF
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
[store]
max_outbox = 2000000
[[carriers]]
name = "sim"
protocol = "smpp"
host = "127.0.0.1"
port = $sim_port
system_id = "gw"
password = "gw"
binds = 2
window = 256
[[numbers]]
number = "+15551230001"
carrier = "sim"
CONF

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(uname -r)"
echo "workload: $messages messages to $messages customers from one number, carrier down, batch $batch"
start_gateway() {
  RUST_LOG=warn "$bin" run --config "$work/gateway.toml" >>"$work/gateway.log" 2>&1 &
  gw=$!; pids+=("$gw")
}

start_gateway
wait_port "$api_port"
"$load" gateway --api "http://127.0.0.1:$api_port" --token load --messages "$messages" \
  --batch "$batch" --concurrency "$concurrency" --no-wait --label queue | tee "$work/queue.json"
sleep 2
rss_queued=$(rss_mb "$gw"); hwm_queued=$(hwm_mb "$gw")
disk_mb=$(du -sm "$work/state" | cut -f1)
echo "queued: RSS ${rss_queued} MB (peak ${hwm_queued} MB), state dir ${disk_mb} MB"

kill -TERM "$gw"; wait "$gw" || true
t0=$(date +%s.%N)
start_gateway
wait_port "$api_port"
t1=$(date +%s.%N)
listen_s=$(python3 -c "print(f'{$t1 - $t0:.2f}')")
sleep 3
rss_restart=$(rss_mb "$gw")
depth=$(metric carrier_gateway_outbox_depth "")
echo "restart: API listening after ${listen_s} s; RSS ${rss_restart} MB 3 s later; outbox depth ${depth}"

"$bin" sim smsc --listen 127.0.0.1:"$sim_port" --record "$work/record.jsonl" >"$work/sim.log" 2>&1 & pids+=($!)
t0=$(date +%s.%N)
peak=0
deadline=$(( $(date +%s) + 1800 ))
while :; do
  delivered=$(metric carrier_gateway_messages_total 'status="delivered"')
  r=$(rss_mb "$gw"); [ "$r" -gt "$peak" ] && peak=$r
  [ "$delivered" -ge "$messages" ] && break
  if [ "$(date +%s)" -gt "$deadline" ]; then echo "only $delivered delivered after 30 min" >&2; break; fi
  sleep 1
done
t1=$(date +%s.%N)
drain_s=$(python3 -c "print(f'{$t1 - $t0:.1f}')")
echo "carrier back: $delivered delivered in ${drain_s} s; RSS at most ${peak} MB while draining"
python3 - "$work/record.jsonl" "$messages" <<'PY'
import json, sys
seen = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    key = (r["destination_addr"], r["short_message_hex"])
    seen[key] = seen.get(key, 0) + 1
twice = sum(1 for n in seen.values() if n > 1)
print(f"simulator: {sum(seen.values())} submits, {len(seen)} distinct messages, {twice} sent more than once (of {sys.argv[2]})")
sys.exit(0 if len(seen) == int(sys.argv[2]) and twice == 0 else 1)
PY
