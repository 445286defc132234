//! Request and response bodies of the Engine API, grouped by the part of the API they
//! belong to. Field names are Docker's (PascalCase) on the wire.

pub mod config;
pub mod container;
pub mod exec;
pub mod image;
pub mod network;
pub mod system;

pub use config::*;
pub use container::*;
pub use exec::*;
pub use image::*;
pub use network::*;
pub use system::*;
