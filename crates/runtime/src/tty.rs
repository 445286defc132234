//! The container's terminal: a pty made inside the container's own devpts (so the process
//! sees /dev/pts/0), its master handed to whoever drives it — the shim, the foreground
//! `runtime run`, or a `--console-socket` as runc hands it.

use std::io::IoSlice;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::path::Path;

use nix::fcntl::{OFlag, open};
use nix::mount::{MsFlags, mount};
use nix::sys::socket::{ControlMessage, MsgFlags, sendmsg};
use nix::sys::stat::Mode;

use crate::error::{Error, Result};

nix::ioctl_write_ptr_bad!(set_ptlock, libc::TIOCSPTLCK, libc::c_int);
nix::ioctl_read_bad!(get_ptn, libc::TIOCGPTN, libc::c_uint);
nix::ioctl_write_ptr_bad!(set_winsize, libc::TIOCSWINSZ, libc::winsize);
nix::ioctl_read_bad!(get_winsize, libc::TIOCGWINSZ, libc::winsize);

fn failure(what: &str, e: nix::errno::Errno) -> Error {
    Error::ContainerInit(format!("{what}: {}", std::io::Error::from(e)))
}

pub(crate) struct Pty {
    pub master: OwnedFd,
    pub slave: OwnedFd,
    /// e.g. /dev/pts/0, as the container sees it.
    pub slave_path: String,
}

/// Opens a new pty through the container's /dev/ptmx. Called inside the container.
pub(crate) fn open_in_container(size: Option<(u16, u16)>) -> Result<Pty> {
    let master = open(
        "/dev/ptmx",
        OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| failure("opening /dev/ptmx", e))?;
    let unlock: libc::c_int = 0;
    // SAFETY: TIOCSPTLCK reads one int from the pointer, which is valid for the call.
    unsafe { set_ptlock(master.as_raw_fd(), &unlock) }.map_err(|e| failure("unlocking pty", e))?;
    let mut number: libc::c_uint = 0;
    // SAFETY: TIOCGPTN writes one unsigned int to the pointer, which is valid for the call.
    unsafe { get_ptn(master.as_raw_fd(), &mut number) }
        .map_err(|e| failure("reading pty number", e))?;
    // TIOCGPTPEER opens the slave from the master itself: no path lookup to race with.
    // SAFETY: plain ioctl returning a new descriptor.
    let raw = unsafe {
        libc::ioctl(
            master.as_raw_fd(),
            libc::TIOCGPTPEER,
            libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
        )
    };
    if raw < 0 {
        return Err(failure("opening pty slave", nix::errno::Errno::last()));
    }
    // SAFETY: a non-negative TIOCGPTPEER result is a new descriptor that we own.
    let slave = unsafe { OwnedFd::from_raw_fd(raw) };
    if let Some((rows, cols)) = size {
        resize(master.as_raw_fd(), rows, cols)?;
    }
    Ok(Pty {
        master,
        slave,
        slave_path: format!("/dev/pts/{number}"),
    })
}

pub(crate) fn resize(fd: RawFd, rows: u16, cols: u16) -> Result<()> {
    let ws = libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads a winsize from the pointer, valid for the call.
    unsafe { set_winsize(fd, &ws) }.map_err(|e| failure("setting terminal size", e))?;
    Ok(())
}

/// The size of the terminal on `fd`, if it is one.
pub(crate) fn size_of(fd: RawFd) -> Option<(u16, u16)> {
    let mut ws = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes a winsize to the pointer, valid for the call.
    unsafe { get_winsize(fd, &mut ws) }.ok()?;
    Some((ws.ws_row, ws.ws_col))
}

/// Binds the slave over /dev/console, as the spec asks for a container with a terminal.
pub(crate) fn bind_console(slave_path: &str) -> Result<()> {
    let console = Path::new("/dev/console");
    if !console.exists() {
        if !Path::new("/dev").is_dir() {
            return Ok(());
        }
        std::fs::File::create(console).map_err(|e| Error::path("creating", console, e))?;
    }
    mount(
        Some(slave_path),
        console,
        None::<&str>,
        MsFlags::MS_BIND,
        None::<&str>,
    )
    .map_err(|e| failure("binding /dev/console", e))
}

/// Makes the slave the calling process's controlling terminal and its stdio.
pub(crate) fn become_controlling(slave: &OwnedFd) -> Result<()> {
    // SAFETY: TIOCSCTTY with 0 takes no pointer; the caller just became a session leader.
    if unsafe { libc::ioctl(slave.as_raw_fd(), libc::TIOCSCTTY, 0) } < 0 {
        return Err(failure(
            "setting controlling terminal",
            nix::errno::Errno::last(),
        ));
    }
    for target in 0..3 {
        // SAFETY: dup2 onto the standard descriptors, which this process owns.
        if unsafe { libc::dup2(slave.as_raw_fd(), target) } < 0 {
            return Err(failure(
                "attaching terminal to stdio",
                nix::errno::Errno::last(),
            ));
        }
    }
    Ok(())
}

/// Sends the master to a `--console-socket`, as runc does: one message whose payload is a name
/// and whose SCM_RIGHTS carries the descriptor.
pub(crate) fn send_to_console_socket(socket: &Path, master: BorrowedFd<'_>) -> Result<()> {
    let stream = crate::sockpath::connect(socket)
        .map_err(|e| Error::path("connecting to console socket", socket, e))?;
    let name = b"/dev/ptmx";
    let iov = [IoSlice::new(name)];
    let fds = [master.as_raw_fd()];
    sendmsg::<()>(
        stream.as_raw_fd(),
        &iov,
        &[ControlMessage::ScmRights(&fds)],
        MsgFlags::empty(),
        None,
    )
    .map_err(|e| {
        Error::io(
            format!("sending terminal to {}", socket.display()),
            e.into(),
        )
    })?;
    Ok(())
}

/// Puts a terminal in raw mode and gives back its previous settings.
pub(crate) fn make_raw(fd: BorrowedFd<'_>) -> Option<nix::sys::termios::Termios> {
    use nix::sys::termios::{SetArg, cfmakeraw, tcgetattr, tcsetattr};
    let saved = tcgetattr(fd).ok()?;
    let mut raw = saved.clone();
    cfmakeraw(&mut raw);
    tcsetattr(fd, SetArg::TCSANOW, &raw).ok()?;
    Some(saved)
}

pub(crate) fn restore(fd: BorrowedFd<'_>, saved: &nix::sys::termios::Termios) {
    let _ = nix::sys::termios::tcsetattr(fd, nix::sys::termios::SetArg::TCSANOW, saved);
}
