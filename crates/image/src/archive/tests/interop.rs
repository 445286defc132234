//! Interop with the tools of Debian's packages (scripts/deps.sh installs them): skopeo,
//! umoci and podman read what pier writes, and pier reads what they write.

use std::path::Path;
use std::process::Command;

use super::*;
use crate::archive::{load, save_docker, save_oci_dir};

const BASE: Files<'static> = &[
    ("bin/", ""),
    ("bin/busybox", "a shell, believe it"),
    ("bin/sh", "->busybox"),
    ("etc/os-release", "ID=pier-test\n"),
];
const TOP: Files<'static> = &[
    ("srv/app/data.txt", "payload"),
    ("etc/os-release", "ID=changed\n"),
];

fn skopeo() -> Command {
    let mut cmd = Command::new("skopeo");
    cmd.arg("--insecure-policy");
    cmd
}

/// `layout`'s manifest named `tag` (by its ref.name annotation) and that manifest's config
/// digest.
fn layout_config(layout: &Path, tag: &str) -> Digest {
    let index =
        crate::model::Index::parse(std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    let entry = index
        .manifests()
        .iter()
        .find(|d| {
            d.annotations
                .get("org.opencontainers.image.ref.name")
                .map(String::as_str)
                == Some(tag)
        })
        .unwrap_or_else(|| panic!("no {tag} in {}", layout.display()));
    let bytes = std::fs::read(layout.join("blobs/sha256").join(entry.digest.hex())).unwrap();
    Manifest::parse(bytes).unwrap().config().digest.clone()
}

#[test]
fn skopeo_reads_pier_docker_archives_and_pier_reads_skopeo_output() {
    let dir = tempfile::tempdir().unwrap();
    let a = open_store(dir.path(), "a");
    let id = make_image(
        &a,
        dir.path(),
        &[(BASE, Compression::Gzip), (TOP, Compression::Zstd)],
        &["example.com/app:v1"],
    );
    let archive = dir.path().join("app.tar");
    let mut out = std::fs::File::create(&archive).unwrap();
    save_docker(&a, &["example.com/app:v1".into()], &mut out).unwrap();
    drop(out);
    let source = format!("docker-archive:{}", archive.display());

    let raw: serde_json::Value =
        serde_json::from_str(&run(skopeo().args(["inspect", "--raw", &source]))).unwrap();
    assert_eq!(raw["config"]["digest"], id.to_string());
    let inspect: serde_json::Value =
        serde_json::from_str(&run(skopeo().args(["inspect", &source]))).unwrap();
    let diff_ids: Vec<String> = a
        .config(&id)
        .unwrap()
        .diff_ids()
        .iter()
        .map(|d| d.to_string())
        .collect();
    assert_eq!(inspect["Layers"], serde_json::json!(diff_ids));

    // skopeo writes a docker-archive of it: the same image for pier.
    let copied = dir.path().join("copied.tar");
    run(skopeo().args([
        "copy",
        &source,
        &format!("docker-archive:{}:example.com/app:copied", copied.display()),
    ]));
    let b = open_store(dir.path(), "b");
    let loaded = load(&b, std::fs::File::open(&copied).unwrap()).unwrap();
    assert_eq!(loaded[0].id, id);
    assert_eq!(loaded[0].tags[0].familiar(), "example.com/app:copied");
    assert_eq!(unpacked(&b, &id), unpacked(&a, &id));

    // And an OCI layout (skopeo rewrites the config as OCI's, so the id is its own).
    let layout = dir.path().join("oci");
    run(skopeo().args(["copy", &source, &format!("oci:{}:v1", layout.display())]));
    let config = layout_config(&layout, "v1");
    let c = open_store(dir.path(), "c");
    let loaded = load(&c, &tar_dir(&layout)[..]).unwrap();
    assert_eq!(loaded[0].id, config);
    assert_eq!(unpacked(&c, &config), unpacked(&a, &id));
}

#[test]
fn pier_reads_what_skopeo_makes_of_a_pier_oci_layout() {
    let dir = tempfile::tempdir().unwrap();
    let a = open_store(dir.path(), "a");
    let id = make_image(
        &a,
        dir.path(),
        &[(BASE, Compression::Plain), (TOP, Compression::Gzip)],
        &["example.com/app:v1"],
    );
    let layout = dir.path().join("pier-oci");
    save_oci_dir(&a, &["example.com/app:v1".into()], &layout).unwrap();
    let source = format!("oci:{}:v1", layout.display());
    let raw: serde_json::Value =
        serde_json::from_str(&run(skopeo().args(["inspect", "--raw", &source]))).unwrap();
    assert_eq!(raw["config"]["digest"], id.to_string());

    let copied_layout = dir.path().join("skopeo-oci");
    run(skopeo().args([
        "copy",
        &source,
        &format!("oci:{}:again", copied_layout.display()),
    ]));
    let archive = dir.path().join("skopeo.tar");
    run(skopeo().args([
        "copy",
        &source,
        &format!(
            "docker-archive:{}:example.com/app:skopeo",
            archive.display()
        ),
    ]));
    let b = open_store(dir.path(), "b");
    let loaded = load(&b, &tar_dir(&copied_layout)[..]).unwrap();
    assert_eq!(loaded[0].id, id);
    assert_eq!(unpacked(&b, &id), unpacked(&a, &id));
    let c = open_store(dir.path(), "c");
    let loaded = load(&c, std::fs::File::open(&archive).unwrap()).unwrap();
    assert_eq!(loaded[0].id, id);
    assert_eq!(loaded[0].tags[0].familiar(), "example.com/app:skopeo");
    assert_eq!(unpacked(&c, &id), unpacked(&a, &id));
}

#[test]
fn an_image_umoci_made_loads_in_pier_and_umoci_unpacks_what_pier_saves() {
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("umoci");
    let bundle = dir.path().join("bundle");
    let image = |tag: &str| format!("{}:{tag}", layout.display());
    run(Command::new("umoci")
        .args(["init", "--layout"])
        .arg(&layout));
    run(Command::new("umoci").args(["new", "--image", &image("base")]));
    run(Command::new("umoci")
        .args(["unpack", "--image", &image("base")])
        .arg(&bundle));
    let rootfs = bundle.join("rootfs");
    std::fs::create_dir_all(rootfs.join("etc")).unwrap();
    std::fs::write(rootfs.join("etc/hello"), "from umoci").unwrap();
    std::os::unix::fs::symlink("hello", rootfs.join("etc/link")).unwrap();
    run(Command::new("umoci")
        .args(["repack", "--image", &image("v1")])
        .arg(&bundle));
    run(Command::new("umoci").args(["config", "--image", &image("v1"), "--config.cmd", "sh"]));
    run(Command::new("umoci").args(["tag", "--image", &image("v1"), "stable"]));
    let config = layout_config(&layout, "stable");

    let store = open_store(dir.path(), "pier");
    let loaded = load(&store, &tar_dir(&layout)[..]).unwrap();
    // umoci's ref names are bare tags, which name no repository.
    assert!(loaded.iter().all(|l| l.tags.is_empty()));
    assert!(loaded.iter().any(|l| l.id == config), "{loaded:?}");
    let layers = unpacked(&store, &config);
    assert_eq!(layers.last().unwrap()["etc/hello"], "from umoci");
    assert_eq!(layers.last().unwrap()["etc/link"], "-> hello");
    assert_eq!(
        store
            .config(&config)
            .unwrap()
            .config()
            .unwrap()
            .cmd
            .as_deref(),
        Some(&["sh".to_owned()][..])
    );

    // The other way: umoci unpacks pier's layout to the same files.
    let id = make_image(
        &store,
        dir.path(),
        &[(BASE, Compression::Plain), (TOP, Compression::Gzip)],
        &["example.com/app:v1"],
    );
    let pier_layout = dir.path().join("pier-oci");
    save_oci_dir(&store, &["example.com/app:v1".into()], &pier_layout).unwrap();
    let unpacked_by_umoci = dir.path().join("from-pier");
    run(Command::new("umoci")
        .args([
            "unpack",
            "--image",
            &format!("{}:v1", pier_layout.display()),
        ])
        .arg(&unpacked_by_umoci));
    let root = unpacked_by_umoci.join("rootfs");
    assert_eq!(
        std::fs::read_to_string(root.join("etc/os-release")).unwrap(),
        "ID=changed\n"
    );
    assert_eq!(
        std::fs::read_to_string(root.join("srv/app/data.txt")).unwrap(),
        "payload"
    );
    assert_eq!(
        std::fs::read_link(root.join("bin/sh")).unwrap(),
        Path::new("busybox")
    );
    assert_eq!(layout_config(&pier_layout, "v1"), id);
}

/// podman on a root of its own, touching nothing of the host's.
fn podman(root: &Path) -> Command {
    let mut cmd = Command::new("podman");
    cmd.arg("--root")
        .arg(root.join("root"))
        .arg("--runroot")
        .arg(root.join("run"))
        .arg("--tmpdir")
        .arg(root.join("tmp"))
        .arg("--volumepath")
        .arg(root.join("volumes"))
        .arg("--network-config-dir")
        .arg(root.join("networks"))
        .args([
            "--storage-driver",
            "vfs",
            "--cgroup-manager",
            "cgroupfs",
            "--events-backend",
            "none",
            "--log-level",
            "error",
        ]);
    cmd
}

#[test]
fn podman_loads_what_pier_saves_and_pier_loads_what_podman_saves() {
    let dir = tempfile::tempdir().unwrap();
    let a = open_store(dir.path(), "a");
    let id = make_image(
        &a,
        dir.path(),
        &[(BASE, Compression::Zstd), (TOP, Compression::Gzip)],
        &["example.com/app:v1"],
    );
    let archive = dir.path().join("pier.tar");
    save_docker(
        &a,
        &["example.com/app:v1".into()],
        std::fs::File::create(&archive).unwrap(),
    )
    .unwrap();
    let podman_root = dir.path().join("podman");
    run(podman(&podman_root).arg("load").arg("-i").arg(&archive));
    let images =
        run(podman(&podman_root).args(["images", "--format", "{{.ID}} {{.Repository}}:{{.Tag}}"]));
    assert_eq!(images.trim(), format!("{} example.com/app:v1", id.short()));

    let back = dir.path().join("podman.tar");
    run(podman(&podman_root)
        .args(["save", "--format", "docker-archive", "-o"])
        .arg(&back)
        .arg("example.com/app:v1"));
    let b = open_store(dir.path(), "b");
    let loaded = load(&b, std::fs::File::open(&back).unwrap()).unwrap();
    assert_eq!(loaded[0].id, id);
    assert_eq!(loaded[0].tags[0].familiar(), "example.com/app:v1");
    assert_eq!(unpacked(&b, &id), unpacked(&a, &id));
}
