//! Bad input is refused with an error that names the cause, and leaves nothing behind.

use crate::support::*;

/// Runs `create` on a bundle and expects it to fail with `needle` in the message.
fn refused(w: &World, b: &Bundle, name: &str, needle: &str) {
    let id = w.id(name);
    let out = w.run(&["create", "--bundle", b.path.to_str().unwrap(), &id]);
    assert_eq!(out.status.code(), Some(1), "{name}: {}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(needle),
        "{name}: expected {needle:?} in {err:?}"
    );
    assert!(!w.root.join(&id).exists(), "{name}: state left behind");
    let gone = w.run(&["state", &id]);
    assert!(
        stderr(&gone).contains("does not exist"),
        "{name}: {}",
        stderr(&gone)
    );
}

#[test]
fn malformed_configs_name_the_field() {
    let w = World::new();
    let b = w.bundle(&["true"]);
    b.write_raw("{not json");
    refused(&w, &b, "json", "invalid config.json");

    let b = w.bundle(&["true"]);
    let mut v = serde_json::to_value(&b.spec).unwrap();
    v["process"].as_object_mut().unwrap().remove("cwd");
    b.write_raw(&v.to_string());
    refused(&w, &b, "nocwd", "process: missing field `cwd`");

    let b = w.bundle(&["true"]);
    let mut v = serde_json::to_value(&b.spec).unwrap();
    v["process"]["user"]["uid"] = "root".into();
    b.write_raw(&v.to_string());
    refused(&w, &b, "uidtype", "process.user.uid");

    let b = w.bundle(&["true"]);
    let mut v = serde_json::to_value(&b.spec).unwrap();
    v["linux"]["namespaces"][0]["type"] = "bogus".into();
    b.write_raw(&v.to_string());
    refused(
        &w,
        &b,
        "nstype",
        "linux.namespaces[0].type: unknown variant `bogus`",
    );

    let mut b = w.bundle(&["true"]);
    b.edit(|s| s["process"]["args"] = serde_json::json!([]));
    refused(&w, &b, "noargs", "process.args");
    w.assert_clean();
}

#[test]
fn a_missing_rootfs_is_named() {
    let w = World::new();
    let mut b = w.bundle(&["true"]);
    b.edit(|s| s["root"]["path"] = "no-such-rootfs".into());
    refused(&w, &b, "rootfs", "no-such-rootfs does not exist");
    w.assert_clean();
}

#[test]
fn an_id_in_use_is_refused_and_the_first_container_is_untouched() {
    let w = World::new();
    let b = w.bundle(&["sleep", "1000"]);
    let id = w.id("dup");
    ok(&w.run(&["create", "--bundle", b.path.to_str().unwrap(), &id]));
    let out = w.run(&["create", "--bundle", b.path.to_str().unwrap(), &id]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains(&format!("container with id exists: {id}")),
        "{}",
        stderr(&out)
    );
    assert_eq!(w.state(&id)["status"], "created");
    ok(&w.run(&["delete", &id]));
    let bad = w.run(&["create", "--bundle", b.path.to_str().unwrap(), "../evil"]);
    assert!(
        stderr(&bad).contains("invalid container id"),
        "{}",
        stderr(&bad)
    );
    w.assert_clean();
}

#[test]
fn mount_destinations_that_escape_are_refused() {
    let w = World::new();
    let mut b = w.bundle(&["true"]);
    b.edit(|s| {
        s["mounts"].as_array_mut().unwrap().push(serde_json::json!({
            "destination": "/tmp/../../../etc", "type": "tmpfs", "source": "tmpfs"
        }));
    });
    refused(
        &w,
        &b,
        "dotdot",
        "escapes the container's root through \"..\"",
    );

    let mut b = w.bundle(&["true"]);
    std::fs::create_dir_all(b.rootfs().join("a")).unwrap();
    std::os::unix::fs::symlink("../../../../../../tmp", b.rootfs().join("a/evil")).unwrap();
    b.edit(|s| {
        s["mounts"].as_array_mut().unwrap().push(serde_json::json!({
            "destination": "/a/evil/x", "type": "tmpfs", "source": "tmpfs"
        }));
    });
    refused(
        &w,
        &b,
        "symlink",
        "symlink /a/evil -> ../../../../../../tmp points outside the container's root",
    );

    let mut b = w.bundle(&["true"]);
    b.edit(|s| {
        s["mounts"].as_array_mut().unwrap().push(serde_json::json!({
            "destination": "/data", "type": "bind", "source": "/no/such/source", "options": ["rbind"]
        }));
    });
    refused(
        &w,
        &b,
        "bindsrc",
        "bind mount source /no/such/source for /data",
    );
    w.assert_clean();
}

#[test]
fn limits_the_kernel_refuses_are_reported() {
    let w = World::new();
    let mut b = w.bundle(&["true"]);
    b.edit(|s| {
        s["process"]["rlimits"] =
            serde_json::json!([{"type": "RLIMIT_NOFILE", "soft": 4000000, "hard": 4000000}])
    });
    let out = w.run_bundle(&b, "rlimit");
    assert!(!out.status.success());
    assert!(stderr(&out).contains("setrlimit"), "{}", stderr(&out));

    let mut b = w.bundle(&["true"]);
    b.edit(|s| s["linux"]["sysctl"] = serde_json::json!({"kernel.panic": "1"}));
    refused(&w, &b, "sysctl", "kernel.panic is not namespaced");
    w.assert_clean();
}

#[test]
fn unknown_flags_and_commands_are_refused() {
    let w = World::new();
    let out = w.run(&["create", "--bogus", "x"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("unexpected argument '--bogus'"),
        "{}",
        stderr(&out)
    );
    let out = w.run(&["kill", "nope", "NOTASIGNAL"]);
    assert!(stderr(&out).contains("invalid signal"), "{}", stderr(&out));
    let out = w.run(&["start", "nope"]);
    assert!(
        stderr(&out).contains("container \"nope\" does not exist"),
        "{}",
        stderr(&out)
    );
}
