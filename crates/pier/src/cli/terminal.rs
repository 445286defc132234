//! The local terminal for `run -t`, `attach` and `exec -t`: raw mode while a container's
//! terminal is in use (restored when the guard drops, and by a panic hook), the window's
//! size, and its changes (SIGWINCH).

use std::io::IsTerminal;
use std::sync::Mutex;

use rustix::termios::{self, OptionalActions, Termios};

/// The settings to put back, for the panic hook (a panic skips no drop in the dev profile
/// but aborts in release, where only the hook runs).
static SAVED: Mutex<Option<Termios>> = Mutex::new(None);

pub fn stdin_is_terminal() -> bool {
    std::io::stdin().is_terminal()
}

pub fn stdout_is_terminal() -> bool {
    std::io::stdout().is_terminal()
}

/// The terminal of stdin in raw mode until dropped.
pub struct RawMode {
    saved: Termios,
}

impl RawMode {
    /// Switches stdin to raw mode as Docker does (moby/term's MakeRaw, cfmakeraw's
    /// settings: no echo, no line editing, no signals from keys, no output processing:
    /// the container's terminal has done that already).
    pub fn enable() -> std::io::Result<Self> {
        let stdin = std::io::stdin();
        let saved = termios::tcgetattr(&stdin)?;
        let mut raw = saved.clone();
        raw.make_raw();
        termios::tcsetattr(&stdin, OptionalActions::Now, &raw)?;
        if let Ok(mut slot) = SAVED.lock() {
            *slot = Some(saved.clone());
        }
        install_panic_hook();
        Ok(Self { saved })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = termios::tcsetattr(std::io::stdin(), OptionalActions::Now, &self.saved);
        if let Ok(mut slot) = SAVED.lock() {
            *slot = None;
        }
    }
}

fn install_panic_hook() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if let Ok(slot) = SAVED.lock()
                && let Some(saved) = slot.as_ref()
            {
                let _ = termios::tcsetattr(std::io::stdin(), OptionalActions::Now, saved);
            }
            previous(info);
        }));
    });
}

/// The size of the terminal on stdout, else on stdin, as `(height, width)`.
pub fn size() -> Option<(u16, u16)> {
    let of = |size: rustix::termios::Winsize| {
        (size.ws_row > 0 && size.ws_col > 0).then_some((size.ws_row, size.ws_col))
    };
    termios::tcgetwinsize(std::io::stdout())
        .ok()
        .and_then(of)
        .or_else(|| termios::tcgetwinsize(std::io::stdin()).ok().and_then(of))
}

/// Calls `resize(height, width, first)` now and at every change of the window's size,
/// until the returned task is aborted.
pub fn watch_size<F, Fut>(resize: F) -> tokio::task::JoinHandle<()>
where
    F: Fn(u16, u16, bool) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    tokio::spawn(async move {
        use tokio::signal::unix::{SignalKind, signal};
        let mut changes = signal(SignalKind::window_change()).ok();
        let mut last = None;
        loop {
            let now = size();
            if now.is_some() && now != last {
                if let Some((height, width)) = now {
                    resize(height, width, last.is_none()).await;
                }
                last = now;
            }
            match changes.as_mut() {
                Some(changes) => {
                    if changes.recv().await.is_none() {
                        return;
                    }
                }
                None => return,
            }
        }
    })
}
