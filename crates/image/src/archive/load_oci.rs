//! The images of an OCI image layout: `index.json` lists manifests (taken as they are) and
//! indexes (of which the host's platform is taken, as `docker load` and `docker pull` do;
//! the other platforms' blobs need not be there). An entry is named by containerd's
//! `io.containerd.image.name` (a full reference), else by `org.opencontainers.image.ref.name`
//! when that is a reference (`busybox:1.36`, `example.com/app:v1`); a bare tag (`1.0`, as
//! umoci and skopeo write) names no repository, and its image is loaded untagged. Entries
//! that are not images (artifacts, unknown media types) are passed over.

use serde::Deserialize;

use super::ingest::{Ingested, layout_path};
use super::load::{Candidate, parse_tag};
use super::{CONTAINERD_NAME, DOCUMENT_LIMIT, REF_NAME, invalid};
use crate::content::ContentError;
use crate::model::{
    Descriptor, ImageConfig, Index, Manifest, host_platform, media_types, select_platform,
};
use crate::reference::Reference;
use crate::store::{ImageError, ImageStore};

const INDEX: &str = "index.json";
const LAYOUT: &str = "oci-layout";
/// How deep indexes may nest.
const MAX_DEPTH: usize = 4;

#[derive(Deserialize)]
struct LayoutFile {
    #[serde(rename = "imageLayoutVersion")]
    version: String,
}

/// The images of `index.json`, in its order; entries naming the same manifest are one.
pub(super) fn candidates(
    store: &ImageStore,
    found: &Ingested,
) -> Result<Vec<Candidate>, ImageError> {
    let layout = found
        .doc(LAYOUT)
        .ok_or_else(|| invalid(LAYOUT, "missing: an OCI image layout must have it"))?;
    let layout: LayoutFile = serde_json::from_slice(layout).map_err(|e| invalid(LAYOUT, e))?;
    if layout.version != "1.0.0" {
        return Err(invalid(
            LAYOUT,
            format!("image layout version {:?} is not supported", layout.version),
        ));
    }
    let index =
        Index::parse(found.doc(INDEX).unwrap_or_default()).map_err(|e| invalid(INDEX, e))?;
    let mut out: Vec<Candidate> = Vec::new();
    for (i, entry) in index.manifests().iter().enumerate() {
        let origin = format!("{INDEX} manifests[{i}]");
        let Some(manifest) = resolve(store, found, entry, &origin, 0)? else {
            continue;
        };
        let tags = names(entry, &origin)?;
        if let Some(same) = out
            .iter_mut()
            .find(|c| c.manifest.digest() == manifest.digest())
        {
            for tag in tags {
                if !same.tags.contains(&tag) {
                    same.tags.push(tag);
                }
            }
            continue;
        }
        if let Some(candidate) = image(store, found, manifest, tags, origin)? {
            out.push(candidate);
        }
    }
    Ok(out)
}

/// Every image manifest of the layout that is there to read (for a Docker 25 archive, whose
/// `manifest.json` is read instead); anything unreadable is left out.
pub(super) fn all_manifests(store: &ImageStore, found: &Ingested) -> Vec<Manifest> {
    let mut out = Vec::new();
    let Some(Ok(index)) = found.doc(INDEX).map(Index::parse) else {
        return out;
    };
    let mut todo: Vec<(Descriptor, usize)> =
        index.manifests().iter().map(|d| (d.clone(), 0)).collect();
    while let Some((descriptor, depth)) = todo.pop() {
        let Ok(bytes) = read(store, found, &descriptor, "") else {
            continue;
        };
        if media_types::is_index(&descriptor.media_type) && depth < MAX_DEPTH {
            if let Ok(index) = Index::parse(bytes) {
                todo.extend(index.manifests().iter().map(|d| (d.clone(), depth + 1)));
            }
        } else if let Ok(manifest) = Manifest::parse(bytes) {
            out.push(manifest);
        }
    }
    out
}

/// A small blob of the layout, which must be there and match its descriptor's size.
fn read(
    store: &ImageStore,
    found: &Ingested,
    descriptor: &Descriptor,
    origin: &str,
) -> Result<Vec<u8>, ImageError> {
    let path = layout_path(&descriptor.digest);
    let stored = found
        .layout_blob(&descriptor.digest)
        .ok_or_else(|| invalid(origin, format!("{path} is not in the archive")))?;
    if stored.size != descriptor.size {
        return Err(invalid(
            &path,
            format!(
                "{} bytes, but {origin} says {}",
                stored.size, descriptor.size
            ),
        ));
    }
    store
        .content()
        .read_blob(&descriptor.digest, DOCUMENT_LIMIT)
        .map_err(|e| match e {
            ContentError::TooLarge { .. } => invalid(&path, e),
            e => e.into(),
        })
}

/// The image manifest an index entry leads to on this host; `None` for what is no image.
fn resolve(
    store: &ImageStore,
    found: &Ingested,
    descriptor: &Descriptor,
    origin: &str,
    depth: usize,
) -> Result<Option<Manifest>, ImageError> {
    let media_type = descriptor.media_type.as_str();
    if media_types::is_manifest(media_type) {
        let bytes = read(store, found, descriptor, origin)?;
        let path = layout_path(&descriptor.digest);
        return Manifest::parse(bytes)
            .map(Some)
            .map_err(|e| invalid(&path, e));
    }
    if !media_types::is_index(media_type) {
        return Ok(None);
    }
    if depth >= MAX_DEPTH {
        return Err(invalid(origin, "indexes nested too deep"));
    }
    let path = layout_path(&descriptor.digest);
    let index =
        Index::parse(read(store, found, descriptor, origin)?).map_err(|e| invalid(&path, e))?;
    let host = host_platform();
    let chosen = select_platform(
        &index,
        &host.os,
        &host.architecture,
        host.variant.as_deref(),
    )
    .ok_or_else(|| invalid(&path, format!("the index has no image for {host}")))?;
    resolve(store, found, chosen, &path, depth + 1)
}

/// The tags an index entry gives.
fn names(entry: &Descriptor, origin: &str) -> Result<Vec<Reference>, ImageError> {
    let what = format!("{origin} annotation");
    if let Some(name) = entry.annotations.get(CONTAINERD_NAME) {
        return Ok(vec![parse_tag(
            INDEX,
            &format!("{what} {CONTAINERD_NAME}"),
            name,
        )?]);
    }
    match entry.annotations.get(REF_NAME) {
        Some(name) if name.contains(':') || name.contains('/') => {
            Ok(vec![parse_tag(INDEX, &format!("{what} {REF_NAME}"), name)?])
        }
        _ => Ok(Vec::new()),
    }
}

/// A candidate of a manifest whose config and layers must all be in the layout; `None` if
/// the manifest is no image (an artifact).
fn image(
    store: &ImageStore,
    found: &Ingested,
    manifest: Manifest,
    tags: Vec<Reference>,
    origin: String,
) -> Result<Option<Candidate>, ImageError> {
    let path = layout_path(manifest.digest());
    if !media_types::is_config(&manifest.config().media_type) {
        return Ok(None);
    }
    let what = format!("the config of {path}");
    let config = ImageConfig::parse(read(store, found, manifest.config(), &what)?)
        .map_err(|e| invalid(&layout_path(&manifest.config().digest), e))?;
    let mut layer_entries = Vec::with_capacity(manifest.layers().len());
    for (j, layer) in manifest.layers().iter().enumerate() {
        let entry = layout_path(&layer.digest);
        if !media_types::is_layer(&layer.media_type) {
            return Err(invalid(
                &path,
                format!(
                    "layers[{j}]: media type {:?} is not a layer pier can unpack",
                    layer.media_type
                ),
            ));
        }
        let stored = found
            .layout_blob(&layer.digest)
            .ok_or_else(|| invalid(&path, format!("layers[{j}]: {entry} is not in the archive")))?;
        if stored.size != layer.size {
            return Err(invalid(
                &entry,
                format!("{} bytes, but {path} says {}", stored.size, layer.size),
            ));
        }
        layer_entries.push(entry);
    }
    if config.diff_ids().len() != manifest.layers().len() {
        return Err(invalid(
            &layout_path(config.id()),
            format!(
                "the config lists {} layers (rootfs.diff_ids) but its manifest {path} has {}",
                config.diff_ids().len(),
                manifest.layers().len()
            ),
        ));
    }
    Ok(Some(Candidate {
        manifest,
        config,
        tags,
        origin,
        layer_entries,
    }))
}
