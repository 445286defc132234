//! What `docker version` and `docker info` show: pier's version, the host's facts, and the
//! daemon's counts and settings.

use std::collections::BTreeMap;

use api::types::{
    ComponentVersion, IndexInfo, PlatformName, PluginsInfo, RegistryServiceConfig, Runtime,
    SystemInfo, SystemVersion,
};
use api::version::{MAX_API_VERSION, MIN_API_VERSION};

use super::host;
use crate::Engine;
use crate::containers::Status;
use crate::error::Result;
use crate::server::ENGINE_VERSION;

const GIT_COMMIT: &str = match option_env!("PIER_GIT_COMMIT") {
    Some(commit) => commit,
    None => "unknown",
};
const BUILD_TIME: &str = match option_env!("PIER_BUILD_TIME") {
    Some(time) => time,
    None => "",
};
/// pier is not written in Go; Docker's clients print this field as it is.
const GO_VERSION: &str = "n/a";

pub fn version() -> SystemVersion {
    let kernel = host::uname().release;
    let details: BTreeMap<String, String> = [
        ("ApiVersion", MAX_API_VERSION.to_string()),
        ("Arch", host::go_arch().to_owned()),
        ("BuildTime", BUILD_TIME.to_owned()),
        ("Experimental", "false".to_owned()),
        ("GitCommit", GIT_COMMIT.to_owned()),
        ("GoVersion", GO_VERSION.to_owned()),
        ("KernelVersion", kernel.clone()),
        ("MinAPIVersion", MIN_API_VERSION.to_string()),
        ("Os", "linux".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    SystemVersion {
        platform: PlatformName {
            name: "pier".to_owned(),
        },
        components: vec![ComponentVersion {
            name: "Engine".to_owned(),
            version: ENGINE_VERSION.to_owned(),
            details: Some(details),
        }],
        version: ENGINE_VERSION.to_owned(),
        api_version: MAX_API_VERSION.to_string(),
        min_api_version: MIN_API_VERSION.to_string(),
        git_commit: GIT_COMMIT.to_owned(),
        go_version: GO_VERSION.to_owned(),
        os: "linux".to_owned(),
        arch: host::go_arch().to_owned(),
        kernel_version: kernel,
        experimental: false,
        build_time: BUILD_TIME.to_owned(),
    }
}

#[derive(Default)]
struct Counts {
    running: i64,
    paused: i64,
    stopped: i64,
}

fn container_counts(engine: &Engine) -> Counts {
    let mut counts = Counts::default();
    for handle in engine.containers.all() {
        match handle.record().state.status {
            Status::Paused => counts.paused += 1,
            Status::Running | Status::Restarting => counts.running += 1,
            _ => counts.stopped += 1,
        }
    }
    counts
}

/// Blocking: reads the image store and a few files of /proc and /sys.
pub fn info(engine: &Engine, listeners: i64) -> Result<SystemInfo> {
    let counts = container_counts(engine);
    let images = engine.images.list()?.len() as i64;
    let uname = host::uname();
    let (operating_system, os_version) = host::os_release();
    let v2 = host::cgroup_v2();
    let (nfd, threads) = host::fds_and_threads();
    let data_root = &engine.config.data_root;
    let bridge_iptables = host::sysctl_on("/proc/sys/net/bridge/bridge-nf-call-iptables");
    let bridge_ip6tables = host::sysctl_on("/proc/sys/net/bridge/bridge-nf-call-ip6tables");
    let swap_limit = host::swap_limit(v2);
    let mut warnings = Vec::new();
    if !swap_limit {
        warnings.push("WARNING: No swap limit support".to_owned());
    }
    if !bridge_iptables {
        warnings.push("WARNING: bridge-nf-call-iptables is disabled".to_owned());
    }
    if !bridge_ip6tables {
        warnings.push("WARNING: bridge-nf-call-ip6tables is disabled".to_owned());
    }
    let mut security_options = vec!["name=seccomp,profile=builtin".to_owned()];
    if v2 {
        security_options.push("name=cgroupns".to_owned());
    }
    let runtimes = BTreeMap::from([(
        "pier".to_owned(),
        Runtime {
            path: engine.config.pier_exe.display().to_string(),
            runtime_args: vec!["runtime".to_owned()],
            status: None,
        },
    )]);
    let registry = RegistryServiceConfig {
        insecure_registry_cidrs: vec!["127.0.0.0/8".to_owned()],
        index_configs: BTreeMap::from([(
            "docker.io".to_owned(),
            IndexInfo {
                name: "docker.io".to_owned(),
                mirrors: Vec::new(),
                secure: true,
                official: true,
            },
        )]),
        ..Default::default()
    };
    Ok(SystemInfo {
        id: host::engine_id(data_root)?,
        containers: counts.running + counts.paused + counts.stopped,
        containers_running: counts.running,
        containers_paused: counts.paused,
        containers_stopped: counts.stopped,
        images,
        driver: "overlay2".to_owned(),
        driver_status: vec![
            [
                "Backing Filesystem".to_owned(),
                host::backing_filesystem(data_root),
            ],
            ["Supports d_type".to_owned(), "true".to_owned()],
            ["Using metacopy".to_owned(), "false".to_owned()],
            ["Native Overlay Diff".to_owned(), "true".to_owned()],
            ["userxattr".to_owned(), "false".to_owned()],
        ],
        plugins: PluginsInfo {
            volume: vec!["local".to_owned()],
            network: vec!["host".to_owned(), "null".to_owned()],
            authorization: Vec::new(),
            log: vec!["json-file".to_owned()],
        },
        memory_limit: true,
        swap_limit,
        kernel_memory_tcp: false,
        cpu_cfs_period: true,
        cpu_cfs_quota: true,
        cpu_shares: true,
        cpu_set: true,
        pids_limit: true,
        oom_kill_disable: !v2,
        ipv4_forwarding: host::sysctl_on("/proc/sys/net/ipv4/ip_forward"),
        bridge_nf_iptables: bridge_iptables,
        bridge_nf_ip6tables: bridge_ip6tables,
        debug: false,
        nfd,
        ngoroutines: threads,
        system_time: crate::now_rfc3339(),
        logging_driver: "json-file".to_owned(),
        cgroup_driver: "cgroupfs".to_owned(),
        cgroup_version: if v2 { "2" } else { "1" }.to_owned(),
        nevents_listener: listeners,
        kernel_version: uname.release,
        operating_system,
        os_version,
        os_type: "linux".to_owned(),
        architecture: uname.machine,
        index_server_address: "https://index.docker.io/v1/".to_owned(),
        registry_config: Some(registry),
        ncpu: host::ncpu(),
        mem_total: host::mem_total(),
        generic_resources: None,
        docker_root_dir: data_root.display().to_string(),
        http_proxy: proxy_env("HTTP_PROXY"),
        https_proxy: proxy_env("HTTPS_PROXY"),
        no_proxy: proxy_env("NO_PROXY"),
        name: uname.nodename,
        labels: Vec::new(),
        experimental_build: false,
        server_version: ENGINE_VERSION.to_owned(),
        runtimes,
        default_runtime: "pier".to_owned(),
        swarm: Default::default(),
        live_restore_enabled: true,
        isolation: String::new(),
        init_binary: String::new(),
        containerd_commit: Default::default(),
        runc_commit: api::types::Commit {
            id: ENGINE_VERSION.to_owned(),
            expected: ENGINE_VERSION.to_owned(),
        },
        init_commit: Default::default(),
        security_options,
        product_license: String::new(),
        default_address_pools: Vec::new(),
        cdi_spec_dirs: Vec::new(),
        warnings,
    })
}

/// A proxy setting of the daemon's environment, either case, with any password hidden as
/// Docker hides it.
fn proxy_env(name: &str) -> String {
    let value = std::env::var(name)
        .or_else(|_| std::env::var(name.to_lowercase()))
        .unwrap_or_default();
    mask_password(&value)
}

fn mask_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((credentials, host)) = rest.split_once('@') else {
        return url.to_owned();
    };
    match credentials.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:xxxxx@{host}"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_names_pier_and_the_api_range() {
        let v = version();
        assert_eq!(v.api_version, "1.45");
        assert_eq!(v.min_api_version, "1.24");
        assert_eq!(v.os, "linux");
        assert_eq!(v.platform.name, "pier");
        let details = v.components[0].details.as_ref().unwrap();
        assert_eq!(details["ApiVersion"], "1.45");
        assert_eq!(details["MinAPIVersion"], "1.24");
    }

    #[test]
    fn proxy_passwords_are_masked() {
        assert_eq!(
            mask_password("http://u:secret@proxy:3128"),
            "http://u:xxxxx@proxy:3128"
        );
        assert_eq!(mask_password("http://proxy:3128"), "http://proxy:3128");
        assert_eq!(mask_password(""), "");
    }
}
