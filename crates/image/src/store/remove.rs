//! `docker rmi` semantics: a reference given is untagged first, and the image goes only
//! when nothing names it any more; an id given removes the image and all its references;
//! containers using an image block its removal (stopped ones unless forced, running ones
//! always), with Docker's messages.

use super::{ImageError, ImageRecord, ImageStore, Result};
use crate::digest::Digest;
use crate::reference::Reference;

/// One line of what a removal did, as `docker rmi` prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Removed {
    /// A reference, in its familiar form (`busybox:latest`).
    Untagged(String),
    /// An image id, or the chain id of a layer that went with it.
    Deleted(Digest),
}

fn short(id: &str) -> &str {
    let hex = id.strip_prefix("sha256:").unwrap_or(id);
    &hex[..hex.len().min(12)]
}

enum Conflict {
    Running(String),
    Stopped(String),
    Referenced,
}

impl ImageStore {
    /// Removes `name` (a reference or an id). `running` tells which containers run.
    pub fn remove(
        &self,
        name: &str,
        force: bool,
        running: &dyn Fn(&str) -> bool,
    ) -> Result<Vec<Removed>> {
        let (record, by_reference) = self.resolve_how(name)?;
        let mut removed = Vec::new();
        let users = self.containers_using(&record.id)?;
        if let Some(reference) = by_reference {
            if !force && let Some(container) = users.first() {
                return Err(ImageError::Conflict(format!(
                    "conflict: unable to remove repository reference \"{name}\" (must force) - container {} is using its referenced image {}",
                    short(container),
                    short(record.id.hex())
                )));
            }
            let others = (record.tags.len() + record.repo_digests.len()).saturating_sub(1);
            // The last name goes with the image itself, in one transaction, unless something
            // still uses the image: then it stays, nameless.
            if others == 0 && self.conflict(&record, force, &users, running).is_none() {
                removed.extend(self.delete_image(&record)?);
                return Ok(removed);
            }
            self.remove_reference(&reference)?;
            removed.push(Removed::Untagged(reference.familiar()));
            return Ok(removed);
        } else if let Some(conflict) = self.conflict(&record, force, &users, running) {
            let id = short(record.id.hex());
            return Err(ImageError::Conflict(match conflict {
                Conflict::Running(c) => format!(
                    "conflict: unable to delete {id} (cannot be forced) - image is being used by running container {}",
                    short(&c)
                ),
                Conflict::Stopped(c) => format!(
                    "conflict: unable to delete {id} (must be forced) - image is being used by stopped container {}",
                    short(&c)
                ),
                Conflict::Referenced => {
                    format!(
                        "conflict: unable to delete {id} (must be forced) - image is referenced in multiple repositories"
                    )
                }
            }));
        }
        removed.extend(self.delete_image(&record)?);
        Ok(removed)
    }

    fn conflict(
        &self,
        record: &ImageRecord,
        force: bool,
        users: &[String],
        running: &dyn Fn(&str) -> bool,
    ) -> Option<Conflict> {
        if let Some(c) = users.iter().find(|c| running(c)) {
            return Some(Conflict::Running(c.clone()));
        }
        if force {
            return None;
        }
        if let Some(c) = users.first() {
            return Some(Conflict::Stopped(c.clone()));
        }
        // An id given for an image named in more than one repository needs force.
        let mut repositories: Vec<String> = record
            .tags
            .iter()
            .chain(&record.repo_digests)
            .map(Reference::name)
            .collect();
        repositories.sort();
        repositories.dedup();
        (repositories.len() > 1).then_some(Conflict::Referenced)
    }

    fn remove_reference(&self, reference: &Reference) -> Result<()> {
        let removed = match reference.digest() {
            Some(_) => self.meta.remove_repo_digest(&reference.to_string())?,
            None => self.meta.remove_tag(&reference.to_string())?,
        };
        if !removed {
            return Err(ImageError::NotFound(reference.familiar()));
        }
        Ok(())
    }

    /// Untags everything, forgets the image, and collects the layers and blobs that only it used.
    fn delete_image(&self, record: &ImageRecord) -> Result<Vec<Removed>> {
        let mut removed: Vec<Removed> = record
            .tags
            .iter()
            .chain(&record.repo_digests)
            .map(|r| Removed::Untagged(r.familiar()))
            .collect();
        self.meta.delete_image(&record.id)?;
        removed.push(Removed::Deleted(record.id.clone()));
        let report = self.collect_garbage()?;
        // Docker lists the layers that went, top first.
        for chain in record.chain_ids.iter().rev() {
            if report.layers.contains(chain) {
                removed.push(Removed::Deleted(chain.clone()));
            }
        }
        Ok(removed)
    }
}
