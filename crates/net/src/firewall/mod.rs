//! pier's nftables table: outbound NAT, isolation between networks and of `--internal` ones,
//! and published ports.
//!
//! One table of pier's own per daemon (family `ip`, name configurable), so that two daemons
//! with different table names never touch each other's rules, and no other tool's rules are
//! read or changed. Rules live in the kernel: published ports keep answering while the daemon
//! is stopped. A container that publishes no port never causes an `nft` run.

pub mod rules;

use std::path::PathBuf;

use crate::error::{NetError, Result};
use crate::records::{EndpointRecord, NetworkRecord};
use rules::{Batch, TableListing, endpoint_chain, endpoint_comment, network_comment};

/// The kernel-facing side: run one transaction, read one table. Behind a trait so that the
/// logic above it is tested without root.
pub trait Firewall: Send + Sync + 'static {
    /// Applies all commands as one transaction (`nft -j -f -`): all or nothing.
    fn apply(&self, batch: &Batch) -> Result<()>;
    /// The table's chains and rules with their handles; `None` when there is no such table.
    fn list_table(&self, table: &str) -> Result<Option<TableListing>>;
}

/// Drives the `nft` binary through the `nftables` crate (netavark's way): JSON in, JSON out.
#[derive(Debug, Clone)]
pub struct NftBinary {
    program: PathBuf,
}

impl Default for NftBinary {
    fn default() -> Self {
        NftBinary {
            program: PathBuf::from("nft"),
        }
    }
}

impl NftBinary {
    pub fn new(program: impl Into<PathBuf>) -> Self {
        NftBinary {
            program: program.into(),
        }
    }
}

impl Firewall for NftBinary {
    fn apply(&self, batch: &Batch) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let payload = serde_json::to_string(&batch.to_nftables())
            .map_err(|err| NetError::Firewall(format!("encoding the ruleset: {err}")))?;
        nftables::helper::apply_ruleset_raw(
            &payload,
            Some(&self.program),
            nftables::helper::DEFAULT_ARGS,
        )
        .map(drop)
        .map_err(describe)
    }

    fn list_table(&self, table: &str) -> Result<Option<TableListing>> {
        let args = ["-a", "list", "table", "ip", table];
        match nftables::helper::get_current_ruleset_raw(Some(&self.program), args) {
            Ok(output) => {
                let value: serde_json::Value = serde_json::from_str(&output).map_err(|err| {
                    NetError::Firewall(format!("reading `nft -j list table`: {err}"))
                })?;
                Ok(Some(TableListing::from_json(&value)))
            }
            Err(nftables::helper::NftablesError::NftFailed { stderr, .. })
                if stderr.contains("No such file or directory") =>
            {
                Ok(None)
            }
            Err(err) => Err(describe(err)),
        }
    }
}

fn describe(err: nftables::helper::NftablesError) -> NetError {
    match err {
        nftables::helper::NftablesError::NftFailed { hint, stderr, .. } => {
            NetError::Firewall(format!("nft failed while {hint}: {}", stderr.trim()))
        }
        nftables::helper::NftablesError::NftExecution { program, inner } => {
            NetError::Unavailable(format!(
                "cannot run {}: {inner} (is nftables installed?)",
                program.to_string_lossy()
            ))
        }
        other => NetError::Firewall(other.to_string()),
    }
}

/// pier's table, by name, over a [`Firewall`]. Every method is one `nft` transaction plus at
/// most one listing. All of them block on `nft` (a few ms): call them off the async threads.
#[derive(Debug, Clone)]
pub struct NatTable<F> {
    firewall: F,
    name: String,
}

impl<F: Firewall> NatTable<F> {
    pub fn new(firewall: F, name: impl Into<String>) -> Self {
        NatTable {
            firewall,
            name: name.into(),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn firewall(&self) -> &F {
        &self.firewall
    }

    /// Makes the table hold exactly this network's rules (idempotent: rules left by an
    /// earlier attempt are replaced in the same transaction).
    pub fn ensure_network(&self, network: &NetworkRecord) -> Result<()> {
        let listing = self.firewall.list_table(&self.name)?;
        let mut batch = Batch::new(&self.name);
        match &listing {
            None => {
                batch.fresh();
            }
            Some(listing) => {
                batch.skeleton();
                batch.delete_rules(&listing.rules_with_comment(&network_comment(network)));
            }
        }
        batch.network_rules(network);
        self.firewall.apply(&batch)
    }

    /// Removes the network's rules and its bridge from the set; nothing to remove is fine.
    pub fn remove_network(&self, network: &NetworkRecord) -> Result<()> {
        let Some(listing) = self.firewall.list_table(&self.name)? else {
            return Ok(());
        };
        let mut batch = Batch::new(&self.name);
        batch.delete_rules(&listing.rules_with_comment(&network_comment(network)));
        if listing.bridges.contains(&network.bridge) {
            batch.delete_bridge(&network.bridge);
        }
        self.firewall.apply(&batch)
    }

    /// Publishes an endpoint's ports: one transaction, and none at all without ports.
    /// Creates the table if a crash or another tool removed it.
    pub fn add_ports(&self, endpoint: &EndpointRecord) -> Result<()> {
        if endpoint.ports.is_empty() {
            return Ok(());
        }
        let mut batch = Batch::new(&self.name);
        batch.endpoint_ports(endpoint);
        match self.firewall.apply(&batch) {
            Ok(()) => Ok(()),
            Err(first) => {
                // The table may be gone (deleted under us, or no network made it yet): make
                // it afresh once, with its dispatch rules, and try again.
                if self.firewall.list_table(&self.name)?.is_some() {
                    return Err(first);
                }
                let mut batch = Batch::new(&self.name);
                batch.fresh().endpoint_ports(endpoint);
                self.firewall.apply(&batch)
            }
        }
    }

    /// Unpublishes an endpoint's ports (by container key); what is already gone is fine.
    pub fn remove_ports(&self, key: &str) -> Result<()> {
        let Some(listing) = self.firewall.list_table(&self.name)? else {
            return Ok(());
        };
        let mut batch = Batch::new(&self.name);
        batch.delete_rules(&listing.rules_with_comment(&endpoint_comment(key)));
        let chain = endpoint_chain(key);
        if listing.chains.contains(&chain) {
            batch.delete_chain(&chain);
        }
        self.firewall.apply(&batch)
    }

    /// Replaces the whole table with what the records say, atomically (daemon start).
    pub fn rebuild(&self, networks: &[NetworkRecord], endpoints: &[EndpointRecord]) -> Result<()> {
        let mut batch = Batch::new(&self.name);
        batch.rebuild(networks, endpoints);
        self.firewall.apply(&batch)
    }

    /// Deletes the table (a daemon that owns no network any more); missing is fine.
    pub fn delete(&self) -> Result<()> {
        if self.firewall.list_table(&self.name)?.is_none() {
            return Ok(());
        }
        let mut batch = Batch::new(&self.name);
        batch.delete_table();
        self.firewall.apply(&batch)
    }
}

#[cfg(test)]
pub(crate) mod fake {
    //! A firewall that records transactions and answers listings from a script.
    use super::*;
    use std::sync::Mutex;

    #[derive(Default)]
    pub struct RecordingFirewall {
        pub applied: Mutex<Vec<String>>,
        pub listing: Mutex<Option<TableListing>>,
        pub lists: Mutex<usize>,
    }

    impl Firewall for std::sync::Arc<RecordingFirewall> {
        fn apply(&self, batch: &Batch) -> Result<()> {
            let text = serde_json::to_string(&batch.to_nftables()).unwrap_or_default();
            self.applied
                .lock()
                .map_err(|_| NetError::Firewall("poisoned".into()))?
                .push(text);
            Ok(())
        }

        fn list_table(&self, _table: &str) -> Result<Option<TableListing>> {
            *self
                .lists
                .lock()
                .map_err(|_| NetError::Firewall("poisoned".into()))? += 1;
            Ok(self
                .listing
                .lock()
                .map_err(|_| NetError::Firewall("poisoned".into()))?
                .clone())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fake::RecordingFirewall;
    use super::rules::ListedRule;
    use super::*;
    use crate::records::{Proto, PublishedPort};
    use std::net::Ipv4Addr;
    use std::sync::Arc;

    fn network() -> NetworkRecord {
        NetworkRecord {
            name: "bridge".into(),
            id: "n0".into(),
            bridge: "pier0".into(),
            subnet: "172.17.0.0/16".parse().unwrap(),
            gateway: Ipv4Addr::new(172, 17, 0, 1),
            internal: false,
            dns: false,
            labels: Default::default(),
            options: Default::default(),
        }
    }

    fn endpoint(ports: Vec<PublishedPort>) -> EndpointRecord {
        EndpointRecord {
            network_id: "n0".into(),
            container_id: "c1".into(),
            container_name: "web".into(),
            aliases: vec![],
            ip: Ipv4Addr::new(172, 17, 0, 2),
            mac: crate::MacAddr::from_ipv4(Ipv4Addr::new(172, 17, 0, 2)),
            host_veth: "veth1".into(),
            ifname: "eth0".into(),
            ports,
        }
    }

    #[test]
    fn no_ports_no_nft() {
        let fake = Arc::new(RecordingFirewall::default());
        let table = NatTable::new(fake.clone(), "pier");
        table.add_ports(&endpoint(vec![])).unwrap();
        assert!(fake.applied.lock().unwrap().is_empty());
        assert_eq!(*fake.lists.lock().unwrap(), 0);
    }

    #[test]
    fn adding_ports_is_one_transaction_without_listing() {
        let fake = Arc::new(RecordingFirewall::default());
        let table = NatTable::new(fake.clone(), "pier");
        let port = PublishedPort {
            host_ip: Ipv4Addr::UNSPECIFIED,
            host_port: 8080,
            container_port: 80,
            proto: Proto::Tcp,
        };
        table.add_ports(&endpoint(vec![port])).unwrap();
        assert_eq!(fake.applied.lock().unwrap().len(), 1);
        assert_eq!(*fake.lists.lock().unwrap(), 0);
    }

    #[test]
    fn ensure_network_replaces_its_old_rules_only() {
        let fake = Arc::new(RecordingFirewall::default());
        *fake.listing.lock().unwrap() = Some(TableListing {
            chains: Default::default(),
            bridges: ["pier0".to_string()].into(),
            rules: vec![
                ListedRule {
                    chain: "postrouting".into(),
                    handle: 4,
                    comment: Some("net pier0".into()),
                },
                ListedRule {
                    chain: "postrouting".into(),
                    handle: 5,
                    comment: Some("net br-other".into()),
                },
            ],
        });
        let table = NatTable::new(fake.clone(), "pier");
        table.ensure_network(&network()).unwrap();
        let applied = fake.applied.lock().unwrap();
        assert!(applied[0].contains(r#""handle":4"#), "{}", applied[0]);
        assert!(!applied[0].contains(r#""handle":5"#));
        // The table existed: no second set of dispatch rules.
        assert!(!applied[0].contains("fib"));
        // The element is there already; adding it again is how nft keeps one.
        assert!(
            applied[0].contains(r#"{"add":{"element":{"family":"ip","table":"pier","name":"bridges","elem":["pier0"]}}}"#),
            "{}",
            applied[0]
        );
        assert!(!applied[0].contains(r#""delete":{"element""#));
    }

    fn listed(bridges: &[&str]) -> TableListing {
        TableListing {
            chains: Default::default(),
            bridges: bridges.iter().map(|b| b.to_string()).collect(),
            rules: vec![
                ListedRule {
                    chain: "forward".into(),
                    handle: 7,
                    comment: Some("net pier0".into()),
                },
                ListedRule {
                    chain: "forward".into(),
                    handle: 8,
                    comment: Some("net br-other".into()),
                },
            ],
        }
    }

    #[test]
    fn remove_network_takes_its_rules_and_element_only() {
        let fake = Arc::new(RecordingFirewall::default());
        *fake.listing.lock().unwrap() = Some(listed(&["pier0", "br-other"]));
        let table = NatTable::new(fake.clone(), "pier");
        table.remove_network(&network()).unwrap();
        let applied = fake.applied.lock().unwrap();
        assert_eq!(
            applied[0],
            concat!(
                r#"{"nftables":["#,
                r#"{"delete":{"rule":{"family":"ip","table":"pier","chain":"forward","expr":[],"handle":7}}},"#,
                r#"{"delete":{"element":{"family":"ip","table":"pier","name":"bridges","elem":["pier0"]}}}"#,
                r#"]}"#
            )
        );
    }

    #[test]
    fn remove_network_leaves_a_missing_element_alone() {
        // A table from before the set, or a second removal: deleting an element that is not
        // there would fail the whole transaction.
        let fake = Arc::new(RecordingFirewall::default());
        *fake.listing.lock().unwrap() = Some(listed(&["br-other"]));
        let table = NatTable::new(fake.clone(), "pier");
        table.remove_network(&network()).unwrap();
        let applied = fake.applied.lock().unwrap();
        assert!(!applied[0].contains("element"), "{}", applied[0]);
        assert!(applied[0].contains(r#""handle":7"#), "{}", applied[0]);
    }

    #[test]
    fn fresh_table_gets_dispatch_rules() {
        let fake = Arc::new(RecordingFirewall::default());
        let table = NatTable::new(fake.clone(), "pier");
        table.ensure_network(&network()).unwrap();
        assert_eq!(fake.applied.lock().unwrap()[0].matches("fib").count(), 2);
    }

    #[test]
    fn removing_what_is_not_there_is_fine() {
        let fake = Arc::new(RecordingFirewall::default());
        let table = NatTable::new(fake.clone(), "pier");
        table.remove_ports("c1").unwrap();
        table.remove_network(&network()).unwrap();
        table.delete().unwrap();
        assert!(fake.applied.lock().unwrap().is_empty());
    }
}
