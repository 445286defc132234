//! Compiled filters kept on disk by the SHA-256 of everything that shapes them: compiling
//! Docker's profile with libseccomp costs more than the rest of a container's start, and the
//! same profile is compiled again for nearly every container.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use oci_spec::runtime::LinuxSeccomp;
use sha2::{Digest, Sha256};

use super::{SeccompError, SeccompProgram, compile};

const MAGIC: &[u8; 8] = b"PIERBPF1";

/// Compiles `spec`, or loads the program compiled for it before. A cache that cannot be read
/// or written is ignored: the filter is compiled instead.
pub fn compile_cached(
    spec: &LinuxSeccomp,
    cache_dir: &Path,
) -> Result<SeccompProgram, SeccompError> {
    let Some(path) = cache_path(spec, cache_dir) else {
        return compile(spec);
    };
    if let Some(program) = std::fs::read(&path).ok().and_then(|b| decode(&b)) {
        return Ok(program);
    }
    let program = compile(spec)?;
    let _ = store(&path, &encode(&program));
    Ok(program)
}

/// The profile, the libseccomp that resolves its names, and this very pier binary (so that a
/// rebuilt pier never reuses what an older compiler produced).
fn cache_path(spec: &LinuxSeccomp, cache_dir: &Path) -> Option<PathBuf> {
    let mut hash = Sha256::new();
    hash.update(serde_json::to_vec(spec).ok()?);
    let version = libseccomp::ScmpVersion::current().ok()?;
    hash.update(format!(
        "{}.{}.{}",
        version.major, version.minor, version.micro
    ));
    let exe = std::fs::metadata("/proc/self/exe").ok()?;
    hash.update(format!(
        "{}:{}:{}:{}",
        exe.dev(),
        exe.ino(),
        exe.size(),
        exe.mtime_nsec()
    ));
    hash.update(std::env::consts::ARCH);
    let digest = hash.finalize();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    Some(cache_dir.join(hex))
}

fn encode(program: &SeccompProgram) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + program.filter.len() * 8);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&program.flags.to_le_bytes());
    out.extend_from_slice(&(program.filter.len() as u32).to_le_bytes());
    for ins in &program.filter {
        out.extend_from_slice(&ins.code.to_le_bytes());
        out.push(ins.jt);
        out.push(ins.jf);
        out.extend_from_slice(&ins.k.to_le_bytes());
    }
    out
}

fn decode(bytes: &[u8]) -> Option<SeccompProgram> {
    let rest = bytes.strip_prefix(MAGIC)?;
    let flags = u32::from_le_bytes(rest.get(0..4)?.try_into().ok()?);
    let count = u32::from_le_bytes(rest.get(4..8)?.try_into().ok()?) as usize;
    let body = rest.get(8..)?;
    if body.len() != count.checked_mul(8)? || count == 0 || count > super::bpf::MAX_INSNS {
        return None;
    }
    let filter = body
        .chunks_exact(8)
        .map(|c| libc::sock_filter {
            code: u16::from_le_bytes([c[0], c[1]]),
            jt: c[2],
            jf: c[3],
            k: u32::from_le_bytes([c[4], c[5], c[6], c[7]]),
        })
        .collect();
    Some(SeccompProgram { filter, flags })
}

fn store(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn programs_round_trip_and_damage_is_refused() {
        let profile = crate::profile::default_seccomp(&crate::profile::default_capabilities());
        let program = compile(&profile).unwrap();
        let bytes = encode(&program);
        let back = decode(&bytes).unwrap();
        assert_eq!(back.len(), program.len());
        assert_eq!(back.flags, program.flags);
        assert!(
            back.filter
                .iter()
                .zip(&program.filter)
                .all(|(a, b)| (a.code, a.jt, a.jf, a.k) == (b.code, b.jt, b.jf, b.k))
        );
        assert!(decode(&bytes[..bytes.len() - 1]).is_none());
        assert!(decode(b"garbage").is_none());
    }

    #[test]
    fn the_second_compile_comes_from_the_cache() {
        let dir = tempfile::tempdir().unwrap();
        let profile = crate::profile::default_seccomp(&crate::profile::default_capabilities());
        let first = compile_cached(&profile, dir.path()).unwrap();
        let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(files.len(), 1);
        let second = compile_cached(&profile, dir.path()).unwrap();
        assert_eq!(first.len(), second.len());
        // A damaged entry is compiled again, not trusted.
        let path = files[0].as_ref().unwrap().path();
        std::fs::write(&path, b"PIERBPF1junk").unwrap();
        assert_eq!(
            compile_cached(&profile, dir.path()).unwrap().len(),
            first.len()
        );
    }
}
