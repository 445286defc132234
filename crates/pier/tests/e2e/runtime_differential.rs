//! The same bundle run by `pier runtime run` and by Debian's `runc run` gives the same
//! observations from inside: capabilities, seccomp, mounts, hostname, ids, cgroup limits.

use std::collections::BTreeSet;
use std::process::Command;

use crate::support::*;

const PROBE: &str = r#"
grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|Seccomp|NoNewPrivs):' /proc/self/status
echo "hostname=$(hostname)"
id
umask
ulimit -n
cat /proc/self/oom_score_adj
echo "pid=$$"
for f in memory/memory.limit_in_bytes memory/memory.soft_limit_in_bytes pids/pids.max cpu/cpu.cfs_quota_us cpu/cpu.cfs_period_us cpu/cpu.shares cpuset/cpuset.cpus; do
  echo "$f=$(cat /sys/fs/cgroup/$f 2>&1)"
done
echo "dev=$(ls -A /dev | sort | tr '\n' ' ')"
echo "kcore=$(wc -c < /proc/kcore)"
echo ---mounts---
cat /proc/self/mountinfo
"#;

/// Mount point, filesystem type and per-mount flags of every line of a mountinfo.
fn mounts(mountinfo: &str) -> BTreeSet<String> {
    mountinfo
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split(' ').collect();
            let dash = fields.iter().position(|f| *f == "-")?;
            let mut opts: Vec<&str> = fields[5].split(',').collect();
            opts.sort();
            Some(format!(
                "{} {} {}",
                fields[4],
                fields[dash + 1],
                opts.join(",")
            ))
        })
        .collect()
}

fn observe(out: &str) -> (String, BTreeSet<String>) {
    let (head, mountinfo) = out.split_once("---mounts---\n").unwrap_or((out, ""));
    (head.to_owned(), mounts(mountinfo))
}

#[test]
fn pier_and_runc_agree_on_what_the_container_sees() {
    let w = World::new();
    let mut b = w.bundle(&["sh", "-c", PROBE]);
    let group = format!("pier-diff-{}", std::process::id());
    b.edit(|s| {
        s["hostname"] = "difftest".into();
        s["process"]["user"] =
            serde_json::json!({"uid": 1000, "gid": 1000, "additionalGids": [10], "umask": 18});
        s["process"]["rlimits"] =
            serde_json::json!([{"type": "RLIMIT_NOFILE", "soft": 1024, "hard": 1024}]);
        s["process"]["oomScoreAdj"] = 100.into();
        s["linux"]["resources"]["memory"] =
            serde_json::json!({"limit": 100 * 1024 * 1024, "reservation": 50 * 1024 * 1024});
        s["linux"]["resources"]["pids"] = serde_json::json!({"limit": 64});
        s["linux"]["resources"]["cpu"] =
            serde_json::json!({"quota": 20000, "period": 100000, "shares": 256, "cpus": "0"});
    });

    // Each runtime gets its own cgroup below ours; runc resolves a relative cgroupsPath the same way.
    b.edit(|s| s["linux"]["cgroupsPath"] = format!("{group}/pier").into());
    let pier_out = ok(&w.run_bundle(&b, "diff"));

    b.edit(|s| s["linux"]["cgroupsPath"] = format!("{group}/runc").into());
    let runc_root = w.dir.path().join("runc-state");
    let runc = Command::new("runc")
        .arg("--root")
        .arg(&runc_root)
        .args([
            "run",
            "--bundle",
            b.path.to_str().unwrap(),
            &format!("runc-diff-{}", std::process::id()),
        ])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("runc is needed for the differential test (apt-get install runc)");
    let runc_out = ok(&runc);
    remove_cgroup_group(&group);

    let (pier_head, pier_mounts) = observe(&pier_out);
    let (runc_head, runc_mounts) = observe(&runc_out);
    assert_eq!(
        pier_head, runc_head,
        "\n--- pier ---\n{pier_head}\n--- runc ---\n{runc_head}"
    );
    let only_pier: Vec<_> = pier_mounts.difference(&runc_mounts).collect();
    let only_runc: Vec<_> = runc_mounts.difference(&pier_mounts).collect();
    assert!(
        only_pier.is_empty() && only_runc.is_empty(),
        "mounts differ\nonly pier: {only_pier:#?}\nonly runc: {only_runc:#?}"
    );
    w.assert_clean();
}

/// Removes the per-test cgroup parent (and anything runc left) in every hierarchy.
fn remove_cgroup_group(group: &str) {
    for own in own_cgroup_dirs() {
        let dir = own.join(group);
        for sub in ["pier", "runc"] {
            let _ = std::fs::remove_dir(dir.join(sub));
        }
        let _ = std::fs::remove_dir(&dir);
    }
}
