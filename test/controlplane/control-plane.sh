#!/usr/bin/env bash
# A local Kubernetes control plane (etcd + kube-apiserver) for tests and for
# running the operator on a laptop, in the spirit of controller-runtime's
# envtest. Both binaries and kubectl are built from the Go module in
# test/controlplane/go with the machine's Go toolchain, once, into a cache
# keyed by the module files and the Go version.
#
# Commands:
#   build                    build once (or reuse) and print the bin folder
#   up [DIR]                 start etcd and kube-apiserver on free 127.0.0.1 ports
#   down [DIR]               stop them by the PIDs in DIR
#   status [DIR]             print PIDs, ports and /readyz
#   env [DIR]                print `export` lines for KUBECONFIG and PATH
#   prepare DIR ETCD_PORT ETCD_PEER_PORT APISERVER_PORT
#                            write certificates, keys, ports and kubeconfig into DIR
#   run etcd|kube-apiserver DIR
#                            exec one server in the foreground (its PID is this PID)
#   wait DIR [SECONDS]       wait until kube-apiserver /readyz returns ok
#
# DIR defaults to .state/controlplane in the repository. The test helper
# test/support/controlplane.ts uses prepare, run and wait with a temp DIR.
# Environment: NDO_CACHE_DIR overrides ~/.cache/nova-docker-operator.
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd "$script_dir/../.." && pwd)
module_dir="$script_dir/go"
cache_root="${NDO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/nova-docker-operator}/controlplane"
default_dir="$repo_root/.state/controlplane"
binaries=(etcd kube-apiserver kubectl)

# The apiserver's service network; 10.0.0.1 is the in-cluster `kubernetes` service IP.
service_cidr=10.0.0.0/24
service_ip=10.0.0.1

log() { echo "control-plane: $*" >&2; }
die() {
  log "$*"
  exit 1
}

find_go() {
  if command -v go >/dev/null 2>&1; then
    command -v go
  elif [ -x /usr/local/go/bin/go ]; then
    echo /usr/local/go/bin/go
  else
    die "go not found on PATH or in /usr/local/go/bin; install Go (the version in $module_dir/go.mod or newer)"
  fi
}

kube_version() {
  awk '$1 == "k8s.io/kubernetes" { print $2; exit }' "$module_dir/go.mod"
}

# Stamps the Kubernetes version into the binaries, as the upstream release
# build does, so `kubectl version` and /version report v1.x.y, not v0.0.0.
version_ldflags() {
  local version major minor flags="-s -w" pkg
  version=$(kube_version)
  major=$(echo "$version" | sed -E 's/^v([0-9]+)\..*/\1/')
  minor=$(echo "$version" | sed -E 's/^v[0-9]+\.([0-9]+)\..*/\1/')
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags+=" -X $pkg.gitVersion=$version -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
  done
  echo "$flags"
}

# The cache key covers everything that changes the binaries: the module
# files, the etcd main, the Go version and the link flags.
bin_dir() {
  local go_bin key
  go_bin=$(find_go)
  key=$({
    cat "$module_dir/go.mod" "$module_dir/go.sum" "$module_dir/tools.go" "$module_dir/cmd/etcd/main.go"
    "$go_bin" version
    version_ldflags
  } | sha256sum | cut -c1-16)
  echo "$cache_root/$key/bin"
}

cmd_build() {
  local bin go_bin tmp start
  bin=$(bin_dir)
  go_bin=$(find_go)
  mkdir -p "$(dirname "$bin")"

  # Worktrees may build at once: one builds, the others wait and reuse.
  exec 8>"$(dirname "$bin")/build.lock"
  flock 8
  if [ -f "$bin/.complete" ]; then
    echo "$bin"
    return
  fi

  log "building ${binaries[*]} for Kubernetes $(kube_version) into $bin (the first build takes several minutes)"
  start=$(date +%s)
  tmp="$bin.tmp.$$"
  rm -rf "$tmp"
  (cd "$module_dir" && "$go_bin" build -ldflags "$(version_ldflags)" -o "$tmp/" \
    ./cmd/etcd k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kubectl) >&2
  rm -rf "$bin"
  mv "$tmp" "$bin"
  touch "$bin/.complete"
  log "built in $(($(date +%s) - start)) s"
  echo "$bin"
}

# Prints DIR (default .state/controlplane) as an absolute path; only up and
# prepare create it.
state_dir() {
  realpath -m "${1:-$default_dir}"
}

load_config() {
  local dir=$1
  [ -f "$dir/config.env" ] || die "$dir/config.env missing; run: $0 up $dir (or prepare)"
  # shellcheck source=/dev/null
  . "$dir/config.env"
}

# Writes a CA, the apiserver serving certificate, an admin client certificate
# (group system:masters) and the service-account key pair into DIR/pki.
write_certificates() {
  local pki=$1/pki
  mkdir -p "$pki"
  (
    cd "$pki"
    umask 077
    openssl ecparam -name prime256v1 -genkey -noout -out ca.key 2>/dev/null
    openssl req -x509 -new -key ca.key -sha256 -days 365 -subj "/CN=nova-docker-operator-test-ca" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
      -out ca.crt

    openssl ecparam -name prime256v1 -genkey -noout -out apiserver.key 2>/dev/null
    openssl req -new -key apiserver.key -subj "/CN=kube-apiserver" -out apiserver.csr
    printf '%s\n' \
      "subjectAltName=DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:127.0.0.1,IP:::1,IP:$service_ip" \
      "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" >apiserver.ext
    openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -sha256 -days 365 \
      -extfile apiserver.ext -out apiserver.crt 2>/dev/null

    openssl ecparam -name prime256v1 -genkey -noout -out admin.key 2>/dev/null
    openssl req -new -key admin.key -subj "/O=system:masters/CN=admin" -out admin.csr
    printf '%s\n' "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=clientAuth" >admin.ext
    openssl x509 -req -in admin.csr -CA ca.crt -CAkey ca.key -CAcreateserial -sha256 -days 365 \
      -extfile admin.ext -out admin.crt 2>/dev/null

    openssl genrsa -out sa.key 2048 2>/dev/null
    openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
    rm -f ./*.csr ./*.ext ca.srl
  )
}

write_kubeconfig() {
  local dir=$1 port=$2
  local b64="base64 -w0"
  umask 077
  cat >"$dir/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: nova-docker-operator-test
  cluster:
    server: https://127.0.0.1:$port
    certificate-authority-data: $($b64 <"$dir/pki/ca.crt")
users:
- name: admin
  user:
    client-certificate-data: $($b64 <"$dir/pki/admin.crt")
    client-key-data: $($b64 <"$dir/pki/admin.key")
contexts:
- name: nova-docker-operator-test
  context:
    cluster: nova-docker-operator-test
    user: admin
current-context: nova-docker-operator-test
EOF
}

cmd_prepare() {
  [ "$#" -eq 4 ] || die "usage: $0 prepare DIR ETCD_PORT ETCD_PEER_PORT APISERVER_PORT"
  local dir bin
  dir=$(state_dir "$1")
  bin=$(cmd_build)
  mkdir -p "$dir"
  write_certificates "$dir"
  cat >"$dir/config.env" <<EOF
BIN_DIR=$bin
ETCD_PORT=$2
ETCD_PEER_PORT=$3
APISERVER_PORT=$4
EOF
  write_kubeconfig "$dir" "$4"
}

cmd_run() {
  [ "$#" -eq 2 ] || die "usage: $0 run etcd|kube-apiserver DIR"
  local server=$1 dir
  dir=$(state_dir "$2")
  load_config "$dir"
  case "$server" in
    etcd)
      # Test data is thrown away after the run, so fsync buys nothing.
      exec "$BIN_DIR/etcd" \
        --name=ndo-test \
        --data-dir="$dir/etcd" \
        --listen-client-urls="http://127.0.0.1:$ETCD_PORT" \
        --advertise-client-urls="http://127.0.0.1:$ETCD_PORT" \
        --listen-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
        --initial-advertise-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
        --initial-cluster="ndo-test=http://127.0.0.1:$ETCD_PEER_PORT" \
        --unsafe-no-fsync \
        --log-level=warn
      ;;
    kube-apiserver)
      # No controller-manager runs, so nothing would create the default
      # ServiceAccount that the ServiceAccount admission plugin waits for.
      exec "$BIN_DIR/kube-apiserver" \
        --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
        --bind-address=127.0.0.1 \
        --advertise-address=127.0.0.1 \
        --secure-port="$APISERVER_PORT" \
        --cert-dir="$dir/pki" \
        --tls-cert-file="$dir/pki/apiserver.crt" \
        --tls-private-key-file="$dir/pki/apiserver.key" \
        --client-ca-file="$dir/pki/ca.crt" \
        --authorization-mode=RBAC \
        --service-cluster-ip-range="$service_cidr" \
        --service-account-issuer=https://kubernetes.default.svc.cluster.local \
        --service-account-key-file="$dir/pki/sa.pub" \
        --service-account-signing-key-file="$dir/pki/sa.key" \
        --disable-admission-plugins=ServiceAccount \
        --endpoint-reconciler-type=none \
        --allow-privileged=true
      ;;
    *) die "unknown server \"$server\"; use etcd or kube-apiserver" ;;
  esac
}

cmd_wait() {
  [ "$#" -ge 1 ] || die "usage: $0 wait DIR [SECONDS]"
  local dir timeout=${2:-60} deadline
  dir=$(state_dir "$1")
  load_config "$dir"
  deadline=$(($(date +%s) + timeout))
  until [ "$("$BIN_DIR/kubectl" --kubeconfig="$dir/kubeconfig" --request-timeout=2s get --raw /readyz 2>/dev/null)" = ok ]; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      die "kube-apiserver on 127.0.0.1:$APISERVER_PORT not ready after $timeout s; see $dir/*.log"
    fi
    sleep 0.3
  done
}

. "$script_dir/../../hack/lib/free-port.sh"

# Returns success when the PID in DIR/NAME.pid runs a binary from this control plane.
server_running() {
  local dir=$1 name=$2 pid
  [ -f "$dir/$name.pid" ] || return 1
  pid=$(cat "$dir/$name.pid")
  # Compare the executable, so a PID reused by another process is never signalled.
  [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$BIN_DIR/$name" ]
}

cmd_up() {
  local dir name
  dir=$(state_dir "${1:-}")
  if [ -f "$dir/config.env" ]; then
    load_config "$dir"
    if server_running "$dir" etcd || server_running "$dir" kube-apiserver; then
      log "already running in $dir; stop it with: $0 down $dir"
      cmd_status "$dir"
      return
    fi
  fi

  rm -rf "$dir/etcd" "$dir/pki"
  cmd_prepare "$dir" "$(free_port)" "$(free_port)" "$(free_port)"
  load_config "$dir"
  for name in etcd kube-apiserver; do
    # setsid puts the server in its own session, so it outlives this shell and
    # ignores the terminal's Ctrl-C; run execs the binary, so $! is its PID.
    setsid "$0" run "$name" "$dir" >>"$dir/$name.log" 2>&1 </dev/null &
    echo $! >"$dir/$name.pid"
  done

  if ! cmd_wait "$dir" 90; then
    tail -n 20 "$dir/kube-apiserver.log" >&2
    cmd_down "$dir"
    exit 1
  fi
  log "kube-apiserver ready at https://127.0.0.1:$APISERVER_PORT"
  log "use it with: eval \"\$($0 env${1:+ $1})\"; stop it with: $0 down${1:+ $1}"
}

cmd_down() {
  local dir name pid
  dir=$(state_dir "${1:-}")
  [ -f "$dir/config.env" ] || {
    log "nothing to stop in $dir"
    return
  }
  load_config "$dir"
  for name in kube-apiserver etcd; do
    if server_running "$dir" "$name"; then
      pid=$(cat "$dir/$name.pid")
      kill -TERM "$pid"
      for _ in $(seq 1 100); do
        server_running "$dir" "$name" || break
        sleep 0.1
      done
      if server_running "$dir" "$name"; then
        log "$name (PID $pid) ignored SIGTERM for 10 s; sending SIGKILL"
        kill -KILL "$pid"
      fi
      log "stopped $name (PID $pid)"
    fi
    rm -f "$dir/$name.pid"
  done
}

cmd_status() {
  local dir name state=0
  dir=$(state_dir "${1:-}")
  if [ ! -f "$dir/config.env" ]; then
    echo "not started (no $dir/config.env)"
    return 3
  fi
  load_config "$dir"
  for name in etcd kube-apiserver; do
    if server_running "$dir" "$name"; then
      echo "$name: running (PID $(cat "$dir/$name.pid"))"
    else
      echo "$name: stopped"
      state=3
    fi
  done
  echo "etcd: http://127.0.0.1:$ETCD_PORT"
  echo "kube-apiserver: https://127.0.0.1:$APISERVER_PORT /readyz: $("$BIN_DIR/kubectl" --kubeconfig="$dir/kubeconfig" --request-timeout=2s get --raw /readyz 2>/dev/null || echo unavailable)"
  echo "kubeconfig: $dir/kubeconfig"
  return "$state"
}

cmd_env() {
  local dir
  dir=$(state_dir "${1:-}")
  load_config "$dir"
  echo "export KUBECONFIG=$dir/kubeconfig"
  echo "export PATH=$BIN_DIR:\$PATH"
}

main() {
  local command=${1:-}
  [ "$#" -gt 0 ] && shift
  case "$command" in
    build) cmd_build "$@" ;;
    up) cmd_up "$@" ;;
    down) cmd_down "$@" ;;
    status) cmd_status "$@" ;;
    env) cmd_env "$@" ;;
    prepare) cmd_prepare "$@" ;;
    run) cmd_run "$@" ;;
    wait) cmd_wait "$@" ;;
    *)
      sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
      exit 2
      ;;
  esac
}

main "$@"
