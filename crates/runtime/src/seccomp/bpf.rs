//! Classic BPF: instruction helpers, and reading libseccomp's exported program back.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};

use libseccomp::ScmpFilterContext;
use rustix::fs::{MemfdFlags, memfd_create};

use super::SeccompError;

/// The kernel's limit on a filter's length (BPF_MAXINSNS).
pub(super) const MAX_INSNS: usize = 4096;

/// Size of one exported `struct sock_filter`.
const INSN_SIZE: usize = 8;

// Opcodes, as in <linux/bpf_common.h>.
const BPF_LD: u16 = 0x00;
const BPF_JMP: u16 = 0x05;
const BPF_RET: u16 = 0x06;
const BPF_W: u16 = 0x00;
const BPF_ABS: u16 = 0x20;
const BPF_K: u16 = 0x00;
const BPF_JA: u16 = 0x00;
const BPF_JEQ: u16 = 0x10;
const BPF_JGT: u16 = 0x20;
const BPF_JSET: u16 = 0x40;

/// Offsets in `struct seccomp_data`.
pub(super) const DATA_NR: u32 = 0;
pub(super) const DATA_ARCH: u32 = 4;

/// `A = seccomp_data[offset]` (32 bits).
pub(super) fn load(offset: u32) -> libc::sock_filter {
    insn(BPF_LD | BPF_W | BPF_ABS, 0, 0, offset)
}

/// `if A == k goto +jt else goto +jf`.
pub(super) fn jeq(k: u32, jt: u8, jf: u8) -> libc::sock_filter {
    insn(BPF_JMP | BPF_JEQ | BPF_K, jt, jf, k)
}

/// `if A > k goto +jt else goto +jf`.
pub(super) fn jgt(k: u32, jt: u8, jf: u8) -> libc::sock_filter {
    insn(BPF_JMP | BPF_JGT | BPF_K, jt, jf, k)
}

/// `if A & k goto +jt else goto +jf`.
pub(super) fn jset(k: u32, jt: u8, jf: u8) -> libc::sock_filter {
    insn(BPF_JMP | BPF_JSET | BPF_K, jt, jf, k)
}

/// `goto +k`.
pub(super) fn ja(k: u32) -> libc::sock_filter {
    insn(BPF_JMP | BPF_JA, 0, 0, k)
}

/// `return k`.
pub(super) fn ret(k: u32) -> libc::sock_filter {
    insn(BPF_RET | BPF_K, 0, 0, k)
}

fn insn(code: u16, jt: u8, jf: u8, k: u32) -> libc::sock_filter {
    libc::sock_filter { code, jt, jf, k }
}

/// Exports the filter's BPF through a memfd and reads the instructions back.
pub(super) fn export(ctx: &ScmpFilterContext) -> Result<Vec<libc::sock_filter>, SeccompError> {
    let fd = memfd_create("pier-seccomp", MemfdFlags::CLOEXEC).map_err(|errno| {
        SeccompError::Export {
            op: "memfd_create",
            source: errno.into(),
        }
    })?;
    let mut file = File::from(fd);
    ctx.export_bpf(&file)
        .map_err(|source| SeccompError::Libseccomp {
            op: "export the filter as BPF",
            source,
        })?;
    file.seek(SeekFrom::Start(0))
        .map_err(|source| SeccompError::Export {
            op: "rewind the memfd",
            source,
        })?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)
        .map_err(|source| SeccompError::Export {
            op: "read the memfd",
            source,
        })?;
    decode(&bytes)
}

/// Splits libseccomp's output into `sock_filter`s (native endianness, as the kernel wants).
fn decode(bytes: &[u8]) -> Result<Vec<libc::sock_filter>, SeccompError> {
    let chunks = bytes.chunks_exact(INSN_SIZE);
    if !chunks.remainder().is_empty() {
        return Err(SeccompError::Export {
            op: "decode the program",
            source: std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "{} bytes is not a whole number of instructions",
                    bytes.len()
                ),
            ),
        });
    }
    Ok(chunks
        .map(|c| libc::sock_filter {
            code: u16::from_ne_bytes([c[0], c[1]]),
            jt: c[2],
            jf: c[3],
            k: u32::from_ne_bytes([c[4], c[5], c[6], c[7]]),
        })
        .collect())
}
