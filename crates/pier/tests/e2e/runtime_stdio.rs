//! Managed stdio: the shim owns a container's stdin, stdout and stderr, writes the json-file
//! log (with rotation), and serves the attach socket (frames out, stdin in, resize).

use std::io::{Read, Write};
use std::net::Shutdown;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use runtime::attach::{FRAME_HEADER_LEN, parse_frame_header};
use runtime::logfile::{LogReader, Stream};

use crate::support::*;

fn create(w: &World, b: &Bundle, id: &str, flags: &[&str]) {
    let mut args = vec!["create"];
    args.extend_from_slice(flags);
    args.extend_from_slice(&["--bundle", b.path.to_str().unwrap(), id]);
    let out = ok(&w.run(&args));
    assert!(
        out.is_empty(),
        "the container's output reached create: {out:?}"
    );
}

fn log_path(w: &World, name: &str) -> PathBuf {
    w.dir.path().join(format!("{name}-json.log"))
}

/// Every entry of a log, as (stream, text).
fn log_entries(path: &Path) -> Vec<(Stream, String)> {
    let mut reader = LogReader::open(path).unwrap();
    let mut out = Vec::new();
    while let Some(e) = reader.next_entry().unwrap() {
        out.push((e.stream, String::from_utf8(e.bytes).unwrap()));
    }
    out
}

/// Connects to the container's attach socket and asks for the streams given.
fn attach(w: &World, id: &str, stdin: bool, stdout: bool, stderr: bool) -> UnixStream {
    let socket = runtime::Runtime::new(&w.root).attach_socket(id);
    let mut stream = UnixStream::connect(&socket).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let request = serde_json::json!({"stdin": stdin, "stdout": stdout, "stderr": stderr});
    stream.write_all(format!("{request}\n").as_bytes()).unwrap();
    let mut reply = Vec::new();
    let mut byte = [0u8; 1];
    while byte[0] != b'\n' {
        stream.read_exact(&mut byte).unwrap();
        reply.push(byte[0]);
    }
    assert_eq!(reply, b"{\"ok\":true}\n");
    stream
}

/// Output of an attach connection, by stream byte.
#[derive(Default, Debug)]
struct Frames {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    other_streams: Vec<u8>,
}

impl Frames {
    /// Reads one frame; false at end-of-file.
    fn read_one(&mut self, stream: &mut UnixStream) -> bool {
        let mut header = [0u8; FRAME_HEADER_LEN];
        match stream.read_exact(&mut header) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return false,
            Err(e) => panic!("reading a frame header: {e}"),
        }
        let (kind, len) = parse_frame_header(&header);
        let mut payload = vec![0u8; len as usize];
        stream.read_exact(&mut payload).unwrap();
        match kind {
            1 => self.stdout.extend_from_slice(&payload),
            2 => self.stderr.extend_from_slice(&payload),
            other => self.other_streams.push(other),
        }
        true
    }

    fn read_to_end(stream: &mut UnixStream) -> Frames {
        let mut frames = Frames::default();
        while frames.read_one(stream) {}
        frames
    }

    /// Reads until stdout holds `needle`.
    fn read_until(&mut self, stream: &mut UnixStream, needle: &str) {
        while !String::from_utf8_lossy(&self.stdout).contains(needle) {
            assert!(
                self.read_one(stream),
                "end of output before {needle:?}: {self:?}"
            );
        }
    }
}

#[test]
fn output_lands_in_the_json_file_log() {
    let w = World::new();
    let b = w.bundle(&[
        "sh",
        "-c",
        "echo out; echo err >&2; printf 'tab\\there <&>'",
    ]);
    let id = w.id("stdiolog");
    let log = log_path(&w, &id);
    create(&w, &b, &id, &["--log-path", log.to_str().unwrap()]);
    assert!(w.root.join(&id).join("attach.sock").exists());
    ok(&w.run(&["start", &id]));
    let state = w.wait_status(&id, "stopped");
    assert_eq!(state["exit"]["code"], 0, "{state}");
    // The shim removes its attach socket when the container ends.
    assert!(!w.root.join(&id).join("attach.sock").exists());

    let mut entries = log_entries(&log);
    entries.sort_by_key(|(stream, _)| *stream == Stream::Stderr);
    assert_eq!(
        entries,
        vec![
            (Stream::Stdout, "out\n".to_owned()),
            (Stream::Stdout, "tab\there <&>".to_owned()),
            (Stream::Stderr, "err\n".to_owned()),
        ]
    );
    // Docker's bytes: field order, escapes, nine-digit UTC times.
    let text = std::fs::read_to_string(&log).unwrap();
    for line in text.lines() {
        assert!(line.starts_with("{\"log\":\""), "{line}");
        let time = line
            .split("\"time\":\"")
            .nth(1)
            .and_then(|t| t.strip_suffix("\"}"))
            .unwrap_or_else(|| panic!("no time in {line}"));
        assert_eq!(time.len(), "2026-11-28T05:00:00.123456789Z".len(), "{time}");
        assert!(time.ends_with('Z') && time.as_bytes()[19] == b'.', "{time}");
    }
    assert!(
        text.contains(r#"{"log":"tab\u0009here \u003c\u0026\u003e","stream":"stdout","time":""#),
        "{text}"
    );
    ok(&w.run(&["delete", &id]));
    w.assert_clean();
}

#[test]
fn a_chatty_container_rotates_its_log() {
    let w = World::new();
    let b = w.bundle(&[
        "sh",
        "-c",
        "i=0; while [ $i -lt 3000 ]; do echo \"line $i\"; i=$((i+1)); done",
    ]);
    let id = w.id("rotate");
    let log = log_path(&w, &id);
    create(
        &w,
        &b,
        &id,
        &[
            "--log-path",
            log.to_str().unwrap(),
            "--log-max-size",
            "20000",
            "--log-max-files",
            "3",
        ],
    );
    ok(&w.run(&["start", &id]));
    w.wait_status(&id, "stopped");
    let rotated = |n: u32| PathBuf::from(format!("{}.{n}", log.display()));
    for path in [log.clone(), rotated(1), rotated(2)] {
        let size = std::fs::metadata(&path).unwrap().len();
        assert!(size <= 20000 && size > 0, "{}: {size}", path.display());
    }
    assert!(!rotated(3).exists());
    // What is left is the end of the output, in order, across the three files.
    let entries = log_entries(&log);
    let numbers: Vec<u32> = entries
        .iter()
        .map(|(_, text)| {
            text.strip_prefix("line ")
                .and_then(|t| t.strip_suffix('\n'))
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    assert_eq!(*numbers.last().unwrap(), 2999);
    assert!(numbers.len() > 500, "{}", numbers.len());
    assert!(numbers.windows(2).all(|p| p[1] == p[0] + 1), "{numbers:?}");
    ok(&w.run(&["delete", &id]));
    w.assert_clean();
}

#[test]
fn attach_before_start_gets_everything_then_eof_before_the_exit() {
    let w = World::new();
    let b = w.bundle(&[
        "sh",
        "-c",
        "echo first; yes 0123456789 | head -c 600000; echo last >&2",
    ]);
    let id = w.id("attach");
    create(&w, &b, &id, &["--managed-io"]);
    let mut reader = attach(&w, &id, false, true, true);
    // A second client that reads nothing until the end: the shim waits for it (a while)
    // before it records the exit.
    let mut slow = attach(&w, &id, false, true, false);
    ok(&w.run(&["start", &id]));

    let frames = Frames::read_to_end(&mut reader);
    let exit_file = w.root.join(&id).join("exit.json");
    assert!(
        !exit_file.exists(),
        "the exit was recorded before an attached client had all the output"
    );
    assert_eq!(frames.stdout.len(), 6 + 600000);
    assert!(frames.stdout.starts_with(b"first\n0123456789\n"));
    assert_eq!(frames.stderr, b"last\n");
    assert!(frames.other_streams.is_empty());

    let slow_frames = Frames::read_to_end(&mut slow);
    assert_eq!(slow_frames.stdout, frames.stdout);
    assert!(slow_frames.stderr.is_empty());
    let state = w.wait_status(&id, "stopped");
    assert_eq!(state["exit"]["code"], 0);
    ok(&w.run(&["delete", &id]));
    w.assert_clean();
}

#[test]
fn a_client_that_does_not_read_is_dropped() {
    let w = World::new();
    let b = w.bundle(&[
        "sh",
        "-c",
        "yes 0123456789012345678901234567890123456789 | head -c 4000000; echo end",
    ]);
    let id = w.id("slowclient");
    create(&w, &b, &id, &["--managed-io"]);
    let mut stuck = attach(&w, &id, false, true, true);
    ok(&w.run(&["start", &id]));
    // The container is not held up by a client that reads nothing.
    w.wait_status(&id, "stopped");
    let mut total = 0usize;
    let mut buf = vec![0u8; 65536];
    loop {
        match stuck.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => total += n,
        }
    }
    assert!(
        total < 4_000_000,
        "got {total} bytes: it was not disconnected"
    );
    ok(&w.run(&["delete", &id]));
    w.assert_clean();
}

#[test]
fn stdin_reaches_cat_through_attach() {
    let w = World::new();
    let b = w.bundle(&["cat"]);
    let id = w.id("stdin");
    create(&w, &b, &id, &["--stdin"]);
    let mut first = attach(&w, &id, true, true, false);
    ok(&w.run(&["start", &id]));
    first.write_all(b"hello\n").unwrap();
    let mut seen = Frames::default();
    seen.read_until(&mut first, "hello\n");
    // Without --stdin-once, a client that stops sending leaves stdin open.
    first.shutdown(Shutdown::Write).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(w.state(&id)["status"], "running");
    let mut second = attach(&w, &id, true, true, false);
    second.write_all(b"again\n").unwrap();
    Frames::default().read_until(&mut second, "again\n");
    drop(second);
    // The half-closed first client still gets output.
    seen.read_until(&mut first, "again\n");
    runtime::Runtime::new(&w.root).close_stdin(&id).unwrap();
    let rest = Frames::read_to_end(&mut first);
    assert!(rest.stdout.is_empty(), "{rest:?}");
    let state = w.wait_status(&id, "stopped");
    assert_eq!(state["exit"]["code"], 0);
    ok(&w.run(&["delete", &id]));
    w.assert_clean();
}

#[test]
fn stdin_once_closes_stdin_when_the_attacher_leaves() {
    let w = World::new();
    let b = w.bundle(&["sh", "-c", "cat; echo cat done"]);
    let id = w.id("stdinonce");
    create(&w, &b, &id, &["--stdin", "--stdin-once"]);
    let mut client = attach(&w, &id, true, true, false);
    ok(&w.run(&["start", &id]));
    client.write_all(b"x\n").unwrap();
    client.shutdown(Shutdown::Write).unwrap();
    let frames = Frames::read_to_end(&mut client);
    assert_eq!(frames.stdout, b"x\ncat done\n");
    let state = w.wait_status(&id, "stopped");
    assert_eq!(state["exit"]["code"], 0);
    ok(&w.run(&["delete", &id]));
    w.assert_clean();
}

#[test]
fn a_managed_terminal_takes_input_and_resizes() {
    let w = World::new();
    let mut b = w.bundle(&["sh", "-c", "stty size; read line; stty size; tty"]);
    b.edit(|s| s["process"]["terminal"] = true.into());
    let id = w.id("ttyresize");
    let log = log_path(&w, &id);
    // No console socket: the shim keeps the terminal.
    create(
        &w,
        &b,
        &id,
        &["--stdin", "--log-path", log.to_str().unwrap()],
    );
    let mut client = attach(&w, &id, true, true, true);
    // The terminal exists from creation: it can be sized before the process starts.
    let rt = runtime::Runtime::new(&w.root);
    rt.resize(&id, 20, 50).unwrap();
    ok(&w.run(&["start", &id]));
    let mut seen = Frames::default();
    seen.read_until(&mut client, "20 50\r\n");
    rt.resize(&id, 33, 77).unwrap();
    client.write_all(b"go\n").unwrap();
    seen.read_until(&mut client, "33 77\r\n");
    seen.read_until(&mut client, "/dev/pts/0\r\n");
    let rest = Frames::read_to_end(&mut client);
    // A terminal has one stream.
    assert!(seen.stderr.is_empty() && rest.stderr.is_empty());
    w.wait_status(&id, "stopped");
    let entries = log_entries(&log);
    assert!(
        entries.iter().all(|(s, _)| *s == Stream::Stdout),
        "{entries:?}"
    );
    assert!(
        entries.contains(&(Stream::Stdout, "33 77\r\n".to_owned())),
        "{entries:?}"
    );
    // A stopped container has no shim to ask.
    let err = rt.resize(&id, 1, 1).unwrap_err();
    assert!(err.to_string().contains("not running"), "{err}");
    ok(&w.run(&["delete", &id]));
    w.assert_clean();
}

#[test]
fn resize_without_a_terminal_is_refused() {
    let w = World::new();
    let b = w.bundle(&["sleep", "1000"]);
    let id = w.id("notty");
    create(&w, &b, &id, &["--managed-io"]);
    let err = runtime::Runtime::new(&w.root)
        .resize(&id, 10, 10)
        .unwrap_err();
    assert!(err.to_string().contains("has no terminal"), "{err}");
    ok(&w.run(&["delete", &id]));
    w.assert_clean();
}

#[test]
fn a_container_keeps_logging_after_its_creator_exits() {
    let w = World::new();
    let b = w.bundle(&[
        "sh",
        "-c",
        "i=0; while :; do echo tick $i; i=$((i+1)); sleep 0.05; done",
    ]);
    let id = w.id("keeplog");
    let log = log_path(&w, &id);
    create(&w, &b, &id, &["--log-path", log.to_str().unwrap()]);
    ok(&w.run(&["start", &id]));
    let pid = w.wait_status(&id, "running")["pid"].as_i64().unwrap();
    // The shim parents the container and is nobody's child here: the `create` that made it
    // has exited, and the test never was its parent.
    let shim = parent_pid(pid);
    let shim_parent = parent_pid(shim as i64);
    assert_ne!(shim_parent, std::process::id() as i32);
    let exe = std::fs::read_link(format!("/proc/{shim}/exe")).unwrap();
    assert!(exe.to_string_lossy().contains("pier"), "{exe:?}");
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut count = 0;
    while count < 10 {
        assert!(
            Instant::now() < deadline,
            "the log stopped at {count} entries"
        );
        std::thread::sleep(Duration::from_millis(100));
        count = log_entries(&log).len();
    }
    let later = Instant::now() + Duration::from_secs(10);
    while log_entries(&log).len() <= count + 3 {
        assert!(Instant::now() < later, "the log stopped growing");
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!("shim memory: {}", shim_memory(shim));
    ok(&w.run(&["delete", "--force", &id]));
    w.assert_clean();
}

/// Rss and private (USS) memory of a process, from smaps_rollup.
fn shim_memory(pid: i32) -> String {
    let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
    let field = |name: &str| -> u64 {
        rollup
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    };
    format!(
        "Rss {} kB, USS {} kB",
        field("Rss:"),
        field("Private_Clean:") + field("Private_Dirty:")
    )
}

#[test]
fn bad_combinations_are_refused_and_leave_nothing() {
    let w = World::new();
    let b = w.bundle(&["true"]);
    let id = w.id("badio");
    let path = b.path.to_str().unwrap();
    let out = w.run(&[
        "create",
        "--managed-io",
        "--console-socket",
        "/nonexistent.sock",
        "--bundle",
        path,
        &id,
    ]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("--console-socket cannot be used with managed stdio"),
        "{}",
        stderr(&out)
    );
    let out = w.run(&["run", "--stdin", "--bundle", path, &id]);
    assert!(
        stderr(&out).contains("needs a detached container"),
        "{}",
        stderr(&out)
    );
    let out = w.run(&[
        "create",
        "--log-path",
        "/nonexistent/dir/log",
        "--bundle",
        path,
        &id,
    ]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("opening log /nonexistent/dir/log"),
        "{}",
        stderr(&out)
    );
    let out = w.run(&["create", "--stdin-once", "--bundle", path, &id]);
    assert!(!out.status.success(), "--stdin-once without --stdin");
    w.assert_clean();
}
