//! `info`: the daemon's view of itself in Docker's layout, or as `--format` says.

use std::fmt::Display;

use api::types::SystemInfo;
use clap::Args;
use serde_json::{Value, json};

use crate::cli::format;
use crate::cli::text::{print_err, print_text};
use crate::cli::units::binary_size;
use crate::cli::{CliError, Context};

#[derive(Args, Debug)]
pub struct InfoArgs {
    /// Format output using a custom template
    #[arg(short = 'f', long, value_name = "string")]
    format: Option<String>,
}

pub async fn info(ctx: &Context, args: InfoArgs, debug: bool) -> Result<(), CliError> {
    let template = args
        .format
        .as_deref()
        .filter(|f| !f.is_empty())
        .map(format::single)
        .transpose()?;
    let server = match ctx.client().await {
        Ok(client) => client
            .get_json::<SystemInfo>("/info")
            .await
            .map_err(CliError::from),
        Err(error) => Err(error),
    };
    if let Some(template) = template {
        let mut data = match &server {
            Ok(info) => serde_json::to_value(info).unwrap_or(Value::Null),
            Err(_) => json!({}),
        };
        if let Value::Object(map) = &mut data {
            map.insert(
                "ClientInfo".into(),
                json!({"Debug": debug, "Version": env!("CARGO_PKG_VERSION"), "Context": "default", "Plugins": [], "Warnings": null}),
            );
        }
        print_text(&format!("{}\n", format::render_one(&template, &data)?));
        return server.map(|_| ());
    }
    let mut out = String::from("Client:\n");
    line(&mut out, " Version:   ", env!("CARGO_PKG_VERSION"));
    line(&mut out, " Context:   ", "default");
    line(&mut out, " Debug Mode:", debug);
    out.push_str("\nServer:\n");
    match server {
        Ok(info) => {
            out.push_str(&server_text(&info, debug));
            print_text(&out);
            for warning in &info.warnings {
                print_err(warning);
            }
            Ok(())
        }
        Err(error) => {
            print_text(&out);
            Err(error)
        }
    }
}

/// Go's `fmt.Fprintln(out, key, value)`: the operands joined by a space.
fn line(out: &mut String, key: &str, value: impl Display) {
    out.push_str(&format!("{key} {value}\n"));
}

fn line_non_empty(out: &mut String, key: &str, value: &str) {
    if !value.is_empty() {
        line(out, key, value);
    }
}

/// The `Server:` section of `docker info`.
pub fn server_text(info: &SystemInfo, debug: bool) -> String {
    let mut out = String::new();
    let o = &mut out;
    line(o, " Containers:", info.containers);
    line(o, "  Running:", info.containers_running);
    line(o, "  Paused:", info.containers_paused);
    line(o, "  Stopped:", info.containers_stopped);
    line(o, " Images:", info.images);
    line_non_empty(o, " Server Version:", &info.server_version);
    line_non_empty(o, " Storage Driver:", &info.driver);
    for [name, value] in &info.driver_status {
        o.push_str(&format!("  {name}: {value}\n"));
    }
    line_non_empty(o, " Logging Driver:", &info.logging_driver);
    line_non_empty(o, " Cgroup Driver:", &info.cgroup_driver);
    line_non_empty(o, " Cgroup Version:", &info.cgroup_version);
    o.push_str(" Plugins:\n");
    line(o, "  Volume:", info.plugins.volume.join(" "));
    line(o, "  Network:", info.plugins.network.join(" "));
    if !info.plugins.authorization.is_empty() {
        line(o, "  Authorization:", info.plugins.authorization.join(" "));
    }
    line(o, "  Log:", info.plugins.log.join(" "));
    if !info.cdi_spec_dirs.is_empty() {
        o.push_str(" CDI spec directories:\n");
        for dir in &info.cdi_spec_dirs {
            o.push_str(&format!("  {dir}\n"));
        }
    }
    line(o, " Swarm:", &info.swarm.local_node_state);
    if !info.runtimes.is_empty() {
        let mut names: Vec<&str> = info.runtimes.keys().map(String::as_str).collect();
        names.sort_unstable();
        line(o, " Runtimes:", names.join(" "));
        line(o, " Default Runtime:", &info.default_runtime);
    }
    if info.os_type == "linux" {
        line(o, " Init Binary:", &info.init_binary);
        for (name, commit) in [
            ("containerd", &info.containerd_commit),
            ("runc", &info.runc_commit),
            ("init", &info.init_commit),
        ] {
            o.push_str(&format!(" {name} version: {}\n", commit.id));
        }
        if !info.security_options.is_empty() {
            o.push_str(" Security Options:\n");
            for option in &info.security_options {
                security_option(o, option);
            }
        }
    }
    line_non_empty(o, " Kernel Version:", &info.kernel_version);
    line_non_empty(o, " Operating System:", &info.operating_system);
    line_non_empty(o, " OSType:", &info.os_type);
    line_non_empty(o, " Architecture:", &info.architecture);
    line(o, " CPUs:", info.ncpu);
    line(o, " Total Memory:", binary_size(info.mem_total));
    line_non_empty(o, " Name:", &info.name);
    line_non_empty(o, " ID:", &info.id);
    line(o, " Docker Root Dir:", &info.docker_root_dir);
    line(o, " Debug Mode:", info.debug);
    if info.debug || debug {
        line(o, "  File Descriptors:", info.nfd);
        line(o, "  Goroutines:", info.ngoroutines);
        line(o, "  System Time:", &info.system_time);
        line(o, "  EventsListeners:", info.nevents_listener);
    }
    line_non_empty(o, " HTTP Proxy:", &info.http_proxy);
    line_non_empty(o, " HTTPS Proxy:", &info.https_proxy);
    line_non_empty(o, " No Proxy:", &info.no_proxy);
    if !info.labels.is_empty() {
        o.push_str(" Labels:\n");
        for label in &info.labels {
            o.push_str(&format!("  {label}\n"));
        }
    }
    line(o, " Experimental:", info.experimental_build);
    if let Some(registry) = &info.registry_config {
        let mut insecure: Vec<&str> = registry
            .index_configs
            .values()
            .filter(|index| !index.secure)
            .map(|index| index.name.as_str())
            .collect();
        insecure.sort_unstable();
        if !registry.insecure_registry_cidrs.is_empty() || !registry.index_configs.is_empty() {
            o.push_str(" Insecure Registries:\n");
            for name in insecure {
                o.push_str(&format!("  {name}\n"));
            }
            for cidr in &registry.insecure_registry_cidrs {
                o.push_str(&format!("  {cidr}\n"));
            }
        }
        if !registry.mirrors.is_empty() {
            o.push_str(" Registry Mirrors:\n");
            for mirror in &registry.mirrors {
                o.push_str(&format!("  {mirror}\n"));
            }
        }
    }
    line(o, " Live Restore Enabled:", info.live_restore_enabled);
    if !info.product_license.is_empty() {
        line(o, " Product License:", &info.product_license);
    }
    if !info.default_address_pools.is_empty() {
        o.push_str(" Default Address Pools:\n");
        for pool in &info.default_address_pools {
            o.push_str(&format!("   Base: {}, Size: {}\n", pool.base, pool.size));
        }
    }
    o.push('\n');
    out
}

/// `name=seccomp,profile=builtin` → `  seccomp` and `   Profile: builtin`; the old form
/// is the name alone.
fn security_option(out: &mut String, option: &str) {
    if !option.contains('=') {
        out.push_str(&format!("  {option}\n"));
        return;
    }
    let mut name = "";
    let mut profile = None;
    for pair in option.split(',') {
        match pair.split_once('=') {
            Some(("name", value)) => name = value,
            Some(("profile", value)) => profile = Some(value),
            _ => {}
        }
    }
    out.push_str(&format!("  {name}\n"));
    if let Some(profile) = profile {
        out.push_str(&format!("   Profile: {profile}\n"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn security_options_as_docker() {
        let mut out = String::new();
        security_option(&mut out, "name=seccomp,profile=builtin");
        security_option(&mut out, "name=cgroupns");
        security_option(&mut out, "apparmor");
        assert_eq!(
            out,
            "  seccomp\n   Profile: builtin\n  cgroupns\n  apparmor\n"
        );
    }

    #[test]
    fn server_section_starts_as_dockers() {
        let info = SystemInfo {
            containers: 3,
            containers_running: 1,
            containers_stopped: 2,
            images: 4,
            server_version: "0.1.0".into(),
            driver: "overlay2".into(),
            os_type: "linux".into(),
            ..Default::default()
        };
        let text = server_text(&info, false);
        assert!(text.starts_with(
            " Containers: 3\n  Running: 1\n  Paused: 0\n  Stopped: 2\n Images: 4\n Server Version: 0.1.0\n Storage Driver: overlay2\n"
        ), "{text}");
        assert!(text.contains(" Swarm: inactive\n"));
        assert!(text.ends_with(" Live Restore Enabled: false\n\n"));
    }
}
