#!/usr/bin/env bash
# Makes an nginx image from Debian packages, so that pier and the docker tests have an
# `nginx` image without pulling anything from Docker Hub.
#
#   scripts/nginx-image.sh OUT.tar
#
# writes OUT.tar, a plain (uncompressed) tar of a root filesystem: debootstrap's minbase
# variant of the suite this machine's apt sources use, from the mirror they use, plus
# nginx-light (or nginx where there is no nginx-light). nginx serves Debian's welcome page
# (/var/www/html/index.nginx-debian.html) on port 80 and logs to stdout/stderr like the
# official image. Import it with:
#
#   pier import --change 'CMD ["nginx","-g","daemon off;"]' --change 'EXPOSE 80' OUT.tar nginx
#
# (`docker import` takes the same options; `--change 'STOPSIGNAL SIGQUIT'` makes stops
# graceful, as in the official image.)
#
# The tar is built once per suite and kept in ${PIER_NGINX_CACHE:-/var/cache/pier-nginx}
# as nginx-rootfs-<suite>.tar; later runs hard-link (or copy) it. Delete it to rebuild.
# PIER_NGINX_SUITE and PIER_NGINX_MIRROR override what is read from the apt sources.
# Runs as root.
set -euo pipefail

me=nginx-image.sh
say() { echo "$me: $*" >&2; }
die() { say "$*"; exit 1; }

if [ $# -ne 1 ] || [ -z "$1" ]; then die "usage: $0 OUT.tar"; fi
out=$1
[ "$(id -u)" = 0 ] || die "run as root (debootstrap needs it)"
export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8
export PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH"
cache=${PIER_NGINX_CACHE:-/var/cache/pier-nginx}

# debootstrap first: its list of known suites tells Debian entries from third-party ones.
if ! command -v debootstrap >/dev/null; then
  say "installing debootstrap"
  if ! apt-get install -y -qq debootstrap >/dev/null 2>&1; then
    apt-get update -qq >/dev/null
    apt-get install -y -qq debootstrap >/dev/null
  fi
fi
scripts_dir=/usr/share/debootstrap/scripts

# Prints "URI SUITE" for every deb entry of the apt sources, in apt's order: sources.list,
# then sources.list.d/*.list and *.sources by name. Both the one-line and the deb822 forms.
apt_entries() {
  local f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*; do
    [ -f "$f" ] || continue
    case $f in
      */sources.list | *.list)
        # deb [options] URI SUITE COMPONENT...
        sed -e 's/#.*//' -e 's/\[[^]]*\]//' "$f" |
          awk '$1 == "deb" && NF >= 4 {
                 main = 0; for (i = 4; i <= NF; i++) if ($i == "main") main = 1
                 if (main) print $2, $3 }'
        ;;
      *.sources)
        # Paragraphs of "Field: value" lines; continuation lines start with a blank, comment
        # lines with "#" (they do not end a paragraph).
        awk '
          function flush(   n, u, s, i, j, t, deb, main, c) {
            if (types != "" && tolower(enabled) != "no") {
              deb = 0; split(types, t, " "); for (i in t) if (t[i] == "deb") deb = 1
              main = 0; split(comps, c, " "); for (i in c) if (c[i] == "main") main = 1
              if (deb && main) {
                n = split(uris, u, " "); split(suites, s, " ")
                for (j = 1; j in s; j++) for (i = 1; i <= n; i++) print u[i], s[j]
              }
            }
            types = uris = suites = comps = enabled = ""; field = ""
          }
          /^#/ { next }
          /^[ \t]*$/ { flush(); next }
          /^[ \t]/ { if (field != "") val[field] = val[field] " " $0; set(); next }
          {
            field = tolower(substr($0, 1, index($0, ":") - 1))
            val[field] = substr($0, index($0, ":") + 1); set()
          }
          function set() {
            if (field == "types") types = val[field]
            else if (field == "uris") uris = val[field]
            else if (field == "suites") suites = val[field]
            else if (field == "components") comps = val[field]
            else if (field == "enabled") enabled = val[field]
            gsub(/^[ \t]+|[ \t]+$/, "", enabled)
          }
          END { flush() }' "$f"
        ;;
    esac
  done
}

# The first entry of the main archive: not security, not updates or backports, a suite
# debootstrap knows (that skips third-party repositories such as "nodistro").
pick_source() {
  local uri suite
  while read -r uri suite; do
    case $uri in http://* | https://* | ftp://* | file:/*) ;; *) continue ;; esac
    case $uri in *security*) continue ;; esac
    case $suite in
      */* | *-security | *-updates | *-backports*) continue ;;  # also *-proposed-updates
    esac
    [ -e "$scripts_dir/$suite" ] || continue
    echo "$uri $suite"
    return 0
  done < <(apt_entries)
  return 1
}

if [ -n "${PIER_NGINX_SUITE:-}" ] && [ -n "${PIER_NGINX_MIRROR:-}" ]; then
  mirror=$PIER_NGINX_MIRROR suite=$PIER_NGINX_SUITE
else
  source_line=$(pick_source) ||
    die "no Debian main-archive entry in /etc/apt/sources.list{,.d/*} (set PIER_NGINX_SUITE and PIER_NGINX_MIRROR)"
  read -r mirror suite <<<"$source_line"
  mirror=${PIER_NGINX_MIRROR:-$mirror} suite=${PIER_NGINX_SUITE:-$suite}
fi
cached="$cache/nginx-rootfs-$suite.tar"

# Puts the cached tar at OUT.tar, atomically: a hard link where OUT.tar is on the cache's
# file system (so OUT.tar is the cache's file: replace or delete it, never edit it in place),
# a copy elsewhere.
deliver() {
  local tmp_out
  if ! [ "$out" -ef "$cached" ]; then # (mv refuses to replace a file by itself)
    tmp_out=$(mktemp "$out.XXXXXX")
    if ! { ln -f "$cached" "$tmp_out" 2>/dev/null || cp "$cached" "$tmp_out"; } ||
      ! chmod 0444 "$tmp_out" || ! mv -f "$tmp_out" "$out"; then
      rm -f "$tmp_out"
      die "could not write $out"
    fi
  fi
  say "wrote $out ($(du -h --apparent-size "$out" | cut -f1), $suite from $mirror)"
}

if [ -f "$cached" ]; then
  say "using cached $cached"
  deliver
  exit 0
fi

mkdir -p "$cache"
# One build at a time; whoever waited finds the cache filled.
exec 9>"$cache/.lock"
if ! flock -n 9; then
  say "waiting for another build ($cache/.lock)"
  flock 9
fi
if [ -f "$cached" ]; then
  say "using cached $cached"
  deliver
  exit 0
fi

work=$(mktemp -d "$cache/.build.XXXXXX")
root="$work/rootfs"
tmp_tar=""

# Unmounts whatever is mounted at or below $1, deepest first.
unmount_below() {
  local dir m
  dir=$(realpath -m "$1")
  # /proc/self/mounts escapes blanks in mount points as octal (\040).
  local esc=${dir// /\\040}
  while read -r m; do
    m=$(printf '%b' "$m")
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || say "could not unmount $m"
  done < <(awk -v d="$esc" '$2 == d || index($2, d "/") == 1 { print $2 }' /proc/self/mounts |
    awk '{ print length($0), $0 }' | sort -rn | cut -d' ' -f2-)
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM HUP
  [ -z "$tmp_tar" ] || rm -f "$tmp_tar"
  if [ -d "$work" ]; then
    unmount_below "$work"
    if awk -v d="$work" 'index($2, d) == 1 { found = 1 } END { exit !found }' /proc/self/mounts; then
      say "something is still mounted under $work; leaving it there"
    else
      rm -rf --one-file-system "$work"
    fi
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

log="$work/debootstrap.log"

# Stage one downloads and unpacks; it runs in its own mount namespace so that any mount it
# makes goes away with it.
first_stage() {
  rm -rf --one-file-system "$root"
  mkdir -p "$root"
  unshare --mount --propagation private \
    debootstrap --foreign --variant=minbase --include="$1" "$suite" "$root" "$mirror" \
    >>"$log" 2>&1
}

pkg=""
for candidate in nginx-light nginx; do
  say "debootstrap --variant=minbase --include=$candidate $suite $mirror (downloading)"
  if first_stage "$candidate"; then
    pkg=$candidate
    break
  fi
  grep -q "Couldn't find these debs: $candidate" "$log" || break
  say "$suite has no $candidate"
done
if [ -z "$pkg" ]; then
  tail -n 20 "$log" >&2
  die "debootstrap failed (last 20 lines of its log above)"
fi

# Stage two configures the packages inside the rootfs. A policy-rc.d keeps maintainer
# scripts from starting nginx, and the new pid, mount and network namespaces make sure that
# nothing started there could listen on the host or outlive the build (--kill-child: not
# even when the build is interrupted), and that debootstrap's /proc and /sys mounts vanish
# with it.
say "configuring packages (debootstrap --second-stage)"
mkdir -p "$root/usr/sbin"
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 0755 "$root/usr/sbin/policy-rc.d"
if ! unshare --mount --propagation private --pid --fork --kill-child --net --ipc --uts \
  chroot "$root" /debootstrap/debootstrap --second-stage >>"$log" 2>&1; then
  tail -n 20 "$log" >&2
  die "debootstrap --second-stage failed (last 20 lines of its log above)"
fi
unmount_below "$root"

say "setting up nginx"
rm -f "$root/usr/sbin/policy-rc.d"
# sites-enabled/default links to an absolute path, which means the rootfs's own file.
site="$root/etc/nginx/sites-enabled/default"
if [ -L "$site" ]; then
  target=$(readlink "$site")
  case $target in
    /*) site="$root$target" ;;
    *) site="$root/etc/nginx/sites-enabled/$target" ;;
  esac
fi
[ -f "$site" ] || die "no /etc/nginx/sites-enabled/default in the rootfs"
grep -Eq '^[[:space:]]*listen[[:space:]]+80([[:space:]]|;)' "$site" ||
  die "/etc/nginx/sites-enabled/default does not listen on port 80"
grep -Eq '^[[:space:]]*root[[:space:]]+/var/www/html;' "$site" ||
  die "/etc/nginx/sites-enabled/default does not serve /var/www/html"
[ -f "$root/var/www/html/index.nginx-debian.html" ] ||
  die "no /var/www/html/index.nginx-debian.html in the rootfs"
[ -x "$root/usr/sbin/nginx" ] || die "no /usr/sbin/nginx in the rootfs"

# Logs go to the container's stdout and stderr, as in the official image.
mkdir -p "$root/var/log/nginx"
ln -sfn /dev/stdout "$root/var/log/nginx/access.log"
ln -sfn /dev/stderr "$root/var/log/nginx/error.log"
# Runtimes give containers these links; a plain chroot of the rootfs wants them too.
for link in fd:/proc/self/fd stdin:/proc/self/fd/0 stdout:/proc/self/fd/1 stderr:/proc/self/fd/2; do
  [ -e "$root/dev/${link%%:*}" ] || [ -L "$root/dev/${link%%:*}" ] ||
    ln -s "${link#*:}" "$root/dev/${link%%:*}"
done

# Smaller and free of this machine's details: no package caches or lists, no build logs,
# none of the host's name or resolv.conf, which debootstrap copies (runtimes provide both).
rm -rf "$root/debootstrap"
rm -f "$root"/var/cache/apt/archives/*.deb "$root"/var/cache/apt/archives/partial/*.deb \
  "$root"/var/cache/apt/*.bin
rm -rf "${root:?}"/var/lib/apt/lists/*
mkdir -p "$root/var/lib/apt/lists/partial"
rm -f "$root/var/log/bootstrap.log"
: >"$root/etc/resolv.conf"
echo localhost >"$root/etc/hostname"
chmod 0644 "$root/etc/resolv.conf" "$root/etc/hostname"
[ -e "$root/etc/hosts" ] ||
  printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"

say "writing $cached"
tmp_tar=$(mktemp "$cache/.nginx-rootfs-$suite.tar.XXXXXX")
tar --create --file "$tmp_tar" --directory "$root" --one-file-system --numeric-owner \
  --sort=name .
chmod 0444 "$tmp_tar"
mv -f "$tmp_tar" "$cached"
tmp_tar=""
deliver
