//! `pier runtime`: the OCI runtime command line, spelled as runc spells it, so that pier's
//! runtime can be driven like runc and crun.

use std::io::Write;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::str::FromStr;

use clap::{Args, Subcommand, ValueEnum};
use oci_spec::runtime::{Capability, Process};
use runtime::logfile::{LogConfig, Rotation};
use runtime::{CreateOptions, Error, ExecOptions, ManagedIo, RunOutcome, Runtime};

use crate::output::columns;

#[derive(Args, Debug)]
pub struct RuntimeArgs {
    /// Directory that holds the state of containers
    #[arg(
        long,
        global = true,
        default_value = "/run/pier/runtime",
        env = "PIER_RUNTIME_ROOT"
    )]
    root: PathBuf,
    /// Also write errors to this file (containerd reads it)
    #[arg(long, global = true)]
    log: Option<PathBuf>,
    /// Format of --log
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// Accepted for runc compatibility; pier logs the same either way
    #[arg(long, global = true)]
    debug: bool,
    /// Use systemd for cgroups (not supported: pier manages cgroupfs itself)
    #[arg(long, global = true)]
    systemd_cgroup: bool,
    #[command(subcommand)]
    command: RuntimeCommand,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Args, Debug)]
struct BundleArgs {
    /// Path to the bundle (the directory with config.json)
    #[arg(short, long, default_value = ".")]
    bundle: PathBuf,
    /// Unix socket that receives the master of the container's terminal
    #[arg(long)]
    console_socket: Option<PathBuf>,
    /// File to write the container's init pid to
    #[arg(long)]
    pid_file: Option<PathBuf>,
    /// Do not use pivot_root (for a rootfs on ramfs)
    #[arg(long)]
    no_pivot: bool,
    /// Accepted for runc compatibility: pier never creates a session keyring
    #[arg(long)]
    no_new_keyring: bool,
    /// Number of descriptors after stdio that the container keeps
    #[arg(long, default_value_t = 0)]
    preserve_fds: u32,
    #[command(flatten)]
    io: ManagedIoArgs,
    /// Container id
    id: String,
}

#[derive(Args, Debug)]
struct CreateArgs {
    #[command(flatten)]
    bundle: BundleArgs,
    /// [pier] Become the container's shim instead of forking one: a new session, one line of
    /// JSON on stdout once the container is created or could not be, then parent the
    /// container until it ends (for the engine, which reads that line)
    #[arg(long, hide = true, conflicts_with = "pid_file")]
    as_shim: bool,
}

/// pier's own flags: stdio owned by the shim, for the engine (not in runc).
#[derive(Args, Debug)]
struct ManagedIoArgs {
    /// [pier] The shim owns the container's stdio: pipes (or the terminal, without
    /// --console-socket), relayed to the attach socket <root>/<id>/attach.sock and to
    /// --log-path. Implied by --log-path and --stdin
    #[arg(long)]
    managed_io: bool,
    /// [pier] Log the container's output to this file in Docker's json-file format
    #[arg(long, value_name = "PATH")]
    log_path: Option<PathBuf>,
    /// [pier] Rotate the log before it would grow past this many bytes
    #[arg(long, value_name = "BYTES", requires = "log_path",
          value_parser = clap::value_parser!(u64).range(1..))]
    log_max_size: Option<u64>,
    /// [pier] Log files to keep, the current one included (1: truncate in place)
    #[arg(long, value_name = "N", requires = "log_path", default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(1..))]
    log_max_files: u32,
    /// [pier] Keep the container's stdin open for clients of the attach socket
    #[arg(long)]
    stdin: bool,
    /// [pier] Close stdin once the first client attached to it detaches
    #[arg(long, requires = "stdin")]
    stdin_once: bool,
}

impl ManagedIoArgs {
    fn options(&self) -> Option<ManagedIo> {
        if !(self.managed_io || self.log_path.is_some() || self.stdin) {
            return None;
        }
        Some(ManagedIo {
            log: self.log_path.as_ref().map(|path| LogConfig {
                path: path.clone(),
                rotation: Rotation {
                    max_size: self.log_max_size,
                    max_files: self.log_max_files,
                },
            }),
            stdin: self.stdin,
            stdin_once: self.stdin_once,
        })
    }
}

#[derive(Subcommand, Debug)]
enum RuntimeCommand {
    /// Create a container (its process waits for start)
    Create(CreateArgs),
    /// Start the process of a created container
    Start { id: String },
    /// Create and start a container, and wait for it unless detached
    Run {
        #[command(flatten)]
        bundle: BundleArgs,
        /// Return once the container runs
        #[arg(short, long)]
        detach: bool,
    },
    /// Print the state of a container as JSON
    State { id: String },
    /// Send a signal to a container's init (default SIGTERM)
    Kill {
        /// Signal every process in the container
        #[arg(short, long)]
        all: bool,
        id: String,
        #[arg(default_value = "SIGTERM")]
        signal: String,
    },
    /// Remove a container
    #[command(alias = "rm")]
    Delete {
        /// Kill the container first if it is still running
        #[arg(short, long)]
        force: bool,
        id: String,
    },
    /// List containers
    #[command(alias = "ls")]
    List {
        /// table or json
        #[arg(short, long, default_value = "table")]
        format: String,
        /// Print ids only
        #[arg(short, long)]
        quiet: bool,
    },
    /// Suspend every process of a container
    Pause { id: String },
    /// Resume a paused container
    Resume { id: String },
    /// Run another process in a running container
    Exec(ExecArgs),
    /// Write a config.json with Docker's default isolation
    Spec {
        /// Bundle directory to write config.json into
        #[arg(short, long, default_value = ".")]
        bundle: PathBuf,
        /// root.path to put in config.json
        #[arg(long, default_value = "rootfs")]
        rootfs: String,
        /// Give the process a terminal
        #[arg(short, long)]
        tty: bool,
        /// The program and its arguments (default: sh)
        #[arg(trailing_var_arg = true)]
        args: Vec<String>,
    },
}

#[derive(Args, Debug)]
struct ExecArgs {
    /// Unix socket that receives the master of the process's terminal
    #[arg(long)]
    console_socket: Option<PathBuf>,
    /// Working directory inside the container
    #[arg(long)]
    cwd: Option<PathBuf>,
    /// Set an environment variable (KEY=VALUE)
    #[arg(short, long)]
    env: Vec<String>,
    /// Give the process a terminal
    #[arg(short, long)]
    tty: bool,
    /// uid[:gid] to run as
    #[arg(short, long)]
    user: Option<String>,
    /// Additional group ids
    #[arg(short = 'g', long)]
    additional_gids: Vec<u32>,
    /// JSON file with the whole process (config.json's "process")
    #[arg(short, long)]
    process: Option<PathBuf>,
    /// Return once the process runs
    #[arg(short, long)]
    detach: bool,
    /// File to write the process's pid to
    #[arg(long)]
    pid_file: Option<PathBuf>,
    /// Add a capability (e.g. CAP_NET_ADMIN)
    #[arg(short, long)]
    cap: Vec<String>,
    /// Set no_new_privs for the process
    #[arg(long)]
    no_new_privs: bool,
    /// Number of descriptors after stdio that the process keeps
    #[arg(long, default_value_t = 0)]
    preserve_fds: u32,
    /// Container id
    id: String,
    /// The program and its arguments
    #[arg(trailing_var_arg = true)]
    command: Vec<String>,
}

struct Failure {
    message: String,
    code: u8,
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        let code = match &e {
            Error::ExecFailed { code, .. } => u8::try_from(*code).unwrap_or(1),
            _ => 1,
        };
        Failure {
            message: e.to_string(),
            code,
        }
    }
}

fn fail(message: impl Into<String>) -> Failure {
    Failure {
        message: message.into(),
        code: 1,
    }
}

pub fn main(args: RuntimeArgs) -> ExitCode {
    let log = (args.log.clone(), args.log_format);
    match dispatch(args) {
        Ok(code) => ExitCode::from(code),
        Err(f) => {
            report(&f.message, &log.0, log.1);
            ExitCode::from(f.code)
        }
    }
}

fn report(message: &str, log: &Option<PathBuf>, format: LogFormat) {
    eprintln!("pier runtime: {message}");
    let Some(path) = log else { return };
    let line = match format {
        LogFormat::Json => serde_json::json!({
            "level": "error",
            "msg": message,
            "time": humantime_now(),
        })
        .to_string(),
        LogFormat::Text => format!("time=\"{}\" level=error msg={:?}", humantime_now(), message),
    };
    if let Ok(mut file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = writeln!(file, "{line}");
    }
}

fn humantime_now() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    format!("{}.{:09}", now.as_secs(), now.subsec_nanos())
}

fn dispatch(args: RuntimeArgs) -> Result<u8, Failure> {
    if args.systemd_cgroup {
        return Err(fail(
            "--systemd-cgroup is not supported: pier manages cgroups through cgroupfs",
        ));
    }
    let rt = Runtime::new(&args.root);
    match args.command {
        RuntimeCommand::Create(CreateArgs { bundle: b, as_shim }) => {
            if as_shim {
                return Ok(become_shim(&rt, &b));
            }
            rt.create(&b.id, &b.bundle, &create_options(&b))?;
            Ok(0)
        }
        RuntimeCommand::Start { id } => {
            rt.start(&id)?;
            Ok(0)
        }
        RuntimeCommand::Run { bundle, detach } => {
            let options = create_options(&bundle);
            let outcome = if detach {
                rt.run_detached(&bundle.id, &bundle.bundle, &options)?
            } else {
                rt.run(&bundle.id, &bundle.bundle, &options)?
            };
            Ok(exit_code(&outcome))
        }
        RuntimeCommand::State { id } => {
            let state = rt.state(&id)?;
            let json = serde_json::to_string_pretty(&state).map_err(|e| fail(e.to_string()))?;
            println!("{json}");
            Ok(0)
        }
        RuntimeCommand::Kill { all, id, signal } => {
            rt.kill(&id, parse_signal(&signal)?, all)?;
            Ok(0)
        }
        RuntimeCommand::Delete { force, id } => {
            rt.delete(&id, force)?;
            Ok(0)
        }
        RuntimeCommand::List { format, quiet } => list(&rt, &format, quiet),
        RuntimeCommand::Pause { id } => {
            rt.pause(&id)?;
            Ok(0)
        }
        RuntimeCommand::Resume { id } => {
            rt.resume(&id)?;
            Ok(0)
        }
        RuntimeCommand::Exec(e) => exec(&rt, e),
        RuntimeCommand::Spec {
            bundle,
            rootfs,
            tty,
            args,
        } => spec(&bundle, &rootfs, tty, args),
    }
}

/// The report goes to a copy of stdout: the shim points descriptors 0-2 at /dev/null before
/// it has anything to say.
fn become_shim(rt: &Runtime, b: &BundleArgs) -> u8 {
    let report = match std::io::stdout().as_fd().try_clone_to_owned() {
        Ok(fd) => fd,
        Err(e) => {
            eprintln!("pier runtime: duplicating stdout: {e}");
            return 1;
        }
    };
    let code = rt.create_as_shim(&b.id, &b.bundle, &create_options(b), report);
    u8::try_from(code).unwrap_or(1)
}

fn create_options(b: &BundleArgs) -> CreateOptions {
    CreateOptions {
        console_socket: b.console_socket.clone(),
        pid_file: b.pid_file.clone(),
        no_pivot: b.no_pivot,
        preserve_fds: b.preserve_fds,
        io: b.io.options(),
    }
}

fn exit_code(outcome: &RunOutcome) -> u8 {
    match outcome {
        RunOutcome::Exited(status) => u8::try_from(status.code).unwrap_or(255),
        RunOutcome::Detached { .. } => 0,
    }
}

/// SIGTERM, TERM, term or 15.
fn parse_signal(text: &str) -> Result<i32, Failure> {
    if let Ok(n) = text.parse::<i32>() {
        if (1..=64).contains(&n) {
            return Ok(n);
        }
        return Err(fail(format!("invalid signal: {text}")));
    }
    let upper = text.to_ascii_uppercase();
    let name = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    nix::sys::signal::Signal::from_str(&name)
        .map(|s| s as i32)
        .map_err(|_| fail(format!("invalid signal: {text}")))
}

fn list(rt: &Runtime, format: &str, quiet: bool) -> Result<u8, Failure> {
    let states = rt.list()?;
    if quiet {
        for s in &states {
            println!("{}", s.id);
        }
        return Ok(0);
    }
    match format {
        "json" => {
            let json = serde_json::to_string(&states).map_err(|e| fail(e.to_string()))?;
            println!("{json}");
        }
        "table" => {
            let mut rows = vec![
                ["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]
                    .iter()
                    .map(|s| s.to_string())
                    .collect::<Vec<_>>(),
            ];
            for s in &states {
                rows.push(vec![
                    s.id.clone(),
                    s.pid.to_string(),
                    s.status.to_string(),
                    s.bundle.display().to_string(),
                    s.created.clone(),
                    s.owner.clone(),
                ]);
            }
            print!("{}", columns(&rows, 12, 3));
        }
        other => {
            return Err(fail(format!(
                "invalid format option {other:?}: table or json"
            )));
        }
    }
    Ok(0)
}

fn exec(rt: &Runtime, e: ExecArgs) -> Result<u8, Failure> {
    let process = exec_process(rt, &e)?;
    let outcome = rt.exec(
        &e.id,
        &process,
        &ExecOptions {
            console_socket: e.console_socket.clone(),
            pid_file: e.pid_file.clone(),
            detach: e.detach,
            preserve_fds: e.preserve_fds,
        },
    )?;
    Ok(exit_code(&outcome))
}

/// The process to exec: `--process`, or the container's own process with the command and the
/// flags applied, as runc builds it.
fn exec_process(rt: &Runtime, e: &ExecArgs) -> Result<Process, Failure> {
    if let Some(path) = &e.process {
        let bytes = std::fs::read(path)
            .map_err(|err| fail(format!("reading {}: {err}", path.display())))?;
        return serde_json::from_slice(&bytes)
            .map_err(|err| fail(format!("invalid process file {}: {err}", path.display())));
    }
    if e.command.is_empty() {
        return Err(fail("exec needs a command to run (or --process)"));
    }
    let spec = rt.container_spec(&e.id)?;
    let mut process = spec.process().clone().unwrap_or_default();
    process.set_args(Some(e.command.clone()));
    process.set_terminal(Some(e.tty));
    if let Some(cwd) = &e.cwd {
        process.set_cwd(cwd.clone());
    }
    let mut env = process.env().clone().unwrap_or_default();
    for kv in &e.env {
        let key = kv.split('=').next().unwrap_or(kv);
        env.retain(|existing| existing.split('=').next() != Some(key));
        env.push(kv.clone());
    }
    process.set_env(Some(env));
    if let Some(user) = &e.user {
        let (uid, gid) = parse_user(user)?;
        process.user_mut().set_uid(uid);
        process.user_mut().set_gid(gid);
    }
    if !e.additional_gids.is_empty() {
        process
            .user_mut()
            .set_additional_gids(Some(e.additional_gids.clone()));
    }
    if e.no_new_privs {
        process.set_no_new_privileges(Some(true));
    }
    if !e.cap.is_empty() {
        let mut caps = process.capabilities().clone().unwrap_or_default();
        for name in &e.cap {
            let bare = name.strip_prefix("CAP_").unwrap_or(name);
            let cap = Capability::from_str(bare)
                .map_err(|_| fail(format!("unknown capability {name}")))?;
            let add = |set: Option<std::collections::HashSet<Capability>>| {
                let mut set = set.unwrap_or_default();
                set.insert(cap);
                Some(set)
            };
            caps.set_bounding(add(caps.bounding().clone()));
            caps.set_effective(add(caps.effective().clone()));
            caps.set_permitted(add(caps.permitted().clone()));
        }
        process.set_capabilities(Some(caps));
    }
    Ok(process)
}

fn parse_user(user: &str) -> Result<(u32, u32), Failure> {
    let bad = || {
        fail(format!(
            "invalid --user {user:?}: expected uid[:gid] as numbers"
        ))
    };
    let mut parts = user.splitn(2, ':');
    let uid = parts
        .next()
        .unwrap_or_default()
        .parse()
        .map_err(|_| bad())?;
    let gid = match parts.next() {
        Some(g) => g.parse().map_err(|_| bad())?,
        None => 0,
    };
    Ok((uid, gid))
}

fn spec(bundle: &Path, rootfs: &str, tty: bool, args: Vec<String>) -> Result<u8, Failure> {
    let config = bundle.join("config.json");
    if config.exists() {
        return Err(fail(format!(
            "File {} exists. Remove it first",
            config.display()
        )));
    }
    let args = if args.is_empty() {
        vec!["sh".to_owned()]
    } else {
        args
    };
    let spec = runtime::profile::default_spec(rootfs, args, tty);
    let json = serde_json::to_string_pretty(&spec).map_err(|e| fail(e.to_string()))?;
    std::fs::write(&config, json + "\n")
        .map_err(|e| fail(format!("writing {}: {e}", config.display())))?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_parse_in_every_spelling() {
        for s in ["SIGTERM", "TERM", "term", "15"] {
            assert_eq!(parse_signal(s).ok(), Some(15), "{s}");
        }
        assert!(parse_signal("NOPE").is_err());
        assert!(parse_signal("0").is_err());
    }

    #[test]
    fn users_are_numeric() {
        assert_eq!(parse_user("1000:100").ok(), Some((1000, 100)));
        assert_eq!(parse_user("7").ok(), Some((7, 0)));
        assert!(parse_user("root").is_err());
    }
}
