#!/bin/sh
# Load-tests `shipshape serve`: a fresh SQLite store (and PostgreSQL when
# SHIPSHAPE_TEST_POSTGRES_DSN is set), then N GET and N PUT requests at concurrency C over
# loopback, reporting requests per second and p50/p99 latency. Stops everything it starts.
#
#   bench/pins-load.sh            # N=20000 C=16
#   N=5000 C=4 bench/pins-load.sh
set -eu

cd "$(dirname "$0")/.."
N=${N:-20000}
C=${C:-16}
work=$(mktemp -d)
pid=
cleanup() {
	if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

go build -o "$work/shipshape" ./cmd/shipshape
go build -o "$work/pinload" ./bench/pinload
SHIPSHAPE_API_TOKEN=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
export SHIPSHAPE_API_TOKEN

# run STORE_DSN LABEL: serve from the store, load it, stop the server.
run() {
	"$work/shipshape" serve --listen 127.0.0.1:0 --store "$1" 2>"$work/serve.log" &
	pid=$!
	url=
	for _ in $(seq 100); do
		url=$(sed -n 's/.*serving pins on \(http:[^ ]*\).*/\1/p' "$work/serve.log")
		[ -n "$url" ] && break
		sleep 0.1
	done
	if [ -z "$url" ]; then
		echo "pins-load: serve did not start:" >&2
		cat "$work/serve.log" >&2
		exit 1
	fi
	echo "== $2 ($(go env GOOS)/$(go env GOARCH), $(nproc) CPUs)"
	"$work/pinload" -url "$url" -op get -n "$N" -c "$C"
	"$work/pinload" -url "$url" -op put -n "$N" -c "$C"
	kill "$pid"
	wait "$pid" || true
	pid=
}

run "sqlite://$work/pins.db" "SQLite"
if [ -n "${SHIPSHAPE_TEST_POSTGRES_DSN:-}" ]; then
	run "$SHIPSHAPE_TEST_POSTGRES_DSN" "PostgreSQL"
else
	echo "== PostgreSQL skipped: SHIPSHAPE_TEST_POSTGRES_DSN not set"
fi
