//! What Docker checks when a container is created (`verifyContainerSettings`): the config,
//! the host config, this machine's limits. Errors are Docker's (400); warnings go into the
//! create response.

use std::net::IpAddr;

use api::types::{ContainerConfig, HostConfig};

use super::error::{Result, SpecError};
use super::host::HostFacts;
use super::{binds, caps, devices, mounts, namespaces, resources, rlimits, security};

/// One millisecond, Docker's shortest health check duration.
const MIN_HEALTH_DURATION: i64 = 1_000_000;

/// Checks a create request (after the image's defaults were merged); returns Docker's warnings.
/// The network mode's conflicts are checked here only: once made, a container on another's
/// stack carries that one's hostname.
pub fn validate(config: &ContainerConfig, host: &HostConfig) -> Result<Vec<String>> {
    namespaces::validate_network_mode(config, host)?;
    validate_on(config, host, HostFacts::get())
}

pub(crate) fn validate_on(
    config: &ContainerConfig,
    host: &HostConfig,
    facts: &HostFacts,
) -> Result<Vec<String>> {
    validate_config(config)?;
    validate_host(host)?;
    caps::validate(
        host.cap_add.as_deref().unwrap_or_default(),
        host.cap_drop.as_deref().unwrap_or_default(),
        facts,
    )?;
    let mut warnings = resources::validate(&host.resources, facts)?;
    if host.shm_size < 0 {
        return Err(SpecError::invalid("SHM size can not be less than 0"));
    }
    if !(-1000..=1000).contains(&host.oom_score_adj) {
        return Err(SpecError::invalid(format!(
            "Invalid value {}, range for oom score adj is [-1000, 1000]",
            host.oom_score_adj
        )));
    }
    namespaces::validate(host)?;
    security::parse(host.security_opt.as_deref().unwrap_or_default())?;
    rlimits::validate(host.resources.ulimits.as_deref().unwrap_or_default())?;
    devices::validate(
        host.resources.devices.as_deref().unwrap_or_default(),
        host.resources
            .device_cgroup_rules
            .as_deref()
            .unwrap_or_default(),
    )?;
    for destination in host.tmpfs.iter().flatten().map(|(d, _)| d) {
        mounts::check_tmpfs_destination(destination)?;
    }
    if host.network_mode == "host" && host.port_bindings.as_ref().is_some_and(|p| !p.is_empty()) {
        warnings.push("Published ports are discarded when using host network mode".to_owned());
    }
    Ok(warnings)
}

/// Docker's `validateContainerConfig`, and "No command specified".
fn validate_config(config: &ContainerConfig) -> Result<()> {
    if !config.working_dir.is_empty() && !config.working_dir.starts_with('/') {
        return Err(SpecError::invalid(format!(
            "the working directory '{}' is invalid, it needs to be an absolute path",
            config.working_dir
        )));
    }
    if !config.stop_signal.is_empty() {
        parse_signal(&config.stop_signal)?;
    }
    for entry in config.env.iter().flatten() {
        let key = entry.split_once('=').map_or(entry.as_str(), |(k, _)| k);
        if key.is_empty() {
            return Err(SpecError::invalid(format!(
                "invalid environment variable: {entry}"
            )));
        }
    }
    if let Some(health) = &config.healthcheck {
        for (value, name) in [
            (health.interval, "Interval"),
            (health.timeout, "Timeout"),
            (health.start_period, "StartPeriod"),
            (health.start_interval, "StartInterval"),
        ] {
            if value != 0 && value < MIN_HEALTH_DURATION {
                return Err(SpecError::invalid(format!(
                    "{name} in Healthcheck cannot be less than 1ms"
                )));
            }
        }
        if health.retries < 0 {
            return Err(SpecError::invalid(
                "Retries in Healthcheck cannot be negative",
            ));
        }
    }
    if command(config).is_empty() {
        return Err(SpecError::invalid("No command specified"));
    }
    Ok(())
}

/// Entrypoint then Cmd; an Entrypoint of `[""]` counts as none.
pub(crate) fn command(config: &ContainerConfig) -> Vec<String> {
    let entrypoint = config
        .entrypoint
        .iter()
        .flatten()
        .filter(|_| !matches!(config.entrypoint.as_deref(), Some([only]) if only.is_empty()));
    entrypoint
        .chain(config.cmd.iter().flatten())
        .cloned()
        .collect()
}

/// Docker's `validateHostConfig`.
fn validate_host(host: &HostConfig) -> Result<()> {
    let restart = &host.restart_policy;
    if host.auto_remove && !matches!(restart.name.as_str(), "" | "no") {
        return Err(SpecError::invalid(
            "can't create 'AutoRemove' container with restart policy",
        ));
    }
    for mount in host.mounts.iter().flatten() {
        binds::parse_mount(mount)?;
    }
    for entry in host.extra_hosts.iter().flatten() {
        validate_extra_host(entry)?;
    }
    for (port, bindings) in host.port_bindings.iter().flatten() {
        let number = port.split_once('/').map_or(port.as_str(), |(n, _)| n);
        if !valid_port_or_range(number) {
            return Err(SpecError::invalid(format!(
                "invalid port specification: {number:?}"
            )));
        }
        for binding in bindings {
            let host_port = binding
                .host_port
                .split_once('/')
                .map_or(binding.host_port.as_str(), |(n, _)| n);
            if !host_port.is_empty() && !valid_port_or_range(host_port) {
                return Err(SpecError::invalid(format!(
                    "invalid port specification: {:?}",
                    binding.host_port
                )));
            }
        }
    }
    match restart.name.as_str() {
        "always" | "unless-stopped" | "no" if restart.maximum_retry_count != 0 => {
            let mut message =
                "invalid restart policy: maximum retry count can only be used with 'on-failure'"
                    .to_owned();
            if restart.maximum_retry_count < 0 {
                message.push_str(" and cannot be negative");
            }
            return Err(SpecError::invalid(message));
        }
        "on-failure" if restart.maximum_retry_count < 0 => {
            return Err(SpecError::invalid(
                "invalid restart policy: maximum retry count cannot be negative",
            ));
        }
        "" | "no" | "always" | "unless-stopped" | "on-failure" => {}
        other => {
            return Err(SpecError::invalid(format!(
                "invalid restart policy: unknown policy '{other}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'"
            )));
        }
    }
    if !host.isolation.is_empty() && !host.isolation.eq_ignore_ascii_case("default") {
        return Err(SpecError::invalid(format!(
            "invalid isolation '{}' on linux",
            host.isolation
        )));
    }
    if host.annotations.iter().flatten().any(|(k, _)| k.is_empty()) {
        return Err(SpecError::invalid(
            "invalid Annotations: the empty string is not permitted as an annotation key",
        ));
    }
    Ok(())
}

/// `80`, `8000-8010` (nat's `ParsePortRange`).
fn valid_port_or_range(text: &str) -> bool {
    let port = |s: &str| s.parse::<u16>().is_ok();
    match text.split_once('-') {
        Some((low, high)) => {
            port(low) && port(high) && low.parse::<u16>().ok() <= high.parse::<u16>().ok()
        }
        None => port(text),
    }
}

/// `name:ip` or `name=ip`, the IP possibly in brackets, or `host-gateway`.
fn validate_extra_host(entry: &str) -> Result<()> {
    let (name, address) = entry
        .split_once('=')
        .or_else(|| entry.split_once(':'))
        .filter(|(name, _)| !name.is_empty() && !name.contains(':'))
        .ok_or_else(|| SpecError::invalid(format!("bad format for add-host: {entry:?}")))?;
    let _ = name;
    if address == "host-gateway" {
        return Ok(());
    }
    let bare = address
        .strip_prefix('[')
        .and_then(|a| a.strip_suffix(']'))
        .filter(|a| !a.is_empty())
        .unwrap_or(address);
    bare.parse::<IpAddr>()
        .map(|_| ())
        .map_err(|_| SpecError::invalid(format!("invalid IP address in add-host: {bare:?}")))
}

/// Signal names Docker knows (without `SIG`), and their numbers on Linux.
const SIGNALS: &[(&str, i32)] = &[
    ("ABRT", 6),
    ("ALRM", 14),
    ("BUS", 7),
    ("CHLD", 17),
    ("CLD", 17),
    ("CONT", 18),
    ("FPE", 8),
    ("HUP", 1),
    ("ILL", 4),
    ("INT", 2),
    ("IO", 29),
    ("IOT", 6),
    ("KILL", 9),
    ("PIPE", 13),
    ("POLL", 29),
    ("PROF", 27),
    ("PWR", 30),
    ("QUIT", 3),
    ("SEGV", 11),
    ("STKFLT", 16),
    ("STOP", 19),
    ("SYS", 31),
    ("TERM", 15),
    ("TRAP", 5),
    ("TSTP", 20),
    ("TTIN", 21),
    ("TTOU", 22),
    ("URG", 23),
    ("USR1", 10),
    ("USR2", 12),
    ("VTALRM", 26),
    ("WINCH", 28),
    ("XCPU", 24),
    ("XFSZ", 25),
    ("RTMIN", 34),
    ("RTMAX", 64),
];

/// A signal by number or by name (`SIGTERM`, `term`, `RTMIN+3`...), as Docker's
/// `signal.ParseSignal` reads `StopSignal` and `docker kill --signal`.
pub fn parse_signal(raw: &str) -> Result<i32> {
    let invalid = || SpecError::invalid(format!("Invalid signal: {raw}"));
    if let Ok(n) = raw.parse::<i32>() {
        return if (1..=64).contains(&n) {
            Ok(n)
        } else {
            Err(invalid())
        };
    }
    let upper = raw.to_uppercase();
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    if let Some((_, n)) = SIGNALS.iter().find(|(s, _)| *s == name) {
        return Ok(*n);
    }
    let offset = |rest: &str| rest.parse::<i32>().ok().filter(|n| (1..=15).contains(n));
    if let Some(n) = name.strip_prefix("RTMIN+").and_then(offset) {
        return Ok(34 + n);
    }
    if let Some(n) = name.strip_prefix("RTMAX-").and_then(offset) {
        return Ok(64 - n);
    }
    Err(invalid())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::spec::host::test_facts;
    use api::types::{HealthConfig, Mount, MountType, PortBinding, RestartPolicy};

    fn runnable() -> ContainerConfig {
        ContainerConfig {
            cmd: Some(vec!["sh".into()]),
            ..Default::default()
        }
    }

    fn check(config: ContainerConfig, host: HostConfig) -> Result<Vec<String>> {
        validate_on(&config, &host, &test_facts())
    }

    #[test]
    fn config_refusals_in_dockers_words() {
        let cases: Vec<(ContainerConfig, &str)> = vec![
            (ContainerConfig::default(), "No command specified"),
            (
                ContainerConfig {
                    entrypoint: Some(vec![String::new()]),
                    ..Default::default()
                },
                "No command specified",
            ),
            (
                ContainerConfig {
                    working_dir: "app".into(),
                    ..runnable()
                },
                "the working directory 'app' is invalid, it needs to be an absolute path",
            ),
            (
                ContainerConfig {
                    stop_signal: "SIGFOO".into(),
                    ..runnable()
                },
                "Invalid signal: SIGFOO",
            ),
            (
                ContainerConfig {
                    env: Some(vec!["=x".into()]),
                    ..runnable()
                },
                "invalid environment variable: =x",
            ),
            (
                ContainerConfig {
                    healthcheck: Some(HealthConfig {
                        interval: 10,
                        ..Default::default()
                    }),
                    ..runnable()
                },
                "Interval in Healthcheck cannot be less than 1ms",
            ),
            (
                ContainerConfig {
                    healthcheck: Some(HealthConfig {
                        retries: -1,
                        ..Default::default()
                    }),
                    ..runnable()
                },
                "Retries in Healthcheck cannot be negative",
            ),
        ];
        for (config, message) in cases {
            assert_eq!(
                check(config, HostConfig::default())
                    .unwrap_err()
                    .to_string(),
                message
            );
        }
    }

    #[test]
    fn host_refusals_in_dockers_words() {
        let policy = |name: &str, count| RestartPolicy {
            name: name.into(),
            maximum_retry_count: count,
        };
        let cases: Vec<(HostConfig, &str)> = vec![
            (
                HostConfig {
                    auto_remove: true,
                    restart_policy: policy("always", 0),
                    ..Default::default()
                },
                "can't create 'AutoRemove' container with restart policy",
            ),
            (
                HostConfig {
                    restart_policy: policy("always", 3),
                    ..Default::default()
                },
                "invalid restart policy: maximum retry count can only be used with 'on-failure'",
            ),
            (
                HostConfig {
                    restart_policy: policy("on-failure", -1),
                    ..Default::default()
                },
                "invalid restart policy: maximum retry count cannot be negative",
            ),
            (
                HostConfig {
                    restart_policy: policy("sometimes", 0),
                    ..Default::default()
                },
                "invalid restart policy: unknown policy 'sometimes'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'",
            ),
            (
                HostConfig {
                    extra_hosts: Some(vec!["nohost".into()]),
                    ..Default::default()
                },
                "bad format for add-host: \"nohost\"",
            ),
            (
                HostConfig {
                    extra_hosts: Some(vec!["db:300.1.1.1".into()]),
                    ..Default::default()
                },
                "invalid IP address in add-host: \"300.1.1.1\"",
            ),
            (
                HostConfig {
                    port_bindings: Some(BTreeMap::from([("http/tcp".to_owned(), vec![])])),
                    ..Default::default()
                },
                "invalid port specification: \"http\"",
            ),
            (
                HostConfig {
                    port_bindings: Some(BTreeMap::from([(
                        "80/tcp".to_owned(),
                        vec![PortBinding {
                            host_ip: String::new(),
                            host_port: "99999".into(),
                        }],
                    )])),
                    ..Default::default()
                },
                "invalid port specification: \"99999\"",
            ),
            (
                HostConfig {
                    shm_size: -1,
                    ..Default::default()
                },
                "SHM size can not be less than 0",
            ),
            (
                HostConfig {
                    oom_score_adj: 1001,
                    ..Default::default()
                },
                "Invalid value 1001, range for oom score adj is [-1000, 1000]",
            ),
            (
                HostConfig {
                    isolation: "hyperv".into(),
                    ..Default::default()
                },
                "invalid isolation 'hyperv' on linux",
            ),
            (
                HostConfig {
                    cap_add: Some(vec!["FOO".into()]),
                    ..Default::default()
                },
                "invalid CapAdd: unknown capability: \"CAP_FOO\"",
            ),
            (
                HostConfig {
                    security_opt: Some(vec!["foo".into()]),
                    ..Default::default()
                },
                "invalid --security-opt 1: \"foo\"",
            ),
            (
                HostConfig {
                    mounts: Some(vec![Mount {
                        kind: MountType::Bind,
                        source: "/nonexistent-pier-source".into(),
                        target: "/x".into(),
                        ..Default::default()
                    }]),
                    ..Default::default()
                },
                "invalid mount config for type \"bind\": bind source path does not exist: /nonexistent-pier-source",
            ),
        ];
        for (host, message) in cases {
            assert_eq!(check(runnable(), host).unwrap_err().to_string(), message);
        }
    }

    #[test]
    fn accepted() {
        let host = HostConfig {
            extra_hosts: Some(vec![
                "db:10.0.0.2".into(),
                "v6=[::1]".into(),
                "gw:host-gateway".into(),
                "six:2001:db8::1".into(),
            ]),
            port_bindings: Some(BTreeMap::from([(
                "8000-8010/tcp".to_owned(),
                vec![PortBinding {
                    host_ip: "127.0.0.1".into(),
                    host_port: "9000-9010".into(),
                }],
            )])),
            restart_policy: RestartPolicy {
                name: "on-failure".into(),
                maximum_retry_count: 3,
            },
            ..Default::default()
        };
        assert!(check(runnable(), host).unwrap().is_empty());
        let host_net = HostConfig {
            network_mode: "host".into(),
            port_bindings: Some(BTreeMap::from([(
                "80/tcp".to_owned(),
                vec![PortBinding::default()],
            )])),
            ..Default::default()
        };
        assert_eq!(
            check(runnable(), host_net).unwrap(),
            ["Published ports are discarded when using host network mode"]
        );
    }

    #[test]
    fn signals() {
        for (raw, n) in [
            ("SIGTERM", 15),
            ("term", 15),
            ("KILL", 9),
            ("9", 9),
            ("SIGRTMIN+3", 37),
            ("RTMAX-1", 63),
            ("SIGWINCH", 28),
        ] {
            assert_eq!(parse_signal(raw).unwrap(), n, "{raw}");
        }
        for bad in ["0", "65", "SIGFOO", "RTMIN+16", ""] {
            assert_eq!(
                parse_signal(bad).unwrap_err().to_string(),
                format!("Invalid signal: {bad}")
            );
        }
    }
}
