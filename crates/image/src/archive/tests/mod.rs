//! Tests of loading and saving archives: round trips through pier, hostile archives, and
//! interop with skopeo, umoci and podman. Images are made here from files; nothing is pulled.

mod hostile;
mod interop;
mod roundtrip;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::digest::Digest;
use crate::model::{
    Compression, Descriptor, History, ImageConfigBuilder, Manifest, host_platform, media_types,
};
use crate::reference::Reference;
use crate::store::ImageStore;

pub(super) fn open_store(dir: &Path, name: &str) -> ImageStore {
    ImageStore::open(&dir.join(name)).unwrap()
}

/// Files of a layer: path and contents (a trailing `/` makes a directory, `->` a symlink).
pub(super) type Files<'a> = &'a [(&'a str, &'a str)];

/// A layer tar of `files`, written by pier's own tree writer.
pub(super) fn layer_tar(dir: &Path, files: Files<'_>) -> Vec<u8> {
    let root = tempfile::tempdir_in(dir).unwrap();
    for (path, data) in files {
        let target = root.path().join(path.trim_end_matches('/'));
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        if path.ends_with('/') {
            std::fs::create_dir_all(&target).unwrap();
        } else if let Some(link) = data.strip_prefix("->") {
            std::os::unix::fs::symlink(link, &target).unwrap();
        } else {
            std::fs::write(&target, data).unwrap();
        }
    }
    // Fixed times: the same files always make the same tar (the same diff_id).
    pin_times(root.path());
    let mut out = Vec::new();
    crate::layer::write_tree(root.path(), &mut out).unwrap();
    out
}

fn pin_times(path: &Path) {
    use nix::sys::stat::{UtimensatFlags, utimensat};
    use nix::sys::time::TimeSpec;
    if path.is_dir() && !path.is_symlink() {
        for entry in std::fs::read_dir(path).unwrap() {
            pin_times(&entry.unwrap().path());
        }
    }
    let t = TimeSpec::new(1_700_000_000, 0);
    utimensat(
        nix::fcntl::AT_FDCWD,
        path,
        &t,
        &t,
        UtimensatFlags::NoFollowSymlink,
    )
    .unwrap();
}

pub(super) fn compress(data: &[u8], compression: Compression) -> Vec<u8> {
    match compression {
        Compression::Plain => data.to_vec(),
        Compression::Gzip => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(data).unwrap();
            e.finish().unwrap()
        }
        Compression::Zstd => zstd::encode_all(data, 1).unwrap(),
    }
}

/// A config for layers with these diff ids, for the host's platform.
pub(super) fn config_for(diff_ids: &[Digest], created: &str) -> crate::model::ImageConfig {
    let host = host_platform();
    let mut builder = ImageConfigBuilder::new("linux", &host.architecture)
        .variant(host.variant.as_deref())
        .created(created);
    builder.config_mut().cmd = Some(vec!["sh".into()]);
    builder.config_mut().env = Some(vec!["PATH=/bin".into(), "A=<&>".into()]);
    for (i, d) in diff_ids.iter().enumerate() {
        builder = builder.add_layer(
            d.clone(),
            History {
                created: Some(created.into()),
                created_by: Some(format!("layer {i}")),
                ..Default::default()
            },
        );
    }
    builder.build().unwrap()
}

/// Makes and records an image of `layers` (files, and how the blob is compressed) tagged
/// `tags`; gives its id.
pub(super) fn make_image(
    store: &ImageStore,
    dir: &Path,
    layers: &[(Files<'_>, Compression)],
    tags: &[&str],
) -> Digest {
    let content = store.content();
    let mut descriptors = Vec::new();
    let mut diff_ids = Vec::new();
    for (files, compression) in layers {
        let tar = layer_tar(dir, files);
        diff_ids.push(Digest::of(&tar));
        let blob = compress(&tar, *compression);
        let digest = content.write_bytes(&blob, None).unwrap();
        descriptors.push(Descriptor::new(
            compression.oci_layer_media_type(),
            digest,
            blob.len() as u64,
        ));
    }
    let config = config_for(&diff_ids, "2024-05-06T07:08:09.123Z");
    content.write_bytes(config.bytes(), None).unwrap();
    let manifest = Manifest::oci(
        config.descriptor(media_types::OCI_CONFIG),
        descriptors,
        BTreeMap::new(),
    );
    content.write_bytes(manifest.bytes(), None).unwrap();
    let tags: Vec<Reference> = tags.iter().map(|t| Reference::parse(t).unwrap()).collect();
    store
        .register_manifest(manifest.digest(), &tags, &[])
        .unwrap()
}

/// The files an image's layers unpacked to, layer by layer: path to contents (symlinks as
/// `-> target`, directories as `/`).
pub(super) fn unpacked(store: &ImageStore, id: &Digest) -> Vec<BTreeMap<String, String>> {
    let record = store.get(id).unwrap().unwrap();
    record
        .chain_ids
        .iter()
        .map(|chain| {
            let root = store.layer_dirs().diff(chain);
            let mut files = BTreeMap::new();
            walk(&root, &root, &mut files);
            files
        })
        .collect()
}

fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path: PathBuf = entry.unwrap().path();
        let name = path.strip_prefix(root).unwrap().display().to_string();
        let meta = std::fs::symlink_metadata(&path).unwrap();
        if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&path).unwrap();
            out.insert(name, format!("-> {}", target.display()));
        } else if meta.is_dir() {
            out.insert(name, "/".into());
            walk(root, &path, out);
        } else {
            out.insert(
                name,
                String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into(),
            );
        }
    }
}

/// A raw tar entry, written as given (no path checks), for archives made by hand.
pub(super) enum Raw<'a> {
    File(&'a str, &'a [u8]),
    Dir(&'a str),
    Symlink(&'a str, &'a str),
    HardLink(&'a str, &'a str),
    Fifo(&'a str),
}

pub(super) fn raw_tar(entries: &[Raw<'_>]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for entry in entries {
        let mut h = tar::Header::new_ustar();
        let (path, kind, data, link): (&str, tar::EntryType, &[u8], Option<&str>) = match entry {
            Raw::File(p, d) => (p, tar::EntryType::Regular, d, None),
            Raw::Dir(p) => (p, tar::EntryType::Directory, &[], None),
            Raw::Symlink(p, t) => (p, tar::EntryType::Symlink, &[], Some(t)),
            Raw::HardLink(p, t) => (p, tar::EntryType::Link, &[], Some(t)),
            Raw::Fifo(p) => (p, tar::EntryType::Fifo, &[], None),
        };
        let name = &mut h.as_ustar_mut().unwrap().name;
        name[..path.len()].copy_from_slice(path.as_bytes());
        if let Some(link) = link {
            let field = &mut h.as_ustar_mut().unwrap().linkname;
            field[..link.len()].copy_from_slice(link.as_bytes());
        }
        h.set_entry_type(kind);
        h.set_mode(0o644);
        h.set_size(data.len() as u64);
        h.set_cksum();
        builder.append(&h, data).unwrap();
    }
    builder.into_inner().unwrap()
}

/// Runs a command, panicking with its output if it fails; gives its stdout.
pub(super) fn run(cmd: &mut std::process::Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e} (scripts/deps.sh installs the test tools)"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A tar of a directory's contents, as `tar -C dir -cf - .` makes it.
pub(super) fn tar_dir(dir: &Path) -> Vec<u8> {
    let out = std::process::Command::new("tar")
        .arg("-C")
        .arg(dir)
        .args(["-cf", "-", "."])
        .output()
        .unwrap();
    assert!(out.status.success());
    out.stdout
}
