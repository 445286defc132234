#!/usr/bin/env bash
# Sets everything up and runs pier's main job: build pier, make a busybox image (nothing is
# pulled: the image is Debian's busybox-static, imported), run a web server container in the
# background, show it answering, then remove it. The daemon starts by itself on first use
# and keeps running afterwards (`kill $(cat /run/pier/pier.pid)` stops it).
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

rootfs=$(mktemp -d /tmp/pier-demo.XXXXXX)
trap 'rm -rf "$rootfs"' EXIT
mkdir -p "$rootfs/bin" "$rootfs/www"
cp "$(command -v busybox)" "$rootfs/bin/busybox"
for applet in $("$rootfs/bin/busybox" --list); do
  [ "$applet" = busybox ] || ln -s busybox "$rootfs/bin/$applet"
done
echo "hello from a pier container" > "$rootfs/www/index.html"
tar -C "$rootfs" -c . | "$pier" import --change 'CMD ["sh"]' - pier-demo/busybox:latest

set -x
"$pier" rm -f pier-demo-web >/dev/null 2>&1 || true
# On the default bridge network, port 80 of the container published on the host's $port.
"$pier" run -d --name pier-demo-web -p "$port:80" pier-demo/busybox httpd -f -p 80 -h /www
"$pier" ps --filter name=pier-demo-web
for _ in $(seq 50); do
  if curl -fsS "http://127.0.0.1:$port/"; then break; fi
  sleep 0.1
done
"$pier" logs pier-demo-web
"$pier" rm -f pier-demo-web
