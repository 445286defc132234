//! fstab-style mount options of config.json, turned into mount(2) flags and data.

use nix::mount::MsFlags;

use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MountOptions {
    /// Flags for the mount itself (including MS_BIND / MS_REC for bind mounts).
    pub flags: MsFlags,
    /// Propagation changes, each applied with its own mount(2) call after the mount.
    pub propagation: Vec<MsFlags>,
    /// Options that are not flags, handed to the filesystem (e.g. "mode=755,size=65536k").
    pub data: String,
}

impl Default for MountOptions {
    fn default() -> Self {
        MountOptions {
            flags: MsFlags::empty(),
            propagation: Vec::new(),
            data: String::new(),
        }
    }
}

impl MountOptions {
    pub fn is_bind(&self) -> bool {
        self.flags.contains(MsFlags::MS_BIND)
    }

    /// The flags a bind mount needs to be remounted with, if its options ask for more than the bind.
    pub fn bind_remount_flags(&self) -> Option<MsFlags> {
        let extra = self.flags - (MsFlags::MS_BIND | MsFlags::MS_REC | MsFlags::MS_REMOUNT);
        (!extra.is_empty()).then_some(extra | MsFlags::MS_BIND | MsFlags::MS_REMOUNT)
    }
}

enum Effect {
    Set(MsFlags),
    Clear(MsFlags),
    Propagation(MsFlags),
}

fn effect(option: &str) -> Option<Effect> {
    use Effect::*;
    Some(match option {
        "defaults" => Set(MsFlags::empty()),
        "ro" => Set(MsFlags::MS_RDONLY),
        "rw" => Clear(MsFlags::MS_RDONLY),
        "nosuid" => Set(MsFlags::MS_NOSUID),
        "suid" => Clear(MsFlags::MS_NOSUID),
        "nodev" => Set(MsFlags::MS_NODEV),
        "dev" => Clear(MsFlags::MS_NODEV),
        "noexec" => Set(MsFlags::MS_NOEXEC),
        "exec" => Clear(MsFlags::MS_NOEXEC),
        "sync" => Set(MsFlags::MS_SYNCHRONOUS),
        "async" => Clear(MsFlags::MS_SYNCHRONOUS),
        "dirsync" => Set(MsFlags::MS_DIRSYNC),
        "remount" => Set(MsFlags::MS_REMOUNT),
        "mand" => Set(MsFlags::MS_MANDLOCK),
        "nomand" => Clear(MsFlags::MS_MANDLOCK),
        "noatime" => Set(MsFlags::MS_NOATIME),
        "atime" => Clear(MsFlags::MS_NOATIME),
        "nodiratime" => Set(MsFlags::MS_NODIRATIME),
        "diratime" => Clear(MsFlags::MS_NODIRATIME),
        "relatime" => Set(MsFlags::MS_RELATIME),
        "norelatime" => Clear(MsFlags::MS_RELATIME),
        "strictatime" => Set(MsFlags::MS_STRICTATIME),
        "nostrictatime" => Clear(MsFlags::MS_STRICTATIME),
        "iversion" => Set(MsFlags::MS_I_VERSION),
        "noiversion" => Clear(MsFlags::MS_I_VERSION),
        "bind" => Set(MsFlags::MS_BIND),
        "rbind" => Set(MsFlags::MS_BIND | MsFlags::MS_REC),
        "private" => Propagation(MsFlags::MS_PRIVATE),
        "rprivate" => Propagation(MsFlags::MS_PRIVATE | MsFlags::MS_REC),
        "shared" => Propagation(MsFlags::MS_SHARED),
        "rshared" => Propagation(MsFlags::MS_SHARED | MsFlags::MS_REC),
        "slave" => Propagation(MsFlags::MS_SLAVE),
        "rslave" => Propagation(MsFlags::MS_SLAVE | MsFlags::MS_REC),
        "unbindable" => Propagation(MsFlags::MS_UNBINDABLE),
        "runbindable" => Propagation(MsFlags::MS_UNBINDABLE | MsFlags::MS_REC),
        _ => return None,
    })
}

/// Options that runc or crun understand but pier's runtime does not (yet): refused by name
/// rather than passed to the kernel as filesystem data.
const UNSUPPORTED: &[&str] = &[
    "tmpcopyup",
    "idmap",
    "ridmap",
    "rro",
    "rrw",
    "rnosuid",
    "rsuid",
    "rnodev",
    "rdev",
    "rnoexec",
    "rexec",
    "rnodiratime",
    "rdiratime",
    "rrelatime",
    "rnorelatime",
    "rnoatime",
    "ratime",
    "rstrictatime",
    "rnostrictatime",
    "copy-symlink",
    "src-nofollow",
];

pub(crate) fn parse(options: &[String], destination: &std::path::Path) -> Result<MountOptions> {
    let mut parsed = MountOptions::default();
    let mut data = Vec::new();
    for option in options {
        match effect(option) {
            Some(Effect::Set(flags)) => parsed.flags |= flags,
            Some(Effect::Clear(flags)) => parsed.flags -= flags,
            Some(Effect::Propagation(flags)) => parsed.propagation.push(flags),
            None if UNSUPPORTED.contains(&option.as_str()) => {
                return Err(Error::InvalidSpec(format!(
                    "mount {}: option {option:?} is not supported by pier's runtime",
                    destination.display()
                )));
            }
            None => data.push(option.as_str()),
        }
    }
    parsed.data = data.join(",");
    Ok(parsed)
}

/// Propagation of the container's root mount from `linux.rootfsPropagation`.
pub(crate) fn rootfs_propagation(value: &str) -> Result<MsFlags> {
    match effect(value) {
        Some(Effect::Propagation(flags)) => Ok(flags),
        _ => Err(Error::InvalidSpec(format!(
            "linux.rootfsPropagation: {value:?} is not a propagation mode"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn opts(list: &[&str]) -> Result<MountOptions> {
        let owned: Vec<String> = list.iter().map(|s| s.to_string()).collect();
        parse(&owned, Path::new("/x"))
    }

    #[test]
    fn docker_dev_pts_options() {
        let o = opts(&[
            "nosuid",
            "noexec",
            "newinstance",
            "ptmxmode=0666",
            "mode=0620",
            "gid=5",
        ])
        .unwrap();
        assert_eq!(o.flags, MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC);
        assert_eq!(o.data, "newinstance,ptmxmode=0666,mode=0620,gid=5");
        assert!(!o.is_bind());
    }

    #[test]
    fn read_only_bind_needs_a_remount() {
        let o = opts(&["rbind", "ro", "rprivate"]).unwrap();
        assert!(o.is_bind());
        assert_eq!(
            o.bind_remount_flags(),
            Some(MsFlags::MS_RDONLY | MsFlags::MS_BIND | MsFlags::MS_REMOUNT)
        );
        assert_eq!(o.propagation, vec![MsFlags::MS_PRIVATE | MsFlags::MS_REC]);
        assert_eq!(opts(&["bind"]).unwrap().bind_remount_flags(), None);
    }

    #[test]
    fn later_options_win() {
        assert_eq!(opts(&["ro", "rw"]).unwrap().flags, MsFlags::empty());
    }

    #[test]
    fn unsupported_options_are_named() {
        let err = opts(&["tmpcopyup"]).unwrap_err().to_string();
        assert!(err.contains("tmpcopyup"), "{err}");
    }
}
