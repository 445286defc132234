//! Running pier from a sealed in-memory copy of itself before a process of ours joins a
//! container (CVE-2019-5736): a container that opens /proc/PID/exe of that process gets the
//! sealed copy, which cannot be written, never the binary on the host.

use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

use crate::error::{Error, Result};

const MEMFD_NAME: &str = "pier-sealed-exe";

/// Whether this process already runs from the sealed copy.
pub(crate) fn is_sealed() -> bool {
    std::fs::read_link("/proc/self/exe")
        .map(|p| {
            p.as_os_str()
                .as_bytes()
                .starts_with(format!("/memfd:{MEMFD_NAME}").as_bytes())
        })
        .unwrap_or(false)
}

/// Re-executes the current command line from a sealed memfd copy of the binary, unless it
/// already runs from one. Returns only if it did not need to, or on failure.
pub(crate) fn reexec_sealed() -> Result<()> {
    if is_sealed() {
        return Ok(());
    }
    let copy = sealed_copy()?;
    let args: Vec<CString> = std::env::args_os()
        .map(|a| CString::new(a.as_bytes()))
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| Error::InvalidArgument("argument contains a NUL byte".into()))?;
    let env: Vec<CString> = std::env::vars_os()
        .map(|(k, v)| {
            let mut kv = k.as_bytes().to_vec();
            kv.push(b'=');
            kv.extend_from_slice(v.as_bytes());
            CString::new(kv)
        })
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| Error::InvalidArgument("environment contains a NUL byte".into()))?;
    let err = nix::unistd::fexecve(&copy, &args, &env).unwrap_err();
    Err(Error::io("re-executing from sealed copy", err.into()))
}

fn sealed_copy() -> Result<OwnedFd> {
    let name = CString::new(MEMFD_NAME).map_err(|_| Error::InvalidArgument("memfd name".into()))?;
    const MFD_EXEC: libc::c_uint = 0x10;
    let base = libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING;
    // SAFETY: memfd_create with a valid C string; the result is a new descriptor or -1.
    let mut raw = unsafe { libc::memfd_create(name.as_ptr(), base | MFD_EXEC) };
    if raw < 0 {
        // Kernels before 6.3 do not know MFD_EXEC; their memfds are executable anyway.
        // SAFETY: as above.
        raw = unsafe { libc::memfd_create(name.as_ptr(), base) };
    }
    if raw < 0 {
        return Err(Error::io("memfd_create", std::io::Error::last_os_error()));
    }
    // SAFETY: raw is a new descriptor that nothing else owns.
    let memfd = unsafe { OwnedFd::from_raw_fd(raw) };
    let mut source = std::fs::File::open("/proc/self/exe")
        .map_err(|e| Error::path("opening", "/proc/self/exe", e))?;
    let mut target = std::fs::File::from(memfd.try_clone().map_err(|e| Error::io("dup memfd", e))?);
    std::io::copy(&mut source, &mut target).map_err(|e| Error::io("copying pier into memfd", e))?;
    let seals = libc::F_SEAL_SEAL | libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_WRITE;
    // SAFETY: fcntl F_ADD_SEALS on our own memfd with integer flags.
    if unsafe { libc::fcntl(memfd.as_raw_fd(), libc::F_ADD_SEALS, seals) } < 0 {
        return Err(Error::io("sealing memfd", std::io::Error::last_os_error()));
    }
    Ok(memfd)
}
