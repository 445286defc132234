//! Daemon addresses (`unix:///run/pier/pier.sock`, `tcp://127.0.0.1:2375`) and the byte
//! streams to them.

use std::io;
use std::path::PathBuf;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpStream, UnixStream};

use super::Error;

/// The daemon's address when none is given.
pub const DEFAULT_HOST: &str = "unix:///run/pier/pier.sock";

/// Docker's port for plain-text tcp.
const DEFAULT_TCP_PORT: u16 = 2375;

/// Where the daemon listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    Unix(PathBuf),
    /// `host:port`.
    Tcp(String),
}

impl Host {
    /// Parses `unix:///path`, `tcp://host[:port]` or `http://host[:port]` (port 2375 when
    /// left out).
    pub fn parse(host: &str) -> Result<Self, Error> {
        let invalid = |reason: &'static str| Error::InvalidHost {
            host: host.to_owned(),
            reason,
        };
        let (scheme, rest) = host
            .split_once("://")
            .ok_or_else(|| invalid("expected unix://<path> or tcp://<host>:<port>"))?;
        match scheme {
            "unix" => {
                let path = if rest.is_empty() {
                    DEFAULT_HOST.trim_start_matches("unix://")
                } else {
                    rest
                };
                if !path.starts_with('/') {
                    return Err(invalid("a unix socket path must be absolute"));
                }
                Ok(Self::Unix(PathBuf::from(path)))
            }
            "tcp" | "http" => {
                let authority = rest.strip_suffix('/').unwrap_or(rest);
                if authority.is_empty() {
                    return Err(invalid("no address given"));
                }
                if authority.contains('/') {
                    return Err(invalid("a base path after the address is not supported"));
                }
                if has_port(authority) {
                    Ok(Self::Tcp(authority.to_owned()))
                } else {
                    Ok(Self::Tcp(format!("{authority}:{DEFAULT_TCP_PORT}")))
                }
            }
            "https" => Err(invalid("TLS is not supported")),
            "ssh" => Err(invalid("ssh is not supported yet")),
            _ => Err(invalid("unknown scheme: expected unix:// or tcp://")),
        }
    }

    /// The `Host` header of requests: a name for sockets (as the docker CLI sends), the
    /// address for tcp.
    pub(crate) fn header_value(&self) -> &str {
        match self {
            Self::Unix(_) => "docker",
            Self::Tcp(address) => address,
        }
    }

    pub(crate) async fn connect(&self) -> io::Result<Transport> {
        match self {
            Self::Unix(path) => UnixStream::connect(path).await.map(Transport::Unix),
            Self::Tcp(address) => {
                let stream = TcpStream::connect(address.as_str()).await?;
                // Requests are small and interactive (attach): send them at once.
                stream.set_nodelay(true)?;
                Ok(Transport::Tcp(stream))
            }
        }
    }
}

// `[::1]:2375` and `host:2375` have a port; `[::1]` and `host` do not.
fn has_port(authority: &str) -> bool {
    match authority.rfind(']') {
        Some(bracket) => authority[bracket..].contains(':'),
        None => authority.contains(':'),
    }
}

/// A connection to the daemon.
#[derive(Debug)]
pub(crate) enum Transport {
    Unix(UnixStream),
    Tcp(TcpStream),
}

impl AsyncRead for Transport {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Unix(stream) => Pin::new(stream).poll_read(cx, buf),
            Self::Tcp(stream) => Pin::new(stream).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Transport {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Unix(stream) => Pin::new(stream).poll_write(cx, buf),
            Self::Tcp(stream) => Pin::new(stream).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Unix(stream) => Pin::new(stream).poll_flush(cx),
            Self::Tcp(stream) => Pin::new(stream).poll_flush(cx),
        }
    }

    // Both shut down the write half only (shutdown(SHUT_WR)): the daemon sees end of
    // input while output keeps coming, which is how stdin is closed on a hijacked stream.
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Unix(stream) => Pin::new(stream).poll_shutdown(cx),
            Self::Tcp(stream) => Pin::new(stream).poll_shutdown(cx),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Unix(stream) => Pin::new(stream).poll_write_vectored(cx, bufs),
            Self::Tcp(stream) => Pin::new(stream).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Self::Unix(stream) => stream.is_write_vectored(),
            Self::Tcp(stream) => stream.is_write_vectored(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_hosts() {
        assert_eq!(
            Host::parse("unix:///run/pier/pier.sock").unwrap(),
            Host::Unix("/run/pier/pier.sock".into())
        );
        assert_eq!(
            Host::parse("unix://").unwrap(),
            Host::Unix("/run/pier/pier.sock".into())
        );
        assert_eq!(
            Host::parse("tcp://127.0.0.1:2375").unwrap(),
            Host::Tcp("127.0.0.1:2375".into())
        );
        assert_eq!(
            Host::parse("http://127.0.0.1").unwrap(),
            Host::Tcp("127.0.0.1:2375".into())
        );
        assert_eq!(
            Host::parse("tcp://[::1]/").unwrap(),
            Host::Tcp("[::1]:2375".into())
        );
        assert_eq!(
            Host::parse("tcp://[::1]:1234").unwrap(),
            Host::Tcp("[::1]:1234".into())
        );
    }

    #[test]
    fn refuses_other_hosts() {
        for bad in [
            "/run/pier.sock",
            "unix://relative.sock",
            "tcp://",
            "tcp://host:1/base",
            "https://host:2376",
            "ssh://me@host",
            "fd://",
        ] {
            let err = Host::parse(bad).unwrap_err();
            assert!(matches!(err, Error::InvalidHost { .. }), "{bad}: {err}");
        }
    }
}
