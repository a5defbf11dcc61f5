//! A TGS-REQ up to the ticket's decryption (RFC 4120 §5.4.1, §5.5.1, §3.3.2): the request,
//! the AP-REQ in its PA-TGS-REQ, the ticket's header that selects the krbtgt key; and the
//! decoders of what decryption yields, the Authenticator and the EncTicketPart, with the
//! fields the TGS reads from them. The encrypted path past the keys is the handler target's.

use kdc::crypto::{Enctype, Key};
use kdc::proto::codes::padata;
use kdc::proto::kerberos::{KdcRequest, RequestKind, name_to_string, system_time};
use kdc::tgs::replay::Fingerprint;
use rasn_kerberos::{ApReq, Authenticator, EncTicketPart, EncryptionKey, TgsReq};

use crate::check::der_round_trip;
use crate::fixtures::{KRBTGT, KRBTGT_KEYS};

pub fn run(data: &[u8]) {
    if let Ok(request) = KdcRequest::decode(data)
        && request.kind == RequestKind::Tgs
    {
        der_round_trip(&TgsReq(request.req.clone()));
        if let Some(ap_req) = request.padata(padata::TGS_REQ) {
            check_ap_req(ap_req);
        }
    }
    // Decoders of the plaintexts: the fuzzer reaches them directly with seeds that are
    // plaintexts, not by getting past the encryption.
    check_ap_req(data);
    if let Ok(authenticator) = rasn::der::decode::<Authenticator>(data) {
        der_round_trip(&authenticator);
        let components: Vec<&[u8]> = authenticator
            .cname
            .string
            .iter()
            .map(|c| c.as_bytes())
            .collect();
        let checksum = authenticator
            .cksum
            .as_ref()
            .map(|c| c.checksum.as_ref())
            .unwrap_or_default();
        let _ = Fingerprint::of(
            authenticator.crealm.as_bytes(),
            &components,
            authenticator.ctime.0.timestamp(),
            i64::try_from(authenticator.cusec.clone()).unwrap_or(-1),
            checksum,
        );
        let _ = system_time(&authenticator.ctime);
        if let Some(subkey) = &authenticator.subkey {
            check_key(subkey);
        }
    }
    if let Ok(ticket) = rasn::der::decode::<EncTicketPart>(data) {
        der_round_trip(&ticket);
        check_key(&ticket.key);
        let _ = name_to_string(&ticket.cname);
        let _ = system_time(ticket.start_time.as_ref().unwrap_or(&ticket.auth_time));
    }
}

fn check_ap_req(der: &[u8]) {
    let Ok(ap_req) = rasn::der::decode::<ApReq>(der) else {
        return;
    };
    der_round_trip(&ap_req);
    let ticket = &ap_req.ticket;
    let _ = name_to_string(&ticket.sname);
    let key = KRBTGT_KEYS.get(KRBTGT, ticket.enc_part.kvno, ticket.enc_part.etype);
    if let Some(key) = key {
        assert_eq!(key.enctype().as_i32(), ticket.enc_part.etype);
    }
}

/// A session key or subkey as the TGS takes it: a supported enctype and a key of its length.
fn check_key(key: &EncryptionKey) {
    let Some(enctype) = Enctype::from_i32(key.r#type) else {
        return;
    };
    let made = Key::new(enctype, &key.value);
    assert_eq!(made.is_ok(), key.value.len() == enctype.key_len());
}
