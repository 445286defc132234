//! `/containers/{id}/exec` and `/exec/{id}/...`.

use std::os::fd::{AsRawFd, OwnedFd};
use std::process::Stdio;
use std::sync::Arc;

use api::stdcopy::{self, StreamType};
use api::types::{ExecConfig, ExecStartConfig, IdResponse};
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;

use crate::Engine;
use crate::error::EngineError;
use crate::exec::ExecInstance;

use super::attach::ResizeQuery;
use super::body::{JsonBody, Query};
use super::error::{ApiError, ApiResult};
use super::hijack::{self, Stream};

pub fn routes() -> Router<Arc<Engine>> {
    Router::new()
        .route("/containers/{id}/exec", post(create))
        .route("/exec/{id}/start", post(start))
        .route("/exec/{id}/json", get(inspect))
        .route("/exec/{id}/resize", post(resize))
}

async fn create(
    State(engine): State<Arc<Engine>>,
    Path(id): Path<String>,
    JsonBody(config): JsonBody<ExecConfig>,
) -> ApiResult<Response> {
    let config = config.ok_or_else(|| ApiError::bad_request("No exec command specified"))?;
    let id = engine.create_exec(&id, config)?;
    Ok((StatusCode::CREATED, Json(IdResponse { id })).into_response())
}

async fn inspect(State(engine): State<Arc<Engine>>, Path(id): Path<String>) -> ApiResult<Response> {
    Ok(Json(engine.inspect_exec(&id)?).into_response())
}

async fn resize(
    State(engine): State<Arc<Engine>>,
    Path(id): Path<String>,
    Query(query): Query<ResizeQuery>,
) -> ApiResult<StatusCode> {
    let exec = engine.execs.get(&id)?;
    let master = exec
        .terminal
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    if let Some(master) = master {
        set_window_size(&master, query.h, query.w);
    }
    Ok(StatusCode::OK)
}

pub fn set_window_size(master: &OwnedFd, rows: u16, cols: u16) {
    let size = libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads a winsize from a valid pointer; the fd is a pty master we own.
    unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCSWINSZ, &size) };
}

async fn start(
    State(engine): State<Arc<Engine>>,
    Path(id): Path<String>,
    request: Request,
) -> ApiResult<Response> {
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 20)
        .await
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let options: ExecStartConfig = if bytes.iter().all(u8::is_ascii_whitespace) {
        ExecStartConfig::default()
    } else {
        serde_json::from_slice(&bytes)
            .map_err(|e| ApiError::bad_request(format!("invalid JSON: {e}")))?
    };
    let exec = engine.execs.get(&id)?;
    {
        let mut state = exec.state();
        if state.started {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                format!("Exec command {id} is already running"),
            ));
        }
        state.started = true;
        state.running = true;
    }
    let tty = options.tty || exec.config.tty;
    let launch = launch(&engine, &exec, tty, options.detach).await;
    let launched = match launch {
        Ok(l) => l,
        Err(e) => {
            let mut state = exec.state();
            state.running = false;
            state.exit_code = Some(126);
            return Err(e.into());
        }
    };
    if options.detach {
        tokio::spawn(finish(engine.clone(), exec.clone(), launched, None));
        return Ok(StatusCode::OK.into_response());
    }
    let request = Request::from_parts(parts, Body::empty());
    let engine = engine.clone();
    hijack::upgrade(request, tty, move |stream| {
        finish(engine, exec, launched, Some(stream))
    })
}

struct Launched {
    child: tokio::process::Child,
    process_file: std::path::PathBuf,
    socket_dir: Option<std::path::PathBuf>,
    master: Option<Arc<OwnedFd>>,
}

async fn launch(
    engine: &Arc<Engine>,
    exec: &Arc<ExecInstance>,
    tty: bool,
    detach: bool,
) -> Result<Launched, EngineError> {
    let (_, process) = engine.exec_process(exec, tty)?;
    let dir = engine.config.exec_root.join("execs");
    std::fs::create_dir_all(&dir).map_err(|e| EngineError::io("creating", &dir, e))?;
    let process_file = dir.join(format!("{}.json", exec.id));
    let json = serde_json::to_vec(&process).map_err(|e| EngineError::Internal(e.to_string()))?;
    std::fs::write(&process_file, json)
        .map_err(|e| EngineError::io("writing", &process_file, e))?;
    let mut command = Command::new(&engine.config.pier_exe);
    command
        .arg("runtime")
        .arg("--root")
        .arg(engine.config.runtime_root())
        .arg("exec")
        .arg("--process")
        .arg(&process_file);
    let mut socket_dir = None;
    let mut listener = None;
    if tty {
        let sdir = dir.join(format!("{}.d", exec.id));
        std::fs::create_dir_all(&sdir).map_err(|e| EngineError::io("creating", &sdir, e))?;
        let path = sdir.join("console.sock");
        listener =
            Some(runtime::sockpath::bind(&path).map_err(|e| EngineError::io("binding", &path, e))?);
        command.arg("--console-socket").arg(&path);
        socket_dir = Some(sdir);
    }
    command.arg(&exec.container_id);
    let attach_stdin = exec.config.attach_stdin && !detach;
    command
        .stdin(if attach_stdin && !tty {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(if tty || detach {
            Stdio::null()
        } else {
            Stdio::piped()
        })
        .stderr(if tty || detach {
            Stdio::null()
        } else {
            Stdio::piped()
        });
    let child = command
        .spawn()
        .map_err(|e| EngineError::io("running", &engine.config.pier_exe, e))?;
    let master = match listener {
        Some(listener) => Some(Arc::new(
            crate::blocking(move || receive_master(listener)).await?,
        )),
        None => None,
    };
    if let Some(m) = &master {
        *exec.terminal.lock().unwrap_or_else(|p| p.into_inner()) = Some(m.clone());
        if let Some([h, w]) = exec.config.console_size {
            set_window_size(m, h as u16, w as u16);
        }
    }
    Ok(Launched {
        child,
        process_file,
        socket_dir,
        master,
    })
}

/// Takes the terminal's master that `pier runtime exec` sends over the console socket.
fn receive_master(listener: std::os::unix::net::UnixListener) -> Result<OwnedFd, EngineError> {
    let (stream, _) = listener
        .accept()
        .map_err(|e| EngineError::Internal(format!("console socket: {e}")))?;
    crate::terminal::receive_fd(&stream)
}

/// Relays stdio until the process ends, then records its exit code.
async fn finish(
    engine: Arc<Engine>,
    exec: Arc<ExecInstance>,
    mut launched: Launched,
    stream: Option<Stream>,
) {
    // The client's stream is closed only after the exit code is recorded: a client that
    // inspects the exec as soon as its output ends must see the code.
    let to_client = match stream {
        Some(stream) => Some(match launched.master.clone() {
            Some(master) => relay_terminal(stream, master, exec.config.attach_stdin).await,
            None => relay_pipes(stream, &mut launched.child).await,
        }),
        None => None,
    };
    let code = match launched.child.wait().await {
        Ok(status) => status.code().unwrap_or(128),
        Err(_) => 128,
    };
    let _ = std::fs::remove_file(&launched.process_file);
    if let Some(dir) = &launched.socket_dir {
        let _ = std::fs::remove_dir_all(dir);
    }
    *exec.terminal.lock().unwrap_or_else(|p| p.into_inner()) = None;
    {
        let mut state = exec.state();
        state.running = false;
        state.exit_code = Some(code);
    }
    if let Ok(handle) = engine.containers.get(&exec.container_id) {
        engine.publish_container_with(
            &handle,
            "exec_die",
            &[("execID", exec.id.clone()), ("exitCode", code.to_string())],
        );
    }
    if let Some(mut to_client) = to_client {
        let _ = to_client.shutdown().await;
    }
}

type ClientWriter = tokio::io::WriteHalf<Stream>;

async fn relay_pipes(stream: Stream, child: &mut tokio::process::Child) -> ClientWriter {
    let (mut from_client, mut to_client) = tokio::io::split(stream);
    let stdin = child.stdin.take();
    let input = tokio::spawn(async move {
        if let Some(mut stdin) = stdin {
            let _ = tokio::io::copy(&mut from_client, &mut stdin).await;
            let _ = stdin.shutdown().await;
        }
    });
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    let mut out_buf = vec![0u8; 32 * 1024];
    let mut err_buf = vec![0u8; 32 * 1024];
    let mut frame = Vec::with_capacity(32 * 1024 + stdcopy::HEADER_LEN);
    while stdout.is_some() || stderr.is_some() {
        let (kind, n) = tokio::select! {
            r = read_opt(&mut stdout, &mut out_buf) => (StreamType::Stdout, r),
            r = read_opt(&mut stderr, &mut err_buf) => (StreamType::Stderr, r),
        };
        match n {
            Some(n) if n > 0 => {
                let data = if kind == StreamType::Stdout {
                    &out_buf[..n]
                } else {
                    &err_buf[..n]
                };
                frame.clear();
                stdcopy::encode_into(kind, data, &mut frame);
                if to_client.write_all(&frame).await.is_err() {
                    break;
                }
            }
            _ => {
                if kind == StreamType::Stdout {
                    stdout = None
                } else {
                    stderr = None
                }
            }
        }
    }
    input.abort();
    to_client
}

async fn read_opt<R: tokio::io::AsyncRead + Unpin>(
    reader: &mut Option<R>,
    buf: &mut [u8],
) -> Option<usize> {
    match reader {
        Some(r) => r.read(buf).await.ok(),
        None => std::future::pending().await,
    }
}

async fn relay_terminal(stream: Stream, master: Arc<OwnedFd>, stdin: bool) -> ClientWriter {
    let (mut from_client, mut to_client) = tokio::io::split(stream);
    let (Ok(read_fd), Ok(write_fd)) = (master.try_clone(), master.try_clone()) else {
        return to_client;
    };
    let mut from_pty = tokio::fs::File::from_std(std::fs::File::from(read_fd));
    let mut to_pty = tokio::fs::File::from_std(std::fs::File::from(write_fd));
    let input = tokio::spawn(async move {
        if stdin {
            let _ = tokio::io::copy(&mut from_client, &mut to_pty).await;
        }
    });
    // EIO from the master means every slave end is closed: the process is gone.
    let _ = tokio::io::copy(&mut from_pty, &mut to_client).await;
    input.abort();
    to_client
}
