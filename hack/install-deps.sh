#!/usr/bin/env bash
# Installs the Debian packages that the build and the tests need. Safe to run again:
# packages already present are skipped, so a warm machine pays only a dpkg query.
set -euo pipefail

packages=(
  build-essential
  pkg-config
  protobuf-compiler
  libprotobuf-dev
  etcd-server
  etcd-client
  curl
  jq
  python3-venv
  busybox-static
  docker-registry
  skopeo
  runc
  containernetworking-plugins
  iproute2
  docker-registry
  skopeo
  containerd
  iptables
  conntrack
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$package")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then
  sudo_cmd=(sudo)
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -q
"${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
