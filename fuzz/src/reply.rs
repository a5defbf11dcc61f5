//! What every answer of the KDC must be, whatever a request held (RFC 4120 §5.4.2, §5.9.1):
//! a KDC-REP of the request's kind or a KRB-ERROR, whose code is one of those RFC 4120,
//! RFC 4556 and RFC 6113 define (the table in `proto::codes`), for this realm, and never
//! KRB_ERR_GENERIC: that is the KDC's own failure, which peer bytes must not cause.

use kdc::crypto::{Enctype, Key};
use kdc::proto::codes::ErrorCode;
use kdc::proto::kerberos::name_to_string;
use rasn_kerberos::{AsRep, EncTicketPart, KrbError, TgsRep, Ticket};

use crate::live_kdc::{FIXTURE, REALM};

/// DER identifiers of the three answers: [APPLICATION 11], [APPLICATION 13], [APPLICATION 30].
const AS_REP: u8 = 0x6b;
const TGS_REP: u8 = 0x6d;
const KRB_ERROR: u8 = 0x7e;

/// Key usage of a ticket's enc-part (RFC 4120 §7.5.1).
const KEY_USAGE_TICKET: u32 = 2;

/// The answer to an AS-REQ: an AS-REP, or None for a well-formed KRB-ERROR.
pub fn as_answer(reply: &[u8]) -> Option<AsRep> {
    answer(reply, AS_REP)
}

/// The answer to a TGS-REQ: a TGS-REP, or None for a well-formed KRB-ERROR.
pub fn tgs_answer(reply: &[u8]) -> Option<TgsRep> {
    answer(reply, TGS_REP)
}

fn answer<Rep: rasn::Decode>(reply: &[u8], rep_tag: u8) -> Option<Rep> {
    match reply.first() {
        Some(&KRB_ERROR) => {
            let error = rasn::der::decode::<KrbError>(reply)
                .unwrap_or_else(|e| panic!("undecodable KRB-ERROR: {e}"));
            check_error(&error);
            None
        }
        Some(&tag) if tag == rep_tag => {
            Some(rasn::der::decode(reply).unwrap_or_else(|e| panic!("undecodable KDC-REP: {e}")))
        }
        other => {
            panic!("an answer that is neither the KDC-REP asked for nor a KRB-ERROR: {other:02x?}")
        }
    }
}

fn check_error(error: &KrbError) {
    let code = ErrorCode(error.error_code);
    assert!(
        code.rfc_name().is_some(),
        "KRB-ERROR code {} is not in the table",
        code.0
    );
    assert_ne!(
        code,
        ErrorCode::GENERIC,
        "KRB_ERR_GENERIC: a request made the KDC fail ({:?})",
        error.e_text
    );
    assert_eq!(error.realm.as_bytes(), REALM.as_bytes());
}

/// The content of a ticket the KDC issued, decrypted with the key of the service it names.
pub fn open_ticket(ticket: &Ticket) -> EncTicketPart {
    let realm = FIXTURE.kdc().kdc.realm();
    let service = name_to_string(&ticket.sname);
    let key = realm
        .keys()
        .get(&service, ticket.enc_part.kvno, ticket.enc_part.etype)
        .unwrap_or_else(|| panic!("a ticket for {service}, which has no such key"));
    let plain = key
        .decrypt(KEY_USAGE_TICKET, &ticket.enc_part.cipher)
        .unwrap_or_else(|e| panic!("a ticket that does not decrypt with {service}'s key: {e}"));
    rasn::der::decode(&plain).unwrap_or_else(|e| panic!("an undecodable EncTicketPart: {e}"))
}

/// The session key an EncTicketPart or EncKDCRepPart carries.
pub fn session_key(key: &rasn_kerberos::EncryptionKey) -> Key {
    Enctype::from_i32(key.r#type)
        .and_then(|enctype| Key::new(enctype, &key.value).ok())
        .unwrap_or_else(|| panic!("an unusable session key of enctype {}", key.r#type))
}
