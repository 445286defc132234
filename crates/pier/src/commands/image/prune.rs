//! `image prune`: removes dangling images (all unused ones with `-a`).

use api::client::Query;
use api::types::ImagePruneResponse;
use clap::Args;

use crate::cli::prompt::confirm;
use crate::cli::text::print_line;
use crate::cli::units::size4;
use crate::cli::{CliError, Context};

#[derive(Args, Debug)]
pub struct PruneArgs {
    /// Remove all unused images, not just dangling ones
    #[arg(short = 'a', long)]
    all: bool,
    /// Provide filter values (e.g. "until=<timestamp>")
    #[arg(long = "filter", value_name = "filter")]
    filters: Vec<String>,
    /// Do not prompt for confirmation
    #[arg(short = 'f', long)]
    force: bool,
}

const DANGLING_WARNING: &str = "WARNING! This will remove all dangling images.";
const ALL_WARNING: &str =
    "WARNING! This will remove all images without at least one container associated to them.";

pub async fn prune(ctx: &Context, args: PruneArgs) -> Result<(), CliError> {
    let mut filters = ctx.filters(&args.filters, "--filter")?;
    filters.add("dangling", if args.all { "false" } else { "true" });
    let warning = if args.all {
        ALL_WARNING
    } else {
        DANGLING_WARNING
    };
    if !args.force && !confirm(warning) {
        return Ok(());
    }
    let client = ctx.client().await?;
    let path = Query::new().filters(&filters).build("/images/prune");
    let answer: ImagePruneResponse = client.post_for_json(&path).await?;
    if !answer.images_deleted.is_empty() {
        print_line("Deleted Images:");
        for item in &answer.images_deleted {
            if let Some(untagged) = item.untagged.as_deref().filter(|u| !u.is_empty()) {
                print_line(&format!("untagged: {untagged}"));
            }
            if let Some(deleted) = item.deleted.as_deref().filter(|d| !d.is_empty()) {
                print_line(&format!("deleted: {deleted}"));
            }
        }
        print_line("");
    }
    print_line(&format!(
        "Total reclaimed space: {}",
        size4(i64::try_from(answer.space_reclaimed).unwrap_or(i64::MAX))
    ));
    Ok(())
}
