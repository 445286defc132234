//! Image commands: `images`, `history`, `tag`, `rmi`, `save`, `load`, `import`, and the
//! `image` group that holds them all under Docker's names.

mod archive;
mod history;
mod list;
mod prune;
mod tag;

use clap::Subcommand;

pub use archive::{ImportArgs, LoadArgs, SaveArgs, import, load, save};
pub use history::{HistoryArgs, history};
pub use list::{ImagesArgs, images};
pub use prune::{PruneArgs, prune};
pub use tag::{RmiArgs, TagArgs, rmi, tag};

use super::inspect::{Kind, TypedInspectArgs, inspect_kind};
use crate::cli::{CliError, Context};

/// `pier image ...`.
#[derive(Subcommand, Debug)]
pub enum ImageCommand {
    /// Show the history of an image
    History(HistoryArgs),
    /// Import the contents from a tarball to create a filesystem image
    Import(ImportArgs),
    /// Display detailed information on one or more images
    Inspect(TypedInspectArgs),
    /// Load an image from a tar archive or STDIN
    Load(LoadArgs),
    /// List images
    #[command(visible_alias = "list")]
    Ls(ImagesArgs),
    /// Remove unused images
    Prune(PruneArgs),
    /// Remove one or more images
    #[command(visible_alias = "remove")]
    Rm(RmiArgs),
    /// Save one or more images to a tar archive (streamed to STDOUT by default)
    Save(SaveArgs),
    /// Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE
    Tag(TagArgs),
}

pub async fn run(ctx: &Context, command: ImageCommand) -> Result<(), CliError> {
    match command {
        ImageCommand::History(args) => history(ctx, args).await,
        ImageCommand::Import(args) => import(ctx, args).await,
        ImageCommand::Inspect(args) => inspect_kind(ctx, Kind::Image, args).await,
        ImageCommand::Load(args) => load(ctx, args).await,
        ImageCommand::Ls(args) => images(ctx, args).await,
        ImageCommand::Prune(args) => prune(ctx, args).await,
        ImageCommand::Rm(args) => rmi(ctx, args).await,
        ImageCommand::Save(args) => save(ctx, args).await,
        ImageCommand::Tag(args) => tag(ctx, args).await,
    }
}
