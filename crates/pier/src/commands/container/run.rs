//! `run` and `create`: flags → create body → `POST /containers/create` (pulling the image
//! first or on a miss, as `--pull` says), then for `run` the start, attached or not.

use std::io::Write;

use api::client::{Client, Query, RequestBody, escape_path};
use api::types::{ContainerCreateResponse, JsonMessage};
use clap::Args;
use hyper::{HeaderMap, Method};

use super::attached::{self, Attach, Outcome};
use super::options::ContainerOptions;
use super::translate::{self, CreatePlan, PullPolicy, Streams};
use crate::cli::detach::DEFAULT_DETACH_KEYS;
use crate::cli::error::{parse_failure, run_failure};
use crate::cli::terminal;
use crate::cli::text::{print_err, print_line, split_reference, with_default_tag};
use crate::cli::{CliError, Context};

#[derive(Args, Debug)]
#[command(disable_help_flag = true)]
pub struct RunArgs {
    /// Run container in background and print container ID
    #[arg(short = 'd', long)]
    detach: bool,
    /// Override the key sequence for detaching a container
    #[arg(long, value_name = "string")]
    detach_keys: Option<String>,
    /// Proxy received signals to the process
    #[arg(
        long,
        value_name = "bool",
        num_args = 0..=1,
        require_equals = true,
        default_value = "true",
        default_missing_value = "true"
    )]
    sig_proxy: bool,
    #[command(flatten)]
    options: ContainerOptions,
}

#[derive(Args, Debug)]
#[command(disable_help_flag = true)]
pub struct CreateArgs {
    #[command(flatten)]
    options: ContainerOptions,
}

pub async fn create(ctx: &Context, args: CreateArgs) -> Result<(), CliError> {
    let streams = translate::streams(&args.options, false).map_err(CliError::Other)?;
    let plan = plan(&args.options, streams).map_err(|e| parse_failure(e, "create"))?;
    let id = create_container(ctx, &plan)
        .await
        .map_err(|e| run_failure(e, "create"))?;
    print_line(&id);
    Ok(())
}

pub async fn run(ctx: &Context, args: RunArgs) -> Result<(), CliError> {
    let opts = &args.options;
    let streams = translate::streams(opts, args.detach).map_err(CliError::Other)?;
    if streams.stdin && opts.tty && !terminal::stdin_is_terminal() {
        return Err(CliError::other("the input device is not a TTY"));
    }
    let plan = plan(opts, streams).map_err(|e| parse_failure(e, "run"))?;
    let id = create_container(ctx, &plan)
        .await
        .map_err(|e| run_failure(e, "run"))?;
    let client = ctx.client().await?;
    if args.detach {
        let path = format!("/containers/{}/start", escape_path(&id));
        client
            .post(&path)
            .await
            .map_err(|e| run_failure(e.into(), "run"))?;
        print_line(&id);
        return Ok(());
    }
    let attach = Attach {
        id,
        tty: opts.tty,
        stdin: streams.stdin,
        stdout: streams.stdout,
        stderr: streams.stderr,
        detach_keys: args
            .detach_keys
            .clone()
            .unwrap_or_else(|| DEFAULT_DETACH_KEYS.to_owned()),
        sig_proxy: args.sig_proxy,
    };
    let outcome = attached::run_attached(client, &attach, true, opts.rm)
        .await
        .map_err(|e| run_failure(e, "run"))?;
    match outcome {
        Outcome::Detached | Outcome::Exited(0) => Ok(()),
        Outcome::Exited(code) => Err(CliError::exit(attached::exit_status(code))),
    }
}

fn plan(opts: &ContainerOptions, streams: Streams) -> Result<CreatePlan, CliError> {
    let cwd = std::env::current_dir().unwrap_or_else(|_| "/".into());
    let size = if opts.tty { terminal::size() } else { None };
    let plan = translate::translate(opts, streams, size, &cwd).map_err(CliError::Other)?;
    if let Some(path) = &plan.cidfile
        && std::path::Path::new(path).exists()
    {
        return Err(CliError::other(format!(
            "container ID file found, make sure the other container isn't running or delete {path}"
        )));
    }
    Ok(plan)
}

/// Creates the container (pulling as the plan says) and writes `--cidfile`; returns its id.
async fn create_container(ctx: &Context, plan: &CreatePlan) -> Result<String, CliError> {
    let mut cidfile = match &plan.cidfile {
        Some(path) => Some(
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)
                .map_err(|e| {
                    CliError::other(format!("failed to create the container ID file: {e}"))
                })?,
        ),
        None => None,
    };
    let result = create_with_pull(ctx, plan).await;
    if let (Some(file), Some(path)) = (cidfile.as_mut(), &plan.cidfile) {
        match &result {
            Ok(id) => {
                file.write_all(id.as_bytes()).map_err(|e| {
                    CliError::other(format!("failed to write the container ID to the file: {e}"))
                })?;
            }
            Err(_) => {
                let _ = std::fs::remove_file(path);
            }
        }
    }
    result
}

async fn create_with_pull(ctx: &Context, plan: &CreatePlan) -> Result<String, CliError> {
    let client = ctx.client().await?;
    let pullable = is_pullable(plan.image());
    if plan.pull == PullPolicy::Always && pullable {
        pull_image(client, plan.image(), plan.platform.as_deref(), plan.quiet).await?;
    }
    let created = match send_create(client, plan).await {
        // Only a missing image is worth a pull: a 404 about a network (or a volume driver)
        // would come back the same after it.
        Err(error)
            if error.is_not_found()
                && error.to_string().contains("No such image")
                && pullable
                && plan.pull == PullPolicy::Missing =>
        {
            if !plan.quiet {
                print_err(&format!(
                    "Unable to find image '{}' locally",
                    with_default_tag(plan.image())
                ));
            }
            pull_image(client, plan.image(), plan.platform.as_deref(), plan.quiet).await?;
            send_create(client, plan).await?
        }
        other => other?,
    };
    for warning in &created.warnings {
        print_err(&format!("WARNING: {warning}"));
    }
    Ok(created.id)
}

async fn send_create(
    client: &Client,
    plan: &CreatePlan,
) -> Result<ContainerCreateResponse, CliError> {
    let path = Query::new()
        .arg_opt("name", plan.name.as_deref())
        .arg_opt("platform", plan.platform.as_deref())
        .build("/containers/create");
    Ok(client.post_json(&path, &plan.body).await?)
}

/// An image given by id (`sha256:...`, or 64 hex digits) is not pulled, as Docker does.
fn is_pullable(image: &str) -> bool {
    let hex = image.strip_prefix("sha256:").unwrap_or(image);
    let is_id = hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit());
    !is_id && !image.is_empty()
}

/// `POST /images/create?fromImage=...`, its progress shown on stderr as Docker shows it
/// when stderr is not a terminal.
pub async fn pull_image(
    client: &Client,
    image: &str,
    platform: Option<&str>,
    quiet: bool,
) -> Result<(), CliError> {
    let named = with_default_tag(image);
    let (name, tag, digest) = split_reference(&named);
    let path = Query::new()
        .arg("fromImage", name)
        .arg("tag", digest.or(tag).unwrap_or("latest"))
        .arg_opt("platform", platform)
        .build("/images/create");
    let mut stream = client
        .json_stream::<JsonMessage>(Method::POST, &path, RequestBody::empty(), HeaderMap::new())
        .await?;
    while let Some(message) = stream.next_message().await? {
        if let Some(error) = message.error_message() {
            return Err(CliError::other(error.to_owned()));
        }
        if !quiet && let Some(line) = progress_line(&message) {
            crate::cli::text::print_err(&line);
        }
    }
    Ok(())
}

/// A progress message as Docker prints it to a non-terminal: `<id>: <status>` or the status.
pub fn progress_line(message: &JsonMessage) -> Option<String> {
    if !message.stream.is_empty() {
        return Some(message.stream.trim_end_matches('\n').to_owned());
    }
    if message.status.is_empty() {
        return None;
    }
    if message.id.is_empty() {
        Some(message.status.clone())
    } else {
        Some(format!("{}: {}", message.id, message.status))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_not_pulled() {
        assert!(is_pullable("busybox"));
        assert!(!is_pullable(
            "sha256:a416a98b71e224a31ee99cff8e16063554498227d2b696152a9c3e0aa65e5824"
        ));
        assert!(!is_pullable(
            "a416a98b71e224a31ee99cff8e16063554498227d2b696152a9c3e0aa65e5824"
        ));
    }

    #[test]
    fn progress_lines() {
        let status = JsonMessage {
            status: "Status: Image is up to date for busybox:latest".into(),
            ..Default::default()
        };
        assert_eq!(
            progress_line(&status).unwrap(),
            "Status: Image is up to date for busybox:latest"
        );
        let layer = JsonMessage {
            status: "Pull complete".into(),
            id: "a416a98b71e2".into(),
            ..Default::default()
        };
        assert_eq!(
            progress_line(&layer).unwrap(),
            "a416a98b71e2: Pull complete"
        );
    }
}
