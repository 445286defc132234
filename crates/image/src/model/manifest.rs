//! Image manifests and indexes (OCI and Docker schema2), parsed from and kept as their exact
//! bytes, or built from parts and serialized once, compactly, in the OCI field order.
//!
//! The two families share one JSON shape and differ in media types; a document's kind comes
//! from its own `mediaType`, else from the type its descriptor or `Content-Type` gave,
//! else from its shape (`manifests` makes an index). Schema 1 is refused.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::descriptor::Descriptor;
use super::media_types::{self, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST};
use super::serde_helpers::null_default;
use super::{ModelError, from_json};
use crate::digest::Digest;

const MANIFEST_DOC: &str = "image manifest";
const INDEX_DOC: &str = "image index";

/// An image manifest: a config and the layers, bottom first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    raw: Vec<u8>,
    digest: Digest,
    media_type: String,
    doc: Box<ManifestDoc>,
}

/// An index of manifests (OCI image index or Docker manifest list).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index {
    raw: Vec<u8>,
    digest: Digest,
    media_type: String,
    doc: Box<IndexDoc>,
}

/// What a registry or a blob turned out to hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManifestOrIndex {
    Manifest(Manifest),
    Index(Index),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct ManifestDoc {
    #[serde(rename = "schemaVersion")]
    schema_version: i64,
    #[serde(rename = "mediaType", default, skip_serializing_if = "Option::is_none")]
    media_type: Option<String>,
    #[serde(
        rename = "artifactType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    artifact_type: Option<String>,
    config: Descriptor,
    #[serde(deserialize_with = "null_default")]
    layers: Vec<Descriptor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    subject: Option<Descriptor>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    annotations: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct IndexDoc {
    #[serde(rename = "schemaVersion")]
    schema_version: i64,
    #[serde(rename = "mediaType", default, skip_serializing_if = "Option::is_none")]
    media_type: Option<String>,
    #[serde(
        rename = "artifactType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    artifact_type: Option<String>,
    #[serde(deserialize_with = "null_default")]
    manifests: Vec<Descriptor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    subject: Option<Descriptor>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    annotations: BTreeMap<String, String>,
}

/// Just enough of a document to tell what it is.
#[derive(Deserialize)]
struct Probe {
    #[serde(rename = "schemaVersion", default)]
    schema_version: Option<serde_json::Value>,
    #[serde(rename = "mediaType", default)]
    media_type: Option<String>,
    #[serde(default)]
    manifests: Option<serde::de::IgnoredAny>,
    #[serde(rename = "fsLayers", default)]
    fs_layers: Option<serde::de::IgnoredAny>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Manifest,
    Index,
}

/// The kind and effective media type of `bytes`; `hint` is the media type that the
/// descriptor or the HTTP response gave, if any.
fn classify(
    document: &'static str,
    bytes: &[u8],
    hint: Option<&str>,
) -> Result<(Kind, String), ModelError> {
    let probe: Probe = from_json(document, bytes)?;
    let declared = probe
        .media_type
        .as_deref()
        .map(media_types::essence)
        .filter(|m| !m.is_empty());
    let schema1 = probe.fs_layers.is_some()
        || probe.schema_version.as_ref().and_then(|v| v.as_i64()) == Some(1)
        || declared.is_some_and(media_types::is_schema1)
        || (declared.is_none() && hint.is_some_and(media_types::is_schema1));
    if schema1 {
        return Err(ModelError::unsupported(
            document,
            "Docker image manifest schema 1 is not supported; push the image again with a current client",
        ));
    }
    let kind_of = |mt: &str| {
        if media_types::is_manifest(mt) {
            Some(Kind::Manifest)
        } else if media_types::is_index(mt) {
            Some(Kind::Index)
        } else {
            None
        }
    };
    if let Some(mt) = declared {
        return match kind_of(mt) {
            Some(kind) => Ok((kind, mt.to_owned())),
            None => Err(ModelError::unsupported(
                document,
                format!("mediaType {mt:?} is neither an image manifest nor an index"),
            )),
        };
    }
    if let Some((kind, mt)) = hint
        .map(media_types::essence)
        .and_then(|mt| kind_of(mt).map(|kind| (kind, mt)))
    {
        return Ok((kind, mt.to_owned()));
    }
    // An OCI document may leave out its media type.
    Ok(if probe.manifests.is_some() {
        (Kind::Index, OCI_INDEX.to_owned())
    } else {
        (Kind::Manifest, OCI_MANIFEST.to_owned())
    })
}

fn check_schema_version(document: &'static str, version: i64) -> Result<(), ModelError> {
    if version == 2 {
        Ok(())
    } else {
        Err(ModelError::invalid(
            document,
            "schemaVersion",
            format!("expected 2, found {version}"),
        ))
    }
}

fn check_descriptor(
    document: &'static str,
    field: &str,
    descriptor: &Descriptor,
) -> Result<(), ModelError> {
    if descriptor.media_type.trim().is_empty() {
        return Err(ModelError::invalid(
            document,
            format!("{field}.mediaType"),
            "empty media type",
        ));
    }
    Ok(())
}

fn kind_mismatch(document: &'static str, found: Kind, media_type: &str) -> ModelError {
    let what = match found {
        Kind::Manifest => "an image manifest",
        Kind::Index => "an image index",
    };
    ModelError::invalid(
        document,
        "mediaType",
        format!("{media_type:?} is {what}, not {document}"),
    )
}

impl ManifestOrIndex {
    /// Parses a manifest or an index; `media_type_hint` is the type its descriptor or the
    /// registry's `Content-Type` gave (a document's own `mediaType` wins over it).
    pub fn parse(
        bytes: impl Into<Vec<u8>>,
        media_type_hint: Option<&str>,
    ) -> Result<ManifestOrIndex, ModelError> {
        let bytes = bytes.into();
        match classify(MANIFEST_DOC, &bytes, media_type_hint)? {
            (Kind::Manifest, mt) => Manifest::parse_as(bytes, mt).map(ManifestOrIndex::Manifest),
            (Kind::Index, mt) => Index::parse_as(bytes, mt).map(ManifestOrIndex::Index),
        }
    }

    pub fn bytes(&self) -> &[u8] {
        match self {
            ManifestOrIndex::Manifest(m) => m.bytes(),
            ManifestOrIndex::Index(i) => i.bytes(),
        }
    }

    pub fn digest(&self) -> &Digest {
        match self {
            ManifestOrIndex::Manifest(m) => m.digest(),
            ManifestOrIndex::Index(i) => i.digest(),
        }
    }

    pub fn media_type(&self) -> &str {
        match self {
            ManifestOrIndex::Manifest(m) => m.media_type(),
            ManifestOrIndex::Index(i) => i.media_type(),
        }
    }
}

impl Manifest {
    /// Parses an image manifest (OCI or Docker schema2), keeping its bytes.
    pub fn parse(bytes: impl Into<Vec<u8>>) -> Result<Manifest, ModelError> {
        let bytes = bytes.into();
        match classify(MANIFEST_DOC, &bytes, None)? {
            (Kind::Manifest, mt) => Manifest::parse_as(bytes, mt),
            (Kind::Index, mt) => Err(kind_mismatch(MANIFEST_DOC, Kind::Index, &mt)),
        }
    }

    fn parse_as(raw: Vec<u8>, media_type: String) -> Result<Manifest, ModelError> {
        let doc: Box<ManifestDoc> = from_json(MANIFEST_DOC, &raw)?;
        check_schema_version(MANIFEST_DOC, doc.schema_version)?;
        check_descriptor(MANIFEST_DOC, "config", &doc.config)?;
        for (i, layer) in doc.layers.iter().enumerate() {
            check_descriptor(MANIFEST_DOC, &format!("layers[{i}]"), layer)?;
        }
        if let Some(subject) = &doc.subject {
            check_descriptor(MANIFEST_DOC, "subject", subject)?;
        }
        Ok(Manifest {
            digest: Digest::of(&raw),
            raw,
            media_type,
            doc,
        })
    }

    /// A new OCI image manifest.
    pub fn oci(
        config: Descriptor,
        layers: Vec<Descriptor>,
        annotations: BTreeMap<String, String>,
    ) -> Manifest {
        Manifest::build(OCI_MANIFEST, config, layers, annotations)
    }

    /// A new Docker schema2 manifest (for registries and tools that want Docker's types; the
    /// descriptors' media types are the caller's to choose accordingly).
    pub fn docker_schema2(config: Descriptor, layers: Vec<Descriptor>) -> Manifest {
        Manifest::build(DOCKER_MANIFEST, config, layers, BTreeMap::new())
    }

    fn build(
        media_type: &str,
        config: Descriptor,
        layers: Vec<Descriptor>,
        annotations: BTreeMap<String, String>,
    ) -> Manifest {
        let doc = Box::new(ManifestDoc {
            schema_version: 2,
            media_type: Some(media_type.to_owned()),
            artifact_type: None,
            config,
            layers,
            subject: None,
            annotations,
        });
        let raw = to_json(&doc);
        Manifest {
            digest: Digest::of(&raw),
            raw,
            media_type: media_type.to_owned(),
            doc,
        }
    }

    /// The exact bytes: what is stored, pushed and hashed.
    pub fn bytes(&self) -> &[u8] {
        &self.raw
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.raw
    }

    /// The sha256 of [`Manifest::bytes`].
    pub fn digest(&self) -> &Digest {
        &self.digest
    }

    /// The effective media type (the document's own, else the one it was fetched as).
    pub fn media_type(&self) -> &str {
        &self.media_type
    }

    /// Docker schema2 rather than OCI.
    pub fn is_docker(&self) -> bool {
        self.media_type == DOCKER_MANIFEST
    }

    /// A descriptor of this manifest, for an index or a reference store.
    pub fn descriptor(&self) -> Descriptor {
        Descriptor::new(
            self.media_type.clone(),
            self.digest.clone(),
            self.raw.len() as u64,
        )
    }

    pub fn config(&self) -> &Descriptor {
        &self.doc.config
    }

    /// The layers, bottom first.
    pub fn layers(&self) -> &[Descriptor] {
        &self.doc.layers
    }

    pub fn annotations(&self) -> &BTreeMap<String, String> {
        &self.doc.annotations
    }

    pub fn artifact_type(&self) -> Option<&str> {
        self.doc.artifact_type.as_deref()
    }

    pub fn subject(&self) -> Option<&Descriptor> {
        self.doc.subject.as_ref()
    }
}

impl Index {
    /// Parses an image index or Docker manifest list, keeping its bytes.
    pub fn parse(bytes: impl Into<Vec<u8>>) -> Result<Index, ModelError> {
        let bytes = bytes.into();
        match classify(INDEX_DOC, &bytes, None)? {
            (Kind::Index, mt) => Index::parse_as(bytes, mt),
            (Kind::Manifest, mt) => Err(kind_mismatch(INDEX_DOC, Kind::Manifest, &mt)),
        }
    }

    fn parse_as(raw: Vec<u8>, media_type: String) -> Result<Index, ModelError> {
        let doc: Box<IndexDoc> = from_json(INDEX_DOC, &raw)?;
        check_schema_version(INDEX_DOC, doc.schema_version)?;
        for (i, m) in doc.manifests.iter().enumerate() {
            check_descriptor(INDEX_DOC, &format!("manifests[{i}]"), m)?;
        }
        if let Some(subject) = &doc.subject {
            check_descriptor(INDEX_DOC, "subject", subject)?;
        }
        Ok(Index {
            digest: Digest::of(&raw),
            raw,
            media_type,
            doc,
        })
    }

    /// A new OCI image index.
    pub fn oci(manifests: Vec<Descriptor>, annotations: BTreeMap<String, String>) -> Index {
        Index::build(OCI_INDEX, manifests, annotations)
    }

    /// A new Docker manifest list.
    pub fn docker_manifest_list(manifests: Vec<Descriptor>) -> Index {
        Index::build(DOCKER_MANIFEST_LIST, manifests, BTreeMap::new())
    }

    fn build(
        media_type: &str,
        manifests: Vec<Descriptor>,
        annotations: BTreeMap<String, String>,
    ) -> Index {
        let doc = Box::new(IndexDoc {
            schema_version: 2,
            media_type: Some(media_type.to_owned()),
            artifact_type: None,
            manifests,
            subject: None,
            annotations,
        });
        let raw = to_json(&doc);
        Index {
            digest: Digest::of(&raw),
            raw,
            media_type: media_type.to_owned(),
            doc,
        }
    }

    pub fn bytes(&self) -> &[u8] {
        &self.raw
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.raw
    }

    pub fn digest(&self) -> &Digest {
        &self.digest
    }

    pub fn media_type(&self) -> &str {
        &self.media_type
    }

    pub fn is_docker(&self) -> bool {
        self.media_type == DOCKER_MANIFEST_LIST
    }

    pub fn descriptor(&self) -> Descriptor {
        Descriptor::new(
            self.media_type.clone(),
            self.digest.clone(),
            self.raw.len() as u64,
        )
    }

    pub fn manifests(&self) -> &[Descriptor] {
        &self.doc.manifests
    }

    pub fn annotations(&self) -> &BTreeMap<String, String> {
        &self.doc.annotations
    }

    pub fn artifact_type(&self) -> Option<&str> {
        self.doc.artifact_type.as_deref()
    }

    pub fn subject(&self) -> Option<&Descriptor> {
        self.doc.subject.as_ref()
    }
}

fn to_json<T: Serialize>(doc: &T) -> Vec<u8> {
    // Plain structs with string keys and no floats: serialization cannot fail.
    serde_json::to_vec(doc).unwrap_or_default()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::media_types::*;

    /// A Docker schema2 manifest as Docker Hub serves busybox (3-space indent, as
    /// distribution writes it).
    pub(crate) const DOCKER_SCHEMA2: &str = r#"{
   "schemaVersion": 2,
   "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
   "config": {
      "mediaType": "application/vnd.docker.container.image.v1+json",
      "size": 1457,
      "digest": "sha256:a416a98b71e224a31ee99cff8e16063554498227d2b696152a9c3e0aa65e5824"
   },
   "layers": [
      {
         "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
         "size": 772788,
         "digest": "sha256:3f4d90098f5b5a6f6a76e9d217da85aa39b2081e30fa1f7d287138d6e7bf0ad7"
      },
      {
         "mediaType": "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
         "size": 1024,
         "digest": "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef",
         "urls": ["https://example.com/layer"]
      }
   ]
}"#;

    /// A multi-platform OCI index as BuildKit pushes it, with an attestation manifest.
    pub(crate) const OCI_INDEX_FIXTURE: &str = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
 {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:1111111111111111111111111111111111111111111111111111111111111111","size":1000,"platform":{"architecture":"amd64","os":"linux"}},
 {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:2222222222222222222222222222222222222222222222222222222222222222","size":1000,"platform":{"architecture":"arm","os":"linux","variant":"v6"}},
 {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:3333333333333333333333333333333333333333333333333333333333333333","size":1000,"platform":{"architecture":"arm","os":"linux","variant":"v7"}},
 {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:4444444444444444444444444444444444444444444444444444444444444444","size":1000,"platform":{"architecture":"arm64","os":"linux","variant":"v8"}},
 {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:5555555555555555555555555555555555555555555555555555555555555555","size":1000,"platform":{"architecture":"s390x","os":"linux"}},
 {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:6666666666666666666666666666666666666666666666666666666666666666","size":566,"annotations":{"vnd.docker.reference.digest":"sha256:1111111111111111111111111111111111111111111111111111111111111111","vnd.docker.reference.type":"attestation-manifest"},"platform":{"architecture":"unknown","os":"unknown"}},
 {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:7777777777777777777777777777777777777777777777777777777777777777","size":1000}
]}"#;

    #[test]
    fn docker_schema2_manifest_parses_and_keeps_its_bytes() {
        let m = Manifest::parse(DOCKER_SCHEMA2).unwrap();
        assert_eq!(m.bytes(), DOCKER_SCHEMA2.as_bytes());
        assert_eq!(m.digest(), &Digest::of(DOCKER_SCHEMA2.as_bytes()));
        assert_eq!(m.media_type(), DOCKER_MANIFEST);
        assert!(m.is_docker());
        assert_eq!(m.config().media_type, DOCKER_CONFIG);
        assert_eq!(m.config().size, 1457);
        assert_eq!(m.layers().len(), 2);
        assert_eq!(
            layer_compression(&m.layers()[0].media_type),
            Some(Compression::Gzip)
        );
        assert!(is_non_distributable(&m.layers()[1].media_type));
        assert_eq!(m.layers()[1].urls, ["https://example.com/layer"]);
        let d = m.descriptor();
        assert_eq!(
            (d.media_type.as_str(), d.size),
            (DOCKER_MANIFEST, DOCKER_SCHEMA2.len() as u64)
        );
        match ManifestOrIndex::parse(DOCKER_SCHEMA2, Some(OCI_INDEX)).unwrap() {
            ManifestOrIndex::Manifest(again) => assert_eq!(again, m, "own mediaType wins"),
            other => panic!("{other:?}"),
        }
        let e = Index::parse(DOCKER_SCHEMA2).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("invalid image index: mediaType: "),
            "{e}"
        );
    }

    #[test]
    fn oci_index_parses_and_kind_is_inferred_without_media_type() {
        let i = Index::parse(OCI_INDEX_FIXTURE).unwrap();
        assert_eq!(i.media_type(), OCI_INDEX);
        assert!(!i.is_docker());
        assert_eq!(i.manifests().len(), 7);
        assert_eq!(i.bytes(), OCI_INDEX_FIXTURE.as_bytes());

        let bare = r#"{"schemaVersion":2,"manifests":[]}"#;
        assert!(matches!(
            ManifestOrIndex::parse(bare, None).unwrap(),
            ManifestOrIndex::Index(ref i) if i.media_type() == OCI_INDEX
        ));
        match ManifestOrIndex::parse(bare, Some(DOCKER_MANIFEST_LIST)).unwrap() {
            ManifestOrIndex::Index(i) => assert!(i.is_docker(), "the hint names the family"),
            other => panic!("{other:?}"),
        }
        let bare_manifest = r#"{"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:1111111111111111111111111111111111111111111111111111111111111111","size":2},"layers":[]}"#;
        let m = Manifest::parse(bare_manifest).unwrap();
        assert_eq!(m.media_type(), OCI_MANIFEST);
        assert!(m.layers().is_empty());
    }

    #[test]
    fn bad_documents_name_the_field() {
        let d = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
        let cases = [
            (
                format!(
                    r#"{{"schemaVersion":2,"mediaType":"{DOCKER_MANIFEST}","config":{{"mediaType":"a","digest":"{d}","size":1}},"layers":[{{"mediaType":"b","digest":"sha256:abc","size":1}}]}}"#
                ),
                "invalid image manifest: layers[0].digest: invalid digest \"sha256:abc\"",
            ),
            (
                format!(
                    r#"{{"schemaVersion":2,"config":{{"mediaType":"a","digest":"{d}","size":-1}},"layers":[]}}"#
                ),
                "invalid image manifest: config.size: invalid value: integer `-1`",
            ),
            (
                format!(
                    r#"{{"schemaVersion":3,"config":{{"mediaType":"a","digest":"{d}","size":1}},"layers":[]}}"#
                ),
                "invalid image manifest: schemaVersion: expected 2, found 3",
            ),
            (
                format!(
                    r#"{{"schemaVersion":2,"config":{{"mediaType":"","digest":"{d}","size":1}},"layers":[]}}"#
                ),
                "invalid image manifest: config.mediaType: empty media type",
            ),
            (
                r#"{"schemaVersion":2,"layers":[]}"#.to_owned(),
                "invalid image manifest: missing field `config`",
            ),
            (
                format!(
                    r#"{{"schemaVersion":2,"config":{{"mediaType":"a","digest":"{d}","size":1}},"layers":[]}} trailing"#
                ),
                "invalid image manifest: trailing characters",
            ),
            (
                "<html>".to_owned(),
                "invalid image manifest: expected value at line 1 column 1",
            ),
            (
                r#"{"schemaVersion":1,"name":"a","tag":"b","fsLayers":[]}"#.to_owned(),
                "unsupported image manifest: Docker image manifest schema 1",
            ),
            (
                r#"{"schemaVersion":2,"mediaType":"application/vnd.example+json"}"#.to_owned(),
                "unsupported image manifest: mediaType \"application/vnd.example+json\"",
            ),
        ];
        for (doc, start) in cases {
            let e = Manifest::parse(doc.as_bytes()).unwrap_err();
            assert!(e.to_string().starts_with(start), "{doc}\n{e}");
        }
        let e = Index::parse(
            format!(r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"a","digest":"{d}","size":1,"platform":{{"os":"linux"}}}}]}}"#)
                .as_bytes(),
        )
        .unwrap_err();
        assert!(
            e.to_string().starts_with(
                "invalid image index: manifests[0].platform: missing field `architecture`"
            ),
            "{e}"
        );
    }

    #[test]
    fn built_documents_are_canonical_and_parse_back() {
        let config = Descriptor::of(OCI_CONFIG, b"{}");
        let layer = Descriptor::new(
            OCI_LAYER_GZIP,
            "sha256:3f4d90098f5b5a6f6a76e9d217da85aa39b2081e30fa1f7d287138d6e7bf0ad7"
                .parse()
                .unwrap(),
            772788,
        );
        let annotations = BTreeMap::from([(
            "org.opencontainers.image.created".to_owned(),
            "x".to_owned(),
        )]);
        let m = Manifest::oci(config.clone(), vec![layer.clone()], annotations);
        let expected = concat!(
            r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","#,
            r#""config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"#,
            r#""layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:3f4d90098f5b5a6f6a76e9d217da85aa39b2081e30fa1f7d287138d6e7bf0ad7","size":772788}],"#,
            r#""annotations":{"org.opencontainers.image.created":"x"}}"#
        );
        assert_eq!(std::str::from_utf8(m.bytes()).unwrap(), expected);
        assert_eq!(Manifest::parse(m.bytes()).unwrap(), m);

        let docker = Manifest::docker_schema2(config, vec![layer]);
        assert!(docker.is_docker());
        assert_eq!(Manifest::parse(docker.bytes()).unwrap(), docker);

        let platform = crate::model::Platform::new("linux", "amd64", None);
        let index = Index::oci(
            vec![m.descriptor().with_platform(platform)],
            BTreeMap::new(),
        );
        assert_eq!(
            std::str::from_utf8(index.bytes()).unwrap(),
            format!(
                r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{}","size":{},"platform":{{"architecture":"amd64","os":"linux"}}}}]}}"#,
                m.digest(),
                m.bytes().len()
            )
        );
        assert_eq!(Index::parse(index.bytes()).unwrap(), index);
        let list = Index::docker_manifest_list(index.manifests().to_vec());
        assert!(list.is_docker());
    }
}
