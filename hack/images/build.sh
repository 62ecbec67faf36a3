#!/usr/bin/env bash
# Builds small OCI images without Docker, from Debian packages on this machine, as OCI
# image layouts under _output/images/<name>/ (override with OUT=DIR):
#
#   busybox   docker.io/library/busybox:latest   busybox-static with all applet links
#   nginx     docker.io/library/nginx:latest     stand-in: busybox httpd on port 80
#                                                serving /usr/share/nginx/html/index.html
#   pause     registry.k8s.io/pause:3.9          static pause program from pause.c
#   python    docker.io/library/python:3.11      busybox plus the host's installed Debian
#                                                python3.11-minimal, libpython3.11-stdlib
#                                                and their C libraries (about 34 MB)
#   kube-apiserver, kube-controller-manager, kube-scheduler
#             registry.k8s.io/<name>:v1.33.0     our binary from $BIN_DIR (default
#                                                target/release) in /usr/local/bin, plus
#                                                the shared libraries and the dynamic
#                                                loader `ldd` lists; the names kubeadm's
#                                                static pod manifests use
#   kube-dns  registry.k8s.io/kube-dns:v1.33.0   our cluster DNS server, the same way;
#                                                manifests/addons/kube-dns.yaml runs it
#   etcd      registry.k8s.io/etcd:3.4.23-0      Debian's /usr/bin/etcd (package
#                                                etcd-server) the same way
#
# Each layout's index.json names its image with io.containerd.image.name (full reference)
# and org.opencontainers.image.ref.name (tag), so `skopeo copy oci:DIR:TAG ...` and the
# runtime's import both find it. Layers are reproducible: sorted names, owner 0, mtime 0,
# gzip without timestamps.
#
# Usage: hack/images/build.sh [busybox|nginx|pause|python|kube-apiserver|
#                             kube-controller-manager|kube-scheduler|kube-dns|etcd|
#                             control-plane ...]
# (default: busybox nginx pause python; control-plane means the three control plane
# images)
#
# NOTE: the python image copies only the libraries of libc6, zlib1g and libexpat1, so
# stdlib modules that need other C libraries (ssl, sqlite3, ctypes, readline) fail to
# import in it.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
out=${OUT:-$repo_root/_output/images}
busybox=${BUSYBOX:-/bin/busybox}
bin_dir=${BIN_DIR:-$repo_root/target/release}
control_plane_version=v1.33.0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for tool in jq sha256sum gzip tar; do
  command -v "$tool" >/dev/null || { echo "build.sh: $tool is missing; run hack/install-deps.sh" >&2; exit 1; }
done
busybox_help=$("$busybox" --help 2>&1 || true)
if [[ $busybox_help != BusyBox* ]]; then
  echo "build.sh: $busybox is not busybox; install busybox-static (hack/install-deps.sh)" >&2
  exit 1
fi

# make_layer ROOTFS NAME: writes a gzip layer tar of ROOTFS into $work/NAME and prints
# "<layer digest> <diff id> <size>".
make_layer() {
  local rootfs=$1 name=$2
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 --format=posix \
    --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
    -C "$rootfs" -cf "$work/$name.tar" .
  gzip -n -c "$work/$name.tar" >"$work/$name.tar.gz"
  local diff_id digest size
  diff_id=sha256:$(sha256sum "$work/$name.tar" | cut -d' ' -f1)
  digest=sha256:$(sha256sum "$work/$name.tar.gz" | cut -d' ' -f1)
  size=$(stat -c %s "$work/$name.tar.gz")
  echo "$digest $diff_id $size"
}

# add_blob LAYOUT FILE: copies FILE into LAYOUT's blob store and prints its digest.
add_blob() {
  local layout=$1 file=$2 hex
  hex=$(sha256sum "$file" | cut -d' ' -f1)
  cp "$file" "$layout/blobs/sha256/$hex"
  echo "sha256:$hex"
}

# write_image NAME REFERENCE CONFIG_JSON LAYER_NAME...: writes the OCI layout
# $out/NAME for an image whose config is CONFIG_JSON (the "config" object) and whose
# layers are the named $work/*.tar.gz files, bottom first.
write_image() {
  local name=$1 reference=$2 container_config=$3
  shift 3
  local layout=$out/$name
  rm -rf "$layout"
  mkdir -p "$layout/blobs/sha256"

  local diff_ids=() layers=()
  for layer in "$@"; do
    read -r digest diff_id size <<<"${layer_info[$layer]}"
    add_blob "$layout" "$work/$layer.tar.gz" >/dev/null
    diff_ids+=("$diff_id")
    layers+=("$(jq -cn --arg d "$digest" --argjson s "$size" \
      '{mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: $d, size: $s}')")
  done

  jq -cn --argjson config "$container_config" \
    --argjson diff_ids "$(printf '%s\n' "${diff_ids[@]}" | jq -R . | jq -cs .)" \
    '{architecture: "amd64", os: "linux", config: $config,
      rootfs: {type: "layers", diff_ids: $diff_ids},
      history: [{created_by: "hack/images/build.sh"}]}' >"$work/$name.config.json"
  local config_digest config_size
  config_digest=$(add_blob "$layout" "$work/$name.config.json")
  config_size=$(stat -c %s "$work/$name.config.json")

  jq -cn --arg cd "$config_digest" --argjson cs "$config_size" \
    --argjson layers "$(printf '%s\n' "${layers[@]}" | jq -cs .)" \
    '{schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $cd, size: $cs},
      layers: $layers}' >"$work/$name.manifest.json"
  local manifest_digest manifest_size
  manifest_digest=$(add_blob "$layout" "$work/$name.manifest.json")
  manifest_size=$(stat -c %s "$work/$name.manifest.json")

  echo '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"
  jq -cn --arg md "$manifest_digest" --argjson ms "$manifest_size" --arg ref "$reference" \
    '{schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: [{mediaType: "application/vnd.oci.image.manifest.v1+json",
        digest: $md, size: $ms,
        annotations: {"io.containerd.image.name": $ref,
          "org.opencontainers.image.ref.name": ($ref | split(":") | last)}}]}' \
    >"$layout/index.json"
  echo "build.sh: $reference -> $layout (manifest $manifest_digest)"
}

declare -A layer_info

build_busybox_layer() {
  [[ -n ${layer_info[busybox]:-} ]] && return
  local rootfs=$work/rootfs-busybox
  mkdir -p "$rootfs"/{bin,etc,root,tmp,var/www,proc,sys,dev}
  chmod 1777 "$rootfs/tmp"
  chmod 700 "$rootfs/root"
  cp "$busybox" "$rootfs/bin/busybox"
  for applet in $("$busybox" --list); do
    [[ $applet == busybox ]] || ln -sf busybox "$rootfs/bin/$applet"
  done
  cat >"$rootfs/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
www-data:x:33:33:www-data:/var/www:/bin/false
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
  cat >"$rootfs/etc/group" <<'GROUP'
root:x:0:
www-data:x:33:
nogroup:x:65534:
GROUP
  layer_info[busybox]=$(make_layer "$rootfs" busybox)
}

build_busybox() {
  build_busybox_layer
  write_image busybox docker.io/library/busybox:latest \
    '{"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], "Cmd": ["sh"]}' \
    busybox
}

build_nginx() {
  build_busybox_layer
  local rootfs=$work/rootfs-nginx
  mkdir -p "$rootfs/usr/share/nginx/html"
  cat >"$rootfs/usr/share/nginx/html/index.html" <<'HTML'
<!DOCTYPE html>
<html>
<head><title>Welcome to nginx!</title></head>
<body><h1>Welcome to nginx!</h1>
<p>Served by busybox httpd, a stand-in image built by hack/images/build.sh.</p></body>
</html>
HTML
  layer_info[nginx]=$(make_layer "$rootfs" nginx)
  write_image nginx docker.io/library/nginx:latest \
    '{"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
      "Entrypoint": ["/bin/httpd", "-f", "-v", "-p", "80", "-h", "/usr/share/nginx/html"],
      "ExposedPorts": {"80/tcp": {}}, "StopSignal": "SIGTERM"}' \
    busybox nginx
}

build_pause() {
  local rootfs=$work/rootfs-pause
  mkdir -p "$rootfs"
  command -v gcc >/dev/null || { echo "build.sh: gcc is missing; run hack/install-deps.sh" >&2; exit 1; }
  gcc -static -Os -s -o "$rootfs/pause" "$repo_root/hack/images/pause.c"
  layer_info[pause]=$(make_layer "$rootfs" pause)
  write_image pause registry.k8s.io/pause:3.9 \
    '{"Entrypoint": ["/pause"], "User": "65535:65535"}' \
    pause
}

# Packages whose installed files make up the python image's second layer.
python_packages=(python3.11-minimal libpython3.11-minimal libpython3.11-stdlib libc6 zlib1g libexpat1)

build_python() {
  build_busybox_layer
  local rootfs=$work/rootfs-python
  mkdir -p "$rootfs/usr/bin"
  for package in "${python_packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
      echo "build.sh: Debian package $package is not installed; run hack/install-deps.sh" >&2
      exit 1
    fi
    dpkg-query -L "$package" | while read -r path; do
      case $path in
        /usr/share/doc/* | /usr/share/man/* | /usr/share/lintian/*) continue ;;
      esac
      # Directory symlinks of the merged /usr (/lib64 -> usr/lib64) become real directories.
      if [[ -f $path && ! -L $path ]] || [[ -L $path && ! -d $path ]]; then
        echo "${path#/}"
      fi
    done >>"$work/python-files"
  done
  tar -C / --no-recursion -cf - -T "$work/python-files" | tar -C "$rootfs" -xf -
  ln -sf python3.11 "$rootfs/usr/bin/python3"
  ln -sf python3.11 "$rootfs/usr/bin/python"
  layer_info[python]=$(make_layer "$rootfs" python)
  write_image python docker.io/library/python:3.11 \
    '{"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8"],
      "Cmd": ["python3"]}' \
    busybox python
}

# build_binary_image NAME [BINARY TAG]: writes the image registry.k8s.io/NAME:TAG with
# BINARY (default $bin_dir/NAME, tag $control_plane_version) as /usr/local/bin/NAME and
# the libraries it links, so a kubeadm-style manifest's `command: [NAME, ...]` finds it.
build_binary_image() {
  local name=$1 binary=${2:-$bin_dir/$1} tag=${3:-$control_plane_version}
  if [[ ! -x $binary ]]; then
    echo "build.sh: $binary is missing; build it first (cargo build --release -p $name)" \
      "or point BIN_DIR at the directory that contains it" >&2
    exit 1
  fi
  command -v ldd >/dev/null || { echo "build.sh: ldd is missing (Debian package libc-bin)" >&2; exit 1; }
  local rootfs=$work/rootfs-$name
  mkdir -p "$rootfs"/{usr/local/bin,etc,tmp,var/run}
  chmod 1777 "$rootfs/tmp"
  cp "$binary" "$rootfs/usr/local/bin/$name"
  # ldd prints "libx.so => /path (addr)" for libraries and "/path (addr)" for the loader.
  local library
  for library in $(ldd "$binary" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}'); do
    mkdir -p "$rootfs/$(dirname "$library")"
    cp -L "$library" "$rootfs/$library"
  done
  echo 'root:x:0:0:root:/root:/bin/false' >"$rootfs/etc/passwd"
  echo 'root:x:0:' >"$rootfs/etc/group"
  echo 'hosts: files dns' >"$rootfs/etc/nsswitch.conf"
  layer_info[$name]=$(make_layer "$rootfs" "$name")
  write_image "$name" "registry.k8s.io/$name:$tag" \
    "$(jq -cn --arg name "$name" \
      '{Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
        Entrypoint: ["/usr/local/bin/" + $name]}')" \
    "$name"
}

images=("$@")
[[ ${#images[@]} -gt 0 ]] || images=(busybox nginx pause python)
mkdir -p "$out"
for image in "${images[@]}"; do
  case $image in
    busybox) build_busybox ;;
    nginx) build_nginx ;;
    pause) build_pause ;;
    python) build_python ;;
    kube-apiserver | kube-controller-manager | kube-scheduler | kube-dns) build_binary_image "$image" ;;
    etcd)
      [[ -x /usr/bin/etcd ]] || { echo "build.sh: /usr/bin/etcd is missing; install etcd-server (hack/install-deps.sh)" >&2; exit 1; }
      build_binary_image etcd /usr/bin/etcd 3.4.23-0
      ;;
    control-plane)
      for name in kube-apiserver kube-controller-manager kube-scheduler; do
        build_binary_image "$name"
      done
      ;;
    *)
      echo "build.sh: unknown image $image (known: busybox nginx pause python" \
        "kube-apiserver kube-controller-manager kube-scheduler kube-dns etcd control-plane)" >&2
      exit 2
      ;;
  esac
done
