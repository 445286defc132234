//! build_spec end to end: a create body and a small rootfs in, a spec out that the runtime's
//! own checks accept.

use std::collections::BTreeMap;
use std::path::Path;

use api::types::{DeviceMapping, Ulimit};
use oci_spec::runtime::{Capability, LinuxNamespaceType, PosixRlimitType, Spec};

use super::host::test_facts;
use super::*;

struct Fixture {
    rootfs: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        let rootfs = tempfile::tempdir().unwrap();
        std::fs::create_dir(rootfs.path().join("etc")).unwrap();
        std::fs::write(
            rootfs.path().join("etc/passwd"),
            "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n",
        )
        .unwrap();
        std::fs::write(
            rootfs.path().join("etc/group"),
            "root:x:0:\nwheel:x:10:root\nnogroup:x:65534:\n",
        )
        .unwrap();
        Fixture { rootfs }
    }

    fn build(&self, config: &ContainerConfig, host: &HostConfig) -> Result<Spec> {
        self.build_with(config, host, &[], NetworkMode::New)
    }

    fn build_with(
        &self,
        config: &ContainerConfig,
        host: &HostConfig,
        mounts: &[ResolvedMount],
        netns: NetworkMode,
    ) -> Result<Spec> {
        let input = SpecInput {
            id: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            config,
            host,
            rootfs: self.rootfs.path(),
            hostname: "0123456789ab",
            etc_files: Some(EtcFiles {
                hostname: Path::new("/var/lib/pier/containers/x/hostname"),
                hosts: Path::new("/var/lib/pier/containers/x/hosts"),
                resolv_conf: Path::new("/var/lib/pier/containers/x/resolv.conf"),
            }),
            mounts,
            cgroups_path: "pier/0123456789abcdef".into(),
            netns,
        };
        build_spec_on(&input, &test_facts())
    }
}

fn sh() -> ContainerConfig {
    ContainerConfig {
        cmd: Some(vec!["sh".into()]),
        env: Some(vec!["PATH=/usr/local/bin:/bin".into(), "FOO=bar".into()]),
        ..Default::default()
    }
}

fn namespace_kinds(spec: &Spec) -> Vec<LinuxNamespaceType> {
    spec.linux()
        .as_ref()
        .unwrap()
        .namespaces()
        .iter()
        .flatten()
        .map(|n| n.typ())
        .collect()
}

#[test]
fn a_plain_container_looks_like_dockers() {
    let fixture = Fixture::new();
    let spec = fixture.build(&sh(), &HostConfig::default()).unwrap();
    runtime::spec::validate(&spec).unwrap();
    let process = spec.process().as_ref().unwrap();
    assert_eq!(process.args().as_deref(), Some(&["sh".to_owned()][..]));
    assert_eq!(
        process.env().clone().unwrap(),
        [
            "PATH=/usr/local/bin:/bin",
            "HOSTNAME=0123456789ab",
            "FOO=bar"
        ]
    );
    assert_eq!(process.cwd(), Path::new("/"));
    assert_eq!(process.user().uid(), 0);
    assert_eq!(process.user().additional_gids().clone().unwrap(), [0, 10]);
    assert_eq!(process.terminal(), Some(false));
    assert_eq!(process.no_new_privileges(), Some(false));
    let caps = process.capabilities().as_ref().unwrap();
    assert_eq!(caps.bounding().as_ref().unwrap().len(), 14);
    assert!(caps.inheritable().is_none() && caps.ambient().is_none());
    let nofile = &process.rlimits().clone().unwrap()[0];
    assert_eq!(
        (nofile.typ(), nofile.soft(), nofile.hard()),
        (PosixRlimitType::RlimitNofile, 1024, 20000)
    );
    assert_eq!(spec.hostname().as_deref(), Some("0123456789ab"));
    assert_eq!(spec.root().as_ref().unwrap().readonly(), Some(false));
    let linux = spec.linux().as_ref().unwrap();
    assert_eq!(
        linux.cgroups_path().as_deref(),
        Some(Path::new("pier/0123456789abcdef"))
    );
    assert!(linux.seccomp().is_some());
    assert!(
        linux
            .masked_paths()
            .as_ref()
            .unwrap()
            .contains(&"/proc/kcore".to_owned())
    );
    assert_eq!(
        linux.sysctl().as_ref().unwrap()["net.ipv4.ip_unprivileged_port_start"],
        "0"
    );
    assert_eq!(namespace_kinds(&spec).len(), 6);
    let mounts = spec.mounts().as_ref().unwrap();
    assert!(
        mounts
            .iter()
            .any(|m| m.destination() == Path::new("/etc/resolv.conf"))
    );
}

#[test]
fn no_command_is_refused_in_dockers_words() {
    let fixture = Fixture::new();
    let err = fixture
        .build(&ContainerConfig::default(), &HostConfig::default())
        .unwrap_err();
    assert_eq!(err.to_string(), "No command specified");
    assert_eq!(err.kind(), crate::error::ErrorKind::InvalidArgument);
}

#[test]
fn terminal_user_workdir_and_entrypoint() {
    let fixture = Fixture::new();
    let config = ContainerConfig {
        entrypoint: Some(vec!["/bin/echo".into(), "hi".into()]),
        cmd: Some(vec!["there".into()]),
        tty: true,
        user: "nobody".into(),
        working_dir: "/tmp".into(),
        domainname: "example.org".into(),
        ..Default::default()
    };
    let host = HostConfig {
        console_size: [40, 120],
        group_add: Some(vec!["wheel".into(), "1234".into()]),
        ..Default::default()
    };
    let spec = fixture.build(&config, &host).unwrap();
    let process = spec.process().as_ref().unwrap();
    assert_eq!(
        process.args().clone().unwrap(),
        ["/bin/echo", "hi", "there"]
    );
    assert!(
        process
            .env()
            .clone()
            .unwrap()
            .contains(&"TERM=xterm".to_owned())
    );
    assert_eq!(process.terminal(), Some(true));
    let size = process.console_size().unwrap();
    assert_eq!((size.height(), size.width()), (40, 120));
    assert_eq!((process.user().uid(), process.user().gid()), (65534, 65534));
    assert_eq!(
        process.user().additional_gids().clone().unwrap(),
        [65534, 10, 1234]
    );
    assert_eq!(process.cwd(), Path::new("/tmp"));
    assert_eq!(spec.domainname().as_deref(), Some("example.org"));

    let unknown = ContainerConfig {
        user: "www-data".into(),
        ..sh()
    };
    assert_eq!(
        fixture
            .build(&unknown, &HostConfig::default())
            .unwrap_err()
            .to_string(),
        "unable to find user www-data: no matching entries in passwd file"
    );
}

#[test]
fn privileged_gets_everything() {
    let fixture = Fixture::new();
    let host = HostConfig {
        privileged: true,
        ..Default::default()
    };
    let spec = fixture.build(&sh(), &host).unwrap();
    runtime::spec::validate(&spec).unwrap();
    let caps = spec
        .process()
        .as_ref()
        .unwrap()
        .capabilities()
        .clone()
        .unwrap();
    assert_eq!(caps.bounding().as_ref().unwrap().len(), 41);
    let linux = spec.linux().as_ref().unwrap();
    assert!(linux.seccomp().is_none());
    assert!(linux.masked_paths().is_none() && linux.readonly_paths().is_none());
    assert!(linux.devices().as_ref().is_some_and(|d| !d.is_empty()));
    let rules = linux
        .resources()
        .as_ref()
        .unwrap()
        .devices()
        .clone()
        .unwrap();
    assert_eq!(rules.len(), 1);
    let sys = spec
        .mounts()
        .as_ref()
        .unwrap()
        .iter()
        .find(|m| m.destination() == Path::new("/sys"))
        .unwrap();
    assert!(!sys.options().as_ref().unwrap().contains(&"ro".to_owned()));
}

#[test]
fn security_options() {
    let fixture = Fixture::new();
    let opts = |list: &[&str]| HostConfig {
        security_opt: Some(list.iter().map(|s| (*s).to_owned()).collect()),
        ..Default::default()
    };
    let spec = fixture
        .build(&sh(), &opts(&["seccomp=unconfined", "no-new-privileges"]))
        .unwrap();
    assert!(spec.linux().as_ref().unwrap().seccomp().is_none());
    assert_eq!(
        spec.process().as_ref().unwrap().no_new_privileges(),
        Some(true)
    );
    let profile = r#"seccomp={"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO"}]}"#;
    let spec = fixture.build(&sh(), &opts(&[profile])).unwrap();
    let seccomp = spec.linux().as_ref().unwrap().seccomp().clone().unwrap();
    assert_eq!(
        seccomp.syscalls().as_ref().unwrap()[0].names(),
        &["mkdir".to_owned()]
    );
    assert_eq!(
        fixture
            .build(&sh(), &opts(&["foo=bar"]))
            .unwrap_err()
            .to_string(),
        r#"invalid --security-opt 2: "foo=bar""#
    );
}

#[test]
fn cap_add_reaches_the_seccomp_profile() {
    let fixture = Fixture::new();
    let host = HostConfig {
        cap_add: Some(vec!["sys_admin".into()]),
        cap_drop: Some(vec!["CAP_MKNOD".into()]),
        ..Default::default()
    };
    let spec = fixture.build(&sh(), &host).unwrap();
    let caps = spec
        .process()
        .as_ref()
        .unwrap()
        .capabilities()
        .clone()
        .unwrap();
    let bounding = caps.bounding().clone().unwrap();
    assert!(bounding.contains(&Capability::SysAdmin) && !bounding.contains(&Capability::Mknod));
    let seccomp = spec.linux().as_ref().unwrap().seccomp().clone().unwrap();
    let allowed: Vec<String> = seccomp
        .syscalls()
        .iter()
        .flatten()
        .flat_map(|s| s.names().clone())
        .collect();
    assert!(allowed.contains(&"mount".to_owned()));
}

#[test]
fn shared_namespaces_and_sysctls() {
    let fixture = Fixture::new();
    let host = HostConfig {
        pid_mode: "host".into(),
        ipc_mode: "host".into(),
        uts_mode: "host".into(),
        sysctls: Some(BTreeMap::from([(
            "kernel.shmmax".to_owned(),
            "1024".to_owned(),
        )])),
        ..Default::default()
    };
    let spec = fixture
        .build_with(&sh(), &host, &[], NetworkMode::Host)
        .unwrap();
    assert_eq!(
        namespace_kinds(&spec),
        [LinuxNamespaceType::Mount, LinuxNamespaceType::Cgroup]
    );
    assert!(spec.hostname().is_none());
    let sysctl = spec.linux().as_ref().unwrap().sysctl().clone().unwrap();
    assert_eq!(sysctl.len(), 1);
    let shm = spec
        .mounts()
        .as_ref()
        .unwrap()
        .iter()
        .find(|m| m.destination() == Path::new("/dev/shm"))
        .unwrap();
    assert_eq!(shm.typ().as_deref(), Some("bind"));
}

#[test]
fn limits_mounts_and_annotations() {
    let fixture = Fixture::new();
    let mut host = HostConfig {
        readonly_rootfs: true,
        shm_size: 128 << 20,
        oom_score_adj: 500,
        tmpfs: Some(BTreeMap::from([(
            "/run".to_owned(),
            "size=64m,mode=1777".to_owned(),
        )])),
        annotations: Some(BTreeMap::from([("org.example".to_owned(), "x".to_owned())])),
        ..Default::default()
    };
    host.resources.memory = 64 << 20;
    host.resources.nano_cpus = 500_000_000;
    host.resources.pids_limit = Some(-1);
    host.resources.ulimits = Some(vec![Ulimit {
        name: "nproc".into(),
        soft: 100,
        hard: 200,
    }]);
    host.resources.devices = Some(vec![DeviceMapping {
        path_on_host: "/dev/null".into(),
        path_in_container: "/dev/extra-null".into(),
        cgroup_permissions: "rwm".into(),
    }]);
    let resolved = [ResolvedMount {
        source: "/srv".into(),
        destination: "/data".into(),
        read_only: true,
        kind: MountKind::Bind {
            propagation: "rslave".into(),
            recursive: true,
        },
    }];
    let spec = fixture
        .build_with(&sh(), &host, &resolved, NetworkMode::New)
        .unwrap();
    runtime::spec::validate(&spec).unwrap();
    assert_eq!(spec.root().as_ref().unwrap().readonly(), Some(true));
    let process = spec.process().as_ref().unwrap();
    assert_eq!(process.oom_score_adj(), Some(500));
    assert_eq!(process.rlimits().as_ref().unwrap().len(), 2);
    let linux = spec.linux().as_ref().unwrap();
    let resources = linux.resources().as_ref().unwrap();
    assert_eq!(resources.memory().unwrap().limit(), Some(64 << 20));
    assert_eq!(resources.cpu().as_ref().unwrap().quota(), Some(50_000));
    assert_eq!(resources.pids().unwrap().limit(), -1);
    assert_eq!(
        linux.devices().as_ref().unwrap()[0].path(),
        Path::new("/dev/extra-null")
    );
    assert_eq!(linux.rootfs_propagation().as_deref(), Some("rslave"));
    let mounts = spec.mounts().as_ref().unwrap();
    let find = |d: &str| {
        mounts
            .iter()
            .find(|m| m.destination() == Path::new(d))
            .unwrap()
    };
    assert!(
        find("/dev/shm")
            .options()
            .as_ref()
            .unwrap()
            .contains(&"size=134217728".to_owned())
    );
    assert_eq!(
        find("/data").options().clone().unwrap(),
        ["rbind", "ro", "rslave"]
    );
    assert_eq!(find("/run").typ().as_deref(), Some("tmpfs"));
    assert!(
        find("/etc/hosts")
            .options()
            .as_ref()
            .unwrap()
            .contains(&"ro".to_owned())
    );
    assert_eq!(spec.annotations().as_ref().unwrap()["org.example"], "x");
}

#[test]
fn limits_are_checked_before_anything() {
    let fixture = Fixture::new();
    let mut host = HostConfig::default();
    host.resources.memory = 1 << 20;
    assert_eq!(
        fixture.build(&sh(), &host).unwrap_err().to_string(),
        "Minimum memory limit allowed is 6MB"
    );
}

#[test]
fn host_defaults_as_docker_fills_them() {
    let mut host = HostConfig::default();
    host.resources.memory = 64 << 20;
    host.resources.cpu_shares = -5;
    apply_host_defaults(&mut host);
    assert_eq!(host.resources.memory_swap, 128 << 20);
    assert_eq!(host.resources.cpu_shares, 2);
    assert_eq!(host.shm_size, DEFAULT_SHM_SIZE);
    assert_eq!(
        (host.ipc_mode.as_str(), host.cgroupns_mode.as_str()),
        ("private", "private")
    );
    assert_eq!(
        serde_json::to_value(&host.log_config).unwrap(),
        serde_json::json!({"Type": "json-file", "Config": {}})
    );
    assert_eq!(host.restart_policy.name, "no");
}
