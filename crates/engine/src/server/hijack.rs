//! Hijacked connections (attach, exec start): the reply switches protocols and the same TCP
//! or unix connection then carries the process's raw or multiplexed stdio both ways.

use std::future::Future;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::response::Response;
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;

use super::error::ApiError;

pub type Stream = TokioIo<Upgraded>;

/// Docker's media types of a hijacked stream.
pub fn content_type(tty: bool) -> &'static str {
    if tty {
        "application/vnd.docker.raw-stream"
    } else {
        "application/vnd.docker.multiplexed-stream"
    }
}

/// Answers 101 and hands the upgraded connection to `relay` once the client has it.
pub fn upgrade<F, Fut>(mut request: Request, tty: bool, relay: F) -> Result<Response, ApiError>
where
    F: FnOnce(Stream) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let wants_upgrade = request
        .headers()
        .get(header::UPGRADE)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"tcp"));
    if !wants_upgrade {
        return Err(ApiError::bad_request(
            "this endpoint needs a hijacked connection (Connection: Upgrade, Upgrade: tcp)",
        ));
    }
    let on_upgrade = hyper::upgrade::on(&mut request);
    tokio::spawn(async move {
        if let Ok(upgraded) = on_upgrade.await {
            relay(TokioIo::new(upgraded)).await;
        }
    });
    Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header(header::CONNECTION, "Upgrade")
        .header(header::UPGRADE, "tcp")
        .header(header::CONTENT_TYPE, content_type(tty))
        .body(Body::empty())
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))
}
