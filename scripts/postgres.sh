#!/usr/bin/env bash
# Throwaway PostgreSQL cluster for the pin store tests, from Debian's postgresql package.
#
#   trap 'scripts/postgres.sh stop' EXIT
#   pgenv=$(scripts/postgres.sh start)  # start a cluster; prints SHIPSHAPE_PG_DIR and
#   eval "$pgenv"                       # SHIPSHAPE_TEST_POSTGRES_DSN as shell exports
#   scripts/postgres.sh env [DIR]       # print the exports of the cluster in DIR again
#   scripts/postgres.sh stop [DIR]      # stop the cluster and remove DIR
#
# DIR defaults to $SHIPSHAPE_PG_DIR. start creates a fresh one under ${TMPDIR:-/tmp} (/tmp
# under root), so the clusters of concurrent or repeated runs never meet. The cluster
# trusts every local connection and listens on 127.0.0.1 only, on the first free port from
# 55432. Under root it runs as the postgres user (initdb refuses root). Messages go to
# stderr.
set -euo pipefail

first_port=55432
ports=100        # candidate ports tried
ready_seconds=30 # how long start waits for the server to accept connections

log() { echo "postgres.sh: $*" >&2; }
die() {
	log "$*"
	exit 1
}

bindir() {
	local d
	d=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
	[[ -n $d && -x $d/initdb ]] || die "PostgreSQL is not installed: apt-get install -y --no-install-recommends postgresql"
	echo "$d"
}

# as_owner runs a command as the cluster's owner: postgres under root, else the caller.
as_owner() {
	if [[ $(id -u) == 0 ]]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

print_env() {
	local dir=$1
	[[ -f $dir/port ]] || die "no cluster in $dir"
	printf "export SHIPSHAPE_PG_DIR='%s'\n" "$dir"
	printf "export SHIPSHAPE_TEST_POSTGRES_DSN='%s'\n" "postgres://postgres@127.0.0.1:$(cat "$dir/port")/postgres?sslmode=disable"
}

start() {
	local bin dir port
	bin=$(bindir)
	# Under root the postgres user must reach the directory: /tmp, whatever TMPDIR says.
	local base=${TMPDIR:-/tmp}
	[[ $(id -u) == 0 ]] && base=/tmp
	dir=$(mktemp -d "$base/shipshape-pg.XXXXXX")
	# Stop and remove whatever a failed start left behind.
	trap 'stop "$dir" >/dev/null 2>&1 || true' ERR
	if [[ $(id -u) == 0 ]]; then
		chown postgres:postgres "$dir"
	fi
	as_owner "$bin/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 ||
		die "initdb failed: $(cat "$dir/initdb.log")"
	for ((port = first_port; port < first_port + ports; port++)); do
		port_in_use "$port" && continue
		# -w waits for startup; a port taken meanwhile makes the start fail, then we move on.
		if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t "$ready_seconds" \
			-o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null 2>&1; then
			break
		fi
	done
	((port < first_port + ports)) || die "no free port in $first_port-$((first_port + ports - 1)): $(tail -n 5 "$dir/server.log")"
	echo "$port" >"$dir/port"
	local i
	for ((i = 0; i < ready_seconds * 10; i++)); do
		"$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres && break
		sleep 0.1
	done
	"$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres || die "server not ready after ${ready_seconds}s: $(tail -n 5 "$dir/server.log")"
	trap - ERR
	log "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port, in $dir"
	print_env "$dir"
}

stop() {
	local dir=${1:-${SHIPSHAPE_PG_DIR:-}}
	if [[ -z $dir || ! -d $dir ]]; then
		log "no cluster to stop"
		return 0
	fi
	if [[ -f $dir/data/postmaster.pid ]]; then
		as_owner "$(bindir)/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || log "pg_ctl stop failed in $dir"
	fi
	rm -rf "$dir"
	log "stopped and removed $dir"
}

case ${1:-} in
start) start ;;
stop) stop "${2:-}" ;;
env) print_env "${2:-${SHIPSHAPE_PG_DIR:?env: no directory given and SHIPSHAPE_PG_DIR unset}}" ;;
*) die "usage: $0 start|stop [DIR]|env [DIR]" ;;
esac
