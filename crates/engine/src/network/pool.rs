//! Network namespaces made ahead of need. Making a namespace (in the runtime's clone) and a
//! veth pair into it costs a start 5-40 ms, most of it waiting for the kernel's rtnl lock
//! behind the teardown of the namespaces of runs that just ended. So the daemon keeps a few
//! ready, in the background: bare ones (loopback up) for `--network none`, and ones with their
//! `eth0` on the default bridge (address, route, up) for the default network. A container
//! created for one of those takes one and keeps it, bound under `<exec-root>/netns`, from
//! create to removal; its runs join it. A container that asks for more (another network, an
//! address, a MAC) gets its namespace made at start, as before.
//!
//! A namespace taken is the container's alone and is torn down with it (never handed to
//! another container: what a container leaves in its namespace goes with it). Namespaces
//! still in the pool when the daemon stops are removed when it starts again.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use api::types::{HostConfig, NetworkingConfig};
use ipnet::Ipv4Net;
use net::link::{Links, NetnsRef, VethRequest, persist};
use net::mac::MacAddr;
use net::records::{EndpointRecord, host_veth_name};
use tokio::sync::Notify;

use crate::Engine;
use crate::containers::model::OwnedNetns;
use crate::error::{EngineError, Result};

use super::endpoints::EndpointOwner;
use super::{Networking, lock, on_default_bridge};

/// How many of each kind are kept ready.
const BRIDGED_READY: usize = 6;
const BARE_READY: usize = 6;

/// A ready namespace with its endpoint on the default bridge (its owner fields empty).
struct Bridged {
    path: PathBuf,
    endpoint: EndpointRecord,
}

#[derive(Default)]
pub(crate) struct NetnsPool {
    bridged: Mutex<Vec<Bridged>>,
    bare: Mutex<Vec<PathBuf>>,
    wake: Notify,
    /// Set when the daemon stops: nothing more is made or kept.
    closed: AtomicBool,
    /// Held while namespaces are being made, so that the stop waits for one in the making.
    filling: tokio::sync::Mutex<()>,
}

/// A namespace taken for a container being made: removed again if the create fails before
/// the container keeps it.
pub(crate) struct TakenNetns {
    owned: OwnedNetns,
    kept: bool,
}

impl TakenNetns {
    pub fn owned(&self) -> &OwnedNetns {
        &self.owned
    }

    /// The container has it now: it goes with the container.
    pub fn keep(mut self) {
        self.kept = true;
    }
}

impl Drop for TakenNetns {
    fn drop(&mut self) {
        if !self.kept {
            release(&self.owned);
        }
    }
}

impl Engine {
    /// At daemon start: a namespace a container kept that is no longer bound (a reboot
    /// emptied the exec root) is forgotten, veth and all, so that its next start makes one as
    /// for a container that never had one.
    pub(crate) fn forget_lost_netns(&self, handle: &crate::containers::Handle) -> Result<()> {
        {
            let mut record = handle.record();
            if record
                .netns
                .as_ref()
                .is_none_or(|owned| persist::is_bound(&owned.path))
            {
                return Ok(());
            }
            record.netns = None;
        }
        self.persist(handle)
    }
}

/// Lets a container's namespace go (with the veth in it). Best effort.
pub(crate) fn release(owned: &OwnedNetns) {
    if let Err(e) = persist::remove(&owned.path) {
        eprintln!("pier daemon: removing network namespace: {e}");
    }
}

/// Whether a create may take a ready namespace: `none`, or the default bridge alone with
/// nothing asked of its endpoint.
enum Fit {
    Bare,
    Bridged,
    No,
}

fn fit(host: &HostConfig, networking: Option<&NetworkingConfig>, config_mac: &str) -> Fit {
    let endpoints = networking.and_then(|n| n.endpoints_config.as_ref());
    let plain_default = endpoints.is_none_or(|configs| {
        configs.len() <= 1
            && configs.iter().all(|(name, settings)| {
                matches!(name.as_str(), "" | "default" | super::DEFAULT_NETWORK)
                    && *settings == Default::default()
            })
    });
    if host.network_mode == "none" && endpoints.is_none_or(|c| c.is_empty()) {
        Fit::Bare
    } else if on_default_bridge(host) && plain_default && config_mac.is_empty() {
        Fit::Bridged
    } else {
        Fit::No
    }
}

impl Engine {
    fn netns_pool_dir(&self) -> PathBuf {
        self.config.exec_root.join("netns")
    }

    /// At create: a ready namespace for the container, with its endpoint when it is on the
    /// default bridge; None when the container needs its own made at start or none is ready.
    pub(crate) fn take_pooled_netns(
        &self,
        owner: &EndpointOwner,
        host: &HostConfig,
        networking_config: Option<&NetworkingConfig>,
        config_mac: &str,
    ) -> Option<(Vec<EndpointRecord>, TakenNetns)> {
        let networking = self.networking()?;
        let taken = match fit(host, networking_config, config_mac) {
            Fit::No => return None,
            Fit::Bare => {
                let path = lock(&networking.pool.bare).pop()?;
                (Vec::new(), OwnedNetns { path, veth: None })
            }
            Fit::Bridged => {
                let ready = lock(&networking.pool.bridged).pop()?;
                let mut endpoint = ready.endpoint;
                let pool_key = pool_key(&ready.path);
                endpoint.container_id = owner.id.to_owned();
                endpoint.container_name = owner.name.to_owned();
                if let Some(on_network) = networking.addresses().get_mut(&endpoint.network_id) {
                    on_network.remove(&pool_key);
                    on_network.insert(owner.id.to_owned(), endpoint.ip);
                }
                let owned = OwnedNetns {
                    path: ready.path,
                    veth: Some(endpoint.host_veth.clone()),
                };
                (vec![endpoint], owned)
            }
        };
        networking.pool.wake.notify_one();
        let (endpoints, owned) = taken;
        Some((endpoints, TakenNetns { owned, kept: false }))
    }

    /// Starts keeping namespaces ready (after the containers' own were reconciled), and
    /// removes those that a daemon before this one left in the pool.
    pub(crate) fn start_netns_pool(self: &Arc<Self>) {
        if self.networking().is_none() {
            return;
        }
        let dir = self.netns_pool_dir();
        let owned: Vec<PathBuf> = self
            .containers
            .all()
            .iter()
            .filter_map(|h| h.record().netns.as_ref().map(|n| n.path.clone()))
            .collect();
        let engine = self.clone();
        tokio::spawn(async move {
            let stale: Vec<PathBuf> = persist::list(&dir)
                .into_iter()
                .filter(|p| !owned.contains(p))
                .collect();
            let made = crate::blocking(move || {
                for path in stale {
                    if let Err(e) = persist::remove(&path) {
                        eprintln!("pier daemon: removing a stale network namespace: {e}");
                    }
                }
                std::fs::create_dir_all(&dir).map_err(|e| EngineError::io("creating", &dir, e))
            })
            .await;
            if let Err(e) = made {
                eprintln!("pier daemon: no ready network namespaces: {e}");
                return;
            }
            loop {
                engine.fill_pool().await;
                let Some(networking) = engine.networking() else {
                    return;
                };
                networking.pool.wake.notified().await;
            }
        });
    }

    async fn fill_pool(&self) {
        let Some(networking) = self.networking() else {
            return;
        };
        let pool = &networking.pool;
        let _filling = pool.filling.lock().await;
        while lock(&pool.bridged).len() < BRIDGED_READY && !pool.closed.load(Ordering::SeqCst) {
            match self.make_bridged(networking).await {
                Ok(ready) => lock(&pool.bridged).push(ready),
                Err(e) => {
                    eprintln!("pier daemon: making a ready network namespace: {e}");
                    break;
                }
            }
        }
        while lock(&pool.bare).len() < BARE_READY && !pool.closed.load(Ordering::SeqCst) {
            match self.make_bare(networking).await {
                Ok(path) => lock(&pool.bare).push(path),
                Err(e) => {
                    eprintln!("pier daemon: making a ready network namespace: {e}");
                    break;
                }
            }
        }
    }

    /// When the daemon stops: the ready namespaces go (the containers' own stay with them),
    /// once one in the making is made.
    pub(crate) async fn drain_netns_pool(&self) {
        let Some(networking) = self.networking() else {
            return;
        };
        let pool = &networking.pool;
        pool.closed.store(true, Ordering::SeqCst);
        let _filling = pool.filling.lock().await;
        let bridged: Vec<Bridged> = lock(&pool.bridged).drain(..).collect();
        let bare: Vec<PathBuf> = lock(&pool.bare).drain(..).collect();
        for path in bridged.iter().map(|b| &b.path).chain(&bare) {
            if let Err(e) = persist::remove(path) {
                eprintln!("pier daemon: removing a ready network namespace: {e}");
            }
        }
    }

    async fn new_pool_netns(&self) -> Result<PathBuf> {
        let name = format!("pool-{}", &crate::containers::names::new_id()?[..16]);
        let path = self.netns_pool_dir().join(name);
        let target = path.clone();
        // At normal priority: making a namespace takes the kernel's rtnl lock, which a thread
        // of low priority could hold for long on a busy machine, stalling every other
        // network change (a daemon that stopped then took seconds to exit).
        crate::blocking(move || persist::create(&target).map_err(EngineError::from)).await?;
        Ok(path)
    }

    async fn make_bare(&self, networking: &Networking) -> Result<PathBuf> {
        let path = self.new_pool_netns().await?;
        if let Err(e) = networking
            .driver
            .links()
            .loopback_up(NetnsRef::Path(path.clone()))
            .await
        {
            let _ = persist::remove(&path);
            return Err(e.into());
        }
        Ok(path)
    }

    async fn make_bridged(&self, networking: &Networking) -> Result<Bridged> {
        let path = self.new_pool_netns().await?;
        let network = networking.default_network();
        let key = pool_key(&path);
        let ip = {
            let mut addresses = networking.addresses();
            let on_network = addresses.entry(network.id.clone()).or_default();
            let used: Vec<std::net::Ipv4Addr> = on_network.values().copied().collect();
            let label = format!("{} ({})", network.name, &network.id[..12]);
            match net::ipam::allocate_address(&network.subnet, network.gateway, &used, None, &label)
            {
                Ok(ip) => {
                    on_network.insert(key.clone(), ip);
                    ip
                }
                Err(e) => {
                    drop(addresses);
                    let _ = persist::remove(&path);
                    return Err(e.into());
                }
            }
        };
        let endpoint = EndpointRecord {
            network_id: network.id.clone(),
            container_id: String::new(),
            container_name: String::new(),
            aliases: Vec::new(),
            ip,
            mac: MacAddr::from_ipv4(ip),
            host_veth: host_veth_name(&key, &network.id),
            ifname: "eth0".to_owned(),
            ports: Vec::new(),
        };
        let request = VethRequest {
            bridge: network.bridge.clone(),
            host_name: endpoint.host_veth.clone(),
            netns: NetnsRef::Path(path.clone()),
            ifname: endpoint.ifname.clone(),
            mac: endpoint.mac,
            address: Ipv4Net::new(ip, network.subnet.prefix_len()).map_err(|_| {
                EngineError::Internal(format!("address {ip} outside {}", network.subnet))
            })?,
            gateway: Some(network.gateway),
        };
        if let Err(e) = networking.driver.links().add_veth(&request).await {
            networking.forget_address(&network.id, &key);
            let _ = persist::remove(&path);
            return Err(e.into());
        }
        Ok(Bridged { path, endpoint })
    }
}

/// The key under which a ready namespace's address is held until a container takes it.
fn pool_key(path: &Path) -> String {
    format!("pool/{}", path.display())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use api::types::{EndpointIpamConfig, EndpointSettings};

    use super::*;

    use crate::network::host_in_mode as host;

    fn only(name: &str, settings: EndpointSettings) -> NetworkingConfig {
        NetworkingConfig {
            endpoints_config: Some(BTreeMap::from([(name.to_owned(), settings)])),
        }
    }

    #[test]
    fn what_takes_a_ready_namespace() {
        assert!(matches!(fit(&host("none"), None, ""), Fit::Bare));
        for mode in ["", "default", "bridge"] {
            assert!(matches!(fit(&host(mode), None, ""), Fit::Bridged), "{mode}");
        }
        let plain = only("default", EndpointSettings::default());
        assert!(matches!(
            fit(&host("default"), Some(&plain), ""),
            Fit::Bridged
        ));
        // Anything asked of the endpoint, another network, or another mode: made at start.
        let with_ip = only(
            "bridge",
            EndpointSettings {
                ipam_config: Some(EndpointIpamConfig {
                    ipv4_address: "172.17.0.9".into(),
                    ..Default::default()
                }),
                ..Default::default()
            },
        );
        assert!(matches!(fit(&host("bridge"), Some(&with_ip), ""), Fit::No));
        assert!(matches!(
            fit(&host("default"), None, "02:42:ac:11:00:09"),
            Fit::No
        ));
        let other = only("app", EndpointSettings::default());
        assert!(matches!(fit(&host("default"), Some(&other), ""), Fit::No));
        for mode in ["host", "app", "container:web"] {
            assert!(matches!(fit(&host(mode), None, ""), Fit::No), "{mode}");
        }
    }
}
