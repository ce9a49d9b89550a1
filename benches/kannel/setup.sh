#!/usr/bin/env bash
# Installs Kannel (Debian package `kannel`, 1.4.5) for the load benchmark's
# comparison peer, without ever running it as a system service.
#
# Idempotent: does nothing when bearerbox and smsbox are already installed
# (apart from making sure the packaged service is stopped and disabled).
# Global effects, and only these: the `kannel` package and its dependencies
# are installed; the packaged `kannel` service is disabled and stopped.
# The benchmark runs its own bearerbox/smsbox from benches/kannel/run.sh.
set -euo pipefail

need_root() {
    if [ "$(id -u)" -ne 0 ]; then
        echo "setup.sh: run as root (apt-get install kannel)" >&2
        exit 1
    fi
}

installed() {
    if command -v bearerbox >/dev/null 2>&1 && command -v smsbox >/dev/null 2>&1; then
        return 0
    fi
    [ -x /usr/sbin/bearerbox ] && [ -x /usr/sbin/smsbox ]
}

if ! installed; then
    need_root
    export DEBIAN_FRONTEND=noninteractive
    # Keep the package's maintainer scripts from starting the service: a
    # policy-rc.d that answers 101 ("action forbidden") for the duration of
    # the install, removed again afterwards if we were the ones to add it.
    policy=/usr/sbin/policy-rc.d
    added_policy=0
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod 755 "$policy"
        added_policy=1
    fi
    cleanup() { if [ "$added_policy" = 1 ]; then rm -f "$policy"; fi; }
    trap cleanup EXIT
    # Only refresh the package lists when apt cannot see the package yet.
    if ! apt-cache show kannel >/dev/null 2>&1; then
        apt-get update -q
    fi
    apt-get install -y -q --no-install-recommends kannel
    cleanup
    trap - EXIT
fi

# Never leave the packaged service enabled or running (it would bind the
# default ports 13000/13001 and run its own bearerbox from /etc/kannel).
if [ "$(id -u)" -eq 0 ]; then
    if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
        systemctl disable --now kannel.service >/dev/null 2>&1 || true
    elif [ -x /etc/init.d/kannel ]; then
        if command -v update-rc.d >/dev/null 2>&1; then
            update-rc.d kannel disable >/dev/null 2>&1 || true
        fi
        # Stop it only if the packaged instance is actually running.
        if [ -e /var/run/kannel/kannel_bearerbox.pid ] \
            && kill -0 "$(cat /var/run/kannel/kannel_bearerbox.pid)" 2>/dev/null; then
            /etc/init.d/kannel stop >/dev/null 2>&1 || true
        fi
    fi
fi

if ! installed; then
    echo "setup.sh: kannel did not install (no bearerbox/smsbox)" >&2
    exit 1
fi
echo "kannel: $(dpkg-query -W -f='${Version}' kannel 2>/dev/null || echo unknown) ($(command -v bearerbox || echo /usr/sbin/bearerbox))"
