//! Which images, under which tags, a save of `names` means, as `docker save` reads them: a
//! tagged reference is that tag; a repository alone (`busybox`) is every tag of it; an id
//! (or id prefix) is the image with all its tags; a digest reference is the image, untagged.
//! Images come in the order first named, each once.

use crate::reference::Reference;
use crate::store::{ImageError, ImageRecord, ImageStore};

/// One image to save and the tags to save it with (full references).
#[derive(Debug, Clone)]
pub(super) struct Selected {
    pub record: ImageRecord,
    pub tags: Vec<Reference>,
}

fn add(out: &mut Vec<Selected>, record: ImageRecord, tags: impl IntoIterator<Item = Reference>) {
    let index = match out.iter().position(|s| s.record.id == record.id) {
        Some(i) => i,
        None => {
            out.push(Selected {
                record,
                tags: Vec::new(),
            });
            out.len() - 1
        }
    };
    for tag in tags {
        if !out[index].tags.contains(&tag) {
            out[index].tags.push(tag);
        }
    }
}

pub(super) fn select(store: &ImageStore, names: &[String]) -> Result<Vec<Selected>, ImageError> {
    if names.is_empty() {
        return Err(ImageError::InvalidArgument("no image to save".to_owned()));
    }
    let mut out = Vec::new();
    for name in names {
        if let Some(repository) = Reference::parse(name).ok().filter(Reference::is_name_only) {
            let mut any = false;
            for record in store.list()? {
                let tags: Vec<Reference> = record
                    .tags
                    .iter()
                    .filter(|t| t.name_only() == repository)
                    .cloned()
                    .collect();
                if !tags.is_empty() {
                    any = true;
                    add(&mut out, record, tags);
                }
            }
            if any {
                continue;
            }
        }
        let (record, reference) = store.resolve_how(name)?;
        let tags = match reference {
            Some(r) if r.digest().is_some() => Vec::new(),
            Some(r) => vec![r],
            None => record.tags.clone(),
        };
        add(&mut out, record, tags);
    }
    Ok(out)
}
