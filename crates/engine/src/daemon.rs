//! Starting and stopping the daemon: open the data root, find the containers that ran before,
//! listen on every host, serve until SIGTERM/SIGINT. Containers keep running when the daemon
//! stops (live restore is always on).

use std::path::Path;

use tokio::net::{TcpListener, UnixListener};

use crate::Engine;
use crate::config::DaemonConfig;
use crate::error::{EngineError, Result};
use crate::server;

enum Listener {
    Unix(UnixListener),
    Tcp(TcpListener),
}

/// Runs a daemon until it is told to stop. `ready` is called once every socket listens.
pub async fn run(config: DaemonConfig, ready: impl FnOnce()) -> Result<()> {
    let pid_file = PidFile::take(&config.exec_root.join("pier.pid"))?;
    let engine = Engine::open(config)?;
    engine.init_networking().await?;
    engine.restore_containers().await?;
    engine.reconcile_networking().await;
    engine.start_netns_pool();
    let mut listeners = Vec::new();
    for host in &engine.config.hosts {
        listeners.push(listen(host).await?);
    }
    let router = server::router(engine.clone());
    for listener in listeners {
        let router = router.clone();
        tokio::spawn(async move {
            loop {
                match &listener {
                    Listener::Unix(l) => {
                        if let Ok((stream, _)) = l.accept().await {
                            tokio::spawn(server::serve_connection(router.clone(), stream));
                        }
                    }
                    Listener::Tcp(l) => {
                        if let Ok((stream, _)) = l.accept().await {
                            let _ = stream.set_nodelay(true);
                            tokio::spawn(server::serve_connection(router.clone(), stream));
                        }
                    }
                }
            }
        });
    }
    ready();
    tokio::spawn(trim_when_idle());
    wait_for_stop().await;
    engine
        .finish_tidying(std::time::Duration::from_secs(10))
        .await;
    engine.drain_netns_pool().await;
    engine.ready_shim.discard().await;
    for host in &engine.config.hosts {
        if let Some(path) = host.strip_prefix("unix://") {
            let _ = std::fs::remove_file(path);
        }
    }
    drop(pid_file);
    Ok(())
}

/// `<exec-root>/pier.pid`: the daemon's pid, locked for as long as it runs, so that a second
/// daemon on the same roots is refused rather than fighting the first over its containers.
struct PidFile {
    path: std::path::PathBuf,
    _locked: std::fs::File,
}

impl PidFile {
    fn take(path: &Path) -> Result<PidFile> {
        use std::io::{Read, Seek, Write};
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| EngineError::io("creating", parent, e))?;
        }
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|e| EngineError::io("opening", path, e))?;
        if rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive).is_err() {
            let mut pid = String::new();
            let _ = file.read_to_string(&mut pid);
            return Err(EngineError::Conflict(format!(
                "pid file found, ensure pier is not running (pid {}) or delete {}",
                pid.trim(),
                path.display()
            )));
        }
        let written = file
            .set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| writeln!(file, "{}", std::process::id()));
        written.map_err(|e| EngineError::io("writing", path, e))?;
        Ok(PidFile {
            path: path.to_owned(),
            _locked: file,
        })
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// How long without a request before the daemon gives back what serving took.
const IDLE_TRIM_AFTER: std::time::Duration = std::time::Duration::from_secs(10);

/// Once after start-up and once after each busy spell, when no request has come for a
/// while: code and data pages that serving touched go back to the page cache, and the
/// allocator's free memory to the kernel (see `runtime::memtrim`). A daemon that sits idle
/// costs a few MiB rather than everything it ever ran.
async fn trim_when_idle() {
    use std::sync::atomic::Ordering;
    let mut previous = None;
    let mut trimmed_at = None;
    loop {
        tokio::time::sleep(IDLE_TRIM_AFTER).await;
        let served = server::REQUESTS_SERVED.load(Ordering::Relaxed);
        if previous == Some(served) && trimmed_at != Some(served) {
            let _ = tokio::task::spawn_blocking(runtime::memtrim::release_clean_file_pages).await;
            trimmed_at = Some(served);
        }
        previous = Some(served);
    }
}

async fn listen(host: &str) -> Result<Listener> {
    if let Some(path) = host.strip_prefix("unix://") {
        let path = Path::new(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| EngineError::io("creating", parent, e))?;
        }
        // A socket left by a daemon that died: nobody answers on it.
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(EngineError::Conflict(format!(
                "another daemon is already listening on {}",
                path.display()
            )));
        }
        let _ = std::fs::remove_file(path);
        let listener =
            UnixListener::bind(path).map_err(|e| EngineError::io("listening on", path, e))?;
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660));
        return Ok(Listener::Unix(listener));
    }
    let address = host
        .strip_prefix("tcp://")
        .or_else(|| host.strip_prefix("http://"))
        .ok_or_else(|| EngineError::InvalidArgument(format!("invalid host: {host}")))?;
    let listener = TcpListener::bind(address)
        .await
        .map_err(|e| EngineError::io("listening on", address, e))?;
    Ok(Listener::Tcp(listener))
}

async fn wait_for_stop() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        std::future::pending::<()>().await;
        return;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}
