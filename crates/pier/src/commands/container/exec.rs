//! `exec`: a process in a running container (`POST /containers/{id}/exec`), started
//! detached or with the local stdio attached, and its exit status as pier's.

use api::client::{RequestBody, escape_path};
use api::types::{ExecConfig, ExecInspectResponse, ExecStartConfig, IdResponse};
use clap::Args;
use hyper::Method;

use super::attached::exit_status;
use super::envfile::{read_env, validate_env};
use crate::cli::detach::{DEFAULT_DETACH_KEYS, parse_detach_keys};
use crate::cli::session::{self, SessionEnd, SessionOptions};
use crate::cli::terminal::{self, RawMode};
use crate::cli::{CliError, Context};

#[derive(Args, Debug)]
pub struct ExecArgs {
    /// Detached mode: run command in the background
    #[arg(short = 'd', long)]
    detach: bool,
    /// Override the key sequence for detaching a container
    #[arg(long, value_name = "string")]
    detach_keys: Option<String>,
    /// Set environment variables
    #[arg(short = 'e', long = "env", value_name = "list", value_parser = validate_env)]
    env: Vec<String>,
    /// Read in a file of environment variables
    #[arg(long = "env-file", value_name = "list")]
    env_file: Vec<String>,
    /// Keep STDIN open even if not attached
    #[arg(short = 'i', long)]
    interactive: bool,
    /// Give extended privileges to the command
    #[arg(long)]
    privileged: bool,
    /// Allocate a pseudo-TTY
    #[arg(short = 't', long)]
    tty: bool,
    /// Username or UID (format: "<name|uid>[:<group|gid>]")
    #[arg(short = 'u', long, value_name = "string")]
    user: Option<String>,
    /// Working directory inside the container
    #[arg(short = 'w', long, value_name = "string")]
    workdir: Option<String>,
    /// The container, then the command and its arguments
    #[arg(
        value_name = "CONTAINER",
        required = true,
        num_args = 2..,
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    container_and_command: Vec<String>,
}

/// The body of `POST /containers/{id}/exec` for these flags.
pub fn exec_config(
    args: &ExecArgs,
    console_size: Option<[u32; 2]>,
) -> Result<ExecConfig, CliError> {
    let env = read_env(&args.env_file, &args.env).map_err(CliError::Other)?;
    Ok(ExecConfig {
        user: args.user.clone().unwrap_or_default(),
        privileged: args.privileged,
        tty: args.tty,
        console_size,
        attach_stdin: args.interactive && !args.detach,
        attach_stdout: !args.detach,
        attach_stderr: !args.detach,
        detach: false,
        detach_keys: args.detach_keys.clone().unwrap_or_default(),
        env,
        working_dir: args.workdir.clone().unwrap_or_default(),
        cmd: args.container_and_command[1..].to_vec(),
    })
}

pub async fn exec(ctx: &Context, args: ExecArgs) -> Result<(), CliError> {
    let container = &args.container_and_command[0];
    let client = ctx.client().await?;
    // An unknown container is reported before anything else, as Docker does.
    client
        .get_json::<serde_json::Value>(&format!("/containers/{}/json", escape_path(container)))
        .await?;
    if !args.detach && args.interactive && args.tty && !terminal::stdin_is_terminal() {
        return Err(CliError::other("the input device is not a TTY"));
    }
    let size = if args.tty {
        terminal::size().map(|(h, w)| [u32::from(h), u32::from(w)])
    } else {
        None
    };
    let config = exec_config(&args, size)?;
    let created: IdResponse = client
        .post_json(
            &format!("/containers/{}/exec", escape_path(container)),
            &config,
        )
        .await?;
    if created.id.is_empty() {
        return Err(CliError::other("exec ID empty"));
    }
    let exec_path = format!("/exec/{}", escape_path(&created.id));
    let start = ExecStartConfig {
        detach: args.detach,
        tty: args.tty,
        console_size: size,
    };
    if args.detach {
        client
            .post_body(&format!("{exec_path}/start"), &start)
            .await?;
        return Ok(());
    }
    let keys = args.detach_keys.as_deref().unwrap_or(DEFAULT_DETACH_KEYS);
    let keys = parse_detach_keys(keys).map_err(CliError::Other)?;
    let conn = client
        .hijack(
            Method::POST,
            &format!("{exec_path}/start"),
            RequestBody::json(&start)?,
        )
        .await?;
    let raw =
        if args.tty && args.interactive && terminal::stdin_is_terminal() {
            Some(RawMode::enable().map_err(|e| {
                CliError::other(format!("failed to set the terminal to raw mode: {e}"))
            })?)
        } else {
            None
        };
    let resizer = (args.tty && terminal::stdin_is_terminal()).then(|| {
        let client = client.clone();
        let prefix = exec_path.clone();
        terminal::watch_size(move |height, width, first| {
            let client = client.clone();
            let prefix = prefix.clone();
            async move { session::resize(&client, &prefix, height, width, first).await }
        })
    });
    let options = SessionOptions {
        tty: args.tty,
        stdin: args.interactive,
        detach_keys: keys,
    };
    let ended = session::run_session(conn, options).await;
    drop(raw);
    if let Some(task) = resizer {
        task.abort();
    }
    if ended? == SessionEnd::Detached {
        return Ok(());
    }
    let inspect: ExecInspectResponse = client.get_json(&format!("{exec_path}/json")).await?;
    match inspect.exit_code.unwrap_or(0) {
        0 => Ok(()),
        code => Err(CliError::exit(exit_status(code))),
    }
}
