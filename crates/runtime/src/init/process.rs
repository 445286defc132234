//! The last steps before the user's program runs, shared by a container's init and by `exec`:
//! working directory, rlimits, groups and user, capabilities, no_new_privs, seccomp, and a
//! descriptor table with nothing of the host left in it.

use std::convert::Infallible;
use std::ffi::{CString, OsStr};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::sys::resource::{Resource, setrlimit};
use nix::unistd::{Gid, Uid, chdir, setgroups, setresgid, setresuid};
use oci_spec::runtime::{PosixRlimitType, Process};

use crate::caps::CapPlan;
use crate::error::{Error, Result};
use crate::seccomp::SeccompProgram;
use crate::sys;

const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The process to run, prepared before the clone so the child only acts.
pub(crate) struct ProcessPlan {
    pub args: Vec<String>,
    pub env: Vec<String>,
    pub cwd: PathBuf,
    pub uid: u32,
    pub gid: u32,
    pub additional_gids: Vec<u32>,
    pub umask: Option<u32>,
    pub caps: Option<CapPlan>,
    pub no_new_privileges: bool,
    pub rlimits: Vec<(Resource, u64, u64)>,
    pub seccomp: Option<SeccompProgram>,
    pub terminal: bool,
    pub console_size: Option<(u16, u16)>,
    pub oom_score_adj: Option<i32>,
    /// Descriptors beyond stdio that the process keeps (runc's --preserve-fds).
    pub preserve_fds: u32,
}

impl ProcessPlan {
    pub fn from_spec(
        process: &Process,
        seccomp: Option<SeccompProgram>,
        preserve_fds: u32,
    ) -> Result<ProcessPlan> {
        let user = process.user();
        let rlimits = process
            .rlimits()
            .iter()
            .flatten()
            .map(|r| Ok((resource_of(r.typ())?, r.soft(), r.hard())))
            .collect::<Result<Vec<_>>>()?;
        Ok(ProcessPlan {
            args: process.args().clone().unwrap_or_default(),
            env: process.env().clone().unwrap_or_default(),
            cwd: process.cwd().clone(),
            uid: user.uid(),
            gid: user.gid(),
            additional_gids: user.additional_gids().clone().unwrap_or_default(),
            umask: user.umask(),
            caps: CapPlan::from_spec(process.capabilities().as_ref()),
            no_new_privileges: process.no_new_privileges().unwrap_or(false),
            rlimits,
            seccomp,
            terminal: process.terminal().unwrap_or(false),
            console_size: process
                .console_size()
                .map(|b| (b.height() as u16, b.width() as u16)),
            oom_score_adj: process.oom_score_adj(),
            preserve_fds,
        })
    }
}

fn resource_of(typ: PosixRlimitType) -> Result<Resource> {
    use PosixRlimitType as T;
    Ok(match typ {
        T::RlimitCpu => Resource::RLIMIT_CPU,
        T::RlimitFsize => Resource::RLIMIT_FSIZE,
        T::RlimitData => Resource::RLIMIT_DATA,
        T::RlimitStack => Resource::RLIMIT_STACK,
        T::RlimitCore => Resource::RLIMIT_CORE,
        T::RlimitRss => Resource::RLIMIT_RSS,
        T::RlimitNproc => Resource::RLIMIT_NPROC,
        T::RlimitNofile => Resource::RLIMIT_NOFILE,
        T::RlimitMemlock => Resource::RLIMIT_MEMLOCK,
        T::RlimitAs => Resource::RLIMIT_AS,
        T::RlimitLocks => Resource::RLIMIT_LOCKS,
        T::RlimitSigpending => Resource::RLIMIT_SIGPENDING,
        T::RlimitMsgqueue => Resource::RLIMIT_MSGQUEUE,
        T::RlimitNice => Resource::RLIMIT_NICE,
        T::RlimitRtprio => Resource::RLIMIT_RTPRIO,
        T::RlimitRttime => Resource::RLIMIT_RTTIME,
    })
}

/// Go's spelling of an errno ("no such file or directory"), which Docker users see.
pub(crate) fn errno_text(e: Errno) -> String {
    let desc = e.desc();
    let mut chars = desc.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => desc.to_owned(),
    }
}

fn step(what: &str, e: Errno) -> Error {
    Error::ContainerInit(format!("{what}: {}", errno_text(e)))
}

/// Applies everything and execs; returns only on failure, with the exit code to report
/// (127: not found, 126: not executable, 1: setup failed).
pub(crate) fn finalize_and_exec(p: &ProcessPlan) -> std::result::Result<Infallible, (Error, i32)> {
    let setup = |e: Error| (e, 1);
    let cwd_ok_as_root = chdir(&p.cwd).is_ok();
    for (resource, soft, hard) in &p.rlimits {
        setrlimit(*resource, *soft, *hard).map_err(|e| {
            setup(Error::ContainerInit(format!(
                "setrlimit {resource:?} to soft {soft} hard {hard}: {} (a hard limit cannot be raised without CAP_SYS_RESOURCE)",
                errno_text(e)
            )))
        })?;
    }
    if !p.no_new_privileges {
        // Without no_new_privs, installing a filter needs CAP_SYS_ADMIN: do it while we have it.
        install_seccomp(p).map_err(setup)?;
    }
    switch_user(p).map_err(setup)?;
    if !cwd_ok_as_root {
        chdir(&p.cwd).map_err(|e| setup(step(&format!("chdir to {}", p.cwd.display()), e)))?;
    }
    check_cwd_inside().map_err(setup)?;
    if p.no_new_privileges {
        nix::sys::prctl::set_no_new_privs().map_err(|e| setup(step("setting no_new_privs", e)))?;
    }
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(
        p.umask.unwrap_or(0o022) as libc::mode_t,
    ));
    let mut env = p.env.clone();
    if !env.iter().any(|kv| kv.starts_with("HOME=")) {
        env.push(format!("HOME={}", home_of(p.uid)));
    }
    let program = lookup(&p.args[0], &env)?;
    let argv = to_cstrings(&p.args).map_err(setup)?;
    let envp = to_cstrings(&env).map_err(setup)?;
    if p.no_new_privileges {
        install_seccomp(p).map_err(setup)?;
    }
    // The user's process outlives whoever parented it if it must; only setup dies with it.
    let _ = nix::sys::prctl::set_pdeathsig(None);
    sys::cloexec_from(3 + p.preserve_fds)
        .map_err(|e| setup(step("closing inherited descriptors", e)))?;
    let err = nix::unistd::execve(&program, &argv, &envp).unwrap_err();
    Err(exec_failure(&p.args[0], &program, err))
}

fn install_seccomp(p: &ProcessPlan) -> Result<()> {
    if let Some(program) = &p.seccomp {
        program
            .install()
            .map_err(|e| step("installing seccomp filter", e))?;
    }
    Ok(())
}

fn switch_user(p: &ProcessPlan) -> Result<()> {
    if let Some(caps) = &p.caps {
        caps.drop_bounding()?;
    }
    let gids: Vec<Gid> = p
        .additional_gids
        .iter()
        .map(|g| Gid::from_raw(*g))
        .collect();
    setgroups(&gids).map_err(|e| step("setting supplementary groups", e))?;
    let gid = Gid::from_raw(p.gid);
    setresgid(gid, gid, gid).map_err(|e| step(&format!("setting gid {}", p.gid), e))?;
    let keep = p.caps.is_some() && p.uid != 0;
    if keep {
        nix::sys::prctl::set_keepcaps(true).map_err(|e| step("keeping capabilities", e))?;
    }
    let uid = Uid::from_raw(p.uid);
    setresuid(uid, uid, uid).map_err(|e| step(&format!("setting uid {}", p.uid), e))?;
    if keep {
        nix::sys::prctl::set_keepcaps(false).map_err(|e| step("keeping capabilities", e))?;
    }
    if let Some(caps) = &p.caps {
        caps.apply()?;
    }
    Ok(())
}

/// A working directory reached through a descriptor of the host (/proc/self/fd/N) lies outside
/// the container's root; the kernel then reports it as "(unreachable)" or fails getcwd.
fn check_cwd_inside() -> Result<()> {
    match nix::unistd::getcwd() {
        Ok(cwd) if cwd.is_absolute() => Ok(()),
        Ok(cwd) => Err(Error::ContainerInit(format!(
            "working directory {} is outside the container's root",
            cwd.display()
        ))),
        Err(e) => Err(Error::ContainerInit(format!(
            "working directory is outside the container's root: {}",
            errno_text(e)
        ))),
    }
}

fn to_cstrings(items: &[String]) -> Result<Vec<CString>> {
    items
        .iter()
        .map(|s| {
            CString::new(s.as_bytes())
                .map_err(|_| Error::InvalidSpec(format!("{s:?} contains a NUL byte")))
        })
        .collect()
}

fn home_of(uid: u32) -> String {
    std::fs::read_to_string("/etc/passwd")
        .ok()
        .and_then(|passwd| {
            passwd.lines().find_map(|line| {
                let fields: Vec<&str> = line.split(':').collect();
                (fields.len() >= 6 && fields[2].parse() == Ok(uid)).then(|| fields[5].to_owned())
            })
        })
        .filter(|home| !home.is_empty())
        .unwrap_or_else(|| "/".to_owned())
}

/// Finds the program as Go's exec.LookPath does: a name with a slash is used as is, others are
/// searched in the process's PATH (or the default one).
fn lookup(name: &str, env: &[String]) -> std::result::Result<CString, (Error, i32)> {
    let not_found = || {
        (
            Error::ContainerInit(format!(
                "exec: \"{name}\": executable file not found in $PATH"
            )),
            127,
        )
    };
    let cstring = |p: &Path| {
        CString::new(p.as_os_str().as_bytes()).map_err(|_| {
            (
                Error::InvalidSpec(format!("{name:?} contains a NUL byte")),
                1,
            )
        })
    };
    if name.is_empty() {
        return Err(not_found());
    }
    if name.contains('/') {
        return match std::fs::metadata(name) {
            Ok(_) => cstring(Path::new(name)),
            Err(e) => Err((
                Error::ContainerInit(format!(
                    "exec: \"{name}\": stat {name}: {}",
                    errno_text(Errno::from_raw(e.raw_os_error().unwrap_or(libc::ENOENT)))
                )),
                127,
            )),
        };
    }
    let path = env
        .iter()
        .rev()
        .find_map(|kv| kv.strip_prefix("PATH="))
        .unwrap_or(DEFAULT_PATH);
    for dir in path.split(':') {
        let dir = if dir.is_empty() { "." } else { dir };
        let candidate = Path::new(dir).join(OsStr::new(name));
        if is_executable_file(&candidate) {
            return cstring(&candidate);
        }
    }
    Err(not_found())
}

fn is_executable_file(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

fn exec_failure(name: &str, program: &CString, err: Errno) -> (Error, i32) {
    let shown = program.to_string_lossy();
    let code = match err {
        Errno::ENOENT => 127,
        _ => 126,
    };
    let message = match err {
        Errno::ENOENT => format!("exec: \"{name}\": stat {shown}: no such file or directory"),
        other => format!("exec: \"{shown}\": {}", errno_text(other)),
    };
    (Error::ContainerInit(message), code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_text_reads_like_go() {
        assert_eq!(errno_text(Errno::ENOENT), "no such file or directory");
        assert_eq!(errno_text(Errno::EACCES), "permission denied");
    }

    #[test]
    fn lookup_reports_missing_programs_like_docker() {
        let env = vec!["PATH=/nonexistent".to_owned()];
        let (err, code) = lookup("nope", &env).unwrap_err();
        assert_eq!(
            err.to_string(),
            "exec: \"nope\": executable file not found in $PATH"
        );
        assert_eq!(code, 127);
        let (err, code) = lookup("/nope/x", &env).unwrap_err();
        assert_eq!(
            err.to_string(),
            "exec: \"/nope/x\": stat /nope/x: no such file or directory"
        );
        assert_eq!(code, 127);
    }

    #[test]
    fn lookup_searches_path() {
        let env = vec!["PATH=/nonexistent:/bin:/usr/bin".to_owned()];
        let found = lookup("sh", &env).unwrap();
        assert!(found.to_str().unwrap().ends_with("/sh"));
    }
}
