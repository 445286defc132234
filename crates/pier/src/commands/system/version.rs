//! `version`: the client's and the daemon's versions in Docker's layout (key and value
//! aligned by Go's tabwriter at width 20), or as `--format` says.

use std::collections::BTreeMap;

use api::types::{ComponentVersion, SystemVersion};
use api::version::MAX_API_VERSION;
use clap::Args;
use serde_json::{Value, json};

use crate::cli::format;
use crate::cli::text::print_text;
use crate::cli::{CliError, Context};

#[derive(Args, Debug)]
pub struct VersionArgs {
    /// Format output using a custom template
    #[arg(short = 'f', long, value_name = "string")]
    format: Option<String>,
}

/// What pier's CLI says of itself.
fn client_info(api_version: &str) -> Value {
    json!({
        "Version": env!("CARGO_PKG_VERSION"),
        "ApiVersion": api_version,
        "DefaultAPIVersion": MAX_API_VERSION.to_string(),
        "GitCommit": "n/a",
        "GoVersion": "n/a",
        "Os": "linux",
        "Arch": go_arch(),
        "BuildTime": "n/a",
        "Context": "default",
    })
}

/// Go's name of this machine's architecture.
fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        other => other,
    }
}

pub async fn version(ctx: &Context, args: VersionArgs) -> Result<(), CliError> {
    let template = args
        .format
        .as_deref()
        .filter(|f| !f.is_empty())
        .map(format::single)
        .transpose()?;
    let server = match ctx.client().await {
        Ok(client) => client
            .get_json::<SystemVersion>("/version")
            .await
            .map(|v| (client.api_version().to_string(), v))
            .map_err(CliError::from),
        Err(error) => Err(error),
    };
    let api_version = server
        .as_ref()
        .map(|(v, _)| v.clone())
        .unwrap_or_else(|_| MAX_API_VERSION.to_string());
    let client = client_info(&api_version);
    match template {
        Some(template) => {
            let data = json!({
                "Client": client,
                "Server": server.as_ref().ok().map(|(_, s)| serde_json::to_value(with_engine(s)).unwrap_or(Value::Null)),
            });
            let text = format::render_one(&template, &data)?;
            print_text(&format!("{text}\n"));
        }
        None => {
            let mut text = client_text(&client);
            if let Ok((_, server)) = &server {
                text.push_str(&server_text(&with_engine(server)));
                text.push('\n');
            }
            print_text(&text);
        }
    }
    server.map(|_| ())
}

/// The line of a key and its value as Docker's tabwriter (width 20, padding 1) aligns it.
fn field(out: &mut String, key: &str, value: &str) {
    let width = 20usize.max(key.chars().count() + 1);
    out.push_str(&format!("{key:<width$}{value}\n"));
}

fn client_text(client: &Value) -> String {
    let s = |key: &str| client[key].as_str().unwrap_or("").to_owned();
    let mut out = String::from("Client:\n");
    field(&mut out, " Version:", &s("Version"));
    let mut api = s("ApiVersion");
    if api != s("DefaultAPIVersion") {
        api = format!("{api} (downgraded from {})", s("DefaultAPIVersion"));
    }
    field(&mut out, " API version:", &api);
    field(&mut out, " Go version:", &s("GoVersion"));
    field(&mut out, " Git commit:", &s("GitCommit"));
    field(&mut out, " Built:", &s("BuildTime"));
    field(&mut out, " OS/Arch:", &format!("{}/{}", s("Os"), s("Arch")));
    field(&mut out, " Context:", &s("Context"));
    out
}

/// The daemon's version with an `Engine` component, made from the top-level fields for a
/// daemon that lists none (as Docker's CLI does).
fn with_engine(server: &SystemVersion) -> SystemVersion {
    let mut server = server.clone();
    if !server.components.iter().any(|c| c.name == "Engine") {
        let details: std::collections::BTreeMap<String, String> = [
            ("ApiVersion", server.api_version.clone()),
            ("MinAPIVersion", server.min_api_version.clone()),
            ("GitCommit", server.git_commit.clone()),
            ("GoVersion", server.go_version.clone()),
            ("Os", server.os.clone()),
            ("Arch", server.arch.clone()),
            ("BuildTime", server.build_time.clone()),
            ("KernelVersion", server.kernel_version.clone()),
            ("Experimental", server.experimental.to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        server.components.insert(
            0,
            ComponentVersion {
                name: "Engine".into(),
                version: server.version.clone(),
                details: Some(details),
            },
        );
    }
    server
}

/// Docker shows an RFC 3339 build time as Go's `ANSIC`; anything else as it is.
fn reformat_date(text: &str) -> String {
    match crate::cli::time::parse_date(text) {
        Some(time) => crate::cli::time::ansic(time.secs),
        None => text.to_owned(),
    }
}

fn server_text(server: &SystemVersion) -> String {
    let mut out = String::from("\nServer:");
    if !server.platform.name.is_empty() {
        out.push(' ');
        out.push_str(&server.platform.name);
    }
    out.push('\n');
    for component in &server.components {
        out.push_str(&format!(" {}:\n", component.name));
        let details: BTreeMap<&str, &str> = component
            .details
            .iter()
            .flatten()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let detail = |key: &str| details.get(key).copied().unwrap_or("");
        if component.name == "Engine" {
            field(&mut out, "  Version:", &component.version);
            field(
                &mut out,
                "  API version:",
                &format!(
                    "{} (minimum version {})",
                    detail("ApiVersion"),
                    detail("MinAPIVersion")
                ),
            );
            field(&mut out, "  Go version:", detail("GoVersion"));
            field(&mut out, "  Git commit:", detail("GitCommit"));
            field(&mut out, "  Built:", &reformat_date(detail("BuildTime")));
            field(
                &mut out,
                "  OS/Arch:",
                &format!("{}/{}", detail("Os"), detail("Arch")),
            );
            field(&mut out, "  Experimental:", detail("Experimental"));
        } else {
            field(&mut out, "  Version:", &component.version);
            for (key, value) in &details {
                field(&mut out, &format!("  {key}:"), value);
            }
        }
    }
    // The last line's newline comes from the caller, as Docker's template ends without one.
    out.pop();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_as_docker() {
        let client = client_info("1.45");
        let text = client_text(&client);
        assert!(text.starts_with("Client:\n Version:           "), "{text}");
        assert!(text.contains("\n API version:       1.45\n"), "{text}");
        let server = SystemVersion {
            version: "0.1.0".into(),
            api_version: "1.45".into(),
            min_api_version: "1.24".into(),
            os: "linux".into(),
            arch: "amd64".into(),
            platform: api::types::PlatformName {
                name: "pier".into(),
            },
            ..Default::default()
        };
        let text = server_text(&with_engine(&server));
        assert!(
            text.starts_with("\nServer: pier\n Engine:\n  Version:          0.1.0\n"),
            "{text}"
        );
        assert!(
            text.contains("\n  API version:      1.45 (minimum version 1.24)\n"),
            "{text}"
        );
        assert!(text.ends_with("  Experimental:     false"), "{text}");
    }

    #[test]
    fn downgraded_client() {
        let text = client_text(&client_info("1.41"));
        assert!(text.contains(" API version:       1.41 (downgraded from 1.45)\n"));
    }
}
