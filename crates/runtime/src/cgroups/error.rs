//! The one error type of the cgroups module: every variant names the file and, for writes,
//! the value, so that a failure can be understood without a debugger.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// What went wrong while finding, creating, configuring or removing a cgroup.
#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    /// The host's cgroup layout could not be worked out (nothing mounted, unreadable /proc).
    #[error("detecting the cgroup layout: {0}")]
    Detect(String),

    /// A cgroups path or container id that cannot name a cgroup.
    #[error("invalid cgroups path {path:?}: {reason}")]
    InvalidPath { path: PathBuf, reason: String },

    /// mkdir of one level of the cgroup failed.
    #[error("creating {}: {}", .path.display(), IoMsg(.source))]
    Create {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    /// Reading a cgroup file failed.
    #[error("reading {}: {}", .path.display(), IoMsg(.source))]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    /// The kernel refused a value (or the file could not be opened for writing).
    #[error("writing {value:?} to {}: {}", .path.display(), IoMsg(.source))]
    Write {
        path: PathBuf,
        value: String,
        #[source]
        source: io::Error,
    },

    /// rmdir of the cgroup failed (after retries, for EBUSY).
    #[error("removing {}: {}", .path.display(), IoMsg(.source))]
    Remove {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    /// A cgroup file held something that could not be parsed.
    #[error("{}: cannot parse {content:?}", .path.display())]
    Parse { path: PathBuf, content: String },

    /// The user asked for a limit that this host cannot apply (its file does not exist).
    #[error("{resource} was requested, but this host has no {}", .path.display())]
    Unsupported { resource: String, path: PathBuf },

    /// cgroup v2: a limit needs a controller that the container's parent does not hand down.
    #[error(
        "{resource} was requested, but the {controller} controller is not enabled for {} \
         (it is missing from its parent's cgroup.subtree_control)",
        .path.display()
    )]
    ControllerUnavailable {
        resource: String,
        controller: String,
        path: PathBuf,
    },

    /// cgroup v2: the kernel refused to enable controllers in an ancestor's
    /// cgroup.subtree_control, typically because that cgroup holds processes itself.
    #[error(
        "writing {value:?} to {}: {}{}",
        .path.display(), IoMsg(.source), SubtreeHint(.source)
    )]
    SubtreeControl {
        path: PathBuf,
        value: String,
        #[source]
        source: io::Error,
    },

    /// A resource value that no kernel accepts (or that this cgroup version cannot express).
    #[error("invalid {resource}: {reason}")]
    InvalidResource { resource: String, reason: String },

    /// kill(2) failed for a process of the cgroup.
    #[error("sending signal {signal} to pid {pid}: {}", IoMsg(.source))]
    Signal {
        pid: i32,
        signal: i32,
        #[source]
        source: io::Error,
    },

    /// The freezer did not reach the wanted state in time.
    #[error("{}: still {state:?} after {waited_ms} ms", .path.display())]
    FreezeTimeout {
        path: PathBuf,
        state: String,
        waited_ms: u64,
    },

    /// bpf(2) failed while installing the device program of a cgroup v2 container.
    #[error("{op} for {}: {}{}", .path.display(), IoMsg(.source), VerifierLog(.log))]
    Bpf {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
        log: String,
    },

    /// Several independent steps failed (teardown tries them all).
    #[error("{}", JoinErrors(.0))]
    Multiple(Vec<CgroupError>),
}

impl CgroupError {
    /// Folds a list of failures: none → Ok, one → itself, more → [`CgroupError::Multiple`].
    pub(super) fn from_list(mut errors: Vec<CgroupError>) -> Result<(), CgroupError> {
        match errors.len() {
            0 => Ok(()),
            1 => Err(errors.remove(0)),
            _ => Err(CgroupError::Multiple(errors)),
        }
    }
}

/// An io::Error as the kernel's words, lower-cased ("invalid argument"), without "(os error 22)".
struct IoMsg<'a>(&'a io::Error);

impl fmt::Display for IoMsg<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.raw_os_error() {
            Some(code) => {
                let desc = nix::errno::Errno::from_raw(code).desc();
                let mut chars = desc.chars();
                match chars.next() {
                    Some(first) => write!(f, "{}{}", first.to_lowercase(), chars.as_str()),
                    None => write!(f, "{}", self.0),
                }
            }
            None => write!(f, "{}", self.0),
        }
    }
}

/// Why EBUSY on cgroup.subtree_control, and what to do about it.
struct SubtreeHint<'a>(&'a io::Error);

impl fmt::Display for SubtreeHint<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.raw_os_error() == Some(libc::EBUSY) {
            f.write_str(
                " (cgroup v2 lets a cgroup hand controllers down to its children only while \
                 it has no processes of its own: give containers an absolute cgroups path / \
                 --cgroup-parent outside the cgroup that pier runs in)",
            )
        } else {
            Ok(())
        }
    }
}

struct VerifierLog<'a>(&'a str);

impl fmt::Display for VerifierLog<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let log = self.0.trim();
        if log.is_empty() {
            Ok(())
        } else {
            write!(f, " (verifier: {log})")
        }
    }
}

struct JoinErrors<'a>(&'a [CgroupError]);

impl fmt::Display for JoinErrors<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_error_names_path_value_and_errno() {
        let e = CgroupError::Write {
            path: PathBuf::from("/sys/fs/cgroup/memory/x/memory.limit_in_bytes"),
            value: "12zz".into(),
            source: io::Error::from_raw_os_error(libc::EINVAL),
        };
        assert_eq!(
            e.to_string(),
            "writing \"12zz\" to /sys/fs/cgroup/memory/x/memory.limit_in_bytes: invalid argument"
        );
    }

    #[test]
    fn subtree_refusal_explains_ebusy() {
        let e = CgroupError::SubtreeControl {
            path: PathBuf::from("/sys/fs/cgroup/a/cgroup.subtree_control"),
            value: "+memory".into(),
            source: io::Error::from_raw_os_error(libc::EBUSY),
        };
        let msg = e.to_string();
        assert!(
            msg.starts_with(
                "writing \"+memory\" to /sys/fs/cgroup/a/cgroup.subtree_control: device or resource busy (cgroup v2"
            ),
            "{msg}"
        );
    }

    #[test]
    fn multiple_joins_and_from_list_folds() {
        assert!(CgroupError::from_list(vec![]).is_ok());
        let one = CgroupError::from_list(vec![CgroupError::Detect("a".into())]);
        assert!(matches!(one, Err(CgroupError::Detect(_))));
        let two = CgroupError::from_list(vec![
            CgroupError::Detect("a".into()),
            CgroupError::Detect("b".into()),
        ]);
        let msg = two.err().map(|e| e.to_string()).unwrap_or_default();
        assert_eq!(
            msg,
            "detecting the cgroup layout: a; detecting the cgroup layout: b"
        );
    }
}
