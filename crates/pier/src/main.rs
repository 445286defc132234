//! The `pier` binary: argument parsing and output formatting for every pier command.
//! Business logic lives in the library crates; this crate only turns command lines into calls
//! and results into text.

mod commands;
mod output;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "pier",
    version,
    about = "A container engine that speaks Docker's interfaces"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// An OCI runtime: run OCI bundles as runc and crun do
    Runtime(commands::runtime::RuntimeArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Runtime(args) => commands::runtime::main(args),
    }
}
