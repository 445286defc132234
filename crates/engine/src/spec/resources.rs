//! cgroup limits: Docker's `Resources` checked with its messages, and turned into OCI's
//! `linux.resources` as moby's `WithResources` does.

use std::collections::BTreeSet;

use api::types::{Resources, ThrottleDevice};
use oci_spec::runtime::{
    LinuxBlockIo, LinuxCpu, LinuxDeviceCgroup, LinuxMemory, LinuxPids, LinuxResources,
    LinuxThrottleDevice, LinuxThrottleDeviceBuilder, LinuxWeightDeviceBuilder,
};

use super::devices::block_device_numbers;
use super::error::{Result, SpecError};
use super::host::HostFacts;

/// Docker's smallest memory limit and reservation (6 MiB).
const MIN_MEMORY: i64 = 6 << 20;
/// The CFS period Docker uses for `--cpus`, in microseconds.
const NANO_CPUS_PERIOD: u64 = 100_000;
/// The most CPUs a cpuset list may name in one range (a guard, not Docker's).
const MAX_RANGE: u32 = 1 << 16;

fn invalid(message: impl Into<String>) -> SpecError {
    SpecError::invalid(message)
}

/// Docker's `verifyPlatformContainerResources` for what this machine supports: errors with
/// Docker's messages, and Docker's warnings.
pub(crate) fn validate(res: &Resources, facts: &HostFacts) -> Result<Vec<String>> {
    let mut warnings = Vec::new();
    if res.memory != 0 && res.memory < MIN_MEMORY {
        return Err(invalid("Minimum memory limit allowed is 6MB"));
    }
    if res.memory > 0 && res.memory_swap > 0 && res.memory_swap < res.memory {
        return Err(invalid(
            "Minimum memoryswap limit should be larger than memory limit, see usage",
        ));
    }
    if res.memory == 0 && res.memory_swap > 0 {
        return Err(invalid(
            "You should always set the Memory limit when using Memoryswap limit, see usage",
        ));
    }
    // -1 is what older clients send for "unset".
    let out_of_range = |s: &i64| !(0..=100).contains(s) && *s != -1;
    if let Some(swappiness) = res.memory_swappiness.filter(out_of_range) {
        return Err(invalid(format!(
            "Invalid value: {swappiness}, valid memory swappiness range is 0-100"
        )));
    }
    if res.memory_reservation > 0 && res.memory_reservation < MIN_MEMORY {
        return Err(invalid("Minimum memory reservation allowed is 6MB"));
    }
    if res.memory > 0 && res.memory_reservation > 0 && res.memory < res.memory_reservation {
        return Err(invalid(
            "Minimum memory limit can not be less than memory reservation limit, see usage",
        ));
    }
    if res.kernel_memory > 0 {
        warnings.push(
            "Specifying a kernel memory limit is deprecated and will be removed in a future release."
                .to_owned(),
        );
    }
    if res.oom_kill_disable == Some(true) && res.memory == 0 {
        warnings.push("OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources.".to_owned());
    }
    if res.nano_cpus > 0 && res.cpu_period > 0 {
        return Err(invalid(
            "Conflicting options: Nano CPUs and CPU Period cannot both be set",
        ));
    }
    if res.nano_cpus > 0 && res.cpu_quota > 0 {
        return Err(invalid(
            "Conflicting options: Nano CPUs and CPU Quota cannot both be set",
        ));
    }
    if res.nano_cpus < 0 || res.nano_cpus > i64::from(facts.cpus) * 1_000_000_000 {
        return Err(invalid(format!(
            "Range of CPUs is from 0.01 to {n}.00, as there are only {n} CPUs available",
            n = facts.cpus
        )));
    }
    if res.cpu_period != 0 && !(1000..=1_000_000).contains(&res.cpu_period) {
        return Err(invalid(
            "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)",
        ));
    }
    if res.cpu_quota > 0 && res.cpu_quota < 1000 {
        return Err(invalid(
            "CPU cfs quota can not be less than 1ms (i.e. 1000)",
        ));
    }
    if res.cpu_percent > 0 {
        warnings.push("linux does not support CPU percent. Percent discarded.".to_owned());
    }
    check_cpuset(&res.cpuset_cpus, &facts.online_cpus, "cpus", "CPUs")?;
    check_cpuset(&res.cpuset_mems, &facts.online_mems, "mems", "memory nodes")?;
    if res.blkio_weight > 0 && !(10..=1000).contains(&res.blkio_weight) {
        return Err(invalid("Range of blkio weight is from 10 to 1000"));
    }
    for device in res.blkio_weight_device.iter().flatten() {
        if device.weight > 0 && !(10..=1000).contains(&device.weight) {
            return Err(invalid("Range of blkio weight is from 10 to 1000"));
        }
    }
    if res.io_maximum_bandwidth != 0 || res.io_maximum_iops != 0 {
        return Err(invalid(
            "Invalid QoS settings: linux does not support Maximum IO Bandwidth or Maximum IO IOps",
        ));
    }
    if let Some(request) = res.device_requests.iter().flatten().next() {
        // pier has no device drivers (GPUs): every request fails as Docker's does without one.
        let capabilities: Vec<String> = request
            .capabilities
            .iter()
            .flatten()
            .map(|all_of| format!("[{}]", all_of.join(" ")))
            .collect();
        return Err(invalid(format!(
            "could not select device driver {:?} with capabilities: [{}]",
            request.driver,
            capabilities.join(" ")
        )));
    }
    Ok(warnings)
}

/// Docker's `ParseUintList`: `0-3,5`; `None` when the text is not such a list.
fn parse_list(text: &str) -> Option<Vec<(u32, u32)>> {
    if text.is_empty() {
        return Some(Vec::new());
    }
    text.split(',')
        .map(|part| {
            let (low, high) = match part.split_once('-') {
                Some((low, high)) => (low.parse().ok()?, high.parse().ok()?),
                None => {
                    let n = part.parse().ok()?;
                    (n, n)
                }
            };
            (low <= high).then_some((low, high))
        })
        .collect()
}

fn check_cpuset(requested: &str, available: &str, field: &str, what: &str) -> Result<()> {
    let wanted = parse_list(requested).ok_or_else(|| {
        invalid(format!(
            "Invalid value {requested} for cpuset {field}: invalid format: {requested}"
        ))
    })?;
    let online: BTreeSet<u32> = parse_list(available)
        .unwrap_or_default()
        .into_iter()
        .flat_map(|(low, high)| low..=high.min(low.saturating_add(MAX_RANGE)))
        .collect();
    let all_there = wanted
        .iter()
        .all(|&(low, high)| high - low < MAX_RANGE && (low..=high).all(|n| online.contains(&n)));
    if !all_there {
        return Err(invalid(format!(
            "Requested {what} are not available - requested {requested}, available: {available}"
        )));
    }
    Ok(())
}

fn throttle(devices: &Option<Vec<ThrottleDevice>>) -> Result<Option<Vec<LinuxThrottleDevice>>> {
    let Some(devices) = devices.as_ref().filter(|d| !d.is_empty()) else {
        return Ok(None);
    };
    devices
        .iter()
        .map(|device| {
            let (major, minor) = block_device_numbers(&device.path)?;
            LinuxThrottleDeviceBuilder::default()
                .major(major)
                .minor(minor)
                .rate(device.rate)
                .build()
                .map_err(|e| SpecError::Internal(format!("throttle device: {e}")))
        })
        .collect::<Result<Vec<_>>>()
        .map(Some)
}

fn memory(res: &Resources) -> Option<LinuxMemory> {
    let positive = |n: i64| (n > 0).then_some(n);
    let mut memory = LinuxMemory::default();
    memory.set_limit(positive(res.memory));
    memory.set_reservation(positive(res.memory_reservation));
    memory.set_swap(positive(res.memory_swap));
    memory.set_swappiness(res.memory_swappiness.and_then(|s| u64::try_from(s).ok()));
    memory.set_disable_oom_killer(res.oom_kill_disable);
    memory.set_kernel_tcp(positive(res.kernel_memory_tcp));
    (memory != LinuxMemory::default()).then_some(memory)
}

fn cpu(res: &Resources) -> Option<LinuxCpu> {
    let mut cpu = LinuxCpu::default();
    cpu.set_shares(u64::try_from(res.cpu_shares).ok().filter(|&s| s > 0));
    if !res.cpuset_cpus.is_empty() {
        cpu.set_cpus(Some(res.cpuset_cpus.clone()));
    }
    if !res.cpuset_mems.is_empty() {
        cpu.set_mems(Some(res.cpuset_mems.clone()));
    }
    if res.nano_cpus > 0 {
        cpu.set_period(Some(NANO_CPUS_PERIOD));
        // Per period: nano CPUs x period / 10^9.
        cpu.set_quota(Some(res.nano_cpus.saturating_mul(100_000) / 1_000_000_000));
    }
    if res.cpu_period != 0 {
        cpu.set_period(u64::try_from(res.cpu_period).ok());
    }
    if res.cpu_quota != 0 {
        cpu.set_quota(Some(res.cpu_quota));
    }
    if res.cpu_realtime_period != 0 {
        cpu.set_realtime_period(u64::try_from(res.cpu_realtime_period).ok());
    }
    if res.cpu_realtime_runtime != 0 {
        cpu.set_realtime_runtime(Some(res.cpu_realtime_runtime));
    }
    (cpu != LinuxCpu::default()).then_some(cpu)
}

fn block_io(res: &Resources) -> Result<Option<LinuxBlockIo>> {
    let mut blkio = LinuxBlockIo::default();
    if res.blkio_weight > 0 {
        blkio.set_weight(Some(res.blkio_weight));
    }
    if let Some(devices) = res.blkio_weight_device.as_ref().filter(|d| !d.is_empty()) {
        let weights = devices
            .iter()
            .map(|device| {
                let (major, minor) = block_device_numbers(&device.path)?;
                LinuxWeightDeviceBuilder::default()
                    .major(major)
                    .minor(minor)
                    .weight(device.weight)
                    .build()
                    .map_err(|e| SpecError::Internal(format!("weight device: {e}")))
            })
            .collect::<Result<Vec<_>>>()?;
        blkio.set_weight_device(Some(weights));
    }
    blkio.set_throttle_read_bps_device(throttle(&res.blkio_device_read_bps)?);
    blkio.set_throttle_write_bps_device(throttle(&res.blkio_device_write_bps)?);
    blkio.set_throttle_read_iops_device(throttle(&res.blkio_device_read_iops)?);
    blkio.set_throttle_write_iops_device(throttle(&res.blkio_device_write_iops)?);
    Ok((blkio != LinuxBlockIo::default()).then_some(blkio))
}

/// `linux.resources` for the container, with these device rules.
pub(crate) fn linux_resources(
    res: &Resources,
    device_rules: Vec<LinuxDeviceCgroup>,
) -> Result<LinuxResources> {
    let mut resources = LinuxResources::default();
    resources.set_devices(Some(device_rules));
    resources.set_memory(memory(res));
    resources.set_cpu(cpu(res));
    resources.set_pids(res.pids_limit.map(|limit| {
        let mut pids = LinuxPids::default();
        // Docker's API takes 0 or less for "unlimited", which OCI spells -1.
        pids.set_limit(if limit <= 0 { -1 } else { limit });
        pids
    }));
    resources.set_block_io(block_io(res)?);
    Ok(resources)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::host::test_facts;

    fn check(res: Resources) -> Result<Vec<String>> {
        validate(&res, &test_facts())
    }

    #[test]
    fn refusals_in_dockers_words() {
        let cases: Vec<(Resources, &str)> = vec![
            (
                Resources {
                    memory: 1 << 20,
                    ..Default::default()
                },
                "Minimum memory limit allowed is 6MB",
            ),
            (
                Resources {
                    memory: 64 << 20,
                    memory_swap: 32 << 20,
                    ..Default::default()
                },
                "Minimum memoryswap limit should be larger than memory limit, see usage",
            ),
            (
                Resources {
                    memory_swap: 64 << 20,
                    ..Default::default()
                },
                "You should always set the Memory limit when using Memoryswap limit, see usage",
            ),
            (
                Resources {
                    memory_swappiness: Some(101),
                    ..Default::default()
                },
                "Invalid value: 101, valid memory swappiness range is 0-100",
            ),
            (
                Resources {
                    memory_reservation: 1024,
                    ..Default::default()
                },
                "Minimum memory reservation allowed is 6MB",
            ),
            (
                Resources {
                    memory: 8 << 20,
                    memory_reservation: 16 << 20,
                    ..Default::default()
                },
                "Minimum memory limit can not be less than memory reservation limit, see usage",
            ),
            (
                Resources {
                    nano_cpus: 500_000_000,
                    cpu_period: 50_000,
                    ..Default::default()
                },
                "Conflicting options: Nano CPUs and CPU Period cannot both be set",
            ),
            (
                Resources {
                    nano_cpus: 500_000_000,
                    cpu_quota: 50_000,
                    ..Default::default()
                },
                "Conflicting options: Nano CPUs and CPU Quota cannot both be set",
            ),
            (
                Resources {
                    nano_cpus: 3_000_000_000,
                    ..Default::default()
                },
                "Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available",
            ),
            (
                Resources {
                    cpu_period: 999,
                    ..Default::default()
                },
                "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)",
            ),
            (
                Resources {
                    cpu_quota: 500,
                    ..Default::default()
                },
                "CPU cfs quota can not be less than 1ms (i.e. 1000)",
            ),
            (
                Resources {
                    cpuset_cpus: "0-x".into(),
                    ..Default::default()
                },
                "Invalid value 0-x for cpuset cpus: invalid format: 0-x",
            ),
            (
                Resources {
                    cpuset_cpus: "1,3".into(),
                    ..Default::default()
                },
                "Requested CPUs are not available - requested 1,3, available: 0-1",
            ),
            (
                Resources {
                    cpuset_mems: "2".into(),
                    ..Default::default()
                },
                "Requested memory nodes are not available - requested 2, available: 0",
            ),
            (
                Resources {
                    blkio_weight: 5,
                    ..Default::default()
                },
                "Range of blkio weight is from 10 to 1000",
            ),
        ];
        for (res, message) in cases {
            let err = check(res).unwrap_err();
            assert_eq!(err.to_string(), message);
            assert_eq!(err.kind(), crate::error::ErrorKind::InvalidArgument);
        }
    }

    #[test]
    fn accepted_with_warnings() {
        assert!(check(Resources::default()).unwrap().is_empty());
        let ok = Resources {
            memory: 64 << 20,
            memory_swap: -1,
            nano_cpus: 2_000_000_000,
            cpuset_cpus: "0-1".into(),
            cpuset_mems: "0".into(),
            memory_swappiness: Some(60),
            ..Default::default()
        };
        assert!(check(ok).unwrap().is_empty());
        let warned = check(Resources {
            oom_kill_disable: Some(true),
            ..Default::default()
        })
        .unwrap();
        assert!(warned[0].starts_with("OOM killer is disabled"));
    }

    #[test]
    fn oci_resources() {
        let res = Resources {
            memory: 64 << 20,
            memory_reservation: 32 << 20,
            memory_swap: 128 << 20,
            memory_swappiness: Some(10),
            oom_kill_disable: Some(false),
            nano_cpus: 1_500_000_000,
            cpu_shares: 512,
            cpuset_cpus: "0".into(),
            pids_limit: Some(100),
            blkio_weight: 300,
            ..Default::default()
        };
        let linux = linux_resources(&res, Vec::new()).unwrap();
        let memory = linux.memory().unwrap();
        assert_eq!(
            (
                memory.limit(),
                memory.reservation(),
                memory.swap(),
                memory.swappiness()
            ),
            (Some(64 << 20), Some(32 << 20), Some(128 << 20), Some(10))
        );
        assert_eq!(memory.disable_oom_killer(), Some(false));
        let cpu = linux.cpu().clone().unwrap();
        assert_eq!(
            (cpu.period(), cpu.quota(), cpu.shares()),
            (Some(100_000), Some(150_000), Some(512))
        );
        assert_eq!(cpu.cpus().as_deref(), Some("0"));
        assert_eq!(linux.pids().unwrap().limit(), 100);
        assert_eq!(linux.block_io().clone().unwrap().weight(), Some(300));
    }

    #[test]
    fn explicit_period_and_quota_win_and_unlimited_pids() {
        let res = Resources {
            cpu_period: 50_000,
            cpu_quota: 25_000,
            pids_limit: Some(0),
            ..Default::default()
        };
        let linux = linux_resources(&res, Vec::new()).unwrap();
        let cpu = linux.cpu().clone().unwrap();
        assert_eq!((cpu.period(), cpu.quota()), (Some(50_000), Some(25_000)));
        assert_eq!(linux.pids().unwrap().limit(), -1);
        assert!(linux.memory().is_none());
        assert!(linux.block_io().is_none());
        let nothing = linux_resources(&Resources::default(), Vec::new()).unwrap();
        assert!(nothing.cpu().is_none() && nothing.pids().is_none());
    }
}
