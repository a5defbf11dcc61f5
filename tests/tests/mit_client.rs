//! What MIT kinit (Debian 12, krb5 1.20) puts on the wire, checked against a canned KDC that
//! answers every request with the captured PREAUTH_REQUIRED of testdata/wire: these tests need
//! no kdc binary, and pin down the client behaviour the KDC tests rely on (which DH group is
//! offered for which `pkinit_dh_min_bits`, and that the harness finds the signature and the
//! body nonce in a live request).

// Test code: a failed step is a failed test (clippy.toml allows this inside #[test] fns,
// these attributes extend it to the helpers of this test crate).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::thread;

use kdc_integration::proxy::read_frame;
use kdc_integration::{Identity, MitClient, TcpProxy, krb};

/// Answers every framed request with `reply`, for as long as the test runs.
fn canned_kdc(reply: Vec<u8>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { return };
            while let Ok(Some(_)) = read_frame(&mut conn) {
                if conn.write_all(&krb::frame(&reply)).is_err() {
                    break;
                }
            }
        }
    });
    addr
}

fn preauth_required() -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../testdata/wire/mit_krb_error_preauth_required.der"),
    )
    .unwrap()
}

/// A client of TEST.REALM (the captured error's realm) that talks TCP to `proxy`.
fn client(dir: &Path, proxy: &TcpProxy, dh_min_bits: Option<u32>) -> (MitClient, Identity) {
    let id = Identity::self_signed(dir, "alice").unwrap();
    let dh = dh_min_bits.map_or(String::new(), |b| format!("    pkinit_dh_min_bits = {b}\n"));
    let conf = format!(
        "[libdefaults]\n    default_realm = TEST.REALM\n    dns_lookup_kdc = false\n\
         \x20   dns_lookup_realm = false\n    udp_preference_limit = 1\n{dh}\
         [realms]\n    TEST.REALM = {{\n        kdc = {}\n        pkinit_anchors = FILE:{}\n    }}\n",
        proxy.host_port(),
        id.cert.display()
    );
    (MitClient::new(&dir.join("client"), &conf).unwrap(), id)
}

/// The PKINIT AS-REQs the proxy saw.
fn pkinit_requests(proxy: &TcpProxy) -> Vec<Vec<u8>> {
    proxy
        .exchanges()
        .into_iter()
        .map(|e| e.request)
        .filter(|r| krb::is_pkinit_as_req(r))
        .collect()
}

#[test]
fn kinit_answers_preauth_required_with_a_modp14_pkinit_request() {
    let dir = tempfile::tempdir().unwrap();
    let proxy = TcpProxy::start(canned_kdc(preauth_required())).unwrap();
    let (client, id) = client(dir.path(), &proxy, None);
    let run = client.kinit("alice@TEST.REALM", &id).unwrap();
    // The canned KDC never issues a ticket.
    assert!(!run.success(), "{}", run.report());
    let requests = pkinit_requests(&proxy);
    assert!(
        !requests.is_empty(),
        "{}\n{}",
        proxy.summary(),
        run.report()
    );
    let req = &requests[0];
    assert_eq!(krb::pkinit_dh_modulus_bits(req).unwrap(), 2048);
    assert_eq!(krb::pkinit_signature_range(req).unwrap().len(), 256);
    assert!(!krb::req_body_nonce_range(req).unwrap().is_empty());
    // The client echoes the cookie of the error it answers, after PA-PK-AS-REQ is offered.
    let types = krb::as_req_padata_types(req).unwrap();
    assert!(
        types.contains(&krb::PA_PK_AS_REQ) && types.contains(&133),
        "{types:?}"
    );
    assert_eq!(proxy.error_codes()[0], krb::KDC_ERR_PREAUTH_REQUIRED);
    assert!(
        run.trace.contains("PKINIT client making DH request"),
        "{}",
        run.report()
    );
}

#[test]
fn pkinit_dh_min_bits_4096_offers_modp16() {
    let dir = tempfile::tempdir().unwrap();
    let proxy = TcpProxy::start(canned_kdc(preauth_required())).unwrap();
    let (client, id) = client(dir.path(), &proxy, Some(4096));
    let run = client.kinit("alice@TEST.REALM", &id).unwrap();
    let requests = pkinit_requests(&proxy);
    assert!(
        !requests.is_empty(),
        "{}\n{}",
        proxy.summary(),
        run.report()
    );
    assert_eq!(krb::pkinit_dh_modulus_bits(&requests[0]).unwrap(), 4096);
}

/// MIT kinit 1.20 on OpenSSL 3 cannot make a MODP group 2 (1024-bit) request at all: with
/// `pkinit_dh_min_bits = 1024` its PKINIT module fails locally and nothing is sent. So the
/// KDC's group 2 refusal cannot be driven with MIT's client (see dh_groups.rs).
#[test]
fn pkinit_dh_min_bits_1024_sends_no_pkinit_request() {
    let dir = tempfile::tempdir().unwrap();
    let proxy = TcpProxy::start(canned_kdc(preauth_required())).unwrap();
    let (client, id) = client(dir.path(), &proxy, Some(1024));
    let run = client.kinit("alice@TEST.REALM", &id).unwrap();
    assert!(!run.success());
    assert!(pkinit_requests(&proxy).is_empty(), "{}", proxy.summary());
    assert!(
        run.trace.contains("PKINIT client making DH request"),
        "{}",
        run.report()
    );
    assert!(!proxy.exchanges().is_empty(), "kinit sent nothing at all");
}
