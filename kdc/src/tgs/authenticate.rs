//! Authenticating a TGS-REQ (RFC 4120 §3.3.2, §3.2.3, §5.5.1): the TGT in PA-TGS-REQ's AP-REQ
//! decrypted with the krbtgt key of its kvno, the authenticator decrypted with its session
//! key, its client matched to the ticket's, its time within the skew, and its checksum over
//! the KDC-REQ-BODY as received, and not seen before (the replay cache). Every failure is its
//! own `KdcError`, which carries its KRB_AP_ERR code.

use std::time::SystemTime;

use rasn_kerberos::{ApReq, Authenticator, EncTicketPart};

use crate::crypto::{Enctype, Key};
use crate::error::KdcError;
use crate::proto::kerberos::{name_to_string, system_time};
use crate::realm::Realm;
use crate::tgs::replay::Fingerprint;
use crate::ticket::check_skew;

/// Key usages (RFC 4120 §7.5.1).
const KEY_USAGE_TICKET: u32 = 2;
const KEY_USAGE_TGS_REQ_AUTH_CKSUM: u32 = 6;
const KEY_USAGE_TGS_REQ_AUTH: u32 = 7;

/// A TGT and authenticator that passed every check.
pub struct Authenticated {
    pub ticket: EncTicketPart,
    /// The krbtgt key the TGT decrypted with, which its PAC's signatures are under.
    pub krbtgt_key: Key,
    pub session_key: Key,
    pub subkey: Option<Key>,
}

/// Checks the AP-REQ of a TGS-REQ. Ticket lifetimes are the caller's: a renewal may present
/// a ticket past its end time.
pub fn authenticate(
    realm: &Realm,
    ap_req: &[u8],
    body_der: &[u8],
    now: SystemTime,
) -> Result<Authenticated, KdcError> {
    let skew = realm.policy().clock_skew;
    let ap_req: ApReq = rasn::der::decode(ap_req).map_err(KdcError::ApReqUndecodable)?;
    let ticket = &ap_req.ticket;
    let ticket_server = name_to_string(&ticket.sname);
    if ticket.realm.as_bytes() != realm.name().as_bytes()
        || ticket_server != realm.krbtgt_principal()
    {
        return Err(KdcError::TicketNotForUs(ticket_server));
    }
    let krbtgt_key = realm
        .keys()
        .get(&ticket_server, ticket.enc_part.kvno, ticket.enc_part.etype)
        .ok_or(KdcError::NoKrbtgtKey {
            kvno: ticket.enc_part.kvno,
            enctype: ticket.enc_part.etype,
        })?;
    let plain = zeroize::Zeroizing::new(
        krbtgt_key
            .decrypt(KEY_USAGE_TICKET, &ticket.enc_part.cipher)
            .map_err(|_| KdcError::BadIntegrity("TGT does not decrypt"))?,
    );
    let enc_ticket: EncTicketPart =
        rasn::der::decode(&plain).map_err(|_| KdcError::BadIntegrity("TGT content malformed"))?;
    let session_key =
        key_of(&enc_ticket.key).ok_or(KdcError::BadIntegrity("TGT session key unusable"))?;

    let plain = zeroize::Zeroizing::new(
        session_key
            .decrypt(KEY_USAGE_TGS_REQ_AUTH, &ap_req.authenticator.cipher)
            .map_err(|_| {
                KdcError::BadIntegrity("authenticator does not decrypt with the TGT session key")
            })?,
    );
    let authenticator: Authenticator =
        rasn::der::decode(&plain).map_err(|_| KdcError::BadIntegrity("authenticator malformed"))?;
    if authenticator.crealm != enc_ticket.crealm
        || authenticator.cname.string != enc_ticket.cname.string
    {
        return Err(KdcError::AuthenticatorClientMismatch);
    }
    let client_time = system_time(&authenticator.ctime);
    check_skew(client_time, now, skew)?;
    let checksum = authenticator
        .cksum
        .as_ref()
        .ok_or(KdcError::NoRequestChecksum)?;
    if checksum.r#type != session_key.enctype().checksum_type() {
        return Err(KdcError::InappropriateChecksum {
            checksum_type: checksum.r#type,
            session_key: session_key.enctype(),
        });
    }
    session_key
        .verify_checksum(KEY_USAGE_TGS_REQ_AUTH_CKSUM, body_der, &checksum.checksum)
        .map_err(|_| KdcError::RequestModified)?;
    let subkey = match &authenticator.subkey {
        Some(key) => Some(key_of(key).ok_or(KdcError::BadIntegrity("subkey unusable"))?),
        None => None,
    };
    let start = enc_ticket
        .start_time
        .as_ref()
        .unwrap_or(&enc_ticket.auth_time);
    if system_time(start) > now + skew {
        return Err(KdcError::TicketNotYetValid);
    }
    // Last: only authenticators that passed every check take a place in the cache.
    let components: Vec<&[u8]> = authenticator
        .cname
        .string
        .iter()
        .map(|c| c.as_bytes())
        .collect();
    let fingerprint = Fingerprint::of(
        authenticator.crealm.as_bytes(),
        &components,
        authenticator.ctime.0.timestamp(),
        i64::try_from(authenticator.cusec.clone()).unwrap_or(-1),
        &checksum.checksum,
    );
    if !realm
        .tgs_replays()
        .first_use(fingerprint, now, client_time + skew)
    {
        return Err(KdcError::Repeat {
            client: name_to_string(&authenticator.cname),
            ctime: authenticator.ctime.0,
        });
    }
    Ok(Authenticated {
        ticket: enc_ticket,
        krbtgt_key: krbtgt_key.clone(),
        session_key,
        subkey,
    })
}

fn key_of(key: &rasn_kerberos::EncryptionKey) -> Option<Key> {
    Key::new(Enctype::from_i32(key.r#type)?, &key.value).ok()
}
