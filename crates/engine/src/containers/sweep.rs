//! At start-up, what no container record owns any more: a container directory, a bundle or a
//! runtime state directory left by a removal or a create that a crash interrupted (removal
//! answers before it tidies up; see `remove`).

use std::collections::{BTreeSet, HashSet};
use std::path::Path;

use crate::Engine;

impl Engine {
    /// Removes the directories (and with them mounts, writable layers and cgroups) of
    /// containers that have no record. Best effort: a failure is logged and tried again at the
    /// next start.
    pub(crate) fn sweep_orphans(&self, known: &HashSet<String>) {
        for id in orphan_ids(&self.config.runtime_root(), known) {
            if let Err(e) = self.runtime.delete(&id, true) {
                eprintln!("pier daemon: removing the runtime state of container {id}: {e}");
            }
        }
        let (containers, bundles) = (self.config.containers_dir(), self.config.bundles_dir());
        let orphans: BTreeSet<String> = orphan_ids(&containers, known)
            .into_iter()
            .chain(orphan_ids(&bundles, known))
            .collect();
        for id in orphans {
            if let Err(e) =
                self.remove_container_dirs(&id, &containers.join(&id), &bundles.join(&id))
            {
                eprintln!("pier daemon: removing what container {id} left: {e}");
            }
        }
    }
}

/// Entries of `dir` named as container ids (64 lowercase hex digits) that are not `known`.
fn orphan_ids(dir: &Path, known: &HashSet<String>) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| is_container_id(name) && !known.contains(name))
        .collect()
}

fn is_container_id(name: &str) -> bool {
    name.len() == 64
        && name
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_unknown_container_ids_are_orphans() {
        let dir = tempfile::tempdir().expect("tempdir");
        let known_id = "a".repeat(64);
        let orphan = "0123456789abcdef".repeat(4);
        for name in [
            known_id.as_str(),
            orphan.as_str(),
            ".seccomp-cache",
            "lock",
            "ABC",
        ] {
            std::fs::create_dir(dir.path().join(name)).expect("mkdir");
        }
        let known = HashSet::from([known_id]);
        assert_eq!(orphan_ids(dir.path(), &known), vec![orphan]);
        assert!(orphan_ids(&dir.path().join("missing"), &known).is_empty());
    }
}
