//! Disk use of a directory tree, as Docker's `directory.Size` counts it: the sizes of
//! everything but directories, each hard-linked file once, never following symlinks or
//! crossing into other file systems.

use std::collections::HashSet;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// Bytes under `root`; 0 for a missing root. Entries that vanish or cannot be read while
/// walking are skipped: the answer is an estimate for `system df`, not an inventory.
pub fn tree_size(root: &Path) -> u64 {
    let Ok(meta) = std::fs::symlink_metadata(root) else {
        return 0;
    };
    let device = meta.dev();
    let mut seen = HashSet::new();
    let mut total = 0;
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let Ok(meta) = entry.metadata() else {
                continue;
            };
            if meta.is_dir() {
                if meta.dev() == device {
                    pending.push(entry.path());
                }
                continue;
            }
            if meta.nlink() > 1 && !seen.insert((meta.dev(), meta.ino())) {
                continue;
            }
            total += meta.len();
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_files_once_and_ignores_directories() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("a"), [0u8; 100]).unwrap();
        std::fs::write(dir.path().join("sub/b"), [0u8; 50]).unwrap();
        std::fs::hard_link(dir.path().join("a"), dir.path().join("sub/a-again")).unwrap();
        std::os::unix::fs::symlink("/etc", dir.path().join("link")).unwrap();
        let link_size = std::fs::symlink_metadata(dir.path().join("link"))
            .unwrap()
            .len();
        assert_eq!(tree_size(dir.path()), 150 + link_size);
        assert_eq!(tree_size(&dir.path().join("missing")), 0);
    }
}
