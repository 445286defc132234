//! Image bodies: list items (`GET /images/json`), remove results, history and prune.
//! Pulls, loads and imports answer with a stream of [`JsonMessage`](super::JsonMessage).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::system::nullable;

/// An item of `GET /images/json` (and of `/system/df`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ImageSummary {
    /// `sha256:...` of the image's config.
    #[serde(rename = "Id")]
    pub id: String,
    #[serde(rename = "ParentId")]
    pub parent_id: String,
    /// `name:tag`; empty for an untagged image.
    #[serde(deserialize_with = "nullable")]
    pub repo_tags: Vec<String>,
    /// `name@sha256:...` of manifests the image came from.
    #[serde(deserialize_with = "nullable")]
    pub repo_digests: Vec<String>,
    /// Seconds since the epoch.
    pub created: i64,
    pub size: i64,
    /// `-1` when not computed.
    pub shared_size: i64,
    /// The same as `Size`; sent only to clients of API < 1.44.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub virtual_size: Option<i64>,
    #[serde(deserialize_with = "nullable")]
    pub labels: BTreeMap<String, String>,
    /// Containers using the image; `-1` when not computed.
    pub containers: i64,
}

/// An item of `DELETE /images/{name}`: one of the two is set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ImageDeleteResponseItem {
    /// A name that was removed: `busybox:latest`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub untagged: Option<String>,
    /// An image id that was removed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleted: Option<String>,
}

/// An item of `GET /images/{name}/history`, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct HistoryResponseItem {
    /// The image id for the top layer of an image, `<missing>` for the others.
    #[serde(rename = "Id")]
    pub id: String,
    /// Seconds since the epoch.
    pub created: i64,
    pub created_by: String,
    /// Names of the image whose top this step is; `null` for the others, as Docker sends.
    pub tags: Option<Vec<String>>,
    pub size: i64,
    pub comment: String,
}

/// `POST /images/prune` response.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ImagePruneResponse {
    #[serde(deserialize_with = "nullable")]
    pub images_deleted: Vec<ImageDeleteResponseItem>,
    pub space_reclaimed: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn summary_wire_form() {
        let summary = ImageSummary {
            id: "sha256:1".into(),
            repo_tags: vec!["busybox:latest".into()],
            created: 1_700_000_000,
            size: 10,
            shared_size: -1,
            containers: -1,
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(&summary).unwrap(),
            json!({"Id": "sha256:1", "ParentId": "", "RepoTags": ["busybox:latest"],
                   "RepoDigests": [], "Created": 1_700_000_000, "Size": 10, "SharedSize": -1,
                   "Labels": {}, "Containers": -1})
        );
        let from_docker: ImageSummary = serde_json::from_value(json!({
            "Id": "sha256:1", "ParentId": "", "RepoTags": null, "RepoDigests": null,
            "Created": 1, "Size": 2, "SharedSize": -1, "VirtualSize": 2, "Labels": null,
            "Containers": -1
        }))
        .unwrap();
        assert_eq!(from_docker.virtual_size, Some(2));
        assert!(from_docker.repo_tags.is_empty());
    }

    #[test]
    fn delete_items() {
        let items: Vec<ImageDeleteResponseItem> =
            serde_json::from_str(r#"[{"Untagged":"a:latest"},{"Deleted":"sha256:1"}]"#).unwrap();
        assert_eq!(items[0].untagged.as_deref(), Some("a:latest"));
        assert_eq!(items[1].deleted.as_deref(), Some("sha256:1"));
        assert_eq!(
            serde_json::to_string(&items[1]).unwrap(),
            r#"{"Deleted":"sha256:1"}"#
        );
    }

    #[test]
    fn history_items() {
        let item = HistoryResponseItem {
            id: "<missing>".into(),
            created_by: "/bin/sh -c #(nop) CMD [\"sh\"]".into(),
            ..Default::default()
        };
        let json = serde_json::to_value(&item).unwrap();
        assert_eq!(json["Tags"], serde_json::Value::Null);
        assert_eq!(json["CreatedBy"], "/bin/sh -c #(nop) CMD [\"sh\"]");
    }
}
