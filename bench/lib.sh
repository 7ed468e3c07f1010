# Shared by the bench scripts: sourced, not run. Each function logs through the caller's log.

# install_missing TOOL...: installs with apt-get the Debian packages named, as root or with
# sudo; nothing when the list is empty.
install_missing() {
  (($#)) || return 0
  log "installing $*"
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# install_crane VERSION: sets crane to go-containerregistry's crane in GOBIN (or
# GOPATH/bin), installing that version when it is not there.
install_crane() {
  local gobin
  gobin=$(go env GOBIN)
  [ -n "$gobin" ] || gobin=$(go env GOPATH)/bin
  crane=$gobin/crane
  if [ ! -x "$crane" ]; then
    log "installing crane $1"
    go install "github.com/google/go-containerregistry/cmd/crane@$1"
  fi
}

# start_registry ADDR: Debian's docker-registry, deletion enabled, on ADDR (port 0: one the
# kernel picks) over $work/data; sets registry to the address it listens on and
# registry_pid to its process. The caller stops it.
start_registry() {
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
  addr: $1
  secret: shipshape-bench
EOF
  : >"$work/registry.log"
  /usr/bin/docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
  registry_pid=$!
  registry=
  for _ in $(seq 100); do
    kill -0 "$registry_pid" 2>/dev/null || die "docker-registry exited: $(tail -3 "$work/registry.log")"
    registry=$(grep -o 'listening on 127\.0\.0\.1:[0-9]*' "$work/registry.log" | head -1 | cut -d' ' -f3) || true
    [ -z "$registry" ] || break
    sleep 0.1
  done
  [ -n "$registry" ] || die "docker-registry did not start listening within 10 s"
  for _ in $(seq 100); do
    if curl -fsS -o /dev/null "http://$registry/v2/" 2>/dev/null; then return; fi
    sleep 0.1
  done
  die "docker-registry at $registry does not answer /v2/"
}
