#!/usr/bin/env bash
# 100,000 open sessions: what the SMS channel costs. The simulator sends
# one MO message from each of N customers to one business number; the
# gateway stores each, opens a session with its timers (idle 30 min, expiry
# 24 h), sends the line's consent message once and hands `message.received`
# to a webhook receiver. Then the same traffic without a line (no channel
# logic: stored and handed over only). Reports, per run, the gateway's CPU
# time per inbound message (its own process: utime + stime), the inbound
# rate, the RSS with every session open, and the open-session gauge.
#
#   benches/sessions.sh [CUSTOMERS]   (default 100000)
#
# Environment: GATEWAY_BIN (an already built binary; default: this tree's
# dist build).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100000}
work=$(mktemp -d /tmp/cg-sessions.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

if [ -z "${GATEWAY_BIN:-}" ]; then cargo build --profile dist --quiet; fi
bin=${GATEWAY_BIN:-target/dist/carrier-gateway}
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 2000); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.005; done; echo "port $1 never opened" >&2; return 1; }
metric() { curl -s "http://127.0.0.1:$metrics_port/metrics" | awk -v n="$1" 'index($0, n) == 1 && (substr($0, length(n) + 1, 1) == "{" || substr($0, length(n) + 1, 1) == " ") { s += $NF } END { printf "%d", s }'; }
cpu_ticks() { awk '{ print $14 + $15 }' /proc/"$1"/stat; }
rss_mb() { awk '/VmRSS/ {printf "%.0f", $2/1024}' /proc/"$1"/status; }

python3 - "$n" >"$work/mo.jsonl" <<'PY'
import json, sys
for k in range(int(sys.argv[1])):
    print(json.dumps({"from": f"+1700{k:07d}", "to": "+15551230001", "text": "Hi, where is my order?"}))
PY

sink_port=$(port)
python3 - "$sink_port" >/dev/null 2>&1 <<'PY' &
import http.server, sys
class Sink(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Sink).serve_forever()
PY
pids+=($!)
wait_port "$sink_port"

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(uname -r)"
echo "workload: one MO message from each of $n customers to one number"
clk=$(getconf CLK_TCK)

run() {
  local label=$1 line=$2
  local state="$work/state-$label" sim_port api_port
  sim_port=$(port); api_port=$(port); metrics_port=$(port)
  cat >"$work/gateway-$label.toml" <<CONF
state_dir = "$state"
[api]
listen = "127.0.0.1:$api_port"
tokens = ["bench"]
[metrics]
listen = "127.0.0.1:$metrics_port"
[core]
webhook_url = "http://127.0.0.1:$sink_port/events"
webhook_secret = "bench"
batch_max = 500
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
  if [ "$line" = yes ]; then
    cat >>"$work/gateway-$label.toml" <<'CONF'
line = "support"
[[lines]]
name = "support"
consent_message = "Acme Support: msgs about your requests. Reply STOP to opt out, HELP for help."
help_message = "Acme Support: help at acme.example."
stop_message = "You are unsubscribed from Acme Support."
start_message = "You are subscribed to Acme Support again."
idle_timeout = "30m"
expiry = "24h"
[[lines.queues]]
name = "general"
CONF
  fi
  RUST_LOG=warn "$bin" run --config "$work/gateway-$label.toml" >>"$work/gateway-$label.log" 2>&1 &
  local gw=$!; pids+=("$gw")
  wait_port "$api_port"
  local c0 t0 c1 t1 received=0
  c0=$(cpu_ticks "$gw"); t0=$(date +%s.%N)
  "$bin" sim smsc --listen 127.0.0.1:"$sim_port" --mo-file "$work/mo.jsonl" >"$work/sim-$label.log" 2>&1 &
  local sim=$!; pids+=("$sim")
  local deadline=$(( $(date +%s) + 1200 ))
  while [ "$received" -lt "$n" ]; do
    sleep 0.5
    received=$(metric carrier_gateway_messages_received_total)
    if [ "$(date +%s)" -gt "$deadline" ]; then echo "$label: only $received received after 20 min" >&2; break; fi
  done
  # The consent replies and the webhook backlog settle.
  while [ "$(metric carrier_gateway_webhook_backlog)" -gt 0 ] || [ "$(metric carrier_gateway_outbox_depth)" -gt 0 ]; do
    sleep 0.5
    if [ "$(date +%s)" -gt "$deadline" ]; then break; fi
  done
  c1=$(cpu_ticks "$gw"); t1=$(date +%s.%N)
  local open rss consents
  open=$(metric carrier_gateway_sessions_open)
  consents=$(metric carrier_gateway_consent_sent_total)
  rss=$(rss_mb "$gw")
  python3 - "$label" "$received" "$c0" "$c1" "$clk" "$t0" "$t1" "$rss" "$open" "$consents" <<'PY'
import json, sys
label, n, c0, c1, clk, t0, t1, rss, open_, consents = sys.argv[1:]
n = int(n); cpu = (int(c1) - int(c0)) / int(clk); wall = float(t1) - float(t0)
print(json.dumps({"run": label, "received": n, "wall_s": round(wall, 1),
  "received_per_s": round(n / wall), "gateway_cpu_s": round(cpu, 2),
  "cpu_us_per_message": round(cpu / n * 1e6, 1), "rss_mb": int(rss),
  "sessions_open": int(open_), "consents_sent": int(consents)}))
PY
  kill "$sim" "$gw" 2>/dev/null || true
  wait "$sim" "$gw" 2>/dev/null || true
}

run channel yes
run plain no
