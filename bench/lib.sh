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
