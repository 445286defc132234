#!/usr/bin/env bash
# Runtime start-to-exit cost: the same bundle (busybox `true`, Docker's default profile from
# `pier runtime spec`) run N times by `pier runtime run`, `runc run` and `crun run`, side by side
# in one run. Prints the median of each and its ratio to runc's.
#
#   sudo bench/runtime.sh [N]          (default N=50)
#
# crun 1.8 refuses hosts with a hybrid cgroup layout (a cgroup2 mount at
# /sys/fs/cgroup/unified next to v1 hierarchies); the whole comparison then runs in a private
# mount namespace where that mount is hidden, so that all three see the same host.
set -euo pipefail
self=$(realpath "$0")
cd "$(dirname "$self")/.."
runs="${1:-50}"
if [ "$(id -u)" != 0 ]; then echo "bench/runtime.sh: run as root" >&2; exit 1; fi

if [ -z "${PIER_BENCH_INNER:-}" ]; then
  scripts/deps.sh
  export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/pier-target}"
  cargo build --release -q -p pier
  if mountpoint -q /sys/fs/cgroup/unified 2>/dev/null; then
    exec env PIER_BENCH_INNER=1 unshare --mount --propagation private \
      sh -c 'umount /sys/fs/cgroup/unified && exec "$0" "$@"' "$self" "$runs"
  fi
fi

pier="${CARGO_TARGET_DIR:-/var/cache/pier-target}/release/pier"
work=$(mktemp -d /tmp/pier-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
bundle="$work/bundle"
mkdir -p "$bundle/rootfs/bin"
cp "$(command -v busybox)" "$bundle/rootfs/bin/busybox"
ln -s busybox "$bundle/rootfs/bin/true"
ln -s busybox "$bundle/rootfs/bin/sh"
"$pier" runtime spec --bundle "$bundle" -- true

commands=("$pier runtime --root $work/pier run --bundle $bundle pier-bench"
          "runc --root $work/runc run --bundle $bundle runc-bench")
names=("pier" "runc")
if command -v crun >/dev/null && crun --root "$work/crun" run --bundle "$bundle" crun-probe >/dev/null 2>&1; then
  commands+=("crun --root $work/crun run --bundle $bundle crun-bench")
  names+=("crun")
else
  echo "crun: cannot run on this host, left out" >&2
fi

hyperfine --shell=none --warmup 10 --runs "$runs" --export-json "$work/times.json" "${commands[@]}" >/dev/null
python3 - "$work/times.json" "${names[@]}" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
names = sys.argv[2:]
medians = {n: r["median"] * 1000 for n, r in zip(names, results)}
print(f"{'runtime':<8} {'median':>10} {'vs runc':>9}   ({len(results[0]['times'])} runs of `run` for `true`)")
for n in names:
    print(f"{n:<8} {medians[n]:>7.1f} ms {medians[n] / medians['runc']:>9.2f}")
PY
