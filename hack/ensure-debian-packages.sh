#!/usr/bin/env bash
# Installs the given Debian packages with apt-get when any of them is missing.
# Packages such as docker.io ship services that would start on install, but
# the harness starts its own dockerd and registry. So a temporary
# /usr/sbin/policy-rc.d blocks every service start during the apt run and is
# removed afterwards. Needs root when something is missing; prints nothing
# otherwise.
#
#   hack/ensure-debian-packages.sh docker.io docker-registry busybox-static
set -euo pipefail

if [ "$#" -eq 0 ]; then
  echo "usage: $0 PACKAGE..." >&2
  exit 2
fi

missing=()
for package in "$@"; do
  status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$package")
done
[ "${#missing[@]}" -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "ensure-debian-packages: missing ${missing[*]}; run as root or install them with: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi

# Several worktrees may run this at once: one installs, the others wait and
# then find the packages present.
exec 9>/var/lock/nova-docker-operator-apt.lock
flock 9

policy=/usr/sbin/policy-rc.d
created_policy=false
remove_policy() {
  if [ "$created_policy" = true ]; then rm -f "$policy"; fi
}
trap remove_policy EXIT

if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\n# Written by nova-docker-operator hack/ensure-debian-packages.sh; removed after apt-get.\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  created_policy=true
fi

echo "ensure-debian-packages: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt_options=(-o DPkg::Lock::Timeout=600 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
if ! apt-get "${apt_options[@]}" install -y --no-install-recommends "${missing[@]}" >&2; then
  # A stale package list is the usual cause; refresh once and retry.
  apt-get "${apt_options[@]}" update >&2
  apt-get "${apt_options[@]}" install -y --no-install-recommends "${missing[@]}" >&2
fi
