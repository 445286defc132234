//! tmpfs mount options as Docker merges them (`MergeTmpfsOptions`): its defaults first, the
//! user's after, and for each flag (or each `key=value` key) the last one given wins.

use super::error::{Result, SpecError};

/// What every tmpfs mount of a container starts with.
const DEFAULTS: &[&str] = &["noexec", "nosuid", "nodev", "rprivate"];

/// Filesystem data keys tmpfs accepts.
const DATA_KEYS: &[&str] = &[
    "size",
    "mode",
    "uid",
    "gid",
    "nr_inodes",
    "nr_blocks",
    "mpol",
];

/// The flag an option sets or clears (options that undo each other share one), or `None`
/// when it is not a flag.
fn flag_group(option: &str) -> Option<&'static str> {
    Some(match option {
        "ro" | "rw" => "rdonly",
        "suid" | "nosuid" => "nosuid",
        "dev" | "nodev" => "nodev",
        "exec" | "noexec" => "noexec",
        "sync" | "async" => "sync",
        "dirsync" => "dirsync",
        "remount" => "remount",
        "mand" | "nomand" => "mand",
        "atime" | "noatime" => "noatime",
        "diratime" | "nodiratime" => "nodiratime",
        "bind" | "rbind" => "bind",
        "relatime" | "norelatime" => "relatime",
        "strictatime" | "nostrictatime" => "strictatime",
        "private" | "rprivate" | "shared" | "rshared" | "slave" | "rslave" | "unbindable"
        | "runbindable" => "propagation",
        _ => return None,
    })
}

/// The OCI mount options for a tmpfs whose user options (`HostConfig.Tmpfs` values, or what
/// a `Mounts` tmpfs converts to) are `data`.
pub(crate) fn options(data: &str) -> Result<Vec<String>> {
    let all: Vec<&str> = DEFAULTS
        .iter()
        .copied()
        .chain(data.split(',').filter(|o| !o.is_empty()))
        .collect();
    let mut seen: Vec<&str> = Vec::new();
    let mut merged: Vec<String> = Vec::new();
    for option in all.iter().rev() {
        if *option == "defaults" {
            continue;
        }
        let key = match flag_group(option) {
            Some(group) => group,
            None => {
                let (key, has_value) = match option.split_once('=') {
                    Some((key, _)) => (key, true),
                    None => (*option, false),
                };
                if !has_value || !DATA_KEYS.contains(&key) {
                    return Err(SpecError::invalid(format!(
                        "invalid tmpfs option {}",
                        go_quoted_list(option)
                    )));
                }
                key
            }
        };
        if !seen.contains(&key) {
            seen.push(key);
            merged.push((*option).to_owned());
        }
    }
    merged.reverse();
    Ok(merged)
}

/// How Go prints `%q` of `strings.SplitN(option, "=", 2)`: `["size" "x"]`.
fn go_quoted_list(option: &str) -> String {
    let parts: Vec<String> = option.splitn(2, '=').map(|p| format!("{p:?}")).collect();
    format!("[{}]", parts.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merging() {
        let cases: &[(&str, &[&str])] = &[
            ("", &["noexec", "nosuid", "nodev", "rprivate"]),
            (
                "size=64m,mode=1777",
                &[
                    "noexec",
                    "nosuid",
                    "nodev",
                    "rprivate",
                    "size=64m",
                    "mode=1777",
                ],
            ),
            ("exec", &["nosuid", "nodev", "rprivate", "exec"]),
            (
                "rw,size=1g,size=2g",
                &["noexec", "nosuid", "nodev", "rprivate", "rw", "size=2g"],
            ),
            ("shared,defaults", &["noexec", "nosuid", "nodev", "shared"]),
        ];
        for (data, expected) in cases {
            assert_eq!(options(data).unwrap(), *expected, "{data}");
        }
    }

    #[test]
    fn bad_options_in_dockers_words() {
        assert_eq!(
            options("bogus").unwrap_err().to_string(),
            r#"invalid tmpfs option ["bogus"]"#
        );
        assert_eq!(
            options("color=red").unwrap_err().to_string(),
            r#"invalid tmpfs option ["color" "red"]"#
        );
    }
}
