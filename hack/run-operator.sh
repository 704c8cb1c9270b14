#!/usr/bin/env bash
# Runs the operator from dist/ in the foreground against the cluster of the
# current kubeconfig, with the credentials of one cloud of a local clouds.yaml.
# `make run` calls it after a build.
#
# It writes that cloud into the Secret SECRET (creating its namespace when
# missing), installs the CRD when the cluster lacks it, and then runs
# `nova-docker-operator run --default-cloud-secret SECRET RUN_ARGS`.
#
# Environment:
#   CLOUDS_YAML  clouds.yaml to read (default: the first of ./clouds.yaml,
#                ~/.config/openstack/clouds.yaml, /etc/openstack/clouds.yaml)
#   OS_CLOUD     cloud in that file; needed when it defines more than one
#   SECRET       NAMESPACE/NAME of the Secret (default nova-docker-operator/openstack-cloud)
#   RUN_ARGS     more flags for `run`, e.g. --namespace team-a --default-network private
#   KUBECONFIG   as for kubectl; the current context is used
#   DOCKER_HOST  the Docker Engine that pulls images from registries before
#                the upload to Glance (default unix:///var/run/docker.sock)
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
secret=${SECRET:-nova-docker-operator/openstack-cloud}

log() { echo "run: $*" >&2; }
die() {
  log "$*"
  exit 1
}

find_clouds_yaml() {
  local candidate
  for candidate in ./clouds.yaml "$HOME/.config/openstack/clouds.yaml" /etc/openstack/clouds.yaml; do
    if [ -f "$candidate" ]; then
      echo "$candidate"
      return
    fi
  done
  die "no clouds.yaml found in ./, ~/.config/openstack/ or /etc/openstack/; pass one: make run CLOUDS_YAML=path/to/clouds.yaml OS_CLOUD=name"
}

clouds_yaml=${CLOUDS_YAML:-$(find_clouds_yaml)}
# Builds the Secret first, so a broken clouds.yaml stops here with its own message.
if ! manifest=$(node "$repo_root/dist/hack/cloud-secret.js" "$clouds_yaml" "${OS_CLOUD:-}" "$secret"); then
  [ -n "${OS_CLOUD:-}" ] || log "choose the cloud with OS_CLOUD=name, e.g. make run CLOUDS_YAML=$clouds_yaml OS_CLOUD=prod"
  exit 1
fi

command -v kubectl >/dev/null || die "kubectl not found on PATH; install it, or for the local control plane run: eval \"\$(test/controlplane/control-plane.sh env)\""
context=$(kubectl config current-context 2>/dev/null) ||
  die "the kubeconfig has no current context; set KUBECONFIG or run kubectl config use-context NAME"

if ! kubectl get crd containerinstances.novadocker.io >/dev/null 2>&1; then
  log "installing the ContainerInstance CRD into context $context"
  kubectl apply -f "$repo_root/crds/containerinstances.novadocker.io.yaml" >/dev/null
  kubectl wait --for=condition=Established --timeout=60s crd/containerinstances.novadocker.io >/dev/null
fi
namespace=${secret%%/*}
kubectl get namespace "$namespace" >/dev/null 2>&1 || kubectl create namespace "$namespace" >/dev/null
echo "$manifest" | kubectl apply -f - >/dev/null
log "wrote ${OS_CLOUD:-the cloud} of $clouds_yaml into Secret $secret in context $context"

if [ -z "${DOCKER_HOST:-}" ] && [ ! -S /var/run/docker.sock ]; then
  log "warning: DOCKER_HOST is unset and /var/run/docker.sock is absent, so publishing images to Glance will fail; set DOCKER_HOST to a Docker Engine"
fi

# RUN_ARGS is split into flags on purpose.
# shellcheck disable=SC2086
exec node "$repo_root/dist/src/main.js" run --default-cloud-secret "$secret" ${RUN_ARGS:-}
