//! Bad input gets Docker's status codes and messages, through the API (raw HTTP/1.1 over the
//! unix socket) and through pier's CLI (stderr and exit code), and changes nothing: the
//! containers and images are the same after each error as before it.

use std::process::Output;

use crate::daemon::PierDaemon;

/// What must not change on an error: containers (id, names, state) and images (id, tags).
fn snapshot(d: &PierDaemon) -> (Vec<String>, Vec<String>) {
    let containers = d.request("GET", "/containers/json?all=1", None);
    assert_eq!(containers.status, 200, "{}", containers.text());
    let mut cs: Vec<String> = containers
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|c| format!("{} {} {}", c["Id"], c["Names"], c["State"]))
        .collect();
    cs.sort();
    let images = d.request("GET", "/images/json", None);
    assert_eq!(images.status, 200, "{}", images.text());
    let mut is: Vec<String> = images
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|i| format!("{} {}", i["Id"], i["RepoTags"]))
        .collect();
    is.sort();
    (cs, is)
}

/// Asserts an API answer: its status and its error message (exactly, or its start before a
/// trailing `...`, or its end after a leading `...`).
#[track_caller]
fn api_error(
    d: &PierDaemon,
    method: &str,
    path: &str,
    body: Option<&str>,
    status: u16,
    message: &str,
) {
    let before = snapshot(d);
    let r = d.request(method, path, body.map(str::as_bytes));
    assert_eq!(r.status, status, "{method} {path}: {}", r.text());
    assert_eq!(
        r.header("content-type"),
        Some("application/json"),
        "{method} {path}: {:?}",
        r.headers
    );
    let got = r.message();
    if let Some(prefix) = message.strip_suffix("...") {
        assert!(got.starts_with(prefix), "{method} {path}: {got:?}");
        assert!(!got.is_empty(), "{method} {path}: no message");
    } else if let Some(suffix) = message.strip_prefix("...") {
        assert!(got.ends_with(suffix), "{method} {path}: {got:?}");
    } else {
        assert_eq!(got, message, "{method} {path}");
    }
    assert_eq!(snapshot(d), before, "{method} {path} changed state");
}

/// Asserts a CLI failure: its exit code and a line of its stderr.
#[track_caller]
fn cli_error(d: &PierDaemon, args: &[&str], code: i32, needle: &str) -> Output {
    let before = snapshot(d);
    let out = d.pier(args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "pier {args:?}: {err}");
    assert!(
        err.contains(needle),
        "pier {args:?}: no {needle:?} in {err:?}"
    );
    assert_eq!(snapshot(d), before, "pier {args:?} changed state");
    out
}

#[test]
fn engine_bad_input_unknown_objects() {
    let d = PierDaemon::start();
    d.pier_ok(&["run", "--name", "exists", "busybox", "true"]);
    let body = r#"{"Image":"nope"}"#;
    api_error(
        &d,
        "POST",
        "/containers/create",
        Some(body),
        404,
        "No such image: nope:latest",
    );
    api_error(
        &d,
        "GET",
        "/images/nope/json",
        None,
        404,
        "No such image: nope:latest",
    );
    api_error(
        &d,
        "GET",
        "/containers/nope/json",
        None,
        404,
        "No such container: nope",
    );
    api_error(
        &d,
        "POST",
        "/containers/nope/start",
        None,
        404,
        "No such container: nope",
    );
    api_error(
        &d,
        "DELETE",
        "/containers/nope",
        None,
        404,
        "No such container: nope",
    );
    api_error(&d, "GET", "/nope", None, 404, "page not found");
    cli_error(
        &d,
        &["run", "--pull=never", "nope"],
        125,
        "Error response from daemon: No such image: nope:latest",
    );
    // No registry client yet: a pull is refused out loud, the image here or not.
    for (args, needle) in [
        (
            &["run", "--pull=always", "busybox", "true"][..],
            "pulling busybox:latest: pier cannot pull from registries yet",
        ),
        (
            &["run", "nope"][..],
            "pulling nope:latest: pier cannot pull from registries yet",
        ),
    ] {
        cli_error(&d, args, 125, needle);
    }
    cli_error(
        &d,
        &["logs", "nope"],
        1,
        "Error response from daemon: No such container: nope",
    );
    cli_error(
        &d,
        &["rm", "nope"],
        1,
        "Error response from daemon: No such container: nope",
    );
    cli_error(&d, &["inspect", "nope"], 1, "Error: No such object: nope");
    cli_error(
        &d,
        &["rmi", "nope"],
        1,
        "Error response from daemon: No such image: nope:latest",
    );
}

#[test]
fn engine_bad_input_names() {
    let d = PierDaemon::start();
    // Docker's names have at least two characters ([a-zA-Z0-9][a-zA-Z0-9_.-]+): "x" is invalid.
    let id = d.pier_ok(&["create", "--name", "xx", "busybox", "true"]);
    let id = id.trim();
    let conflict = format!(
        "Conflict. The container name \"/xx\" is already in use by container \"{id}\". You have to remove (or rename) that container to be able to reuse that name."
    );
    api_error(
        &d,
        "POST",
        "/containers/create?name=xx",
        Some(r#"{"Image":"busybox","Cmd":["true"]}"#),
        409,
        &conflict,
    );
    cli_error(
        &d,
        &["create", "--name", "xx", "busybox", "true"],
        125,
        &conflict,
    );
    cli_error(
        &d,
        &["run", "--name", "xx", "busybox", "true"],
        125,
        &conflict,
    );

    let invalid = "Invalid container name (bad name!), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed";
    api_error(
        &d,
        "POST",
        "/containers/create?name=bad%20name!",
        Some(r#"{"Image":"busybox","Cmd":["true"]}"#),
        400,
        invalid,
    );
    cli_error(
        &d,
        &["create", "--name", "bad name!", "busybox", "true"],
        125,
        invalid,
    );
    // A rename onto a taken name is the same conflict.
    d.pier_ok(&["create", "--name", "yy", "busybox", "true"]);
    cli_error(
        &d,
        &["rename", "yy", "xx"],
        1,
        "Conflict. The container name \"/xx\" is already in use",
    );
    cli_error(
        &d,
        &["create", "--name", "x", "busybox", "true"],
        125,
        "Invalid container name (x)",
    );
}

#[test]
fn engine_bad_input_resources_and_bodies() {
    let d = PierDaemon::start();
    cli_error(
        &d,
        &["run", "--memory", "12zz", "busybox", "true"],
        125,
        "invalid argument \"12zz\" for \"-m, --memory\" flag: invalid size: '12zz'",
    );

    // As Go's runtime.NumCPU: the CPUs this process may run on.
    let affinity = nix::sched::sched_getaffinity(nix::unistd::Pid::from_raw(0)).unwrap();
    let cpus = (0..nix::sched::CpuSet::count())
        .filter(|&i| affinity.is_set(i).unwrap_or(false))
        .count();
    let range =
        format!("Range of CPUs is from 0.01 to {cpus}.00, as there are only {cpus} CPUs available");
    api_error(
        &d,
        "POST",
        "/containers/create",
        Some(r#"{"Image":"busybox","Cmd":["true"],"HostConfig":{"NanoCpus":-1000000000}}"#),
        400,
        &range,
    );
    cli_error(&d, &["run", "--cpus", "-1", "busybox", "true"], 125, &range);

    api_error(
        &d,
        "POST",
        "/containers/create",
        Some(r#"{"Image":"busybox","#),
        400,
        "...",
    );
    api_error(
        &d,
        "POST",
        "/containers/create",
        Some(r#"{"Image":42}"#),
        400,
        "...",
    );
    api_error(&d, "POST", "/containers/create", Some("[]"), 400, "...");
    // Neither an image nor a command.
    api_error(&d, "POST", "/containers/create", Some("{}"), 400, "...");
    // An image without a command, and no command given.
    api_error(
        &d,
        "POST",
        "/containers/create",
        Some(r#"{"Image":"busybox"}"#),
        400,
        "No command specified",
    );
}

#[test]
fn engine_bad_input_mounts() {
    let d = PierDaemon::start();
    // -v makes a missing bind source, as Docker does.
    let made = d.scratch("binds").join("not/yet/there");
    let bind = format!("{}:/x", made.display());
    d.pier_ok(&["run", "--rm", "-v", &bind, "busybox", "touch", "/x/file"]);
    assert!(made.join("file").exists(), "{}", made.display());

    // --mount does not.
    let missing = d.scratch("binds").join("missing");
    let message = format!(
        "invalid mount config for type \"bind\": bind source path does not exist: {}",
        missing.display()
    );
    let body = serde_json::json!({
        "Image": "busybox",
        "Cmd": ["true"],
        "HostConfig": {"Mounts": [{"Type": "bind", "Source": missing, "Target": "/x"}]},
    })
    .to_string();
    api_error(&d, "POST", "/containers/create", Some(&body), 400, &message);
    let mount = format!("type=bind,source={},target=/x", missing.display());
    cli_error(
        &d,
        &["run", "--mount", &mount, "busybox", "true"],
        125,
        &message,
    );
    assert!(!missing.exists());
}

#[test]
fn engine_bad_input_states_and_versions() {
    let d = PierDaemon::start();
    d.pier_ok(&["run", "--name", "ended", "busybox", "true"]);
    let before = snapshot(&d);
    let r = d.request("POST", "/containers/ended/stop", None);
    assert_eq!(r.status, 304, "{}", r.text());
    assert!(r.body.is_empty(), "{}", r.text());
    assert_eq!(d.pier_ok(&["stop", "ended"]), "ended\n");
    assert_eq!(
        snapshot(&d),
        before,
        "stop of a stopped container changed state"
    );
    let r = d.request("POST", "/containers/ended/start", None);
    assert_eq!(r.status, 204, "{}", r.text());
    d.pier_ok(&["wait", "ended"]);
    let r = d.request("POST", "/containers/ended/start", None);
    assert_eq!(r.status, 204, "{}", r.text());
    d.pier_ok(&["run", "-d", "--name", "up", "busybox", "sleep", "1000"]);
    let r = d.request("POST", "/containers/up/start", None);
    assert_eq!(r.status, 304, "start of a running container: {}", r.text());
    api_error(
        &d,
        "POST",
        "/containers/ended/pause",
        None,
        409,
        "...is not running",
    );
    api_error(
        &d,
        "DELETE",
        "/containers/up",
        None,
        409,
        "cannot remove container \"/up\": container is running: stop the container before removing or force remove",
    );
    cli_error(&d, &["exec", "ended", "true"], 1, "is not running");

    api_error(
        &d,
        "GET",
        "/v1.99/version",
        None,
        400,
        "client version 1.99 is too new. Maximum supported API version is 1.45",
    );
    api_error(
        &d,
        "GET",
        "/v1.12/version",
        None,
        400,
        "client version 1.12 is too old. Minimum supported API version is 1.24, please upgrade your client to a newer version",
    );
    let r = d.request("GET", "/v1.45/version", None);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("api-version"), Some("1.45"));
    let r = d.request("GET", "/v1.24/containers/json", None);
    assert_eq!(r.status, 200, "{}", r.text());
}
