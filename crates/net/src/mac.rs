//! MAC addresses: Docker's scheme (02:42 followed by the container's four IPv4 bytes, so the
//! address is locally administered, unicast and unique per network) unless one is given.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::NetError;

#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    /// Docker's generated address for `ip`: 02:42:a:b:c:d.
    pub fn from_ipv4(ip: Ipv4Addr) -> Self {
        let [a, b, c, d] = ip.octets();
        MacAddr([0x02, 0x42, a, b, c, d])
    }

    pub fn octets(&self) -> [u8; 6] {
        self.0
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}")
    }
}

impl fmt::Debug for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for MacAddr {
    type Err = NetError;

    /// `--mac-address`: six colon- or dash-separated hex pairs (Go's net.ParseMAC for
    /// EUI-48), refused in the docker CLI's words.
    fn from_str(text: &str) -> Result<Self, NetError> {
        let invalid = || NetError::InvalidArgument(format!("{text} is not a valid mac address"));
        let separator = if text.contains('-') { '-' } else { ':' };
        let mut octets = [0u8; 6];
        let mut parts = text.split(separator);
        for octet in &mut octets {
            let part = parts.next().ok_or_else(invalid)?;
            if part.len() != 2 {
                return Err(invalid());
            }
            *octet = u8::from_str_radix(part, 16).map_err(|_| invalid())?;
        }
        if parts.next().is_some() {
            return Err(invalid());
        }
        Ok(MacAddr(octets))
    }
}

impl Serialize for MacAddr {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for MacAddr {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_scheme_from_ipv4() {
        let mac = MacAddr::from_ipv4(Ipv4Addr::new(172, 17, 0, 2));
        assert_eq!(mac.to_string(), "02:42:ac:11:00:02");
    }

    #[test]
    fn parses_colons_and_dashes() {
        let mac: MacAddr = "92:d0:c6:0A:29:33".parse().unwrap();
        assert_eq!(mac.to_string(), "92:d0:c6:0a:29:33");
        let dashed: MacAddr = "92-d0-c6-0a-29-33".parse().unwrap();
        assert_eq!(mac, dashed);
    }

    #[test]
    fn refuses_malformed() {
        for bad in [
            "",
            "92:d0:c6:0a:29",
            "92:d0:c6:0a:29:33:11",
            "zz:d0:c6:0a:29:33",
            "9:d0:c6:0a:29:33",
        ] {
            let err = bad.parse::<MacAddr>().unwrap_err();
            assert_eq!(err.to_string(), format!("{bad} is not a valid mac address"));
        }
    }

    #[test]
    fn serde_as_text() {
        let mac = MacAddr([2, 0x42, 10, 0, 0, 5]);
        let json = serde_json::to_string(&mac).unwrap();
        assert_eq!(json, "\"02:42:0a:00:00:05\"");
        assert_eq!(serde_json::from_str::<MacAddr>(&json).unwrap(), mac);
    }
}
