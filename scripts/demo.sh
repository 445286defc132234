#!/usr/bin/env bash
# Sets everything up and runs pier's main job: build pier, make an nginx image (nothing is
# pulled: the image is made from Debian's packages, imported), run it as a web server
# container with a published port, show it answering, then remove it. The daemon starts by
# itself on first use and keeps running afterwards (`kill $(cat /run/pier/pier.pid)` stops
# it); it makes the bridge pier0 and the nftables table `ip pier` on this host.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
  echo "scripts/demo.sh: run as root (containers need namespaces, mounts and cgroups)" >&2
  exit 1
fi
scripts/deps.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/pier-target}"
cargo build --release -p pier
pier="$CARGO_TARGET_DIR/release/pier"
port="${PIER_DEMO_PORT:-8080}"

# The nginx image, from Debian's packages (debootstrap from this machine's apt mirror, built
# once and cached in /var/cache/pier-nginx): nothing is pulled from a registry.
work=$(mktemp -d /tmp/pier-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT
scripts/nginx-image.sh "$work/nginx.tar"
"$pier" import --change 'CMD ["nginx","-g","daemon off;"]' --change 'EXPOSE 80' \
  --change 'STOPSIGNAL SIGQUIT' "$work/nginx.tar" nginx

set -x
"$pier" rm -f webserver >/dev/null 2>&1 || true
# On the default bridge network, the container's port 80 published on the host's $port.
"$pier" run --name webserver -d -p "$port:80" nginx
"$pier" ps --filter name=webserver
"$pier" port webserver
for _ in $(seq 50); do
  if curl -fsS "http://127.0.0.1:$port/" | grep -m1 '<title>'; then break; fi
  sleep 0.1
done
"$pier" logs webserver
"$pier" rm -f webserver
