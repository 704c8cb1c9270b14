# The demo's image and ContainerInstances, sourced by hack/demo.sh.

# Builds the web server image offline (Debian's static busybox with a link per
# applet, plus hack/demo/web-image/) with `docker import`, and pushes it to the
# demo registry, where the operator pulls it from.
publish_web_image() {
  local reference=$REGISTRY/$web_image rootfs=$demo_dir/image/rootfs applet

  # A rebuilt image gets a new digest, which would make the operator rebuild
  # the servers of a demo that is being reused.
  if curl -fs -o /dev/null -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    "http://$REGISTRY/v2/${web_image%:*}/manifests/${web_image##*:}"; then
    log "reusing $reference from the demo registry"
    return
  fi

  log "building $reference offline from busybox-static and pushing it"
  rm -rf "$rootfs"
  mkdir -p "$rootfs"/{bin,etc,proc,sys,dev,root,tmp,var/www}
  chmod 1777 "$rootfs/tmp"
  # Debian's busybox-static installs a statically linked /bin/busybox, which
  # runs in a rootfs without a C library.
  cp /bin/busybox "$rootfs/bin/busybox"
  for applet in $("$rootfs/bin/busybox" --list); do
    [ "$applet" = busybox ] || ln -s busybox "$rootfs/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$rootfs/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
  cp -R "$repo_root/hack/demo/web-image/." "$rootfs/"

  tar --numeric-owner --owner=0 --group=0 -C "$rootfs" -cf - . |
    docker import \
      --change 'ENV PATH=/bin' \
      --change 'EXPOSE 80' \
      --change 'CMD ["httpd", "-f", "-p", "80", "-h", "/var/www"]' \
      --message 'nova-docker-operator demo web server' \
      - "$reference" >/dev/null
  docker push --quiet "$reference" >/dev/null
  rm -rf "$demo_dir/image"
}

# Applies hack/demo/*.yaml with the registry filled in, then waits until the
# web server is Ready and the instance that cannot be placed has Failed.
apply_instances() {
  local template
  for template in "$repo_root"/hack/demo/*.yaml; do
    sed "s|\${REGISTRY}|$REGISTRY|g" "$template" >"$demo_dir/manifests/$(basename "$template")"
  done
  kubectl apply -f "$demo_dir/manifests/" | sed 's/^/  /' >&2

  log "waiting up to $settle_timeout s for each instance to settle"
  settle web --for=condition=Ready
  settle too-big --for=jsonpath='{.status.phase}'=Failed
}

# Waits for one instance; on a timeout it shows what the operator reported and
# leaves the demo running for a closer look.
settle() {
  local name=$1 condition=$2
  if ! kubectl wait "$condition" --timeout="${settle_timeout}s" "containerinstance/$name" >/dev/null; then
    kubectl describe "containerinstance/$name" >&2 || true
    tail -n 20 "$demo_dir/operator/operator.log" >&2 || true
    die "containerinstance/$name did not reach $condition within $settle_timeout s; the demo keeps running (make demo-down stops it)"
  fi
}

print_summary() {
  local server container
  server=$(kubectl get containerinstance web -o jsonpath='{.status.serverID}')
  container=$(docker ps -q --filter "label=org.openstack.devcloud.server-id=$server")

  echo
  echo "\$ kubectl get cinst -o wide"
  kubectl get cinst -o wide
  echo
  echo "\$ docker ps --filter label=org.openstack.devcloud.server-id=$server"
  docker ps --filter "label=org.openstack.devcloud.server-id=$server" \
    --format 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.Status}}\t{{.Names}}'
  if [ -n "$container" ]; then
    echo
    echo "\$ docker exec $container wget -qO- http://127.0.0.1:8080/cgi-bin/greeting"
    docker exec "$container" wget -qO- http://127.0.0.1:8080/cgi-bin/greeting
  fi
  echo
  echo "\$ kubectl get events --field-selector involvedObject.name=too-big"
  kubectl get events --field-selector involvedObject.name=too-big
  local state=${demo_dir#"$repo_root"/}
  cat <<EOF

The demo keeps running in the background, with its state and logs in $state/.
Try it from this shell:

  export KUBECONFIG=$KUBECONFIG
  export PATH=$BIN_DIR:\$PATH
  export DOCKER_HOST=$DOCKER_HOST

  kubectl get cinst -w                    # watch the instances
  kubectl describe cinst too-big          # conditions, the Nova fault and Events
  kubectl edit cinst web                  # change env or command: the server is rebuilt
  kubectl delete cinst web                # the server goes with it
  kubectl apply -f $state/manifests/
  tail -f $state/operator/operator.log
  make demo-down                          # stop everything the demo started
EOF
}
