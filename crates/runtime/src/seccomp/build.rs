//! Turns an OCI seccomp profile into a libseccomp filter context, with runc's semantics.

use libseccomp::{ScmpAction, ScmpArgCompare, ScmpCompareOp, ScmpFilterContext, ScmpSyscall};
use oci_spec::runtime::{
    LinuxSeccomp, LinuxSeccompAction, LinuxSeccompArg, LinuxSeccompOperator, LinuxSyscall,
};

use super::SeccompError;
use super::arch::{self, ArchInfo};

/// Syscalls take at most six arguments.
const MAX_ARGS: usize = 6;

/// A libseccomp filter for a profile, and what the ENOSYS stub needs to know about it.
pub(super) struct Built<'a> {
    /// The filter, ready to export.
    pub ctx: ScmpFilterContext,
    /// The architectures in the filter, the native one first.
    pub arches: Vec<ArchInfo>,
    /// True when the default action lets unknown syscalls run (ALLOW, LOG, TRACE).
    pub permissive_default: bool,
    /// Every syscall name the profile mentions, known to libseccomp or not.
    pub names: Vec<&'a str>,
}

/// Builds the libseccomp filter for `spec`.
pub(super) fn build(spec: &LinuxSeccomp) -> Result<Built<'_>, SeccompError> {
    let default = action(spec.default_action(), spec.default_errno_ret(), || {
        "default action".to_owned()
    })?;
    let mut ctx = ScmpFilterContext::new(default).map_err(|source| SeccompError::Libseccomp {
        op: "create a filter context",
        source,
    })?;
    // The runtime sets no_new_privs itself (or holds CAP_SYS_ADMIN); libseccomp must not.
    ctx.set_ctl_nnp(false)
        .map_err(|source| SeccompError::Libseccomp {
            op: "clear SCMP_FLTATR_CTL_NNP",
            source,
        })?;
    // A binary tree of syscall numbers: fewer instructions run per syscall than a linear list.
    // Older libseccomp without the attribute builds the linear list, which is just slower.
    let _ = ctx.set_ctl_optimize(2);
    let arches = add_arches(&mut ctx, spec)?;
    let syscalls = spec.syscalls().as_deref().unwrap_or_default();
    for rule in syscalls {
        add_rule(&mut ctx, rule, default)?;
    }
    let names = syscalls
        .iter()
        .flat_map(|rule| rule.names().iter().map(String::as_str))
        .collect();
    let permissive_default = matches!(
        spec.default_action(),
        LinuxSeccompAction::ScmpActAllow
            | LinuxSeccompAction::ScmpActLog
            | LinuxSeccompAction::ScmpActTrace
    );
    Ok(Built {
        ctx,
        arches,
        permissive_default,
        names,
    })
}

/// Adds the profile's architectures; the native one is always in a new filter.
fn add_arches(
    ctx: &mut ScmpFilterContext,
    spec: &LinuxSeccomp,
) -> Result<Vec<ArchInfo>, SeccompError> {
    let mut arches: Vec<ArchInfo> = arch::native().into_iter().collect();
    for &name in spec.architectures().as_deref().unwrap_or_default() {
        let Some(info) = arch::from_spec(name) else {
            continue; // SCMP_ARCH_NATIVE: already there.
        };
        if arches.contains(&info) {
            continue;
        }
        ctx.add_arch(info.scmp)
            .map_err(|source| SeccompError::UnsupportedArch {
                arch: name.to_string(),
                source,
            })?;
        arches.push(info);
    }
    Ok(arches)
}

/// Translates an OCI action (and its errnoRet) to libseccomp's.
fn action(
    action: LinuxSeccompAction,
    ret: Option<u32>,
    context: impl Fn() -> String,
) -> Result<ScmpAction, SeccompError> {
    Ok(match action {
        LinuxSeccompAction::ScmpActKill | LinuxSeccompAction::ScmpActKillThread => {
            ScmpAction::KillThread
        }
        LinuxSeccompAction::ScmpActKillProcess => ScmpAction::KillProcess,
        LinuxSeccompAction::ScmpActTrap => ScmpAction::Trap,
        LinuxSeccompAction::ScmpActErrno => {
            ScmpAction::Errno(i32::from(return_value("SCMP_ACT_ERRNO", ret, &context)?))
        }
        LinuxSeccompAction::ScmpActTrace => {
            ScmpAction::Trace(return_value("SCMP_ACT_TRACE", ret, &context)?)
        }
        LinuxSeccompAction::ScmpActLog => ScmpAction::Log,
        LinuxSeccompAction::ScmpActAllow => ScmpAction::Allow,
        LinuxSeccompAction::ScmpActNotify => {
            return Err(SeccompError::NotifyUnsupported { context: context() });
        }
    })
}

/// The 16-bit value an ERRNO or TRACE action returns; EPERM when the profile gives none.
fn return_value(
    action: &'static str,
    ret: Option<u32>,
    context: &impl Fn() -> String,
) -> Result<u16, SeccompError> {
    let value = ret.unwrap_or(libc::EPERM as u32);
    u16::try_from(value).map_err(|_| SeccompError::InvalidReturnValue {
        action,
        value,
        context: context(),
    })
}

/// Adds one profile entry: every known name, under every set of conditions.
fn add_rule(
    ctx: &mut ScmpFilterContext,
    rule: &LinuxSyscall,
    default: ScmpAction,
) -> Result<(), SeccompError> {
    let names = || format!("syscalls [{}]", rule.names().join(", "));
    let act = action(rule.action(), rule.errno_ret(), names)?;
    let sets = condition_sets(rule, names)?;
    if act == default {
        return Ok(()); // libseccomp refuses a rule that repeats the default action.
    }
    for name in rule.names() {
        // A name libseccomp does not know is a syscall of a newer kernel: skip it, as runc does.
        let Ok(syscall) = ScmpSyscall::from_name(name) else {
            continue;
        };
        for conditions in &sets {
            ctx.add_rule_conditional(act, syscall, conditions)
                .map_err(|source| SeccompError::Rule {
                    syscall: name.clone(),
                    action: rule.action().to_string(),
                    source,
                })?;
        }
    }
    Ok(())
}

/// The condition sets a rule expands to: all its conditions in one rule (AND), or, when two
/// of them test the same argument (which libseccomp refuses), one rule per condition (OR),
/// as runc does.
fn condition_sets(
    rule: &LinuxSyscall,
    names: impl Fn() -> String,
) -> Result<Vec<Vec<ScmpArgCompare>>, SeccompError> {
    let args = rule.args().as_deref().unwrap_or_default();
    let mut per_index = [0usize; MAX_ARGS];
    let mut conditions = Vec::with_capacity(args.len());
    for arg in args {
        let count =
            per_index
                .get_mut(arg.index())
                .ok_or_else(|| SeccompError::InvalidArgIndex {
                    syscalls: names(),
                    index: arg.index(),
                })?;
        *count += 1;
        conditions.push(compare(arg));
    }
    if per_index.iter().any(|&count| count > 1) {
        Ok(conditions.into_iter().map(|c| vec![c]).collect())
    } else {
        Ok(vec![conditions])
    }
}

/// One argument condition. For SCMP_CMP_MASKED_EQ, `value` is the mask and `valueTwo` the
/// value the masked argument must equal.
fn compare(arg: &LinuxSeccompArg) -> ScmpArgCompare {
    let (op, datum) = match arg.op() {
        LinuxSeccompOperator::ScmpCmpNe => (ScmpCompareOp::NotEqual, arg.value()),
        LinuxSeccompOperator::ScmpCmpLt => (ScmpCompareOp::Less, arg.value()),
        LinuxSeccompOperator::ScmpCmpLe => (ScmpCompareOp::LessOrEqual, arg.value()),
        LinuxSeccompOperator::ScmpCmpEq => (ScmpCompareOp::Equal, arg.value()),
        LinuxSeccompOperator::ScmpCmpGe => (ScmpCompareOp::GreaterEqual, arg.value()),
        LinuxSeccompOperator::ScmpCmpGt => (ScmpCompareOp::Greater, arg.value()),
        LinuxSeccompOperator::ScmpCmpMaskedEq => (
            ScmpCompareOp::MaskedEqual(arg.value()),
            arg.value_two().unwrap_or(0),
        ),
    };
    // The index was checked against MAX_ARGS by the caller.
    let index = u32::try_from(arg.index()).unwrap_or(u32::MAX);
    ScmpArgCompare::new(index, op, datum)
}
