//! A container's /etc/hostname, /etc/hosts and /etc/resolv.conf as its networks make them:
//! its address on its primary network, `--add-host` (with `host-gateway` as the default
//! bridge's gateway, as in Docker), and the embedded DNS of a user network as nameserver.

use std::path::Path;

use api::types::{ContainerConfig, HostConfig};
use net::etc::{DnsSettings, ExtraHost, parse_extra_host};
use net::records::EndpointRecord;

use crate::Engine;
use crate::containers::model::Container;
use crate::containers::rootfs::{EtcFiles, EtcPlan, write_etc_files};
use crate::error::Result;

impl Engine {
    /// Writes the container's files again if they are gone (the exec root holding them was
    /// emptied by a reboot). With `container:<x>` the files are x's, which x's start makes.
    pub(crate) fn restore_container_etc(&self, container: &Container) -> Result<()> {
        let own = !container.host_config.network_mode.starts_with("container:");
        let paths = [
            &container.hostname_path,
            &container.hosts_path,
            &container.resolv_conf_path,
        ];
        if own && paths.iter().any(|p| !p.exists()) {
            self.write_container_etc(
                container.bundle_dir(),
                &container.config,
                &container.host_config,
                &container.endpoints,
            )?;
        }
        Ok(())
    }

    pub(crate) fn write_container_etc(
        &self,
        dir: &Path,
        config: &ContainerConfig,
        host: &HostConfig,
        endpoints: &[EndpointRecord],
    ) -> Result<EtcFiles> {
        let networking = self.networking();
        let primary = endpoints
            .first()
            .and_then(|e| networking?.network_by_id(&e.network_id));
        let host_gateway = networking.map(|n| n.default_network().gateway);
        let extra_hosts = host
            .extra_hosts
            .iter()
            .flatten()
            .map(|entry| parse_extra_host(entry, host_gateway))
            .collect::<Result<Vec<ExtraHost>, _>>()?;
        let dns = DnsSettings {
            servers: host.dns.clone().unwrap_or_default(),
            search: host.dns_search.clone().unwrap_or_default(),
            options: host.dns_options.clone().unwrap_or_default(),
        };
        let plan = EtcPlan {
            hostname: &config.hostname,
            domainname: &config.domainname,
            own_ip: endpoints.first().map(|e| e.ip),
            extra_hosts: &extra_hosts,
            dns: &dns,
            embedded_dns: primary.filter(|n| n.dns).map(|n| n.gateway),
            host_network: host.network_mode == "host",
        };
        write_etc_files(dir, &plan)
    }
}
