//! Finding the host's cgroup layout (v1, hybrid or v2), this process's own cgroup in each
//! hierarchy, and from those the place of a container's cgroup.
//!
//! Everything here is a pure function of three inputs — the root of the cgroup filesystem,
//! the text of /proc/self/mountinfo and the text of /proc/self/cgroup — so that the logic is
//! tested on fake trees; [`detect_host`] only gathers the real inputs.

use std::ffi::OsStr;
use std::fs;
use std::path::{Component, Path, PathBuf};

use super::{CgroupError, CgroupPaths, CgroupVersion, UnifiedPath, V1Hierarchy};

/// Where the host mounts cgroups.
pub(super) const CGROUP_ROOT: &str = "/sys/fs/cgroup";

/// The host's cgroup layout as seen by this process.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Layout {
    pub version: CgroupVersion,
    /// v1: every mounted v1 hierarchy this process belongs to. Empty on v2.
    pub v1: Vec<V1Mount>,
    /// v2: the cgroup2 mount. v1: the hybrid "unified" cgroup2 mount, if any.
    pub unified: Option<UnifiedMount>,
}

/// One mounted v1 hierarchy.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct V1Mount {
    pub mountpoint: PathBuf,
    /// As /proc/self/cgroup lists them: "cpu", "cpuacct", "name=systemd"...
    pub controllers: Vec<String>,
    /// Host directory of this process's own cgroup in the hierarchy.
    pub own: PathBuf,
}

/// A mounted cgroup2 hierarchy.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct UnifiedMount {
    pub mountpoint: PathBuf,
    /// Host directory of this process's own cgroup in it.
    pub own: PathBuf,
}

/// Reads the real inputs and works out the layout.
pub(super) fn detect_host() -> Result<Layout, CgroupError> {
    let root = Path::new(CGROUP_ROOT);
    let stat = nix::sys::statfs::statfs(root)
        .map_err(|e| CgroupError::Detect(format!("statfs {CGROUP_ROOT}: {e}")))?;
    let version = if stat.filesystem_type() == nix::sys::statfs::CGROUP2_SUPER_MAGIC {
        CgroupVersion::V2
    } else {
        CgroupVersion::V1
    };
    let read = |p: &str| {
        fs::read_to_string(p).map_err(|e| CgroupError::Detect(format!("reading {p}: {e}")))
    };
    parse(
        root,
        version,
        &read("/proc/self/mountinfo")?,
        &read("/proc/self/cgroup")?,
    )
}

/// One line of /proc/self/mountinfo, the parts that matter here.
#[derive(Debug, Clone, PartialEq)]
struct MountEntry {
    /// The directory of the filesystem that is mounted (for cgroups: a cgroup path).
    root: String,
    mountpoint: PathBuf,
    fstype: String,
    super_options: Vec<String>,
}

fn parse_mountinfo(text: &str) -> Vec<MountEntry> {
    let mut entries = Vec::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        let Some(sep) = fields.iter().position(|f| *f == "-") else {
            continue;
        };
        if fields.len() < 5 || fields.len() < sep + 4 {
            continue;
        }
        entries.push(MountEntry {
            root: unescape(fields[3]),
            mountpoint: PathBuf::from(unescape(fields[4])),
            fstype: fields[sep + 1].to_string(),
            super_options: fields[sep + 3].split(',').map(str::to_string).collect(),
        });
    }
    entries
}

/// Undoes mountinfo's octal escapes (`\040` for a space...).
fn unescape(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 4 <= bytes.len() {
            let digits = &bytes[i + 1..i + 4];
            if digits.iter().all(|d| (b'0'..=b'7').contains(d)) {
                let value = digits
                    .iter()
                    .fold(0u32, |acc, d| acc * 8 + u32::from(d - b'0'));
                if let Ok(byte) = u8::try_from(value) {
                    out.push(byte);
                    i += 4;
                    continue;
                }
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// One line of /proc/self/cgroup.
struct ProcCgroup<'a> {
    id: &'a str,
    controllers: Vec<&'a str>,
    path: &'a str,
}

fn parse_proc_cgroup(text: &str) -> Vec<ProcCgroup<'_>> {
    text.lines()
        .filter_map(|line| {
            let mut parts = line.splitn(3, ':');
            let id = parts.next()?;
            let controllers = parts.next()?;
            let path = parts.next()?;
            Some(ProcCgroup {
                id,
                controllers: controllers.split(',').filter(|c| !c.is_empty()).collect(),
                path,
            })
        })
        .collect()
}

/// The host directory of cgroup `cgroup_path` in a hierarchy mounted at `mount` whose
/// mounted directory is `mount_root` (not "/" when only a subtree is mounted).
fn host_dir(mount: &MountEntry, cgroup_path: &str) -> PathBuf {
    let root = mount.root.trim_end_matches('/');
    let rel = match cgroup_path.strip_prefix(root) {
        Some(rest) if root.is_empty() || rest.is_empty() || rest.starts_with('/') => rest,
        _ => cgroup_path,
    };
    let rel = rel.trim_start_matches('/');
    if rel.is_empty() {
        mount.mountpoint.clone()
    } else {
        mount.mountpoint.join(rel)
    }
}

/// Picks, among `candidates`, the mount to use for a cgroup path: one under `root` first,
/// then one whose mounted subtree holds the path.
fn best_mount<'a>(
    candidates: impl Iterator<Item = &'a MountEntry>,
    root: &Path,
    cgroup_path: &str,
) -> Option<&'a MountEntry> {
    let score = |m: &MountEntry| {
        let under_root = m.mountpoint.starts_with(root);
        let holds = {
            let r = m.root.trim_end_matches('/');
            r.is_empty()
                || cgroup_path == r
                || cgroup_path
                    .strip_prefix(r)
                    .is_some_and(|rest| rest.starts_with('/'))
        };
        (under_root as u8) * 2 + holds as u8
    };
    let mut best: Option<&MountEntry> = None;
    for m in candidates {
        if best.is_none_or(|b| score(m) > score(b)) {
            best = Some(m);
        }
    }
    best
}

/// Works out the layout from the three inputs.
pub(super) fn parse(
    root: &Path,
    version: CgroupVersion,
    mountinfo: &str,
    self_cgroup: &str,
) -> Result<Layout, CgroupError> {
    let mounts = parse_mountinfo(mountinfo);
    let lines = parse_proc_cgroup(self_cgroup);
    let v2_line = lines
        .iter()
        .find(|l| l.id == "0" && l.controllers.is_empty());
    let cgroup2_mounts = || mounts.iter().filter(|m| m.fstype == "cgroup2");

    match version {
        CgroupVersion::V2 => {
            let line = v2_line.ok_or_else(|| {
                CgroupError::Detect(
                    "cgroup v2 is mounted but /proc/self/cgroup has no \"0::\" line".into(),
                )
            })?;
            // The mount at the root; a tree that is not in mountinfo (tests) is taken whole.
            let whole = MountEntry {
                root: "/".into(),
                mountpoint: root.to_path_buf(),
                fstype: "cgroup2".into(),
                super_options: Vec::new(),
            };
            let mount = cgroup2_mounts()
                .find(|m| m.mountpoint == root)
                .unwrap_or(&whole);
            Ok(Layout {
                version,
                v1: Vec::new(),
                unified: Some(UnifiedMount {
                    mountpoint: root.to_path_buf(),
                    own: host_dir(mount, line.path),
                }),
            })
        }
        CgroupVersion::V1 => {
            let mut v1 = Vec::new();
            for line in lines
                .iter()
                .filter(|l| l.id != "0" && !l.controllers.is_empty())
            {
                let candidates = mounts.iter().filter(|m| {
                    m.fstype == "cgroup"
                        && line
                            .controllers
                            .iter()
                            .all(|c| m.super_options.iter().any(|o| o == c))
                });
                let Some(mount) = best_mount(candidates, root, line.path) else {
                    continue; // a hierarchy that is not mounted cannot be used
                };
                if v1
                    .iter()
                    .any(|h: &V1Mount| h.mountpoint == mount.mountpoint)
                {
                    continue;
                }
                v1.push(V1Mount {
                    mountpoint: mount.mountpoint.clone(),
                    controllers: line.controllers.iter().map(|c| c.to_string()).collect(),
                    own: host_dir(mount, line.path),
                });
            }
            if v1.is_empty() {
                return Err(CgroupError::Detect(format!(
                    "{} is not a cgroup2 mount and no cgroup v1 hierarchy is mounted",
                    root.display()
                )));
            }
            let unified = v2_line.and_then(|line| {
                best_mount(cgroup2_mounts(), root, line.path).map(|m| UnifiedMount {
                    mountpoint: m.mountpoint.clone(),
                    own: host_dir(m, line.path),
                })
            });
            Ok(Layout {
                version,
                v1,
                unified,
            })
        }
    }
}

/// Where a container's cgroup goes, relative to a hierarchy.
#[derive(Debug, Clone, PartialEq)]
enum Target {
    /// Beneath this process's own cgroup.
    BelowOwn(PathBuf),
    /// From the root of the hierarchy.
    FromRoot(PathBuf),
}

impl Target {
    fn new(cgroups_path: Option<&Path>, id: &str) -> Result<Target, CgroupError> {
        let bad_id = |reason: &str| CgroupError::InvalidPath {
            path: PathBuf::from(id),
            reason: format!("container id {reason}"),
        };
        if id.is_empty() {
            return Err(bad_id("is empty"));
        }
        if id == "." || id == ".." || id.contains('/') || id.contains('\0') {
            return Err(bad_id("cannot be a directory name"));
        }
        let Some(path) = cgroups_path else {
            return Ok(Target::BelowOwn(Path::new("pier").join(id)));
        };
        // Lexically cleaned as runc does: ".." never climbs above where the path starts.
        let mut absolute = false;
        let mut parts: Vec<&OsStr> = Vec::new();
        for component in path.components() {
            match component {
                Component::RootDir => absolute = true,
                Component::CurDir | Component::Prefix(_) => {}
                Component::ParentDir => {
                    parts.pop();
                }
                Component::Normal(p) => parts.push(p),
            }
        }
        if parts.is_empty() {
            return Err(CgroupError::InvalidPath {
                path: path.to_path_buf(),
                reason: "names no cgroup below its start".into(),
            });
        }
        let rel: PathBuf = parts.iter().collect();
        Ok(if absolute {
            Target::FromRoot(rel)
        } else {
            Target::BelowOwn(rel)
        })
    }

    fn place(&self, mountpoint: &Path, own: &Path) -> PathBuf {
        match self {
            Target::BelowOwn(rel) => own.join(rel),
            Target::FromRoot(rel) => mountpoint.join(rel),
        }
    }

    /// The existing cgroup at and below which pier may change things (v2 subtree_control).
    fn base(&self, mountpoint: &Path, own: &Path) -> PathBuf {
        match self {
            Target::BelowOwn(_) => own.to_path_buf(),
            Target::FromRoot(_) => mountpoint.to_path_buf(),
        }
    }
}

impl Layout {
    /// The paths of a container's cgroup in every hierarchy (nothing is created).
    pub(super) fn container_paths(
        &self,
        cgroups_path: Option<&Path>,
        id: &str,
    ) -> Result<CgroupPaths, CgroupError> {
        let target = Target::new(cgroups_path, id)?;
        let hierarchies = self
            .v1
            .iter()
            .map(|h| V1Hierarchy {
                mountpoint: h.mountpoint.clone(),
                controllers: h.controllers.clone(),
                path: target.place(&h.mountpoint, &h.own),
            })
            .collect();
        let unified = self.unified.as_ref().map(|u| UnifiedPath {
            mountpoint: u.mountpoint.clone(),
            path: target.place(&u.mountpoint, &u.own),
            base: target.base(&u.mountpoint, &u.own),
        });
        Ok(CgroupPaths {
            version: self.version,
            hierarchies,
            unified,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// This machine's layout: hybrid v1, memory nested, others at the root.
    const HYBRID_MOUNTINFO: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";
    const HYBRID_SELF: &str = "\
9:name=systemd:/
8:pids:/
7:blkio:/
6:freezer:/
5:devices:/
4:memory:/process_api/abc
3:cpuset:/
2:cpuacct:/
1:cpu:/
0::/
";

    fn hybrid() -> Layout {
        parse(
            Path::new(CGROUP_ROOT),
            CgroupVersion::V1,
            HYBRID_MOUNTINFO,
            HYBRID_SELF,
        )
        .unwrap()
    }

    fn v1_path<'a>(p: &'a CgroupPaths, controller: &str) -> &'a Path {
        &p.hierarchies
            .iter()
            .find(|h| h.controllers.iter().any(|c| c == controller))
            .unwrap()
            .path
    }

    #[test]
    fn hybrid_layout_is_found_per_controller() {
        let l = hybrid();
        assert_eq!(l.version, CgroupVersion::V1);
        assert_eq!(l.v1.len(), 9);
        let mem = l.v1.iter().find(|h| h.controllers == ["memory"]).unwrap();
        assert_eq!(mem.own, Path::new("/sys/fs/cgroup/memory/process_api/abc"));
        let sysd =
            l.v1.iter()
                .find(|h| h.controllers == ["name=systemd"])
                .unwrap();
        assert_eq!(sysd.mountpoint, Path::new("/sys/fs/cgroup/systemd"));
        assert_eq!(
            l.unified,
            Some(UnifiedMount {
                mountpoint: "/sys/fs/cgroup/unified".into(),
                own: "/sys/fs/cgroup/unified".into(),
            })
        );
    }

    #[test]
    fn default_place_is_own_pier_id_per_controller() {
        let p = hybrid().container_paths(None, "c1").unwrap();
        assert_eq!(
            v1_path(&p, "memory"),
            Path::new("/sys/fs/cgroup/memory/process_api/abc/pier/c1")
        );
        assert_eq!(
            v1_path(&p, "pids"),
            Path::new("/sys/fs/cgroup/pids/pier/c1")
        );
        assert_eq!(
            v1_path(&p, "name=systemd"),
            Path::new("/sys/fs/cgroup/systemd/pier/c1")
        );
        let u = p.unified.unwrap();
        assert_eq!(u.path, Path::new("/sys/fs/cgroup/unified/pier/c1"));
        assert_eq!(u.base.to_str(), Some("/sys/fs/cgroup/unified"));
        assert_eq!(u.mountpoint, Path::new("/sys/fs/cgroup/unified"));
    }

    #[test]
    fn relative_and_absolute_paths_as_runc() {
        let l = hybrid();
        let rel = l
            .container_paths(Some(Path::new("testrunc/ctr1")), "x")
            .unwrap();
        assert_eq!(
            v1_path(&rel, "memory"),
            Path::new("/sys/fs/cgroup/memory/process_api/abc/testrunc/ctr1")
        );
        assert_eq!(
            v1_path(&rel, "cpu"),
            Path::new("/sys/fs/cgroup/cpu/testrunc/ctr1")
        );
        let abs = l
            .container_paths(Some(Path::new("/testrunc2/c")), "x")
            .unwrap();
        assert_eq!(
            v1_path(&abs, "memory"),
            Path::new("/sys/fs/cgroup/memory/testrunc2/c")
        );
        // ".." cannot climb out
        let up = l
            .container_paths(Some(Path::new("../../etc/./x")), "x")
            .unwrap();
        assert_eq!(
            v1_path(&up, "memory"),
            Path::new("/sys/fs/cgroup/memory/process_api/abc/etc/x")
        );
    }

    #[test]
    fn bad_ids_and_empty_paths_are_refused() {
        let l = hybrid();
        for id in ["", ".", "..", "a/b"] {
            assert!(matches!(
                l.container_paths(None, id),
                Err(CgroupError::InvalidPath { .. })
            ));
        }
        for p in ["/", "..", ".", ""] {
            assert!(matches!(
                l.container_paths(Some(Path::new(p)), "x"),
                Err(CgroupError::InvalidPath { .. })
            ));
        }
    }

    #[test]
    fn joined_controllers_and_subtree_mounts() {
        // cpu,cpuacct joined; a nested container seeing only its subtree (mount root != /).
        let mi = "\
1 0 0:1 / /sys/fs/cgroup ro - tmpfs tmpfs rw
2 1 0:2 /docker/abc /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct
3 1 0:3 /docker/abc /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
4 1 0:4 /docker/abc /sys/fs/cgroup/weird\\040dir rw - cgroup cgroup rw,pids
";
        let me = "3:pids:/docker/abc/x\n2:cpu,cpuacct:/docker/abc\n1:memory:/docker/abc/sub\n";
        let l = parse(Path::new(CGROUP_ROOT), CgroupVersion::V1, mi, me).unwrap();
        let cpu = l.v1.iter().find(|h| h.controllers.len() == 2).unwrap();
        assert_eq!(cpu.controllers, ["cpu", "cpuacct"]);
        assert_eq!(cpu.own, Path::new("/sys/fs/cgroup/cpu,cpuacct"));
        let mem = l.v1.iter().find(|h| h.controllers == ["memory"]).unwrap();
        assert_eq!(mem.own, Path::new("/sys/fs/cgroup/memory/sub"));
        let pids = l.v1.iter().find(|h| h.controllers == ["pids"]).unwrap();
        assert_eq!(pids.own, Path::new("/sys/fs/cgroup/weird dir/x"));
        assert!(l.unified.is_none());
    }

    #[test]
    fn prefers_the_mount_under_the_root() {
        let mi = "\
1 0 0:2 / /mnt/elsewhere rw - cgroup cgroup rw,memory
2 0 0:2 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
";
        let l = parse(
            Path::new(CGROUP_ROOT),
            CgroupVersion::V1,
            mi,
            "1:memory:/a\n",
        )
        .unwrap();
        assert_eq!(l.v1.len(), 1);
        assert_eq!(l.v1[0].own, Path::new("/sys/fs/cgroup/memory/a"));
    }

    #[test]
    fn v2_layout_and_bases() {
        let mi = "30 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n";
        let me = "0::/system.slice/pier.service\n";
        let l = parse(Path::new(CGROUP_ROOT), CgroupVersion::V2, mi, me).unwrap();
        assert!(l.v1.is_empty());
        let p = l.container_paths(None, "c1").unwrap();
        assert_eq!(p.version, CgroupVersion::V2);
        assert!(p.hierarchies.is_empty());
        let u = p.unified.unwrap();
        assert_eq!(
            u.path,
            Path::new("/sys/fs/cgroup/system.slice/pier.service/pier/c1")
        );
        assert_eq!(
            u.base,
            Path::new("/sys/fs/cgroup/system.slice/pier.service")
        );
        let abs = l
            .container_paths(Some(Path::new("/docker/c1")), "c1")
            .unwrap();
        let u = abs.unified.unwrap();
        assert_eq!(u.path, Path::new("/sys/fs/cgroup/docker/c1"));
        assert_eq!(u.base, Path::new("/sys/fs/cgroup"));
    }

    #[test]
    fn v2_in_a_fake_root_without_mountinfo() {
        let l = parse(Path::new("/tmp/fake"), CgroupVersion::V2, "", "0::/a/b\n").unwrap();
        assert_eq!(l.unified.unwrap().own, Path::new("/tmp/fake/a/b"));
    }

    #[test]
    fn nothing_mounted_is_an_error() {
        assert!(matches!(
            parse(
                Path::new(CGROUP_ROOT),
                CgroupVersion::V1,
                "",
                "1:memory:/\n"
            ),
            Err(CgroupError::Detect(_))
        ));
        assert!(matches!(
            parse(
                Path::new(CGROUP_ROOT),
                CgroupVersion::V2,
                "",
                "1:memory:/\n"
            ),
            Err(CgroupError::Detect(_))
        ));
    }
}
