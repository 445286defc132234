//! Small, error-carrying file operations on cgroup filesystems.
//!
//! cgroup files take one value per write(2) and report a bad value as the write's errno,
//! so every write here is a single call on a freshly opened file.

use std::fs::{self, OpenOptions};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::thread;
use std::time::Duration;

use super::CgroupError;

/// Writes `value` to the cgroup file `path` in one write(2).
pub(super) fn write(path: &Path, value: &str) -> Result<(), CgroupError> {
    let err = |source| CgroupError::Write {
        path: path.to_path_buf(),
        value: value.to_string(),
        source,
    };
    // truncate: harmless on cgroupfs (like a shell's `>`), and keeps fake trees in tests exact.
    let mut file = OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(path)
        .map_err(err)?;
    let written = file.write(value.as_bytes()).map_err(err)?;
    if written != value.len() {
        return Err(err(io::Error::new(
            io::ErrorKind::WriteZero,
            format!("short write ({written} of {} bytes)", value.len()),
        )));
    }
    Ok(())
}

/// Reads a whole cgroup file.
pub(super) fn read(path: &Path) -> Result<String, CgroupError> {
    fs::read_to_string(path).map_err(|source| CgroupError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// Reads a cgroup file; a missing file (or cgroup) is `None`.
pub(super) fn read_opt(path: &Path) -> Result<Option<String>, CgroupError> {
    match fs::read_to_string(path) {
        Ok(s) => Ok(Some(s)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(CgroupError::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Whether `path` exists (a failure to tell counts as "no").
pub(super) fn exists(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok()
}

/// Reads a "key value" file (memory.events, memory.oom_control, cgroup.events) and returns
/// the value of `key`.
pub(super) fn read_keyed(path: &Path, key: &str) -> Result<Option<u64>, CgroupError> {
    let content = read(path)?;
    for line in content.lines() {
        let mut words = line.split_whitespace();
        if words.next() == Some(key) {
            let value = words.next().unwrap_or("");
            return value
                .parse::<u64>()
                .map(Some)
                .map_err(|_| CgroupError::Parse {
                    path: path.to_path_buf(),
                    content: line.to_string(),
                });
        }
    }
    Ok(None)
}

/// Creates every missing directory from below `root` (which must exist: it is the mount
/// point of the hierarchy) down to `path`, recording each one created in `created`,
/// outermost first.
pub(super) fn create_levels(
    root: &Path,
    path: &Path,
    created: &mut Vec<PathBuf>,
) -> Result<(), CgroupError> {
    if !root.is_dir() {
        return Err(CgroupError::Create {
            path: root.to_path_buf(),
            source: io::Error::new(
                io::ErrorKind::NotFound,
                "the cgroup hierarchy is not mounted there",
            ),
        });
    }
    let rel = path
        .strip_prefix(root)
        .map_err(|_| CgroupError::InvalidPath {
            path: path.to_path_buf(),
            reason: format!("not beneath the hierarchy at {}", root.display()),
        })?;
    let mut dir = root.to_path_buf();
    for component in rel.components() {
        dir.push(component);
        match fs::create_dir(&dir) {
            Ok(()) => created.push(dir.clone()),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(source) => {
                return Err(CgroupError::Create {
                    path: dir.clone(),
                    source,
                });
            }
        }
    }
    Ok(())
}

/// Removes the directories in `created` (as recorded by [`create_levels`]), innermost first,
/// ignoring failures: used to undo a create that failed part-way.
pub(super) fn remove_created(created: &[PathBuf]) {
    for dir in created.iter().rev() {
        let _ = rmdir_retry(dir);
    }
}

/// Reads the pids in `cgroup.procs` of `dir` and of every cgroup beneath it.
/// A cgroup that disappears meanwhile contributes nothing.
pub(super) fn procs_recursive(dir: &Path, out: &mut Vec<i32>) -> Result<(), CgroupError> {
    let procs = dir.join("cgroup.procs");
    if let Some(content) = read_opt(&procs)? {
        for line in content.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let pid = line.parse::<i32>().map_err(|_| CgroupError::Parse {
                path: procs.clone(),
                content: line.to_string(),
            })?;
            out.push(pid);
        }
    }
    for child in subdirs(dir)? {
        procs_recursive(&child, out)?;
    }
    Ok(())
}

/// The sub-cgroups (directories) directly beneath `dir`; a missing `dir` has none.
pub(super) fn subdirs(dir: &Path) -> Result<Vec<PathBuf>, CgroupError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(CgroupError::Read {
                path: dir.to_path_buf(),
                source,
            });
        }
    };
    let mut dirs = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| CgroupError::Read {
            path: dir.to_path_buf(),
            source,
        })?;
        if entry.file_type().map(|t| t.is_dir()).unwrap_or(false) {
            dirs.push(entry.path());
        }
    }
    Ok(dirs)
}

/// rmdir `dir`, retrying a few times while the kernel says EBUSY (exiting tasks still
/// being accounted). Missing is success.
pub(super) fn rmdir_retry(dir: &Path) -> Result<(), CgroupError> {
    let mut delay = Duration::from_millis(2);
    for attempt in 0.. {
        match fs::remove_dir(dir) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) && attempt < 6 => {
                thread::sleep(delay);
                delay *= 2;
            }
            Err(source) => {
                return Err(CgroupError::Remove {
                    path: dir.to_path_buf(),
                    source,
                });
            }
        }
    }
    Ok(())
}

/// One rmdir, no waiting: true if `dir` is gone now.
pub(super) fn try_rmdir(dir: &Path) -> bool {
    match fs::remove_dir(dir) {
        Ok(()) => true,
        Err(e) => e.kind() == io::ErrorKind::NotFound,
    }
}

/// Removes `dir` and every cgroup beneath it, innermost first.
pub(super) fn remove_tree(dir: &Path) -> Result<(), CgroupError> {
    for child in subdirs(dir)? {
        remove_tree(&child)?;
    }
    rmdir_retry(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_levels_records_only_new_dirs_and_undo_removes_them() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        fs::create_dir(root.join("a")).unwrap();
        let mut created = Vec::new();
        create_levels(root, &root.join("a/b/c"), &mut created).unwrap();
        assert_eq!(created, vec![root.join("a/b"), root.join("a/b/c")]);
        remove_created(&created);
        assert!(root.join("a").is_dir());
        assert!(!root.join("a/b").exists());
    }

    #[test]
    fn create_levels_refuses_a_missing_hierarchy() {
        let mut created = Vec::new();
        let r = create_levels(
            Path::new("/nonexistent-pier-root"),
            Path::new("/nonexistent-pier-root/x"),
            &mut created,
        );
        assert!(matches!(r, Err(CgroupError::Create { .. })));
        assert!(created.is_empty());
    }

    #[test]
    fn write_reports_missing_file_with_value() {
        let e = write(Path::new("/nonexistent-pier/x.max"), "10").unwrap_err();
        assert_eq!(
            e.to_string(),
            "writing \"10\" to /nonexistent-pier/x.max: no such file or directory"
        );
    }

    #[test]
    fn keyed_files_parse() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("memory.oom_control");
        fs::write(&p, "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n").unwrap();
        assert_eq!(read_keyed(&p, "oom_kill").unwrap(), Some(3));
        assert_eq!(read_keyed(&p, "absent").unwrap(), None);
        fs::write(&p, "oom_kill x\n").unwrap();
        assert!(matches!(
            read_keyed(&p, "oom_kill"),
            Err(CgroupError::Parse { .. })
        ));
    }

    #[test]
    fn procs_are_collected_recursively() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        fs::create_dir_all(root.join("sub")).unwrap();
        fs::write(root.join("cgroup.procs"), "10\n11\n").unwrap();
        fs::write(root.join("sub/cgroup.procs"), "12\n").unwrap();
        let mut pids = Vec::new();
        procs_recursive(root, &mut pids).unwrap();
        pids.sort();
        assert_eq!(pids, vec![10, 11, 12]);
    }
}
