//! New images made here: `import` (a root filesystem tar as a one-layer image) and `commit`
//! (a container's writable layer on top of its image).

use std::collections::BTreeMap;
use std::io::{BufReader, Read};
use std::path::Path;

use super::{ImageError, ImageStore, Lease, Result, apply_changes, now};
use crate::content::{BlobWriter, ContentStore};
use crate::digest::Digest;
use crate::layer::{Compression, detect_compression, diff_upper};
use crate::model::{
    Descriptor, History, ImageConfig, ImageConfigBuilder, Manifest, host_platform, media_types,
};
use crate::reference::Reference;

#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// `--change` instructions (`CMD ["sh"]`, `ENV A=1`...).
    pub changes: Vec<String>,
    /// `--message`: the history comment (Docker's default is "Imported from <source>").
    pub message: Option<String>,
    /// Where the tar came from, for the default message ("-" for stdin, or a URL or path).
    pub source: String,
    pub reference: Option<Reference>,
}

#[derive(Debug, Clone, Default)]
pub struct CommitOptions {
    pub changes: Vec<String>,
    pub message: Option<String>,
    pub author: Option<String>,
    /// The history step: what made the layer (Docker puts the container's command here).
    pub created_by: Option<String>,
    /// The container it came from (Docker's `container` field).
    pub container: Option<String>,
    pub reference: Option<Reference>,
}

fn layer_media_type(compression: Compression) -> &'static str {
    match compression {
        Compression::None => media_types::OCI_LAYER,
        Compression::Gzip => media_types::OCI_LAYER_GZIP,
        Compression::Zstd => media_types::OCI_LAYER_ZSTD,
    }
}

/// Copies a stream into the content store under a fresh ingest.
fn store_blob(content: &ContentStore, mut reader: impl Read, what: &str) -> Result<(Digest, u64)> {
    let key = format!("{what}-{}-{}", std::process::id(), now());
    let mut writer: BlobWriter = content.writer(&key)?;
    writer.truncate()?;
    std::io::copy(&mut reader, &mut writer)
        .map_err(|e| ImageError::io("storing", content.root(), e))?;
    Ok(writer.commit(None)?)
}

impl ImageStore {
    /// Makes a one-layer image of a root filesystem tar (plain, gzip or zstd), as
    /// `docker import` does, and tags it if asked. Gives back the image id.
    pub fn import(&self, tar: impl Read, options: &ImportOptions) -> Result<Digest> {
        let lease = self.lease();
        let (blob, size) = store_blob(&self.content, tar, "import")?;
        let compression =
            detect_compression(&mut BufReader::new(self.content.open_blob(&blob)?))
                .map_err(|e| ImageError::io("reading", self.content.blob_path(&blob), e))?;
        let layer = Descriptor::new(layer_media_type(compression), blob, size);
        let diff_id = self.unpack_new_layer(&layer, None)?;
        let platform = host_platform();
        let mut builder = ImageConfigBuilder::new(&platform.os, &platform.architecture)
            .variant(platform.variant.as_deref());
        let created = now();
        builder = builder.created(created.clone());
        apply_changes(builder.config_mut(), &options.changes)?;
        let comment = options.message.clone().unwrap_or_else(|| {
            format!(
                "Imported from {}",
                if options.source.is_empty() {
                    "-"
                } else {
                    &options.source
                }
            )
        });
        let builder = builder.add_layer(
            diff_id,
            History {
                created: Some(created),
                comment: Some(comment),
                ..Default::default()
            },
        );
        self.store_image(&lease, builder, vec![layer], options.reference.as_ref())
    }

    /// Makes an image of a container's writable layer (`upper`, an overlay upper directory)
    /// on top of the image the container was made from.
    pub fn commit(&self, container: &str, upper: &Path, options: &CommitOptions) -> Result<Digest> {
        let lease = self.lease();
        let snapshot = self
            .meta
            .snapshot(container)?
            .ok_or_else(|| ImageError::NotFound(format!("snapshot of container {container}")))?;
        let parent_record = self.get(&snapshot.image)?;
        let parent = self.config(&snapshot.image)?;
        let parent_layers: Vec<Descriptor> = match &parent_record {
            Some(record) => self.manifest(record)?.layers().to_vec(),
            None => return Err(ImageError::NotFound(snapshot.image.to_string())),
        };
        // The diff is written to the content store as it is produced, hashed on the way.
        let key = format!("commit-{container}-{}", now());
        let mut writer = self.content.writer(&key)?;
        writer.truncate()?;
        diff_upper(upper, &mut writer).map_err(|source| ImageError::Layer {
            blob: Digest::of(container.as_bytes()),
            source,
        })?;
        let (blob, size) = writer.commit(None)?;
        let layer = Descriptor::new(media_types::OCI_LAYER, blob, size);
        let diff_id = self.unpack_new_layer(&layer, Some(&snapshot.chain_ids))?;
        let created = now();
        let mut builder = parent.child().created(created.clone());
        if let Some(author) = &options.author {
            builder = builder.author(author.clone());
        }
        if let Some(message) = &options.message {
            builder = builder.comment(message.clone());
        }
        if let Some(container) = &options.container {
            builder = builder.container(container.clone(), None);
        }
        apply_changes(builder.config_mut(), &options.changes)?;
        let builder = builder.add_layer(
            diff_id,
            History {
                created: Some(created),
                author: options.author.clone(),
                created_by: options.created_by.clone(),
                comment: options.message.clone(),
                ..Default::default()
            },
        );
        let mut layers = parent_layers;
        layers.push(layer);
        self.store_image(&lease, builder, layers, options.reference.as_ref())
    }

    /// Unpacks one new layer on top of `parent` (chain ids), recording it; gives its diff_id.
    fn unpack_new_layer(&self, layer: &Descriptor, parent: Option<&[Digest]>) -> Result<Digest> {
        let staging = self.layers.staging()?;
        let applied = crate::layer::apply_layer(
            BufReader::with_capacity(1 << 20, self.content.open_blob(&layer.digest)?),
            &staging.diff(),
            &crate::layer::ApplyOptions {
                allow_devices: true,
                preserve_owner: true,
            },
        )
        .map_err(|source| ImageError::Layer {
            blob: layer.digest.clone(),
            source,
        })?;
        let chain_id = match parent.and_then(|p| p.last()) {
            // ChainID(n) = sha256(ChainID(n-1) + " " + DiffID(n)), as the OCI image spec has it.
            Some(top) => Digest::of(format!("{top} {}", applied.diff_id).as_bytes()),
            None => applied.diff_id.clone(),
        };
        self.layers.commit(staging, &chain_id)?;
        self.meta.put_layer(&crate::meta::LayerRow {
            chain_id,
            diff_id: applied.diff_id.clone(),
            blob: layer.digest.clone(),
            blob_media_type: layer.media_type.clone(),
            blob_size: layer.size,
            unpacked_size: applied.unpacked_size,
        })?;
        Ok(applied.diff_id)
    }

    /// Stores a config and an OCI manifest for it, and records the image.
    fn store_image(
        &self,
        lease: &Lease<'_>,
        builder: ImageConfigBuilder,
        layers: Vec<Descriptor>,
        tag: Option<&Reference>,
    ) -> Result<Digest> {
        let config: ImageConfig = builder.build()?;
        self.content.write_bytes(config.bytes(), None)?;
        let manifest = Manifest::oci(
            config.descriptor(media_types::OCI_CONFIG),
            layers,
            BTreeMap::new(),
        );
        self.content.write_bytes(manifest.bytes(), None)?;
        let tags: Vec<Reference> = tag.cloned().into_iter().collect();
        self.register_leased(lease, manifest.digest(), &tags, &[])
    }
}
