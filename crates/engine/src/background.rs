//! Work nobody waits for, on one thread of the lowest CPU priority: making network namespaces
//! ahead of need. On a busy machine it would take CPU from the containers being started (a
//! `run --rm` right after another competes with the refill of the namespace the one before
//! took); at nice 19 it gets the CPUs when they are idle, and still a share when they never
//! are, so it is late but never starved. One job at a time, in order. (The tidy-up after a
//! removal stays at normal priority: a `rmi` right after it waits for the snapshot to go.)

use std::sync::OnceLock;
use std::sync::mpsc::{Sender, channel};

use crate::error::{EngineError, Result};

type Job = Box<dyn FnOnce() + Send>;

/// The worker's queue; None if its thread could not be started (jobs then run as any other
/// blocking work).
fn queue() -> Option<&'static Sender<Job>> {
    static QUEUE: OnceLock<Option<Sender<Job>>> = OnceLock::new();
    QUEUE
        .get_or_init(|| {
            let (sender, jobs) = channel::<Job>();
            std::thread::Builder::new()
                .name("pier-background".into())
                .spawn(move || {
                    // Linux keeps a nice value per thread (None: the calling one); threads
                    // made from this one inherit it. A failure only costs speed.
                    let _ = rustix::process::setpriority_process(None, 19);
                    for job in jobs {
                        // A job that panics is lost alone; the worker carries on.
                        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                    }
                })
                .ok()
                .map(|_| sender)
        })
        .as_ref()
}

/// Runs `work` on the background thread and gives back its result.
pub(crate) async fn low_priority<T: Send + 'static>(
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    let Some(queue) = queue() else {
        return crate::blocking(work).await;
    };
    let (done, result) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        let _ = done.send(work());
    });
    if let Err(refused) = queue.send(job) {
        // The worker is gone (it never is, short of a panic escaping catch_unwind).
        tokio::task::spawn_blocking(refused.0);
    }
    result
        .await
        .map_err(|_| EngineError::Internal("a background task was dropped".into()))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn jobs_run_in_order_at_the_lowest_priority() {
        let first = low_priority(|| Ok(rustix::process::getpriority_process(None).ok())).await;
        assert_eq!(first.unwrap(), Some(19));
        let order = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut waits = Vec::new();
        for n in 0..5 {
            let order = order.clone();
            waits.push(low_priority(move || {
                order.lock().unwrap().push(n);
                Ok(())
            }));
        }
        for wait in waits {
            wait.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), vec![0, 1, 2, 3, 4]);
        let failed: Result<()> = low_priority(|| Err(EngineError::Internal("no".into()))).await;
        assert!(failed.is_err());
    }
}
