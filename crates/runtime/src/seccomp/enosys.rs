//! The ENOSYS stub: syscalls newer than the profile get `ENOSYS`, not the default action.
//!
//! A profile's default action (usually `ERRNO(EPERM)`) is meant for syscalls it chose to
//! deny, but it also hits syscalls that did not exist when the profile (or libseccomp) was
//! written. C libraries probe new syscalls (clone3, fchmodat2, ...) and fall back to older
//! ones only on `ENOSYS`, so an `EPERM` there breaks programs. As runc does, a short program
//! goes in front of libseccomp's: per architecture in the filter, a syscall number above the
//! largest one the profile names returns `ENOSYS`; everything else falls through.

use libseccomp::ScmpSyscall;

use super::SeccompError;
use super::arch::{ArchInfo, X32_SYSCALL_BIT};
use super::bpf;
use super::build::Built;

/// The x86-64 AUDIT_ARCH, shared by the x86-64 and x32 ABIs.
const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;

/// Largest syscall numbers the profile names, for the ABIs behind one AUDIT_ARCH value.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Group {
    audit: u32,
    /// The ABI's own numbers (x86-64 for the shared value).
    plain: Option<u32>,
    /// x32 numbers (with the x32 bit), only for the x86-64 value.
    x32: Option<u32>,
}

impl Group {
    /// x86-64 tells its two ABIs apart by a bit of the syscall number.
    fn splits_x32(&self) -> bool {
        self.audit == AUDIT_ARCH_X86_64
    }

    fn len(&self) -> usize {
        if self.splits_x32() { 4 } else { 2 }
    }
}

/// The stub for `built`, empty when nothing needs it.
pub(super) fn stub(built: &Built<'_>) -> Result<Vec<libc::sock_filter>, SeccompError> {
    if built.permissive_default {
        return Ok(Vec::new()); // Unknown syscalls run anyway.
    }
    let groups = groups(&built.arches, &built.names);
    if groups.is_empty() {
        return Ok(Vec::new());
    }
    assemble(&groups)
}

/// One group per AUDIT_ARCH value that has something to check.
fn groups(arches: &[ArchInfo], names: &[&str]) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    for info in arches {
        let Some(last) = largest(*info, names) else {
            continue;
        };
        let index = match groups.iter().position(|g| g.audit == info.audit) {
            Some(index) => index,
            None => {
                groups.push(Group {
                    audit: info.audit,
                    ..Group::default()
                });
                groups.len() - 1
            }
        };
        let group = &mut groups[index];
        if info.x32 {
            group.x32 = Some(last);
        } else {
            group.plain = Some(last);
        }
    }
    groups
}

/// The largest real syscall number (not one of libseccomp's negative pseudo numbers) that
/// the profile names for this architecture.
fn largest(info: ArchInfo, names: &[&str]) -> Option<u32> {
    names
        .iter()
        .filter_map(|name| ScmpSyscall::from_name_by_arch(name, info.scmp).ok())
        .filter_map(|syscall| u32::try_from(syscall.as_raw_syscall()).ok())
        .map(|nr| if info.x32 { nr | X32_SYSCALL_BIT } else { nr })
        .max()
}

/// Lays the stub out:
///
/// ```text
///       ld  arch
///       jeq AUDIT_g, block_g          (one per group)
///       ja  filter
/// block ld  nr
///      [jset X32_BIT, x32check]       (x86-64 only)
///       jgt last, enosys, filter      (or ja filter when the ABI has no bound)
///      [jgt last32, enosys, filter]   (x86-64 only)
/// enosys: ret ERRNO(ENOSYS)
/// filter: libseccomp's program
/// ```
fn assemble(groups: &[Group]) -> Result<Vec<libc::sock_filter>, SeccompError> {
    let dispatch = groups.len() + 2;
    let enosys = dispatch + groups.iter().map(Group::len).sum::<usize>();
    let filter = enosys + 1;
    let mut out = Vec::with_capacity(filter);
    out.push(bpf::load(bpf::DATA_ARCH));
    let mut block = dispatch;
    for group in groups {
        out.push(bpf::jeq(group.audit, rel(out.len(), block, filter)?, 0));
        block += group.len();
    }
    out.push(bpf::ja(jump(out.len(), filter)));
    for group in groups {
        out.push(bpf::load(bpf::DATA_NR));
        if group.splits_x32() {
            out.push(bpf::jset(X32_SYSCALL_BIT, 1, 0));
            out.push(check(group.plain, out.len(), enosys, filter)?);
            out.push(check(group.x32, out.len(), enosys, filter)?);
        } else {
            out.push(check(group.plain, out.len(), enosys, filter)?);
        }
    }
    out.push(bpf::ret(libc::SECCOMP_RET_ERRNO | libc::ENOSYS as u32));
    debug_assert_eq!(out.len(), filter);
    Ok(out)
}

/// `nr > last ? ENOSYS : filter`, or straight to the filter when there is no bound.
fn check(
    last: Option<u32>,
    at: usize,
    enosys: usize,
    filter: usize,
) -> Result<libc::sock_filter, SeccompError> {
    Ok(match last {
        Some(last) => bpf::jgt(last, rel(at, enosys, filter)?, rel(at, filter, filter)?),
        None => bpf::ja(jump(at, filter)),
    })
}

/// The conditional-jump offset from the instruction at `at` to `to`.
fn rel(at: usize, to: usize, len: usize) -> Result<u8, SeccompError> {
    u8::try_from(to - at - 1).map_err(|_| SeccompError::TooLong { len, max: 256 })
}

/// The unconditional-jump offset from the instruction at `at` to `to`.
fn jump(at: usize, to: usize) -> u32 {
    // The stub has a few dozen instructions at most.
    u32::try_from(to - at - 1).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const AUDIT_ARCH_I386: u32 = 0x4000_0003;
    const ENOSYS: u32 = libc::SECCOMP_RET_ERRNO | libc::ENOSYS as u32;

    /// Runs the stub on (arch, nr): Some(return value), or None when it falls through to
    /// the filter that follows it.
    fn run(stub: &[libc::sock_filter], arch: u32, nr: u32) -> Option<u32> {
        let mut pc = 0;
        let mut a = 0;
        while let Some(insn) = stub.get(pc) {
            pc += 1;
            let (jt, jf) = (usize::from(insn.jt), usize::from(insn.jf));
            match insn.code {
                0x20 => a = if insn.k == bpf::DATA_ARCH { arch } else { nr },
                0x15 => pc += if a == insn.k { jt } else { jf },
                0x25 => pc += if a > insn.k { jt } else { jf },
                0x45 => pc += if a & insn.k != 0 { jt } else { jf },
                0x05 => pc += insn.k as usize,
                0x06 => return Some(insn.k),
                code => panic!("unexpected opcode {code:#x}"),
            }
        }
        assert_eq!(pc, stub.len(), "jumped past the end of the stub");
        None
    }

    #[test]
    fn x86_family_bounds_each_abi() {
        let groups = [
            Group {
                audit: AUDIT_ARCH_X86_64,
                plain: Some(450),
                x32: Some(X32_SYSCALL_BIT | 547),
            },
            Group {
                audit: AUDIT_ARCH_I386,
                plain: Some(460),
                x32: None,
            },
        ];
        let stub = assemble(&groups).unwrap();
        assert_eq!(run(&stub, AUDIT_ARCH_X86_64, 39), None);
        assert_eq!(run(&stub, AUDIT_ARCH_X86_64, 450), None);
        assert_eq!(run(&stub, AUDIT_ARCH_X86_64, 451), Some(ENOSYS));
        assert_eq!(run(&stub, AUDIT_ARCH_X86_64, X32_SYSCALL_BIT | 39), None);
        assert_eq!(
            run(&stub, AUDIT_ARCH_X86_64, X32_SYSCALL_BIT | 548),
            Some(ENOSYS)
        );
        assert_eq!(run(&stub, AUDIT_ARCH_I386, 460), None);
        assert_eq!(run(&stub, AUDIT_ARCH_I386, 461), Some(ENOSYS));
        // An architecture the stub does not know goes to libseccomp (and its bad-arch action).
        assert_eq!(run(&stub, 0xc000_00b7, 5000), None);
    }

    #[test]
    fn x86_64_without_x32_leaves_x32_numbers_to_the_filter() {
        let groups = [Group {
            audit: AUDIT_ARCH_X86_64,
            plain: Some(450),
            x32: None,
        }];
        let stub = assemble(&groups).unwrap();
        assert_eq!(run(&stub, AUDIT_ARCH_X86_64, 1000), Some(ENOSYS));
        assert_eq!(run(&stub, AUDIT_ARCH_X86_64, X32_SYSCALL_BIT | 1000), None);
    }

    #[test]
    fn groups_come_from_the_names_libseccomp_knows() {
        let native = super::super::arch::native().unwrap();
        let groups = groups(&[native], &["getpid", "no_such_syscall"]);
        let getpid = ScmpSyscall::from_name("getpid").unwrap().as_raw_syscall();
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].plain, u32::try_from(getpid).ok());
        assert!(super::groups(&[native], &["no_such_syscall"]).is_empty());
    }
}
