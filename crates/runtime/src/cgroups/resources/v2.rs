//! The cgroup v2 plan.

use oci_spec::runtime::LinuxResources;

use super::*;
use crate::cgroups::CgroupError;

/// The cgroup v2 writes for `res`, in order (all in the container's directory). Device
/// rules are not among them: v2 takes them as an eBPF program.
pub(in crate::cgroups) fn plan_v2(res: &LinuxResources) -> Result<Vec<Write>, CgroupError> {
    let mut out = Vec::new();

    if let Some(cpu) = res.cpu() {
        if let Some(cpus) = cpu.cpus().as_deref().filter(|s| !s.is_empty()) {
            out.push(Write::new("cpuset cpus", "cpuset", "cpuset.cpus", cpus));
        }
        if let Some(mems) = cpu.mems().as_deref().filter(|s| !s.is_empty()) {
            out.push(Write::new("cpuset mems", "cpuset", "cpuset.mems", mems));
        }
    }

    if let Some(mem) = res.memory() {
        // memory.swap.max is missing when swap accounting is off: nothing to limit then.
        if let Some(swap) = swap_v2(mem.limit(), mem.swap())? {
            out.push(Write::new("memory swap limit", "memory", "memory.swap.max", swap).optional());
        }
        if let Some(limit) = mem.limit().filter(|l| *l != 0) {
            out.push(Write::new(
                "memory limit",
                "memory",
                "memory.max",
                max_or(limit),
            ));
        }
        if let Some(r) = mem.reservation().filter(|r| *r != 0) {
            out.push(Write::new(
                "memory reservation",
                "memory",
                "memory.low",
                max_or(r),
            ));
        }
        // swappiness and disableOOMKiller have no v2 files; runc ignores them there too.
    }

    if let Some(cpu) = res.cpu() {
        if let Some(s) = cpu.shares().filter(|s| *s != 0) {
            out.push(Write::new(
                "cpu shares",
                "cpu",
                "cpu.weight",
                shares_to_weight(s),
            ));
        }
        if let Some(max) = cpu_max(cpu.quota(), cpu.period()) {
            out.push(Write::new("cpu quota", "cpu", "cpu.max", max));
        }
        if let Some(b) = cpu.burst() {
            out.push(Write::new("cpu burst", "cpu", "cpu.max.burst", b));
        }
        if let Some(i) = cpu.idle() {
            out.push(Write::new("cpu idle", "cpu", "cpu.idle", i));
        }
        if cpu.realtime_period().is_some_and(|p| p != 0)
            || cpu.realtime_runtime().is_some_and(|r| r != 0)
        {
            return Err(invalid(
                "realtime cpu limits",
                "cgroup v2 has no realtime scheduling controller",
            ));
        }
    }

    if let Some(pids) = res.pids() {
        out.push(Write::new(
            "pids limit",
            "pids",
            "pids.max",
            pids_max(pids.limit()),
        ));
    }

    if let Some(bio) = res.block_io() {
        if let Some(w) = bio.weight() {
            out.push(
                Write::new("blkio weight", "io", "io.bfq.weight", w)
                    .or("io.weight", format!("default {}", blkio_to_io_weight(w))),
            );
        }
        if bio.leaf_weight().is_some()
            || bio
                .weight_device()
                .iter()
                .flatten()
                .any(|d| d.leaf_weight().is_some())
        {
            return Err(invalid(
                "blkio leaf weight",
                "cgroup v2 has no leaf weights",
            ));
        }
        for dev in bio.weight_device().iter().flatten() {
            let id = format!("{}:{}", dev.major(), dev.minor());
            if let Some(w) = dev.weight() {
                out.push(
                    Write::new(
                        "blkio weight device",
                        "io",
                        "io.bfq.weight",
                        format!("{id} {w}"),
                    )
                    .or("io.weight", format!("{id} {}", blkio_to_io_weight(w))),
                );
            }
        }
        for (list, key, what) in [
            (bio.throttle_read_bps_device(), "rbps", "blkio read bps"),
            (bio.throttle_write_bps_device(), "wbps", "blkio write bps"),
            (bio.throttle_read_iops_device(), "riops", "blkio read iops"),
            (
                bio.throttle_write_iops_device(),
                "wiops",
                "blkio write iops",
            ),
        ] {
            for (id, rate) in throttle_lines(list) {
                out.push(Write::new(
                    what,
                    "io",
                    "io.max",
                    format!("{id} {key}={rate}"),
                ));
            }
        }
    }

    for limit in res.hugepage_limits().iter().flatten() {
        let size = page_size(limit.page_size())?;
        out.push(Write::new(
            "hugepage limit",
            "hugetlb",
            &format!("hugetlb.{size}.max"),
            max_or(limit.limit()),
        ));
    }

    let network_asked = res.network().as_ref().is_some_and(|net| {
        net.class_id().is_some() || net.priorities().as_ref().is_some_and(|p| !p.is_empty())
    });
    if network_asked {
        return Err(invalid(
            "network class id and priorities",
            "cgroup v2 has no net_cls or net_prio controller",
        ));
    }

    rdma_writes(res, &mut out)?;

    if let Some(unified) = res.unified() {
        let mut keys: Vec<_> = unified.iter().collect();
        keys.sort_by(|a, b| a.0.cmp(b.0));
        for (key, value) in keys {
            let Some((controller, _)) = key.split_once('.') else {
                return Err(invalid(
                    "unified resource",
                    format!("{key:?} is not a cgroup file"),
                ));
            };
            if key.contains('/') || controller.is_empty() {
                return Err(invalid(
                    "unified resource",
                    format!("{key:?} is not a cgroup file"),
                ));
            }
            out.push(Write::new("unified resource", controller, key, value));
        }
    }
    Ok(out)
}
