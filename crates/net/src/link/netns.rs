//! Running netlink work inside another network namespace, on a thread of its own.

use std::future::Future;
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::sync::Arc;

use nix::sched::{CloneFlags, setns};

use crate::error::{NetError, Result};

/// A network namespace to configure: a path (`/proc/PID/ns/net`, `/run/netns/NAME`) or an
/// open descriptor of one.
#[derive(Debug, Clone)]
pub enum NetnsRef {
    Path(PathBuf),
    Fd(Arc<OwnedFd>),
}

impl NetnsRef {
    /// A descriptor of the namespace that the caller owns.
    pub fn open(&self) -> Result<OwnedFd> {
        match self {
            NetnsRef::Path(path) => std::fs::File::open(path)
                .map(OwnedFd::from)
                .map_err(|err| NetError::io("opening network namespace", path, err)),
            NetnsRef::Fd(fd) => fd
                .try_clone()
                .map_err(|err| NetError::sys("duplicating a network namespace descriptor", err)),
        }
    }
}

/// Runs `work` with a netlink handle of the namespace `netns`, on a new thread that entered
/// it (setns changes only the calling thread, and this thread ends with the work, so the
/// namespace never leaks into threads of the caller's runtime).
pub(crate) async fn with_handle_in<F, Fut, T>(netns: OwnedFd, work: F) -> Result<T>
where
    F: FnOnce(rtnetlink::Handle) -> Fut + Send + 'static,
    Fut: Future<Output = Result<T>>,
    T: Send + 'static,
{
    let (sender, receiver) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("pier-netns".to_string())
        .spawn(move || {
            let result = run_inside(netns, work);
            // The receiver is gone only if the caller was cancelled; nothing to report to.
            let _ = sender.send(result);
        })
        .map_err(|err| NetError::sys("starting a thread for namespace work", err))?;
    receiver
        .await
        .map_err(|_| NetError::Unavailable("the namespace thread ended without an answer".into()))?
}

fn run_inside<F, Fut, T>(netns: OwnedFd, work: F) -> Result<T>
where
    F: FnOnce(rtnetlink::Handle) -> Fut,
    Fut: Future<Output = Result<T>>,
{
    setns(&netns, CloneFlags::CLONE_NEWNET).map_err(|errno| {
        NetError::sys("entering the container's network namespace", errno.into())
    })?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .map_err(|err| NetError::sys("a runtime for namespace work", err))?;
    runtime.block_on(async move {
        let (connection, handle, _) = rtnetlink::new_connection()
            .map_err(|err| NetError::sys("netlink socket in the container's namespace", err))?;
        let connection = tokio::spawn(connection);
        let result = work(handle).await;
        connection.abort();
        result
    })
}
