use std::io::Write;
use std::time::Duration;

use super::*;

fn store() -> (tempfile::TempDir, ContentStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = ContentStore::open(dir.path()).unwrap();
    (dir, store)
}

#[test]
fn bytes_round_trip_and_are_verified() {
    let (_d, store) = store();
    let digest = store.write_bytes(b"hello", None).unwrap();
    assert_eq!(digest, Digest::of(b"hello"));
    assert_eq!(store.read_blob(&digest, 100).unwrap(), b"hello");
    assert_eq!(store.size(&digest).unwrap(), Some(5));
    store.verify(&digest).unwrap();
    assert_eq!(store.list().unwrap(), vec![(digest.clone(), 5)]);
    assert!(matches!(
        store.read_blob(&digest, 4),
        Err(ContentError::TooLarge { .. })
    ));
}

#[test]
fn a_wrong_digest_is_refused_and_never_visible() {
    let (_d, store) = store();
    let claimed = Digest::of(b"something else");
    let err = store.write_bytes(b"hello", Some(&claimed)).unwrap_err();
    assert!(matches!(err, ContentError::DigestMismatch { .. }), "{err}");
    let mut w = store.writer("pull-1").unwrap();
    w.write_all(b"hello").unwrap();
    let err = w
        .commit(Some(&Expected {
            digest: claimed.clone(),
            size: Some(5),
        }))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "digest mismatch: expected {claimed}, got {}",
            Digest::of(b"hello")
        )
    );
    assert!(!store.contains(&claimed));
    assert!(!store.contains(&Digest::of(b"hello")));
    assert!(store.list().unwrap().is_empty());
}

#[test]
fn a_wrong_size_is_refused() {
    let (_d, store) = store();
    let mut w = store.writer("k").unwrap();
    w.write_all(b"hello").unwrap();
    let err = w
        .commit(Some(&Expected {
            digest: Digest::of(b"hello"),
            size: Some(6),
        }))
        .unwrap_err();
    assert!(
        matches!(
            err,
            ContentError::SizeMismatch {
                expected: 6,
                actual: 5,
                ..
            }
        ),
        "{err}"
    );
    assert!(store.list().unwrap().is_empty());
}

#[test]
fn an_interrupted_write_resumes() {
    let (_d, store) = store();
    let data = vec![7u8; 3 << 20];
    {
        let mut w = store.writer("layer-x").unwrap();
        w.write_all(&data[..1 << 20]).unwrap();
        // Dropped without commit: the download was cut off.
    }
    let mut w = store.writer("layer-x").unwrap();
    assert_eq!(w.offset(), 1 << 20);
    w.write_all(&data[1 << 20..]).unwrap();
    let (digest, size) = w
        .commit(Some(&Expected {
            digest: Digest::of(&data),
            size: Some(data.len() as u64),
        }))
        .unwrap();
    assert_eq!((digest, size), (Digest::of(&data), data.len() as u64));
}

#[test]
fn stale_ingests_are_cleaned_but_not_those_in_use() {
    let (_d, store) = store();
    let resumable = Digest::of(b"a download").to_string();
    {
        let mut w = store.writer(&resumable).unwrap();
        w.write_all(b"partial").unwrap();
        let mut w = store.writer("import-1").unwrap();
        w.write_all(b"partial").unwrap();
    }
    let mut busy = store.writer("busy").unwrap();
    busy.write_all(b"x").unwrap();
    // An unresumable ingest goes at once; a download stays until it is old.
    assert_eq!(store.clean_ingests(Duration::from_secs(3600)).unwrap(), 1);
    assert_eq!(std::fs::read_dir(store.ingest_root()).unwrap().count(), 2);
    assert_eq!(store.clean_ingests(Duration::ZERO).unwrap(), 1);
    assert_eq!(std::fs::read_dir(store.ingest_root()).unwrap().count(), 1);
    drop(busy);
}

#[test]
fn the_same_blob_twice_is_stored_once() {
    let (_d, store) = store();
    let a = store.write_bytes(b"same", None).unwrap();
    let mut w = store.writer("other-key").unwrap();
    w.write_all(b"same").unwrap();
    let (b, _) = w.commit(None).unwrap();
    assert_eq!(a, b);
    assert_eq!(store.list().unwrap().len(), 1);
    assert_eq!(std::fs::read_dir(store.ingest_root()).unwrap().count(), 0);
}

#[test]
fn corruption_on_disk_is_detected() {
    let (_d, store) = store();
    let digest = store.write_bytes(b"intact", None).unwrap();
    std::fs::write(store.blob_path(&digest), b"tampered").unwrap();
    assert!(matches!(
        store.verify(&digest),
        Err(ContentError::DigestMismatch { .. })
    ));
    assert!(matches!(
        store.open_blob(&Digest::of(b"nope")),
        Err(ContentError::NotFound(_))
    ));
}
