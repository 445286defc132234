//! cgroup v2 device control: the device rules compiled to a `BPF_PROG_TYPE_CGROUP_DEVICE`
//! program by a small assembler of our own, loaded with bpf(2) and attached to the
//! container's cgroup as `BPF_CGROUP_DEVICE` (replacing any program attached there before).
//!
//! The program sees `struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }`,
//! where `access_type` is `(access << 16) | type`, and returns 1 to allow, 0 to deny. Rules
//! are checked from the last to the first; the first that matches decides; none: deny.

use std::ffi::c_void;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use super::CgroupError;
use super::resources::{ACC_ALL, DevType, DeviceRule};

/// One eBPF instruction (`struct bpf_insn`).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Insn {
    code: u8,
    /// dst in the low nibble, src in the high one.
    regs: u8,
    off: i16,
    imm: i32,
}

// Registers.
const R0: u8 = 0;
const R1: u8 = 1;
const R2: u8 = 2;
const R3: u8 = 3;
const R4: u8 = 4;
const R5: u8 = 5;

// Opcodes (class | op | source), from linux/bpf.h and bpf_common.h.
const LDX_MEM_W: u8 = 0x01 | 0x60; // BPF_LDX | BPF_MEM | BPF_W
const ALU32_AND_K: u8 = 0x04 | 0x50; // BPF_ALU | BPF_AND | BPF_K
const ALU32_RSH_K: u8 = 0x04 | 0x70; // BPF_ALU | BPF_RSH | BPF_K
const ALU64_MOV_K: u8 = 0x07 | 0xb0; // BPF_ALU64 | BPF_MOV | BPF_K
const ALU64_MOV_X: u8 = 0x07 | 0xb0 | 0x08; // BPF_ALU64 | BPF_MOV | BPF_X
const JMP_JEQ_K: u8 = 0x05 | 0x10; // BPF_JMP | BPF_JEQ | BPF_K
const JMP_JNE_K: u8 = 0x05 | 0x50; // BPF_JMP | BPF_JNE | BPF_K
const JMP_EXIT: u8 = 0x05 | 0x90; // BPF_JMP | BPF_EXIT

// Device types in the context (BPF_DEVCG_DEV_*).
const DEV_BLOCK: i32 = 1;
const DEV_CHAR: i32 = 2;

const fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
    Insn {
        code,
        regs: (src << 4) | dst,
        off,
        imm,
    }
}

fn imm_u32(n: u32) -> Result<i32, CgroupError> {
    i32::try_from(n).map_err(|_| CgroupError::InvalidResource {
        resource: "device rule".into(),
        reason: format!("device number {n} is too large"),
    })
}

/// Compiles the rules (in OCI order: later rules override earlier ones) to a program.
pub(super) fn compile(rules: &[DeviceRule]) -> Result<Vec<Insn>, CgroupError> {
    let mut prog = vec![
        insn(LDX_MEM_W, R2, R1, 0, 0),       // r2 = ctx->access_type
        insn(ALU32_AND_K, R2, 0, 0, 0xffff), // r2 = type
        insn(LDX_MEM_W, R3, R1, 0, 0),       // r3 = ctx->access_type
        insn(ALU32_RSH_K, R3, 0, 0, 16),     // r3 = access
        insn(LDX_MEM_W, R4, R1, 4, 0),       // r4 = major
        insn(LDX_MEM_W, R5, R1, 8, 0),       // r5 = minor
    ];
    for rule in rules.iter().rev() {
        // Conditions jump to the end of this rule's block when they do not hold; the
        // offsets are filled in once the block's length is known.
        let mut block: Vec<Insn> = Vec::new();
        match rule.typ {
            DevType::All => {}
            DevType::Char => block.push(insn(JMP_JNE_K, R2, 0, 0, DEV_CHAR)),
            DevType::Block => block.push(insn(JMP_JNE_K, R2, 0, 0, DEV_BLOCK)),
        }
        let access = rule.access & ACC_ALL;
        if access != ACC_ALL {
            block.push(insn(ALU64_MOV_X, R1, R3, 0, 0));
            if rule.allow {
                // allow only if every requested bit is granted: (req & ~access) == 0
                block.push(insn(ALU32_AND_K, R1, 0, 0, i32::from(!access & ACC_ALL)));
                block.push(insn(JMP_JNE_K, R1, 0, 0, 0));
            } else {
                // deny if any requested bit is denied: (req & access) != 0
                block.push(insn(ALU32_AND_K, R1, 0, 0, i32::from(access)));
                block.push(insn(JMP_JEQ_K, R1, 0, 0, 0));
            }
        }
        if let Some(major) = rule.major {
            block.push(insn(JMP_JNE_K, R4, 0, 0, imm_u32(major)?));
        }
        if let Some(minor) = rule.minor {
            block.push(insn(JMP_JNE_K, R5, 0, 0, imm_u32(minor)?));
        }
        let unconditional = block.is_empty();
        block.push(insn(ALU64_MOV_K, R0, 0, 0, i32::from(rule.allow)));
        block.push(insn(JMP_EXIT, 0, 0, 0, 0));
        let len = block.len();
        for (i, ins) in block.iter_mut().enumerate() {
            if ins.code == JMP_JNE_K || ins.code == JMP_JEQ_K {
                // to the first instruction after the block
                ins.off = i16::try_from(len - i - 1).unwrap_or(i16::MAX);
            }
        }
        prog.extend(block);
        if unconditional {
            // Earlier rules can never be reached (and the verifier refuses dead code).
            return Ok(prog);
        }
    }
    prog.push(insn(ALU64_MOV_K, R0, 0, 0, 0));
    prog.push(insn(JMP_EXIT, 0, 0, 0, 0));
    Ok(prog)
}

// bpf(2) commands, types and flags.
const BPF_PROG_LOAD: libc::c_long = 5;
const BPF_PROG_ATTACH: libc::c_long = 8;
const BPF_PROG_DETACH: libc::c_long = 9;
const BPF_PROG_GET_FD_BY_ID: libc::c_long = 13;
const BPF_PROG_QUERY: libc::c_long = 16;
const BPF_PROG_TYPE_CGROUP_DEVICE: u32 = 15;
const BPF_CGROUP_DEVICE: u32 = 6;
const BPF_F_ALLOW_MULTI: u32 = 2;

/// `union bpf_attr` for BPF_PROG_LOAD, up to expected_attach_type (no implicit padding).
#[repr(C)]
#[derive(Default)]
struct ProgLoadAttr {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
    prog_name: [u8; 16],
    prog_ifindex: u32,
    expected_attach_type: u32,
}

/// `union bpf_attr` for BPF_PROG_ATTACH / BPF_PROG_DETACH.
#[repr(C)]
#[derive(Default)]
struct AttachAttr {
    target_fd: u32,
    attach_bpf_fd: u32,
    attach_type: u32,
    attach_flags: u32,
    replace_bpf_fd: u32,
}

/// `union bpf_attr` for BPF_PROG_QUERY, up to prog_cnt (the kernel's padding made explicit).
#[repr(C)]
#[derive(Default)]
struct QueryAttr {
    target_fd: u32,
    attach_type: u32,
    query_flags: u32,
    attach_flags: u32,
    prog_ids: u64,
    prog_cnt: u32,
    pad: u32,
}

/// `union bpf_attr` for BPF_PROG_GET_FD_BY_ID.
#[repr(C)]
#[derive(Default)]
struct GetFdAttr {
    prog_id: u32,
    next_id: u32,
    open_flags: u32,
}

/// bpf(2) with one of the attr structs above.
///
/// # Safety
/// `attr` must be a `#[repr(C)]` struct laid out as the kernel's `union bpf_attr` prefix for
/// `cmd`, with every pointer it holds valid for the duration of the call (for reads, and for
/// writes where the command writes back).
unsafe fn bpf<T>(cmd: libc::c_long, attr: &mut T) -> io::Result<libc::c_long> {
    let size = std::mem::size_of::<T>() as libc::c_long;
    // SAFETY: `attr` is a live, exclusively borrowed struct of `size` bytes; the caller
    // guarantees the pointers inside it; the kernel does not keep any of them.
    let r = unsafe { libc::syscall(libc::SYS_bpf, cmd, attr as *mut T as *mut c_void, size) };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

fn bpf_err(op: &'static str, path: &Path, source: io::Error, log: String) -> CgroupError {
    CgroupError::Bpf {
        op,
        path: path.to_path_buf(),
        source,
        log,
    }
}

fn fd_from_ret(r: libc::c_long) -> io::Result<OwnedFd> {
    let fd = i32::try_from(r).map_err(|_| io::Error::other("bpf(2) returned no fd"))?;
    // SAFETY: the kernel has just returned this new descriptor, which nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn load(insns: &[Insn], path: &Path) -> Result<OwnedFd, CgroupError> {
    const LICENSE: &[u8] = b"Apache-2.0\0";
    let mut name = [0u8; 16];
    name[..12].copy_from_slice(b"pier_devices");
    let insn_cnt = u32::try_from(insns.len()).map_err(|_| {
        bpf_err(
            "loading the device program",
            path,
            io::Error::other("program too long"),
            String::new(),
        )
    })?;
    let attempt = |log: Option<&mut Vec<u8>>| {
        let mut attr = ProgLoadAttr {
            prog_type: BPF_PROG_TYPE_CGROUP_DEVICE,
            insn_cnt,
            insns: insns.as_ptr() as u64,
            license: LICENSE.as_ptr() as u64,
            prog_name: name,
            ..Default::default()
        };
        if let Some(buf) = log {
            attr.log_level = 1;
            attr.log_size = u32::try_from(buf.len()).unwrap_or(u32::MAX);
            attr.log_buf = buf.as_mut_ptr() as u64;
        }
        // SAFETY: attr is BPF_PROG_LOAD's layout; insns, LICENSE and the log buffer outlive
        // the call, and log_size is the buffer's length.
        unsafe { bpf(BPF_PROG_LOAD, &mut attr) }
    };
    match attempt(None) {
        Ok(fd) => fd_from_ret(fd)
            .map_err(|e| bpf_err("loading the device program", path, e, String::new())),
        Err(first) => {
            // Again with the verifier's log, to say why.
            let mut buf = vec![0u8; 64 * 1024];
            let _ = attempt(Some(&mut buf));
            let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
            let log = String::from_utf8_lossy(&buf[..end]).into_owned();
            Err(bpf_err("loading the device program", path, first, log))
        }
    }
}

pub(super) fn query(cgroup: &File, path: &Path) -> Result<Vec<u32>, CgroupError> {
    let mut ids = vec![0u32; 64];
    loop {
        let mut attr = QueryAttr {
            target_fd: cgroup.as_raw_fd() as u32,
            attach_type: BPF_CGROUP_DEVICE,
            prog_ids: ids.as_mut_ptr() as u64,
            prog_cnt: ids.len() as u32,
            ..Default::default()
        };
        // SAFETY: attr is BPF_PROG_QUERY's layout; the kernel writes at most prog_cnt ids
        // into `ids`, which outlives the call.
        match unsafe { bpf(BPF_PROG_QUERY, &mut attr) } {
            Ok(_) => {
                ids.truncate(attr.prog_cnt as usize);
                return Ok(ids);
            }
            Err(e) if e.raw_os_error() == Some(libc::ENOSPC) && ids.len() < 4096 => {
                ids = vec![0u32; ids.len() * 4];
            }
            Err(e) => return Err(bpf_err("querying device programs", path, e, String::new())),
        }
    }
}

fn attach_or_detach(
    cmd: libc::c_long,
    cgroup: &File,
    prog: &OwnedFd,
    flags: u32,
) -> io::Result<()> {
    let mut attr = AttachAttr {
        target_fd: cgroup.as_raw_fd() as u32,
        attach_bpf_fd: prog.as_raw_fd() as u32,
        attach_type: BPF_CGROUP_DEVICE,
        attach_flags: flags,
        ..Default::default()
    };
    // SAFETY: attr is BPF_PROG_ATTACH/DETACH's layout and holds no pointers.
    unsafe { bpf(cmd, &mut attr) }.map(|_| ())
}

fn prog_fd_by_id(id: u32) -> io::Result<OwnedFd> {
    let mut attr = GetFdAttr {
        prog_id: id,
        ..Default::default()
    };
    // SAFETY: attr is BPF_PROG_GET_FD_BY_ID's layout and holds no pointers.
    let r = unsafe { bpf(BPF_PROG_GET_FD_BY_ID, &mut attr) }?;
    fd_from_ret(r)
}

/// Installs the device program for `rules` on the cgroup v2 directory `path`, then detaches
/// whatever device programs were attached there before (so there is never a moment without one).
pub(super) fn install(path: &Path, rules: &[DeviceRule]) -> Result<(), CgroupError> {
    let insns = compile(rules)?;
    let prog = load(&insns, path)?;
    let cgroup = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY | libc::O_CLOEXEC)
        .open(path)
        .map_err(|source| CgroupError::Read {
            path: path.to_path_buf(),
            source,
        })?;
    let old = query(&cgroup, path)?;
    attach_or_detach(BPF_PROG_ATTACH, &cgroup, &prog, BPF_F_ALLOW_MULTI)
        .map_err(|e| bpf_err("attaching the device program", path, e, String::new()))?;
    for id in old {
        let Ok(old_prog) = prog_fd_by_id(id) else {
            continue; // gone meanwhile
        };
        attach_or_detach(BPF_PROG_DETACH, &cgroup, &old_prog, 0)
            .map_err(|e| bpf_err("detaching an old device program", path, e, String::new()))?;
    }
    Ok(())
}

#[cfg(test)]
pub(super) mod tests {
    use super::super::resources::{ACC_MKNOD, ACC_READ, ACC_WRITE, device_rules};
    use super::*;

    /// Runs a compiled program on one request: an interpreter for the instructions the
    /// compiler emits, so that the rule semantics are tested without a kernel.
    pub(crate) fn eval(prog: &[Insn], typ: u32, major: u32, minor: u32, access: u32) -> u64 {
        let ctx = [(access << 16) | typ, major, minor];
        let mut r = [0u64; 11];
        let mut pc = 0usize;
        for _ in 0..10_000 {
            let i = prog[pc];
            let (dst, src) = ((i.regs & 0xf) as usize, (i.regs >> 4) as usize);
            let imm = i.imm as i64 as u64;
            let mut next = pc + 1;
            match i.code {
                LDX_MEM_W => {
                    assert_eq!(src, 1, "loads only from the context");
                    r[dst] = u64::from(ctx[(i.off / 4) as usize]);
                }
                ALU32_AND_K => r[dst] = (r[dst] as u32 & i.imm as u32) as u64,
                ALU32_RSH_K => r[dst] = ((r[dst] as u32) >> i.imm) as u64,
                ALU64_MOV_K => r[dst] = imm,
                ALU64_MOV_X => r[dst] = r[src],
                JMP_JEQ_K => {
                    if r[dst] == imm {
                        next = (pc as i64 + 1 + i64::from(i.off)) as usize;
                    }
                }
                JMP_JNE_K => {
                    if r[dst] != imm {
                        next = (pc as i64 + 1 + i64::from(i.off)) as usize;
                    }
                }
                JMP_EXIT => return r[0],
                other => panic!("unexpected opcode {other:#x}"),
            }
            pc = next;
        }
        panic!("program does not terminate")
    }

    fn rules(json: &str) -> Vec<DeviceRule> {
        let res: oci_spec::runtime::LinuxResources = serde_json::from_str(json).unwrap();
        device_rules(res.devices().as_deref()).unwrap()
    }

    const C: u32 = DEV_CHAR as u32;
    const B: u32 = DEV_BLOCK as u32;
    const R: u32 = ACC_READ as u32;
    const W: u32 = ACC_WRITE as u32;
    const M: u32 = ACC_MKNOD as u32;

    #[test]
    fn encoding_of_the_prologue() {
        let p = compile(&[]).unwrap();
        // ldxw r2, [r1+0]
        assert_eq!(
            p[0],
            Insn {
                code: 0x61,
                regs: 0x12,
                off: 0,
                imm: 0
            }
        );
        // w2 &= 0xffff
        assert_eq!(
            p[1],
            Insn {
                code: 0x54,
                regs: 0x02,
                off: 0,
                imm: 0xffff
            }
        );
        // w3 >>= 16
        assert_eq!(
            p[3],
            Insn {
                code: 0x74,
                regs: 0x03,
                off: 0,
                imm: 16
            }
        );
        // ldxw r5, [r1+8]
        assert_eq!(
            p[5],
            Insn {
                code: 0x61,
                regs: 0x15,
                off: 8,
                imm: 0
            }
        );
        // no rules: r0 = 0; exit
        assert_eq!(
            p[6],
            Insn {
                code: 0xb7,
                regs: 0,
                off: 0,
                imm: 0
            }
        );
        assert_eq!(
            p[7],
            Insn {
                code: 0x95,
                regs: 0,
                off: 0,
                imm: 0
            }
        );
        assert_eq!(eval(&p, C, 1, 3, R), 0);
    }

    #[test]
    fn default_docker_like_rules() {
        let p = compile(&rules(r#"{"devices":[{"allow":false,"access":"rwm"}]}"#)).unwrap();
        assert_eq!(eval(&p, C, 1, 3, R | W), 1); // /dev/null
        assert_eq!(eval(&p, C, 136, 7, R | W), 1); // a pty
        assert_eq!(eval(&p, C, 1, 11, R), 0); // /dev/kmsg
        assert_eq!(eval(&p, B, 8, 0, R), 0); // a disk
        assert_eq!(eval(&p, B, 8, 0, M), 1); // mknod anything
        assert_eq!(eval(&p, C, 4, 1, M), 1);
        assert_eq!(eval(&p, C, 4, 1, M | R), 0);
    }

    #[test]
    fn later_rules_override_and_access_is_partial() {
        let p = compile(&rules(
            r#"{"devices":[{"allow":false,"access":"rwm"},
                {"allow":true,"type":"b","major":8,"access":"r"},
                {"allow":false,"type":"b","major":8,"minor":1,"access":"r"},
                {"allow":false,"type":"c","major":1,"minor":3,"access":"w"}]}"#,
        ))
        .unwrap();
        assert_eq!(eval(&p, B, 8, 0, R), 1);
        assert_eq!(eval(&p, B, 8, 0, R | W), 0); // w not granted
        assert_eq!(eval(&p, B, 8, 1, R), 0); // overridden by the later deny
        assert_eq!(eval(&p, B, 9, 0, R), 0);
        // /dev/null: the defaults come last and allow it again, as with runc
        assert_eq!(eval(&p, C, 1, 3, W), 1);
    }

    #[test]
    fn allow_all_short_circuits() {
        let p = compile(&rules(
            r#"{"devices":[{"allow":false,"access":"rwm"},{"allow":true,"access":"rwm"}]}"#,
        ))
        .unwrap();
        assert_eq!(eval(&p, B, 8, 0, R | W | M), 1);
        assert_eq!(eval(&p, C, 1, 11, R), 1);
        // A rule matching everything as the last one: nothing after it (no dead code).
        let only = [DeviceRule {
            allow: true,
            typ: DevType::All,
            major: None,
            minor: None,
            access: ACC_ALL,
        }];
        let p = compile(&only).unwrap();
        assert_eq!(p.len(), 8);
        assert_eq!(p.last().unwrap().code, JMP_EXIT);
    }

    #[test]
    fn attr_layouts_match_the_kernel() {
        assert_eq!(std::mem::size_of::<Insn>(), 8);
        assert_eq!(std::mem::size_of::<ProgLoadAttr>(), 72);
        assert_eq!(std::mem::offset_of!(ProgLoadAttr, prog_name), 48);
        assert_eq!(std::mem::offset_of!(ProgLoadAttr, expected_attach_type), 68);
        assert_eq!(std::mem::size_of::<AttachAttr>(), 20);
        assert_eq!(std::mem::offset_of!(QueryAttr, prog_ids), 16);
        assert_eq!(std::mem::offset_of!(QueryAttr, prog_cnt), 24);
        assert_eq!(std::mem::size_of::<GetFdAttr>(), 12);
    }
}
