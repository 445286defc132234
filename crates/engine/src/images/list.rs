//! `GET /images/json`: every image as an `ImageSummary`, newest first, through Docker's
//! filters. With a `reference` filter an image lists only the names that match it.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use api::filters::Filters;
use api::types::ImageSummary;
use api::version::ApiVersion;
use image::reference::Reference;
use image::{Digest, ImageRecord};

use super::glob::path_match;
use super::timestamp::parse_timestamp;
use crate::Engine;
use crate::error::{EngineError, Result};
use crate::events::now_nanos;

const LIST_FILTERS: &[&str] = &["dangling", "label", "before", "since", "reference", "until"];

#[derive(Debug, Clone, Default)]
pub struct ImageListOptions {
    /// Intermediate images too; pier's images have no parents, so every image is listed
    /// either way.
    pub all: bool,
    pub filters: Filters,
    /// Compute `SharedSize` (bytes of layers other images use too); `-1` otherwise.
    pub shared_size: bool,
    /// The version the client speaks: older ones get `<none>` placeholders and `VirtualSize`.
    pub version: ApiVersion,
}

/// Docker's `FamiliarMatch`: the pattern against `name:tag` (or `name@digest`), then
/// against the name alone.
pub fn reference_matches(pattern: &str, reference: &Reference) -> Result<bool> {
    let invalid = |e: super::glob::BadPattern| EngineError::InvalidArgument(e.to_string());
    if path_match(pattern, &reference.familiar()).map_err(invalid)? {
        return Ok(true);
    }
    path_match(pattern, &reference.familiar_name()).map_err(invalid)
}

/// What the filters ask for, with references already resolved to times.
struct Criteria {
    dangling: Option<bool>,
    before: Option<i64>,
    since: Option<i64>,
    until: Option<i64>,
}

/// An image and the facts the filters and the summary need.
pub(super) struct Listed {
    pub record: ImageRecord,
    pub created_nanos: i64,
    pub labels: BTreeMap<String, String>,
}

impl Engine {
    pub(super) fn listed_images(&self) -> Result<Vec<Listed>> {
        let mut out = Vec::new();
        for record in self.images.list()? {
            let config = self.images.config(&record.id)?;
            let created_nanos = config
                .created_time()
                .map(|t| t.unix_seconds() * 1_000_000_000 + i64::from(t.subsec_nanos()))
                .unwrap_or(0);
            let labels = config
                .config()
                .and_then(|c| c.labels.clone())
                .unwrap_or_default()
                .into_iter()
                .collect();
            out.push(Listed {
                record,
                created_nanos,
                labels,
            });
        }
        out.sort_by(|a, b| {
            b.created_nanos
                .cmp(&a.created_nanos)
                .then_with(|| a.record.id.cmp(&b.record.id))
        });
        Ok(out)
    }

    /// How many containers were made from each image (from the in-memory registry).
    pub(super) fn image_container_counts(&self) -> HashMap<String, i64> {
        let mut counts = HashMap::new();
        for handle in self.containers.all() {
            *counts.entry(handle.record().image.clone()).or_default() += 1;
        }
        counts
    }

    fn created_of(&self, name: &str) -> Result<i64> {
        let record = self.images.resolve(name)?;
        let config = self.images.config(&record.id)?;
        Ok(config
            .created_time()
            .map(|t| t.unix_seconds() * 1_000_000_000 + i64::from(t.subsec_nanos()))
            .unwrap_or(0))
    }

    pub async fn list_images(
        self: &Arc<Self>,
        options: ImageListOptions,
    ) -> Result<Vec<ImageSummary>> {
        let engine = self.clone();
        crate::blocking(move || engine.list_images_blocking(&options)).await
    }

    fn list_images_blocking(&self, options: &ImageListOptions) -> Result<Vec<ImageSummary>> {
        let filters = &options.filters;
        filters
            .validate(LIST_FILTERS)
            .map_err(|e| EngineError::InvalidArgument(e.to_string()))?;
        let dangling = if filters.contains("dangling") {
            Some(
                filters
                    .get_bool("dangling", false)
                    .map_err(|e| EngineError::InvalidArgument(e.to_string()))?,
            )
        } else {
            None
        };
        let mut criteria = Criteria {
            dangling,
            before: None,
            since: None,
            until: None,
        };
        for name in filters.get("before") {
            criteria.before = Some(self.created_of(name)?);
        }
        for name in filters.get("since") {
            criteria.since = Some(self.created_of(name)?);
        }
        for value in filters.get("until") {
            criteria.until =
                Some(parse_timestamp(value, now_nanos()).map_err(EngineError::InvalidArgument)?);
        }
        let shared = if options.shared_size {
            Some(shared_sizes(&self.images.disk_usage()?.images))
        } else {
            None
        };
        let containers = self.image_container_counts();
        let mut out = Vec::new();
        for listed in self.listed_images()? {
            if let Some(summary) = summarize(&listed, filters, &criteria)? {
                let mut summary = summary;
                summary.containers = containers.get(&summary.id).copied().unwrap_or(0);
                if let Some(shared) = &shared {
                    summary.shared_size = shared.get(&listed.record.id).copied().unwrap_or(0);
                }
                out.push(for_version(summary, options.version));
            }
        }
        Ok(out)
    }
}

fn shared_sizes(usage: &[image::store::ImageUsage]) -> HashMap<Digest, i64> {
    usage
        .iter()
        .map(|u| (u.id.clone(), u.shared_size as i64))
        .collect()
}

/// The summary of one image, or None when the filters leave it out.
fn summarize(
    listed: &Listed,
    filters: &Filters,
    criteria: &Criteria,
) -> Result<Option<ImageSummary>> {
    let record = &listed.record;
    if criteria.before.is_some_and(|b| listed.created_nanos >= b)
        || criteria.since.is_some_and(|s| listed.created_nanos <= s)
        || criteria.until.is_some_and(|u| listed.created_nanos > u)
    {
        return Ok(None);
    }
    if filters.contains("label") && !filters.match_labels("label", &listed.labels) {
        return Ok(None);
    }
    let patterns = filters.get("reference");
    let wanted = |reference: &Reference| -> Result<bool> {
        if patterns.is_empty() {
            return Ok(true);
        }
        for pattern in patterns {
            if reference_matches(pattern, reference)? {
                return Ok(true);
            }
        }
        Ok(false)
    };
    let mut repo_tags = Vec::new();
    for tag in &record.tags {
        if wanted(tag)? {
            repo_tags.push(tag.familiar());
        }
    }
    let mut repo_digests = Vec::new();
    for digest in &record.repo_digests {
        if wanted(digest)? {
            repo_digests.push(digest.familiar());
        }
    }
    if repo_tags.is_empty() && repo_digests.is_empty() {
        // Unnamed: no match for a reference filter, and not wanted by dangling=false.
        if !patterns.is_empty() || criteria.dangling == Some(false) {
            return Ok(None);
        }
    } else if criteria.dangling == Some(true) && !repo_tags.is_empty() {
        return Ok(None);
    }
    Ok(Some(ImageSummary {
        id: record.id.to_string(),
        parent_id: String::new(),
        repo_tags,
        repo_digests,
        created: listed.created_nanos.div_euclid(1_000_000_000),
        size: record.size as i64,
        shared_size: -1,
        virtual_size: None,
        labels: listed.labels.clone(),
        containers: -1,
    }))
}

/// API 1.43 dropped the `<none>` placeholders of unnamed images; 1.44 dropped `VirtualSize`.
fn for_version(mut summary: ImageSummary, version: ApiVersion) -> ImageSummary {
    if version < ApiVersion::new(1, 43)
        && summary.repo_tags.is_empty()
        && summary.repo_digests.is_empty()
    {
        summary.repo_tags.push("<none>:<none>".into());
        summary.repo_digests.push("<none>@<none>".into());
    }
    if version < ApiVersion::new(1, 44) {
        summary.virtual_size = Some(summary.size);
    }
    summary
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(tags: &[&str], created: i64, labels: &[(&str, &str)]) -> Listed {
        Listed {
            record: ImageRecord {
                id: Digest::of(format!("{tags:?}{created}").as_bytes()),
                manifest: Digest::of(b"m"),
                manifest_media_type: String::new(),
                chain_ids: Vec::new(),
                tags: tags
                    .iter()
                    .map(|t| Reference::parse(t).unwrap().with_default_tag())
                    .collect(),
                repo_digests: Vec::new(),
                size: 10,
                stored_at: String::new(),
                last_tagged_at: None,
            },
            created_nanos: created * 1_000_000_000,
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    fn none() -> Criteria {
        Criteria {
            dangling: None,
            before: None,
            since: None,
            until: None,
        }
    }

    #[test]
    fn reference_patterns_keep_only_matching_names() {
        let image = listed(&["busybox:latest", "busybox:1.36", "alpine:3"], 5, &[]);
        let filters = Filters::new().with("reference", "busy*:lat*");
        let summary = summarize(&image, &filters, &none()).unwrap().unwrap();
        assert_eq!(summary.repo_tags, ["busybox:latest"]);
        let by_name = Filters::new().with("reference", "alpine");
        let summary = summarize(&image, &by_name, &none()).unwrap().unwrap();
        assert_eq!(summary.repo_tags, ["alpine:3"]);
        let nothing = Filters::new().with("reference", "debian*");
        assert!(summarize(&image, &nothing, &none()).unwrap().is_none());
        let bad = Filters::new().with("reference", "[");
        assert!(summarize(&image, &bad, &none()).is_err());
    }

    #[test]
    fn dangling_means_unnamed() {
        let named = listed(&["a:1"], 1, &[]);
        let unnamed = listed(&[], 1, &[]);
        let dangling = Criteria {
            dangling: Some(true),
            ..none()
        };
        assert!(
            summarize(&named, &Filters::new(), &dangling)
                .unwrap()
                .is_none()
        );
        assert!(
            summarize(&unnamed, &Filters::new(), &dangling)
                .unwrap()
                .is_some()
        );
        let not_dangling = Criteria {
            dangling: Some(false),
            ..none()
        };
        assert!(
            summarize(&named, &Filters::new(), &not_dangling)
                .unwrap()
                .is_some()
        );
        assert!(
            summarize(&unnamed, &Filters::new(), &not_dangling)
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn labels_and_times() {
        let image = listed(&["a:1"], 100, &[("team", "x"), ("tier", "web")]);
        let f = Filters::new().with("label", "team=x").with("label", "tier");
        assert!(summarize(&image, &f, &none()).unwrap().is_some());
        let f = Filters::new().with("label", "team=y");
        assert!(summarize(&image, &f, &none()).unwrap().is_none());
        let at = |b: Option<i64>, s: Option<i64>, u: Option<i64>| Criteria {
            before: b.map(|x| x * 1_000_000_000),
            since: s.map(|x| x * 1_000_000_000),
            until: u.map(|x| x * 1_000_000_000),
            ..none()
        };
        let f = Filters::new();
        assert!(
            summarize(&image, &f, &at(Some(101), None, None))
                .unwrap()
                .is_some()
        );
        assert!(
            summarize(&image, &f, &at(Some(100), None, None))
                .unwrap()
                .is_none()
        );
        assert!(
            summarize(&image, &f, &at(None, Some(99), None))
                .unwrap()
                .is_some()
        );
        assert!(
            summarize(&image, &f, &at(None, Some(100), None))
                .unwrap()
                .is_none()
        );
        assert!(
            summarize(&image, &f, &at(None, None, Some(100)))
                .unwrap()
                .is_some()
        );
        assert!(
            summarize(&image, &f, &at(None, None, Some(99)))
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn older_clients_get_placeholders_and_virtual_size() {
        let unnamed = summarize(&listed(&[], 1, &[]), &Filters::new(), &none())
            .unwrap()
            .unwrap();
        let old = for_version(unnamed.clone(), ApiVersion::new(1, 41));
        assert_eq!(old.repo_tags, ["<none>:<none>"]);
        assert_eq!(old.repo_digests, ["<none>@<none>"]);
        assert_eq!(old.virtual_size, Some(10));
        let new = for_version(unnamed, ApiVersion::new(1, 45));
        assert!(new.repo_tags.is_empty());
        assert_eq!(new.virtual_size, None);
    }
}
