//! `run`/`create` flags → the body of `POST /containers/create`, as Docker's CLI builds it
//! (`cli/command/container/opts.go`): which streams attach, environment and labels from
//! flags and files, volumes and mounts, ports, resources, health check, and Docker's
//! checks of flag combinations, with its texts.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use api::types::{
    ContainerConfig, ContainerCreateBody, DeviceMapping, EndpointIpamConfig, EndpointSettings,
    HealthConfig, HostConfig, LogConfig, NetworkingConfig, Resources, RestartPolicy,
};

use super::envfile::{go_io_error, read_env, read_labels};
use super::mounts::{VolumeSpec, parse_tmpfs, parse_volume};
use super::options::ContainerOptions;
use super::ports::Ports;
use crate::cli::args::kv_map;
use crate::cli::json;

/// How `run` and `create` treat an image that is not there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PullPolicy {
    Always,
    Missing,
    Never,
}

impl PullPolicy {
    pub fn parse(value: &str) -> Result<Self, String> {
        match value {
            "always" => Ok(Self::Always),
            "missing" | "" => Ok(Self::Missing),
            "never" => Ok(Self::Never),
            _ => Err(format!(
                "invalid pull option: '{value}': must be one of \"always\", \"missing\" or \"never\""
            )),
        }
    }
}

/// What `run`/`create` will do: the body and what goes beside it.
#[derive(Debug)]
pub struct CreatePlan {
    pub body: ContainerCreateBody,
    pub name: Option<String>,
    pub platform: Option<String>,
    pub pull: PullPolicy,
    pub quiet: bool,
    pub cidfile: Option<String>,
}

impl CreatePlan {
    pub fn image(&self) -> &str {
        &self.body.config.image
    }
}

/// Which streams a command attaches: Docker's rules for `-a`, `-i` and `-d`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Streams {
    pub stdin: bool,
    pub stdout: bool,
    pub stderr: bool,
}

/// Resolves the attached streams; `detach` is `run -d` (create never attaches).
pub fn streams(opts: &ContainerOptions, detach: bool) -> Result<Streams, String> {
    if detach {
        if !opts.attach.is_empty() {
            return Err("conflicting options: cannot specify both --attach and --detach".into());
        }
        return Ok(Streams::default());
    }
    if opts.attach.is_empty() {
        return Ok(Streams {
            stdin: opts.interactive,
            stdout: true,
            stderr: true,
        });
    }
    let has = |name: &str| opts.attach.iter().any(|a| a == name);
    Ok(Streams {
        stdin: has("stdin"),
        stdout: has("stdout"),
        stderr: has("stderr"),
    })
}

fn non_empty<T>(items: Vec<T>) -> Option<Vec<T>> {
    (!items.is_empty()).then_some(items)
}

fn valid_mode(
    flag: &str,
    value: &Option<String>,
    allowed: &[&str],
    what: &str,
) -> Result<String, String> {
    let value = value.clone().unwrap_or_default();
    let ok = allowed.contains(&value.as_str())
        || value.starts_with("container:") && allowed.contains(&"container:");
    if ok {
        Ok(value)
    } else {
        Err(format!("--{flag}: invalid {what} mode"))
    }
}

/// Docker's `--security-opt` check, with a seccomp profile file read and sent inline.
fn security_opts(values: &[String]) -> Result<Vec<String>, String> {
    let mut out = Vec::with_capacity(values.len());
    for opt in values {
        let (key, value) = match opt.split_once('=') {
            Some(kv) => kv,
            None if opt == "no-new-privileges" => (opt.as_str(), ""),
            None => opt.split_once(':').unwrap_or((opt.as_str(), "")),
        };
        if value.is_empty() && key != "no-new-privileges" {
            return Err(format!(
                "Invalid --security-opt: {}",
                crate::cli::text::go_quote(opt)
            ));
        }
        if key == "seccomp" && value != "builtin" && value != "unconfined" {
            let profile = std::fs::read(value).map_err(|e| {
                format!(
                    "opening seccomp profile ({value}) failed: {}",
                    go_io_error("open", value, &e)
                )
            })?;
            let compact = json::compact(&profile).map_err(|e| {
                format!("compacting json for seccomp profile ({value}) failed: {e}")
            })?;
            out.push(format!("seccomp={compact}"));
            continue;
        }
        out.push(opt.clone());
    }
    Ok(out)
}

/// `--device /dev/fuse[:/dev/fuse[:rwm]]`.
fn parse_device(value: &str) -> Result<DeviceMapping, String> {
    let parts: Vec<&str> = value.split(':').collect();
    let valid_permissions = |p: &str| !p.is_empty() && p.chars().all(|c| "rwm".contains(c));
    let (host, container, permissions) = match parts.as_slice() {
        [host] => (*host, *host, "rwm"),
        [host, second] if valid_permissions(second) => (*host, *host, *second),
        [host, container] => (*host, *container, "rwm"),
        [host, container, permissions] => {
            if !valid_permissions(permissions) {
                return Err(format!("invalid device mode: {permissions}"));
            }
            (*host, *container, *permissions)
        }
        _ => return Err(format!("invalid device specification: {value}")),
    };
    Ok(DeviceMapping {
        path_on_host: host.to_owned(),
        path_in_container: container.to_owned(),
        cgroup_permissions: permissions.to_owned(),
    })
}

/// `no`, `always`, `unless-stopped`, `on-failure[:N]`.
fn restart_policy(value: &str) -> Result<RestartPolicy, String> {
    if value.is_empty() {
        return Ok(RestartPolicy::default());
    }
    let (name, count) = match value.split_once(':') {
        Some(("", _)) => {
            return Err("invalid restart policy format: no policy provided before colon".into());
        }
        Some((name, count)) => (name, count),
        None => (value, ""),
    };
    let maximum_retry_count = if count.is_empty() {
        0
    } else {
        count.parse().map_err(|_| {
            "invalid restart policy format: maximum retry count must be an integer".to_owned()
        })?
    };
    Ok(RestartPolicy {
        name: name.to_owned(),
        maximum_retry_count,
    })
}

fn health(opts: &ContainerOptions) -> Result<Option<HealthConfig>, String> {
    let any_set = opts.health_cmd.is_some()
        || opts.health_interval != 0
        || opts.health_timeout != 0
        || opts.health_start_period != 0
        || opts.health_start_interval != 0
        || opts.health_retries != 0;
    if opts.no_healthcheck {
        if any_set {
            return Err("--no-healthcheck conflicts with --health-* options".into());
        }
        return Ok(Some(HealthConfig {
            test: vec!["NONE".into()],
            ..HealthConfig::default()
        }));
    }
    if !any_set {
        return Ok(None);
    }
    for (value, name) in [
        (opts.health_interval, "--health-interval"),
        (opts.health_timeout, "--health-timeout"),
        (opts.health_start_period, "--health-start-period"),
        (opts.health_start_interval, "--health-start-interval"),
    ] {
        if value < 0 {
            return Err(format!("{name} cannot be negative"));
        }
    }
    if opts.health_retries < 0 {
        return Err("--health-retries cannot be negative".into());
    }
    let test = match opts.health_cmd.as_deref() {
        Some(cmd) if !cmd.is_empty() => vec!["CMD-SHELL".into(), cmd.to_owned()],
        _ => Vec::new(),
    };
    Ok(Some(HealthConfig {
        test,
        interval: opts.health_interval,
        timeout: opts.health_timeout,
        start_period: opts.health_start_period,
        start_interval: opts.health_start_interval,
        retries: opts.health_retries,
    }))
}

fn networking(opts: &ContainerOptions) -> (String, Option<NetworkingConfig>) {
    let mode = opts
        .network
        .first()
        .cloned()
        .unwrap_or_else(|| "default".to_owned());
    let wants_endpoint = !opts.network_alias.is_empty()
        || opts.ip.is_some()
        || opts.ip6.is_some()
        || opts.mac_address.is_some()
        || !opts.link.is_empty()
        || opts.network.len() > 1;
    if !wants_endpoint {
        return (mode, None);
    }
    let mut endpoints = BTreeMap::new();
    for (index, network) in std::iter::once(&mode)
        .chain(opts.network.iter().skip(1))
        .enumerate()
    {
        let mut endpoint = EndpointSettings::default();
        if index == 0 {
            endpoint.aliases = non_empty(opts.network_alias.clone());
            endpoint.links = non_empty(opts.link.clone());
            endpoint.mac_address = opts.mac_address.clone().unwrap_or_default();
            if opts.ip.is_some() || opts.ip6.is_some() {
                endpoint.ipam_config = Some(EndpointIpamConfig {
                    ipv4_address: opts.ip.clone().unwrap_or_default(),
                    ipv6_address: opts.ip6.clone().unwrap_or_default(),
                    ..EndpointIpamConfig::default()
                });
            }
        }
        endpoints.insert(network.clone(), endpoint);
    }
    (
        mode,
        Some(NetworkingConfig {
            endpoints_config: Some(endpoints),
        }),
    )
}

/// Builds the create body. `tty_size` is the local terminal's `(height, width)` when the
/// container gets a terminal; `cwd` resolves relative bind sources.
pub fn translate(
    opts: &ContainerOptions,
    streams: Streams,
    tty_size: Option<(u16, u16)>,
    cwd: &Path,
) -> Result<CreatePlan, String> {
    let (image, command) = opts
        .image_and_command
        .split_first()
        .map(|(image, command)| (image.clone(), command.to_vec()))
        .unwrap_or_default();
    let pull = PullPolicy::parse(&opts.pull)?;
    let env = read_env(&opts.env_file, &opts.env)?;
    let labels = read_labels(&opts.label_file, &opts.label)?;

    let mut ports = Ports::default();
    for spec in &opts.publish {
        ports.publish(spec)?;
    }
    for spec in &opts.expose {
        ports.expose(spec)?;
    }

    let mut binds = Vec::new();
    let mut volumes = BTreeSet::new();
    for spec in &opts.volume {
        match parse_volume(spec, cwd) {
            VolumeSpec::Bind(bind) => binds.push(bind),
            VolumeSpec::Anonymous(path) => {
                volumes.insert(path);
            }
        }
    }
    let tmpfs: BTreeMap<String, String> = opts.tmpfs.iter().map(|t| parse_tmpfs(t)).collect();

    if opts.memory_swappiness != -1 && !(0..=100).contains(&opts.memory_swappiness) {
        return Err(format!(
            "invalid value: {}. Valid memory swappiness range is 0-100",
            opts.memory_swappiness
        ));
    }
    let devices = opts
        .device
        .iter()
        .map(|d| parse_device(d))
        .collect::<Result<Vec<_>, _>>()?;
    let pid_mode = valid_mode("pid", &opts.pid, &["", "host", "container:"], "PID")?;
    let uts_mode = valid_mode("uts", &opts.uts, &["", "host"], "UTS")?;
    let userns_mode = valid_mode("userns", &opts.userns, &["", "host"], "USER")?;
    let cgroupns_mode = valid_mode(
        "cgroupns",
        &opts.cgroupns,
        &["", "host", "private"],
        "CGROUP",
    )?;
    let restart = restart_policy(&opts.restart)?;
    if opts.rm && !(restart.name.is_empty() || restart.name == "no") {
        return Err("conflicting options: cannot specify both --restart and --rm".to_owned());
    }
    let healthcheck = health(opts)?;
    let security_opt = security_opts(&opts.security_opt)?;
    let log_config = {
        let options = kv_map(&opts.log_opt);
        let driver = opts.log_driver.clone().unwrap_or_default();
        if driver == "none" && !options.is_empty() {
            return Err(format!("invalid logging opts for driver {driver}"));
        }
        LogConfig {
            kind: driver,
            config: Some(options),
        }
    };
    let entrypoint = match opts.entrypoint.as_deref() {
        Some("") => Some(vec![String::new()]),
        Some(entrypoint) => Some(vec![entrypoint.to_owned()]),
        None => None,
    };
    let (network_mode, networking_config) = networking(opts);
    let tty = opts.tty;

    let config = ContainerConfig {
        hostname: opts.hostname.clone().unwrap_or_default(),
        domainname: opts.domainname.clone().unwrap_or_default(),
        user: opts.user.clone().unwrap_or_default(),
        attach_stdin: streams.stdin,
        attach_stdout: streams.stdout,
        attach_stderr: streams.stderr,
        exposed_ports: Some(ports.exposed),
        tty,
        open_stdin: opts.interactive,
        stdin_once: opts.interactive && streams.stdin,
        env: Some(env),
        cmd: non_empty(command),
        healthcheck,
        image,
        volumes: Some(volumes),
        working_dir: opts.workdir.clone().unwrap_or_default(),
        entrypoint,
        mac_address: String::new(),
        labels: Some(labels),
        stop_signal: opts.stop_signal.clone().unwrap_or_default(),
        stop_timeout: opts.stop_timeout,
        ..ContainerConfig::default()
    };
    let resources = Resources {
        cpu_shares: opts.cpu_shares.unwrap_or(0),
        memory: opts.memory.unwrap_or(0),
        nano_cpus: opts.cpus.unwrap_or(0),
        cgroup_parent: opts.cgroup_parent.clone().unwrap_or_default(),
        blkio_weight: opts.blkio_weight,
        cpu_period: opts.cpu_period.unwrap_or(0),
        cpu_quota: opts.cpu_quota.unwrap_or(0),
        cpu_realtime_period: opts.cpu_rt_period.unwrap_or(0),
        cpu_realtime_runtime: opts.cpu_rt_runtime.unwrap_or(0),
        cpuset_cpus: opts.cpuset_cpus.clone().unwrap_or_default(),
        cpuset_mems: opts.cpuset_mems.clone().unwrap_or_default(),
        devices: Some(devices),
        device_cgroup_rules: non_empty(opts.device_cgroup_rule.clone()),
        memory_reservation: opts.memory_reservation.unwrap_or(0),
        memory_swap: opts.memory_swap.unwrap_or(0),
        memory_swappiness: Some(opts.memory_swappiness),
        oom_kill_disable: Some(opts.oom_kill_disable),
        pids_limit: opts.pids_limit,
        ulimits: Some(opts.ulimit.clone()),
        ..Resources::default()
    };
    let host_config = HostConfig {
        binds: non_empty(binds),
        container_id_file: opts.cidfile.clone().unwrap_or_default(),
        log_config,
        network_mode,
        port_bindings: Some(ports.bindings),
        restart_policy: restart,
        auto_remove: opts.rm,
        volume_driver: opts.volume_driver.clone().unwrap_or_default(),
        volumes_from: non_empty(opts.volumes_from.clone()),
        console_size: match (tty, tty_size) {
            (true, Some((height, width))) => [u64::from(height), u64::from(width)],
            _ => [0, 0],
        },
        annotations: Some(kv_map(&opts.annotation)),
        cap_add: non_empty(opts.cap_add.clone()),
        cap_drop: non_empty(opts.cap_drop.clone()),
        cgroupns_mode,
        dns: Some(opts.dns.clone()),
        dns_options: Some(opts.dns_option.clone()),
        dns_search: Some(opts.dns_search.clone()),
        extra_hosts: non_empty(opts.add_host.clone()),
        group_add: non_empty(opts.group_add.clone()),
        ipc_mode: opts.ipc.clone().unwrap_or_default(),
        links: non_empty(opts.link.clone()),
        oom_score_adj: opts.oom_score_adj,
        pid_mode,
        privileged: opts.privileged,
        publish_all_ports: opts.publish_all,
        readonly_rootfs: opts.read_only,
        security_opt: non_empty(security_opt),
        storage_opt: Some(kv_map(&opts.storage_opt)),
        tmpfs: Some(tmpfs),
        uts_mode,
        userns_mode,
        shm_size: opts.shm_size.unwrap_or(0),
        sysctls: Some(kv_map(&opts.sysctl)),
        runtime: opts.runtime.clone().unwrap_or_default(),
        isolation: opts.isolation.clone().unwrap_or_default(),
        resources,
        mounts: non_empty(opts.mount.clone()),
        init: opts.init.then_some(true),
        ..HostConfig::default()
    };
    Ok(CreatePlan {
        body: ContainerCreateBody {
            config,
            host_config: Some(host_config),
            networking_config,
        },
        name: opts.name.clone(),
        platform: opts.platform.clone(),
        pull,
        quiet: opts.quiet,
        cidfile: opts.cidfile.clone(),
    })
}

#[cfg(test)]
mod tests;
