//! `logs`: the container's output from its log, demultiplexed to stdout and stderr (one
//! raw stream for a container with a terminal).

use api::client::{Query, escape_path};
use api::types::ContainerInspectResponse;
use clap::Args;

use crate::cli::session::write_out;
use crate::cli::time::{UnixTime, timestamp_arg};
use crate::cli::{CliError, Context};

#[derive(Args, Debug)]
pub struct LogsArgs {
    /// Show extra details provided to logs
    #[arg(long)]
    details: bool,
    /// Follow log output
    #[arg(short = 'f', long)]
    follow: bool,
    /// Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)
    #[arg(long, value_name = "string")]
    since: Option<String>,
    /// Number of lines to show from the end of the logs
    #[arg(short = 'n', long, value_name = "string", default_value = "all")]
    tail: String,
    /// Show timestamps
    #[arg(short = 't', long)]
    timestamps: bool,
    /// Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)
    #[arg(long, value_name = "string")]
    until: Option<String>,
    #[arg(value_name = "CONTAINER")]
    container: String,
}

fn time_arg(name: &str, value: Option<&str>, now: UnixTime) -> Result<Option<String>, CliError> {
    value
        .map(|value| {
            timestamp_arg(value, now)
                .map_err(|e| CliError::other(format!("invalid value for \"{name}\": {e}")))
        })
        .transpose()
}

pub async fn logs(ctx: &Context, args: LogsArgs) -> Result<(), CliError> {
    let client = ctx.client().await?;
    let inspect: ContainerInspectResponse = client
        .get_json(&format!(
            "/containers/{}/json",
            escape_path(&args.container)
        ))
        .await?;
    let now = UnixTime::now();
    let path = Query::new()
        .flag("stdout", true)
        .flag("stderr", true)
        .arg_opt("since", time_arg("since", args.since.as_deref(), now)?)
        .arg_opt("until", time_arg("until", args.until.as_deref(), now)?)
        .flag("timestamps", args.timestamps)
        .flag("follow", args.follow)
        .arg("tail", &args.tail)
        .flag("details", args.details)
        .build(&format!("/containers/{}/logs", escape_path(&inspect.id)));
    let mut output = client.output_stream(&path, !inspect.config.tty).await?;
    while let Some((stream, bytes)) = output.next_output().await? {
        write_out(stream, &bytes)?;
    }
    Ok(())
}
