use std::path::Path;

use api::types::MountType;
use clap::Parser;
use serde_json::json;

use super::*;

#[derive(Parser)]
#[command(disable_help_flag = true)]
struct Flags {
    #[command(flatten)]
    options: ContainerOptions,
}

fn options(args: &[&str]) -> ContainerOptions {
    let argv = std::iter::once("run").chain(args.iter().copied());
    Flags::try_parse_from(argv).unwrap().options
}

fn plan_of(args: &[&str]) -> CreatePlan {
    let opts = options(args);
    let streams = streams(&opts, false).unwrap();
    translate(&opts, streams, Some((24, 80)), Path::new("/home/me")).unwrap()
}

fn error_of(args: &[&str]) -> String {
    let opts = options(args);
    translate(&opts, Streams::default(), None, Path::new("/")).unwrap_err()
}

fn host(plan: &CreatePlan) -> &HostConfig {
    plan.body.host_config.as_ref().unwrap()
}

#[test]
fn image_command_and_name() {
    let plan = plan_of(&["--name", "web", "busybox", "sh", "-c", "echo hi"]);
    assert_eq!(plan.body.config.image, "busybox");
    assert_eq!(
        plan.body.config.cmd,
        Some(vec!["sh".to_owned(), "-c".into(), "echo hi".into()])
    );
    assert_eq!(plan.name.as_deref(), Some("web"));
    let bare = plan_of(&["busybox"]);
    assert_eq!(bare.body.config.cmd, None);
    assert_eq!(host(&bare).network_mode, "default");
    assert_eq!(host(&bare).restart_policy.name, "no");
}

#[test]
fn flags_after_the_image_belong_to_the_command() {
    let plan = plan_of(&["-e", "A=1", "busybox", "ls", "-la", "--color"]);
    assert_eq!(
        plan.body.config.cmd,
        Some(vec!["ls".to_owned(), "-la".into(), "--color".into()])
    );
    assert_eq!(plan.body.config.env, Some(vec!["A=1".to_owned()]));
}

#[test]
fn attached_streams_as_docker() {
    let opts = options(&["-i", "busybox"]);
    let attached = streams(&opts, false).unwrap();
    assert_eq!(
        attached,
        Streams {
            stdin: true,
            stdout: true,
            stderr: true
        }
    );
    assert_eq!(streams(&opts, true).unwrap(), Streams::default());
    let plan = translate(&opts, attached, None, Path::new("/")).unwrap();
    assert!(plan.body.config.open_stdin && plan.body.config.stdin_once);
    let only_err = options(&["-a", "stderr", "busybox"]);
    assert_eq!(
        streams(&only_err, false).unwrap(),
        Streams {
            stdin: false,
            stdout: false,
            stderr: true
        }
    );
    let both = options(&["-a", "stdout", "busybox"]);
    assert_eq!(
        streams(&both, true).unwrap_err(),
        "conflicting options: cannot specify both --attach and --detach"
    );
}

#[test]
fn volumes_binds_and_mounts() {
    let plan = plan_of(&[
        "-v",
        "/srv:/data:ro",
        "-v",
        "cache:/cache",
        "-v",
        "./conf:/etc/app",
        "-v",
        "/scratch",
        "--mount",
        "type=bind,src=/opt,dst=/opt,readonly",
        "--mount",
        "type=tmpfs,target=/t",
        "--tmpfs",
        "/run:rw,size=65536k",
        "busybox",
    ]);
    let host = host(&plan);
    assert_eq!(
        host.binds,
        Some(vec![
            "/srv:/data:ro".to_owned(),
            "cache:/cache".into(),
            "/home/me/conf:/etc/app".into()
        ])
    );
    let volumes = plan.body.config.volumes.as_ref().unwrap();
    assert_eq!(volumes.iter().collect::<Vec<_>>(), ["/scratch"]);
    let mounts = host.mounts.as_ref().unwrap();
    assert_eq!(mounts[0].kind, MountType::Bind);
    assert!(mounts[0].read_only);
    assert_eq!(mounts[1].kind, MountType::Tmpfs);
    assert_eq!(host.tmpfs.as_ref().unwrap()["/run"], "rw,size=65536k");
}

#[test]
fn environment_from_flags_and_files() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    std::io::Write::write_all(&mut file, b"# defaults\nA=from-file\nB=2\n").unwrap();
    let path = file.path().to_str().unwrap().to_owned();
    let plan = plan_of(&[
        "--env-file",
        &path,
        "-e",
        "A=flag",
        "-l",
        "tier=web",
        "busybox",
    ]);
    assert_eq!(
        plan.body.config.env,
        Some(vec![
            "A=from-file".to_owned(),
            "B=2".into(),
            "A=flag".into()
        ])
    );
    assert_eq!(plan.body.config.labels.as_ref().unwrap()["tier"], "web");
    assert_eq!(
        error_of(&["--env-file", "/nonexistent/env", "busybox"]),
        "open /nonexistent/env: no such file or directory"
    );
}

#[test]
fn ports_and_resources() {
    let plan = plan_of(&[
        "-p",
        "8080:80",
        "-P",
        "--cpu-shares",
        "512",
        "--pids-limit",
        "100",
        "--ulimit",
        "nofile=1024:2048",
        "--cap-add",
        "NET_ADMIN",
        "--privileged",
        "--read-only",
        "--restart",
        "on-failure:3",
        "--init",
        "busybox",
    ]);
    let host = host(&plan);
    let json = serde_json::to_value(host).unwrap();
    assert_eq!(
        json["PortBindings"],
        json!({"80/tcp": [{"HostIp": "", "HostPort": "8080"}]})
    );
    assert_eq!(json["PublishAllPorts"], true);
    assert_eq!(json["CpuShares"], 512);
    assert_eq!(json["PidsLimit"], 100);
    assert_eq!(
        json["Ulimits"],
        json!([{"Name": "nofile", "Hard": 2048, "Soft": 1024}])
    );
    assert_eq!(json["CapAdd"], json!(["NET_ADMIN"]));
    assert_eq!(json["Privileged"], true);
    assert_eq!(json["ReadonlyRootfs"], true);
    assert_eq!(
        json["RestartPolicy"],
        json!({"Name": "on-failure", "MaximumRetryCount": 3})
    );
    assert_eq!(json["Init"], true);
    let body = serde_json::to_value(&plan.body).unwrap();
    assert_eq!(body["ExposedPorts"], json!({"80/tcp": {}}));
}

#[test]
fn terminal_size_goes_with_a_tty_only() {
    assert_eq!(host(&plan_of(&["-t", "busybox"])).console_size, [24, 80]);
    assert_eq!(host(&plan_of(&["busybox"])).console_size, [0, 0]);
}

#[test]
fn seccomp_profiles_are_sent_inline() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    std::io::Write::write_all(
        &mut file,
        b"{\n  \"defaultAction\": \"SCMP_ACT_ALLOW\",\n  \"syscalls\": []\n}\n",
    )
    .unwrap();
    let option = format!("seccomp={}", file.path().display());
    let plan = plan_of(&[
        "--security-opt",
        &option,
        "--security-opt",
        "no-new-privileges",
        "busybox",
    ]);
    assert_eq!(
        host(&plan).security_opt,
        Some(vec![
            "seccomp={\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[]}".to_owned(),
            "no-new-privileges".into()
        ])
    );
    assert_eq!(
        error_of(&["--security-opt", "seccomp=/nonexistent.json", "busybox"]),
        "opening seccomp profile (/nonexistent.json) failed: open /nonexistent.json: no such file or directory"
    );
    assert_eq!(
        error_of(&["--security-opt", "foo", "busybox"]),
        "Invalid --security-opt: \"foo\""
    );
}

#[test]
fn dockers_errors_for_combinations() {
    assert_eq!(
        error_of(&["--rm", "--restart", "always", "busybox"]),
        "conflicting options: cannot specify both --restart and --rm"
    );
    assert_eq!(
        error_of(&["--no-healthcheck", "--health-cmd", "x", "busybox"]),
        "--no-healthcheck conflicts with --health-* options"
    );
    assert_eq!(
        error_of(&["--health-interval=-1s", "busybox"]),
        "--health-interval cannot be negative"
    );
    assert_eq!(
        error_of(&["--memory-swappiness", "200", "busybox"]),
        "invalid value: 200. Valid memory swappiness range is 0-100"
    );
    assert_eq!(
        error_of(&["--pid", "foo", "busybox"]),
        "--pid: invalid PID mode"
    );
    assert_eq!(
        error_of(&["--uts", "foo", "busybox"]),
        "--uts: invalid UTS mode"
    );
    assert_eq!(
        error_of(&["--cgroupns", "foo", "busybox"]),
        "--cgroupns: invalid CGROUP mode"
    );
    assert_eq!(
        error_of(&["--restart", "on-failure:x", "busybox"]),
        "invalid restart policy format: maximum retry count must be an integer"
    );
    assert_eq!(
        error_of(&["--pull", "foo", "busybox"]),
        "invalid pull option: 'foo': must be one of \"always\", \"missing\" or \"never\""
    );
    assert_eq!(
        error_of(&["-p", "abc", "busybox"]),
        "invalid containerPort: abc"
    );
}

#[test]
fn health_checks() {
    let plan = plan_of(&[
        "--health-cmd",
        "wget -q localhost",
        "--health-interval",
        "30s",
        "--health-retries",
        "3",
        "busybox",
    ]);
    let health = plan.body.config.healthcheck.unwrap();
    assert_eq!(health.test, ["CMD-SHELL", "wget -q localhost"]);
    assert_eq!(health.interval, 30_000_000_000);
    assert_eq!(health.retries, 3);
    let none = plan_of(&["--no-healthcheck", "busybox"]);
    assert_eq!(none.body.config.healthcheck.unwrap().test, ["NONE"]);
}

#[test]
fn entrypoint_reset() {
    assert_eq!(
        plan_of(&["--entrypoint", "", "busybox"])
            .body
            .config
            .entrypoint,
        Some(vec![String::new()])
    );
    assert_eq!(
        plan_of(&["--entrypoint", "/bin/sh", "busybox"])
            .body
            .config
            .entrypoint,
        Some(vec!["/bin/sh".to_owned()])
    );
    assert_eq!(plan_of(&["busybox"]).body.config.entrypoint, None);
}

#[test]
fn memory_in_dockers_units() {
    let plan = plan_of(&[
        "-m",
        "512m",
        "--memory-swap",
        "-1",
        "--shm-size",
        "64m",
        "busybox",
    ]);
    let host = host(&plan);
    assert_eq!(host.resources.memory, 512 << 20);
    assert_eq!(host.resources.memory_swap, -1);
    assert_eq!(host.shm_size, 64 << 20);
}
