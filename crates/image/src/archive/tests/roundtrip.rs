//! Saving and loading back through pier.

use std::collections::BTreeMap;
use std::io::Read;

use super::*;
use crate::archive::{Loaded, load, save_docker, save_oci_archive, save_oci_dir};
use crate::model::{Index, Platform};

const BASE: Files<'static> = &[
    ("bin/", ""),
    ("bin/busybox", "not really busybox"),
    ("bin/sh", "->busybox"),
    ("etc/hostname", "base"),
];
const MIDDLE: Files<'static> = &[("etc/hostname", "middle"), ("srv/data", "data")];
const TOP: Files<'static> = &[("srv/top", "top")];

/// A tar entry's type, mtime, and contents or link target.
type Entry = (char, u64, Vec<u8>);

/// Entries of a tar by path.
fn entries(tar: &[u8]) -> BTreeMap<String, Entry> {
    let mut archive = tar::Archive::new(tar);
    let mut out = BTreeMap::new();
    let mut order = Vec::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = String::from_utf8(entry.path_bytes().to_vec()).unwrap();
        let kind = entry.header().entry_type().as_byte() as char;
        let mtime = entry.header().mtime().unwrap();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).unwrap();
        if let Some(link) = entry.link_name_bytes() {
            data = link.to_vec();
        }
        order.push(path.clone());
        out.insert(path, (kind, mtime, data));
    }
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted, "entries are sorted");
    out
}

fn tags(loaded: &Loaded) -> Vec<String> {
    loaded.tags.iter().map(|t| t.familiar()).collect()
}

#[test]
fn docker_archive_round_trip_keeps_ids_tags_and_files() {
    let dir = tempfile::tempdir().unwrap();
    let a = open_store(dir.path(), "a");
    let app = make_image(
        &a,
        dir.path(),
        &[
            (BASE, Compression::Plain),
            (MIDDLE, Compression::Gzip),
            (TOP, Compression::Zstd),
        ],
        &["example.com/app:v1", "app:latest"],
    );
    let other = make_image(
        &a,
        dir.path(),
        &[
            (BASE, Compression::Gzip),
            (&[("other", "x")], Compression::Plain),
        ],
        &["other:1"],
    );
    let names = ["example.com/app:v1".to_owned(), "other:1".to_owned()];
    let mut saved = Vec::new();
    save_docker(&a, &names, &mut saved).unwrap();
    let mut again = Vec::new();
    save_docker(&a, &names, &mut again).unwrap();
    assert!(saved == again, "saving is deterministic");

    let found = entries(&saved);
    let manifest: serde_json::Value = serde_json::from_slice(&found["manifest.json"].2).unwrap();
    assert_eq!(manifest[0]["Config"], format!("{}.json", app.hex()));
    assert_eq!(
        manifest[0]["RepoTags"],
        serde_json::json!(["example.com/app:v1"])
    );
    assert_eq!(manifest[1]["RepoTags"], serde_json::json!(["other:1"]));
    assert_eq!(manifest[0]["Layers"].as_array().unwrap().len(), 3);
    // Both images start with the same layer: the same v1 directory, written once.
    assert_eq!(manifest[0]["Layers"][0], manifest[1]["Layers"][0]);
    let layer_tars: Vec<&String> = found.keys().filter(|p| p.ends_with("/layer.tar")).collect();
    assert_eq!(layer_tars.len(), 4);
    let top = manifest[0]["Layers"][2]
        .as_str()
        .unwrap()
        .trim_end_matches("/layer.tar");
    let repositories: serde_json::Value = serde_json::from_slice(&found["repositories"].2).unwrap();
    assert_eq!(repositories["example.com/app"]["v1"], top);
    assert_eq!(repositories["other"]["1"].as_str().unwrap().len(), 64);
    assert_eq!(found[&format!("{top}/VERSION")].2, b"1.0");
    let json: serde_json::Value = serde_json::from_slice(&found[&format!("{top}/json")].2).unwrap();
    assert_eq!(json["id"], top);
    assert_eq!(json["config"]["Cmd"][0], "sh");
    assert!(json.get("rootfs").is_none() && json.get("history").is_none());
    // Layers are written uncompressed: each hashes to its diff id.
    let config = a.config(&app).unwrap();
    for (path, diff_id) in manifest[0]["Layers"]
        .as_array()
        .unwrap()
        .iter()
        .zip(config.diff_ids())
    {
        assert_eq!(Digest::of(&found[path.as_str().unwrap()].2), *diff_id);
    }
    assert_eq!(found[&format!("{}.json", app.hex())].2, config.bytes());
    // Layer directories and configs carry the image's time, the documents the epoch.
    assert_eq!(found[&format!("{top}/layer.tar")].1, 1_714_979_289);
    assert_eq!(found["manifest.json"].1, 0);

    for (n, archive) in [
        saved.clone(),
        compress(&saved, Compression::Gzip),
        compress(&saved, Compression::Zstd),
    ]
    .into_iter()
    .enumerate()
    {
        let b = open_store(dir.path(), &format!("b{n}"));
        let loaded = load(&b, &archive[..]).unwrap();
        assert_eq!(loaded.len(), 2);
        assert_eq!(
            (loaded[0].id.clone(), tags(&loaded[0])),
            (app.clone(), vec!["example.com/app:v1".to_owned()])
        );
        assert_eq!(
            (loaded[1].id.clone(), tags(&loaded[1])),
            (other.clone(), vec!["other:1".to_owned()])
        );
        assert_eq!(b.resolve("example.com/app:v1").unwrap().id, app);
        assert_eq!(unpacked(&b, &app), unpacked(&a, &app));
        assert_eq!(unpacked(&b, &other), unpacked(&a, &other));
        assert_eq!(unpacked(&b, &app)[0]["etc/hostname"], "base");
        assert_eq!(unpacked(&b, &app)[0]["bin/sh"], "-> busybox");
        // What was loaded saves to the same archive.
        let mut resaved = Vec::new();
        save_docker(&b, &names, &mut resaved).unwrap();
        assert!(resaved == saved, "a loaded image saves as it was saved");
    }
}

#[test]
fn a_layer_under_two_v1_ids_is_written_once_and_linked() {
    let dir = tempfile::tempdir().unwrap();
    let a = open_store(dir.path(), "a");
    let alone = make_image(&a, dir.path(), &[(TOP, Compression::Plain)], &["alone"]);
    let stacked = make_image(
        &a,
        dir.path(),
        &[(BASE, Compression::Plain), (TOP, Compression::Plain)],
        &["stacked"],
    );
    let mut saved = Vec::new();
    save_docker(&a, &["alone".into(), "stacked".into()], &mut saved).unwrap();
    let found = entries(&saved);
    let links: Vec<(&String, &Entry)> = found
        .iter()
        .filter(|(_, (kind, _, _))| *kind == '2')
        .collect();
    assert_eq!(links.len(), 1, "{:?}", found.keys());
    let target = String::from_utf8(links[0].1.2.clone()).unwrap();
    assert!(
        target.starts_with("../") && target.ends_with("/layer.tar"),
        "{target}"
    );
    let b = open_store(dir.path(), "b");
    let loaded = load(&b, &saved[..]).unwrap();
    assert_eq!(
        loaded.iter().map(|l| l.id.clone()).collect::<Vec<_>>(),
        [alone.clone(), stacked.clone()]
    );
    assert_eq!(unpacked(&b, &stacked), unpacked(&a, &stacked));
}

#[test]
fn names_select_as_docker_save_does() {
    let dir = tempfile::tempdir().unwrap();
    let a = open_store(dir.path(), "a");
    let one = make_image(
        &a,
        dir.path(),
        &[(BASE, Compression::Plain)],
        &["app:1", "app:one", "x:y"],
    );
    let two = make_image(&a, dir.path(), &[(TOP, Compression::Plain)], &["app:2"]);
    let repo_tags = |names: &[&str]| {
        let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        let mut saved = Vec::new();
        save_docker(&a, &names, &mut saved).unwrap();
        let manifest: serde_json::Value =
            serde_json::from_slice(&entries(&saved)["manifest.json"].2).unwrap();
        manifest
            .as_array()
            .unwrap()
            .iter()
            .map(|item| {
                (
                    item["Config"].as_str().unwrap()[..64].to_owned(),
                    item["RepoTags"].clone(),
                )
            })
            .collect::<Vec<_>>()
    };
    // By id: the image with all its tags.
    let by_id = repo_tags(&[&one.hex()[..12]]);
    assert_eq!(
        by_id,
        [(
            one.hex().to_owned(),
            serde_json::json!(["app:1", "app:one", "x:y"])
        )]
    );
    // A repository: all its tags, on whichever images.
    let by_repo = repo_tags(&["app"]);
    assert_eq!(by_repo.len(), 2);
    assert!(by_repo.contains(&(
        one.hex().to_owned(),
        serde_json::json!(["app:1", "app:one"])
    )));
    assert!(by_repo.contains(&(two.hex().to_owned(), serde_json::json!(["app:2"]))));
    // A tag, and the same image again by another tag: one entry.
    assert_eq!(
        repo_tags(&["app:one", "x:y"]),
        [(one.hex().to_owned(), serde_json::json!(["app:one", "x:y"]))]
    );
    assert!(matches!(
        save_docker(&a, &["nope:1".into()], &mut Vec::new()),
        Err(crate::ImageError::NotFound(_))
    ));
}

#[test]
fn oci_archive_round_trip_keeps_the_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let a = open_store(dir.path(), "a");
    let app = make_image(
        &a,
        dir.path(),
        &[(BASE, Compression::Gzip), (TOP, Compression::Zstd)],
        &["example.com/app:v1", "app:2"],
    );
    let untagged = make_image(&a, dir.path(), &[(MIDDLE, Compression::Plain)], &[]);
    let mut saved = Vec::new();
    save_oci_archive(
        &a,
        &[
            "example.com/app:v1".into(),
            "app:2".into(),
            untagged.hex().into(),
        ],
        &mut saved,
    )
    .unwrap();
    let found = entries(&saved);
    assert_eq!(found["oci-layout"].2, br#"{"imageLayoutVersion":"1.0.0"}"#);
    let index = Index::parse(found["index.json"].2.clone()).unwrap();
    let record = a.get(&app).unwrap().unwrap();
    assert_eq!(index.manifests().len(), 3);
    let first = &index.manifests()[0];
    assert_eq!(first.digest, record.manifest);
    assert_eq!(first.annotations["org.opencontainers.image.ref.name"], "v1");
    assert_eq!(
        first.annotations["io.containerd.image.name"],
        "example.com/app:v1"
    );
    assert_eq!(
        index.manifests()[1].annotations["io.containerd.image.name"],
        "docker.io/library/app:2"
    );
    assert!(index.manifests()[2].annotations.is_empty());
    for (path, (_, _, data)) in &found {
        if let Some(hex) = path.strip_prefix("blobs/sha256/").filter(|h| !h.is_empty()) {
            assert_eq!(Digest::of(data).hex(), hex);
        }
    }

    let b = open_store(dir.path(), "b");
    let loaded = load(&b, &saved[..]).unwrap();
    assert_eq!(loaded.len(), 2);
    assert_eq!(loaded[0].id, app);
    assert_eq!(tags(&loaded[0]), ["example.com/app:v1", "app:2"]);
    assert_eq!(
        (loaded[1].id.clone(), loaded[1].tags.len()),
        (untagged.clone(), 0)
    );
    assert_eq!(b.get(&app).unwrap().unwrap().manifest, record.manifest);
    assert_eq!(unpacked(&b, &app), unpacked(&a, &app));

    // The directory form, saved in two goes into one layout, loads the same.
    let layout = dir.path().join("layout");
    save_oci_dir(&a, &["example.com/app:v1".into()], &layout).unwrap();
    save_oci_dir(&a, &["app:2".into(), "example.com/app:v1".into()], &layout).unwrap();
    let index = Index::parse(std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    assert_eq!(
        index.manifests().len(),
        2,
        "a tag saved again replaces its entry"
    );
    let c = open_store(dir.path(), "c");
    let loaded = load(&c, &tar_dir(&layout)[..]).unwrap();
    assert_eq!(loaded.len(), 1);
    assert_eq!(tags(&loaded[0]), ["app:2", "example.com/app:v1"]);
    let junk = dir.path().join("junk");
    std::fs::create_dir_all(&junk).unwrap();
    std::fs::write(junk.join("file"), "x").unwrap();
    assert!(save_oci_dir(&a, &["app:2".into()], &junk).is_err());
}

/// Blob bytes of a stored image: manifest, config, layers.
fn blobs_of(store: &ImageStore, id: &Digest) -> (Manifest, Vec<(Digest, Vec<u8>)>) {
    let record = store.get(id).unwrap().unwrap();
    let manifest = store.manifest(&record).unwrap();
    let mut blobs = vec![(record.manifest.clone(), manifest.bytes().to_vec())];
    let mut digests = vec![manifest.config().digest.clone()];
    digests.extend(manifest.layers().iter().map(|l| l.digest.clone()));
    for d in digests {
        let mut bytes = Vec::new();
        store
            .content()
            .open_blob(&d)
            .unwrap()
            .read_to_end(&mut bytes)
            .unwrap();
        blobs.push((d, bytes));
    }
    (manifest, blobs)
}

#[test]
fn a_docker_25_archive_keeps_its_own_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let a = open_store(dir.path(), "a");
    let app = make_image(
        &a,
        dir.path(),
        &[(BASE, Compression::Plain), (TOP, Compression::Plain)],
        &[],
    );
    let (manifest, blobs) = blobs_of(&a, &app);
    let paths: Vec<String> = blobs
        .iter()
        .map(|(d, _)| format!("blobs/sha256/{}", d.hex()))
        .collect();
    let layers: Vec<&String> = paths[2..].iter().collect();
    let docker_manifest = serde_json::to_vec(&serde_json::json!([{
        "Config": paths[1], "RepoTags": ["app:25"], "Layers": layers,
    }]))
    .unwrap();
    let index = Index::oci(vec![manifest.descriptor()], BTreeMap::new());
    let mut raw = vec![
        Raw::Dir("blobs/"),
        Raw::Dir("blobs/sha256/"),
        Raw::File("index.json", index.bytes()),
        Raw::File("manifest.json", &docker_manifest),
        Raw::File("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#),
    ];
    for (path, (_, bytes)) in paths.iter().zip(&blobs) {
        raw.push(Raw::File(path, bytes));
    }
    let b = open_store(dir.path(), "b");
    let loaded = load(&b, &raw_tar(&raw)[..]).unwrap();
    assert_eq!(
        (loaded[0].id.clone(), tags(&loaded[0])),
        (app.clone(), vec!["app:25".into()])
    );
    assert_eq!(b.get(&app).unwrap().unwrap().manifest, *manifest.digest());
}

#[test]
fn a_nested_index_gives_the_host_platform() {
    let dir = tempfile::tempdir().unwrap();
    let a = open_store(dir.path(), "a");
    let app = make_image(&a, dir.path(), &[(BASE, Compression::Gzip)], &[]);
    let (manifest, blobs) = blobs_of(&a, &app);
    let host = host_platform();
    let elsewhere = Descriptor::new(media_types::OCI_MANIFEST, Digest::of(b"absent"), 6)
        .with_platform(Platform::new("linux", "s390x", None));
    let here = manifest.descriptor().with_platform(Platform::new(
        "linux",
        &host.architecture,
        host.variant.as_deref(),
    ));
    let nested = Index::oci(vec![elsewhere, here], BTreeMap::new());
    let mut entry = nested.descriptor();
    entry.annotations.insert(
        "io.containerd.image.name".into(),
        "docker.io/library/multi:1".into(),
    );
    let index = Index::oci(vec![entry], BTreeMap::new());
    let nested_path = format!("blobs/sha256/{}", nested.digest().hex());
    let paths: Vec<String> = blobs
        .iter()
        .map(|(d, _)| format!("blobs/sha256/{}", d.hex()))
        .collect();
    let mut raw = vec![
        Raw::File("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#),
        Raw::File("index.json", index.bytes()),
        Raw::File(&nested_path, nested.bytes()),
    ];
    for (path, (_, bytes)) in paths.iter().zip(&blobs) {
        raw.push(Raw::File(path, bytes));
    }
    let b = open_store(dir.path(), "b");
    let loaded = load(&b, &raw_tar(&raw)[..]).unwrap();
    assert_eq!(
        (loaded[0].id.clone(), tags(&loaded[0])),
        (app, vec!["multi:1".into()])
    );
}

#[test]
fn loading_an_image_already_there_only_tags_it() {
    let dir = tempfile::tempdir().unwrap();
    let a = open_store(dir.path(), "a");
    let app = make_image(&a, dir.path(), &[(BASE, Compression::Gzip)], &["app:1"]);
    let before = a.get(&app).unwrap().unwrap().manifest;
    let mut saved = Vec::new();
    save_docker(&a, &["app:1".into()], &mut saved).unwrap();
    a.tag(&app, &Reference::parse("app:2").unwrap()).unwrap();
    a.untag(&Reference::parse("app:1").unwrap()).unwrap();
    let loaded = load(&a, &saved[..]).unwrap();
    assert_eq!(loaded[0].id, app);
    let record = a.get(&app).unwrap().unwrap();
    assert_eq!(record.manifest, before, "the manifest it had is kept");
    let mut names: Vec<String> = record.tags.iter().map(|t| t.familiar()).collect();
    names.sort();
    assert_eq!(names, ["app:1", "app:2"]);
}
