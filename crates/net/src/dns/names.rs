//! Who is called what on each network: the embedded DNS's records, kept per network so that
//! a query arriving on network X's listener sees X's containers only.

use std::collections::HashMap;
use std::net::Ipv4Addr;

/// The resolvable names of one network.
#[derive(Debug, Clone, Default)]
pub struct NetworkNames {
    /// The network's name: `web.NETWORK` resolves too.
    pub network_name: String,
    /// By container id: the container's names (name, aliases) and address.
    endpoints: HashMap<String, (Vec<String>, Ipv4Addr)>,
}

/// What a name is on a network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// The addresses of every container answering to the name (aliases may be shared).
    Found(Vec<Ipv4Addr>),
    NotHere,
}

impl NetworkNames {
    pub fn new(network_name: &str) -> Self {
        NetworkNames {
            network_name: network_name.to_string(),
            endpoints: HashMap::new(),
        }
    }

    pub fn set(&mut self, container_id: &str, names: Vec<String>, ip: Ipv4Addr) {
        let names = names
            .into_iter()
            .filter(|n| !n.is_empty())
            .map(|n| n.to_ascii_lowercase())
            .collect();
        self.endpoints.insert(container_id.to_string(), (names, ip));
    }

    pub fn remove(&mut self, container_id: &str) {
        self.endpoints.remove(container_id);
    }

    pub fn is_empty(&self) -> bool {
        self.endpoints.is_empty()
    }

    /// Looks a query name up: `name`, `name.` or `name.<network>`, any case.
    pub fn lookup(&self, query: &str) -> Lookup {
        let query = query.trim_end_matches('.').to_ascii_lowercase();
        let suffix = format!(".{}", self.network_name.to_ascii_lowercase());
        let bare = query.strip_suffix(&suffix).unwrap_or(&query);
        let mut found: Vec<Ipv4Addr> = self
            .endpoints
            .values()
            .filter(|(names, _)| names.iter().any(|n| n == &query || n == bare))
            .map(|(_, ip)| *ip)
            .collect();
        if found.is_empty() {
            return Lookup::NotHere;
        }
        found.sort();
        found.dedup();
        Lookup::Found(found)
    }

    /// The first name of the container with this address (for PTR queries).
    pub fn name_of(&self, ip: Ipv4Addr) -> Option<&str> {
        self.endpoints
            .values()
            .find(|(_, address)| *address == ip)
            .and_then(|(names, _)| names.first())
            .map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_aliases_any_case_with_network_suffix() {
        let mut names = NetworkNames::new("app");
        names.set(
            "c1",
            vec!["Web".into(), "www".into()],
            Ipv4Addr::new(10, 0, 0, 2),
        );
        names.set(
            "c2",
            vec!["db".into(), "www".into()],
            Ipv4Addr::new(10, 0, 0, 3),
        );
        assert_eq!(
            names.lookup("web."),
            Lookup::Found(vec![Ipv4Addr::new(10, 0, 0, 2)])
        );
        assert_eq!(
            names.lookup("WEB.app."),
            Lookup::Found(vec![Ipv4Addr::new(10, 0, 0, 2)])
        );
        assert_eq!(
            names.lookup("www"),
            Lookup::Found(vec![Ipv4Addr::new(10, 0, 0, 2), Ipv4Addr::new(10, 0, 0, 3)])
        );
        assert_eq!(names.lookup("web.other."), Lookup::NotHere);
        assert_eq!(names.name_of(Ipv4Addr::new(10, 0, 0, 3)), Some("db"));
        names.remove("c1");
        assert_eq!(names.lookup("web"), Lookup::NotHere);
    }
}
