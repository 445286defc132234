//! The container's mounts: Docker's standard ones (from the runtime's profile), less those the
//! container replaces, then its binds, volumes and tmpfs mounts and the /etc files the engine
//! wrote, parents before children.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use oci_spec::runtime::Mount;

use super::binds::clean;
use super::error::{Result, SpecError};
use super::tmpfs;
use crate::containers::model::MountRecord;

/// A mount the engine resolved to a host path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedMount {
    /// Host path (unused for tmpfs).
    pub source: PathBuf,
    pub destination: PathBuf,
    pub read_only: bool,
    pub kind: MountKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MountKind {
    /// A host path: its propagation (`rprivate` by default), and whether the mounts beneath
    /// it come along (`rbind`).
    Bind {
        propagation: String,
        recursive: bool,
    },
    /// A volume's data directory.
    Volume,
    /// A tmpfs with these filesystem options (`size=64m,mode=1777`).
    Tmpfs { data: String },
}

/// The host paths of the files the engine wrote for the container's /etc.
#[derive(Debug, Clone, Copy)]
pub struct EtcFiles<'a> {
    pub hostname: &'a Path,
    pub hosts: &'a Path,
    pub resolv_conf: &'a Path,
}

/// The mounts of a container's record as the spec takes them. For a tmpfs record, `mode`
/// holds its filesystem options.
pub fn resolved_mounts(records: &[MountRecord]) -> Vec<ResolvedMount> {
    records
        .iter()
        .map(|record| {
            let options: Vec<&str> = record.mode.split(',').collect();
            let kind = match record.kind.as_str() {
                "volume" => MountKind::Volume,
                "tmpfs" => MountKind::Tmpfs {
                    data: record.mode.clone(),
                },
                _ => MountKind::Bind {
                    propagation: options
                        .iter()
                        .find(|o| PROPAGATIONS.contains(o))
                        .map_or(DEFAULT_PROPAGATION, |o| *o)
                        .to_owned(),
                    recursive: true,
                },
            };
            ResolvedMount {
                source: record.source.clone(),
                destination: PathBuf::from(&record.destination),
                read_only: !record.read_write,
                kind,
            }
        })
        .collect()
}

const PROPAGATIONS: &[&str] = &[
    "private", "rprivate", "shared", "rshared", "slave", "rslave",
];
const DEFAULT_PROPAGATION: &str = "rprivate";

/// What the container's /dev/shm is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shm<'a> {
    /// Its own tmpfs of this many bytes.
    Tmpfs(i64),
    /// A bind of a host path (the host's /dev/shm for `--ipc host`).
    Bind(&'a Path),
    /// None at all (`--ipc none`).
    Absent,
}

/// Everything that decides the container's mounts.
pub(crate) struct MountPlan<'a> {
    pub resolved: &'a [ResolvedMount],
    pub tmpfs: Option<&'a BTreeMap<String, String>>,
    pub etc: Option<EtcFiles<'a>>,
    pub shm: Shm<'a>,
    pub privileged: bool,
    pub readonly_rootfs: bool,
}

fn oci_mount(destination: &Path, typ: &str, source: &Path, options: Vec<String>) -> Mount {
    let mut mount = Mount::default();
    mount.set_destination(destination.to_path_buf());
    mount.set_typ(Some(typ.to_owned()));
    mount.set_source(Some(source.to_path_buf()));
    mount.set_options(Some(options));
    mount
}

fn bind_options(recursive: bool, read_only: bool, propagation: &str) -> Vec<String> {
    let mut options = vec![if recursive { "rbind" } else { "bind" }.to_owned()];
    if read_only {
        options.push("ro".to_owned());
    }
    if !propagation.is_empty() {
        options.push(propagation.to_owned());
    }
    options
}

/// Docker's check of a `HostConfig.Tmpfs` destination.
pub(crate) fn check_tmpfs_destination(destination: &str) -> Result<()> {
    if clean(destination) == Path::new("/") {
        return Err(SpecError::invalid(
            "invalid specification: destination can't be '/'",
        ));
    }
    if !destination.starts_with('/') {
        return Err(SpecError::invalid(format!(
            "invalid mount path: '{destination}' mount path must be absolute"
        )));
    }
    Ok(())
}

fn user_mounts(plan: &MountPlan) -> Result<Vec<Mount>> {
    let mut mounts = Vec::new();
    for resolved in plan.resolved {
        if !resolved.destination.is_absolute() {
            return Err(SpecError::Internal(format!(
                "mount destination {} is not absolute",
                resolved.destination.display()
            )));
        }
        let destination = clean(&resolved.destination.to_string_lossy());
        let mount = match &resolved.kind {
            MountKind::Bind {
                propagation,
                recursive,
            } => oci_mount(
                &destination,
                "bind",
                &resolved.source,
                bind_options(*recursive, resolved.read_only, propagation),
            ),
            MountKind::Volume => oci_mount(
                &destination,
                "bind",
                &resolved.source,
                bind_options(true, resolved.read_only, DEFAULT_PROPAGATION),
            ),
            MountKind::Tmpfs { data } => {
                let mut data = data.clone();
                if resolved.read_only && !data.split(',').any(|o| o == "ro") {
                    data = if data.is_empty() {
                        "ro".into()
                    } else {
                        format!("ro,{data}")
                    };
                }
                oci_mount(
                    &destination,
                    "tmpfs",
                    Path::new("tmpfs"),
                    tmpfs::options(&data)?,
                )
            }
        };
        mounts.push(mount);
    }
    for (destination, data) in plan.tmpfs.into_iter().flatten() {
        check_tmpfs_destination(destination)?;
        mounts.push(oci_mount(
            &clean(destination),
            "tmpfs",
            Path::new("tmpfs"),
            tmpfs::options(data)?,
        ));
    }
    let mut seen = HashSet::new();
    for mount in &mounts {
        if !seen.insert(mount.destination().clone()) {
            return Err(SpecError::invalid(format!(
                "Duplicate mount point: {}",
                mount.destination().display()
            )));
        }
    }
    if let Some(etc) = plan.etc {
        for (destination, source) in [
            ("/etc/resolv.conf", etc.resolv_conf),
            ("/etc/hostname", etc.hostname),
            ("/etc/hosts", etc.hosts),
        ] {
            if !seen.contains(Path::new(destination)) {
                mounts.push(oci_mount(
                    Path::new(destination),
                    "bind",
                    source,
                    bind_options(true, plan.readonly_rootfs, DEFAULT_PROPAGATION),
                ));
            }
        }
    }
    // Parents before children; otherwise in the order given.
    mounts.sort_by_key(|m| m.destination().components().count());
    Ok(mounts)
}

/// Mounts that stay writable with a read-only rootfs (Docker's list).
const WRITABLE_WITH_READONLY_ROOTFS: &[&str] =
    &["/proc", "/dev/pts", "/dev/shm", "/dev/mqueue", "/dev"];

fn without_option(mount: &mut Mount, option: &str) {
    if let Some(options) = mount.options().clone() {
        mount.set_options(Some(options.into_iter().filter(|o| o != option).collect()));
    }
}

fn with_option(mount: &mut Mount, option: &str) {
    let mut options = mount.options().clone().unwrap_or_default();
    if !options.iter().any(|o| o == option) {
        options.push(option.to_owned());
    }
    mount.set_options(Some(options));
}

/// The container's mount list, in the order they are made.
pub(crate) fn container_mounts(plan: &MountPlan) -> Result<Vec<Mount>> {
    let user = user_mounts(plan)?;
    let replaced: HashSet<PathBuf> = user.iter().map(|m| m.destination().clone()).collect();
    let replaces_dev = replaced.contains(Path::new("/dev"));
    let mut mounts = Vec::new();
    for mut mount in runtime::profile::default_mounts() {
        let destination = mount.destination().clone();
        if replaced.contains(&destination) || (replaces_dev && destination.starts_with("/dev")) {
            continue;
        }
        if destination == Path::new("/dev/shm") {
            match plan.shm {
                Shm::Absent => continue,
                Shm::Bind(source) => {
                    mount = oci_mount(
                        &destination,
                        "bind",
                        source,
                        bind_options(true, false, DEFAULT_PROPAGATION),
                    );
                }
                Shm::Tmpfs(size) => {
                    let mut options: Vec<String> = mount
                        .options()
                        .clone()
                        .unwrap_or_default()
                        .into_iter()
                        .filter(|o| !o.starts_with("size="))
                        .collect();
                    options.push(format!("size={size}"));
                    mount.set_options(Some(options));
                }
            }
        }
        let typ = mount.typ().clone().unwrap_or_default();
        if plan.privileged && (destination == Path::new("/sys") || typ == "cgroup") {
            without_option(&mut mount, "ro");
        }
        if plan.readonly_rootfs
            && !WRITABLE_WITH_READONLY_ROOTFS.contains(&destination.to_string_lossy().as_ref())
        {
            with_option(&mut mount, "ro");
        }
        mounts.push(mount);
    }
    mounts.extend(user);
    Ok(mounts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn destinations(mounts: &[Mount]) -> Vec<String> {
        mounts
            .iter()
            .map(|m| m.destination().to_string_lossy().into_owned())
            .collect()
    }

    fn find<'a>(mounts: &'a [Mount], destination: &str) -> &'a Mount {
        mounts
            .iter()
            .find(|m| m.destination() == Path::new(destination))
            .unwrap()
    }

    fn options(mount: &Mount) -> Vec<String> {
        mount.options().clone().unwrap()
    }

    fn plan<'a>(resolved: &'a [ResolvedMount]) -> MountPlan<'a> {
        MountPlan {
            resolved,
            tmpfs: None,
            etc: None,
            shm: Shm::Tmpfs(64 << 20),
            privileged: false,
            readonly_rootfs: false,
        }
    }

    fn bind(source: &str, destination: &str, read_only: bool) -> ResolvedMount {
        ResolvedMount {
            source: source.into(),
            destination: destination.into(),
            read_only,
            kind: MountKind::Bind {
                propagation: "rprivate".into(),
                recursive: true,
            },
        }
    }

    #[test]
    fn defaults_then_user_mounts_parents_first() {
        let resolved = [
            bind("/srv/a", "/data/inner", true),
            bind("/srv", "/data", false),
            ResolvedMount {
                source: "/var/lib/pier/volumes/v/_data".into(),
                destination: "/var/cache".into(),
                read_only: false,
                kind: MountKind::Volume,
            },
        ];
        let hosts = PathBuf::from("/c/hosts");
        let tmpfs = BTreeMap::from([("/run".to_owned(), "size=64m".to_owned())]);
        let mut plan = plan(&resolved);
        plan.tmpfs = Some(&tmpfs);
        plan.etc = Some(EtcFiles {
            hostname: Path::new("/c/hostname"),
            hosts: &hosts,
            resolv_conf: Path::new("/c/resolv.conf"),
        });
        let mounts = container_mounts(&plan).unwrap();
        assert_eq!(
            destinations(&mounts),
            [
                "/proc",
                "/dev",
                "/dev/pts",
                "/sys",
                "/sys/fs/cgroup",
                "/dev/mqueue",
                "/dev/shm",
                "/data",
                "/run",
                "/data/inner",
                "/var/cache",
                "/etc/resolv.conf",
                "/etc/hostname",
                "/etc/hosts"
            ]
        );
        assert_eq!(
            options(find(&mounts, "/data/inner")),
            ["rbind", "ro", "rprivate"]
        );
        assert_eq!(options(find(&mounts, "/var/cache")), ["rbind", "rprivate"]);
        assert_eq!(find(&mounts, "/etc/hosts").source().clone().unwrap(), hosts);
        assert_eq!(
            options(find(&mounts, "/run")),
            ["noexec", "nosuid", "nodev", "rprivate", "size=64m"]
        );
        assert_eq!(
            options(find(&mounts, "/dev/shm")),
            ["nosuid", "noexec", "nodev", "mode=1777", "size=67108864"]
        );
    }

    #[test]
    fn user_mounts_replace_defaults_and_etc_files() {
        let resolved = [
            bind("/host/dev", "/dev", false),
            bind("/r", "/etc/resolv.conf", true),
        ];
        let mut plan = plan(&resolved);
        plan.etc = Some(EtcFiles {
            hostname: Path::new("/c/hostname"),
            hosts: Path::new("/c/hosts"),
            resolv_conf: Path::new("/c/resolv.conf"),
        });
        let mounts = container_mounts(&plan).unwrap();
        let dests = destinations(&mounts);
        assert!(!dests.iter().any(|d| d.starts_with("/dev/")), "{dests:?}");
        assert_eq!(dests.iter().filter(|d| *d == "/etc/resolv.conf").count(), 1);
        assert_eq!(
            find(&mounts, "/etc/resolv.conf").source().clone().unwrap(),
            Path::new("/r")
        );
    }

    #[test]
    fn shm_follows_the_ipc_mode() {
        let none = container_mounts(&MountPlan {
            shm: Shm::Absent,
            ..plan(&[])
        })
        .unwrap();
        assert!(!destinations(&none).contains(&"/dev/shm".to_owned()));
        let host = container_mounts(&MountPlan {
            shm: Shm::Bind(Path::new("/dev/shm")),
            ..plan(&[])
        })
        .unwrap();
        let shm = find(&host, "/dev/shm");
        assert_eq!(shm.typ().as_deref(), Some("bind"));
        assert_eq!(shm.source().as_deref(), Some(Path::new("/dev/shm")));
    }

    #[test]
    fn privileged_and_read_only_rootfs() {
        let privileged = container_mounts(&MountPlan {
            privileged: true,
            ..plan(&[])
        })
        .unwrap();
        assert!(!options(find(&privileged, "/sys")).contains(&"ro".to_owned()));
        assert!(!options(find(&privileged, "/sys/fs/cgroup")).contains(&"ro".to_owned()));
        let resolved = [bind("/srv", "/data", false)];
        let mut readonly = plan(&resolved);
        readonly.readonly_rootfs = true;
        readonly.etc = Some(EtcFiles {
            hostname: Path::new("/c/hostname"),
            hosts: Path::new("/c/hosts"),
            resolv_conf: Path::new("/c/resolv.conf"),
        });
        let mounts = container_mounts(&readonly).unwrap();
        assert!(options(find(&mounts, "/sys")).contains(&"ro".to_owned()));
        assert!(!options(find(&mounts, "/dev/shm")).contains(&"ro".to_owned()));
        assert!(!options(find(&mounts, "/data")).contains(&"ro".to_owned()));
        assert!(options(find(&mounts, "/etc/hosts")).contains(&"ro".to_owned()));
    }

    #[test]
    fn duplicates_and_bad_tmpfs_destinations_are_refused() {
        let resolved = [bind("/a", "/x", false)];
        let tmpfs = BTreeMap::from([("/x/".to_owned(), String::new())]);
        let err = container_mounts(&MountPlan {
            tmpfs: Some(&tmpfs),
            ..plan(&resolved)
        })
        .unwrap_err();
        assert_eq!(err.to_string(), "Duplicate mount point: /x");
        let tmpfs = BTreeMap::from([("run".to_owned(), String::new())]);
        let err = container_mounts(&MountPlan {
            tmpfs: Some(&tmpfs),
            ..plan(&[])
        })
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid mount path: 'run' mount path must be absolute"
        );
    }

    #[test]
    fn records_become_resolved_mounts() {
        let records = [
            MountRecord {
                kind: "bind".into(),
                name: None,
                source: "/srv".into(),
                destination: "/data".into(),
                read_write: false,
                mode: "ro,rshared".into(),
                anonymous: false,
            },
            MountRecord {
                kind: "volume".into(),
                name: Some("v".into()),
                source: "/vol/_data".into(),
                destination: "/v".into(),
                read_write: true,
                mode: "z".into(),
                anonymous: false,
            },
        ];
        let resolved = resolved_mounts(&records);
        assert_eq!(
            resolved[0].kind,
            MountKind::Bind {
                propagation: "rshared".into(),
                recursive: true
            }
        );
        assert!(resolved[0].read_only);
        assert_eq!(resolved[1].kind, MountKind::Volume);
        assert!(!resolved[1].read_only);
    }
}
