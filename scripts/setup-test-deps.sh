#!/usr/bin/env bash
# What the test suite needs beyond cargo, installed from Debian's packages:
# systemd-analyze (tests/systemd_unit.rs checks the unit file with it).
# Idempotent; run by .ci/run before the tests.
set -euo pipefail

missing=()
command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)

if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
