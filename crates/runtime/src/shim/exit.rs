//! Turning a wait status into the exit record Docker users expect (signals as 128 + n).

use nix::sys::wait::WaitStatus;

use crate::state::{ExitStatus, now_rfc3339};

pub(crate) fn from_wait(status: WaitStatus, oom_killed: bool, error: Option<String>) -> ExitStatus {
    let (code, signal) = match status {
        WaitStatus::Exited(_, code) => (code, None),
        WaitStatus::Signaled(_, sig, _) => (128 + sig as i32, Some(sig as i32)),
        // Not an ending; callers only pass endings. Report it as a failure rather than success.
        _ => (255, None),
    };
    ExitStatus {
        code,
        signal,
        oom_killed,
        finished_at: now_rfc3339(),
        error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sys::signal::Signal;
    use nix::unistd::Pid;

    #[test]
    fn signals_become_128_plus_n() {
        let s = from_wait(
            WaitStatus::Signaled(Pid::from_raw(1), Signal::SIGKILL, false),
            true,
            None,
        );
        assert_eq!((s.code, s.signal, s.oom_killed), (137, Some(9), true));
        let s = from_wait(WaitStatus::Exited(Pid::from_raw(1), 42), false, None);
        assert_eq!((s.code, s.signal), (42, None));
    }
}
