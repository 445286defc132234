//! Devices: host devices mapped in (`--device`, read with stat from the host, a directory
//! meaning every device beneath it), the device cgroup rules that let the container use
//! them and those of `--device-cgroup-rule`, and for privileged containers every device of
//! the host's /dev with no device restriction.

use std::path::{Path, PathBuf};

use api::types::DeviceMapping;
use oci_spec::runtime::{LinuxDevice, LinuxDeviceCgroup, LinuxDeviceType};

use super::error::{Result, SpecError};

/// Devices to make in the container's /dev, and the cgroup rules that go with them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct DevicePlan {
    pub devices: Vec<LinuxDevice>,
    pub rules: Vec<LinuxDeviceCgroup>,
}

/// Why a path gave no device: the text Go's errors would show.
enum NotADevice {
    Io(std::io::Error),
    NotDevice,
}

impl NotADevice {
    fn text(&self) -> String {
        match self {
            NotADevice::NotDevice => "not a device node".to_owned(),
            NotADevice::Io(e) => match e.kind() {
                std::io::ErrorKind::NotFound => "no such file or directory".to_owned(),
                std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
                _ => e.to_string(),
            },
        }
    }
}

/// The device at `path` (not following a symlink), named `path` in the container.
fn device_at(path: &Path) -> std::result::Result<LinuxDevice, NotADevice> {
    let stat = rustix::fs::lstat(path).map_err(|e| NotADevice::Io(e.into()))?;
    let typ = match rustix::fs::FileType::from_raw_mode(stat.st_mode) {
        rustix::fs::FileType::CharacterDevice => LinuxDeviceType::C,
        rustix::fs::FileType::BlockDevice => LinuxDeviceType::B,
        _ => return Err(NotADevice::NotDevice),
    };
    let rdev = stat.st_rdev;
    let mut device = LinuxDevice::default();
    device.set_path(path.to_path_buf());
    device.set_typ(typ);
    device.set_major(i64::from(rustix::fs::major(rdev)));
    device.set_minor(i64::from(rustix::fs::minor(rdev)));
    device.set_file_mode(Some(stat.st_mode & 0o7777));
    device.set_uid(Some(stat.st_uid));
    device.set_gid(Some(stat.st_gid));
    Ok(device)
}

fn rule_for(device: &LinuxDevice, access: &str) -> LinuxDeviceCgroup {
    let mut rule = LinuxDeviceCgroup::default();
    rule.set_allow(true);
    rule.set_typ(Some(device.typ()));
    rule.set_major(Some(device.major()));
    rule.set_minor(Some(device.minor()));
    rule.set_access(Some(access.to_owned()));
    rule
}

/// Every device beneath `dir`, depth first, in name order; unreadable parts are skipped.
fn devices_beneath(dir: &Path, skip: &dyn Fn(&Path, bool) -> bool, out: &mut Vec<LinuxDevice>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(|e| e.ok()).collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if skip(&path, kind.is_dir()) {
            continue;
        }
        if kind.is_dir() {
            devices_beneath(&path, skip, out);
        } else if let Ok(device) = device_at(&path) {
            out.push(device);
        }
    }
}

/// moby's `DevicesFromPath`: one device, or the devices of a directory; the host path's
/// symlink (as /dev/disk/by-id/... are) followed first.
fn devices_from_path(mapping: &DeviceMapping) -> Result<DevicePlan> {
    let on_host = Path::new(&mapping.path_on_host);
    let in_container = if mapping.path_in_container.is_empty() {
        on_host
    } else {
        Path::new(&mapping.path_in_container)
    };
    let access = if mapping.cgroup_permissions.is_empty() {
        "rwm"
    } else {
        mapping.cgroup_permissions.as_str()
    };
    let resolved = std::fs::symlink_metadata(on_host)
        .ok()
        .filter(|m| m.file_type().is_symlink())
        .and_then(|_| std::fs::canonicalize(on_host).ok())
        .unwrap_or_else(|| on_host.to_path_buf());
    let failure = |why: NotADevice| {
        SpecError::invalid(format!(
            "error gathering device information while adding custom device {:?}: {}",
            mapping.path_on_host,
            why.text()
        ))
    };
    match device_at(&resolved) {
        Ok(mut device) => {
            device.set_path(in_container.to_path_buf());
            let rules = vec![rule_for(&device, access)];
            Ok(DevicePlan {
                devices: vec![device],
                rules,
            })
        }
        Err(NotADevice::NotDevice) if resolved.is_dir() => {
            let mut found = Vec::new();
            devices_beneath(&resolved, &|_, _| false, &mut found);
            if found.is_empty() {
                return Err(failure(NotADevice::NotDevice));
            }
            let mut plan = DevicePlan::default();
            for mut device in found {
                let relative = device.path().strip_prefix(&resolved).map(Path::to_path_buf);
                let path =
                    relative.map_or_else(|_| device.path().clone(), |r| in_container.join(r));
                device.set_path(path);
                plan.rules.push(rule_for(&device, access));
                plan.devices.push(device);
            }
            Ok(plan)
        }
        Err(why) => Err(failure(why)),
    }
}

/// The host's devices for a privileged container: all of /dev but the pseudo-filesystems
/// a container gets its own of, and the console.
fn host_devices() -> Vec<LinuxDevice> {
    const OWN_DIRS: &[&str] = &["pts", "shm", "fd", "mqueue", ".lxc", ".lxd-mounts", ".udev"];
    let skip = |path: &Path, is_dir: bool| {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if is_dir {
            OWN_DIRS.contains(&name)
        } else {
            name == "console"
        }
    };
    let mut devices = Vec::new();
    devices_beneath(Path::new("/dev"), &skip, &mut devices);
    devices
}

/// `--device` permissions: some of `r`, `w`, `m`, each once.
fn check_permissions(permissions: &str) -> Result<()> {
    let valid = !permissions.is_empty()
        && permissions.len() <= 3
        && permissions.chars().all(|c| matches!(c, 'r' | 'w' | 'm'))
        && permissions
            .chars()
            .enumerate()
            .all(|(i, c)| !permissions[..i].contains(c));
    if valid {
        Ok(())
    } else {
        Err(SpecError::invalid(format!(
            "bad mode specified: {permissions}"
        )))
    }
}

/// `c 13:* rwm`, `a *:* m`, `b 8:0 r` (moby's `deviceCgroupRuleRegex`).
pub(crate) fn parse_cgroup_rule(text: &str) -> Result<LinuxDeviceCgroup> {
    let invalid = || SpecError::invalid(format!("invalid device cgroup rule format: '{text}'"));
    let parts: Vec<&str> = text.split(' ').collect();
    let [typ, numbers, access] = parts.as_slice() else {
        return Err(invalid());
    };
    let typ = match *typ {
        "a" => LinuxDeviceType::A,
        "c" => LinuxDeviceType::C,
        "b" => LinuxDeviceType::B,
        _ => return Err(invalid()),
    };
    let (major, minor) = numbers.split_once(':').ok_or_else(invalid)?;
    let number = |n: &str| -> Result<Option<i64>> {
        match n {
            "*" => Ok(None),
            _ if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
                n.parse().map(Some).map_err(|_| invalid())
            }
            _ => Err(invalid()),
        }
    };
    let (major, minor) = (number(major)?, number(minor)?);
    if access.is_empty()
        || access.len() > 3
        || !access.chars().all(|c| matches!(c, 'r' | 'w' | 'm'))
    {
        return Err(invalid());
    }
    let mut rule = LinuxDeviceCgroup::default();
    rule.set_allow(true);
    rule.set_typ(Some(typ));
    rule.set_major(major);
    rule.set_minor(minor);
    rule.set_access(Some((*access).to_owned()));
    Ok(rule)
}

/// Checks what the container asks for without touching the host (done at create).
pub(crate) fn validate(mappings: &[DeviceMapping], rules: &[String]) -> Result<()> {
    for mapping in mappings {
        if !mapping.cgroup_permissions.is_empty() {
            check_permissions(&mapping.cgroup_permissions)?;
        }
        if !mapping.path_in_container.is_empty() && !mapping.path_in_container.starts_with('/') {
            return Err(SpecError::invalid(format!(
                "{} is not an absolute path",
                mapping.path_in_container
            )));
        }
    }
    for rule in rules {
        parse_cgroup_rule(rule)?;
    }
    Ok(())
}

/// The container's devices and device rules (moby's `WithDevices`).
pub(crate) fn plan(
    mappings: &[DeviceMapping],
    rules: &[String],
    privileged: bool,
) -> Result<DevicePlan> {
    validate(mappings, rules)?;
    if privileged {
        let mut plan = DevicePlan {
            devices: host_devices(),
            rules: Vec::new(),
        };
        for mapping in mappings {
            let in_container = if mapping.path_in_container.is_empty() {
                &mapping.path_on_host
            } else {
                &mapping.path_in_container
            };
            if *in_container == mapping.path_on_host {
                continue;
            }
            let plain = DeviceMapping {
                cgroup_permissions: "rwm".into(),
                ..mapping.clone()
            };
            plan.devices.extend(devices_from_path(&plain)?.devices);
        }
        let mut allow_all = LinuxDeviceCgroup::default();
        allow_all.set_allow(true);
        allow_all.set_access(Some("rwm".to_owned()));
        plan.rules.push(allow_all);
        return Ok(plan);
    }
    let mut plan = DevicePlan {
        devices: Vec::new(),
        rules: runtime::profile::default_device_rules(),
    };
    for mapping in mappings {
        let found = devices_from_path(mapping)?;
        plan.devices.extend(found.devices);
        plan.rules.extend(found.rules);
    }
    for rule in rules {
        plan.rules.push(parse_cgroup_rule(rule)?);
    }
    Ok(plan)
}

/// Major and minor numbers of the block device at `path`, for blkio limits.
pub(crate) fn block_device_numbers(path: &str) -> Result<(i64, i64)> {
    let stat = rustix::fs::stat(path)
        .map_err(|e| SpecError::io("reading device", PathBuf::from(path), e.into()))?;
    Ok((
        i64::from(rustix::fs::major(stat.st_rdev)),
        i64::from(rustix::fs::minor(stat.st_rdev)),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping(on_host: &str, in_container: &str, permissions: &str) -> DeviceMapping {
        DeviceMapping {
            path_on_host: on_host.into(),
            path_in_container: in_container.into(),
            cgroup_permissions: permissions.into(),
        }
    }

    #[test]
    fn host_devices_are_read_with_stat() {
        let plan = plan(&[mapping("/dev/null", "/dev/mynull", "rw")], &[], false).unwrap();
        assert_eq!(plan.devices.len(), 1);
        let null = &plan.devices[0];
        assert_eq!(null.path(), Path::new("/dev/mynull"));
        assert_eq!(
            (null.typ(), null.major(), null.minor()),
            (LinuxDeviceType::C, 1, 3)
        );
        let last = plan.rules.last().unwrap();
        assert_eq!(
            (last.major(), last.minor(), last.access().as_deref()),
            (Some(1), Some(3), Some("rw"))
        );
        assert_eq!(
            plan.rules.len(),
            runtime::profile::default_device_rules().len() + 1
        );
        let same = plan_for("/dev/zero");
        assert_eq!(same.devices[0].path(), Path::new("/dev/zero"));
    }

    fn plan_for(path: &str) -> DevicePlan {
        plan(&[mapping(path, "", "")], &[], false).unwrap()
    }

    #[test]
    fn a_directory_brings_its_devices() {
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink("/dev/null", dir.path().join("link")).unwrap();
        let err = plan(
            &[mapping(dir.path().to_str().unwrap(), "/dev/x", "rwm")],
            &[],
            false,
        )
        .unwrap_err();
        assert!(err.to_string().ends_with(": not a device node"), "{err}");
    }

    #[test]
    fn missing_devices_in_dockers_words() {
        let err = plan(&[mapping("/dev/nonexistent-pier", "", "rwm")], &[], false).unwrap_err();
        assert_eq!(
            err.to_string(),
            "error gathering device information while adding custom device \"/dev/nonexistent-pier\": no such file or directory"
        );
    }

    #[test]
    fn permissions_are_checked() {
        for good in ["r", "rw", "rwm", "mwr"] {
            check_permissions(good).unwrap();
        }
        for bad in ["rr", "x", "rwmr"] {
            assert_eq!(
                check_permissions(bad).unwrap_err().to_string(),
                format!("bad mode specified: {bad}")
            );
        }
    }

    #[test]
    fn cgroup_rules() {
        let rule = parse_cgroup_rule("c 13:* rwm").unwrap();
        assert_eq!(
            (rule.typ(), rule.major(), rule.minor()),
            (Some(LinuxDeviceType::C), Some(13), None)
        );
        let all = parse_cgroup_rule("a *:* m").unwrap();
        assert_eq!(
            (all.typ(), all.major(), all.access().as_deref()),
            (Some(LinuxDeviceType::A), None, Some("m"))
        );
        for bad in [
            "c 13 rwm",
            "x 1:2 r",
            "c 1:2 rwx",
            "c  1:2 r",
            "c -1:2 r",
            "c 1:2",
        ] {
            assert_eq!(
                parse_cgroup_rule(bad).unwrap_err().to_string(),
                format!("invalid device cgroup rule format: '{bad}'")
            );
        }
    }

    #[test]
    fn privileged_gets_the_hosts_devices_and_no_restriction() {
        let plan = plan(&[mapping("/dev/null", "/dev/null", "r")], &[], true).unwrap();
        assert!(
            plan.devices
                .iter()
                .any(|d| d.path() == Path::new("/dev/null"))
        );
        assert!(
            !plan
                .devices
                .iter()
                .any(|d| d.path().starts_with("/dev/pts"))
        );
        assert_eq!(plan.rules.len(), 1);
        assert!(plan.rules[0].allow() && plan.rules[0].typ().is_none());
    }
}
