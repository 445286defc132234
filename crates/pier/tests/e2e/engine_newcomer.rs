//! A newcomer's first session with pier, through pier's own CLI against a private daemon:
//! run, ps, logs, exec, stop, rm, an interactive shell, and the everyday flags.

use std::process::Stdio;
use std::time::Duration;

use crate::daemon::{PierDaemon, PtySession, wait_output};

fn is_hex_id(s: &str, len: usize) -> bool {
    s.len() == len
        && s.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

/// Splits a table printed with Go's tabwriter (minwidth 10, padding 3) into cells, checking
/// that every row's columns start where the header's do and that each column is as wide as
/// Docker makes it: its widest cell plus 3, at least 10.
#[track_caller]
fn table_cells(text: &str, columns: &[&str]) -> Vec<Vec<String>> {
    let mut lines = text.lines();
    let header = lines.next().expect("no header");
    let mut starts = Vec::new();
    let mut from = 0;
    for c in columns {
        let at = header[from..]
            .find(c)
            .unwrap_or_else(|| panic!("no column {c:?} in {header:?}"))
            + from;
        starts.push(at);
        from = at + c.len();
    }
    assert_eq!(starts[0], 0, "{header:?}");
    let rows: Vec<&str> = lines.collect();
    let cell = |line: &str, i: usize| -> String {
        let end = starts
            .get(i + 1)
            .copied()
            .unwrap_or(line.len())
            .min(line.len());
        line.get(starts[i].min(line.len())..end)
            .unwrap_or_else(|| panic!("row {line:?} does not line up with {header:?}"))
            .to_owned()
    };
    for i in 0..columns.len() - 1 {
        let widest = std::iter::once(columns[i].len())
            .chain(rows.iter().map(|r| cell(r, i).trim_end().len()))
            .max()
            .unwrap();
        assert_eq!(
            starts[i + 1] - starts[i],
            (widest + 3).max(10),
            "column {:?} is not as wide as Go's tabwriter makes it:\n{text}",
            columns[i]
        );
        for r in &rows {
            assert!(
                cell(r, i).ends_with("   "),
                "row {r:?} does not line up with {header:?}"
            );
        }
    }
    rows.iter()
        .map(|r| {
            (0..columns.len())
                .map(|i| cell(r, i).trim().to_owned())
                .collect()
        })
        .collect()
}

const PS_COLUMNS: [&str; 7] = [
    "CONTAINER ID",
    "IMAGE",
    "COMMAND",
    "CREATED",
    "STATUS",
    "PORTS",
    "NAMES",
];

#[test]
fn engine_newcomer_session() {
    let d = PierDaemon::start();
    let out = d.pier(&["run", "--rm", "busybox", "echo", "hello"]);
    d.assert_ok("run --rm busybox echo hello", &out);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hello\n");
    // --rm: nothing left, and the client returned only once it was gone.
    let all = d.pier_ok(&["ps", "-a"]);
    assert_eq!(
        all.lines().count(),
        1,
        "a container is left after --rm:\n{all}"
    );
    table_cells(&all, &PS_COLUMNS);

    let id = d.pier_ok(&[
        "run", "-d", "--name", "web", "busybox", "httpd", "-f", "-p", "80",
    ]);
    let id = id.trim_end_matches('\n');
    assert!(is_hex_id(id, 64), "run -d printed {id:?}");
    let ps = d.pier_ok(&["ps"]);
    let rows = table_cells(&ps, &PS_COLUMNS);
    assert_eq!(rows.len(), 1, "{ps}");
    let row = &rows[0];
    assert_eq!(row[0], id[..12], "{ps}");
    assert_eq!(row[1], "busybox", "{ps}");
    assert_eq!(row[2], "\"httpd -f -p 80\"", "{ps}");
    assert!(row[3].ends_with(" ago"), "CREATED: {ps}");
    assert!(row[4].starts_with("Up "), "STATUS: {ps}");
    assert_eq!(row[5], "", "{ps}");
    assert_eq!(row[6], "web", "{ps}");

    let logs = d.pier(&["logs", "web"]);
    d.assert_ok("logs web", &logs);
    assert!(logs.stdout.is_empty() && logs.stderr.is_empty(), "{logs:?}");

    let code = d.pier(&["exec", "web", "sh", "-c", "exit 4"]);
    assert_eq!(code.status.code(), Some(4), "exec's exit code: {code:?}");
    let ls = d.pier_ok(&["exec", "web", "ls", "/"]);
    let entries: Vec<&str> = ls.split_whitespace().collect();
    for want in ["bin", "dev", "etc", "proc", "sys", "tmp"] {
        assert!(entries.contains(&want), "ls / in the container: {ls:?}");
    }

    // busybox httpd as PID 1 ignores SIGTERM: stop kills it when the timeout ends, as Docker.
    assert_eq!(d.pier_ok(&["stop", "-t", "1", "web"]), "web\n");
    let state = d.inspect("web")["State"].clone();
    assert_eq!(state["Status"], "exited", "{state}");
    assert_eq!(state["Running"], false, "{state}");
    let code = state["ExitCode"].as_i64().unwrap();
    assert!(code == 137 || code == 143, "exit code after stop: {state}");
    let status = d.pier_ok(&["ps", "-a", "--format", "{{.Status}}"]);
    assert!(
        status.starts_with(&format!("Exited ({code}) ")),
        "ps after stop: {status:?}"
    );
    assert_eq!(d.pier_ok(&["rm", "web"]), "web\n");
    assert_eq!(d.pier_ok(&["ps", "-a", "-q"]), "");
}

#[test]
fn engine_newcomer_interactive_shell() {
    let d = PierDaemon::start();
    let mut cmd = d.pier_cmd();
    cmd.args(["run", "-it", "--name", "shell", "busybox", "sh"]);
    let mut pty = PtySession::spawn(cmd);
    pty.write(b"echo hi-$((1+1))\r");
    assert!(
        pty.read_until("hi-2", Duration::from_secs(15)),
        "no hi-2 from the shell: {:?}\ndaemon log:\n{}",
        pty.seen,
        d.log()
    );
    pty.write(b"exit 3\r");
    let status = pty.wait(Duration::from_secs(15));
    assert_eq!(status.code(), Some(3), "terminal: {:?}", pty.seen);
    let state = d.inspect("shell")["State"].clone();
    assert_eq!(state["ExitCode"], 3, "{state}");
    let config = d.inspect("shell")["Config"].clone();
    assert_eq!(config["Tty"], true, "{config}");
    assert_eq!(config["OpenStdin"], true, "{config}");
}

#[test]
fn engine_newcomer_exit_codes() {
    let d = PierDaemon::start();
    let out = d.pier(&["run", "--rm", "busybox", "sh", "-c", "exit 7"]);
    assert_eq!(out.status.code(), Some(7), "{out:?}");

    let out = d.pier(&["run", "--name", "missing", "busybox", "nope"]);
    assert_eq!(out.status.code(), Some(127), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("exec: \"nope\": executable file not found in $PATH"),
        "{err}"
    );
    // As Docker: the container exists, created but never started, with exit code 127.
    let state = d.inspect("missing")["State"].clone();
    assert_eq!(state["ExitCode"], 127, "{state}");
    assert!(
        state["Error"]
            .as_str()
            .unwrap_or("")
            .contains("executable file not found"),
        "{state}"
    );

    // A file that is not executable: 126, as Docker.
    let out = d.pier(&["run", "busybox", "/etc/passwd"]);
    assert_eq!(out.status.code(), Some(126), "{out:?}");

    // With --rm, a container that could not start is removed too (Docker's daemon removes
    // it, and its CLI, waiting for that removal, then reports the error).
    let before = d.pier_ok(&["ps", "-a", "-q"]);
    let out = d.pier(&["run", "--rm", "busybox", "nope"]);
    assert_eq!(out.status.code(), Some(127), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("executable file not found"),
        "{out:?}"
    );
    assert_eq!(d.pier_ok(&["ps", "-a", "-q"]), before);
}

#[test]
fn engine_newcomer_run_options() {
    let d = PierDaemon::start();
    let env = d.pier_ok(&["run", "--rm", "-e", "A=1", "busybox", "env"]);
    let vars: Vec<&str> = env.lines().collect();
    assert!(vars.contains(&"A=1"), "{env}");
    assert!(
        vars.contains(&"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"),
        "{env}"
    );
    assert!(vars.contains(&"HOME=/root"), "{env}");
    assert!(vars.iter().any(|v| v.starts_with("HOSTNAME=")), "{env}");

    assert_eq!(
        d.pier_ok(&["run", "--rm", "-w", "/tmp", "busybox", "pwd"]),
        "/tmp\n"
    );
    // A working directory that does not exist is made, as Docker does.
    assert_eq!(
        d.pier_ok(&["run", "--rm", "-w", "/made/here", "busybox", "pwd"]),
        "/made/here\n"
    );

    let ids = d.pier_ok(&[
        "run",
        "--rm",
        "-u",
        "1000",
        "busybox",
        "sh",
        "-c",
        "id -u; id -g",
    ]);
    assert_eq!(ids, "1000\n1000\n");
    let ids = d.pier_ok(&[
        "run",
        "--rm",
        "-u",
        "1000:10",
        "busybox",
        "sh",
        "-c",
        "id -u; id -g",
    ]);
    assert_eq!(ids, "1000\n10\n");

    let echoed = d.pier_ok(&[
        "run",
        "--rm",
        "--entrypoint",
        "echo",
        "busybox",
        "hi",
        "there",
    ]);
    assert_eq!(echoed, "hi there\n");
}

#[test]
fn engine_newcomer_volumes() {
    let d = PierDaemon::start();
    let host = d.scratch("bind");
    std::fs::write(host.join("in.txt"), "from the host\n").unwrap();
    let bind = format!("{}:/data", host.display());
    let seen = d.pier_ok(&[
        "run",
        "--rm",
        "-v",
        &bind,
        "busybox",
        "sh",
        "-c",
        "cat /data/in.txt; echo from the container > /data/out.txt",
    ]);
    assert_eq!(seen, "from the host\n");
    assert_eq!(
        std::fs::read_to_string(host.join("out.txt")).unwrap(),
        "from the container\n"
    );

    d.pier_ok(&[
        "run",
        "--name",
        "writer",
        "-v",
        "kept:/data",
        "busybox",
        "sh",
        "-c",
        "echo kept > /data/f",
    ]);
    d.pier_ok(&["rm", "writer"]);
    let read = d.pier_ok(&[
        "run",
        "--rm",
        "-v",
        "kept:/data",
        "busybox",
        "cat",
        "/data/f",
    ]);
    assert_eq!(read, "kept\n");
    let volumes = d.pier_ok(&["volume", "ls", "-q"]);
    assert!(volumes.lines().any(|v| v == "kept"), "{volumes}");
}

/// The memory cgroup of a process as the host sees it.
fn memory_limit_file(pid: i64) -> std::path::PathBuf {
    let cgroups = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    for line in cgroups.lines() {
        let mut parts = line.splitn(3, ':');
        let (_, controllers, path) = (parts.next(), parts.next().unwrap(), parts.next().unwrap());
        if controllers.split(',').any(|c| c == "memory") {
            return std::path::Path::new("/sys/fs/cgroup/memory")
                .join(path.trim_start_matches('/'))
                .join("memory.limit_in_bytes");
        }
    }
    // cgroup v2: one hierarchy.
    let line = cgroups.lines().find(|l| l.starts_with("0::")).unwrap();
    std::path::Path::new("/sys/fs/cgroup")
        .join(line[3..].trim_start_matches('/'))
        .join("memory.max")
}

#[test]
fn engine_newcomer_memory_limit() {
    let d = PierDaemon::start();
    d.pier_ok(&[
        "run", "-d", "--name", "small", "--memory", "64m", "busybox", "sleep", "1000",
    ]);
    let inspect = d.inspect("small");
    assert_eq!(
        inspect["HostConfig"]["Memory"],
        64 << 20,
        "{}",
        inspect["HostConfig"]
    );
    let pid = inspect["State"]["Pid"].as_i64().unwrap();
    assert!(pid > 0, "{}", inspect["State"]);
    let file = memory_limit_file(pid);
    assert_eq!(
        std::fs::read_to_string(&file).unwrap().trim(),
        (64u64 << 20).to_string(),
        "{}",
        file.display()
    );
    if std::path::Path::new("/sys/fs/cgroup/memory").is_dir() {
        // Inside, with a cgroup namespace, the container's own group is the root it sees.
        let inside = d.pier_ok(&[
            "exec",
            "small",
            "cat",
            "/sys/fs/cgroup/memory/memory.limit_in_bytes",
        ]);
        assert_eq!(inside.trim(), (64u64 << 20).to_string());
    }
}

#[test]
fn engine_newcomer_ps_filters_formats_inspect_wait() {
    let d = PierDaemon::start();
    let done = d.pier(&["run", "--name", "done", "busybox", "sh", "-c", "exit 3"]);
    assert_eq!(done.status.code(), Some(3), "{done:?}");
    let running = d.pier_ok(&["run", "-d", "--name", "busy", "busybox", "sleep", "1000"]);
    let running = running.trim();

    let all = d.pier_ok(&["ps", "-a", "-q"]);
    let ids: Vec<&str> = all.lines().collect();
    assert_eq!(ids.len(), 2, "{all}");
    assert!(ids.iter().all(|i| is_hex_id(i, 12)), "{all}");
    // Newest first, as Docker lists them.
    assert_eq!(ids[0], &running[..12], "{all}");
    assert_eq!(d.pier_ok(&["ps", "-q"]), format!("{}\n", &running[..12]));
    assert_eq!(
        d.pier_ok(&["ps", "-a", "-q", "--no-trunc", "--filter", "status=running"]),
        format!("{running}\n")
    );
    assert_eq!(
        d.pier_ok(&[
            "ps",
            "-a",
            "--filter",
            "status=exited",
            "--format",
            "{{.Names}}"
        ]),
        "done\n"
    );
    let formatted = d.pier_ok(&["ps", "-a", "--format", "{{.Names}} {{.Status}}"]);
    let lines: Vec<&str> = formatted.lines().collect();
    assert_eq!(lines.len(), 2, "{formatted}");
    assert!(lines[0].starts_with("busy Up "), "{formatted}");
    assert!(
        lines[1].starts_with("done Exited (3) ") && lines[1].ends_with(" ago"),
        "{formatted}"
    );

    assert_eq!(
        d.pier_ok(&["inspect", "-f", "{{.State.ExitCode}}", "done"]),
        "3\n"
    );
    assert_eq!(
        d.pier_ok(&["inspect", "-f", "{{.State.Status}} {{.Name}}", "busy"]),
        "running /busy\n"
    );
    let json: serde_json::Value = serde_json::from_str(&d.pier_ok(&["inspect", "busy"])).unwrap();
    assert_eq!(json[0]["Id"], running, "{json}");
    assert_eq!(json[0]["Config"]["Image"], "busybox", "{json}");

    d.pier_ok(&[
        "run",
        "-d",
        "--name",
        "later",
        "busybox",
        "sh",
        "-c",
        "sleep 1; exit 4",
    ]);
    assert_eq!(d.pier_ok(&["wait", "later"]), "4\n");
    // Waiting on a container that has already ended answers at once.
    assert_eq!(d.pier_ok(&["wait", "done"]), "3\n");
}

#[test]
fn engine_newcomer_restart_pause_unpause() {
    let d = PierDaemon::start();
    d.pier_ok(&["run", "-d", "--name", "rr", "busybox", "sleep", "1000"]);
    let before = d.inspect("rr")["State"].clone();
    assert_eq!(d.pier_ok(&["restart", "-t", "1", "rr"]), "rr\n");
    let after = d.inspect("rr")["State"].clone();
    assert_eq!(after["Status"], "running", "{after}");
    assert_ne!(
        after["Pid"], before["Pid"],
        "restart kept the process: {after}"
    );
    assert_ne!(after["StartedAt"], before["StartedAt"], "{after}");
    assert_eq!(d.inspect("rr")["RestartCount"], 0);

    assert_eq!(d.pier_ok(&["pause", "rr"]), "rr\n");
    let paused = d.inspect("rr")["State"].clone();
    assert_eq!(paused["Status"], "paused", "{paused}");
    assert_eq!(paused["Paused"], true, "{paused}");
    let status = d.pier_ok(&["ps", "--format", "{{.Status}}"]);
    assert!(status.trim_end().ends_with("(Paused)"), "{status:?}");
    // A paused container runs nothing: exec is refused, as Docker refuses it.
    let exec = d.pier(&["exec", "rr", "true"]);
    assert!(!exec.status.success(), "{exec:?}");
    assert!(
        String::from_utf8_lossy(&exec.stderr)
            .contains("is paused, unpause the container before exec"),
        "{exec:?}"
    );
    assert_eq!(d.pier_ok(&["unpause", "rr"]), "rr\n");
    let resumed = d.inspect("rr")["State"].clone();
    assert_eq!(resumed["Status"], "running", "{resumed}");
    assert_eq!(d.pier_ok(&["exec", "rr", "echo", "back"]), "back\n");
}

#[test]
fn engine_newcomer_logs() {
    let d = PierDaemon::start();
    d.pier_ok(&[
        "run",
        "-d",
        "--name",
        "talk",
        "busybox",
        "sh",
        "-c",
        "for i in 1 2 3 4 5; do echo line$i; done; echo oops >&2; sleep 2; echo last",
    ]);
    // -f follows until the container ends, then returns.
    let follow = d
        .pier_cmd()
        .args(["logs", "-f", "talk"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = wait_output(follow, Duration::from_secs(15));
    d.assert_ok("logs -f talk", &out);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "line1\nline2\nline3\nline4\nline5\nlast\n"
    );
    assert_eq!(String::from_utf8_lossy(&out.stderr), "oops\n");
    assert_eq!(d.inspect("talk")["State"]["Status"], "exited");

    let tail = d.pier(&["logs", "--tail", "2", "talk"]);
    d.assert_ok("logs --tail 2", &tail);
    // The last two entries, whichever stream they were written to.
    assert_eq!(String::from_utf8_lossy(&tail.stdout), "last\n");
    assert_eq!(String::from_utf8_lossy(&tail.stderr), "oops\n");

    let stamped = d.pier_ok(&["logs", "-t", "talk"]);
    let lines: Vec<&str> = stamped.lines().collect();
    assert_eq!(lines.len(), 6, "{stamped}");
    for (line, want) in lines
        .iter()
        .zip(["line1", "line2", "line3", "line4", "line5", "last"])
    {
        let (stamp, text) = line.split_once(' ').unwrap();
        assert_eq!(text, want, "{stamped}");
        // RFC 3339 with nanoseconds, in UTC: 2006-01-02T15:04:05.999999999Z
        assert!(
            stamp.len() >= 21 && stamp.ends_with('Z') && stamp.as_bytes()[10] == b'T',
            "{stamped}"
        );
    }
}

/// Unix socket paths are at most 107 bytes; an exec root as long as a test's or a user's
/// home directory's must still run containers (Docker keeps its shims' sockets short).
#[test]
fn engine_newcomer_long_exec_root_runs_containers() {
    let d = PierDaemon::start_named("pe-a-data-root-as-long-as-some-users-have-");
    assert!(d.exec_root().as_os_str().len() > 50);
    assert_eq!(d.pier_ok(&["run", "busybox", "echo", "hello"]), "hello\n");
    d.pier_ok(&["run", "-d", "--name", "long", "busybox", "sleep", "1000"]);
    let mut cmd = d.pier_cmd();
    cmd.args(["exec", "-it", "long", "sh"]);
    let mut pty = PtySession::spawn(cmd);
    pty.write(b"echo in-$((6*7))\r");
    assert!(
        pty.read_until("in-42", Duration::from_secs(15)),
        "{:?}",
        pty.seen
    );
    pty.write(b"exit\r");
    assert_eq!(
        pty.wait(Duration::from_secs(15)).code(),
        Some(0),
        "{:?}",
        pty.seen
    );
}
