//! Container commands: `run`, `create`, the lifecycle, `ps`, `logs`, `attach`, `exec`, and
//! the `container` group that holds them all under Docker's names.

mod attach;
mod attached;
mod envfile;
mod exec;
mod lifecycle;
mod logs;
mod mounts;
mod options;
mod port;
mod ports;
mod ps;
mod run;
mod translate;

use clap::Subcommand;

pub use attach::{AttachArgs, attach};
pub use exec::{ExecArgs, exec};
pub use lifecycle::{
    ContainersArgs, KillArgs, RenameArgs, RmArgs, StartArgs, StopArgs, kill, pause, rename,
    restart, rm, start, stop, unpause, wait,
};
pub use logs::{LogsArgs, logs};
pub use port::{PortArgs, port};
pub use ps::{PsArgs, ps};
pub use run::{CreateArgs, RunArgs, create, run};

use super::inspect::{Kind, TypedInspectArgs, inspect_kind};
use crate::cli::{CliError, Context};

/// `pier container ...`.
#[derive(Subcommand, Debug)]
pub enum ContainerCommand {
    /// Attach local standard input, output, and error streams to a running container
    Attach(AttachArgs),
    /// Create a new container
    Create(CreateArgs),
    /// Execute a command in a running container
    Exec(ExecArgs),
    /// Display detailed information on one or more containers
    Inspect(TypedInspectArgs),
    /// Kill one or more running containers
    Kill(KillArgs),
    /// Fetch the logs of a container
    Logs(LogsArgs),
    /// List containers
    #[command(visible_aliases = ["ps", "list"])]
    Ls(PsArgs),
    /// Pause all processes within one or more containers
    Pause(ContainersArgs),
    /// List port mappings or a specific mapping for the container
    Port(PortArgs),
    /// Rename a container
    Rename(RenameArgs),
    /// Restart one or more containers
    Restart(StopArgs),
    /// Remove one or more containers
    #[command(visible_alias = "remove")]
    Rm(RmArgs),
    /// Create and run a new container from an image
    Run(RunArgs),
    /// Start one or more stopped containers
    Start(StartArgs),
    /// Stop one or more running containers
    Stop(StopArgs),
    /// Unpause all processes within one or more containers
    Unpause(ContainersArgs),
    /// Block until one or more containers stop, then print their exit codes
    Wait(ContainersArgs),
}

pub async fn dispatch(ctx: &Context, command: ContainerCommand) -> Result<(), CliError> {
    match command {
        ContainerCommand::Attach(args) => attach(ctx, args).await,
        ContainerCommand::Create(args) => create(ctx, args).await,
        ContainerCommand::Exec(args) => exec(ctx, args).await,
        ContainerCommand::Inspect(args) => inspect_kind(ctx, Kind::Container, args).await,
        ContainerCommand::Kill(args) => kill(ctx, args).await,
        ContainerCommand::Logs(args) => logs(ctx, args).await,
        ContainerCommand::Ls(args) => ps(ctx, args).await,
        ContainerCommand::Pause(args) => pause(ctx, args).await,
        ContainerCommand::Port(args) => port(ctx, args).await,
        ContainerCommand::Rename(args) => rename(ctx, args).await,
        ContainerCommand::Restart(args) => restart(ctx, args).await,
        ContainerCommand::Rm(args) => rm(ctx, args).await,
        ContainerCommand::Run(args) => run(ctx, args).await,
        ContainerCommand::Start(args) => start(ctx, args).await,
        ContainerCommand::Stop(args) => stop(ctx, args).await,
        ContainerCommand::Unpause(args) => unpause(ctx, args).await,
        ContainerCommand::Wait(args) => wait(ctx, args).await,
    }
}
