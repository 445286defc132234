//! Exec instances (`docker exec`): made by `POST /containers/{id}/exec`, run by
//! `POST /exec/{id}/start` as `pier runtime exec` of a process derived from the container's
//! own (its capabilities, seccomp, rlimits...), with the exec's command, env, user and
//! working directory; their stdio relayed over the hijacked connection.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use api::types::{ExecConfig, ExecInspectResponse, ExecProcessConfig};
use oci_spec::runtime::{Process, Spec};

use crate::Engine;
use crate::containers::Status;
use crate::containers::names::new_id;
use crate::error::{EngineError, Result};

pub struct ExecInstance {
    pub id: String,
    pub container_id: String,
    pub config: ExecConfig,
    pub state: Mutex<ExecState>,
    /// The master of its terminal while it runs (for resize).
    pub terminal: Mutex<Option<Arc<std::os::fd::OwnedFd>>>,
}

#[derive(Debug, Clone, Default)]
pub struct ExecState {
    pub running: bool,
    pub started: bool,
    pub exit_code: Option<i32>,
    pub pid: i32,
}

#[derive(Default)]
pub struct Execs {
    by_id: Mutex<HashMap<String, Arc<ExecInstance>>>,
}

impl Execs {
    pub fn get(&self, id: &str) -> Result<Arc<ExecInstance>> {
        self.by_id
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .cloned()
            .ok_or_else(|| EngineError::NoSuchExec(id.to_owned()))
    }

    fn insert(&self, exec: Arc<ExecInstance>) {
        self.by_id
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(exec.id.clone(), exec);
    }

    /// Forgets the execs of a removed container.
    pub fn forget_container(&self, container_id: &str) {
        self.by_id
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|_, e| e.container_id != container_id);
    }
}

impl ExecInstance {
    pub fn state(&self) -> std::sync::MutexGuard<'_, ExecState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Engine {
    pub fn create_exec(&self, reference: &str, config: ExecConfig) -> Result<String> {
        let handle = self.containers.get(reference)?;
        let id = handle.id.clone();
        match handle.record().state.status {
            Status::Running => {}
            Status::Paused => {
                return Err(EngineError::Conflict(format!(
                    "Container {id} is paused, unpause the container before exec"
                )));
            }
            _ => {
                return Err(EngineError::Conflict(format!(
                    "Container {id} is not running"
                )));
            }
        }
        if config.cmd.is_empty() {
            return Err(EngineError::InvalidArgument(
                "No exec command specified".into(),
            ));
        }
        let exec_id = new_id()?;
        self.execs.insert(Arc::new(ExecInstance {
            id: exec_id.clone(),
            container_id: id.clone(),
            config,
            state: Mutex::new(ExecState::default()),
            terminal: Mutex::new(None),
        }));
        self.publish_container(
            &handle,
            &format!(
                "exec_create: {}",
                exec_command(&self.execs.get(&exec_id)?.config)
            ),
        );
        Ok(exec_id)
    }

    pub fn inspect_exec(&self, id: &str) -> Result<ExecInspectResponse> {
        let exec = self.execs.get(id)?;
        let state = exec.state().clone();
        let config = &exec.config;
        Ok(ExecInspectResponse {
            id: exec.id.clone(),
            running: state.running,
            exit_code: state.exit_code.map(i64::from),
            process_config: ExecProcessConfig {
                tty: config.tty,
                entrypoint: config.cmd.first().cloned().unwrap_or_default(),
                arguments: config.cmd.iter().skip(1).cloned().collect(),
                privileged: Some(config.privileged),
                user: config.user.clone(),
            },
            open_stdin: config.attach_stdin,
            open_stderr: config.attach_stderr,
            open_stdout: config.attach_stdout,
            can_remove: false,
            container_id: exec.container_id.clone(),
            detach_keys: Some(config.detach_keys.clone()),
            pid: state.pid as i64,
        })
    }

    /// The exec's process as the runtime takes it: the container's own process (from its
    /// bundle) with the exec's command, environment, user, directory and terminal.
    pub(crate) fn exec_process(
        &self,
        exec: &ExecInstance,
        tty: bool,
    ) -> Result<(PathBuf, Process)> {
        let handle = self.containers.get(&exec.container_id)?;
        let container = handle.snapshot();
        let path = container.bundle_dir().join("config.json");
        let spec = Spec::load(&path)
            .map_err(|e| EngineError::Internal(format!("reading {}: {e}", path.display())))?;
        let mut process = spec.process().clone().unwrap_or_default();
        let config = &exec.config;
        process.set_args(Some(config.cmd.clone()));
        process.set_terminal(Some(tty));
        let mut env = process.env().clone().unwrap_or_default();
        for entry in &config.env {
            let key = entry.split('=').next().unwrap_or(entry);
            env.retain(|e| e.split('=').next() != Some(key));
            env.push(entry.clone());
        }
        process.set_env(Some(env));
        if !config.working_dir.is_empty() {
            process.set_cwd(PathBuf::from(&config.working_dir));
        }
        if !config.user.is_empty() {
            let user = crate::spec::resolve_user(&container.rootfs(), &config.user)?;
            process.set_user(user);
        }
        if config.privileged {
            crate::spec::make_privileged_process(&mut process);
        }
        Ok((container.bundle_dir().to_owned(), process))
    }
}

fn exec_command(config: &ExecConfig) -> String {
    config.cmd.join(" ")
}
