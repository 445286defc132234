//! The contents of pier's nftables table, built as nftables-JSON commands (pure: nothing
//! here runs `nft`). Layout of table `ip <name>`:
//!
//! ```text
//! set bridges       { type ifname; the bridge of every network in the table }
//! chain prerouting  { type nat hook prerouting priority dstnat; fib daddr type local jump ports }
//! chain output      { type nat hook output priority dstnat;     fib daddr type local jump ports }
//! chain ports       { jump ctr-<container id>   comment "ctr <container id>"   (one per publishing container) }
//! chain ctr-<id>    { [ip daddr HOST_IP] tcp|udp dport HOST_PORT dnat to CONTAINER_IP:PORT ... }
//! chain postrouting { type nat hook postrouting priority srcnat;
//!                     per network, comment "net <bridge>":
//!                       ip saddr SUBNET oifname != BRIDGE masquerade          (outbound NAT; not --internal)
//!                       ip saddr SUBNET oifname BRIDGE ct status dnat masquerade  (hairpin)
//!                       ip saddr 127.0.0.0/8 oifname BRIDGE masquerade        (127.0.0.1:PORT from the host) }
//! chain forward     { type filter hook forward priority filter;
//!                     per network but --internal ones, comment "net <bridge>":
//!                       iifname BRIDGE oifname != BRIDGE oifname @bridges ct status ! dnat drop
//!                     per --internal network, comment "net <bridge>":
//!                       iifname BRIDGE oifname != BRIDGE drop; oifname BRIDGE iifname != BRIDGE drop }
//! ```
//!
//! Everything a network or a container adds carries its comment (or lives in its own chain),
//! so it is removed precisely, without touching what others added; a network's element in
//! `bridges` is removed with its rules.
//!
//! Isolation between networks (Docker's `DOCKER-ISOLATION` chains): nothing is routed from
//! one of the table's bridges to another, unless the connection went through a DNAT, that is
//! a published port: Docker lets a container reach another network's published ports on the
//! host's addresses (with its userland proxy, and without since it dropped those chains), and
//! the exemption, being on the connection, covers its replies too. `forward` holds only
//! drops, so the order in which networks add their rules does not matter. The set is per
//! table: two daemons isolate their own networks and never see each other's bridges.

use std::borrow::Cow;
use std::collections::HashSet;

use ipnet::Ipv4Net;
use nftables::expr::{
    BinaryOperation, CT, Expression, Fib, FibFlag, FibResult, Meta, MetaKey, NamedExpression,
    Payload, PayloadField, Prefix,
};
use nftables::schema::{
    Chain, Element, FlushObject, NfCmd, NfListObject, NfObject, Nftables, Rule, Set, SetType,
    SetTypeValue, Table,
};
use nftables::stmt::{JumpTarget, Match, NAT, Operator, Statement};
use nftables::types::{NfChainPolicy, NfChainType, NfFamily, NfHook};

use crate::records::{EndpointRecord, NetworkRecord, PublishedPort};

pub const PREROUTING: &str = "prerouting";
pub const OUTPUT: &str = "output";
pub const POSTROUTING: &str = "postrouting";
pub const FORWARD: &str = "forward";
pub const PORTS: &str = "ports";
/// The set of the table's bridges.
pub const BRIDGES: &str = "bridges";

const DSTNAT: i32 = -100;
const SRCNAT: i32 = 100;
const FILTER: i32 = 0;

/// The comment on every rule a network adds.
pub fn network_comment(network: &NetworkRecord) -> String {
    format!("net {}", network.bridge)
}

/// The comment on a container's jump rule in `ports`.
pub fn endpoint_comment(key: &str) -> String {
    format!("ctr {key}")
}

/// The chain holding a container's DNAT rules.
pub fn endpoint_chain(key: &str) -> String {
    format!("ctr-{key}")
}

/// Commands for one `nft -j -f` transaction, for one table.
#[derive(Debug, Clone)]
pub struct Batch {
    table: String,
    commands: Vec<NfObject<'static>>,
}

impl Batch {
    pub fn new(table: &str) -> Self {
        Batch {
            table: table.to_string(),
            commands: Vec::new(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.commands.is_empty()
    }

    pub fn to_nftables(&self) -> Nftables<'static> {
        Nftables {
            objects: Cow::Owned(self.commands.clone()),
        }
    }

    fn push(&mut self, command: NfCmd<'static>) {
        self.commands.push(NfObject::CmdObject(command));
    }

    fn table(&self) -> Table<'static> {
        Table {
            family: NfFamily::IP,
            name: self.table.clone().into(),
            handle: None,
        }
    }

    fn chain(&self, name: &str) -> Chain<'static> {
        Chain {
            family: NfFamily::IP,
            table: self.table.clone().into(),
            name: name.to_string().into(),
            ..Chain::default()
        }
    }

    fn rule(&mut self, chain: &str, expr: Vec<Statement<'static>>, comment: &str) {
        let rule = Rule {
            family: NfFamily::IP,
            table: self.table.clone().into(),
            chain: chain.to_string().into(),
            expr: Cow::Owned(expr),
            comment: Some(comment.to_string().into()),
            ..Rule::default()
        };
        self.push(NfCmd::Add(NfListObject::Rule(rule)));
    }

    fn bridges_element(&self, bridge: &str) -> Element<'static> {
        Element {
            family: NfFamily::IP,
            table: self.table.clone().into(),
            name: BRIDGES.into(),
            elem: Cow::Owned(vec![text(bridge)]),
        }
    }

    /// The table, the set of bridges and the base chains; `add` leaves existing ones as they
    /// are (a table made before the set existed gets it here).
    pub fn skeleton(&mut self) -> &mut Self {
        self.push(NfCmd::Add(NfListObject::Table(self.table())));
        let bridges = Set {
            family: NfFamily::IP,
            table: self.table.clone().into(),
            name: BRIDGES.into(),
            handle: None,
            set_type: SetTypeValue::Single(SetType::Ifname),
            policy: None,
            flags: None,
            elem: None,
            timeout: None,
            gc_interval: None,
            size: None,
            comment: None,
        };
        self.push(NfCmd::Add(NfListObject::Set(Box::new(bridges))));
        let base = |batch: &Batch, name: &str, kind, hook, prio| Chain {
            _type: Some(kind),
            hook: Some(hook),
            prio: Some(prio),
            policy: Some(NfChainPolicy::Accept),
            ..batch.chain(name)
        };
        let chains = [
            base(
                self,
                PREROUTING,
                NfChainType::NAT,
                NfHook::Prerouting,
                DSTNAT,
            ),
            base(self, OUTPUT, NfChainType::NAT, NfHook::Output, DSTNAT),
            base(
                self,
                POSTROUTING,
                NfChainType::NAT,
                NfHook::Postrouting,
                SRCNAT,
            ),
            base(self, FORWARD, NfChainType::Filter, NfHook::Forward, FILTER),
            self.chain(PORTS),
        ];
        for chain in chains {
            self.push(NfCmd::Add(NfListObject::Chain(chain)));
        }
        self
    }

    /// The jumps into `ports` for local destinations; part of a fresh table only.
    fn port_dispatch(&mut self) {
        for chain in [PREROUTING, OUTPUT] {
            self.rule(
                chain,
                vec![
                    matches(fib_daddr_type(), Operator::EQ, text("local")),
                    Statement::Jump(JumpTarget {
                        target: PORTS.into(),
                    }),
                ],
                "published ports",
            );
        }
    }

    /// Replaces the whole table in one transaction: what a daemon does at start, from the
    /// records it has. Creating the table first makes the delete valid when there is none.
    pub fn rebuild(
        &mut self,
        networks: &[NetworkRecord],
        endpoints: &[EndpointRecord],
    ) -> &mut Self {
        self.push(NfCmd::Add(NfListObject::Table(self.table())));
        self.push(NfCmd::Delete(NfListObject::Table(self.table())));
        self.skeleton();
        self.port_dispatch();
        for network in networks {
            self.network_rules(network);
        }
        for endpoint in endpoints.iter().filter(|e| !e.ports.is_empty()) {
            self.endpoint_ports(endpoint);
        }
        self
    }

    /// A new table with its dispatch rules (only when there was no table: the caller knows
    /// from a listing).
    pub fn fresh(&mut self) -> &mut Self {
        self.skeleton();
        self.port_dispatch();
        self
    }

    /// A network's rules and its element in `bridges` (see the module's layout). Adding an
    /// element that is there already is no error and no duplicate.
    pub fn network_rules(&mut self, network: &NetworkRecord) -> &mut Self {
        let comment = network_comment(network);
        let bridge = network.bridge.as_str();
        let element = self.bridges_element(bridge);
        self.push(NfCmd::Add(NfListObject::Element(element)));
        // An --internal network needs no isolation rule: its own first drop is stricter
        // (published ports included). It joins the set all the same, so that the set stays
        // "every bridge in the table" and other networks' rules never depend on its own.
        if network.internal {
            self.rule(
                FORWARD,
                vec![
                    matches(meta(MetaKey::Iifname), Operator::EQ, text(bridge)),
                    matches(meta(MetaKey::Oifname), Operator::NEQ, text(bridge)),
                    Statement::Drop(None),
                ],
                &comment,
            );
            self.rule(
                FORWARD,
                vec![
                    matches(meta(MetaKey::Oifname), Operator::EQ, text(bridge)),
                    matches(meta(MetaKey::Iifname), Operator::NEQ, text(bridge)),
                    Statement::Drop(None),
                ],
                &comment,
            );
            return self;
        }
        self.rule(
            POSTROUTING,
            vec![
                matches(payload("ip", "saddr"), Operator::EQ, prefix(network.subnet)),
                matches(meta(MetaKey::Oifname), Operator::NEQ, text(bridge)),
                Statement::Masquerade(None),
            ],
            &comment,
        );
        self.rule(
            POSTROUTING,
            vec![
                matches(payload("ip", "saddr"), Operator::EQ, prefix(network.subnet)),
                matches(meta(MetaKey::Oifname), Operator::EQ, text(bridge)),
                matches(ct("status"), Operator::IN, text("dnat")),
                Statement::Masquerade(None),
            ],
            &comment,
        );
        let loopback = Ipv4Net::new_assert(std::net::Ipv4Addr::new(127, 0, 0, 0), 8);
        self.rule(
            POSTROUTING,
            vec![
                matches(payload("ip", "saddr"), Operator::EQ, prefix(loopback)),
                matches(meta(MetaKey::Oifname), Operator::EQ, text(bridge)),
                Statement::Masquerade(None),
            ],
            &comment,
        );
        self.rule(
            FORWARD,
            vec![
                matches(meta(MetaKey::Iifname), Operator::EQ, text(bridge)),
                matches(meta(MetaKey::Oifname), Operator::NEQ, text(bridge)),
                matches(
                    meta(MetaKey::Oifname),
                    Operator::EQ,
                    text(&format!("@{BRIDGES}")),
                ),
                not_dnat(),
                Statement::Drop(None),
            ],
            &comment,
        );
        self
    }

    /// Removes a bridge from `bridges`. Only for an element a listing showed: deleting a
    /// missing one fails the whole transaction.
    pub fn delete_bridge(&mut self, bridge: &str) -> &mut Self {
        let element = self.bridges_element(bridge);
        self.push(NfCmd::Delete(NfListObject::Element(element)));
        self
    }

    /// A container's DNAT chain and the jump to it. The chain is flushed first, so running
    /// this twice leaves one set of DNAT rules (and at most a second, equivalent jump,
    /// which [`Batch::delete_rules`] removes with the first).
    pub fn endpoint_ports(&mut self, endpoint: &EndpointRecord) -> &mut Self {
        let key = endpoint.firewall_key();
        let chain = endpoint_chain(key);
        let comment = endpoint_comment(key);
        self.push(NfCmd::Add(NfListObject::Chain(self.chain(&chain))));
        self.push(NfCmd::Flush(FlushObject::Chain(self.chain(&chain))));
        for port in &endpoint.ports {
            let statements = dnat_rule(endpoint, port);
            self.rule(&chain, statements, &comment);
        }
        self.rule(
            PORTS,
            vec![Statement::Jump(JumpTarget {
                target: chain.clone().into(),
            })],
            &comment,
        );
        self
    }

    /// Deletes listed rules (by handle).
    pub fn delete_rules(&mut self, rules: &[ListedRule]) -> &mut Self {
        for listed in rules {
            let rule = Rule {
                family: NfFamily::IP,
                table: self.table.clone().into(),
                chain: listed.chain.clone().into(),
                handle: Some(listed.handle),
                ..Rule::default()
            };
            self.push(NfCmd::Delete(NfListObject::Rule(rule)));
        }
        self
    }

    /// Deletes the whole table.
    pub fn delete_table(&mut self) -> &mut Self {
        self.push(NfCmd::Delete(NfListObject::Table(self.table())));
        self
    }

    /// Empties and deletes a chain (after the rules jumping to it are deleted).
    pub fn delete_chain(&mut self, name: &str) -> &mut Self {
        self.push(NfCmd::Flush(FlushObject::Chain(self.chain(name))));
        self.push(NfCmd::Delete(NfListObject::Chain(self.chain(name))));
        self
    }
}

fn dnat_rule(endpoint: &EndpointRecord, port: &PublishedPort) -> Vec<Statement<'static>> {
    let mut statements = Vec::new();
    if !port.host_ip.is_unspecified() {
        statements.push(matches(
            payload("ip", "daddr"),
            Operator::EQ,
            text(&port.host_ip.to_string()),
        ));
    }
    statements.push(matches(
        payload(port.proto.as_str(), "dport"),
        Operator::EQ,
        Expression::Number(u32::from(port.host_port)),
    ));
    statements.push(Statement::DNAT(Some(NAT {
        addr: Some(text(&endpoint.ip.to_string())),
        family: None,
        port: Some(Expression::Number(u32::from(port.container_port))),
        flags: None,
    })));
    statements
}

/// A rule as `nft -j -a list table` shows it: enough to delete it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedRule {
    pub chain: String,
    pub handle: u32,
    pub comment: Option<String>,
}

/// What a table holds, read from `nft -j -a list table` output.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableListing {
    pub chains: HashSet<String>,
    pub rules: Vec<ListedRule>,
    /// The elements of the `bridges` set (empty when a table predates the set).
    pub bridges: HashSet<String>,
}

impl TableListing {
    /// Reads the JSON listing loosely (only chain names, rule handles and comments), so that
    /// expressions this crate's schema does not know never break a teardown.
    pub fn from_json(listing: &serde_json::Value) -> Self {
        let mut result = TableListing::default();
        let objects = listing
            .get("nftables")
            .and_then(|v| v.as_array())
            .map(Vec::as_slice)
            .unwrap_or_default();
        for object in objects {
            if let Some(chain) = object.get("chain") {
                if let Some(name) = chain.get("name").and_then(|v| v.as_str()) {
                    result.chains.insert(name.to_string());
                }
            } else if let Some(set) = object.get("set") {
                if set.get("name").and_then(|v| v.as_str()) == Some(BRIDGES) {
                    result.bridges.extend(set_elements(set.get("elem")));
                }
            } else if let Some(rule) = object.get("rule") {
                let chain = rule.get("chain").and_then(|v| v.as_str());
                let handle = rule.get("handle").and_then(|v| v.as_u64());
                if let (Some(chain), Some(handle)) =
                    (chain, handle.and_then(|h| u32::try_from(h).ok()))
                {
                    result.rules.push(ListedRule {
                        chain: chain.to_string(),
                        handle,
                        comment: rule
                            .get("comment")
                            .and_then(|v| v.as_str())
                            .map(String::from),
                    });
                }
            }
        }
        result
    }

    pub fn rules_with_comment(&self, comment: &str) -> Vec<ListedRule> {
        self.rules
            .iter()
            .filter(|r| r.comment.as_deref() == Some(comment))
            .cloned()
            .collect()
    }
}

/// A set's elements as names. `nft` writes an array of strings, but a lone element may come
/// as a bare string and an element with attributes as `{"elem": {"val": ...}}`.
fn set_elements(elem: Option<&serde_json::Value>) -> Vec<String> {
    fn name(value: &serde_json::Value) -> Option<String> {
        match value {
            serde_json::Value::String(name) => Some(name.clone()),
            other => other
                .get("elem")
                .and_then(|e| e.get("val"))
                .and_then(|v| v.as_str())
                .map(String::from),
        }
    }
    match elem {
        Some(serde_json::Value::Array(values)) => values.iter().filter_map(name).collect(),
        Some(value) => name(value).into_iter().collect(),
        None => Vec::new(),
    }
}

/// `ct status ! dnat`, spelled as `ct status & dnat == 0`: `!=` would compare the whole
/// status word, and the crate has no `!` operator.
fn not_dnat() -> Statement<'static> {
    let masked = BinaryOperation::AND(ct("status"), text("dnat"));
    matches(
        Expression::BinaryOperation(Box::new(masked)),
        Operator::EQ,
        Expression::Number(0),
    )
}

fn matches(
    left: Expression<'static>,
    op: Operator,
    right: Expression<'static>,
) -> Statement<'static> {
    Statement::Match(Match { left, right, op })
}

fn text(value: &str) -> Expression<'static> {
    Expression::String(Cow::Owned(value.to_string()))
}

fn meta(key: MetaKey) -> Expression<'static> {
    Expression::Named(NamedExpression::Meta(Meta { key }))
}

fn payload(protocol: &str, field: &str) -> Expression<'static> {
    Expression::Named(NamedExpression::Payload(Payload::PayloadField(
        PayloadField {
            protocol: protocol.to_string().into(),
            field: field.to_string().into(),
        },
    )))
}

fn prefix(net: Ipv4Net) -> Expression<'static> {
    Expression::Named(NamedExpression::Prefix(Prefix {
        addr: Box::new(text(&net.network().to_string())),
        len: u32::from(net.prefix_len()),
    }))
}

fn ct(key: &str) -> Expression<'static> {
    Expression::Named(NamedExpression::CT(CT {
        key: key.to_string().into(),
        family: None,
        dir: None,
    }))
}

fn fib_daddr_type() -> Expression<'static> {
    Expression::Named(NamedExpression::Fib(Fib {
        result: FibResult::Type,
        flags: HashSet::from([FibFlag::Daddr]),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mac::MacAddr;
    use crate::records::Proto;
    use std::net::Ipv4Addr;

    pub(crate) fn network(internal: bool) -> NetworkRecord {
        NetworkRecord {
            name: "app".into(),
            id: "n1".into(),
            bridge: "br-n1".into(),
            subnet: "172.18.0.0/16".parse().unwrap(),
            gateway: Ipv4Addr::new(172, 18, 0, 1),
            internal,
            dns: true,
            labels: Default::default(),
            options: Default::default(),
        }
    }

    pub(crate) fn endpoint(ports: Vec<PublishedPort>) -> EndpointRecord {
        let ip = Ipv4Addr::new(172, 18, 0, 2);
        EndpointRecord {
            network_id: "n1".into(),
            container_id: "c1".into(),
            container_name: "web".into(),
            aliases: vec![],
            ip,
            mac: MacAddr::from_ipv4(ip),
            host_veth: "veth0000001".into(),
            ifname: "eth0".into(),
            ports,
        }
    }

    fn json(batch: &Batch) -> String {
        serde_json::to_string(&batch.to_nftables()).unwrap()
    }

    #[test]
    fn network_rules_masquerade_hairpin_and_localnet() {
        let mut batch = Batch::new("pier");
        batch.network_rules(&network(false));
        let text = json(&batch);
        // The element, three postrouting rules, the isolation rule.
        assert_eq!(batch.commands.len(), 5);
        assert!(text.contains(r#"{"match":{"left":{"payload":{"protocol":"ip","field":"saddr"}},"right":{"prefix":{"addr":"172.18.0.0","len":16}},"op":"=="}}"#), "{text}");
        assert!(text.contains(r#"{"match":{"left":{"meta":{"key":"oifname"}},"right":"br-n1","op":"!="}},{"masquerade":null}"#), "{text}");
        assert!(
            text.contains(r#"{"ct":{"key":"status"}},"right":"dnat","op":"in"}"#),
            "{text}"
        );
        assert!(text.contains(r#""addr":"127.0.0.0","len":8"#), "{text}");
        assert!(text.contains(r#""comment":"net br-n1""#), "{text}");
    }

    #[test]
    fn internal_networks_drop_forwarding_and_never_masquerade() {
        let mut batch = Batch::new("pier");
        batch.network_rules(&network(true));
        let text = json(&batch);
        assert!(!text.contains("masquerade"), "{text}");
        assert_eq!(text.matches(r#"{"drop":null}"#).count(), 2, "{text}");
        assert!(text.contains(r#""chain":"forward""#));
        // In the set, so that other networks' isolation rules cover it too; no rule of its
        // own that would let published ports through.
        assert!(text.contains(r#"{"add":{"element":{"family":"ip","table":"pier","name":"bridges","elem":["br-n1"]}}}"#), "{text}");
        assert!(
            !text.contains("@bridges") && !text.contains(r#""&""#),
            "{text}"
        );
    }

    #[test]
    fn networks_join_the_set_and_drop_traffic_to_other_bridges_but_published_ports() {
        let mut batch = Batch::new("pier");
        batch.network_rules(&network(false));
        let text = json(&batch);
        assert!(
            text.starts_with(r#"{"nftables":[{"add":{"element":{"family":"ip","table":"pier","name":"bridges","elem":["br-n1"]}}}"#),
            "{text}"
        );
        let isolation = concat!(
            r#"{"add":{"rule":{"family":"ip","table":"pier","chain":"forward","expr":["#,
            r#"{"match":{"left":{"meta":{"key":"iifname"}},"right":"br-n1","op":"=="}},"#,
            r#"{"match":{"left":{"meta":{"key":"oifname"}},"right":"br-n1","op":"!="}},"#,
            r#"{"match":{"left":{"meta":{"key":"oifname"}},"right":"@bridges","op":"=="}},"#,
            r#"{"match":{"left":{"&":[{"ct":{"key":"status"}},"dnat"]},"right":0,"op":"=="}},"#,
            r#"{"drop":null}],"comment":"net br-n1"}}}"#,
        );
        assert!(text.contains(isolation), "{text}");
        assert_eq!(text.matches(r#"{"drop":null}"#).count(), 1, "{text}");
    }

    #[test]
    fn skeleton_declares_the_set_of_bridges() {
        let mut batch = Batch::new("pier");
        batch.skeleton();
        let text = json(&batch);
        assert!(
            text.starts_with(r#"{"nftables":[{"add":{"table":{"family":"ip","name":"pier"}}},{"add":{"set":{"family":"ip","table":"pier","name":"bridges","type":"ifname"}}}"#),
            "{text}"
        );
    }

    #[test]
    fn deleting_a_bridge_deletes_its_element_only() {
        let mut batch = Batch::new("pier");
        batch.delete_bridge("br-n1");
        assert_eq!(
            json(&batch),
            r#"{"nftables":[{"delete":{"element":{"family":"ip","table":"pier","name":"bridges","elem":["br-n1"]}}}]}"#
        );
    }

    #[test]
    fn listing_reads_the_bridges_in_every_spelling() {
        let listing = |set: serde_json::Value| {
            TableListing::from_json(&serde_json::json!({"nftables": [
                {"table": {"family": "ip", "name": "pier", "handle": 1}},
                {"set": {"family": "ip", "name": "other", "table": "pier", "type": "ifname", "elem": ["nope"]}},
                {"set": set}
            ]}))
            .bridges
        };
        let base = serde_json::json!({"family": "ip", "name": "bridges", "table": "pier", "type": "ifname", "handle": 2});
        let with = |elem: serde_json::Value| {
            let mut set = base.clone();
            set["elem"] = elem;
            set
        };
        let both: HashSet<String> = ["br-a".to_string(), "br-b".to_string()].into();
        assert_eq!(listing(with(serde_json::json!(["br-a", "br-b"]))), both);
        assert_eq!(
            listing(with(
                serde_json::json!(["br-a", {"elem": {"val": "br-b", "comment": "x"}}])
            )),
            both
        );
        assert_eq!(
            listing(with(serde_json::json!("br-a"))),
            HashSet::from(["br-a".to_string()])
        );
        assert!(listing(base).is_empty(), "an empty set lists no elem");
    }

    #[test]
    fn endpoint_chain_with_dnat_per_port() {
        let ports = vec![
            PublishedPort {
                host_ip: Ipv4Addr::UNSPECIFIED,
                host_port: 8080,
                container_port: 80,
                proto: Proto::Tcp,
            },
            PublishedPort {
                host_ip: Ipv4Addr::LOCALHOST,
                host_port: 5353,
                container_port: 53,
                proto: Proto::Udp,
            },
        ];
        let mut batch = Batch::new("pier");
        batch.endpoint_ports(&endpoint(ports));
        let text = json(&batch);
        assert!(
            text.contains(r#"{"add":{"chain":{"family":"ip","table":"pier","name":"ctr-c1"}}}"#),
            "{text}"
        );
        assert!(
            text.contains(r#"{"flush":{"chain":{"family":"ip","table":"pier","name":"ctr-c1"}}}"#),
            "{text}"
        );
        assert!(
            text.contains(r#"{"payload":{"protocol":"tcp","field":"dport"}},"right":8080"#),
            "{text}"
        );
        assert!(
            text.contains(r#"{"dnat":{"addr":"172.18.0.2","port":80}}"#),
            "{text}"
        );
        assert!(
            text.contains(r#"{"payload":{"protocol":"ip","field":"daddr"}},"right":"127.0.0.1""#),
            "{text}"
        );
        assert!(
            text.contains(r#"{"dnat":{"addr":"172.18.0.2","port":53}}"#),
            "{text}"
        );
        assert!(
            text.contains(
                r#""chain":"ports","expr":[{"jump":{"target":"ctr-c1"}}],"comment":"ctr c1""#
            ),
            "{text}"
        );
    }

    #[test]
    fn rebuild_replaces_the_table_in_one_batch() {
        let mut batch = Batch::new("pier");
        let ports = vec![PublishedPort {
            host_ip: Ipv4Addr::UNSPECIFIED,
            host_port: 80,
            container_port: 80,
            proto: Proto::Tcp,
        }];
        batch.rebuild(
            &[network(false)],
            &[
                endpoint(ports),
                EndpointRecord {
                    container_id: "c2".into(),
                    ..endpoint(vec![])
                },
            ],
        );
        let text = json(&batch);
        assert!(text.starts_with(r#"{"nftables":[{"add":{"table":{"family":"ip","name":"pier"}}},{"delete":{"table":{"family":"ip","name":"pier"}}}"#), "{text}");
        assert!(
            text.contains(r#""type":"nat","hook":"prerouting","prio":-100"#),
            "{text}"
        );
        assert!(
            text.contains(r#"{"fib":{"result":"type","flags":["daddr"]}}"#),
            "{text}"
        );
        assert!(text.contains("ctr-c1"));
        assert!(
            text.contains(
                r#"{"add":{"set":{"family":"ip","table":"pier","name":"bridges","type":"ifname"}}}"#
            ),
            "{text}"
        );
        assert!(
            text.contains(r#""name":"bridges","elem":["br-n1"]"#),
            "{text}"
        );
        assert!(
            !text.contains("ctr-c2"),
            "a container without ports costs nothing"
        );
    }

    #[test]
    fn listing_and_deletion_by_comment() {
        let listing = serde_json::json!({"nftables": [
            {"metainfo": {"version": "1.0.6"}},
            {"table": {"family": "ip", "name": "pier", "handle": 1}},
            {"chain": {"family": "ip", "table": "pier", "name": "ports", "handle": 2}},
            {"chain": {"family": "ip", "table": "pier", "name": "ctr-c1", "handle": 3}},
            {"rule": {"family": "ip", "table": "pier", "chain": "ports", "handle": 7, "comment": "ctr c1", "expr": []}},
            {"rule": {"family": "ip", "table": "pier", "chain": "ports", "handle": 8, "comment": "ctr c2", "expr": [{"weird": 1}]}},
            {"rule": {"family": "ip", "table": "pier", "chain": "ports", "handle": 9, "comment": "ctr c1", "expr": []}}
        ]});
        let listing = TableListing::from_json(&listing);
        assert!(listing.chains.contains("ctr-c1"));
        let rules = listing.rules_with_comment("ctr c1");
        assert_eq!(rules.iter().map(|r| r.handle).collect::<Vec<_>>(), [7, 9]);
        let mut batch = Batch::new("pier");
        batch.delete_rules(&rules).delete_chain("ctr-c1");
        let text = json(&batch);
        assert!(text.contains(r#"{"delete":{"rule":{"family":"ip","table":"pier","chain":"ports","expr":[],"handle":7}}}"#), "{text}");
        assert!(
            text.ends_with(
                r#"{"delete":{"chain":{"family":"ip","table":"pier","name":"ctr-c1"}}}]}"#
            ),
            "{text}"
        );
    }
}
