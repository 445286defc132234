//! `-v/--volume`, `--mount` and `--tmpfs`, read as Docker's CLI reads them: `-v` with a
//! source becomes a `Binds` entry (a relative `./path` made absolute), `-v /path` alone an
//! anonymous volume in `Config.Volumes`; `--mount` is a CSV list of `key=value` fields.

use std::collections::BTreeMap;
use std::path::Path;

use api::types::{BindOptions, Mount, MountType, TmpfsOptions, VolumeDriverConfig, VolumeOptions};

/// Where one `-v` goes.
#[derive(Debug, PartialEq, Eq)]
pub enum VolumeSpec {
    /// A `HostConfig.Binds` entry (host path or named volume).
    Bind(String),
    /// An anonymous volume at this path (`Config.Volumes`).
    Anonymous(String),
}

/// Splits a `-v` value the way compose's `ParseVolume` does, far enough to know its source.
fn volume_source(spec: &str) -> Option<&str> {
    if spec.len() <= 2 {
        return None;
    }
    let mut sections = spec.split(':');
    let first = sections.next()?;
    // A single section is the target of an anonymous volume.
    sections.next()?;
    (!first.is_empty()).then_some(first)
}

/// Reads one `-v` value; `cwd` resolves `./relative` sources.
pub fn parse_volume(spec: &str, cwd: &Path) -> VolumeSpec {
    match volume_source(spec) {
        None => VolumeSpec::Anonymous(spec.to_owned()),
        Some(source) => {
            if source.starts_with('.') {
                let rest = &spec[source.len()..];
                let absolute = clean(&cwd.join(source));
                VolumeSpec::Bind(format!("{}{rest}", absolute.display()))
            } else {
                VolumeSpec::Bind(spec.to_owned())
            }
        }
    }
}

/// Go's `filepath.Clean` for an absolute path: no `.`, no `..`, no double slashes.
fn clean(path: &Path) -> std::path::PathBuf {
    let mut parts: Vec<&std::ffi::OsStr> = Vec::new();
    for component in path.components() {
        match component {
            std::path::Component::Normal(part) => parts.push(part),
            std::path::Component::ParentDir => {
                parts.pop();
            }
            _ => {}
        }
    }
    let mut cleaned = std::path::PathBuf::from("/");
    cleaned.extend(parts);
    cleaned
}

/// Go's `strconv.ParseBool`.
fn parse_bool(value: &str) -> Option<bool> {
    match value {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// Splits a CSV record (Go's `encoding/csv` for one line: fields may be quoted, `""` is a
/// quote inside quotes).
fn csv_fields(line: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut chars = line.chars().peekable();
    let mut at_start = true;
    let mut quoted = false;
    while let Some(c) = chars.next() {
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    field.push('"');
                } else {
                    quoted = false;
                }
            } else {
                field.push(c);
            }
            continue;
        }
        match c {
            '"' if at_start => {
                quoted = true;
                at_start = false;
            }
            ',' => {
                fields.push(std::mem::take(&mut field));
                at_start = true;
            }
            c => {
                field.push(c);
                at_start = false;
            }
        }
    }
    if quoted {
        return Err("extraneous or missing \" in quoted-field".to_owned());
    }
    fields.push(field);
    Ok(fields)
}

/// Reads one `--mount` value (Docker's `MountOpt.Set`); `cwd` resolves `./relative`
/// sources.
pub fn parse_mount(value: &str, cwd: &Path) -> Result<Mount, String> {
    let mut mount = Mount {
        kind: MountType::Volume,
        ..Mount::default()
    };
    let mut bind: Option<BindOptions> = None;
    let mut volume: Option<VolumeOptions> = None;
    let mut tmpfs: Option<TmpfsOptions> = None;
    for field in csv_fields(value)? {
        let Some((key, val)) = field.split_once('=') else {
            match field.to_lowercase().as_str() {
                "readonly" | "ro" => mount.read_only = true,
                "volume-nocopy" => volume.get_or_insert_with(Default::default).no_copy = true,
                "bind-nonrecursive" => {
                    bind.get_or_insert_with(Default::default).non_recursive = true;
                }
                _ => return Err(format!("invalid field '{field}' must be a key=value pair")),
            }
            continue;
        };
        let key = key.to_lowercase();
        let invalid = || format!("invalid value for {key}: {val}");
        match key.as_str() {
            "type" => mount.kind = MountType::from(val.to_lowercase().as_str()),
            "source" | "src" => {
                mount.source = if val == "." || val.starts_with("./") {
                    clean(&cwd.join(val)).display().to_string()
                } else {
                    val.to_owned()
                };
            }
            "target" | "dst" | "destination" => mount.target = val.to_owned(),
            "readonly" | "ro" => mount.read_only = parse_bool(val).ok_or_else(invalid)?,
            "consistency" => mount.consistency = val.to_lowercase(),
            "bind-propagation" => {
                bind.get_or_insert_with(Default::default).propagation = val.to_lowercase();
            }
            "bind-nonrecursive" => {
                bind.get_or_insert_with(Default::default).non_recursive =
                    parse_bool(val).ok_or_else(invalid)?;
            }
            "volume-nocopy" => {
                volume.get_or_insert_with(Default::default).no_copy = parse_bool(val)
                    .ok_or_else(|| format!("invalid value for volume-nocopy: {val}"))?;
            }
            "volume-label" => {
                let (k, v) = val.split_once('=').unwrap_or((val, ""));
                volume
                    .get_or_insert_with(Default::default)
                    .labels
                    .get_or_insert_with(BTreeMap::new)
                    .insert(k.to_owned(), v.to_owned());
            }
            "volume-driver" => {
                driver(&mut volume).name = val.to_owned();
            }
            "volume-opt" => {
                let (k, v) = val
                    .split_once('=')
                    .ok_or_else(|| format!("invalid value for {key}: {field}"))?;
                driver(&mut volume)
                    .options
                    .get_or_insert_with(BTreeMap::new)
                    .insert(k.to_owned(), v.to_owned());
            }
            "volume-subpath" => {
                volume.get_or_insert_with(Default::default).subpath = val.to_owned()
            }
            "tmpfs-size" => {
                let size = crate::cli::units::ram_in_bytes(val).map_err(|_| invalid())?;
                tmpfs.get_or_insert_with(Default::default).size_bytes = size;
            }
            "tmpfs-mode" => {
                let mode = u32::from_str_radix(val, 8).map_err(|_| invalid())?;
                tmpfs.get_or_insert_with(Default::default).mode = mode;
            }
            _ => return Err(format!("unexpected key '{key}' in '{field}'")),
        }
    }
    if mount.kind.as_str().is_empty() {
        return Err("type is required".to_owned());
    }
    if mount.target.is_empty() {
        return Err("target is required".to_owned());
    }
    let kind = mount.kind.as_str().to_owned();
    if volume.is_some() && mount.kind != MountType::Volume {
        return Err(format!(
            "cannot mix 'volume-*' options with mount type '{kind}'"
        ));
    }
    if bind.is_some() && mount.kind != MountType::Bind {
        return Err(format!(
            "cannot mix 'bind-*' options with mount type '{kind}'"
        ));
    }
    if tmpfs.is_some() && mount.kind != MountType::Tmpfs {
        return Err(format!(
            "cannot mix 'tmpfs-*' options with mount type '{kind}'"
        ));
    }
    mount.bind_options = bind;
    mount.volume_options = volume;
    mount.tmpfs_options = tmpfs;
    Ok(mount)
}

fn driver(volume: &mut Option<VolumeOptions>) -> &mut VolumeDriverConfig {
    volume
        .get_or_insert_with(Default::default)
        .driver_config
        .get_or_insert_with(Default::default)
}

/// `--tmpfs /run:rw,size=64m` → (`/run`, `rw,size=64m`).
pub fn parse_tmpfs(value: &str) -> (String, String) {
    match value.split_once(':') {
        Some((path, options)) => (path.to_owned(), options.to_owned()),
        None => (value.to_owned(), String::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volumes_split_into_binds_and_anonymous() {
        let cwd = Path::new("/home/me/project");
        assert_eq!(
            parse_volume("/srv:/data:ro", cwd),
            VolumeSpec::Bind("/srv:/data:ro".into())
        );
        assert_eq!(
            parse_volume("cache:/cache", cwd),
            VolumeSpec::Bind("cache:/cache".into())
        );
        assert_eq!(
            parse_volume("./conf:/etc/app", cwd),
            VolumeSpec::Bind("/home/me/project/conf:/etc/app".into())
        );
        assert_eq!(
            parse_volume("../x:/x", cwd),
            VolumeSpec::Bind("/home/me/x:/x".into())
        );
        assert_eq!(
            parse_volume("/data", cwd),
            VolumeSpec::Anonymous("/data".into())
        );
    }

    #[test]
    fn mounts_as_docker_reads_them() {
        let cwd = Path::new("/w");
        let mount = parse_mount("type=bind,source=./src,target=/app,readonly", cwd).unwrap();
        assert_eq!(mount.kind, MountType::Bind);
        assert_eq!(mount.source, "/w/src");
        assert_eq!(mount.target, "/app");
        assert!(mount.read_only);
        assert_eq!(
            serde_json::to_value(&mount).unwrap(),
            serde_json::json!({"Type": "bind", "Source": "/w/src", "Target": "/app", "ReadOnly": true})
        );
        let volume = parse_mount("src=data,dst=/data,volume-nocopy", cwd).unwrap();
        assert_eq!(volume.kind, MountType::Volume);
        assert!(volume.volume_options.unwrap().no_copy);
        let tmpfs =
            parse_mount("type=tmpfs,target=/t,tmpfs-size=1024,tmpfs-mode=1770", cwd).unwrap();
        let options = tmpfs.tmpfs_options.unwrap();
        assert_eq!((options.size_bytes, options.mode), (1024, 0o1770));
    }

    #[test]
    fn mount_errors_are_dockers() {
        let cwd = Path::new("/");
        let err = |v| parse_mount(v, cwd).unwrap_err();
        assert_eq!(err("source=/x"), "target is required");
        assert_eq!(
            err("type=bind,target=/x,readonly=maybe"),
            "invalid value for readonly: maybe"
        );
        assert_eq!(
            err("type=volume,target=/x,foo=bar"),
            "unexpected key 'foo' in 'foo=bar'"
        );
        assert_eq!(
            err("target"),
            "invalid field 'target' must be a key=value pair"
        );
        assert_eq!(
            err("type=bind,target=/x,volume-nocopy"),
            "cannot mix 'volume-*' options with mount type 'bind'"
        );
        assert_eq!(err("type=,target=/x"), "type is required");
    }

    #[test]
    fn csv_quoting() {
        assert_eq!(
            csv_fields("a,\"b,c\",\"d\"\"e\"").unwrap(),
            ["a", "b,c", "d\"e"]
        );
    }

    #[test]
    fn tmpfs_values() {
        assert_eq!(
            parse_tmpfs("/run:rw,size=64m"),
            ("/run".into(), "rw,size=64m".into())
        );
        assert_eq!(parse_tmpfs("/tmp"), ("/tmp".into(), String::new()));
    }
}
