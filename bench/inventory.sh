#!/usr/bin/env bash
# Times `shipshape inventory`, cold and warm, against a sequential crane loop gathering the same facts from a local registry.
# Usage: bench/inventory.sh [BUILDS]   (default 1500 builds: 2,000 tags, 4,500 manifests)
#
# Starts Debian's docker-registry on a free port of 127.0.0.1 with its storage in a temporary
# directory, fills it with bench/fill, and reads the repository through bench/count, a proxy
# that counts requests by kind:
#   1. crane: `crane ls`, then per tag `crane digest` and, once per digest, `crane manifest`;
#      `crane config` of an image; for an index, `crane manifest` of each child and
#      `crane config` of its platform image. One process per call, one call after another;
#      JSON is parsed with bash's own pattern matching, so only crane is timed.
#   2. `shipshape inventory` with an empty cache (cold), then again with the same cache (warm).
# Prints a table of wall time and requests, and the speed-up over crane; writes it to
# bench/out/inventory.txt as well. Installs docker-registry, jq and curl with apt-get and crane
# with go install when they are missing. Everything it starts is stopped at exit.
set -euo pipefail
cd "$(dirname "$0")/.."
export LC_ALL=C

builds=${1:-1500}
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
secs() { printf '%d.%02d' $(($1 / 1000000)) $((($1 % 1000000) / 10000)); }

# Tools.
missing=()
[ -x /usr/bin/docker-registry ] || missing+=(docker-registry)
command -v jq >/dev/null || missing+=(jq)
command -v curl >/dev/null || missing+=(curl)
if ((${#missing[@]})); then
  log "installing ${missing[*]}"
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
gobin=$(go env GOBIN)
[ -n "$gobin" ] || gobin=$(go env GOPATH)/bin
crane=$gobin/crane
if [ ! -x "$crane" ]; then
  log "installing crane $crane_version"
  go install "github.com/google/go-containerregistry/cmd/crane@$crane_version"
fi
go build -o "$out/shipshape" ./cmd/shipshape
go build -o "$out/fill" ./bench/fill
go build -o "$out/count" ./bench/count
help=$("$out/shipshape" inventory --help) || die "shipshape has no inventory command"
grep -q -- '--stats' <<<"$help" || die "shipshape inventory has no --stats flag"
# crane has no rate limit; switch shipshape's off too, where it has one.
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
cat >"$work/registry.yml" <<EOF
version: 0.1
log:
  level: info
  accesslog: {disabled: true}
storage:
  filesystem: {rootdirectory: $work/data}
  delete: {enabled: true}
  cache: {blobdescriptor: inmemory}
http:
  addr: 127.0.0.1:0
  secret: shipshape-bench
EOF
/usr/bin/docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
pids+=($!)
registry=
for _ in $(seq 100); do
  kill -0 "${pids[0]}" 2>/dev/null || die "docker-registry exited: $(tail -3 "$work/registry.log")"
  registry=$(grep -o 'listening on 127\.0\.0\.1:[0-9]*' "$work/registry.log" | head -1 | cut -d' ' -f3) || true
  [ -z "$registry" ] || break
  sleep 0.1
done
[ -n "$registry" ] || die "docker-registry did not start listening within 10 s"
for _ in $(seq 100); do
  if curl -fsS -o /dev/null "http://$registry/v2/" 2>/dev/null; then break; fi
  sleep 0.1
done
curl -fsS -o /dev/null "http://$registry/v2/" || die "docker-registry at $registry does not answer /v2/"
log "docker-registry $(/usr/bin/docker-registry --version | awk '{print $NF}') listening on $registry"

# The counting proxy, which every measured run goes through.
"$out/count" -listen 127.0.0.1:0 -target "$registry" -timeout 1h >"$work/count.out" 2>&1 &
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

log "crane $("$crane" version): sequential loop over $tags tags"
mkdir "$work/crane"
counts >/dev/null
t0=$(now_us)
crane_inventory "$proxy/$repo" "$work/crane"
crane_us=$(($(now_us) - t0))
crane_counts=$(counts)
crane_manifests=$(find "$work/crane" -name 'sha256:*.json' ! -name '*.config.json' | wc -l)
crane_configs=$(find "$work/crane" -name '*.config.json' | wc -l)
crane_facts="$(wc -l <"$work/crane/digests") tag digests, $crane_manifests manifests, $crane_configs configs"
log "crane read $crane_facts in $(secs "$crane_us") s: $crane_counts"

# shipshape_inventory RUN: one timed run with the shared cache; sets run_us, run_counts and run_facts.
shipshape_inventory() {
  local run=$1 t0
  counts >/dev/null
  t0=$(now_us)
  "$out/shipshape" inventory "$proxy/$repo" --cache-dir "$work/cache" --stats "${extra[@]}" \
    -o "$work/$run.json" 2>"$work/$run.stderr" || die "shipshape inventory ($run) failed: $(tail -5 "$work/$run.stderr")"
  run_us=$(($(now_us) - t0))
  run_counts=$(counts)
  run_facts=$(jq -r '"\(.images | length) images, \([.images[].tags // [] | length] | add) tags"' "$work/$run.json")
  log "shipshape $run: $(secs "$run_us") s, $run_counts"
  log "shipshape $run: --stats: $(tail -1 "$work/$run.stderr")"
  log "shipshape $run: snapshot of $run_facts"
}
mkdir "$work/cache"
shipshape_inventory cold
cold_us=$run_us cold_counts=$run_counts cold_facts=$run_facts
shipshape_inventory warm
warm_us=$run_us warm_counts=$run_counts warm_facts=$run_facts

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
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'; }
row() {
  printf '%-10s %-5s %8s %9s %6s %7s %7s %7s %7s %6s %6s %6s %6s\n' "$1" "$2" "$(secs "$3")" \
    "$(field "$4" total)" "$(field "$4" tags)" "$(field "$4" manifest_get)" "$(field "$4" manifest_head)" \
    "$(field "$4" blob_get)" "$(field "$4" blob_head)" "$(field "$4" referrers)" "$(field "$4" ping)" \
    "$(field "$4" other)" "$(field "$4" errors)"
}
{
  printf 'repository: %s builds, %s tags, %s manifests (docker-registry %s, %s cores, load average %s before, %s after)\n' \
    "$builds" "$tags" "$manifests" "$(/usr/bin/docker-registry --version | awk '{print $NF}')" "$(nproc)" \
    "$load_before" "$(cut -d' ' -f1 /proc/loadavg)"
  printf '%-10s %-5s %8s %9s %6s %7s %7s %7s %7s %6s %6s %6s %6s\n' \
    tool run wall_s requests tags man_GET man_HEAD blob_GET blob_HEAD refs ping other errors
  row crane cold "$crane_us" "$crane_counts"
  row shipshape cold "$cold_us" "$cold_counts"
  row shipshape warm "$warm_us" "$warm_counts"
  printf 'speed-up over crane: %sx cold (target 5x), %sx warm\n' "$(ratio "$crane_us" "$cold_us")" "$(ratio "$crane_us" "$warm_us")"
  printf 'warm run: %s requests; one tag list and one HEAD per tag would be %s\n' "$(field "$warm_counts" total)" "$((tags + 1))"
  printf 'read: crane %s; shipshape snapshots: cold %s, warm %s\n' "$crane_facts" "$cold_facts" "$warm_facts"
} | tee "$out/inventory.txt"
