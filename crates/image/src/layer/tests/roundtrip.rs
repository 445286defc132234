//! apply -> diff_upper / write_tree -> apply gives the same tree.

use std::os::unix::fs::MetadataExt;

use super::apply::rich_layer;
use super::*;
use crate::layer::{
    DiffStats, TimePrecision, WriteOptions, diff_upper, diff_upper_with, write_tree_with,
};

const EXACT_TIMES: WriteOptions = WriteOptions {
    times: TimePrecision::Exact,
};

fn entry_names(tar: &[u8]) -> Vec<String> {
    tar::Archive::new(tar)
        .entries()
        .unwrap()
        .map(|e| String::from_utf8_lossy(&e.unwrap().path_bytes()).into_owned())
        .collect()
}

#[test]
fn an_applied_layer_diffs_back_to_the_same_tree() {
    let s = Scratch::new();
    s.apply(rich_layer(true), &ALL).unwrap();
    let mut tar = Vec::new();
    let stats = diff_upper_with(&s.dest(), &mut tar, &EXACT_TIMES).unwrap();
    assert_eq!(stats.diff_id, Digest::of(&tar));
    assert_eq!(stats.tar_size, tar.len() as u64);
    assert_eq!((stats.whiteouts, stats.opaque_dirs), (1, 1));
    let names = entry_names(&tar);
    assert!(names.contains(&"etc/.wh.gone".to_string()), "{names:?}");
    // 4 MiB of which two blocks hold data: written sparse, as GNU tar would.
    assert!(
        names.contains(&"var/GNUSparseFile.0/sparse".to_string()),
        "{names:?}"
    );
    assert!(tar.len() < 1 << 20, "{} bytes", tar.len());
    let opq = names
        .iter()
        .position(|n| n == "opaque/.wh..wh..opq")
        .unwrap();
    assert_eq!(
        names[opq - 1],
        "opaque/",
        "the marker follows its directory"
    );

    let again = s.empty("again");
    let applied = apply_layer(std::io::Cursor::new(tar.clone()), &again, &ALL).unwrap();
    assert_eq!(applied.diff_id, stats.diff_id);
    assert_same(&snapshot(&s.dest(), EXACT), &snapshot(&again, EXACT));
    let sparse = std::fs::metadata(again.join("var/sparse")).unwrap();
    assert!(
        sparse.blocks() * 512 <= 64 << 10,
        "holes kept: {} blocks",
        sparse.blocks()
    );
    // The opaque xattr is back on the directory.
    let dir = File::open(&again).unwrap();
    let x = xattr::list(On::Child {
        dir: dir.as_fd(),
        name: b"opaque",
    })
    .unwrap();
    assert!(x.contains(&(b"trusted.overlay.opaque".to_vec(), b"y".to_vec())));

    // And once more: the same tree, the same bytes.
    let mut tar2 = Vec::new();
    diff_upper_with(&again, &mut tar2, &EXACT_TIMES).unwrap();
    assert!(tar == tar2, "not deterministic");
}

#[test]
fn a_tree_writes_back_to_the_same_tree() {
    let s = Scratch::new();
    s.apply(rich_layer(false), &ALL).unwrap();
    let mut tar = Vec::new();
    let stats = write_tree_with(&s.dest(), &mut tar, &EXACT_TIMES).unwrap();
    assert_eq!(
        (stats.whiteouts, stats.opaque_dirs, stats.sockets_skipped),
        (0, 0, 0)
    );
    let again = s.empty("again");
    apply_layer(std::io::Cursor::new(tar), &again, &ALL).unwrap();
    assert_same(&snapshot(&s.dest(), EXACT), &snapshot(&again, EXACT));
}

#[test]
fn whole_seconds_by_default_as_docker_writes() {
    let s = Scratch::new();
    s.apply(rich_layer(false), &ALL).unwrap();
    let mut tar = Vec::new();
    let stats: DiffStats = diff_upper(&s.dest(), &mut tar).unwrap();
    let mut archive = tar::Archive::new(&tar[..]);
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let records: Vec<String> = match entry.pax_extensions().unwrap() {
            Some(r) => r.map(|r| r.unwrap().key().unwrap().to_owned()).collect(),
            None => Vec::new(),
        };
        assert!(
            !records.iter().any(|k| k == "atime" || k == "mtime"),
            "{:?}: {records:?}",
            entry.path()
        );
    }
    let again = s.empty("again");
    apply_layer(std::io::Cursor::new(tar), &again, &ALL).unwrap();
    let cmp = Compare {
        atime: false,
        dir_mtime: true,
        nsec: false,
    };
    assert_same(&snapshot(&s.dest(), cmp), &snapshot(&again, cmp));
    assert_eq!(stats.data_bytes, 11 + 3 + 4 + (4 << 20));
}

#[test]
fn sockets_are_left_out_and_mounts_not_entered() {
    let s = Scratch::new();
    let tree = s.empty("tree");
    std::fs::write(tree.join("f"), "f").unwrap();
    let _listener = std::os::unix::net::UnixListener::bind(tree.join("sock")).unwrap();
    std::fs::create_dir(tree.join("mnt")).unwrap();
    let names = in_mount_namespace(|| {
        nix::mount::mount(
            Some("tmpfs"),
            &tree.join("mnt"),
            Some("tmpfs"),
            nix::mount::MsFlags::empty(),
            None::<&str>,
        )
        .unwrap();
        std::fs::write(tree.join("mnt/hidden"), "on the mount").unwrap();
        let mut tar = Vec::new();
        let stats = crate::layer::write_tree(&tree, &mut tar).unwrap();
        assert_eq!(stats.sockets_skipped, 1);
        let _ = nix::mount::umount2(&tree.join("mnt"), nix::mount::MntFlags::MNT_DETACH);
        entry_names(&tar)
    });
    assert_eq!(names, vec!["f", "mnt/"]);
}

#[test]
fn upper_dirs_with_redirects_or_metacopy_are_refused() {
    let s = Scratch::new();
    let upper = s.empty("upper");
    std::fs::create_dir(upper.join("moved")).unwrap();
    let dir = File::open(&upper).unwrap();
    xattr::set(
        On::Child {
            dir: dir.as_fd(),
            name: b"moved",
        },
        b"trusted.overlay.redirect",
        b"/old",
    )
    .unwrap();
    let err = diff_upper(&upper, std::io::sink()).unwrap_err();
    assert!(err.to_string().contains("redirect_dir"), "{err}");
    // write_tree does not care: a tree is a tree.
    crate::layer::write_tree(&upper, std::io::sink()).unwrap();
}
