//! The connection to the daemon: which host (`-H`, else `PIER_HOST`, else the default
//! socket), version negotiation, and starting a daemon when the default one does not answer.
//!
//! A daemon is started only for the default host: an address the user chose is theirs to
//! run. It is pier's own executable as `pier daemon` with the default roots, in a session
//! of its own (so that the terminal's hangup and ctrl-c do not reach it), its output
//! appended to `<exec-root>/daemon.log`.

use std::fs::{File, OpenOptions};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use api::client::{Client, DEFAULT_HOST};

use super::error::CliError;

/// The environment variable naming the daemon's address, as `DOCKER_HOST` does for docker.
pub const HOST_ENV: &str = "PIER_HOST";

/// Where the automatically started daemon keeps its runtime state (its `--exec-root`).
const AUTOSTART_EXEC_ROOT: &str = engine::config::DEFAULT_EXEC_ROOT;

/// How long a started daemon has to answer `/_ping`.
const AUTOSTART_TIMEOUT: Duration = Duration::from_secs(10);

/// Which daemon to talk to, and whether the user named it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostChoice {
    pub host: String,
    pub explicit: bool,
}

impl HostChoice {
    /// `-H` wins over `PIER_HOST`, which wins over the default socket. An empty
    /// `PIER_HOST` counts as unset.
    pub fn resolve(flag: Option<&str>, env: Option<&str>) -> Self {
        match (flag, env.filter(|value| !value.is_empty())) {
            (Some(host), _) | (None, Some(host)) => Self {
                host: host.to_owned(),
                explicit: true,
            },
            (None, None) => Self {
                host: DEFAULT_HOST.to_owned(),
                explicit: false,
            },
        }
    }

    pub fn from_env(flag: Option<&str>) -> Self {
        let env = std::env::var(HOST_ENV).ok();
        Self::resolve(flag, env.as_deref())
    }
}

/// Connects to the daemon and agrees on an API version, starting a daemon first when the
/// default one is absent.
pub async fn connect(choice: &HostChoice) -> Result<Client, CliError> {
    let mut client = Client::from_host(&choice.host)?;
    match client.negotiate().await {
        Ok(_) => Ok(client),
        Err(error) if error.is_daemon_absent() && !choice.explicit => {
            autostart(&client).await?;
            client.negotiate().await?;
            Ok(client)
        }
        Err(error) => Err(error.into()),
    }
}

async fn autostart(client: &Client) -> Result<(), CliError> {
    let exec_root = Path::new(AUTOSTART_EXEC_ROOT);
    let failed = |what: &str, error: std::io::Error| {
        CliError::other(format!("starting the daemon: {what}: {error}"))
    };
    std::fs::create_dir_all(exec_root)
        .map_err(|e| failed(&format!("creating {}", exec_root.display()), e))?;
    // Two commands run at once must not both start a daemon: the second waits for the
    // first's, then finds it answering.
    let lock_path = exec_root.join("autostart.lock");
    let lock = File::create(&lock_path)
        .map_err(|e| failed(&format!("opening {}", lock_path.display()), e))?;
    let lock = tokio::task::spawn_blocking(move || {
        rustix::fs::flock(&lock, rustix::fs::FlockOperation::LockExclusive).map(|()| lock)
    })
    .await
    .map_err(|e| CliError::other(format!("starting the daemon: {e}")))?
    .map_err(|e| failed(&format!("locking {}", lock_path.display()), e.into()))?;
    if client.ping().await.is_ok() {
        return Ok(());
    }
    let log_path = exec_root.join("daemon.log");
    let mut child = spawn_daemon(&log_path).map_err(|e| failed("running pier daemon", e))?;
    let result = wait_until_ready(client, &mut child, &log_path).await;
    drop(lock);
    result
}

fn spawn_daemon(log_path: &Path) -> std::io::Result<Child> {
    let exe = std::env::current_exe()?;
    let log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(log_path)?;
    let mut command = Command::new(exe);
    command
        .arg("daemon")
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    // SAFETY: the closure runs in the forked child before exec and calls only setsid(2),
    // which is async-signal-safe and touches no memory of the parent's.
    unsafe {
        command.pre_exec(|| {
            if libc::setsid() == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    command.spawn()
}

async fn wait_until_ready(
    client: &Client,
    child: &mut Child,
    log_path: &Path,
) -> Result<(), CliError> {
    let deadline = Instant::now() + AUTOSTART_TIMEOUT;
    let mut pause = Duration::from_millis(5);
    loop {
        if client.ping().await.is_ok() {
            return Ok(());
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(CliError::other(format!(
                "the daemon exited at start ({status}); see {}",
                log_path.display()
            )));
        }
        if Instant::now() >= deadline {
            return Err(CliError::other(format!(
                "the daemon did not answer within {} seconds; see {}",
                AUTOSTART_TIMEOUT.as_secs(),
                log_path.display()
            )));
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(100));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_precedence() {
        assert_eq!(
            HostChoice::resolve(Some("tcp://127.0.0.1:1"), Some("unix:///x")),
            HostChoice {
                host: "tcp://127.0.0.1:1".into(),
                explicit: true
            }
        );
        assert_eq!(
            HostChoice::resolve(None, Some("unix:///x")),
            HostChoice {
                host: "unix:///x".into(),
                explicit: true
            }
        );
        assert_eq!(
            HostChoice::resolve(None, Some("")),
            HostChoice {
                host: DEFAULT_HOST.into(),
                explicit: false
            }
        );
        assert!(!HostChoice::resolve(None, None).explicit);
    }
}
