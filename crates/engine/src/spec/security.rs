//! `HostConfig.SecurityOpt`, read as Docker's `parseSecurityOpt` reads it.

use super::error::{Result, SpecError};

/// Which seccomp filter the container gets.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) enum SeccompChoice {
    /// Docker's default profile, resolved for the container's capabilities.
    #[default]
    Default,
    /// No filter at all.
    Unconfined,
    /// A profile's JSON, as the CLI sends the file's content.
    Profile(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct SecurityOptions {
    pub seccomp: SeccompChoice,
    pub no_new_privileges: bool,
}

/// Go's `strconv.ParseBool`.
fn parse_bool(value: &str) -> Option<bool> {
    match value {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// Reads the options; AppArmor and SELinux labels are accepted and have no effect here.
pub(crate) fn parse(options: &[String]) -> Result<SecurityOptions> {
    let mut parsed = SecurityOptions::default();
    for option in options {
        if option == "no-new-privileges" {
            parsed.no_new_privileges = true;
            continue;
        }
        if option == "disable" {
            continue;
        }
        // `key=value`, or the deprecated `key:value`.
        let split = if option.contains('=') {
            option.split_once('=')
        } else {
            option.split_once(':')
        };
        let Some((key, value)) = split else {
            return Err(SpecError::invalid(format!(
                "invalid --security-opt 1: {option:?}"
            )));
        };
        let invalid_value = || SpecError::invalid(format!("invalid --security-opt 2: {option:?}"));
        match key {
            "label" | "apparmor" => {}
            "seccomp" => {
                parsed.seccomp = match value {
                    "unconfined" => SeccompChoice::Unconfined,
                    "builtin" | "" => SeccompChoice::Default,
                    profile => SeccompChoice::Profile(profile.to_owned()),
                }
            }
            "no-new-privileges" => {
                parsed.no_new_privileges = parse_bool(value).ok_or_else(invalid_value)?;
            }
            "writable-cgroups" => {
                parse_bool(value).ok_or_else(invalid_value)?;
            }
            _ => return Err(invalid_value()),
        }
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(list: &[&str]) -> Result<SecurityOptions> {
        parse(&list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>())
    }

    #[test]
    fn options() {
        let cases: &[(&[&str], SeccompChoice, bool)] = &[
            (&[], SeccompChoice::Default, false),
            (&["seccomp=unconfined"], SeccompChoice::Unconfined, false),
            (&["seccomp:unconfined"], SeccompChoice::Unconfined, false),
            (
                &["seccomp=builtin", "no-new-privileges"],
                SeccompChoice::Default,
                true,
            ),
            (&["no-new-privileges:true"], SeccompChoice::Default, true),
            (&["no-new-privileges=false"], SeccompChoice::Default, false),
            (
                &["no-new-privileges", "no-new-privileges=0"],
                SeccompChoice::Default,
                false,
            ),
            (
                &["apparmor=unconfined", "label=disable", "label:type:svirt_t"],
                SeccompChoice::Default,
                false,
            ),
            (
                &[r#"seccomp={"defaultAction":"SCMP_ACT_ALLOW"}"#],
                SeccompChoice::Profile(r#"{"defaultAction":"SCMP_ACT_ALLOW"}"#.into()),
                false,
            ),
        ];
        for (list, seccomp, nnp) in cases {
            let parsed = opts(list).unwrap();
            assert_eq!(
                (&parsed.seccomp, parsed.no_new_privileges),
                (seccomp, *nnp),
                "{list:?}"
            );
        }
    }

    #[test]
    fn bad_options_in_dockers_words() {
        let cases = [
            ("foo", r#"invalid --security-opt 1: "foo""#),
            ("foo=bar", r#"invalid --security-opt 2: "foo=bar""#),
            (
                "no-new-privileges=maybe",
                r#"invalid --security-opt 2: "no-new-privileges=maybe""#,
            ),
        ];
        for (option, message) in cases {
            assert_eq!(opts(&[option]).unwrap_err().to_string(), message);
        }
    }
}
