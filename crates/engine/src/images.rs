//! The engine's image service: the image store's operations run off the async threads, in
//! the API's shapes, with the events Docker sends for them (`tag`, `untag`, `delete`,
//! `import`, `load`, `prune`).
//!
//! | module | what it does |
//! |---|---|
//! | `list` | `GET /images/json` with its filters (`dangling`, `reference` globs, `label`, `before`, `since`, `until`) |
//! | `transfer` | archives in and out (`load`, `save`), `import` of a root filesystem, and the local side of `pull` |
//! | `prune` | unused images removed (`dangling` by default) |
//! | `glob` | Go's `path.Match`, for `reference` patterns |
//! | `timestamp` | Docker's time arguments (durations, Unix seconds, RFC 3339) |

mod glob;
mod list;
mod prune;
pub(crate) mod timestamp;
mod transfer;

use std::sync::Arc;

use api::types::ImageDeleteResponseItem;
use api::version::ApiVersion;
use image::Digest;
use image::model::{HistoryResponseItem, ImageInspect};
use image::reference::Reference;
use image::store::Removed;

use crate::Engine;
use crate::error::{EngineError, Result};
use crate::events::Event;

pub use list::ImageListOptions;
pub use transfer::ImportRequest;

/// Docker's `repo` and `tag` query parameters as one tagged reference: `repo` may carry the
/// tag itself; a missing tag is `latest`; digests are refused.
pub fn repo_tag_reference(repo: &str, tag: &str) -> Result<Reference> {
    let reference =
        Reference::parse(repo).map_err(|e| EngineError::InvalidArgument(e.to_string()))?;
    if reference.digest().is_some() {
        return Err(EngineError::InvalidArgument(
            "cannot tag using a digest reference".into(),
        ));
    }
    if tag.is_empty() {
        return Ok(reference.with_default_tag());
    }
    reference
        .with_tag(tag)
        .map_err(|e| EngineError::InvalidArgument(e.to_string()))
}

impl Engine {
    /// An image event: the actor is the image's id, `name` what the user named, and the image's
    /// labels ride along as Docker's do.
    pub(crate) fn publish_image(&self, action: &str, id: &Digest, name: &str) {
        let mut event = Event::new("image", action, id.to_string()).attribute("name", name);
        if let Ok(config) = self.images.config(id)
            && let Some(labels) = config.config().and_then(|c| c.labels.as_ref())
        {
            for (key, value) in labels {
                event = event.attribute(key, value.clone());
            }
        }
        self.events.publish(event);
    }

    pub async fn inspect_image(
        self: &Arc<Self>,
        name: &str,
        version: ApiVersion,
    ) -> Result<ImageInspect> {
        let engine = self.clone();
        let name = name.to_owned();
        crate::blocking(move || {
            let version = (u32::from(version.major), u32::from(version.minor));
            Ok(engine.images.inspect(&name, version)?)
        })
        .await
    }

    pub async fn image_history(self: &Arc<Self>, name: &str) -> Result<Vec<HistoryResponseItem>> {
        let engine = self.clone();
        let name = name.to_owned();
        crate::blocking(move || Ok(engine.images.history(&name)?)).await
    }

    /// `docker tag`: `name` (an image) gets `repo[:tag]`.
    pub async fn tag_image(self: &Arc<Self>, name: &str, repo: &str, tag: &str) -> Result<()> {
        if repo.is_empty() {
            return Err(EngineError::InvalidArgument(
                "repository name must be specified".into(),
            ));
        }
        let reference = repo_tag_reference(repo, tag)?;
        if reference.familiar_name() == "sha256" {
            return Err(EngineError::InvalidArgument(
                "refusing to create an ambiguous tag using digest algorithm as name".into(),
            ));
        }
        let engine = self.clone();
        let name = name.to_owned();
        crate::blocking(move || {
            let record = engine.images.resolve(&name)?;
            engine.images.tag(&record.id, &reference)?;
            engine.publish_image("tag", &record.id, &reference.familiar());
            Ok(())
        })
        .await
    }

    /// `docker rmi`: untags, and deletes the image when nothing names or uses it (see
    /// `ImageStore::remove`). pier's images have no parents, so `noprune` changes nothing.
    pub async fn remove_image(
        self: &Arc<Self>,
        name: &str,
        force: bool,
        _noprune: bool,
    ) -> Result<Vec<ImageDeleteResponseItem>> {
        let engine = self.clone();
        let name = name.to_owned();
        crate::blocking(move || engine.remove_image_blocking(&name, force)).await
    }

    pub(crate) fn remove_image_blocking(
        &self,
        name: &str,
        force: bool,
    ) -> Result<Vec<ImageDeleteResponseItem>> {
        let image = self.images.resolve(name)?.id;
        // The labels are read before the image (and its config) may go.
        let labels = self
            .images
            .config(&image)
            .ok()
            .and_then(|c| c.config().and_then(|c| c.labels.clone()))
            .unwrap_or_default();
        let running = |id: &str| {
            self.containers
                .get(id)
                .map(|h| h.record().state.status.is_alive())
                .unwrap_or(false)
        };
        let removed = self.images.remove(name, force, &running)?;
        let mut items = Vec::with_capacity(removed.len());
        for item in removed {
            let (action, response) = match item {
                Removed::Untagged(reference) => (
                    "untag",
                    ImageDeleteResponseItem {
                        untagged: Some(reference),
                        deleted: None,
                    },
                ),
                Removed::Deleted(digest) => {
                    let is_image = digest == image;
                    let response = ImageDeleteResponseItem {
                        untagged: None,
                        deleted: Some(digest.to_string()),
                    };
                    if !is_image {
                        items.push(response);
                        continue;
                    }
                    ("delete", response)
                }
            };
            let mut event =
                Event::new("image", action, image.to_string()).attribute("name", image.to_string());
            for (key, value) in &labels {
                event = event.attribute(key, value.clone());
            }
            self.events.publish(event);
            items.push(response);
        }
        Ok(items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_and_tag_make_one_reference() {
        assert_eq!(
            repo_tag_reference("busybox", "").unwrap().familiar(),
            "busybox:latest"
        );
        assert_eq!(
            repo_tag_reference("busybox", "1.36").unwrap().familiar(),
            "busybox:1.36"
        );
        assert_eq!(
            repo_tag_reference("me/app:v2", "").unwrap().familiar(),
            "me/app:v2"
        );
        assert_eq!(
            repo_tag_reference("localhost:5000/app", "x")
                .unwrap()
                .to_string(),
            "localhost:5000/app:x"
        );
        assert_eq!(
            repo_tag_reference("Busybox", "").unwrap_err().to_string(),
            "invalid reference format: repository name (library/Busybox) must be lowercase"
        );
        assert_eq!(
            repo_tag_reference("busybox", "bad tag")
                .unwrap_err()
                .to_string(),
            "invalid tag format"
        );
        let digest = format!("busybox@sha256:{}", "a".repeat(64));
        assert_eq!(
            repo_tag_reference(&digest, "").unwrap_err().to_string(),
            "cannot tag using a digest reference"
        );
    }
}
