//! Applied layers and diffs checked through real overlay mounts, each in a private mount
//! namespace of its own thread (and unmounted before it ends).

use super::*;
use crate::layer::{TimePrecision, WriteOptions, diff_upper_with};

fn names(dir: &Path) -> Vec<String> {
    let mut n: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    n.sort();
    n
}

fn lower_layer() -> Vec<u8> {
    TarBuilder::new()
        .dir("etc", 0o755)
        .file("etc/passwd", b"root:x:0:0")
        .file("etc/gone", b"deleted above")
        .dir("etc/app", 0o755)
        .file("etc/app/old.conf", b"old")
        .file("etc/app/shared.conf", b"lower")
        .dir("var", 0o755)
        .dir("var/cache", 0o755)
        .file("var/cache/big", b"cache")
        .dir("var/keep", 0o755)
        .file("var/keep/f", b"kept")
        .finish()
}

#[test]
fn whiteouts_and_opaque_dirs_through_a_real_mount() {
    let s = Scratch::new();
    let l1 = s.empty("l1");
    let l2 = s.empty("l2");
    let merged = s.empty("merged");
    apply_layer(std::io::Cursor::new(lower_layer()), &l1, &ALL).unwrap();
    let upper_layer = TarBuilder::new()
        .file("etc/.wh.gone", b"")
        .dir("etc/app", 0o755)
        .file("etc/app/.wh..wh..opq", b"")
        .file("etc/app/new.conf", b"new")
        .file("var/.wh.cache", b"")
        .finish();
    apply_layer(std::io::Cursor::new(upper_layer), &l2, &ALL).unwrap();
    in_mount_namespace(|| {
        let o = Overlay::mount(&[&l2, &l1], None, &merged);
        let m = &o.merged;
        assert_eq!(
            names(&m.join("etc")),
            vec!["app", "passwd"],
            "whited-out file gone"
        );
        assert_eq!(
            names(&m.join("etc/app")),
            vec!["new.conf"],
            "opaque: only the upper layer's"
        );
        assert_eq!(
            names(&m.join("var")),
            vec!["keep"],
            "whited-out directory gone"
        );
        assert_eq!(std::fs::read(m.join("var/keep/f")).unwrap(), b"kept");
        assert_eq!(std::fs::read(m.join("etc/passwd")).unwrap(), b"root:x:0:0");
    });
    assert!(names(&merged).is_empty(), "unmounted");
}

#[test]
fn diff_of_a_changed_overlay_applies_to_the_same_view() {
    let s = Scratch::new();
    let l1 = s.empty("l1");
    let (upper, work, merged) = (s.empty("upper"), s.empty("work"), s.empty("merged"));
    apply_layer(std::io::Cursor::new(lower_layer()), &l1, &ALL).unwrap();
    let cmp = Compare {
        atime: false,
        dir_mtime: true,
        nsec: true,
    };
    let before = in_mount_namespace(|| {
        let o = Overlay::mount(&[&l1], Some((&upper, &work)), &merged);
        let m = o.merged.display().to_string();
        sh(&format!(
            "cd {m}
             rm etc/gone
             rm -rf etc/app && mkdir etc/app && echo fresh > etc/app/new.conf
             echo changed >> etc/passwd
             rm -rf var/cache
             mkdir -p opt/tool && echo bin > opt/tool/run && chmod 4711 opt/tool/run
             ln opt/tool/run opt/tool/run2
             ln -s ../etc/passwd opt/pw
             mkfifo opt/fifo
             chown 123:456 var/keep/f"
        ));
        let tool = File::open(o.merged.join("opt/tool")).unwrap();
        xattr::set(
            On::Child {
                dir: tool.as_fd(),
                name: b"run",
            },
            b"user.note",
            b"hello",
        )
        .unwrap();
        snapshot(&o.merged, cmp)
    });
    let mut tar = Vec::new();
    let opts = WriteOptions {
        times: TimePrecision::Exact,
    };
    let stats = diff_upper_with(&upper, &mut tar, &opts).unwrap();
    let entries: Vec<String> = tar::Archive::new(&tar[..])
        .entries()
        .unwrap()
        .map(|e| String::from_utf8_lossy(&e.unwrap().path_bytes()).into_owned())
        .collect();
    for want in [
        "etc/.wh.gone",
        "etc/app/.wh..wh..opq",
        "var/.wh.cache",
        "etc/passwd",
        "opt/tool/run2",
    ] {
        assert!(
            entries.iter().any(|e| e == want),
            "{want} missing from {entries:?}"
        );
    }
    assert!(
        !entries.iter().any(|e| e.contains("old.conf")),
        "{entries:?}"
    );
    assert_eq!((stats.whiteouts, stats.opaque_dirs), (2, 1));

    let l2 = s.empty("l2");
    let merged2 = s.empty("merged2");
    apply_layer(std::io::Cursor::new(tar), &l2, &ALL).unwrap();
    let after = in_mount_namespace(|| {
        let o = Overlay::mount(&[&l2, &l1], None, &merged2);
        snapshot(&o.merged, cmp)
    });
    assert_same(&before, &after);
}
