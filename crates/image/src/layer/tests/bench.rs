//! A benchmark, not a test: unpacks a generated ~330 MB layer with `apply_layer` and with
//! GNU tar (plain, gzip, zstd), each run on a freshly made filesystem (ext4 on a loop
//! device, and tmpfs) so that no run pays for another's deletions, the two alternating.
//! Run it optimized:
//!
//!     cargo test --release -p pier-image layer::tests::bench -- --ignored --nocapture

use std::time::{Duration, Instant};

use super::*;

/// A layer shaped like a distribution image: many small files in many directories, some
/// medium ones, a few large ones; text-like data that compresses about 3:1.
fn generated_layer() -> Vec<u8> {
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let words: Vec<Vec<u8>> = (0..4096u64)
        .map(|i| {
            format!(
                "w{:x}{} ",
                i * 2654435761u64 % 100_000,
                "abcdefgh".repeat((i % 3) as usize)
            )
            .into_bytes()
        })
        .collect();
    let mut content = |len: usize| {
        let mut data = Vec::with_capacity(len + 32);
        while data.len() < len {
            data.extend_from_slice(&words[(next() % words.len() as u64) as usize]);
            if next() % 16 == 0 {
                data.extend_from_slice(&next().to_le_bytes());
            }
        }
        data.truncate(len);
        data
    };
    let mut t = TarBuilder::new();
    let mut total = 0usize;
    for d in 0..400 {
        let dir = format!("usr/share/pkg{d:03}");
        t.dir(&dir, 0o755);
        for f in 0..60 {
            let len = 200 + (f * 997 + d * 131) % 12_000;
            total += len;
            t.file(&format!("{dir}/file{f:02}.txt"), &content(len));
        }
    }
    for i in 0..60 {
        let len = 1 << 20;
        total += len;
        t.file(&format!("usr/lib/lib{i}.so"), &content(len));
    }
    t.dir("opt", 0o755);
    while total < 300 << 20 {
        let len = 16 << 20;
        total += len;
        t.file(&format!("opt/blob{total}"), &content(len));
    }
    t.finish()
}

/// A filesystem made for one run, unmounted (and its loop device released) when dropped.
struct FreshFs {
    mnt: PathBuf,
}

impl FreshFs {
    fn new(kind: &str, image: &Path, mnt: &Path) -> FreshFs {
        match kind {
            "ext4" => sh(&format!(
                "rm -f {img}; truncate -s 3G {img}
                 mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 {img}
                 mount -o loop {img} {mnt}",
                img = image.display(),
                mnt = mnt.display()
            )),
            _ => sh(&format!(
                "mount -t tmpfs -o size=2g tmpfs {}",
                mnt.display()
            )),
        };
        // The last run's data, written back by now, costs this run nothing.
        sh("sync");
        FreshFs {
            mnt: mnt.to_path_buf(),
        }
    }
}

impl Drop for FreshFs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.mnt).status();
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[test]
#[ignore = "benchmark: run with --release --ignored --nocapture"]
fn bench_apply_vs_gnu_tar() {
    let s = Scratch::new();
    let tar = generated_layer();
    let plain = s.path("layer.tar");
    std::fs::write(&plain, &tar).unwrap();
    let gz = s.path("layer.tar.gz");
    let zst = s.path("layer.tar.zst");
    sh(&format!(
        "gzip -6 -c {} > {}",
        plain.display(),
        gz.display()
    ));
    sh(&format!(
        "zstd -q -3 -c {} > {}",
        plain.display(),
        zst.display()
    ));
    let size = |p: &Path| std::fs::metadata(p).unwrap().len() as f64 / (1 << 20) as f64;
    println!(
        "layer: {:.0} MiB tar ({} entries), {:.0} MiB gzip -6, {:.0} MiB zstd -3",
        size(&plain),
        tar::Archive::new(&tar[..]).entries().unwrap().count(),
        size(&gz),
        size(&zst),
    );
    drop(tar);
    let image = s.path("fs.img");
    let mnt = s.empty("mnt");
    in_mount_namespace(|| {
        for fs in ["ext4", "tmpfs"] {
            for (label, file, tar_flags) in [
                ("gzip", &gz, "-xzf"),
                ("zstd", &zst, "--zstd -xf"),
                ("plain", &plain, "-xf"),
            ] {
                let (mut ours, mut gnu) = (Vec::new(), Vec::new());
                for _ in 0..3 {
                    {
                        let _fs = FreshFs::new(fs, &image, &mnt);
                        let dest = mnt.join("dest");
                        std::fs::create_dir(&dest).unwrap();
                        let start = Instant::now();
                        apply_layer(File::open(file).unwrap(), &dest, &ALL).unwrap();
                        ours.push(start.elapsed());
                    }
                    {
                        let _fs = FreshFs::new(fs, &image, &mnt);
                        let dest = mnt.join("dest");
                        std::fs::create_dir(&dest).unwrap();
                        let start = Instant::now();
                        sh(&format!(
                            "tar {tar_flags} {} -C {}",
                            file.display(),
                            dest.display()
                        ));
                        gnu.push(start.elapsed());
                    }
                }
                ours.sort();
                gnu.sort();
                println!(
                    "{fs:>5} {label:>5}: apply_layer {:>5.0} ms (median {:>5.0})   tar {tar_flags:<10} {:>5.0} ms (median {:>5.0})   tar/ours {:.2}",
                    ms(ours[0]),
                    ms(ours[1]),
                    ms(gnu[0]),
                    ms(gnu[1]),
                    gnu[1].as_secs_f64() / ours[1].as_secs_f64(),
                );
            }
        }
    });
    let _ = std::fs::remove_file(&image);
}
