#!/usr/bin/env bash
# Image load throughput and container rootfs setup, pier against Docker and podman, side by
# side in one run.
#
#   sudo bench/images.sh [N] [plain|gzip|both]       (default N=3, both)
#
# 1. Load: one docker-archive of ~500 MB (5 layers: files of the host's /usr/share, /usr/lib
#    and /usr/bin, big generated files, and a small top layer with whiteouts), generated once
#    and kept under /var/cache/pier-bench, in two forms: `plain` (uncompressed layer.tar, as
#    `docker save` writes it) and `gzip` (each layer.tar gzip-compressed). N times each, in
#    turn, every run into a fresh data root and after `sync` and dropping the page cache:
#      pier    `archive::load` into a fresh ImageStore (crates/image/examples/load_bench.rs)
#      tar     `tar -xf` (`-xzf`) of the same layer files into fresh directories, one after
#              the other: the floor
#      docker  `docker load -i` into a private dockerd 20.10, a new one per run with a fresh
#              data root (started before the clock starts), in a network namespace of this
#              script's; the client is /usr/bin/docker
#      podman  `podman load -i` with its own --root/--runroot/--tmpdir (and TMPDIR) per run,
#              overlay driver (vfs if overlay does not work here: the report says which)
#    Each is timed from outside (process start to exit), and again up to the end of a `sync`
#    that follows it: pier syncfs()s every layer it unpacks, the others leave their writes
#    to the kernel. MB/s is the layers' uncompressed tar bytes (10^6 bytes per MB) over the
#    time.
# 2. Rootfs setup: pier's create_snapshot + overlay mount + unmount + remove_snapshot of that
#    image, against `docker create` + `docker rm` through dockerd's API (no CLI start-up):
#    dockerd 20.10's create makes the init layer (mounted once to write /etc/hosts and the
#    like) and the container's layer (mounted once to make the working directory), and
#    writes the container's config; rm removes them. podman is left out of this part.
#
# PIER_BENCH_DROP_CACHES=0 keeps the page cache (only `sync` before each run);
# PIER_BENCH_SETUPS (default 100) is the number of rootfs setups timed.
set -euo pipefail
self=$(realpath "$0")
cd "$(dirname "$self")/.."
runs="${1:-3}"
formats="${2:-both}"
case "$formats" in
  both) formats="plain gzip" ;;
  plain | gzip) ;;
  *) echo "usage: bench/images.sh [N] [plain|gzip|both]" >&2; exit 2 ;;
esac
setups="${PIER_BENCH_SETUPS:-100}"
drop_caches="${PIER_BENCH_DROP_CACHES:-1}"
if [ "$(id -u)" != 0 ]; then echo "bench/images.sh: run as root" >&2; exit 1; fi

scripts/deps.sh
if ! command -v dockerd >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null
fi
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/pier-target}"
cargo build --release -q -p pier-image --example load_bench
load_bench="$CARGO_TARGET_DIR/release/examples/load_bench"
# The client of the Debian daemon, whatever else is first on PATH.
docker_cli=/usr/bin/docker
[ -x "$docker_cli" ] || docker_cli=$(command -v docker)

# The generated image; bump the version when what is generated changes.
cache_version=images-v2
cache=/var/cache/pier-bench/$cache_version

# --- state of this run, and its removal however the run ends -------------------------------
work=$(mktemp -d /var/tmp/pier-bench-images.XXXXXX)
netns="pier-bench-images-$$"
dockerd_pid=""
sock="$work/docker.sock"
made_dirs=()

# Unmounts everything at or below $1, deepest first.
unmount_under() {
  local m
  awk -v d="$1" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo |
    sort -r | while read -r m; do
      umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
    done
}

stop_dockerd() {
  [ -n "$dockerd_pid" ] || return 0
  local containerd
  containerd=$(cat "$work/docker-exec/containerd/containerd.pid" 2>/dev/null || true)
  kill -TERM "$dockerd_pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$dockerd_pid" 2>/dev/null || true
  wait "$dockerd_pid" 2>/dev/null || true
  # dockerd stops the containerd it started; if it was killed, that containerd is left.
  if [ -n "$containerd" ] && kill -0 "$containerd" 2>/dev/null &&
    grep -q containerd "/proc/$containerd/comm" 2>/dev/null; then
    kill -TERM "$containerd" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$containerd" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$containerd" 2>/dev/null || true
  fi
  dockerd_pid=""
  unmount_under "$work/docker-exec"
  rm -rf "$work/docker-exec"
}

cleanup() {
  set +e
  stop_dockerd
  unmount_under "$work"
  ip netns delete "$netns" 2>/dev/null
  rm -rf "$work" "$cache.partial"
  for d in "${made_dirs[@]}"; do rmdir "$d"; done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- the image, made once ----------------------------------------------------------------
if [ ! -e "$cache/info.json" ]; then
  echo "generating the image under $cache (once)" >&2
  # Older versions go.
  find /var/cache/pier-bench -maxdepth 1 -name 'images-v*' ! -name "$cache_version" -exec rm -rf {} + 2>/dev/null || true
  rm -rf "$cache" "$cache.partial"
  mkdir -p "$cache.partial"
  python3 - "$cache.partial" <<'PY'
import hashlib, io, json, os, random, stat, subprocess, sys, tarfile

out = sys.argv[1]
MiB = 1 << 20
os.makedirs(f"{out}/layers", exist_ok=True)

class Layer:
    """One layer tar: host files up to a byte budget, parents made as needed."""
    def __init__(self, n):
        self.name = f"layers/layer{n}.tar"
        self.path = f"{out}/{self.name}"
        self.tar = tarfile.open(self.path, "w", format=tarfile.PAX_FORMAT)
        self.dirs, self.files, self.file_bytes, self.entries = set(), [], 0, 0

    def _owned(self, ti):
        ti.uid = ti.gid = 0
        ti.uname = ti.gname = "root"
        ti.mtime = int(ti.mtime)  # a float mtime costs a pax header per entry
        return ti

    def _parents(self, arc, src):
        parts = arc.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            d = "/".join(parts[:i])
            if d not in self.dirs:
                self.dirs.add(d)
                srcdir = src[: len(src) - len(arc)] + d if src and src.endswith(arc) else None
                if srcdir and os.path.isdir(srcdir):
                    ti = self._owned(self.tar.gettarinfo(srcdir, d))
                else:
                    ti = tarfile.TarInfo(d)
                    ti.type, ti.mode, ti.mtime = tarfile.DIRTYPE, 0o755, 1700000000
                self.tar.addfile(ti)
                self.entries += 1

    def host(self, src_root, arc_root, budget, max_file=16 * MiB):
        for dirpath, dirnames, filenames in os.walk(src_root):
            dirnames.sort()
            for name in sorted(filenames):
                if self.file_bytes + 64 * 1024 > budget:
                    return
                src = os.path.join(dirpath, name)
                arc = arc_root + src[len(src_root):]
                st = os.lstat(src)
                if stat.S_ISREG(st.st_mode):
                    if st.st_size > max_file or self.file_bytes + st.st_size > budget:
                        continue
                elif not stat.S_ISLNK(st.st_mode):
                    continue
                self._parents(arc, src)
                ti = self._owned(self.tar.gettarinfo(src, arc))
                if ti.isreg():
                    with open(src, "rb") as f:
                        self.tar.addfile(ti, f)
                    self.file_bytes += ti.size
                    self.files.append(arc)
                else:
                    self.tar.addfile(ti)
                self.entries += 1

    def data(self, arc, payload, mode=0o644):
        self._parents(arc, None)
        ti = tarfile.TarInfo(arc)
        ti.size, ti.mode, ti.mtime = len(payload), mode, 1700000000
        self.tar.addfile(ti, io.BytesIO(payload))
        self.file_bytes += len(payload)
        self.files.append(arc)
        self.entries += 1

    def close(self):
        self.tar.close()

def text(rng, size):
    """Text-like bytes, about 3:1 under gzip."""
    words = [("w%x" % rng.getrandbits(20)).encode() + b"abcdefgh"[: i % 4] for i in range(4096)]
    chunks, n = [], 0
    while n < size:
        line = b" ".join(rng.choices(words, k=12)) + b"\n"
        chunks.append(line)
        n += len(line)
    return b"".join(chunks)[:size]

rng = random.Random(20261128)
made = []
# 1: many small files (documentation, manuals, locales, data)
l = Layer(1); l.host("/usr/share", "usr/share", 160 * MiB, max_file=256 * 1024); l.close(); made.append(("usr/share", l))
# 2: libraries, Python modules
l = Layer(2)
for src in ["/usr/lib/python3", "/usr/lib/python3.11", "/usr/lib/x86_64-linux-gnu"]:
    if os.path.isdir(src):
        l.host(src, src.lstrip("/"), 140 * MiB)
l.close(); made.append(("usr/lib", l))
# 3: executables
l = Layer(3)
for src in ["/usr/bin", "/usr/sbin"]:
    l.host(src, src.lstrip("/"), 90 * MiB)
l.close(); made.append(("usr/bin", l))
# 4: a few big files: incompressible (media, archives) and text-like (logs, data)
l = Layer(4)
for i in range(2):
    l.data(f"opt/data/random{i}.bin", rng.randbytes(32 * MiB))
l.data("opt/data/text.dat", text(rng, 48 * MiB))
l.close(); made.append(("opt/data", l))
# 5: configuration, a few files deleted and a directory replaced from the layers below
l = Layer(5)
l.host("/etc", "etc", 4 * MiB, max_file=MiB)
for arc in made[0][1].files[100:120]:
    d, name = os.path.split(arc)
    l.data(f"{d}/.wh.{name}", b"")
opaque = os.path.dirname(made[1][1].files[len(made[1][1].files) // 2])
l.data(f"{opaque}/.wh..wh..opq", b"")
l.data(f"{opaque}/replaced", b"the directory's former contents are hidden\n")
l.data(made[2][1].files[0], b"#!/bin/sh\necho replaced\n", 0o755)
l.close(); made.append(("top", l))

# Both forms of each layer: the tar, and gzip -6 of it (made two at a time).
procs = [subprocess.Popen(["gzip", "-6", "-n", "-k", "-f", l.path]) for _, l in made]
layers = []
for (what, l), p in zip(made, procs):
    h = hashlib.sha256()
    with open(l.path, "rb") as f:
        while chunk := f.read(MiB):
            h.update(chunk)
    if p.wait() != 0:
        sys.exit("gzip failed")
    layers.append({"what": what, "diff_id": "sha256:" + h.hexdigest(), "tar": l.name,
                   "tar_bytes": os.path.getsize(l.path), "gz": l.name + ".gz",
                   "gz_bytes": os.path.getsize(l.path + ".gz"), "entries": l.entries,
                   "files": len(l.files), "file_bytes": l.file_bytes})

created = "2026-11-28T00:00:00Z"
config = json.dumps({
    "architecture": "amd64", "os": "linux", "created": created,
    "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
               "Cmd": ["/bin/sh"]},
    "rootfs": {"type": "layers", "diff_ids": [x["diff_id"] for x in layers]},
    "history": [{"created": created, "created_by": f"pier bench: {x['what']}"} for x in layers],
}, separators=(",", ":")).encode()
config_name = hashlib.sha256(config).hexdigest() + ".json"
tag = "pier-bench/images:500m"

def archive(path, key):
    with tarfile.open(path + ".tmp", "w", format=tarfile.PAX_FORMAT) as t:
        def put(name, payload=None, src=None):
            ti = tarfile.TarInfo(name)
            ti.mtime, ti.mode = 1700000000, 0o644
            if src:
                ti.size = os.path.getsize(src)
                with open(src, "rb") as f:
                    t.addfile(ti, f)
            else:
                ti.size = len(payload)
                t.addfile(ti, io.BytesIO(payload))
        names = []
        for x in layers:
            d = x["diff_id"][len("sha256:"):]
            dt = tarfile.TarInfo(d); dt.type, dt.mode, dt.mtime = tarfile.DIRTYPE, 0o755, 1700000000
            t.addfile(dt)
            put(f"{d}/layer.tar", src=f"{out}/{x[key]}")
            names.append(f"{d}/layer.tar")
        put(config_name, config)
        put("manifest.json", json.dumps([{"Config": config_name, "RepoTags": [tag],
                                          "Layers": names}]).encode())
    os.rename(path + ".tmp", path)

archive(f"{out}/plain.tar", "tar")
archive(f"{out}/gzip.tar", "gz")
with open(f"{out}/info.json", "w") as f:
    json.dump({"tag": tag, "image_id": "sha256:" + config_name[:-5], "layers": layers}, f, indent=1)
PY
  mv "$cache.partial" "$cache"
fi
tag=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["tag"])' "$cache/info.json")

# dockerd with the data root $1, in this script's network namespace.
start_dockerd() {
  mkdir -p "$1" "$work/docker-exec"
  echo '{}' >"$work/daemon.json"
  nsenter --net="/run/netns/$netns" dockerd \
    --config-file "$work/daemon.json" --data-root "$1" --exec-root "$work/docker-exec" \
    --host "unix://$sock" --pidfile "$work/dockerd.pid" --storage-driver overlay2 \
    --bridge=none --iptables=false --ip6tables=false --ip-masq=false --log-level=error \
    >>"$work/dockerd.log" 2>&1 &
  dockerd_pid=$!
  for _ in $(seq 300); do
    if "$docker_cli" -H "unix://$sock" version >/dev/null 2>&1; then return 0; fi
    if ! kill -0 "$dockerd_pid" 2>/dev/null; then break; fi
    sleep 0.1
  done
  echo "dockerd did not start; its log:" >&2
  tail -20 "$work/dockerd.log" >&2
  exit 1
}

ip netns add "$netns"
nsenter --net="/run/netns/$netns" ip link set lo up

# podman keeps a cache of blob digests in /var/lib/containers/cache whatever --root says: each
# podman here gets one of its own, bound over that directory in a mount namespace of its own.
for d in /var/lib/containers /var/lib/containers/cache; do
  if [ ! -d "$d" ]; then mkdir -m 0700 "$d" && made_dirs=("$d" "${made_dirs[@]}"); fi
done
podman_in() { # dir, podman's arguments...
  local r=$1
  shift
  mkdir -p "$r/tmp" "$r/cache"
  TMPDIR="$r/tmp" unshare --mount --propagation private \
    sh -c 'mount --bind "$0" /var/lib/containers/cache && exec "$@"' "$r/cache" \
    podman --root "$r/root" --runroot "$r/run" --tmpdir "$r/libpod-tmp" \
    --storage-driver "$podman_driver" --cgroup-manager cgroupfs --events-backend none "$@"
}

# overlay if podman can use it here, else vfs.
podman_driver=overlay
if ! podman_in "$work/podman-probe" images >/dev/null 2>"$work/podman-probe.err"; then
  echo "podman: the overlay driver does not work here ($(tail -1 "$work/podman-probe.err")); using vfs" >&2
  podman_driver=vfs
fi
unmount_under "$work/podman-probe"
rm -rf "$work/podman-probe"

quiesce() {
  sync
  if [ "$drop_caches" = 1 ]; then echo 3 >/proc/sys/vm/drop_caches; fi
}

now_us() { echo $(($(date +%s%N) / 1000)); }

# Times "$@" (output to $work/out), then the sync after it; appends a line to $work/times.
timed() {
  local format=$1 tool=$2
  shift 2
  quiesce
  local t0 t1 t2
  t0=$(now_us)
  "$@" >"$work/out" 2>"$work/err" || {
    echo "$tool ($format) failed:" >&2
    cat "$work/err" >&2
    exit 1
  }
  t1=$(now_us)
  sync
  t2=$(now_us)
  echo "$format $tool $((t1 - t0)) $((t2 - t0))" >>"$work/times"
}

read -r -a layer_tars <<<"$(python3 -c 'import json,sys; print(" ".join(x["tar"] for x in json.load(open(sys.argv[1]))["layers"]))' "$cache/info.json")"
tar_layers() { # format, destination
  local i f
  for i in "${!layer_tars[@]}"; do
    f=$cache/${layer_tars[$i]}
    mkdir -p "$2/$i"
    if [ "$1" = gzip ]; then tar -xzf "$f.gz" -C "$2/$i"; else tar -xf "$f" -C "$2/$i"; fi
  done
}

: >"$work/times"
: >"$work/pier-inproc"
for run in $(seq "$runs"); do
  for format in $formats; do
    archive="$cache/$format.tar"
    echo "run $run/$runs, $format: pier tar docker podman" >&2

    timed "$format" pier "$load_bench" load "$work/pier" "$archive"
    sed -n "s/^load_ms=\([0-9.]*\).*/$format \1/p" "$work/out" >>"$work/pier-inproc"
    rm -rf "$work/pier"

    timed "$format" tar tar_layers "$format" "$work/tar"
    rm -rf "$work/tar"

    start_dockerd "$work/docker"
    timed "$format" docker "$docker_cli" -H "unix://$sock" load -q -i "$archive"
    stop_dockerd
    unmount_under "$work/docker"
    rm -rf "$work/docker"

    timed "$format" podman podman_in "$work/podman" load -q -i "$archive"
    unmount_under "$work/podman"
    rm -rf "$work/podman"
  done
done

# --- rootfs setup -------------------------------------------------------------------------
echo "rootfs setup: $setups times each" >&2
quiesce
"$load_bench" snapshot "$work/pier" "$cache/plain.tar" "$setups" >"$work/pier-setup"
unmount_under "$work/pier"
rm -rf "$work/pier"
start_dockerd "$work/docker"
"$docker_cli" -H "unix://$sock" load -q -i "$cache/plain.tar" >/dev/null
python3 - "$sock" "$tag" "$setups" >"$work/docker-setup" <<'PY'
import http.client, json, socket, statistics, sys, time

sock, image, n = sys.argv[1], sys.argv[2], int(sys.argv[3])

class Unix(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(sock)

conn = Unix("docker")
def call(method, path, body=None, want=(200,)):
    headers = {"Content-Type": "application/json"} if body is not None else {}
    conn.request(method, "/v1.41" + path, body=json.dumps(body) if body is not None else None,
                 headers=headers)
    r = conn.getresponse()
    data = r.read()
    if r.status not in want:
        sys.exit(f"{method} {path}: {r.status} {data!r}")
    return data

spec = {"Image": image, "Cmd": ["true"], "NetworkDisabled": True,
        "HostConfig": {"NetworkMode": "none"}}
creates, removes = [], []
for i in range(10 + n):
    t0 = time.perf_counter()
    cid = json.loads(call("POST", "/containers/create", spec, (201,)))["Id"]
    t1 = time.perf_counter()
    call("DELETE", f"/containers/{cid}?v=1&force=1", want=(204,))
    t2 = time.perf_counter()
    if i >= 10:
        creates.append((t1 - t0) * 1e6)
        removes.append((t2 - t1) * 1e6)
totals = [c + r for c, r in zip(creates, removes)]
print(f"total={statistics.median(totals):.1f} create={statistics.median(creates):.1f} "
      f"rm={statistics.median(removes):.1f}")
PY
stop_dockerd
unmount_under "$work/docker"
rm -rf "$work/docker"

# --- report -------------------------------------------------------------------------------
python3 - "$cache/info.json" "$work/times" "$work/pier-inproc" "$work/pier-setup" \
  "$work/docker-setup" "$drop_caches" "$podman_driver" "$runs" <<'PY'
import json, statistics, sys

info, times, inproc, pier_setup, docker_setup, dropped, driver, runs = sys.argv[1:]
layers = json.load(open(info))["layers"]
tar_bytes = sum(x["tar_bytes"] for x in layers)
MB = 1e6
print(f"image: {len(layers)} layers, {sum(x['entries'] for x in layers)} entries, "
      f"{tar_bytes / MB:.0f} MB of uncompressed layer tars "
      f"({sum(x['file_bytes'] for x in layers) / MB:.0f} MB of file data); "
      f"gzip layers {sum(x['gz_bytes'] for x in layers) / MB:.0f} MB")
print(("page cache dropped" if dropped == "1" else "page cache kept, only sync") +
      f" before every run; podman storage driver: {driver}")

samples = {}
for line in open(times):
    fmt, tool, load, synced = line.split()
    samples.setdefault((fmt, tool), ([], []))
    samples[(fmt, tool)][0].append(int(load) / 1000)
    samples[(fmt, tool)][1].append(int(synced) / 1000)
print()
print(f"load: median of {runs} runs; MB/s = uncompressed layer tar MB / time; vs pier = time / pier's")
print(f"{'':6} {'':7} {'load':>10} {'MB/s':>7} {'vs pier':>8}   {'load+sync':>10} {'MB/s':>7} {'vs pier':>8}")
for fmt in dict.fromkeys(f for f, _ in samples):
    med = {t: (statistics.median(a), statistics.median(b)) for (f, t), (a, b) in samples.items() if f == fmt}
    for tool, (load, synced) in med.items():
        print(f"{fmt:<6} {tool:<7} {load:>7.0f} ms {tar_bytes / MB / (load / 1000):>7.1f} {load / med['pier'][0]:>8.2f}"
              f"   {synced:>7.0f} ms {tar_bytes / MB / (synced / 1000):>7.1f} {synced / med['pier'][1]:>8.2f}")
by_fmt = {}
for line in open(inproc):
    fmt, ms = line.split()
    by_fmt.setdefault(fmt, []).append(float(ms))
print("pier's archive::load alone (in-process): " +
      ", ".join(f"{f} {statistics.median(v):.0f} ms" for f, v in by_fmt.items()))

def fields(path):
    words = open(path).read().split()
    return {k: float(v) for k, v in (w.split("=") for w in words if "=" in w)}
p, d = fields(pier_setup), fields(docker_setup)
print()
print(f"rootfs setup of that image ({int(p['layers'])} layers): median of {int(p['iterations'])}")
print(f"pier    {p['total']:>9.0f} µs   snapshot {p['create']:.0f} + mount {p['mount']:.0f} + "
      f"unmount {p['unmount']:.0f} + remove {p['remove']:.0f} µs")
print(f"docker  {d['total']:>9.0f} µs   create {d['create']:.0f} + rm {d['rm']:.0f} µs (API)"
      f"   {d['total'] / p['total']:.1f}x pier")
PY
