#!/usr/bin/env bash
# Instructions per operation (callgrind), ours vs rusmpp. Stable on a noisy
# machine: the same binary and input give the same count.
#   benches/instructions.sh [ITERATIONS]   (default 10000)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10000}
command -v valgrind >/dev/null || { echo "needs valgrind (apt-get install valgrind)"; exit 2; }
bin=$(cargo bench --bench codec_instructions --no-run --message-format=json 2>/dev/null \
  | python3 -c 'import json,sys
for l in sys.stdin:
    m=json.loads(l)
    if m.get("reason")=="compiler-artifact" and m["target"]["name"]=="codec_instructions" and m.get("executable"):
        print(m["executable"])')
count() {
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" "$1" "$2" 2>&1 \
    | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
ops="decode_submit_sm_ours decode_submit_sm_rusmpp_owned decode_submit_sm_rusmpp_borrowed
decode_deliver_sm_receipt_ours decode_deliver_sm_receipt_rusmpp_owned decode_deliver_sm_receipt_rusmpp_borrowed
rusmpp_owned_input_copy
encode_submit_sm_ours encode_submit_sm_rusmpp_owned encode_deliver_sm_receipt_ours encode_deliver_sm_receipt_rusmpp_owned
gsm7_encode_160_ours gsm7_encode_160_rusmpp receipt_ours_decode_parse_normalize receipt_ours_parse_text_only"
printf '%-45s %12s\n' operation instr/op
for op in $ops; do
  one=$(count "$op" 1)
  many=$(count "$op" $((n + 1)))
  awk -v op="$op" -v a="$one" -v b="$many" -v n="$n" 'BEGIN { printf "%-45s %12.1f\n", op, (b - a) / n }'
done
