#!/usr/bin/env bash
# Starts a local cluster from the binaries this repository builds and keeps it in the
# foreground until Ctrl-C.
#
# NOTE: only kube-apiserver exists so far, so the "cluster" is the API server on its
# embedded store, without controllers, scheduler or nodes. The script grows as the
# other components land.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out=${LOCAL_UP_DIR:-$root/_output/local}
port=${SECURE_PORT:-6443}
bin=${BIN_DIR:-$root/target/release}

mkdir -p "$out"
if [[ ! -x "$bin/kube-apiserver" ]]; then
  echo "local-up: $bin/kube-apiserver is missing; run 'make build' first" >&2
  exit 1
fi

"$bin/kube-apiserver" \
  --bind-address=127.0.0.1 \
  --secure-port="$port" \
  --data-dir="$out/data" \
  --cert-dir="$out/certs" \
  >"$out/kube-apiserver.log" 2>&1 &
apiserver=$!
trap 'kill "$apiserver" 2>/dev/null; wait "$apiserver" 2>/dev/null || true' EXIT INT TERM

cat >"$out/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- cluster:
    server: https://127.0.0.1:$port
    certificate-authority: $out/certs/apiserver.crt
  name: local
contexts:
- context:
    cluster: local
    user: admin
  name: local
current-context: local
users:
- name: admin
  user:
    token: local
EOF

for _ in $(seq 1 100); do
  if curl -sk "https://127.0.0.1:$port/readyz" 2>/dev/null | grep -qx ok; then
    echo "local-up: kube-apiserver is ready on https://127.0.0.1:$port (log: $out/kube-apiserver.log)"
    echo "local-up: export KUBECONFIG=$out/kubeconfig"
    echo "local-up: only the API server runs so far: no nodes, controllers or scheduler. Ctrl-C stops it."
    wait "$apiserver"
    exit $?
  fi
  if ! kill -0 "$apiserver" 2>/dev/null; then
    echo "local-up: kube-apiserver exited; see $out/kube-apiserver.log" >&2
    tail -5 "$out/kube-apiserver.log" >&2 || true
    exit 1
  fi
  sleep 0.1
done
echo "local-up: kube-apiserver did not become ready in 10 s; see $out/kube-apiserver.log" >&2
exit 1
