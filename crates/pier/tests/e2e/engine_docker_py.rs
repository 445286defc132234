//! docker-py against pier's daemon: the script `fixtures/engine_docker_py.py` drives
//! containers and images as a Python user would, and fails with a message on the first
//! thing that is not as with Docker.

use crate::daemon::PierDaemon;

#[test]
fn engine_docker_py_containers_and_images() {
    let d = PierDaemon::start();
    let out = d.python("engine_docker_py.py", &[]);
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).ends_with("ok\n"),
        "docker-py failed with {:?}\nstdout: {}\nstderr: {}\ndaemon log:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        d.log()
    );
}
