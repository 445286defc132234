//! `POST /containers/create`: name, image, the image's defaults merged in, the container's
//! directory, writable layer and mounted rootfs, its files and bundle, all made before the
//! container is recorded; whatever fails on the way is undone and nothing is left.

use std::path::Path;
use std::sync::Arc;

use api::types::{ContainerConfig, ContainerCreateBody, HostConfig};
use image::ImageRecord;

use crate::Engine;
use crate::error::{EngineError, Result};
use crate::events::Event;
use crate::spec;

use super::model::{Container, State};
use super::names;
use super::rootfs::write_etc_files;

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
            ..
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
        let undo = |engine: &Engine| {
            engine.forget_endpoints(&id);
            let _ = engine.remove_container_dir(&id, &dir);
        };
        let container = match self.make_container(&id, &name, &image, config, host, &dir) {
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
        id: &str,
        name: &str,
        image: &ImageRecord,
        mut config: ContainerConfig,
        host: HostConfig,
        dir: &Path,
    ) -> Result<Container> {
        std::fs::create_dir_all(dir).map_err(|e| EngineError::io("creating", dir, e))?;
        self.images.create_snapshot(id, &image.id, dir)?;
        if config.hostname.is_empty() {
            config.hostname = id[..12].to_owned();
        }
        let hostname = config.hostname.clone();
        let domainname = config.domainname.clone();
        let endpoints = self.plan_endpoints(id, name, &host)?;
        let own_ip = endpoints.first().map(|e| e.ip);
        let etc = write_etc_files(dir, &hostname, &domainname, own_ip)?;
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
            dir: dir.to_owned(),
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
        Ok(container)
    }

    fn mount_and_bundle(&self, container: &Container) -> Result<oci_spec::runtime::Spec> {
        self.mount_rootfs(container)?;
        self.copy_up_volumes(container)?;
        self.build_bundle(container)
    }
}
