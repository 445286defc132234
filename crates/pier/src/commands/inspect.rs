//! `inspect`, `container inspect`, `image inspect`, `network inspect`, `volume inspect`: the
//! daemon's JSON of each object, as one array indented by four spaces (the keys in the
//! daemon's order), or a template applied to each; the errors after the output, as Docker
//! prints them.

use api::client::{ByteStream, Client, Query, RequestBody, escape_path};
use clap::Args;
use hyper::{HeaderMap, Method};

use crate::cli::format;
use crate::cli::json::indent;
use crate::cli::text::print_text;
use crate::cli::{CliError, Context};

/// The kinds of object `inspect` looks for, in the order it tries them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    Container,
    Image,
    Network,
    Volume,
}

impl Kind {
    const ALL: [Kind; 4] = [Kind::Container, Kind::Image, Kind::Network, Kind::Volume];

    fn path(self, name: &str, size: bool) -> String {
        let name = escape_path(name);
        match self {
            Kind::Container => Query::new()
                .flag("size", size)
                .build(&format!("/containers/{name}/json")),
            Kind::Image => format!("/images/{name}/json"),
            Kind::Network => format!("/networks/{name}"),
            Kind::Volume => format!("/volumes/{name}"),
        }
    }
}

#[derive(Args, Debug)]
pub struct InspectArgs {
    /// Format output using a custom template
    #[arg(short = 'f', long, value_name = "string")]
    format: Option<String>,
    /// Display total file sizes if the type is container
    #[arg(short = 's', long)]
    size: bool,
    /// Return JSON for specified type
    #[arg(long = "type", value_name = "string")]
    kind: Option<Kind>,
    #[arg(value_name = "NAME|ID", required = true)]
    names: Vec<String>,
}

/// `container inspect`, `image inspect`, `network inspect`, `volume inspect`: one kind only.
#[derive(Args, Debug)]
pub struct TypedInspectArgs {
    /// Format output using a custom template
    #[arg(short = 'f', long, value_name = "string")]
    format: Option<String>,
    /// Display total file sizes
    #[arg(short = 's', long)]
    size: bool,
    #[arg(value_name = "NAME", required = true)]
    names: Vec<String>,
}

pub async fn inspect(ctx: &Context, args: InspectArgs) -> Result<(), CliError> {
    let kinds: Vec<Kind> = match args.kind {
        Some(kind) => vec![kind],
        None => Kind::ALL.to_vec(),
    };
    run(
        ctx,
        &kinds,
        args.kind.is_none(),
        args.format.as_deref(),
        args.size,
        &args.names,
    )
    .await
}

pub async fn inspect_kind(
    ctx: &Context,
    kind: Kind,
    args: TypedInspectArgs,
) -> Result<(), CliError> {
    run(
        ctx,
        &[kind],
        false,
        args.format.as_deref(),
        args.size,
        &args.names,
    )
    .await
}

async fn run(
    ctx: &Context,
    kinds: &[Kind],
    any_kind: bool,
    template: Option<&str>,
    size: bool,
    names: &[String],
) -> Result<(), CliError> {
    let template = template
        .filter(|t| !t.is_empty())
        .map(format::single)
        .transpose()?;
    let client = ctx.client().await?;
    let mut found = Vec::new();
    let mut errors = Vec::new();
    for name in names {
        match find(client, kinds, name, size).await {
            Ok(Some(raw)) => found.push(raw),
            Ok(None) if any_kind => errors.push(format!("Error: No such object: {name}")),
            Ok(None) => errors.push(format!("Error: No such object: {name}")),
            Err(error) => errors.push(error.to_string()),
        }
    }
    let mut output = String::new();
    match &template {
        Some(template) => {
            for raw in &found {
                let value: serde_json::Value = serde_json::from_str(raw).map_err(|e| {
                    CliError::other(format!("error decoding the daemon's answer: {e}"))
                })?;
                match format::render_inspected(template, &value) {
                    Ok(text) => {
                        output.push_str(&text);
                        output.push('\n');
                    }
                    Err(error) => errors.push(error.to_string()),
                }
            }
        }
        None => {
            let joined = format!("[{}]", found.join(","));
            output = indent(&joined, "    ");
            output.push('\n');
        }
    }
    if output.is_empty() && template.is_some() {
        // Docker writes an empty line when the templates wrote nothing at all.
        output.push('\n');
    }
    print_text(&output);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(CliError::Other(errors.join("\n")))
    }
}

/// The raw JSON of the first kind that has `name`; `None` when none has. With a single
/// kind, the daemon's 404 is the error.
async fn find(
    client: &Client,
    kinds: &[Kind],
    name: &str,
    size: bool,
) -> Result<Option<String>, CliError> {
    for &kind in kinds {
        match get_raw(client, &kind.path(name, size)).await {
            Ok(raw) => return Ok(Some(raw)),
            Err(error) if error.is_not_found() && kinds.len() > 1 => continue,
            Err(error) => return Err(error),
        }
    }
    Ok(None)
}

async fn get_raw(client: &Client, path: &str) -> Result<String, CliError> {
    let response = client
        .request(Method::GET, path, RequestBody::empty(), HeaderMap::new())
        .await?;
    let mut body = ByteStream::new(response.into_body());
    let mut bytes = Vec::new();
    while let Some(chunk) = body.next_chunk().await? {
        bytes.extend_from_slice(&chunk);
    }
    let text = String::from_utf8(bytes)
        .map_err(|e| CliError::other(format!("error decoding the daemon's answer: {e}")))?;
    Ok(text.trim().to_owned())
}
