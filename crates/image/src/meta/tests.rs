use super::*;

fn d(s: &str) -> Digest {
    Digest::of(s.as_bytes())
}

fn layer(name: &str) -> LayerRow {
    LayerRow {
        chain_id: d(name),
        diff_id: d(&format!("diff {name}")),
        blob: d(&format!("blob {name}")),
        blob_media_type: "application/vnd.oci.image.layer.v1.tar".into(),
        blob_size: 10,
        unpacked_size: 20,
    }
}

fn image(name: &str) -> ImageRow {
    ImageRow {
        id: d(name),
        manifest: d(&format!("manifest {name}")),
        manifest_media_type: "application/vnd.oci.image.manifest.v1+json".into(),
        stored_at: "2026-01-01T00:00:00Z".into(),
        last_tagged_at: None,
    }
}

#[test]
fn images_tags_and_snapshots_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let meta = Meta::open(&dir.path().join("metadata.db")).unwrap();
    meta.put_layer(&layer("a")).unwrap();
    meta.put_layer(&layer("b")).unwrap();
    let img = image("img");
    meta.put_image(
        &img,
        &[d("a"), d("b")],
        &["docker.io/library/x:latest".into()],
        &[],
    )
    .unwrap();
    assert_eq!(meta.image(&img.id).unwrap().unwrap().manifest, img.manifest);
    assert_eq!(meta.image_layers(&img.id).unwrap(), vec![d("a"), d("b")]);
    assert_eq!(
        meta.tag_target("docker.io/library/x:latest").unwrap(),
        Some(img.id.clone())
    );
    assert_eq!(
        meta.images_with_prefix(&img.id.hex()[..4]).unwrap(),
        vec![img.id.clone()]
    );
    // A tag moves to a newer image.
    meta.put_layer(&layer("c")).unwrap();
    let other = image("other");
    meta.put_image(
        &other,
        &[d("c")],
        &["docker.io/library/x:latest".into()],
        &[],
    )
    .unwrap();
    assert_eq!(
        meta.tag_target("docker.io/library/x:latest").unwrap(),
        Some(other.id.clone())
    );
    assert!(meta.tags_of(&img.id).unwrap().is_empty());

    meta.put_snapshot(&SnapshotRow {
        container: "c1".into(),
        image: img.id.clone(),
        chain_ids: vec![d("a"), d("b")],
    })
    .unwrap();
    assert_eq!(
        meta.snapshots_of_image(&img.id).unwrap(),
        vec!["c1".to_owned()]
    );
    meta.delete_image(&img.id).unwrap();
    // The snapshot keeps its layers alive after its image went.
    let used = meta.used_layers().unwrap();
    assert!(used.contains(&d("a")) && used.contains(&d("c")));
    let blobs = meta.used_blobs(&used).unwrap();
    assert!(blobs.contains(&d("blob a")) && blobs.contains(&other.id) && !blobs.contains(&img.id));
    assert!(meta.delete_snapshot("c1").unwrap());
    assert!(!meta.used_layers().unwrap().contains(&d("a")));
}

#[test]
fn reopening_keeps_data_and_refuses_newer_schemas() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("metadata.db");
    {
        let meta = Meta::open(&path).unwrap();
        meta.put_layer(&layer("a")).unwrap();
    }
    let meta = Meta::open(&path).unwrap();
    assert!(meta.layer(&d("a")).unwrap().is_some());
    drop(meta);
    let conn = Connection::open(&path).unwrap();
    conn.execute(
        "UPDATE schema_versions SET version = 99 WHERE component = 'image'",
        [],
    )
    .unwrap();
    drop(conn);
    assert!(matches!(
        Meta::open(&path),
        Err(MetaError::TooNew { found: 99, .. })
    ));
}
