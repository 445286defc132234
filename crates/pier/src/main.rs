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
    let root = cli::args::docker_usage(cli::args::pflag_values(Cli::command()));
    let parsed = root
        .clone()
        .try_get_matches_from(&argv)
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
