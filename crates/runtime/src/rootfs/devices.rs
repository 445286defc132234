//! /dev inside the container: the default device nodes every container gets, the ones
//! config.json lists, and the standard symlinks.

use std::fs::Permissions;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use oci_spec::runtime::{LinuxDevice, LinuxDeviceType};

use crate::error::{Error, Result};
use crate::safepath::{Node, RootDir};

/// A device node to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DeviceNode {
    pub path: PathBuf,
    pub char_device: bool,
    pub major: u32,
    pub minor: u32,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
}

/// The devices the OCI runtime spec says every Linux container has.
fn defaults() -> Vec<DeviceNode> {
    [
        ("null", 1, 3),
        ("zero", 1, 5),
        ("full", 1, 7),
        ("random", 1, 8),
        ("urandom", 1, 9),
        ("tty", 5, 0),
    ]
    .into_iter()
    .map(|(name, major, minor)| DeviceNode {
        path: PathBuf::from("/dev").join(name),
        char_device: true,
        major,
        minor,
        mode: 0o666,
        uid: 0,
        gid: 0,
    })
    .collect()
}

/// Defaults first, then config.json's list; a listed device replaces a default at the same path.
pub(crate) fn plan(listed: &[LinuxDevice]) -> Result<Vec<DeviceNode>> {
    let mut nodes = defaults();
    for dev in listed {
        let char_device = match dev.typ() {
            LinuxDeviceType::C | LinuxDeviceType::U => true,
            LinuxDeviceType::B => false,
            other => {
                return Err(Error::InvalidSpec(format!(
                    "linux.devices: {}: type {other:?} cannot be created (only c, u and b)",
                    dev.path().display()
                )));
            }
        };
        crate::spec::check_destination(dev.path())?;
        let node = DeviceNode {
            path: dev.path().clone(),
            char_device,
            major: u32::try_from(dev.major()).map_err(|_| bad_number(dev, "major"))?,
            minor: u32::try_from(dev.minor()).map_err(|_| bad_number(dev, "minor"))?,
            mode: dev.file_mode().unwrap_or(0o666) & 0o7777,
            uid: dev.uid().unwrap_or(0),
            gid: dev.gid().unwrap_or(0),
        };
        nodes.retain(|n| n.path != node.path);
        nodes.push(node);
    }
    Ok(nodes)
}

fn bad_number(dev: &LinuxDevice, what: &str) -> Error {
    Error::InvalidSpec(format!(
        "linux.devices: {}: {what} number out of range",
        dev.path().display()
    ))
}

pub(crate) fn create(root: &RootDir, nodes: &[DeviceNode]) -> Result<()> {
    for node in nodes {
        let dev = rustix::fs::makedev(node.major, node.minor);
        let kind = if node.char_device {
            Node::CharDevice {
                mode: node.mode,
                dev,
            }
        } else {
            Node::BlockDevice {
                mode: node.mode,
                dev,
            }
        };
        root.create_node(&node.path, kind)?;
        if let Some(handle) = root.resolve(&node.path)? {
            let proc_path = handle.proc_path();
            std::os::unix::fs::chown(&proc_path, Some(node.uid), Some(node.gid))
                .and_then(|()| {
                    std::fs::set_permissions(&proc_path, Permissions::from_mode(node.mode))
                })
                .map_err(|e| Error::path("setting owner and mode of device", &node.path, e))?;
        }
    }
    Ok(())
}

/// /dev/fd, /dev/std{in,out,err}, /dev/ptmx (to the container's own devpts) and /dev/core.
pub(crate) fn create_symlinks(root: &RootDir) -> Result<()> {
    let mut links = vec![
        ("/dev/fd", "/proc/self/fd"),
        ("/dev/stdin", "/proc/self/fd/0"),
        ("/dev/stdout", "/proc/self/fd/1"),
        ("/dev/stderr", "/proc/self/fd/2"),
        ("/dev/ptmx", "pts/ptmx"),
    ];
    if Path::new("/proc/kcore").exists() {
        links.push(("/dev/core", "/proc/kcore"));
    }
    for (link, target) in links {
        root.create_node(Path::new(link), Node::Symlink(Path::new(target)))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listed_devices_replace_defaults() {
        let fuse: LinuxDevice = serde_json::from_value(serde_json::json!({
            "path": "/dev/null", "type": "c", "major": 1, "minor": 3, "fileMode": 0o600, "uid": 5, "gid": 6
        }))
        .unwrap();
        let nodes = plan(&[fuse]).unwrap();
        let null: Vec<_> = nodes
            .iter()
            .filter(|n| n.path == Path::new("/dev/null"))
            .collect();
        assert_eq!(null.len(), 1);
        assert_eq!((null[0].mode, null[0].uid, null[0].gid), (0o600, 5, 6));
        assert_eq!(nodes.len(), 6);
    }

    #[test]
    fn fifo_devices_are_refused() {
        let fifo: LinuxDevice = serde_json::from_value(serde_json::json!({
            "path": "/dev/f", "type": "p", "major": 0, "minor": 0
        }))
        .unwrap();
        assert!(plan(&[fifo]).is_err());
    }
}
