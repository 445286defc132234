//! The image, volume and system routes driven in-process through the router (no socket, no
//! containers), on a throwaway data root. Run as root: importing a layer keeps its owners.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::Value;
use tower::ServiceExt;

use engine::{DaemonConfig, Engine};

struct Daemon {
    router: Router,
    _engine: Arc<Engine>,
    root: tempfile::TempDir,
}

impl Daemon {
    fn new() -> Daemon {
        let root = tempfile::tempdir().unwrap();
        let config = DaemonConfig {
            data_root: root.path().join("data"),
            exec_root: root.path().join("exec"),
            hosts: Vec::new(),
            cgroup_parent: None,
            bridge: engine::config::DEFAULT_BRIDGE.into(),
            bip: None,
            pier_exe: "/usr/local/bin/pier".into(),
        };
        let engine = Engine::open(config).unwrap();
        Daemon {
            router: engine::server::router(engine.clone()),
            _engine: engine,
            root,
        }
    }

    async fn call(
        &self,
        method: Method,
        uri: &str,
        body: impl Into<Body>,
    ) -> (StatusCode, Vec<u8>) {
        let request = Request::builder()
            .method(method)
            .uri(uri)
            .header("Content-Type", "application/json")
            .body(body.into())
            .unwrap();
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, body.to_vec())
    }

    async fn json(&self, method: Method, uri: &str, body: impl Into<Body>) -> (StatusCode, Value) {
        let (status, body) = self.call(method, uri, body).await;
        let value = if body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&body)
                .unwrap_or_else(|e| panic!("{uri}: {e}: {}", String::from_utf8_lossy(&body)))
        };
        (status, value)
    }

    async fn get(&self, uri: &str) -> (StatusCode, Value) {
        self.json(Method::GET, uri, Body::empty()).await
    }

    /// Imports a one-file root filesystem as `repo:tag`; gives the image id.
    async fn import(&self, repo: &str, tag: &str) -> String {
        let uri = format!(
            "/images/create?fromSrc=-&repo={repo}&tag={tag}&changes=CMD%20%5B%22sh%22%5D&changes=LABEL%20team%3Dcore"
        );
        let (status, body) = self.call(Method::POST, &uri, rootfs_tar()).await;
        assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
        let lines = json_lines(&body);
        lines[0]["status"].as_str().unwrap().to_owned()
    }
}

fn json_lines(body: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(body)
        .split("\r\n")
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A tar of one regular file, `hello`, written by hand (ustar).
fn rootfs_tar() -> Vec<u8> {
    let content = b"hello from pier\n";
    let mut header = [0u8; 512];
    let mut put = |at: usize, text: &[u8]| header[at..at + text.len()].copy_from_slice(text);
    put(0, b"hello");
    put(100, b"0000644\0");
    put(108, b"0000000\0");
    put(116, b"0000000\0");
    put(124, format!("{:011o}\0", content.len()).as_bytes());
    put(136, b"14500000000\0");
    put(156, b"0");
    put(257, b"ustar\0");
    put(263, b"00");
    header[148..156].copy_from_slice(b"        ");
    let sum: u32 = header.iter().map(|&b| u32::from(b)).sum();
    header[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    let mut tar = header.to_vec();
    tar.extend_from_slice(content);
    tar.resize(512 + 512, 0);
    tar.resize(tar.len() + 1024, 0);
    tar
}

fn tags(list: &Value) -> Vec<String> {
    let mut out: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|image| image["RepoTags"].as_array().unwrap().clone())
        .map(|t| t.as_str().unwrap().to_owned())
        .collect();
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn version_and_info() {
    let daemon = Daemon::new();
    let (status, version) = daemon.get("/version").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(version["ApiVersion"], "1.45");
    assert_eq!(version["MinAPIVersion"], "1.24");
    assert_eq!(version["Os"], "linux");
    assert_eq!(version["Components"][0]["Name"], "Engine");

    let (status, info) = daemon.get("/info").await;
    assert_eq!(status, StatusCode::OK);
    let id = info["ID"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 36);
    assert_eq!(info["Driver"], "overlay2");
    assert_eq!(info["Images"], 0);
    assert_eq!(info["Containers"], 0);
    assert_eq!(info["OSType"], "linux");
    assert_eq!(info["DefaultRuntime"], "pier");
    assert_eq!(info["LiveRestoreEnabled"], true);
    assert_eq!(
        info["DockerRootDir"],
        daemon.root.path().join("data").display().to_string()
    );
    assert!(info["NCPU"].as_i64().unwrap() >= 1);
    assert!(["1", "2"].contains(&info["CgroupVersion"].as_str().unwrap()));
    let (_, again) = daemon.get("/info").await;
    assert_eq!(again["ID"], id.as_str(), "the engine id is stable");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn images_list_tag_inspect_history_and_remove() {
    let daemon = Daemon::new();
    let id = daemon.import("test/app", "v1").await;
    assert!(id.starts_with("sha256:"), "{id}");

    let (status, list) = daemon.get("/images/json").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(tags(&list), ["test/app:v1"]);
    assert_eq!(list[0]["Id"], id.as_str());
    assert_eq!(list[0]["Labels"]["team"], "core");
    assert_eq!(list[0]["Containers"], 0);

    let (status, _) = daemon
        .json(
            Method::POST,
            "/images/test/app:v1/tag?repo=localhost:5000/team/app&tag=2",
            Body::empty(),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, inspect) = daemon.get("/images/localhost:5000/team/app:2/json").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(inspect["Id"], id.as_str());
    assert_eq!(inspect["Config"]["Cmd"][0], "sh");

    let (_, filtered) = daemon
        .get("/images/json?filters=%7B%22reference%22%3A%7B%22test%2F*%22%3Atrue%7D%7D")
        .await;
    assert_eq!(tags(&filtered), ["test/app:v1"]);
    let (_, both) = daemon.get("/images/json").await;
    assert_eq!(tags(&both), ["localhost:5000/team/app:2", "test/app:v1"]);
    let (status, error) = daemon
        .get("/images/json?filters=%7B%22bogus%22%3A%7B%22x%22%3Atrue%7D%7D")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["message"], "invalid filter 'bogus'");

    let (status, history) = daemon.get("/images/test/app:v1/history").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(history[0]["Id"], id.as_str());

    let (status, missing) = daemon.get("/images/nothere/json").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        missing,
        serde_json::json!({"message": "No such image: nothere:latest"})
    );

    let (status, removed) = daemon
        .json(
            Method::DELETE,
            "/images/localhost:5000/team/app:2",
            Body::empty(),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        removed,
        serde_json::json!([{"Untagged": "localhost:5000/team/app:2"}])
    );
    let (status, removed) = daemon
        .json(Method::DELETE, "/images/test/app:v1", Body::empty())
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(removed[0], serde_json::json!({"Untagged": "test/app:v1"}));
    assert_eq!(removed[1], serde_json::json!({"Deleted": id}));
    let (_, list) = daemon.get("/images/json").await;
    assert_eq!(list, serde_json::json!([]));

    let (_, events) = daemon
        .call(
            Method::GET,
            &format!("/events?since=0&until={}", now_seconds()),
            Body::empty(),
        )
        .await;
    let actions: Vec<String> = String::from_utf8_lossy(&events)
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["Action"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        actions,
        ["import", "tag", "tag", "untag", "untag", "delete"]
    );
}

fn now_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn save_load_and_pull() {
    let daemon = Daemon::new();
    let id = daemon.import("busybox", "latest").await;
    let (status, archive) = daemon
        .call(Method::GET, "/images/busybox/get", Body::empty())
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        archive.len() > 2048,
        "an archive of {} bytes",
        archive.len()
    );
    let (status, same) = daemon
        .call(
            Method::GET,
            "/images/get?names=busybox%3Alatest",
            Body::empty(),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(same, archive, "saves are deterministic");
    let (status, error) = daemon.get("/images/get?names=nothere").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{error}");

    // No registry client yet: a pull is refused, whether or not the image is here, and
    // never answered as if a registry had been asked.
    for image in ["busybox", "nothere"] {
        let (status, refused) = daemon
            .json(
                Method::POST,
                &format!("/images/create?fromImage={image}&tag=latest"),
                Body::empty(),
            )
            .await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{refused}");
        assert_eq!(
            refused["message"],
            format!(
                "pulling {image}:latest: pier cannot pull from registries yet; load, import or build the image instead"
            )
        );
    }
    let (status, refused) = daemon
        .json(
            Method::POST,
            "/images/create?fromImage=Bad%20Name",
            Body::empty(),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");

    daemon
        .json(Method::DELETE, "/images/busybox", Body::empty())
        .await;
    let (status, loaded) = daemon
        .call(Method::POST, "/images/load?quiet=1", archive)
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&loaded)
    );
    assert_eq!(
        json_lines(&loaded),
        [serde_json::json!({"stream": "Loaded image: busybox:latest\n"})]
    );
    let (_, inspect) = daemon.get("/images/busybox/json").await;
    assert_eq!(
        inspect["Id"],
        id.as_str(),
        "a saved and loaded image keeps its id"
    );

    let (status, error) = daemon
        .call(Method::POST, "/images/load", &b"not a tar"[..])
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "{}",
        String::from_utf8_lossy(&error)
    );

    let (status, usage) = daemon.get("/system/df").await;
    assert_eq!(status, StatusCode::OK);
    assert!(usage["LayersSize"].as_i64().unwrap() > 0);
    assert_eq!(usage["Images"][0]["Id"], id.as_str());
    assert_eq!(usage["BuildCache"], serde_json::json!([]));

    daemon
        .json(
            Method::POST,
            "/images/busybox/tag?repo=busybox&tag=keep",
            Body::empty(),
        )
        .await;
    daemon
        .json(Method::DELETE, "/images/busybox:latest", Body::empty())
        .await;
    let (_, pruned) = daemon
        .json(Method::POST, "/images/prune", Body::empty())
        .await;
    assert_eq!(
        pruned["ImagesDeleted"],
        serde_json::json!([]),
        "a tagged image is no dangling one"
    );
    let (_, pruned) = daemon
        .json(
            Method::POST,
            "/images/prune?filters=%7B%22dangling%22%3A%5B%22false%22%5D%7D",
            Body::empty(),
        )
        .await;
    assert_eq!(
        pruned["ImagesDeleted"][0],
        serde_json::json!({"Untagged": "busybox:keep"})
    );
    assert!(pruned["SpaceReclaimed"].as_u64().unwrap() > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn volumes_create_list_inspect_remove_and_prune() {
    let daemon = Daemon::new();
    let (status, created) = daemon
        .json(
            Method::POST,
            "/volumes/create",
            r#"{"Name":"data","Labels":{"a":"b"}}"#,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(created["Name"], "data");
    assert_eq!(created["Driver"], "local");
    assert_eq!(created["Scope"], "local");
    assert_eq!(created["Labels"]["a"], "b");
    let mountpoint = created["Mountpoint"].as_str().unwrap().to_owned();
    assert!(mountpoint.ends_with("/volumes/data/_data"), "{mountpoint}");
    assert!(std::path::Path::new(&mountpoint).is_dir());

    let (status, again) = daemon
        .json(Method::POST, "/volumes/create", r#"{"Name":"data"}"#)
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        again["CreatedAt"], created["CreatedAt"],
        "creating it again gives the same volume"
    );

    let (status, anonymous) = daemon.json(Method::POST, "/volumes/create", "").await;
    assert_eq!(status, StatusCode::CREATED);
    let anonymous_name = anonymous["Name"].as_str().unwrap().to_owned();
    assert_eq!(anonymous_name.len(), 64);
    assert_eq!(anonymous["Labels"]["com.docker.volume.anonymous"], "");

    let (status, bad) = daemon
        .json(Method::POST, "/volumes/create", r#"{"Name":"a/b"}"#)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        bad["message"]
            .as_str()
            .unwrap()
            .starts_with("create a/b: \"a/b\" includes invalid characters")
    );

    let (status, list) = daemon.get("/volumes").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["Volumes"].as_array().unwrap().len(), 2);
    let (_, by_label) = daemon
        .get("/volumes?filters=%7B%22label%22%3A%7B%22a%3Db%22%3Atrue%7D%7D")
        .await;
    assert_eq!(by_label["Volumes"][0]["Name"], "data");
    assert_eq!(by_label["Volumes"].as_array().unwrap().len(), 1);

    let (status, inspect) = daemon.get("/volumes/data").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(inspect["Name"], "data");

    let (status, pruned) = daemon
        .json(Method::POST, "/volumes/prune", Body::empty())
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        pruned["VolumesDeleted"],
        serde_json::json!([anonymous_name])
    );

    std::fs::write(format!("{mountpoint}/file"), "x").unwrap();
    let (status, _) = daemon
        .call(Method::DELETE, "/volumes/data", Body::empty())
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(!std::path::Path::new(&mountpoint).exists());
    let (status, missing) = daemon
        .json(Method::DELETE, "/volumes/data", Body::empty())
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(missing["message"], "get data: no such volume");
    let (status, _) = daemon
        .call(Method::DELETE, "/volumes/data?force=1", Body::empty())
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = daemon.get("/volumes/data").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (_, events) = daemon
        .call(
            Method::GET,
            &format!(
                "/events?since=0&until={}&filters=%7B%22type%22%3A%5B%22volume%22%5D%7D",
                now_seconds()
            ),
            Body::empty(),
        )
        .await;
    let actions: Vec<String> = String::from_utf8_lossy(&events)
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["Action"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(actions, ["create", "create", "destroy", "prune", "destroy"]);
}
