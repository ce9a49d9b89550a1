#!/usr/bin/env bash
# Stops the bearerbox and smsbox that run.sh started in WORKDIR, cleanly:
#
#   benches/kannel/stop.sh WORKDIR
#
# bearerbox gets SIGTERM (the same as the admin `shutdown` command): it stops
# taking messages, tells smsbox to exit, unbinds its SMPP connections after
# waiting for the submit_sm_resp of what is in flight (Kannel waits up to 30 s),
# and writes its store file out (store_shutdown) before it exits. smsbox gets
# SIGTERM too if it is still up after bearerbox. A box still running after
# KANNEL_STOP_TIMEOUT seconds (default 60) is killed with SIGKILL, and the
# script then exits 1. Idempotent: nothing running, nothing to do.
set -uo pipefail

[ $# -eq 1 ] || { echo "usage: $0 WORKDIR" >&2; exit 2; }
workdir=$1
timeout=${KANNEL_STOP_TIMEOUT:-60}

log() { echo "kannel/stop.sh: $*" >&2; }

pid_of() {
    local f="$workdir/$1.pid" pid
    [ -s "$f" ] || return 1
    pid=$(cat "$f")
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    # Only a process that is really this box (the PID may have been reused).
    [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "$1" || return 1
    echo "$pid"
}

# Waits (bounded) for PID to exit; 0 if it did.
wait_exit() {
    local pid=$1 deadline=$((SECONDS + $2))
    while [ $SECONDS -lt $deadline ]; do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.2
    done
    ! kill -0 "$pid" 2>/dev/null
}

rc=0
bb=$(pid_of bearerbox) || bb=
sb=$(pid_of smsbox) || sb=

if [ -n "$bb" ]; then
    log "stopping bearerbox (pid $bb)"
    kill -TERM "$bb" 2>/dev/null
    if ! wait_exit "$bb" "$timeout"; then
        log "bearerbox did not exit within ${timeout}s; killing it"
        kill -KILL "$bb" 2>/dev/null
        rc=1
    fi
fi
if [ -n "$sb" ]; then
    # bearerbox told it to exit; give it a moment, then ask it ourselves.
    if ! wait_exit "$sb" 5; then
        log "stopping smsbox (pid $sb)"
        kill -TERM "$sb" 2>/dev/null
        if ! wait_exit "$sb" 20; then
            log "smsbox did not exit; killing it"
            kill -KILL "$sb" 2>/dev/null
            rc=1
        fi
    fi
fi
rm -f "$workdir/bearerbox.pid" "$workdir/smsbox.pid"
[ -z "$bb$sb" ] && log "nothing running in $workdir"
exit $rc
