//! The public API on fake cgroup trees in temporary directories (v1 and v2): where things go,
//! what is written, what is undone on failure. The fake "kernel" is the set of files a test
//! lays out beforehand; directories that `create` makes itself start empty.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use oci_spec::runtime::LinuxResources;

use super::detect::{self, Layout};
use super::*;

fn res(json: &str) -> LinuxResources {
    serde_json::from_str(json).unwrap()
}

/// Lays out files (creating directories) under `dir`.
fn files(dir: &Path, list: &[(&str, &str)]) {
    for (name, content) in list {
        let p = dir.join(name);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, content).unwrap();
    }
}

fn read(p: impl AsRef<Path>) -> String {
    fs::read_to_string(p.as_ref()).unwrap_or_else(|e| panic!("{}: {e}", p.as_ref().display()))
}

/// A v1 tree like a typical hybrid host: cpu,cpuacct joined, memory nested in "daemon".
fn fake_v1() -> (tempfile::TempDir, PathBuf, Layout) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("cgroup");
    let hier = [
        ("cpu,cpuacct", "cgroup", "rw,cpu,cpuacct"),
        ("cpuset", "cgroup", "rw,cpuset"),
        ("memory", "cgroup", "rw,memory"),
        ("devices", "cgroup", "rw,devices"),
        ("freezer", "cgroup", "rw,freezer"),
        ("blkio", "cgroup", "rw,blkio"),
        ("pids", "cgroup", "rw,pids"),
        ("systemd", "cgroup", "rw,xattr,name=systemd"),
        ("unified", "cgroup2", "rw,nsdelegate"),
    ];
    let mut mountinfo = format!("20 1 0:20 / {} rw - tmpfs tmpfs rw\n", root.display());
    for (i, (dir, fstype, opts)) in hier.iter().enumerate() {
        fs::create_dir_all(root.join(dir)).unwrap();
        mountinfo.push_str(&format!(
            "{} 20 0:{} / {} rw,relatime - {fstype} cgroup {opts}\n",
            30 + i,
            30 + i,
            root.join(dir).display()
        ));
    }
    fs::create_dir_all(root.join("memory/daemon")).unwrap();
    let me = "8:name=systemd:/\n7:pids:/\n6:blkio:/\n5:freezer:/\n4:devices:/\n\
              3:memory:/daemon\n2:cpuset:/\n1:cpu,cpuacct:/\n0::/\n";
    let layout = detect::parse(&root, CgroupVersion::V1, &mountinfo, me).unwrap();
    (tmp, root, layout)
}

fn pier_dirs_left(root: &Path) -> Vec<PathBuf> {
    let mut left = Vec::new();
    for entry in fs::read_dir(root).unwrap() {
        let h = entry.unwrap().path();
        for p in [h.join("pier"), h.join("daemon/pier")] {
            if p.exists() {
                left.push(p);
            }
        }
    }
    left
}

#[test]
fn v1_paths_view_and_serde() {
    let (_tmp, root, layout) = fake_v1();
    let cg = Cgroup::from_paths(layout.container_paths(None, "c1").unwrap());
    assert_eq!(cg.version(), CgroupVersion::V1);
    let p = cg.paths();
    assert_eq!(p.hierarchies.len(), 8);
    let mem = p
        .hierarchies
        .iter()
        .find(|h| h.controllers == ["memory"])
        .unwrap();
    assert_eq!(mem.path, root.join("memory/daemon/pier/c1"));
    assert_eq!(
        p.unified.as_ref().unwrap().path,
        root.join("unified/pier/c1")
    );

    let json = serde_json::to_string(p).unwrap();
    let back: CgroupPaths = serde_json::from_str(&json).unwrap();
    assert_eq!(&back, p);

    let ContainerCgroupView::V1 { hierarchies } = cg.container_view() else {
        panic!("v1 expected");
    };
    let cpu = hierarchies
        .iter()
        .find(|v| v.dir_name == "cpu,cpuacct")
        .unwrap();
    assert_eq!(cpu.symlinks, ["cpu", "cpuacct"]);
    assert_eq!(cpu.host_path, root.join("cpu,cpuacct/pier/c1"));
    let sysd = hierarchies
        .iter()
        .find(|v| v.dir_name == "systemd")
        .unwrap();
    assert!(sysd.symlinks.is_empty());
    let mem = hierarchies.iter().find(|v| v.dir_name == "memory").unwrap();
    assert!(mem.symlinks.is_empty());
    assert_eq!(mem.host_path, root.join("memory/daemon/pier/c1"));
    // the hybrid unified mount is not shown to the container (runc 1.1 does not mount it)
    assert!(hierarchies.iter().all(|v| v.dir_name != "unified"));
    // pid 0 would move the caller itself
    assert!(matches!(
        cg.add_process(0),
        Err(CgroupError::InvalidResource { .. })
    ));
}

#[test]
fn v1_create_writes_every_limit_where_it_belongs() {
    let (_tmp, root, layout) = fake_v1();
    let cg = Cgroup::from_paths(layout.container_paths(None, "c1").unwrap());
    // What the kernel would show in the new cgroups.
    files(
        &root.join("memory/daemon/pier/c1"),
        &[
            ("memory.limit_in_bytes", "9223372036854771712\n"),
            ("memory.memsw.limit_in_bytes", "9223372036854771712\n"),
            ("memory.soft_limit_in_bytes", ""),
            ("memory.swappiness", "60\n"),
            (
                "memory.oom_control",
                "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n",
            ),
        ],
    );
    files(
        &root.join("cpu,cpuacct/pier/c1"),
        &[
            ("cpu.shares", ""),
            ("cpu.cfs_period_us", ""),
            ("cpu.cfs_quota_us", ""),
        ],
    );
    files(
        &root.join("cpuset"),
        &[("cpuset.cpus", "0-3\n"), ("cpuset.mems", "0\n")],
    );
    files(
        &root.join("cpuset/pier"),
        &[("cpuset.cpus", "\n"), ("cpuset.mems", "\n")],
    );
    files(
        &root.join("cpuset/pier/c1"),
        &[("cpuset.cpus", "\n"), ("cpuset.mems", "\n")],
    );
    files(&root.join("pids/pier/c1"), &[("pids.max", "max\n")]);
    files(
        &root.join("devices/pier/c1"),
        &[("devices.allow", ""), ("devices.deny", "")],
    );
    // bfq only, as on kernels without CFQ
    files(
        &root.join("blkio/pier/c1"),
        &[("blkio.bfq.weight", "100\n")],
    );
    files(
        &root.join("freezer/pier/c1"),
        &[("freezer.state", "THAWED\n")],
    );

    cg.create(Some(&res(
        r#"{"memory":{"limit":33554432,"swap":67108864,"reservation":16777216,"swappiness":10,"disableOOMKiller":true},
            "cpu":{"shares":512,"quota":50000,"period":100000,"cpus":"1"},
            "pids":{"limit":20},
            "blockIO":{"weight":500},
            "devices":[{"allow":false,"access":"rwm"},{"allow":true,"type":"c","major":10,"minor":200,"access":"rwm"}]}"#,
    )))
    .unwrap();

    let mem = root.join("memory/daemon/pier/c1");
    assert_eq!(read(mem.join("memory.limit_in_bytes")), "33554432");
    assert_eq!(read(mem.join("memory.memsw.limit_in_bytes")), "67108864");
    assert_eq!(read(mem.join("memory.soft_limit_in_bytes")), "16777216");
    assert_eq!(read(mem.join("memory.swappiness")), "10");
    assert_eq!(read(mem.join("memory.oom_control")), "1");
    let cpu = root.join("cpu,cpuacct/pier/c1");
    assert_eq!(read(cpu.join("cpu.shares")), "512");
    assert_eq!(read(cpu.join("cpu.cfs_period_us")), "100000");
    assert_eq!(read(cpu.join("cpu.cfs_quota_us")), "50000");
    // each level inherits its parent's cpuset, then the container's own is applied
    assert_eq!(read(root.join("cpuset/pier/cpuset.cpus")), "0-3");
    assert_eq!(read(root.join("cpuset/pier/cpuset.mems")), "0");
    assert_eq!(read(root.join("cpuset/pier/c1/cpuset.cpus")), "1");
    assert_eq!(read(root.join("cpuset/pier/c1/cpuset.mems")), "0");
    assert_eq!(read(root.join("pids/pier/c1/pids.max")), "20");
    assert_eq!(read(root.join("blkio/pier/c1/blkio.bfq.weight")), "500");
    // the fake keeps only the last write of each file: the last default rule
    assert_eq!(
        read(root.join("devices/pier/c1/devices.allow")),
        "c 136:* rwm"
    );
    // hierarchies without limits are created too, named ones and the hybrid unified one
    for dir in ["systemd/pier/c1", "unified/pier/c1", "freezer/pier/c1"] {
        assert!(root.join(dir).is_dir(), "{dir}");
    }

    assert_eq!(cg.oom_kill_count().unwrap(), 0); // the fake now holds "1": no oom_kill line
    fs::write(
        mem.join("memory.oom_control"),
        "oom_kill_disable 1\nunder_oom 0\noom_kill 2\n",
    )
    .unwrap();
    assert_eq!(cg.oom_kill_count().unwrap(), 2);

    cg.freeze().unwrap();
    assert!(cg.is_frozen().unwrap());
    cg.thaw().unwrap();
    assert!(!cg.is_frozen().unwrap());

    files(&root.join("pids/pier/c1"), &[("cgroup.procs", "12\n11\n")]);
    files(
        &root.join("memory/daemon/pier/c1/sub"),
        &[("cgroup.procs", "13\n")],
    );
    assert_eq!(cg.processes().unwrap(), [11, 12, 13]);
}

#[test]
fn v1_failure_removes_exactly_what_create_made() {
    let (_tmp, root, layout) = fake_v1();
    // "pier" exists already in pids: it must stay.
    fs::create_dir(root.join("pids/pier")).unwrap();
    let cg = Cgroup::from_paths(layout.container_paths(None, "c1").unwrap());
    // The new memory cgroup has no memory.limit_in_bytes in a fake tree: the write fails.
    let err = cg
        .create(Some(&res(r#"{"memory":{"limit":1048576}}"#)))
        .unwrap_err();
    assert!(matches!(err, CgroupError::Unsupported { .. }), "{err}");
    assert_eq!(
        err.to_string(),
        format!(
            "memory limit was requested, but this host has no {}",
            root.join("memory/daemon/pier/c1/memory.limit_in_bytes")
                .display()
        )
    );
    assert_eq!(pier_dirs_left(&root), [root.join("pids/pier")]);
    assert!(!root.join("pids/pier/c1").exists());
    assert!(root.join("memory/daemon").is_dir());
}

#[test]
fn v1_missing_files_are_errors_only_when_asked_for() {
    let (_tmp, root, layout) = fake_v1();
    let cg = Cgroup::from_paths(layout.container_paths(Some(Path::new("x/c")), "c").unwrap());
    // No limits: devices and cpuset files are missing in the fake, and that is fine.
    cg.create(None).unwrap();
    assert!(root.join("devices/x/c").is_dir());
    // Swap accounting off (no memsw file): skipped. No blkio weight file at all: an error.
    files(
        &root.join("memory/daemon/x/c"),
        &[("memory.limit_in_bytes", "0")],
    );
    cg.create(Some(&res(r#"{"memory":{"limit":1048576,"swap":2097152}}"#)))
        .unwrap();
    assert_eq!(
        read(root.join("memory/daemon/x/c/memory.limit_in_bytes")),
        "1048576"
    );
    let err = cg
        .create(Some(&res(r#"{"blockIO":{"weight":500}}"#)))
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("blkio weight was requested, but this host has no"),
        "{err}"
    );
    // user device rules on a host whose devices cgroup has no files: an error
    let err = cg
        .create(Some(&res(
            r#"{"devices":[{"allow":false,"access":"rwm"}]}"#,
        )))
        .unwrap_err();
    assert!(err.to_string().contains("devices.deny"), "{err}");
    // invalid values are refused before anything is created
    let other = Cgroup::from_paths(layout.container_paths(None, "c9").unwrap());
    assert!(
        other
            .create(Some(&res(r#"{"unified":{"memory.high":"1"}}"#)))
            .is_err()
    );
    assert!(!root.join("pids/pier/c9").exists());
}

#[test]
fn v1_destroy_removes_the_leaf_and_below_only_and_is_idempotent() {
    let (_tmp, root, layout) = fake_v1();
    let cg = Cgroup::from_paths(layout.container_paths(None, "c1").unwrap());
    cg.create(None).unwrap();
    fs::create_dir_all(root.join("pids/pier/c1/nested/deeper")).unwrap();
    cg.destroy().unwrap();
    for h in &cg.paths().hierarchies {
        assert!(!h.path.exists(), "{}", h.path.display());
        assert!(
            h.path.parent().unwrap().is_dir(),
            "parent of {} kept",
            h.path.display()
        );
    }
    assert!(!root.join("unified/pier/c1").exists());
    cg.destroy().unwrap();
}

/// A cgroup2 tree: root → system.slice → pier.service (the daemon's own cgroup).
fn fake_v2() -> (tempfile::TempDir, PathBuf, Layout) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("cg");
    files(
        &root,
        &[
            (
                "cgroup.controllers",
                "cpuset cpu io memory hugetlb pids rdma misc\n",
            ),
            ("cgroup.subtree_control", "cpuset cpu io memory pids\n"),
            (
                "system.slice/cgroup.controllers",
                "cpuset cpu io memory pids\n",
            ),
            (
                "system.slice/cgroup.subtree_control",
                "cpuset cpu io memory pids\n",
            ),
            (
                "system.slice/pier.service/cgroup.controllers",
                "cpuset cpu io memory pids\n",
            ),
            ("system.slice/pier.service/cgroup.subtree_control", "\n"),
        ],
    );
    let layout = detect::parse(
        &root,
        CgroupVersion::V2,
        "",
        "0::/system.slice/pier.service\n",
    )
    .unwrap();
    (tmp, root, layout)
}

const V2_LEAF: &[(&str, &str)] = &[
    ("cgroup.controllers", "cpuset cpu io memory pids\n"),
    ("cgroup.freeze", "0\n"),
    ("cgroup.events", "populated 0\nfrozen 0\n"),
    ("memory.max", "max\n"),
    ("memory.swap.max", "max\n"),
    ("memory.low", "0\n"),
    ("memory.events", "low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n"),
    ("cpu.weight", "100\n"),
    ("cpu.max", "max 100000\n"),
    ("cpuset.cpus", "\n"),
    ("pids.max", "max\n"),
    ("io.weight", "default 100\n"),
];

#[test]
fn v2_create_enables_controllers_and_converts_values() {
    let (_tmp, root, layout) = fake_v2();
    let own = root.join("system.slice/pier.service");
    files(
        &own.join("pier"),
        &[
            ("cgroup.controllers", "cpuset cpu io memory pids\n"),
            ("cgroup.subtree_control", "\n"),
        ],
    );
    files(&own.join("pier/c1"), V2_LEAF);
    let cg = Cgroup::from_paths(layout.container_paths(None, "c1").unwrap());
    assert_eq!(cg.version(), CgroupVersion::V2);
    assert!(cg.paths().hierarchies.is_empty());
    assert_eq!(
        cg.container_view(),
        ContainerCgroupView::V2 {
            host_path: own.join("pier/c1")
        }
    );
    cg.create(Some(&res(
        r#"{"memory":{"limit":33554432,"swap":67108864,"reservation":16777216},
            "cpu":{"shares":1024,"quota":50000,"period":100000,"cpus":"0"},
            "pids":{"limit":-1},
            "blockIO":{"weight":500}}"#,
    )))
    .unwrap();
    // the own cgroup and "pier" hand the controllers down; the root was already done
    let want = "+cpu +memory +pids +io +cpuset";
    assert_eq!(read(own.join("cgroup.subtree_control")), want);
    assert_eq!(read(own.join("pier/cgroup.subtree_control")), want);
    assert_eq!(
        read(root.join("cgroup.subtree_control")),
        "cpuset cpu io memory pids\n"
    );
    assert_eq!(
        read(root.join("system.slice/cgroup.subtree_control")),
        "cpuset cpu io memory pids\n"
    );
    let leaf = own.join("pier/c1");
    assert_eq!(read(leaf.join("memory.max")), "33554432");
    assert_eq!(read(leaf.join("memory.swap.max")), "33554432");
    assert_eq!(read(leaf.join("memory.low")), "16777216");
    assert_eq!(read(leaf.join("cpu.weight")), "39");
    assert_eq!(read(leaf.join("cpu.max")), "50000 100000");
    assert_eq!(read(leaf.join("cpuset.cpus")), "0");
    assert_eq!(read(leaf.join("pids.max")), "max");
    assert_eq!(read(leaf.join("io.weight")), "default 4950");

    assert_eq!(cg.oom_kill_count().unwrap(), 1);
    // freezing waits for cgroup.events; the fake never changes it
    let u = cg.paths().unified.clone().unwrap();
    fs::write(leaf.join("cgroup.events"), "populated 1\nfrozen 1\n").unwrap();
    cg.freeze().unwrap();
    assert_eq!(read(leaf.join("cgroup.freeze")), "1");
    assert!(cg.is_frozen().unwrap());
    let err = v2::set_frozen(&u, false, Duration::from_millis(30)).unwrap_err();
    assert!(matches!(err, CgroupError::FreezeTimeout { .. }), "{err}");
    assert!(!cg.is_frozen().unwrap());
}

#[test]
fn v2_refused_subtree_control_is_a_clear_error_and_undone() {
    let (_tmp, root, layout) = fake_v2();
    let own = root.join("system.slice/pier.service");
    // A file that refuses writes (EBUSY on a real host with processes in the cgroup).
    fs::remove_file(own.join("cgroup.subtree_control")).unwrap();
    std::os::unix::fs::symlink("/proc/version", own.join("cgroup.subtree_control")).unwrap();
    let cg = Cgroup::from_paths(layout.container_paths(None, "c1").unwrap());
    let err = cg
        .create(Some(&res(r#"{"memory":{"limit":1048576}}"#)))
        .unwrap_err();
    assert!(matches!(err, CgroupError::SubtreeControl { .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.starts_with(&format!(
            "writing \"+memory\" to {}: ",
            own.join("cgroup.subtree_control").display()
        )),
        "{msg}"
    );
    assert!(!own.join("pier").exists());
    // Without limits the refusal does not matter.
    cg.create(None).unwrap();
    assert!(own.join("pier/c1").is_dir());
    cg.destroy().unwrap();
    assert!(!own.join("pier/c1").exists());
    assert!(own.join("pier").is_dir());
}

#[test]
fn v2_a_cgroup_with_processes_hands_nothing_down() {
    let (_tmp, root, layout) = fake_v2();
    let own = root.join("system.slice/pier.service");
    // A real kernel would take the threaded controllers here and then let no process into the
    // container's cgroup; nothing may be written.
    files(
        &own,
        &[("cgroup.type", "domain\n"), ("cgroup.procs", "42\n")],
    );
    let cg = Cgroup::from_paths(layout.container_paths(None, "c1").unwrap());
    let err = cg
        .create(Some(&res(r#"{"memory":{"limit":1048576}}"#)))
        .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.starts_with(&format!(
            "writing \"+memory\" to {}: device or resource busy (cgroup v2",
            own.join("cgroup.subtree_control").display()
        )),
        "{msg}"
    );
    assert_eq!(read(own.join("cgroup.subtree_control")), "\n");
    assert!(!own.join("pier").exists());
    // Without limits it is no matter.
    cg.create(None).unwrap();
    assert_eq!(read(own.join("cgroup.subtree_control")), "\n");
    cg.destroy().unwrap();
    // The root is exempt, and so is a cgroup whose processes have gone.
    files(&root, &[("cgroup.procs", "1\n")]);
    files(&own, &[("cgroup.procs", "")]);
    files(&own.join("pier/c1"), V2_LEAF);
    cg.create(Some(&res(r#"{"pids":{"limit":10}}"#))).unwrap();
    assert_eq!(read(own.join("pier/c1/pids.max")), "10");
    assert_eq!(
        read(own.join("cgroup.subtree_control")),
        "+cpu +memory +pids +io +cpuset"
    );
}

#[test]
fn v2_missing_controller_and_absolute_paths() {
    let (_tmp, root, layout) = fake_v2();
    let cg = Cgroup::from_paths(
        layout
            .container_paths(Some(Path::new("/machine/c2")), "c2")
            .unwrap(),
    );
    let u = cg.paths().unified.clone().unwrap();
    assert_eq!(u.path, root.join("machine/c2"));
    assert_eq!(u.base, root);
    files(
        &root.join("machine"),
        &[
            ("cgroup.controllers", "cpuset cpu io memory hugetlb pids\n"),
            ("cgroup.subtree_control", ""),
        ],
    );
    files(&root.join("machine/c2"), V2_LEAF);
    let err = cg
        .create(Some(&res(
            r#"{"hugepageLimits":[{"pageSize":"2MB","limit":2097152}]}"#,
        )))
        .unwrap_err();
    assert!(
        matches!(err, CgroupError::ControllerUnavailable { .. }),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("the hugetlb controller is not enabled"),
        "{err}"
    );
    // from the root down: root enables what it lacks (hugetlb asked for), machine gets all
    assert_eq!(read(root.join("cgroup.subtree_control")), "+hugetlb");
    assert_eq!(
        read(root.join("machine/cgroup.subtree_control")),
        "+cpu +memory +pids +io +cpuset +hugetlb"
    );
    // the leaf existed before: create does not remove it on failure
    assert!(root.join("machine/c2").is_dir());
}
