# Starts the demo's servers, sourced by hack/demo.sh. Each function starts one
# server on 127.0.0.1, waits until it responds and records in demo.env what the
# next steps need.

# Uses the Docker Engine of DOCKER_HOST or /var/run/docker.sock when one
# responds; otherwise starts a private dockerd as the test harness does: its own
# data root, exec root and socket, a containerd namespace of its own, and no
# bridge or iptables changes to the machine's network.
start_docker_engine() {
  local socket
  # The summary tells users to export the private engine's DOCKER_HOST, which
  # must not stop the next make demo from starting that engine again.
  if [ "$user_docker_host" = "unix://$runtime_dir/docker.sock" ]; then
    user_docker_host=
  fi

  if [ -n "$user_docker_host" ]; then
    case "$user_docker_host" in
      unix://*) socket=${user_docker_host#unix://} ;;
      *) die "DOCKER_HOST=$user_docker_host is not a unix:// socket, which the dev cloud needs; unset DOCKER_HOST to let the demo start a private dockerd" ;;
    esac
    docker_ping "$socket" >/dev/null 2>&1 ||
      die "no Docker Engine responds on DOCKER_HOST=$user_docker_host; start it, or unset DOCKER_HOST to let the demo start a private dockerd"
    log "using the Docker Engine at $user_docker_host"
  elif docker_ping /var/run/docker.sock >/dev/null 2>&1; then
    socket=/var/run/docker.sock
    log "using the Docker Engine at unix://$socket"
  else
    start_private_dockerd
    socket=$runtime_dir/docker.sock
  fi
  save_env DOCKER_HOST "unix://$socket"
  save_env DOCKER_SOCKET "$socket"
}

start_private_dockerd() {
  [ "$(id -u)" -eq 0 ] ||
    die "no Docker Engine responds (DOCKER_HOST is unset and /var/run/docker.sock is absent), and a private dockerd needs root; start Docker, or run make demo as root"
  local dockerd dir=$demo_dir/docker
  dockerd=$(command -v dockerd || echo /usr/sbin/dockerd)
  mkdir -p "$runtime_dir"
  # An empty config file keeps /etc/docker/daemon.json (hosts, mirrors) out.
  echo '{}' >"$dir/daemon.json"

  log "starting a private dockerd (socket $runtime_dir/docker.sock)"
  save_env OWN_DOCKERD 1
  start_process dockerd "$dir/dockerd.log" "$dockerd" \
    --config-file="$dir/daemon.json" \
    --data-root="$dir/data" \
    --exec-root="$runtime_dir/exec" \
    --pidfile="$runtime_dir/dockerd.pid" \
    --host="unix://$runtime_dir/docker.sock" \
    --containerd-namespace="$docker_prefix" \
    --containerd-plugins-namespace="$docker_prefix-plugins" \
    --bridge=none --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false
  wait_for "dockerd to respond" dockerd 60 "$dir/dockerd.log" docker_ping "$runtime_dir/docker.sock"
}

# Debian's docker-registry on a free port, over plain HTTP: dockerd treats
# 127.0.0.0/8 as an insecure registry, so push and pull need no TLS.
start_registry() {
  local port dir=$demo_dir/registry
  port=$(free_port)
  cat >"$dir/config.yml" <<EOF
version: 0.1
log:
  level: info
  formatter: text
storage:
  filesystem:
    rootdirectory: $dir/storage
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
  secret: $(openssl rand -hex 16)
EOF
  log "starting docker-registry on 127.0.0.1:$port"
  start_process registry "$dir/registry.log" docker-registry serve "$dir/config.yml"
  wait_for "docker-registry to respond" registry 30 "$dir/registry.log" \
    curl -fsS "http://127.0.0.1:$port/v2/"
  save_env REGISTRY "127.0.0.1:$port"
}

# The dev cloud runs its servers as containers on the demo's Docker Engine.
# Containers get no network (--address-mode fake), so the demo adds no bridge to
# the machine, and their addresses come from the dev cloud's subnet. Servers of
# the failing flavor go to ERROR, as on a cloud with no host large enough for it.
start_devcloud() {
  local dir=$demo_dir/devcloud
  log "starting the dev cloud (servers of flavor $failing_flavor fail to schedule)"
  start_process devcloud "$dir/devcloud.log" node "$main_js" devcloud \
    --port 0 \
    --data-dir "$dir/data" \
    --docker-socket "$DOCKER_SOCKET" \
    --docker-prefix "$docker_prefix" \
    --address-mode fake \
    --fail-flavor "$failing_flavor"
  wait_for "the dev cloud to write devcloud.json" devcloud 60 "$dir/devcloud.log" \
    devcloud_ready "$dir/data/devcloud.json" "$(cat "$(pid_file devcloud)")"
  save_env DEVCLOUD_AUTH_URL "$(devcloud_info "$dir/data/devcloud.json" authUrl)"
  save_env DEVCLOUD_CLOUDS_YAML "$dir/data/clouds.yaml"
}

devcloud_info() { node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))[process.argv[2]])' "$1" "$2"; }

devcloud_ready() { [ -f "$1" ] && [ "$(devcloud_info "$1" pid)" = "$2" ]; }

# Installs the CRD, the operator's namespace and the default cloud Secret with
# the dev cloud's member user.
install_crd_and_secret() {
  log "installing the ContainerInstance CRD and the Secret $cloud_secret_namespace/$cloud_secret_name"
  kubectl apply -f "$repo_root/crds/containerinstances.novadocker.io.yaml" >/dev/null
  kubectl wait --for=condition=Established --timeout=60s \
    crd/containerinstances.novadocker.io >/dev/null
  kubectl apply -f "$repo_root/manifests/namespace.yaml" >/dev/null
  node "$repo_root/dist/hack/cloud-secret.js" "$DEVCLOUD_CLOUDS_YAML" devcloud \
    "$cloud_secret_namespace/$cloud_secret_name" | kubectl apply -f - >/dev/null
}

# Runs `nova-docker-operator run` against the control plane; DOCKER_HOST is
# the engine it pulls registry images with before uploading them to Glance.
start_operator() {
  local dir=$demo_dir/operator metrics health
  metrics=$(free_port)
  health=$(free_port)
  log "starting the operator (metrics on 127.0.0.1:$metrics, health on 127.0.0.1:$health)"
  start_process operator "$dir/operator.log" env DOCKER_HOST="$DOCKER_HOST" node "$main_js" run \
    --kubeconfig "$KUBECONFIG" \
    --default-cloud-secret "$cloud_secret_namespace/$cloud_secret_name" \
    --metrics-bind-address "127.0.0.1:$metrics" \
    --health-probe-bind-address "127.0.0.1:$health"
  wait_for "the operator to report ready on /readyz" operator 60 "$dir/operator.log" \
    curl -fsS "http://127.0.0.1:$health/readyz"
  save_env OPERATOR_METRICS_URL "http://127.0.0.1:$metrics/metrics"
}

# The dev cloud leaves its containers running when it stops, so down removes
# them, on the machine's engine as on a private one.
remove_devcloud_containers() {
  [ -n "${DOCKER_SOCKET:-}" ] || return 0
  docker_ping "$DOCKER_SOCKET" >/dev/null 2>&1 || return 0
  local containers
  containers=$(docker -H "unix://$DOCKER_SOCKET" ps -aq --filter "label=org.openstack.devcloud.cloud=$docker_prefix")
  if [ -n "$containers" ]; then
    # Word splitting is wanted: one container ID per word.
    # shellcheck disable=SC2086
    docker -H "unix://$DOCKER_SOCKET" rm -f $containers >/dev/null
    log "removed the dev cloud containers: $(echo $containers)"
  fi
}
