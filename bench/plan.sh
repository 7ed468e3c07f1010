#!/usr/bin/env bash
# Times `shipshape plan -o json` on generated describe-images files of 1,000, 10,000, 100,000
# (ECR's default per-repository image cap) and 1,000,000 images, and prints a table of wall
# time, CPU time (user and system, which a busy machine disturbs less) and peak resident
# memory (GNU time), which it also writes to bench/out/plan.txt.
# Usage: bench/plan.sh [RUNS]   (default 3; each figure is the range over the runs)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
out=bench/out
sizes=(1000 10000 100000 1000000)
now=2026-06-01T12:00:00Z
if [ ! -x /usr/bin/time ]; then
  echo "GNU time (/usr/bin/time) is needed for the memory figure: apt-get install time" >&2
  exit 1
fi
mkdir -p "$out"
go build -o "$out/shipshape" ./cmd/shipshape
go build -o "$out/gen" ./bench/gen
for n in "${sizes[@]}"; do
  [ -s "$out/images-$n.json" ] || "$out/gen" -n "$n" -o "$out/images-$n.json"
done

# mb prints a byte count in MB.
mb() { awk -v b="$1" 'BEGIN { printf(b < 10e6 ? "%.1f MB" : "%.0f MB", b / 1e6) }'; }
# range prints the smallest and largest of its arguments as "a" or "a–b", with unit $1 and
# format $2.
range() {
  local unit=$1 format=$2
  shift 2
  printf '%s\n' "$@" | sort -g | awk -v u="$unit" -v f="$format" '
    NR == 1 { lo = $1 } { hi = $1 }
    END { a = sprintf(f, lo); b = sprintf(f, hi); print (a == b ? a : a "–" b) " " u }'
}

{
  printf 'shipshape plan -o json, policy examples/policies/keep-streams.json, best and worst of %d runs\n' "$runs"
  printf '%s, %s CPUs, %s\n\n' "$(go version | cut -d' ' -f3)" "$(nproc)" "$(date -u +%Y-%m-%d)"
  printf '| Images | describe-images in | plan JSON out | Wall time | CPU time | Peak RSS |\n'
  printf '|---:|---:|---:|---:|---:|---:|\n'
  for n in "${sizes[@]}"; do
    in="$out/images-$n.json"
    walls=() cpus=() rss=()
    for _ in $(seq "$runs"); do
      /usr/bin/time -f '%e %U %S %M' -o "$out/time.txt" "$out/shipshape" plan --policy examples/policies/keep-streams.json \
        --images "$in" --now "$now" -o json >"$out/plan-$n.json"
      read -r wall user sys kb <"$out/time.txt"
      walls+=("$wall") cpus+=("$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')") rss+=("$((kb / 1024))")
    done
    printf '| %s | %s | %s | %s | %s | %s |\n' "$(printf '%d' "$n" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta')" \
      "$(mb "$(wc -c <"$in")")" "$(mb "$(wc -c <"$out/plan-$n.json")")" \
      "$(range s '%.2f' "${walls[@]}")" "$(range s '%.2f' "${cpus[@]}")" "$(range MB '%d' "${rss[@]}")"
  done
} | tee "$out/plan.txt"
