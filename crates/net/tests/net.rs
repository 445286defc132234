//! Root-only tests of pier-net against the kernel, each in network namespaces it makes: an
//! outer namespace plays the host (bridges, nft table, published ports, DNS listeners) and
//! more namespaces play containers. Traffic goes only to 127.0.0.1 and to addresses inside
//! these namespaces. Everything dies with the namespaces, also when a test fails.

mod net {
    pub mod support;

    mod dns;
    mod firewall;
    mod links;
}
