//! Content descriptors (`mediaType`, `digest`, `size`, ...) and platforms, as OCI and
//! Docker schema2 write them; fields serialize in the OCI specification's order.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::serde_helpers::null_default;
use crate::digest::Digest;

/// A reference to a blob by digest, with its type and size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Descriptor {
    #[serde(rename = "mediaType")]
    pub media_type: String,
    pub digest: Digest,
    pub size: u64,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub urls: Vec<String>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub annotations: BTreeMap<String, String>,
    /// Embedded content, base64 (OCI 1.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    #[serde(
        rename = "artifactType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub artifact_type: Option<String>,
}

impl Descriptor {
    pub fn new(media_type: impl Into<String>, digest: Digest, size: u64) -> Descriptor {
        Descriptor {
            media_type: media_type.into(),
            digest,
            size,
            urls: Vec::new(),
            annotations: BTreeMap::new(),
            data: None,
            platform: None,
            artifact_type: None,
        }
    }

    /// The descriptor of `bytes` with type `media_type`.
    pub fn of(media_type: impl Into<String>, bytes: &[u8]) -> Descriptor {
        Descriptor::new(media_type, Digest::of(bytes), bytes.len() as u64)
    }

    pub fn with_platform(mut self, platform: Platform) -> Descriptor {
        self.platform = Some(platform);
        self
    }
}

/// The platform an image runs on: `os/architecture[/variant]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Platform {
    pub architecture: String,
    pub os: String,
    #[serde(
        rename = "os.version",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub os_version: Option<String>,
    #[serde(
        rename = "os.features",
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub os_features: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// Docker manifest lists' `features` (reserved, unused).
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub features: Vec<String>,
}

impl Platform {
    pub fn new(os: &str, architecture: &str, variant: Option<&str>) -> Platform {
        Platform {
            architecture: architecture.to_owned(),
            os: os.to_owned(),
            os_version: None,
            os_features: Vec::new(),
            variant: variant.filter(|v| !v.is_empty()).map(str::to_owned),
            features: Vec::new(),
        }
    }
}

/// `os/architecture[/variant]`, as `--platform` takes it and Docker prints it.
impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        match &self.variant {
            Some(v) if !v.is_empty() => write!(f, "/{v}"),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptors_serialize_in_oci_order_and_skip_empty_fields() {
        let d = Descriptor::of("application/vnd.oci.image.manifest.v1+json", b"{}")
            .with_platform(Platform::new("linux", "arm", Some("v7")));
        assert_eq!(
            serde_json::to_string(&d).unwrap(),
            concat!(
                r#"{"mediaType":"application/vnd.oci.image.manifest.v1+json","#,
                r#""digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","#,
                r#""size":2,"platform":{"architecture":"arm","os":"linux","variant":"v7"}}"#
            )
        );
        assert_eq!(d.platform.as_ref().unwrap().to_string(), "linux/arm/v7");
        let back: Descriptor = serde_json::from_str(
            r#"{"mediaType":"x","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2,"urls":null,"annotations":null,"platform":{"architecture":"amd64","os":"linux","os.features":null,"features":["sse4"]}}"#,
        )
        .unwrap();
        assert!(back.urls.is_empty() && back.annotations.is_empty());
        assert_eq!(back.platform.unwrap().features, ["sse4"]);
    }
}
