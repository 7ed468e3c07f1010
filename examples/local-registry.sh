#!/usr/bin/env bash
# Starts a local registry (Debian's CNCF distribution) on 127.0.0.1:5000, fills the
# repository demo/app with CI-style builds (buildx indexes with attestation manifests, sha-,
# pr- and release tags), and keeps it running until Ctrl-C. Try shipshape against it from
# another terminal:
#
#   shipshape audit 127.0.0.1:5000/demo/app
#   shipshape plan --policy examples/policies/keep-streams.json 127.0.0.1:5000/demo/app
#   shipshape plan --policy examples/policies/keep-streams.json 127.0.0.1:5000/demo/app --out plan.json
#   shipshape apply plan.json --yes --quarantine ./quarantine --quarantine-blobs
#
# and, to see the undo window work after the registry reclaims the space, run the garbage
# collection this script prints, then shipshape restore.
#
# Usage: examples/local-registry.sh [BUILDS]   (default 120); PORT=5001 to use another port.
set -euo pipefail
cd "$(dirname "$0")/.."
builds=${1:-120}
port=${PORT:-5000}
if [ ! -x /usr/bin/docker-registry ]; then
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends docker-registry >/dev/null
fi
work=$(mktemp -d)
trap 'kill "${pid:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT
cat >"$work/config.yml" <<YAML
version: 0.1
storage:
  filesystem: {rootdirectory: $work/data}
  delete: {enabled: true}
http: {addr: 127.0.0.1:$port}
YAML
/usr/bin/docker-registry serve "$work/config.yml" >"$work/registry.log" 2>&1 &
pid=$!
for _ in $(seq 50); do
  curl -fs "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && break
  sleep 0.1
done
go run ./bench/fill -registry "127.0.0.1:$port" -repo demo/app -builds "$builds"
echo "registry running on 127.0.0.1:$port (storage in $work); Ctrl-C stops it"
echo "garbage collection (reclaims the blobs of deleted manifests): /usr/bin/docker-registry garbage-collect $work/config.yml"
wait "$pid"
