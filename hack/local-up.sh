#!/usr/bin/env bash
# Starts a local cluster from the release binaries and keeps it in the foreground
# until Ctrl-C: builds the local images, fills the local registry, then runs
# `local-cluster up`, which starts the control plane on the host and NODES nodes
# (default 1) in network namespaces, applies manifests/demo.yaml and prints how to
# use the cluster. ETCD=1 stores objects in a three-member etcd cluster on loopback
# instead of the API server's embedded store. `make stop` tears down a cluster left
# running.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out=${LOCAL_UP_DIR:-$root/_output/local}
bin=${BIN_DIR:-$root/target/release}
nodes=${NODES:-1}
storage=()
if [[ ${ETCD:-0} == 1 ]]; then
  storage=(--etcd)
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "local-up: the cluster needs root (network namespaces, cgroups, mounts); run it with sudo" >&2
  exit 1
fi
if [[ ! -x "$bin/local-cluster" ]]; then
  echo "local-up: $bin/local-cluster is missing; run 'make build' first" >&2
  exit 1
fi

echo "local-up: building local images and filling the registry"
"$root/hack/images/build.sh"
"$root/hack/registry.sh" start
# The launcher serves the same storage to the nodes on the cluster bridge.
"$root/hack/registry.sh" stop

exec "$bin/local-cluster" up \
  --dir "$out" \
  --bin-dir "$bin" \
  --nodes "$nodes" \
  --registry-storage "$root/_output/registry/storage" \
  --demo "$root/manifests/demo.yaml" \
  "${storage[@]}"
