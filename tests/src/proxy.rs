//! A man in the middle for Kerberos over TCP (RFC 4120 §7.2.2 framing): it records every
//! request and reply, and may rewrite a client's request before the KDC sees it. Tests read
//! the KDC's KRB-ERROR codes from the recorded replies instead of parsing client messages.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use anyhow::{Context, Result};

use crate::krb;
use crate::ports;

/// Rewrites one client request; None passes it on unchanged.
pub type Mutator = dyn Fn(&[u8]) -> Option<Vec<u8>> + Send + Sync;

/// Longest message either side may send through the proxy; a longer length prefix ends the
/// connection (the proxy is a test tool, not a robustness target).
const MAX_MESSAGE: usize = 1 << 20;
const IO_TIMEOUT: Duration = Duration::from_secs(30);

/// One request the client sent and what came back.
#[derive(Clone, Debug)]
pub struct Exchange {
    /// The KDC the proxy forwarded it to.
    pub upstream: SocketAddr,
    /// The request as the client sent it.
    pub request: Vec<u8>,
    /// The request as the KDC got it (differs when the mutator changed it).
    pub forwarded: Vec<u8>,
    /// The KDC's reply; None when the KDC closed the connection without one.
    pub reply: Option<Vec<u8>>,
}

impl Exchange {
    pub fn mutated(&self) -> bool {
        self.request != self.forwarded
    }

    pub fn error_code(&self) -> Option<i32> {
        self.reply.as_deref().and_then(krb::krb_error_code)
    }
}

pub struct TcpProxy {
    addr: SocketAddr,
    exchanges: Arc<Mutex<Vec<Exchange>>>,
    stop: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
}

impl TcpProxy {
    /// A recording proxy in front of `upstream`.
    pub fn start(upstream: SocketAddr) -> Result<TcpProxy> {
        TcpProxy::start_with(upstream, |_: &[u8]| None)
    }

    /// A proxy that passes every client request through `mutator` first.
    pub fn start_with<F>(upstream: SocketAddr, mutator: F) -> Result<TcpProxy>
    where
        F: Fn(&[u8]) -> Option<Vec<u8>> + Send + Sync + 'static,
    {
        TcpProxy::spawn(vec![upstream], Arc::new(mutator))
    }

    /// A recording proxy in front of several KDCs, as a TCP load balancer: each connection
    /// goes to the next upstream in turn. MIT opens a connection per request, so the two
    /// requests of one kinit land on different KDCs.
    pub fn round_robin(upstreams: Vec<SocketAddr>) -> Result<TcpProxy> {
        TcpProxy::spawn(upstreams, Arc::new(|_: &[u8]| None))
    }

    fn spawn(upstreams: Vec<SocketAddr>, mutator: Arc<Mutator>) -> Result<TcpProxy> {
        // The kernel picks the port; host_port() reports it.
        let listener = TcpListener::bind(ports::loopback(0)).context("bind the proxy")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let exchanges = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let acceptor = {
            let exchanges = Arc::clone(&exchanges);
            let stop = Arc::clone(&stop);
            thread::Builder::new()
                .name("kdc-proxy-accept".into())
                .spawn(move || accept_loop(&listener, &upstreams, &exchanges, &mutator, &stop))?
        };
        Ok(TcpProxy {
            addr,
            exchanges,
            stop,
            acceptor: Some(acceptor),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `127.0.0.1:PORT`, for a krb5.conf `kdc =` line.
    pub fn host_port(&self) -> String {
        self.addr.to_string()
    }

    pub fn exchanges(&self) -> Vec<Exchange> {
        self.exchanges.lock().map(|e| e.clone()).unwrap_or_default()
    }

    /// The KRB-ERROR codes the KDC answered, in order (other replies are skipped).
    pub fn error_codes(&self) -> Vec<i32> {
        self.exchanges()
            .iter()
            .filter_map(Exchange::error_code)
            .collect()
    }

    /// A one-line-per-exchange summary for assertion messages.
    pub fn summary(&self) -> String {
        self.exchanges()
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let reply = match e.reply.as_deref() {
                    None => "no reply".to_owned(),
                    Some(r) => match krb::krb_error_code(r) {
                        Some(code) => format!("KRB-ERROR {code} ({} bytes)", r.len()),
                        None => format!("{:?} ({} bytes)", krb::message_kind(r), r.len()),
                    },
                };
                format!(
                    "#{i}: {:?} {} bytes{} -> {reply}\n",
                    krb::message_kind(&e.request),
                    e.request.len(),
                    if e.mutated() { " (mutated)" } else { "" },
                )
            })
            .collect()
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

fn accept_loop(
    listener: &TcpListener,
    upstreams: &[SocketAddr],
    exchanges: &Arc<Mutex<Vec<Exchange>>>,
    mutator: &Arc<Mutator>,
    stop: &AtomicBool,
) {
    let mut next = upstreams.iter().copied().cycle();
    while !stop.load(Ordering::Relaxed) {
        match listener.accept() {
            Ok((client, _)) => {
                let Some(upstream) = next.next() else {
                    return;
                };
                let exchanges = Arc::clone(exchanges);
                let mutator = Arc::clone(mutator);
                // A connection thread ends on its own (EOF or IO_TIMEOUT); nobody joins it.
                let _ = thread::Builder::new()
                    .name("kdc-proxy-conn".into())
                    .spawn(move || {
                        let _ = relay(client, upstream, &exchanges, &*mutator);
                    });
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                thread::sleep(Duration::from_millis(5));
            }
            Err(_) => thread::sleep(Duration::from_millis(5)),
        }
    }
}

/// Reads one length-prefixed message; Ok(None) on a clean EOF before the prefix.
pub fn read_frame(stream: &mut impl Read) -> io::Result<Option<Vec<u8>>> {
    let mut prefix = [0u8; 4];
    match stream.read_exact(&mut prefix) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let len = usize::try_from(u32::from_be_bytes(prefix)).unwrap_or(usize::MAX);
    if len > MAX_MESSAGE {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("frame of {len} bytes"),
        ));
    }
    let mut msg = vec![0u8; len];
    stream.read_exact(&mut msg)?;
    Ok(Some(msg))
}

fn record(exchanges: &Mutex<Vec<Exchange>>, exchange: Exchange) -> Option<usize> {
    let mut all = exchanges.lock().ok()?;
    all.push(exchange);
    Some(all.len() - 1)
}

fn set_reply(exchanges: &Mutex<Vec<Exchange>>, index: Option<usize>, reply: Vec<u8>) {
    if let (Ok(mut all), Some(i)) = (exchanges.lock(), index)
        && let Some(e) = all.get_mut(i)
    {
        e.reply = Some(reply);
    }
}

fn relay(
    mut client: TcpStream,
    upstream: SocketAddr,
    exchanges: &Mutex<Vec<Exchange>>,
    mutator: &Mutator,
) -> io::Result<()> {
    client.set_nonblocking(false)?;
    client.set_read_timeout(Some(IO_TIMEOUT))?;
    let mut server: Option<TcpStream> = None;
    while let Some(request) = read_frame(&mut client)? {
        let forwarded = mutator(&request).unwrap_or_else(|| request.clone());
        let index = record(
            exchanges,
            Exchange {
                upstream,
                request,
                forwarded: forwarded.clone(),
                reply: None,
            },
        );
        let kdc = match server.as_mut() {
            Some(s) => s,
            None => {
                let s = TcpStream::connect_timeout(&upstream, IO_TIMEOUT)?;
                s.set_read_timeout(Some(IO_TIMEOUT))?;
                server.insert(s)
            }
        };
        kdc.write_all(&krb::frame(&forwarded))?;
        let Some(reply) = read_frame(kdc)? else {
            // The KDC hung up without answering: so does the proxy.
            let _ = client.shutdown(Shutdown::Both);
            return Ok(());
        };
        set_reply(exchanges, index, reply.clone());
        client.write_all(&krb::frame(&reply))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stand-in KDC: answers each frame with the frame reversed.
    fn echo_reversed_server() -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        thread::spawn(move || {
            for conn in listener.incoming().take(4) {
                let mut conn = conn.unwrap();
                while let Ok(Some(mut msg)) = read_frame(&mut conn) {
                    msg.reverse();
                    if conn.write_all(&krb::frame(&msg)).is_err() {
                        break;
                    }
                }
            }
        });
        addr
    }

    #[test]
    fn records_and_mutates_requests() {
        let upstream = echo_reversed_server();
        let proxy = TcpProxy::start_with(upstream, |req: &[u8]| {
            (req.first() == Some(&0xff)).then(|| vec![0x01, 0x02])
        })
        .unwrap();
        let mut conn = TcpStream::connect(proxy.addr()).unwrap();
        conn.write_all(&krb::frame(&[1, 2, 3])).unwrap();
        assert_eq!(read_frame(&mut conn).unwrap(), Some(vec![3, 2, 1]));
        conn.write_all(&krb::frame(&[0xff, 0xee])).unwrap();
        assert_eq!(read_frame(&mut conn).unwrap(), Some(vec![2, 1]));
        drop(conn);
        let ex = proxy.exchanges();
        assert_eq!(ex.len(), 2);
        assert!(!ex[0].mutated());
        assert_eq!(ex[1].request, vec![0xff, 0xee]);
        assert_eq!(ex[1].forwarded, vec![0x01, 0x02]);
        assert_eq!(ex[1].reply, Some(vec![2, 1]));
        assert!(proxy.error_codes().is_empty());
        assert!(proxy.summary().contains("(mutated)"));
    }

    #[test]
    fn decodes_a_krb_error_reply() {
        let error = std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../testdata/wire/mit_krb_error_preauth_required.der"),
        )
        .unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let upstream = listener.local_addr().unwrap();
        let reply = error.clone();
        thread::spawn(move || {
            let (mut conn, _) = listener.accept().unwrap();
            let _ = read_frame(&mut conn).unwrap();
            conn.write_all(&krb::frame(&reply)).unwrap();
        });
        let proxy = TcpProxy::start(upstream).unwrap();
        let mut conn = TcpStream::connect(proxy.addr()).unwrap();
        conn.write_all(&krb::frame(b"\x6a\x00")).unwrap();
        assert_eq!(read_frame(&mut conn).unwrap(), Some(error));
        assert_eq!(proxy.error_codes(), vec![krb::KDC_ERR_PREAUTH_REQUIRED]);
    }

    #[test]
    fn read_frame_handles_eof_and_oversize() {
        let mut empty: &[u8] = &[];
        assert_eq!(read_frame(&mut empty).unwrap(), None);
        let mut huge: &[u8] = &[0x7f, 0xff, 0xff, 0xff];
        assert!(read_frame(&mut huge).is_err());
        let mut short: &[u8] = &[0, 0, 0, 5, 1, 2];
        assert!(read_frame(&mut short).is_err());
    }
}
