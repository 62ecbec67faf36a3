#!/usr/bin/env bash
# Creates the virtualenv with the official Kubernetes Python client that the client
# tests use, under _output/venv. Safe to run again: an existing venv is reused.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
venv=${KUBE_PYTHON_VENV:-$root/_output/venv}
version=${KUBE_PYTHON_CLIENT_VERSION:-33.1.0}

if [[ -x "$venv/bin/python" ]] && "$venv/bin/python" -c "import kubernetes" 2>/dev/null; then
  echo "python-client: $venv ready"
  exit 0
fi

python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check "kubernetes==$version"
echo "python-client: installed kubernetes==$version into $venv"
