//! Hostile layers: each is refused with an error naming the entry, or contained in `dest`.

use std::os::unix::fs::{MetadataExt, symlink};

use super::*;
use crate::layer::EntryProblem;

fn refused(s: &Scratch, tar: Vec<u8>, opts: &ApplyOptions) -> (String, EntryProblem) {
    match s.apply(tar, opts) {
        Err(LayerError::Invalid { path, problem }) => {
            s.assert_outside_untouched();
            (path, problem)
        }
        other => panic!("not refused: {other:?}"),
    }
}

#[test]
fn climbing_paths_are_refused() {
    for path in ["../../etc/passwd", "a/../../outside/x", "./../outside/x"] {
        let s = Scratch::new();
        let (entry, problem) = refused(&s, TarBuilder::new().file(path, b"pwned").finish(), &ALL);
        assert_eq!((entry.as_str(), problem), (path, EntryProblem::PathEscapes));
    }
    let s = Scratch::new();
    let err = s
        .apply(
            TarBuilder::new().file("../../etc/passwd", b"").finish(),
            &ALL,
        )
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "layer entry \"../../etc/passwd\": path escapes the layer"
    );
}

#[test]
fn absolute_paths_are_contained() {
    let s = Scratch::new();
    let outside = s.path("outside");
    let abs = format!("{}/abs", outside.display());
    s.apply(
        TarBuilder::new()
            .file(&abs, b"inside")
            .file("/etc/x", b"y")
            .finish(),
        &ALL,
    )
    .unwrap();
    assert_eq!(
        std::fs::read(s.dest().join(abs.trim_start_matches('/'))).unwrap(),
        b"inside"
    );
    assert_eq!(std::fs::read(s.dest().join("etc/x")).unwrap(), b"y");
    s.assert_outside_untouched();
}

#[test]
fn entries_written_through_symlinks_stay_inside() {
    let s = Scratch::new();
    let tar = TarBuilder::new()
        .symlink("up", "../../../../../../..")
        .file("up/through-relative", b"r")
        .symlink("root", "/")
        .file("root/through-absolute", b"a")
        .symlink("chain", "up")
        .dir("chain/d", 0o755)
        .file("chain/d/f", b"c")
        .finish();
    s.apply(tar, &ALL).unwrap();
    let d = s.dest();
    assert_eq!(std::fs::read(d.join("through-relative")).unwrap(), b"r");
    assert_eq!(std::fs::read(d.join("through-absolute")).unwrap(), b"a");
    assert_eq!(std::fs::read(d.join("d/f")).unwrap(), b"c");
    s.assert_outside_untouched();

    // A symlink to a real directory outside: inside dest that path does not exist, and the
    // entry is refused rather than written anywhere.
    let s = Scratch::new();
    let outside = s.path("outside");
    let tar = TarBuilder::new()
        .symlink("evil", outside.to_str().unwrap())
        .file("evil/file", b"pwned")
        .finish();
    let (entry, problem) = refused(&s, tar, &ALL);
    assert_eq!(entry, "evil/file");
    assert!(
        matches!(problem, EntryProblem::DanglingParent { .. }),
        "{problem:?}"
    );

    // The same with a relative climb towards the real outside: ../../outside from dest/a
    // is dest/outside, which does not exist; refused, not made anywhere.
    let s = Scratch::new();
    let tar = TarBuilder::new()
        .dir("a", 0o755)
        .symlink("a/evil", "../../outside")
        .dir("a/evil/sub", 0o755)
        .finish();
    let (entry, problem) = refused(&s, tar, &ALL);
    assert_eq!(entry, "a/evil/sub/", "named as the archive spells it");
    assert!(
        matches!(problem, EntryProblem::DanglingParent { .. }),
        "{problem:?}"
    );
    assert!(!s.dest().join("outside").exists());
}

#[test]
fn hard_links_must_stay_inside_and_exist() {
    let s = Scratch::new();
    std::fs::write(s.path("keep-secret"), "secret").unwrap();
    let secret = s.path("keep-secret");
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            TarBuilder::new().hard_link("l", "../keep-secret").finish(),
            "escapes",
        ),
        (
            TarBuilder::new()
                .hard_link("l", secret.to_str().unwrap())
                .finish(),
            "missing",
        ),
        (
            TarBuilder::new()
                .symlink("evil", s.dir.path().to_str().unwrap())
                .hard_link("l", "evil/keep-secret")
                .finish(),
            "missing",
        ),
        (
            TarBuilder::new()
                .symlink("up", "../..")
                .hard_link("l", "up/keep-secret")
                .finish(),
            "missing",
        ),
        (
            TarBuilder::new().hard_link("l", "nothing").finish(),
            "missing",
        ),
        (
            TarBuilder::new()
                .dir("d", 0o755)
                .hard_link("l", "d")
                .finish(),
            "directory",
        ),
        (
            TarBuilder::new()
                .file(".wh.x", b"")
                .hard_link("l", "x")
                .finish(),
            "whiteout",
        ),
    ];
    for (tar, want) in cases {
        let s2 = Scratch::new();
        let (entry, problem) = refused(&s2, tar, &ALL);
        assert_eq!(entry, "l");
        let ok = match want {
            "escapes" => matches!(problem, EntryProblem::LinkTargetEscapes { .. }),
            "missing" => matches!(problem, EntryProblem::LinkTargetMissing { .. }),
            "directory" => matches!(problem, EntryProblem::LinkTargetDirectory { .. }),
            _ => matches!(problem, EntryProblem::LinkTargetWhiteout { .. }),
        };
        assert!(ok, "{want}: {problem:?}");
    }
    assert_eq!(std::fs::metadata(&secret).unwrap().nlink(), 1);
    // A link to a file the layer made through an inside symlink is fine.
    let s = Scratch::new();
    let tar = TarBuilder::new()
        .file("real", b"r")
        .symlink("root", "/")
        .hard_link("l", "root/real")
        .finish();
    s.apply(tar, &ALL).unwrap();
    assert_eq!(std::fs::metadata(s.dest().join("l")).unwrap().nlink(), 2);
}

#[test]
fn whiteouts_naming_dots_or_slashes_are_refused() {
    for (path, is_parent) in [
        (".wh..", false),
        (".wh...", false),
        ("a/.wh.", false),
        (".wh.x/y", true),
        (".wh..wh..opq/y", true),
    ] {
        let s = Scratch::new();
        let (entry, problem) = refused(&s, TarBuilder::new().file(path, b"").finish(), &ALL);
        assert_eq!(entry, path);
        assert!(
            matches!(problem, EntryProblem::BadWhiteout { .. }),
            "{path}: {problem:?}"
        );
        if is_parent {
            assert!(problem.to_string().contains("beneath"), "{problem}");
        }
    }
}

#[test]
fn device_entries_are_refused_where_they_must_be() {
    // A 0/0 character device would be a whiteout: refused even where devices are allowed.
    let s = Scratch::new();
    let tar = TarBuilder::new()
        .device("fake-whiteout", tarwriter::CHAR, 0, 0)
        .finish();
    let (entry, problem) = refused(&s, tar, &ALL);
    assert_eq!(
        (entry.as_str(), problem),
        ("fake-whiteout", EntryProblem::WhiteoutDevice)
    );
    let no_devices = ApplyOptions {
        allow_devices: false,
        preserve_owner: true,
    };
    for kind in [tarwriter::CHAR, tarwriter::BLOCK_DEVICE] {
        let s = Scratch::new();
        let tar = TarBuilder::new().device("dev/sda", kind, 8, 0).finish();
        let (entry, problem) = refused(&s, tar, &no_devices);
        assert_eq!(
            (entry.as_str(), problem),
            ("dev/sda", EntryProblem::DeviceNotAllowed)
        );
        assert!(!s.dest().join("dev/sda").exists());
    }
    // Fifos are not devices.
    let s = Scratch::new();
    let tar = TarBuilder::new()
        .device("p", tarwriter::FIFO, 0, 0)
        .finish();
    s.apply(tar, &no_devices).unwrap();
}

#[test]
fn overlay_xattrs_are_refused() {
    for key in [
        "trusted.overlay.opaque",
        "trusted.overlay.redirect",
        "user.overlay.opaque",
    ] {
        let xattrs = vec![(key.as_bytes().to_vec(), b"y".to_vec())];
        let mut h = Header::new(b"d", tarwriter::DIRECTORY);
        h.mode = 0o755;
        h.xattrs = &xattrs;
        let s = Scratch::new();
        let (entry, problem) = refused(&s, TarBuilder::new().raw(&h, b"").finish(), &ALL);
        assert_eq!(
            (entry.as_str(), problem),
            ("d/", EntryProblem::OverlayXattr(key.into()))
        );
    }
}

#[test]
fn nothing_replaces_the_root() {
    for tar in [
        TarBuilder::new().file("./", b"").finish(),
        TarBuilder::new().symlink("/", "/etc").finish(),
        TarBuilder::new().file("a/..", b"").finish(),
    ] {
        let s = Scratch::new();
        let (_, problem) = refused(&s, tar, &ALL);
        assert!(
            matches!(problem, EntryProblem::ReplacesRoot { .. }),
            "{problem:?}"
        );
    }
    // A directory entry for the root sets the root's metadata.
    let s = Scratch::new();
    s.apply(TarBuilder::new().dir("./", 0o711).finish(), &ALL)
        .unwrap();
    assert_eq!(std::fs::metadata(s.dest()).unwrap().mode() & 0o7777, 0o711);
}

#[test]
fn symlink_replaced_by_a_directory_is_not_followed() {
    // The entry's own name is never followed: a symlink at the name is replaced, not used.
    let s = Scratch::new();
    let outside = s.path("outside");
    let tar = TarBuilder::new()
        .symlink("x", outside.to_str().unwrap())
        .dir("x", 0o700)
        .symlink("y", "../outside/planted")
        .file("y", b"over the symlink")
        .finish();
    s.apply(tar, &ALL).unwrap();
    assert!(
        std::fs::symlink_metadata(s.dest().join("x"))
            .unwrap()
            .is_dir()
    );
    assert_eq!(
        std::fs::read(s.dest().join("y")).unwrap(),
        b"over the symlink"
    );
    s.assert_outside_untouched();
}

#[test]
fn unsupported_entry_types_are_refused() {
    let s = Scratch::new();
    let tar = TarBuilder::new()
        .raw(&Header::new(b"label", b'V'), b"")
        .finish();
    let (entry, problem) = refused(&s, tar, &ALL);
    assert_eq!(
        (entry.as_str(), problem),
        ("label", EntryProblem::UnsupportedType('V'))
    );
}

#[test]
fn planted_symlinks_outside_the_layer_do_not_leak_through_an_existing_tree() {
    // dest's own ancestors are not the layer's: a symlink to them from inside dest resolves
    // inside dest.
    let s = Scratch::new();
    symlink("/", s.path("keep-link-to-root")).unwrap();
    let tar = TarBuilder::new()
        .symlink("l", "../keep-link-to-root/tmp")
        .file("l/x", b"x")
        .finish();
    let (entry, problem) = refused(&s, tar, &ALL);
    assert_eq!(entry, "l/x");
    assert!(
        matches!(problem, EntryProblem::DanglingParent { .. }),
        "{problem:?}"
    );
}

#[test]
fn oversized_extended_headers_are_refused_before_they_are_read() {
    // The tar parser would read a PAX header whole into memory: a gzip bomb's way to exhaust
    // it. More than Go's archive/tar accepts is refused at the header.
    let mut h = Header::new(b"PaxHeaders/huge", b'x');
    h.size = 2 << 20;
    let tar = TarBuilder::new()
        .file("first", b"1")
        .raw(&h, &vec![b'a'; 2 << 20])
        .file("after", b"")
        .finish();
    let s = Scratch::new();
    let err = s.apply(gzip(&tar), &ALL).unwrap_err();
    assert!(
        matches!(&err, LayerError::Archive { after: Some(p), .. } if p == "first"),
        "{err}"
    );
    assert!(
        err.to_string().contains("more than the 1048576 allowed"),
        "{err}"
    );
    assert!(err.is_invalid_layer());
}
