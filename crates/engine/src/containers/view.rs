//! What list and inspect show of containers, in the API's shapes, from the in-memory records
//! alone (never the disk, never the shims: listing stays fast at thousands of containers).

use net::records::NetworkRecord;
use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use api::filters::Filters;
use api::types::{
    ContainerInspectResponse, ContainerState, ContainerSummary, GraphDriverData, MountPoint,
    SummaryHostConfig, SummaryNetworkSettings,
};

use crate::Engine;
use crate::error::{EngineError, Result};

use super::model::{Container, MountRecord, Status, ZERO_TIME};

#[derive(Debug, Default)]
pub struct ListOptions {
    pub all: bool,
    /// `-n`: the last n created (any state); 0 or less: no limit.
    pub limit: i64,
    pub size: bool,
    pub filters: Filters,
}

const LIST_FILTERS: &[&str] = &[
    "id", "name", "label", "status", "ancestor", "exited", "before", "since", "volume", "network",
    "health", "is-task", "expose", "publish",
];

impl Engine {
    pub fn list_containers(&self, options: &ListOptions) -> Result<Vec<ContainerSummary>> {
        let filters = &options.filters;
        let networks = self.known_networks();
        filters
            .validate(LIST_FILTERS)
            .map_err(|e| EngineError::InvalidArgument(e.to_string()))?;
        for status in filters.get("status") {
            if ![
                "created",
                "restarting",
                "running",
                "removing",
                "paused",
                "exited",
                "dead",
            ]
            .contains(&status.as_str())
            {
                return Err(EngineError::InvalidArgument(format!(
                    "invalid filter 'status={status}'"
                )));
            }
        }
        let mut exited_codes = Vec::new();
        for code in filters.get("exited") {
            exited_codes.push(code.parse::<i32>().map_err(|_| {
                EngineError::InvalidArgument(format!("invalid filter 'exited={code}'"))
            })?);
        }
        let mut ancestors = Vec::new();
        for name in filters.get("ancestor") {
            if let Ok(image) = self.images.resolve(name) {
                ancestors.push(image.id.to_string());
            }
        }
        let created_of = |reference: &str| -> Result<String> {
            Ok(self.containers.get(reference)?.record().created.clone())
        };
        let before = filters
            .get("before")
            .first()
            .map(|r| created_of(r))
            .transpose()?;
        let since = filters
            .get("since")
            .first()
            .map(|r| created_of(r))
            .transpose()?;

        let mut containers: Vec<Container> =
            self.containers.all().iter().map(|h| h.snapshot()).collect();
        containers.sort_by(|a, b| b.created.cmp(&a.created));
        // Without -a, only running ones, unless a filter asks about states or exits.
        let implicit_all = options.all
            || options.limit > 0
            || filters.contains("status")
            || filters.contains("exited");
        let mut out = Vec::new();
        for c in containers {
            if !implicit_all && !c.state.status.is_alive() {
                continue;
            }
            if !filters.get("id").is_empty()
                && !filters
                    .get("id")
                    .iter()
                    .any(|p| c.id.starts_with(p.as_str()))
            {
                continue;
            }
            if !filters.get("name").is_empty()
                && !filters
                    .get("name")
                    .iter()
                    .any(|n| c.name.contains(n.trim_start_matches('/')))
            {
                continue;
            }
            if !filters.get("status").is_empty()
                && !filters
                    .get("status")
                    .iter()
                    .any(|s| s == c.state.status.as_str())
            {
                continue;
            }
            if !exited_codes.is_empty()
                && (c.state.status != Status::Exited || !exited_codes.contains(&c.state.exit_code))
            {
                continue;
            }
            if filters.contains("ancestor") && !ancestors.contains(&c.image) {
                continue;
            }
            if filters.contains("label") {
                let labels = c.config.labels.clone().unwrap_or_default();
                let labels: HashMap<String, String> = labels.into_iter().collect();
                if !filters.match_labels("label", &labels) {
                    continue;
                }
            }
            if filters.contains("network") && !on_any_network(&c, &networks, filters.get("network"))
            {
                continue;
            }
            if before.as_ref().is_some_and(|b| c.created >= *b)
                || since.as_ref().is_some_and(|s| c.created <= *s)
            {
                continue;
            }
            out.push(summary(&c, &networks));
            if options.limit > 0 && out.len() as i64 >= options.limit {
                break;
            }
        }
        Ok(out)
    }

    pub fn inspect_container(&self, reference: &str) -> Result<ContainerInspectResponse> {
        let c = self.containers.get(reference)?.snapshot();
        Ok(inspect(&c, &self.known_networks()))
    }
}

fn command_line(c: &Container) -> String {
    std::iter::once(c.path.as_str())
        .chain(c.args.iter().map(String::as_str))
        .collect::<Vec<_>>()
        .join(" ")
}

fn mount_points(mounts: &[MountRecord]) -> Vec<MountPoint> {
    mounts
        .iter()
        .map(|m| MountPoint {
            kind: m.kind.clone(),
            name: m.name.clone().unwrap_or_default(),
            source: m.source.display().to_string(),
            destination: m.destination.clone(),
            driver: if m.kind == "volume" {
                "local".into()
            } else {
                String::new()
            },
            mode: m.mode.clone(),
            rw: m.read_write,
            propagation: if m.kind == "bind" {
                "rprivate".into()
            } else {
                String::new()
            },
        })
        .collect()
}

/// The `network` filter: a network the container is on, by name or id.
fn on_any_network(c: &Container, networks: &[NetworkRecord], wanted: &[String]) -> bool {
    c.endpoints.iter().any(|e| {
        networks.iter().filter(|n| n.id == e.network_id).any(|n| {
            wanted
                .iter()
                .any(|w| *w == n.name || n.id.starts_with(w.as_str()))
        })
    })
}

fn network_mode(c: &Container) -> String {
    if c.host_config.network_mode.is_empty() {
        "none".into()
    } else {
        c.host_config.network_mode.clone()
    }
}

pub fn summary(c: &Container, networks: &[NetworkRecord]) -> ContainerSummary {
    ContainerSummary {
        id: c.id.clone(),
        names: vec![format!("/{}", c.name)],
        image: c.config.image.clone(),
        image_id: c.image.clone(),
        command: command_line(c),
        created: image::model::time::Timestamp::parse(&c.created)
            .map(|t| t.unix_seconds())
            .unwrap_or(0),
        labels: c
            .config
            .labels
            .clone()
            .unwrap_or_default()
            .into_iter()
            .collect(),
        state: c.state.status.as_str().to_owned(),
        status: status_text(c, SystemTime::now()),
        host_config: SummaryHostConfig {
            network_mode: network_mode(c),
        },
        ports: crate::network::summary_ports(c),
        network_settings: Some(SummaryNetworkSettings {
            networks: crate::network::network_settings(c, networks).networks,
        }),
        mounts: mount_points(&c.mounts),
        ..Default::default()
    }
}

fn since(time: &str, now: SystemTime) -> Duration {
    let Some(t) = image::model::time::Timestamp::parse(time) else {
        return Duration::ZERO;
    };
    let then = SystemTime::UNIX_EPOCH + Duration::from_secs(t.unix_seconds().max(0) as u64);
    now.duration_since(then).unwrap_or(Duration::ZERO)
}

/// Docker's `Status` column: `Up 5 minutes`, `Up 2 hours (Paused)`, `Exited (0) 3 seconds
/// ago`, `Created`, `Removal In Progress`, `Dead`.
pub fn status_text(c: &Container, now: SystemTime) -> String {
    let state = &c.state;
    match state.status {
        Status::Running => format!(
            "Up {}",
            api::units::human_duration(since(&state.started_at, now))
        ),
        Status::Paused => format!(
            "Up {} (Paused)",
            api::units::human_duration(since(&state.started_at, now))
        ),
        Status::Restarting => format!(
            "Restarting ({}) {} ago",
            state.exit_code,
            api::units::human_duration(since(&state.finished_at, now))
        ),
        Status::Removing => "Removal In Progress".into(),
        Status::Dead => "Dead".into(),
        Status::Created => "Created".into(),
        Status::Exited if state.finished_at == ZERO_TIME => "Created".into(),
        Status::Exited => format!(
            "Exited ({}) {} ago",
            state.exit_code,
            api::units::human_duration(since(&state.finished_at, now))
        ),
    }
}

pub fn inspect(c: &Container, networks: &[NetworkRecord]) -> ContainerInspectResponse {
    let status = c.state.status;
    ContainerInspectResponse {
        id: c.id.clone(),
        created: c.created.clone(),
        path: c.path.clone(),
        args: c.args.clone(),
        state: ContainerState {
            status: status.as_str().to_owned(),
            running: matches!(
                status,
                Status::Running | Status::Paused | Status::Restarting
            ),
            paused: status == Status::Paused,
            restarting: status == Status::Restarting,
            oom_killed: c.state.oom_killed,
            dead: status == Status::Dead,
            pid: c.state.pid as i64,
            exit_code: c.state.exit_code as i64,
            error: c.state.error.clone(),
            started_at: c.state.started_at.clone(),
            finished_at: c.state.finished_at.clone(),
            health: None,
        },
        image: c.image.clone(),
        resolv_conf_path: c.resolv_conf_path.display().to_string(),
        hostname_path: c.hostname_path.display().to_string(),
        hosts_path: c.hosts_path.display().to_string(),
        log_path: c.log_path.display().to_string(),
        name: format!("/{}", c.name),
        restart_count: c.restart_count,
        driver: "overlay2".into(),
        platform: "linux".into(),
        host_config: c.host_config.clone(),
        graph_driver: GraphDriverData {
            name: "overlay2".into(),
            data: [
                (
                    "UpperDir".to_owned(),
                    c.dir.join("upper").display().to_string(),
                ),
                (
                    "WorkDir".to_owned(),
                    c.dir.join("work").display().to_string(),
                ),
                ("MergedDir".to_owned(), c.rootfs().display().to_string()),
            ]
            .into_iter()
            .collect(),
        },
        mounts: mount_points(&c.mounts),
        config: c.config.clone(),
        network_settings: crate::network::network_settings(c, networks),
        ..Default::default()
    }
}
