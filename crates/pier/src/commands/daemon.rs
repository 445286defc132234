//! `pier daemon`: the engine, with dockerd's flag names.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use engine::DaemonConfig;
use engine::config::{DEFAULT_BRIDGE, DEFAULT_DATA_ROOT, DEFAULT_EXEC_ROOT, DEFAULT_HOST};

#[derive(Args)]
pub struct DaemonArgs {
    /// Root directory of persistent state (images, containers, volumes)
    #[arg(long, default_value = DEFAULT_DATA_ROOT)]
    data_root: PathBuf,
    /// Root directory of execution state (shims' sockets, exit statuses)
    #[arg(long, default_value = DEFAULT_EXEC_ROOT)]
    exec_root: PathBuf,
    /// Daemon socket(s) to listen on: unix:///path or tcp://127.0.0.1:port
    #[arg(short = 'H', long = "host")]
    hosts: Vec<String>,
    /// Attach containers of the default network to this Linux bridge
    #[arg(short = 'b', long, default_value = DEFAULT_BRIDGE)]
    bridge: String,
    /// The default bridge's address and prefix (e.g. 172.17.0.1/16)
    #[arg(long)]
    bip: Option<String>,
    /// Parent cgroup for all containers
    #[arg(long)]
    cgroup_parent: Option<String>,
    /// Log level (debug, info, warn, error, fatal)
    #[arg(short = 'l', long, default_value = "info")]
    log_level: String,
    /// Accepted for dockerd compatibility: containers always outlive the daemon
    #[arg(long)]
    live_restore: bool,
    /// Write the daemon's pid to this file
    #[arg(short = 'p', long)]
    pidfile: Option<PathBuf>,
}

pub fn main(args: DaemonArgs) -> ExitCode {
    let pier_exe = match std::env::current_exe() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("pier daemon: finding its own executable: {e}");
            return ExitCode::from(1);
        }
    };
    let hosts = if args.hosts.is_empty() {
        vec![DEFAULT_HOST.to_owned()]
    } else {
        args.hosts
    };
    let config = DaemonConfig {
        data_root: args.data_root,
        exec_root: args.exec_root,
        hosts,
        cgroup_parent: args.cgroup_parent,
        bridge: args.bridge,
        bip: args.bip,
        pier_exe,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(64)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("pier daemon: starting: {e}");
            return ExitCode::from(1);
        }
    };
    let pidfile = args.pidfile.clone();
    let result = runtime.block_on(engine::run(config, move || {
        if let Some(path) = &pidfile {
            let _ = std::fs::write(path, format!("{}\n", std::process::id()));
        }
    }));
    if let Some(path) = &args.pidfile {
        let _ = std::fs::remove_file(path);
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pier daemon: {e}");
            ExitCode::from(1)
        }
    }
}
