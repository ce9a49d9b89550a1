#!/usr/bin/env bash
# Starts Kannel (bearerbox + smsbox) against the SMSC simulator for the load
# benchmark, waits until it can take traffic, prints where to send it, and
# returns with both boxes running in the background. stop.sh stops them.
#
#   benches/kannel/run.sh SIM_ADDR WORKDIR
#
# SIM_ADDR is the simulator's HOST:PORT (loopback only: 127.0.0.1:2775).
# WORKDIR receives kannel.conf, the store, the logs, the PIDs
# (bearerbox.pid, smsbox.pid) and ports.env.
#
# On success it prints on stdout, one per line:
#   KANNEL_SENDSMS_URL=http://127.0.0.1:PORT/cgi-bin/sendsms?username=U&password=P
#   KANNEL_DLR_PARAMS=&dlr-mask=3   (append to each request to get delivery
#                                    reports; empty when no KANNEL_DLR_PORT)
#   KANNEL_STATUS_URL=http://127.0.0.1:PORT/status.txt?password=...
# Progress and errors go to stderr.
#
# Optional environment:
#   KANNEL_BINDS=2            SMPP transceiver connections to the simulator
#   KANNEL_WINDOW=64          max-pending-submits per connection
#   KANNEL_DLR_PORT=          port of the benchmark's local DLR receiver (DLR_PORT
#                             is read too); when set, every receipt is reported
#                             by an HTTP GET to
#                             http://127.0.0.1:PORT/dlr?type=T&id=SMSC_ID&to=DESTINATION
#                             (a request's own dlr-url parameter overrides it)
#   KANNEL_DLR_MASK=3         dlr-mask requested with each message (1 delivered,
#                             2 failed; 3 both)
#   KANNEL_LOG_LEVEL=2        0 debug, 1 info, 2 warning, 3 error
#   KANNEL_ADMIN_PORT, KANNEL_SMSBOX_PORT, KANNEL_SENDSMS_PORT: fixed ports
#                             (default: free ports picked on 127.0.0.1)
#   KANNEL_USER=bench KANNEL_PASSWORD=bench   the sendsms-user
#   KANNEL_KEEP_STORE=0       1: keep WORKDIR's store file from an earlier run
#                             (its messages are sent again); default: start empty
#   KANNEL_START_TIMEOUT=30   seconds to wait for the ports and the binds
#   KANNEL_SMSBOX_MAX_PENDING=1000  KANNEL_MAX_PENDING_REQUESTS=32  (see README)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

usage() {
    echo "usage: $0 SIM_HOST:SIM_PORT WORKDIR" >&2
    exit 2
}
[ $# -eq 2 ] || usage
sim_addr=$1
workdir=$2

log() { echo "kannel/run.sh: $*" >&2; }
die() { log "$*"; exit 1; }

sim_host=${sim_addr%:*}
sim_port=${sim_addr##*:}
case "$sim_host" in
    localhost) sim_host=127.0.0.1 ;;
    127.*) ;;
    *) die "SIM_ADDR must be on the loopback (127.x.x.x or localhost), got '$sim_addr'" ;;
esac
[[ "$sim_port" =~ ^[0-9]+$ ]] || die "bad SIM_ADDR port in '$sim_addr'"

bearerbox=$(command -v bearerbox || echo /usr/sbin/bearerbox)
smsbox=$(command -v smsbox || echo /usr/sbin/smsbox)
if [ ! -x "$bearerbox" ] || [ ! -x "$smsbox" ]; then
    die "bearerbox/smsbox not found: run benches/kannel/setup.sh first"
fi
command -v curl >/dev/null || die "curl is needed"

binds=${KANNEL_BINDS:-2}
window=${KANNEL_WINDOW:-64}
log_level=${KANNEL_LOG_LEVEL:-2}
dlr_port=${KANNEL_DLR_PORT:-${DLR_PORT:-}}
dlr_mask=${KANNEL_DLR_MASK:-3}
user=${KANNEL_USER:-bench}
password=${KANNEL_PASSWORD:-bench}
timeout=${KANNEL_START_TIMEOUT:-30}
smsbox_max_pending=${KANNEL_SMSBOX_MAX_PENDING:-1000}
max_pending_requests=${KANNEL_MAX_PENDING_REQUESTS:-32}
admin_password="admin"
for v in binds window log_level dlr_mask timeout smsbox_max_pending max_pending_requests; do
    [[ "${!v}" =~ ^[0-9]+$ ]] || die "$v must be a number, got '${!v}'"
done
[[ "$user$password" =~ ^[A-Za-z0-9_.-]+$ ]] || die "KANNEL_USER/KANNEL_PASSWORD: use [A-Za-z0-9_.-]"

mkdir -p "$workdir"
workdir=$(cd "$workdir" && pwd)

# Refuse to start twice on one WORKDIR.
for box in bearerbox smsbox; do
    if [ -s "$workdir/$box.pid" ] && kill -0 "$(cat "$workdir/$box.pid")" 2>/dev/null; then
        die "$box already running (pid $(cat "$workdir/$box.pid")); run stop.sh $workdir first"
    fi
    rm -f "$workdir/$box.pid"
done

# Ports: given, or free ones on the loopback.
free_ports() {
    python3 - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}
if [ -n "${KANNEL_ADMIN_PORT:-}" ] && [ -n "${KANNEL_SMSBOX_PORT:-}" ] && [ -n "${KANNEL_SENDSMS_PORT:-}" ]; then
    admin_port=$KANNEL_ADMIN_PORT smsbox_port=$KANNEL_SMSBOX_PORT sendsms_port=$KANNEL_SENDSMS_PORT
elif command -v python3 >/dev/null; then
    read -r p1 p2 p3 < <(free_ports 3)
    admin_port=${KANNEL_ADMIN_PORT:-$p1}
    smsbox_port=${KANNEL_SMSBOX_PORT:-$p2}
    sendsms_port=${KANNEL_SENDSMS_PORT:-$p3}
else
    admin_port=${KANNEL_ADMIN_PORT:-13000}
    smsbox_port=${KANNEL_SMSBOX_PORT:-13001}
    sendsms_port=${KANNEL_SENDSMS_PORT:-13013}
fi

# The DLR callback, the sendsms-user's default dlr-url: Kannel replaces %d
# (DLR type: 1 delivered, 2 failed, 4 buffered, 8 SMSC accepted, 16 SMSC
# rejected), %F (the SMSC's message id, in decimal: msg-id-type 3 converts
# the simulator's hex ids) and %p (the message's destination) when it calls
# it. A request asks for receipts with dlr-mask; without a dlr-url smsbox
# would try to fetch "" for each receipt (two ERROR lines each), so receipts
# are only requested when there is a receiver.
dlr_url=
dlr_params=
if [ -n "$dlr_port" ]; then
    [[ "$dlr_port" =~ ^[0-9]+$ ]] || die "KANNEL_DLR_PORT must be a port number"
    dlr_url="http://127.0.0.1:$dlr_port/dlr?type=%d&id=%F&to=%p"
    dlr_params="&dlr-mask=$dlr_mask"
else
    log "no KANNEL_DLR_PORT: no delivery reports requested (KANNEL_DLR_PARAMS is empty)"
fi

mkdir -p "$workdir/store" "$workdir/log"
# Logs of the previous run become *.1.
for f in "$workdir"/log/*.log "$workdir"/bearerbox.out "$workdir"/smsbox.out; do
    if [ -e "$f" ]; then mv -f "$f" "$f.1"; fi
done
if [ "${KANNEL_KEEP_STORE:-0}" != 1 ]; then
    rm -f "$workdir/store/kannel.store" "$workdir/store/kannel.store.bak" \
        "$workdir/store/kannel.store.new"
fi

# Fill in the template (values contain no '|').
sed -e "s|@SIM_HOST@|$sim_host|g" -e "s|@SIM_PORT@|$sim_port|g" \
    -e "s|@ADMIN_PORT@|$admin_port|g" -e "s|@SMSBOX_PORT@|$smsbox_port|g" \
    -e "s|@SENDSMS_PORT@|$sendsms_port|g" \
    -e "s|@STORE_FILE@|$workdir/store/kannel.store|g" \
    -e "s|@BEARERBOX_LOG@|$workdir/log/bearerbox.log|g" \
    -e "s|@SMSBOX_LOG@|$workdir/log/smsbox.log|g" \
    -e "s|@SMSC_LOG@|$workdir/log/smsc-sim.log|g" \
    -e "s|@LOG_LEVEL@|$log_level|g" -e "s|@BINDS@|$binds|g" -e "s|@WINDOW@|$window|g" \
    -e "s|@ADMIN_PASSWORD@|$admin_password|g" \
    -e "s|@SENDSMS_USER@|$user|g" -e "s|@SENDSMS_PASSWORD@|$password|g" \
    -e "s|@DLR_URL@|${dlr_url//&/\\&}|g" \
    -e "s|@SMSBOX_MAX_PENDING@|$smsbox_max_pending|g" \
    -e "s|@MAX_PENDING_REQUESTS@|$max_pending_requests|g" \
    "$here/kannel.conf.template" >"$workdir/kannel.conf"
# No DLR receiver: no dlr-url at all (an empty one makes smsbox try to fetch
# "" for every receipt and log two errors each time).
if [ -z "$dlr_url" ]; then
    sed -i '/^dlr-url = ""$/d' "$workdir/kannel.conf"
fi
if grep -q '@[A-Z_]*@' "$workdir/kannel.conf"; then
    die "unfilled placeholder in $workdir/kannel.conf: $(grep -o '@[A-Z_]*@' "$workdir/kannel.conf" | head -1)"
fi

cat >"$workdir/ports.env" <<EOF
KANNEL_ADMIN_PORT=$admin_port
KANNEL_SMSBOX_PORT=$smsbox_port
KANNEL_SENDSMS_PORT=$sendsms_port
KANNEL_ADMIN_PASSWORD=$admin_password
EOF

status_url="http://127.0.0.1:$admin_port/status.txt?password=$admin_password"

fail() {
    log "$*"
    for f in "$workdir/bearerbox.out" "$workdir/smsbox.out" "$workdir/log/bearerbox.log" \
        "$workdir/log/smsbox.log" "$workdir/log/smsc-sim.log"; do
        [ -s "$f" ] && { echo "--- tail $f" >&2; tail -n 15 "$f" >&2; }
    done
    "$here/stop.sh" "$workdir" >&2 || true
    exit 1
}

# Wait (bounded) until COMMAND succeeds; checks that PID is still alive.
wait_for() {
    local what=$1 pid=$2
    shift 2
    local deadline=$((SECONDS + timeout))
    while [ $SECONDS -lt $deadline ]; do
        kill -0 "$pid" 2>/dev/null || fail "$what: process $pid exited"
        if "$@" >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.2
    done
    fail "$what: not ready after ${timeout}s"
}

# The boxes stay in the foreground of their own process (no -d): this
# script's background children, in their own session so that a Ctrl-C in
# the caller's terminal does not reach them; stop.sh stops them.
# -v sets the stderr log level (its default is debug, which is slow).
log "starting bearerbox (admin $admin_port, smsbox $smsbox_port, $binds x SMPP to $sim_host:$sim_port, window $window)"
setsid "$bearerbox" -v "$log_level" "$workdir/kannel.conf" \
    </dev/null >"$workdir/bearerbox.out" 2>&1 &
echo $! >"$workdir/bearerbox.pid"
bb_pid=$(cat "$workdir/bearerbox.pid")

admin_up() { curl -sf -m 2 "$status_url"; }
wait_for "bearerbox admin port" "$bb_pid" admin_up

log "starting smsbox (sendsms $sendsms_port)"
setsid "$smsbox" -v "$log_level" "$workdir/kannel.conf" \
    </dev/null >"$workdir/smsbox.out" 2>&1 &
echo $! >"$workdir/smsbox.pid"
sb_pid=$(cat "$workdir/smsbox.pid")

# Any HTTP answer from the sendsms port (no credentials: 4xx) means it listens.
sendsms_up() { curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$sendsms_port/cgi-bin/sendsms" | grep -q '^[1-5]'; }
wait_for "smsbox sendsms port" "$sb_pid" sendsms_up

# Ready when every SMPP connection is online and smsbox is connected.
links_up() {
    local s
    s=$(curl -sf -m 2 "$status_url") || return 1
    kill -0 "$bb_pid" 2>/dev/null || return 1
    [ "$(grep -c '(online' <<<"$s")" -ge "$binds" ] || return 1
    grep -A3 '^Box connections:' <<<"$s" | grep -q 'smsbox.*on-line' || return 1
}
wait_for "SMPP binds online / smsbox connected" "$bb_pid" links_up

log "ready: bearerbox pid $bb_pid, smsbox pid $sb_pid; logs in $workdir/log"
echo "KANNEL_SENDSMS_URL=http://127.0.0.1:$sendsms_port/cgi-bin/sendsms?username=$user&password=$password"
echo "KANNEL_DLR_PARAMS=$dlr_params"
echo "KANNEL_STATUS_URL=$status_url"
