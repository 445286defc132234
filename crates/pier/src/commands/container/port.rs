//! `pier port CONTAINER [PRIVATE_PORT[/PROTO]]`: the container's published ports, from its
//! inspect, in Docker's lines (`80/tcp -> 0.0.0.0:8080`).

use api::client::escape_path;
use api::types::{ContainerInspectResponse, PortMap};
use clap::Args;

use crate::cli::text::print_line;
use crate::cli::{CliError, Context};

#[derive(Args, Debug)]
pub struct PortArgs {
    #[arg(value_name = "CONTAINER")]
    container: String,
    /// A private port, optionally with its protocol (`80`, `53/udp`)
    #[arg(value_name = "PRIVATE_PORT[/PROTO]")]
    port: Option<String>,
}

pub async fn port(ctx: &Context, args: PortArgs) -> Result<(), CliError> {
    let client = ctx.client().await?;
    let inspect: ContainerInspectResponse = client
        .get_json(&format!(
            "/containers/{}/json",
            escape_path(&args.container)
        ))
        .await?;
    let lines =
        port_lines(&inspect.network_settings.ports, args.port.as_deref()).map_err(|key| {
            CliError::other(format!(
                "Error: No public port '{key}' published for {}",
                args.container
            ))
        })?;
    for line in lines {
        print_line(&line);
    }
    Ok(())
}

/// Every binding (`80/tcp -> 0.0.0.0:8080`), or those of one private port (`0.0.0.0:8080`);
/// the private port's key when it has none.
fn port_lines(ports: &PortMap, wanted: Option<&str>) -> Result<Vec<String>, String> {
    let address = |ip: &str, port: &str| {
        if ip.contains(':') {
            format!("[{ip}]:{port}")
        } else {
            format!("{ip}:{port}")
        }
    };
    match wanted {
        Some(wanted) => {
            let key = if wanted.contains('/') {
                wanted.to_owned()
            } else {
                format!("{wanted}/tcp")
            };
            match ports.get(&key) {
                Some(Some(bindings)) if !bindings.is_empty() => Ok(bindings
                    .iter()
                    .map(|b| address(&b.host_ip, &b.host_port))
                    .collect()),
                _ => Err(key),
            }
        }
        None => {
            let mut lines = Vec::new();
            for (key, bindings) in ports {
                for b in bindings.iter().flatten() {
                    lines.push(format!("{key} -> {}", address(&b.host_ip, &b.host_port)));
                }
            }
            Ok(lines)
        }
    }
}

#[cfg(test)]
mod tests {
    use api::types::PortBinding;

    use super::*;

    #[test]
    fn lines_as_docker_prints_them() {
        let binding = |ip: &str, port: &str| PortBinding {
            host_ip: ip.into(),
            host_port: port.into(),
        };
        let ports: PortMap = [
            ("80/tcp".to_owned(), Some(vec![binding("0.0.0.0", "8080")])),
            (
                "53/udp".to_owned(),
                Some(vec![binding("127.0.0.1", "5353")]),
            ),
            ("443/tcp".to_owned(), None),
        ]
        .into_iter()
        .collect();
        assert_eq!(
            port_lines(&ports, None).unwrap(),
            vec!["53/udp -> 127.0.0.1:5353", "80/tcp -> 0.0.0.0:8080"]
        );
        assert_eq!(
            port_lines(&ports, Some("80")).unwrap(),
            vec!["0.0.0.0:8080"]
        );
        assert_eq!(port_lines(&ports, Some("443")).unwrap_err(), "443/tcp");
        assert_eq!(port_lines(&ports, Some("81/udp")).unwrap_err(), "81/udp");
    }
}
