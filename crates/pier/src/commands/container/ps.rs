//! `ps` (`container ls`): the list of containers in Docker's columns, or as `--format`
//! says.

use std::collections::BTreeMap;

use api::client::Query;
use api::types::{ContainerSummary, Port};
use clap::Args;
use serde_json::{Value, json};

use crate::cli::format::{LabelMethod, Table};
use crate::cli::text::{ellipsis, familiar_name, go_quote, print_text, short_id, split_reference};
use crate::cli::time::{UnixTime, go_time_string};
use crate::cli::units::{ago, size3};
use crate::cli::{CliError, Context};

#[derive(Args, Debug)]
pub struct PsArgs {
    /// Show all containers (default shows just running)
    #[arg(short = 'a', long)]
    all: bool,
    /// Filter output based on conditions provided
    #[arg(short = 'f', long = "filter", value_name = "filter")]
    filters: Vec<String>,
    /// Format output using a custom template
    #[arg(long, value_name = "string")]
    format: Option<String>,
    /// Show n last created containers (includes all states)
    #[arg(short = 'n', long, value_name = "int", default_value_t = -1, allow_negative_numbers = true)]
    last: i64,
    /// Show the latest created container (includes all states)
    #[arg(short = 'l', long)]
    latest: bool,
    /// Don't truncate output
    #[arg(long)]
    no_trunc: bool,
    /// Only display container IDs
    #[arg(short = 'q', long)]
    quiet: bool,
    /// Display total file sizes
    #[arg(short = 's', long)]
    size: bool,
}

const DEFAULT_TABLE: &str =
    "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}";
const SIZE_TABLE: &str = "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}\t{{.Size}}";

const HEADERS: &[(&str, &str)] = &[
    ("ID", "CONTAINER ID"),
    ("Image", "IMAGE"),
    ("Command", "COMMAND"),
    ("CreatedAt", "CREATED AT"),
    ("RunningFor", "CREATED"),
    ("Ports", "PORTS"),
    ("State", "STATE"),
    ("Status", "STATUS"),
    ("Size", "SIZE"),
    ("Names", "NAMES"),
    ("Labels", "LABELS"),
    ("Mounts", "MOUNTS"),
    ("LocalVolumes", "LOCAL VOLUMES"),
    ("Networks", "NETWORKS"),
];

pub async fn ps(ctx: &Context, args: PsArgs) -> Result<(), CliError> {
    let filters = ctx.filters(&args.filters, "-f, --filter")?;
    let table = Table {
        default: if args.size { SIZE_TABLE } else { DEFAULT_TABLE },
        headers: HEADERS,
        row_type: "*formatter.ContainerContext",
        methods: Some(&LabelMethod),
    };
    let format = if args.quiet {
        table.quiet_format(args.format.as_deref(), "ID")
    } else {
        table.format(args.format.as_deref())
    };
    let wants_size = args.size || uses_size(&args)?;
    let limit = if args.latest { 1 } else { args.last };
    let path = Query::new()
        .flag("all", args.all)
        .arg_opt("limit", (limit > 0).then(|| limit.to_string()))
        .flag("size", wants_size)
        .filters(&filters)
        .build("/containers/json");
    let client = ctx.client().await?;
    let containers: Vec<ContainerSummary> = client.get_json(&path).await?;
    let now = UnixTime::now();
    let rows: Vec<Value> = containers
        .iter()
        .map(|c| row(c, !args.no_trunc, now))
        .collect();
    print_text(&table.render(&format, &rows)?);
    Ok(())
}

/// Docker runs a `--format` once over an empty row before listing, to see whether it
/// shows `.Size` (which costs the daemon a walk of each writable layer); its errors are
/// reported then, rows or not.
fn uses_size(args: &PsArgs) -> Result<bool, CliError> {
    let Some(text) = args
        .format
        .as_deref()
        .filter(|f| !f.is_empty() && !args.quiet)
    else {
        return Ok(false);
    };
    let template = template::Template::parse(text)
        .map_err(|e| CliError::other(format!("failed to parse template: {e}")))?;
    let empty = row(&ContainerSummary::default(), true, UnixTime::now());
    let options = template::Options {
        root_type: Some("*formatter.ContainerContext"),
        methods: Some(&LabelMethod),
        ..template::Options::default()
    };
    template
        .render_with(&empty, &options)
        .map_err(|e| CliError::other(format!("failed to execute template: {e}")))?;
    Ok(text.contains(".Size"))
}

/// A container as `ps` templates see it: Docker's fields, as the text it prints.
pub fn row(c: &ContainerSummary, trunc: bool, now: UnixTime) -> Value {
    let id = if trunc {
        short_id(&c.id).to_owned()
    } else {
        c.id.clone()
    };
    let command = if trunc {
        ellipsis(&c.command, 20)
    } else {
        c.command.clone()
    };
    json!({
        "ID": id,
        "Image": image(c, trunc),
        "Command": go_quote(&command),
        "CreatedAt": go_time_string(c.created),
        "RunningFor": ago(c.created, now),
        "Ports": displayable_ports(&c.ports),
        "State": c.state,
        "Status": c.status,
        "Size": size(c),
        "Names": names(&c.names, trunc),
        "Labels": labels(&c.labels),
        "Mounts": mounts(c, trunc),
        "LocalVolumes": c.mounts.iter().filter(|m| m.driver == "local").count().to_string(),
        "Networks": networks(c),
        "Platform": null,
    })
}

fn image(c: &ContainerSummary, trunc: bool) -> String {
    if c.image.is_empty() {
        return "<no image>".to_owned();
    }
    if !trunc {
        return c.image.clone();
    }
    if short_id(&c.image_id) == short_id(&c.image) {
        return short_id(&c.image_id).to_owned();
    }
    // The digest is dropped; a tag stays.
    match split_reference(familiar_name(&c.image)) {
        (name, Some(tag), _) => format!("{name}:{tag}"),
        (name, None, _) => name.to_owned(),
    }
}

fn names(names: &[String], trunc: bool) -> String {
    let plain = names.iter().map(|n| n.strip_prefix('/').unwrap_or(n));
    if trunc {
        // The container's own name: links (`/other/alias`) have more than one part.
        return plain
            .clone()
            .find(|n| !n.contains('/'))
            .unwrap_or("")
            .to_owned();
    }
    plain.collect::<Vec<_>>().join(",")
}

fn size(c: &ContainerSummary) -> String {
    let rw = size3(c.size_rw.unwrap_or(0));
    match c.size_root_fs {
        Some(root) if root > 0 => format!("{rw} (virtual {})", size3(root)),
        _ => rw,
    }
}

fn labels(labels: &BTreeMap<String, String>) -> String {
    labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

fn mounts(c: &ContainerSummary, trunc: bool) -> String {
    c.mounts
        .iter()
        .map(|m| {
            let name = if m.name.is_empty() {
                &m.source
            } else {
                &m.name
            };
            if trunc {
                ellipsis(name, 15)
            } else {
                name.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn networks(c: &ContainerSummary) -> String {
    let mut names: Vec<&str> = c
        .network_settings
        .as_ref()
        .map(|n| n.networks.keys().map(String::as_str).collect())
        .unwrap_or_default();
    names.sort_unstable();
    names.join(",")
}

/// Docker's PORTS column: consecutive ports of one address and protocol grouped into
/// ranges (`8000-8002/tcp`), published ports as `host->container/proto`.
pub fn displayable_ports(ports: &[Port]) -> String {
    let mut ports = ports.to_vec();
    ports.sort_by(|a, b| {
        (a.private_port, &a.ip, a.public_port, &a.kind).cmp(&(
            b.private_port,
            &b.ip,
            b.public_port,
            &b.kind,
        ))
    });
    // Groups in the order their keys first appear; a group that breaks off is written
    // out at once.
    let mut groups: Vec<(String, u16, u16)> = Vec::new();
    let mut result = Vec::new();
    let mut mappings = Vec::new();
    for port in &ports {
        let current = port.private_port;
        let key = if port.ip.is_empty() {
            port.kind.clone()
        } else {
            if port.public_port != current {
                mappings.push(format!(
                    "{}->{}/{}",
                    join_host_port(&port.ip, port.public_port),
                    port.private_port,
                    port.kind
                ));
                continue;
            }
            format!("{}/{}", port.ip, port.kind)
        };
        match groups.iter_mut().find(|(k, _, _)| *k == key) {
            None => groups.push((key, current, current)),
            Some(group) if group.2.checked_add(1) == Some(current) => group.2 = current,
            Some(group) => {
                result.push(form_group(&group.0, group.1, group.2));
                group.1 = current;
                group.2 = current;
            }
        }
    }
    for (key, first, last) in &groups {
        result.push(form_group(key, *first, *last));
    }
    result.extend(mappings);
    result.join(", ")
}

fn join_host_port(ip: &str, port: u16) -> String {
    if ip.contains(':') {
        format!("[{ip}]:{port}")
    } else {
        format!("{ip}:{port}")
    }
}

fn form_group(key: &str, first: u16, last: u16) -> String {
    let (ip, kind) = match key.rsplit_once('/') {
        Some((ip, kind)) => (ip, kind),
        None => ("", key),
    };
    let mut group = first.to_string();
    if first != last {
        group = format!("{group}-{last}");
    }
    if !ip.is_empty() {
        group = format!("{ip}:{group}->{group}");
    }
    format!("{group}/{kind}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use api::types::MountPoint;

    fn port(ip: &str, private: u16, public: u16, kind: &str) -> Port {
        Port {
            ip: ip.into(),
            private_port: private,
            public_port: public,
            kind: kind.into(),
        }
    }

    #[test]
    fn ports_as_docker_shows_them() {
        assert_eq!(displayable_ports(&[]), "");
        assert_eq!(displayable_ports(&[port("", 80, 0, "tcp")]), "80/tcp");
        assert_eq!(
            displayable_ports(&[
                port("", 8002, 0, "tcp"),
                port("", 8000, 0, "tcp"),
                port("", 8001, 0, "tcp"),
                port("", 53, 0, "udp"),
            ]),
            "53/udp, 8000-8002/tcp"
        );
        assert_eq!(
            displayable_ports(&[
                port("0.0.0.0", 80, 8080, "tcp"),
                port("::", 80, 8080, "tcp"),
            ]),
            "0.0.0.0:8080->80/tcp, [::]:8080->80/tcp"
        );
        assert_eq!(
            displayable_ports(&[port("127.0.0.1", 9000, 9000, "tcp")]),
            "127.0.0.1:9000->9000/tcp"
        );
        assert_eq!(
            displayable_ports(&[port("", 80, 0, "tcp"), port("", 82, 0, "tcp")]),
            "80/tcp, 82/tcp"
        );
    }

    fn summary() -> ContainerSummary {
        ContainerSummary {
            id: "4f66ad9a0b2e4a1b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b".into(),
            names: vec!["/web".into()],
            image: "busybox".into(),
            image_id: "sha256:a416a98b71e224a31ee99cff8e16063554498227d2b696152a9c3e0aa65e5824"
                .into(),
            command: "/bin/sh -c 'while true; do sleep 1; done'".into(),
            created: 1_000_000,
            state: "running".into(),
            status: "Up 5 seconds".into(),
            ..Default::default()
        }
    }

    #[test]
    fn rows_truncate_as_docker() {
        let now = UnixTime {
            secs: 1_000_005,
            nanos: 0,
        };
        let mut c = summary();
        c.mounts = vec![MountPoint {
            name: "0123456789abcdef0123".into(),
            driver: "local".into(),
            ..Default::default()
        }];
        let row = row(&c, true, now);
        assert_eq!(row["ID"], "4f66ad9a0b2e");
        assert_eq!(row["Command"], "\"/bin/sh -c 'while t…\"");
        assert_eq!(row["Names"], "web");
        assert_eq!(row["Image"], "busybox");
        assert_eq!(row["Mounts"], "0123456789abcd…");
        assert_eq!(row["LocalVolumes"], "1");
        assert_eq!(row["Size"], "0B");
        assert_eq!(row["CreatedAt"], "1970-01-12 13:46:40 +0000 UTC");
        let full = super::row(&c, false, now);
        assert_eq!(full["ID"], c.id.as_str());
        assert_eq!(
            full["Command"],
            "\"/bin/sh -c 'while true; do sleep 1; done'\""
        );
    }

    #[test]
    fn image_column() {
        let mut c = summary();
        c.image = "sha256:a416a98b71e224a31ee99cff8e16063554498227d2b696152a9c3e0aa65e5824".into();
        assert_eq!(image(&c, true), "a416a98b71e2");
        c.image = "docker.io/library/busybox:1.36@sha256:00".into();
        assert_eq!(image(&c, true), "busybox:1.36");
        c.image = "busybox@sha256:00".into();
        assert_eq!(image(&c, true), "busybox");
        assert_eq!(image(&c, false), "busybox@sha256:00");
    }

    #[test]
    fn names_skip_links() {
        let names_given = vec!["/other/alias".to_owned(), "/web".to_owned()];
        assert_eq!(names(&names_given, true), "web");
        assert_eq!(names(&names_given, false), "other/alias,web");
    }
}
