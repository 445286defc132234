//! GNU tar compatibility, both ways.

use std::os::unix::fs::MetadataExt;

use super::apply::rich_layer;
use super::*;
use crate::layer::{TimePrecision, WriteOptions, write_tree_with};

/// A tree with what GNU tar can store: long names, links, devices, setuid, sticky, xattrs
/// (a file capability among them), a sparse file, times.
fn source_tree(root: &Path) {
    let long = format!("{}/{}", "l".repeat(110), "m".repeat(150));
    sh(&format!(
        "cd {root}
         mkdir -p bin etc/app tmp dev {long_dir}
         echo hello > etc/app/conf
         printf 'long' > {long}
         echo tool > bin/tool && chmod 4755 bin/tool && chown 1000:1000 bin/tool
         chmod 4755 bin/tool
         setcap cap_net_bind_service+ep bin/tool
         ln bin/tool bin/tool-again
         ln -s ../etc/app/conf bin/conf
         ln -s /{target} bin/far
         chmod 1777 tmp
         mkfifo dev/fifo
         mknod dev/null c 1 3
         truncate -s 32M sparse
         printf head | dd of=sparse conv=notrunc status=none
         printf tail | dd of=sparse bs=1 seek=30000000 conv=notrunc status=none
         chown -h 5:6 bin/conf
         touch -h -d '2020-02-02 02:02:02.123456789' bin/conf etc/app/conf bin/tool sparse
         touch -d '2019-01-01 00:00:00.5' etc/app etc",
        root = root.display(),
        long_dir = long.rsplit_once('/').unwrap().0,
        target = "t".repeat(120),
    ));
    let dir = File::open(root.join("etc/app")).unwrap();
    xattr::set(
        On::Child {
            dir: dir.as_fd(),
            name: b"conf",
        },
        b"user.origin",
        b"gnu",
    )
    .unwrap();
    sh(&format!(
        "touch -d '2019-01-01 00:00:00.5' {}/etc/app",
        root.display()
    ));
}

#[test]
fn gnu_tar_archives_apply() {
    for (flags, exact) in [
        ("--format=gnu --sparse --no-xattrs", false),
        (
            "--format=posix --xattrs --xattrs-include='*' --sparse --sparse-version=1.0",
            true,
        ),
        (
            "--format=posix --xattrs --xattrs-include='*' --sparse --sparse-version=0.1",
            true,
        ),
        (
            "--format=posix --xattrs --xattrs-include='*' --sparse --sparse-version=0.0",
            true,
        ),
    ] {
        let s = Scratch::new();
        let src = s.empty("src");
        source_tree(&src);
        let archive = s.path("layer.tgz");
        sh(&format!(
            "tar {flags} -czf {} -C {} .",
            archive.display(),
            src.display()
        ));
        let applied = apply_layer(File::open(&archive).unwrap(), &s.dest(), &ALL)
            .unwrap_or_else(|e| panic!("{flags}: {e}"));
        assert_eq!(applied.compression, crate::layer::Compression::Gzip);
        let cmp = Compare {
            atime: false,
            dir_mtime: true,
            nsec: exact,
        };
        let (want, got) = (snapshot(&src, cmp), snapshot(&s.dest(), cmp));
        if exact {
            assert_same(&want, &got);
        } else {
            // The gnu format keeps no xattrs: compare without them.
            let strip = |m: &BTreeMap<String, Node>| {
                m.iter()
                    .map(|(k, n)| {
                        (
                            k.clone(),
                            Node {
                                xattrs: Vec::new(),
                                ..n.clone()
                            },
                        )
                    })
                    .collect::<BTreeMap<_, _>>()
            };
            assert_same(&strip(&want), &strip(&got));
        }
        let sparse = std::fs::metadata(s.dest().join("sparse")).unwrap();
        assert!(sparse.blocks() <= 64, "{flags}: {} blocks", sparse.blocks());
    }
}

#[test]
fn gnu_tar_reads_what_we_write() {
    let s = Scratch::new();
    s.apply(rich_layer(false), &ALL).unwrap();
    let archive = s.path("ours.tar");
    let opts = WriteOptions {
        times: TimePrecision::Exact,
    };
    let stats = write_tree_with(&s.dest(), File::create(&archive).unwrap(), &opts).unwrap();
    let listing = run(Command::new("tar").arg("-tvf").arg(&archive));
    assert_eq!(listing.lines().count() as u64, stats.entries, "{listing}");
    assert!(
        listing.contains(&format!("usr/{}/{}", "d".repeat(120), "f".repeat(120))),
        "{listing}"
    );
    assert!(listing.contains("-rwsr-xr-x 1000/1001"), "{listing}");
    assert!(
        listing.contains("usr/bin/ping6 link to usr/bin/ping"),
        "{listing}"
    );
    assert!(listing.contains("crw--w---- 0/0"), "{listing}");
    let out = s.empty("gnu");
    run(Command::new("tar")
        .args(["--xattrs", "--xattrs-include=*", "--numeric-owner", "-xpf"])
        .arg(&archive)
        .arg("-C")
        .arg(&out));
    let cmp = Compare {
        atime: false,
        dir_mtime: true,
        nsec: true,
    };
    assert_same(&snapshot(&s.dest(), cmp), &snapshot(&out, cmp));
}
