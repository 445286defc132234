//! The few sysctls networking needs, in the caller's network namespace: IPv4 forwarding (for
//! traffic between bridges and other interfaces) and `route_localnet` on a bridge (so that
//! 127.0.0.1:PORT, DNATed to a container, may leave through it).

use std::path::PathBuf;

use crate::error::{NetError, Result};

/// Writes `/proc/sys` keys. Behind a trait so that setup logic is tested without root.
pub trait Sysctls: Send + Sync + 'static {
    /// Sets `key` (dotted, as `sysctl` spells it) to `value`; no write when it already is.
    fn set(&self, key: &str, value: &str) -> Result<()>;
}

/// The real `/proc/sys`, as the calling thread's network namespace sees it.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcSys;

pub fn path_of(key: &str) -> PathBuf {
    PathBuf::from("/proc/sys").join(key.replace('.', "/"))
}

impl Sysctls for ProcSys {
    fn set(&self, key: &str, value: &str) -> Result<()> {
        let path = path_of(key);
        if let Ok(current) = std::fs::read_to_string(&path)
            && current.trim() == value
        {
            return Ok(());
        }
        std::fs::write(&path, value).map_err(|err| NetError::io("setting sysctl", path, err))
    }
}

pub const IP_FORWARD: &str = "net.ipv4.ip_forward";

/// `net.ipv4.conf.<bridge>.route_localnet`.
pub fn route_localnet(bridge: &str) -> String {
    format!("net.ipv4.conf.{bridge}.route_localnet")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_become_paths() {
        assert_eq!(
            path_of(IP_FORWARD),
            PathBuf::from("/proc/sys/net/ipv4/ip_forward")
        );
        assert_eq!(
            path_of(&route_localnet("pier0")),
            PathBuf::from("/proc/sys/net/ipv4/conf/pier0/route_localnet")
        );
    }
}
