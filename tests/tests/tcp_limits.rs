//! TCP connection limits of `kdc serve` against hostile clients (issue: one client can hold
//! every TCP slot): one address holds at most `listen.max_tcp_connections_per_ip`, a further
//! connection from it is closed at once, and a client on another address still gets its TGT;
//! when the table is full, the connection idle longest makes room.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::Read;
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use kdc_integration::scrape;
use kdc_integration::{Realm, conf};
use socket2::{Domain, Socket, Type};

/// A TCP connection to the KDC from 127.0.0.`last`.
fn connect_from(last: u8, kdc: SocketAddr) -> TcpStream {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    socket
        .bind(&SocketAddr::from(([127, 0, 0, last], 0)).into())
        .unwrap();
    socket.connect(&kdc.into()).unwrap();
    let stream: TcpStream = socket.into();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
}

/// Whether the server closed the connection without sending anything.
fn closed_by_kdc(stream: &mut TcpStream) -> bool {
    let mut byte = [0u8; 1];
    match stream.read(&mut byte) {
        Ok(0) => true,
        Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
        Ok(_) => false,
    }
}

fn counter(realm: &Realm, name: &str) -> f64 {
    scrape::sum(&realm.metrics().unwrap(), name, &[]).unwrap()
}

fn kinit_over_tcp(realm: &Realm) {
    let client = realm.client().unwrap();
    client
        .edit_krb5_conf(|t| conf::set_libdefault(t, "udp_preference_limit", "1"))
        .unwrap();
    let run = client
        .kinit(&realm.principal("alice"), &realm.alice())
        .unwrap();
    assert!(run.success(), "{}\n{}", run.report(), realm.log());
}

#[test]
fn one_address_at_its_maximum_leaves_the_kdc_to_others() {
    let mut realm = Realm::create().unwrap();
    realm
        .set_kdc_option("listen", "max_tcp_connections_per_ip", "2")
        .unwrap();
    realm.start().unwrap();
    // 127.0.0.2 takes its two slots and sits on them.
    let held: Vec<TcpStream> = (0..2).map(|_| connect_from(2, realm.addr())).collect();
    let mut third = connect_from(2, realm.addr());
    assert!(closed_by_kdc(&mut third), "{}", realm.log());
    assert_eq!(
        counter(&realm, "kdc_tcp_connections_refused_per_ip_total"),
        1.0
    );
    // MIT kinit from 127.0.0.1 is served over TCP meanwhile.
    kinit_over_tcp(&realm);
    drop(held);
    realm.check_no_panic().unwrap();
}

#[test]
fn a_full_table_closes_the_idle_connection_so_a_client_gets_in() {
    let mut realm = Realm::create().unwrap();
    realm
        .set_kdc_option("listen", "max_tcp_connections", "2")
        .unwrap();
    realm.start().unwrap();
    // Two idle connections from two addresses fill the table; kinit still gets in (its
    // TCP connection closes one of them) and the eviction is counted.
    let mut held: Vec<TcpStream> = [2, 3].map(|last| connect_from(last, realm.addr())).into();
    kinit_over_tcp(&realm);
    assert!(counter(&realm, "kdc_tcp_connections_evicted_total") >= 1.0);
    // Whichever was closed was closed before kinit got its answer: a short wait suffices.
    for stream in &held {
        stream
            .set_read_timeout(Some(Duration::from_secs(1)))
            .unwrap();
    }
    let closed = held.iter_mut().map(closed_by_kdc).filter(|c| *c).count();
    assert!(
        closed >= 1,
        "an idle connection was closed\n{}",
        realm.log()
    );
    realm.check_no_panic().unwrap();
}
