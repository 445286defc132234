//! The bridge driver: what the engine calls to make networks and endpoints real, in the
//! right order, over the kernel-facing traits. Setup is idempotent; teardown tries every step
//! and reports every failure.

use std::collections::HashSet;
use std::sync::Arc;

use ipnet::Ipv4Net;

use crate::error::{NetError, Result};
use crate::firewall::{Firewall, NatTable};
use crate::link::{Links, NetnsRef, VethRequest};
use crate::records::{EndpointRecord, NetworkRecord};
use crate::sysctl::{self, Sysctls};

pub struct BridgeDriver<L, F, S> {
    links: L,
    table: Arc<NatTable<F>>,
    sysctls: S,
}

/// What [`BridgeDriver::reconcile`] did.
#[derive(Debug, Default)]
pub struct ReconcileReport {
    /// Host ends of veths on pier's bridges that no endpoint owned, deleted.
    pub deleted_veths: Vec<String>,
    /// Steps that failed (the others were still done).
    pub errors: Vec<NetError>,
}

impl<L: Links, F: Firewall, S: Sysctls> BridgeDriver<L, F, S> {
    pub fn new(links: L, table: NatTable<F>, sysctls: S) -> Self {
        BridgeDriver {
            links,
            table: Arc::new(table),
            sysctls,
        }
    }

    pub fn links(&self) -> &L {
        &self.links
    }

    pub fn table(&self) -> &NatTable<F> {
        &self.table
    }

    /// The destinations routed on the host, for [`crate::ipam::choose_subnet`].
    pub async fn host_routes(&self) -> Result<Vec<Ipv4Net>> {
        self.links.routes().await
    }

    /// The bridge with its gateway, up; `route_localnet` on it (published ports on
    /// 127.0.0.1); IPv4 forwarding for networks that reach out; the network's firewall rules.
    pub async fn create_network(&self, network: &NetworkRecord) -> Result<()> {
        self.links
            .ensure_bridge(&network.bridge, network.gateway_with_prefix())
            .await?;
        self.sysctls
            .set(&sysctl::route_localnet(&network.bridge), "1")?;
        if !network.internal {
            self.sysctls.set(sysctl::IP_FORWARD, "1")?;
        }
        let table = self.table.clone();
        let network = network.clone();
        blocking(move || table.ensure_network(&network)).await
    }

    /// Removes the network's rules and its bridge (every step tried). The engine refuses to
    /// remove a network that still has endpoints; a bridge deleted with ports detaches them.
    pub async fn remove_network(&self, network: &NetworkRecord) -> Result<()> {
        let mut errors = Vec::new();
        let table = self.table.clone();
        let record = network.clone();
        if let Err(err) = blocking(move || table.remove_network(&record)).await {
            errors.push(err);
        }
        if let Err(err) = self.links.delete_link(&network.bridge).await {
            errors.push(err);
        }
        NetError::collect(errors)
    }

    /// Attaches a container: its veth pair (inside: `endpoint.ifname`, MAC, address, default
    /// route when `default_route`), then its published ports. On failure nothing is left.
    pub async fn connect(
        &self,
        network: &NetworkRecord,
        endpoint: &EndpointRecord,
        netns: NetnsRef,
        default_route: bool,
    ) -> Result<()> {
        let address = Ipv4Net::new(endpoint.ip, network.subnet.prefix_len()).map_err(|_| {
            NetError::InvalidArgument(format!(
                "invalid address {} for {}",
                endpoint.ip, network.subnet
            ))
        })?;
        let request = VethRequest {
            bridge: network.bridge.clone(),
            host_name: endpoint.host_veth.clone(),
            netns,
            ifname: endpoint.ifname.clone(),
            mac: endpoint.mac,
            address,
            gateway: default_route.then_some(network.gateway),
        };
        self.links.add_veth(&request).await?;
        if let Err(err) = self.publish(endpoint).await {
            let _ = self.links.delete_link(&endpoint.host_veth).await;
            return Err(err);
        }
        Ok(())
    }

    /// The endpoint's port rules (no `nft` run without ports).
    pub async fn publish(&self, endpoint: &EndpointRecord) -> Result<()> {
        if endpoint.ports.is_empty() {
            return Ok(());
        }
        let table = self.table.clone();
        let endpoint = endpoint.clone();
        blocking(move || table.add_ports(&endpoint)).await
    }

    /// Removes the endpoint's port rules (none to remove without ports: no `nft` run).
    pub async fn unpublish(&self, endpoint: &EndpointRecord) -> Result<()> {
        if endpoint.ports.is_empty() {
            return Ok(());
        }
        let table = self.table.clone();
        let key = endpoint.firewall_key().to_string();
        blocking(move || table.remove_ports(&key)).await
    }

    /// Detaches a container: port rules, then the veth (every step tried). The veth's
    /// deletion waits on the kernel (~23 ms): call this after the container's exit has been
    /// reported, never on the path a user waits for. A veth whose container namespace died
    /// is already gone; that is fine.
    pub async fn disconnect(&self, endpoint: &EndpointRecord) -> Result<()> {
        let mut errors = Vec::new();
        if let Err(err) = self.unpublish(endpoint).await {
            errors.push(err);
        }
        if let Err(err) = self.links.delete_link(&endpoint.host_veth).await {
            errors.push(err);
        }
        NetError::collect(errors)
    }

    /// At daemon start: bridges made again where missing, the firewall table rebuilt from the
    /// records in one transaction, and veths on pier's bridges that no endpoint owns deleted.
    /// Bridges that no record names are left alone: they may be another daemon's.
    pub async fn reconcile(
        &self,
        networks: &[NetworkRecord],
        endpoints: &[EndpointRecord],
    ) -> ReconcileReport {
        let mut report = ReconcileReport::default();
        for network in networks {
            let made = async {
                self.links
                    .ensure_bridge(&network.bridge, network.gateway_with_prefix())
                    .await?;
                self.sysctls
                    .set(&sysctl::route_localnet(&network.bridge), "1")?;
                if !network.internal {
                    self.sysctls.set(sysctl::IP_FORWARD, "1")?;
                }
                Ok::<(), NetError>(())
            };
            if let Err(err) = made.await {
                report.errors.push(err);
            }
        }
        let table = self.table.clone();
        let (all_networks, all_endpoints) = (networks.to_vec(), endpoints.to_vec());
        if let Err(err) = blocking(move || table.rebuild(&all_networks, &all_endpoints)).await {
            report.errors.push(err);
        }
        match self.links.list_links().await {
            Err(err) => report.errors.push(err),
            Ok(links) => {
                let bridges: HashSet<&str> = networks.iter().map(|n| n.bridge.as_str()).collect();
                let bridge_indexes: HashSet<u32> = links
                    .iter()
                    .filter(|l| bridges.contains(l.name.as_str()))
                    .map(|l| l.index)
                    .collect();
                let owned: HashSet<&str> = endpoints.iter().map(|e| e.host_veth.as_str()).collect();
                for link in &links {
                    let on_ours = link.controller.is_some_and(|c| bridge_indexes.contains(&c));
                    let is_veth = link.kind.as_deref() == Some("veth");
                    if on_ours && is_veth && !owned.contains(link.name.as_str()) {
                        match self.links.delete_link(&link.name).await {
                            Ok(()) => report.deleted_veths.push(link.name.clone()),
                            Err(err) => report.errors.push(err),
                        }
                    }
                }
            }
        }
        report
    }
}

/// Runs blocking firewall work (an `nft` child) off the async threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|err| NetError::Firewall(format!("firewall task failed: {err}")))?
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;
    use std::sync::Mutex;

    use super::*;
    use crate::firewall::fake::RecordingFirewall;
    use crate::link::LinkInfo;

    /// Links and sysctls that record what they were asked.
    #[derive(Default)]
    struct Recorder {
        calls: Mutex<Vec<String>>,
        links: Vec<LinkInfo>,
        fail_delete: bool,
    }

    impl Recorder {
        fn log(&self, call: String) {
            self.calls
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(call);
        }
        fn calls(&self) -> Vec<String> {
            self.calls.lock().unwrap_or_else(|e| e.into_inner()).clone()
        }
    }

    impl Links for Arc<Recorder> {
        async fn ensure_bridge(&self, name: &str, address: Ipv4Net) -> Result<()> {
            self.log(format!("bridge {name} {address}"));
            Ok(())
        }
        async fn add_veth(&self, request: &VethRequest) -> Result<()> {
            self.log(format!(
                "veth {} {} {:?}",
                request.host_name, request.address, request.gateway
            ));
            Ok(())
        }
        async fn delete_link(&self, name: &str) -> Result<()> {
            self.log(format!("delete {name}"));
            if self.fail_delete {
                return Err(NetError::Unavailable(format!("cannot delete {name}")));
            }
            Ok(())
        }
        async fn list_links(&self) -> Result<Vec<LinkInfo>> {
            Ok(self.links.clone())
        }
        async fn loopback_up(&self, _netns: NetnsRef) -> Result<()> {
            self.log("lo up".to_string());
            Ok(())
        }
        async fn routes(&self) -> Result<Vec<Ipv4Net>> {
            Ok(vec![])
        }
    }

    impl Sysctls for Arc<Recorder> {
        fn set(&self, key: &str, value: &str) -> Result<()> {
            self.log(format!("sysctl {key}={value}"));
            Ok(())
        }
    }

    fn network(internal: bool) -> NetworkRecord {
        NetworkRecord {
            name: "app".into(),
            id: "n1".into(),
            bridge: "br-n1".into(),
            subnet: "10.9.0.0/24".parse().unwrap_or_else(|_| unreachable!()),
            gateway: Ipv4Addr::new(10, 9, 0, 1),
            internal,
            dns: true,
            labels: Default::default(),
            options: Default::default(),
        }
    }

    fn endpoint(veth: &str) -> EndpointRecord {
        EndpointRecord {
            network_id: "n1".into(),
            container_id: format!("c-{veth}"),
            container_name: veth.into(),
            aliases: vec![],
            ip: Ipv4Addr::new(10, 9, 0, 2),
            mac: crate::MacAddr::from_ipv4(Ipv4Addr::new(10, 9, 0, 2)),
            host_veth: veth.into(),
            ifname: "eth0".into(),
            ports: vec![],
        }
    }

    fn link(index: u32, name: &str, kind: &str, controller: Option<u32>) -> LinkInfo {
        LinkInfo {
            index,
            name: name.into(),
            kind: Some(kind.into()),
            controller,
        }
    }

    type FakeDriver = BridgeDriver<Arc<Recorder>, Arc<RecordingFirewall>, Arc<Recorder>>;

    fn driver(recorder: Arc<Recorder>) -> (FakeDriver, Arc<RecordingFirewall>) {
        let firewall = Arc::new(RecordingFirewall::default());
        (
            BridgeDriver::new(
                recorder.clone(),
                NatTable::new(firewall.clone(), "pier"),
                recorder,
            ),
            firewall,
        )
    }

    #[tokio::test]
    async fn internal_networks_do_not_turn_forwarding_on() {
        let recorder = Arc::new(Recorder::default());
        let (driver, _) = driver(recorder.clone());
        driver.create_network(&network(true)).await.unwrap();
        let calls = recorder.calls();
        assert_eq!(
            calls,
            [
                "bridge br-n1 10.9.0.1/24",
                "sysctl net.ipv4.conf.br-n1.route_localnet=1"
            ]
        );
        driver.create_network(&network(false)).await.unwrap();
        assert!(
            recorder
                .calls()
                .contains(&"sysctl net.ipv4.ip_forward=1".to_string())
        );
    }

    #[tokio::test]
    async fn connect_without_ports_runs_no_nft() {
        let recorder = Arc::new(Recorder::default());
        let (driver, firewall) = driver(recorder.clone());
        let netns = NetnsRef::Path("/proc/self/ns/net".into());
        driver
            .connect(&network(false), &endpoint("veth1"), netns, false)
            .await
            .unwrap();
        driver.disconnect(&endpoint("veth1")).await.unwrap();
        assert!(
            firewall
                .applied
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .is_empty()
        );
        assert_eq!(*firewall.lists.lock().unwrap_or_else(|e| e.into_inner()), 0);
        assert_eq!(
            recorder.calls(),
            ["veth veth1 10.9.0.2/24 None", "delete veth1"]
        );
    }

    #[tokio::test]
    async fn reconcile_deletes_only_unowned_veths_on_its_bridges() {
        let recorder = Arc::new(Recorder {
            links: vec![
                link(1, "br-n1", "bridge", None),
                link(2, "br-other", "bridge", None),
                link(3, "vethowned", "veth", Some(1)),
                link(4, "vethstray", "veth", Some(1)),
                link(5, "veththeirs", "veth", Some(2)),
                link(6, "dummy0", "dummy", Some(1)),
            ],
            ..Recorder::default()
        });
        let (driver, firewall) = driver(recorder.clone());
        let report = driver
            .reconcile(&[network(false)], &[endpoint("vethowned")])
            .await;
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        assert_eq!(report.deleted_veths, ["vethstray"]);
        assert_eq!(
            firewall
                .applied
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .len(),
            1,
            "one transaction"
        );
    }

    #[tokio::test]
    async fn teardown_tries_every_step_and_reports_all() {
        let recorder = Arc::new(Recorder {
            fail_delete: true,
            ..Recorder::default()
        });
        let (driver, _) = driver(recorder.clone());
        let err = driver.remove_network(&network(false)).await.unwrap_err();
        assert_eq!(err.to_string(), "cannot delete br-n1");
    }
}
