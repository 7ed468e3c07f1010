#!/usr/bin/env bash
# Times `shipshape inventory`, cold and warm, against a plain 8-thread Python script gathering the same facts from a local registry.
# Usage: bench/inventory.sh [BUILDS] [ROUNDS]   (default 1500 builds: 2,000 tags, 4,500 manifests; 3 rounds)
#
# Starts Debian's docker-registry on a free port of 127.0.0.1 with its storage in a temporary
# directory, fills it with bench/fill, and reads the repository through bench/count, a proxy
# that counts requests by kind. Each round runs, one after the other:
#   1. script: bench/inventory_baseline.py, python3 with urllib and 8 threads, the way such a
#      script is written (the tag list; a GET of each tag's manifest; a GET of each index child;
#      a GET of each image config; a referrers probe);
#   2. shipshape cold: `shipshape inventory` with an empty cache directory;
#   3. shipshape warm: the same again with the cache the cold run left.
# Rounds interleave the three, so that a change of machine load falls on all of them. With
# CRANE=1, a sequential crane loop (one process per call) is timed once first, as before.
# Prints a table of wall times, requests, and the CPU time the run cost the registry, the
# proxy and the client (cpu_s: what the wall time comes down to on an idle machine, where
# the three share the cores; on a busy one, wall times follow the load), each run's cold
# speed-up over the script, and the medians; writes it to bench/out/inventory.txt as well.
# Installs docker-registry, jq, curl, python3 and GNU time with apt-get (and crane with go
# install) when they are missing. Everything it starts is stopped at exit.
set -euo pipefail
cd "$(dirname "$0")/.."
export LC_ALL=C

builds=${1:-1500}
rounds=${2:-3}
repo=bench/app
out=bench/out
crane_version=v0.22.1
mkdir -p "$out"
load_before=$(cut -d' ' -f1 /proc/loadavg)

log() { printf '== %s\n' "$*" >&2; }
die() {
  printf 'inventory.sh: %s\n' "$*" >&2
  exit 1
}
now_us() { echo "${EPOCHREALTIME/./}"; }
hz=$(getconf CLK_TCK)
# cpu_us PID prints the CPU time (user and system) process PID has used, in microseconds.
cpu_us() { awk -v hz="$hz" '{ printf "%d\n", ($14 + $15) * 1000000 / hz }' "/proc/$1/stat"; }
# servers_us prints the CPU time the registry and the proxy have used, in microseconds.
servers_us() { echo $(($(cpu_us "${pids[0]}") + $(cpu_us "${pids[1]}"))); }
# timed_us FILE prints the CPU time /usr/bin/time -f '%U %S' wrote to FILE, in microseconds.
timed_us() { awk '{ printf "%d\n", ($1 + $2) * 1000000 }' "$1"; }
secs() { printf '%d.%02d' $(($1 / 1000000)) $((($1 % 1000000) / 10000)); }

# Tools.
missing=()
[ -x /usr/bin/docker-registry ] || missing+=(docker-registry)
command -v jq >/dev/null || missing+=(jq)
command -v curl >/dev/null || missing+=(curl)
command -v python3 >/dev/null || missing+=(python3)
[ -x /usr/bin/time ] || missing+=(time)
# shellcheck source=bench/lib.sh
. bench/lib.sh
install_missing "${missing[@]}"
crane=
if [ "${CRANE:-0}" = 1 ]; then install_crane "$crane_version"; fi
go build -o "$out/shipshape" ./cmd/shipshape
go build -o "$out/fill" ./bench/fill
go build -o "$out/count" ./bench/count
help=$("$out/shipshape" inventory --help) || die "shipshape has no inventory command"
grep -q -- '--stats' <<<"$help" || die "shipshape inventory has no --stats flag"
# The script has no rate limit; switch shipshape's off too, where it has one.
extra=()
if grep -q -- '--rps' <<<"$help"; then extra+=(--rps 0); fi

# Scratch space, in memory when possible: the registry writes thousands of small files.
scratch=${TMPDIR:-/tmp}
if [ -d /dev/shm ] && [ -w /dev/shm ]; then scratch=/dev/shm; fi
work=$(mktemp -d "$scratch/shipshape-bench.XXXXXX")
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The registry, on a port the kernel picks; it logs the address it listens on.
start_registry 127.0.0.1:0
pids+=("$registry_pid")
registry_version=$(/usr/bin/docker-registry --version | awk '{print $NF}')
log "docker-registry $registry_version listening on $registry"

# The counting proxy, which every measured run goes through.
"$out/count" -listen 127.0.0.1:0 -target "$registry" -timeout 2h >"$work/count.out" 2>&1 &
pids+=($!)
proxy=
for _ in $(seq 100); do
  kill -0 "${pids[1]}" 2>/dev/null || die "count exited: $(cat "$work/count.out")"
  proxy=$(head -1 "$work/count.out")
  [ -z "$proxy" ] || break
  sleep 0.1
done
[ -n "$proxy" ] || die "count did not start within 10 s"
# counts prints the requests counted since the last call, and starts counting afresh.
counts() { curl -fsS "http://$proxy/_count?reset=1"; }

log "filling $registry/$repo with $builds builds"
"$out/fill" -registry "$registry" -repo "$repo" -builds "$builds" | tee "$work/fill.txt" >&2
tags=$(grep -o '[0-9]* tags' "$work/fill.txt" | cut -d' ' -f1)
manifests=$(grep -o '[0-9]* manifests' "$work/fill.txt" | cut -d' ' -f1)

# crane_inventory REF DIR: what a shell script does to gather, with crane, the facts
# shipshape gathers: every tag's digest, every manifest, and every image's config. It reads
# each digest once, and parses JSON with bash alone, so that only crane's own calls are timed.
crane_inventory() {
  local ref=$1 dir=$2 tag digest m child cm rest
  local -A seen=()
  local is_index='"manifests"[[:space:]]*:[[:space:]]*\['
  local has_digest='"digest"[[:space:]]*:[[:space:]]*"(sha256:[0-9a-f]{64})"'
  "$crane" ls "$ref" >"$dir/tags"
  while IFS= read -r tag; do
    digest=$("$crane" digest "$ref:$tag")
    printf '%s\t%s\n' "$tag" "$digest" >>"$dir/digests"
    [ -z "${seen[$digest]:-}" ] || continue
    seen[$digest]=1
    m=$("$crane" manifest "$ref@$digest")
    printf '%s\n' "$m" >"$dir/$digest.json"
    if ! [[ $m =~ $is_index ]]; then
      "$crane" config "$ref@$digest" >"$dir/$digest.config.json"
      continue
    fi
    rest=$m
    while [[ $rest =~ $has_digest ]]; do
      child=${BASH_REMATCH[1]}
      rest=${rest#*"$child"}
      cm=$("$crane" manifest "$ref@$child")
      printf '%s\n' "$cm" >"$dir/$child.json"
      # An attestation manifest holds in-toto statements; its config says nothing.
      [[ $cm == *'"application/vnd.in-toto+json"'* ]] || "$crane" config "$ref@$child" >"$dir/$child.config.json"
    done
  done <"$dir/tags"
}

# field LINE KEY prints the value of KEY in a key=value line.
field() {
  local kv
  for kv in $1; do
    if [ "${kv%%=*}" = "$2" ]; then
      echo "${kv#*=}"
      return
    fi
  done
  echo 0
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
# median N... prints the median of its arguments.
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
rows=()
# row TOOL ROUND RUN WALL_US COUNTS [CPU_US]
row() {
  local cpu=-
  [ -z "${6:-}" ] || cpu=$(secs "$6")
  rows+=("$(printf '%-9s %-5s %-5s %8s %6s %9s %6s %7s %7s %7s %7s %6s %6s %6s %6s' "$1" "$2" "$3" "$(secs "$4")" "$cpu" \
    "$(field "$5" total)" "$(field "$5" tags)" "$(field "$5" manifest_get)" "$(field "$5" manifest_head)" \
    "$(field "$5" blob_get)" "$(field "$5" blob_head)" "$(field "$5" referrers)" "$(field "$5" ping)" \
    "$(field "$5" other)" "$(field "$5" errors)")")
}

if [ -n "$crane" ]; then
  log "crane $("$crane" version): sequential loop over $tags tags"
  mkdir "$work/crane"
  counts >/dev/null
  t0=$(now_us)
  crane_inventory "$proxy/$repo" "$work/crane"
  crane_us=$(($(now_us) - t0))
  crane_counts=$(counts)
  log "crane: $(secs "$crane_us") s, $crane_counts"
  row crane 1 cold "$crane_us" "$crane_counts"
fi

# script_inventory: one timed run of the Python script; sets run_us, run_cpu_us, run_counts
# and run_facts.
script_inventory() {
  local t0 s0
  counts >/dev/null
  s0=$(servers_us)
  t0=$(now_us)
  run_facts=$(/usr/bin/time -f '%U %S' -o "$work/time" python3 bench/inventory_baseline.py "$proxy" "$repo" 8) ||
    die "the Python script failed"
  run_us=$(($(now_us) - t0))
  run_cpu_us=$(($(servers_us) - s0 + $(timed_us "$work/time")))
  run_counts=$(counts)
  run_facts=${run_facts%;*}
}

# shipshape_inventory CACHE RUN: one timed run with the cache directory CACHE; sets run_us,
# run_cpu_us, run_counts and run_facts.
shipshape_inventory() {
  local cache=$1 run=$2 t0 s0
  counts >/dev/null
  s0=$(servers_us)
  t0=$(now_us)
  /usr/bin/time -f '%U %S' -o "$work/time" \
    "$out/shipshape" inventory "$proxy/$repo" --cache-dir "$cache" --stats --quiet "${extra[@]}" \
    --out "$work/$run.json" 2>"$work/$run.stderr" || die "shipshape inventory ($run) failed: $(tail -5 "$work/$run.stderr")"
  run_us=$(($(now_us) - t0))
  run_cpu_us=$(($(servers_us) - s0 + $(timed_us "$work/time")))
  run_counts=$(counts)
  run_facts=$(jq -r '"\(.images | length) images, \([.images[].tags // [] | length] | add) tags, \([.images[] | select(.labels)] | length) with labels"' "$work/$run.json")
}

script_all=() cold_all=() warm_all=() speedups=() script_cpu=() cold_cpu=() warm_cpu=()
for round in $(seq "$rounds"); do
  script_inventory
  script_us=$run_us script_facts=$run_facts
  script_cpu+=("$run_cpu_us")
  row script "$round" cold "$run_us" "$run_counts" "$run_cpu_us"
  log "round $round: script $(secs "$run_us") s ($(secs "$run_cpu_us") s CPU), $run_counts ($run_facts)"

  rm -rf "$work/cache"
  mkdir "$work/cache"
  shipshape_inventory "$work/cache" "cold-$round"
  cold_us=$run_us cold_facts=$run_facts
  cold_cpu+=("$run_cpu_us")
  row shipshape "$round" cold "$run_us" "$run_counts" "$run_cpu_us"
  log "round $round: shipshape cold $(secs "$run_us") s ($(secs "$run_cpu_us") s CPU), $run_counts ($run_facts)"

  shipshape_inventory "$work/cache" "warm-$round"
  warm_facts=$run_facts
  warm_cpu+=("$run_cpu_us")
  row shipshape "$round" warm "$run_us" "$run_counts" "$run_cpu_us"
  log "round $round: shipshape warm $(secs "$run_us") s ($(secs "$run_cpu_us") s CPU), $run_counts ($run_facts)"
  if ! cmp -s <(jq -S 'del(.capturedAt)' "$work/cold-$round.json") <(jq -S 'del(.capturedAt)' "$work/warm-$round.json"); then
    die "round $round: the warm snapshot differs from the cold one"
  fi

  script_all+=("$script_us") cold_all+=("$cold_us") warm_all+=("$run_us")
  speedups+=("$(ratio "$script_us" "$cold_us")")
done

{
  printf 'repository: %s builds, %s tags, %s manifests (docker-registry %s, %s cores, load average %s before, %s after)\n' \
    "$builds" "$tags" "$manifests" "$registry_version" "$(nproc)" "$load_before" "$(cut -d' ' -f1 /proc/loadavg)"
  printf '%-9s %-5s %-5s %8s %6s %9s %6s %7s %7s %7s %7s %6s %6s %6s %6s\n' \
    tool round run wall_s cpu_s requests tags man_GET man_HEAD blob_GET blob_HEAD refs ping other errors
  printf '%s\n' "${rows[@]}"
  printf 'shipshape cold vs script, by round: %s (target 2x)\n' "$(printf '%sx ' "${speedups[@]}")"
  printf 'medians: script %s s, shipshape cold %s s (%sx), warm %s s (%sx)\n' \
    "$(secs "$(median "${script_all[@]}")")" "$(secs "$(median "${cold_all[@]}")")" \
    "$(ratio "$(median "${script_all[@]}")" "$(median "${cold_all[@]}")")" \
    "$(secs "$(median "${warm_all[@]}")")" "$(ratio "$(median "${script_all[@]}")" "$(median "${warm_all[@]}")")"
  printf 'medians of cpu_s (registry, proxy and client): script %s s, shipshape cold %s s (%sx), warm %s s\n' \
    "$(secs "$(median "${script_cpu[@]}")")" "$(secs "$(median "${cold_cpu[@]}")")" \
    "$(ratio "$(median "${script_cpu[@]}")" "$(median "${cold_cpu[@]}")")" "$(secs "$(median "${warm_cpu[@]}")")"
  printf 'warm run: one tag list, one HEAD per tag and the referrers probe would be %s requests\n' "$((tags + 2))"
  printf 'read: script %s; shipshape snapshots: cold %s, warm %s\n' "$script_facts" "$cold_facts" "$warm_facts"
} | tee "$out/inventory.txt"
