#!/usr/bin/env bash
# Sets everything up and runs pier's main job. For now (the engine does not exist yet): build
# pier, make a busybox root filesystem, and run it as a container through pier's OCI runtime.
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

bundle=$(mktemp -d /tmp/pier-demo.XXXXXX)
trap 'rm -rf "$bundle"' EXIT
mkdir -p "$bundle/rootfs/bin"
cp "$(command -v busybox)" "$bundle/rootfs/bin/busybox"
for applet in $("$bundle/rootfs/bin/busybox" --list); do
  [ "$applet" = busybox ] || ln -s busybox "$bundle/rootfs/bin/$applet"
done

"$pier" runtime spec --bundle "$bundle" -- sh -c \
  'echo "hello from $(hostname), pid $$ in its own namespaces"; grep -E "^(CapEff|Seccomp):" /proc/self/status; ls /dev | tr "\n" " "; echo'
"$pier" runtime run --bundle "$bundle" "demo-$$"
