//! pier's OCI runtime.
//!
//! Owns everything between an OCI bundle (config.json + rootfs) and a running, isolated,
//! limited process: namespaces, the container's mounts and root, /dev, masked and read-only
//! paths, cgroups (v1 and v2), capabilities, seccomp, rlimits, user and groups, the terminal,
//! and the shim that parents a container and records how it ended. It also carries Docker's
//! default isolation profile as data ([`profile`]) for the engine to put into config.json.
//!
//! It never speaks HTTP, never touches images or registries, and keeps no state outside the
//! state directory it is given (`--root`).
//!
//! The entry point is [`Runtime`], whose methods match the OCI runtime command line
//! (create, start, run, state, kill, delete, exec, list), plus what the engine needs of a
//! container's stdio: [`attach`] (the protocol), [`logfile`] (json-file logs), resize and
//! close-stdin.

pub mod attach;
mod caps;
pub mod cgroups;
mod error;
mod init;
pub mod logfile;
pub mod memtrim;
mod namespaces;
mod ops;
pub mod profile;
mod rootfs;
mod safepath;
pub mod seccomp;
mod selfexe;
mod shim;
pub mod sockpath;
mod spawn;
pub mod spec;
pub mod state;
mod stdio_ops;
mod sync;
mod sys;
mod tty;
mod watch;

pub use error::{Error, ErrorKind, Result};
pub use ops::{CreateOptions, ExecOptions, ManagedIo, RunOutcome, Runtime, decode_shim_report};
pub use state::{ContainerState, ExitStatus, Status};
