//! One request, one reply, as MIT's client sends them: a fresh UDP socket per request
//! (RFC 4120 §7.2.1), or a fresh TCP connection with the 4-byte length prefix (§7.2.2),
//! closed after the reply (MIT's KDC closes it anyway).

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

use super::options::TransportKind;

/// Replies larger than this are refused (a KDC reply is a few KiB).
const MAX_REPLY: usize = 1 << 20;

pub async fn exchange(
    transport: TransportKind,
    kdc: SocketAddr,
    message: &[u8],
) -> io::Result<Vec<u8>> {
    match transport {
        TransportKind::Udp => udp(kdc, message).await,
        TransportKind::Tcp => tcp(kdc, message).await,
    }
}

async fn udp(kdc: SocketAddr, message: &[u8]) -> io::Result<Vec<u8>> {
    let local = match kdc {
        SocketAddr::V4(_) => SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)),
        SocketAddr::V6(_) => SocketAddr::from((Ipv6Addr::UNSPECIFIED, 0)),
    };
    let socket = UdpSocket::bind(local).await?;
    socket.connect(kdc).await?;
    socket.send(message).await?;
    let mut reply = vec![0u8; 65_536];
    let len = socket.recv(&mut reply).await?;
    reply.truncate(len);
    Ok(reply)
}

async fn tcp(kdc: SocketAddr, message: &[u8]) -> io::Result<Vec<u8>> {
    let mut stream = TcpStream::connect(kdc).await?;
    stream.set_nodelay(true)?;
    let len = u32::try_from(message.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "request too long"))?;
    let mut framed = Vec::with_capacity(message.len() + 4);
    framed.extend_from_slice(&len.to_be_bytes());
    framed.extend_from_slice(message);
    stream.write_all(&framed).await?;
    let mut prefix = [0u8; 4];
    stream.read_exact(&mut prefix).await?;
    let len = usize::try_from(u32::from_be_bytes(prefix))
        .ok()
        .filter(|&len| len <= MAX_REPLY)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "reply length"))?;
    let mut reply = vec![0u8; len];
    stream.read_exact(&mut reply).await?;
    Ok(reply)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    #[tokio::test]
    async fn tcp_frames_with_a_length_prefix() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut request = [0u8; 7];
            stream.read_exact(&mut request).await.unwrap();
            assert_eq!(request, [0, 0, 0, 3, 0x6a, 1, 2]);
            stream.write_all(&[0, 0, 0, 2, 0x7e, 9]).await.unwrap();
        });
        let reply = exchange(TransportKind::Tcp, addr, &[0x6a, 1, 2])
            .await
            .unwrap();
        assert_eq!(reply, [0x7e, 9]);
        server.await.unwrap();
    }

    #[tokio::test]
    async fn udp_is_one_datagram_each_way() {
        let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = server.local_addr().unwrap();
        let echo = tokio::spawn(async move {
            let mut buf = [0u8; 16];
            let (len, peer) = server.recv_from(&mut buf).await.unwrap();
            server.send_to(&buf[..len], peer).await.unwrap();
        });
        let reply = exchange(TransportKind::Udp, addr, &[0x6c, 5])
            .await
            .unwrap();
        assert_eq!(reply, [0x6c, 5]);
        echo.await.unwrap();
    }
}
