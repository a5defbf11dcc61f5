//! Replays against `kdc serve` (issue 13): a replayed PKINIT AS-REQ gets the reply the client
//! got, from the lookaside cache, with no second exchange (the audit log says
//! "retransmission", not a second "issued TGT"); a TGS-REQ resent byte for byte likewise; a
//! new TGS-REQ around an authenticator already used gets KRB_AP_ERR_REPEAT (RFC 4120 §3.3.2).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::Duration;

use kdc_integration::{Realm, TcpProxy, fuzz, krb};

const WEB: &str = "host/web.example";
/// KRB_AP_ERR_REPEAT (RFC 4120 §7.5.9).
const KRB_AP_ERR_REPEAT: i32 = 0x22;
/// APPLICATION 12: a TGS-REQ (RFC 4120 §5.4.1).
const TAG_TGS_REQ: u8 = 0x6c;

/// The KDC's reply to `message` sent alone on a new TCP connection.
fn resend(realm: &Realm, message: &[u8]) -> Vec<u8> {
    let (bytes, closed) =
        fuzz::tcp_exchange(realm.addr(), &krb::frame(message), Duration::from_secs(20)).unwrap();
    assert!(closed, "the KDC answers and the connection ends");
    fuzz::split_frames(&bytes).pop().expect("a reply")
}

fn occurrences(log: &str, what: &str) -> usize {
    log.matches(what).count()
}

#[test]
fn replays_get_the_first_reply_or_krb_ap_err_repeat() {
    let mut realm = Realm::create().unwrap();
    let web = realm.add_service(WEB).unwrap();
    realm.start().unwrap();
    let proxy = TcpProxy::start(realm.addr()).unwrap();
    let client = realm.client_via(&proxy.host_port()).unwrap();
    let run = client
        .kinit(&realm.principal("alice"), &realm.alice())
        .unwrap();
    assert!(run.success(), "{}", run.report());
    let run = client.kvno(&[&web]).unwrap();
    assert!(run.success(), "{}\n{}", run.report(), realm.log());
    let exchanges = proxy.exchanges();

    // The PKINIT AS-REQ, replayed: the same AS-REP, and no second TGT in the audit log.
    let pkinit = exchanges
        .iter()
        .find(|e| krb::is_pkinit_as_req(&e.request))
        .expect("kinit sent a PKINIT AS-REQ");
    assert_eq!(
        occurrences(&realm.log(), "issued TGT"),
        1,
        "{}",
        realm.log()
    );
    for _ in 0..3 {
        assert_eq!(Some(resend(&realm, &pkinit.request)), pkinit.reply);
    }
    let log = realm.log();
    assert_eq!(occurrences(&log, "issued TGT"), 1, "{log}");
    assert_eq!(occurrences(&log, "retransmission"), 3, "{log}");

    // The TGS-REQ byte for byte: the same reply again.
    let tgs = exchanges
        .iter()
        .find(|e| e.request.first() == Some(&TAG_TGS_REQ))
        .expect("kvno sent a TGS-REQ");
    assert_eq!(Some(resend(&realm, &tgs.request)), tgs.reply);
    // The same authenticator in a new request (an extra PA-DATA the checksum does not cover).
    let mut rewrapped: rasn_kerberos::TgsReq = rasn::der::decode(&tgs.request).unwrap();
    rewrapped
        .0
        .padata
        .get_or_insert_with(Vec::new)
        .push(rasn_kerberos::PaData {
            r#type: 0x7fff,
            value: Vec::new().into(),
        });
    let rewrapped = rasn::der::encode(&rewrapped).unwrap();
    assert_eq!(
        krb::krb_error_code(&resend(&realm, &rewrapped)),
        Some(KRB_AP_ERR_REPEAT),
        "{}",
        realm.log()
    );
    assert_eq!(occurrences(&realm.log(), "issued service ticket"), 1);
    realm.check_no_panic().unwrap();
}
