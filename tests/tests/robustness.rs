//! Hostile input (RFC 4120 §7.2.1-2 transports): thousands of truncated, mutated and random
//! messages over UDP and TCP, and broken TCP framing. The KDC must keep running, never panic,
//! answer only with well-formed Kerberos messages within its UDP size limit, and still serve a
//! real client afterwards. Loopback only; counts and waits are bounded.

// Test code: a failed step is a failed test (clippy.toml allows this inside #[test] fns,
// these attributes extend it to the helpers of this test crate).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use kdc_integration::fuzz::{self, Replies};
use kdc_integration::rng::Rng;
use kdc_integration::{Realm, TcpProxy, krb};

const UDP_INPUTS: usize = 1200;
const TCP_INPUTS: usize = 800;
/// dev-realm's `[listen] max_udp_reply_bytes`.
const MAX_UDP_REPLY: usize = 4096;

fn seed() -> u64 {
    std::env::var("KDC_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
        })
}

fn describe(replies: &Replies) -> String {
    format!(
        "{} sent, {} replies, {} malformed, {} connections left open",
        replies.sent,
        replies.replies.len(),
        replies.malformed().len(),
        replies.lingering
    )
}

#[test]
fn survives_malformed_messages_over_udp_and_tcp() {
    let started = Instant::now();
    let mut realm = Realm::started().unwrap();

    // Seeds: this KDC's own exchange with MIT kinit, captured live, plus the real captures.
    let proxy = TcpProxy::start(realm.addr()).unwrap();
    let client = realm.client_via(&proxy.host_port()).unwrap();
    let run = client
        .kinit(&realm.principal("alice"), &realm.alice())
        .unwrap();
    assert!(run.success(), "{}\n{}", run.report(), proxy.summary());
    let mut seeds: Vec<Vec<u8>> = proxy.exchanges().into_iter().map(|e| e.request).collect();
    assert!(seeds.iter().any(|s| krb::is_pkinit_as_req(s)));
    seeds.extend(fuzz::wire_corpus().unwrap());

    let seed = seed();
    eprintln!("fuzz seed {seed} (rerun with KDC_FUZZ_SEED={seed})");
    let mut rng = Rng::new(seed);

    let udp_inputs = fuzz::generate(&mut rng, &seeds, UDP_INPUTS);
    let udp = fuzz::send_udp(realm.addr(), &udp_inputs, Duration::from_secs(1)).unwrap();
    let tcp_inputs: Vec<Vec<u8>> = fuzz::generate(&mut rng, &seeds, TCP_INPUTS)
        .iter()
        .map(|m| fuzz::tcp_bytes(&mut rng, m))
        .collect();
    let tcp = fuzz::send_tcp(realm.addr(), &tcp_inputs, 8, Duration::from_millis(500)).unwrap();
    let context = format!(
        "seed {seed}; UDP: {}; TCP: {}",
        describe(&udp),
        describe(&tcp)
    );

    assert!(realm.is_running().unwrap(), "the KDC died: {context}");
    realm.check_no_panic().unwrap();
    // The inputs reached the KDC's decoder: plenty of them draw a KRB-ERROR.
    assert!(
        !udp.replies.is_empty() && !tcp.replies.is_empty(),
        "{context}"
    );
    assert!(udp.malformed().is_empty(), "{context}");
    assert!(tcp.malformed().is_empty(), "{context}");
    let biggest = udp.replies.iter().map(Vec::len).max().unwrap_or(0);
    assert!(
        biggest <= MAX_UDP_REPLY,
        "a {biggest}-byte UDP reply: {context}"
    );

    // Still serving real clients, on both paths.
    let run = realm
        .client()
        .unwrap()
        .kinit(&realm.principal("alice"), &realm.alice())
        .unwrap();
    assert!(
        run.success(),
        "after the fuzzing: {}\n{context}",
        run.report()
    );
    realm.check_no_panic().unwrap();
    eprintln!("{context}; {:?} in all", started.elapsed());
}

/// RFC 4120 §7.2.2: a length with the high bit set draws KRB_ERR_FIELD_TOOLONG and the
/// connection is closed.
#[test]
fn tcp_length_with_high_bit_is_field_toolong() {
    let realm = Realm::started().unwrap();
    let mut bytes = vec![0x80, 0x00, 0x00, 0x10];
    bytes.extend([0u8; 16]);
    let (received, closed) =
        fuzz::tcp_exchange(realm.addr(), &bytes, Duration::from_secs(5)).unwrap();
    assert_eq!(
        fuzz::error_codes(&received),
        vec![Some(krb::KRB_ERR_FIELD_TOOLONG)],
        "{received:02x?}"
    );
    assert!(closed, "the KDC kept the connection open");
    realm.check_no_panic().unwrap();
}

/// A length prefix over `max_request_bytes` is refused at once (RFC 4120 §7.2.2): the KDC
/// answers KRB_ERR_FIELD_TOOLONG and closes the connection without waiting for (or
/// buffering) the announced bytes.
#[test]
fn tcp_length_over_the_limit_is_refused_at_once() {
    let realm = Realm::started().unwrap();
    let mut stream = TcpStream::connect(realm.addr()).unwrap();
    // 65537 announced, with dev-realm's max_request_bytes = 65536; the write side stays open.
    stream.write_all(&[0x00, 0x01, 0x00, 0x01]).unwrap();
    stream.write_all(&[0x6a; 64]).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(3)))
        .unwrap();
    let asked = Instant::now();
    let mut received = Vec::new();
    let outcome = std::io::Read::read_to_end(&mut stream, &mut received);
    let closed = match outcome {
        Ok(_) => true,
        Err(e) => !matches!(
            e.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ),
    };
    assert!(
        closed,
        "still open after {:?}; got {received:02x?}",
        asked.elapsed()
    );
    assert_eq!(
        fuzz::error_codes(&received),
        vec![Some(krb::KRB_ERR_FIELD_TOOLONG)],
        "{received:02x?}"
    );
    realm.check_no_panic().unwrap();
}
