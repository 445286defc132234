//! Tests: compile small profiles, install them in forked children, and watch syscalls.
//!
//! Children only make raw syscalls and `_exit` (no allocation after fork: the test harness
//! is multi-threaded). They exit 0 on success or with the number of the check that failed.

use std::path::PathBuf;

use oci_spec::runtime::{
    Arch, LinuxSeccomp, LinuxSeccompAction as Act, LinuxSeccompArg, LinuxSeccompArgBuilder,
    LinuxSeccompBuilder, LinuxSeccompFilterFlag, LinuxSeccompOperator as Op, LinuxSyscall,
    LinuxSyscallBuilder,
};

use super::{SeccompError, SeccompProgram, compile};

const EDOM: i32 = libc::EDOM;

fn rule(
    names: &[&str],
    action: Act,
    errno: Option<u32>,
    args: Vec<LinuxSeccompArg>,
) -> LinuxSyscall {
    let mut builder = LinuxSyscallBuilder::default()
        .names(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
        .action(action);
    if let Some(errno) = errno {
        builder = builder.errno_ret(errno);
    }
    if !args.is_empty() {
        builder = builder.args(args);
    }
    builder.build().unwrap()
}

fn arg(index: usize, op: Op, value: u64, value_two: Option<u64>) -> LinuxSeccompArg {
    let builder = LinuxSeccompArgBuilder::default()
        .index(index)
        .op(op)
        .value(value);
    match value_two {
        Some(v) => builder.value_two(v).build().unwrap(),
        None => builder.build().unwrap(),
    }
}

fn profile(default: Act, rules: Vec<LinuxSyscall>) -> LinuxSeccomp {
    LinuxSeccompBuilder::default()
        .default_action(default)
        .syscalls(rules)
        .build()
        .unwrap()
}

/// How a child ended.
#[derive(Debug, PartialEq, Eq)]
enum End {
    Exited(i32),
    Signaled(i32),
}

/// Forks a child that installs `program` and returns `check()` as its exit code.
fn in_child(program: &SeccompProgram, check: impl FnOnce() -> i32) -> End {
    // SAFETY: the child only makes async-signal-safe calls (setrlimit, prctl, seccomp, raw
    // syscalls) and leaves with _exit, so no lock held by another test thread is needed.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let no_core = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: plain syscalls on valid arguments in the child; see above.
        unsafe {
            libc::setrlimit(libc::RLIMIT_CORE, &no_core);
            if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
                libc::_exit(100);
            }
            if program.install().is_err() {
                libc::_exit(101);
            }
            libc::_exit(check());
        }
    }
    let mut status = 0;
    // SAFETY: waits for the child forked above; `status` is a valid out pointer.
    let rc = unsafe { libc::waitpid(pid, &mut status, 0) };
    assert_eq!(rc, pid, "waitpid failed");
    if libc::WIFEXITED(status) {
        End::Exited(libc::WEXITSTATUS(status))
    } else {
        End::Signaled(libc::WTERMSIG(status))
    }
}

/// A raw syscall: Ok(return value) or Err(errno).
fn sys(nr: libc::c_long, a0: libc::c_long, a1: libc::c_long) -> Result<libc::c_long, i32> {
    // SAFETY: the syscalls used by these tests take integer arguments only.
    let rc = unsafe { libc::syscall(nr, a0, a1) };
    if rc == -1 {
        Err(nix::errno::Errno::last_raw())
    } else {
        Ok(rc)
    }
}

fn errno_of(nr: libc::c_long, a0: libc::c_long, a1: libc::c_long) -> i32 {
    sys(nr, a0, a1).err().unwrap_or(0)
}

fn getpriority_errno(which: libc::c_long, who: libc::c_long) -> i32 {
    errno_of(libc::SYS_getpriority, which, who)
}

fn compiled(spec: &LinuxSeccomp) -> SeccompProgram {
    match compile(spec) {
        Ok(program) => program,
        Err(err) => panic!("compile failed: {err}"),
    }
}

#[test]
fn errno_rule_denies_and_other_syscalls_run() {
    let spec = profile(
        Act::ScmpActAllow,
        vec![rule(&["getppid"], Act::ScmpActErrno, Some(42), vec![])],
    );
    let program = compiled(&spec);
    assert!(!program.is_empty());
    let end = in_child(&program, || {
        if errno_of(libc::SYS_getppid, 0, 0) != 42 {
            return 1;
        }
        if sys(libc::SYS_getpid, 0, 0).is_err() {
            return 2;
        }
        0
    });
    assert_eq!(end, End::Exited(0));
}

#[test]
fn allow_list_denies_the_rest_with_eperm_and_newer_syscalls_with_enosys() {
    let allowed = [
        "exit_group",
        "exit",
        "getpid",
        "rt_sigreturn",
        "prctl",
        "seccomp",
    ];
    let spec = profile(
        Act::ScmpActErrno,
        vec![rule(&allowed, Act::ScmpActAllow, None, vec![])],
    );
    let program = compiled(&spec);
    let end = in_child(&program, || {
        if sys(libc::SYS_getpid, 0, 0).is_err() {
            return 1;
        }
        if errno_of(libc::SYS_getppid, 0, 0) != libc::EPERM {
            return 2;
        }
        // Above every syscall the profile names: the stub answers ENOSYS, not EPERM.
        if errno_of(1000, 0, 0) != libc::ENOSYS {
            return 3;
        }
        0
    });
    assert_eq!(end, End::Exited(0));
}

#[test]
fn default_errno_ret_is_used() {
    let spec = LinuxSeccompBuilder::default()
        .default_action(Act::ScmpActErrno)
        .default_errno_ret(libc::EACCES as u32)
        .syscalls(vec![rule(
            &["exit_group", "getpid"],
            Act::ScmpActAllow,
            None,
            vec![],
        )])
        .build()
        .unwrap();
    let program = compiled(&spec);
    let end = in_child(&program, || {
        if errno_of(libc::SYS_getppid, 0, 0) != libc::EACCES {
            return 1;
        }
        0
    });
    assert_eq!(end, End::Exited(0));
}

#[test]
fn conditions_on_different_arguments_all_apply() {
    let args = vec![
        arg(0, Op::ScmpCmpEq, libc::PRIO_PROCESS as u64, None),
        arg(1, Op::ScmpCmpEq, 4242, None),
    ];
    let spec = profile(
        Act::ScmpActAllow,
        vec![rule(
            &["getpriority"],
            Act::ScmpActErrno,
            Some(EDOM as u32),
            args,
        )],
    );
    let program = compiled(&spec);
    let end = in_child(&program, || {
        let process = libc::PRIO_PROCESS as libc::c_long;
        if getpriority_errno(process, 4242) != EDOM {
            return 1;
        }
        if getpriority_errno(process, 0) != 0 {
            return 2;
        }
        if getpriority_errno(libc::PRIO_PGRP as libc::c_long, 4242) == EDOM {
            return 3;
        }
        0
    });
    assert_eq!(end, End::Exited(0));
}

#[test]
fn conditions_on_one_argument_are_split_into_rules() {
    let args = vec![
        arg(0, Op::ScmpCmpEq, libc::PRIO_PGRP as u64, None),
        arg(0, Op::ScmpCmpEq, libc::PRIO_USER as u64, None),
    ];
    let spec = profile(
        Act::ScmpActAllow,
        vec![rule(
            &["getpriority"],
            Act::ScmpActErrno,
            Some(EDOM as u32),
            args,
        )],
    );
    let program = compiled(&spec);
    let end = in_child(&program, || {
        if getpriority_errno(libc::PRIO_PGRP as libc::c_long, 0) != EDOM {
            return 1;
        }
        if getpriority_errno(libc::PRIO_USER as libc::c_long, 0) != EDOM {
            return 2;
        }
        if getpriority_errno(libc::PRIO_PROCESS as libc::c_long, 0) != 0 {
            return 3;
        }
        0
    });
    assert_eq!(end, End::Exited(0));
}

#[test]
fn masked_eq_compares_the_masked_argument_with_value_two() {
    let args = vec![arg(1, Op::ScmpCmpMaskedEq, 0xf0, Some(0x10))];
    let spec = profile(
        Act::ScmpActAllow,
        vec![rule(
            &["getpriority"],
            Act::ScmpActErrno,
            Some(EDOM as u32),
            args,
        )],
    );
    let program = compiled(&spec);
    let end = in_child(&program, || {
        let process = libc::PRIO_PROCESS as libc::c_long;
        if getpriority_errno(process, 0x13) != EDOM {
            return 1;
        }
        if getpriority_errno(process, 0) != 0 {
            return 2;
        }
        if getpriority_errno(process, 0x23) == EDOM {
            return 3;
        }
        0
    });
    assert_eq!(end, End::Exited(0));
}

#[test]
fn comparison_operators() {
    // (operator, value, a `who` the rule matches, a `who` it does not match)
    let cases = [
        (Op::ScmpCmpNe, 0, 5, 0),
        (Op::ScmpCmpLt, 10, 0, 20),
        (Op::ScmpCmpLe, 10, 10, 11),
        (Op::ScmpCmpGe, 10, 10, 9),
        (Op::ScmpCmpGt, 10, 11, 10),
        (Op::ScmpCmpEq, 7, 7, 8),
    ];
    for (op, value, matching, other) in cases {
        let args = vec![arg(1, op, value, None)];
        let spec = profile(
            Act::ScmpActAllow,
            vec![rule(
                &["getpriority"],
                Act::ScmpActErrno,
                Some(EDOM as u32),
                args,
            )],
        );
        let program = compiled(&spec);
        let end = in_child(&program, || {
            let process = libc::PRIO_PROCESS as libc::c_long;
            if getpriority_errno(process, matching) != EDOM {
                return 1;
            }
            if getpriority_errno(process, other) == EDOM {
                return 2;
            }
            0
        });
        assert_eq!(end, End::Exited(0), "operator {op}");
    }
}

#[test]
fn unknown_syscall_names_are_skipped() {
    let names = ["pier_no_such_syscall", "getppid", "another_future_syscall"];
    let spec = profile(
        Act::ScmpActAllow,
        vec![rule(&names, Act::ScmpActErrno, Some(42), vec![])],
    );
    let program = compiled(&spec);
    let end = in_child(&program, || {
        if errno_of(libc::SYS_getppid, 0, 0) == 42 {
            0
        } else {
            1
        }
    });
    assert_eq!(end, End::Exited(0));
}

#[test]
fn rules_equal_to_the_default_action_are_skipped() {
    let spec = profile(
        Act::ScmpActErrno,
        vec![
            rule(&["exit_group", "getpid"], Act::ScmpActAllow, None, vec![]),
            rule(&["getppid"], Act::ScmpActErrno, None, vec![]),
            rule(
                &["gettid"],
                Act::ScmpActErrno,
                Some(libc::EPERM as u32),
                vec![],
            ),
        ],
    );
    let program = compiled(&spec);
    let end = in_child(&program, || {
        if errno_of(libc::SYS_getppid, 0, 0) == libc::EPERM {
            0
        } else {
            1
        }
    });
    assert_eq!(end, End::Exited(0));
    let allow = profile(
        Act::ScmpActAllow,
        vec![rule(&["getppid"], Act::ScmpActAllow, None, vec![])],
    );
    compiled(&allow);
}

#[test]
fn kill_actions_and_trap_end_the_child_with_sigsys() {
    for action in [
        Act::ScmpActKillProcess,
        Act::ScmpActKill,
        Act::ScmpActKillThread,
        Act::ScmpActTrap,
    ] {
        let spec = profile(
            Act::ScmpActAllow,
            vec![rule(&["getppid"], action, None, vec![])],
        );
        let program = compiled(&spec);
        let end = in_child(&program, || {
            let _ = sys(libc::SYS_getppid, 0, 0);
            0
        });
        assert_eq!(end, End::Signaled(libc::SIGSYS), "action {action}");
    }
}

#[test]
fn log_allows_and_trace_without_tracer_fails_with_enosys() {
    let spec = profile(
        Act::ScmpActAllow,
        vec![
            rule(&["getppid"], Act::ScmpActLog, None, vec![]),
            rule(&["gettid"], Act::ScmpActTrace, Some(7), vec![]),
        ],
    );
    let program = compiled(&spec);
    let end = in_child(&program, || {
        if sys(libc::SYS_getppid, 0, 0).is_err() {
            return 1;
        }
        if errno_of(libc::SYS_gettid, 0, 0) != libc::ENOSYS {
            return 2;
        }
        0
    });
    assert_eq!(end, End::Exited(0));
}

#[test]
fn notify_and_listener_are_refused() {
    let by_default = profile(Act::ScmpActNotify, vec![]);
    let err = compile(&by_default).unwrap_err();
    assert!(
        matches!(err, SeccompError::NotifyUnsupported { .. }),
        "{err}"
    );
    assert!(err.is_invalid_input());
    assert!(err.to_string().contains("SCMP_ACT_NOTIFY"), "{err}");

    let by_rule = profile(
        Act::ScmpActAllow,
        vec![rule(&["ioctl"], Act::ScmpActNotify, None, vec![])],
    );
    let err = compile(&by_rule).unwrap_err();
    assert!(err.to_string().contains("ioctl"), "{err}");

    let mut listener = profile(Act::ScmpActAllow, vec![]);
    listener.set_listener_path(Some(PathBuf::from("/run/agent.sock")));
    let err = compile(&listener).unwrap_err();
    assert!(
        matches!(err, SeccompError::ListenerUnsupported { .. }),
        "{err}"
    );
    assert!(err.is_invalid_input());
}

#[test]
fn invalid_values_are_invalid_input() {
    let errno = profile(
        Act::ScmpActAllow,
        vec![rule(&["getppid"], Act::ScmpActErrno, Some(70_000), vec![])],
    );
    let err = compile(&errno).unwrap_err();
    assert!(
        matches!(err, SeccompError::InvalidReturnValue { value: 70_000, .. }),
        "{err}"
    );
    assert!(err.is_invalid_input());
    assert!(err.to_string().contains("getppid"), "{err}");

    let index = profile(
        Act::ScmpActAllow,
        vec![rule(
            &["getppid"],
            Act::ScmpActErrno,
            None,
            vec![arg(6, Op::ScmpCmpEq, 0, None)],
        )],
    );
    let err = compile(&index).unwrap_err();
    assert!(
        matches!(err, SeccompError::InvalidArgIndex { index: 6, .. }),
        "{err}"
    );
    assert!(err.is_invalid_input());
}

#[cfg(target_arch = "x86_64")]
#[test]
fn foreign_architectures_are_added_to_the_filter() {
    let rules = vec![rule(
        &["getppid", "chown32", "socketcall"],
        Act::ScmpActErrno,
        Some(42),
        vec![],
    )];
    let native = compiled(&profile(Act::ScmpActAllow, rules.clone()));
    let mut multi = profile(Act::ScmpActAllow, rules);
    multi.set_architectures(Some(vec![
        Arch::ScmpArchNative,
        Arch::ScmpArchX86_64,
        Arch::ScmpArchX86,
        Arch::ScmpArchX32,
    ]));
    let multi = compiled(&multi);
    assert!(
        multi.len() > native.len(),
        "{} <= {}",
        multi.len(),
        native.len()
    );
    let end = in_child(&multi, || {
        if errno_of(libc::SYS_getppid, 0, 0) == 42 {
            0
        } else {
            1
        }
    });
    assert_eq!(end, End::Exited(0));
}

#[test]
fn filter_flags_are_passed_to_the_kernel() {
    let mut spec = profile(
        Act::ScmpActAllow,
        vec![rule(&["getppid"], Act::ScmpActErrno, Some(42), vec![])],
    );
    spec.set_flags(Some(vec![
        LinuxSeccompFilterFlag::SeccompFilterFlagLog,
        LinuxSeccompFilterFlag::SeccompFilterFlagSpecAllow,
        LinuxSeccompFilterFlag::SeccompFilterFlagTsync,
        LinuxSeccompFilterFlag::SeccompFilterFlagWaitKillableRecv,
    ]));
    let program = compiled(&spec);
    let expected = libc::SECCOMP_FILTER_FLAG_LOG
        | libc::SECCOMP_FILTER_FLAG_SPEC_ALLOW
        | libc::SECCOMP_FILTER_FLAG_TSYNC;
    assert_eq!(program.flags(), expected as u32);
    let end = in_child(&program, || {
        if errno_of(libc::SYS_getppid, 0, 0) == 42 {
            0
        } else {
            1
        }
    });
    assert_eq!(end, End::Exited(0));
}

#[test]
fn permissive_default_has_no_enosys_stub() {
    let spec = profile(
        Act::ScmpActAllow,
        vec![rule(&["getppid"], Act::ScmpActErrno, None, vec![])],
    );
    let program = compiled(&spec);
    // libseccomp's own program starts by loading the architecture, then checks it.
    let end = in_child(&program, || {
        if errno_of(1000, 0, 0) == libc::ENOSYS {
            0
        } else {
            1
        }
    });
    assert_eq!(end, End::Exited(0));
    let strict = profile(
        Act::ScmpActErrno,
        vec![rule(&["getppid"], Act::ScmpActAllow, None, vec![])],
    );
    assert!(compiled(&strict).len() > program.len());
}
