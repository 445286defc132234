//! Reading and checking a bundle's config.json before anything is made from it.

use std::collections::HashSet;
use std::path::{Component, Path, PathBuf};

use oci_spec::runtime::{LinuxNamespaceType, Spec};

use crate::error::{Error, Result};

/// A bundle whose config.json parsed and passed every check.
#[derive(Debug, Clone)]
pub struct Bundle {
    /// Absolute path of the bundle directory.
    pub path: PathBuf,
    /// Absolute path of the root filesystem.
    pub rootfs: PathBuf,
    pub spec: Spec,
}

impl Bundle {
    /// Whether the process asks for a terminal (`process.terminal`).
    pub fn terminal(&self) -> bool {
        self.spec
            .process()
            .as_ref()
            .and_then(|p| p.terminal())
            .unwrap_or(false)
    }
}

/// Loads `<bundle>/config.json` and checks it.
pub fn load_bundle(bundle: &Path) -> Result<Bundle> {
    let path = std::path::absolute(bundle).map_err(|e| Error::path("bundle", bundle, e))?;
    let config = path.join("config.json");
    let bytes = std::fs::read(&config).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::InvalidArgument(format!(
            "config.json not found in bundle {}",
            path.display()
        )),
        _ => Error::path("reading", &config, e),
    })?;
    let spec = parse_spec(&bytes)?;
    let root = spec
        .root()
        .as_ref()
        .ok_or_else(|| Error::InvalidSpec("root is missing".into()))?;
    let rootfs = if root.path().is_absolute() {
        root.path().clone()
    } else {
        path.join(root.path())
    };
    match std::fs::metadata(&rootfs) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => {
            return Err(Error::InvalidSpec(format!(
                "root.path {} is not a directory",
                rootfs.display()
            )));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::InvalidSpec(format!(
                "rootfs {} does not exist",
                rootfs.display()
            )));
        }
        Err(e) => return Err(Error::path("checking rootfs", &rootfs, e)),
    }
    validate(&spec)?;
    Ok(Bundle { path, rootfs, spec })
}

/// Parses config.json, naming the field at fault when it does not fit the OCI schema.
pub fn parse_spec(bytes: &[u8]) -> Result<Spec> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." || path.is_empty() {
            Error::InvalidSpec(inner.to_string())
        } else {
            Error::InvalidSpec(format!("{path}: {inner}"))
        }
    })
}

/// The checks that runc and crun make before they create anything.
pub fn validate(spec: &Spec) -> Result<()> {
    let invalid = |msg: String| Err(Error::InvalidSpec(msg));
    let Some(process) = spec.process() else {
        return invalid("process is missing".into());
    };
    match process.args() {
        Some(args) if !args.is_empty() => {}
        _ => return invalid("process.args must name the program to run".into()),
    }
    if !process.cwd().is_absolute() {
        return invalid(format!(
            "process.cwd {:?} must be an absolute path",
            process.cwd()
        ));
    }
    if let Some(rlimits) = process.rlimits() {
        let mut seen = HashSet::new();
        for rlimit in rlimits {
            if !seen.insert(format!("{:?}", rlimit.typ())) {
                return invalid(format!("process.rlimits: {:?} is set twice", rlimit.typ()));
            }
            if rlimit.soft() > rlimit.hard() {
                return invalid(format!(
                    "process.rlimits: {:?} soft limit {} exceeds its hard limit {}",
                    rlimit.typ(),
                    rlimit.soft(),
                    rlimit.hard()
                ));
            }
        }
    }
    let Some(linux) = spec.linux() else {
        return invalid("linux is missing".into());
    };
    let mut kinds = HashSet::new();
    for ns in linux.namespaces().iter().flatten() {
        if !kinds.insert(ns.typ()) {
            return invalid(format!(
                "linux.namespaces: {} is listed twice",
                namespace_name(ns.typ())
            ));
        }
        match ns.typ() {
            LinuxNamespaceType::User | LinuxNamespaceType::Time => {
                return invalid(format!(
                    "linux.namespaces: {} namespaces are not supported by pier's runtime",
                    namespace_name(ns.typ())
                ));
            }
            _ => {}
        }
        if let Some(path) = ns.path()
            && !path.exists()
        {
            return invalid(format!(
                "linux.namespaces: {} namespace path {} does not exist",
                namespace_name(ns.typ()),
                path.display()
            ));
        }
    }
    let has_private = |typ: LinuxNamespaceType| {
        linux
            .namespaces()
            .iter()
            .flatten()
            .any(|ns| ns.typ() == typ)
    };
    if spec.hostname().as_deref().is_some_and(|h| !h.is_empty())
        && !has_private(LinuxNamespaceType::Uts)
    {
        return invalid("hostname is set but the container has no UTS namespace of its own".into());
    }
    if !has_private(LinuxNamespaceType::Mount) {
        return invalid("linux.namespaces: a mount namespace is required".into());
    }
    for mount in spec.mounts().iter().flatten() {
        check_destination(mount.destination())?;
    }
    for (key, _) in linux.sysctl().iter().flatten() {
        check_sysctl(
            key,
            has_private(LinuxNamespaceType::Network),
            has_private(LinuxNamespaceType::Ipc),
            has_private(LinuxNamespaceType::Uts),
        )?;
    }
    if spec.hooks().is_some() {
        return invalid("hooks are not supported by pier's runtime".into());
    }
    if let Some(seccomp) = linux.seccomp()
        && seccomp.listener_path().is_some()
    {
        return invalid("linux.seccomp.listenerPath is not supported".into());
    }
    Ok(())
}

/// A mount destination must be absolute and must not climb above the container's root.
pub(crate) fn check_destination(dest: &Path) -> Result<()> {
    if !dest.is_absolute() {
        return Err(Error::InvalidSpec(format!(
            "mount destination {} is not an absolute path",
            dest.display()
        )));
    }
    let mut depth = 0usize;
    for component in dest.components() {
        match component {
            Component::Normal(_) => depth += 1,
            Component::ParentDir if depth == 0 => {
                return Err(Error::InvalidSpec(format!(
                    "mount destination {} escapes the container's root through \"..\"",
                    dest.display()
                )));
            }
            Component::ParentDir => depth -= 1,
            _ => {}
        }
    }
    Ok(())
}

/// Only namespaced sysctls may be set, and only when the container has that namespace.
fn check_sysctl(key: &str, netns: bool, ipcns: bool, utsns: bool) -> Result<()> {
    const IPC_KEYS: &[&str] = &[
        "kernel.msgmax",
        "kernel.msgmnb",
        "kernel.msgmni",
        "kernel.sem",
        "kernel.shmall",
        "kernel.shmmax",
        "kernel.shmmni",
        "kernel.shm_rmid_forced",
    ];
    let (namespaced, has_ns, what) = if IPC_KEYS.contains(&key) || key.starts_with("fs.mqueue.") {
        (true, ipcns, "IPC")
    } else if key.starts_with("net.") {
        (true, netns, "network")
    } else if key == "kernel.hostname" || key == "kernel.domainname" {
        (true, utsns, "UTS")
    } else {
        (false, false, "")
    };
    if !namespaced {
        return Err(Error::InvalidSpec(format!(
            "linux.sysctl: {key} is not namespaced and cannot be set for a container"
        )));
    }
    if !has_ns || key.contains("..") || key.contains('/') {
        return Err(Error::InvalidSpec(format!(
            "linux.sysctl: {key} needs the container to have its own {what} namespace"
        )));
    }
    Ok(())
}

pub(crate) fn namespace_name(typ: LinuxNamespaceType) -> &'static str {
    match typ {
        LinuxNamespaceType::Mount => "mount",
        LinuxNamespaceType::Cgroup => "cgroup",
        LinuxNamespaceType::Uts => "uts",
        LinuxNamespaceType::Ipc => "ipc",
        LinuxNamespaceType::User => "user",
        LinuxNamespaceType::Pid => "pid",
        LinuxNamespaceType::Network => "network",
        LinuxNamespaceType::Time => "time",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minimal() -> serde_json::Value {
        serde_json::json!({
            "ociVersion": "1.0.2",
            "root": {"path": "rootfs"},
            "process": {"user": {"uid": 0, "gid": 0}, "args": ["sh"], "cwd": "/"},
            "linux": {"namespaces": [{"type": "mount"}, {"type": "pid"}]}
        })
    }

    fn check(value: serde_json::Value) -> Result<()> {
        let spec = parse_spec(value.to_string().as_bytes())?;
        validate(&spec)
    }

    #[test]
    fn minimal_spec_is_fine() {
        check(minimal()).unwrap();
    }

    #[test]
    fn wrong_field_type_names_the_field() {
        let mut v = minimal();
        v["process"]["user"]["uid"] = serde_json::json!("root");
        let err = check(v).unwrap_err().to_string();
        assert!(err.contains("process.user.uid"), "{err}");
    }

    #[test]
    fn missing_cwd_is_named() {
        let mut v = minimal();
        v["process"].as_object_mut().unwrap().remove("cwd");
        let err = check(v).unwrap_err().to_string();
        assert!(err.contains("cwd"), "{err}");
    }

    #[test]
    fn unknown_namespace_is_refused() {
        let mut v = minimal();
        v["linux"]["namespaces"][1]["type"] = serde_json::json!("bogus");
        let err = check(v).unwrap_err().to_string();
        assert!(err.contains("linux.namespaces[1].type"), "{err}");
        assert!(err.contains("bogus"), "{err}");
    }

    #[test]
    fn duplicate_namespace_is_refused() {
        let mut v = minimal();
        v["linux"]["namespaces"][1]["type"] = serde_json::json!("mount");
        assert!(check(v).unwrap_err().to_string().contains("listed twice"));
    }

    #[test]
    fn hostname_needs_uts() {
        let mut v = minimal();
        v["hostname"] = serde_json::json!("box");
        assert!(check(v).unwrap_err().to_string().contains("UTS"));
    }

    #[test]
    fn escaping_destinations_are_refused() {
        assert!(check_destination(Path::new("/a/../../etc")).is_err());
        assert!(check_destination(Path::new("relative")).is_err());
        check_destination(Path::new("/a/../b")).unwrap();
        check_destination(Path::new("/proc")).unwrap();
    }

    #[test]
    fn host_sysctls_are_refused() {
        assert!(check_sysctl("kernel.panic", true, true, true).is_err());
        assert!(check_sysctl("net.ipv4.ip_forward", false, true, true).is_err());
        check_sysctl("net.ipv4.ip_forward", true, true, true).unwrap();
        check_sysctl("kernel.shmmax", false, true, true).unwrap();
    }
}
