//! The real docker CLI against pier's daemon: Docker's own client 28 (API 1.50, which
//! negotiates down to pier's 1.45) and Debian's 20.10, as users of Docker would drive it.

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use crate::daemon::{PierDaemon, PtySession, busybox_tar, wait_output};

/// Which client: 28 (`/usr/local/bin/docker`) or 20.10 (`/usr/bin/docker`).
#[derive(Clone, Copy, Debug)]
enum Cli {
    V28,
    V20,
}

impl Cli {
    fn cmd(self, d: &PierDaemon) -> Command {
        match self {
            Cli::V28 => d.docker_cmd(),
            Cli::V20 => d.docker20_cmd(),
        }
    }

    #[track_caller]
    fn ok(self, d: &PierDaemon, args: &[&str]) -> String {
        match self {
            Cli::V28 => d.docker_ok(args),
            Cli::V20 => d.docker20_ok(args),
        }
    }

    fn run(self, d: &PierDaemon, args: &[&str]) -> Output {
        match self {
            Cli::V28 => d.docker(args),
            Cli::V20 => d.docker20(args),
        }
    }

    /// `--pull=never` where the client has it (20.10 has it too, since 20.10.0).
    fn run_args<'a>(self, rest: &[&'a str]) -> Vec<&'a str> {
        let mut args = vec!["run", "--pull=never"];
        args.extend_from_slice(rest);
        args
    }
}

#[track_caller]
fn interactive(d: &PierDaemon, cli: Cli, args: &[&str], input: &str, expect: &str, code: i32) {
    let mut cmd = cli.cmd(d);
    cmd.args(args);
    let mut pty = PtySession::spawn(cmd);
    pty.write(input.as_bytes());
    assert!(
        pty.read_until(expect, Duration::from_secs(15)),
        "{cli:?} {args:?}: no {expect:?} on the terminal: {:?}\ndaemon log:\n{}",
        pty.seen,
        d.log()
    );
    pty.write(format!("exit {code}\r").as_bytes());
    let status = pty.wait(Duration::from_secs(15));
    assert_eq!(
        status.code(),
        Some(code),
        "{cli:?} {args:?}: {:?}",
        pty.seen
    );
}

/// The client and server blocks of `docker version`, a run, and the container commands.
fn containers_with(cli: Cli) {
    let d = PierDaemon::start();
    let version = cli.ok(&d, &["version"]);
    assert!(version.contains("\nServer"), "{version}");
    assert!(version.contains("API version:      1.45"), "{version}");
    let server = cli.ok(&d, &["version", "--format", "{{.Server.APIVersion}}"]);
    assert_eq!(server, "1.45\n");
    let info = cli.ok(&d, &["info"]);
    assert!(info.contains("Server Version:"), "{info}");
    assert!(info.contains("Cgroup Version:"), "{info}");
    assert_eq!(cli.ok(&d, &["info", "--format", "{{.Images}}"]), "1\n");

    assert_eq!(
        cli.ok(&d, &cli.run_args(&["--rm", "busybox", "echo", "hi"])),
        "hi\n"
    );
    assert_eq!(cli.ok(&d, &["ps", "-aq"]), "", "--rm left a container");
    let code = cli.run(
        &d,
        &cli.run_args(&["--rm", "busybox", "sh", "-c", "exit 9"]),
    );
    assert_eq!(code.status.code(), Some(9), "{code:?}");

    let id = cli.ok(
        &d,
        &cli.run_args(&[
            "-d",
            "--name",
            "talker",
            "busybox",
            "sh",
            "-c",
            "echo one; sleep 1; echo two",
        ]),
    );
    let id = id.trim();
    assert_eq!(id.len(), 64, "{id}");
    let ps = cli.ok(&d, &["ps", "--format", "{{.ID}} {{.Image}} {{.Names}}"]);
    assert_eq!(ps, format!("{} busybox talker\n", &id[..12]));
    let ps = cli.ok(&d, &["ps"]);
    assert!(ps.starts_with("CONTAINER ID   IMAGE     COMMAND"), "{ps}");
    let follow = cli
        .cmd(&d)
        .args(["logs", "-f", "talker"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let logs = wait_output(follow, Duration::from_secs(15));
    d.assert_ok("logs -f talker", &logs);
    assert_eq!(String::from_utf8_lossy(&logs.stdout), "one\ntwo\n");
    assert_eq!(cli.ok(&d, &["wait", "talker"]), "0\n");

    cli.ok(
        &d,
        &cli.run_args(&["-d", "--name", "box", "busybox", "sleep", "1000"]),
    );
    assert_eq!(cli.ok(&d, &["exec", "box", "echo", "inside"]), "inside\n");
    let code = cli.run(&d, &["exec", "box", "sh", "-c", "exit 4"]);
    assert_eq!(code.status.code(), Some(4), "{code:?}");
    assert_eq!(
        cli.ok(
            &d,
            &[
                "exec",
                "-e",
                "X=y",
                "-w",
                "/tmp",
                "box",
                "sh",
                "-c",
                "echo $X; pwd"
            ]
        ),
        "y\n/tmp\n"
    );
    interactive(
        &d,
        cli,
        &["exec", "-it", "box", "sh"],
        "echo x-$((2+3))\r",
        "x-5",
        0,
    );
    interactive(
        &d,
        cli,
        &cli.run_args(&["-it", "--name", "tty", "busybox", "sh"]),
        "tty; echo y-$((3+4))\r",
        "y-7",
        3,
    );

    let inspect: serde_json::Value =
        serde_json::from_str(&cli.ok(&d, &["inspect", "box"])).unwrap();
    assert_eq!(inspect[0]["Name"], "/box", "{inspect}");
    assert_eq!(inspect[0]["State"]["Running"], true, "{inspect}");
    assert_eq!(
        cli.ok(
            &d,
            &[
                "inspect",
                "--format",
                "{{.Config.Cmd}} {{.State.Status}}",
                "box"
            ]
        ),
        "[sleep 1000] running\n"
    );
    assert_eq!(cli.ok(&d, &["stop", "-t", "1", "box"]), "box\n");
    assert_eq!(
        cli.ok(&d, &["inspect", "--format", "{{.State.ExitCode}}", "box"]),
        "137\n"
    );
    cli.ok(&d, &["start", "box"]);
    assert_eq!(cli.ok(&d, &["rm", "-f", "box"]), "box\n");
    let left = cli.ok(&d, &["ps", "-a", "--format", "{{.Names}}"]);
    let mut left: Vec<&str> = left.lines().collect();
    left.sort();
    assert_eq!(left, ["talker", "tty"]);
}

#[test]
fn engine_docker_cli_28_containers() {
    containers_with(Cli::V28);
}

#[test]
fn engine_docker_cli_20_containers() {
    containers_with(Cli::V20);
}

/// `docker save SRC | docker load`, through a pipe between the two clients.
fn save_pipe_load(d: &PierDaemon, cli: Cli, image: &str) -> String {
    let mut save = cli
        .cmd(d)
        .args(["save", image])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pipe = save.stdout.take().unwrap();
    let load = cli
        .cmd(d)
        .arg("load")
        .stdin(pipe)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let loaded = wait_output(load, Duration::from_secs(30));
    let saved = wait_output(save, Duration::from_secs(30));
    d.assert_ok("docker save", &saved);
    d.assert_ok("docker load", &loaded);
    String::from_utf8_lossy(&loaded.stdout).into_owned()
}

fn images_with(cli: Cli) {
    let d = PierDaemon::start();
    let images = cli.ok(&d, &["images"]);
    let mut lines = images.lines();
    let header = lines.next().unwrap();
    assert!(
        header.starts_with("REPOSITORY   TAG       IMAGE ID       CREATED"),
        "{images}"
    );
    let row: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(row[..2], ["busybox", "latest"], "{images}");
    let id = cli.ok(&d, &["images", "-q", "--no-trunc", "busybox"]);
    let id = id.trim().to_owned();
    assert!(id.starts_with("sha256:") && id.len() == 71, "{id}");
    assert_eq!(row[2], &id[7..19], "{images}");

    assert_eq!(cli.ok(&d, &["tag", "busybox:latest", "mybox:1"]), "");
    let tagged = cli.ok(
        &d,
        &["images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"],
    );
    let mut tagged: Vec<&str> = tagged.lines().collect();
    tagged.sort();
    assert_eq!(
        tagged,
        [
            format!("busybox:latest {}", &id[7..19]),
            format!("mybox:1 {}", &id[7..19])
        ]
    );
    let inspect: serde_json::Value =
        serde_json::from_str(&cli.ok(&d, &["image", "inspect", "mybox:1"])).unwrap();
    assert_eq!(inspect[0]["Id"], id.as_str(), "{inspect}");

    let loaded = save_pipe_load(&d, cli, "mybox:1");
    assert!(loaded.contains("Loaded image: mybox:1"), "{loaded}");

    assert_eq!(cli.ok(&d, &["rmi", "mybox:1"]), "Untagged: mybox:1\n");
    let archive = d.scratch("save").join("busybox.tar");
    let archive = archive.to_str().unwrap();
    cli.ok(&d, &["save", "-o", archive, "busybox:latest"]);
    let removed = cli.ok(&d, &["rmi", "busybox"]);
    assert!(
        removed.starts_with("Untagged: busybox:latest\nDeleted: sha256:"),
        "{removed}"
    );
    assert_eq!(cli.ok(&d, &["images", "-q"]), "");
    let loaded = cli.ok(&d, &["load", "-i", archive]);
    assert!(loaded.contains("Loaded image: busybox:latest"), "{loaded}");
    assert_eq!(cli.ok(&d, &["images", "-q", "--no-trunc"]).trim(), id);

    // import: a root filesystem from stdin becomes an image that runs.
    let mut import = cli
        .cmd(&d)
        .args(["import", "-", "imported:1"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    import
        .stdin
        .take()
        .unwrap()
        .write_all(busybox_tar())
        .unwrap();
    let imported = wait_output(import, Duration::from_secs(30));
    d.assert_ok("docker import", &imported);
    let imported = String::from_utf8_lossy(&imported.stdout);
    assert!(
        imported.starts_with("sha256:") && imported.len() == 72,
        "{imported:?}"
    );
    assert_eq!(
        cli.ok(
            &d,
            &cli.run_args(&["--rm", "imported:1", "echo", "from import"])
        ),
        "from import\n"
    );

    let df = cli.ok(&d, &["system", "df"]);
    let mut lines = df.lines();
    assert_eq!(
        lines.next().unwrap(),
        "TYPE            TOTAL     ACTIVE    SIZE      RECLAIMABLE",
        "{df}"
    );
    let types: Vec<&str> = lines
        .map(|l| l.split("  ").next().unwrap().trim())
        .collect();
    assert_eq!(
        types,
        ["Images", "Containers", "Local Volumes", "Build Cache"],
        "{df}"
    );
    assert!(
        df.lines().nth(1).unwrap().starts_with("Images          2 "),
        "{df}"
    );
}

#[test]
fn engine_docker_cli_28_images() {
    images_with(Cli::V28);
}

#[test]
fn engine_docker_cli_20_images() {
    images_with(Cli::V20);
}
