#!/usr/bin/env bash
# Installs the Debian bookworm OpenStack (Zed) packages the test cloud runs,
# apt-installing only what is missing, without letting any package script
# start a service or set up a database: the cloud runs its own processes
# from its own config.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

missing=()
for pkg in "${CLOUD_PACKAGES[@]}"; do
  package_installed "$pkg" || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
  say "install: every package is already installed"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  die "install: ${missing[*]} missing and this is not root; run 'sudo make cloud-install'"
fi
command -v apt-get >/dev/null || die "install: apt-get not found; this tooling needs Debian bookworm"

# These debconf answers are the packages' defaults already; stating them keeps a
# dbconfig-common or endpoint-registration prompt from touching anything.
debconf-set-selections <<'PRESEED'
keystone keystone/configure_db boolean false
keystone keystone/create-admin-tenant boolean false
keystone keystone/register-endpoint boolean false
glance-common glance/configure_db boolean false
glance-common glance/configure_rabbit boolean false
glance-common glance/configure_ksat boolean false
glance-api glance/configure_api-endpoint boolean false
placement-common placement/configure_db boolean false
placement-common placement/configure_ksat boolean false
placement-api placement/configure_api-endpoint boolean false
nova-common nova/configure_db boolean false
nova-common nova/configure_rabbit boolean false
nova-common nova/configure_ksat boolean false
nova-common nova/configure_neutron boolean false
nova-common nova/configure_placement boolean false
nova-api novaapi/configure_db boolean false
nova-api nova/configure_api-endpoint boolean false
neutron-common neutron/configure_db boolean false
neutron-common neutron/configure_rabbit boolean false
neutron-common neutron/configure_ksat boolean false
neutron-common neutron/configure_nova boolean false
neutron-api neutron/configure_api-endpoint boolean false
PRESEED

say "install: apt-get install ${missing[*]}"
started=$(date +%s)
# The shared installer blocks service starts (policy-rc.d) and serializes
# apt runs of parallel worktrees.
"$CLOUD_TOOLS/../../hack/ensure-debian-packages.sh" "${missing[@]}"
say "install: done in $(($(date +%s) - started)) s"
