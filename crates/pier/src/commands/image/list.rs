//! `images` (`image ls`): one row per name of each image, Docker's columns.

use api::client::Query;
use api::types::ImageSummary;
use clap::Args;
use serde_json::{Value, json};

use crate::cli::format::Table;
use crate::cli::text::{familiar_name, print_text, short_id, split_reference};
use crate::cli::time::{UnixTime, go_time_string};
use crate::cli::units::{ago, size3, size4};
use crate::cli::{CliError, Context};

#[derive(Args, Debug)]
pub struct ImagesArgs {
    /// Show all images (default hides intermediate images)
    #[arg(short = 'a', long)]
    all: bool,
    /// Show digests
    #[arg(long)]
    digests: bool,
    /// Filter output based on conditions provided
    #[arg(short = 'f', long = "filter", value_name = "filter")]
    filters: Vec<String>,
    /// Format output using a custom template
    #[arg(long, value_name = "string")]
    format: Option<String>,
    /// Don't truncate output
    #[arg(long)]
    no_trunc: bool,
    /// Only show image IDs
    #[arg(short = 'q', long)]
    quiet: bool,
    #[arg(value_name = "REPOSITORY[:TAG]")]
    reference: Option<String>,
}

const TABLE: &str = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";
const TABLE_WITH_DIGESTS: &str =
    "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";

const HEADERS: &[(&str, &str)] = &[
    ("Repository", "REPOSITORY"),
    ("Tag", "TAG"),
    ("Digest", "DIGEST"),
    ("ID", "IMAGE ID"),
    ("CreatedSince", "CREATED"),
    ("CreatedAt", "CREATED AT"),
    ("Size", "SIZE"),
    ("Containers", "CONTAINERS"),
    ("SharedSize", "SHARED SIZE"),
    ("UniqueSize", "UNIQUE SIZE"),
    ("VirtualSize", "VIRTUAL SIZE"),
];

pub async fn images(ctx: &Context, args: ImagesArgs) -> Result<(), CliError> {
    let mut filters = ctx.filters(&args.filters, "-f, --filter")?;
    if let Some(reference) = &args.reference {
        filters.add("reference", reference);
    }
    let path = Query::new()
        .flag("all", args.all)
        .filters(&filters)
        .build("/images/json");
    let client = ctx.client().await?;
    let images: Vec<ImageSummary> = client.get_json(&path).await?;
    let table = Table {
        default: if args.digests {
            TABLE_WITH_DIGESTS
        } else {
            TABLE
        },
        headers: HEADERS,
        row_type: "*formatter.imageContext",
        methods: None,
    };
    let format = if args.quiet {
        table.quiet_format(args.format.as_deref(), "ID")
    } else {
        table.format(args.format.as_deref())
    };
    let now = UnixTime::now();
    let rows: Vec<Value> = images
        .iter()
        .flat_map(|image| rows(image, args.digests, !args.no_trunc, now))
        .collect();
    print_text(&table.render(&format, &rows)?);
    Ok(())
}

fn is_dangling(image: &ImageSummary) -> bool {
    (image.repo_tags.is_empty() && image.repo_digests.is_empty())
        || (image.repo_tags == ["<none>:<none>"] && image.repo_digests == ["<none>@<none>"])
}

/// The rows of one image: one per repository and tag (with `--digests`, one per digest of
/// each), a `<none>` tag for repositories known only by digest, `<none> <none>` when
/// dangling.
pub fn rows(image: &ImageSummary, show_digests: bool, trunc: bool, now: UnixTime) -> Vec<Value> {
    let mut names: Vec<(String, String, String)> = Vec::new();
    if is_dangling(image) {
        names.push(("<none>".into(), "<none>".into(), "<none>".into()));
    } else {
        let digests_of = |repo: &str| -> Vec<String> {
            image
                .repo_digests
                .iter()
                .filter_map(|d| match split_reference(familiar_name(d)) {
                    (name, _, Some(digest)) if name == repo => Some(digest.to_owned()),
                    _ => None,
                })
                .collect()
        };
        let mut tagged_repos: Vec<String> = Vec::new();
        for tagged in &image.repo_tags {
            let (repo, tag, _) = split_reference(familiar_name(tagged));
            let Some(tag) = tag else { continue };
            let digests = if show_digests {
                digests_of(repo)
            } else {
                Vec::new()
            };
            if digests.is_empty() {
                names.push((repo.to_owned(), tag.to_owned(), "<none>".into()));
            } else {
                for digest in digests {
                    names.push((repo.to_owned(), tag.to_owned(), digest));
                }
            }
            if !tagged_repos.iter().any(|r| r == repo) {
                tagged_repos.push(repo.to_owned());
            }
        }
        let mut digest_only: Vec<String> = Vec::new();
        for digested in &image.repo_digests {
            let (repo, _, digest) = split_reference(familiar_name(digested));
            if digest.is_none() || tagged_repos.iter().any(|r| r == repo) {
                continue;
            }
            if !digest_only.iter().any(|r| r == repo) {
                digest_only.push(repo.to_owned());
            }
        }
        for repo in digest_only {
            if show_digests {
                for digest in digests_of(&repo) {
                    names.push((repo.clone(), "<none>".into(), digest));
                }
            } else {
                names.push((repo, "<none>".into(), String::new()));
            }
        }
    }
    names
        .into_iter()
        .map(|(repository, tag, digest)| row(image, repository, tag, digest, trunc, now))
        .collect()
}

fn count_or_na(value: i64) -> String {
    if value == -1 {
        "N/A".to_owned()
    } else {
        value.to_string()
    }
}

fn row(
    image: &ImageSummary,
    repository: String,
    tag: String,
    digest: String,
    trunc: bool,
    now: UnixTime,
) -> Value {
    let id = if trunc {
        short_id(&image.id).to_owned()
    } else {
        image.id.clone()
    };
    let shared = if image.shared_size == -1 {
        "N/A".to_owned()
    } else {
        size3(image.shared_size)
    };
    let unique = if image.shared_size == -1 {
        "N/A".to_owned()
    } else {
        size3(image.size - image.shared_size)
    };
    json!({
        "Containers": count_or_na(image.containers),
        "CreatedAt": go_time_string(image.created),
        "CreatedSince": ago(image.created, now),
        "Digest": digest,
        "ID": id,
        "Repository": repository,
        "SharedSize": shared,
        "Size": size3(image.size),
        "Tag": tag,
        "UniqueSize": unique,
        "VirtualSize": size4(image.size),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image() -> ImageSummary {
        ImageSummary {
            id: "sha256:a416a98b71e224a31ee99cff8e16063554498227d2b696152a9c3e0aa65e5824".into(),
            created: 1_000_000,
            size: 4_261_550,
            shared_size: -1,
            containers: -1,
            ..Default::default()
        }
    }

    fn names(rows: &[Value]) -> Vec<(String, String, String)> {
        rows.iter()
            .map(|r| {
                (
                    r["Repository"].as_str().unwrap().to_owned(),
                    r["Tag"].as_str().unwrap().to_owned(),
                    r["Digest"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }

    #[test]
    fn rows_per_name() {
        let now = UnixTime {
            secs: 1_000_000 + 3 * 86_400 * 7,
            nanos: 0,
        };
        let mut img = image();
        let dangling = rows(&img, false, true, now);
        assert_eq!(
            names(&dangling),
            [("<none>".into(), "<none>".into(), "<none>".into())]
        );
        assert_eq!(dangling[0]["ID"], "a416a98b71e2");
        assert_eq!(dangling[0]["Size"], "4.26MB");
        assert_eq!(dangling[0]["Containers"], "N/A");
        img.repo_tags = vec![
            "busybox:latest".into(),
            "docker.io/library/busybox:1.36".into(),
        ];
        img.repo_digests = vec![
            "busybox@sha256:1111".into(),
            "localhost:5000/bb@sha256:2222".into(),
        ];
        assert_eq!(
            names(&rows(&img, false, true, now)),
            [
                ("busybox".into(), "latest".into(), "<none>".into()),
                ("busybox".into(), "1.36".into(), "<none>".into()),
                ("localhost:5000/bb".into(), "<none>".into(), String::new()),
            ]
        );
        assert_eq!(
            names(&rows(&img, true, true, now)),
            [
                ("busybox".into(), "latest".into(), "sha256:1111".into()),
                ("busybox".into(), "1.36".into(), "sha256:1111".into()),
                (
                    "localhost:5000/bb".into(),
                    "<none>".into(),
                    "sha256:2222".into()
                ),
            ]
        );
        let full = rows(&img, false, false, now);
        assert_eq!(full[0]["ID"], img.id.as_str());
    }
}
