//! Malformed-input generation and delivery for robustness tests: truncated, mutated (byte- and
//! DER-structure-aware, X.690) and random messages, sent to the KDC over UDP and over TCP with
//! RFC 4120 §7.2.2 framing (and broken framing). Loopback only, bounded in count and time.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream, UdpSocket};
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::der::{self, Tlv};
use crate::krb;
use crate::rng::Rng;

/// Every `.der` message in `dir` (testdata/wire holds real MIT and Heimdal captures).
pub fn load_der_dir(dir: &Path) -> Result<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("read {}", dir.display()))?
        .collect::<std::io::Result<_>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "der") {
            out.push(std::fs::read(&path)?);
        }
    }
    Ok(out)
}

/// The repository's testdata/wire captures.
pub fn wire_corpus() -> Result<Vec<Vec<u8>>> {
    load_der_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/wire"))
}

/// Every TLV in `buf`, descending into constructed TLVs and into OCTET STRINGs / implicit
/// primitive tags whose content is itself DER (PA-DATA values, signedAuthPack, eContent).
pub fn walk(buf: &[u8]) -> Vec<Tlv> {
    let mut out = Vec::new();
    let mut pending = match der::parse_sequence(buf, 0, buf.len()) {
        Ok(top) => top,
        Err(_) => return out,
    };
    while let Some(tlv) = pending.pop() {
        out.push(tlv);
        if out.len() > 10_000 {
            break;
        }
        let inner = if tlv.constructed() {
            tlv.children(buf).ok()
        } else if matches!(tlv.tag, 0x04 | 0x80) && tlv.content_len > 1 {
            der::parse_sequence(buf, tlv.content_start(), tlv.end()).ok()
        } else {
            None
        };
        pending.extend(inner.unwrap_or_default());
    }
    out
}

const SPECIAL_BYTES: [u8; 8] = [0x00, 0x01, 0x7f, 0x80, 0x81, 0x84, 0xff, 0x30];

/// One malformed variant of `seed`.
pub fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut msg = seed.to_vec();
    let len = msg.len();
    match rng.below(10) {
        // Truncation anywhere, including to nothing.
        0 | 1 => msg.truncate(rng.index(len + 1)),
        // A few bit flips.
        2 => {
            for _ in 0..=rng.below(8) {
                let i = rng.index(len);
                if let Some(b) = msg.get_mut(i) {
                    *b ^= 1 << rng.below(8);
                }
            }
        }
        // Boundary values where tags and lengths are read.
        3 => {
            for _ in 0..=rng.below(4) {
                let i = rng.index(len);
                let v = SPECIAL_BYTES
                    .get(rng.index(SPECIAL_BYTES.len()))
                    .copied()
                    .unwrap_or(0);
                if let Some(b) = msg.get_mut(i) {
                    *b = v;
                }
            }
        }
        // Insert or delete a run.
        4 => {
            let at = rng.index(len + 1);
            let n = 1 + rng.index(64);
            let extra = rng.bytes(n);
            msg.splice(at..at, extra);
        }
        5 => {
            let at = rng.index(len + 1);
            let end = (at + 1 + rng.index(64)).min(len);
            if at < end {
                msg.drain(at..end);
            }
        }
        // Structure-aware: hit one TLV's length, tag or content.
        _ => {
            let tlvs = walk(seed);
            if let Some(tlv) = tlvs.get(rng.index(tlvs.len())).copied() {
                mutate_tlv(rng, &mut msg, tlv);
            } else {
                let n = rng.index(512);
                msg = rng.bytes(n);
            }
        }
    }
    msg
}

fn mutate_tlv(rng: &mut Rng, msg: &mut Vec<u8>, tlv: Tlv) {
    let len_at = tlv.offset + 1;
    match rng.below(5) {
        // A length octet that lies: too long, too short, indefinite, absurd long form.
        0 => {
            if let Some(b) = msg.get_mut(len_at) {
                *b = match rng.below(4) {
                    0 => b.wrapping_add(1 + rng.byte() % 8),
                    1 => b.wrapping_sub(1 + rng.byte() % 8),
                    2 => 0x80,
                    _ => 0x84,
                };
            }
        }
        // Another tag (universal, context, application; constructed or not).
        1 => {
            if let Some(b) = msg.get_mut(tlv.offset) {
                *b = rng.byte();
            }
        }
        // Same length, random content.
        2 => {
            let noise = rng.bytes(tlv.content_len);
            if let Some(content) = msg.get_mut(tlv.content_start()..tlv.end()) {
                content.copy_from_slice(&noise);
            }
        }
        // Message ends inside this TLV.
        3 => msg.truncate(tlv.content_start() + rng.index(tlv.content_len + 1)),
        // The TLV removed (enclosing lengths now wrong).
        _ => {
            if tlv.end() <= msg.len() {
                msg.drain(tlv.offset..tlv.end());
            }
        }
    }
}

/// Random bytes; sometimes behind a plausible AS-REQ / TGS-REQ tag and length, so they get
/// past a first-byte dispatch.
pub fn random_message(rng: &mut Rng) -> Vec<u8> {
    let len = rng.index(3000);
    let body = rng.bytes(len);
    if rng.below(2) == 0 {
        return body;
    }
    let tag = if rng.below(2) == 0 { 0x6a } else { 0x6c };
    let mut out = vec![tag];
    out.extend(der::encode_len(body.len()));
    out.extend(body);
    out
}

/// `count` inputs: a mix of mutated seeds, pure truncations and random messages.
pub fn generate(rng: &mut Rng, seeds: &[Vec<u8>], count: usize) -> Vec<Vec<u8>> {
    (0..count)
        .map(
            |_| match (rng.below(10), seeds.get(rng.index(seeds.len()))) {
                (0..=6, Some(seed)) => mutate(rng, seed),
                (7, Some(seed)) => seed
                    .get(..rng.index(seed.len() + 1))
                    .unwrap_or(&[])
                    .to_vec(),
                _ => random_message(rng),
            },
        )
        .collect()
}

/// What the KDC sent back to a batch of inputs.
#[derive(Debug, Default)]
pub struct Replies {
    pub sent: usize,
    pub replies: Vec<Vec<u8>>,
    /// TCP connections the KDC left open past the read deadline after the client's EOF.
    pub lingering: usize,
}

impl Replies {
    /// Replies that are not a well-formed KRB-ERROR, AS-REP or TGS-REP.
    pub fn malformed(&self) -> Vec<&Vec<u8>> {
        self.replies
            .iter()
            .filter(|r| match krb::message_kind(r) {
                krb::MessageKind::KrbError => krb::decode_krb_error(r).is_err(),
                krb::MessageKind::AsRep => rasn::der::decode::<rasn_kerberos::AsRep>(r).is_err(),
                krb::MessageKind::Other(0x6d) => {
                    rasn::der::decode::<rasn_kerberos::TgsRep>(r).is_err()
                }
                _ => true,
            })
            .collect()
    }
}

/// Sends each input as one datagram; collects replies until `quiet` passes with none.
pub fn send_udp(kdc: SocketAddr, inputs: &[Vec<u8>], quiet: Duration) -> Result<Replies> {
    let socket = UdpSocket::bind("127.0.0.1:0")?;
    socket.connect(kdc)?;
    socket.set_read_timeout(Some(Duration::from_millis(1)))?;
    let mut out = Replies::default();
    let mut buf = vec![0u8; 65_536];
    let mut drain = |socket: &UdpSocket, out: &mut Replies| {
        while let Ok(n) = socket.recv(&mut buf) {
            out.replies.push(buf.get(..n).unwrap_or(&[]).to_vec());
        }
    };
    for (i, input) in inputs.iter().enumerate() {
        // A send can fail with ECONNREFUSED left over from an earlier ICMP; that alone is no
        // proof of a dead KDC (the test checks liveness separately).
        if socket.send(input).is_ok() {
            out.sent += 1;
        }
        // Pace the burst so the KDC's receive buffer is not the thing under test.
        if i % 25 == 24 {
            drain(&socket, &mut out);
        }
    }
    socket.set_read_timeout(Some(quiet))?;
    drain(&socket, &mut out);
    Ok(out)
}

/// One TCP connection: write `bytes` raw (framing is the caller's), half-close, read until
/// EOF or `deadline`. Returns the bytes read and whether the KDC closed in time.
pub fn tcp_exchange(kdc: SocketAddr, bytes: &[u8], deadline: Duration) -> Result<(Vec<u8>, bool)> {
    let mut stream = TcpStream::connect_timeout(&kdc, Duration::from_secs(5))
        .with_context(|| format!("connect to {kdc}"))?;
    stream.set_write_timeout(Some(Duration::from_secs(5)))?;
    // The KDC may close or reset mid-write after rejecting a length prefix: that is allowed.
    let _ = stream.write_all(bytes);
    let _ = stream.shutdown(Shutdown::Write);
    let started = Instant::now();
    let mut received = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let left = deadline.saturating_sub(started.elapsed());
        if left.is_zero() {
            return Ok((received, false));
        }
        stream.set_read_timeout(Some(left))?;
        match stream.read(&mut chunk) {
            Ok(0) => return Ok((received, true)),
            Ok(n) => received.extend_from_slice(chunk.get(..n).unwrap_or(&[])),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Ok((received, false));
            }
            // A reset is a close.
            Err(_) => return Ok((received, true)),
        }
    }
}

/// Splits a TCP byte stream into length-prefixed messages; a torn tail is dropped.
pub fn split_frames(mut bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    while let Some((prefix, rest)) = bytes.split_first_chunk::<4>() {
        let len = usize::try_from(u32::from_be_bytes(*prefix)).unwrap_or(usize::MAX);
        let Some((msg, tail)) = rest.split_at_checked(len) else {
            break;
        };
        out.push(msg.to_vec());
        bytes = tail;
    }
    out
}

/// The KRB-ERROR code of each whole message in a TCP byte stream (None for a message that is
/// no KRB-ERROR): what a test expects the KDC to have answered on one connection.
pub fn error_codes(stream: &[u8]) -> Vec<Option<i32>> {
    split_frames(stream)
        .iter()
        .map(|message| krb::krb_error_code(message))
        .collect()
}

/// Wraps an input for TCP: mostly a correct length prefix, sometimes a lying one.
pub fn tcp_bytes(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let true_len = u32::try_from(input.len()).unwrap_or(u32::MAX);
    let prefix: u32 = match rng.below(10) {
        0 => true_len.saturating_add(1 + (rng.next_u64() % 100) as u32),
        1 => true_len.saturating_sub(1 + (rng.next_u64() % 100) as u32),
        2 => 0x8000_0000 | true_len,
        3 => 0x7fff_ffff,
        _ => true_len,
    };
    let mut out = prefix.to_be_bytes().to_vec();
    out.extend_from_slice(input);
    out
}

/// Sends every input over its own TCP connection, `parallel` connections at a time.
pub fn send_tcp(
    kdc: SocketAddr,
    inputs: &[Vec<u8>],
    parallel: usize,
    deadline: Duration,
) -> Result<Replies> {
    let chunk = inputs.len().div_ceil(parallel.max(1)).max(1);
    let results: Vec<Result<Replies>> = thread::scope(|scope| {
        let handles: Vec<_> = inputs
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || -> Result<Replies> {
                    let mut out = Replies::default();
                    for bytes in part {
                        let (received, closed) = tcp_exchange(kdc, bytes, deadline)?;
                        out.sent += 1;
                        if !closed {
                            out.lingering += 1;
                        }
                        out.replies.extend(split_frames(&received));
                    }
                    Ok(out)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .map_err(|_| anyhow::anyhow!("a TCP sender thread panicked"))?
            })
            .collect()
    });
    let mut total = Replies::default();
    for part in results {
        let part = part?;
        total.sent += part.sent;
        total.lingering += part.lingering;
        total.replies.extend(part.replies);
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walk_reaches_nested_der() {
        let msg = std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../testdata/wire/mit_as_req_pkinit_dh2048.der"),
        )
        .unwrap();
        let tlvs = walk(&msg);
        // Reaches inside the PA-DATA value, the ContentInfo and the eContent: the RSA
        // signature and the DH prime (inside the AuthPack) are among the TLVs, as is the
        // KDC-REQ-BODY nonce.
        let sig = krb::pkinit_signature_range(&msg).unwrap();
        assert!(tlvs.iter().any(|t| t.content_start() == sig.start));
        let nonce = krb::req_body_nonce_range(&msg).unwrap();
        assert!(tlvs.iter().any(|t| t.content_start() == nonce.start));
        // MODP group 14's p is a 257-byte INTEGER (leading 00).
        assert!(tlvs.iter().any(|t| t.tag == 0x02 && t.content_len == 257));
        // Every TLV lies inside the message.
        assert!(tlvs.iter().all(|t| t.end() <= msg.len()));
    }

    #[test]
    fn mutations_differ_and_are_reproducible() {
        let seeds = wire_corpus().unwrap();
        assert_eq!(seeds.len(), 10);
        let a = generate(&mut Rng::new(7), &seeds, 300);
        let b = generate(&mut Rng::new(7), &seeds, 300);
        assert_eq!(a, b);
        let changed = a.iter().filter(|m| !seeds.contains(m)).count();
        assert!(
            changed > 270,
            "only {changed} of 300 inputs differ from every seed"
        );
        assert!(a.iter().any(Vec::is_empty) || a.iter().any(|m| m.len() < 10));
    }

    #[test]
    fn frames_split_and_torn_tail_dropped() {
        let mut bytes = krb::frame(&[1, 2]);
        bytes.extend(krb::frame(&[3]));
        bytes.extend([0, 0, 0, 9, 1]);
        assert_eq!(split_frames(&bytes), vec![vec![1, 2], vec![3]]);
    }

    #[test]
    fn classifies_replies() {
        let error = std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../testdata/wire/mit_krb_error_preauth_required.der"),
        )
        .unwrap();
        let rep = std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../testdata/wire/mit_as_rep_pkinit_dh2048.der"),
        )
        .unwrap();
        let replies = Replies {
            sent: 3,
            replies: vec![
                error.clone(),
                rep,
                error[..error.len() - 2].to_vec(),
                vec![0x30],
            ],
            lingering: 0,
        };
        assert_eq!(replies.malformed().len(), 2);
    }
}
