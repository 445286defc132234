//! `tag` and `rmi` (`image rm`): names of images.

use api::client::{Query, escape_path};
use api::types::ImageDeleteResponseItem;
use clap::Args;

use crate::cli::text::{familiar_name, print_line, split_reference};
use crate::cli::{CliError, Context, Failures};

#[derive(Args, Debug)]
pub struct TagArgs {
    #[arg(value_name = "SOURCE_IMAGE[:TAG]")]
    source: String,
    #[arg(value_name = "TARGET_IMAGE[:TAG]")]
    target: String,
}

pub async fn tag(ctx: &Context, args: TagArgs) -> Result<(), CliError> {
    let (repo, tag, digest) = split_reference(familiar_name(&args.target));
    if digest.is_some() {
        return Err(CliError::other(
            "refusing to create a tag with a digest reference",
        ));
    }
    let path = Query::new()
        .arg("repo", repo)
        .arg("tag", tag.unwrap_or("latest"))
        .build(&format!("/images/{}/tag", escape_path(&args.source)));
    let client = ctx.client().await?;
    client.post(&path).await?;
    Ok(())
}

#[derive(Args, Debug)]
pub struct RmiArgs {
    /// Force removal of the image
    #[arg(short = 'f', long)]
    force: bool,
    /// Do not delete untagged parents
    #[arg(long)]
    no_prune: bool,
    #[arg(value_name = "IMAGE", required = true)]
    images: Vec<String>,
}

pub async fn rmi(ctx: &Context, args: RmiArgs) -> Result<(), CliError> {
    let client = ctx.client().await?;
    let mut failures = Failures::default();
    for image in &args.images {
        let path = Query::new()
            .flag("force", args.force)
            .flag("noprune", args.no_prune)
            .build(&format!("/images/{}", escape_path(image)));
        match client
            .delete_json::<Vec<ImageDeleteResponseItem>>(&path)
            .await
        {
            Ok(items) => {
                for item in items {
                    match (item.deleted, item.untagged) {
                        (Some(deleted), _) if !deleted.is_empty() => {
                            print_line(&format!("Deleted: {deleted}"));
                        }
                        (_, Some(untagged)) => print_line(&format!("Untagged: {untagged}")),
                        _ => {}
                    }
                }
            }
            Err(error) => failures.add(error.into()),
        }
    }
    failures.into_result()
}
