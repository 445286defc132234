//! The client against a small hyper server on a unix socket in a temporary directory.

use std::convert::Infallible;
use std::path::Path;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures_util::StreamExt;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::header::{CONTENT_TYPE, HeaderMap};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixListener;

use super::*;
use crate::stdcopy::{self, StreamType};
use crate::types::{EventMessage, ExecStartConfig, IdResponse, JsonMessage};
use crate::version::ApiVersion;

type ServerBody = BoxBody<Bytes, Infallible>;

/// What the server saw: `METHOD path?query content-type`.
type Seen = Arc<Mutex<Vec<String>>>;

fn full(body: impl Into<Bytes>) -> ServerBody {
    Full::new(body.into()).boxed()
}

fn json(status: StatusCode, body: &str) -> Response<ServerBody> {
    Response::builder()
        .status(status)
        .header(CONTENT_TYPE, "application/json")
        .body(full(body.to_owned()))
        .unwrap()
}

fn chunked(chunks: Vec<&'static [u8]>) -> ServerBody {
    let frames = futures_util::stream::iter(
        chunks
            .into_iter()
            .map(|chunk| Ok::<_, Infallible>(Frame::data(Bytes::from_static(chunk)))),
    );
    BodyExt::boxed(StreamBody::new(frames))
}

/// Echoes what the client writes on a hijacked connection back as stdout frames, then a
/// stderr frame `bye` once the client has closed its side.
async fn echo_hijacked(request: Request<()>) {
    let Ok(upgraded) = hyper::upgrade::on(request).await else {
        return;
    };
    let mut io = TokioIo::new(upgraded);
    let mut buf = [0u8; 1024];
    loop {
        match io.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let frame = stdcopy::encode(StreamType::Stdout, &buf[..n]);
                if io.write_all(&frame).await.is_err() {
                    return;
                }
            }
        }
    }
    let _ = io
        .write_all(&stdcopy::encode(StreamType::Stderr, b"bye"))
        .await;
    let _ = io.shutdown().await;
}

async fn handle(
    request: Request<Incoming>,
    api_version: Option<&'static str>,
    seen: Seen,
) -> Result<Response<ServerBody>, Infallible> {
    let path = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let content_type = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_owned();
    let host = request
        .headers()
        .get("host")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_owned();
    seen.lock()
        .unwrap()
        .push(format!("{} {path} {content_type} {host}", request.method()));
    let (_, rest) = crate::version::split_path(&path);
    let response = match (request.method().clone(), rest) {
        (Method::GET, "/_ping") => {
            let mut response = Response::builder().header("OSType", "linux");
            if let Some(version) = api_version {
                response = response.header("API-Version", version);
            }
            response.body(full("OK")).unwrap()
        }
        (Method::GET, "/info") => json(StatusCode::OK, r#"{"ID":"x","Containers":3}"#),
        (Method::POST, "/commit") => {
            let body = request.into_body().collect().await.unwrap().to_bytes();
            let echoed = String::from_utf8_lossy(&body).into_owned();
            json(
                StatusCode::CREATED,
                &serde_json::json!({ "Id": echoed }).to_string(),
            )
        }
        (Method::GET, "/containers/missing/json") => json(
            StatusCode::NOT_FOUND,
            r#"{"message":"No such container: missing"}"#,
        ),
        (Method::POST, "/containers/busy/start") => Response::builder()
            .status(StatusCode::CONFLICT)
            .body(full("plain text refusal\n"))
            .unwrap(),
        (Method::DELETE, "/gone") => Response::builder()
            .status(StatusCode::NOT_FOUND)
            .body(full(""))
            .unwrap(),
        (Method::GET, "/events") => Response::new(chunked(vec![
            b"{\"Type\":\"container\",\"Action\":\"start\",\"Actor\":{\"ID\":\"a\",",
            b"\"Attributes\":{\"name\":\"web\"}},\"time\":1}\n{\"Type\":\"image\",",
            b"\"Action\":\"pull\",\"Actor\":{\"ID\":\"busybox\"}}\n",
        ])),
        (Method::POST, "/images/create?fromImage=busybox&tag=latest") => {
            Response::new(chunked(vec![
                b"{\"status\":\"Pulling from library/busybox\",\"id\":\"latest\"}\r\n",
                b"{\"errorDetail\":{\"message\":\"manifest unknown\"},\"error\":\"manifest unknown\"}\r\n",
            ]))
        }
        (Method::GET, "/containers/a/logs?stdout=1&stderr=1") => {
            let mut wire = Vec::new();
            stdcopy::encode_into(StreamType::Stdout, b"out\n", &mut wire);
            stdcopy::encode_into(StreamType::Stderr, b"err\n", &mut wire);
            stdcopy::encode_into(StreamType::SystemError, b"log file gone", &mut wire);
            Response::new(full(wire))
        }
        (Method::POST, "/exec/e/start") => {
            let upgrade = request.headers().get("upgrade").cloned();
            let connection = request.headers().get("connection").cloned();
            if upgrade.as_ref().and_then(|v| v.to_str().ok()) != Some("tcp")
                || connection.as_ref().and_then(|v| v.to_str().ok()) != Some("Upgrade")
            {
                return Ok(json(StatusCode::BAD_REQUEST, r#"{"message":"no upgrade"}"#));
            }
            // Read the start config first, as dockerd does before hijacking.
            let (parts, body) = request.into_parts();
            let _ = body.collect().await;
            tokio::spawn(echo_hijacked(Request::from_parts(parts, ())));
            Response::builder()
                .status(StatusCode::SWITCHING_PROTOCOLS)
                .header("Connection", "Upgrade")
                .header("Upgrade", "tcp")
                .header(CONTENT_TYPE, "application/vnd.docker.multiplexed-stream")
                .body(full(""))
                .unwrap()
        }
        (Method::POST, "/exec/old/start") => Response::builder()
            .header(CONTENT_TYPE, "application/vnd.docker.raw-stream")
            .body(full("raw output"))
            .unwrap(),
        _ => json(StatusCode::NOT_FOUND, r#"{"message":"page not found"}"#),
    };
    Ok(response)
}

struct Server {
    _dir: tempfile::TempDir,
    host: String,
    seen: Seen,
}

fn serve(api_version: Option<&'static str>) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("d.sock");
    let listener = UnixListener::bind(&socket).unwrap();
    let seen = Seen::default();
    let server_seen = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let seen = server_seen.clone();
            tokio::spawn(async move {
                let service = service_fn(move |request| handle(request, api_version, seen.clone()));
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .with_upgrades()
                    .await;
            });
        }
    });
    Server {
        host: format!("unix://{}", socket.display()),
        _dir: dir,
        seen,
    }
}

impl Server {
    fn client(&self) -> Client {
        Client::from_host(&self.host).unwrap()
    }

    fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

#[tokio::test]
async fn negotiates_down_to_the_daemon() {
    let server = serve(Some("1.41"));
    let mut client = server.client();
    assert_eq!(client.api_version(), ApiVersion::new(1, 45));
    assert_eq!(client.negotiate().await.unwrap(), ApiVersion::new(1, 41));
    let info: serde_json::Value = client.get_json("/info").await.unwrap();
    assert_eq!(info["Containers"], 3);
    assert_eq!(
        server.seen(),
        ["GET /_ping - docker", "GET /v1.41/info - docker"]
    );
}

#[tokio::test]
async fn never_negotiates_above_its_own_version() {
    let server = serve(Some("1.47"));
    let mut client = server.client();
    assert_eq!(client.negotiate().await.unwrap(), ApiVersion::new(1, 45));
    let ping = client.ping().await.unwrap();
    assert_eq!(ping.os_type.as_deref(), Some("linux"));
    assert_eq!(ping.api_version, Some(ApiVersion::new(1, 47)));
}

#[tokio::test]
async fn a_daemon_without_a_version_header_speaks_1_24() {
    let server = serve(None);
    let mut client = server.client();
    assert_eq!(client.negotiate().await.unwrap(), ApiVersion::new(1, 24));
}

#[tokio::test]
async fn posts_json_with_its_content_type() {
    let server = serve(Some("1.45"));
    let client = server.client();
    let answer: IdResponse = client
        .post_json("/commit", &serde_json::json!({"a": 1}))
        .await
        .unwrap();
    assert_eq!(answer.id, r#"{"a":1}"#);
    assert_eq!(
        server.seen(),
        ["POST /v1.45/commit application/json docker"]
    );
}

#[tokio::test]
async fn daemon_errors_carry_message_and_status() {
    let server = serve(Some("1.45"));
    let client = server.client();
    let err = client
        .get_json::<serde_json::Value>("/containers/missing/json")
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "No such container: missing");
    assert_eq!(err.status(), Some(StatusCode::NOT_FOUND));
    assert!(err.is_not_found());

    let err = client.post("/containers/busy/start").await.unwrap_err();
    assert_eq!(err.to_string(), "plain text refusal");
    assert_eq!(err.status(), Some(StatusCode::CONFLICT));

    let err = client.delete("/gone").await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "request returned Not Found for API route and version /v1.45/gone, check if the server supports the requested API version"
    );
}

#[tokio::test]
async fn no_daemon_is_a_connection_error() {
    let dir = tempfile::tempdir().unwrap();
    let host = format!("unix://{}", dir.path().join("none.sock").display());
    let mut client = Client::from_host(&host).unwrap();
    let err = client.negotiate().await.unwrap_err();
    assert!(err.is_daemon_absent(), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!("Cannot connect to the Docker daemon at {host}. Is the docker daemon running?")
    );

    // A socket file that nobody listens on any more.
    let socket = dir.path().join("dead.sock");
    drop(std::os::unix::net::UnixListener::bind(&socket).unwrap());
    let client = Client::from_host(&format!("unix://{}", socket.display())).unwrap();
    let err = client.ping().await.unwrap_err();
    assert!(err.is_daemon_absent(), "{err:?}");
    assert!(Path::new(&socket).exists());
}

#[tokio::test]
async fn events_arrive_as_json_messages() {
    let server = serve(Some("1.45"));
    let client = server.client();
    let mut events = client
        .get_json_stream::<EventMessage>("/events")
        .await
        .unwrap();
    let first = events.next_message().await.unwrap().unwrap();
    assert_eq!(first.kind, "container");
    assert_eq!(first.actor.attributes["name"], "web");
    let second = events.next().await.unwrap().unwrap();
    assert_eq!(second.action, "pull");
    assert!(events.next_message().await.unwrap().is_none());
}

#[tokio::test]
async fn progress_errors_are_messages() {
    let server = serve(Some("1.45"));
    let client = server.client();
    let path = Query::new()
        .arg("fromImage", "busybox")
        .arg("tag", "latest")
        .build("/images/create");
    let messages: Vec<JsonMessage> = client
        .json_stream(Method::POST, &path, RequestBody::empty(), HeaderMap::new())
        .await
        .unwrap()
        .map(|m| m.unwrap())
        .collect()
        .await;
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0].status, "Pulling from library/busybox");
    assert_eq!(messages[1].error_message(), Some("manifest unknown"));
}

#[tokio::test]
async fn output_is_demultiplexed_and_daemon_errors_end_it() {
    let server = serve(Some("1.45"));
    let client = server.client();
    let mut output = client
        .output_stream("/containers/a/logs?stdout=1&stderr=1", true)
        .await
        .unwrap();
    assert_eq!(
        output.next_output().await.unwrap(),
        Some((StreamType::Stdout, Bytes::from_static(b"out\n")))
    );
    assert_eq!(
        output.next_output().await.unwrap(),
        Some((StreamType::Stderr, Bytes::from_static(b"err\n")))
    );
    let err = output.next_output().await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "error from daemon in stream: log file gone"
    );
    assert!(output.next_output().await.unwrap().is_none());
}

#[tokio::test]
async fn hijack_round_trip_with_half_close() {
    let server = serve(Some("1.45"));
    let client = server.client();
    let body = RequestBody::json(&ExecStartConfig::default()).unwrap();
    let mut conn = client
        .hijack(Method::POST, "/exec/e/start", body)
        .await
        .unwrap();
    assert_eq!(
        conn.content_type(),
        Some("application/vnd.docker.multiplexed-stream")
    );
    conn.write_all(b"hello").await.unwrap();
    conn.flush().await.unwrap();

    let mut decoder = stdcopy::Decoder::new();
    let mut buf = [0u8; 64];
    let mut frames = Vec::new();
    while frames.is_empty() {
        let n = conn.read(&mut buf).await.unwrap();
        assert!(n > 0, "stream ended before the echo");
        decoder.push(&buf[..n]);
        while let Some(frame) = decoder.next_frame().unwrap() {
            frames.push(frame);
        }
    }
    assert_eq!(frames, [(StreamType::Stdout, Bytes::from_static(b"hello"))]);

    // Closing our side ends the server's input; its output still reaches us.
    conn.close_write().await.unwrap();
    let mut rest = Vec::new();
    conn.read_to_end(&mut rest).await.unwrap();
    decoder.push(&rest);
    assert_eq!(
        decoder.next_frame().unwrap(),
        Some((StreamType::Stderr, Bytes::from_static(b"bye")))
    );
    decoder.finish().unwrap();
    assert_eq!(
        server.seen(),
        ["POST /v1.45/exec/e/start application/json docker"]
    );
}

#[tokio::test]
async fn hijack_of_a_daemon_that_does_not_upgrade_reads_only() {
    let server = serve(Some("1.45"));
    let client = server.client();
    let mut conn = client
        .hijack(Method::POST, "/exec/old/start", RequestBody::empty())
        .await
        .unwrap();
    let err = conn.write_all(b"x").await.unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::Unsupported);
    let mut output = String::new();
    conn.read_to_string(&mut output).await.unwrap();
    assert_eq!(output, "raw output");
}

#[tokio::test]
async fn hijack_refusals_are_daemon_errors() {
    let server = serve(Some("1.45"));
    let client = server.client();
    let err = client
        .hijack(Method::POST, "/exec/nope/start", RequestBody::empty())
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "page not found");
}
