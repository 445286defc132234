//! Published ports: `-p` specs and the host ports they resolve to.

pub mod host;
pub mod spec;

pub use host::{EndpointLabel, PortReservation, publish, reserve};
pub use spec::{HostPorts, PortRequest, parse_exposed, parse_port_spec};
