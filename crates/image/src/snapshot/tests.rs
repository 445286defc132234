use std::path::{Path, PathBuf};

use super::*;

fn chain(n: usize) -> Digest {
    Digest::of(format!("layer {n}").as_bytes())
}

/// Unpacks `count` one-file layers (layer i writes /f<i> and /common = i).
fn layers(dirs: &LayerDirs, count: usize) -> Vec<Digest> {
    (0..count)
        .map(|i| {
            let staging = dirs.staging().unwrap();
            std::fs::write(staging.diff().join(format!("f{i}")), format!("{i}")).unwrap();
            std::fs::write(staging.diff().join("common"), format!("{i}")).unwrap();
            let id = chain(i);
            dirs.commit(staging, &id).unwrap();
            id
        })
        .collect()
}

struct Mounted(PathBuf);

impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = unmount(&self.0);
    }
}

fn check_view(target: &Path, count: usize) {
    assert_eq!(
        std::fs::read_to_string(target.join("common")).unwrap(),
        format!("{}", count - 1)
    );
    for i in [0, count / 2, count - 1] {
        assert_eq!(
            std::fs::read_to_string(target.join(format!("f{i}"))).unwrap(),
            format!("{i}")
        );
    }
}

#[test]
fn staging_is_removed_unless_committed_and_leftovers_go_at_open() {
    let tmp = tempfile::tempdir().unwrap();
    let dirs = LayerDirs::open(tmp.path()).unwrap();
    let dropped = dirs.staging().unwrap();
    let path = dropped.dir.clone();
    drop(dropped);
    assert!(!path.exists());
    let crashed = dirs.staging().unwrap();
    let leftover = crashed.dir.clone();
    std::mem::forget(crashed);
    assert!(leftover.exists());
    LayerDirs::open(tmp.path()).unwrap();
    assert!(
        !leftover.exists(),
        "a half-unpacked layer survived a restart"
    );
}

#[test]
fn many_layers_mount_with_the_new_api_and_with_short_links() {
    let tmp = tempfile::tempdir().unwrap();
    let dirs = LayerDirs::open(&tmp.path().join("layers")).unwrap();
    let count = 130;
    let ids = layers(&dirs, count);
    let container = tmp.path().join("c1");
    let overlay = dirs.container_overlay(&ids, &container).unwrap();
    // 130 absolute paths are far beyond one page of options.
    assert!(
        overlay
            .lowers
            .iter()
            .map(|p| p.as_os_str().len() + 1)
            .sum::<usize>()
            > 4096
    );
    let target = container.join("rootfs");
    std::fs::create_dir_all(&target).unwrap();
    {
        overlay.mount(&target).unwrap();
        let _m = Mounted(target.clone());
        check_view(&target, count);
        std::fs::write(target.join("new"), "x").unwrap();
    }
    assert_eq!(
        std::fs::read_to_string(container.join("upper/new")).unwrap(),
        "x"
    );
    {
        mount::force_option_string(&overlay, &target).unwrap();
        let _m = Mounted(target.clone());
        check_view(&target, count);
        assert_eq!(std::fs::read_to_string(target.join("new")).unwrap(), "x");
    }
}

#[test]
fn read_only_views_refuse_writes() {
    let tmp = tempfile::tempdir().unwrap();
    let dirs = LayerDirs::open(&tmp.path().join("layers")).unwrap();
    let ids = layers(&dirs, 2);
    for view in [&ids[..1], &ids[..]] {
        let target = tmp.path().join(format!("view{}", view.len()));
        std::fs::create_dir_all(&target).unwrap();
        dirs.overlay(view, None).unwrap().mount(&target).unwrap();
        let _m = Mounted(target.clone());
        assert_eq!(
            std::fs::read_to_string(target.join("common")).unwrap(),
            format!("{}", view.len() - 1)
        );
        let err = std::fs::write(target.join("x"), "x").unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EROFS));
    }
}

#[test]
fn a_missing_layer_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let dirs = LayerDirs::open(tmp.path()).unwrap();
    let err = dirs.overlay(&[chain(9)], None).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("layer {} is not unpacked", chain(9))
    );
}
