//! Device cgroup rules: OCI rules normalized, and the defaults every container gets.

use oci_spec::runtime::{LinuxDeviceCgroup, LinuxDeviceType};

use super::invalid;
use crate::cgroups::CgroupError;

/// Device type of a rule: all, char or block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::cgroups) enum DevType {
    All,
    Char,
    Block,
}

/// Access bits, as in the kernel's BPF device context.
pub(in crate::cgroups) const ACC_MKNOD: u8 = 1;
pub(in crate::cgroups) const ACC_READ: u8 = 2;
pub(in crate::cgroups) const ACC_WRITE: u8 = 4;
pub(in crate::cgroups) const ACC_ALL: u8 = ACC_MKNOD | ACC_READ | ACC_WRITE;

/// One normalized device rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::cgroups) struct DeviceRule {
    pub allow: bool,
    pub typ: DevType,
    /// None: any.
    pub major: Option<u32>,
    pub minor: Option<u32>,
    pub access: u8,
}

impl DeviceRule {
    const fn chr(major: u32, minor: Option<u32>, access: u8) -> DeviceRule {
        DeviceRule {
            allow: true,
            typ: DevType::Char,
            major: Some(major),
            minor,
            access,
        }
    }

    /// The v1 form: "c 1:3 rwm", "a *:* rwm".
    pub(in crate::cgroups) fn v1_string(&self) -> String {
        let typ = match self.typ {
            DevType::All => 'a',
            DevType::Char => 'c',
            DevType::Block => 'b',
        };
        let num = |n: Option<u32>| n.map_or_else(|| "*".to_string(), |n| n.to_string());
        let mut access = String::new();
        for (bit, c) in [(ACC_READ, 'r'), (ACC_WRITE, 'w'), (ACC_MKNOD, 'm')] {
            if self.access & bit != 0 {
                access.push(c);
            }
        }
        format!("{typ} {}:{} {access}", num(self.major), num(self.minor))
    }
}

/// What every container may use whatever its rules say (appended after them, as runc does;
/// the OCI spec requires these devices to be usable): mknod of any device, and /dev/null,
/// zero, full, random, urandom, tty, ptmx and the pty slaves.
pub(in crate::cgroups) const DEFAULT_DEVICE_RULES: [DeviceRule; 10] = [
    DeviceRule {
        allow: true,
        typ: DevType::Char,
        major: None,
        minor: None,
        access: ACC_MKNOD,
    },
    DeviceRule {
        allow: true,
        typ: DevType::Block,
        major: None,
        minor: None,
        access: ACC_MKNOD,
    },
    DeviceRule::chr(1, Some(3), ACC_ALL),
    DeviceRule::chr(1, Some(5), ACC_ALL),
    DeviceRule::chr(1, Some(7), ACC_ALL),
    DeviceRule::chr(1, Some(8), ACC_ALL),
    DeviceRule::chr(1, Some(9), ACC_ALL),
    DeviceRule::chr(5, Some(0), ACC_ALL),
    DeviceRule::chr(5, Some(2), ACC_ALL),
    DeviceRule::chr(136, None, ACC_ALL),
];

fn parse_access(access: Option<&str>) -> Result<u8, CgroupError> {
    let access = access.unwrap_or("");
    if access.is_empty() {
        return Ok(ACC_ALL);
    }
    let mut bits = 0;
    for c in access.chars() {
        bits |= match c {
            'r' => ACC_READ,
            'w' => ACC_WRITE,
            'm' => ACC_MKNOD,
            _ => {
                return Err(invalid(
                    "device rule",
                    format!("access {access:?} may hold only r, w and m"),
                ));
            }
        };
    }
    Ok(bits)
}

fn device_number(n: Option<i64>, which: &str) -> Result<Option<u32>, CgroupError> {
    match n {
        None => Ok(None),
        Some(n) if n < 0 => Ok(None), // -1 is a wildcard in some specs
        Some(n) => u32::try_from(n)
            .map(Some)
            .map_err(|_| invalid("device rule", format!("{which} number {n} is too large"))),
    }
}

/// The user's rules, in order, followed by those of [`DEFAULT_DEVICE_RULES`] they lack. Everything else is
/// denied: the cgroup starts from "deny all", as with runc.
pub(in crate::cgroups) fn device_rules(
    user: Option<&[LinuxDeviceCgroup]>,
) -> Result<Vec<DeviceRule>, CgroupError> {
    let mut rules = Vec::new();
    for rule in user.unwrap_or(&[]) {
        let typ = match rule.typ().unwrap_or(LinuxDeviceType::A) {
            LinuxDeviceType::A => DevType::All,
            LinuxDeviceType::C | LinuxDeviceType::U => DevType::Char,
            LinuxDeviceType::B => DevType::Block,
            LinuxDeviceType::P => {
                return Err(invalid(
                    "device rule",
                    "type \"p\" (fifo) has no cgroup device rule; use a, b or c",
                ));
            }
        };
        rules.push(DeviceRule {
            allow: rule.allow(),
            typ,
            major: device_number(rule.major(), "major")?,
            minor: device_number(rule.minor(), "minor")?,
            access: parse_access(rule.access().as_deref())?,
        });
    }
    // A default that the user's rules already allow after their last deny adds nothing
    // (Docker's config.json lists them all); anywhere earlier, a later deny may override it.
    let settled = rules.iter().rposition(|r| !r.allow).map_or(0, |i| i + 1);
    let missing: Vec<DeviceRule> = DEFAULT_DEVICE_RULES
        .into_iter()
        .filter(|d| !rules[settled..].contains(d))
        .collect();
    rules.extend(missing);
    Ok(rules)
}

#[cfg(test)]
mod device_default_tests {
    use super::*;

    fn rule(allow: bool, typ: &str, major: i64, minor: i64) -> LinuxDeviceCgroup {
        serde_json::from_value(serde_json::json!({
            "allow": allow, "type": typ, "major": major, "minor": minor, "access": "rwm"
        }))
        .unwrap()
    }

    #[test]
    fn defaults_already_allowed_are_not_repeated() {
        let docker = [rule(false, "a", -1, -1), rule(true, "c", 1, 3)];
        let rules = device_rules(Some(&docker)).unwrap();
        assert_eq!(
            rules
                .iter()
                .filter(|r| **r == DeviceRule::chr(1, Some(3), ACC_ALL))
                .count(),
            1
        );
        assert_eq!(rules.len(), 1 + DEFAULT_DEVICE_RULES.len());
    }

    #[test]
    fn a_later_deny_keeps_the_default_after_it() {
        let user = [rule(true, "c", 1, 3), rule(false, "c", 1, 3)];
        let rules = device_rules(Some(&user)).unwrap();
        assert_eq!(rules.last(), DEFAULT_DEVICE_RULES.last());
        assert_eq!(
            rules
                .iter()
                .filter(|r| **r == DeviceRule::chr(1, Some(3), ACC_ALL))
                .count(),
            2
        );
    }
}
