#!/usr/bin/env bash
# Starts a local cluster from the binaries this repository builds.
#
# NOTE: no daemon binary exists yet (the storage layer and API machinery come
# first), so there is no cluster to start. This script says so and fails instead of
# pretending; it grows as kube-apiserver and the other components land.
set -euo pipefail
echo "local-up: no cluster yet: kube-apiserver and the other daemons are not built yet." >&2
echo "local-up: what exists today is the storage layer; try 'make test' and 'make bench'." >&2
exit 1
