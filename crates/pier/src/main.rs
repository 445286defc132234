//! The `pier` binary: the Docker-compatible command line (a client of the daemon's Engine
//! API), the daemon itself (`pier daemon`) and the OCI runtime (`pier runtime`). Business
//! logic lives in the library crates; this crate only turns command lines into calls and
//! results into text.

mod cli;
mod commands;
mod output;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser};

use cli::connect::HostChoice;
use cli::text::{print_err, print_text};

#[derive(Parser)]
#[command(
    name = "pier",
    about = "A container engine that speaks Docker's interfaces",
    disable_version_flag = true,
    disable_help_subcommand = true
)]
struct Cli {
    /// Daemon socket to connect to
    #[arg(short = 'H', long = "host", value_name = "string")]
    host: Option<String>,
    /// Enable debug mode
    #[arg(short = 'D', long)]
    debug: bool,
    /// Print version information and quit
    #[arg(short = 'v', long)]
    version: bool,
    #[command(subcommand)]
    command: Option<commands::Command>,
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args_os()
        .map(|arg| arg.to_string_lossy().into_owned())
        .collect();
    if let Some(code) = runtime_fast_path(&argv) {
        return code;
    }
    let mut root = cli::args::docker_usage(cli::args::pflag_values(Cli::command()));
    let parsed = root
        .try_get_matches_from_mut(&argv)
        .and_then(|matches| Cli::from_arg_matches(&matches));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(error) => {
            let rendered = cli::args::render(&error, &root, &argv);
            if rendered.to_stdout {
                print_text(&rendered.text);
            } else {
                print_err(&rendered.text);
            }
            return ExitCode::from(rendered.code);
        }
    };
    if cli.version {
        println!("pier version {}", env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }
    let Some(command) = cli.command else {
        print_text(&format!("{}\n", root.clone().render_help()));
        return ExitCode::SUCCESS;
    };
    match command {
        commands::Command::Daemon(args) => commands::daemon::main(args),
        commands::Command::Runtime(args) => commands::runtime::main(args),
        command => {
            let path = cli::args::command_path(&root, &argv);
            let host = HostChoice::from_env(cli.host.as_deref());
            run_client(command, host, path, cli.debug)
        }
    }
}

/// `pier runtime ...`, as the daemon execs it for every container, parsed without building the
/// whole docker-compatible command tree: that costs a millisecond per container, and the
/// detached shim forked from this process would carry the tree's memory for its whole life.
/// Anything that does not parse goes the long way, so errors and help read the same.
fn runtime_fast_path(argv: &[String]) -> Option<ExitCode> {
    use clap::Args;
    use commands::awaited::{AWAIT_ARGS, Awaited, await_args};
    if argv.get(1).map(String::as_str) != Some("runtime") {
        return None;
    }
    let awaited = argv.get(2).map(String::as_str) == Some(AWAIT_ARGS) && argv.len() == 3;
    let line: Vec<String> = if awaited {
        match await_args() {
            Awaited::Args(args) => std::iter::once("runtime".to_owned()).chain(args).collect(),
            Awaited::Nothing => return Some(ExitCode::SUCCESS),
            Awaited::Malformed(message) => {
                print_err(&format!("pier runtime: {message}"));
                return Some(ExitCode::from(1));
            }
        }
    } else {
        argv[1..].to_vec()
    };
    let command = commands::runtime::RuntimeArgs::augment_args(clap::Command::new("runtime"));
    let parsed = command
        .try_get_matches_from(&line)
        .and_then(|m| commands::runtime::RuntimeArgs::from_arg_matches(&m));
    match parsed {
        Ok(args) => Some(commands::runtime::main(args)),
        // Whoever sent an awaited line reads its error on stderr, as from a process started
        // with it; a command line of our own goes the long way.
        Err(error) if awaited => {
            print_err(&format!("pier runtime: {}", error.render()));
            Some(ExitCode::from(1))
        }
        Err(_) => None,
    }
}

/// Runs a client command on a single-threaded runtime: a command waits on one daemon, and
/// starts faster without a thread pool.
fn run_client(
    command: commands::Command,
    host: HostChoice,
    path: Vec<String>,
    debug: bool,
) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            print_err(&format!("pier: starting: {error}"));
            return ExitCode::from(1);
        }
    };
    let ctx = cli::Context::new(host, path);
    let result = runtime.block_on(commands::dispatch(&ctx, command, debug));
    // Tasks still waiting (a stdin reader, a signal relay) must not hold the exit up.
    runtime.shutdown_background();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let message = error.to_string();
            if !message.is_empty() {
                print_err(&message);
            }
            ExitCode::from(error.exit_code())
        }
    }
}
