//! The flags of `run` and `create`, spelled as Docker's, with Docker's texts for values
//! that do not parse (`invalid argument "x" for "--stop-timeout" flag: ...`).

use api::types::{Mount, Ulimit};
use clap::{ArgAction, Args};

use super::envfile::{validate_env, validate_label};
use super::mounts::parse_mount;
use crate::cli::text::go_quote;
use crate::cli::time::parse_go_duration;

/// Go's `strconv.ParseInt(text, 10, 64)`, with its error text.
pub fn parse_int(text: &str) -> Result<i64, String> {
    text.parse::<i64>().map_err(|e| {
        let reason = match e.kind() {
            std::num::IntErrorKind::PosOverflow | std::num::IntErrorKind::NegOverflow => {
                "value out of range"
            }
            _ => "invalid syntax",
        };
        format!("strconv.ParseInt: parsing {}: {reason}", go_quote(text))
    })
}

/// Go's `strconv.ParseUint(text, 10, 16)`, with its error text.
pub fn parse_u16(text: &str) -> Result<u16, String> {
    text.parse::<u16>().map_err(|e| {
        let reason = match e.kind() {
            std::num::IntErrorKind::PosOverflow => "value out of range",
            _ => "invalid syntax",
        };
        format!("strconv.ParseUint: parsing {}: {reason}", go_quote(text))
    })
}

/// A memory size (`512m`), as go-units' `RAMInBytes`.
pub fn parse_bytes(text: &str) -> Result<i64, String> {
    crate::cli::units::ram_in_bytes(text)
}

/// `--memory-swap`: a size, or -1 for unlimited.
pub fn parse_swap(text: &str) -> Result<i64, String> {
    if text == "-1" {
        return Ok(-1);
    }
    parse_bytes(text)
}

/// `--cpus 1.5` → nano CPUs.
pub fn parse_cpus(text: &str) -> Result<i64, String> {
    api::units::parse_cpus(text).map_err(|e| e.to_string())
}

/// A Go duration (`30s`) in nanoseconds, negative allowed (checked later, as Docker does).
pub fn parse_duration(text: &str) -> Result<i64, String> {
    let (negative, duration) = parse_go_duration(text)
        .ok_or_else(|| format!("time: invalid duration {}", go_quote(text)))?;
    let nanos = i64::try_from(duration.as_nanos()).unwrap_or(i64::MAX);
    Ok(if negative { -nanos } else { nanos })
}

/// `nofile=1024[:2048]`.
pub fn parse_ulimit(text: &str) -> Result<Ulimit, String> {
    let (name, limits) = text
        .split_once('=')
        .ok_or_else(|| format!("invalid ulimit argument: {text}"))?;
    let (soft, hard) = match limits.split_once(':') {
        Some((soft, hard)) => (parse_int(soft)?, parse_int(hard)?),
        None => {
            let both = parse_int(limits)?;
            (both, both)
        }
    };
    if soft > hard {
        return Err(format!(
            "ulimit soft limit must be less than or equal to hard limit: {soft} > {hard}"
        ));
    }
    Ok(Ulimit {
        name: name.to_owned(),
        soft,
        hard,
    })
}

/// Docker's `ValidateSysctl`: `name=value` for the namespaced sysctls only.
pub fn parse_sysctl(text: &str) -> Result<String, String> {
    const EXACT: [&str; 8] = [
        "kernel.msgmax",
        "kernel.msgmnb",
        "kernel.msgmni",
        "kernel.sem",
        "kernel.shmall",
        "kernel.shmmax",
        "kernel.shmmni",
        "kernel.shm_rmid_forced",
    ];
    const PREFIXES: [&str; 2] = ["fs.mqueue.", "net."];
    let not_allowed = || format!("sysctl '{text}' is not allowed");
    let (name, _) = text.split_once('=').ok_or_else(not_allowed)?;
    if EXACT.contains(&name) || PREFIXES.iter().any(|p| name.starts_with(p)) {
        Ok(text.to_owned())
    } else {
        Err(not_allowed())
    }
}

/// Docker's `ValidateExtraHost`: `name:ip` or `name=ip`, sent as `name:ip`.
pub fn parse_add_host(text: &str) -> Result<String, String> {
    let (name, ip) = text
        .split_once('=')
        .or_else(|| text.split_once(':'))
        .filter(|(name, _)| !name.is_empty())
        .ok_or_else(|| format!("bad format for add-host: {}", go_quote(text)))?;
    if ip != "host-gateway" {
        let bare = ip
            .strip_prefix('[')
            .and_then(|rest| rest.strip_suffix(']'))
            .unwrap_or(ip);
        if bare.parse::<std::net::IpAddr>().is_err() {
            return Err(format!("invalid IP address in add-host: {}", go_quote(ip)));
        }
        return Ok(format!("{name}:{bare}"));
    }
    Ok(format!("{name}:{ip}"))
}

/// `-a stdin|stdout|stderr`.
pub fn parse_attach(text: &str) -> Result<String, String> {
    let lower = text.to_lowercase();
    match lower.as_str() {
        "stdin" | "stdout" | "stderr" => Ok(lower),
        _ => Err("valid streams are STDIN, STDOUT and STDERR".to_owned()),
    }
}

fn parse_env(text: &str) -> Result<String, String> {
    validate_env(text)
}

fn parse_label(text: &str) -> Result<String, String> {
    validate_label(text)
}

fn parse_mount_flag(text: &str) -> Result<Mount, String> {
    let cwd = std::env::current_dir().unwrap_or_else(|_| "/".into());
    parse_mount(text, &cwd)
}

/// The flags `run` and `create` share.
#[derive(Args, Debug, Default)]
pub struct ContainerOptions {
    /// Add a custom host-to-IP mapping (host:ip)
    #[arg(long = "add-host", value_name = "list", value_parser = parse_add_host)]
    pub add_host: Vec<String>,
    /// Add an annotation to the container (passed through to the OCI runtime)
    #[arg(long = "annotation", value_name = "map")]
    pub annotation: Vec<String>,
    /// Attach to STDIN, STDOUT or STDERR
    #[arg(short = 'a', long = "attach", value_name = "list", value_parser = parse_attach)]
    pub attach: Vec<String>,
    /// Block IO (relative weight), between 10 and 1000, or 0 to disable
    #[arg(long, value_name = "uint16", value_parser = parse_u16, default_value_t = 0)]
    pub blkio_weight: u16,
    /// Add Linux capabilities
    #[arg(long = "cap-add", value_name = "list")]
    pub cap_add: Vec<String>,
    /// Drop Linux capabilities
    #[arg(long = "cap-drop", value_name = "list")]
    pub cap_drop: Vec<String>,
    /// Optional parent cgroup for the container
    #[arg(long, value_name = "string")]
    pub cgroup_parent: Option<String>,
    /// Cgroup namespace to use (host|private)
    #[arg(long, value_name = "string")]
    pub cgroupns: Option<String>,
    /// Write the container ID to the file
    #[arg(long, value_name = "string")]
    pub cidfile: Option<String>,
    /// Limit CPU CFS (Completely Fair Scheduler) period
    #[arg(long, value_name = "int", value_parser = parse_int, allow_negative_numbers = true)]
    pub cpu_period: Option<i64>,
    /// Limit CPU CFS (Completely Fair Scheduler) quota
    #[arg(long, value_name = "int", value_parser = parse_int, allow_negative_numbers = true)]
    pub cpu_quota: Option<i64>,
    /// Limit CPU real-time period in microseconds
    #[arg(long, value_name = "int", value_parser = parse_int, allow_negative_numbers = true)]
    pub cpu_rt_period: Option<i64>,
    /// Limit CPU real-time runtime in microseconds
    #[arg(long, value_name = "int", value_parser = parse_int, allow_negative_numbers = true)]
    pub cpu_rt_runtime: Option<i64>,
    /// CPU shares (relative weight)
    #[arg(short = 'c', long, value_name = "int", value_parser = parse_int, allow_negative_numbers = true)]
    pub cpu_shares: Option<i64>,
    /// Number of CPUs
    #[arg(long, value_name = "decimal", value_parser = parse_cpus, allow_negative_numbers = true)]
    pub cpus: Option<i64>,
    /// CPUs in which to allow execution (0-3, 0,1)
    #[arg(long, value_name = "string")]
    pub cpuset_cpus: Option<String>,
    /// MEMs in which to allow execution (0-3, 0,1)
    #[arg(long, value_name = "string")]
    pub cpuset_mems: Option<String>,
    /// Add a host device to the container
    #[arg(long = "device", value_name = "list")]
    pub device: Vec<String>,
    /// Add a rule to the cgroup allowed devices list
    #[arg(long = "device-cgroup-rule", value_name = "list")]
    pub device_cgroup_rule: Vec<String>,
    /// Skip image verification
    #[arg(long, hide = true)]
    pub disable_content_trust: bool,
    /// Set custom DNS servers
    #[arg(long = "dns", value_name = "list")]
    pub dns: Vec<String>,
    /// Set DNS options
    #[arg(long = "dns-option", alias = "dns-opt", value_name = "list")]
    pub dns_option: Vec<String>,
    /// Set custom DNS search domains
    #[arg(long = "dns-search", value_name = "list")]
    pub dns_search: Vec<String>,
    /// Container NIS domain name
    #[arg(long, value_name = "string")]
    pub domainname: Option<String>,
    /// Overwrite the default ENTRYPOINT of the image
    #[arg(long, value_name = "string", allow_hyphen_values = true)]
    pub entrypoint: Option<String>,
    /// Set environment variables
    #[arg(short = 'e', long = "env", value_name = "list", value_parser = parse_env, allow_hyphen_values = true)]
    pub env: Vec<String>,
    /// Read in a file of environment variables
    #[arg(long = "env-file", value_name = "list")]
    pub env_file: Vec<String>,
    /// Expose a port or a range of ports
    #[arg(long = "expose", value_name = "list")]
    pub expose: Vec<String>,
    /// Add additional groups to join
    #[arg(long = "group-add", value_name = "list")]
    pub group_add: Vec<String>,
    /// Command to run to check health
    #[arg(long, value_name = "string", allow_hyphen_values = true)]
    pub health_cmd: Option<String>,
    /// Time between running the check (ms|s|m|h)
    #[arg(long, value_name = "duration", value_parser = parse_duration, allow_negative_numbers = true, default_value = "0s")]
    pub health_interval: i64,
    /// Consecutive failures needed to report unhealthy
    #[arg(long, value_name = "int", value_parser = parse_int, allow_negative_numbers = true, default_value_t = 0)]
    pub health_retries: i64,
    /// Time between running the check during the start period (ms|s|m|h)
    #[arg(long, value_name = "duration", value_parser = parse_duration, allow_negative_numbers = true, default_value = "0s")]
    pub health_start_interval: i64,
    /// Start period for the container to initialize before starting health-retries countdown (ms|s|m|h)
    #[arg(long, value_name = "duration", value_parser = parse_duration, allow_negative_numbers = true, default_value = "0s")]
    pub health_start_period: i64,
    /// Maximum time to allow one check to run (ms|s|m|h)
    #[arg(long, value_name = "duration", value_parser = parse_duration, allow_negative_numbers = true, default_value = "0s")]
    pub health_timeout: i64,
    /// Print usage
    #[arg(long, action = ArgAction::Help)]
    pub help: Option<bool>,
    /// Container host name
    #[arg(short = 'h', long, value_name = "string")]
    pub hostname: Option<String>,
    /// Run an init inside the container that forwards signals and reaps processes
    #[arg(long)]
    pub init: bool,
    /// Keep STDIN open even if not attached
    #[arg(short = 'i', long)]
    pub interactive: bool,
    /// IPv4 address (e.g., 172.30.100.104)
    #[arg(long, value_name = "string")]
    pub ip: Option<String>,
    /// IPv6 address (e.g., 2001:db8::33)
    #[arg(long, value_name = "string")]
    pub ip6: Option<String>,
    /// IPC mode to use
    #[arg(long, value_name = "string")]
    pub ipc: Option<String>,
    /// Container isolation technology
    #[arg(long, value_name = "string")]
    pub isolation: Option<String>,
    /// Set meta data on a container
    #[arg(short = 'l', long = "label", value_name = "list", value_parser = parse_label)]
    pub label: Vec<String>,
    /// Read in a line delimited file of labels
    #[arg(long = "label-file", value_name = "list")]
    pub label_file: Vec<String>,
    /// Add link to another container
    #[arg(long = "link", value_name = "list")]
    pub link: Vec<String>,
    /// Logging driver for the container
    #[arg(long, value_name = "string")]
    pub log_driver: Option<String>,
    /// Log driver options
    #[arg(long = "log-opt", value_name = "list")]
    pub log_opt: Vec<String>,
    /// Container MAC address (e.g., 92:d0:c6:0a:29:33)
    #[arg(long, value_name = "string")]
    pub mac_address: Option<String>,
    /// Memory limit
    #[arg(short = 'm', long, value_name = "bytes", value_parser = parse_bytes)]
    pub memory: Option<i64>,
    /// Memory soft limit
    #[arg(long, value_name = "bytes", value_parser = parse_bytes)]
    pub memory_reservation: Option<i64>,
    /// Swap limit equal to memory plus swap: '-1' to enable unlimited swap
    #[arg(long, value_name = "bytes", value_parser = parse_swap, allow_negative_numbers = true)]
    pub memory_swap: Option<i64>,
    /// Tune container memory swappiness (0 to 100)
    #[arg(long, value_name = "int", value_parser = parse_int, allow_negative_numbers = true, default_value_t = -1)]
    pub memory_swappiness: i64,
    /// Attach a filesystem mount to the container
    #[arg(long = "mount", value_name = "mount", value_parser = parse_mount_flag)]
    pub mount: Vec<Mount>,
    /// Assign a name to the container
    #[arg(long, value_name = "string")]
    pub name: Option<String>,
    /// Connect a container to a network
    #[arg(long = "network", alias = "net", value_name = "network")]
    pub network: Vec<String>,
    /// Add network-scoped alias for the container
    #[arg(long = "network-alias", alias = "net-alias", value_name = "list")]
    pub network_alias: Vec<String>,
    /// Disable any container-specified HEALTHCHECK
    #[arg(long)]
    pub no_healthcheck: bool,
    /// Disable OOM Killer
    #[arg(long)]
    pub oom_kill_disable: bool,
    /// Tune host's OOM preferences (-1000 to 1000)
    #[arg(long, value_name = "int", value_parser = parse_int, allow_negative_numbers = true, default_value_t = 0)]
    pub oom_score_adj: i64,
    /// PID namespace to use
    #[arg(long, value_name = "string")]
    pub pid: Option<String>,
    /// Tune container pids limit (set -1 for unlimited)
    #[arg(long, value_name = "int", value_parser = parse_int, allow_negative_numbers = true)]
    pub pids_limit: Option<i64>,
    /// Set platform if server is multi-platform capable
    #[arg(long, value_name = "string")]
    pub platform: Option<String>,
    /// Give extended privileges to this container
    #[arg(long)]
    pub privileged: bool,
    /// Publish a container's port(s) to the host
    #[arg(short = 'p', long = "publish", value_name = "list")]
    pub publish: Vec<String>,
    /// Publish all exposed ports to random ports
    #[arg(short = 'P', long)]
    pub publish_all: bool,
    /// Pull image before running ("always", "missing", "never")
    #[arg(long, value_name = "string", default_value = "missing")]
    pub pull: String,
    /// Suppress the pull output
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Mount the container's root filesystem as read only
    #[arg(long)]
    pub read_only: bool,
    /// Restart policy to apply when a container exits
    #[arg(long, value_name = "string", default_value = "no")]
    pub restart: String,
    /// Automatically remove the container and its associated anonymous volumes when it exits
    #[arg(long)]
    pub rm: bool,
    /// Runtime to use for this container
    #[arg(long, value_name = "string")]
    pub runtime: Option<String>,
    /// Security Options
    #[arg(long = "security-opt", value_name = "list")]
    pub security_opt: Vec<String>,
    /// Size of /dev/shm
    #[arg(long, value_name = "bytes", value_parser = parse_bytes)]
    pub shm_size: Option<i64>,
    /// Signal to stop the container
    #[arg(long, value_name = "string")]
    pub stop_signal: Option<String>,
    /// Timeout (in seconds) to stop a container
    #[arg(long, value_name = "int", value_parser = parse_int, allow_negative_numbers = true)]
    pub stop_timeout: Option<i64>,
    /// Storage driver options for the container
    #[arg(long = "storage-opt", value_name = "list")]
    pub storage_opt: Vec<String>,
    /// Sysctl options
    #[arg(long = "sysctl", value_name = "map", value_parser = parse_sysctl)]
    pub sysctl: Vec<String>,
    /// Mount a tmpfs directory
    #[arg(long = "tmpfs", value_name = "list")]
    pub tmpfs: Vec<String>,
    /// Allocate a pseudo-TTY
    #[arg(short = 't', long)]
    pub tty: bool,
    /// Ulimit options
    #[arg(long = "ulimit", value_name = "ulimit", value_parser = parse_ulimit)]
    pub ulimit: Vec<Ulimit>,
    /// Username or UID (format: <name|uid>[:<group|gid>])
    #[arg(short = 'u', long, value_name = "string")]
    pub user: Option<String>,
    /// User namespace to use
    #[arg(long, value_name = "string")]
    pub userns: Option<String>,
    /// UTS namespace to use
    #[arg(long, value_name = "string")]
    pub uts: Option<String>,
    /// Bind mount a volume
    #[arg(short = 'v', long = "volume", value_name = "list")]
    pub volume: Vec<String>,
    /// Optional volume driver for the container
    #[arg(long, value_name = "string")]
    pub volume_driver: Option<String>,
    /// Mount volumes from the specified container(s)
    #[arg(long = "volumes-from", value_name = "list")]
    pub volumes_from: Vec<String>,
    /// Working directory inside the container
    #[arg(short = 'w', long, value_name = "string")]
    pub workdir: Option<String>,
    /// The image, then the command and its arguments
    #[arg(
        value_name = "IMAGE",
        required = true,
        num_args = 1..,
        trailing_var_arg = true
    )]
    pub image_and_command: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_fail_in_gos_words() {
        assert_eq!(
            parse_int("x").unwrap_err(),
            "strconv.ParseInt: parsing \"x\": invalid syntax"
        );
        assert_eq!(parse_int("-5").unwrap(), -5);
        assert_eq!(
            parse_u16("70000").unwrap_err(),
            "strconv.ParseUint: parsing \"70000\": value out of range"
        );
        assert_eq!(
            parse_duration("x").unwrap_err(),
            "time: invalid duration \"x\""
        );
        assert_eq!(parse_duration("1m30s").unwrap(), 90_000_000_000);
        assert_eq!(parse_duration("-1s").unwrap(), -1_000_000_000);
    }

    #[test]
    fn ulimits() {
        let both = parse_ulimit("nofile=1024:2048").unwrap();
        assert_eq!(
            (both.name.as_str(), both.soft, both.hard),
            ("nofile", 1024, 2048)
        );
        let one = parse_ulimit("nproc=5").unwrap();
        assert_eq!((one.soft, one.hard), (5, 5));
        assert_eq!(
            parse_ulimit("foo").unwrap_err(),
            "invalid ulimit argument: foo"
        );
        assert_eq!(
            parse_ulimit("nofile=a").unwrap_err(),
            "strconv.ParseInt: parsing \"a\": invalid syntax"
        );
    }

    #[test]
    fn sysctls_and_hosts() {
        assert_eq!(
            parse_sysctl("foo").unwrap_err(),
            "sysctl 'foo' is not allowed"
        );
        assert!(parse_sysctl("net.ipv4.ip_forward=1").is_ok());
        assert!(parse_sysctl("kernel.shmmax=1").is_ok());
        assert!(parse_sysctl("kernel.domainname=x").is_err());
        assert_eq!(
            parse_add_host("foo").unwrap_err(),
            "bad format for add-host: \"foo\""
        );
        assert_eq!(parse_add_host("db=10.0.0.2").unwrap(), "db:10.0.0.2");
        assert_eq!(parse_add_host("db:10.0.0.2").unwrap(), "db:10.0.0.2");
        assert_eq!(parse_add_host("v6=[::1]").unwrap(), "v6:::1");
        assert_eq!(
            parse_add_host("gw:host-gateway").unwrap(),
            "gw:host-gateway"
        );
        assert_eq!(
            parse_add_host("db:nope").unwrap_err(),
            "invalid IP address in add-host: \"nope\""
        );
    }
}
