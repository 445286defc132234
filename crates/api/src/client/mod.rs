//! An Engine API client over a unix socket or tcp, as pier's CLI and compose use it.
//!
//! ```no_run
//! # async fn demo() -> Result<(), api::client::Error> {
//! use api::client::{Client, Query};
//! use api::types::ContainerSummary;
//!
//! let mut client = Client::from_host("unix:///run/pier/pier.sock")?;
//! client.negotiate().await?; // GET /_ping: speak min(server, 1.45)
//! let path = Query::new().flag("all", true).build("/containers/json");
//! let containers: Vec<ContainerSummary> = client.get_json(&path).await?;
//! # Ok(()) }
//! ```
//!
//! Paths are given without a version (`/containers/json`); the client prefixes them with
//! `/vX.Y` of its version: 1.45 until [`Client::negotiate`] or
//! [`Client::with_api_version`] says otherwise. `/_ping` is sent unversioned.
//!
//! Every request opens its own connection: on a unix socket that costs microseconds,
//! and no pool or background task outlives a request.

mod body;
mod error;
mod hijack;
mod host;
mod query;
mod stream;

#[cfg(test)]
mod tests;

pub use body::RequestBody;
pub use error::Error;
pub use hijack::Hijacked;
pub use host::{DEFAULT_HOST, Host};
pub use query::{Query, escape_path};
pub use stream::{ByteStream, JsonDecoder, JsonStream, OutputStream};

use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::header::{CONNECTION, CONTENT_TYPE, HOST, HeaderMap, HeaderValue, UPGRADE, USER_AGENT};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::version::{ApiVersion, MAX_API_VERSION, MIN_API_VERSION};

/// Request bodies as hyper sends them.
type WireBody = http_body_util::combinators::UnsyncBoxBody<bytes::Bytes, std::io::Error>;

const USER_AGENT_VALUE: &str = concat!("pier/", env!("CARGO_PKG_VERSION"));

// An error body is a short JSON message; a daemon that sends more is not one to trust.
const MAX_ERROR_BODY: usize = 1 << 20;

/// A client of one daemon. Cloning is cheap; clones share nothing but the address.
#[derive(Debug, Clone)]
pub struct Client {
    host: Host,
    host_text: String,
    version: ApiVersion,
}

/// What `GET /_ping` tells of the daemon.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ping {
    /// `API-Version`: the newest version the daemon serves; `None` for daemons too old to
    /// say (which serve 1.24).
    pub api_version: Option<ApiVersion>,
    /// `OSType`: `linux`.
    pub os_type: Option<String>,
    /// `Docker-Experimental`.
    pub experimental: bool,
    /// `Builder-Version`: `1` (classic) or `2` (BuildKit).
    pub builder_version: Option<String>,
}

impl Client {
    /// A client of the daemon at `host` (`unix:///path`, `tcp://host:port`,
    /// `http://host:port`). Nothing is connected yet.
    pub fn from_host(host: &str) -> Result<Self, Error> {
        Ok(Self {
            host: Host::parse(host)?,
            host_text: host.to_owned(),
            version: MAX_API_VERSION,
        })
    }

    /// The address as given.
    pub fn host(&self) -> &str {
        &self.host_text
    }

    /// The version requests are made in.
    pub fn api_version(&self) -> ApiVersion {
        self.version
    }

    /// Pins the version (`DOCKER_API_VERSION`), without negotiation.
    pub fn with_api_version(mut self, version: ApiVersion) -> Self {
        self.version = version;
        self
    }

    /// `GET /_ping`. A daemon that refuses still tells its version, which is kept.
    pub async fn ping(&self) -> Result<Ping, Error> {
        let request = self.build_request(Method::GET, "/_ping", RequestBody::empty(), None)?;
        let response = self.send(request).await?;
        let headers = response.headers();
        let text = |name: &str| {
            headers
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
        };
        let ping = Ping {
            api_version: text("API-Version").and_then(|v| ApiVersion::parse(&v).ok()),
            os_type: text("OSType"),
            experimental: text("Docker-Experimental").is_some_and(|v| v == "true"),
            builder_version: text("Builder-Version"),
        };
        if !response.status().is_success() && ping.api_version.is_none() {
            return Err(self.error_of(response, "/_ping").await);
        }
        Ok(ping)
    }

    /// Asks the daemon its version and speaks the lower of it and 1.45 from then on (what
    /// the docker CLI does). Returns the version chosen.
    pub async fn negotiate(&mut self) -> Result<ApiVersion, Error> {
        let ping = self.ping().await?;
        let server = ping.api_version.unwrap_or(MIN_API_VERSION);
        self.version = server.min(MAX_API_VERSION);
        Ok(self.version)
    }

    /// `GET path`, decoding a JSON answer.
    pub async fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, Error> {
        let response = self
            .request(Method::GET, path, RequestBody::empty(), HeaderMap::new())
            .await?;
        self.read_json(response, path).await
    }

    /// `POST path` with a JSON body, decoding a JSON answer.
    pub async fn post_json<B, T>(&self, path: &str, body: &B) -> Result<T, Error>
    where
        B: Serialize + ?Sized,
        T: DeserializeOwned,
    {
        let response = self
            .request(
                Method::POST,
                path,
                RequestBody::json(body)?,
                HeaderMap::new(),
            )
            .await?;
        self.read_json(response, path).await
    }

    /// `POST path` with a JSON body, ignoring the answer's body
    /// (`/networks/{id}/connect`).
    pub async fn post_body<B: Serialize + ?Sized>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<(), Error> {
        let response = self
            .request(
                Method::POST,
                path,
                RequestBody::json(body)?,
                HeaderMap::new(),
            )
            .await?;
        drain(response).await
    }

    /// `POST path` without a body, decoding a JSON answer (`/containers/{id}/wait`).
    pub async fn post_for_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, Error> {
        let response = self
            .request(Method::POST, path, RequestBody::empty(), HeaderMap::new())
            .await?;
        self.read_json(response, path).await
    }

    /// `POST path` without a body, ignoring the answer's body (`/containers/{id}/start`).
    pub async fn post(&self, path: &str) -> Result<(), Error> {
        let response = self
            .request(Method::POST, path, RequestBody::empty(), HeaderMap::new())
            .await?;
        drain(response).await
    }

    /// `DELETE path`, ignoring the answer's body.
    pub async fn delete(&self, path: &str) -> Result<(), Error> {
        let response = self
            .request(Method::DELETE, path, RequestBody::empty(), HeaderMap::new())
            .await?;
        drain(response).await
    }

    /// `DELETE path`, decoding a JSON answer (`DELETE /images/{name}`).
    pub async fn delete_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, Error> {
        let response = self
            .request(Method::DELETE, path, RequestBody::empty(), HeaderMap::new())
            .await?;
        self.read_json(response, path).await
    }

    /// Any request; the answer's body is left to the caller (streams, archives). A status
    /// of 400 or more becomes [`Error::Daemon`]. `Content-Type` comes from the body unless
    /// `headers` set it.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        body: RequestBody,
        headers: HeaderMap,
    ) -> Result<Response<Incoming>, Error> {
        let versioned = self.versioned(path);
        let request = self.build_request(method, &versioned, body, Some(headers))?;
        let response = self.send(request).await?;
        // As Docker's client: below 400 is an answer, not an error (`304 Not Modified` when
        // stopping a stopped container is success).
        if response.status().is_success() || response.status().is_redirection() {
            Ok(response)
        } else {
            Err(self.error_of(response, &versioned).await)
        }
    }

    /// Hijacks the connection of a request (`POST /containers/{id}/attach?stream=1&...`,
    /// `POST /exec/{id}/start` with an [`ExecStartConfig`](crate::types::ExecStartConfig)
    /// body), for stdin to go in and output to come out.
    pub async fn hijack(
        &self,
        method: Method,
        path: &str,
        body: RequestBody,
    ) -> Result<Hijacked, Error> {
        let versioned = self.versioned(path);
        let mut headers = HeaderMap::new();
        headers.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
        headers.insert(UPGRADE, HeaderValue::from_static("tcp"));
        let request = self.build_request(method, &versioned, body, Some(headers))?;
        let response = self.send(request).await?;
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        match response.status() {
            StatusCode::SWITCHING_PROTOCOLS => {
                let upgraded =
                    hyper::upgrade::on(response)
                        .await
                        .map_err(|source| Error::Upgrade {
                            path: versioned.clone(),
                            source,
                        })?;
                Ok(Hijacked::upgraded(upgraded, content_type))
            }
            status if status.is_success() => {
                Ok(Hijacked::read_only(response.into_body(), content_type))
            }
            _ => Err(self.error_of(response, &versioned).await),
        }
    }

    /// `GET path` as a stream of JSON messages (`/events`).
    pub async fn get_json_stream<T: DeserializeOwned>(
        &self,
        path: &str,
    ) -> Result<JsonStream<T>, Error> {
        let response = self
            .request(Method::GET, path, RequestBody::empty(), HeaderMap::new())
            .await?;
        Ok(JsonStream::new(response.into_body(), path))
    }

    /// A request whose answer is a stream of JSON messages (`POST /images/create`,
    /// `POST /images/load`, `POST /build`...).
    pub async fn json_stream<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: RequestBody,
        headers: HeaderMap,
    ) -> Result<JsonStream<T>, Error> {
        let response = self.request(method, path, body, headers).await?;
        Ok(JsonStream::new(response.into_body(), path))
    }

    /// `GET path` as container output (`/containers/{id}/logs?...`); `multiplexed` is false
    /// for containers with a terminal.
    pub async fn output_stream(
        &self,
        path: &str,
        multiplexed: bool,
    ) -> Result<OutputStream, Error> {
        let response = self
            .request(Method::GET, path, RequestBody::empty(), HeaderMap::new())
            .await?;
        Ok(OutputStream::new(response.into_body(), multiplexed))
    }

    fn versioned(&self, path: &str) -> String {
        format!("{}{path}", self.version.path_prefix())
    }

    fn build_request(
        &self,
        method: Method,
        path: &str,
        body: RequestBody,
        headers: Option<HeaderMap>,
    ) -> Result<Request<WireBody>, Error> {
        let mut builder = Request::builder()
            .method(method)
            .uri(path)
            .header(HOST, self.host.header_value())
            .header(USER_AGENT, USER_AGENT_VALUE);
        let headers = headers.unwrap_or_default();
        if let (Some(content_type), false) = (body.content_type, headers.contains_key(CONTENT_TYPE))
        {
            builder = builder.header(CONTENT_TYPE, content_type);
        }
        if let Some(all) = builder.headers_mut() {
            all.extend(headers);
        }
        builder.body(body.inner).map_err(|source| Error::Request {
            path: path.to_owned(),
            source,
        })
    }

    async fn send(&self, request: Request<WireBody>) -> Result<Response<Incoming>, Error> {
        let io = self.host.connect().await.map_err(|source| Error::Connect {
            host: self.host_text.clone(),
            source,
        })?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(io))
            .await
            .map_err(|source| Error::Transport {
                context: "starting HTTP on the connection",
                source,
            })?;
        // The connection's own task: it ends when the answer has been read (or handed
        // over by an upgrade); its errors reach the caller through the response.
        tokio::spawn(async move {
            let _ = connection.with_upgrades().await;
        });
        sender
            .send_request(request)
            .await
            .map_err(|source| Error::Transport {
                context: "sending the request",
                source,
            })
    }

    async fn read_json<T: DeserializeOwned>(
        &self,
        response: Response<Incoming>,
        path: &str,
    ) -> Result<T, Error> {
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|source| Error::Transport {
                context: "reading the response",
                source,
            })?
            .to_bytes();
        serde_json::from_slice(&body).map_err(|source| Error::Decode {
            path: path.to_owned(),
            source,
        })
    }

    async fn error_of(&self, response: Response<Incoming>, path: &str) -> Error {
        let status = response.status();
        let limited = http_body_util::Limited::new(response.into_body(), MAX_ERROR_BODY);
        let body = match limited.collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(_) => bytes::Bytes::new(),
        };
        Error::Daemon {
            status,
            message: error::daemon_message(status, path, &body),
        }
    }
}

async fn drain(response: Response<Incoming>) -> Result<(), Error> {
    response
        .into_body()
        .collect()
        .await
        .map(|_| ())
        .map_err(|source| Error::Transport {
            context: "reading the response",
            source,
        })
}
