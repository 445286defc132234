use std::io::Write;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use super::*;
use crate::snapshot::unmount;

fn store() -> (tempfile::TempDir, ImageStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = ImageStore::open(&dir.path().join("root")).unwrap();
    (dir, store)
}

/// A small root filesystem as a tar: /bin/busybox (a copy of any file will do), links, /etc.
fn rootfs_tar(dir: &Path, marker: &str) -> Vec<u8> {
    let root = dir.join(format!("rootfs-{marker}"));
    std::fs::create_dir_all(root.join("bin")).unwrap();
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::write(root.join("bin/busybox"), vec![0x7f; 4096]).unwrap();
    symlink("busybox", root.join("bin/sh")).unwrap();
    std::fs::write(root.join("etc/marker"), marker).unwrap();
    let mut out = Vec::new();
    crate::layer::write_tree(&root, &mut out).unwrap();
    out
}

fn no_one_runs(_: &str) -> bool {
    false
}

struct Mounted(PathBuf);

impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = unmount(&self.0);
    }
}

#[test]
fn import_tag_resolve_inspect_history() {
    let (dir, store) = store();
    let id = store
        .import(
            &rootfs_tar(dir.path(), "one")[..],
            &ImportOptions {
                changes: vec!["CMD [\"sh\"]".into(), "ENV A=1".into()],
                reference: Some(Reference::parse("local/base:v1").unwrap()),
                ..Default::default()
            },
        )
        .unwrap();
    for name in [
        "local/base:v1",
        "docker.io/local/base:v1",
        id.hex(),
        &id.to_string(),
        &id.hex()[..8],
    ] {
        assert_eq!(store.resolve(name).unwrap().id, id, "{name}");
    }
    assert!(matches!(
        store.resolve("local/base"),
        Err(ImageError::NotFound(_))
    ));
    assert_eq!(
        store.resolve("nope:1").unwrap_err().to_string(),
        "No such image: nope:1"
    );
    assert_eq!(
        store.resolve("nope").unwrap_err().to_string(),
        "No such image: nope:latest"
    );
    assert_eq!(
        store.resolve("example.com/x/nope").unwrap_err().to_string(),
        "No such image: example.com/x/nope:latest"
    );
    let inspect = serde_json::to_value(store.inspect("local/base:v1", (1, 45)).unwrap()).unwrap();
    assert_eq!(inspect["Id"], id.to_string());
    assert_eq!(inspect["RepoTags"][0], "local/base:v1");
    assert_eq!(inspect["Config"]["Cmd"][0], "sh");
    assert_eq!(inspect["Config"]["Env"][0], "A=1");
    assert_eq!(inspect["RootFS"]["Layers"].as_array().unwrap().len(), 1);
    let history = store.history(id.hex()).unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].comment, "Imported from -");
    // The image's blobs are all there and verify.
    let record = store.resolve("local/base:v1").unwrap();
    store.content().verify(&record.manifest).unwrap();
    store.content().verify(&record.id).unwrap();
}

#[test]
fn snapshots_mount_commit_and_block_removal() {
    let (dir, store) = store();
    let base = store
        .import(
            &rootfs_tar(dir.path(), "base")[..],
            &ImportOptions::default(),
        )
        .unwrap();
    store
        .tag(&base, &Reference::parse("base").unwrap())
        .unwrap();
    let cdir = dir.path().join("containers/c1");
    let overlay = store.create_snapshot("c1", &base, &cdir).unwrap();
    let rootfs = cdir.join("rootfs");
    std::fs::create_dir_all(&rootfs).unwrap();
    overlay.mount(&rootfs).unwrap();
    {
        let _m = Mounted(rootfs.clone());
        assert_eq!(
            std::fs::read_to_string(rootfs.join("etc/marker")).unwrap(),
            "base"
        );
        // The mount points the image lacks come from the shared init layer, not the upper.
        for made in [
            "proc",
            "dev",
            "sys",
            "etc/hosts",
            "etc/hostname",
            "etc/resolv.conf",
        ] {
            assert!(rootfs.join(made).exists(), "{made} missing");
        }
        std::fs::write(rootfs.join("etc/added"), "new").unwrap();
        std::fs::remove_file(rootfs.join("etc/marker")).unwrap();
    }
    let mut upper: Vec<String> = std::fs::read_dir(cdir.join("upper/etc"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    upper.sort();
    assert_eq!(
        upper,
        ["added", "marker"],
        "the upper's /etc: a file and a whiteout"
    );
    assert!(!cdir.join("upper/proc").exists());
    // Export sees the container's filesystem: the image plus its changes.
    let mut exported = Vec::new();
    store.export_snapshot("c1", &cdir, &mut exported).unwrap();
    let names: Vec<String> = tar::Archive::new(&exported[..])
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().display().to_string())
        .collect();
    assert!(names.iter().any(|n| n.ends_with("etc/added")), "{names:?}");
    assert!(
        !names.iter().any(|n| n.ends_with("etc/marker")),
        "{names:?}"
    );
    assert!(
        names.iter().any(|n| n.ends_with("bin/busybox")),
        "{names:?}"
    );
    let committed = store
        .commit(
            "c1",
            &cdir.join("upper"),
            &CommitOptions {
                changes: vec!["WORKDIR /srv".into()],
                message: Some("a change".into()),
                reference: Some(Reference::parse("derived:1").unwrap()),
                ..Default::default()
            },
        )
        .unwrap();
    let derived = store.resolve("derived:1").unwrap();
    assert_eq!(derived.id, committed);
    assert_eq!(derived.chain_ids.len(), 2);
    assert_eq!(
        derived.chain_ids[0],
        store.resolve("base").unwrap().chain_ids[0]
    );
    // The derived image shows the change, with the deletion as a whiteout.
    let view = dir.path().join("view");
    std::fs::create_dir_all(&view).unwrap();
    store
        .layer_dirs()
        .overlay(&derived.chain_ids, None)
        .unwrap()
        .mount(&view)
        .unwrap();
    {
        let _m = Mounted(view.clone());
        assert_eq!(
            std::fs::read_to_string(view.join("etc/added")).unwrap(),
            "new"
        );
        assert!(!view.join("etc/marker").exists());
    }
    assert_eq!(
        store
            .config(&committed)
            .unwrap()
            .config()
            .unwrap()
            .working_dir
            .as_deref(),
        Some("/srv")
    );

    // c1 uses base: removal needs force, and a running container blocks even that.
    let err = store
        .remove("base", false, &no_one_runs)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(
            "conflict: unable to remove repository reference \"base\" (must force) - container c1"
        ),
        "{err}"
    );
    let err = store
        .remove(base.hex(), true, &|c| c == "c1")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("(cannot be forced) - image is being used by running container c1"),
        "{err}"
    );
    let removed = store.remove(base.hex(), true, &no_one_runs).unwrap();
    assert_eq!(removed[0], Removed::Untagged("base:latest".into()));
    assert_eq!(removed[1], Removed::Deleted(base.clone()));
    // Its layer stays: the container and the derived image still stack it.
    assert!(store.layer_dirs().exists(&derived.chain_ids[0]));
    store.remove_snapshot("c1", &cdir).unwrap();
    let removed = store.remove("derived:1", false, &no_one_runs).unwrap();
    assert_eq!(removed.len(), 4, "{removed:?}"); // untag, image, two layers
    assert!(store.list().unwrap().is_empty());
    assert!(store.content().list().unwrap().is_empty());
    assert!(store.layer_dirs().list().unwrap().is_empty());
}

#[test]
fn untag_keeps_images_with_other_names() {
    let (dir, store) = store();
    let id = store
        .import(&rootfs_tar(dir.path(), "x")[..], &ImportOptions::default())
        .unwrap();
    store.tag(&id, &Reference::parse("a").unwrap()).unwrap();
    store.tag(&id, &Reference::parse("b:2").unwrap()).unwrap();
    let err = store
        .remove(&id.hex()[..12], false, &no_one_runs)
        .unwrap_err()
        .to_string();
    assert!(
        err.ends_with("(must be forced) - image is referenced in multiple repositories"),
        "{err}"
    );
    assert_eq!(
        store.remove("a", false, &no_one_runs).unwrap(),
        vec![Removed::Untagged("a:latest".into())]
    );
    assert_eq!(store.resolve("b:2").unwrap().id, id);
    let removed = store.remove("b:2", false, &no_one_runs).unwrap();
    assert_eq!(
        removed[..2],
        [Removed::Untagged("b:2".into()), Removed::Deleted(id)]
    );
}

#[test]
fn a_layer_that_is_not_what_the_config_says_is_refused() {
    let (dir, store) = store();
    let real = rootfs_tar(dir.path(), "real");
    let other = rootfs_tar(dir.path(), "other");
    let platform = crate::model::host_platform();
    let config = crate::model::ImageConfigBuilder::new(&platform.os, &platform.architecture)
        .add_layer(Digest::of(&real), Default::default())
        .build()
        .unwrap();
    store.content().write_bytes(config.bytes(), None).unwrap();
    let blob = store.content().write_bytes(&other, None).unwrap();
    let layer = crate::model::Descriptor::new(
        crate::model::media_types::OCI_LAYER,
        blob.clone(),
        other.len() as u64,
    );
    let manifest = crate::model::Manifest::oci(
        config.descriptor(crate::model::media_types::OCI_CONFIG),
        vec![layer],
        Default::default(),
    );
    store.content().write_bytes(manifest.bytes(), None).unwrap();
    let err = store
        .register_manifest(manifest.digest(), &[], &[])
        .unwrap_err();
    assert!(matches!(err, ImageError::DiffIdMismatch { .. }), "{err}");
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(store.list().unwrap().is_empty());
    assert!(
        store.layer_dirs().list().unwrap().is_empty(),
        "the bad layer was kept"
    );
    let report = store.collect_garbage().unwrap();
    assert_eq!(report.blobs.len(), 3);
}

/// Run by `crash_during_import_leaves_a_consistent_store` in a child process it then kills.
#[test]
#[ignore]
fn crash_child() {
    let Ok(root) = std::env::var("PIER_CRASH_ROOT") else {
        return;
    };
    let store = ImageStore::open(Path::new(&root)).unwrap();
    // Beside the store, inside the test's own temporary directory: this process is killed.
    let scratch = Path::new(&root).with_extension("scratch");
    for n in 0usize.. {
        // Each import differs, so each makes new blobs and a new layer.
        let rootfs = scratch.join(format!("r{n}"));
        std::fs::create_dir_all(&rootfs).unwrap();
        for i in 0..32 {
            let mut f = std::fs::File::create(rootfs.join(format!("f{i}"))).unwrap();
            f.write_all(&vec![(n + i) as u8; 256 << 10]).unwrap();
        }
        let mut tar = Vec::new();
        crate::layer::write_tree(&rootfs, &mut tar).unwrap();
        let reference = Reference::parse(&format!("crash:{n}")).unwrap();
        store
            .import(
                &tar[..],
                &ImportOptions {
                    reference: Some(reference),
                    ..Default::default()
                },
            )
            .unwrap();
        std::fs::remove_dir_all(&rootfs).unwrap();
    }
}

#[test]
fn crash_during_import_leaves_a_consistent_store() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let exe = std::env::current_exe().unwrap();
    let mut seen = 0;
    for round in 0..6u64 {
        let mut child = std::process::Command::new(&exe)
            .args([
                "--exact",
                "store::tests::crash_child",
                "--ignored",
                "--nocapture",
            ])
            .env("PIER_CRASH_ROOT", &root)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(150 + round * 97));
        child.kill().unwrap();
        child.wait().unwrap();
        let store = ImageStore::open(&root).unwrap();
        seen = store.list().unwrap().len();
        for record in store.list().unwrap() {
            store.content().verify(&record.manifest).unwrap();
            store.content().verify(&record.id).unwrap();
            for layer in store.manifest(&record).unwrap().layers() {
                store.content().verify(&layer.digest).unwrap();
            }
            for chain in &record.chain_ids {
                assert!(
                    store.layer_dirs().exists(chain),
                    "listed image {} lacks layer {chain}",
                    record.id
                );
            }
        }
        // Nothing half done survives the restart: no staging, no stray layers or blobs.
        let leftovers: Vec<_> = std::fs::read_dir(root.join("layers"))
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with(".tmp-"))
            .collect();
        assert!(leftovers.is_empty());
        assert_eq!(
            std::fs::read_dir(root.join("content/ingest"))
                .unwrap()
                .count(),
            0
        );
        let report = store.collect_garbage().unwrap();
        assert!(
            report.blobs.is_empty() && report.layers.is_empty(),
            "{report:?}"
        );
    }
    // The child got far enough to finish imports, so kills landed in the middle of others.
    assert!(
        seen > 1,
        "only {seen} imports finished: the kills proved little"
    );
}
