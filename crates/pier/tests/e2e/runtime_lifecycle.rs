//! The OCI lifecycle through the command line: create, start, state, kill, delete, list,
//! exec, pause and resume; terminals; signals.

use std::io::Read;
use std::os::fd::{AsRawFd, OwnedFd};
use std::process::Stdio;
use std::time::Duration;

use crate::support::*;

#[test]
fn create_start_state_kill_delete() {
    let w = World::new();
    let b = w.bundle(&[
        "sh",
        "-c",
        "trap 'echo got TERM; exit 3' TERM; echo ready; while :; do sleep 0.05; done",
    ]);
    let id = w.id("life");
    let bundle = b.path.to_str().unwrap();
    let mut create = w
        .pier()
        .args(["create", "--bundle", bundle, &id])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = create.wait().unwrap();
    assert!(status.success(), "create failed");
    let state = w.state(&id);
    assert_eq!(state["status"], "created");
    assert_eq!(state["id"], id.as_str());
    assert_eq!(state["bundle"], bundle);
    assert!(state["pid"].as_i64().unwrap() > 0);
    assert!(state["ociVersion"].is_string() && state["created"].is_string());

    // Deleting a running container without force is refused; start runs it.
    ok(&w.run(&["start", &id]));
    w.wait_status(&id, "running");
    let refused = w.run(&["start", &id]);
    assert!(
        stderr(&refused).contains("cannot start an already running container"),
        "{}",
        stderr(&refused)
    );
    let refused = w.run(&["delete", &id]);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("is not stopped: running"),
        "{}",
        stderr(&refused)
    );

    let list = ok(&w.run(&["list"]));
    assert!(list.starts_with("ID "), "{list}");
    assert!(
        list.lines()
            .any(|l| l.starts_with(&id) && l.contains("running")),
        "{list}"
    );
    assert_eq!(ok(&w.run(&["list", "-q"])).trim(), id);

    // The container's stdout is the pipe create was given; the process sees SIGTERM.
    let mut output = create.stdout.take().unwrap();
    let mut first = [0u8; 6];
    output.read_exact(&mut first).unwrap();
    assert_eq!(&first, b"ready\n");
    ok(&w.run(&["kill", &id, "TERM"]));
    let state = w.wait_status(&id, "stopped");
    assert_eq!(state["pid"], 0);
    assert_eq!(state["exit"]["code"], 3, "{state}");
    let mut rest = String::new();
    output.read_to_string(&mut rest).unwrap();
    assert_eq!(rest, "got TERM\n");

    let refused = w.run(&["kill", &id, "KILL"]);
    assert!(
        stderr(&refused).contains("container not running"),
        "{}",
        stderr(&refused)
    );
    ok(&w.run(&["delete", &id]));
    let gone = w.run(&["state", &id]);
    assert!(
        stderr(&gone).contains("does not exist"),
        "{}",
        stderr(&gone)
    );
    w.assert_clean();
}

#[test]
fn a_created_container_survives_its_creator_and_can_be_deleted() {
    let w = World::new();
    let b = w.bundle(&["sleep", "1000"]);
    let id = w.id("orphan");
    ok(&w.run(&["create", "--bundle", b.path.to_str().unwrap(), &id]));
    ok(&w.run(&["start", &id]));
    let state = w.wait_status(&id, "running");
    let pid = state["pid"].as_i64().unwrap() as i32;
    // The container's parent is the shim, not the command that created it (which is gone).
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let ppid: i32 = status
        .lines()
        .find_map(|l| l.strip_prefix("PPid:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let parent = std::fs::read_link(format!("/proc/{ppid}/exe")).unwrap();
    assert!(
        parent.to_string_lossy().contains("pier"),
        "parent is {parent:?}"
    );
    ok(&w.run(&["delete", "--force", &id]));
    w.assert_clean();
}

#[test]
fn exec_joins_the_running_container() {
    let w = World::new();
    let mut b = w.bundle(&["sleep", "1000"]);
    b.edit(|s| s["hostname"] = "execbox".into());
    let id = w.id("exec");
    ok(&w.run(&["run", "--detach", "--bundle", b.path.to_str().unwrap(), &id]));
    w.wait_status(&id, "running");
    let out = ok(&w.run(&["exec", "--env", "GREETING=hi", "--cwd", "/tmp", &id, "sh", "-c", "hostname; echo $GREETING; pwd; grep Seccomp: /proc/self/status; cat /proc/1/cmdline | tr '\\0' ' '"]));
    assert_eq!(out, "execbox\nhi\n/tmp\nSeccomp:\t2\nsleep 1000 ");
    let out = w.run(&["exec", &id, "sh", "-c", "exit 7"]);
    assert_eq!(out.status.code(), Some(7));
    let out = w.run(&["exec", &id, "nope"]);
    assert_eq!(out.status.code(), Some(127));
    ok(&w.run(&["delete", "--force", &id]));
    w.assert_clean();
}

#[test]
fn pause_and_resume_freeze_the_container() {
    let w = World::new();
    let b = w.bundle(&["sleep", "1000"]);
    let id = w.id("pause");
    ok(&w.run(&["run", "-d", "--bundle", b.path.to_str().unwrap(), &id]));
    ok(&w.run(&["pause", &id]));
    let state = w.state(&id);
    assert_eq!(state["status"], "paused");
    let pid = state["pid"].as_i64().unwrap();
    let stat = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    assert!(
        stat.contains("State:\tD") || stat.contains("State:\tS") || stat.contains("State:\tT"),
        "{stat}"
    );
    ok(&w.run(&["resume", &id]));
    assert_eq!(w.state(&id)["status"], "running");
    // A paused container can still be force-deleted.
    ok(&w.run(&["pause", &id]));
    ok(&w.run(&["delete", "-f", &id]));
    w.assert_clean();
}

/// Opens a pty pair for driving a foreground command as a terminal would.
fn open_pty() -> (OwnedFd, OwnedFd) {
    let pty = nix::pty::openpty(None, None).unwrap();
    (pty.master, pty.slave)
}

fn read_until(master: &OwnedFd, needle: &str, timeout: Duration) -> String {
    let deadline = std::time::Instant::now() + timeout;
    let mut seen = String::new();
    let mut buf = [0u8; 4096];
    while std::time::Instant::now() < deadline && !seen.contains(needle) {
        let mut fds = [nix::poll::PollFd::new(
            std::os::fd::AsFd::as_fd(master),
            nix::poll::PollFlags::POLLIN,
        )];
        if nix::poll::poll(&mut fds, nix::poll::PollTimeout::from(100u16)).unwrap_or(0) == 0 {
            continue;
        }
        match nix::unistd::read(master, &mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => seen.push_str(&String::from_utf8_lossy(&buf[..n])),
        }
    }
    seen
}

#[test]
fn a_terminal_shows_dev_pts_0_and_takes_input() {
    let w = World::new();
    let mut b = w.bundle(&["sh"]);
    b.edit(|s| s["process"]["terminal"] = true.into());
    let id = w.id("tty");
    let (master, slave) = open_pty();
    let mut child = w
        .pier()
        .args(["run", "--bundle", b.path.to_str().unwrap(), &id])
        .stdin(slave.try_clone().unwrap())
        .stdout(slave.try_clone().unwrap())
        .stderr(slave)
        .spawn()
        .unwrap();
    nix::unistd::write(&master, b"tty; echo sum=$((40+2))\n").unwrap();
    let seen = read_until(&master, "sum=42", Duration::from_secs(10));
    assert!(seen.contains("/dev/pts/0"), "{seen:?}");
    assert!(seen.contains("sum=42"), "{seen:?}");
    nix::unistd::write(&master, b"exit 5\n").unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(5));
    drop(master);
    w.assert_clean();
}

#[test]
fn console_socket_receives_the_terminal_as_with_runc() {
    let w = World::new();
    let mut b = w.bundle(&["sh", "-c", "tty; echo done"]);
    b.edit(|s| s["process"]["terminal"] = true.into());
    let id = w.id("console");
    let socket = w.dir.path().join("console.sock");
    let listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    let receiver = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut buf = [0u8; 64];
        let mut cmsg = nix::cmsg_space!([std::os::fd::RawFd; 1]);
        let mut iov = [std::io::IoSliceMut::new(&mut buf)];
        let msg = nix::sys::socket::recvmsg::<()>(
            stream.as_raw_fd(),
            &mut iov,
            Some(&mut cmsg),
            nix::sys::socket::MsgFlags::empty(),
        )
        .unwrap();
        for c in msg.cmsgs().unwrap() {
            if let nix::sys::socket::ControlMessageOwned::ScmRights(fds) = c {
                // SAFETY: received by SCM_RIGHTS, owned by us.
                return unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fds[0]) };
            }
        }
        panic!("no descriptor received");
    });
    ok(&w.run(&[
        "create",
        "--console-socket",
        socket.to_str().unwrap(),
        "--bundle",
        b.path.to_str().unwrap(),
        &id,
    ]));
    let master = receiver.join().unwrap();
    ok(&w.run(&["start", &id]));
    let seen = read_until(&master, "done", Duration::from_secs(10));
    assert!(seen.contains("/dev/pts/0"), "{seen:?}");
    w.wait_status(&id, "stopped");
    ok(&w.run(&["delete", &id]));
    w.assert_clean();
}

#[test]
fn signals_sent_to_a_foreground_run_reach_the_container() {
    let w = World::new();
    let b = w.bundle(&[
        "sh",
        "-c",
        "trap 'exit 9' USR1; echo up; while :; do sleep 0.05; done",
    ]);
    let id = w.id("fwd");
    let mut child = w.spawn_run(&b, &id);
    let mut up = [0u8; 3];
    child.stdout.as_mut().unwrap().read_exact(&mut up).unwrap();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGUSR1,
    )
    .unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(9));
    w.assert_clean();
}

#[test]
fn the_detached_shim_forwards_signals_and_records_the_exit() {
    let w = World::new();
    let b = w.bundle(&[
        "sh",
        "-c",
        "trap 'exit 11' USR1; while :; do sleep 0.05; done",
    ]);
    let id = w.id("shimsig");
    ok(&w.run(&["run", "-d", "--bundle", b.path.to_str().unwrap(), &id]));
    let pid = w.wait_status(&id, "running")["pid"].as_i64().unwrap();
    // Let the shell install its trap before the signal arrives.
    std::thread::sleep(Duration::from_millis(200));
    let shim = parent_pid(pid);
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(shim),
        nix::sys::signal::Signal::SIGUSR1,
    )
    .unwrap();
    let state = w.wait_status(&id, "stopped");
    assert_eq!(state["exit"]["code"], 11, "{state}");
    ok(&w.run(&["delete", &id]));
    w.assert_clean();
}

#[test]
fn remains_of_a_creation_that_died_do_not_block_the_id() {
    let w = World::new();
    let id = w.id("stale");
    std::fs::create_dir_all(w.root.join(&id)).unwrap();
    std::fs::write(w.root.join(&id).join("lock"), b"").unwrap();
    // `delete` removes them...
    ok(&w.run(&["delete", &id]));
    assert!(!w.root.join(&id).exists());
    // ...and `create` takes them over.
    std::fs::create_dir_all(w.root.join(&id)).unwrap();
    let b = w.bundle(&["true"]);
    ok(&w.run(&["create", "--bundle", b.path.to_str().unwrap(), &id]));
    assert_eq!(w.state(&id)["status"], "created");
    ok(&w.run(&["delete", &id]));
    w.assert_clean();
}

#[test]
fn a_container_outlives_a_killed_foreground_run_and_can_be_removed() {
    let w = World::new();
    let b = w.bundle(&["sh", "-c", "echo up; exec sleep 1000"]);
    let id = w.id("orphanrun");
    let mut run = w.spawn_run(&b, &id);
    let mut up = [0u8; 3];
    run.stdout.as_mut().unwrap().read_exact(&mut up).unwrap();
    run.kill().unwrap();
    run.wait().unwrap();
    let state = w.state(&id);
    assert_eq!(state["status"], "running", "{state}");
    ok(&w.run(&["delete", "--force", &id]));
    w.assert_clean();
}
