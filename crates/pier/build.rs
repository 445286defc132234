//! Links `pier` as a position-dependent executable. Every container costs two execs of this
//! binary (the client, and `pier runtime create` that becomes the shim), and as a PIE each
//! exec applies ~22,000 relative relocations, writing private copies of ~400 KB of
//! `.data.rel.ro` that a long-lived shim then carries for the container's whole life. Linked
//! at a fixed address those pages stay clean and shared. See ARCHITECTURE.md ("Start-up
//! cost") for the measurements and the trade-off.

fn main() {
    println!("cargo:rustc-link-arg-bins=-no-pie");
}
