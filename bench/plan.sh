#!/usr/bin/env bash
# Times `shipshape plan -o json` on a generated 100,000-image describe-images file (ECR's
# default per-repository image cap) and reports wall time and peak resident memory.
# Usage: bench/plan.sh [RUNS]   (default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
out=bench/out
mkdir -p "$out"
go build -o "$out/shipshape" ./cmd/shipshape
[ -s "$out/images-100k.json" ] || go run ./bench/gen -n 100000 -o "$out/images-100k.json"
printf 'input: %s (%s bytes)\n' "$out/images-100k.json" "$(wc -c <"$out/images-100k.json")"
if [ ! -x /usr/bin/time ]; then
  echo "GNU time (/usr/bin/time) is needed for the memory figure: apt-get install time" >&2
  exit 1
fi
for i in $(seq "$runs"); do
  /usr/bin/time -f "run $i: %e s wall, %M KB peak RSS" \
    "$out/shipshape" plan --policy examples/policies/keep-streams.json \
    --images "$out/images-100k.json" --now 2026-06-01T12:00:00Z -o json >"$out/plan.json"
done
printf 'plan: %s bytes of JSON\n' "$(wc -c <"$out/plan.json")"
