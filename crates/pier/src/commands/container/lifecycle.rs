//! `start`, `stop`, `kill`, `restart`, `rm`, `pause`, `unpause`, `wait`, `rename`: one API
//! call per container named, each name printed when its call succeeds and the failures
//! reported together at the end, as Docker's CLI does.

use std::future::Future;

use api::client::{Client, Query, escape_path};
use api::types::{ContainerInspectResponse, ContainerWaitResponse};
use clap::Args;

use super::attached::{self, Attach, Outcome};
use crate::cli::detach::DEFAULT_DETACH_KEYS;
use crate::cli::text::{print_err, print_line};
use crate::cli::{CliError, Context, Failures};

fn container_path(name: &str, action: &str) -> String {
    format!("/containers/{}/{action}", escape_path(name))
}

/// Runs `action` on every container (in parallel, as Docker does), printing each name that
/// succeeded in the order given.
async fn each<F, Fut>(client: &Client, names: &[String], action: F) -> Result<(), CliError>
where
    F: Fn(Client, String) -> Fut,
    Fut: Future<Output = Result<(), CliError>> + Send + 'static,
{
    let tasks: Vec<_> = names
        .iter()
        .map(|name| tokio::spawn(action(client.clone(), name.clone())))
        .collect();
    let mut failures = Failures::default();
    for (name, task) in names.iter().zip(tasks) {
        match task.await {
            Ok(Ok(())) => print_line(name),
            Ok(Err(error)) => failures.add(error),
            Err(error) => failures.add(CliError::other(error.to_string())),
        }
    }
    failures.into_result()
}

#[derive(Args, Debug)]
pub struct StartArgs {
    /// Attach STDOUT/STDERR and forward signals
    #[arg(short = 'a', long)]
    attach: bool,
    /// Attach container's STDIN
    #[arg(short = 'i', long)]
    interactive: bool,
    /// Override the key sequence for detaching a container
    #[arg(long, value_name = "string")]
    detach_keys: Option<String>,
    #[arg(value_name = "CONTAINER", required = true)]
    containers: Vec<String>,
}

pub async fn start(ctx: &Context, args: StartArgs) -> Result<(), CliError> {
    let client = ctx.client().await?;
    if !(args.attach || args.interactive) {
        let mut failed = Vec::new();
        for name in &args.containers {
            match client.post(&container_path(name, "start")).await {
                Ok(()) => print_line(name),
                Err(error) => {
                    print_err(&CliError::from(error).to_string());
                    failed.push(name.as_str());
                }
            }
        }
        if failed.is_empty() {
            return Ok(());
        }
        return Err(CliError::other(format!(
            "Error: failed to start containers: {}",
            failed.join(", ")
        )));
    }
    if args.containers.len() > 1 {
        return Err(CliError::other(
            "you cannot start and attach multiple containers at once",
        ));
    }
    let name = &args.containers[0];
    let inspect: ContainerInspectResponse = client
        .get_json(&format!("/containers/{}/json", escape_path(name)))
        .await?;
    let config = &inspect.config;
    let tty = config.tty;
    let attach = Attach {
        id: inspect.id.clone(),
        tty,
        stdin: args.interactive && config.open_stdin,
        stdout: true,
        stderr: true,
        detach_keys: args
            .detach_keys
            .unwrap_or_else(|| DEFAULT_DETACH_KEYS.to_owned()),
        sig_proxy: true,
    };
    let auto_remove = inspect.host_config.auto_remove;
    match attached::run_attached(client, &attach, true, auto_remove).await? {
        Outcome::Detached | Outcome::Exited(0) => Ok(()),
        Outcome::Exited(code) => Err(CliError::exit(attached::exit_status(code))),
    }
}

#[derive(Args, Debug)]
pub struct StopArgs {
    /// Signal to send to the container
    #[arg(short = 's', long, value_name = "string")]
    signal: Option<String>,
    /// Seconds to wait before killing the container
    #[arg(
        short = 't',
        long = "timeout",
        alias = "time",
        value_name = "int",
        value_parser = super::options::parse_int,
        allow_negative_numbers = true
    )]
    timeout: Option<i64>,
    #[arg(value_name = "CONTAINER", required = true)]
    containers: Vec<String>,
}

fn stop_query(signal: &Option<String>, timeout: Option<i64>) -> Query {
    Query::new()
        .arg_opt("signal", signal.as_deref())
        .arg_opt("t", timeout.map(|t| t.to_string()))
}

pub async fn stop(ctx: &Context, args: StopArgs) -> Result<(), CliError> {
    stop_or_restart(ctx, args, "stop").await
}

pub async fn restart(ctx: &Context, args: StopArgs) -> Result<(), CliError> {
    stop_or_restart(ctx, args, "restart").await
}

/// `stop` and `restart` take the same flags and call the same way.
async fn stop_or_restart(
    ctx: &Context,
    args: StopArgs,
    action: &'static str,
) -> Result<(), CliError> {
    let client = ctx.client().await?;
    let StopArgs {
        signal,
        timeout,
        containers,
    } = args;
    each(client, &containers, move |client, name| {
        let path = stop_query(&signal, timeout).build(&container_path(&name, action));
        async move { Ok(client.post(&path).await?) }
    })
    .await
}

#[derive(Args, Debug)]
pub struct KillArgs {
    /// Signal to send to the container
    #[arg(short = 's', long, value_name = "string")]
    signal: Option<String>,
    #[arg(value_name = "CONTAINER", required = true)]
    containers: Vec<String>,
}

pub async fn kill(ctx: &Context, args: KillArgs) -> Result<(), CliError> {
    let client = ctx.client().await?;
    let signal = args.signal;
    each(client, &args.containers, move |client, name| {
        let path = Query::new()
            .arg_opt("signal", signal.as_deref())
            .build(&container_path(&name, "kill"));
        async move { Ok(client.post(&path).await?) }
    })
    .await
}

#[derive(Args, Debug)]
pub struct RmArgs {
    /// Force the removal of a running container (uses SIGKILL)
    #[arg(short = 'f', long)]
    force: bool,
    /// Remove the specified link
    #[arg(short = 'l', long)]
    link: bool,
    /// Remove anonymous volumes associated with the container
    #[arg(short = 'v', long)]
    volumes: bool,
    #[arg(value_name = "CONTAINER", required = true)]
    containers: Vec<String>,
}

pub async fn rm(ctx: &Context, args: RmArgs) -> Result<(), CliError> {
    let client = ctx.client().await?;
    let tasks: Vec<_> = args
        .containers
        .iter()
        .map(|name| {
            let client = client.clone();
            let path = Query::new()
                .flag("v", args.volumes)
                .flag("link", args.link)
                .flag("force", args.force)
                .build(&format!(
                    "/containers/{}",
                    escape_path(name.trim_start_matches('/'))
                ));
            tokio::spawn(async move { client.delete(&path).await })
        })
        .collect();
    let mut failures = Failures::default();
    for (name, task) in args.containers.iter().zip(tasks) {
        match task.await {
            Ok(Ok(())) => print_line(name),
            Ok(Err(error)) if args.force && error.is_not_found() => {
                print_err(&CliError::from(error).to_string());
            }
            Ok(Err(error)) => failures.add(error.into()),
            Err(error) => failures.add(CliError::other(error.to_string())),
        }
    }
    failures.into_result()
}

#[derive(Args, Debug)]
pub struct ContainersArgs {
    #[arg(value_name = "CONTAINER", required = true)]
    containers: Vec<String>,
}

pub async fn pause(ctx: &Context, args: ContainersArgs) -> Result<(), CliError> {
    let client = ctx.client().await?;
    each(client, &args.containers, |client, name| async move {
        Ok(client.post(&container_path(&name, "pause")).await?)
    })
    .await
}

pub async fn unpause(ctx: &Context, args: ContainersArgs) -> Result<(), CliError> {
    let client = ctx.client().await?;
    each(client, &args.containers, |client, name| async move {
        Ok(client.post(&container_path(&name, "unpause")).await?)
    })
    .await
}

pub async fn wait(ctx: &Context, args: ContainersArgs) -> Result<(), CliError> {
    let client = ctx.client().await?;
    let tasks: Vec<_> = args
        .containers
        .iter()
        .map(|name| {
            let client = client.clone();
            let path = container_path(name, "wait");
            tokio::spawn(async move { client.post_for_json::<ContainerWaitResponse>(&path).await })
        })
        .collect();
    let mut failures = Failures::default();
    for task in tasks {
        match task.await {
            Ok(Ok(answer)) => match answer.error.filter(|e| !e.message.is_empty()) {
                Some(error) => failures.add(CliError::other(error.message)),
                None => print_line(&answer.status_code.to_string()),
            },
            Ok(Err(error)) => failures.add(error.into()),
            Err(error) => failures.add(CliError::other(error.to_string())),
        }
    }
    failures.into_result()
}

#[derive(Args, Debug)]
pub struct RenameArgs {
    #[arg(value_name = "CONTAINER")]
    container: String,
    #[arg(value_name = "NEW_NAME")]
    new_name: String,
}

pub async fn rename(ctx: &Context, args: RenameArgs) -> Result<(), CliError> {
    let new_name = args.new_name.trim();
    if new_name.is_empty() {
        return Err(CliError::other(
            "Error: Neither old nor new names may be empty",
        ));
    }
    let client = ctx.client().await?;
    let path = Query::new()
        .arg("name", new_name)
        .build(&container_path(args.container.trim(), "rename"));
    client.post(&path).await?;
    Ok(())
}
