//! `save`, `load` and `import`: images to and from tar archives.

use std::io::Write;

use api::client::{ByteStream, Query, RequestBody};
use api::types::JsonMessage;
use clap::Args;
use hyper::{HeaderMap, Method};

use crate::cli::terminal;
use crate::cli::text::{familiar_name, print_line, split_reference};
use crate::cli::upload;
use crate::cli::{CliError, Context};

#[derive(Args, Debug)]
pub struct SaveArgs {
    /// Write to a file, instead of STDOUT
    #[arg(short = 'o', long, value_name = "string")]
    output: Option<String>,
    /// Save only the given platform variant
    #[arg(long, value_name = "string")]
    platform: Option<String>,
    #[arg(value_name = "IMAGE", required = true)]
    images: Vec<String>,
}

pub async fn save(ctx: &Context, args: SaveArgs) -> Result<(), CliError> {
    if args.output.is_none() && terminal::stdout_is_terminal() {
        return Err(CliError::other(
            "cowardly refusing to save to a terminal. Use the -o flag or redirect",
        ));
    }
    let mut query = Query::new();
    for image in &args.images {
        query = query.arg("names", image);
    }
    let path = query
        .arg_opt("platform", args.platform.as_deref())
        .build("/images/get");
    let client = ctx.client().await?;
    let response = client
        .request(Method::GET, &path, RequestBody::empty(), HeaderMap::new())
        .await?;
    let mut body = ByteStream::new(response.into_body());
    match &args.output {
        Some(output) => {
            // Written beside the target and renamed, so that a failed save leaves no
            // partial archive under the name asked for.
            let target = std::path::Path::new(output);
            let dir = target
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or_else(|| std::path::Path::new("."));
            let mut temp = tempfile_in(dir)
                .map_err(|e| CliError::other(format!("failed to save image: {e}")))?;
            while let Some(chunk) = body.next_chunk().await? {
                temp.1
                    .write_all(&chunk)
                    .map_err(|e| CliError::other(format!("failed to save image: {e}")))?;
            }
            temp.1
                .sync_all()
                .and_then(|()| std::fs::rename(&temp.0, target))
                .map_err(|e| {
                    let _ = std::fs::remove_file(&temp.0);
                    CliError::other(format!("failed to save image: {e}"))
                })?;
        }
        None => {
            let mut out = std::io::stdout().lock();
            while let Some(chunk) = body.next_chunk().await? {
                out.write_all(&chunk)
                    .map_err(|e| CliError::other(format!("failed to save image: {e}")))?;
            }
            let _ = out.flush();
        }
    }
    Ok(())
}

fn tempfile_in(dir: &std::path::Path) -> std::io::Result<(std::path::PathBuf, std::fs::File)> {
    for attempt in 0..100u32 {
        let name = format!(".pier-save-{}-{attempt}", std::process::id());
        let path = dir.join(name);
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(file) => return Ok((path, file)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other("no free temporary name"))
}

#[derive(Args, Debug)]
pub struct LoadArgs {
    /// Read from tar archive file, instead of STDIN
    #[arg(short = 'i', long, value_name = "string")]
    input: Option<String>,
    /// Suppress the load output
    #[arg(short = 'q', long)]
    quiet: bool,
    /// Load only the given platform variant
    #[arg(long, value_name = "string")]
    platform: Option<String>,
}

pub async fn load(ctx: &Context, args: LoadArgs) -> Result<(), CliError> {
    if args.input.is_none() && terminal::stdin_is_terminal() {
        return Err(CliError::other(
            "requested load from stdin, but stdin is empty",
        ));
    }
    let body = upload::file_or_stdin(args.input.as_deref()).map_err(|e| {
        CliError::other(match &args.input {
            Some(path) => crate::cli::text::go_io_error("open", path, &e),
            None => e.to_string(),
        })
    })?;
    let path = Query::new()
        .flag("quiet", args.quiet)
        .arg_opt("platform", args.platform.as_deref())
        .build("/images/load");
    let client = ctx.client().await?;
    let mut stream = client
        .json_stream::<JsonMessage>(Method::POST, &path, body, HeaderMap::new())
        .await?;
    show_messages(&mut stream).await
}

/// Prints a JSON message stream to stdout as Docker does for a non-terminal (build output
/// and statuses, each as it comes); an error message ends it.
async fn show_messages(stream: &mut api::client::JsonStream<JsonMessage>) -> Result<(), CliError> {
    while let Some(message) = stream.next_message().await? {
        if let Some(error) = message.error_message() {
            return Err(CliError::other(error.to_owned()));
        }
        if !message.stream.is_empty() {
            crate::cli::text::print_text(&message.stream);
        } else if !message.status.is_empty() {
            if message.id.is_empty() {
                print_line(&message.status);
            } else {
                print_line(&format!("{}: {}", message.id, message.status));
            }
        }
    }
    Ok(())
}

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// Apply Dockerfile instruction to the created image
    #[arg(short = 'c', long = "change", value_name = "list")]
    change: Vec<String>,
    /// Set commit message for imported image
    #[arg(short = 'm', long, value_name = "string")]
    message: Option<String>,
    /// Set platform if server is multi-platform capable
    #[arg(long, value_name = "string")]
    platform: Option<String>,
    #[arg(value_name = "file|URL|-")]
    source: String,
    #[arg(value_name = "REPOSITORY[:TAG]")]
    reference: Option<String>,
}

pub async fn import(ctx: &Context, args: ImportArgs) -> Result<(), CliError> {
    let is_url = args.source.starts_with("http://") || args.source.starts_with("https://");
    let (from_src, body) = if is_url {
        (args.source.as_str(), RequestBody::empty())
    } else {
        let file = (args.source != "-").then_some(args.source.as_str());
        let body = upload::file_or_stdin(file).map_err(|e| {
            CliError::other(crate::cli::text::go_io_error("open", &args.source, &e))
        })?;
        ("-", body)
    };
    let mut query = Query::new().arg("fromSrc", from_src);
    if let Some(reference) = &args.reference {
        let (repo, tag, _) = split_reference(familiar_name(reference));
        query = query.arg("repo", repo).arg_opt("tag", tag);
    }
    for change in &args.change {
        query = query.arg("changes", change);
    }
    let path = query
        .arg_opt("message", args.message.as_deref())
        .arg_opt("platform", args.platform.as_deref())
        .build("/images/create");
    let client = ctx.client().await?;
    let mut stream = client
        .json_stream::<JsonMessage>(Method::POST, &path, body, HeaderMap::new())
        .await?;
    show_messages(&mut stream).await
}
