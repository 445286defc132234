//! The Docker Engine API as pier speaks it: the JSON types of its requests and responses
//! (shapes and field names as in Docker's v1.45 swagger), API versions and their
//! negotiation, the `filters` query parameter, the multiplexed stdout/stderr stream framing,
//! and a client over unix sockets and tcp that pier's CLI (and compose) use.
//!
//! It holds no state and knows nothing of how the engine does its work: it is the contract
//! between clients and the daemon.

pub mod client;
pub mod filters;
pub mod stdcopy;
pub mod time;
pub mod types;
pub mod units;
pub mod version;
