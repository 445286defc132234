//! Seccomp: compiles config.json's `linux.seccomp` into a classic BPF program, and installs it.
//!
//! Owns the translation of an OCI [`LinuxSeccomp`] into a filter (through libseccomp, with
//! runc's semantics: unknown syscall names skipped, rules equal to the default action dropped,
//! several conditions on one argument split into separate rules, syscalls newer than the
//! profile answered with `ENOSYS`), and the allocation-free installation of that filter from
//! a freshly cloned container init. It never decides *which* profile a container gets (that
//! is the `profile` module's data and the engine's choice) and never touches no_new_privs.

mod arch;
mod bpf;
mod build;
mod cache;
mod enosys;
#[cfg(test)]
mod tests;

pub use cache::compile_cached;

use std::fmt;
use std::path::PathBuf;

use nix::errno::Errno;
use oci_spec::runtime::{LinuxSeccomp, LinuxSeccompFilterFlag};

/// Why a seccomp profile could not be compiled.
#[derive(Debug, thiserror::Error)]
pub enum SeccompError {
    /// `SCMP_ACT_NOTIFY` needs a seccomp agent, which pier does not run.
    #[error(
        "seccomp action SCMP_ACT_NOTIFY ({context}) is not supported: pier runs no seccomp agent"
    )]
    NotifyUnsupported {
        /// Where the action appeared: the default action or the rule's syscalls.
        context: String,
    },
    /// `listenerPath` names a seccomp agent's socket, which pier does not support.
    #[error("seccomp listenerPath {path:?} is not supported: pier runs no seccomp agent")]
    ListenerUnsupported {
        /// The listener socket from the profile.
        path: PathBuf,
    },
    /// An `errnoRet`/`defaultErrnoRet` that a filter cannot return.
    #[error("seccomp {action} return value {value} for {context} is out of range (0..=65535)")]
    InvalidReturnValue {
        /// The action that carries the value (SCMP_ACT_ERRNO or SCMP_ACT_TRACE).
        action: &'static str,
        /// The value from the profile.
        value: u32,
        /// The default action or the rule's syscalls.
        context: String,
    },
    /// A condition on an argument index a syscall does not have.
    #[error("seccomp rule for {syscalls}: argument index {index} is out of range (0..=5)")]
    InvalidArgIndex {
        /// The rule's syscall names.
        syscalls: String,
        /// The index from the profile.
        index: usize,
    },
    /// An architecture that this host's libseccomp cannot filter.
    #[error("seccomp architecture {arch} is not supported by this host's libseccomp")]
    UnsupportedArch {
        /// The architecture, as spelled in config.json.
        arch: String,
        /// libseccomp's answer.
        #[source]
        source: libseccomp::error::SeccompError,
    },
    /// libseccomp refused a rule (conflicting actions, bad condition...).
    #[error("seccomp rule {action} for syscall {syscall} was refused by libseccomp")]
    Rule {
        /// The syscall the rule is for.
        syscall: String,
        /// The rule's action, as spelled in config.json.
        action: String,
        /// libseccomp's answer.
        #[source]
        source: libseccomp::error::SeccompError,
    },
    /// The compiled program is longer than the kernel accepts.
    #[error(
        "compiled seccomp filter has {len} instructions, more than the kernel's limit of {max}"
    )]
    TooLong {
        /// Instructions in the compiled program.
        len: usize,
        /// The kernel's limit (BPF_MAXINSNS).
        max: usize,
    },
    /// libseccomp failed for a reason other than the profile's content.
    #[error("libseccomp failed to {op}")]
    Libseccomp {
        /// What pier asked libseccomp to do.
        op: &'static str,
        /// libseccomp's answer.
        #[source]
        source: libseccomp::error::SeccompError,
    },
    /// Exporting the program from libseccomp failed.
    #[error("cannot export the seccomp filter: {op}")]
    Export {
        /// The step that failed.
        op: &'static str,
        /// The system's answer.
        #[source]
        source: std::io::Error,
    },
}

impl SeccompError {
    /// True when the profile's content is at fault (a client error), false for system failures.
    pub fn is_invalid_input(&self) -> bool {
        match self {
            Self::NotifyUnsupported { .. }
            | Self::ListenerUnsupported { .. }
            | Self::InvalidReturnValue { .. }
            | Self::InvalidArgIndex { .. }
            | Self::UnsupportedArch { .. }
            | Self::Rule { .. }
            | Self::TooLong { .. } => true,
            Self::Libseccomp { .. } | Self::Export { .. } => false,
        }
    }
}

/// A compiled filter, ready to be installed from a freshly cloned container init without allocating.
#[derive(Clone)]
pub struct SeccompProgram {
    filter: Vec<libc::sock_filter>,
    flags: libc::c_uint,
}

/// Compiles an OCI LinuxSeccomp for this host, using libseccomp and exporting the BPF.
///
/// The export goes through a memfd and is read back as `sock_filter` instructions; an
/// `ENOSYS` stub is put in front of libseccomp's program (as runc does) unless the default
/// action already allows everything unknown.
pub fn compile(spec: &LinuxSeccomp) -> Result<SeccompProgram, SeccompError> {
    if let Some(path) = spec.listener_path() {
        return Err(SeccompError::ListenerUnsupported { path: path.clone() });
    }
    let built = build::build(spec)?;
    let mut filter = enosys::stub(&built)?;
    filter.extend(bpf::export(&built.ctx)?);
    let max = bpf::MAX_INSNS;
    if filter.len() > max {
        return Err(SeccompError::TooLong {
            len: filter.len(),
            max,
        });
    }
    Ok(SeccompProgram {
        filter,
        flags: filter_flags(spec.flags().as_deref()),
    })
}

/// Maps the spec's flags to seccomp(2) flags.
///
/// `SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV` only means something with a notify listener
/// (the kernel refuses it without one), and pier installs none, so it is dropped.
fn filter_flags(flags: Option<&[LinuxSeccompFilterFlag]>) -> libc::c_uint {
    flags.unwrap_or_default().iter().fold(0, |acc, flag| {
        let bit = match flag {
            LinuxSeccompFilterFlag::SeccompFilterFlagLog => libc::SECCOMP_FILTER_FLAG_LOG,
            LinuxSeccompFilterFlag::SeccompFilterFlagTsync => libc::SECCOMP_FILTER_FLAG_TSYNC,
            LinuxSeccompFilterFlag::SeccompFilterFlagSpecAllow => {
                libc::SECCOMP_FILTER_FLAG_SPEC_ALLOW
            }
            LinuxSeccompFilterFlag::SeccompFilterFlagWaitKillableRecv => 0,
        };
        // The flag values are small bit masks (1 << 0..=5): they fit a c_uint.
        acc | bit as libc::c_uint
    })
}

impl SeccompProgram {
    /// Installs the filter on the calling thread with seccomp(2) SECCOMP_SET_MODE_FILTER and
    /// the spec's flags (SECCOMP_FILTER_FLAG_LOG, _SPEC_ALLOW, _TSYNC).
    ///
    /// Does not allocate, so it may run in a child after clone(). The caller has already set
    /// no_new_privs or holds CAP_SYS_ADMIN. With TSYNC, a thread that cannot be synchronized
    /// is reported as `EAGAIN` (the kernel returns its thread id, which is not an errno).
    pub fn install(&self) -> Result<(), Errno> {
        let len = u16::try_from(self.filter.len()).map_err(|_| Errno::EINVAL)?;
        let prog = libc::sock_fprog {
            len,
            filter: self.filter.as_ptr().cast_mut(),
        };
        // SAFETY: `prog` points at `self.filter`, which is alive and unmodified for the whole
        // call; the kernel copies the instructions before returning and keeps no pointer.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_seccomp,
                libc::SECCOMP_SET_MODE_FILTER,
                self.flags,
                &raw const prog,
            )
        };
        match rc {
            0 => Ok(()),
            rc if rc < 0 => Err(Errno::last()),
            _ => Err(Errno::EAGAIN),
        }
    }

    /// Number of BPF instructions (for tests and diagnostics).
    pub fn len(&self) -> usize {
        self.filter.len()
    }

    /// True when the program has no instructions (never the case for a compiled profile).
    pub fn is_empty(&self) -> bool {
        self.filter.is_empty()
    }

    /// The seccomp(2) flags the program is installed with.
    pub fn flags(&self) -> u32 {
        self.flags
    }
}

impl fmt::Debug for SeccompProgram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SeccompProgram")
            .field("instructions", &self.filter.len())
            .field("flags", &format_args!("{:#x}", self.flags))
            .finish()
    }
}
