#!/usr/bin/env bash
# The machine's OpenStack test cloud: Keystone, Glance, Placement, Nova (fake
# compute driver) and Neutron from Debian's packages, on 127.0.0.1.
#
#   cloud.sh start [--lease PID]  start unless it already runs healthy; prints one JSON line
#   cloud.sh release PID          drop a test run's lease; stop when it was the last
#   cloud.sh stop [--force | --when-unused]
#                                 stop every service by PID; while test runs hold
#                                 leases, refuse, stop anyway, or stop after the last
#   cloud.sh reset                stop and restore the databases to the snapshot
#   cloud.sh configure            stop, then configure from scratch
#   cloud.sh install              apt-get install the missing packages
#   cloud.sh status               print services, endpoints and leases
#   cloud.sh env                  print OS_CLIENT_CONFIG_FILE and OS_CLOUD exports
#
# A test run starts the cloud with a lease (its PID); a cloud that tests
# started stops when the last lease is released, while one started by hand
# (make cloud-up) keeps running until make cloud-down. Exit status 3 means
# the cloud cannot run on this machine; the last line says why.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$CLOUD_TOOLS/services.sh"

UNAVAILABLE=3
API_SERVICES=(keystone:$KEYSTONE_URL/v3 glance-api:$GLANCE_URL/ placement:$PLACEMENT_URL/
  nova-api:$NOVA_URL/ neutron-server:$NEUTRON_URL/)
STOP_ORDER=(nova-compute nova-api nova-conductor nova-scheduler neutron-server glance-api placement keystone)

unavailable() {
  say "unavailable: $*"
  exit "$UNAVAILABLE"
}

# Every service whose pid file names a live process.
running_services() {
  local name
  for name in "${CLOUD_SERVICES[@]}"; do live_pid "$name" >/dev/null && echo "$name"; done
  true
}

healthy() {
  local name entry
  [ -e "$CLOUD_RUN/ready" ] || return 1
  for name in "${CLOUD_SERVICES[@]}"; do
    [ "$name" = epmd ] && continue # may be another program's epmd
    live_pid "$name" >/dev/null || return 1
  done
  for entry in "${API_SERVICES[@]}"; do http_serving "${entry#*:}" || return 1; done
}

live_leases() {
  local file pid
  mkdir -p "$CLOUD_LEASES"
  for file in "$CLOUD_LEASES"/*; do
    [ -e "$file" ] || continue
    pid=${file##*/}
    if [ "$(process_start_time "$pid")" = "$(cat "$file")" ]; then echo "$pid"; else rm -f "$file"; fi
  done
}

add_lease() {
  local started
  started=$(process_start_time "$1") ||
    die "no process $1 to hold a lease on the cloud; pass the PID of the running test process"
  mkdir -p "$CLOUD_LEASES"
  echo "$started" >"$CLOUD_LEASES/$1"
}

ensure_installed() {
  all_packages_installed && return 0
  [ "$(id -u)" -eq 0 ] || unavailable "OpenStack packages are missing and this is not root; run 'sudo make cloud-install'"
  command -v apt-get >/dev/null || unavailable "OpenStack packages are missing and apt-get is not available"
  "$CLOUD_TOOLS/install.sh" >"$CLOUD_DIR/install.log" 2>&1 ||
    unavailable "apt-get could not install the OpenStack packages; see $CLOUD_DIR/install.log"
}

# Exits with an error naming the process that listens on a port the cloud needs.
check_ports_free() {
  local port holder
  for port in "${CLOUD_PORTS[@]}"; do
    holder=$(ss -Hltnp "sport = :$port" 2>/dev/null | head -n 1)
    [ -z "$holder" ] && continue
    die "port $port on this machine is already in use ($holder); the test cloud needs it: stop that program, or run 'make cloud-down' if it is a test cloud started from another folder"
  done
}

prepare_state() {
  if [ "$(cat "$CLOUD_DIR/layout" 2>/dev/null)" != "$CLOUD_LAYOUT" ]; then
    say "configuring $CLOUD_DIR (first start, or the tooling changed)"
    "$CLOUD_TOOLS/configure.sh"
  elif [ ! -d "$CLOUD_DATA" ]; then
    restore_snapshot
  fi
  # The running cloud must not depend on the worktree that started it.
  rm -rf "$CLOUD_DIR/python"
  cp -a "$CLOUD_TOOLS/python" "$CLOUD_DIR/python"
}

restore_snapshot() {
  local begin
  begin=$(date +%s.%N)
  rm -rf "$CLOUD_DATA"
  cp -a "$CLOUD_SNAPSHOT" "$CLOUD_DATA"
  say "restored the databases from the snapshot ($(elapsed "$begin") s)"
}

# Waits for the API of service $1 at $2, failing early if its process exits.
wait_api() {
  local name=$1 url=$2 deadline=$(($(date +%s) + 180))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    http_serving "$url" && return 0
    live_pid "$name" >/dev/null || fail_service "$name" "exited during start"
    sleep 0.25
  done
  fail_service "$name" "did not serve $url within 180 s"
}

fail_service() {
  say "$1 $2; last lines of $CLOUD_LOGS/$1.log:"
  tail -n 20 "$CLOUD_LOGS/$1.log" >&2 || true
  exit 1
}

stop_all() {
  rm -f "$CLOUD_RUN/ready" "$CLOUD_RUN/owner"
  # The database stops last so that it shuts down cleanly with no clients.
  stop_services 30 "${STOP_ORDER[@]}" rabbitmq epmd
  stop_services 60 mariadb
}

# The one stdout line of start, for test/support/openstack.ts.
print_result() {
  printf '{"state":"%s","testCloudJson":"%s"}\n' "$1" "$CLOUD_DIR/test-cloud.json"
}

cmd_start() {
  local lease="" owner=manual begin
  if [ "${1:-}" = --lease ]; then
    lease=${2:?"--lease needs the PID of the test run"}
    owner=test
    process_start_time "$lease" >/dev/null ||
      die "no process $lease to hold a lease on the cloud; pass the PID of the running test process"
  fi
  hold_lock
  begin=$(date +%s.%N)

  if healthy; then
    [ -n "$lease" ] && add_lease "$lease"
    [ "$owner" = manual ] && echo manual >"$CLOUD_RUN/owner"
    say "already running ($CLOUDS_YAML)"
    print_result running
    return 0
  fi
  if [ -n "$(running_services)" ]; then
    say "found a partly running cloud ($(running_services | tr '\n' ' ')); stopping it first"
    stop_all
  fi

  ensure_installed
  check_ports_free
  prepare_state
  trap 'say "start failed; stopping what it started"; stop_all' EXIT

  start_service mariadb
  wait_mariadb
  ss -Hltn "sport = :$EPMD_PORT" | grep -q . || start_service epmd
  for name in rabbitmq keystone glance-api placement neutron-server nova-api nova-conductor nova-scheduler; do
    start_service "$name"
  done
  say "services started ($(elapsed "$begin") s)"

  # nova-compute registers its resources in placement once at start and
  # otherwise only every 60 s, so it starts after placement serves requests.
  wait_api keystone "$KEYSTONE_URL/v3"
  wait_api placement "$PLACEMENT_URL/"
  start_service nova-compute
  for entry in "${API_SERVICES[@]}"; do wait_api "${entry%%:*}" "${entry#*:}"; done
  say "every API serves requests ($(elapsed "$begin") s)"

  "$PY" "$CLOUD_TOOLS/cloud_fixtures.py" cloud
  trap - EXIT
  echo "$owner" >"$CLOUD_RUN/owner"
  touch "$CLOUD_RUN/ready"
  [ -n "$lease" ] && add_lease "$lease"
  say "ready in $(elapsed "$begin") s; clouds.yaml: $CLOUDS_YAML"
  print_result started
}

cmd_release() {
  local pid=${1:?"release needs the PID of the test run"}
  hold_lock
  rm -f "$CLOUD_LEASES/$pid"
  local others
  others=$(live_leases | tr '\n' ' ')
  if [ "$(cat "$CLOUD_RUN/owner" 2>/dev/null)" != test ]; then
    return 0
  fi
  if [ -n "$others" ]; then
    say "leaving the cloud running for the test runs with PIDs $others"
    return 0
  fi
  say "stopping the cloud this machine's test runs started"
  stop_all
}

# Refuses to stop a cloud that test runs hold, unless forced.
stop_checked() {
  local leases
  leases=$(live_leases | tr '\n' ' ')
  if [ -n "$leases" ] && [ "${1:-}" != --force ]; then
    die "test runs with PIDs $leases are using the cloud; wait for them, pass --when-unused to stop it after the last one, or --force to stop it now (FORCE=1 with make)"
  fi
  stop_all
  rm -f "$CLOUD_LEASES"/*
}

cmd_stop() {
  hold_lock
  if [ -z "$(running_services)" ]; then
    say "not running"
    return 0
  fi
  if [ "${1:-}" = --when-unused ]; then
    local leases
    leases=$(live_leases | tr '\n' ' ')
    if [ -n "$leases" ]; then
      # Hand the cloud to its test runs: the last release stops it.
      echo test >"$CLOUD_RUN/owner"
      say "test runs with PIDs $leases are using the cloud; it stops when the last of them ends"
      return 0
    fi
  fi
  stop_checked "${1:-}"
  say "stopped"
}

cmd_reset() {
  hold_lock
  stop_checked "${1:-}"
  if [ "$(cat "$CLOUD_DIR/layout" 2>/dev/null)" = "$CLOUD_LAYOUT" ] && [ -d "$CLOUD_SNAPSHOT" ]; then
    restore_snapshot
  else
    rm -rf "$CLOUD_DATA"
  fi
  rm -f "$CLOUDS_YAML" "$CLOUD_DIR/test-cloud.json"
  say "reset; the next start creates the fixtures again"
}

cmd_configure() {
  hold_lock
  stop_checked "${1:-}"
  ensure_installed
  "$CLOUD_TOOLS/configure.sh"
}

cmd_status() {
  local name pid rss state=stopped entry
  [ -n "$(running_services)" ] && state=degraded
  if healthy; then
    case $(cat "$CLOUD_RUN/owner" 2>/dev/null) in
      test) state="running (started by a test run; stops when the last lease is released)" ;;
      *) state="running (started by make cloud-up; stops with make cloud-down)" ;;
    esac
  fi
  echo "test cloud in $CLOUD_DIR: $state"
  [ "$state" = stopped ] && return 1
  printf '  %-16s %8s %9s\n' service pid "RSS MiB"
  for name in "${CLOUD_SERVICES[@]}"; do
    if pid=$(live_pid "$name"); then
      rss=$(ps -eo pgid=,rss= | awk -v g="$pid" '$1 == g { s += $2 } END { printf "%.0f", s / 1024 }')
      printf '  %-16s %8s %9s\n' "$name" "$pid" "$rss"
    else
      printf '  %-16s %8s\n' "$name" "-"
    fi
  done
  for entry in "${API_SERVICES[@]}"; do
    printf '  %-16s %s -> %s\n' "${entry%%:*}" "${entry#*:}" "$(http_code "${entry#*:}")"
  done
  echo "  test runs holding a lease: $(live_leases | tr '\n' ' ')"
  echo "  clouds.yaml: $CLOUDS_YAML"
  [[ $state == running* ]] || return 2
}

cmd_env() {
  echo "export OS_CLIENT_CONFIG_FILE=$CLOUDS_YAML"
  echo "export OS_CLOUD=nova-docker-test"
}

command=${1:-}
shift || true
case $command in
  start | release | stop | reset | configure | status | env) "cmd_$command" "$@" ;;
  install) exec "$CLOUD_TOOLS/install.sh" ;;
  *)
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
