# free_port prints a TCP port on 127.0.0.1 that nothing listens on (a connect
# to it is refused). Callers define die(). Sourced by the control plane
# script and the demo.
free_port() {
  local port
  for _ in $(seq 1 100); do
    port=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return
    fi
  done
  die "no free port found on 127.0.0.1"
}
