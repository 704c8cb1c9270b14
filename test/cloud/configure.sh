#!/usr/bin/env bash
# Writes every config file under $CLOUD_DIR/etc, creates the databases and
# key material under $CLOUD_DIR/data, registers the identity fixtures, and
# keeps a copy of that data in $CLOUD_DIR/snapshot so a reset restores it in
# seconds. Wipes any earlier state. Nothing under /etc is changed; the
# packaged paste files there are only read. Run through cloud.sh, which
# holds the lock and has stopped the cloud.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$CLOUD_TOOLS/services.sh"

begin=$(date +%s.%N)
rm -rf "$CLOUD_ETC" "$CLOUD_DATA" "$CLOUD_SNAPSHOT" "$CLOUD_LOGS" "$CLOUD_DIR/layout"
mkdir -p "$CLOUD_ETC"/{keystone,glance,placement,nova,neutron,rabbitmq} "$CLOUD_LOGS/rabbit" "$CLOUD_RUN" \
  "$CLOUD_DATA"/{glance/images,glance/staging,glance/tasks,nova/instances,neutron,locks,rabbit}

db_url() {
  echo "mysql+pymysql://os:$DB_PASSWORD@localhost/$1?unix_socket=$MYSQL_SOCKET&charset=utf8"
}

# The [keystone_authtoken] section of service $1, which validates the
# tokens its API receives.
authtoken() {
  cat <<EOT
[keystone_authtoken]
www_authenticate_uri = $KEYSTONE_URL
auth_url = $KEYSTONE_URL
auth_type = password
project_domain_name = Default
user_domain_name = Default
project_name = service
username = $1
password = $SERVICE_PASSWORD
memcached_servers =
EOT
}

# Credentials one service uses to call another (section name $1).
service_client() {
  cat <<EOT
[$1]
region_name = RegionOne
auth_type = password
auth_url = $KEYSTONE_URL/v3
project_domain_name = Default
user_domain_name = Default
project_name = service
username = nova
password = $SERVICE_PASSWORD
EOT
}

cat >"$CLOUD_ETC/rabbitmq/rabbitmq.conf" <<EOT
listeners.tcp.default = 127.0.0.1:$RABBIT_PORT
loopback_users.guest = true
log.console = false
log.file.level = warning
EOT
echo '[].' >"$CLOUD_ETC/rabbitmq/enabled_plugins"

cat >"$CLOUD_ETC/keystone/keystone.conf" <<EOT
[DEFAULT]
use_stderr = true
[database]
connection = $(db_url keystone)
[token]
provider = fernet
[fernet_tokens]
key_repository = $CLOUD_DATA/fernet-keys
[fernet_receipts]
key_repository = $CLOUD_DATA/fernet-keys
[credential]
key_repository = $CLOUD_DATA/credential-keys
[cache]
# Without a cache one token validation costs about 200 SQL queries.
enabled = true
backend = dogpile.cache.memory
[identity]
# The cheapest bcrypt cost: the default costs about 0.3 s of CPU per login.
password_hash_rounds = 4
EOT

cat >"$CLOUD_ETC/glance/glance-api.conf" <<EOT
[DEFAULT]
bind_host = 127.0.0.1
bind_port = 9292
workers = 1
use_stderr = true
enabled_backends = local:file
[image_format]
container_formats = bare,docker
disk_formats = raw,qcow2
[glance_store]
default_backend = local
[local]
filesystem_store_datadir = $CLOUD_DATA/glance/images/
[os_glance_staging_store]
filesystem_store_datadir = $CLOUD_DATA/glance/staging/
[os_glance_tasks_store]
filesystem_store_datadir = $CLOUD_DATA/glance/tasks/
[database]
connection = $(db_url glance)
[paste_deploy]
flavor = keystone
config_file = /etc/glance/glance-api-paste.ini
[oslo_concurrency]
lock_path = $CLOUD_DATA/locks
$(authtoken glance)
EOT

cat >"$CLOUD_ETC/placement/placement.conf" <<EOT
[DEFAULT]
use_stderr = true
[api]
auth_strategy = keystone
[placement_database]
connection = $(db_url placement)
$(authtoken placement)
EOT

cat >"$CLOUD_ETC/nova/nova.conf" <<EOT
[DEFAULT]
transport_url = $RABBIT_URL
compute_driver = fake.FakeDriver
host = $COMPUTE_HOST
my_ip = 127.0.0.1
state_path = $CLOUD_DATA/nova
instances_path = $CLOUD_DATA/nova/instances
enabled_apis = osapi_compute
osapi_compute_listen = 127.0.0.1
osapi_compute_listen_port = 8774
osapi_compute_workers = 1
use_stderr = true
[api]
auth_strategy = keystone
[wsgi]
api_paste_config = /etc/nova/api-paste.ini
[api_database]
connection = $(db_url nova_api)
[database]
connection = $(db_url nova_cell1)
[conductor]
workers = 1
[scheduler]
workers = 1
# A new compute host is mapped to the cell within 2 s instead of never.
discover_hosts_in_cells_interval = 2
[filter_scheduler]
# Nova's default filters without ImagePropertiesFilter: Nova-Docker images
# carry hypervisor_type=docker, which the fake driver's host ("fake") never
# matches, so that filter would reject every image the operator publishes.
enabled_filters = AvailabilityZoneFilter,ComputeFilter,ComputeCapabilitiesFilter,ServerGroupAntiAffinityFilter,ServerGroupAffinityFilter
[oslo_concurrency]
lock_path = $CLOUD_DATA/locks
[oslo_messaging_notifications]
driver = noop
[vnc]
enabled = false
[spice]
enabled = false
[glance]
region_name = RegionOne
$(service_client placement)
$(service_client neutron)
$(authtoken nova)
EOT
# nova-compute refuses to start while its config names a database.
awk '/^\[/ { skip = ($0 == "[api_database]" || $0 == "[database]") } !skip' \
  "$CLOUD_ETC/nova/nova.conf" >"$CLOUD_ETC/nova/nova-compute.conf"

# Nova needs Neutron even for servers without networks. ML2 with "local"
# tenant networks and the loopback mechanism driver (test/cloud/python)
# gives working ports without any agent.
cat >"$CLOUD_ETC/neutron/neutron.conf" <<EOT
[DEFAULT]
bind_host = 127.0.0.1
bind_port = 9696
core_plugin = ml2
# Without the router plugin GET /v2.0/ports fails with
# "type object 'Port' has no attribute 'port_forwardings'".
service_plugins = router
auth_strategy = keystone
transport_url = $RABBIT_URL
api_workers = 1
rpc_workers = 0
rpc_state_report_workers = 0
dhcp_agent_notification = false
notify_nova_on_port_status_changes = false
notify_nova_on_port_data_changes = false
use_stderr = true
state_path = $CLOUD_DATA/neutron
[database]
connection = $(db_url neutron)
[ml2]
type_drivers = local,flat
tenant_network_types = local
mechanism_drivers = loopback
extension_drivers = port_security
[ml2_type_flat]
flat_networks = *
[oslo_concurrency]
lock_path = $CLOUD_DATA/locks
[agent]
root_helper =
$(authtoken neutron)
EOT

# MariaDB, with one account for every service.
mariadb-install-db --no-defaults "--datadir=$CLOUD_DATA/mysql" "--user=$(id -un)" \
  --auth-root-authentication-method=socket --skip-test-db >"$CLOUD_LOGS/configure-mariadb.log" 2>&1 ||
  die "mariadb-install-db failed; see $CLOUD_LOGS/configure-mariadb.log"
start_service mariadb
trap 'stop_services 60 keystone mariadb' EXIT
wait_mariadb
databases=(keystone glance placement nova_api nova_cell0 nova_cell1 neutron)
{
  echo "CREATE USER 'os'@'localhost' IDENTIFIED BY '$DB_PASSWORD';"
  echo "GRANT ALL ON *.* TO 'os'@'localhost';"
  for db in "${databases[@]}"; do echo "CREATE DATABASE $db;"; done
} | mariadb --no-defaults "--socket=$MYSQL_SOCKET" -u "$(id -un)"
say "configure: mariadb ready ($(elapsed "$begin") s)"

# Each service's schema in parallel: most of the time is Python start-up and
# migrations that wait on the database, so two cores keep up.
sync_keystone() {
  local ksm=(keystone-manage --config-file "$CLOUD_ETC/keystone/keystone.conf")
  "${ksm[@]}" db_sync
  "${ksm[@]}" fernet_setup --keystone-user "$(id -un)" --keystone-group "$(id -gn)"
  "${ksm[@]}" credential_setup --keystone-user "$(id -un)" --keystone-group "$(id -gn)"
  "${ksm[@]}" bootstrap --bootstrap-password "$ADMIN_PASSWORD" --bootstrap-region-id RegionOne \
    --bootstrap-admin-url "$KEYSTONE_URL/v3/" --bootstrap-internal-url "$KEYSTONE_URL/v3/" \
    --bootstrap-public-url "$KEYSTONE_URL/v3/"
}
sync_glance() { glance-manage --config-file "$CLOUD_ETC/glance/glance-api.conf" db_sync; }
sync_placement() { placement-manage --config-file "$CLOUD_ETC/placement/placement.conf" db sync; }
sync_nova() {
  local nm=(nova-manage --config-file "$CLOUD_ETC/nova/nova.conf")
  "${nm[@]}" api_db sync
  "${nm[@]}" cell_v2 map_cell0 --database_connection "$(db_url nova_cell0)"
  "${nm[@]}" cell_v2 create_cell --name cell1
  "${nm[@]}" db sync
}
sync_neutron() { neutron-db-manage --config-file "$CLOUD_ETC/neutron/neutron.conf" upgrade heads; }
pids=()
for service in keystone glance placement nova neutron; do
  "sync_$service" >"$CLOUD_LOGS/configure-$service.log" 2>&1 &
  pids+=("$!:$service")
done
failed=()
for entry in "${pids[@]}"; do
  wait "${entry%%:*}" || failed+=("${entry#*:}")
done
for service in "${failed[@]}"; do
  say "configure: $service database setup failed; last lines of $CLOUD_LOGS/configure-$service.log:"
  tail -n 15 "$CLOUD_LOGS/configure-$service.log" >&2
done
[ ${#failed[@]} -eq 0 ] || die "configure: fix the errors above, then run 'make cloud-reset'"
say "configure: databases ready ($(elapsed "$begin") s)"

# Service users and the catalog go into the snapshot too, so Nova's services
# find their Keystone users at the very first start.
# This Keystone listens on a free port, so configure needs none of the
# cloud's fixed ports; the catalog still names port 5000.
KEYSTONE_LISTEN_PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export KEYSTONE_LISTEN_PORT
start_service keystone
keystone_url=http://127.0.0.1:$KEYSTONE_LISTEN_PORT
wait_http "$keystone_url/v3" 60 || die "keystone did not serve $keystone_url/v3 within 60 s; see $CLOUD_LOGS/keystone.log"
KEYSTONE_URL=$keystone_url "$PY" "$CLOUD_TOOLS/cloud_fixtures.py" identity
stop_services 30 keystone
stop_services 60 mariadb
trap - EXIT

cp -a "$CLOUD_DATA" "$CLOUD_SNAPSHOT"
echo "$CLOUD_LAYOUT" >"$CLOUD_DIR/layout"
say "configure: done in $(elapsed "$begin") s; snapshot in $CLOUD_SNAPSHOT"
