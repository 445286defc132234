//! Unpacking the layers of images whose blobs are in the content store: every layer not
//! unpacked yet, several at once, each verified against its config's diff_id, before any
//! image is recorded — so that an archive with one bad image records none (layers unpacked
//! for images that are then never recorded are unused, and the next garbage collection
//! removes them). Also a layer blob read back uncompressed, for save and push.

use std::collections::{HashMap, HashSet};
use std::io::{BufReader, Read};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::{ImageError, ImageStore, Lease, Result};
use crate::digest::{Digest, HashingReader};
use crate::layer::{ApplyOptions, Compression, apply_layer, detect_compression};
use crate::meta::LayerRow;
use crate::model::{Descriptor, ImageConfig, Manifest};

/// One layer blob to check and what it must turn out to be.
struct Job {
    blob: Descriptor,
    diff_id: Digest,
    chain_id: Digest,
    /// Unpack it; else (another blob of the same layer is, or was, unpacked) only hash it.
    unpack: bool,
}

impl ImageStore {
    /// Unpacks, verifying each against its config's diff_id, every layer of `images` that is
    /// not unpacked yet, several at once; records no image. A blob of a layer that is (or is
    /// being) unpacked from another blob is checked too, by hashing it uncompressed, so that
    /// no manifest recorded later names a blob that is not its layer. Fails on the first bad
    /// blob (named in the error). The caller holds `_lease` until it has recorded the images
    /// (with [`ImageStore::register_leased`], which then finds the layers done).
    pub(crate) fn unpack_layers_of(
        &self,
        _lease: &Lease<'_>,
        images: &[(&Manifest, &ImageConfig)],
    ) -> Result<()> {
        let mut seen = HashSet::new();
        let mut unpacked_from: HashMap<Digest, Digest> = HashMap::new();
        let mut jobs = Vec::new();
        for (manifest, config) in images {
            let diff_ids = config.diff_ids();
            if diff_ids.len() != manifest.layers().len() {
                return Err(ImageError::InvalidArgument(format!(
                    "image config {} lists {} layers but its manifest {} has {}",
                    config.id(),
                    diff_ids.len(),
                    manifest.digest(),
                    manifest.layers().len()
                )));
            }
            for ((blob, diff_id), chain_id) in manifest
                .layers()
                .iter()
                .zip(diff_ids)
                .zip(config.chain_ids())
            {
                if !seen.insert((chain_id.clone(), blob.digest.clone())) {
                    continue;
                }
                let recorded = if self.layers.exists(&chain_id) {
                    self.meta.layer(&chain_id)?.map(|l| l.blob)
                } else {
                    None
                };
                let unpack = match recorded.as_ref().or(unpacked_from.get(&chain_id)) {
                    Some(from) if *from == blob.digest => continue,
                    Some(_) => false,
                    None => {
                        unpacked_from.insert(chain_id.clone(), blob.digest.clone());
                        true
                    }
                };
                jobs.push(Job {
                    blob: blob.clone(),
                    diff_id: diff_id.clone(),
                    chain_id,
                    unpack,
                });
            }
        }
        if jobs.is_empty() {
            return Ok(());
        }
        let workers = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .min(jobs.len());
        let next = AtomicUsize::new(0);
        let first_error: Mutex<Option<ImageError>> = Mutex::new(None);
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|| {
                    while let Some(job) = jobs.get(next.fetch_add(1, Ordering::SeqCst)) {
                        if first_error.lock().map(|e| e.is_some()).unwrap_or(true) {
                            break;
                        }
                        let done = if job.unpack {
                            self.unpack_one(job)
                        } else {
                            self.hash_one(job)
                        };
                        if let Err(e) = done
                            && let Ok(mut slot) = first_error.lock()
                        {
                            slot.get_or_insert(e);
                        }
                    }
                });
            }
        });
        match first_error.into_inner().unwrap_or_else(|p| p.into_inner()) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// A layer blob, uncompressed (gzip and zstd told from its first bytes), and how it was
    /// compressed.
    pub(crate) fn uncompressed_blob(
        &self,
        digest: &Digest,
    ) -> Result<(Compression, Box<dyn Read + Send>)> {
        let path = self.content.blob_path(digest);
        let mut file = BufReader::with_capacity(1 << 20, self.content.open_blob(digest)?);
        let compression =
            detect_compression(&mut file).map_err(|e| ImageError::io("reading", &path, e))?;
        let reader: Box<dyn Read + Send> = match compression {
            Compression::None => Box::new(file),
            Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(file)),
            Compression::Zstd => Box::new(
                zstd::stream::read::Decoder::with_buffer(file)
                    .map_err(|e| ImageError::io("reading", &path, e))?,
            ),
        };
        Ok((compression, reader))
    }

    /// Checks that a blob is the layer `job.diff_id` without unpacking it.
    fn hash_one(&self, job: &Job) -> Result<()> {
        let (compression, reader) = self.uncompressed_blob(&job.blob.digest)?;
        let mut hashing = HashingReader::new(reader);
        std::io::copy(&mut hashing, &mut std::io::sink()).map_err(|e| {
            let source = crate::layer::LayerError::Stream {
                compression,
                source: e,
            };
            ImageError::Layer {
                blob: job.blob.digest.clone(),
                source,
            }
        })?;
        let (actual, _) = hashing.finish();
        if actual != job.diff_id {
            return Err(ImageError::DiffIdMismatch {
                blob: job.blob.digest.clone(),
                expected: job.diff_id.clone(),
                actual,
            });
        }
        Ok(())
    }

    fn unpack_one(&self, job: &Job) -> Result<()> {
        let staging = self.layers.staging()?;
        let blob = self.content.open_blob(&job.blob.digest)?;
        let options = ApplyOptions {
            allow_devices: true,
            preserve_owner: true,
        };
        let applied = apply_layer(
            std::io::BufReader::with_capacity(1 << 20, blob),
            &staging.diff(),
            &options,
        )
        .map_err(|source| ImageError::Layer {
            blob: job.blob.digest.clone(),
            source,
        })?;
        if applied.diff_id != job.diff_id {
            return Err(ImageError::DiffIdMismatch {
                blob: job.blob.digest.clone(),
                expected: job.diff_id.clone(),
                actual: applied.diff_id,
            });
        }
        self.layers.commit(staging, &job.chain_id)?;
        self.meta.put_layer(&LayerRow {
            chain_id: job.chain_id.clone(),
            diff_id: job.diff_id.clone(),
            blob: job.blob.digest.clone(),
            blob_media_type: job.blob.media_type.clone(),
            blob_size: job.blob.size,
            unpacked_size: applied.unpacked_size,
        })?;
        Ok(())
    }
}
