//! Free loopback ports. A KDC port must be free for both TCP and UDP (RFC 4120 §7.2.1-2:
//! one port number, both transports). Ports come from below Linux's ephemeral range
//! (32768-60999) so that the clients' own outgoing connections never take a port a test chose.

use std::collections::HashSet;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, UdpSocket};
use std::sync::{Mutex, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Result, bail};

use crate::rng::Rng;

const FIRST: u16 = 20_000;
const LAST: u16 = 32_767;

/// Ports already handed out by this process, so parallel tests never pick the same one.
fn taken() -> &'static Mutex<HashSet<u16>> {
    static TAKEN: OnceLock<Mutex<HashSet<u16>>> = OnceLock::new();
    TAKEN.get_or_init(|| Mutex::new(HashSet::new()))
}

pub fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, port))
}

/// True when both a TCP listener and a UDP socket can bind 127.0.0.1:port right now.
pub fn is_free(port: u16) -> bool {
    let addr = loopback(port);
    let tcp = TcpListener::bind(addr);
    let udp = UdpSocket::bind(addr);
    tcp.is_ok() && udp.is_ok()
}

/// A port free for TCP and UDP on 127.0.0.1, never returned twice by this process.
pub fn free_port() -> Result<u16> {
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
        ^ u128::from(std::process::id()) << 64;
    let mut rng = Rng::new(seed as u64 ^ (seed >> 64) as u64);
    let span = u64::from(LAST - FIRST) + 1;
    let mut taken = taken()
        .lock()
        .map_err(|_| anyhow::anyhow!("port registry poisoned"))?;
    for _ in 0..500 {
        let offset = u16::try_from(rng.below(span)).unwrap_or(0);
        let port = FIRST + offset;
        if taken.contains(&port) {
            continue;
        }
        if is_free(port) {
            taken.insert(port);
            return Ok(port);
        }
    }
    bail!("no port free for both TCP and UDP in {FIRST}..={LAST} after 500 tries")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_distinct_and_bindable() {
        let ports: Vec<u16> = (0..20).map(|_| free_port().unwrap()).collect();
        let unique: HashSet<u16> = ports.iter().copied().collect();
        assert_eq!(unique.len(), ports.len());
        for port in ports {
            assert!((FIRST..=LAST).contains(&port));
            assert!(is_free(port), "port {port} was handed out but is not free");
        }
    }

    #[test]
    fn a_bound_udp_port_is_not_free() {
        let udp = UdpSocket::bind(loopback(0)).unwrap();
        let port = udp.local_addr().unwrap().port();
        assert!(!is_free(port));
    }
}
