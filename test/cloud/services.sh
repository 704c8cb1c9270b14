# How each service of the test cloud runs and stops; sourced after lib.sh.
#
# Every service runs in its own session (setsid), so stopping it signals the
# whole process group. A pid file contains "PID STARTTIME", and a stop or a
# health check trusts the PID only while /proc still shows that start time,
# so a PID reused after a reboot is never signalled.

# Sets CMD to the command line of service $1.
service_command() {
  local uwsgi=(uwsgi --plugin python3 --master --lazy-apps --die-on-term --need-app
    --enable-threads --buffer-size 65535 --processes 1)
  case $1 in
    mariadb)
      # Socket only (--skip-networking). Commits reach the OS at once and the
      # disk once a second: a crashed cloud is restored from the snapshot anyway.
      CMD=(mariadbd --no-defaults "--datadir=$CLOUD_DATA/mysql" "--socket=$MYSQL_SOCKET"
        "--pid-file=$CLOUD_RUN/mysqld.pid" --skip-networking --skip-name-resolve
        --innodb-buffer-pool-size=64M --innodb-log-file-size=16M
        --innodb-flush-log-at-trx-commit=2 --performance-schema=OFF --skip-log-bin
        --max-connections=500 "--log-error=$CLOUD_LOGS/mariadb.log")
      [ "$(id -u)" -eq 0 ] && CMD+=(--user=root)
      ;;
    epmd) CMD=(epmd -address 127.0.0.1 -port "$EPMD_PORT") ;;
    rabbitmq) CMD=(env "HOME=$CLOUD_DATA/rabbit" /usr/lib/rabbitmq/bin/rabbitmq-server) ;;
    keystone)
      # http11-socket keeps connections alive correctly: with http-socket,
      # uWSGI closes each connection after one response without saying so,
      # and a client that reuses it gets "connection reset by peer".
      CMD=("${uwsgi[@]}" --threads 4 --http11-socket "127.0.0.1:${KEYSTONE_LISTEN_PORT:-5000}"
        --wsgi-file /usr/bin/keystone-wsgi-public
        --env "OS_KEYSTONE_CONFIG_FILES=$CLOUD_ETC/keystone/keystone.conf")
      ;;
    glance-api) CMD=(glance-api --config-file "$CLOUD_ETC/glance/glance-api.conf") ;;
    placement)
      CMD=("${uwsgi[@]}" --threads 4 --http11-socket 127.0.0.1:8778
        --wsgi-file /usr/bin/placement-api --env "OS_PLACEMENT_CONFIG_DIR=$CLOUD_ETC/placement")
      ;;
    nova-api | nova-conductor | nova-scheduler) CMD=("$1" --config-file "$CLOUD_ETC/nova/nova.conf") ;;
    nova-compute)
      # The nova-compute command ships only in the nova-compute package, which
      # pulls in libvirt and QEMU; python3-nova has the module, so run that.
      CMD=("$PY" -c 'import sys; sys.argv[0] = "nova-compute"; from nova.cmd.compute import main; sys.exit(main())'
        --config-file "$CLOUD_ETC/nova/nova-compute.conf")
      ;;
    neutron-server)
      CMD=(env "PYTHONPATH=$CLOUD_TOOLS/python" neutron-server
        --config-file "$CLOUD_ETC/neutron/neutron.conf")
      ;;
    *) die "unknown service $1" ;;
  esac
}

# Prints the start time of process $1 in clock ticks since boot (field 22 of
# /proc/PID/stat), or nothing when the process does not exist.
process_start_time() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  # The command name (field 2) may hold spaces; count fields after its ')'.
  stat=${stat##*) }
  set -- $stat
  echo "${20}"
}

# Prints the PID of service $1 when that very process still runs.
live_pid() {
  local file=$CLOUD_RUN/$1.pid pid started
  [ -s "$file" ] || return 1
  read -r pid started <"$file"
  [ -n "$pid" ] && [ "$(process_start_time "$pid")" = "$started" ] && echo "$pid"
}

start_service() {
  local name=$1
  service_command "$name"
  mkdir -p "$CLOUD_RUN" "$CLOUD_LOGS"
  # The working folder is the state folder: Python puts it first on sys.path
  # for "python3 -c", so a worktree's own modules must not be found there.
  # It must not inherit the descriptor of $CLOUD_DIR/lock either, or the lock
  # would stay held for as long as the service runs.
  (
    cd "$CLOUD_DIR"
    [ -z "${CLOUD_LOCK_FD:-}" ] || exec {CLOUD_LOCK_FD}>&-
    exec setsid "${CMD[@]}" >"$CLOUD_LOGS/$name.log" 2>&1 </dev/null
  ) &
  local pid=$!
  echo "$pid $(process_start_time "$pid")" >"$CLOUD_RUN/$name.pid"
}

# Sends SIGTERM to the process groups of the named services, waits up to
# grace seconds for all of them, then sends SIGKILL to what is left.
stop_services() {
  local grace=$1 name pid deadline
  shift
  local pids=()
  for name in "$@"; do
    if pid=$(live_pid "$name"); then
      kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid")
    fi
  done
  deadline=$(($(date +%s) + grace))
  for pid in "${pids[@]}"; do
    while kill -0 "$pid" 2>/dev/null && [ "$(date +%s)" -lt "$deadline" ]; do sleep 0.2; done
  done
  for pid in "${pids[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      say "process group $pid did not stop within ${grace} s; sending SIGKILL"
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  for name in "$@"; do rm -f "$CLOUD_RUN/$name.pid"; done
}

wait_mariadb() {
  local deadline=$(($(date +%s) + 60))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    mariadb-admin --no-defaults --socket="$MYSQL_SOCKET" -u root ping >/dev/null 2>&1 && return 0
    live_pid mariadb >/dev/null || die "mariadb exited during start; see $CLOUD_LOGS/mariadb.log"
    sleep 0.1
  done
  die "mariadb did not accept connections on $MYSQL_SOCKET within 60 s; see $CLOUD_LOGS/mariadb.log"
}
