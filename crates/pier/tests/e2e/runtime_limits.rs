//! cgroup limits as the container sees them and as the kernel enforces them.

use crate::support::*;

#[test]
fn memory_limit_kills_with_137_and_reports_oom() {
    let w = World::new();
    let mut b = w.bundle(&["sh", "-c", "echo filling; tail /dev/zero"]);
    b.edit(|s| {
        s["linux"]["resources"]["memory"] =
            serde_json::json!({"limit": 16 * 1024 * 1024, "swap": 16 * 1024 * 1024});
    });
    // Foreground: the exit code.
    let out = w.run_bundle(&b, "oomfg");
    assert_eq!(out.status.code(), Some(137), "stderr: {}", stderr(&out));
    // Detached: the recorded exit status says OOMKilled.
    let id = w.id("oom");
    ok(&w.run(&["run", "-d", "--bundle", b.path.to_str().unwrap(), &id]));
    let state = w.wait_status(&id, "stopped");
    assert_eq!(state["exit"]["code"], 137, "{state}");
    assert_eq!(state["exit"]["signal"], 9, "{state}");
    assert_eq!(state["exit"]["oomKilled"], true, "{state}");
    ok(&w.run(&["delete", &id]));
    w.assert_clean();
}

#[test]
fn a_normal_exit_is_not_reported_as_oom() {
    let w = World::new();
    let mut b = w.bundle(&["true"]);
    b.edit(|s| s["linux"]["resources"]["memory"] = serde_json::json!({"limit": 64 * 1024 * 1024}));
    let id = w.id("nooom");
    ok(&w.run(&["run", "-d", "--bundle", b.path.to_str().unwrap(), &id]));
    let state = w.wait_status(&id, "stopped");
    assert_eq!(state["exit"]["code"], 0);
    assert_eq!(state["exit"]["oomKilled"], false);
    ok(&w.run(&["delete", &id]));
    w.assert_clean();
}

#[test]
fn pids_limit_stops_a_fork_bomb() {
    let w = World::new();
    // The bomb runs in a child shell, which gives up at the first failed fork; its sleeps stay.
    // Then only shell builtins: at the limit, nothing else can fork.
    let mut b = w.bundle(&[
        "sh",
        "-c",
        "sh -c 'for i in $(seq 40); do sleep 30 & done'; read n < /sys/fs/cgroup/pids/pids.current; read m < /sys/fs/cgroup/pids/pids.max; echo $n $m",
    ]);
    b.edit(|s| s["linux"]["resources"]["pids"] = serde_json::json!({"limit": 10}));
    let out = w.run_bundle(&b, "pids");
    let text = stdout(&out);
    let fields: Vec<&str> = text.split_whitespace().collect();
    assert_eq!(fields.len(), 2, "stdout: {text} stderr: {}", stderr(&out));
    let current: u32 = fields[0].parse().unwrap();
    assert!(current <= 10, "{text}");
    assert_eq!(fields[1], "10");
    assert!(stderr(&out).contains("fork"), "{}", stderr(&out));
    w.assert_clean();
}

#[test]
fn cpu_memory_cpuset_and_blkio_limits_are_visible_inside() {
    let w = World::new();
    let mut b = w.bundle(&[
        "sh",
        "-c",
        "cd /sys/fs/cgroup; cat memory/memory.limit_in_bytes memory/memory.soft_limit_in_bytes cpu/cpu.cfs_quota_us cpu/cpu.cfs_period_us cpu/cpu.shares cpuset/cpuset.cpus",
    ]);
    b.edit(|s| {
        s["linux"]["resources"]["memory"] =
            serde_json::json!({"limit": 128 * 1024 * 1024, "reservation": 64 * 1024 * 1024});
        s["linux"]["resources"]["cpu"] =
            serde_json::json!({"quota": 50000, "period": 100000, "shares": 512, "cpus": "0"});
    });
    let out = ok(&w.run_bundle(&b, "limits"));
    assert_eq!(out, "134217728\n67108864\n50000\n100000\n512\n0\n");
    w.assert_clean();
}
