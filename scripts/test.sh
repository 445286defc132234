#!/usr/bin/env bash
# Runs every test of the workspace, as root (the tests make namespaces, mounts and cgroups).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
  echo "scripts/test.sh: run as root (the end-to-end tests create containers)" >&2
  exit 1
fi
scripts/deps.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/pier-target}"
exec cargo nextest run --workspace --no-fail-fast "$@"
