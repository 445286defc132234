//! Containers outlive their daemon: killed with SIGKILL or stopped with SIGTERM, a daemon
//! started again on the same roots finds its containers running (or ended, with the exit
//! code they ended with while it was away) and carries on with them.

use std::process::Stdio;
use std::time::Duration;

use crate::daemon::{PierDaemon, wait_output};

fn alive(pid: i64) -> bool {
    // A zombie has ended; its parent (the shim) reaps it.
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit_once(") ")
            .is_some_and(|(_, rest)| !rest.starts_with('Z'))
    })
}

fn pid_of(d: &PierDaemon, name: &str) -> i64 {
    let pid = d.inspect(name)["State"]["Pid"].as_i64().unwrap();
    assert!(pid > 0, "{name} has no pid: {}", d.inspect(name)["State"]);
    pid
}

/// Entries in a json-file log (one line each).
fn log_entries(path: &str) -> usize {
    std::fs::read(path)
        .unwrap_or_default()
        .iter()
        .filter(|b| **b == b'\n')
        .count()
}

#[test]
fn engine_survival_kill9_and_restart() {
    let mut d = PierDaemon::start();
    d.pier_ok(&[
        "run",
        "-d",
        "--name",
        "sleeper",
        "busybox",
        "sh",
        "-c",
        "echo up; exec sleep 1000",
    ]);
    d.pier_ok(&[
        "run",
        "-d",
        "--name",
        "quitter",
        "busybox",
        "sh",
        "-c",
        "sleep 2; exit 5",
    ]);
    d.pier_ok(&[
        "run",
        "-d",
        "--name",
        "ticker",
        "busybox",
        "sh",
        "-c",
        "while true; do echo tick; sleep 0.1; done",
    ]);
    let sleeper = pid_of(&d, "sleeper");
    let ticker = pid_of(&d, "ticker");
    let quitter = pid_of(&d, "quitter");
    let log = d.inspect("ticker")["LogPath"].as_str().unwrap().to_owned();
    assert!(!log.is_empty());

    d.kill9();
    let at_kill = log_entries(&log);
    assert!(
        alive(sleeper) && alive(ticker),
        "a container died with its daemon"
    );
    // The quitter ends while nobody is there to see it but its shim.
    d.wait_until("the quitter's end", Duration::from_secs(15), || {
        !alive(quitter)
    });
    std::thread::sleep(Duration::from_millis(500));
    let later = log_entries(&log);
    assert!(
        later >= at_kill + 5,
        "the ticker's log did not grow while the daemon was down: {at_kill} -> {later} entries"
    );
    assert!(
        alive(sleeper) && alive(ticker),
        "a container died while the daemon was down"
    );

    d.restart();
    let running = d.pier_ok(&["ps", "--format", "{{.Names}} {{.State}}"]);
    let mut running: Vec<&str> = running.lines().collect();
    running.sort();
    assert_eq!(running, ["sleeper running", "ticker running"]);
    let quit = d.inspect("quitter")["State"].clone();
    assert_eq!(quit["Status"], "exited", "{quit}");
    assert_eq!(quit["ExitCode"], 5, "{quit}");
    assert_eq!(quit["Running"], false, "{quit}");
    let status = d.pier_ok(&[
        "ps",
        "-a",
        "--filter",
        "name=quitter",
        "--format",
        "{{.Status}}",
    ]);
    assert!(status.starts_with("Exited (5) "), "{status:?}");
    assert_eq!(pid_of(&d, "sleeper"), sleeper);
    assert_eq!(pid_of(&d, "ticker"), ticker);

    // Everything the ticker printed while the daemon was away is in its logs.
    let ticks = d.pier_ok(&["logs", "ticker"]);
    let lines = ticks.lines().count();
    assert!(
        lines >= later,
        "logs has {lines} lines, the file had {later} entries"
    );
    assert!(ticks.lines().all(|l| l == "tick"), "{ticks}");

    assert_eq!(d.pier_ok(&["exec", "ticker", "echo", "alive"]), "alive\n");
    assert_eq!(
        d.pier_ok(&["exec", "sleeper", "cat", "/proc/1/comm"]),
        "sleep\n"
    );

    // logs -f and wait of a container found again end when it is stopped.
    let follow = d
        .pier_cmd()
        .args(["logs", "-f", "sleeper"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let wait = d
        .pier_cmd()
        .args(["wait", "sleeper"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(d.pier_ok(&["stop", "-t", "1", "sleeper"]), "sleeper\n");
    let waited = wait_output(wait, Duration::from_secs(15));
    d.assert_ok("wait sleeper", &waited);
    assert_eq!(String::from_utf8_lossy(&waited.stdout), "137\n");
    let followed = wait_output(follow, Duration::from_secs(15));
    d.assert_ok("logs -f sleeper", &followed);
    assert_eq!(String::from_utf8_lossy(&followed.stdout), "up\n");
    assert!(!alive(sleeper));
    d.pier_ok(&["rm", "-f", "ticker"]);
    assert!(!alive(ticker));
}

#[test]
fn engine_survival_sigterm_and_restart() {
    let mut d = PierDaemon::start();
    d.pier_ok(&["run", "-d", "--name", "kept", "busybox", "sleep", "1000"]);
    d.pier_ok(&[
        "create",
        "--name",
        "made",
        "busybox",
        "sh",
        "-c",
        "echo made it",
    ]);
    d.pier_ok(&["run", "--name", "ended", "busybox", "true"]);
    let kept = pid_of(&d, "kept");
    let before = d.pier_ok(&[
        "ps",
        "-a",
        "--no-trunc",
        "--format",
        "{{.ID}} {{.Names}} {{.State}}",
    ]);

    d.stop();
    assert!(!d.ping());
    assert!(alive(kept), "SIGTERM to the daemon ended a container");
    d.restart();
    assert!(alive(kept));
    let after = d.pier_ok(&[
        "ps",
        "-a",
        "--no-trunc",
        "--format",
        "{{.ID}} {{.Names}} {{.State}}",
    ]);
    assert_eq!(after, before);

    d.pier_ok(&["start", "made"]);
    assert_eq!(d.pier_ok(&["wait", "made"]), "0\n");
    assert_eq!(d.pier_ok(&["logs", "made"]), "made it\n");
    // A name stays taken across restarts.
    let taken = d.pier(&["create", "--name", "kept", "busybox", "true"]);
    assert_eq!(taken.status.code(), Some(125), "{taken:?}");
    assert!(
        String::from_utf8_lossy(&taken.stderr)
            .contains("The container name \"/kept\" is already in use"),
        "{taken:?}"
    );
    assert_eq!(d.pier_ok(&["stop", "-t", "1", "kept"]), "kept\n");
    assert!(!alive(kept));
}

/// A reboot empties the exec root, which holds the containers' bundles and /etc files and the
/// network namespaces they keep: a container started after it gets them made again, as they
/// were.
#[test]
fn engine_start_after_the_exec_root_is_emptied() {
    let mut d = PierDaemon::start();
    let cat = ["cat", "/etc/hostname", "/etc/hosts"];
    let create = [
        &[
            "create",
            "--name",
            "again",
            "-h",
            "box",
            "--add-host",
            "extra:10.1.2.3",
            "busybox",
        ][..],
        &cat[..],
    ]
    .concat();
    d.pier_ok(&create);
    d.pier_ok(&["start", "again"]);
    assert_eq!(d.pier_ok(&["wait", "again"]), "0\n");
    let first = d.pier_ok(&["logs", "again"]);
    assert!(first.starts_with("box\n"), "{first}");
    assert!(first.contains("10.1.2.3\textra"), "{first}");
    d.stop();
    // What a reboot does: every mount under the exec root gone, then every file.
    for mount in crate::dockerd::mounts_under(&d.exec_root()) {
        nix::mount::umount2(&mount, nix::mount::MntFlags::MNT_DETACH).unwrap();
    }
    std::fs::remove_dir_all(d.exec_root()).unwrap();
    d.restart();
    d.pier_ok(&["start", "again"]);
    assert_eq!(d.pier_ok(&["wait", "again"]), "0\n");
    let both = d.pier_ok(&["logs", "again"]);
    assert_eq!(both, format!("{first}{first}"));
}

/// Children of `pid` (every thread's) that have ended and not been reaped.
fn zombie_children(pid: i32) -> Vec<i64> {
    let mut zombies = Vec::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return zombies;
    };
    for task in tasks.flatten() {
        let children = std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
        for child in children.split_whitespace() {
            let child: i64 = child.parse().unwrap();
            if std::fs::read_to_string(format!("/proc/{child}/stat")).is_ok() && !alive(child) {
                zombies.push(child);
            }
        }
    }
    zombies
}

/// Shims are the daemon's own children (it spawns them directly); every one that ended is
/// reaped, whether its container was removed with it or not.
#[test]
fn engine_ended_shims_are_reaped() {
    let d = PierDaemon::start();
    for _ in 0..3 {
        d.pier_ok(&["run", "--rm", "busybox", "true"]);
    }
    d.pier_ok(&["run", "-d", "--name", "brief", "busybox", "true"]);
    assert_eq!(d.pier_ok(&["wait", "brief"]).trim(), "0");
    let pid = d.pid().expect("the daemon runs");
    d.wait_until(
        "the daemon reaps its ended shims",
        Duration::from_secs(10),
        || zombie_children(pid).is_empty(),
    );
}

/// A removal answers before it tidies up; a crash in between (or in the middle of a create)
/// leaves directories that no record owns (on the data root, and the bundle with its mount
/// on the exec root), which the next start removes, mount and all.
#[test]
fn engine_restart_sweeps_what_no_record_owns() {
    let mut d = PierDaemon::start();
    d.pier_ok(&["run", "-d", "--name", "kept", "busybox", "sleep", "1000"]);
    let id = "0123456789abcdef".repeat(4);
    let orphan = d.data_root().join("containers").join(&id);
    let orphan_bundle = d.exec_root().join("containers").join(&id);
    std::fs::create_dir_all(orphan.join("upper/etc")).unwrap();
    std::fs::create_dir_all(orphan_bundle.join("rootfs")).unwrap();
    std::fs::write(orphan.join("upper/etc/motd"), "left over\n").unwrap();
    std::fs::write(orphan_bundle.join("hosts"), "left over\n").unwrap();
    let mounted = std::process::Command::new("mount")
        .args([
            "-t",
            "tmpfs",
            "orphan",
            orphan_bundle.join("rootfs").to_str().unwrap(),
        ])
        .status()
        .unwrap();
    assert!(mounted.success());
    d.kill9();
    d.restart();
    for left in [&orphan, &orphan_bundle] {
        assert!(!left.exists(), "{} is still there", left.display());
    }
    assert_eq!(
        d.pier_ok(&["inspect", "-f", "{{.State.Status}}", "kept"])
            .trim(),
        "running"
    );
}

/// After a start the daemon has the next container's shim started ahead, waiting for its
/// arguments; the next container gets it as its shim; a stopped daemon leaves none behind.
#[test]
fn engine_starts_the_next_shim_ahead() {
    let mut d = PierDaemon::start();
    d.pier_ok(&["run", "-d", "--name", "first", "busybox", "sleep", "1000"]);
    let daemon = d.pid().expect("the daemon runs");
    // Children of the daemon that wait for their arguments: shims (every shim starts so)
    // without a container yet.
    let awaiting = || -> Vec<i64> {
        let mut found = Vec::new();
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<i64>() else {
                continue;
            };
            let status = std::fs::read_to_string(entry.path().join("status")).unwrap_or_default();
            let parent = status.lines().find_map(|l| l.strip_prefix("PPid:"));
            let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
            let children =
                std::fs::read_to_string(entry.path().join(format!("task/{pid}/children")))
                    .unwrap_or_default();
            if parent.map(str::trim) == Some(&daemon.to_string())
                && cmdline.ends_with(b"runtime\0--await-args\0")
                && children.trim().is_empty()
            {
                found.push(pid);
            }
        }
        found
    };
    let mut ready = Vec::new();
    d.wait_until("a shim started ahead", Duration::from_secs(10), || {
        ready = awaiting();
        ready.len() == 1
    });
    d.pier_ok(&["run", "-d", "--name", "second", "busybox", "sleep", "1000"]);
    let init = pid_of(&d, "second");
    let shim = std::fs::read_to_string(format!("/proc/{init}/status"))
        .unwrap()
        .lines()
        .find_map(|l| {
            l.strip_prefix("PPid:")
                .map(|p| p.trim().parse::<i64>().unwrap())
        })
        .unwrap();
    assert_eq!(
        shim, ready[0],
        "the second container's shim was not the one started ahead"
    );
    assert_eq!(
        d.pier_ok(&["exec", "second", "echo", "through its shim"]),
        "through its shim\n"
    );
    let mut next = Vec::new();
    d.wait_until(
        "the next shim started ahead",
        Duration::from_secs(10),
        || {
            next = awaiting();
            next.len() == 1 && next != ready
        },
    );
    d.pier_ok(&["rm", "-f", "first", "second"]);
    d.stop();
    assert!(
        !alive(next[0]),
        "the shim started ahead outlived its daemon"
    );
}
