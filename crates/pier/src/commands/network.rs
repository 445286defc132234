//! `network create`, `ls`, `inspect`, `rm`, `connect`, `disconnect`, `prune`: user-defined
//! networks, with Docker CLI 28's flags, checks and texts.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::net::IpAddr;

use api::client::{Query, escape_path};
use api::types::{
    EndpointIpamConfig, EndpointSettings, Ipam, IpamConfig, Network, NetworkConnectRequest,
    NetworkCreateRequest, NetworkCreateResponse, NetworkDisconnectRequest, NetworkPruneResponse,
};
use clap::{Args, Subcommand};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use template::Methods;

use super::inspect::{Kind, TypedInspectArgs, inspect_kind};
use crate::cli::args::kv_map;
use crate::cli::format::{Table, label_call};
use crate::cli::prompt::confirm;
use crate::cli::text::{go_quote, print_err, print_line, print_text, short_id};
use crate::cli::{CliError, Context};

/// `pier network ...`.
#[derive(Subcommand, Debug)]
pub enum NetworkCommand {
    /// Connect a container to a network
    Connect(ConnectArgs),
    /// Create a network
    Create(CreateArgs),
    /// Disconnect a container from a network
    Disconnect(DisconnectArgs),
    /// Display detailed information on one or more networks
    Inspect(TypedInspectArgs),
    /// List networks
    #[command(visible_alias = "list")]
    Ls(LsArgs),
    /// Remove all unused networks
    Prune(PruneArgs),
    /// Remove one or more networks
    #[command(visible_alias = "remove")]
    Rm(RmArgs),
}

#[derive(Args, Debug)]
pub struct CreateArgs {
    /// Enable manual container attachment
    #[arg(long)]
    attachable: bool,
    /// Auxiliary IPv4 or IPv6 addresses used by Network driver
    #[arg(long = "aux-address", value_name = "map")]
    aux_address: Vec<String>,
    /// Create a configuration only network
    #[arg(long = "config-only")]
    config_only: bool,
    /// Driver to manage the Network
    #[arg(short = 'd', long, value_name = "string", default_value = "bridge")]
    driver: String,
    /// IPv4 or IPv6 Gateway for the master subnet
    #[arg(long, value_name = "strings", value_delimiter = ',')]
    gateway: Vec<String>,
    /// Create swarm routing-mesh network
    #[arg(long)]
    ingress: bool,
    /// Restrict external access to the network
    #[arg(long)]
    internal: bool,
    /// Allocate container ip from a sub-range
    #[arg(long = "ip-range", value_name = "strings", value_delimiter = ',')]
    ip_range: Vec<String>,
    /// IP Address Management Driver
    #[arg(long = "ipam-driver", value_name = "string", default_value = "default")]
    ipam_driver: String,
    /// Set IPAM driver specific options
    #[arg(long = "ipam-opt", value_name = "map")]
    ipam_opt: Vec<String>,
    /// Enable or disable IPv4 address assignment
    #[arg(
        long,
        value_name = "bool",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        value_parser = go_bool
    )]
    ipv4: Option<bool>,
    /// Enable or disable IPv6 address assignment
    #[arg(
        long,
        value_name = "bool",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        value_parser = go_bool
    )]
    ipv6: Option<bool>,
    /// Set metadata on a network
    #[arg(long = "label", value_name = "list", value_parser = validate_label)]
    label: Vec<String>,
    /// Set driver specific options
    #[arg(short = 'o', long = "opt", value_name = "map")]
    opt: Vec<String>,
    /// Control the network's scope
    #[arg(long, value_name = "string")]
    scope: Option<String>,
    /// Subnet in CIDR format that represents a network segment
    #[arg(long, value_name = "strings", value_delimiter = ',')]
    subnet: Vec<String>,
    #[arg(value_name = "NETWORK")]
    name: String,
}

#[derive(Args, Debug)]
pub struct LsArgs {
    /// Provide filter values (e.g. "driver=bridge")
    #[arg(short = 'f', long = "filter", value_name = "filter")]
    filters: Vec<String>,
    /// Format output using a custom template
    #[arg(long, value_name = "string")]
    format: Option<String>,
    /// Do not truncate the output
    #[arg(long)]
    no_trunc: bool,
    /// Only display network IDs
    #[arg(short = 'q', long)]
    quiet: bool,
}

#[derive(Args, Debug)]
pub struct RmArgs {
    /// Do not error if the network does not exist
    #[arg(short = 'f', long)]
    force: bool,
    #[arg(value_name = "NETWORK", required = true)]
    networks: Vec<String>,
}

#[derive(Args, Debug)]
pub struct ConnectArgs {
    /// Add network-scoped alias for the container
    #[arg(long, value_name = "strings", value_delimiter = ',')]
    alias: Vec<String>,
    /// driver options for the network
    #[arg(long = "driver-opt", value_name = "strings", value_delimiter = ',')]
    driver_opt: Vec<String>,
    /// IPv4 address (e.g., "172.30.100.104")
    #[arg(long, value_name = "string")]
    ip: Option<String>,
    /// IPv6 address (e.g., "2001:db8::33")
    #[arg(long, value_name = "string")]
    ip6: Option<String>,
    /// Add link to another container
    #[arg(long, value_name = "list", value_parser = validate_link)]
    link: Vec<String>,
    /// Add a link-local address for the container
    #[arg(long = "link-local-ip", value_name = "strings", value_delimiter = ',')]
    link_local_ip: Vec<String>,
    #[arg(value_name = "NETWORK")]
    network: String,
    #[arg(value_name = "CONTAINER")]
    container: String,
}

#[derive(Args, Debug)]
pub struct DisconnectArgs {
    /// Force the container to disconnect from a network
    #[arg(short = 'f', long)]
    force: bool,
    #[arg(value_name = "NETWORK")]
    network: String,
    #[arg(value_name = "CONTAINER")]
    container: String,
}

#[derive(Args, Debug)]
pub struct PruneArgs {
    /// Provide filter values (e.g. "until=<timestamp>")
    #[arg(long = "filter", value_name = "filter")]
    filters: Vec<String>,
    /// Do not prompt for confirmation
    #[arg(short = 'f', long)]
    force: bool,
}

pub async fn dispatch(ctx: &Context, command: NetworkCommand) -> Result<(), CliError> {
    match command {
        NetworkCommand::Connect(args) => connect(ctx, args).await,
        NetworkCommand::Create(args) => create(ctx, args).await,
        NetworkCommand::Disconnect(args) => disconnect(ctx, args).await,
        NetworkCommand::Inspect(args) => inspect_kind(ctx, Kind::Network, args).await,
        NetworkCommand::Ls(args) => ls(ctx, args).await,
        NetworkCommand::Prune(args) => prune(ctx, args).await,
        NetworkCommand::Rm(args) => rm(ctx, args).await,
    }
}

/// Go's `strconv.ParseBool`, for the `--flag=value` spelling of boolean flags.
fn go_bool(value: &str) -> Result<bool, String> {
    match value {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(false),
        _ => Err(format!(
            "strconv.ParseBool: parsing {}: invalid syntax",
            go_quote(value)
        )),
    }
}

/// Docker's `ValidateLabel`.
fn validate_label(value: &str) -> Result<String, String> {
    let key = value.split_once('=').map_or(value, |(key, _)| key).trim();
    if key.is_empty() {
        return Err(format!("invalid label '{value}': empty name"));
    }
    if key.contains([' ', '\t']) {
        return Err(format!("label '{key}' contains whitespaces"));
    }
    Ok(value.to_owned())
}

/// Docker's `ValidateLink`: `name` or `name:alias`.
fn validate_link(value: &str) -> Result<String, String> {
    if value.is_empty() {
        return Err("empty string specified for links".to_owned());
    }
    if value.splitn(3, ':').count() > 2 {
        return Err(format!("bad format for links: {value}"));
    }
    Ok(value.to_owned())
}

/// The body of `POST /networks/create`, or the error Docker's CLI gives before sending.
fn create_request(args: CreateArgs) -> Result<NetworkCreateRequest, CliError> {
    if args.ipv6 == Some(true) {
        return Err(CliError::other(
            "IPv6 is not supported: pier networks are IPv4 only (drop --ipv6)",
        ));
    }
    if args.ipv4 == Some(false) {
        return Err(CliError::other(
            "IPv4 cannot be disabled: pier networks are IPv4 only (drop --ipv4=false)",
        ));
    }
    let config = ipam_config(
        &args.subnet,
        &args.ip_range,
        &args.gateway,
        &kv_map(&args.aux_address),
    )
    .map_err(CliError::Other)?;
    Ok(NetworkCreateRequest {
        name: args.name,
        // Docker 28 sends this only below API 1.44; later daemons ignore it (names are
        // unique anyway), so sending it always changes nothing.
        check_duplicate: true,
        driver: args.driver,
        scope: args.scope.unwrap_or_default(),
        internal: args.internal,
        attachable: args.attachable,
        ingress: args.ingress,
        config_only: args.config_only,
        // Docker sends the IPAM section even when no flag fills it: the daemon then picks a
        // free subnet with the named driver.
        ipam: Some(Ipam {
            driver: args.ipam_driver,
            config,
            options: kv_map(&args.ipam_opt),
        }),
        enable_ipv6: args.ipv6,
        options: kv_map(&args.opt),
        labels: kv_map(&args.label),
    })
}

/// Docker's `createIPAMConfig`: pairs each `--ip-range`, `--gateway` and `--aux-address`
/// with the `--subnet` that contains it, with its checks and its error texts. The subnets
/// keep the order they were given in (Docker's follow a Go map's).
fn ipam_config(
    subnets: &[String],
    ranges: &[String],
    gateways: &[String],
    aux: &BTreeMap<String, String>,
) -> Result<Vec<IpamConfig>, String> {
    if subnets.len() < ranges.len() || subnets.len() < gateways.len() {
        return Err("every ip-range or gateway must have a corresponding subnet".to_owned());
    }
    let mut configs: Vec<IpamConfig> = Vec::new();
    for subnet in subnets {
        for earlier in &configs {
            if subnet_matches(subnet, &earlier.subnet)? || subnet_matches(&earlier.subnet, subnet)?
            {
                return Err("multiple overlapping subnet configuration is not supported".to_owned());
            }
        }
        configs.push(IpamConfig {
            subnet: subnet.clone(),
            ..IpamConfig::default()
        });
    }
    for range in ranges {
        parse_cidr(range).ok_or_else(|| invalid_cidr(range))?;
        place_on_subnet(&mut configs, range, PerSubnet::Range)?;
    }
    for gateway in gateways {
        place_on_subnet(&mut configs, gateway, PerSubnet::Gateway)?;
    }
    for (key, address) in aux {
        let mut matched = false;
        for config in &mut configs {
            if subnet_matches(&config.subnet, address)? {
                config
                    .auxiliary_addresses
                    .insert(key.clone(), address.clone());
                matched = true;
            }
        }
        if !matched {
            return Err(format!("no matching subnet for aux-address {address}"));
        }
    }
    Ok(configs)
}

/// What a subnet has one of at most.
#[derive(Clone, Copy)]
enum PerSubnet {
    Range,
    Gateway,
}

impl PerSubnet {
    fn slot(self, config: &mut IpamConfig) -> &mut String {
        match self {
            PerSubnet::Range => &mut config.ip_range,
            PerSubnet::Gateway => &mut config.gateway,
        }
    }
}

/// Puts an `--ip-range` or `--gateway` on every subnet that contains it, in Docker's words
/// when none does or one has such a value already.
fn place_on_subnet(configs: &mut [IpamConfig], value: &str, what: PerSubnet) -> Result<(), String> {
    let mut matched = false;
    for config in configs.iter_mut() {
        if !subnet_matches(&config.subnet, value)? {
            continue;
        }
        let subnet = config.subnet.clone();
        let slot = what.slot(config);
        if !slot.is_empty() {
            return Err(match what {
                PerSubnet::Range => format!(
                    "cannot configure multiple ranges ({value}, {slot}) on the same subnet ({subnet})"
                ),
                PerSubnet::Gateway => format!(
                    "cannot configure multiple gateways ({value}, {slot}) for the same subnet ({subnet})"
                ),
            });
        }
        *slot = value.to_owned();
        matched = true;
    }
    if !matched {
        let noun = match what {
            PerSubnet::Range => "range",
            PerSubnet::Gateway => "gateway",
        };
        return Err(format!("no matching subnet for {noun} {value}"));
    }
    Ok(())
}

fn invalid_cidr(text: &str) -> String {
    format!("invalid CIDR address: {text}")
}

/// Docker's `subnetMatches`: whether `subnet` holds the address `data` (an address, or
/// the address part of a CIDR). An address that does not parse is in no subnet.
fn subnet_matches(subnet: &str, data: &str) -> Result<bool, String> {
    let (network, bits) =
        parse_cidr(subnet).ok_or_else(|| format!("invalid subnet: {}", invalid_cidr(subnet)))?;
    let address = if data.contains('/') {
        parse_cidr(data).ok_or_else(|| invalid_cidr(data))?.0
    } else {
        match data.parse::<IpAddr>() {
            Ok(address) => unmap(address),
            Err(_) => return Ok(false),
        }
    };
    Ok(match (network, address) {
        (IpAddr::V4(network), IpAddr::V4(address)) => {
            masked(u32::from(network).into(), bits, 32)
                == masked(u32::from(address).into(), bits, 32)
        }
        (IpAddr::V6(network), IpAddr::V6(address)) => {
            masked(network.into(), bits, 128) == masked(address.into(), bits, 128)
        }
        _ => false,
    })
}

fn masked(address: u128, bits: u8, width: u8) -> u128 {
    if bits == 0 {
        0
    } else {
        address >> (width - bits)
    }
}

/// Go's `net.ParseCIDR`, with an IPv4-mapped IPv6 network taken as the IPv4 one its mask
/// leaves (as Go's `IPNet.Contains` does).
fn parse_cidr(text: &str) -> Option<(IpAddr, u8)> {
    let (address, bits) = text.split_once('/')?;
    if bits.is_empty() || !bits.bytes().all(|b| b.is_ascii_digit()) || bits.len() > 8 {
        return None;
    }
    let bits: u32 = bits.parse().ok()?;
    match address.parse::<IpAddr>().ok()? {
        IpAddr::V4(v4) if bits <= 32 => Some((IpAddr::V4(v4), bits as u8)),
        IpAddr::V6(v6) if bits <= 128 => match v6.to_ipv4_mapped() {
            Some(v4) => Some((IpAddr::V4(v4), bits.saturating_sub(96) as u8)),
            None => Some((IpAddr::V6(v6), bits as u8)),
        },
        _ => None,
    }
}

fn unmap(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
        v4 => v4,
    }
}

async fn create(ctx: &Context, args: CreateArgs) -> Result<(), CliError> {
    let body = create_request(args)?;
    let client = ctx.client().await?;
    let answer: NetworkCreateResponse = client.post_json("/networks/create", &body).await?;
    print_line(&answer.id);
    Ok(())
}

/// A network as `network ls` lists it; `EnableIPv4` is API 1.47's, false when absent as for
/// Docker's CLI.
#[derive(Debug, Deserialize)]
struct Listed {
    #[serde(flatten)]
    network: Network,
    #[serde(rename = "EnableIPv4", default)]
    enable_ipv4: bool,
}

const TABLE: &str = "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}";
const HEADERS: &[(&str, &str)] = &[
    ("ID", "NETWORK ID"),
    ("Name", "NAME"),
    ("Driver", "DRIVER"),
    ("Scope", "SCOPE"),
    ("IPv4", "IPV4"),
    ("IPv6", "IPV6"),
    ("Internal", "INTERNAL"),
    ("Labels", "LABELS"),
    ("CreatedAt", "CREATED AT"),
];

/// Docker's `.Label "name"` on `network ls` rows, looked up in the network's own labels
/// (by its name, which the daemon keeps unique): a value may hold `,` or `=`, which the
/// joined `Labels` text cannot tell apart.
struct NetworkLabels<'a>(BTreeMap<&'a str, &'a BTreeMap<String, String>>);

impl Methods for NetworkLabels<'_> {
    fn call(
        &self,
        receiver: &Map<String, Value>,
        name: &str,
        args: &[Value],
    ) -> Option<Result<String, String>> {
        let wanted = match label_call(name, args)? {
            Ok(wanted) => wanted,
            Err(e) => return Some(Err(e)),
        };
        let network = receiver.get("Name").and_then(Value::as_str).unwrap_or("");
        let value = self
            .0
            .get(network)
            .and_then(|labels| labels.get(wanted))
            .cloned()
            .unwrap_or_default();
        Some(Ok(value))
    }
}

/// A network as `network ls` templates see it.
fn row(listed: &Listed, no_trunc: bool) -> Value {
    let network = &listed.network;
    let labels: Vec<String> = network
        .labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    json!({
        "CreatedAt": go_time_text(&network.created),
        "Driver": network.driver,
        "ID": if no_trunc { network.id.as_str() } else { short_id(&network.id) },
        "IPv4": listed.enable_ipv4.to_string(),
        "IPv6": network.enable_ipv6.to_string(),
        "Internal": network.internal.to_string(),
        "Labels": labels.join(","),
        "Name": network.name,
        "Scope": network.scope,
    })
}

/// The text of `network ls`, its networks in Docker's natural order of names.
fn render_list(
    mut networks: Vec<Listed>,
    format: Option<&str>,
    quiet: bool,
    no_trunc: bool,
) -> Result<String, CliError> {
    networks.sort_by(|a, b| natural_order(&a.network.name, &b.network.name));
    let labels = NetworkLabels(
        networks
            .iter()
            .map(|n| (n.network.name.as_str(), &n.network.labels))
            .collect(),
    );
    let table = Table {
        default: TABLE,
        headers: HEADERS,
        row_type: "*network.networkContext",
        methods: Some(&labels),
    };
    let format = if quiet {
        table.quiet_format(format, "ID")
    } else {
        table.format(format)
    };
    let rows: Vec<Value> = networks.iter().map(|n| row(n, no_trunc)).collect();
    table.render(&format, &rows)
}

async fn ls(ctx: &Context, args: LsArgs) -> Result<(), CliError> {
    let filters = ctx.filters(&args.filters, "-f, --filter")?;
    let client = ctx.client().await?;
    let networks: Vec<Listed> = client
        .get_json(&Query::new().filters(&filters).build("/networks"))
        .await?;
    print_text(&render_list(
        networks,
        args.format.as_deref(),
        args.quiet,
        args.no_trunc,
    )?);
    Ok(())
}

/// `sortorder.NaturalLess` as an ordering: runs of digits compare as numbers (`net2`
/// before `net10`), the rest byte by byte, digits before anything else.
fn natural_order(a: &str, b: &str) -> Ordering {
    if natural_less(a, b) {
        Ordering::Less
    } else if natural_less(b, a) {
        Ordering::Greater
    } else {
        Ordering::Equal
    }
}

fn natural_less(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        let (x, y) = (a[i], b[j]);
        match (x.is_ascii_digit(), y.is_ascii_digit()) {
            (true, false) => return true,
            (false, true) => return false,
            (false, false) => {
                if x != y {
                    return x < y;
                }
                i += 1;
                j += 1;
            }
            (true, true) => {
                while i < a.len() && a[i] == b'0' {
                    i += 1;
                }
                while j < b.len() && b[j] == b'0' {
                    j += 1;
                }
                let (start_a, start_b) = (i, j);
                while i < a.len() && a[i].is_ascii_digit() {
                    i += 1;
                }
                while j < b.len() && b[j].is_ascii_digit() {
                    j += 1;
                }
                let (digits_a, digits_b) = (&a[start_a..i], &b[start_b..j]);
                if digits_a.len() != digits_b.len() {
                    return digits_a.len() < digits_b.len();
                }
                if digits_a != digits_b {
                    return digits_a < digits_b;
                }
                // Equal numbers: fewer leading zeros first.
                if start_a != start_b {
                    return start_a < start_b;
                }
            }
        }
    }
    a.len() < b.len()
}

/// Go's `Time.String()` of a network's `Created` (RFC 3339 as the daemon wrote it): the
/// time in its own offset, the fraction without trailing zeros. An offset of zero reads as
/// `UTC`, as for a client whose local zone is UTC; others have no zone name in Go but the
/// offset again. What does not parse is Go's zero time.
fn go_time_text(created: &str) -> String {
    const ZERO: &str = "0001-01-01 00:00:00 +0000 UTC";
    let Some((date, clock)) = created.get(..19).and_then(|head| head.split_once('T')) else {
        return ZERO.to_owned();
    };
    let rest = &created[19..];
    let (fraction, zone) = match rest.strip_prefix('.') {
        Some(after) => {
            let end = after
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(after.len());
            (&after[..end.min(9)], &after[end..])
        }
        None => ("", rest),
    };
    let zone = match zone {
        "Z" | "z" | "+00:00" | "-00:00" => "+0000 UTC".to_owned(),
        offset if offset.len() == 6 && offset.as_bytes()[3] == b':' => {
            let compact = format!("{}{}", &offset[..3], &offset[4..]);
            format!("{compact} {compact}")
        }
        _ => return ZERO.to_owned(),
    };
    let fraction = fraction.trim_end_matches('0');
    if fraction.is_empty() {
        format!("{date} {clock} {zone}")
    } else {
        format!("{date} {clock}.{fraction} {zone}")
    }
}

async fn rm(ctx: &Context, args: RmArgs) -> Result<(), CliError> {
    let client = ctx.client().await?;
    let mut failed = false;
    for name in &args.networks {
        match client
            .delete(&format!("/networks/{}", escape_path(name)))
            .await
        {
            Ok(()) => print_line(name),
            Err(error) if args.force && error.is_not_found() => {}
            Err(error) => {
                // Docker prints each failure as it happens, between the names removed.
                print_err(&CliError::from(error).to_string());
                failed = true;
            }
        }
    }
    if failed {
        // Docker 28 ends with a `StatusError` whose text is this.
        Err(CliError::status("exit status 1", 1))
    } else {
        Ok(())
    }
}

/// The body of `POST /networks/{id}/connect`, as Docker's CLI fills it.
fn connect_request(args: &ConnectArgs) -> Result<NetworkConnectRequest, CliError> {
    let mut driver_opts = BTreeMap::new();
    for opt in &args.driver_opt {
        match opt.split_once('=') {
            Some((key, value)) if !key.trim().is_empty() => {
                driver_opts.insert(key.trim().to_owned(), value.trim().to_owned());
            }
            _ => {
                return Err(CliError::other(
                    "invalid key/value pair format in driver options",
                ));
            }
        }
    }
    Ok(NetworkConnectRequest {
        container: args.container.clone(),
        endpoint_config: Some(EndpointSettings {
            ipam_config: Some(EndpointIpamConfig {
                ipv4_address: args.ip.clone().unwrap_or_default(),
                ipv6_address: args.ip6.clone().unwrap_or_default(),
                link_local_ips: Some(args.link_local_ip.clone()),
            }),
            links: (!args.link.is_empty()).then(|| args.link.clone()),
            aliases: Some(args.alias.clone()),
            driver_opts: Some(driver_opts),
            ..EndpointSettings::default()
        }),
    })
}

async fn connect(ctx: &Context, args: ConnectArgs) -> Result<(), CliError> {
    let body = connect_request(&args)?;
    let client = ctx.client().await?;
    let path = format!("/networks/{}/connect", escape_path(&args.network));
    client.post_body(&path, &body).await?;
    Ok(())
}

async fn disconnect(ctx: &Context, args: DisconnectArgs) -> Result<(), CliError> {
    let body = NetworkDisconnectRequest {
        container: args.container,
        force: args.force,
    };
    let client = ctx.client().await?;
    let path = format!("/networks/{}/disconnect", escape_path(&args.network));
    client.post_body(&path, &body).await?;
    Ok(())
}

/// What `network prune` prints for the networks the daemon removed: nothing, or the
/// list and an empty line (Docker's `Fprintln` of text that already ends its line).
fn pruned_text(deleted: &[String]) -> String {
    if deleted.is_empty() {
        return String::new();
    }
    let mut text = String::from("Deleted Networks:\n");
    for name in deleted {
        text.push_str(name);
        text.push('\n');
    }
    text.push('\n');
    text
}

async fn prune(ctx: &Context, args: PruneArgs) -> Result<(), CliError> {
    let filters = ctx.filters(&args.filters, "--filter")?;
    if !args.force
        && !confirm(
            "WARNING! This will remove all custom networks not used by at least one container.",
        )
    {
        return Ok(());
    }
    let client = ctx.client().await?;
    let answer: NetworkPruneResponse = client
        .post_for_json(&Query::new().filters(&filters).build("/networks/prune"))
        .await?;
    print_text(&pruned_text(&answer.networks_deleted));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser, Debug)]
    struct Cli {
        #[command(subcommand)]
        command: NetworkCommand,
    }

    fn parse(line: &[&str]) -> Result<NetworkCommand, clap::Error> {
        let argv = std::iter::once("network").chain(line.iter().copied());
        Cli::try_parse_from(argv).map(|cli| cli.command)
    }

    fn create_args(line: &[&str]) -> CreateArgs {
        let mut full = vec!["create"];
        full.extend_from_slice(line);
        match parse(&full).unwrap() {
            NetworkCommand::Create(args) => args,
            other => panic!("not create: {other:?}"),
        }
    }

    fn create_body(line: &[&str]) -> Value {
        serde_json::to_value(create_request(create_args(line)).unwrap()).unwrap()
    }

    fn create_error(line: &[&str]) -> String {
        create_request(create_args(line)).unwrap_err().to_string()
    }

    #[test]
    fn create_without_flags_sends_dockers_defaults() {
        assert_eq!(
            create_body(&["app"]),
            json!({
                "Name": "app",
                "CheckDuplicate": true,
                "Driver": "bridge",
                "Internal": false,
                "Attachable": false,
                "Ingress": false,
                "IPAM": {"Driver": "default", "Config": [], "Options": {}},
                "Options": {},
                "Labels": {},
            })
        );
    }

    #[test]
    fn create_pairs_ranges_gateways_and_aux_addresses_with_their_subnets() {
        let body = create_body(&[
            "-d",
            "macvlan",
            "--subnet",
            "10.1.0.0/16,10.2.0.0/24",
            "--gateway",
            "10.2.0.254",
            "--gateway=10.1.0.1",
            "--ip-range",
            "10.1.4.0/24",
            "--aux-address",
            "router=10.1.0.2",
            "--aux-address",
            "printer=10.2.0.9",
            "--internal",
            "--attachable",
            "--label",
            "tier=back",
            "--label",
            "bare",
            "-o",
            "com.docker.network.bridge.name=br-app",
            "--ipam-opt",
            "x=y",
            "--ipv6=false",
            "app",
        ]);
        assert_eq!(body["Driver"], "macvlan");
        assert_eq!(body["Internal"], true);
        assert_eq!(body["Attachable"], true);
        assert_eq!(body["EnableIPv6"], false);
        assert_eq!(body["Labels"], json!({"tier": "back", "bare": ""}));
        assert_eq!(
            body["Options"],
            json!({"com.docker.network.bridge.name": "br-app"})
        );
        assert_eq!(
            body["IPAM"],
            json!({
                "Driver": "default",
                "Options": {"x": "y"},
                "Config": [
                    {"Subnet": "10.1.0.0/16", "IPRange": "10.1.4.0/24", "Gateway": "10.1.0.1",
                     "AuxiliaryAddresses": {"router": "10.1.0.2"}},
                    {"Subnet": "10.2.0.0/24", "Gateway": "10.2.0.254",
                     "AuxiliaryAddresses": {"printer": "10.2.0.9"}},
                ],
            })
        );
    }

    #[test]
    fn create_refuses_what_dockers_cli_refuses() {
        assert_eq!(
            create_error(&["--gateway", "10.0.0.1", "app"]),
            "every ip-range or gateway must have a corresponding subnet"
        );
        assert_eq!(
            create_error(&["--subnet", "10.0.0.0/24", "--gateway", "10.1.0.1", "app"]),
            "no matching subnet for gateway 10.1.0.1"
        );
        assert_eq!(
            create_error(&["--subnet", "10.0.0.0/24", "--gateway", "foo", "app"]),
            "no matching subnet for gateway foo"
        );
        assert_eq!(
            create_error(&[
                "--subnet",
                "10.0.0.0/24",
                "--ip-range",
                "10.1.0.0/28",
                "app"
            ]),
            "no matching subnet for range 10.1.0.0/28"
        );
        assert_eq!(
            create_error(&["--subnet", "10.0.0.0/24", "--ip-range", "foo", "app"]),
            "invalid CIDR address: foo"
        );
        assert_eq!(
            create_error(&[
                "--subnet=10.0.0.0/24,10.1.0.0/16",
                "--ip-range=10.0.0.0/28,10.0.0.16/28",
                "app"
            ]),
            "cannot configure multiple ranges (10.0.0.16/28, 10.0.0.0/28) on the same subnet (10.0.0.0/24)"
        );
        assert_eq!(
            create_error(&[
                "--subnet=10.0.0.0/24,10.1.0.0/16",
                "--gateway=10.0.0.1,10.0.0.2",
                "app"
            ]),
            "cannot configure multiple gateways (10.0.0.2, 10.0.0.1) for the same subnet (10.0.0.0/24)"
        );
        assert_eq!(
            create_error(&["--subnet", "10.0.0.0/24", "--subnet", "10.0.0.0/16", "app"]),
            "multiple overlapping subnet configuration is not supported"
        );
        assert_eq!(
            create_error(&["--subnet", "10.0.0.0/24", "--subnet", "bad", "app"]),
            "invalid subnet: invalid CIDR address: bad"
        );
        assert_eq!(
            create_error(&[
                "--subnet",
                "10.0.0.0/24",
                "--aux-address",
                "a=10.2.0.1",
                "app"
            ]),
            "no matching subnet for aux-address 10.2.0.1"
        );
        assert_eq!(
            create_error(&["--subnet", "10.0.0.0/24", "--aux-address", "a", "app"]),
            "no matching subnet for aux-address "
        );
        assert!(create_error(&["--ipv6", "app"]).contains("IPv6 is not supported"));
        assert!(create_error(&["--ipv6=true", "app"]).contains("IPv6 is not supported"));
        assert!(create_error(&["--ipv4=false", "app"]).contains("IPv4 cannot be disabled"));
    }

    #[test]
    fn a_lone_subnet_is_left_to_the_daemon() {
        let body = create_body(&["--subnet", "foo", "app"]);
        assert_eq!(body["IPAM"]["Config"], json!([{"Subnet": "foo"}]));
    }

    #[test]
    fn flag_values_are_checked_as_dockers() {
        let error = |line: &[&str]| {
            let error = parse(line).unwrap_err();
            use std::error::Error as _;
            error.source().map(ToString::to_string).unwrap_or_default()
        };
        assert_eq!(
            error(&["create", "--label", "=a", "x"]),
            "invalid label '=a': empty name"
        );
        assert_eq!(
            error(&["create", "--label", "a b=c", "x"]),
            "label 'a b' contains whitespaces"
        );
        assert_eq!(
            error(&["create", "--ipv6=foo", "x"]),
            "strconv.ParseBool: parsing \"foo\": invalid syntax"
        );
        assert_eq!(
            error(&["connect", "--link", "a:b:c", "n", "c"]),
            "bad format for links: a:b:c"
        );
        assert_eq!(
            error(&["connect", "--link", "", "n", "c"]),
            "empty string specified for links"
        );
        assert!(parse(&["connect", "n"]).is_err());
        assert!(parse(&["connect", "n", "c", "extra"]).is_err());
        assert!(parse(&["create"]).is_err());
        assert!(parse(&["rm"]).is_err());
    }

    fn connect_args(line: &[&str]) -> ConnectArgs {
        let mut full = vec!["connect"];
        full.extend_from_slice(line);
        match parse(&full).unwrap() {
            NetworkCommand::Connect(args) => args,
            other => panic!("not connect: {other:?}"),
        }
    }

    #[test]
    fn connect_bodies() {
        let body = serde_json::to_value(
            connect_request(&connect_args(&[
                "--alias",
                "web,www",
                "--alias=api",
                "--ip",
                "172.20.0.9",
                "--link",
                "db:database",
                "--driver-opt",
                " com.example.x = 1 ",
                "app",
                "web1",
            ]))
            .unwrap(),
        )
        .unwrap();
        assert_eq!(body["Container"], "web1");
        let endpoint = &body["EndpointConfig"];
        assert_eq!(endpoint["Aliases"], json!(["web", "www", "api"]));
        assert_eq!(endpoint["Links"], json!(["db:database"]));
        assert_eq!(endpoint["IPAMConfig"], json!({"IPv4Address": "172.20.0.9"}));
        assert_eq!(endpoint["DriverOpts"], json!({"com.example.x": "1"}));

        let plain = serde_json::to_value(connect_request(&connect_args(&["app", "web1"])).unwrap())
            .unwrap();
        assert_eq!(plain["EndpointConfig"]["Links"], Value::Null);
        assert_eq!(plain["EndpointConfig"]["Aliases"], json!([]));
        assert_eq!(plain["EndpointConfig"]["IPAMConfig"], json!({}));

        for bad in ["foo", " =x"] {
            let error =
                connect_request(&connect_args(&["--driver-opt", bad, "app", "web1"])).unwrap_err();
            assert_eq!(
                error.to_string(),
                "invalid key/value pair format in driver options"
            );
        }
    }

    #[test]
    fn disconnect_and_rm_flags() {
        match parse(&["disconnect", "-f", "app", "web1"]).unwrap() {
            NetworkCommand::Disconnect(args) => {
                assert!(args.force);
                assert_eq!(
                    (args.network.as_str(), args.container.as_str()),
                    ("app", "web1")
                );
            }
            other => panic!("{other:?}"),
        }
        match parse(&["remove", "-f", "a", "b"]).unwrap() {
            NetworkCommand::Rm(args) => {
                assert!(args.force);
                assert_eq!(args.networks, ["a", "b"]);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(parse(&["list"]).unwrap(), NetworkCommand::Ls(_)));
    }

    fn listed(name: &str, id: &str, driver: &str) -> Listed {
        Listed {
            network: Network {
                name: name.to_owned(),
                id: id.to_owned(),
                driver: driver.to_owned(),
                scope: "local".to_owned(),
                created: "2024-05-01T10:20:30.120000000Z".to_owned(),
                ..Network::default()
            },
            enable_ipv4: true,
        }
    }

    fn networks() -> Vec<Listed> {
        let mut app = listed("net10", &format!("{:0<64}", "5e3c9a"), "bridge");
        app.network
            .labels
            .insert("tier".into(), "back,end=1".into());
        app.network.labels.insert("env".into(), "prod".into());
        app.network.internal = true;
        vec![
            listed("none", &format!("{:0<64}", "aa11"), "null"),
            app,
            listed("bridge", &format!("{:0<64}", "bb22"), "bridge"),
            listed("net2", &format!("{:0<64}", "cc33"), "bridge"),
            listed("host", &format!("{:0<64}", "dd44"), "host"),
        ]
    }

    #[test]
    fn ls_default_table() {
        assert_eq!(
            render_list(networks(), None, false, false).unwrap(),
            "NETWORK ID     NAME      DRIVER    SCOPE\n\
             bb2200000000   bridge    bridge    local\n\
             dd4400000000   host      host      local\n\
             cc3300000000   net2      bridge    local\n\
             5e3c9a000000   net10     bridge    local\n\
             aa1100000000   none      null      local\n"
        );
        assert_eq!(
            render_list(Vec::new(), None, false, false).unwrap(),
            "NETWORK ID   NAME      DRIVER    SCOPE\n"
        );
    }

    #[test]
    fn ls_quiet_no_trunc_and_templates() {
        assert_eq!(
            render_list(networks(), None, true, false).unwrap(),
            "bb2200000000\ndd4400000000\ncc3300000000\n5e3c9a000000\naa1100000000\n"
        );
        let full = render_list(networks(), Some("table"), true, true).unwrap();
        assert_eq!(full.lines().next().unwrap(), format!("{:0<64}", "bb22"));
        assert_eq!(
            render_list(networks(), Some("{{.Name}}"), true, false).unwrap(),
            "bridge\nhost\nnet2\nnet10\nnone\n"
        );
        assert_eq!(
            render_list(
                networks(),
                Some("{{.Name}} {{.Internal}} {{.IPv4}} {{.IPv6}} {{.Labels}} {{.Label \"tier\"}}"),
                false,
                false
            )
            .unwrap()
            .lines()
            .nth(3)
            .unwrap(),
            "net10 true true false env=prod,tier=back,end=1 back,end=1"
        );
        assert_eq!(
            render_list(networks(), Some("{{.CreatedAt}}"), false, false)
                .unwrap()
                .lines()
                .next()
                .unwrap(),
            "2024-05-01 10:20:30.12 +0000 UTC"
        );
        let error = render_list(networks(), Some("{{.Nope}}"), false, false).unwrap_err();
        assert!(
            error
                .to_string()
                .ends_with("can't evaluate field Nope in type *network.networkContext"),
            "{error}"
        );
    }

    #[test]
    fn ls_json_lines_have_dockers_keys() {
        let out = render_list(networks(), Some("json"), false, false).unwrap();
        let first: Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
        assert_eq!(
            first,
            json!({
                "CreatedAt": "2024-05-01 10:20:30.12 +0000 UTC",
                "Driver": "bridge",
                "ID": "bb2200000000",
                "IPv4": "true",
                "IPv6": "false",
                "Internal": "false",
                "Labels": "",
                "Name": "bridge",
                "Scope": "local",
            })
        );
    }

    #[test]
    fn list_entries_read_enable_ipv4_when_present() {
        let text =
            r#"[{"Name":"a","Id":"1","EnableIPv4":true,"Labels":null},{"Name":"b","Id":"2"}]"#;
        let list: Vec<Listed> = serde_json::from_str(text).unwrap();
        assert!(list[0].enable_ipv4);
        assert!(!list[1].enable_ipv4);
        assert_eq!(list[1].network.name, "b");
    }

    #[test]
    fn natural_name_order() {
        let mut names = vec![
            "net10", "net2", "Net", "a01", "a1", "a", "b", "1x", "x-y", "x1",
        ];
        names.sort_by(|a, b| natural_order(a, b));
        assert_eq!(
            names,
            [
                "1x", "Net", "a", "a1", "a01", "b", "net2", "net10", "x1", "x-y"
            ]
        );
    }

    #[test]
    fn created_times_as_go_prints_them() {
        assert_eq!(
            go_time_text("2024-05-01T10:20:30.123456789Z"),
            "2024-05-01 10:20:30.123456789 +0000 UTC"
        );
        assert_eq!(
            go_time_text("2024-05-01T10:20:30Z"),
            "2024-05-01 10:20:30 +0000 UTC"
        );
        assert_eq!(
            go_time_text("2024-05-01T10:20:30.500+02:00"),
            "2024-05-01 10:20:30.5 +0200 +0200"
        );
        assert_eq!(go_time_text(""), "0001-01-01 00:00:00 +0000 UTC");
    }

    #[test]
    fn prune_output() {
        assert_eq!(pruned_text(&[]), "");
        assert_eq!(
            pruned_text(&["a".to_owned(), "b".to_owned()]),
            "Deleted Networks:\na\nb\n\n"
        );
    }
}
