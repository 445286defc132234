use super::*;

fn res(json: &str) -> LinuxResources {
    serde_json::from_str(json).unwrap()
}

fn none(_: &str, _: &str) -> Option<String> {
    None
}

/// (file, value) of the first choice of each write.
fn flat(plan: &[Write]) -> Vec<(String, String)> {
    plan.iter().map(|w| w.choices[0].clone()).collect()
}

fn has(plan: &[Write], file: &str, value: &str) -> bool {
    flat(plan).contains(&(file.to_string(), value.to_string()))
}

#[test]
fn conversions_match_runc() {
    assert_eq!(shares_to_weight(2), 1);
    assert_eq!(shares_to_weight(1024), 39);
    assert_eq!(shares_to_weight(262_144), 10_000);
    assert_eq!(shares_to_weight(0), 1); // clamped, no underflow
    assert_eq!(shares_to_weight(u64::MAX), 10_000);
    assert_eq!(blkio_to_io_weight(10), 1);
    assert_eq!(blkio_to_io_weight(500), 4950);
    assert_eq!(blkio_to_io_weight(1000), 10_000);
    assert_eq!(
        cpu_max(Some(50_000), Some(100_000)).as_deref(),
        Some("50000 100000")
    );
    assert_eq!(
        cpu_max(Some(-1), Some(100_000)).as_deref(),
        Some("max 100000")
    );
    assert_eq!(cpu_max(None, Some(20_000)).as_deref(), Some("max 20000"));
    assert_eq!(cpu_max(Some(30_000), None).as_deref(), Some("30000"));
    assert_eq!(cpu_max(None, None), None);
    assert_eq!(cpu_max(Some(0), Some(0)), None);
    assert_eq!(pids_max(0), "max");
    assert_eq!(pids_max(-1), "max");
    assert_eq!(pids_max(20), "20");
}

#[test]
fn swap_v2_is_swap_minus_limit() {
    assert_eq!(swap_v2(Some(32), Some(64)).unwrap().as_deref(), Some("32"));
    assert_eq!(swap_v2(Some(32), Some(32)).unwrap().as_deref(), Some("0"));
    assert_eq!(swap_v2(Some(32), Some(-1)).unwrap().as_deref(), Some("max"));
    assert_eq!(swap_v2(Some(-1), None).unwrap().as_deref(), Some("max"));
    assert_eq!(swap_v2(Some(32), None).unwrap(), None);
    assert_eq!(swap_v2(None, None).unwrap(), None);
    assert!(swap_v2(None, Some(64)).is_err());
    assert!(swap_v2(Some(-1), Some(64)).is_err());
    assert!(swap_v2(Some(64), Some(32)).is_err());
}

#[test]
fn v1_memory_order_depends_on_current_limit() {
    let r = res(
        r#"{"memory":{"limit":33554432,"swap":67108864,"reservation":16777216,"swappiness":10,"disableOOMKiller":true}}"#,
    );
    // Fresh cgroup: limit is "unlimited" (huge) → limit first.
    let fresh = |_: &str, f: &str| {
        (f == "memory.limit_in_bytes").then(|| "9223372036854771712\n".to_string())
    };
    let plan = plan_v1(&r, &fresh).unwrap();
    let mem: Vec<_> = flat(&plan)
        .into_iter()
        .filter(|(f, _)| f.starts_with("memory."))
        .collect();
    assert_eq!(
        mem,
        [
            ("memory.limit_in_bytes", "33554432"),
            ("memory.memsw.limit_in_bytes", "67108864"),
            ("memory.soft_limit_in_bytes", "16777216"),
            ("memory.swappiness", "10"),
            ("memory.oom_control", "1"),
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    assert!(
        !plan
            .iter()
            .find(|w| w.choices[0].0 == "memory.memsw.limit_in_bytes")
            .unwrap()
            .required
    );
    // Raising from a lower current limit → memsw first.
    let low = |_: &str, f: &str| (f == "memory.limit_in_bytes").then(|| "1048576".to_string());
    let plan = plan_v1(&r, &low).unwrap();
    let files: Vec<_> = flat(&plan)
        .into_iter()
        .map(|(f, _)| f)
        .filter(|f| f.contains("limit_in") && !f.contains("soft"))
        .collect();
    assert_eq!(
        files,
        ["memory.memsw.limit_in_bytes", "memory.limit_in_bytes"]
    );
    // Unlimited memory means unlimited memsw too.
    let plan = plan_v1(&res(r#"{"memory":{"limit":-1}}"#), &none).unwrap();
    assert!(has(&plan, "memory.memsw.limit_in_bytes", "-1"));
    assert!(has(&plan, "memory.limit_in_bytes", "-1"));
}

#[test]
fn v1_cpu_pids_blkio() {
    let r = res(
        r#"{"cpu":{"shares":512,"quota":50000,"period":100000,"cpus":"0","mems":"0"},
        "pids":{"limit":0},
        "blockIO":{"weight":500,"weightDevice":[{"major":8,"minor":0,"weight":300}],
          "throttleReadBpsDevice":[{"major":8,"minor":0,"rate":1048576}],
          "throttleWriteIOPSDevice":[{"major":8,"minor":16,"rate":100}]}}"#,
    );
    let plan = plan_v1(&r, &none).unwrap();
    let f = flat(&plan);
    // cpuset first, then period before quota
    assert_eq!(f[0], ("cpuset.cpus".into(), "0".into()));
    assert_eq!(f[1], ("cpuset.mems".into(), "0".into()));
    let pos = |file: &str| f.iter().position(|(x, _)| x == file).unwrap();
    assert!(pos("cpu.cfs_period_us") < pos("cpu.cfs_quota_us"));
    assert!(has(&plan, "cpu.shares", "512"));
    assert!(has(&plan, "pids.max", "max"));
    let weight = plan
        .iter()
        .find(|w| w.choices[0].0 == "blkio.weight")
        .unwrap();
    assert_eq!(weight.choices[1], ("blkio.bfq.weight".into(), "500".into()));
    assert!(has(&plan, "blkio.weight_device", "8:0 300"));
    assert!(has(&plan, "blkio.throttle.read_bps_device", "8:0 1048576"));
    assert!(has(&plan, "blkio.throttle.write_iops_device", "8:16 100"));
}

#[test]
fn v1_devices_deny_all_then_rules_then_defaults() {
    let r = res(
        r#"{"devices":[{"allow":false,"access":"rwm"},{"allow":true,"type":"b","major":8,"access":"r"},{"allow":false,"type":"c","major":1,"minor":3,"access":"w"}]}"#,
    );
    let plan = plan_v1(&r, &none).unwrap();
    let devs: Vec<_> = flat(&plan)
        .into_iter()
        .filter(|(f, _)| f.starts_with("devices."))
        .collect();
    let expect_head = [
        ("devices.deny", "a"),
        ("devices.deny", "a *:* rwm"),
        ("devices.allow", "b 8:* r"),
        ("devices.deny", "c 1:3 w"),
        ("devices.allow", "c *:* m"),
        ("devices.allow", "b *:* m"),
        ("devices.allow", "c 1:3 rwm"),
    ];
    for (i, (f, v)) in expect_head.iter().enumerate() {
        assert_eq!(devs[i], (f.to_string(), v.to_string()));
    }
    assert_eq!(devs.len(), 4 + DEFAULT_DEVICE_RULES.len());
    assert_eq!(devs.last().unwrap().1, "c 136:* rwm");
    assert!(
        plan.iter()
            .filter(|w| w.controller == "devices")
            .all(|w| w.required)
    );
    // No user rules: the defaults still apply, but a host without the controller is fine.
    let plan = plan_v1(&LinuxResources::default(), &none).unwrap();
    assert!(
        plan.iter()
            .filter(|w| w.controller == "devices")
            .all(|w| !w.required)
    );
    assert!(has(&plan, "devices.deny", "a"));
}

#[test]
fn device_rule_validation() {
    let bad = [
        r#"{"devices":[{"allow":true,"type":"p"}]}"#,
        r#"{"devices":[{"allow":true,"access":"rx"}]}"#,
        r#"{"devices":[{"allow":true,"major":99999999999}]}"#,
    ];
    for b in bad {
        assert!(
            matches!(
                plan_v1(&res(b), &none),
                Err(CgroupError::InvalidResource { .. })
            ),
            "{b}"
        );
    }
    let r = res(r#"{"devices":[{"allow":true,"type":"u","major":-1,"minor":-1}]}"#);
    let rules = device_rules(r.devices().as_deref()).unwrap();
    assert_eq!(rules[0].v1_string(), "c *:* rwm");
}

#[test]
fn v1_refuses_unified_and_validates_names() {
    assert!(plan_v1(&res(r#"{"unified":{"memory.high":"1"}}"#), &none).is_err());
    assert!(
        plan_v1(
            &res(r#"{"hugepageLimits":[{"pageSize":"../x","limit":1}]}"#),
            &none
        )
        .is_err()
    );
    let plan = plan_v1(&res(r#"{"hugepageLimits":[{"pageSize":"2MB","limit":4194304}],"network":{"classID":1048577,"priorities":[{"name":"eth0","priority":5}]}}"#), &none).unwrap();
    assert!(has(&plan, "hugetlb.2MB.limit_in_bytes", "4194304"));
    assert!(has(&plan, "net_cls.classid", "1048577"));
    assert!(has(&plan, "net_prio.ifpriomap", "eth0 5"));
}

#[test]
fn v2_plan() {
    let r = res(
        r#"{"memory":{"limit":33554432,"swap":67108864,"reservation":16777216,"swappiness":10,"disableOOMKiller":true},
        "cpu":{"shares":1024,"quota":-1,"period":50000,"cpus":"0-1"},
        "pids":{"limit":20},
        "blockIO":{"weight":500,"weightDevice":[{"major":8,"minor":0,"weight":10}],"throttleWriteBpsDevice":[{"major":8,"minor":0,"rate":2048}]},
        "hugepageLimits":[{"pageSize":"2MB","limit":-1}],
        "unified":{"memory.high":"50000000"},
        "devices":[{"allow":false,"access":"rwm"}]}"#,
    );
    let plan = plan_v2(&r).unwrap();
    assert!(has(&plan, "memory.swap.max", "33554432"));
    assert!(has(&plan, "memory.max", "33554432"));
    assert!(has(&plan, "memory.low", "16777216"));
    assert!(has(&plan, "cpu.weight", "39"));
    assert!(has(&plan, "cpu.max", "max 50000"));
    assert!(has(&plan, "cpuset.cpus", "0-1"));
    assert!(has(&plan, "pids.max", "20"));
    assert!(has(&plan, "io.max", "8:0 wbps=2048"));
    assert!(has(&plan, "hugetlb.2MB.max", "max"));
    assert!(has(&plan, "memory.high", "50000000"));
    let weight = plan.iter().find(|w| w.what == "blkio weight").unwrap();
    assert_eq!(
        weight.choices,
        vec![
            ("io.bfq.weight".to_string(), "500".to_string()),
            ("io.weight".to_string(), "default 4950".to_string())
        ]
    );
    let wd = plan
        .iter()
        .find(|w| w.what == "blkio weight device")
        .unwrap();
    assert_eq!(
        wd.choices[1],
        ("io.weight".to_string(), "8:0 1".to_string())
    );
    assert!(
        !flat(&plan).iter().any(|(f, _)| f.starts_with("devices")
            || f.contains("swappiness")
            || f.contains("oom"))
    );
    assert_eq!(
        plan.iter()
            .find(|w| w.choices[0].0 == "memory.high")
            .unwrap()
            .controller,
        "memory"
    );
}

#[test]
fn v2_refuses_what_it_cannot_express() {
    for bad in [
        r#"{"cpu":{"realtimeRuntime":1000}}"#,
        r#"{"blockIO":{"leafWeight":100}}"#,
        r#"{"network":{"classID":1}}"#,
        r#"{"unified":{"../memory.max":"1"}}"#,
        r#"{"unified":{"nodot":"1"}}"#,
        r#"{"memory":{"swap":1000}}"#,
    ] {
        assert!(
            matches!(plan_v2(&res(bad)), Err(CgroupError::InvalidResource { .. })),
            "{bad}"
        );
    }
}

#[test]
fn rdma_lines() {
    let plan = plan_v2(&res(
        r#"{"rdma":{"mlx4_0":{"hcaHandles":2,"hcaObjects":2000},"mlx5_1":{}}}"#,
    ))
    .unwrap();
    assert_eq!(
        flat(&plan),
        vec![(
            "rdma.max".to_string(),
            "mlx4_0 hca_handle=2 hca_object=2000".to_string()
        )]
    );
}
