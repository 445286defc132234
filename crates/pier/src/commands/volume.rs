//! `volume create`, `ls`, `inspect`, `rm`, `prune`: named volumes.

use std::collections::BTreeMap;

use api::client::{Query, escape_path};
use api::types::{Volume, VolumeCreateOptions, VolumeListResponse};
use clap::{Args, Subcommand};
use serde_json::{Value, json};

use super::inspect::{Kind, TypedInspectArgs, inspect_kind};
use crate::cli::args::kv_map;
use crate::cli::format::{LabelMethod, Table};
use crate::cli::prompt::confirm;
use crate::cli::text::{print_line, print_text};
use crate::cli::units::size4;
use crate::cli::{CliError, Context, Failures};

/// `pier volume ...`.
#[derive(Subcommand, Debug)]
pub enum VolumeCommand {
    /// Create a volume
    Create(CreateArgs),
    /// Display detailed information on one or more volumes
    Inspect(TypedInspectArgs),
    /// List volumes
    #[command(visible_alias = "list")]
    Ls(LsArgs),
    /// Remove unused local volumes
    Prune(PruneArgs),
    /// Remove one or more volumes
    #[command(visible_alias = "remove")]
    Rm(RmArgs),
}

#[derive(Args, Debug)]
pub struct CreateArgs {
    /// Specify volume driver name
    #[arg(short = 'd', long, value_name = "string", default_value = "local")]
    driver: String,
    /// Set metadata for a volume
    #[arg(long = "label", value_name = "list")]
    label: Vec<String>,
    /// Set driver specific options
    #[arg(short = 'o', long = "opt", value_name = "map")]
    opt: Vec<String>,
    /// Specify volume name
    #[arg(long = "name", value_name = "string", hide = true)]
    name_flag: Option<String>,
    #[arg(value_name = "VOLUME")]
    name: Option<String>,
}

#[derive(Args, Debug)]
pub struct LsArgs {
    /// Provide filter values (e.g. "dangling=true")
    #[arg(short = 'f', long = "filter", value_name = "filter")]
    filters: Vec<String>,
    /// Format output using a custom template
    #[arg(long, value_name = "string")]
    format: Option<String>,
    /// Only display volume names
    #[arg(short = 'q', long)]
    quiet: bool,
}

#[derive(Args, Debug)]
pub struct RmArgs {
    /// Force the removal of one or more volumes
    #[arg(short = 'f', long)]
    force: bool,
    #[arg(value_name = "VOLUME", required = true)]
    volumes: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PruneArgs {
    /// Remove all unused volumes, not just anonymous ones
    #[arg(short = 'a', long)]
    all: bool,
    /// Provide filter values (e.g. "label=<label>")
    #[arg(long = "filter", value_name = "filter")]
    filters: Vec<String>,
    /// Do not prompt for confirmation
    #[arg(short = 'f', long)]
    force: bool,
}

pub async fn dispatch(ctx: &Context, command: VolumeCommand) -> Result<(), CliError> {
    match command {
        VolumeCommand::Create(args) => create(ctx, args).await,
        VolumeCommand::Inspect(args) => inspect_kind(ctx, Kind::Volume, args).await,
        VolumeCommand::Ls(args) => ls(ctx, args).await,
        VolumeCommand::Prune(args) => prune(ctx, args).await,
        VolumeCommand::Rm(args) => rm(ctx, args).await,
    }
}

async fn create(ctx: &Context, args: CreateArgs) -> Result<(), CliError> {
    if let (Some(flag), Some(arg)) = (&args.name_flag, &args.name)
        && flag != arg
    {
        return Err(CliError::other(
            "conflicting options: cannot specify a volume-name through both --name and as a positional arg",
        ));
    }
    let body = VolumeCreateOptions {
        name: args.name.or(args.name_flag).unwrap_or_default(),
        driver: args.driver,
        driver_opts: kv_map(&args.opt),
        labels: kv_map(&args.label),
    };
    let client = ctx.client().await?;
    let volume: Volume = client.post_json("/volumes/create", &body).await?;
    print_line(&volume.name);
    Ok(())
}

const TABLE: &str = "table {{.Driver}}\t{{.Name}}";
const HEADERS: &[(&str, &str)] = &[
    ("Driver", "DRIVER"),
    ("Name", "VOLUME NAME"),
    ("Scope", "SCOPE"),
    ("Mountpoint", "MOUNTPOINT"),
    ("Labels", "LABELS"),
    ("Links", "LINKS"),
    ("Size", "SIZE"),
];

/// A volume as `volume ls` templates see it.
fn row(volume: &Volume) -> Value {
    let labels: BTreeMap<_, _> = volume.labels.iter().collect();
    let labels: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let usage = volume.usage_data.clone().unwrap_or_default();
    json!({
        "Availability": "N/A",
        "Driver": volume.driver,
        "Group": "N/A",
        "Labels": labels.join(","),
        "Links": if usage.ref_count == -1 { "N/A".to_owned() } else { usage.ref_count.to_string() },
        "Mountpoint": volume.mountpoint,
        "Name": volume.name,
        "Scope": volume.scope,
        "Size": if usage.size == -1 { "N/A".to_owned() } else { size4(usage.size) },
        "Status": "N/A",
    })
}

async fn ls(ctx: &Context, args: LsArgs) -> Result<(), CliError> {
    let filters = ctx.filters(&args.filters, "-f, --filter")?;
    let client = ctx.client().await?;
    let list: VolumeListResponse = client
        .get_json(&Query::new().filters(&filters).build("/volumes"))
        .await?;
    let table = Table {
        default: TABLE,
        headers: HEADERS,
        row_type: "*formatter.volumeContext",
        methods: Some(&LabelMethod),
    };
    let format = if args.quiet {
        table.quiet_format(args.format.as_deref(), "Name")
    } else {
        table.format(args.format.as_deref())
    };
    let mut volumes = list.volumes;
    volumes.sort_by(|a, b| a.name.cmp(&b.name));
    let rows: Vec<Value> = volumes.iter().map(row).collect();
    print_text(&table.render(&format, &rows)?);
    for warning in &list.warnings {
        crate::cli::text::print_err(warning);
    }
    Ok(())
}

async fn rm(ctx: &Context, args: RmArgs) -> Result<(), CliError> {
    let client = ctx.client().await?;
    let mut failures = Failures::default();
    for name in &args.volumes {
        let path = Query::new()
            .flag("force", args.force)
            .build(&format!("/volumes/{}", escape_path(name)));
        match client.delete(&path).await {
            Ok(()) => print_line(name),
            Err(error) => failures.add(error.into()),
        }
    }
    failures.into_result()
}

async fn prune(ctx: &Context, args: PruneArgs) -> Result<(), CliError> {
    let mut filters = ctx.filters(&args.filters, "--filter")?;
    if args.all {
        filters.add("all", "true");
    }
    let warning = if args.all {
        "WARNING! This will remove all local volumes not used by at least one container."
    } else {
        "WARNING! This will remove anonymous local volumes not used by at least one container."
    };
    if !args.force && !confirm(warning) {
        return Ok(());
    }
    let client = ctx.client().await?;
    let answer: Value = client
        .post_for_json(&Query::new().filters(&filters).build("/volumes/prune"))
        .await?;
    let deleted: Vec<&str> = answer["VolumesDeleted"]
        .as_array()
        .map(|names| names.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if !deleted.is_empty() {
        print_line("Deleted Volumes:");
        for name in deleted {
            print_line(name);
        }
        print_line("");
    }
    let reclaimed = answer["SpaceReclaimed"].as_i64().unwrap_or(0);
    print_line(&format!("Total reclaimed space: {}", size4(reclaimed)));
    Ok(())
}
