//! The conversation between a parent (shim, or `runtime run`/`exec`) and the process it cloned
//! to become the container. A SOCK_SEQPACKET pair keeps message boundaries; the child's end is
//! close-on-exec, so a successful execve shows up in the parent as end-of-file.

use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use nix::errno::Errno;
use nix::sys::socket::{
    AddressFamily, ControlMessage, ControlMessageOwned, MsgFlags, SockFlag, SockType, recvmsg,
    sendmsg, socketpair,
};

const GO: u8 = b'G';
const START: u8 = b'S';
const READY: u8 = b'R';
const ERROR: u8 = b'E';
const PTY: u8 = b'P';

/// What the child tells its parent.
#[derive(Debug)]
pub(crate) enum ChildMessage {
    /// Setup is complete; the child waits for [`ParentMessage::Start`].
    Ready,
    /// The master side of the container's terminal.
    PtyMaster(OwnedFd),
    /// Setup or exec failed; the child exits after this.
    Error { message: String, exit_code: i32 },
    /// The socket closed: the child exec'd (or died).
    Closed,
}

/// What the parent tells its child.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ParentMessage {
    /// Cgroups are set up; begin setting up the container.
    Go,
    /// Run the user's process now.
    Start,
}

pub(crate) struct SyncSocket {
    fd: OwnedFd,
}

/// Makes the pair: (parent's end, child's end).
pub(crate) fn pair() -> Result<(SyncSocket, SyncSocket), Errno> {
    let (a, b) = socketpair(
        AddressFamily::Unix,
        SockType::SeqPacket,
        None,
        SockFlag::SOCK_CLOEXEC,
    )?;
    Ok((SyncSocket { fd: a }, SyncSocket { fd: b }))
}

impl SyncSocket {
    fn send(&self, bytes: &[u8], fd: Option<RawFd>) -> Result<(), Errno> {
        let iov = [IoSlice::new(bytes)];
        let fds;
        let cmsgs: &[ControlMessage<'_>] = match fd {
            Some(fd) => {
                fds = [fd];
                &[ControlMessage::ScmRights(&fds)]
            }
            None => &[],
        };
        loop {
            match sendmsg::<()>(
                self.fd.as_raw_fd(),
                &iov,
                cmsgs,
                MsgFlags::MSG_NOSIGNAL,
                None,
            ) {
                Err(Errno::EINTR) => continue,
                other => return other.map(|_| ()),
            }
        }
    }

    /// Receives one message: its bytes (empty at end-of-file) and a descriptor if one came.
    fn recv(&self) -> Result<(Vec<u8>, Option<OwnedFd>), Errno> {
        let mut buf = vec![0u8; 8192];
        let mut cmsg = nix::cmsg_space!([RawFd; 1]);
        loop {
            let mut iov = [IoSliceMut::new(&mut buf)];
            match recvmsg::<()>(
                self.fd.as_raw_fd(),
                &mut iov,
                Some(&mut cmsg),
                MsgFlags::MSG_CMSG_CLOEXEC,
            ) {
                Err(Errno::EINTR) => continue,
                Err(e) => return Err(e),
                Ok(msg) => {
                    let mut fd = None;
                    for c in msg.cmsgs()? {
                        if let ControlMessageOwned::ScmRights(fds) = c {
                            for raw in fds {
                                // SAFETY: SCM_RIGHTS gave us a new descriptor that nothing else owns.
                                let owned = unsafe { OwnedFd::from_raw_fd(raw) };
                                if fd.is_none() {
                                    fd = Some(owned);
                                }
                            }
                        }
                    }
                    let n = msg.bytes;
                    buf.truncate(n);
                    return Ok((buf, fd));
                }
            }
        }
    }

    // Parent side.

    pub fn send_to_child(&self, msg: ParentMessage) -> Result<(), Errno> {
        self.send(
            &[match msg {
                ParentMessage::Go => GO,
                ParentMessage::Start => START,
            }],
            None,
        )
    }

    pub fn recv_from_child(&self) -> Result<ChildMessage, Errno> {
        let (bytes, fd) = match self.recv() {
            Ok(m) => m,
            // The child died without a word: treat as closed; its exit status tells the rest.
            Err(Errno::ECONNRESET) => return Ok(ChildMessage::Closed),
            Err(e) => return Err(e),
        };
        Ok(match bytes.first() {
            None => ChildMessage::Closed,
            Some(&READY) => ChildMessage::Ready,
            Some(&PTY) => match fd {
                Some(fd) => ChildMessage::PtyMaster(fd),
                None => ChildMessage::Error {
                    message: "terminal set up without a descriptor".into(),
                    exit_code: 1,
                },
            },
            Some(&ERROR) if bytes.len() >= 5 => {
                let code = i32::from_le_bytes([bytes[1], bytes[2], bytes[3], bytes[4]]);
                ChildMessage::Error {
                    message: String::from_utf8_lossy(&bytes[5..]).into_owned(),
                    exit_code: code,
                }
            }
            Some(other) => ChildMessage::Error {
                message: format!("unexpected message {other:#x} from the container's init"),
                exit_code: 1,
            },
        })
    }

    // Child side.

    pub fn recv_from_parent(&self) -> Result<ParentMessage, Errno> {
        let (bytes, _) = self.recv()?;
        match bytes.first() {
            Some(&GO) => Ok(ParentMessage::Go),
            Some(&START) => Ok(ParentMessage::Start),
            // The parent went away: nothing to set up for.
            _ => Err(Errno::EPIPE),
        }
    }

    pub fn send_ready(&self) -> Result<(), Errno> {
        self.send(&[READY], None)
    }

    pub fn send_pty(&self, master: BorrowedFd<'_>) -> Result<(), Errno> {
        self.send(&[PTY], Some(master.as_raw_fd()))
    }

    pub fn send_error(&self, message: &str, exit_code: i32) -> Result<(), Errno> {
        let mut bytes = Vec::with_capacity(5 + message.len());
        bytes.push(ERROR);
        bytes.extend_from_slice(&exit_code.to_le_bytes());
        // Keep within one packet.
        bytes.extend_from_slice(&message.as_bytes()[..message.len().min(8000)]);
        self.send(&bytes, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip() {
        let (parent, child) = pair().unwrap();
        parent.send_to_child(ParentMessage::Go).unwrap();
        assert_eq!(child.recv_from_parent().unwrap(), ParentMessage::Go);
        child
            .send_error("exec: \"nope\": executable file not found in $PATH", 127)
            .unwrap();
        match parent.recv_from_child().unwrap() {
            ChildMessage::Error { message, exit_code } => {
                assert!(message.contains("nope"));
                assert_eq!(exit_code, 127);
            }
            other => panic!("{other:?}"),
        }
        let file = std::fs::File::open("/dev/null").unwrap();
        child.send_pty(std::os::fd::AsFd::as_fd(&file)).unwrap();
        assert!(matches!(
            parent.recv_from_child().unwrap(),
            ChildMessage::PtyMaster(_)
        ));
        drop(child);
        assert!(matches!(
            parent.recv_from_child().unwrap(),
            ChildMessage::Closed
        ));
    }
}
