# Process and state helpers of hack/demo.sh, sourced by it. Every process the
# demo starts runs in its own session (setsid), so it outlives `make demo`, and
# records its PID in a file under the demo folder. Stops go by that PID, after
# checking that the process still runs with the demo folder in its command
# line, so a PID the kernel reused for another program is never signalled.

log() { echo "demo: $*" >&2; }
die() {
  log "$*"
  exit 1
}

# Prints the PID file of a demo process. The control plane script writes its
# own PID files; the demo reads them.
pid_file() {
  case "$1" in
    etcd | kube-apiserver) echo "$demo_dir/controlplane/$1.pid" ;;
    dockerd) echo "$demo_dir/docker/dockerd.pid" ;;
    *) echo "$demo_dir/$1/$1.pid" ;;
  esac
}

# Succeeds when the process of this name runs and belongs to this demo.
process_owned() {
  local file pid
  file=$(pid_file "$1")
  [ -f "$file" ] || return 1
  pid=$(cat "$file")
  [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$demo_dir/"
}

# Succeeds when the demo in this folder started (or would start) the process:
# dockerd only when no other Docker Engine was reachable.
process_expected() {
  [ "$1" != dockerd ] || [ "$(env_value OWN_DOCKERD)" = 1 ]
}

# Starts a command in its own session with stdout and stderr appended to LOG,
# and writes its PID file. setsid execs the command, so $! is its PID. The
# command does not inherit the lock on fd 7, which would outlive this script.
start_process() {
  local name=$1 log_file=$2
  shift 2
  setsid "$@" >>"$log_file" 2>&1 </dev/null 7>&- &
  echo $! >"$(pid_file "$name")"
}

# Sends SIGTERM, waits up to GRACE seconds (default 15), then sends SIGKILL.
stop_process() {
  local name=$1 grace=${2:-15} file pid
  file=$(pid_file "$name")
  [ -f "$file" ] || return 0
  pid=$(cat "$file")
  if ! process_owned "$name"; then
    log "$name (PID $pid) is not running"
    rm -f "$file"
    return 0
  fi

  kill -TERM "$pid"
  for _ in $(seq 1 $((grace * 10))); do
    process_owned "$name" || break
    sleep 0.1
  done
  if process_owned "$name"; then
    log "$name (PID $pid) ignored SIGTERM for $grace s; sending SIGKILL"
    kill -KILL "$pid"
  fi
  log "stopped $name (PID $pid)"
  rm -f "$file"
}

# Polls COMMAND every 0.3 s until it succeeds. Fails with the end of the log
# when the process NAME exits or TIMEOUT seconds pass.
wait_for() {
  local description=$1 name=$2 timeout=$3 log_file=$4 deadline
  shift 4
  deadline=$(($(date +%s) + timeout))
  until "$@" >/dev/null 2>&1; do
    if ! process_owned "$name"; then
      tail -n 20 "$log_file" >&2 || true
      die "$name exited while the demo was waiting for $description; see its log $log_file"
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      tail -n 20 "$log_file" >&2 || true
      die "timed out after $timeout s waiting for $description; see $log_file"
    fi
    sleep 0.3
  done
}

. "$repo_root/hack/lib/free-port.sh"

# demo.env records what later commands (down, status, env, a second up) need.
save_env() {
  printf '%s=%q\n' "$1" "$2" >>"$demo_dir/demo.env"
  printf -v "$1" '%s' "$2"
  export "${1?}"
}

load_env() {
  # shellcheck source=/dev/null
  . "$demo_dir/demo.env"
  export KUBECONFIG DOCKER_HOST
}

# Prints one value of demo.env without loading the others.
env_value() {
  [ -f "$demo_dir/demo.env" ] || return 0
  (
    # shellcheck source=/dev/null
    . "$demo_dir/demo.env"
    eval "echo \"\${$1:-}\""
  )
}

kubectl() { "$BIN_DIR/kubectl" --kubeconfig="$KUBECONFIG" "$@"; }

docker_ping() { timeout 5 docker -H "unix://$1" version --format '{{.Server.Version}}'; }

# A dockerd killed without its shutdown leaves overlay mounts, which rm -rf
# cannot remove and must not descend into.
refuse_leftover_mounts() {
  local mounts
  mounts=$(awk -v a="$demo_dir/" -v b="$runtime_dir/" \
    'index($2, a) == 1 || index($2, b) == 1 { print $2 }' /proc/mounts)
  [ -z "$mounts" ] || die "mounts of an earlier demo dockerd remain; unmount them (umount PATH) and run make demo again:
$mounts"
}
