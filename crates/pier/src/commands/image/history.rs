//! `history`: the steps that made an image, newest first.

use api::client::escape_path;
use api::types::HistoryResponseItem;
use clap::Args;
use serde_json::{Value, json};

use crate::cli::format::Table;
use crate::cli::text::{ellipsis, print_text, short_id};
use crate::cli::time::{UnixTime, rfc3339_seconds};
use crate::cli::units::{ago, size3};
use crate::cli::{CliError, Context};

#[derive(Args, Debug)]
pub struct HistoryArgs {
    /// Format output using a custom template
    #[arg(long, value_name = "string")]
    format: Option<String>,
    /// Print sizes and dates in human readable format
    #[arg(
        short = 'H',
        long,
        value_name = "bool",
        num_args = 0..=1,
        require_equals = true,
        default_value = "true",
        default_missing_value = "true"
    )]
    human: bool,
    /// Don't truncate output
    #[arg(long)]
    no_trunc: bool,
    /// Only show image IDs
    #[arg(short = 'q', long)]
    quiet: bool,
    /// Show history for the given platform
    #[arg(long, value_name = "string")]
    platform: Option<String>,
    #[arg(value_name = "IMAGE")]
    image: String,
}

const TABLE: &str = "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}";

const HEADERS: &[(&str, &str)] = &[
    ("ID", "IMAGE"),
    ("CreatedSince", "CREATED"),
    ("CreatedAt", "CREATED AT"),
    ("CreatedBy", "CREATED BY"),
    ("Size", "SIZE"),
    ("Comment", "COMMENT"),
];

pub async fn history(ctx: &Context, args: HistoryArgs) -> Result<(), CliError> {
    let client = ctx.client().await?;
    let path = api::client::Query::new()
        .arg_opt("platform", args.platform.as_deref())
        .build(&format!("/images/{}/history", escape_path(&args.image)));
    let items: Vec<HistoryResponseItem> = client.get_json(&path).await?;
    // Docker titles the CREATED column by what it then shows: a date without -H.
    let dated: Vec<(&str, &str)> = HEADERS
        .iter()
        .map(|&(field, title)| match field {
            "CreatedSince" if !args.human => (field, "CREATED AT"),
            _ => (field, title),
        })
        .collect();
    let table = Table {
        default: TABLE,
        headers: &dated,
        row_type: "*image.historyContext",
        methods: None,
    };
    let format = if args.quiet {
        table.quiet_format(args.format.as_deref(), "ID")
    } else {
        table.format(args.format.as_deref())
    };
    let now = UnixTime::now();
    let rows: Vec<Value> = items
        .iter()
        .map(|item| row(item, args.human, !args.no_trunc, now))
        .collect();
    print_text(&table.render(&format, &rows)?);
    Ok(())
}

/// A step as `history` templates see it.
pub fn row(item: &HistoryResponseItem, human: bool, trunc: bool, now: UnixTime) -> Value {
    let created_by = item.created_by.replace('\t', " ");
    json!({
        "ID": if trunc { short_id(&item.id).to_owned() } else { item.id.clone() },
        "CreatedSince": if human { ago(item.created, now) } else { rfc3339_seconds(item.created) },
        "CreatedAt": rfc3339_seconds(item.created),
        "CreatedBy": if trunc { ellipsis(&created_by, 45) } else { created_by },
        "Size": if human { size3(item.size) } else { item.size.to_string() },
        "Comment": item.comment,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_as_docker_shows_them() {
        let item = HistoryResponseItem {
            id: "<missing>".into(),
            created: 1_714_558_830,
            created_by: "/bin/sh -c #(nop) ADD file:9a0e5ab2c3d4 in / \tand more text".into(),
            size: 4_261_550,
            ..Default::default()
        };
        let now = UnixTime {
            secs: 1_714_558_830 + 7200,
            nanos: 0,
        };
        let row = row(&item, true, true, now);
        assert_eq!(row["ID"], "<missing>");
        assert_eq!(
            row["CreatedBy"],
            "/bin/sh -c #(nop) ADD file:9a0e5ab2c3d4 in /…"
        );
        assert_eq!(row["Size"], "4.26MB");
        assert_eq!(row["CreatedAt"], "2024-05-01T10:20:30Z");
        let raw = super::row(&item, false, false, now);
        assert_eq!(raw["Size"], "4261550");
        assert_eq!(raw["CreatedSince"], "2024-05-01T10:20:30Z");
    }
}
