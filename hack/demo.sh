#!/usr/bin/env bash
# The demo on embedded defaults: a local control plane (etcd and
# kube-apiserver), a Docker Engine (the machine's, or a private dockerd when
# none is reachable), Debian's docker-registry, the dev cloud and the operator,
# all on 127.0.0.1. It pushes an offline busybox web server image to the
# registry, applies the ContainerInstances in hack/demo/ and waits for each to
# settle.
#
# Commands:
#   up      start everything, or reuse a demo that is fully running, then
#           apply the demo instances and print a summary
#   down    stop every process the demo started, by the PIDs in DEMO_DIR
#   status  print each process with its PID
#   env     print export lines for KUBECONFIG, PATH and DOCKER_HOST
#
# Environment:
#   DEMO_DIR           state folder (default .state/demo in the repository)
#   DEMO_TIMEOUT       seconds each instance may take to settle (default 180)
#   DOCKER_HOST        a unix:// Docker Engine to use instead of a private one
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
demo_dir=${DEMO_DIR:-$repo_root/.state/demo}
case "$demo_dir" in /*) ;; *) demo_dir=$PWD/$demo_dir ;; esac
demo_dir=${demo_dir%/}
settle_timeout=${DEMO_TIMEOUT:-180}
control_plane="$repo_root/test/controlplane/control-plane.sh"
main_js="$repo_root/dist/src/main.js"

# Sockets of dockerd and its containerd must fit in 108 bytes, so they live in
# a short folder under /tmp, named after the state folder.
demo_id=$(printf '%s' "$demo_dir" | sha256sum | cut -c1-8)
runtime_dir=/tmp/ndo-demo-$demo_id
docker_prefix=ndo-demo-$demo_id

cloud_secret_namespace=nova-docker-operator
cloud_secret_name=openstack-cloud
failing_flavor=m1.large
web_image=demo/web:1.0

# The processes the demo may start, in start order.
processes=(etcd kube-apiserver dockerd registry devcloud operator)

# The engine the caller asked for; demo.env may later set DOCKER_HOST to the demo's.
user_docker_host=${DOCKER_HOST:-}

# Node.js 24 and the npm tools, as the Makefile sets them up.
PATH=$("$repo_root/hack/ensure-node.sh"):$repo_root/node_modules/.bin:$PATH

# shellcheck source=hack/demo/lib.sh
. "$repo_root/hack/demo/lib.sh"
# shellcheck source=hack/demo/components.sh
. "$repo_root/hack/demo/components.sh"
# shellcheck source=hack/demo/instances.sh
. "$repo_root/hack/demo/instances.sh"

cmd_up() {
  if [ ! -f "$main_js" ]; then
    die "$main_js is missing; run make build first (make demo does)"
  fi
  "$repo_root/hack/ensure-debian-packages.sh" openssl curl docker.io docker-registry busybox-static
  mkdir -p "$demo_dir"
  exec 7>"$demo_dir/.lock"
  flock -n 7 || die "another hack/demo.sh up is running on $demo_dir; wait for it to finish"

  local running=() stopped=() name
  for name in "${processes[@]}"; do
    if process_expected "$name"; then
      if process_owned "$name"; then running+=("$name"); else stopped+=("$name"); fi
    fi
  done
  if [ "${#running[@]}" -gt 0 ] && [ "${#stopped[@]}" -gt 0 ]; then
    die "a demo in $demo_dir is partly running (stopped: ${stopped[*]}); run make demo-down, then make demo"
  fi

  if [ "${#running[@]}" -gt 0 ]; then
    log "a demo is already running in $demo_dir (${running[*]}); reusing it"
    load_env
  else
    start_all
  fi

  publish_web_image
  apply_instances
  print_summary
}

# Starts every component from a clean state folder, so nothing of an earlier
# demo (etcd data, dev cloud servers, images) leaks into this one.
start_all() {
  refuse_leftover_mounts
  trap 'log "the demo did not start; stopping what it started"; cmd_down' EXIT
  find "$demo_dir" -mindepth 1 -maxdepth 1 ! -name .lock -exec rm -rf {} +
  mkdir -p "$demo_dir"/{controlplane,docker,registry,devcloud,operator,manifests}
  : >"$demo_dir/demo.env"

  log "starting the control plane (etcd, kube-apiserver)"
  "$control_plane" up "$demo_dir/controlplane" 7>&- 2>&1 | { grep -v 'use it with' || true; } | sed 's/^/  /' >&2
  # The control plane script owns these PID files; the demo only reads them.
  save_env BIN_DIR "$(. "$demo_dir/controlplane/config.env" && echo "$BIN_DIR")"
  save_env KUBECONFIG "$demo_dir/controlplane/kubeconfig"

  start_docker_engine
  start_registry
  start_devcloud
  install_crd_and_secret
  start_operator
  trap - EXIT
}

cmd_down() {
  [ -d "$demo_dir" ] || {
    log "nothing to stop: $demo_dir does not exist"
    return
  }
  if [ -f "$demo_dir/demo.env" ]; then load_env; fi

  stop_process operator
  stop_process devcloud
  remove_devcloud_containers
  stop_process registry
  stop_process dockerd 30
  if [ -f "$demo_dir/controlplane/config.env" ]; then
    "$control_plane" down "$demo_dir/controlplane" 2>&1 | sed 's/^/  /' >&2
  fi
  rm -rf "$runtime_dir"
  log "stopped; logs stay in $demo_dir until the next make demo"
}

cmd_status() {
  [ -f "$demo_dir/demo.env" ] || {
    echo "no demo in $demo_dir"
    return 3
  }
  load_env
  local name state=0
  for name in "${processes[@]}"; do
    process_expected "$name" || continue
    if process_owned "$name"; then
      printf '%-15s running (PID %s)\n' "$name" "$(cat "$(pid_file "$name")")"
    else
      printf '%-15s stopped\n' "$name"
      state=3
    fi
  done
  [ -z "${OWN_DOCKERD:-}" ] && printf '%-15s %s (not started by the demo)\n' docker "$DOCKER_HOST"
  return "$state"
}

cmd_env() {
  [ -f "$demo_dir/demo.env" ] || die "no demo in $demo_dir; run make demo"
  load_env
  echo "export KUBECONFIG=$KUBECONFIG"
  echo "export PATH=$BIN_DIR:\$PATH"
  echo "export DOCKER_HOST=$DOCKER_HOST"
}

main() {
  local command=${1:-}
  [ "$#" -gt 0 ] && shift
  case "$command" in
    up) cmd_up "$@" ;;
    down) cmd_down "$@" ;;
    status) cmd_status "$@" ;;
    env) cmd_env "$@" ;;
    *)
      sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
      exit 2
      ;;
  esac
}

main "$@"
