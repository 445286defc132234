//! The Docker Engine API over HTTP/1.1: listeners (unix sockets, tcp), the `/vX.Y` prefix and
//! version checks, Docker's headers, JSON error bodies, and the routes of each part of the
//! API (one module each). Handlers translate between HTTP and the engine's services; they
//! hold no logic of their own.

mod attach;
mod body;
mod containers;
mod error;
mod exec;
mod hijack;
mod images;
mod networks;
mod system;
mod volumes;

use std::convert::Infallible;
use std::sync::Arc;

use api::version::{ApiVersion, DEFAULT_API_VERSION, MAX_API_VERSION, MIN_API_VERSION, split_path};
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderValue, Request, Response, StatusCode, Uri};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tower::ServiceExt;

pub use body::JsonBody;
pub use error::ApiError;

use crate::Engine;

/// Requests served so far, for the daemon to tell when it is idle.
pub static REQUESTS_SERVED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// What pier reports itself as in `Server` and `/version`.
pub const ENGINE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The API version a request was made with (its `/vX.Y` prefix, or the newest).
#[derive(Debug, Clone, Copy)]
pub struct RequestVersion(pub ApiVersion);

pub fn router(engine: Arc<Engine>) -> Router {
    Router::new()
        .merge(system::routes())
        .merge(containers::routes())
        .merge(exec::routes())
        .merge(attach::routes())
        .merge(images::routes())
        .merge(volumes::routes())
        .merge(networks::routes())
        .fallback(|| async { ApiError::not_found("page not found") })
        .with_state(engine)
}

/// Serves one accepted connection until the client closes it (or hijacks it).
pub async fn serve_connection<S>(router: Router, stream: S)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
        let router = router.clone();
        async move { Ok::<_, Infallible>(handle(router, request).await) }
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades()
        .await;
}

async fn handle(router: Router, mut request: Request<Incoming>) -> Response<Body> {
    REQUESTS_SERVED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let (version, rest) = split_path(request.uri().path());
    let version = version.unwrap_or(DEFAULT_API_VERSION);
    let mut response = if version > MAX_API_VERSION {
        ApiError::bad_request(format!(
            "client version {version} is too new. Maximum supported API version is {MAX_API_VERSION}"
        ))
        .into_response()
    } else if version < MIN_API_VERSION {
        ApiError::bad_request(format!(
            "client version {version} is too old. Minimum supported API version is {MIN_API_VERSION}, please upgrade your client to a newer version"
        ))
        .into_response()
    } else {
        let path_and_query = match request.uri().query() {
            Some(q) => format!("{rest}?{q}"),
            None => rest.to_owned(),
        };
        match path_and_query.parse::<Uri>() {
            Ok(uri) => {
                *request.uri_mut() = uri;
                request.extensions_mut().insert(RequestVersion(version));
                match router.oneshot(request.map(Body::new)).await {
                    Ok(r) => r,
                    Err(never) => match never {},
                }
            }
            Err(_) => ApiError::bad_request("invalid request path").into_response(),
        }
    };
    let headers = response.headers_mut();
    headers.insert("Api-Version", HeaderValue::from_static(max_version_text()));
    headers.insert("Docker-Experimental", HeaderValue::from_static("false"));
    headers.insert("Ostype", HeaderValue::from_static("linux"));
    if let Ok(server) = HeaderValue::from_str(&format!("Docker/{ENGINE_VERSION} (linux)")) {
        headers.insert("Server", server);
    }
    if response.status() == StatusCode::NOT_MODIFIED {
        *response.body_mut() = Body::empty();
    }
    response
}

fn max_version_text() -> &'static str {
    "1.45"
}

use axum::response::IntoResponse;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_advertised_version_is_the_maximum() {
        assert_eq!(max_version_text(), MAX_API_VERSION.to_string());
    }
}
