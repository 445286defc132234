//! `-v src:dst[:options]` (HostConfig.Binds) and `--mount` (HostConfig.Mounts) parsed and
//! checked with Docker's rules and messages, into one shape the engine resolves to host
//! paths (volumes) before the spec is built.
//!
//! One difference Docker keeps and so does pier: a missing host path of a `Binds` entry is
//! created (a directory), while a `Mounts` bind whose source is missing is an error.

use std::path::{Component, Path, PathBuf};

use api::types::{Mount, MountType, TmpfsOptions};

use super::error::{Result, SpecError};

/// Where a mount's content comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MountSource {
    /// A host path (absolute).
    HostPath(PathBuf),
    /// A named volume, made if missing; `subpath` inside it when given.
    Volume {
        name: String,
        subpath: Option<String>,
    },
    /// A new volume for this container alone (`-v /data`).
    Anonymous,
    /// A tmpfs, with its filesystem options (`size=64m,mode=1777`).
    Tmpfs { data: String },
}

/// A bind, volume or tmpfs the container asked for, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindSpec {
    pub source: MountSource,
    /// Absolute and cleaned.
    pub destination: PathBuf,
    pub read_only: bool,
    /// The options as given (`ro,z`): Docker's `Mode` in inspect.
    pub mode: String,
    /// Host path binds: `rprivate` unless asked otherwise; empty for volumes and tmpfs.
    pub propagation: String,
    /// Bind only this mount, not the mounts beneath it.
    pub non_recursive: bool,
    /// Do not copy the image's content at the destination into a new volume.
    pub no_copy: bool,
    /// A missing host path is to be created by the engine (a `Binds` entry, or a `Mounts`
    /// bind with `CreateMountpoint`); see [`create_missing_bind_source`].
    pub create_source: bool,
}

const PROPAGATIONS: &[&str] = &[
    "private", "rprivate", "shared", "rshared", "slave", "rslave",
];
const DEFAULT_PROPAGATION: &str = "rprivate";

fn invalid_spec(raw: &str) -> String {
    format!("invalid volume specification: '{raw}'")
}

/// Docker's `linuxValidMountMode`: each kind of option at most once.
fn valid_mode(mode: &str) -> bool {
    if mode.is_empty() {
        return true;
    }
    let mut counts = [0u8; 5];
    for option in mode.split(',') {
        let slot = match option {
            "rw" | "ro" => 0,
            "z" | "Z" => 1,
            o if PROPAGATIONS.contains(&o) => 2,
            "nocopy" => 3,
            "consistent" | "cached" | "delegated" => 4,
            _ => return false,
        };
        counts[slot] += 1;
    }
    counts.iter().all(|&n| n <= 1)
}

/// Parses a `Binds` entry: `dst`, `src:dst` or `src:dst:options`, where a source without a
/// `/` at its start names a volume.
pub fn parse_bind(raw: &str) -> Result<BindSpec> {
    if raw.matches(':').count() > 2 {
        return Err(SpecError::invalid(invalid_spec(raw)));
    }
    let parts: Vec<&str> = raw.splitn(3, ':').collect();
    if parts[0].is_empty() {
        return Err(SpecError::invalid(invalid_spec(raw)));
    }
    let (source, target, mode) = match parts.as_slice() {
        [target] => ("", *target, ""),
        [_, second] if valid_mode(second) => return Err(SpecError::invalid(invalid_spec(raw))),
        [source, target] => (*source, *target, ""),
        [source, target, mode] => (*source, *target, *mode),
        _ => return Err(SpecError::invalid(invalid_spec(raw))),
    };
    if !valid_mode(mode) {
        return Err(SpecError::invalid(format!("invalid mode: {mode}")));
    }
    let options: Vec<&str> = mode.split(',').filter(|o| !o.is_empty()).collect();
    let kind = if source.starts_with('/') {
        MountType::Bind
    } else {
        MountType::Volume
    };
    let propagation = options
        .iter()
        .find(|o| PROPAGATIONS.contains(o))
        .map(|o| (*o).to_owned());
    let wrap = |e: SpecError| SpecError::invalid(format!("{}: {e}", invalid_spec(raw)));
    let destination = check_target(target, &kind).map_err(wrap)?;
    let source = match kind {
        MountType::Bind => MountSource::HostPath(PathBuf::from(source)),
        _ if source.is_empty() => MountSource::Anonymous,
        _ => MountSource::Volume {
            name: source.to_owned(),
            subpath: None,
        },
    };
    let is_bind = matches!(source, MountSource::HostPath(_));
    if !is_bind && propagation.is_some() {
        // Docker: "BindOptions" must not be given for a volume.
        return Err(wrap(mount_config_error(
            &kind,
            "field BindOptions must not be specified",
        )));
    }
    Ok(BindSpec {
        read_only: options.contains(&"ro"),
        no_copy: options.contains(&"nocopy"),
        propagation: match (&source, propagation) {
            (MountSource::HostPath(_), Some(p)) => p,
            (MountSource::HostPath(_), None) => DEFAULT_PROPAGATION.to_owned(),
            _ => String::new(),
        },
        source,
        destination,
        mode: mode.to_owned(),
        non_recursive: false,
        create_source: is_bind,
    })
}

fn mount_config_error(kind: &MountType, reason: &str) -> SpecError {
    SpecError::invalid(format!(
        "invalid mount config for type {:?}: {reason}",
        kind.as_str()
    ))
}

/// A mount target must be absolute and not `/`; it comes back cleaned.
fn check_target(target: &str, kind: &MountType) -> Result<PathBuf> {
    if target.is_empty() {
        return Err(mount_config_error(kind, "field Target must not be empty"));
    }
    let cleaned = clean(target);
    if cleaned == Path::new("/") {
        return Err(mount_config_error(
            kind,
            "invalid specification: destination can't be '/'",
        ));
    }
    if !target.starts_with('/') {
        return Err(mount_config_error(
            kind,
            &format!("invalid mount path: '{target}' mount path must be absolute"),
        ));
    }
    Ok(cleaned)
}

/// Lexical cleaning as Go's `path.Clean`: no `.`, no `..` above the root, one `/` between.
pub(crate) fn clean(path: &str) -> PathBuf {
    let absolute = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for component in Path::new(path).components() {
        match component {
            Component::Normal(name) => parts.push(name.to_str().unwrap_or_default()),
            Component::ParentDir => match parts.last() {
                Some(&last) if last != ".." => {
                    parts.pop();
                }
                _ if !absolute => parts.push(".."),
                _ => {}
            },
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    let joined = parts.join("/");
    match (absolute, joined.is_empty()) {
        (true, _) => PathBuf::from(format!("/{joined}")),
        (false, true) => PathBuf::from("."),
        (false, false) => PathBuf::from(joined),
    }
}

/// Checks a `Mounts` entry as Docker does at create (a bind's source must exist unless
/// `CreateMountpoint`) and turns it into a [`BindSpec`].
pub fn parse_mount(mount: &Mount) -> Result<BindSpec> {
    let kind = &mount.kind;
    let fail = |reason: &str| Err(mount_config_error(kind, reason));
    let destination = check_target(&mount.target, kind)?;
    let mut spec = BindSpec {
        source: MountSource::Anonymous,
        destination,
        read_only: mount.read_only,
        mode: String::new(),
        propagation: String::new(),
        non_recursive: false,
        no_copy: false,
        create_source: false,
    };
    match kind {
        MountType::Bind => {
            if mount.source.is_empty() {
                return fail("field Source must not be empty");
            }
            let options = mount.bind_options.clone().unwrap_or_default();
            if !options.propagation.is_empty()
                && !PROPAGATIONS.contains(&options.propagation.as_str())
            {
                return fail(&format!(
                    "invalid propagation mode: {}",
                    options.propagation
                ));
            }
            if mount.volume_options.is_some() {
                return fail("field VolumeOptions must not be specified");
            }
            if mount.tmpfs_options.is_some() {
                return fail("field TmpfsOptions must not be specified");
            }
            if !mount.source.starts_with('/') {
                return fail(&format!(
                    "invalid mount path: '{}' mount path must be absolute",
                    mount.source
                ));
            }
            match std::fs::metadata(&mount.source) {
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    if !options.create_mountpoint {
                        return fail(&format!(
                            "bind source path does not exist: {}",
                            mount.source
                        ));
                    }
                }
                Err(e) => return fail(&e.to_string()),
            }
            spec.source = MountSource::HostPath(PathBuf::from(&mount.source));
            spec.propagation = if options.propagation.is_empty() {
                DEFAULT_PROPAGATION.to_owned()
            } else {
                options.propagation
            };
            spec.non_recursive = options.non_recursive;
            spec.create_source = options.create_mountpoint;
        }
        MountType::Volume => {
            if mount.bind_options.is_some() {
                return fail("field BindOptions must not be specified");
            }
            let options = mount.volume_options.clone().unwrap_or_default();
            let anonymous = mount.source.is_empty();
            let subpath = (!options.subpath.is_empty()).then_some(options.subpath.clone());
            if let Some(subpath) = &subpath {
                if anonymous {
                    return fail("must not set Subpath when using anonymous volumes");
                }
                if !is_local(subpath) {
                    return fail("subpath must be a relative path within the volume");
                }
            }
            if mount.read_only && anonymous {
                return fail("must not set ReadOnly mode when using anonymous volumes");
            }
            spec.source = if anonymous {
                MountSource::Anonymous
            } else {
                MountSource::Volume {
                    name: mount.source.clone(),
                    subpath,
                }
            };
            spec.no_copy = options.no_copy;
        }
        MountType::Tmpfs => {
            if mount.bind_options.is_some() {
                return fail("field BindOptions must not be specified");
            }
            if !mount.source.is_empty() {
                return fail("field Source must not be specified");
            }
            spec.source = MountSource::Tmpfs {
                data: tmpfs_data(mount.tmpfs_options.as_ref(), mount.read_only),
            };
        }
        MountType::Npipe | MountType::Cluster | MountType::Other(_) => {
            return fail("mount type unknown");
        }
    }
    Ok(spec)
}

/// Go's `filepath.IsLocal`: relative, not empty, never climbing out.
fn is_local(path: &str) -> bool {
    if path.is_empty() || path.starts_with('/') {
        return false;
    }
    let cleaned = clean(path);
    cleaned != Path::new("..") && !cleaned.starts_with("../")
}

/// Docker's `ConvertTmpfsOptions`: `ro`, `mode=<octal>`, `size=<n>[kmg]`.
pub(crate) fn tmpfs_data(options: Option<&TmpfsOptions>, read_only: bool) -> String {
    let mut raw = Vec::new();
    if read_only {
        raw.push("ro".to_owned());
    }
    if let Some(options) = options {
        if options.mode != 0 {
            raw.push(format!("mode={:o}", options.mode));
        }
        if options.size_bytes != 0 {
            let size = options.size_bytes;
            let scaled = [("g", 1i64 << 30), ("m", 1 << 20), ("k", 1 << 10)]
                .into_iter()
                .find(|(_, divisor)| size % divisor == 0)
                .map(|(suffix, divisor)| format!("{}{suffix}", size / divisor))
                .unwrap_or_else(|| size.to_string());
            raw.push(format!("size={scaled}"));
        }
    }
    raw.join(",")
}

/// Makes a `Binds` source that does not exist yet: a directory, mode 0755, as Docker does.
pub fn create_missing_bind_source(path: &Path) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    match std::fs::symlink_metadata(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o755)
            .create(path)
            .map_err(|e| SpecError::io("creating bind source", path, e)),
        Err(e) => Err(SpecError::io("checking bind source", path, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use api::types::{BindOptions, VolumeOptions};

    fn host(path: &str) -> MountSource {
        MountSource::HostPath(PathBuf::from(path))
    }

    fn volume(name: &str) -> MountSource {
        MountSource::Volume {
            name: name.into(),
            subpath: None,
        }
    }

    #[test]
    fn binds() {
        let cases: &[(&str, MountSource, &str, bool, &str, bool)] = &[
            (
                "/srv:/data",
                host("/srv"),
                "/data",
                false,
                "rprivate",
                false,
            ),
            (
                "/srv:/data:ro",
                host("/srv"),
                "/data",
                true,
                "rprivate",
                false,
            ),
            (
                "/srv:/data:rw,rshared",
                host("/srv"),
                "/data",
                false,
                "rshared",
                false,
            ),
            (
                "/srv:/data/../x/:z",
                host("/srv"),
                "/x",
                false,
                "rprivate",
                false,
            ),
            (
                "cache:/var/cache:ro",
                volume("cache"),
                "/var/cache",
                true,
                "",
                false,
            ),
            (
                "cache:/var/cache:nocopy",
                volume("cache"),
                "/var/cache",
                false,
                "",
                true,
            ),
            ("/data", MountSource::Anonymous, "/data", false, "", false),
        ];
        for (raw, source, dest, ro, propagation, nocopy) in cases {
            let spec = parse_bind(raw).unwrap();
            assert_eq!(&spec.source, source, "{raw}");
            assert_eq!(spec.destination, Path::new(dest), "{raw}");
            assert_eq!(spec.read_only, *ro, "{raw}");
            assert_eq!(spec.propagation, *propagation, "{raw}");
            assert_eq!(spec.no_copy, *nocopy, "{raw}");
            assert_eq!(
                spec.create_source,
                matches!(source, MountSource::HostPath(_)),
                "{raw}"
            );
        }
        assert_eq!(parse_bind("/a:/b:ro,z").unwrap().mode, "ro,z");
    }

    #[test]
    fn bad_binds_in_dockers_words() {
        let cases = [
            ("", "invalid volume specification: ''"),
            (":/x", "invalid volume specification: ':/x'"),
            (
                "/a:/b:ro:extra",
                "invalid volume specification: '/a:/b:ro:extra'",
            ),
            ("/data:rw", "invalid volume specification: '/data:rw'"),
            ("/a:/b:bogus", "invalid mode: bogus"),
            ("/a:/b:ro,rw", "invalid mode: ro,rw"),
            (
                "/a:relative",
                "invalid volume specification: '/a:relative': invalid mount config for type \"bind\": invalid mount path: 'relative' mount path must be absolute",
            ),
            (
                "/a:/",
                "invalid volume specification: '/a:/': invalid mount config for type \"bind\": invalid specification: destination can't be '/'",
            ),
            (
                "vol:/x:rshared",
                "invalid volume specification: 'vol:/x:rshared': invalid mount config for type \"volume\": field BindOptions must not be specified",
            ),
        ];
        for (raw, message) in cases {
            let err = parse_bind(raw).unwrap_err();
            assert_eq!(err.to_string(), message, "{raw}");
            assert_eq!(err.kind(), crate::error::ErrorKind::InvalidArgument);
        }
    }

    fn mount(kind: MountType, source: &str, target: &str) -> Mount {
        Mount {
            kind,
            source: source.into(),
            target: target.into(),
            ..Default::default()
        }
    }

    #[test]
    fn mounts() {
        let dir = tempfile::tempdir().unwrap();
        let existing = dir.path().to_str().unwrap();
        let spec = parse_mount(&mount(MountType::Bind, existing, "/x")).unwrap();
        assert_eq!(spec.source, host(existing));
        assert_eq!(spec.propagation, "rprivate");
        assert!(!spec.create_source);

        let missing = format!("{existing}/missing");
        let err = parse_mount(&mount(MountType::Bind, &missing, "/x")).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "invalid mount config for type \"bind\": bind source path does not exist: {missing}"
            )
        );
        let mut create = mount(MountType::Bind, &missing, "/x");
        create.bind_options = Some(BindOptions {
            create_mountpoint: true,
            ..Default::default()
        });
        assert!(parse_mount(&create).unwrap().create_source);

        let mut vol = mount(MountType::Volume, "data", "/data");
        vol.volume_options = Some(VolumeOptions {
            subpath: "sub/dir".into(),
            no_copy: true,
            ..Default::default()
        });
        let spec = parse_mount(&vol).unwrap();
        assert_eq!(
            spec.source,
            MountSource::Volume {
                name: "data".into(),
                subpath: Some("sub/dir".into())
            }
        );
        assert!(spec.no_copy);

        let mut tmpfs = mount(MountType::Tmpfs, "", "/run");
        tmpfs.tmpfs_options = Some(TmpfsOptions {
            size_bytes: 64 << 20,
            mode: 0o1777,
        });
        assert_eq!(
            parse_mount(&tmpfs).unwrap().source,
            MountSource::Tmpfs {
                data: "mode=1777,size=64m".into()
            }
        );
    }

    #[test]
    fn bad_mounts_in_dockers_words() {
        let mut escaping = mount(MountType::Volume, "data", "/data");
        escaping.volume_options = Some(VolumeOptions {
            subpath: "../../etc".into(),
            ..Default::default()
        });
        let mut ro_anonymous = mount(MountType::Volume, "", "/data");
        ro_anonymous.read_only = true;
        let cases = [
            (
                mount(MountType::Bind, "", "/x"),
                "invalid mount config for type \"bind\": field Source must not be empty",
            ),
            (
                mount(MountType::Bind, "rel", "/x"),
                "invalid mount config for type \"bind\": invalid mount path: 'rel' mount path must be absolute",
            ),
            (
                mount(MountType::Tmpfs, "/src", "/x"),
                "invalid mount config for type \"tmpfs\": field Source must not be specified",
            ),
            (
                mount(MountType::Other("weird".into()), "", "/x"),
                "invalid mount config for type \"weird\": mount type unknown",
            ),
            (
                mount(MountType::Volume, "v", ""),
                "invalid mount config for type \"volume\": field Target must not be empty",
            ),
            (
                escaping,
                "invalid mount config for type \"volume\": subpath must be a relative path within the volume",
            ),
            (
                ro_anonymous,
                "invalid mount config for type \"volume\": must not set ReadOnly mode when using anonymous volumes",
            ),
        ];
        for (m, message) in cases {
            assert_eq!(parse_mount(&m).unwrap_err().to_string(), message);
        }
    }

    #[test]
    fn tmpfs_sizes_take_the_largest_even_suffix() {
        let data = |size_bytes| {
            tmpfs_data(
                Some(&TmpfsOptions {
                    size_bytes,
                    mode: 0,
                }),
                true,
            )
        };
        assert_eq!(data(1 << 30), "ro,size=1g");
        assert_eq!(data(3 << 10), "ro,size=3k");
        assert_eq!(data(1000), "ro,size=1000");
    }

    #[test]
    fn cleaning() {
        for (raw, cleaned) in [
            ("/a/./b/../c/", "/a/c"),
            ("/../..", "/"),
            ("a/../../b", "../b"),
            ("../../etc", "../../etc"),
            ("", "."),
        ] {
            assert_eq!(clean(raw), Path::new(cleaned), "{raw}");
        }
    }

    #[test]
    fn missing_bind_sources_are_made() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b");
        create_missing_bind_source(&path).unwrap();
        assert!(path.is_dir());
        create_missing_bind_source(&path).unwrap();
    }
}
