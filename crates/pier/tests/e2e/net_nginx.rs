//! The seed's example, end to end: an nginx image made from Debian's packages
//! (`scripts/nginx-image.sh`: debootstrap from the mirror of this machine's apt sources,
//! cached between runs), then exactly `pier run --name webserver -d -p 8080:80 nginx`, and
//! nginx's welcome page on 127.0.0.1:8080 (in the daemon's own network namespace).

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::daemon::PierDaemon;

#[test]
fn nginx_serves_its_welcome_page_on_a_published_port() {
    let d = PierDaemon::start();
    let tar = d.scratch("nginx").join("nginx.tar");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/nginx-image.sh");
    let made = Command::new(&script).arg(&tar).output().unwrap();
    assert!(
        made.status.success(),
        "{}: {}",
        script.display(),
        String::from_utf8_lossy(&made.stderr)
    );
    d.pier_ok(&[
        "import",
        "--change",
        r#"CMD ["nginx","-g","daemon off;"]"#,
        "--change",
        "EXPOSE 80",
        tar.to_str().unwrap(),
        "nginx",
    ]);
    d.pier_ok(&["run", "--name", "webserver", "-d", "-p", "8080:80", "nginx"]);
    let mut page = String::new();
    d.wait_until("nginx to answer on 8080", Duration::from_secs(20), || {
        let out = d.in_netns("curl", &["-fsS", "-m", "3", "http://127.0.0.1:8080/"]);
        page = String::from_utf8_lossy(&out.stdout).into_owned();
        out.status.success()
    });
    assert!(page.contains("Welcome to nginx!"), "{page}");
    assert_eq!(
        d.pier_ok(&["port", "webserver"]),
        "80/tcp -> 0.0.0.0:8080\n"
    );
    // nginx logs to stdout, as the official image does.
    let logs = d.pier_ok(&["logs", "webserver"]);
    assert!(logs.contains("\"GET / HTTP/1.1\" 200"), "{logs}");
    d.pier_ok(&["rm", "-f", "webserver"]);
}
