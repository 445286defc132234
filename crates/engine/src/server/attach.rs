//! `/containers/{id}/attach`, `/containers/{id}/resize` and `/containers/{id}/logs`.

use std::sync::Arc;

use api::stdcopy;
use axum::Router;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::post;
use serde::Deserialize;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::Engine;
use crate::containers::{AttachOptions, ShimStream};

use super::body::{Query, flag};
use super::error::ApiResult;
use super::hijack::{self, Stream};

pub fn routes() -> Router<Arc<Engine>> {
    Router::new()
        .route("/containers/{id}/attach", post(attach))
        .route("/containers/{id}/resize", post(resize))
        .route("/containers/{id}/logs", axum::routing::get(logs))
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct AttachQuery {
    #[serde(deserialize_with = "flag::deserialize")]
    stream: bool,
    #[serde(deserialize_with = "flag::deserialize")]
    stdin: bool,
    #[serde(deserialize_with = "flag::deserialize")]
    stdout: bool,
    #[serde(deserialize_with = "flag::deserialize")]
    stderr: bool,
    #[serde(deserialize_with = "flag::deserialize")]
    logs: bool,
    detach_keys: Option<String>,
}

async fn attach(
    State(engine): State<Arc<Engine>>,
    Path(id): Path<String>,
    Query(query): Query<AttachQuery>,
    request: Request,
) -> ApiResult<Response> {
    let options = AttachOptions {
        stdin: query.stdin,
        stdout: query.stdout,
        stderr: query.stderr,
    };
    let detach_keys = parse_detach_keys(query.detach_keys.as_deref().unwrap_or(""));
    let (tty, connect) = engine.attach_container(&id, options)?;
    hijack::upgrade(request, tty, move |client| async move {
        if let Ok(shim) = connect.await {
            relay(client, shim, tty, options.stdin, detach_keys).await;
        }
    })
}

/// Frames from the shim go to the client as they are (raw payloads with a terminal); the
/// client's bytes go to the shim as stdin, until the detach keys are typed.
async fn relay(client: Stream, shim: ShimStream, tty: bool, stdin: bool, detach_keys: Vec<u8>) {
    let (mut from_client, mut to_client) = tokio::io::split(client);
    let (mut from_shim, mut to_shim) = tokio::io::split(shim);
    let (detached_tx, mut detached_rx) = tokio::sync::oneshot::channel::<()>();
    let input = tokio::spawn(async move {
        if stdin {
            if forward_stdin(&mut from_client, &mut to_shim, &detach_keys).await {
                let _ = detached_tx.send(());
                return;
            }
            let _ = to_shim.shutdown().await;
        }
        // Keep the half open: a client that only reads must not end the stream.
        std::future::pending::<()>().await;
    });
    tokio::select! {
        _ = copy_output(&mut from_shim, &mut to_client, tty) => {}
        _ = &mut detached_rx => {}
    }
    let _ = to_client.shutdown().await;
    input.abort();
}

async fn copy_output<R, W>(from: &mut R, to: &mut W, tty: bool)
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut buf = vec![0u8; 32 * 1024];
    let mut decoder = stdcopy::Decoder::new();
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if !tty {
            if to.write_all(&buf[..n]).await.is_err() {
                return;
            }
            continue;
        }
        decoder.push(&buf[..n]);
        while let Ok(Some((_, payload))) = decoder.next_frame() {
            if to.write_all(&payload).await.is_err() {
                return;
            }
        }
    }
}

/// Copies stdin; true when the detach sequence was typed (it is not forwarded).
async fn forward_stdin<R, W>(from: &mut R, to: &mut W, keys: &[u8]) -> bool
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut buf = vec![0u8; 8 * 1024];
    let mut matched = 0usize;
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => n,
        };
        let mut out = Vec::with_capacity(n);
        for &b in &buf[..n] {
            if !keys.is_empty() && b == keys[matched] {
                matched += 1;
                if matched == keys.len() {
                    // What came before the sequence in this read still goes in.
                    let _ = to.write_all(&out).await;
                    return true;
                }
                continue;
            }
            // A partial sequence that did not complete is passed on.
            out.extend_from_slice(&keys[..matched]);
            matched = 0;
            if !keys.is_empty() && b == keys[0] {
                matched = 1;
                continue;
            }
            out.push(b);
        }
        if !out.is_empty() && to.write_all(&out).await.is_err() {
            return false;
        }
    }
}

/// Docker's detach keys: `ctrl-p,ctrl-q` by default; `ctrl-<x>` or single characters.
pub fn parse_detach_keys(text: &str) -> Vec<u8> {
    let text = if text.is_empty() {
        "ctrl-p,ctrl-q"
    } else {
        text
    };
    let mut keys = Vec::new();
    for part in text.split(',') {
        if let Some(c) = part.strip_prefix("ctrl-") {
            match c.as_bytes() {
                [b @ b'a'..=b'z'] => keys.push(b - b'a' + 1),
                [b'@'] => keys.push(0),
                [b'['] => keys.push(27),
                [b'\\'] => keys.push(28),
                [b']'] => keys.push(29),
                [b'^'] => keys.push(30),
                [b'_'] => keys.push(31),
                _ => return default_keys(),
            }
        } else if part.len() == 1 {
            keys.push(part.as_bytes()[0]);
        } else {
            return default_keys();
        }
    }
    keys
}

fn default_keys() -> Vec<u8> {
    vec![16, 17]
}

/// `?h=rows&w=cols` of a container's or an exec's resize.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct ResizeQuery {
    pub h: u16,
    pub w: u16,
}

async fn resize(
    State(engine): State<Arc<Engine>>,
    Path(id): Path<String>,
    Query(query): Query<ResizeQuery>,
) -> ApiResult<StatusCode> {
    engine.resize_container(&id, query.h, query.w).await?;
    Ok(StatusCode::OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detach_keys_parse_as_docker_does() {
        assert_eq!(parse_detach_keys(""), vec![16, 17]);
        assert_eq!(parse_detach_keys("ctrl-a,x"), vec![1, b'x']);
        assert_eq!(parse_detach_keys("bogus"), vec![16, 17]);
    }

    #[tokio::test]
    async fn the_detach_sequence_is_swallowed_and_ends_stdin() {
        let mut input: &[u8] = b"ab\x10c\x10\x11rest";
        let mut out = Vec::new();
        assert!(forward_stdin(&mut input, &mut out, &[16, 17]).await);
        assert_eq!(out, b"ab\x10c");
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LogsQuery {
    #[serde(deserialize_with = "flag::deserialize")]
    follow: bool,
    #[serde(deserialize_with = "flag::deserialize")]
    stdout: bool,
    #[serde(deserialize_with = "flag::deserialize")]
    stderr: bool,
    since: String,
    until: String,
    #[serde(deserialize_with = "flag::deserialize")]
    timestamps: bool,
    tail: String,
}

async fn logs(
    State(engine): State<Arc<Engine>>,
    Path(id): Path<String>,
    Query(query): Query<LogsQuery>,
) -> ApiResult<Response> {
    let tail = match query.tail.as_str() {
        "" | "all" => None,
        n => Some(n.parse::<usize>().map_err(|_| {
            super::error::ApiError::bad_request(format!("invalid value for \"tail\": {n}"))
        })?),
    };
    let options = crate::logs::LogOptions {
        follow: query.follow,
        stdout: query.stdout,
        stderr: query.stderr,
        since: crate::logs::parse_timestamp(&query.since)?,
        until: crate::logs::parse_timestamp(&query.until)?,
        timestamps: query.timestamps,
        tail,
    };
    let (tty, chunks) = engine.container_logs(&id, options)?;
    let body = futures_util::stream::unfold(chunks, |mut chunks| async move {
        chunks
            .recv()
            .await
            .map(|chunk| (Ok::<_, std::convert::Infallible>(chunk), chunks))
    });
    Response::builder()
        .status(StatusCode::OK)
        .header("Content-Type", hijack::content_type(tty))
        .body(axum::body::Body::from_stream(body))
        .map_err(|e| super::error::ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))
}
