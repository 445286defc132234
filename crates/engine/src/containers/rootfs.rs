//! A container's directories and root filesystem: its writable layer over the image (on the
//! data root), and under the exec root the overlay mount, the files pier writes for it
//! (hostname, hosts, resolv.conf) and its OCI bundle (config.json). The per-run part is kept
//! off the data root, where every inode made and freed per container counts in a quick
//! series of runs. All of it blocking; callers run it off the async threads.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use image::snapshot::unmount;

use crate::Engine;
use crate::error::{EngineError, Result};

use super::model::Container;

/// Whether the container's rootfs is mounted in its bundle: a mount point sits on another
/// device than the directory that holds it.
pub fn is_mounted(bundle: &Path) -> bool {
    let rootfs = bundle.join("rootfs");
    match (std::fs::metadata(&rootfs), std::fs::metadata(bundle)) {
        (Ok(r), Ok(d)) => r.dev() != d.dev(),
        _ => false,
    }
}

impl Engine {
    /// Mounts the container's overlay on `<bundle>/rootfs` unless it is mounted already.
    pub(crate) fn mount_rootfs(&self, container: &Container) -> Result<()> {
        if is_mounted(container.bundle_dir()) {
            return Ok(());
        }
        let rootfs = container.rootfs();
        std::fs::create_dir_all(&rootfs).map_err(|e| EngineError::io("creating", &rootfs, e))?;
        let overlay = self.images.snapshot_mount(&container.id, &container.dir)?;
        overlay.mount(&rootfs).map_err(image::ImageError::from)?;
        Ok(())
    }

    /// Unmounts the rootfs in `bundle` if it is mounted.
    pub(crate) fn unmount_rootfs(&self, bundle: &Path) -> Result<()> {
        if is_mounted(bundle) {
            unmount(&bundle.join("rootfs")).map_err(image::ImageError::from)?;
        }
        Ok(())
    }

    /// Everything of a container's on disk goes: mount, bundle and files, writable layer,
    /// log. Best effort past the first failure, which is returned.
    pub(crate) fn remove_container_dirs(&self, id: &str, dir: &Path, bundle: &Path) -> Result<()> {
        let mut first: Option<EngineError> = None;
        if let Err(e) = self.unmount_rootfs(bundle) {
            first.get_or_insert(e);
        }
        if let Err(e) = self.images.remove_snapshot(id, dir) {
            first.get_or_insert(e.into());
        }
        for path in [bundle, dir] {
            if first.is_none()
                && let Err(e) = std::fs::remove_dir_all(path)
                && e.kind() != std::io::ErrorKind::NotFound
            {
                first.get_or_insert(EngineError::io("removing", path, e));
            }
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

/// What a container's /etc/hostname, /etc/hosts and /etc/resolv.conf say.
pub struct EtcPlan<'a> {
    pub hostname: &'a str,
    pub domainname: &'a str,
    /// Its address on its primary network, for its hostname in /etc/hosts.
    pub own_ip: Option<std::net::Ipv4Addr>,
    /// `--add-host`, resolved (`host-gateway` made an address).
    pub extra_hosts: &'a [net::etc::ExtraHost],
    /// `--dns`, `--dns-search`, `--dns-option`.
    pub dns: &'a net::etc::DnsSettings,
    /// The embedded DNS of its primary network (a user network), its only nameserver.
    pub embedded_dns: Option<std::net::Ipv4Addr>,
    /// `--network host`: the host's own files (their loopback resolvers answer there).
    pub host_network: bool,
}

pub fn write_etc_files(dir: &Path, plan: &EtcPlan) -> Result<EtcFiles> {
    let files = EtcFiles {
        hostname: dir.join("hostname"),
        hosts: dir.join("hosts"),
        resolv_conf: dir.join("resolv.conf"),
    };
    write(&files.hostname, &net::etc::hostname_file(plan.hostname))?;
    let host_resolv = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    let (hosts, resolv_conf) = if plan.host_network {
        let mut hosts = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
        if !hosts.is_empty() && !hosts.ends_with('\n') {
            hosts.push('\n');
        }
        for extra in plan.extra_hosts {
            hosts.push_str(&format!("{}\t{}\n", extra.ip, extra.name));
        }
        let resolv_conf = if *plan.dns == net::etc::DnsSettings::default() {
            host_resolv
        } else {
            net::etc::resolv_conf(&host_resolv, plan.dns, None)
        };
        (hosts, resolv_conf)
    } else {
        let mut hosts = net::etc::hosts(
            plan.hostname,
            plan.domainname,
            plan.own_ip.map(Into::into),
            plan.extra_hosts,
        );
        if plan.own_ip.is_none() {
            // Without an address the hostname still resolves, to the loopback.
            let fqdn = if plan.domainname.is_empty() {
                plan.hostname.to_owned()
            } else {
                format!("{}.{} {}", plan.hostname, plan.domainname, plan.hostname)
            };
            hosts.push_str(&format!("127.0.1.1\t{fqdn}\n"));
        }
        let resolv_conf = net::etc::resolv_conf(&host_resolv, plan.dns, plan.embedded_dns);
        (hosts, resolv_conf)
    };
    write(&files.hosts, &hosts)?;
    write(&files.resolv_conf, &resolv_conf)?;
    Ok(files)
}

fn write(path: &Path, content: &str) -> Result<()> {
    std::fs::write(path, content).map_err(|e| EngineError::io("writing", path, e))
}
