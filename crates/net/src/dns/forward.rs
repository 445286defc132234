//! Forwarding names the network does not know to upstream resolvers. The query's bytes go out
//! as they came and the answer comes back whole (flags, authority and additional sections,
//! EDNS); a resolver library would answer from its own lookups and lose those, and would
//! cache, which a relay must not.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

/// Largest UDP answer accepted (EDNS's usual ceiling); larger ones come truncated, and the
/// client retries over TCP.
const UDP_ANSWER_MAX: usize = 4096;

/// Asks each upstream in turn until one answers; `None` if none did within `timeout` each.
pub(crate) async fn forward(
    query: &[u8],
    upstreams: &[SocketAddr],
    over_tcp: bool,
    timeout: Duration,
) -> Option<Vec<u8>> {
    for upstream in upstreams {
        let attempt = async {
            if over_tcp {
                ask_tcp(query, *upstream).await
            } else {
                ask_udp(query, *upstream).await
            }
        };
        if let Ok(Some(answer)) = tokio::time::timeout(timeout, attempt).await {
            return Some(answer);
        }
    }
    None
}

async fn ask_udp(query: &[u8], upstream: SocketAddr) -> Option<Vec<u8>> {
    let local: SocketAddr = if upstream.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let socket = UdpSocket::bind(local).await.ok()?;
    socket.connect(upstream).await.ok()?;
    socket.send(query).await.ok()?;
    let mut buffer = vec![0u8; UDP_ANSWER_MAX];
    loop {
        let length = socket.recv(&mut buffer).await.ok()?;
        // Only the answer to this query (same id); anything else is ignored.
        if length >= 2 && query.len() >= 2 && buffer[..2] == query[..2] {
            buffer.truncate(length);
            return Some(buffer);
        }
    }
}

async fn ask_tcp(query: &[u8], upstream: SocketAddr) -> Option<Vec<u8>> {
    let length = u16::try_from(query.len()).ok()?;
    let mut stream = TcpStream::connect(upstream).await.ok()?;
    let mut framed = Vec::with_capacity(query.len() + 2);
    framed.extend_from_slice(&length.to_be_bytes());
    framed.extend_from_slice(query);
    stream.write_all(&framed).await.ok()?;
    let answer_length = stream.read_u16().await.ok()?;
    let mut answer = vec![0u8; usize::from(answer_length)];
    stream.read_exact(&mut answer).await.ok()?;
    Some(answer)
}
