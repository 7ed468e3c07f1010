#!/usr/bin/env bash
# Times `shipshape apply` of a saved plan against a parallel crane loop deleting the same digests from a local registry.
# Usage: bench/apply.sh [BUILDS [RUNS]]   (default 1500 builds: 2,000 tags, 4,500 manifests; 3 runs)
#        QUARANTINE=dir bench/apply.sh    apply copies each manifest to a quarantine directory
#        QUARANTINE=blobs bench/apply.sh  … with its layers (--quarantine-blobs)
#
# Starts Debian's docker-registry (deletion enabled) on a free port of 127.0.0.1 with its
# storage in a temporary directory, fills it once with bench/fill, and keeps a copy of that
# storage: every measured run starts from a fresh copy, on a freshly started registry, on the
# same address. Requests go through bench/count, a proxy that counts them by kind.
#   0. `shipshape plan --out` saves a plan that expires the oldest 2/9 of the sha- builds
#      (each an index, an image and an attestation manifest: 999 manifests of 4,500).
#   1. crane: `crane delete` of each of the plan's digests, 8 at a time (xargs -P 8), in the
#      plan's order; it deletes without re-checking anything.
#   2. `shipshape inventory` with a copy of the plan's cache: the repository read that apply
#      starts with, measured alone so that the rest of apply can be told apart.
#   3. `shipshape apply` of the saved plan with another copy of that cache: the inventory,
#      then a re-check before each batch, the deletions and the check afterwards.
# 1 and 3 alternate RUNS times; each one's fastest run is reported (all are listed): the
# registry's deletions are CPU-bound, and a shared machine makes single runs noisy.
# Prints wall time and requests by kind for each, requests per deletion, and apply's
# requests after its inventory against the target (at most 1.3 times the crane loop's, plus
# one tag list per re-check); writes the table to bench/out/apply.txt as well. Installs
# docker-registry, jq and curl with apt-get and crane with go install when they are missing.
# Everything it starts is stopped at exit.
set -euo pipefail
cd "$(dirname "$0")/.."
export LC_ALL=C

builds=${1:-1500}
runs=${2:-3}
repo=bench/app
out=bench/out
crane_version=v0.22.1
parallel=8
mkdir -p "$out"
load_before=$(cut -d' ' -f1 /proc/loadavg)

log() { printf '== %s\n' "$*" >&2; }
die() {
  printf 'apply.sh: %s\n' "$*" >&2
  exit 1
}
now_us() { echo "${EPOCHREALTIME/./}"; }
secs() { printf '%d.%02d' $(($1 / 1000000)) $((($1 % 1000000) / 10000)); }

# Tools.
missing=()
[ -x /usr/bin/docker-registry ] || missing+=(docker-registry)
command -v jq >/dev/null || missing+=(jq)
command -v curl >/dev/null || missing+=(curl)
# shellcheck source=bench/lib.sh
. bench/lib.sh
install_missing "${missing[@]}"
install_crane "$crane_version"
go build -o "$out/shipshape" ./cmd/shipshape
go build -o "$out/fill" ./bench/fill
go build -o "$out/count" ./bench/count
help=$("$out/shipshape" apply --help) || die "shipshape has no apply command"
grep -q -- '--recheck-interval' <<<"$help" || die "shipshape apply has no --recheck-interval flag"

# Scratch space, in memory when possible: the registry writes thousands of small files.
scratch=${TMPDIR:-/tmp}
if [ -d /dev/shm ] && [ -w /dev/shm ]; then scratch=/dev/shm; fi
work=$(mktemp -d "$scratch/shipshape-bench-apply.XXXXXX")
registry_pid=
count_pid=
cleanup() {
  local pid
  for pid in $registry_pid $count_pid; do kill "$pid" 2>/dev/null || true; done
  for pid in $registry_pid $count_pid; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

stop_registry() {
  kill "$registry_pid" 2>/dev/null || true
  wait "$registry_pid" 2>/dev/null || true
  registry_pid=
}
# fresh: the registry as filled, restarted on the same address.
fresh() {
  stop_registry
  rm -rf "$work/data"
  cp -a "$work/seed" "$work/data"
  start_registry "$registry_addr"
  [ "$registry" = "$registry_addr" ] || die "docker-registry moved from $registry_addr to $registry"
}

start_registry 127.0.0.1:0
registry_addr=$registry
log "docker-registry $(/usr/bin/docker-registry --version | awk '{print $NF}') listening on $registry"
log "filling $registry/$repo with $builds builds"
"$out/fill" -registry "$registry" -repo "$repo" -builds "$builds" | tee "$work/fill.txt" >&2
tags=$(grep -o '[0-9]* tags' "$work/fill.txt" | cut -d' ' -f1)
manifests=$(grep -o '[0-9]* manifests' "$work/fill.txt" | cut -d' ' -f1)
stop_registry
mv "$work/data" "$work/seed"

# The counting proxy, which every measured run goes through; it outlives the registries.
"$out/count" -listen 127.0.0.1:0 -target "$registry_addr" -timeout 2h >"$work/count.out" 2>&1 &
count_pid=$!
proxy=
for _ in $(seq 100); do
  kill -0 "$count_pid" 2>/dev/null || die "count exited: $(cat "$work/count.out")"
  proxy=$(head -1 "$work/count.out")
  [ -z "$proxy" ] || break
  sleep 0.1
done
[ -n "$proxy" ] || die "count did not start within 10 s"
# counts prints the requests counted since the last call, and starts counting afresh.
counts() { curl -fsS "http://$proxy/_count?reset=1"; }

# 0. The plan: keep all but the oldest 2/9 of the sha- builds (333 of 1,500); those go, each
# with its image and attestation manifest (999 manifests).
expire=$((builds * 2 / 9))
cat >"$work/policy.json" <<EOF
{"rules": [{"rulePriority": 1, "description": "keep the newest $((builds - expire)) sha- builds",
  "selection": {"tagStatus": "tagged", "tagPrefixList": ["sha-"], "countType": "imageCountMoreThan", "countNumber": $((builds - expire))},
  "action": {"type": "expire"}}]}
EOF
fresh
mkdir "$work/cache"
"$out/shipshape" plan --policy "$work/policy.json" "$proxy/$repo" --out "$work/plan.json" --cache-dir "$work/cache" -q \
  >/dev/null 2>"$work/plan.stderr" || die "shipshape plan failed: $(tail -5 "$work/plan.stderr")"
jq -r '.plan.images[] | select(.action == "expire") | .digest' "$work/plan.json" >"$work/digests"
targets=$(wc -l <"$work/digests")
target_tags=$(jq '[.plan.images[] | select(.action == "expire") | .tags // [] | length] | add' "$work/plan.json")
[ "$targets" -gt 0 ] || die "the plan expires nothing"
log "plan: $targets manifests to delete ($target_tags tags on them), of $manifests"

# present COUNT-NAME: how many of the plan's digests the registry still has (HEAD, direct).
present() {
  local d n=0
  while IFS= read -r d; do
    if curl -fsS -o /dev/null -I "http://$registry_addr/v2/$repo/manifests/$d" 2>/dev/null; then n=$((n + 1)); fi
  done <"$work/digests"
  echo "$n"
}

# 1. crane: the same digests, 8 deletions at a time, nothing re-checked. Sets run_us,
# run_counts and crane_left.
crane_run() {
  local t0
  fresh
  counts >/dev/null
  t0=$(now_us)
  sed "s|^|$proxy/$repo@|" "$work/digests" | xargs -P "$parallel" -n 1 "$crane" delete
  run_us=$(($(now_us) - t0))
  run_counts=$(counts)
  crane_left=$(present)
  log "crane: $(secs "$run_us") s, $run_counts; $crane_left of $targets left"
}

# 2. The inventory apply starts with, alone, from the same state and cache.
fresh
cp -a "$work/cache" "$work/cache-inventory"
counts >/dev/null
t0=$(now_us)
"$out/shipshape" inventory "$proxy/$repo" --cache-dir "$work/cache-inventory" -q --out "$work/inventory.json" \
  2>"$work/inventory.stderr" || die "shipshape inventory failed: $(tail -5 "$work/inventory.stderr")"
inventory_us=$(($(now_us) - t0))
inventory_counts=$(counts)
log "shipshape inventory: $(secs "$inventory_us") s, $inventory_counts"

# 3. shipshape apply of the saved plan. Sets run_us, run_counts, apply_left and apply_facts.
apply_run() {
  local t0
  fresh
  local undo=()
  case "${QUARANTINE:-}" in
    "") ;;
    dir) undo=(--quarantine "$work/quarantine") ;;
    blobs) undo=(--quarantine "$work/quarantine" --quarantine-blobs) ;;
    *) die "QUARANTINE is dir or blobs, not $QUARANTINE" ;;
  esac
  rm -rf "$work/cache-apply" "$work/journal.jsonl" "$work/quarantine" "$work/state"
  cp -a "$work/cache" "$work/cache-apply"
  counts >/dev/null
  t0=$(now_us)
  XDG_STATE_HOME="$work/state" "$out/shipshape" apply "$work/plan.json" --yes --cache-dir "$work/cache-apply" --journal "$work/journal.jsonl" \
    "${undo[@]}" --stats -q -o json >"$work/apply.json" 2>"$work/apply.stderr" || die "shipshape apply failed: $(tail -5 "$work/apply.stderr")"
  run_us=$(($(now_us) - t0))
  if [ -n "${QUARANTINE:-}" ]; then
    log "quarantine: $(du -sh "$work/quarantine" | cut -f1), $(wc -l <"$work/quarantine/shipshape-ledger.jsonl") copies"
  fi
  run_counts=$(counts)
  apply_left=$(present)
  apply_facts=$(jq -r '"\(.deleted) deleted, \(.gone) gone, \(.skipped) skipped, \(.failed) failed, \(.problems // [] | length) problems"' "$work/apply.json")
  log "shipshape apply: $(secs "$run_us") s, $run_counts; $apply_facts; $apply_left of $targets left"
  log "shipshape apply --stats: $(tail -1 "$work/apply.stderr")"
}

# Alternate the two, RUNS times, and keep each one's fastest run: on a shared machine the
# slower runs measure the neighbours. The request counts are the same every time.
crane_us= apply_us= crane_walls= apply_walls=
for i in $(seq "$runs"); do
  log "run $i of $runs"
  crane_run
  crane_counts=$run_counts crane_walls+="$(secs "$run_us") "
  if [ -z "$crane_us" ] || [ "$run_us" -lt "$crane_us" ]; then crane_us=$run_us; fi
  apply_run
  apply_counts=$run_counts apply_walls+="$(secs "$run_us") "
  if [ -z "$apply_us" ] || [ "$run_us" -lt "$apply_us" ]; then apply_us=$run_us; fi
done

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
# minus A B: the key=value line A minus B, key by key.
minus() {
  local kv k line=
  for kv in $1; do
    k=${kv%%=*}
    line+="$k=$((${kv#*=} - $(field "$2" "$k"))) "
  done
  echo "$line"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
row() {
  printf '%-22s %8s %9s %6s %7s %8s %7s %7s %6s %6s %6s %9s\n' "$1" "$(secs "$2")" \
    "$(field "$3" total)" "$(field "$3" tags)" "$(field "$3" manifest_get)" "$(field "$3" manifest_head)" \
    "$(field "$3" manifest_delete)" "$(field "$3" blob_get)" "$(field "$3" ping)" "$(field "$3" other)" \
    "$(field "$3" errors)" "$(ratio "$(field "$3" total)" "$targets")"
}
after=$(minus "$apply_counts" "$inventory_counts")
after_us=$((apply_us - inventory_us))
rechecks=$(($(field "$after" tags)))
crane_total=$(field "$crane_counts" total)
budget=$(awk -v c="$crane_total" -v r="$rechecks" 'BEGIN { printf "%d", 1.3 * c + r }')
{
  printf 'repository: %s builds, %s tags, %s manifests; plan deletes %s manifests carrying %s tags (docker-registry %s, %s cores, load average %s before, %s after)\n' \
    "$builds" "$tags" "$manifests" "$targets" "$target_tags" "$(/usr/bin/docker-registry --version | awk '{print $NF}')" "$(nproc)" \
    "$load_before" "$(cut -d' ' -f1 /proc/loadavg)"
  printf '%-22s %8s %9s %6s %7s %8s %7s %7s %6s %6s %6s %9s\n' \
    run wall_s requests tags man_GET man_HEAD man_DEL blob_GET ping other errors req/del
  row "crane delete -P $parallel" "$crane_us" "$crane_counts"
  row "shipshape apply" "$apply_us" "$apply_counts"
  row "  its inventory" "$inventory_us" "$inventory_counts"
  row "  after the inventory" "$after_us" "$after"
  printf 'wall times of the %s runs: crane %s; shipshape apply %s(fastest shown above)\n' "$runs" "$crane_walls" "$apply_walls"
  printf 'left in the registry afterwards: crane %s, shipshape %s of %s (shipshape: %s)\n' "$crane_left" "$apply_left" "$targets" "$apply_facts"
  printf 'requests: shipshape after its inventory %s; target at most 1.3 x crane %s + %s tag lists = %s: %s\n' \
    "$(field "$after" total)" "$crane_total" "$rechecks" "$budget" \
    "$([ "$(field "$after" total)" -le "$budget" ] && echo met || echo MISSED)"
  printf 'wall time: shipshape apply %s s (%s s after its inventory) vs crane %s s: %sx (%sx after the inventory)\n' \
    "$(secs "$apply_us")" "$(secs "$after_us")" "$(secs "$crane_us")" "$(ratio "$apply_us" "$crane_us")" "$(ratio "$after_us" "$crane_us")"
} | tee "$out/apply.txt"
