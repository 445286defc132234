//! What `bench/images.sh` runs on pier's side; a measurement, not a tool.
//!
//!     load_bench load <data-root> <archive>
//!         `archive::load` of a docker-archive (or OCI layout) into the image store at
//!         <data-root> (fresh or not), timed in-process; prints one line:
//!         `load_ms=<ms> images=<n> layers=<n> unpacked_bytes=<n>`
//!
//!     load_bench snapshot <data-root> <archive> <iterations>
//!         loads the archive (untimed), then, <iterations> times (after a few untimed
//!         warm-up rounds): `create_snapshot` of a container over the first image, its overlay
//!         mounted on a directory of the container, unmounted, and `remove_snapshot`; prints
//!         the medians in microseconds of each step and of the whole:
//!         `snapshot_us total=<us> create=<us> mount=<us> unmount=<us> remove=<us> iterations=<n> layers=<n>`
//!
//! Run it optimized and as root (the overlay mount needs CAP_SYS_ADMIN):
//!
//!     cargo run --release -p pier-image --example load_bench -- load /var/tmp/x image.tar

use std::error::Error;
use std::fs::File;
use std::path::Path;
use std::time::{Duration, Instant};

use image::ImageStore;
use image::archive;
use image::snapshot::unmount;

type Result<T> = std::result::Result<T, Box<dyn Error>>;

const USAGE: &str = "usage: load_bench load <data-root> <archive>
       load_bench snapshot <data-root> <archive> <iterations>";

/// Rounds of the snapshot loop that are run but not counted.
const WARMUP: usize = 10;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let done = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["load", root, archive] => load(Path::new(root), Path::new(archive)),
        ["snapshot", root, archive, iterations] => match iterations.parse() {
            Ok(n) if n > 0 => snapshot(Path::new(root), Path::new(archive), n),
            _ => Err(format!("iterations: not a positive number: {iterations}").into()),
        },
        _ => Err(USAGE.into()),
    };
    if let Err(e) = done {
        eprintln!("load_bench: {e}");
        std::process::exit(1);
    }
}

fn load(root: &Path, archive: &Path) -> Result<()> {
    let store = ImageStore::open(root)?;
    let file = open(archive)?;
    let start = Instant::now();
    let loaded = archive::load(&store, file)?;
    let elapsed = start.elapsed();
    let mut layers = 0;
    let mut unpacked = 0;
    for image in &loaded {
        let record = store
            .get(&image.id)?
            .ok_or_else(|| format!("image {} was loaded but is not in the store", image.id))?;
        layers += record.chain_ids.len();
        unpacked += record.size;
    }
    println!(
        "load_ms={:.1} images={} layers={layers} unpacked_bytes={unpacked}",
        ms(elapsed),
        loaded.len()
    );
    Ok(())
}

fn snapshot(root: &Path, archive: &Path, iterations: usize) -> Result<()> {
    let store = ImageStore::open(root)?;
    let loaded = archive::load(&store, open(archive)?)?;
    let image = loaded.first().ok_or("the archive has no image")?.id.clone();
    let layers = store
        .get(&image)?
        .ok_or("the loaded image is not in the store")?
        .chain_ids
        .len();
    let containers = root.join("bench-containers");
    let mut steps: [Vec<Duration>; 4] = Default::default();
    for i in 0..WARMUP + iterations {
        let name = format!("bench-{i}");
        let dir = containers.join(&name);
        let rootfs = dir.join("rootfs");

        let t0 = Instant::now();
        let mount = store.create_snapshot(&name, &image, &dir)?;
        std::fs::create_dir(&rootfs).map_err(|e| format!("creating {}: {e}", rootfs.display()))?;
        let t1 = Instant::now();
        mount.mount(&rootfs)?;
        let t2 = Instant::now();
        if i == 0 {
            check_mounted(&rootfs)?;
        }
        let t3 = Instant::now();
        unmount(&rootfs)?;
        let t4 = Instant::now();
        store.remove_snapshot(&name, &dir)?;
        std::fs::remove_dir_all(&dir).map_err(|e| format!("removing {}: {e}", dir.display()))?;
        let t5 = Instant::now();

        if i >= WARMUP {
            for (step, d) in steps.iter_mut().zip([t1 - t0, t2 - t1, t4 - t3, t5 - t4]) {
                step.push(d);
            }
        }
    }
    let _ = std::fs::remove_dir(&containers);
    let totals: Vec<Duration> = (0..iterations)
        .map(|i| steps.iter().map(|s| s[i]).sum())
        .collect();
    let [create, mount, unmount, remove] = steps.map(|s| us(median(s)));
    println!(
        "snapshot_us total={:.1} create={create:.1} mount={mount:.1} unmount={unmount:.1} remove={remove:.1} iterations={iterations} layers={layers}",
        us(median(totals))
    );
    Ok(())
}

/// The first mount shows the image: its root is not empty.
fn check_mounted(rootfs: &Path) -> Result<()> {
    let entries = std::fs::read_dir(rootfs)
        .map_err(|e| format!("listing {}: {e}", rootfs.display()))?
        .count();
    if entries == 0 {
        return Err(format!("{} is empty after mounting", rootfs.display()).into());
    }
    Ok(())
}

fn open(path: &Path) -> Result<File> {
    File::open(path).map_err(|e| format!("opening {}: {e}", path.display()).into())
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    let n = samples.len();
    if n % 2 == 1 {
        samples[n / 2]
    } else {
        (samples[n / 2 - 1] + samples[n / 2]) / 2
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}
