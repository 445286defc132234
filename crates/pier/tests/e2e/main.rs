//! End-to-end tests of the `pier` binary, run as root on a real kernel.
//! One test binary for the whole crate, so that it links once.

mod daemon;
mod dockerd;
mod support;

mod engine_bad_input;
mod engine_docker_cli;
mod engine_docker_py;
mod engine_newcomer;
mod engine_survival;
mod image_interop;
mod net_bridge;
mod net_nginx;
mod net_user;
mod runtime_bad_input;
mod runtime_basics;
mod runtime_cgroup_v2;
mod runtime_differential;
mod runtime_escapes;
mod runtime_isolation;
mod runtime_lifecycle;
mod runtime_limits;
mod runtime_stdio;
