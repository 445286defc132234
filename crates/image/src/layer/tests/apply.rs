//! Applying: what lands on disk for every kind of entry.

use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};

use super::*;
use crate::layer::{Compression, EntryProblem};

const CAP_NET_BIND: &[u8] = &[0, 0, 0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];

/// A layer with every kind of entry and every kind of metadata.
pub(in crate::layer) fn rich_layer(with_whiteouts: bool) -> Vec<u8> {
    let mut t = TarBuilder::new();
    let cap = vec![(b"security.capability".to_vec(), CAP_NET_BIND.to_vec())];
    let user = vec![
        (b"trusted.pier".to_vec(), b"t".to_vec()),
        (b"user.mime".to_vec(), b"text/plain".to_vec()),
    ];
    let mut h = Header::new(b"usr", tarwriter::DIRECTORY);
    h.mode = 0o755;
    h.mtime = Time {
        sec: 1_500_000_000,
        nsec: 123_456_789,
    };
    h.exact_mtime = true;
    h.xattrs = &user;
    t.raw(&h, b"");
    t.dir("usr/bin", 0o755);
    let mut h = Header::new(b"usr/bin/ping", tarwriter::REGULAR);
    h.mode = 0o4755;
    h.uid = 1000;
    h.gid = 1001;
    h.size = 11;
    h.mtime = Time {
        sec: 1_600_000_001,
        nsec: 5,
    };
    h.exact_mtime = true;
    h.atime = Some(Time {
        sec: 1_650_000_000,
        nsec: 42,
    });
    h.xattrs = &cap;
    t.raw(&h, b"ping binary");
    let mut h = Header::new(b"usr/bin/sgid", tarwriter::REGULAR);
    h.mode = 0o2711;
    h.gid = 42;
    t.raw(&h, b"");
    let mut h = Header::new(b"tmp", tarwriter::DIRECTORY);
    h.mode = 0o1777;
    t.raw(&h, b"");
    let mut h = Header::new(b"shared", tarwriter::DIRECTORY);
    h.mode = 0o2775;
    h.gid = 50;
    t.raw(&h, b"");
    let mut h = Header::new(b"big-ids", tarwriter::REGULAR);
    h.mode = 0o600;
    h.uid = 3_000_000_000;
    h.gid = 3_000_000_001;
    h.size = 3;
    t.raw(&h, b"big");
    let long = format!("usr/{}/{}", "d".repeat(120), "f".repeat(120));
    t.dir(&format!("usr/{}", "d".repeat(120)), 0o700);
    t.file(&long, b"long");
    t.symlink("usr/bin/sh", "busybox");
    t.symlink("abs", "/usr/bin/ping");
    t.symlink(&"s".repeat(150), &"/target".repeat(30));
    t.hard_link("usr/bin/ping6", "usr/bin/ping");
    t.hard_link("usr/bin/long-link", &long);
    t.dir("dev", 0o755);
    t.device("dev/null", tarwriter::CHAR, 1, 3);
    t.device("dev/loop0", tarwriter::BLOCK_DEVICE, 7, 0);
    let mut h = Header::new(b"dev/fifo", tarwriter::FIFO);
    h.mode = 0o640;
    t.raw(&h, b"");
    let mut sparse = vec![0u8; 4 << 20];
    sparse[..5].copy_from_slice(b"start");
    sparse[(3 << 20) + 7] = b'x';
    t.dir("var", 0o755);
    t.file("var/sparse", &sparse);
    t.file("var/empty", b"");
    t.dir("etc", 0o750);
    if with_whiteouts {
        t.file("etc/.wh.gone", b"");
        t.dir("opaque", 0o755);
        t.file("opaque/.wh..wh..opq", b"");
        t.file("opaque/new", b"new");
    }
    t.finish()
}

#[test]
fn every_kind_of_entry_with_its_metadata() {
    let s = Scratch::new();
    let applied = s.apply(rich_layer(true), &ALL).unwrap();
    assert_eq!(applied.xattrs_skipped, 0);
    let d = s.dest();
    let m = |p: &str| std::fs::symlink_metadata(d.join(p)).unwrap();

    let ping = m("usr/bin/ping");
    assert_eq!(
        (ping.mode() & 0o7777, ping.uid(), ping.gid()),
        (0o4755, 1000, 1001)
    );
    assert_eq!((ping.mtime(), ping.mtime_nsec()), (1_600_000_001, 5));
    assert_eq!((ping.atime(), ping.atime_nsec()), (1_650_000_000, 42));
    assert_eq!(ping.nlink(), 2);
    assert_eq!(m("usr/bin/ping6").ino(), ping.ino());
    let dir = std::fs::File::open(d.join("usr/bin")).unwrap();
    let xattrs = xattr::list(On::Child {
        dir: dir.as_fd(),
        name: b"ping",
    })
    .unwrap();
    assert_eq!(
        xattrs,
        vec![(b"security.capability".to_vec(), CAP_NET_BIND.to_vec())],
        "set after chown"
    );
    assert_eq!(m("usr/bin/sgid").mode() & 0o7777, 0o2711);
    assert_eq!(m("tmp").mode() & 0o7777, 0o1777);
    assert_eq!(
        (m("shared").mode() & 0o7777, m("shared").gid()),
        (0o2775, 50)
    );
    assert_eq!(
        (m("big-ids").uid(), m("big-ids").gid()),
        (3_000_000_000, 3_000_000_001)
    );
    let usr = m("usr");
    assert_eq!(
        (usr.mtime(), usr.mtime_nsec()),
        (1_500_000_000, 123_456_789),
        "set after its contents"
    );
    let root = std::fs::File::open(&d).unwrap();
    let usr_x = xattr::list(On::Child {
        dir: root.as_fd(),
        name: b"usr",
    })
    .unwrap();
    assert_eq!(usr_x.len(), 2);
    let long = format!("usr/{}/{}", "d".repeat(120), "f".repeat(120));
    assert_eq!(std::fs::read(d.join(&long)).unwrap(), b"long");
    assert_eq!(m("usr/bin/long-link").ino(), m(&long).ino());
    assert_eq!(m(&format!("usr/{}", "d".repeat(120))).mode() & 0o777, 0o700);
    assert_eq!(
        std::fs::read_link(d.join("usr/bin/sh")).unwrap(),
        Path::new("busybox")
    );
    assert_eq!(
        std::fs::read_link(d.join("abs")).unwrap(),
        Path::new("/usr/bin/ping")
    );
    assert_eq!(
        std::fs::read_link(d.join("s".repeat(150))).unwrap(),
        Path::new(&"/target".repeat(30))
    );
    let null = m("dev/null");
    assert!(null.file_type().is_char_device());
    assert_eq!(
        (
            libc::major(null.rdev()),
            libc::minor(null.rdev()),
            null.mode() & 0o777
        ),
        (1, 3, 0o620)
    );
    assert!(m("dev/loop0").file_type().is_block_device());
    assert!(m("dev/fifo").file_type().is_fifo());
    assert_eq!(m("dev/fifo").mode() & 0o777, 0o640);
    let sparse = m("var/sparse");
    assert_eq!(sparse.len(), 4 << 20);
    assert!(
        sparse.blocks() * 512 <= 64 << 10,
        "holes kept: {} blocks",
        sparse.blocks()
    );
    let data = std::fs::read(d.join("var/sparse")).unwrap();
    assert_eq!((&data[..5], data[(3 << 20) + 7]), (&b"start"[..], b'x'));
    assert_eq!(m("var/empty").len(), 0);
    assert_eq!(m("etc").mode() & 0o7777, 0o750);
    // Whiteouts as overlayfs reads them.
    let gone = m("etc/gone");
    assert!(gone.file_type().is_char_device());
    assert_eq!(gone.rdev(), 0);
    let opaque = xattr::list(On::Child {
        dir: root.as_fd(),
        name: b"opaque",
    })
    .unwrap();
    assert_eq!(
        opaque,
        vec![(b"trusted.overlay.opaque".to_vec(), b"y".to_vec())]
    );
    assert!(!d.join("opaque/.wh..wh..opq").exists());
    assert_eq!(std::fs::read(d.join("opaque/new")).unwrap(), b"new");

    assert_eq!(applied.unpacked_size, 11 + 3 + 4 + (4 << 20) + 3);
    assert_eq!(applied.compression, Compression::None);
    s.assert_outside_untouched();
}

#[test]
fn diff_id_is_the_uncompressed_stream_in_every_compression() {
    let mut tar = rich_layer(true);
    // GNU tar pads archives to 10 KiB records; the padding is part of the diff_id.
    tar.resize(tar.len().div_ceil(10240) * 10240 + 10240, 0);
    let want = Digest::of(&tar);
    let mut trees = Vec::new();
    for (compression, bytes) in [
        (Compression::None, tar.clone()),
        (Compression::Gzip, gzip(&tar)),
        (Compression::Zstd, zstd::encode_all(&tar[..], 3).unwrap()),
    ] {
        let s = Scratch::new();
        let applied = s.apply(bytes, &ALL).unwrap();
        assert_eq!(applied.compression, compression);
        assert_eq!(applied.diff_id, want, "{compression}");
        assert_eq!(applied.tar_size, tar.len() as u64);
        trees.push(snapshot(&s.dest(), EXACT));
    }
    assert_same(&trees[0], &trees[1]);
    assert_same(&trees[0], &trees[2]);
}

#[test]
fn a_corrupt_or_truncated_stream_is_a_stream_error() {
    let tar = rich_layer(false);
    let mut gz = gzip(&tar);
    gz.truncate(gz.len() - 100);
    let err = Scratch::new().apply(gz, &ALL).unwrap_err();
    assert!(
        matches!(
            err,
            LayerError::Stream {
                compression: Compression::Gzip,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.is_invalid_layer());
    let mut bad = tar.clone();
    bad[100] ^= 0xff; // the first header's checksum no longer matches
    let err = Scratch::new().apply(bad, &ALL).unwrap_err();
    assert!(
        matches!(err, LayerError::Archive { after: None, .. }),
        "{err}"
    );
    let err = Scratch::new()
        .apply(b"not a tar at all".repeat(100), &ALL)
        .unwrap_err();
    assert!(err.is_invalid_layer(), "{err}");
}

#[test]
fn entries_replace_others_as_tar_does() {
    let s = Scratch::new();
    let tar = TarBuilder::new()
        .file("a", b"file first")
        .dir("a", 0o750) // a directory over a file
        .file("a/inside", b"x")
        .dir("b", 0o755)
        .file("b/deep", b"gone with b")
        .file("b", b"file over a directory")
        .file("c", b"one")
        .symlink("c", "/elsewhere") // a symlink over a file
        .file("dup", b"first")
        .file("dup", b"second")
        .dir("keep", 0o700)
        .file("keep/kept", b"k")
        .dir("keep", 0o755) // a directory over a directory: merged, last metadata wins
        .finish();
    s.apply(tar, &ALL).unwrap();
    let d = s.dest();
    assert!(d.join("a").is_dir());
    assert_eq!(
        std::fs::metadata(d.join("a")).unwrap().permissions().mode() & 0o777,
        0o750
    );
    assert_eq!(
        std::fs::read(d.join("b")).unwrap(),
        b"file over a directory"
    );
    assert_eq!(
        std::fs::read_link(d.join("c")).unwrap(),
        Path::new("/elsewhere")
    );
    assert_eq!(std::fs::read(d.join("dup")).unwrap(), b"second");
    assert_eq!(std::fs::read(d.join("keep/kept")).unwrap(), b"k");
    assert_eq!(
        std::fs::metadata(d.join("keep"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o755
    );
}

#[test]
fn whiteouts_meet_entries_of_their_own_layer() {
    let s = Scratch::new();
    let tar = TarBuilder::new()
        .file("kept", b"this layer's file")
        .file(".wh.kept", b"") // deletes lower layers' only: the file stays
        .file(".wh.replaced", b"")
        .dir("replaced", 0o755) // delete the lower dir and make a new one: opaque
        .file("replaced/f", b"")
        .dir("again", 0o755)
        .file(".wh.again", b"") // same, in the other order
        .file(".wh..wh.plnk/1234.5678", b"aufs bookkeeping")
        .file(".wh..wh.aufs", b"")
        .finish();
    let applied = s.apply(tar, &ALL).unwrap();
    let d = s.dest();
    assert_eq!(std::fs::read(d.join("kept")).unwrap(), b"this layer's file");
    let root = std::fs::File::open(&d).unwrap();
    for dir in ["replaced", "again"] {
        let x = xattr::list(On::Child {
            dir: root.as_fd(),
            name: dir.as_bytes(),
        })
        .unwrap();
        assert_eq!(
            x,
            vec![(b"trusted.overlay.opaque".to_vec(), b"y".to_vec())],
            "{dir}"
        );
    }
    let names: Vec<_> = std::fs::read_dir(&d)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 3, "AUFS metadata skipped: {names:?}");
    assert_eq!(applied.entries, 7);
}

#[test]
fn owners_left_to_the_caller_drop_foreign_setuid() {
    let s = Scratch::new();
    let mut t = TarBuilder::new();
    for (name, uid, gid, mode) in [
        ("theirs", 1000, 1000, 0o6755),
        ("ours", 0, 0, 0o6755),
        ("dir", 1000, 1000, 0o2755),
    ] {
        let kind = if name == "dir" {
            tarwriter::DIRECTORY
        } else {
            tarwriter::REGULAR
        };
        let mut h = Header::new(name.as_bytes(), kind);
        (h.uid, h.gid, h.mode) = (uid, gid, mode);
        t.raw(&h, b"");
    }
    let opts = ApplyOptions {
        allow_devices: false,
        preserve_owner: false,
    };
    s.apply(t.finish(), &opts).unwrap();
    let m = |p: &str| std::fs::metadata(s.dest().join(p)).unwrap();
    assert_eq!((m("theirs").uid(), m("theirs").mode() & 0o7777), (0, 0o755));
    assert_eq!(m("ours").mode() & 0o7777, 0o6755);
    assert_eq!(
        m("dir").mode() & 0o7777,
        0o2755,
        "setgid on a directory only means inheritance"
    );
}

/// A PAX header with raw records before an entry.
fn pax(t: &mut TarBuilder, records: &[(&str, &str)]) {
    let mut text = Vec::new();
    for (k, v) in records {
        let body = format!(" {k}={v}\n");
        let mut len = body.len() + 1;
        while len.to_string().len() + body.len() != len {
            len += 1;
        }
        text.extend(format!("{len}{body}").into_bytes());
    }
    let mut h = Header::new(b"PaxHeaders/x", b'x');
    h.size = text.len() as u64;
    t.raw(&h, &text);
}

#[test]
fn pax_sparse_formats_0_0_and_0_1() {
    let s = Scratch::new();
    let mut t = TarBuilder::new();
    pax(
        &mut t,
        &[
            ("GNU.sparse.size", "1048576"),
            ("GNU.sparse.offset", "0"),
            ("GNU.sparse.numbytes", "3"),
            ("GNU.sparse.offset", "1000000"),
            ("GNU.sparse.numbytes", "2"),
        ],
    );
    t.file("v00", b"abcde");
    pax(
        &mut t,
        &[
            ("GNU.sparse.size", "2097152"),
            ("GNU.sparse.map", "8192,4,2097150,2"),
            ("GNU.sparse.name", "real/v01"),
        ],
    );
    t.file("GNUSparseFile.0/v01", b"wxyz!?");
    s.apply(t.finish(), &ALL).unwrap();
    let d = s.dest();
    let v00 = std::fs::read(d.join("v00")).unwrap();
    assert_eq!(v00.len(), 1 << 20);
    assert_eq!(
        (&v00[..3], &v00[1_000_000..1_000_002]),
        (&b"abc"[..], &b"de"[..])
    );
    let v01 = std::fs::read(d.join("real/v01")).unwrap();
    assert_eq!(v01.len(), 2 << 20);
    assert_eq!(
        (&v01[8192..8196], &v01[(2 << 20) - 2..]),
        (&b"wxyz"[..], &b"!?"[..])
    );
    assert!(std::fs::metadata(d.join("real/v01")).unwrap().blocks() <= 32);
    assert!(!d.join("GNUSparseFile.0").exists());

    let mut t = TarBuilder::new();
    pax(
        &mut t,
        &[("GNU.sparse.size", "10"), ("GNU.sparse.map", "0,4,8,4")],
    );
    t.file("bad", b"abcdefgh");
    let err = Scratch::new().apply(t.finish(), &ALL).unwrap_err();
    assert!(
        matches!(&err, LayerError::Invalid { path, problem: EntryProblem::BadSparseMap(_) } if path == "bad"),
        "{err}"
    );
}

#[test]
fn gnu_long_names_from_the_tar_crate() {
    let long = format!("{}/{}", "x".repeat(200), "y".repeat(200));
    let target = format!("/{}", "z".repeat(300));
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Regular);
    h.set_mode(0o640);
    h.set_size(2);
    b.append_data(&mut h, &long, &b"hi"[..]).unwrap();
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Symlink);
    h.set_size(0);
    b.append_link(&mut h, "link", &target).unwrap();
    let s = Scratch::new();
    s.apply(b.into_inner().unwrap(), &ALL).unwrap();
    assert_eq!(std::fs::read(s.dest().join(&long)).unwrap(), b"hi");
    assert_eq!(
        std::fs::read_link(s.dest().join("link")).unwrap(),
        Path::new(&target)
    );
}

#[test]
fn missing_parents_are_made_as_docker_makes_them() {
    let s = Scratch::new();
    s.apply(TarBuilder::new().file("a/b/c/file", b"deep").finish(), &ALL)
        .unwrap();
    for dir in ["a", "a/b", "a/b/c"] {
        let m = std::fs::symlink_metadata(s.dest().join(dir)).unwrap();
        assert!(m.is_dir());
        assert_eq!(
            (m.mode() & 0o7777, m.uid(), m.gid()),
            (0o755, 0, 0),
            "{dir}"
        );
    }
    assert_eq!(std::fs::read(s.dest().join("a/b/c/file")).unwrap(), b"deep");
}

#[test]
fn the_destination_must_be_empty() {
    let s = Scratch::new();
    std::fs::write(s.dest().join("x"), "").unwrap();
    let err = s.apply(TarBuilder::new().finish(), &ALL).unwrap_err();
    assert!(matches!(err, LayerError::DestNotEmpty(_)), "{err}");
}

#[test]
fn groups_are_right_in_a_setgid_destination() {
    // Files made in a setgid directory take its group; entries that say root's group must
    // still get it (no chown may be skipped there).
    let s = Scratch::new();
    let dest = s.dest();
    std::os::unix::fs::chown(&dest, None, Some(50)).unwrap();
    std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(0o2775)).unwrap();
    let tar = TarBuilder::new()
        .file("top", b"")
        .file("implicit/inner", b"")
        .symlink("link", "top")
        .finish();
    s.apply(tar, &ALL).unwrap();
    for path in ["top", "implicit", "implicit/inner", "link"] {
        let m = std::fs::symlink_metadata(dest.join(path)).unwrap();
        let want = if path == "implicit" { 50 } else { 0 };
        assert_eq!(m.gid(), want, "{path}");
    }
}
