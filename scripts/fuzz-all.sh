#!/usr/bin/env bash
# Runs every cargo-fuzz target for SECONDS (default 600) each, JOBS at a time
# (default 1), on the stable toolchain without sanitizers (`-s none`, the
# fastest mode; use RUSTC_BOOTSTRAP=1 and drop `-s none` for AddressSanitizer).
# Logs go to fuzz/logs/TARGET.log; each log ends with libFuzzer's summary.
#   scripts/fuzz-all.sh [SECONDS] [JOBS]
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds=${1:-600}
jobs=${2:-1}
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
cargo fuzz build -s none
mkdir -p logs
targets=$(cargo fuzz list)
status=0
run() {
  local t=$1
  mkdir -p "corpus/$t"
  if cargo fuzz run -s none "$t" "corpus/$t" -- -max_total_time="$seconds" -rss_limit_mb=2048 \
      >"logs/$t.log" 2>&1; then
    echo "$t: no finding in ${seconds}s ($(grep -o 'Done [0-9]* runs' "logs/$t.log" | tail -1))"
  else
    echo "$t: FINDING, see fuzz/logs/$t.log and fuzz/artifacts/$t/"
    return 1
  fi
}
running=0
for t in $targets; do
  run "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then
    wait -n || status=1
    running=$((running - 1))
  fi
done
while [ "$running" -gt 0 ]; do
  wait -n || status=1
  running=$((running - 1))
done
exit $status
