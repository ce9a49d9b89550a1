#!/usr/bin/env bash
# Shows, with strace, that an fsync-class call precedes every 202: runs the
# gateway under `strace -f`, sends MESSAGES single-message requests from
# CONCURRENCY clients, and checks in the trace that every HTTP response
# carrying "202 Accepted" is written after an fdatasync that began after the
# request was read (docs/architecture.md).
#   scripts/durability-trace.sh [MESSAGES] [CONCURRENCY]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-400}
c=${2:-16}
command -v strace >/dev/null || { echo "needs strace (apt-get install strace)"; exit 2; }
cargo build --profile dist --quiet
work=$(mktemp -d /tmp/cg-strace.XXXXXX)
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
sim=$(port); api=$(port); met=$(port); sink=$(port)
target/dist/carrier-gateway sim smsc --listen 127.0.0.1:$sim >/dev/null 2>&1 & simpid=$!
cat >"$work/gw.toml" <<CONF
state_dir = "$work/state"
[api]
listen = "127.0.0.1:$api"
tokens = ["t"]
[metrics]
listen = "127.0.0.1:$met"
[core]
webhook_url = "http://127.0.0.1:$sink/events"
webhook_secret = "s"
[[carriers]]
name = "sim"
protocol = "smpp"
host = "127.0.0.1"
port = $sim
system_id = "gw"
password = "gw"
[[numbers]]
number = "+15551230001"
carrier = "sim"
CONF
strace -f -ttt -T -e trace=fdatasync,fsync,sync_file_range,read,recvfrom,write,writev,sendto \
  -e signal=none -s 64 -o "$work/trace" \
  target/dist/carrier-gateway run --config "$work/gw.toml" 2>/dev/null & gwpid=$!
for _ in $(seq 1 200); do (exec 3<>/dev/tcp/127.0.0.1/$api) 2>/dev/null && break; sleep 0.05; done
seq 1 "$n" | xargs -P "$c" -I{} curl -s -o /dev/null -H 'Authorization: Bearer t' \
  -H 'Content-Type: application/json' \
  -d '{"from":"+15551230001","to":"+1555765{}","text":"trace {}"}' "http://127.0.0.1:$api/v1/messages"
# SIGTERM the gateway itself (strace passes through), then let strace end.
pkill -TERM -f "carrier-gateway run --config $work/gw.toml" || true
wait $gwpid 2>/dev/null || true
kill $simpid 2>/dev/null || true
python3 - "$work/trace" <<'PY'
import re, sys
# strace -f -ttt -T lines: "TID TIME call(args) = R <DUR>", or split into
# "TID TIME call(args <unfinished ...>" and "TID TIME <... call resumed>...".
start = {}            # tid -> (call, fd, t0, text)
calls = []            # (call, fd, t_start, t_end, text)
for line in open(sys.argv[1]):
    m = re.match(r'(\d+)\s+([\d.]+)\s+(.*)$', line)
    if not m:
        continue
    tid, t, rest = m.group(1), float(m.group(2)), m.group(3)
    dur = re.search(r'<([\d.]+)>\s*$', rest)
    if rest.startswith('<...'):
        r = re.match(r'<\.\.\. (\w+) resumed>(.*)', rest)
        if r and tid in start:
            call, fd, t0, text = start.pop(tid)
            end = t0 + float(dur.group(1)) if dur else t
            calls.append((call, fd, t0, end, text + r.group(2)))
        continue
    c = re.match(r'(\w+)\((\d+)?', rest)
    if not c:
        continue
    call, fd = c.group(1), c.group(2)
    if rest.endswith('<unfinished ...>'):
        start[tid] = (call, fd, t, rest)
    else:
        calls.append((call, fd, t, t + (float(dur.group(1)) if dur else 0), rest))
syncs = [(t0, t1) for call, fd, t0, t1, text in calls if call == 'fdatasync' and '= 0' in text]
last_read = {}
ok = bad = 0
for call, fd, t0, t1, text in sorted(calls, key=lambda c: c[2]):
    if call in ('read', 'recvfrom') and 'POST /v1/messages' in text:
        last_read[fd] = t1
    elif call in ('write', 'writev', 'sendto') and '202 Accepted' in text:
        r = last_read.get(fd)
        if r is not None and any(s0 >= r and s1 <= t0 for s0, s1 in syncs):
            ok += 1
        else:
            bad += 1
print(f"202 responses: {ok + bad}; each preceded by an fdatasync that began after its request was read and ended before the 202 was written: {ok}; not: {bad}")
print(f"fdatasync calls: {len(syncs)} for {ok + bad} acknowledged messages (group commit)")
sys.exit(1 if bad or ok == 0 else 0)
PY
