//! One module per command or group of commands. `run`, `ps`, `images`... exist at the top
//! level and in their management groups (`container`, `image`, `network`, `system`,
//! `volume`), as in Docker's CLI.

pub mod awaited;
pub mod container;
pub mod daemon;
pub mod image;
pub mod inspect;
pub mod network;
pub mod runtime;
pub mod system;
pub mod volume;

use clap::Subcommand;

use crate::cli::{CliError, Context};

#[derive(Subcommand)]
pub enum Command {
    /// Attach local standard input, output, and error streams to a running container
    Attach(container::AttachArgs),
    /// Create a new container
    Create(container::CreateArgs),
    /// Get real time events from the server
    Events(system::EventsArgs),
    /// Execute a command in a running container
    Exec(container::ExecArgs),
    /// Show the history of an image
    History(image::HistoryArgs),
    /// List images
    Images(image::ImagesArgs),
    /// Import the contents from a tarball to create a filesystem image
    Import(image::ImportArgs),
    /// Display system-wide information
    Info(system::InfoArgs),
    /// Return low-level information on Docker objects
    Inspect(inspect::InspectArgs),
    /// Kill one or more running containers
    Kill(container::KillArgs),
    /// Load an image from a tar archive or STDIN
    Load(image::LoadArgs),
    /// Fetch the logs of a container
    Logs(container::LogsArgs),
    /// Pause all processes within one or more containers
    Pause(container::ContainersArgs),
    /// List containers
    Ps(container::PsArgs),
    /// List port mappings or a specific mapping for the container
    Port(container::PortArgs),
    /// Rename a container
    Rename(container::RenameArgs),
    /// Restart one or more containers
    Restart(container::StopArgs),
    /// Remove one or more containers
    Rm(container::RmArgs),
    /// Remove one or more images
    Rmi(image::RmiArgs),
    /// Create and run a new container from an image
    Run(container::RunArgs),
    /// Save one or more images to a tar archive (streamed to STDOUT by default)
    Save(image::SaveArgs),
    /// Start one or more stopped containers
    Start(container::StartArgs),
    /// Stop one or more running containers
    Stop(container::StopArgs),
    /// Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE
    Tag(image::TagArgs),
    /// Unpause all processes within one or more containers
    Unpause(container::ContainersArgs),
    /// Show the Docker version information
    Version(system::VersionArgs),
    /// Block until one or more containers stop, then print their exit codes
    Wait(container::ContainersArgs),
    /// Manage containers
    #[command(subcommand)]
    Container(container::ContainerCommand),
    /// Manage images
    #[command(subcommand)]
    Image(image::ImageCommand),
    /// Manage networks
    #[command(subcommand)]
    Network(network::NetworkCommand),
    /// Manage Docker
    #[command(subcommand)]
    System(system::SystemCommand),
    /// Manage volumes
    #[command(subcommand)]
    Volume(volume::VolumeCommand),
    /// Run the pier daemon (the Docker Engine API server)
    Daemon(daemon::DaemonArgs),
    /// An OCI runtime: run OCI bundles as runc and crun do
    Runtime(runtime::RuntimeArgs),
}

/// Runs a command that talks to the daemon.
pub async fn dispatch(ctx: &Context, command: Command, debug: bool) -> Result<(), CliError> {
    use container as c;
    match command {
        Command::Attach(args) => c::attach(ctx, args).await,
        Command::Create(args) => c::create(ctx, args).await,
        Command::Events(args) => system::events(ctx, args).await,
        Command::Exec(args) => c::exec(ctx, args).await,
        Command::History(args) => image::history(ctx, args).await,
        Command::Images(args) => image::images(ctx, args).await,
        Command::Import(args) => image::import(ctx, args).await,
        Command::Info(args) => system::info(ctx, args, debug).await,
        Command::Inspect(args) => inspect::inspect(ctx, args).await,
        Command::Kill(args) => c::kill(ctx, args).await,
        Command::Load(args) => image::load(ctx, args).await,
        Command::Logs(args) => c::logs(ctx, args).await,
        Command::Pause(args) => c::pause(ctx, args).await,
        Command::Ps(args) => c::ps(ctx, args).await,
        Command::Port(args) => c::port(ctx, args).await,
        Command::Rename(args) => c::rename(ctx, args).await,
        Command::Restart(args) => c::restart(ctx, args).await,
        Command::Rm(args) => c::rm(ctx, args).await,
        Command::Rmi(args) => image::rmi(ctx, args).await,
        Command::Run(args) => c::run(ctx, args).await,
        Command::Save(args) => image::save(ctx, args).await,
        Command::Start(args) => c::start(ctx, args).await,
        Command::Stop(args) => c::stop(ctx, args).await,
        Command::Tag(args) => image::tag(ctx, args).await,
        Command::Unpause(args) => c::unpause(ctx, args).await,
        Command::Version(args) => system::version(ctx, args).await,
        Command::Wait(args) => c::wait(ctx, args).await,
        Command::Container(command) => c::dispatch(ctx, command).await,
        Command::Image(command) => image::run(ctx, command).await,
        Command::Network(command) => network::dispatch(ctx, command).await,
        Command::System(command) => system::dispatch(ctx, command, debug).await,
        Command::Volume(command) => volume::dispatch(ctx, command).await,
        Command::Daemon(_) | Command::Runtime(_) => Err(CliError::other(
            "internal error: a local command was sent to the daemon",
        )),
    }
}
