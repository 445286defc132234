//! `POST /images/prune`: images no container uses, only unnamed ones unless
//! `dangling=false`, narrowed by `until`, `label` and `label!`.

use std::collections::HashSet;
use std::sync::Arc;

use api::filters::Filters;
use api::types::ImagePruneResponse;

use super::list::Listed;
use super::timestamp::parse_timestamp;
use crate::Engine;
use crate::error::{EngineError, Result};
use crate::events::{Event, now_nanos};

const PRUNE_FILTERS: &[&str] = &["dangling", "until", "label", "label!"];

/// What to prune, read from the filters.
struct Policy {
    dangling_only: bool,
    until: Option<i64>,
}

impl Engine {
    pub async fn prune_images(self: &Arc<Self>, filters: Filters) -> Result<ImagePruneResponse> {
        filters
            .validate(PRUNE_FILTERS)
            .map_err(|e| EngineError::InvalidArgument(e.to_string()))?;
        let dangling_only = filters
            .get_bool("dangling", true)
            .map_err(|e| EngineError::InvalidArgument(e.to_string()))?;
        let mut policy = Policy {
            dangling_only,
            until: None,
        };
        for value in filters.get("until") {
            policy.until =
                Some(parse_timestamp(value, now_nanos()).map_err(EngineError::InvalidArgument)?);
        }
        let engine = self.clone();
        crate::blocking(move || engine.prune_images_blocking(&filters, &policy)).await
    }

    fn prune_images_blocking(
        &self,
        filters: &Filters,
        policy: &Policy,
    ) -> Result<ImagePruneResponse> {
        let used: HashSet<String> = self.image_container_counts().into_keys().collect();
        let before = self.images.disk_usage()?.layers_size;
        let mut response = ImagePruneResponse::default();
        for listed in self.listed_images()? {
            if used.contains(&listed.record.id.to_string()) || !prunable(&listed, filters, policy) {
                continue;
            }
            // Named images go with every name: force, since being named is all that would stop it.
            match self.remove_image_blocking(listed.record.id.hex(), true) {
                Ok(items) => response.images_deleted.extend(items),
                // Taken by a container since the list was made, or gone already.
                Err(e)
                    if matches!(
                        e.kind(),
                        crate::ErrorKind::Conflict | crate::ErrorKind::NotFound
                    ) => {}
                Err(e) => return Err(e),
            }
        }
        let after = self.images.disk_usage()?.layers_size;
        response.space_reclaimed = before.saturating_sub(after);
        self.events.publish(
            Event::new("image", "prune", "")
                .attribute("reclaimed", response.space_reclaimed.to_string()),
        );
        Ok(response)
    }
}

fn prunable(listed: &Listed, filters: &Filters, policy: &Policy) -> bool {
    if policy.dangling_only && !listed.record.tags.is_empty() {
        return false;
    }
    if policy
        .until
        .is_some_and(|until| listed.created_nanos >= until)
    {
        return false;
    }
    if !filters.match_labels("label", &listed.labels) {
        return false;
    }
    // Docker's rule: `label!` excludes an image that matches every `label!` given.
    !(filters.contains("label!") && filters.match_labels("label!", &listed.labels))
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::reference::Reference;
    use image::{Digest, ImageRecord};

    fn listed(tagged: bool, created: i64, labels: &[(&str, &str)]) -> Listed {
        Listed {
            record: ImageRecord {
                id: Digest::of(b"i"),
                manifest: Digest::of(b"m"),
                manifest_media_type: String::new(),
                chain_ids: Vec::new(),
                tags: if tagged {
                    vec![Reference::parse("a:1").unwrap()]
                } else {
                    Vec::new()
                },
                repo_digests: Vec::new(),
                size: 1,
                stored_at: String::new(),
                last_tagged_at: None,
            },
            created_nanos: created,
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn dangling_by_default_all_unused_when_asked() {
        let dangling = Policy {
            dangling_only: true,
            until: None,
        };
        let all = Policy {
            dangling_only: false,
            until: None,
        };
        let f = Filters::new();
        assert!(!prunable(&listed(true, 0, &[]), &f, &dangling));
        assert!(prunable(&listed(false, 0, &[]), &f, &dangling));
        assert!(prunable(&listed(true, 0, &[]), &f, &all));
    }

    #[test]
    fn until_and_labels_narrow_it() {
        let policy = Policy {
            dangling_only: false,
            until: Some(100),
        };
        let f = Filters::new();
        assert!(prunable(&listed(false, 99, &[]), &f, &policy));
        assert!(!prunable(&listed(false, 100, &[]), &f, &policy));
        let keep = Filters::new().with("label!", "keep");
        assert!(!prunable(
            &listed(false, 1, &[("keep", "1")]),
            &keep,
            &policy
        ));
        assert!(prunable(
            &listed(false, 1, &[("other", "1")]),
            &keep,
            &policy
        ));
        let only = Filters::new().with("label", "env=test");
        assert!(prunable(
            &listed(false, 1, &[("env", "test")]),
            &only,
            &policy
        ));
        assert!(!prunable(
            &listed(false, 1, &[("env", "prod")]),
            &only,
            &policy
        ));
    }
}
