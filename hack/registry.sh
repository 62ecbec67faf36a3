#!/usr/bin/env bash
# Runs a local image registry (Debian's docker-registry) on 127.0.0.1 only, with storage
# under _output/registry, and pushes the images from hack/images/build.sh into it:
#
#   127.0.0.1:PORT/library/busybox:latest   docker.io/library/busybox:latest
#   127.0.0.1:PORT/library/nginx:latest     docker.io/library/nginx:latest (also :1.25, :1.14.2, :1.16.1)
#   127.0.0.1:PORT/pause:3.9                registry.k8s.io/pause:3.9
#   127.0.0.1:PORT/library/python:3.11      docker.io/library/python:3.11 (also :latest)
#   127.0.0.1:PORT/kube-apiserver:v1.33.0    registry.k8s.io/kube-apiserver:v1.33.0
#   127.0.0.1:PORT/kube-controller-manager:v1.33.0, 127.0.0.1:PORT/kube-scheduler:v1.33.0
#                                            the same for the other control plane images
#   127.0.0.1:PORT/etcd:3.4.23-0             registry.k8s.io/etcd:3.4.23-0, Debian's etcd
#                                            (when /usr/bin/etcd is installed)
#   127.0.0.1:PORT/kube-dns:v1.33.0          registry.k8s.io/kube-dns:v1.33.0, the cluster
#                                            DNS add-on (when BIN_DIR holds kube-dns)
#
# The control plane images hold our binaries from BIN_DIR (default target/release);
# they are rebuilt on every `start` and `push-control-plane`, so they match the current
# build. `push-control-plane` pushes only those three into a running registry, and
# `push-addons` only the kube-dns image (starting the registry for the push when it is
# not running).
#
# `start` also writes _output/registry/registries.toml, a mirror configuration for the
# container runtime that sends docker.io and registry.k8s.io to this registry and never
# to the real ones.
#
# Usage: hack/registry.sh start|stop|status|push-control-plane|push-addons
#   (REGISTRY_PORT, default 5000; BIN_DIR, default target/release)
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir=${REGISTRY_DIR:-$repo_root/_output/registry}
port=${REGISTRY_PORT:-5000}
pid_file=$dir/registry.pid
address=127.0.0.1:$port

running_pid() {
  [[ -f $pid_file ]] || return 1
  local pid
  pid=$(cat "$pid_file")
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

write_config() {
  mkdir -p "$dir/storage"
  cat >"$dir/config.yml" <<EOF
version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: $dir/storage
  delete:
    enabled: true
http:
  addr: $address
EOF
  # skopeo's signature policy for this push only: accept the unsigned local images.
  echo '{"default": [{"type": "insecureAcceptAnything"}]}' >"$dir/policy.json"
  cat >"$dir/registries.toml" <<EOF
[registries."docker.io"]
mirrors = ["http://$address"]
fallback_to_upstream = false

[registries."registry.k8s.io"]
mirrors = ["http://$address"]
fallback_to_upstream = false
EOF
}

wait_ready() {
  for _ in $(seq 100); do
    if curl -fsS "http://$address/v2/" >/dev/null 2>&1; then
      return 0
    fi
    if ! running_pid >/dev/null; then
      echo "registry.sh: docker-registry exited; see $dir/registry.log" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "registry.sh: docker-registry not ready on $address after 10 s; see $dir/registry.log" >&2
  return 1
}

start_server() {
  for tool in docker-registry skopeo curl; do
    command -v "$tool" >/dev/null || { echo "registry.sh: $tool is missing; run hack/install-deps.sh" >&2; exit 1; }
  done
  write_config
  setsid docker-registry serve "$dir/config.yml" >"$dir/registry.log" 2>&1 </dev/null &
  echo $! >"$pid_file"
  wait_ready
}

push() {
  local layout=$1 tag=$2 destination=$3
  skopeo --policy "$dir/policy.json" copy --quiet --dest-tls-verify=false \
    "oci:$layout:$tag" "docker://$address/$destination"
  echo "registry.sh: pushed $destination"
}

start() {
  if pid=$(running_pid); then
    echo "registry.sh: already running (pid $pid) on $address"
    return 0
  fi
  start_server

  local images=$repo_root/_output/images
  for name in busybox nginx pause python; do
    if [[ ! -f $images/$name/index.json ]]; then
      OUT=$images "$repo_root/hack/images/build.sh" "$name"
    fi
  done
  push "$images/busybox" latest library/busybox:latest
  push "$images/nginx" latest library/nginx:latest
  push "$images/nginx" latest library/nginx:1.25
  # The tags the Kubernetes documentation's Deployment examples use.
  push "$images/nginx" latest library/nginx:1.14.2
  push "$images/nginx" latest library/nginx:1.16.1
  push "$images/pause" 3.9 pause:3.9
  push "$images/python" 3.11 library/python:3.11
  push "$images/python" 3.11 library/python:latest
  local bin_dir=${BIN_DIR:-$repo_root/target/release}
  if [[ -x $bin_dir/kube-apiserver && -x $bin_dir/kube-controller-manager && -x $bin_dir/kube-scheduler ]]; then
    push_control_plane
  else
    echo "registry.sh: no control plane binaries in $bin_dir; skipping their images (build them, then run push-control-plane)"
  fi
  if [[ -x $bin_dir/kube-dns ]]; then
    push_addons
  else
    echo "registry.sh: no kube-dns binary in $bin_dir; skipping its image (build it, then run push-addons)"
  fi
  echo "registry.sh: running (pid $(cat "$pid_file")) on $address; mirror config: $dir/registries.toml"
}

push_control_plane() {
  local images=$repo_root/_output/images name
  BIN_DIR=${BIN_DIR:-$repo_root/target/release} OUT=$images \
    "$repo_root/hack/images/build.sh" control-plane
  for name in kube-apiserver kube-controller-manager kube-scheduler; do
    push "$images/$name" v1.33.0 "$name:v1.33.0"
  done
  if [[ -x /usr/bin/etcd ]]; then
    OUT=$images "$repo_root/hack/images/build.sh" etcd
    push "$images/etcd" 3.4.23-0 etcd:3.4.23-0
  fi
}

push_addons() {
  local images=$repo_root/_output/images
  BIN_DIR=${BIN_DIR:-$repo_root/target/release} OUT=$images \
    "$repo_root/hack/images/build.sh" kube-dns
  push "$images/kube-dns" v1.33.0 kube-dns:v1.33.0
}

stop() {
  local pid
  if ! pid=$(running_pid); then
    echo "registry.sh: not running"
    rm -f "$pid_file"
    return 0
  fi
  kill "$pid"
  for _ in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid"
  fi
  rm -f "$pid_file"
  echo "registry.sh: stopped (pid $pid)"
}

case ${1:-} in
  start) start ;;
  push-control-plane)
    if ! running_pid >/dev/null; then
      echo "registry.sh: not running; use start" >&2
      exit 1
    fi
    write_config
    push_control_plane
    ;;
  push-addons)
    # Without a running registry, one runs just for this push.
    if running_pid >/dev/null; then
      write_config
      push_addons
    else
      start_server
      push_addons
      stop
    fi
    ;;
  stop) stop ;;
  status)
    if pid=$(running_pid); then echo "registry.sh: running (pid $pid) on $address"; else echo "registry.sh: not running"; exit 1; fi
    ;;
  *) echo "usage: $0 start|stop|status|push-control-plane|push-addons" >&2; exit 2 ;;
esac
