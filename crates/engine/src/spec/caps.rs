//! Capabilities: Docker's default set tweaked by CapAdd/CapDrop (names with or without
//! `CAP_`, any case, `ALL`), or every capability the kernel knows for privileged containers.

use std::collections::HashSet;

use oci_spec::runtime::{Capability, LinuxCapabilities, Process};

use super::error::{Result, SpecError};
use super::host::HostFacts;

/// The highest capability number in [`BY_NUMBER`].
pub(crate) const HIGHEST_KNOWN_CAP: u32 = 40;

/// Every capability, at its kernel number (capability.h order).
const BY_NUMBER: [Capability; 41] = [
    Capability::Chown,
    Capability::DacOverride,
    Capability::DacReadSearch,
    Capability::Fowner,
    Capability::Fsetid,
    Capability::Kill,
    Capability::Setgid,
    Capability::Setuid,
    Capability::Setpcap,
    Capability::LinuxImmutable,
    Capability::NetBindService,
    Capability::NetBroadcast,
    Capability::NetAdmin,
    Capability::NetRaw,
    Capability::IpcLock,
    Capability::IpcOwner,
    Capability::SysModule,
    Capability::SysRawio,
    Capability::SysChroot,
    Capability::SysPtrace,
    Capability::SysPacct,
    Capability::SysAdmin,
    Capability::SysBoot,
    Capability::SysNice,
    Capability::SysResource,
    Capability::SysTime,
    Capability::SysTtyConfig,
    Capability::Mknod,
    Capability::Lease,
    Capability::AuditWrite,
    Capability::AuditControl,
    Capability::Setfcap,
    Capability::MacOverride,
    Capability::MacAdmin,
    Capability::Syslog,
    Capability::WakeAlarm,
    Capability::BlockSuspend,
    Capability::AuditRead,
    Capability::Perfmon,
    Capability::Bpf,
    Capability::CheckpointRestore,
];

/// The capabilities this kernel knows (Docker's "all capabilities"), in number order.
pub(crate) fn known(facts: &HostFacts) -> Vec<Capability> {
    let count = usize::try_from(facts.last_cap.min(HIGHEST_KNOWN_CAP)).unwrap_or(0) + 1;
    BY_NUMBER[..count].to_vec()
}

/// One entry of CapAdd or CapDrop, normalized.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CapName {
    All,
    One(Capability),
}

/// Docker's `NormalizeLegacyCapabilities`: upper case, `CAP_` prefixed, known to the kernel.
fn normalize(list: &[String], field: &str, known: &[Capability]) -> Result<Vec<CapName>> {
    list.iter()
        .map(|raw| {
            let upper = raw.to_uppercase();
            if upper == "ALL" {
                return Ok(CapName::All);
            }
            let full = if upper.starts_with("CAP_") {
                upper
            } else {
                format!("CAP_{upper}")
            };
            full.strip_prefix("CAP_")
                .and_then(|name| name.parse::<Capability>().ok())
                .filter(|cap| known.contains(cap))
                .map(CapName::One)
                .ok_or_else(|| {
                    SpecError::invalid(format!("invalid {field}: unknown capability: {full:?}"))
                })
        })
        .collect()
}

/// Checks CapAdd and CapDrop (Docker does it when the container is created).
pub(crate) fn validate(add: &[String], drop: &[String], facts: &HostFacts) -> Result<()> {
    let known = known(facts);
    normalize(add, "CapAdd", &known)?;
    normalize(drop, "CapDrop", &known)?;
    Ok(())
}

/// The container's capability set (Docker's `TweakCapabilities`).
pub(crate) fn container_caps(
    add: &[String],
    drop: &[String],
    privileged: bool,
    facts: &HostFacts,
) -> Result<Vec<Capability>> {
    let known = known(facts);
    if privileged {
        return Ok(known);
    }
    let basics = runtime::profile::default_capabilities();
    if add.is_empty() && drop.is_empty() {
        return Ok(basics);
    }
    let add = normalize(add, "CapAdd", &known)?;
    let drop = normalize(drop, "CapDrop", &known)?;
    let dropped = |cap: &Capability| drop.contains(&CapName::One(*cap));
    let added = add.iter().filter_map(|name| match name {
        CapName::One(cap) => Some(*cap),
        CapName::All => None,
    });
    let mut caps: Vec<Capability> = if add.contains(&CapName::All) {
        known.into_iter().filter(|cap| !dropped(cap)).collect()
    } else if drop.contains(&CapName::All) {
        added.collect()
    } else {
        basics
            .into_iter()
            .filter(|cap| !dropped(cap))
            .chain(added)
            .collect()
    };
    let mut seen = HashSet::new();
    caps.retain(|cap| seen.insert(*cap));
    Ok(caps)
}

/// Docker's process capability sets: bounding, effective and permitted; never inheritable or
/// ambient (CVE-2022-24769).
pub(crate) fn capability_sets(caps: &[Capability]) -> LinuxCapabilities {
    let set: HashSet<Capability> = caps.iter().copied().collect();
    let mut sets = LinuxCapabilities::default();
    sets.set_bounding(Some(set.clone()));
    sets.set_effective(Some(set.clone()));
    sets.set_permitted(Some(set));
    sets.set_inheritable(None);
    sets.set_ambient(None);
    sets
}

/// Gives a process (an exec with `--privileged`) every capability the kernel knows.
pub fn make_privileged_process(process: &mut Process) {
    process.set_capabilities(Some(capability_sets(&known(HostFacts::get()))));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::host::test_facts;

    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    fn caps(add: &[&str], drop: &[&str], privileged: bool) -> Result<Vec<Capability>> {
        container_caps(&strings(add), &strings(drop), privileged, &test_facts())
    }

    #[test]
    fn numbering_matches_the_kernel() {
        assert_eq!(BY_NUMBER[12], Capability::NetAdmin);
        assert_eq!(BY_NUMBER[21], Capability::SysAdmin);
        assert_eq!(BY_NUMBER[27], Capability::Mknod);
        assert_eq!(BY_NUMBER[31], Capability::Setfcap);
        assert_eq!(BY_NUMBER[37], Capability::AuditRead);
    }

    #[test]
    fn tweaks() {
        let default = runtime::profile::default_capabilities();
        // CapAdd, CapDrop, privileged, how many, some it has, some it lacks.
        type Case<'a> = (
            &'a [&'a str],
            &'a [&'a str],
            bool,
            usize,
            &'a [Capability],
            &'a [Capability],
        );
        let cases: &[Case] = &[
            (&[], &[], false, 14, &[], &[]),
            (&["NET_ADMIN"], &[], false, 15, &[Capability::NetAdmin], &[]),
            (
                &["cap_net_admin"],
                &[],
                false,
                15,
                &[Capability::NetAdmin],
                &[],
            ),
            (
                &["Sys_Admin"],
                &["MKNOD"],
                false,
                14,
                &[Capability::SysAdmin],
                &[Capability::Mknod],
            ),
            (
                &["ALL"],
                &["NET_RAW"],
                false,
                40,
                &[Capability::Bpf],
                &[Capability::NetRaw],
            ),
            (
                &["CHOWN"],
                &["all"],
                false,
                1,
                &[Capability::Chown],
                &[Capability::Kill],
            ),
            (&["CHOWN"], &[], false, 14, &[Capability::Chown], &[]),
            (
                &[],
                &[],
                true,
                41,
                &[Capability::SysAdmin, Capability::CheckpointRestore],
                &[],
            ),
        ];
        for (add, drop, privileged, len, has, lacks) in cases {
            let got = caps(add, drop, *privileged).unwrap();
            assert_eq!(got.len(), *len, "{add:?} {drop:?}: {got:?}");
            for cap in *has {
                assert!(got.contains(cap), "{add:?} {drop:?} lacks {cap:?}");
            }
            for cap in *lacks {
                assert!(!got.contains(cap), "{add:?} {drop:?} has {cap:?}");
            }
        }
        assert_eq!(caps(&[], &[], false).unwrap(), default);
    }

    #[test]
    fn unknown_capabilities_are_refused_in_dockers_words() {
        let cases = [
            (
                vec!["FOO"],
                vec![],
                r#"invalid CapAdd: unknown capability: "CAP_FOO""#,
            ),
            (
                vec![],
                vec!["cap_bar"],
                r#"invalid CapDrop: unknown capability: "CAP_BAR""#,
            ),
        ];
        for (add, drop, message) in cases {
            let err = caps(&add, &drop, false).unwrap_err();
            assert_eq!(err.to_string(), message);
            assert_eq!(err.kind(), crate::error::ErrorKind::InvalidArgument);
        }
    }

    #[test]
    fn an_older_kernel_knows_fewer() {
        let mut facts = test_facts();
        facts.last_cap = 37;
        assert_eq!(known(&facts).len(), 38);
        let err = container_caps(&strings(&["BPF"]), &[], false, &facts).unwrap_err();
        assert!(err.to_string().contains("CAP_BPF"));
    }
}
