#!/usr/bin/env bash
# Installs the Debian packages that building, testing and benchmarking pier need.
# Idempotent: does nothing when everything is there. Pass --update to refresh apt's lists first.
set -euo pipefail

packages=(
  pkg-config libseccomp-dev   # building: the seccomp compiler links libseccomp
  gcc libc6-dev               # tests: a static probe program for the CVE-2019-5736 test
  busybox-static              # tests and demo: the busybox root filesystem
  runc crun                   # tests and bench: the peers pier is compared with
  iproute2 util-linux procps  # tests: nsenter, unshare, ps
  qemu-system-x86             # tests: a VM that runs pier on a pure cgroup v2 kernel
  linux-image-amd64           # tests: the kernel that VM boots
  skopeo umoci podman tar     # tests: image archives read and written by the peers (pier-image)
  docker.io gzip zstd         # tests: a private dockerd 20.10 for image interop; compressed layers
  hyperfine                   # bench
  nftables curl               # the daemon: NAT and published ports (nft); the demo: curl
  debootstrap                 # the demo and tests: an nginx image from Debian's packages
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${1:-}" = "--update" ] || [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# tests: docker-py, the Python client that the engine's end-to-end tests drive pier with
python3 -c 'import docker' 2>/dev/null || python3 -m pip install --quiet docker
