#!/usr/bin/env bash
# Load-tests `shipshape serve` over loopback with wrk, a load generator that is not
# shipshape's own client, on a fresh SQLite store (and PostgreSQL when
# SHIPSHAPE_TEST_POSTGRES_DSN is set). Per store, three runs of D seconds at C connections:
#   PUT    every request a new digest for one of PINS names (bench/pinload/wrk.lua);
#   GET    reads of those names;
#   MIXED  GET and PUT at once, C/2 connections each: reads while the writer is busy.
# Each run prints throughput and p50, p99, p99.9 and max latency as wrk measured them, from
# sending a request to reading its response. A request only fails after 30 s, so a slow one is
# measured, not dropped; and wrk corrects for coordinated omission, adding for each slow
# response the requests a client sending at a steady rate would have sent meanwhile, so its
# percentiles run higher than a count of the requests sent. Then come the same percentiles
# from the server's access log, one count per request, and its slowest writes. With N > 0,
# bench/pinload then sends N GET and N PUT requests as a third view. Everything goes to
# bench/out/pins-load.txt as well. Installs wrk with apt-get when missing; stops everything it
# starts.
#
#   bench/pins-load.sh                  # D=60 C=16 PINS=1000 N=20000
#   D=10 C=4 N=0 bench/pins-load.sh
#   SHIPSHAPE=/tmp/old/shipshape bench/pins-load.sh   # another build of serve, to compare
set -euo pipefail
cd "$(dirname "$0")/.."

D=${D:-60}
C=${C:-16}
PINS=${PINS:-1000}
N=${N:-20000}
# wrk's threads: one per CPU, at most C; the server shares the CPUs.
threads=$(($(nproc) < C ? $(nproc) : C))
out=bench/out
mkdir -p "$out"
exec > >(tee "$out/pins-load.txt") 2>&1

if ! command -v wrk >/dev/null; then
	apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends wrk
fi

work=$(mktemp -d)
pid=
cleanup() {
	if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

if [ -n "${SHIPSHAPE:-}" ]; then
	cp "$SHIPSHAPE" "$work/shipshape"
else
	go build -o "$work/shipshape" ./cmd/shipshape
fi
go build -o "$work/pinload" ./bench/pinload
SHIPSHAPE_API_TOKEN=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
export SHIPSHAPE_API_TOKEN PINS

# load OP CONNECTIONS URL: one wrk run of D seconds; prints the line of wrk.lua's done hook
# and fails on any error (a socket error, a timeout, a status other than 2xx or 3xx).
load() {
	local res="$work/wrk-$1-$RANDOM.out"
	OP=$1 wrk -t "$(($2 < threads ? $2 : threads))" -c "$2" -d "${D}s" --timeout 30s \
		-s bench/pinload/wrk.lua "$3" >"$res"
	grep -E '^(GET|PUT) ' "$res" || true
	if ! grep -qE '^(GET|PUT) .* errors 0$' "$res"; then
		echo "pins-load: wrk $1 had errors:" >&2
		cat "$res" >&2
		exit 1
	fi
}

# accesslog FROM: summarises the access log from line FROM on.
accesslog() {
	tail -n "+$1" "$work/serve.log" >"$work/phase.log"
	"$work/pinload" -accesslog "$work/phase.log"
}

# run STORE_DSN LABEL: serve from the store, load it, stop the server.
run() {
	"$work/shipshape" serve --listen 127.0.0.1:0 --store "$1" 2>"$work/serve.log" &
	pid=$!
	local url=
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
	echo "== $2: $(go env GOOS)/$(go env GOARCH), $(nproc) CPUs; wrk -t$threads -c$C, ${D} s a run, $PINS pins; load average $(cut -d' ' -f1-3 /proc/loadavg)"
	local from
	for phase in put get mixed; do
		from=$(($(wc -l <"$work/serve.log") + 1))
		echo "-- ${phase^^}"
		if [ "$phase" = mixed ]; then
			load get $((C / 2)) "$url" &
			local reader=$!
			load put $((C - C / 2)) "$url"
			wait "$reader"
		else
			load "$phase" "$C" "$url"
		fi
		accesslog "$from"
		echo "load average after the run: $(cut -d' ' -f1-3 /proc/loadavg)"
	done
	if [ "$N" -gt 0 ]; then
		echo "-- bench/pinload, $N requests each"
		"$work/pinload" -url "$url" -op get -n "$N" -c "$C"
		"$work/pinload" -url "$url" -op put -n "$N" -c "$C"
	fi
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
