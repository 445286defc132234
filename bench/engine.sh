#!/usr/bin/env bash
# The engine's container lifecycle and memory, pier against Docker and podman, side by side in
# one run on the same busybox image.
#
#   sudo bench/engine.sh [N]          (default N=20)
#
#   pier    a private `pier daemon` of this build; the client is the same binary (`pier -H`)
#   docker  a private dockerd 20.10 (Debian's docker.io, with the containerd it starts); the
#           client is /usr/bin/docker (20.10)
#   podman  podman 4.3 (no daemon: conmon per container, its default OCI runtime), with its own
#           --root/--runroot/--tmpdir/--network-config-dir and a containers.conf of this
#           script's (CONTAINERS_CONF: default ulimits within this machine's hard limits)
#
# 1. `run --rm busybox true`, N times each (after 2 warm-up runs), with the default network
#    and with `--network none`, timed from outside by hyperfine (client start to exit): the
#    median and its ratio to pier's. Each engine's default network is a bridge with a veth
#    pair per container (pier's: pier0, made in the bench's network namespace). Each engine's
#    series (here and in 2.)
#    begins once podman's background clean-up processes of the series before have ended, the
#    CPUs idle (the kernel's own teardown of namespaces and veths included), and after 5 s of
#    quiet, so that no engine pays for the one before.
# 2. 50 `run -d busybox sleep 1000` in a row (timed in total), then one `rm -f` of the 50
#    (timed), with the default network and with `--network none`. podman's `rm -f` first sends
#    SIGTERM and waits 10 s for it (which busybox's sleep, as PID 1, never answers); it is given
#    `-t 0`, to kill at once as `docker rm -f` and `pier rm -f` do.
# 3. Idle daemon memory, with no containers: RSS, PSS and USS (Private_Clean + Private_Dirty of
#    /proc/PID/smaps_rollup) of the pier daemon, and of dockerd and its containerd, right after
#    start-up (and the image import), 1 s after all the runs, and once they have idled for
#    PIER_BENCH_SETTLE seconds (default 30; the same wait for every daemon). The goal is judged
#    on the settled figure: an idle daemon is one that has been idle for a while.
# 4. Per-container memory of what parents each container, with 10 containers running `sleep`:
#    the parent of the container's init (`inspect -f '{{.State.Pid}}'`): pier's shim, docker's
#    containerd-shim-runc-v2, podman's conmon. Medians of RSS, PSS and USS.
#
# Everything runs in a network namespace of this script's (daemons, clients, podman and the
# containers' bridges), in a private mount namespace where the cgroup2 mount of a hybrid
# cgroup layout (/sys/fs/cgroup/unified) is hidden: podman and crun refuse such hosts, and all
# three then see the same one. The containers' cgroups go beneath one cgroup of this script's
# (`/pier-bench-engine-PID/{pier,docker,podman}`), removed at the end. Nothing is pulled: the
# image is a busybox root filesystem (Debian's static busybox) imported into each engine.
# PIER_BENCH_BUILD=0 takes the pier binary already built instead of building it first.
set -euo pipefail
self=$(realpath "$0")
cd "$(dirname "$self")/.."
usage() { echo "usage: bench/engine.sh [N]   (N: runs of each \`run --rm\`, default 20)" >&2; exit 2; }
case "${1:-}" in -h | --help) usage ;; esac
[ $# -le 1 ] || usage
runs="${1:-20}"
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || usage
if [ "$(id -u)" != 0 ]; then echo "bench/engine.sh: run as root" >&2; exit 1; fi
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/pier-target}"
pier="$CARGO_TARGET_DIR/release/pier"
detached=50  # containers of part 2
resident=10  # containers of part 4
settle="${PIER_BENCH_SETTLE:-30}"  # seconds of idling before part 3's last measurement
# Seconds of quiet before each engine's series (see quiet.sh below), for what the series
# before left to finish in the background.
quiet=5
[[ "$settle" =~ ^[0-9]+$ ]] || { echo "bench/engine.sh: PIER_BENCH_SETTLE must be whole seconds" >&2; exit 2; }

# Removes the directories of a cgroup tree in every v1 hierarchy and the unified one, deepest
# first. Only ever called with this script's own cgroup.
remove_cgroup_tree() {
  local h
  for h in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do
    [ -d "$h$1" ] || continue
    find "$h$1" -depth -type d -exec rmdir {} + 2>/dev/null || true
  done
}

# =========================================================================================
# The outer part: build, make the state of this run, run the inner part in its namespaces,
# remove that state however the run ends.
# =========================================================================================
if [ -z "${PIER_BENCH_INNER:-}" ]; then
  scripts/deps.sh
  if [ "${PIER_BENCH_BUILD:-1}" = 1 ]; then cargo build --release -q -p pier; fi

  made_dirs=()
  for d in /var/lib/pier-bench-engine /run/pier-bench-engine /var/lib/containers /var/lib/containers/cache; do
    if [ ! -d "$d" ]; then mkdir -m 0700 "$d" && made_dirs=("$d" "${made_dirs[@]}"); fi
  done
  data=$(mktemp -d /var/lib/pier-bench-engine/run.XXXXXX)
  state=/run/pier-bench-engine/$(basename "$data")
  mkdir -m 0700 "$state"
  netns="pier-bench-engine-$$"
  cgroup="pier-bench-engine-$$"
  # podman may put conmon into /libpod_parent, whatever the container's cgroup parent is.
  libpod_parent_existed=0
  [ -d /sys/fs/cgroup/memory/libpod_parent ] && libpod_parent_existed=1

  cleanup() {
    set +e
    ip netns delete "$netns" 2>/dev/null
    rm -rf "$data" "$state"
    remove_cgroup_tree "$cgroup"
    if [ "$libpod_parent_existed" = 0 ]; then remove_cgroup_tree libpod_parent; fi
    for d in "${made_dirs[@]}"; do rmdir "$d" 2>/dev/null; done
  }
  inner=""
  # A signal goes on to the inner part (which removes its containers and stops its daemons
  # first), then the rest is removed here.
  stop_inner() {
    trap '' INT TERM
    if [ -n "$inner" ]; then kill -TERM "$inner" 2>/dev/null; wait "$inner" 2>/dev/null; fi
    exit "$1"
  }
  trap cleanup EXIT
  trap 'stop_inner 130' INT
  trap 'stop_inner 143' TERM

  ip netns add "$netns"
  nsenter --net="/run/netns/$netns" ip link set lo up
  # nsenter, unshare and sh each exec the next: $! is the inner part's bash.
  PIER_BENCH_INNER=1 PIER_BENCH_DATA="$data" PIER_BENCH_STATE="$state" PIER_BENCH_CGROUP="$cgroup" \
    nsenter --net="/run/netns/$netns" unshare --mount --propagation private \
    sh -c 'if mountpoint -q /sys/fs/cgroup/unified; then umount /sys/fs/cgroup/unified; fi; exec "$0" "$@"' \
    "$self" "$runs" &
  inner=$!
  status=0
  wait "$inner" || status=$?
  inner=""
  exit "$status"
fi

# =========================================================================================
# The inner part: in the bench's network namespace and private mount namespace.
# =========================================================================================
data=$PIER_BENCH_DATA    # persistent state: the data roots' file system, the image tar, results
state=$PIER_BENCH_STATE  # runtime state: exec roots, sockets
cgroup=$PIER_BENCH_CGROUP
# Runtime state on a tmpfs, as /run is on a standard system (on these machines /run is on the
# root file system, an ext4 without a journal, where allocating inodes slows down for minutes
# after many were deleted). The mount is this part's own: it goes with its mount namespace.
mount -t tmpfs -o mode=0700 pier-bench-state "$state"
# The engines' data roots on an ext4 of this run's own, made with mkfs's defaults, which give
# it a journal as on a standard system. The root file system here has none, and ext4 without
# a journal skips, one at a time, every inode freed in the last minute when it allocates one
# (in the last six while their table block is unwritten): on it, whichever engine ran after a
# series that freed thousands of inodes (each engine's containers, removed) paid for them, and
# medians moved with the order of the series. With a journal ext4 does not wait so.
roots="$data/roots"
truncate -s 8G "$data/roots.img"
mkfs.ext4 -q -F "$data/roots.img"
mkdir -p "$roots"
mount -o loop "$data/roots.img" "$roots"
results="$data/results"
: >"$results"
note() { echo "$*" >>"$data/notes"; }
: >"$data/notes"
say() { echo "engine.sh: $*" >&2; }

# The client of the Debian daemon, whatever else is first on PATH.
docker_cli=/usr/bin/docker
[ -x "$docker_cli" ] || docker_cli=$(command -v docker)

pier_sock="unix://$state/pier.sock"
docker_sock="unix://$state/docker.sock"
pier_c=("$pier" -H "$pier_sock")
docker_c=("$docker_cli" -H "$docker_sock")
podman_c=(podman --root "$roots/podman" --runroot "$state/podman/run" --tmpdir "$state/podman/tmp"
  --network-config-dir "$data/podman/networks" --storage-driver overlay --cgroup-manager cgroupfs
  --events-backend none)
# What each engine's `run` needs besides: the image is never pulled; podman is told where the
# containers' cgroups go (the daemons are told at start).
pier_run=(run --pull never)
docker_run=(run --pull never)
podman_run=(run --pull never --cgroup-parent "/$cgroup/podman")
engines=(pier docker podman)

pier_pid=""
dockerd_pid=""
containerd_pid=""

# Unmounts everything at or below $1, deepest first.
unmount_under() {
  local m
  awk -v d="$1" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo |
    sort -r | while read -r m; do
      umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
    done
}

# Stops a process this script started, by its pid: SIGTERM, then SIGKILL after $2 tenths.
stop_pid() {
  local pid=$1 patience=${2:-100}
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq "$patience"); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
}

# Every container of an engine, gone.
remove_all() { # engine
  local ids
  case "$1" in
    pier) ids=$("${pier_c[@]}" ps -aq 2>/dev/null || true); [ -z "$ids" ] || "${pier_c[@]}" rm -f $ids >/dev/null 2>&1 || true ;;
    docker) ids=$("${docker_c[@]}" ps -aq 2>/dev/null || true); [ -z "$ids" ] || "${docker_c[@]}" rm -f $ids >/dev/null 2>&1 || true ;;
    podman) "${podman_c[@]}" rm -af -t 0 >/dev/null 2>&1 || true ;;
  esac
}

cleanup_inner() {
  set +e
  trap '' INT TERM
  if [ -n "$pier_pid" ]; then remove_all pier; fi
  if [ -n "$dockerd_pid" ]; then remove_all docker; fi
  remove_all podman
  # What is left of the containers (a shim that did not stop them): their processes, which
  # are all in this script's cgroup.
  local procs
  procs=$(cat /sys/fs/cgroup/pids/"$cgroup"/*/*/cgroup.procs 2>/dev/null || true)
  for p in $procs; do kill -KILL "$p" 2>/dev/null; done
  stop_pid "$pier_pid"
  pier_pid=""
  stop_pid "$dockerd_pid"
  dockerd_pid=""
  # dockerd stops the containerd it started; if it was killed, that containerd is left.
  if [ -n "$containerd_pid" ] && kill -0 "$containerd_pid" 2>/dev/null &&
    grep -q containerd "/proc/$containerd_pid/comm" 2>/dev/null; then
    stop_pid "$containerd_pid" 50
  fi
  containerd_pid=""
  unmount_under "$data"
  unmount_under "$state"
}
trap cleanup_inner EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- memory -------------------------------------------------------------------------------
# "rss pss uss" of a process, in KiB, from its smaps_rollup: Rss, Pss, and
# Private_Clean + Private_Dirty.
mem_of() {
  awk '/^Rss:/ { rss = $2 } /^Pss:/ { pss = $2 } /^Private_(Clean|Dirty):/ { uss += $2 }
       END { printf "%d %d %d\n", rss, pss, uss }' "/proc/$1/smaps_rollup"
}
ppid_of() { awk '/^PPid:/ { print $2 }' "/proc/$1/status"; }
comm_of() { cat "/proc/$1/comm"; }

# --- the daemons --------------------------------------------------------------------------
wait_ready() { # what, pid, log, command...
  local what=$1 pid=$2 log=$3
  shift 3
  for _ in $(seq 300); do
    if "$@" version >/dev/null 2>&1; then return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then break; fi
    sleep 0.1
  done
  say "$what did not start; its log:"
  tail -20 "$log" >&2
  exit 1
}

# The daemon's own pid file names the process started (setsid execs it without a fork).
check_pid() { # what, pid, pid file
  local written
  written=$(cat "$3" 2>/dev/null || true)
  if [ "$written" != "$2" ]; then
    say "$1: its pid file says ${written:-nothing}, but the process started is $2"
    exit 1
  fi
}

start_pier() {
  mkdir -p "$roots/pier" "$state/pier"
  # setsid: the terminal's ctrl-c goes to this script, which removes the containers first.
  setsid "$pier" daemon --data-root "$roots/pier" --exec-root "$state/pier" -H "$pier_sock" \
    --cgroup-parent "/$cgroup/pier" --pidfile "$state/pier.pid" --log-level warn \
    >>"$data/pier.log" 2>&1 &
  pier_pid=$!
  wait_ready "pier daemon" "$pier_pid" "$data/pier.log" "${pier_c[@]}"
  check_pid "pier daemon" "$pier_pid" "$state/pier.pid"
}

start_dockerd() {
  mkdir -p "$roots/docker" "$state/docker"
  echo '{}' >"$data/daemon.json"
  # The default bridge (docker0) and its iptables rules are made in this network namespace.
  setsid dockerd --config-file "$data/daemon.json" --data-root "$roots/docker" \
    --exec-root "$state/docker" -H "$docker_sock" --pidfile "$state/dockerd.pid" \
    --storage-driver overlay2 --cgroup-parent "/$cgroup/docker" --log-level=error \
    >>"$data/dockerd.log" 2>&1 &
  dockerd_pid=$!
  wait_ready dockerd "$dockerd_pid" "$data/dockerd.log" "${docker_c[@]}"
  check_pid dockerd "$dockerd_pid" "$state/dockerd.pid"
  containerd_pid=$(cat "$state/docker/containerd/containerd.pid" 2>/dev/null || true)
  if [ -z "$containerd_pid" ] || ! grep -q containerd "/proc/$containerd_pid/comm" 2>/dev/null; then
    containerd_pid=""
    note "docker: no separate containerd process found; dockerd's memory alone is reported"
  fi
}

say "starting the pier daemon and dockerd"
start_pier
start_dockerd

# podman: its own blob-info cache (in /var/lib/containers/cache whatever --root says), and a
# containers.conf whose default ulimits fit this machine's hard limits: podman's own defaults
# for root (1048576 open files, as many processes as the hard limit) can be above what the
# runtime may set (root here may lack CAP_SYS_RESOURCE).
mkdir -p "$data/podman/cache" "$data/podman/networks" "$data/podman/tmp" "$state/podman"
mount --bind "$data/podman/cache" /var/lib/containers/cache
nofile_hard=$(ulimit -Hn)
[ "$nofile_hard" = unlimited ] && nofile_hard=1048576
nofile_soft=$((nofile_hard < 1024 ? nofile_hard : 1024))
# podman lowers its own (and so conmon's and the runtime's) limit on processes to pid_max.
nproc_hard=$(ulimit -Hu)
pid_max=$(cat /proc/sys/kernel/pid_max)
[ "$nproc_hard" = unlimited ] || [ "$nproc_hard" -gt "$pid_max" ] && nproc_hard=$pid_max
cat >"$data/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=$nofile_soft:$nofile_hard", "nproc=$nproc_hard:$nproc_hard"]
EOF
export CONTAINERS_CONF="$data/containers.conf"
export TMPDIR="$data/podman/tmp"

# --- the image ----------------------------------------------------------------------------
say "importing busybox:latest into each engine"
rootfs="$data/rootfs"
mkdir -p "$rootfs/bin" "$rootfs/etc" "$rootfs/tmp" "$rootfs/proc" "$rootfs/sys" "$rootfs/dev"
cp "$(command -v busybox)" "$rootfs/bin/busybox"
for applet in sh true sleep; do ln -s busybox "$rootfs/bin/$applet"; done
tar -C "$rootfs" -cf "$data/busybox.tar" .
for e in "${engines[@]}"; do
  c="${e}_c[@]"
  "${!c}" import - busybox:latest <"$data/busybox.tar" >/dev/null 2>"$data/err" || {
    say "$e: import failed:"
    cat "$data/err" >&2
    exit 1
  }
done
podman_runtime=$("${podman_c[@]}" info --format '{{.Host.OCIRuntime.Name}} {{.Host.OCIRuntime.Version}}' 2>/dev/null | head -1 || echo unknown)
echo "podman_runtime $podman_runtime" >>"$results"
echo "docker_runtime $("${docker_c[@]}" info --format '{{.DefaultRuntime}}' 2>/dev/null || echo unknown)" >>"$results"

daemon_memory() { # phase
  set -- "$1" $(mem_of "$pier_pid")
  echo "idle_pier_$1 $2 $3 $4" >>"$results"
  set -- "$1" $(mem_of "$dockerd_pid")
  echo "idle_dockerd_$1 $2 $3 $4" >>"$results"
  if [ -n "$containerd_pid" ]; then
    set -- "$1" $(mem_of "$containerd_pid")
    echo "idle_containerd_$1 $2 $3 $4" >>"$results"
  fi
}
sleep 1
daemon_memory start

# --- 1. run --rm --------------------------------------------------------------------------
# podman's default network (netavark's bridge) may not work here: tried once first.
podman_default=1
if ! "${podman_c[@]}" "${podman_run[@]}" --rm busybox true >/dev/null 2>"$data/podman-probe.err"; then
  podman_default=0
  reason=$(grep -v '^\s*$' "$data/podman-probe.err" | tail -1 | cut -c1-160)
  echo "podman_default_na $reason" >>"$results"
  say "podman's default network does not work here: $reason"
fi

commands=()
labels=()
for net in default none; do
  for e in "${engines[@]}"; do
    [ "$e" = podman ] && [ "$net" = default ] && [ "$podman_default" = 0 ] && continue
    c="${e}_c[*]"
    r="${e}_run[*]"
    netopt=""
    [ "$net" = none ] && netopt="--network none"
    commands+=("${!c} ${!r} --rm $netopt busybox true")
    labels+=("$e $net")
  done
done
# The floor of a client command: `version` (client start-up, one API round trip; podman has no
# daemon to ask, and is left out).
commands+=("${pier_c[*]} version" "${docker_c[*]} version")
labels+=("pier version" "docker version")
# Each once first, so that a failure shows its message.
for c in "${commands[@]}"; do
  read -r -a argv <<<"$c"
  "${argv[@]}" >/dev/null 2>"$data/err" || { say "failed: $c"; cat "$data/err" >&2; exit 1; }
done
say "run --rm busybox true (and version): $runs runs each of ${#commands[@]} commands"
# Quiet before each series: podman finishes every container with a `podman container cleanup`
# process of its own, started after the container ended; 50 of them keep both cores busy for
# seconds after an `rm -f` has returned.
# Then the machine's CPUs idle (at least 90% over a second, for up to 30 s): the kernel tears
# namespaces and veths of ended containers down in its own workers, seconds after every
# process of them is gone, whichever engine made them.
cat >"$data/quiet.sh" <<QUIET
#!/bin/sh
for _ in \$(seq 600); do
  pgrep -f -- "--root $roots/podman .*container cleanup" >/dev/null || break
  sleep 0.1
done
idle_share() {
  set -- \$(head -1 /proc/stat); shift
  t1=0; for v in "\$@"; do t1=\$((t1 + v)); done; i1=\$((\$4 + \$5))
  sleep 1
  set -- \$(head -1 /proc/stat); shift
  t2=0; for v in "\$@"; do t2=\$((t2 + v)); done; i2=\$((\$4 + \$5))
  echo \$(( (i2 - i1) * 100 / (t2 - t1 + 1) ))
}
for _ in \$(seq 30); do
  [ "\$(idle_share)" -ge 90 ] && break
done
sleep $quiet
QUIET
chmod +x "$data/quiet.sh"
hyperfine --shell=none --warmup 2 --runs "$runs" --setup "$data/quiet.sh" --export-json "$data/run-rm.json" "${commands[@]}" \
  >/dev/null 2>"$data/err" || { say "hyperfine failed:"; cat "$data/err" >&2; exit 1; }
printf '%s\n' "${labels[@]}" >"$data/run-rm.labels"
for e in "${engines[@]}"; do
  left=$(case "$e" in
    pier) "${pier_c[@]}" ps -aq ;;
    docker) "${docker_c[@]}" ps -aq ;;
    podman) "${podman_c[@]}" ps -aq ;;
  esac | wc -l)
  [ "$left" = 0 ] || note "$e: $left containers left after the \`run --rm\`s"
done

# --- 2. 50 run -d, then rm -f -------------------------------------------------------------
now_ms() { echo $(($(date +%s%N) / 1000000)); }
detach_round() { # engine, net
  local e=$1 net=$2 c r i t0 t1 t2 ta tb names=() netopt=() each=()
  c="${e}_c[@]"
  r="${e}_run[@]"
  [ "$net" = none ] && netopt=(--network none)
  for i in $(seq "$detached"); do names+=("bench-$net-$i"); done
  t0=$(now_ms)
  tb=$t0
  for i in "${names[@]}"; do
    ta=$tb
    "${!c}" "${!r}" -d --name "$i" "${netopt[@]}" busybox sleep 1000 >/dev/null 2>"$data/err" || {
      say "$e: run -d ($net) failed:"
      cat "$data/err" >&2
      exit 1
    }
    tb=$(now_ms)
    each+=($((tb - ta)))
  done
  t1=$tb
  local rm=(rm -f)
  [ "$e" = podman ] && rm=(rm -f -t 0)
  "${!c}" "${rm[@]}" "${names[@]}" >/dev/null 2>"$data/err" || {
    say "$e: rm -f ($net) failed:"
    cat "$data/err" >&2
    exit 1
  }
  t2=$(now_ms)
  echo "detach_${e}_$net $((t1 - t0)) $((t2 - t1)) ${each[*]}" >>"$results"
}
for net in default none; do
  for e in "${engines[@]}"; do
    [ "$e" = podman ] && [ "$net" = default ] && [ "$podman_default" = 0 ] && continue
    say "$detached x run -d ($net network), then rm -f: $e"
    "$data/quiet.sh"
    detach_round "$e" "$net"
  done
done

# --- 4. what parents each container -------------------------------------------------------
for e in "${engines[@]}"; do
  say "$resident containers running sleep: $e's per-container memory"
  c="${e}_c[@]"
  r="${e}_run[@]"
  names=()
  for i in $(seq "$resident"); do
    names+=("bench-resident-$i")
    "${!c}" "${!r}" -d --name "bench-resident-$i" --network none busybox sleep 1000 >/dev/null
  done
  sleep 1
  parents=()
  for n in "${names[@]}"; do
    pid=$("${!c}" inspect -f '{{.State.Pid}}' "$n")
    ppid=$(ppid_of "$pid")
    parents+=("$ppid")
    echo "parent_$e $(comm_of "$ppid") $(mem_of "$ppid")" >>"$results"
  done
  echo "parentcmd_$e $(tr '\0' ' ' <"/proc/${parents[0]}/cmdline" | cut -c1-200)" >>"$results"
  rm=(rm -f)
  [ "$e" = podman ] && rm=(rm -f -t 0)
  "${!c}" "${rm[@]}" "${names[@]}" >/dev/null
  # They go on their own once their container is gone; 5 s is plenty.
  for _ in $(seq 50); do
    alive=0
    for p in "${parents[@]}"; do kill -0 "$p" 2>/dev/null && alive=$((alive + 1)); done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  [ "$alive" = 0 ] || note "$e: $alive of the $resident parent processes still there 5 s after rm -f"
done

# --- 3. the daemons, idle, after the runs -------------------------------------------------
for e in pier docker; do
  c="${e}_c[@]"
  left=$("${!c}" ps -aq | wc -l)
  [ "$left" = 0 ] || note "$e: $left containers left before the idle measurement"
done
sleep 1
daemon_memory after
sleep "$settle"
daemon_memory settled

# What the pier daemon logged (at warn and above).
if [ -s "$data/pier.log" ]; then
  note "pier daemon: $(wc -l <"$data/pier.log") lines in its log (--log-level warn); the first ones:"
  head -5 "$data/pier.log" | cut -c1-200 | sed 's/^/     /' >>"$data/notes"
fi

# --- the end of the daemons ---------------------------------------------------------------
remove_all pier
remove_all docker
remove_all podman
stop_pid "$pier_pid"
pier_pid=""
stop_pid "$dockerd_pid"
dockerd_pid=""

# --- report -------------------------------------------------------------------------------
python3 - "$data/run-rm.json" "$data/run-rm.labels" "$results" "$data/notes" "$runs" "$detached" "$resident" "$settle" <<'PY'
import json, statistics, sys

times_path, labels_path, results_path, notes_path, runs, detached, resident, settle = sys.argv[1:]
labels = open(labels_path).read().split("\n")[:-1]
runs_json = json.load(open(times_path))["results"]
median = {tuple(l.split()): r["median"] * 1000 for l, r in zip(labels, runs_json)}
engines = ["pier", "docker", "podman"]

res = {}
parents = {e: [] for e in engines}
idle = {}
parent_cmd = {}
for line in open(results_path):
    key, _, rest = line.rstrip("\n").partition(" ")
    if key.startswith("parentcmd_"):
        parent_cmd[key[len("parentcmd_"):]] = rest
    elif key.startswith("parent_"):
        comm, rss, pss, uss = rest.split()
        parents[key[len("parent_"):]].append((comm, int(rss), int(pss), int(uss)))
    elif key.startswith("idle_"):
        _, proc, phase = key.split("_")
        idle[(proc, phase)] = tuple(int(x) for x in rest.split())
    else:
        res[key] = rest
notes = [l.rstrip("\n") for l in open(notes_path) if l.strip()]

def ms(x): return f"{x:7.1f} ms"
def ratio(x, base): return f"{x / base:7.2f}x"
def mib(kib): return f"{kib / 1024:6.1f}"

podman_na = res.get("podman_default_na")
print(f"engines: pier (this build); docker: dockerd 20.10 + containerd, runtime {res.get('docker_runtime')}; "
      f"podman 4.3, runtime {res.get('podman_runtime')}")
print()
print(f"1. run --rm busybox true: median of {runs} runs (client start to exit); ratio = engine / pier")
print(f"{'network':<9} {'engine':<7} {'median':>10} {'vs pier':>8}")
for net in ["default", "none"]:
    base = median.get(("pier", net))
    for e in engines:
        if (e, net) in median:
            m = median[(e, net)]
            print(f"{net:<9} {e:<7} {ms(m):>10} {ratio(m, base):>8}")
        else:
            print(f"{net:<9} {e:<7} {'n/a':>10}   ({podman_na})")
if ("pier", "version") in median:
    print(f"{'(floor)':<9} {'pier':<7} {ms(median[('pier', 'version')]):>10}            `version`: client start-up + one API round trip")
    print(f"{'(floor)':<9} {'docker':<7} {ms(median[('docker', 'version')]):>10} {ratio(median[('docker', 'version')], median[('pier', 'version')]):>8}")
print("   note: every engine's default network is a bridge with a veth pair per container.")

print()
print(f"2. {detached} x `run -d busybox sleep 1000` in a row, then one `rm -f` of the {detached} (total times)")
print(f"{'network':<9} {'engine':<7} {'run -d':>10} {'per run':>9} {'vs pier':>8}   {'rm -f':>10} {'vs pier':>8}"
      f"   {'run -d: first 10, last 10 (medians)':>36}   {'slowest':>8}")
detach = {}
each = {}
for k, v in res.items():
    if k.startswith("detach_"):
        _, e, net = k.split("_")
        vals = [int(x) for x in v.split()]
        detach[(e, net)] = tuple(vals[:2])
        each[(e, net)] = vals[2:]
for net in ["default", "none"]:
    base = detach.get(("pier", net))
    for e in engines:
        if (e, net) not in detach:
            print(f"{net:<9} {e:<7} {'n/a':>10}   ({podman_na})")
            continue
        run, rm = detach[(e, net)]
        first, last = statistics.median(each[(e, net)][:10]), statistics.median(each[(e, net)][-10:])
        slowest = max(each[(e, net)])
        print(f"{net:<9} {e:<7} {run:>7} ms {run / int(detached):>6.1f} ms {ratio(run, base[0]):>8}"
              f"   {rm:>7} ms {ratio(rm, base[1]):>8}   {first:>12.0f} ms, {last:>6.0f} ms   {slowest:>5} ms")
print("   podman's rm is `rm -f -t 0` (its `rm -f` waits 10 s for SIGTERM first)")

print()
print("3. idle daemon memory, no containers (MiB; USS = Private_Clean + Private_Dirty)")
print(f"{'process':<22} {'start: RSS':>10} {'USS':>6}   {'after the runs: RSS':>19} {'USS':>6}   {'settled: RSS':>12} {'USS':>6}")
def idle_row(name, procs):
    cells = []
    for phase in ["start", "after", "settled"]:
        vals = [idle[(p, phase)] for p in procs if (p, phase) in idle]
        cells.append(tuple(sum(v[i] for v in vals) for i in range(3)) if vals else (0, 0, 0))
    s, a, z = cells
    print(f"{name:<22} {mib(s[0]):>10} {mib(s[2])}   {mib(a[0]):>19} {mib(a[2])}   {mib(z[0]):>12} {mib(z[2])}")
    return a, z
pier_idle = idle_row("pier daemon", ["pier"])
docker_idle = idle_row("dockerd", ["dockerd"])
if ("containerd", "after") in idle:
    idle_row("containerd", ["containerd"])
    docker_idle = idle_row("dockerd + containerd", ["dockerd", "containerd"])
print("podman                 (no daemon)")
print("   'start' is right after start-up and the image import; 'after the runs' 1 s after the last")
print(f"   run; 'settled' {settle} s later (PIER_BENCH_SETTLE)")

print()
print(f"4. per-container parent process, {resident} containers running sleep: medians (MiB)")
print(f"{'engine':<7} {'process':<22} {'RSS':>6} {'PSS':>6} {'USS':>6}")
shim = {}
for e in engines:
    rows = parents[e]
    comm = ",".join(sorted({r[0] for r in rows}))
    med = tuple(statistics.median(r[i] for r in rows) for i in (1, 2, 3))
    shim[e] = med
    print(f"{e:<7} {comm:<22} {mib(med[0])} {mib(med[1])} {mib(med[2])}")
for e in engines:
    print(f"   {e}'s: {parent_cmd.get(e, '?')}")

if notes:
    print()
    print("notes:")
    for n in notes:
        print(f"   {n}")

print()
print("=" * 78)
print("summary (issue's goals for pier; reference numbers from the issue in brackets)")
d_none, p_none = median[("docker", "none")], median[("pier", "none")]
d_def, p_def = median[("docker", "default")], median[("pier", "default")]
def verdict(ok): return "met" if ok else "NOT met"
print(f"  run --rm, --network none: pier {p_none:.1f} ms, docker {d_none:.1f} ms ({d_none / p_none:.1f}x pier's), "
      f"podman {median[('podman', 'none')]:.1f} ms ({median[('podman', 'none')] / p_none:.1f}x)")
pod_def = median.get(("podman", "default"))
print(f"  run --rm, default network: pier {p_def:.1f} ms, docker {d_def:.1f} ms "
      f"({d_def / p_def:.1f}x), podman " + (f"{pod_def:.1f} ms ({pod_def / p_def:.1f}x)" if pod_def else f"n/a"))
print(f"     goal: at most 1/15 of docker's ({d_none / 15:.1f} ms with none, {d_def / 15:.1f} ms with the default) "
      f"[docker ~400 ms, podman ~355 ms]: {verdict(p_none <= d_none / 15)} with --network none, "
      f"{verdict(p_def <= d_def / 15)} with the default")
pd, dd = detach[("pier", "default")], detach[("docker", "default")]
pn = detach[("pier", "none")]
print(f"  {detached} x run -d: pier {pd[0] / 1000:.2f} s (default) / {pn[0] / 1000:.2f} s (none), "
      f"docker {dd[0] / 1000:.2f} s / {detach[('docker', 'none')][0] / 1000:.2f} s; "
      f"rm -f of {detached}: pier {pd[1] / 1000:.2f} s, docker {dd[1] / 1000:.2f} s")
print(f"     goal: under 1 s [docker ~15 s]: {verdict(max(pd[0], pn[0]) < 1000)}")
s = shim["pier"]
print(f"  shim per container: pier {s[0] / 1024:.2f} MiB RSS / {s[2] / 1024:.2f} MiB USS; "
      f"containerd-shim {shim['docker'][0] / 1024:.1f} / {shim['docker'][2] / 1024:.1f}; "
      f"conmon {shim['podman'][0] / 1024:.1f} / {shim['podman'][2] / 1024:.1f}")
print(f"     goal: under 2 MiB RSS and 1 MiB USS [containerd-shim 13 MB / 2.4 MB, conmon 2 MB / 1 MB]: "
      f"{verdict(s[0] < 2048 and s[2] < 1024)}")
for label, i in (("right after the runs", 0), (f"settled ({settle} s idle)", 1)):
    p, dk = pier_idle[i], docker_idle[i]
    print(f"  idle daemon, {label}: pier {p[0] / 1024:.1f} MiB RSS ({p[2] / 1024:.1f} USS), "
          f"dockerd+containerd {dk[0] / 1024:.1f} MiB RSS ({dk[2] / 1024:.1f} USS)")
print(f"     goal: under 15 MiB RSS (settled): {verdict(pier_idle[1][0] < 15 * 1024)}")
PY
