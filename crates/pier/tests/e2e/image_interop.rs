//! Images between pier and Docker 20.10 (Debian's docker.io, a private dockerd per test),
//! what a SIGKILL in the middle of `load` leaves in pier's store, and containers on images
//! too deep for mount(2)'s option page.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use image::model::{Descriptor, History, ImageConfigBuilder, Manifest, host_platform, media_types};
use image::reference::Reference;
use image::store::{CommitOptions, ImportOptions};
use image::{Digest, ImageStore};

use crate::dockerd::{Dockerd, mounts_under};
use crate::support::{World, make_busybox_rootfs, ok};

/// How a layer blob is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layers {
    Plain,
    Gzip,
    Zstd,
}

/// A deterministic tar of a directory tree.
fn tar_of(dir: &Path) -> Vec<u8> {
    let mut tar = Vec::new();
    image::layer::write_tree(dir, &mut tar).unwrap();
    tar
}

/// `bytes` through a compressor's command line.
fn compressed(bytes: &[u8], program: &str, args: &[&str], scratch: &Path) -> Vec<u8> {
    let input = scratch.join(format!("compress-{}.tar", std::process::id()));
    std::fs::write(&input, bytes).unwrap();
    let out = Command::new(program)
        .args(args)
        .arg(&input)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e} (scripts/deps.sh installs it)"));
    std::fs::remove_file(&input).unwrap();
    assert!(out.status.success(), "{program} failed");
    out.stdout
}

/// Makes an image straight in the content store: one layer per directory (bottom first),
/// a config and an OCI manifest, recorded with `register_manifest` and tagged.
fn build_image(
    store: &ImageStore,
    layer_dirs: &[PathBuf],
    layers: Layers,
    cmd: Option<&[&str]>,
    tag: &str,
    scratch: &Path,
) -> Digest {
    let platform = host_platform();
    let mut builder = ImageConfigBuilder::new(&platform.os, &platform.architecture)
        .variant(platform.variant.as_deref())
        .created("2024-05-01T12:00:00Z");
    if let Some(cmd) = cmd {
        builder.config_mut().cmd = Some(cmd.iter().map(|s| s.to_string()).collect());
    }
    let lease = store.lease();
    let mut descriptors = Vec::new();
    for (n, dir) in layer_dirs.iter().enumerate() {
        let tar = tar_of(dir);
        let diff_id = Digest::of(&tar);
        let (blob, media_type) = match layers {
            Layers::Plain => (tar, media_types::OCI_LAYER),
            Layers::Gzip => (
                compressed(&tar, "gzip", &["-n", "-c"], scratch),
                media_types::OCI_LAYER_GZIP,
            ),
            Layers::Zstd => (
                compressed(&tar, "zstd", &["-q", "-c"], scratch),
                media_types::OCI_LAYER_ZSTD,
            ),
        };
        let digest = store.content().write_bytes(&blob, None).unwrap();
        descriptors.push(Descriptor::new(media_type, digest, blob.len() as u64));
        builder = builder.add_layer(
            diff_id,
            History {
                created: Some("2024-05-01T12:00:00Z".into()),
                created_by: Some(format!("layer {n} by the test")),
                ..Default::default()
            },
        );
    }
    let config = builder.build().unwrap();
    store.content().write_bytes(config.bytes(), None).unwrap();
    let manifest = Manifest::oci(
        config.descriptor(media_types::OCI_CONFIG),
        descriptors,
        BTreeMap::new(),
    );
    store.content().write_bytes(manifest.bytes(), None).unwrap();
    store
        .register_leased(
            &lease,
            manifest.digest(),
            &[Reference::parse(tag).unwrap()],
            &[],
        )
        .unwrap()
}

/// A container's root filesystem: a snapshot of an image, mounted; unmounted and forgotten
/// when dropped (pass or fail).
struct Rootfs<'a> {
    store: &'a ImageStore,
    container: String,
    dir: PathBuf,
    target: PathBuf,
}

impl<'a> Rootfs<'a> {
    fn mount(store: &'a ImageStore, image: &Digest, container: &str, parent: &Path) -> Self {
        let dir = parent.join(container);
        let overlay = store.create_snapshot(container, image, &dir).unwrap();
        let rootfs = Rootfs {
            store,
            container: container.to_owned(),
            target: dir.join("rootfs"),
            dir,
        };
        std::fs::create_dir_all(&rootfs.target).unwrap();
        overlay.mount(&rootfs.target).unwrap();
        rootfs
    }

    fn unmount(&self) {
        image::snapshot::unmount(&self.target).unwrap();
    }
}

impl Drop for Rootfs<'_> {
    fn drop(&mut self) {
        if let Err(e) = image::snapshot::unmount(&self.target) {
            eprintln!("unmounting {}: {e}", self.target.display());
        }
        if let Err(e) = self.store.remove_snapshot(&self.container, &self.dir) {
            eprintln!("removing the snapshot of {}: {e}", self.container);
        }
    }
}

/// `pier runtime spec` for `args` on `rootfs`, then `pier runtime run` of it.
fn run_in_pier(world: &World, rootfs: &Path, args: &[String], name: &str) -> Output {
    let bundle = world.dir.path().join(format!("bundle-{name}"));
    std::fs::create_dir_all(&bundle).unwrap();
    let spec = world
        .pier()
        .args(["spec", "--bundle"])
        .arg(&bundle)
        .arg("--rootfs")
        .arg(rootfs)
        .arg("--")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    ok(&spec);
    let id = world.id(name);
    world.run(&["run", "--bundle", bundle.to_str().unwrap(), &id])
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// Diff ids of a stored image's config, as text.
fn diff_ids(store: &ImageStore, id: &Digest) -> Vec<String> {
    let config = store.config(id).unwrap();
    config.diff_ids().iter().map(|d| d.to_string()).collect()
}

/// What Docker says an image's layers are (`RootFS.Layers`).
fn docker_layers(docker: &Dockerd, image: &str) -> Vec<String> {
    let json = docker.ok(&[
        "image",
        "inspect",
        "--format",
        "{{json .RootFS.Layers}}",
        image,
    ]);
    serde_json::from_str(json.trim()).unwrap()
}

/// Nothing of a test's images is mounted, and the store holds nothing once its images go.
fn assert_store_empties(store: &ImageStore, world: &World) {
    let mounts = mounts_under(world.dir.path());
    assert!(mounts.is_empty(), "mounts left: {mounts:?}");
    for record in store.list().unwrap() {
        store.remove(record.id.hex(), true, &|_| false).unwrap();
    }
    store.collect_garbage().unwrap();
    assert!(store.list().unwrap().is_empty());
    assert!(store.content().list().unwrap().is_empty());
    assert!(store.layer_dirs().list().unwrap().is_empty());
}

const IMPORT_CMD: &str = r#"CMD ["sh","-c","echo hello from $(hostname)"]"#;

#[test]
fn image_docker_save_loads_and_runs_in_pier() {
    let started = Instant::now();
    let world = World::new();
    let work = world.dir.path();
    let rootfs_dir = work.join("busybox");
    make_busybox_rootfs(&rootfs_dir);
    let rootfs_tar = work.join("rootfs.tar");
    std::fs::write(&rootfs_tar, tar_of(&rootfs_dir)).unwrap();
    let context = work.join("context");
    std::fs::create_dir_all(&context).unwrap();
    std::fs::write(
        context.join("Dockerfile"),
        "FROM pier-interop/imported:v1\nRUN echo layer2 > /l2\n",
    )
    .unwrap();
    let archive = work.join("docker-save.tar");

    let mut docker = Dockerd::start();
    let t = Instant::now();
    docker.ok(&[
        "import",
        "--change",
        IMPORT_CMD,
        rootfs_tar.to_str().unwrap(),
        "pier-interop/imported:v1",
    ]);
    // The classic builder runs the RUN step in a container of its own, without a network.
    docker.ok(&[
        "build",
        "--network",
        "none",
        "-t",
        "pier-interop/built:v1",
        context.to_str().unwrap(),
    ]);
    let docker_id = docker
        .ok(&["images", "--no-trunc", "-q", "pier-interop/built:v1"])
        .trim()
        .to_owned();
    assert!(docker_id.starts_with("sha256:"), "{docker_id:?}");
    let docker_diff_ids = docker_layers(&docker, "pier-interop/built:v1");
    assert_eq!(
        docker_diff_ids.len(),
        2,
        "import + RUN: {docker_diff_ids:?}"
    );
    let imported_id = docker
        .ok(&["images", "--no-trunc", "-q", "pier-interop/imported:v1"])
        .trim()
        .to_owned();
    // Both images, which share their bottom layer.
    docker.ok(&[
        "save",
        "-o",
        archive.to_str().unwrap(),
        "pier-interop/built:v1",
        "pier-interop/imported:v1",
    ]);
    eprintln!("docker import, build and save: {:?}", t.elapsed());
    // The leak check below sees what it must: the daemon and its containerd.
    let running = docker.processes();
    for program in ["dockerd", "containerd"] {
        assert!(
            running.iter().any(|(_, cmd)| cmd.contains(program)),
            "{program} not found among {running:?}"
        );
    }
    let left = docker.stop();
    assert!(left.is_empty(), "dockerd left: {left:?}");

    let store = ImageStore::open(&work.join("images")).unwrap();
    let loaded =
        image::archive::load(&store, BufReader::new(File::open(&archive).unwrap())).unwrap();
    // Docker writes its images in no particular order.
    let mut loaded: Vec<(String, Vec<String>)> = loaded
        .iter()
        .map(|l| {
            (
                l.id.to_string(),
                l.tags.iter().map(|t| t.familiar()).collect(),
            )
        })
        .collect();
    loaded.sort();
    let mut expected = vec![
        (docker_id.clone(), strings(&["pier-interop/built:v1"])),
        (imported_id.clone(), strings(&["pier-interop/imported:v1"])),
    ];
    expected.sort();
    assert_eq!(loaded, expected, "pier's ids are not Docker's");
    let imported = store.resolve("pier-interop/imported:v1").unwrap();
    assert_eq!(imported.id.to_string(), imported_id);
    let record = store.resolve("pier-interop/built:v1").unwrap();
    assert_eq!(record.id.to_string(), docker_id);
    assert_eq!(record.chain_ids.len(), 2);
    assert_eq!(record.chain_ids[0], imported.chain_ids[0]);
    assert_eq!(diff_ids(&store, &record.id), docker_diff_ids);
    let config = store.config(&record.id).unwrap();
    let cmd = config.config().and_then(|c| c.cmd.clone()).unwrap();
    assert_eq!(cmd, strings(&["sh", "-c", "echo hello from $(hostname)"]));

    {
        let containers = work.join("containers");
        let rootfs = Rootfs::mount(&store, &record.id, "from-docker", &containers);
        let out = run_in_pier(&world, &rootfs.target, &cmd, "docker-cmd");
        assert_eq!(ok(&out), "hello from pier\n");
        let out = run_in_pier(&world, &rootfs.target, &strings(&["cat", "/l2"]), "l2");
        assert_eq!(ok(&out), "layer2\n");
    }
    world.assert_clean();
    assert_store_empties(&store, &world);
    eprintln!(
        "image_docker_save_loads_and_runs_in_pier: {:?}",
        started.elapsed()
    );
}

#[test]
fn image_pier_save_loads_in_docker_with_the_same_id() {
    let started = Instant::now();
    let world = World::new();
    let work = world.dir.path();
    let store = ImageStore::open(&work.join("images")).unwrap();
    let busybox = work.join("busybox");
    make_busybox_rootfs(&busybox);
    let containers = work.join("containers");

    // Two layers the way users make them: import, then commit a container's change.
    let committed = "pier-interop/committed:v1";
    let base = store
        .import(
            &tar_of(&busybox)[..],
            &ImportOptions {
                changes: vec![r#"CMD ["cat","/marker"]"#.into()],
                source: "busybox.tar".into(),
                ..Default::default()
            },
        )
        .unwrap();
    let committed_id = {
        let rootfs = Rootfs::mount(&store, &base, "to-commit", &containers);
        std::fs::write(rootfs.target.join("marker"), "committed by pier\n").unwrap();
        rootfs.unmount();
        store
            .commit(
                "to-commit",
                &rootfs.dir.join("upper"),
                &CommitOptions {
                    created_by: Some("/bin/sh -c echo > /marker".into()),
                    reference: Some(Reference::parse(committed).unwrap()),
                    ..Default::default()
                },
            )
            .unwrap()
    };
    // Two images of two layers each, stored gzip and zstd.
    let mut expected = vec![(committed.to_owned(), committed_id, "committed by pier\n")];
    for (layers, tag, text) in [
        (Layers::Gzip, "pier-interop/gzip:v1", "gzip layers\n"),
        (Layers::Zstd, "pier-interop/zstd:v1", "zstd layers\n"),
    ] {
        let top = work.join(format!("top-{tag}").replace(['/', ':'], "-"));
        std::fs::create_dir_all(&top).unwrap();
        std::fs::write(top.join("marker"), text).unwrap();
        let id = build_image(
            &store,
            &[busybox.clone(), top],
            layers,
            Some(&["cat", "/marker"]),
            tag,
            work,
        );
        let record = store.resolve(tag).unwrap();
        let wanted = match layers {
            Layers::Gzip => media_types::OCI_LAYER_GZIP,
            _ => media_types::OCI_LAYER_ZSTD,
        };
        for layer in store.manifest(&record).unwrap().layers() {
            assert_eq!(layer.media_type, wanted);
        }
        expected.push((tag.to_owned(), id, text));
    }
    let archive = work.join("pier-save.tar");
    let names: Vec<String> = expected.iter().map(|(t, _, _)| t.clone()).collect();
    image::archive::save_docker(&store, &names, File::create(&archive).unwrap()).unwrap();

    let mut docker = Dockerd::start();
    let t = Instant::now();
    let out = docker.ok(&["load", "-i", archive.to_str().unwrap()]);
    for (tag, _, _) in &expected {
        assert!(out.contains(&format!("Loaded image: {tag}\n")), "{out}");
    }
    let images = docker.ok(&[
        "images",
        "--no-trunc",
        "--format",
        "{{.Repository}}:{{.Tag}} {{.ID}}",
    ]);
    for (tag, id, text) in &expected {
        assert!(
            images.lines().any(|l| l == format!("{tag} {id}")),
            "docker does not list {tag} as {id}:\n{images}"
        );
        assert_eq!(docker_layers(&docker, tag), diff_ids(&store, id), "{tag}");
        let cat = docker.ok(&[
            "run",
            "--rm",
            "--pull=never",
            "--network",
            "none",
            tag,
            "cat",
            "/marker",
        ]);
        assert_eq!(cat, *text, "{tag}");
    }
    // The image's own Cmd, as pier wrote it.
    let default = docker.ok(&[
        "run",
        "--rm",
        "--pull=never",
        "--network",
        "none",
        committed,
    ]);
    assert_eq!(default, "committed by pier\n");
    eprintln!("docker load, images, inspect and run: {:?}", t.elapsed());
    let left = docker.stop();
    assert!(left.is_empty(), "dockerd left: {left:?}");

    world.assert_clean();
    assert_store_empties(&store, &world);
    eprintln!(
        "image_pier_save_loads_in_docker_with_the_same_id: {:?}",
        started.elapsed()
    );
}

/// The environment variable that makes `image_kill_during_load_child` work (its directory).
const CRASH_DIR: &str = "PIER_E2E_CRASH_DIR";

/// Fills `buf` with pseudo-random bytes (xorshift), so that no two layers share data and
/// nothing is a run of zeros.
fn fill(buf: &mut [u8], seed: u64) {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    for chunk in buf.chunks_mut(8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
    }
}

/// A docker-archive of one image of `layers` layers of `per_layer` bytes, made with pier
/// (a scratch store, then `save_docker`). Gives back the image id.
fn big_archive(scratch: &Path, tag: &str, seed: u64, layers: usize, per_layer: usize) -> Digest {
    let store_dir = scratch.join(format!("source-{seed}"));
    let store = ImageStore::open(&store_dir).unwrap();
    let files = 4;
    let mut dirs = Vec::new();
    let mut buf = vec![0u8; per_layer / files];
    for l in 0..layers {
        let dir = scratch.join(format!("layer-{seed}-{l}"));
        std::fs::create_dir_all(dir.join(format!("data/{l}"))).unwrap();
        for f in 0..files {
            fill(&mut buf, seed * 1000 + (l * files + f) as u64);
            std::fs::write(dir.join(format!("data/{l}/f{f}")), &buf).unwrap();
        }
        dirs.push(dir);
    }
    let id = build_image(&store, &dirs, Layers::Plain, None, tag, scratch);
    let archive = scratch.join(format!("{}.tar", tag.rsplit(':').next().unwrap()));
    image::archive::save_docker(&store, &[tag.to_owned()], File::create(&archive).unwrap())
        .unwrap();
    drop(store);
    for dir in dirs {
        std::fs::remove_dir_all(dir).unwrap();
    }
    std::fs::remove_dir_all(&store_dir).unwrap();
    id
}

/// Run by `image_kill_during_load_leaves_a_consistent_store` in a child process it kills:
/// loads whichever of `a.tar` and `b.tar` is not in the store, removes the other, again and
/// again, writing each step to `progress`.
#[test]
#[ignore = "a child process of image_kill_during_load_leaves_a_consistent_store"]
fn image_kill_during_load_child() {
    let Ok(dir) = std::env::var(CRASH_DIR) else {
        return;
    };
    let dir = PathBuf::from(dir);
    let mut progress = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(dir.join("progress"))
        .unwrap();
    let store = ImageStore::open(&dir.join("store")).unwrap();
    writeln!(progress, "opened").unwrap();
    loop {
        let (load, other) = if store.resolve("crash:a").is_ok() {
            ("b", "a")
        } else {
            ("a", "b")
        };
        writeln!(progress, "start {load}").unwrap();
        let archive = File::open(dir.join(format!("{load}.tar"))).unwrap();
        image::archive::load(&store, BufReader::with_capacity(1 << 20, archive)).unwrap();
        writeln!(progress, "loaded {load}").unwrap();
        let other = format!("crash:{other}");
        if store.resolve(&other).is_ok() {
            store.remove(&other, false, &|_| false).unwrap();
        }
        writeln!(progress, "removed {other}").unwrap();
    }
}

/// When to kill the child, one round each: after the n-th progress line of the round that
/// starts with a word, and then a delay in milliseconds. Most land in a load (while blobs
/// stream in, while layers unpack, while the image is recorded), some in a removal.
const KILLS: [(&str, usize, u64); 8] = [
    ("start", 1, 0),
    ("start", 1, 120),
    ("start", 1, 350),
    ("start", 1, 700),
    ("loaded", 1, 0),
    ("start", 2, 250),
    ("start", 1, 1100),
    ("removed", 1, 60),
];

/// Checks a store as the child left it: every listed image complete and verified, nothing
/// half made left. Gives back the tags listed.
fn check_store(root: &Path, ids: &BTreeMap<&str, Digest>) -> Vec<String> {
    let staging = |root: &Path| -> usize {
        std::fs::read_dir(root.join("layers"))
            .map(|d| {
                d.flatten()
                    .filter(|e| e.file_name().to_string_lossy().starts_with(".tmp-"))
                    .count()
            })
            .unwrap_or(0)
    };
    let ingests = |root: &Path| -> usize {
        std::fs::read_dir(root.join("content/ingest"))
            .map(|d| d.count())
            .unwrap_or(0)
    };
    let before = (staging(root), ingests(root));
    let store = ImageStore::open(root).unwrap();
    let mut tags = Vec::new();
    for record in store.list().unwrap() {
        assert!(
            ids.values().any(|id| *id == record.id),
            "an image that no archive holds: {}",
            record.id
        );
        store.content().verify(&record.manifest).unwrap();
        store.content().verify(&record.id).unwrap();
        let manifest = store.manifest(&record).unwrap();
        assert_eq!(manifest.layers().len(), record.chain_ids.len());
        for layer in manifest.layers() {
            store.content().verify(&layer.digest).unwrap();
        }
        for chain in &record.chain_ids {
            assert!(
                store.layer_dirs().exists(chain),
                "listed image {} lacks layer {chain}",
                record.id
            );
        }
        for tag in &record.tags {
            let short = tag.tag().unwrap();
            assert_eq!(ids[short], record.id, "{tag} names the wrong image");
            tags.push(tag.familiar());
        }
    }
    assert_eq!(staging(root), 0, "half-unpacked layers left under layers/");
    assert_eq!(ingests(root), 0, "ingests left under content/ingest");
    let report = store.collect_garbage().unwrap();
    assert!(
        report.blobs.is_empty() && report.layers.is_empty(),
        "garbage after open: {report:?}"
    );
    eprintln!(
        "  open removed {} staging dirs and {} ingests; images: {tags:?}",
        before.0, before.1
    );
    tags
}

#[test]
fn image_kill_during_load_leaves_a_consistent_store() {
    let started = Instant::now();
    let world = World::new();
    let dir = world.dir.path().join("crash");
    std::fs::create_dir_all(&dir).unwrap();
    // Two archives of ~100 MB: 4 layers of 25 MB.
    let mut ids = BTreeMap::new();
    ids.insert("a", big_archive(&dir, "crash:a", 1, 4, 25 << 20));
    ids.insert("b", big_archive(&dir, "crash:b", 2, 4, 25 << 20));
    eprintln!("archives made in {:?}", started.elapsed());
    let root = dir.join("store");
    let progress_path = dir.join("progress");
    let exe = std::env::current_exe().unwrap();
    let mut loads_done = 0;
    let mut mid_load = 0;
    for (round, &(after, nth, delay_ms)) in KILLS.iter().enumerate() {
        let offset = std::fs::read_to_string(&progress_path)
            .map(|p| p.lines().count())
            .unwrap_or(0);
        let err_path = dir.join(format!("child{round}.err"));
        let mut command = Command::new(&exe);
        // It loads forever: it must not outlive this test should the test be killed.
        // SAFETY: prctl is async-signal-safe.
        unsafe {
            std::os::unix::process::CommandExt::pre_exec(&mut command, || {
                nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)
                    .map_err(std::io::Error::from)
            });
        }
        let mut child = command
            .args([
                "--exact",
                "image_interop::image_kill_during_load_child",
                "--ignored",
                "--nocapture",
            ])
            .env(CRASH_DIR, &dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(File::create(&err_path).unwrap())
            .spawn()
            .unwrap();
        let lines_of_round = || -> Vec<String> {
            std::fs::read_to_string(&progress_path)
                .unwrap_or_default()
                .lines()
                .skip(offset)
                .map(str::to_owned)
                .collect()
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let seen = lines_of_round()
                .iter()
                .filter(|l| l.starts_with(after))
                .count();
            if seen >= nth {
                break;
            }
            if let Some(status) = child.try_wait().unwrap() {
                panic!(
                    "the child ended on its own ({status}):\n{}",
                    std::fs::read_to_string(&err_path).unwrap_or_default()
                );
            }
            assert!(
                Instant::now() < deadline,
                "round {round}: no {after:?} #{nth} within 60 s: {:?}",
                lines_of_round()
            );
            std::thread::sleep(Duration::from_millis(2));
        }
        std::thread::sleep(Duration::from_millis(delay_ms));
        child.kill().unwrap();
        let status = child.wait().unwrap();
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&status),
            Some(9),
            "the child ended before it was killed:\n{}",
            std::fs::read_to_string(&err_path).unwrap_or_default()
        );
        let lines = lines_of_round();
        let last = lines.last().cloned().unwrap_or_default();
        loads_done += lines.iter().filter(|l| l.starts_with("loaded")).count();
        if last.starts_with("start") {
            mid_load += 1;
        }
        eprintln!("round {round}: killed {delay_ms} ms after {after} #{nth}, after {last:?}");
        check_store(&root, &ids);
    }
    eprintln!("{loads_done} loads finished; {mid_load} kills landed in the middle of one");
    assert!(
        loads_done >= 1,
        "no load ever finished: the kills proved little"
    );
    assert!(mid_load >= 3, "only {mid_load} kills landed during a load");

    // The store is still good for work: both archives load, and their images are whole.
    let store = ImageStore::open(&root).unwrap();
    for (name, id) in &ids {
        let archive = File::open(dir.join(format!("{name}.tar"))).unwrap();
        let loaded = image::archive::load(&store, BufReader::new(archive)).unwrap();
        assert_eq!(loaded[0].id, *id);
    }
    assert_eq!(store.list().unwrap().len(), 2);
    drop(store);
    let mut tags = check_store(&root, &ids);
    tags.sort();
    assert_eq!(tags, ["crash:a", "crash:b"]);
    eprintln!(
        "image_kill_during_load_leaves_a_consistent_store: {:?}",
        started.elapsed()
    );
}

#[test]
fn image_overlay_with_130_layers_runs_a_container() {
    let started = Instant::now();
    let world = World::new();
    let work = world.dir.path();
    let store = ImageStore::open(&work.join("images")).unwrap();
    const LAYERS: usize = 130;
    let mut dirs = Vec::with_capacity(LAYERS);
    for n in 0..LAYERS {
        let dir = work.join(format!("layer{n}"));
        std::fs::create_dir_all(dir.join("layers")).unwrap();
        if n == 0 {
            make_busybox_rootfs(&dir);
            std::fs::write(dir.join("bottom"), "from the bottom layer\n").unwrap();
        }
        if n == LAYERS - 1 {
            std::fs::write(dir.join("top"), "from the top layer\n").unwrap();
        }
        std::fs::write(dir.join(format!("layers/{n}")), format!("{n}\n")).unwrap();
        // Every layer writes /which: the top one must win.
        std::fs::write(dir.join("which"), format!("{n}\n")).unwrap();
        dirs.push(dir);
    }
    let cmd = ["sh", "-c", "cat /bottom /top /which; ls /layers | wc -l"];
    let id = build_image(
        &store,
        &dirs,
        Layers::Plain,
        Some(&cmd),
        "pier-interop/deep:v1",
        work,
    );
    eprintln!(
        "{LAYERS} layers stored and unpacked in {:?}",
        started.elapsed()
    );
    let record = store.resolve("pier-interop/deep:v1").unwrap();
    assert_eq!(record.chain_ids.len(), LAYERS);
    {
        let rootfs = Rootfs::mount(&store, &id, "deep", &work.join("containers"));
        let out = run_in_pier(&world, &rootfs.target, &strings(&cmd), "deep");
        assert_eq!(
            ok(&out),
            format!(
                "from the bottom layer\nfrom the top layer\n{}\n{LAYERS}\n",
                LAYERS - 1
            )
        );
    }
    world.assert_clean();
    assert_store_empties(&store, &world);
    eprintln!(
        "image_overlay_with_130_layers_runs_a_container: {:?}",
        started.elapsed()
    );
}
