//! A container's mounts, resolved when it is created, in Docker's order: `--volumes-from`
//! first, then `-v` (`HostConfig.Binds`) and `--mount` (`HostConfig.Mounts`), parsed by the
//! spec module, which replace inherited mounts at the same destination but may not repeat
//! one another, and last the anonymous volumes of `Config.Volumes` (the image's `VOLUME`s
//! merged in) that nothing else covers.
//!
//! `HostConfig.Tmpfs` is no record: the spec module mounts it, and it wins over anything at
//! its destination, as in Docker.
//!
//! Missing `-v` sources are made; missing `--mount` sources were refused by the parser.
//! Volumes that do not exist yet are created (anonymous ones with a random name); if
//! resolving fails half way, the anonymous volumes made on the way are removed again.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};

use api::types::{HostConfig, Mount};

use super::copyup::{copy_up, resolve_in_root};
use super::volume_data_dir;
use crate::Engine;
use crate::containers::model::{Container, MountRecord};
use crate::error::{EngineError, Result};
use crate::events::Event;
use crate::spec::{BindSpec, MountSource};

/// One mount to make: what the parser checked, and the labels a volume it creates gets.
#[derive(Debug, Clone)]
pub struct Planned {
    pub spec: BindSpec,
    pub volume_labels: BTreeMap<String, String>,
}

fn duplicate(target: &Path) -> EngineError {
    EngineError::InvalidArgument(format!("Duplicate mount point: {}", target.display()))
}

/// A `--mount` volume of a driver other than `local`: Docker's error for a missing plugin.
fn check_driver(mount: &Mount) -> Result<()> {
    let driver = mount
        .volume_options
        .as_ref()
        .and_then(|v| v.driver_config.as_ref())
        .map_or("", |d| d.name.as_str());
    if driver.is_empty() || driver == super::LOCAL_DRIVER {
        return Ok(());
    }
    Err(EngineError::NotFound(format!(
        "error looking up volume plugin {driver}: plugin {driver:?} not found"
    )))
}

/// Go's `path.Clean` of an absolute path.
fn clean_absolute(path: &str) -> PathBuf {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            name => parts.push(name),
        }
    }
    PathBuf::from(format!("/{}", parts.join("/")))
}

fn anonymous_at(destination: PathBuf) -> BindSpec {
    BindSpec {
        source: MountSource::Anonymous,
        destination,
        read_only: false,
        mode: String::new(),
        propagation: String::new(),
        non_recursive: false,
        no_copy: false,
        create_source: false,
    }
}

fn push_unique(planned: &mut Vec<Planned>, item: Planned) -> Result<()> {
    if planned
        .iter()
        .any(|p| p.spec.destination == item.spec.destination)
    {
        return Err(duplicate(&item.spec.destination));
    }
    planned.push(item);
    Ok(())
}

/// The mounts to make besides `inherited` ones (destinations). Pure but for the parser's
/// check that a `--mount` bind source exists.
pub fn plan(
    host: &HostConfig,
    config_volumes: &BTreeSet<String>,
    inherited: &HashSet<PathBuf>,
) -> Result<Vec<Planned>> {
    let mut planned: Vec<Planned> = Vec::new();
    for raw in host.binds.iter().flatten() {
        let spec = crate::spec::parse_bind(raw)?;
        push_unique(
            &mut planned,
            Planned {
                spec,
                volume_labels: BTreeMap::new(),
            },
        )?;
    }
    for mount in host.mounts.iter().flatten() {
        check_driver(mount)?;
        let spec = crate::spec::parse_mount(mount)?;
        let volume_labels = mount
            .volume_options
            .as_ref()
            .and_then(|v| v.labels.clone())
            .unwrap_or_default();
        push_unique(
            &mut planned,
            Planned {
                spec,
                volume_labels,
            },
        )?;
    }
    let tmpfs: HashSet<PathBuf> = host
        .tmpfs
        .iter()
        .flatten()
        .map(|(destination, _)| clean_absolute(destination))
        .collect();
    planned.retain(|p| !tmpfs.contains(&p.spec.destination));
    for volume in config_volumes {
        // An image's `VOLUME data` means /data, as Docker reads it.
        let destination = clean_absolute(volume);
        let covered = destination == Path::new("/")
            || inherited.contains(&destination)
            || tmpfs.contains(&destination)
            || planned.iter().any(|p| p.spec.destination == destination);
        if !covered {
            planned.push(Planned {
                spec: anonymous_at(destination),
                volume_labels: BTreeMap::new(),
            });
        }
    }
    Ok(planned)
}

/// `--volumes-from` entries: `container[:ro|rw]`.
fn parse_volumes_from(entry: &str) -> Result<(&str, Option<bool>)> {
    match entry.split_once(':') {
        None => Ok((entry, None)),
        Some((name, "rw")) => Ok((name, Some(true))),
        Some((name, "ro")) => Ok((name, Some(false))),
        Some((_, mode)) => Err(EngineError::InvalidArgument(format!(
            "invalid mode for volumes-from: {mode}"
        ))),
    }
}

impl Engine {
    fn inherited_mounts(&self, container: &Container) -> Result<Vec<MountRecord>> {
        let mut out: Vec<MountRecord> = Vec::new();
        for entry in container.host_config.volumes_from.iter().flatten() {
            let (name, read_write) = parse_volumes_from(entry)?;
            let source = self.containers.get(name)?.snapshot();
            for mount in source.mounts {
                // Another container's volume: never removed with this one.
                let mut mount = MountRecord {
                    anonymous: false,
                    ..mount
                };
                if let Some(rw) = read_write {
                    mount.read_write = rw;
                }
                out.retain(|m| m.destination != mount.destination);
                out.push(mount);
            }
        }
        Ok(out)
    }

    /// Resolves the container's mounts (see the module's doc), making the bind sources and
    /// volumes they need.
    pub(crate) fn resolve_mounts(&self, container: &Container) -> Result<Vec<MountRecord>> {
        let mut records = self.inherited_mounts(container)?;
        let inherited: HashSet<PathBuf> = records
            .iter()
            .map(|m| PathBuf::from(&m.destination))
            .collect();
        let config_volumes = container.config.volumes.clone().unwrap_or_default();
        let planned = plan(&container.host_config, &config_volumes, &inherited)?;
        records.retain(|m| {
            !planned
                .iter()
                .any(|p| p.spec.destination == Path::new(&m.destination))
        });
        let mut made: Vec<String> = Vec::new();
        for item in &planned {
            match self.realize(item, &mut made) {
                Ok(record) => records.push(record),
                Err(e) => {
                    for name in &made {
                        let _ = self.remove_volume_blocking(name, true);
                    }
                    return Err(e);
                }
            }
        }
        Ok(records)
    }

    /// Makes what one mount needs; anonymous volumes it creates are added to `made`.
    fn realize(&self, item: &Planned, made: &mut Vec<String>) -> Result<MountRecord> {
        let spec = &item.spec;
        let mut record = MountRecord {
            kind: String::new(),
            name: None,
            source: PathBuf::new(),
            destination: spec.destination.display().to_string(),
            read_write: !spec.read_only,
            mode: spec.mode.clone(),
            anonymous: false,
        };
        match &spec.source {
            MountSource::HostPath(path) => {
                if spec.create_source {
                    crate::spec::create_missing_bind_source(path)?;
                }
                // The spec module reads a bind's propagation from its options.
                if record.mode.is_empty()
                    && !spec.propagation.is_empty()
                    && spec.propagation != "rprivate"
                {
                    record.mode = spec.propagation.clone();
                }
                record.kind = "bind".to_owned();
                record.source = path.clone();
            }
            MountSource::Volume { name, subpath } => {
                let volume = self
                    .ensure_volume(name, &item.volume_labels, &BTreeMap::new())?
                    .0;
                let mut source = volume_data_dir(&self.config.volumes_dir(), &volume.name);
                if let Some(subpath) = subpath {
                    source = source.join(subpath);
                    if !source.exists() {
                        return Err(EngineError::InvalidArgument(format!(
                            "invalid mount config for type \"volume\": subpath {subpath} does not exist in volume {}",
                            volume.name
                        )));
                    }
                }
                record.kind = "volume".to_owned();
                record.name = Some(volume.name);
                record.source = source;
            }
            MountSource::Anonymous => {
                let volume = self.create_anonymous_volume()?;
                made.push(volume.name.clone());
                record.kind = "volume".to_owned();
                record.source = volume_data_dir(&self.config.volumes_dir(), &volume.name);
                record.name = Some(volume.name);
                record.anonymous = true;
            }
            MountSource::Tmpfs { data } => {
                record.kind = "tmpfs".to_owned();
                record.mode = data.clone();
            }
        }
        Ok(record)
    }

    /// Copies the image's files into the container's new, empty volumes (Docker's copy-up),
    /// unless the mount said `nocopy`. Call with the container's rootfs mounted, before it
    /// first starts.
    pub(crate) fn copy_up_volumes(&self, container: &Container) -> Result<()> {
        let no_copy: HashSet<PathBuf> =
            plan(&container.host_config, &BTreeSet::new(), &HashSet::new())
                .map(|planned| {
                    planned
                        .into_iter()
                        .filter(|p| p.spec.no_copy)
                        .map(|p| p.spec.destination)
                        .collect()
                })
                .unwrap_or_default();
        let rootfs = container.rootfs();
        for mount in &container.mounts {
            let Some(name) = mount.name.as_deref() else {
                continue;
            };
            if mount.kind != "volume" || no_copy.contains(Path::new(&mount.destination)) {
                continue;
            }
            // A subpath of a volume is never filled from the image.
            if mount.source != volume_data_dir(&self.config.volumes_dir(), name) {
                continue;
            }
            let source = resolve_in_root(&rootfs, &mount.destination)?;
            copy_up(&source, &mount.source)?;
        }
        Ok(())
    }

    /// Removes the container's anonymous volumes that no other container mounts (`rm -v`).
    /// Best effort: a volume that cannot be removed stays.
    pub(crate) fn remove_anonymous_volumes(&self, container: &Container) {
        for mount in container
            .mounts
            .iter()
            .filter(|m| m.anonymous && m.kind == "volume")
        {
            if let Some(name) = mount.name.as_deref() {
                let _ = self.remove_volume_unless_used(name, &container.id);
            }
        }
    }

    /// Volume `mount` events for a container that starts, as Docker sends them.
    pub(crate) fn publish_volume_mounts(&self, container: &Container) {
        for mount in container.mounts.iter().filter(|m| m.kind == "volume") {
            let Some(name) = mount.name.as_deref() else {
                continue;
            };
            self.events.publish(
                Event::new("volume", "mount", name)
                    .attribute("container", &container.id)
                    .attribute("destination", &mount.destination)
                    .attribute("driver", super::LOCAL_DRIVER)
                    .attribute("propagation", "")
                    .attribute("read/write", mount.read_write.to_string()),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use api::types::{MountType, VolumeDriverConfig, VolumeOptions};

    fn host(binds: &[&str]) -> HostConfig {
        HostConfig {
            binds: Some(binds.iter().map(|b| b.to_string()).collect()),
            ..Default::default()
        }
    }

    fn described(planned: &[Planned]) -> Vec<(String, MountSource)> {
        planned
            .iter()
            .map(|p| {
                (
                    p.spec.destination.display().to_string(),
                    p.spec.source.clone(),
                )
            })
            .collect()
    }

    fn volume(name: &str) -> MountSource {
        MountSource::Volume {
            name: name.into(),
            subpath: None,
        }
    }

    #[test]
    fn image_volumes_fill_what_is_not_covered() {
        let config: BTreeSet<String> = ["/data".into(), "/logs/".into(), "cache".into()].into();
        let planned = plan(
            &host(&["/srv:/data", "named:/other:ro"]),
            &config,
            &HashSet::new(),
        )
        .unwrap();
        assert_eq!(
            described(&planned),
            [
                ("/data".to_owned(), MountSource::HostPath("/srv".into())),
                ("/other".to_owned(), volume("named")),
                ("/logs".to_owned(), MountSource::Anonymous),
                ("/cache".to_owned(), MountSource::Anonymous),
            ]
        );
        let inherited: HashSet<PathBuf> = [PathBuf::from("/logs")].into();
        let planned = plan(&HostConfig::default(), &config, &inherited).unwrap();
        assert_eq!(planned.len(), 2);
    }

    #[test]
    fn duplicates_are_refused_but_tmpfs_wins() {
        let e = plan(
            &host(&["/a:/data", "v:/data/"]),
            &BTreeSet::new(),
            &HashSet::new(),
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "Duplicate mount point: /data");
        let mut h = host(&["/a:/data"]);
        h.mounts = Some(vec![Mount {
            kind: MountType::Volume,
            source: "v".into(),
            target: "/data".into(),
            ..Default::default()
        }]);
        assert_eq!(
            plan(&h, &BTreeSet::new(), &HashSet::new())
                .unwrap_err()
                .to_string(),
            "Duplicate mount point: /data"
        );
        let mut h = host(&["/a:/run", "/b:/keep"]);
        h.tmpfs = Some([("/run/".to_owned(), "size=1m".to_owned())].into());
        let planned = plan(&h, &["/run".to_owned()].into(), &HashSet::new()).unwrap();
        assert_eq!(
            described(&planned),
            [("/keep".to_owned(), MountSource::HostPath("/b".into()))]
        );
    }

    #[test]
    fn mount_volumes_keep_their_labels_and_drivers_are_checked() {
        let mut h = HostConfig {
            mounts: Some(vec![Mount {
                kind: MountType::Volume,
                source: "data".into(),
                target: "/v".into(),
                volume_options: Some(VolumeOptions {
                    no_copy: true,
                    labels: Some([("a".to_owned(), "b".to_owned())].into()),
                    ..Default::default()
                }),
                ..Default::default()
            }]),
            ..Default::default()
        };
        let planned = plan(&h, &BTreeSet::new(), &HashSet::new()).unwrap();
        assert!(planned[0].spec.no_copy);
        assert_eq!(planned[0].volume_labels["a"], "b");
        if let Some(mounts) = h.mounts.as_mut() {
            mounts[0].volume_options = Some(VolumeOptions {
                driver_config: Some(VolumeDriverConfig {
                    name: "nfs".into(),
                    options: None,
                }),
                ..Default::default()
            });
        }
        assert_eq!(
            plan(&h, &BTreeSet::new(), &HashSet::new())
                .unwrap_err()
                .to_string(),
            "error looking up volume plugin nfs: plugin \"nfs\" not found"
        );
    }

    #[test]
    fn volumes_from_modes() {
        assert_eq!(parse_volumes_from("web").unwrap(), ("web", None));
        assert_eq!(parse_volumes_from("web:ro").unwrap(), ("web", Some(false)));
        assert_eq!(
            parse_volumes_from("web:x").unwrap_err().to_string(),
            "invalid mode for volumes-from: x"
        );
    }

    #[test]
    fn paths_clean_as_go_cleans_them() {
        for (input, want) in [
            ("/a/b/", "/a/b"),
            ("//a//b", "/a/b"),
            ("a/./b/../c", "/a/c"),
            ("/..", "/"),
        ] {
            assert_eq!(clean_absolute(input), Path::new(want), "{input}");
        }
    }
}
