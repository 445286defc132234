//! Known container escapes stay closed; each test fails on a build that is vulnerable.

use std::io::{BufRead, BufReader, Read};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::support::*;

fn sha256_of(path: &Path) -> String {
    let out = Command::new("sha256sum").arg(path).output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}

/// CVE-2019-5736: a container that grabs /proc/PID/exe of a runtime process joining it for
/// `exec` must not be able to write the runtime's binary on the host. The container gets
/// CAP_SYS_PTRACE, so that only the sealed copy, not the non-dumpable flag, is what protects.
#[test]
fn exec_does_not_expose_the_host_binary() {
    let w = World::new();
    let mut b = w.bundle(&["/exe_attack"]);
    let compiled = Command::new("gcc")
        .args(["-static", "-O2", "-o"])
        .arg(b.rootfs().join("exe_attack"))
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e/fixtures/exe_attack.c"))
        .status()
        .expect("gcc is needed to build the attack probe (apt-get install gcc libc6-dev)");
    assert!(compiled.success());
    b.edit(|s| {
        for set in ["bounding", "effective", "permitted"] {
            s["process"]["capabilities"][set]
                .as_array_mut()
                .unwrap()
                .push("CAP_SYS_PTRACE".into());
        }
    });
    // The exec is done by a private copy of pier, so that no other pier process keeps the file
    // busy (ETXTBSY) once the exec is over: exactly the window the real exploit uses.
    let copy = w.dir.path().join("pier-copy");
    std::fs::copy(PIER, &copy).unwrap();
    let before = sha256_of(&copy);

    let id = w.id("cve5736");
    let mut init = w.spawn_run(&b, &id);
    let mut out = BufReader::new(init.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert_eq!(line, "ready\n");
    for _ in 0..40 {
        let status = Command::new(&copy)
            .args([
                "runtime",
                "--root",
                w.root.to_str().unwrap(),
                "exec",
                &id,
                "true",
            ])
            .status()
            .unwrap();
        assert!(status.success());
    }
    ok(&w.run(&["kill", &id, "USR1"]));
    let mut report = String::new();
    out.read_to_string(&mut report).unwrap();
    init.wait().unwrap();
    assert!(report.contains("captured="), "{report}");
    let captured: u32 = report
        .split("captured=")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        captured > 0,
        "the probe never saw an exec'ing runtime process, so it proved nothing: {report}"
    );
    assert!(report.contains("wrote=0"), "{report}");
    assert!(
        report.contains("memfd:"),
        "the exec'ing process should run from a sealed copy: {report}"
    );
    assert_eq!(
        sha256_of(&copy),
        before,
        "the runtime binary on the host was overwritten"
    );
    w.assert_clean();
}

/// CVE-2024-21626: a working directory reached through a host descriptor must not become the
/// process's working directory. fd 3 is a host directory handed in with --preserve-fds.
#[test]
fn a_cwd_through_a_host_descriptor_is_refused() {
    let w = World::new();
    let mut b = w.bundle(&["sh", "-c", "ls; pwd"]);
    b.edit(|s| s["process"]["cwd"] = "/proc/self/fd/3".into());
    let host_dir = std::fs::File::open(w.dir.path()).unwrap();
    let raw = host_dir.as_raw_fd();
    let id = w.id("cve21626");
    let mut cmd = w.pier();
    cmd.args([
        "run",
        "--preserve-fds",
        "1",
        "--bundle",
        b.path.to_str().unwrap(),
        &id,
    ]);
    // SAFETY: dup2 in the child before exec; it only touches the child's descriptor table.
    unsafe {
        cmd.pre_exec(move || {
            // dup2 onto itself would keep close-on-exec set.
            let ret = if raw == 3 {
                libc::fcntl(3, libc::F_SETFD, 0)
            } else {
                libc::dup2(raw, 3)
            };
            if ret < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let out = cmd.stdin(Stdio::null()).output().unwrap();
    assert!(
        !out.status.success(),
        "ran with a host cwd: {}",
        stdout(&out)
    );
    assert!(
        stderr(&out).contains("outside the container's root"),
        "{}",
        stderr(&out)
    );
    assert!(
        !stdout(&out).contains("state"),
        "host directory listed: {}",
        stdout(&out)
    );
    w.assert_clean();
}

/// Runs `cmd` with a host directory open, not close-on-exec, as descriptor 5: a descriptor
/// that the caller leaks to pier by mistake.
fn with_leaked_host_fd(cmd: &mut Command, dir: &Path) -> std::fs::File {
    let host_dir = std::fs::File::open(dir).unwrap();
    let raw = host_dir.as_raw_fd();
    // SAFETY: dup2 in the child before exec; it only touches the child's descriptor table.
    unsafe {
        cmd.pre_exec(move || {
            let ret = if raw == 5 {
                libc::fcntl(5, libc::F_SETFD, 0)
            } else {
                libc::dup2(raw, 5)
            };
            if ret < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    host_dir
}

#[test]
fn no_host_descriptor_reaches_the_container_or_an_exec() {
    let w = World::new();
    let b = w.bundle(&["sh", "-c", "ls /proc/self/fd | tr '\\n' ' '; sleep 1000"]);
    let id = w.id("fds");
    let mut cmd = w.pier();
    cmd.args(["run", "--bundle", b.path.to_str().unwrap(), &id])
        .stdin(Stdio::null())
        .stdout(Stdio::piped());
    let _leaked = with_leaked_host_fd(&mut cmd, w.dir.path());
    let mut init = cmd.spawn().unwrap();
    let mut seen = [0u8; 8];
    init.stdout.as_mut().unwrap().read_exact(&mut seen).unwrap();
    // ls has its own directory descriptor open as 3.
    assert_eq!(&seen, b"0 1 2 3 ");
    let mut exec = w.pier();
    exec.args(["exec", &id, "ls", "/proc/self/fd"])
        .stdin(Stdio::null());
    let _leaked = with_leaked_host_fd(&mut exec, w.dir.path());
    let out = ok(&exec.output().unwrap());
    assert_eq!(
        out.split_whitespace().collect::<Vec<_>>(),
        ["0", "1", "2", "3"]
    );
    ok(&w.run(&["kill", &id, "KILL"]));
    init.wait().unwrap();
    w.assert_clean();
}

/// A symlink planted in the image that points at a host path: the mount lands inside the
/// rootfs, and the host directory stays untouched.
#[test]
fn mount_destinations_resolve_inside_the_rootfs() {
    let w = World::new();
    let host = tempfile::Builder::new()
        .prefix("pier-host-target-")
        .tempdir_in("/tmp")
        .unwrap();
    let mut b = w.bundle(&[
        "sh",
        "-c",
        "grep -c \" $TARGET/inner \" /proc/self/mountinfo",
    ]);
    std::os::unix::fs::symlink(host.path(), b.rootfs().join("escape")).unwrap();
    let target = host.path().to_str().unwrap().to_owned();
    b.edit(|s| {
        s["process"]["env"].as_array_mut().unwrap().push(format!("TARGET={target}").into());
        s["mounts"].as_array_mut().unwrap().push(serde_json::json!({
            "destination": "/escape/inner", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]
        }));
    });
    let out = ok(&w.run_bundle(&b, "symlink"));
    assert_eq!(
        out, "1\n",
        "the mount is not where the image's symlink points inside the container"
    );
    assert_eq!(
        std::fs::read_dir(host.path()).unwrap().count(),
        0,
        "the host directory was written to"
    );
    assert!(
        b.rootfs()
            .join(target.trim_start_matches('/'))
            .join("inner")
            .is_dir()
    );
    w.assert_clean();
}
