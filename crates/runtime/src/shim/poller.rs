//! poll(2) over a set of descriptors rebuilt on every turn, each tagged with what it is.

use std::os::fd::RawFd;
use std::time::{Duration, Instant};

use nix::errno::Errno;

pub(crate) const IN: i16 = libc::POLLIN;
pub(crate) const OUT: i16 = libc::POLLOUT;
/// What poll reports whether asked or not.
pub(crate) const HUP_OR_ERR: i16 = libc::POLLHUP | libc::POLLERR | libc::POLLNVAL;

pub(crate) struct PollSet<T> {
    fds: Vec<libc::pollfd>,
    tokens: Vec<T>,
}

impl<T: Copy> PollSet<T> {
    pub fn new() -> Self {
        PollSet {
            fds: Vec::new(),
            tokens: Vec::new(),
        }
    }

    pub fn clear(&mut self) {
        self.fds.clear();
        self.tokens.clear();
    }

    pub fn add(&mut self, fd: RawFd, events: i16, token: T) {
        self.fds.push(libc::pollfd {
            fd,
            events,
            revents: 0,
        });
        self.tokens.push(token);
    }

    /// Waits until something is ready, `deadline` passes (if any), or a signal interrupts.
    pub fn wait(&mut self, deadline: Option<Instant>) -> Result<(), Errno> {
        let timeout = match deadline {
            None => -1,
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                // Round up, so that a wake-up never comes before the deadline.
                (left + Duration::from_micros(999))
                    .as_millis()
                    .min(i32::MAX as u128) as i32
            }
        };
        // SAFETY: the pointer and length describe `self.fds`, which lives across the call.
        let ret = unsafe {
            libc::poll(
                self.fds.as_mut_ptr(),
                self.fds.len() as libc::nfds_t,
                timeout,
            )
        };
        match ret {
            -1 => match Errno::last() {
                Errno::EINTR => Ok(()),
                e => Err(e),
            },
            _ => Ok(()),
        }
    }

    /// The tagged descriptors that have events, with those events, into `out`.
    pub fn ready_into(&self, out: &mut Vec<(T, i16)>) {
        out.clear();
        out.extend(
            self.fds
                .iter()
                .zip(&self.tokens)
                .filter(|(fd, _)| fd.revents != 0)
                .map(|(fd, token)| (*token, fd.revents)),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    #[test]
    fn reports_ready_descriptors_with_their_tokens() {
        let (r, w) = nix::unistd::pipe().unwrap();
        let mut set = PollSet::new();
        set.add(r.as_raw_fd(), IN, 'r');
        set.add(w.as_raw_fd(), OUT, 'w');
        set.wait(Some(Instant::now())).unwrap();
        let mut ready = Vec::new();
        set.ready_into(&mut ready);
        assert_eq!(ready, vec![('w', OUT)]);
        drop(w);
        set.clear();
        set.add(r.as_raw_fd(), IN, 'r');
        set.wait(None).unwrap();
        set.ready_into(&mut ready);
        assert_eq!(ready.len(), 1);
        assert!(ready[0].1 & HUP_OR_ERR != 0);
    }
}
