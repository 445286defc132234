//! What a process sees inside a container made from Docker's default profile.

use crate::support::*;

#[test]
fn the_process_is_pid_1_with_the_container_hostname() {
    let w = World::new();
    let mut b = w.bundle(&["sh", "-c", "echo $$; hostname"]);
    b.edit(|s| s["hostname"] = "boxy".into());
    let out = w.run_bundle(&b, "pid1");
    assert_eq!(ok(&out), "1\nboxy\n");
    w.assert_clean();
}

#[test]
fn default_profile_gives_dockers_capabilities_and_seccomp() {
    let w = World::new();
    let b = w.bundle(&[
        "grep",
        "-E",
        "^(CapEff|CapBnd|CapPrm|Seccomp|NoNewPrivs):",
        "/proc/self/status",
    ]);
    let out = ok(&w.run_bundle(&b, "caps"));
    assert!(out.contains("CapEff:\t00000000a80425fb"), "{out}");
    assert!(out.contains("CapBnd:\t00000000a80425fb"), "{out}");
    assert!(out.contains("CapPrm:\t00000000a80425fb"), "{out}");
    assert!(out.contains("Seccomp:\t2"), "{out}");
    assert!(out.contains("NoNewPrivs:\t0"), "{out}");
    w.assert_clean();
}

#[test]
fn a_blocked_syscall_fails_with_eperm() {
    let w = World::new();
    let b = w.bundle(&["unshare", "--net", "true"]);
    let out = w.run_bundle(&b, "unshare");
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("Operation not permitted"),
        "{}",
        stderr(&out)
    );
    w.assert_clean();
}

#[test]
fn masked_paths_read_empty_and_proc_sys_is_read_only() {
    let w = World::new();
    // Every path of Docker's list that this host has, and that has something to hide.
    let masked: Vec<&str> = runtime::profile::DEFAULT_MASKED_PATHS
        .iter()
        .copied()
        .filter(|p| match std::fs::metadata(p) {
            Ok(m) if m.is_dir() => std::fs::read_dir(p).map(|d| d.count() > 0).unwrap_or(false),
            Ok(_) => std::fs::read(p).map(|c| !c.is_empty()).unwrap_or(false),
            Err(_) => false,
        })
        .collect();
    assert!(
        masked.contains(&"/proc/keys") || masked.contains(&"/proc/timer_list"),
        "{masked:?}"
    );
    let mut script = String::new();
    for path in &masked {
        script.push_str(&format!(
            "if [ -d {path} ]; then ls -A {path} | wc -l; else wc -c < {path}; fi; "
        ));
    }
    script.push_str("echo x > /proc/sys/kernel/domainname && echo WROTE");
    let b = w.bundle(&["sh", "-c", &script]);
    let out = w.run_bundle(&b, "masked");
    let expected = "0\n".repeat(masked.len());
    assert_eq!(
        stdout(&out),
        expected,
        "masked {masked:?}; stderr: {}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("Read-only file system"),
        "{}",
        stderr(&out)
    );
    w.assert_clean();
}

#[test]
fn exit_codes_pass_through() {
    let w = World::new();
    let b = w.bundle(&["sh", "-c", "exit 42"]);
    let out = w.run_bundle(&b, "exit42");
    assert_eq!(out.status.code(), Some(42));
    w.assert_clean();
}

#[test]
fn a_missing_program_is_reported_like_docker() {
    let w = World::new();
    let b = w.bundle(&["no-such-program"]);
    let out = w.run_bundle(&b, "enoent");
    assert_eq!(out.status.code(), Some(127));
    assert!(
        stderr(&out).contains("exec: \"no-such-program\": executable file not found in $PATH"),
        "{}",
        stderr(&out)
    );
    w.assert_clean();
}

#[test]
fn user_groups_umask_rlimits_and_no_new_privileges_apply() {
    let w = World::new();
    let mut b = w.bundle(&[
        "sh",
        "-c",
        "id; umask; ulimit -n; ulimit -Hn; grep NoNewPrivs /proc/self/status; echo $HOME; pwd",
    ]);
    b.edit(|s| {
        s["process"]["user"] =
            serde_json::json!({"uid": 1000, "gid": 1000, "additionalGids": [10], "umask": 0o077});
        s["process"]["rlimits"] =
            serde_json::json!([{"type": "RLIMIT_NOFILE", "soft": 512, "hard": 1024}]);
        s["process"]["noNewPrivileges"] = true.into();
        s["process"]["cwd"] = "/home/user/work".into();
    });
    let out = ok(&w.run_bundle(&b, "user"));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0], "uid=1000(user) gid=1000(user) groups=10(wheel)",
        "{out}"
    );
    assert_eq!(lines[1], "0077");
    assert_eq!(lines[2], "512");
    assert_eq!(lines[3], "1024");
    assert_eq!(lines[4], "NoNewPrivs:\t1");
    assert_eq!(lines[5], "/home/user");
    assert_eq!(lines[6], "/home/user/work");
    w.assert_clean();
}

#[test]
fn oom_score_adj_and_sysctl_are_set() {
    let w = World::new();
    let mut b = w.bundle(&["sh", "-c", "cat /proc/self/oom_score_adj; cat /proc/sys/net/ipv4/ip_forward; cat /proc/sys/kernel/shmmni"]);
    b.edit(|s| {
        s["process"]["oomScoreAdj"] = 500.into();
        s["linux"]["sysctl"] =
            serde_json::json!({"net.ipv4.ip_forward": "1", "kernel.shmmni": "1234"});
    });
    assert_eq!(ok(&w.run_bundle(&b, "sysctl")), "500\n1\n1234\n");
    w.assert_clean();
}

#[test]
fn read_only_rootfs_and_mounts() {
    let w = World::new();
    let host_dir = w.dir.path().join("shared");
    std::fs::create_dir(&host_dir).unwrap();
    std::fs::write(host_dir.join("hello"), "from host\n").unwrap();
    let mut b = w.bundle(&[
        "sh",
        "-c",
        "cat /data/hello; touch /data/x 2>&1 | grep -c 'Read-only'; touch /scratch/ok && echo tmpfs-ok; touch /etc/nope 2>&1 | grep -c 'Read-only'",
    ]);
    let src = host_dir.to_str().unwrap().to_owned();
    b.edit(|s| {
        s["root"]["readonly"] = true.into();
        let mounts = s["mounts"].as_array_mut().unwrap();
        mounts.push(serde_json::json!({"destination": "/data", "type": "bind", "source": src, "options": ["rbind", "ro"]}));
        mounts.push(serde_json::json!({"destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "size=1m"]}));
    });
    assert_eq!(ok(&w.run_bundle(&b, "ro")), "from host\n1\ntmpfs-ok\n1\n");
    w.assert_clean();
}

#[test]
fn dev_has_the_default_nodes_and_links() {
    let w = World::new();
    let b = w.bundle(&["sh", "-c", "ls /dev | sort | tr '\\n' ' '; echo; readlink /dev/ptmx; readlink /dev/fd; head -c 4 /dev/zero | wc -c"]);
    let out = ok(&w.run_bundle(&b, "dev"));
    let first = out.lines().next().unwrap();
    if std::path::Path::new("/proc/kcore").exists() {
        assert!(
            first.split(' ').any(|n| n == "core"),
            "/dev lacks core: {first}"
        );
    }
    for node in [
        "fd", "full", "mqueue", "null", "ptmx", "pts", "random", "shm", "stderr", "stdin",
        "stdout", "tty", "urandom", "zero",
    ] {
        assert!(
            first.split(' ').any(|n| n == node),
            "/dev lacks {node}: {first}"
        );
    }
    assert!(out.contains("pts/ptmx\n/proc/self/fd\n4\n"), "{out}");
    w.assert_clean();
}

/// `pier runtime --await-args` (the engine's shim started ahead) runs the command line it is
/// sent on stdin as if started with it, ends quietly when nothing comes, and refuses a line
/// that is not one.
#[test]
fn a_runtime_started_ahead_takes_its_arguments_from_stdin() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let w = World::new();
    let b = w.bundle(&["sh", "-c", "echo ran; cat; echo stdin-ended"]);
    let awaiting = |line: &str| {
        let mut child = Command::new(PIER)
            .args(["runtime", "--await-args"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(line.as_bytes()).unwrap();
        // Kept open: the process must not wait for more than the line.
        let out = crate::daemon::wait_output(child, std::time::Duration::from_secs(20));
        drop(stdin);
        out
    };
    let id = w.id("awaited");
    let args = serde_json::json!([
        "--root",
        w.root.to_str().unwrap(),
        "run",
        "--bundle",
        b.path.to_str().unwrap(),
        id
    ]);
    // The container's stdin is /dev/null, as for a process started with the arguments.
    let out = awaiting(&format!("{args}\n"));
    assert_eq!(ok(&out), "ran\nstdin-ended\n");
    let nothing = Command::new(PIER)
        .args(["runtime", "--await-args"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(nothing.status.success(), "{nothing:?}");
    assert!(nothing.stdout.is_empty() && nothing.stderr.is_empty());
    let bad = awaiting("run --bundle x\n");
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        stderr(&bad).starts_with("pier runtime: the awaited arguments:"),
        "{}",
        stderr(&bad)
    );
    let unknown = awaiting("[\"--bogus\"]\n");
    assert_eq!(unknown.status.code(), Some(1));
    assert!(stderr(&unknown).contains("unexpected argument '--bogus'"));
    w.assert_clean();
}
