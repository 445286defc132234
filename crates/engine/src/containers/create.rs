//! `POST /containers/create`: name, image, the image's defaults merged in, the container's
//! directory, writable layer and mounted rootfs, its files and bundle, all made before the
//! container is recorded; whatever fails on the way is undone and nothing is left.

use std::path::Path;
use std::sync::Arc;

use api::types::{ContainerConfig, ContainerCreateBody, HostConfig, NetworkingConfig};
use image::ImageRecord;

use crate::Engine;
use crate::error::{EngineError, Result};
use crate::events::Event;
use crate::network::{EndpointOwner, TakenNetns};
use crate::spec;

use super::model::{Container, State};
use super::names;
use super::rootfs::EtcFiles;

/// The parts of a create decided before the container's record is made.
struct Planned<'a> {
    id: &'a str,
    name: &'a str,
    image: &'a ImageRecord,
    networking: Option<&'a NetworkingConfig>,
}

pub struct CreateRequest {
    pub name: Option<String>,
    pub body: ContainerCreateBody,
}

impl Engine {
    /// Creates a container; returns its id and Docker's warnings.
    pub async fn create_container(
        self: &Arc<Self>,
        request: CreateRequest,
    ) -> Result<(String, Vec<String>)> {
        let engine = self.clone();
        let (id, warnings) = crate::blocking(move || engine.create_blocking(request)).await?;
        Ok((id, warnings))
    }

    fn create_blocking(&self, request: CreateRequest) -> Result<(String, Vec<String>)> {
        let CreateRequest { name, body } = request;
        let ContainerCreateBody {
            config,
            host_config,
            networking_config,
        } = body;
        let mut host = host_config.unwrap_or_default();
        let name = match name.filter(|n| !n.is_empty()) {
            Some(n) => names::validate_name(&n)?,
            None => names::generate_name(|n| self.containers.name_taken(n).is_some())?,
        };
        self.containers.reserve_check(&name)?;
        let image_name = config.image.clone();
        if image_name.is_empty() {
            return Err(EngineError::InvalidArgument(
                "config cannot be empty in order to create a container".into(),
            ));
        }
        let image = self.images.resolve(&image_name)?;
        let mut config = config;
        let image_config = self.images.config(&image.id)?;
        if let Some(defaults) = image_config.config() {
            spec::merge_image_config(&mut config, defaults);
        }
        // After the merge: the image may be what gives the command.
        let warnings = spec::validate(&config, &host)?;
        spec::apply_host_defaults(&mut host);
        let id = names::new_id()?;
        let dir = self.config.containers_dir().join(&id);
        let bundle = self.config.bundles_dir().join(&id);
        let undo = |engine: &Engine| {
            engine.forget_endpoints(&id);
            let _ = engine.remove_container_dirs(&id, &dir, &bundle);
        };
        let planned = Planned {
            id: &id,
            name: &name,
            image: &image,
            networking: networking_config.as_ref(),
        };
        let container = match self.make_container(&planned, config, host, &dir, &bundle) {
            Ok(c) => c,
            Err(e) => {
                undo(self);
                return Err(e);
            }
        };
        let image_ref = container.config.image.clone();
        let handle = match self.containers.insert(container) {
            Ok(h) => h,
            Err(e) => {
                undo(self);
                return Err(e);
            }
        };
        if let Err(e) = self.persist(&handle) {
            self.containers.forget(&id);
            undo(self);
            return Err(e);
        }
        self.events.publish(
            Event::new("container", "create", &id)
                .attribute("image", image_ref)
                .attribute("name", name),
        );
        Ok((id, warnings))
    }

    fn make_container(
        &self,
        planned: &Planned,
        mut config: ContainerConfig,
        host: HostConfig,
        dir: &Path,
        bundle: &Path,
    ) -> Result<Container> {
        let Planned {
            id, name, image, ..
        } = *planned;
        for d in [dir, bundle] {
            std::fs::create_dir_all(d).map_err(|e| EngineError::io("creating", d, e))?;
        }
        self.images.create_snapshot(id, &image.id, dir)?;
        // A ready namespace taken below goes back to the kernel if anything after fails.
        let mut taken: Option<TakenNetns> = None;
        let (endpoints, etc) = match host.network_mode.strip_prefix("container:") {
            // Another's network stack comes with its name and files, as in Docker.
            Some(other) => {
                let other = self.containers.get(other)?.snapshot();
                config.hostname = other.config.hostname.clone();
                config.domainname = other.config.domainname.clone();
                let files = EtcFiles {
                    hostname: other.hostname_path,
                    hosts: other.hosts_path,
                    resolv_conf: other.resolv_conf_path,
                };
                (Vec::new(), files)
            }
            None => {
                if config.hostname.is_empty() {
                    config.hostname = id[..12].to_owned();
                }
                let owner = EndpointOwner { id, name };
                let pooled =
                    self.take_pooled_netns(&owner, &host, planned.networking, &config.mac_address);
                let endpoints = match pooled {
                    Some((endpoints, netns)) => {
                        taken = Some(netns);
                        endpoints
                    }
                    None => {
                        self.plan_endpoints(&owner, &host, planned.networking, &config.mac_address)?
                    }
                };
                let etc = self.write_container_etc(bundle, &config, &host, &endpoints)?;
                (endpoints, etc)
            }
        };
        let mut container = Container {
            id: id.to_owned(),
            name: name.to_owned(),
            created: crate::now_rfc3339(),
            image: image.id.to_string(),
            config,
            host_config: host,
            path: String::new(),
            args: Vec::new(),
            state: State::default(),
            restart_count: 0,
            log_path: dir.join(format!("{id}-json.log")),
            hostname_path: etc.hostname,
            hosts_path: etc.hosts,
            resolv_conf_path: etc.resolv_conf,
            mounts: Vec::new(),
            endpoints,
            netns: taken.as_ref().map(|t| t.owned().clone()),
            dir: dir.to_owned(),
            bundle: bundle.to_owned(),
        };
        container.mounts = self.resolve_mounts(&container)?;
        let spec = match self.mount_and_bundle(&container) {
            Ok(spec) => spec,
            Err(e) => {
                self.remove_anonymous_volumes(&container);
                return Err(e);
            }
        };
        if let Some(args) = spec.process().as_ref().and_then(|p| p.args().clone()) {
            container.path = args.first().cloned().unwrap_or_default();
            container.args = args.into_iter().skip(1).collect();
        }
        if let Some(taken) = taken {
            taken.keep();
        }
        Ok(container)
    }

    fn mount_and_bundle(&self, container: &Container) -> Result<oci_spec::runtime::Spec> {
        self.mount_rootfs(container)?;
        self.copy_up_volumes(container)?;
        self.build_bundle(container, crate::bundle::BundleFor::Create)
    }
}
