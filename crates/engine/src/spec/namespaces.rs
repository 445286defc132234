//! The container's namespaces: Docker's (mount, network, uts, pid, ipc, cgroup), less those it
//! shares with the host, the network one joined by path when it is another's.

use std::path::Path;

use api::types::{ContainerConfig, HostConfig};
use oci_spec::runtime::{LinuxNamespace, LinuxNamespaceType};

use super::error::{Result, SpecError};

/// The container's network namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetworkMode<'a> {
    /// A new one (`bridge`, `none`, user-defined networks): the engine sets it up.
    New,
    /// The host's (`--network host`).
    Host,
    /// An existing one, by path: `/proc/<pid>/ns/net` of the container named by
    /// `container:<name>`.
    Join(&'a Path),
    /// One the engine made for this container ahead of time (bound at this path): joined,
    /// and set up as a new one would be.
    Owned(&'a Path),
    /// `container:<name>` that the engine has not resolved to a path: building the spec fails.
    Unresolved(&'a str),
}

/// The network namespace `HostConfig.NetworkMode` asks for, as far as it says without the
/// engine's help (`container:<name>` needs the engine to find that container's namespace).
pub fn network_mode(host: &HostConfig) -> NetworkMode<'_> {
    let mode = host.network_mode.as_str();
    if mode == "host" {
        NetworkMode::Host
    } else if let Some(other) = mode.strip_prefix("container:") {
        NetworkMode::Unresolved(other)
    } else {
        NetworkMode::New
    }
}

/// Docker's checks of the namespace modes.
pub(crate) fn validate(host: &HostConfig) -> Result<()> {
    let joins = |mode: &str| {
        mode.strip_prefix("container:")
            .is_some_and(|c| !c.is_empty())
    };
    let ipc = host.ipc_mode.as_str();
    if !matches!(ipc, "" | "none" | "private" | "shareable" | "host") && !joins(ipc) {
        return Err(SpecError::invalid(format!("invalid IPC mode: {ipc}")));
    }
    let pid = host.pid_mode.as_str();
    if !matches!(pid, "" | "host") && !joins(pid) {
        return Err(SpecError::invalid(format!("invalid PID mode: {pid}")));
    }
    let uts = host.uts_mode.as_str();
    if !matches!(uts, "" | "host") {
        return Err(SpecError::invalid(format!("invalid UTS mode: {uts}")));
    }
    let cgroupns = host.cgroupns_mode.as_str();
    if !matches!(cgroupns, "" | "private" | "host") {
        return Err(SpecError::invalid(format!(
            "invalid cgroup namespace mode: {cgroupns}"
        )));
    }
    for (mode, what) in [(ipc, "IPC"), (pid, "PID")] {
        if joins(mode) {
            return Err(SpecError::invalid(format!(
                "joining another container's {what} namespace ({mode}) is not supported by pier yet"
            )));
        }
    }
    Ok(())
}

/// Docker's conflicts between a network mode and the flags that mean a network of the
/// container's own (its runconfig errors, in its words).
pub(crate) fn validate_network_mode(config: &ContainerConfig, host: &HostConfig) -> Result<()> {
    let mode = host.network_mode.as_str();
    let shares_another = mode.starts_with("container:");
    if mode == "container:" {
        return Err(SpecError::invalid(
            "invalid container format container:<name|id>".to_owned(),
        ));
    }
    let has = |list: &Option<Vec<String>>| list.as_ref().is_some_and(|l| !l.is_empty());
    let conflict = |what: &str| Err(SpecError::invalid(format!("conflicting options: {what}")));
    if shares_another {
        if !config.hostname.is_empty() {
            return conflict("hostname and the network mode");
        }
        if has(&host.links) {
            return conflict(
                "container type network can't be used with links. This would result in undefined behavior",
            );
        }
        if has(&host.dns) || has(&host.dns_search) || has(&host.dns_options) {
            return conflict("dns and the network mode");
        }
        if has(&host.extra_hosts) {
            return conflict("custom host-to-IP mapping and the network mode");
        }
        if !config.mac_address.is_empty() {
            return conflict("mac-address and the network mode");
        }
        if host.port_bindings.as_ref().is_some_and(|p| !p.is_empty()) || host.publish_all_ports {
            return conflict("port publishing and the container type network mode");
        }
    }
    if mode == "host" && has(&host.links) {
        return conflict(
            "host type networking can't be used with links. This would result in undefined behavior",
        );
    }
    Ok(())
}

fn namespace(typ: LinuxNamespaceType, path: Option<&Path>) -> LinuxNamespace {
    let mut ns = LinuxNamespace::default();
    ns.set_typ(typ);
    ns.set_path(path.map(Path::to_path_buf));
    ns
}

/// The namespaces of the container, in Docker's order.
pub(crate) fn namespaces(host: &HostConfig, network: NetworkMode) -> Result<Vec<LinuxNamespace>> {
    validate(host)?;
    let mut list = vec![namespace(LinuxNamespaceType::Mount, None)];
    match network {
        NetworkMode::New => list.push(namespace(LinuxNamespaceType::Network, None)),
        NetworkMode::Join(path) | NetworkMode::Owned(path) => {
            list.push(namespace(LinuxNamespaceType::Network, Some(path)))
        }
        NetworkMode::Host => {}
        NetworkMode::Unresolved(other) => {
            return Err(SpecError::Internal(format!(
                "network mode container:{other} was not resolved to a namespace"
            )));
        }
    }
    if host.uts_mode != "host" {
        list.push(namespace(LinuxNamespaceType::Uts, None));
    }
    if host.pid_mode != "host" {
        list.push(namespace(LinuxNamespaceType::Pid, None));
    }
    if host.ipc_mode != "host" {
        list.push(namespace(LinuxNamespaceType::Ipc, None));
    }
    if host.cgroupns_mode != "host" {
        list.push(namespace(LinuxNamespaceType::Cgroup, None));
    }
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(list: &[LinuxNamespace]) -> Vec<LinuxNamespaceType> {
        list.iter().map(|n| n.typ()).collect()
    }

    #[test]
    fn modes() {
        use LinuxNamespaceType::*;
        let default = HostConfig::default();
        assert_eq!(
            kinds(&namespaces(&default, NetworkMode::New).unwrap()),
            [Mount, Network, Uts, Pid, Ipc, Cgroup]
        );
        let shared = HostConfig {
            pid_mode: "host".into(),
            ipc_mode: "host".into(),
            uts_mode: "host".into(),
            cgroupns_mode: "host".into(),
            ..Default::default()
        };
        assert_eq!(
            kinds(&namespaces(&shared, NetworkMode::Host).unwrap()),
            [Mount]
        );
        let joined = namespaces(&default, NetworkMode::Join(Path::new("/proc/42/ns/net"))).unwrap();
        assert_eq!(
            joined[1].path().as_deref(),
            Some(Path::new("/proc/42/ns/net"))
        );
        let err = namespaces(&default, NetworkMode::Unresolved("db")).unwrap_err();
        assert_eq!(err.kind(), crate::error::ErrorKind::Internal);
    }

    #[test]
    fn network_modes() {
        let mode = |m: &str| {
            let host = HostConfig {
                network_mode: m.into(),
                ..Default::default()
            };
            format!("{:?}", network_mode(&host))
        };
        assert_eq!(mode("host"), "Host");
        assert_eq!(mode("bridge"), "New");
        assert_eq!(mode("none"), "New");
        assert_eq!(mode("mynet"), "New");
        assert_eq!(mode("container:db"), "Unresolved(\"db\")");
    }

    #[test]
    fn bad_modes_in_dockers_words() {
        let cases = [
            (
                HostConfig {
                    ipc_mode: "bogus".into(),
                    ..Default::default()
                },
                "invalid IPC mode: bogus",
            ),
            (
                HostConfig {
                    pid_mode: "container:".into(),
                    ..Default::default()
                },
                "invalid PID mode: container:",
            ),
            (
                HostConfig {
                    uts_mode: "private".into(),
                    ..Default::default()
                },
                "invalid UTS mode: private",
            ),
            (
                HostConfig {
                    cgroupns_mode: "x".into(),
                    ..Default::default()
                },
                "invalid cgroup namespace mode: x",
            ),
        ];
        for (host, message) in cases {
            assert_eq!(validate(&host).unwrap_err().to_string(), message);
        }
    }
}
