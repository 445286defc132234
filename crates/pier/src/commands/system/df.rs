//! `system df`: disk use by images, containers, volumes and build cache.

use api::types::SystemDataUsage;
use clap::Args;
use serde_json::{Value, json};

use crate::cli::format::Table;
use crate::cli::text::print_text;
use crate::cli::units::size4;
use crate::cli::{CliError, Context};

#[derive(Args, Debug)]
pub struct DfArgs {
    /// Format output using a custom template
    #[arg(long, value_name = "string")]
    format: Option<String>,
    /// Show detailed information on space usage
    #[arg(short = 'v', long)]
    verbose: bool,
}

const TABLE: &str = "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}";

const HEADERS: &[(&str, &str)] = &[
    ("Type", "TYPE"),
    ("TotalCount", "TOTAL"),
    ("Active", "ACTIVE"),
    ("Size", "SIZE"),
    ("Reclaimable", "RECLAIMABLE"),
];

pub async fn df(ctx: &Context, args: DfArgs) -> Result<(), CliError> {
    let client = ctx.client().await?;
    let usage: SystemDataUsage = client.get_json("/system/df").await?;
    let table = Table {
        default: TABLE,
        headers: HEADERS,
        row_type: "*formatter.diskUsageImagesContext",
        methods: None,
    };
    let format = table.format(args.format.as_deref());
    print_text(&table.render(&format, &rows(&usage))?);
    Ok(())
}

fn with_percent(reclaimable: i64, total: i64) -> String {
    if total > 0 {
        format!("{} ({}%)", size4(reclaimable), reclaimable * 100 / total)
    } else {
        size4(reclaimable)
    }
}

fn row(kind: &str, total: usize, active: usize, size: String, reclaimable: String) -> Value {
    json!({
        "Type": kind,
        "TotalCount": total.to_string(),
        "Active": active.to_string(),
        "Size": size,
        "Reclaimable": reclaimable,
    })
}

/// The four rows of `docker system df`, with Docker's sums.
pub fn rows(usage: &SystemDataUsage) -> Vec<Value> {
    let images_total = usage.layers_size;
    let used: i64 = usage
        .images
        .iter()
        .filter(|i| i.containers > 0 && i.size != -1 && i.shared_size != -1)
        .map(|i| i.size - i.shared_size)
        .sum();
    let images_active = usage.images.iter().filter(|i| i.containers > 0).count();

    let is_active = |state: &str| matches!(state, "running" | "paused" | "restarting");
    let containers_size: i64 = usage
        .containers
        .iter()
        .map(|c| c.size_rw.unwrap_or(0))
        .sum();
    let containers_reclaimable: i64 = usage
        .containers
        .iter()
        .filter(|c| !is_active(&c.state))
        .map(|c| c.size_rw.unwrap_or(0))
        .sum();
    let containers_active = usage
        .containers
        .iter()
        .filter(|c| is_active(&c.state))
        .count();

    let usage_of = |v: &api::types::Volume| v.usage_data.clone().unwrap_or_default();
    let volumes_size: i64 = usage
        .volumes
        .iter()
        .map(|v| usage_of(v).size)
        .filter(|s| *s > 0)
        .sum();
    let volumes_reclaimable: i64 = usage
        .volumes
        .iter()
        .map(usage_of)
        .filter(|u| u.ref_count == 0 && u.size > 0)
        .map(|u| u.size)
        .sum();
    let volumes_active = usage
        .volumes
        .iter()
        .filter(|v| usage_of(v).ref_count > 0)
        .count();

    let cache_size: i64 = usage
        .build_cache
        .iter()
        .filter(|b| !b.shared)
        .map(|b| b.size)
        .sum();
    let cache_in_use: i64 = usage
        .build_cache
        .iter()
        .filter(|b| b.in_use && !b.shared)
        .map(|b| b.size)
        .sum();
    let cache_active = usage.build_cache.iter().filter(|b| b.in_use).count();

    vec![
        row(
            "Images",
            usage.images.len(),
            images_active,
            size4(images_total),
            with_percent(images_total - used, images_total),
        ),
        row(
            "Containers",
            usage.containers.len(),
            containers_active,
            size4(containers_size),
            with_percent(containers_reclaimable, containers_size),
        ),
        row(
            "Local Volumes",
            usage.volumes.len(),
            volumes_active,
            size4(volumes_size),
            with_percent(volumes_reclaimable, volumes_size),
        ),
        row(
            "Build Cache",
            usage.build_cache.len(),
            cache_active,
            size4(cache_size),
            size4(cache_size - cache_in_use),
        ),
    ]
}
