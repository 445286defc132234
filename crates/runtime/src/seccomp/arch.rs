//! Architectures: config.json's names, libseccomp's tokens and the kernel's AUDIT_ARCH values.

use libseccomp::ScmpArch;
use oci_spec::runtime::Arch;

/// The bit that marks an x32 syscall number on x86-64 (`__X32_SYSCALL_BIT`).
pub(super) const X32_SYSCALL_BIT: u32 = 0x4000_0000;

/// One filterable architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ArchInfo {
    /// libseccomp's token.
    pub scmp: ScmpArch,
    /// What the kernel puts in `seccomp_data.arch` for a syscall of this ABI.
    pub audit: u32,
    /// x32 shares x86-64's AUDIT_ARCH and is told apart by [`X32_SYSCALL_BIT`].
    pub x32: bool,
}

const fn info(scmp: ScmpArch, audit: u32) -> ArchInfo {
    ArchInfo {
        scmp,
        audit,
        x32: false,
    }
}

/// Every architecture config.json can name, but the native placeholder.
const TABLE: &[(Arch, ArchInfo)] = &[
    (Arch::ScmpArchX86, info(ScmpArch::X86, 0x4000_0003)),
    (Arch::ScmpArchX86_64, info(ScmpArch::X8664, 0xc000_003e)),
    (
        Arch::ScmpArchX32,
        ArchInfo {
            scmp: ScmpArch::X32,
            audit: 0xc000_003e,
            x32: true,
        },
    ),
    (Arch::ScmpArchArm, info(ScmpArch::Arm, 0x4000_0028)),
    (Arch::ScmpArchAarch64, info(ScmpArch::Aarch64, 0xc000_00b7)),
    (Arch::ScmpArchMips, info(ScmpArch::Mips, 0x0000_0008)),
    (Arch::ScmpArchMips64, info(ScmpArch::Mips64, 0x8000_0008)),
    (
        Arch::ScmpArchMips64n32,
        info(ScmpArch::Mips64N32, 0xa000_0008),
    ),
    (Arch::ScmpArchMipsel, info(ScmpArch::Mipsel, 0x4000_0008)),
    (
        Arch::ScmpArchMipsel64,
        info(ScmpArch::Mipsel64, 0xc000_0008),
    ),
    (
        Arch::ScmpArchMipsel64n32,
        info(ScmpArch::Mipsel64N32, 0xe000_0008),
    ),
    (Arch::ScmpArchPpc, info(ScmpArch::Ppc, 0x0000_0014)),
    (Arch::ScmpArchPpc64, info(ScmpArch::Ppc64, 0x8000_0015)),
    (Arch::ScmpArchPpc64le, info(ScmpArch::Ppc64Le, 0xc000_0015)),
    (Arch::ScmpArchS390, info(ScmpArch::S390, 0x0000_0016)),
    (Arch::ScmpArchS390x, info(ScmpArch::S390X, 0x8000_0016)),
    (Arch::ScmpArchParisc, info(ScmpArch::Parisc, 0x0000_000f)),
    (
        Arch::ScmpArchParisc64,
        info(ScmpArch::Parisc64, 0x8000_000f),
    ),
    (Arch::ScmpArchRiscv64, info(ScmpArch::Riscv64, 0xc000_00f3)),
    (
        Arch::ScmpArchLoongarch64,
        info(ScmpArch::Loongarch64, 0xc000_0102),
    ),
    (Arch::ScmpArchM68k, info(ScmpArch::M68k, 0x0000_0004)),
    (Arch::ScmpArchSh, info(ScmpArch::Sh, 0x4000_002a)),
    (Arch::ScmpArchSheb, info(ScmpArch::Sheb, 0x0000_002a)),
];

/// The architecture config.json names, or None for `SCMP_ARCH_NATIVE`.
pub(super) fn from_spec(arch: Arch) -> Option<ArchInfo> {
    TABLE
        .iter()
        .find(|(a, _)| *a == arch)
        .map(|(_, info)| *info)
}

/// The host's own architecture, as libseccomp sees it (None on an ABI pier does not know).
pub(super) fn native() -> Option<ArchInfo> {
    let native = ScmpArch::native();
    TABLE
        .iter()
        .find(|(_, info)| info.scmp == native)
        .map(|(_, info)| *info)
}
