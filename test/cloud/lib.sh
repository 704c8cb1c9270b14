# Shared settings of the test cloud scripts; sourced, never run.
#
# Every service listens on 127.0.0.1 on its usual fixed port, so one cloud
# serves the whole machine. Its state lives in one folder outside any
# worktree, and every command that changes it holds $CLOUD_DIR/lock.

CLOUD_TOOLS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CLOUD_DIR=${NOVA_DOCKER_OPENSTACK_DIR:-$HOME/.cache/nova-docker-operator/openstack}
CLOUD_ETC=$CLOUD_DIR/etc
CLOUD_DATA=$CLOUD_DIR/data
CLOUD_SNAPSHOT=$CLOUD_DIR/snapshot
CLOUD_LOGS=$CLOUD_DIR/logs
CLOUD_RUN=$CLOUD_DIR/run
CLOUD_LEASES=$CLOUD_DIR/leases
CLOUDS_YAML=$CLOUD_DIR/clouds.yaml
MYSQL_SOCKET=$CLOUD_RUN/mysqld.sock

# Bump when configure.sh writes a different layout; a stopped cloud with an
# older layout is configured again at the next start.
CLOUD_LAYOUT=2

# Debian's interpreter: the python3 first on PATH may be another one, and the
# OpenStack modules live only under /usr/lib/python3/dist-packages.
PY=/usr/bin/python3

KEYSTONE_URL=http://127.0.0.1:5000
GLANCE_URL=http://127.0.0.1:9292
PLACEMENT_URL=http://127.0.0.1:8778
NOVA_URL=http://127.0.0.1:8774
NEUTRON_URL=http://127.0.0.1:9696
RABBIT_PORT=5672
RABBIT_DIST_PORT=25672
EPMD_PORT=4369
COMPUTE_HOST=nova-docker-test-host
CLOUD_PORTS=(5000 9292 8778 8774 9696 $RABBIT_PORT $RABBIT_DIST_PORT)

# Made-up passwords for a cloud that only ever listens on loopback.
ADMIN_PASSWORD=test-admin-pw
SERVICE_PASSWORD=test-service-pw
OPERATOR_PASSWORD=test-operator-pw
DB_PASSWORD=test-db-pw
RABBIT_URL="rabbit://guest:guest@127.0.0.1:$RABBIT_PORT/"

CLOUD_PACKAGES=(
  mariadb-server python3-pymysql
  rabbitmq-server
  uwsgi-core uwsgi-plugin-python3
  keystone glance-api placement-api
  nova-api nova-conductor nova-scheduler
  neutron-api
  python3-openstackclient
)

# Services in start order. MariaDB and RabbitMQ first; the API services
# retry their connections, so the rest start together.
CLOUD_SERVICES=(mariadb epmd rabbitmq keystone glance-api placement nova-api nova-conductor
  nova-scheduler nova-compute neutron-server)

# RabbitMQ reads these; a variable named LOGS in the environment breaks its start script.
unset LOGS
export RABBITMQ_NODENAME=rabbit@localhost
export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
export RABBITMQ_NODE_PORT=$RABBIT_PORT
export RABBITMQ_DIST_PORT=$RABBIT_DIST_PORT
export ERL_EPMD_ADDRESS=127.0.0.1
export ERL_EPMD_PORT=$EPMD_PORT
export RABBITMQ_MNESIA_BASE=$CLOUD_DATA/rabbit/mnesia
export RABBITMQ_LOG_BASE=$CLOUD_LOGS/rabbit
export RABBITMQ_CONFIG_FILE=$CLOUD_ETC/rabbitmq/rabbitmq.conf
export RABBITMQ_ENABLED_PLUGINS_FILE=$CLOUD_ETC/rabbitmq/enabled_plugins
export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
export RABBITMQ_CTL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"

say() { printf 'openstack-cloud: %s\n' "$*" >&2; }
die() {
  say "$*"
  exit 1
}

package_installed() {
  [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]
}

all_packages_installed() {
  local pkg
  for pkg in "${CLOUD_PACKAGES[@]}"; do package_installed "$pkg" || return 1; done
}

# Runs the rest of the calling script with $CLOUD_DIR/lock held, so two
# worktrees never start, stop or reset the cloud at the same time.
hold_lock() {
  mkdir -p "$CLOUD_DIR"
  exec {CLOUD_LOCK_FD}>"$CLOUD_DIR/lock"
  export CLOUD_LOCK_FD
  if ! flock -n "$CLOUD_LOCK_FD"; then
    say "waiting for another start, stop or reset of $CLOUD_DIR to finish"
    flock -w "${NOVA_DOCKER_OPENSTACK_LOCK_TIMEOUT:-900}" "$CLOUD_LOCK_FD" ||
      die "gave up waiting for $CLOUD_DIR/lock; check 'make cloud-status' and the process holding it (fuser $CLOUD_DIR/lock)"
  fi
}

# Prints seconds since the given start (date +%s.%N), with one decimal.
elapsed() {
  awk -v s="$1" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }'
}

http_code() {
  curl -s -o /dev/null -m 5 -w '%{http_code}' "$@" || true
}

# Returns whether url serves requests: status 200 or 300 (version
# documents) or 401 (the API is up and requires a token).
http_serving() {
  [[ $(http_code "$1") =~ ^(200|300|401)$ ]]
}

# Waits up to $2 seconds (default 180) until url serves.
wait_http() {
  local url=$1 deadline=$(($(date +%s) + ${2:-180}))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    http_serving "$url" && return 0
    sleep 0.25
  done
  return 1
}

# cloud_fixtures.py reads its settings from the environment.
export CLOUD_DIR KEYSTONE_URL GLANCE_URL PLACEMENT_URL NOVA_URL NEUTRON_URL COMPUTE_HOST \
  ADMIN_PASSWORD SERVICE_PASSWORD OPERATOR_PASSWORD
