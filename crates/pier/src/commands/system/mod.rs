//! System commands: `info`, `version`, `events`, and the `system` group (`df`, `info`,
//! `events`).

mod df;
mod events;
mod info;
mod version;

use clap::Subcommand;

pub use df::{DfArgs, df};
pub use events::{EventsArgs, events};
pub use info::{InfoArgs, info};
pub use version::{VersionArgs, version};

use crate::cli::{CliError, Context};

/// `pier system ...`.
#[derive(Subcommand, Debug)]
pub enum SystemCommand {
    /// Show docker disk usage
    Df(DfArgs),
    /// Get real time events from the server
    Events(EventsArgs),
    /// Display system-wide information
    Info(InfoArgs),
}

pub async fn dispatch(ctx: &Context, command: SystemCommand, debug: bool) -> Result<(), CliError> {
    match command {
        SystemCommand::Df(args) => df(ctx, args).await,
        SystemCommand::Events(args) => events(ctx, args).await,
        SystemCommand::Info(args) => info(ctx, args, debug).await,
    }
}
