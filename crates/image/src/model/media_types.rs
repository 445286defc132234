//! Media types of image documents and layers, OCI and Docker schema2, and what they say
//! about a blob: manifest or index, config, layer and its compression.
//!
//! Values compared here may come from HTTP `Content-Type` headers, so parameters after `;`
//! and surrounding blanks are ignored.

/// OCI image manifest.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// OCI image index.
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// OCI image config.
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
/// OCI uncompressed layer.
pub const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar";
/// OCI gzip layer.
pub const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
/// OCI zstd layer.
pub const OCI_LAYER_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";
/// OCI non-distributable layer (deprecated by the spec, still found in the wild).
pub const OCI_LAYER_NONDISTRIBUTABLE: &str =
    "application/vnd.oci.image.layer.nondistributable.v1.tar";
pub const OCI_LAYER_NONDISTRIBUTABLE_GZIP: &str =
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
pub const OCI_LAYER_NONDISTRIBUTABLE_ZSTD: &str =
    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd";
/// The OCI empty descriptor's type (`{}`), used as the config of artifacts.
pub const OCI_EMPTY: &str = "application/vnd.oci.empty.v1+json";

/// Docker image manifest, schema 2.
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Docker manifest list (multi-platform), schema 2.
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// Docker image config.
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
/// Docker gzip layer.
pub const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
/// Docker foreign (non-distributable) gzip layer.
pub const DOCKER_FOREIGN_LAYER_GZIP: &str =
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
/// Docker uncompressed layer (rare; containerd treats it as "may be compressed").
pub const DOCKER_LAYER: &str = "application/vnd.docker.image.rootfs.diff.tar";
/// Docker foreign uncompressed layer.
pub const DOCKER_FOREIGN_LAYER: &str = "application/vnd.docker.image.rootfs.foreign.diff.tar";
/// Docker zstd layer, as BuildKit writes it with Docker media types.
pub const DOCKER_LAYER_ZSTD: &str = "application/vnd.docker.image.rootfs.diff.tar.zstd";
/// Docker plugin config.
pub const DOCKER_PLUGIN_CONFIG: &str = "application/vnd.docker.plugin.v1+json";
/// Docker schema 1 manifest (unsigned); pier does not handle schema 1.
pub const DOCKER_SCHEMA1_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v1+json";
/// Docker schema 1 manifest (signed); pier does not handle schema 1.
pub const DOCKER_SCHEMA1_SIGNED_MANIFEST: &str =
    "application/vnd.docker.distribution.manifest.v1+prettyjws";

/// How a layer blob is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Compression {
    /// A plain tar. Docker's uncompressed types are known to carry gzip data at times, so
    /// a reader should still look at the first bytes.
    Plain,
    Gzip,
    Zstd,
}

impl Compression {
    /// The OCI layer media type for this compression.
    pub fn oci_layer_media_type(self) -> &'static str {
        match self {
            Compression::Plain => OCI_LAYER,
            Compression::Gzip => OCI_LAYER_GZIP,
            Compression::Zstd => OCI_LAYER_ZSTD,
        }
    }

    /// The Docker schema2 layer media type for this compression.
    pub fn docker_layer_media_type(self) -> &'static str {
        match self {
            Compression::Plain => DOCKER_LAYER,
            Compression::Gzip => DOCKER_LAYER_GZIP,
            Compression::Zstd => DOCKER_LAYER_ZSTD,
        }
    }
}

/// `media_type` without parameters (`; charset=...`) and surrounding blanks.
pub fn essence(media_type: &str) -> &str {
    media_type.split(';').next().unwrap_or_default().trim()
}

/// An image manifest (OCI or Docker schema2).
pub fn is_manifest(media_type: &str) -> bool {
    matches!(essence(media_type), OCI_MANIFEST | DOCKER_MANIFEST)
}

/// An index of manifests (OCI index or Docker manifest list).
pub fn is_index(media_type: &str) -> bool {
    matches!(essence(media_type), OCI_INDEX | DOCKER_MANIFEST_LIST)
}

/// A Docker schema 1 manifest, which pier refuses.
pub fn is_schema1(media_type: &str) -> bool {
    matches!(
        essence(media_type),
        DOCKER_SCHEMA1_MANIFEST | DOCKER_SCHEMA1_SIGNED_MANIFEST
    )
}

/// A Docker-family media type (as opposed to OCI's).
pub fn is_docker(media_type: &str) -> bool {
    essence(media_type).starts_with("application/vnd.docker.")
}

/// An image config (OCI or Docker).
pub fn is_config(media_type: &str) -> bool {
    matches!(essence(media_type), OCI_CONFIG | DOCKER_CONFIG)
}

/// A layer that pier can apply.
pub fn is_layer(media_type: &str) -> bool {
    layer_compression(media_type).is_some()
}

/// A layer that registries may not hold (Docker foreign, OCI non-distributable): its blob
/// is fetched from the descriptor's `urls`, if at all, and never pushed.
pub fn is_non_distributable(media_type: &str) -> bool {
    matches!(
        essence(media_type),
        DOCKER_FOREIGN_LAYER
            | DOCKER_FOREIGN_LAYER_GZIP
            | OCI_LAYER_NONDISTRIBUTABLE
            | OCI_LAYER_NONDISTRIBUTABLE_GZIP
            | OCI_LAYER_NONDISTRIBUTABLE_ZSTD
    )
}

/// The compression of a layer media type; `None` if it is not a layer type pier can apply
/// (not a layer, or wrapped, e.g. `+encrypted`). Follows containerd's `DiffCompression`.
pub fn layer_compression(media_type: &str) -> Option<Compression> {
    match essence(media_type) {
        DOCKER_LAYER | DOCKER_FOREIGN_LAYER | OCI_LAYER | OCI_LAYER_NONDISTRIBUTABLE => {
            Some(Compression::Plain)
        }
        DOCKER_LAYER_GZIP
        | DOCKER_FOREIGN_LAYER_GZIP
        | OCI_LAYER_GZIP
        | OCI_LAYER_NONDISTRIBUTABLE_GZIP => Some(Compression::Gzip),
        DOCKER_LAYER_ZSTD | OCI_LAYER_ZSTD | OCI_LAYER_NONDISTRIBUTABLE_ZSTD => {
            Some(Compression::Zstd)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_of_media_types() {
        assert!(is_manifest(DOCKER_MANIFEST) && is_manifest(OCI_MANIFEST));
        assert!(is_manifest(
            " application/vnd.oci.image.manifest.v1+json; charset=utf-8"
        ));
        assert!(!is_manifest(OCI_INDEX) && !is_manifest(DOCKER_SCHEMA1_SIGNED_MANIFEST));
        assert!(is_index(DOCKER_MANIFEST_LIST) && is_index(OCI_INDEX));
        assert!(!is_index(OCI_MANIFEST));
        assert!(is_schema1(DOCKER_SCHEMA1_MANIFEST) && is_schema1(DOCKER_SCHEMA1_SIGNED_MANIFEST));
        assert!(is_config(DOCKER_CONFIG) && is_config(OCI_CONFIG) && !is_config(OCI_EMPTY));
        assert!(is_docker(DOCKER_LAYER_GZIP) && !is_docker(OCI_LAYER_GZIP));
        assert!(is_non_distributable(DOCKER_FOREIGN_LAYER_GZIP));
        assert!(!is_non_distributable(DOCKER_LAYER_GZIP));
    }

    #[test]
    fn layer_compression_of_media_types() {
        use Compression::*;
        for (mt, c) in [
            (DOCKER_LAYER_GZIP, Some(Gzip)),
            (DOCKER_FOREIGN_LAYER_GZIP, Some(Gzip)),
            (DOCKER_LAYER, Some(Plain)),
            (DOCKER_LAYER_ZSTD, Some(Zstd)),
            (OCI_LAYER, Some(Plain)),
            (OCI_LAYER_GZIP, Some(Gzip)),
            (OCI_LAYER_ZSTD, Some(Zstd)),
            (OCI_LAYER_NONDISTRIBUTABLE_GZIP, Some(Gzip)),
            (
                "application/vnd.oci.image.layer.v1.tar+gzip+encrypted",
                None,
            ),
            (OCI_CONFIG, None),
            (DOCKER_MANIFEST, None),
            ("", None),
        ] {
            assert_eq!(layer_compression(mt), c, "{mt}");
            assert_eq!(is_layer(mt), c.is_some(), "{mt}");
        }
        for c in [Plain, Gzip, Zstd] {
            assert_eq!(layer_compression(c.oci_layer_media_type()), Some(c));
            assert_eq!(layer_compression(c.docker_layer_media_type()), Some(c));
        }
    }
}
