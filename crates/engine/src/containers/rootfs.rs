//! A container's directory and root filesystem: its writable layer over the image, the
//! overlay mount, the files pier writes for it (hostname, hosts, resolv.conf), and its
//! OCI bundle (config.json). All of it blocking; callers run it off the async threads.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use image::snapshot::unmount;

use crate::Engine;
use crate::error::{EngineError, Result};

use super::model::Container;

/// Whether the container's rootfs is mounted: a mount point sits on another device than the
/// directory that holds it.
pub fn is_mounted(container_dir: &Path) -> bool {
    let rootfs = container_dir.join("rootfs");
    match (std::fs::metadata(&rootfs), std::fs::metadata(container_dir)) {
        (Ok(r), Ok(d)) => r.dev() != d.dev(),
        _ => false,
    }
}

impl Engine {
    /// Mounts the container's overlay on `<dir>/rootfs` unless it is mounted already.
    pub(crate) fn mount_rootfs(&self, container: &Container) -> Result<()> {
        if is_mounted(&container.dir) {
            return Ok(());
        }
        let rootfs = container.rootfs();
        std::fs::create_dir_all(&rootfs).map_err(|e| EngineError::io("creating", &rootfs, e))?;
        let overlay = self.images.snapshot_mount(&container.id, &container.dir)?;
        overlay.mount(&rootfs).map_err(image::ImageError::from)?;
        Ok(())
    }

    /// Unmounts the rootfs if it is mounted.
    pub(crate) fn unmount_rootfs(&self, container_dir: &Path) -> Result<()> {
        if is_mounted(container_dir) {
            unmount(&container_dir.join("rootfs")).map_err(image::ImageError::from)?;
        }
        Ok(())
    }

    /// Everything a container's directory holds goes: mount, writable layer, files, log.
    /// Best effort past the first failure, which is returned.
    pub(crate) fn remove_container_dir(&self, id: &str, dir: &Path) -> Result<()> {
        let mut first: Option<EngineError> = None;
        if let Err(e) = self.unmount_rootfs(dir) {
            first.get_or_insert(e);
        }
        if let Err(e) = self.images.remove_snapshot(id, dir) {
            first.get_or_insert(e.into());
        }
        if first.is_none()
            && let Err(e) = std::fs::remove_dir_all(dir)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            first.get_or_insert(EngineError::io("removing", dir, e));
        }
        first.map_or(Ok(()), Err)
    }
}

/// The files pier writes for a container and binds over the image's.
pub struct EtcFiles {
    pub hostname: PathBuf,
    pub hosts: PathBuf,
    pub resolv_conf: PathBuf,
}

/// `own_ip`: the container's address on its network, for its hostname in /etc/hosts.
pub fn write_etc_files(
    dir: &Path,
    hostname: &str,
    domainname: &str,
    own_ip: Option<std::net::Ipv4Addr>,
) -> Result<EtcFiles> {
    let files = EtcFiles {
        hostname: dir.join("hostname"),
        hosts: dir.join("hosts"),
        resolv_conf: dir.join("resolv.conf"),
    };
    write(&files.hostname, &format!("{hostname}\n"))?;
    let fqdn = if domainname.is_empty() {
        hostname.to_owned()
    } else {
        format!("{hostname}.{domainname} {hostname}")
    };
    let hosts = match own_ip {
        Some(ip) => net::etc::hosts(hostname, domainname, Some(ip.into()), &[]),
        None => format!(
            "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n127.0.1.1\t{fqdn}\n"
        ),
    };
    write(&files.hosts, &hosts)?;
    let host = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    write(&files.resolv_conf, &container_resolv_conf(&host))?;
    Ok(files)
}

/// The host's resolv.conf without loopback resolvers (unreachable from the container's own
/// network namespace); Docker falls back to public resolvers when none remain.
pub fn container_resolv_conf(host: &str) -> String {
    let mut out = String::new();
    let mut nameservers = 0;
    for line in host.lines() {
        let mut words = line.split_whitespace();
        if words.next() == Some("nameserver") {
            let addr = words.next().unwrap_or("");
            if addr.starts_with("127.") || addr == "::1" {
                continue;
            }
            nameservers += 1;
        }
        out.push_str(line);
        out.push('\n');
    }
    if nameservers == 0 {
        out.push_str("nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
    }
    out
}

fn write(path: &Path, content: &str) -> Result<()> {
    std::fs::write(path, content).map_err(|e| EngineError::io("writing", path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_resolvers_are_dropped() {
        let host =
            "search example.org\nnameserver 127.0.0.53\nnameserver 10.0.0.2\noptions ndots:2\n";
        assert_eq!(
            container_resolv_conf(host),
            "search example.org\nnameserver 10.0.0.2\noptions ndots:2\n"
        );
        assert!(container_resolv_conf("nameserver ::1\n").contains("8.8.8.8"));
    }
}
