#!/usr/bin/env bash
# Measures the OpenStack test cloud's lifecycle on this machine and prints a
# Markdown table. It runs `make cloud-up && make cloud-down` twice in a row on
# the machine's cloud, with a repeated cloud-up in between that finds it
# running. Then it configures from scratch in a scratch state folder, so the
# machine's cloud keeps its data. Stops the machine's cloud, so it exits early while
# test runs hold leases on it; restarts it afterwards if it was running.
#
#   bench/openstack-cloud.sh
set -euo pipefail
cd "$(dirname "$0")/.."

cloud=test/cloud/cloud.sh
log=$(mktemp /tmp/openstack-cloud-bench.XXXXXX.log)
rows=()
last_output=""

# Runs a command with its output in $log and appends "| label | seconds |".
measure() {
  local label=$1 begin output
  shift
  begin=$(date +%s.%N)
  if ! output=$("$@" 2>&1); then
    echo "$output" >>"$log"
    echo "bench: '$*' failed; last lines of its output:" >&2
    tail -n 20 <<<"$output" >&2
    exit 1
  fi
  echo "$output" >>"$log"
  rows+=("| $label | $(awk -v s="$begin" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }') |")
  last_output=$output
}

# A test run of another worktree may start the cloud between two steps,
# which turns a cold start into a no-op, so such a figure is not reported.
expect_cold_start() {
  if grep -q "already running" <<<"$last_output"; then
    echo "bench: another test run started the cloud during the bench; run again when the machine is quieter" >&2
    exit 1
  fi
}

was_running=false
"$cloud" status >/dev/null 2>&1 && was_running=true
"$cloud" install >>"$log" 2>&1

"$cloud" stop >>"$log" 2>&1 || {
  echo "bench: test runs hold leases on the test cloud, so it cannot be stopped; run again when make cloud-status lists none" >&2
  exit 1
}
for round in 1 2; do
  measure "round $round: make cloud-up (cold start)" make --no-print-directory cloud-up
  expect_cold_start
  measure "round $round: make cloud-up (already running)" make --no-print-directory cloud-up
  if [ "$round" = 1 ]; then
    rss=$("$cloud" status | awk '$2 ~ /^[0-9]+$/ && $3 ~ /^[0-9]+$/ { s += $3 } END { print s }')
  fi
  measure "round $round: make cloud-down" make --no-print-directory cloud-down
done
$was_running && make --no-print-directory cloud-up >>"$log" 2>&1

# Last, because it takes no fixed port and other test runs may use the
# machine's cloud again by now.
scratch=$(mktemp -d /tmp/openstack-cloud-bench.XXXXXX)
measure "configure and initialize the databases (scratch folder)" \
  env NOVA_DOCKER_OPENSTACK_DIR="$scratch" "$cloud" configure
rm -rf "$scratch"

echo "OpenStack test cloud on $(nproc) cores, $(free -g | awk '/^Mem:/ { print $2 }') GiB, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"
echo
echo "| step | seconds |"
echo "|---|---|"
printf '%s\n' "${rows[@]}"
echo
echo "Resident memory of all services after the first start: ${rss} MiB. Log: $log"
