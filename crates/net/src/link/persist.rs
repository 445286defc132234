//! Network namespaces that outlive every process in them: each one a bind mount of a
//! namespace onto a file (as `ip netns add` makes them), kept until removed. The engine keeps a
//! few made ahead of need, so that a container joins one that is ready instead of having the
//! kernel make (and, after it, tear down) a namespace and a veth on its start's path.

use std::path::{Path, PathBuf};

use nix::mount::{MntFlags, MsFlags, mount, umount2};
use nix::sched::{CloneFlags, unshare};

use crate::error::{NetError, Result};

/// Makes a new network namespace bound at `path` (a new file); its loopback is still down.
/// Blocking: the namespace is made on a thread of its own, which ends with it (a namespace
/// change never reaches the caller's threads).
pub fn create(path: &Path) -> Result<()> {
    let target = path.to_path_buf();
    std::thread::Builder::new()
        .name("pier-netns-new".to_string())
        .spawn(move || make_on_this_thread(&target))
        .map_err(|err| NetError::sys("starting a thread for a new network namespace", err))?
        .join()
        .map_err(|_| NetError::Unavailable("the network namespace thread panicked".into()))?
}

fn make_on_this_thread(path: &Path) -> Result<()> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|err| NetError::io("creating", path, err))?;
    let made = unshare(CloneFlags::CLONE_NEWNET)
        .map_err(|errno| NetError::sys("making a network namespace", errno.into()))
        .and_then(|()| {
            mount(
                Some("/proc/thread-self/ns/net"),
                path,
                None::<&str>,
                MsFlags::MS_BIND,
                None::<&str>,
            )
            .map_err(|errno| NetError::io("binding a network namespace on", path, errno.into()))
        });
    if made.is_err() {
        let _ = std::fs::remove_file(path);
    }
    made
}

/// Lets the namespace at `path` go (the kernel tears it down, with its veths, once nothing
/// else holds it) and removes the file. A path that is gone already is fine.
pub fn remove(path: &Path) -> Result<()> {
    match umount2(path, MntFlags::MNT_DETACH) {
        Ok(()) | Err(nix::errno::Errno::EINVAL) | Err(nix::errno::Errno::ENOENT) => {}
        Err(errno) => {
            return Err(NetError::io(
                "unmounting a network namespace at",
                path,
                errno.into(),
            ));
        }
    }
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(err) => Err(NetError::io("removing", path, err)),
    }
}

/// Whether a network namespace is bound at `path` (a reboot leaves none, nor the file).
pub fn is_bound(path: &Path) -> bool {
    nix::sys::statfs::statfs(path)
        .is_ok_and(|fs| fs.filesystem_type() == nix::sys::statfs::NSFS_MAGIC)
}

/// The files of `dir` (namespaces made before, bound or not); none if it does not exist.
pub fn list(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|entries| entries.flatten().map(|e| e.path()).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inode(path: &Path) -> Option<u64> {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(path).ok().map(|m| m.ino())
    }

    #[test]
    fn a_bound_namespace_lives_until_removed() {
        if !nix::unistd::geteuid().is_root() {
            eprintln!("skipped: needs root");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ns1");
        create(&path).unwrap();
        let ours = inode(Path::new("/proc/self/ns/net"));
        // The file now is the namespace: its inode is the namespace's, not ours.
        let bound = inode(&path);
        assert!(bound.is_some() && bound != ours, "{bound:?} {ours:?}");
        assert!(is_bound(&path));
        assert!(!is_bound(dir.path()));
        assert!(
            create(&path).is_err(),
            "a second namespace on the same file"
        );
        assert_eq!(list(dir.path()), vec![path.clone()]);
        remove(&path).unwrap();
        assert!(!path.exists());
        remove(&path).unwrap();
    }
}
