//! `attach`: the local stdio to a running container's.

use api::client::escape_path;
use api::types::ContainerInspectResponse;
use clap::Args;

use super::attached::{self, Attach, Outcome};
use crate::cli::detach::DEFAULT_DETACH_KEYS;
use crate::cli::{CliError, Context};

#[derive(Args, Debug)]
pub struct AttachArgs {
    /// Override the key sequence for detaching a container
    #[arg(long, value_name = "string")]
    detach_keys: Option<String>,
    /// Do not attach STDIN
    #[arg(long)]
    no_stdin: bool,
    /// Proxy all received signals to the process
    #[arg(
        long,
        value_name = "bool",
        num_args = 0..=1,
        require_equals = true,
        default_value = "true",
        default_missing_value = "true"
    )]
    sig_proxy: bool,
    #[arg(value_name = "CONTAINER")]
    container: String,
}

pub async fn attach(ctx: &Context, args: AttachArgs) -> Result<(), CliError> {
    let client = ctx.client().await?;
    let inspect: ContainerInspectResponse = client
        .get_json(&format!(
            "/containers/{}/json",
            escape_path(&args.container)
        ))
        .await?;
    let state = &inspect.state;
    if !state.running {
        return Err(CliError::other(
            "You cannot attach to a stopped container, start it first",
        ));
    }
    if state.paused {
        return Err(CliError::other(
            "You cannot attach to a paused container, unpause it first",
        ));
    }
    if state.restarting {
        return Err(CliError::other(
            "You cannot attach to a restarting container, wait until it is running",
        ));
    }
    let attach = Attach {
        id: inspect.id.clone(),
        tty: inspect.config.tty,
        stdin: !args.no_stdin && inspect.config.open_stdin,
        stdout: true,
        stderr: true,
        detach_keys: args
            .detach_keys
            .unwrap_or_else(|| DEFAULT_DETACH_KEYS.to_owned()),
        sig_proxy: args.sig_proxy,
    };
    match attached::run_attached(client, &attach, false, false).await? {
        Outcome::Detached | Outcome::Exited(0) => Ok(()),
        Outcome::Exited(code) => Err(CliError::exit(attached::exit_status(code))),
    }
}
