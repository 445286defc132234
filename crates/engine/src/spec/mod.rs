//! From Docker's create body (with the image's defaults merged in) to an OCI runtime spec:
//! Docker's rules for the command, environment, user, capabilities, seccomp, namespaces,
//! mounts, devices, cgroup limits and rlimits, its checks and its messages, on top of the
//! runtime's default profile ([`runtime::profile`]).
//!
//! Nothing here makes anything: the engine resolves volumes to host paths and writes the
//! /etc files before, and the runtime applies the spec after. The only reads are of the host
//! (devices, limits) and, safely, of the image's /etc/passwd and /etc/group.

mod binds;
mod caps;
mod devices;
mod env;
mod error;
mod host;
mod merge;
mod mounts;
mod namespaces;
mod resources;
mod rlimits;
mod seccomp;
mod security;
mod tmpfs;
mod user;
mod validate;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use api::types::{ContainerConfig, HostConfig};
use oci_spec::runtime::{BoxBuilder, Spec};

pub use binds::{BindSpec, MountSource, create_missing_bind_source, parse_bind, parse_mount};
pub use caps::make_privileged_process;
pub use error::SpecError;
pub use host::HostFacts;
pub use merge::merge_image_config;
pub use mounts::{EtcFiles, MountKind, ResolvedMount, resolved_mounts};
pub use namespaces::{NetworkMode, network_mode};
pub use user::resolve_user;
pub use validate::{parse_signal, validate};

use error::Result;
use mounts::{MountPlan, Shm};
use security::SeccompChoice;

/// Docker's default size of /dev/shm.
pub const DEFAULT_SHM_SIZE: i64 = 64 << 20;

/// Everything a container's spec is made from.
pub struct SpecInput<'a> {
    /// The container's id (64 hex).
    pub id: &'a str,
    /// Its Config, the image's defaults merged in ([`merge_image_config`]).
    pub config: &'a ContainerConfig,
    pub host: &'a HostConfig,
    /// The mounted root filesystem.
    pub rootfs: &'a Path,
    pub hostname: &'a str,
    /// Host paths of the /etc files to bind, when the engine wrote them.
    pub etc_files: Option<EtcFiles<'a>>,
    /// Binds, volumes (and tmpfs `Mounts`) resolved by the engine; `HostConfig.Tmpfs` is
    /// read from `host` here.
    pub mounts: &'a [ResolvedMount],
    /// The cgroup path, as the engine places containers.
    pub cgroups_path: String,
    pub netns: NetworkMode<'a>,
}

/// The container's runtime spec; checks everything Docker checks at create first.
pub fn build_spec(input: &SpecInput) -> Result<Spec> {
    build_spec_on(input, HostFacts::get())
}

/// [`build_spec`] for a machine described by `facts`.
pub fn build_spec_on(input: &SpecInput, facts: &HostFacts) -> Result<Spec> {
    let config = input.config;
    let host = input.host;
    validate::validate_on(config, host, facts)?;
    let resources = &host.resources;
    let list = |v: &Option<Vec<String>>| v.clone().unwrap_or_default();

    let args = validate::command(config);
    let mut spec =
        runtime::profile::default_spec(&input.rootfs.to_string_lossy(), args, config.tty);
    if let Some(root) = spec.root_mut() {
        root.set_readonly(Some(host.readonly_rootfs));
    }

    let caps = caps::container_caps(
        &list(&host.cap_add),
        &list(&host.cap_drop),
        host.privileged,
        facts,
    )?;
    let security = security::parse(&list(&host.security_opt))?;
    let accounts = user::Accounts::read(input.rootfs)?;
    let process_user = user::process_user(&config.user, &list(&host.group_add), &accounts)?;

    let mut process = spec.process().clone().unwrap_or_default();
    process.set_env(Some(env::process_env(
        &list(&config.env),
        input.hostname,
        config.tty,
    )));
    process.set_cwd(PathBuf::from(if config.working_dir.is_empty() {
        "/"
    } else {
        config.working_dir.as_str()
    }));
    process.set_user(process_user);
    process.set_capabilities(Some(caps::capability_sets(&caps)));
    process.set_rlimits(Some(rlimits::rlimits(
        resources.ulimits.as_deref().unwrap_or_default(),
        facts.nofile_hard,
    )?));
    process.set_no_new_privileges(Some(security.no_new_privileges));
    process.set_oom_score_adj(i32::try_from(host.oom_score_adj).ok());
    let [height, width] = host.console_size;
    if config.tty && height > 0 && width > 0 {
        let size = BoxBuilder::default()
            .height(height)
            .width(width)
            .build()
            .map_err(|e| SpecError::Internal(format!("console size: {e}")))?;
        process.set_console_size(Some(size));
    }
    spec.set_process(Some(process));

    if host.uts_mode == "host" {
        spec.set_hostname(None);
    } else {
        spec.set_hostname(Some(input.hostname.to_owned()));
        if !config.domainname.is_empty() {
            spec.set_domainname(Some(config.domainname.clone()));
        }
    }

    let shm_size = if host.shm_size > 0 {
        host.shm_size
    } else {
        DEFAULT_SHM_SIZE
    };
    let shm = match host.ipc_mode.as_str() {
        "none" => Shm::Absent,
        "host" => Shm::Bind(Path::new("/dev/shm")),
        _ => Shm::Tmpfs(shm_size),
    };
    spec.set_mounts(Some(mounts::container_mounts(&MountPlan {
        resolved: input.mounts,
        tmpfs: host.tmpfs.as_ref(),
        etc: input.etc_files,
        shm,
        privileged: host.privileged,
        readonly_rootfs: host.readonly_rootfs,
    })?));

    let device_plan = devices::plan(
        resources.devices.as_deref().unwrap_or_default(),
        resources.device_cgroup_rules.as_deref().unwrap_or_default(),
        host.privileged,
    )?;
    let mut linux = spec.linux().clone().unwrap_or_default();
    linux.set_namespaces(Some(namespaces::namespaces(host, input.netns)?));
    linux.set_resources(Some(resources::linux_resources(
        resources,
        device_plan.rules,
    )?));
    linux.set_devices((!device_plan.devices.is_empty()).then_some(device_plan.devices));
    linux.set_seccomp(seccomp_for(
        &security.seccomp,
        host.privileged,
        &caps,
        facts,
    )?);
    if host.privileged {
        linux.set_masked_paths(None);
        linux.set_readonly_paths(None);
    } else {
        if let Some(paths) = &host.masked_paths {
            linux.set_masked_paths(Some(paths.clone()));
        }
        if let Some(paths) = &host.readonly_paths {
            linux.set_readonly_paths(Some(paths.clone()));
        }
    }
    linux.set_sysctl(sysctls(host, input.netns));
    linux.set_cgroups_path(Some(PathBuf::from(&input.cgroups_path)));
    linux.set_rootfs_propagation(rootfs_propagation(input.mounts));
    spec.set_linux(Some(linux));

    spec.set_annotations(
        host.annotations
            .as_ref()
            .filter(|a| !a.is_empty())
            .map(|a| {
                a.iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect::<HashMap<_, _>>()
            }),
    );
    Ok(spec)
}

fn seccomp_for(
    choice: &SeccompChoice,
    privileged: bool,
    caps: &[oci_spec::runtime::Capability],
    facts: &HostFacts,
) -> Result<Option<oci_spec::runtime::LinuxSeccomp>> {
    if privileged {
        return Ok(None);
    }
    Ok(match choice {
        SeccompChoice::Unconfined => None,
        SeccompChoice::Default => Some(runtime::profile::default_seccomp(caps)),
        SeccompChoice::Profile(text) => {
            let (go_arch, native) = seccomp::host_arch();
            Some(seccomp::load_profile(
                text,
                &seccomp::Target {
                    go_arch,
                    native,
                    caps,
                    kernel: facts.kernel,
                },
            )?)
        }
    })
}

/// Docker's sysctls for a container with its own network (ports below 1024 and ICMP echo
/// sockets without privileges), then the container's own.
fn sysctls(host: &HostConfig, netns: NetworkMode) -> Option<HashMap<String, String>> {
    let mut sysctls = HashMap::new();
    if matches!(netns, NetworkMode::New | NetworkMode::Owned(_)) {
        sysctls.insert(
            "net.ipv4.ip_unprivileged_port_start".to_owned(),
            "0".to_owned(),
        );
        sysctls.insert(
            "net.ipv4.ping_group_range".to_owned(),
            "0 2147483647".to_owned(),
        );
    }
    for (key, value) in host.sysctls.iter().flatten() {
        sysctls.insert(key.clone(), value.clone());
    }
    (!sysctls.is_empty()).then_some(sysctls)
}

/// A bind that shares its mounts with the host needs the root mount shared; one that
/// receives them needs it at least a slave.
fn rootfs_propagation(mounts: &[ResolvedMount]) -> Option<String> {
    let propagations = mounts.iter().filter_map(|m| match &m.kind {
        MountKind::Bind { propagation, .. } => Some(propagation.as_str()),
        _ => None,
    });
    let mut wanted = None;
    for propagation in propagations {
        match propagation {
            "shared" | "rshared" => return Some("shared".to_owned()),
            "slave" | "rslave" => wanted = Some("rslave".to_owned()),
            _ => {}
        }
    }
    wanted
}

/// Docker's create-time adjustments of a host config (`adaptContainerSettings`), for what
/// `docker inspect` then shows: CPU shares within 2..=262144, MemorySwap twice Memory when
/// unset, ShmSize 64 MiB, IpcMode `private`, CgroupnsMode `private` (pier always gives a
/// container its own cgroup namespace unless told `host`), log driver `json-file`, restart
/// policy `no`.
pub fn apply_host_defaults(host: &mut HostConfig) {
    let res = &mut host.resources;
    if res.cpu_shares < 0 {
        res.cpu_shares = 2;
    } else if res.cpu_shares > 262_144 {
        res.cpu_shares = 262_144;
    }
    if res.memory > 0 && res.memory_swap == 0 {
        res.memory_swap = res.memory.saturating_mul(2);
    }
    if host.shm_size == 0 {
        host.shm_size = DEFAULT_SHM_SIZE;
    }
    if host.ipc_mode.is_empty() {
        host.ipc_mode = "private".to_owned();
    }
    if host.cgroupns_mode.is_empty() {
        host.cgroupns_mode = "private".to_owned();
    }
    if host.log_config.kind.is_empty() {
        host.log_config.kind = "json-file".to_owned();
    }
    if host.log_config.config.is_none() {
        host.log_config.config = Some(Default::default());
    }
    if host.restart_policy.name.is_empty() {
        host.restart_policy.name = "no".to_owned();
    }
}

#[cfg(test)]
mod tests;
