//! Archives made to hurt: each is refused with an error naming the entry at fault, nothing
//! is recorded, and garbage collection leaves the store as it was.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;
use crate::archive::load;
use crate::store::ErrorKind;

const FILES: Files<'static> = &[("etc/", ""), ("etc/hostname", "legit"), ("bin/sh", "sh")];

/// The parts of a good docker-archive: a layer, its config, and a manifest.json naming them
/// `c.json` and `l/layer.tar`.
struct Legit {
    layer: Vec<u8>,
    config: Vec<u8>,
    manifest: Vec<u8>,
}

fn legit(dir: &Path) -> Legit {
    let layer = layer_tar(dir, FILES);
    let config = config_for(&[Digest::of(&layer)], "2024-01-01T00:00:00Z")
        .bytes()
        .to_vec();
    Legit {
        layer,
        config,
        manifest: manifest_json("c.json", &["l/layer.tar"]),
    }
}

fn manifest_json(config: &str, layers: &[&str]) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!([
        {"Config": config, "RepoTags": ["evil:1"], "Layers": layers}
    ]))
    .unwrap()
}

static STORES: AtomicUsize = AtomicUsize::new(0);

fn refused(dir: &Path, archive: &[u8], needle: &str) {
    let store = open_store(dir, &format!("s{}", STORES.fetch_add(1, Ordering::SeqCst)));
    let err = load(&store, archive).expect_err(needle);
    assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{err}");
    assert!(err.to_string().contains(needle), "{needle:?} not in: {err}");
    assert!(store.list().unwrap().is_empty(), "nothing recorded: {err}");
    store.collect_garbage().unwrap();
    assert!(
        store.content().list().unwrap().is_empty(),
        "blobs left: {err}"
    );
    assert!(
        store.layer_dirs().list().unwrap().is_empty(),
        "layers left: {err}"
    );
}

#[test]
fn the_legit_archive_loads() {
    let dir = tempfile::tempdir().unwrap();
    let l = legit(dir.path());
    let store = open_store(dir.path(), "ok");
    let loaded = load(
        &store,
        &raw_tar(&[
            Raw::File("manifest.json", &l.manifest),
            Raw::File("c.json", &l.config),
            Raw::Dir("l/"),
            Raw::File("l/layer.tar", &l.layer),
            Raw::File("l/json", b"{}"),
            Raw::File("l/VERSION", b"1.0"),
        ])[..],
    )
    .unwrap();
    assert_eq!(loaded[0].id, Digest::of(&l.config));
}

#[test]
fn paths_that_escape_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let l = legit(dir.path());
    let with = |extra: Raw<'_>| {
        raw_tar(&[
            Raw::File("manifest.json", &l.manifest),
            Raw::File("c.json", &l.config),
            Raw::File("l/layer.tar", &l.layer),
            extra,
        ])
    };
    refused(
        dir.path(),
        &with(Raw::File("../evil", b"x")),
        r#"entry "../evil": path with .."#,
    );
    refused(
        dir.path(),
        &with(Raw::File("/etc/evil", b"x")),
        r#"entry "/etc/evil": absolute path"#,
    );
    refused(
        dir.path(),
        &with(Raw::File("l/../../x", b"x")),
        r#""l/../../x": path with .."#,
    );
    refused(
        dir.path(),
        &with(Raw::Symlink("m/layer.tar", "../../etc/shadow")),
        r#"entry "m/layer.tar": symlink out of the archive"#,
    );
    refused(
        dir.path(),
        &with(Raw::Symlink("m/layer.tar", "/etc/shadow")),
        r#"entry "m/layer.tar": symlink to an absolute path"#,
    );
    refused(
        dir.path(),
        &with(Raw::Symlink("repositories", "l/layer.tar")),
        r#"entry "repositories": a symlink where the formats allow none"#,
    );
    refused(
        dir.path(),
        &with(Raw::HardLink("m/layer.tar", "l/layer.tar")),
        r#"entry "m/layer.tar": hard links are not allowed"#,
    );
    refused(
        dir.path(),
        &with(Raw::Fifo("fifo")),
        r#"entry "fifo": entries of type '6'"#,
    );
    refused(
        dir.path(),
        &with(Raw::File("a/b/c", b"x")),
        r#"entry "a/b/c": not part of"#,
    );
    refused(
        dir.path(),
        &with(Raw::File("l/other", b"x")),
        r#"entry "l/other": not part of"#,
    );
    refused(
        dir.path(),
        &with(Raw::File("c.json", b"{}")),
        r#"entry "c.json": appears twice"#,
    );
}

#[test]
fn documents_that_lie_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let l = legit(dir.path());
    let archive = |manifest: &[u8], config: &[u8], layer: &[u8]| {
        raw_tar(&[
            Raw::File("manifest.json", manifest),
            Raw::File("c.json", config),
            Raw::File("l/layer.tar", layer),
        ])
    };
    // A missing layer, a missing config.
    refused(
        dir.path(),
        &archive(
            &manifest_json("c.json", &["gone/layer.tar"]),
            &l.config,
            &l.layer,
        ),
        "manifest.json: [0].Layers[0]: gone/layer.tar is not in the archive",
    );
    refused(
        dir.path(),
        &archive(
            &manifest_json("gone.json", &["l/layer.tar"]),
            &l.config,
            &l.layer,
        ),
        "manifest.json: [0].Config: gone.json is not in the archive",
    );
    refused(
        dir.path(),
        &archive(
            &manifest_json("../c.json", &["l/layer.tar"]),
            &l.config,
            &l.layer,
        ),
        "manifest.json: [0].Config: path with ..",
    );
    // A layer that is not the one the config says.
    let other = layer_tar(dir.path(), &[("etc/hostname", "swapped")]);
    refused(
        dir.path(),
        &archive(&l.manifest, &l.config, &other),
        "invalid image archive: l/layer.tar: layer of manifest.json[0]",
    );
    // As many layers as the config says.
    refused(
        dir.path(),
        &archive(
            &manifest_json("c.json", &["l/layer.tar", "l/layer.tar"]),
            &l.config,
            &l.layer,
        ),
        "c.json: the config lists 1 layers (rootfs.diff_ids) but manifest.json[0] gives 2",
    );
    refused(
        dir.path(),
        &archive(b"{\"not\":\"a list\"}", &l.config, &l.layer),
        "manifest.json: not a docker-archive manifest",
    );
    refused(
        dir.path(),
        &archive(&l.manifest, b"{\"rootfs\":7}", &l.layer),
        "c.json: invalid image config",
    );
    refused(
        dir.path(),
        &archive(
            &serde_json::to_vec(&serde_json::json!([{"Config":"c.json","RepoTags":["Bad:Tag:x"],"Layers":["l/layer.tar"]}])).unwrap(),
            &l.config,
            &l.layer,
        ),
        "manifest.json: [0].RepoTags[0] \"Bad:Tag:x\"",
    );
    // A layer that climbs out of its root, in the form of a good tar.
    let evil_layer = raw_tar(&[Raw::File("../../escaped", b"x")]);
    let evil_config = config_for(&[Digest::of(&evil_layer)], "2024-01-01T00:00:00Z");
    refused(
        dir.path(),
        &archive(&l.manifest, evil_config.bytes(), &evil_layer),
        "l/layer.tar: layer of manifest.json[0]",
    );
    // Too big to keep in memory.
    let huge = vec![b' '; 9 << 20];
    refused(
        dir.path(),
        &archive(&huge, &l.config, &l.layer),
        r#"entry "manifest.json": 9437184 bytes"#,
    );
    // Neither format, and not a tar at all.
    refused(
        dir.path(),
        &raw_tar(&[Raw::File("c.json", &l.config)]),
        "neither manifest.json",
    );
    refused(dir.path(), &[7u8; 2048], "invalid image archive");
}

#[test]
fn one_bad_image_keeps_every_image_out() {
    let dir = tempfile::tempdir().unwrap();
    let l = legit(dir.path());
    // The second image has the first's layer and one more, which is not what its config says.
    let said = layer_tar(dir.path(), &[("etc/hostname", "said")]);
    let given = layer_tar(dir.path(), &[("etc/hostname", "given")]);
    let second = config_for(
        &[Digest::of(&l.layer), Digest::of(&said)],
        "2024-02-02T00:00:00Z",
    );
    let manifest = serde_json::to_vec(&serde_json::json!([
        {"Config": "c.json", "RepoTags": ["good:1"], "Layers": ["l/layer.tar"]},
        {"Config": "d.json", "RepoTags": ["bad:1"], "Layers": ["l/layer.tar", "m/layer.tar"]},
    ]))
    .unwrap();
    refused(
        dir.path(),
        &raw_tar(&[
            Raw::File("manifest.json", &manifest),
            Raw::File("c.json", &l.config),
            Raw::File("d.json", second.bytes()),
            Raw::File("l/layer.tar", &l.layer),
            Raw::File("m/layer.tar", &given),
        ]),
        "m/layer.tar: layer of manifest.json[1]",
    );
}

#[test]
fn a_second_blob_of_a_layer_is_checked_too() {
    let dir = tempfile::tempdir().unwrap();
    let l = legit(dir.path());
    // Another image of the same layer, whose blob (gzip, so its digest says nothing) is
    // something else: the layer is unpacked from the first blob, the second is hashed.
    let other = config_for(&[Digest::of(&l.layer)], "2024-03-03T00:00:00Z");
    let wrong = compress(&layer_tar(dir.path(), &[("x", "y")]), Compression::Gzip);
    let manifest = serde_json::to_vec(&serde_json::json!([
        {"Config": "c.json", "RepoTags": ["good:1"], "Layers": ["l/layer.tar"]},
        {"Config": "d.json", "RepoTags": ["bad:1"], "Layers": ["m/layer.tar"]},
    ]))
    .unwrap();
    let archive = |second: &[u8]| {
        raw_tar(&[
            Raw::File("manifest.json", &manifest),
            Raw::File("c.json", &l.config),
            Raw::File("d.json", other.bytes()),
            Raw::File("l/layer.tar", &l.layer),
            Raw::File("m/layer.tar", second),
        ])
    };
    refused(
        dir.path(),
        &archive(&wrong),
        "m/layer.tar: layer of manifest.json[1]",
    );
    // The same layer compressed is fine.
    let store = open_store(dir.path(), "fine");
    let loaded = load(&store, &archive(&compress(&l.layer, Compression::Zstd))[..]).unwrap();
    assert_eq!(loaded.len(), 2);
    // And a store that has the layer checks a new blob of it as well.
    let store = open_store(dir.path(), "has-it");
    load(
        &store,
        &raw_tar(&[
            Raw::File("manifest.json", &manifest_json("c.json", &["l/layer.tar"])),
            Raw::File("c.json", &l.config),
            Raw::File("l/layer.tar", &l.layer),
        ])[..],
    )
    .unwrap();
    let err = load(&store, &archive(&wrong)[..]).unwrap_err();
    assert!(err.to_string().contains("m/layer.tar"), "{err}");
    assert!(store.resolve("bad:1").is_err());
}

#[test]
fn layouts_that_lie_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let l = legit(dir.path());
    let layer = Descriptor::of(media_types::OCI_LAYER, &l.layer);
    let config = Descriptor::of(media_types::OCI_CONFIG, &l.config);
    let manifest = Manifest::oci(config.clone(), vec![layer.clone()], BTreeMap::new());
    let mut entry = manifest.descriptor();
    entry
        .annotations
        .insert("org.opencontainers.image.ref.name".into(), "evil:1".into());
    let index = crate::model::Index::oci(vec![entry], BTreeMap::new());
    let blob = |d: &Descriptor| format!("blobs/sha256/{}", d.digest.hex());
    let (m, c, y) = (blob(&manifest.descriptor()), blob(&config), blob(&layer));
    let layout = |files: &[Raw<'_>]| {
        let mut all = vec![
            Raw::File("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#),
            Raw::File("index.json", index.bytes()),
        ];
        all.extend(files.iter().map(|f| match f {
            Raw::File(p, d) => Raw::File(p, d),
            _ => unreachable!(),
        }));
        raw_tar(&all)
    };
    let ok = layout(&[
        Raw::File(&m, manifest.bytes()),
        Raw::File(&c, &l.config),
        Raw::File(&y, &l.layer),
    ]);
    let store = open_store(dir.path(), "ok");
    assert_eq!(
        load(&store, &ok[..]).unwrap()[0].tags[0].familiar(),
        "evil:1"
    );

    refused(
        dir.path(),
        &layout(&[
            Raw::File(&m, manifest.bytes()),
            Raw::File(&c, &l.config),
            Raw::File(&y, b"not the layer"),
        ]),
        &format!(r#"entry "{y}": content does not match its name"#),
    );
    refused(
        dir.path(),
        &layout(&[Raw::File(&m, manifest.bytes()), Raw::File(&c, &l.config)]),
        &format!("layers[0]: {y} is not in the archive"),
    );
    refused(
        dir.path(),
        &layout(&[Raw::File(&m, manifest.bytes()), Raw::File(&y, &l.layer)]),
        &format!("the config of {m}: {c} is not in the archive"),
    );
    refused(
        dir.path(),
        &layout(&[Raw::File(&c, &l.config)]),
        &format!("index.json manifests[0]: {m} is not in the archive"),
    );
    refused(
        dir.path(),
        &layout(&[Raw::File("blobs/sha512/abc", b"x")]),
        r#"entry "blobs/sha512/abc": a blob of an unsupported digest algorithm"#,
    );
    refused(
        dir.path(),
        &raw_tar(&[Raw::File("index.json", index.bytes())]),
        "oci-layout: missing",
    );
}
