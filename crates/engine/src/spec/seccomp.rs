//! A seccomp profile in Docker's format (what `--security-opt seccomp=<file>` sends: moby's
//! `profiles/seccomp` JSON, a superset of OCI's) resolved for one container into OCI's form:
//! `archMap` reduced to this machine's architectures, and each syscall rule kept only when its
//! `includes`/`excludes` (capabilities, architectures, minimum kernel) say so.

use oci_spec::runtime::{
    Arch, Capability, LinuxSeccomp, LinuxSeccompAction, LinuxSeccompArg, LinuxSeccompFilterFlag,
    LinuxSyscall,
};
use serde::Deserialize;

use super::error::{Result, SpecError};
use super::host::parse_kernel_release;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Profile {
    default_action: LinuxSeccompAction,
    #[serde(default)]
    default_errno_ret: Option<u32>,
    #[serde(default)]
    architectures: Option<Vec<Arch>>,
    #[serde(default)]
    arch_map: Option<Vec<ArchMap>>,
    #[serde(default)]
    syscalls: Option<Vec<Rule>>,
    #[serde(default)]
    flags: Option<Vec<LinuxSeccompFilterFlag>>,
    #[serde(default)]
    listener_path: Option<String>,
    #[serde(default)]
    listener_metadata: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ArchMap {
    architecture: Arch,
    #[serde(default)]
    sub_architectures: Option<Vec<Arch>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    names: Option<Vec<String>>,
    action: LinuxSeccompAction,
    #[serde(default)]
    errno_ret: Option<u32>,
    #[serde(default)]
    args: Option<Vec<LinuxSeccompArg>>,
    #[serde(default)]
    includes: Option<Filter>,
    #[serde(default)]
    excludes: Option<Filter>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Filter {
    #[serde(default)]
    caps: Option<Vec<String>>,
    #[serde(default)]
    arches: Option<Vec<String>>,
    #[serde(default)]
    min_kernel: Option<String>,
}

/// The machine a profile is resolved for.
pub(crate) struct Target<'a> {
    /// Go's name of the architecture (`amd64`, `arm64`...), as profiles' filters spell it.
    pub go_arch: &'a str,
    /// libseccomp's native architecture, as `archMap` spells it.
    pub native: Option<Arch>,
    /// The container's bounding capabilities.
    pub caps: &'a [Capability],
    pub kernel: Option<(u32, u32)>,
}

/// This machine's architecture in Go's and libseccomp's spelling.
pub(crate) fn host_arch() -> (&'static str, Option<Arch>) {
    match std::env::consts::ARCH {
        "x86_64" => ("amd64", Some(Arch::ScmpArchX86_64)),
        "x86" => ("386", Some(Arch::ScmpArchX86)),
        "aarch64" => ("arm64", Some(Arch::ScmpArchAarch64)),
        "arm" => ("arm", Some(Arch::ScmpArchArm)),
        "powerpc64" => ("ppc64le", Some(Arch::ScmpArchPpc64le)),
        "s390x" => ("s390x", Some(Arch::ScmpArchS390x)),
        "riscv64" => ("riscv64", Some(Arch::ScmpArchRiscv64)),
        "loongarch64" => ("loong64", Some(Arch::ScmpArchLoongarch64)),
        "mips64" => ("mips64le", Some(Arch::ScmpArchMipsel64)),
        other => (other, None),
    }
}

fn cap_name(cap: &Capability) -> String {
    format!("CAP_{cap}")
}

fn kernel_at_least(kernel: Option<(u32, u32)>, min: &str) -> Result<bool> {
    let wanted = parse_kernel_release(min).ok_or_else(|| {
        SpecError::invalid(format!(
            "Decoding seccomp profile failed: invalid minKernel {min:?}"
        ))
    })?;
    Ok(kernel.is_some_and(|k| k >= wanted))
}

/// Loads a Docker-format profile and resolves it for `target` (moby's `LoadProfile`).
pub(crate) fn load_profile(text: &str, target: &Target) -> Result<LinuxSeccomp> {
    let profile: Profile = serde_json::from_str(text)
        .map_err(|e| SpecError::invalid(format!("Decoding seccomp profile failed: {e}")))?;
    if profile
        .architectures
        .as_ref()
        .is_some_and(|a| !a.is_empty())
        && profile.arch_map.as_ref().is_some_and(|a| !a.is_empty())
    {
        return Err(SpecError::invalid(
            "both 'architectures' and 'archMap' are specified in the seccomp profile, use either 'architectures' or 'archMap'",
        ));
    }
    let mut architectures = profile.architectures.clone().unwrap_or_default();
    if let Some(native) = target.native {
        for entry in profile.arch_map.iter().flatten() {
            if entry.architecture == native {
                architectures.push(entry.architecture);
                architectures.extend(entry.sub_architectures.iter().flatten().copied());
            }
        }
    }
    let own_caps: Vec<String> = target.caps.iter().map(cap_name).collect();
    let mut syscalls = Vec::new();
    for rule in profile.syscalls.into_iter().flatten() {
        let mut names = rule.names.clone().unwrap_or_default();
        if let Some(name) = rule.name.as_ref().filter(|n| !n.is_empty()) {
            if !names.is_empty() {
                return Err(SpecError::invalid("use either 'name' or 'names'"));
            }
            names.push(name.clone());
        }
        if let Some(excludes) = &rule.excludes {
            if excludes
                .arches
                .iter()
                .flatten()
                .any(|a| a == target.go_arch)
                || excludes.caps.iter().flatten().any(|c| own_caps.contains(c))
            {
                continue;
            }
            let new_enough = match &excludes.min_kernel {
                Some(min) => kernel_at_least(target.kernel, min)?,
                None => false,
            };
            if new_enough {
                continue;
            }
        }
        if let Some(includes) = &rule.includes {
            if includes.arches.as_ref().is_some_and(|a| !a.is_empty())
                && !includes
                    .arches
                    .iter()
                    .flatten()
                    .any(|a| a == target.go_arch)
            {
                continue;
            }
            if !includes.caps.iter().flatten().all(|c| own_caps.contains(c)) {
                continue;
            }
            let new_enough = match &includes.min_kernel {
                Some(min) => kernel_at_least(target.kernel, min)?,
                None => true,
            };
            if !new_enough {
                continue;
            }
        }
        let mut syscall = LinuxSyscall::default();
        syscall.set_names(names);
        syscall.set_action(rule.action);
        syscall.set_errno_ret(rule.errno_ret);
        syscall.set_args(rule.args);
        syscalls.push(syscall);
    }
    let mut seccomp = LinuxSeccomp::default();
    seccomp.set_default_action(profile.default_action);
    seccomp.set_default_errno_ret(profile.default_errno_ret);
    seccomp.set_architectures((!architectures.is_empty()).then_some(architectures));
    seccomp.set_flags(profile.flags);
    seccomp.set_listener_path(
        profile
            .listener_path
            .filter(|p| !p.is_empty())
            .map(Into::into),
    );
    seccomp.set_listener_metadata(profile.listener_metadata.filter(|m| !m.is_empty()));
    seccomp.set_syscalls(Some(syscalls));
    Ok(seccomp)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROFILE: &str = r#"{
        "defaultAction": "SCMP_ACT_ERRNO",
        "defaultErrnoRet": 1,
        "archMap": [
            {"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
            {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]}
        ],
        "syscalls": [
            {"names": ["read", "write", "exit_group"], "action": "SCMP_ACT_ALLOW"},
            {"name": "personality", "action": "SCMP_ACT_ALLOW",
             "args": [{"index": 0, "value": 8, "valueTwo": 0, "op": "SCMP_CMP_EQ"}]},
            {"names": ["mount"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
            {"names": ["clone"], "action": "SCMP_ACT_ALLOW", "excludes": {"caps": ["CAP_SYS_ADMIN"]}},
            {"names": ["arch_prctl"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["amd64", "x32"]}},
            {"names": ["s390_pci_mmio_read"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["s390x"]}},
            {"names": ["ptrace"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "4.8"}},
            {"names": ["newer"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "9.0"}},
            {"names": ["unshare"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38, "comment": "x"}
        ]
    }"#;

    fn names(seccomp: &LinuxSeccomp) -> Vec<String> {
        seccomp
            .syscalls()
            .iter()
            .flatten()
            .flat_map(|s| s.names().clone())
            .collect()
    }

    fn target(caps: &[Capability]) -> Target<'_> {
        Target {
            go_arch: "amd64",
            native: Some(Arch::ScmpArchX86_64),
            caps,
            kernel: Some((6, 1)),
        }
    }

    #[test]
    fn resolves_for_the_container() {
        let seccomp = load_profile(PROFILE, &target(&[Capability::Chown])).unwrap();
        assert_eq!(seccomp.default_action(), LinuxSeccompAction::ScmpActErrno);
        assert_eq!(seccomp.default_errno_ret(), Some(1));
        assert_eq!(
            seccomp.architectures().clone().unwrap(),
            vec![Arch::ScmpArchX86_64, Arch::ScmpArchX86, Arch::ScmpArchX32]
        );
        assert_eq!(
            names(&seccomp),
            [
                "read",
                "write",
                "exit_group",
                "personality",
                "clone",
                "arch_prctl",
                "ptrace",
                "unshare"
            ]
        );
        let unshare = seccomp.syscalls().as_ref().unwrap().last().unwrap().clone();
        assert_eq!(unshare.errno_ret(), Some(38));
        let with_admin = load_profile(PROFILE, &target(&[Capability::SysAdmin])).unwrap();
        assert!(names(&with_admin).contains(&"mount".to_owned()));
        assert!(!names(&with_admin).contains(&"clone".to_owned()));
    }

    #[test]
    fn a_profile_in_ocis_own_form_works_too() {
        let oci = r#"{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
                      "syscalls": [{"names": ["kexec_load"], "action": "SCMP_ACT_ERRNO"}]}"#;
        let seccomp = load_profile(oci, &target(&[])).unwrap();
        assert_eq!(
            seccomp.architectures().clone().unwrap(),
            vec![Arch::ScmpArchX86_64]
        );
        assert_eq!(names(&seccomp), ["kexec_load"]);
    }

    #[test]
    fn bad_profiles_in_dockers_words() {
        let err = load_profile("{not json", &target(&[]))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("Decoding seccomp profile failed: "),
            "{err}"
        );
        let err = load_profile(r#"{"defaultAction": "SCMP_ACT_NOPE"}"#, &target(&[])).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("Decoding seccomp profile failed: ")
        );
        let both = r#"{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86"],
                       "archMap": [{"architecture": "SCMP_ARCH_X86_64"}]}"#;
        assert!(
            load_profile(both, &target(&[]))
                .unwrap_err()
                .to_string()
                .contains("either 'architectures' or 'archMap'")
        );
        let named_twice = r#"{"defaultAction": "SCMP_ACT_ALLOW",
                              "syscalls": [{"name": "a", "names": ["b"], "action": "SCMP_ACT_ALLOW"}]}"#;
        assert_eq!(
            load_profile(named_twice, &target(&[]))
                .unwrap_err()
                .to_string(),
            "use either 'name' or 'names'"
        );
    }
}
