//! Images in and out as streams: `load` (a docker-archive or OCI layout), `save` (a
//! docker-archive), `import` (a root filesystem tar made a one-layer image), and what `pull`
//! can do without a registry client: tell that a local image is up to date.
//!
//! Readers and writers here are blocking; the API edge bridges them to request and response
//! bodies so that no archive is ever held in memory whole.

use std::io::{Read, Write};
use std::sync::Arc;

use image::Digest;
use image::archive::Loaded;
use image::reference::Reference;
use image::store::ImportOptions;

use crate::Engine;
use crate::error::{EngineError, Result};

/// `POST /images/create?fromSrc=-`: what the imported image is called and made of.
#[derive(Debug, Clone, Default)]
pub struct ImportRequest {
    pub reference: Option<Reference>,
    /// Dockerfile instructions applied to the config (`CMD ["sh"]`, `ENV A=1`...).
    pub changes: Vec<String>,
    pub message: Option<String>,
    /// Where the tar came from, for the history comment (`-` for the request body).
    pub source: String,
}

/// The reference a pull means: `fromImage` (a trailing `:` ignored, as `pull -a` sends it)
/// with `tag` (which may be a digest); `latest` when neither names a tag.
pub fn pull_reference(from_image: &str, tag: &str) -> Result<Reference> {
    let invalid = |e: image::reference::ReferenceError| EngineError::InvalidArgument(e.to_string());
    let name = from_image.strip_suffix(':').unwrap_or(from_image);
    let reference = Reference::parse(name).map_err(invalid)?;
    let reference = if tag.is_empty() {
        reference
    } else if tag.starts_with("sha256:") {
        Reference::parse(&format!("{}@{tag}", reference.name())).map_err(invalid)?
    } else {
        reference.with_tag(tag).map_err(invalid)?
    };
    Ok(reference.with_default_tag())
}

impl Engine {
    pub async fn import_image(
        self: &Arc<Self>,
        tar: impl Read + Send + 'static,
        request: ImportRequest,
    ) -> Result<Digest> {
        let engine = self.clone();
        crate::blocking(move || {
            let options = ImportOptions {
                changes: request.changes,
                message: request.message,
                source: request.source,
                reference: request.reference.clone(),
            };
            let id = engine.images.import(tar, &options)?;
            engine.publish_image("import", &id, &id.to_string());
            if let Some(reference) = &request.reference {
                engine.publish_image("tag", &id, &reference.familiar());
            }
            Ok(id)
        })
        .await
    }

    /// Loads every image of an archive, or none (see `image::archive::load`).
    pub async fn load_images(
        self: &Arc<Self>,
        archive: impl Read + Send + 'static,
    ) -> Result<Vec<Loaded>> {
        let engine = self.clone();
        crate::blocking(move || {
            let loaded = image::archive::load(&engine.images, archive)?;
            for image in &loaded {
                engine.publish_image("load", &image.id, &image.id.to_string());
            }
            Ok(loaded)
        })
        .await
    }

    /// Writes the images `names` mean as a docker-archive. Blocking.
    pub fn save_images(&self, names: &[String], out: impl Write) -> Result<()> {
        if names.is_empty() {
            return Err(EngineError::InvalidArgument("no image to save".into()));
        }
        image::archive::save_docker(&self.images, names, out)?;
        Ok(())
    }

    /// A pull. pier has no registry client yet: every pull is refused, saying so, rather than
    /// answering for a registry it never asked. A malformed reference is refused first, as
    /// Docker refuses it.
    pub fn pull(&self, from_image: &str, tag: &str) -> Result<()> {
        let reference = pull_reference(from_image, tag)?;
        Err(EngineError::Unavailable(format!(
            "pulling {}: pier cannot pull from registries yet; load, import or build the image instead",
            reference.familiar()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pull_references_take_tags_and_digests() {
        assert_eq!(
            pull_reference("busybox", "").unwrap().familiar(),
            "busybox:latest"
        );
        assert_eq!(
            pull_reference("busybox:", "").unwrap().familiar(),
            "busybox:latest"
        );
        assert_eq!(
            pull_reference("busybox", "1.36").unwrap().familiar(),
            "busybox:1.36"
        );
        assert_eq!(
            pull_reference("busybox:1.35", "").unwrap().familiar(),
            "busybox:1.35"
        );
        let digest = format!("sha256:{}", "b".repeat(64));
        assert_eq!(
            pull_reference("busybox", &digest).unwrap().familiar(),
            format!("busybox@{digest}")
        );
        assert!(pull_reference("Bad", "").is_err());
    }
}
