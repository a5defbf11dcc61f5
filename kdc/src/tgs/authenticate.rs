//! Authenticating a TGS-REQ (RFC 4120 §3.3.2, §3.2.3, §5.5.1): the TGT in PA-TGS-REQ's AP-REQ
//! decrypted with the krbtgt key of its kvno, the authenticator decrypted with its session
//! key, its client matched to the ticket's, its time within the skew, and its checksum over
//! the KDC-REQ-BODY as received, and not seen before (the replay cache). Every failure carries
//! its KRB_AP_ERR code.

use std::time::{Duration, SystemTime};

use rasn_kerberos::{ApReq, Authenticator, EncTicketPart};

use crate::crypto::{Enctype, Key};
use crate::error::KdcError;
use crate::kdc::Kdc;
use crate::proto::codes::ErrorCode;
use crate::proto::kerberos::{name_to_string, system_time};
use crate::tgs::replay::Fingerprint;

/// Key usages (RFC 4120 §7.5.1).
const KEY_USAGE_TICKET: u32 = 2;
const KEY_USAGE_TGS_REQ_AUTH_CKSUM: u32 = 6;
const KEY_USAGE_TGS_REQ_AUTH: u32 = 7;

/// A TGT and authenticator that passed every check.
pub struct Authenticated {
    pub ticket: EncTicketPart,
    pub session_key: Key,
    pub subkey: Option<Key>,
}

fn failed(code: ErrorCode, reason: impl Into<String>) -> KdcError {
    KdcError::ApFailed {
        code,
        reason: reason.into(),
    }
}

/// Checks the AP-REQ of a TGS-REQ. Ticket lifetimes are the caller's: a renewal may present
/// a ticket past its end time.
pub fn authenticate(
    kdc: &Kdc,
    ap_req: &[u8],
    body_der: &[u8],
    now: SystemTime,
    skew: Duration,
) -> Result<Authenticated, KdcError> {
    let ap_req: ApReq = rasn::der::decode(ap_req).map_err(|e| {
        failed(
            ErrorCode::AP_ERR_BAD_INTEGRITY,
            format!("AP-REQ undecodable: {e}"),
        )
    })?;
    let ticket = &ap_req.ticket;
    let ticket_server = name_to_string(&ticket.sname);
    if ticket.realm.as_bytes() != kdc.realm().as_bytes() || ticket_server != kdc.krbtgt_principal()
    {
        return Err(failed(
            ErrorCode::AP_ERR_NOT_US,
            format!("ticket is for {ticket_server}, not our TGS"),
        ));
    }
    let krbtgt_key = kdc
        .keys()
        .get(&ticket_server, ticket.enc_part.kvno, ticket.enc_part.etype)
        .ok_or_else(|| {
            failed(
                ErrorCode::AP_ERR_BADKEYVER,
                format!(
                    "no krbtgt key kvno {:?} enctype {}",
                    ticket.enc_part.kvno, ticket.enc_part.etype
                ),
            )
        })?;
    let plain = zeroize::Zeroizing::new(
        krbtgt_key
            .decrypt(KEY_USAGE_TICKET, &ticket.enc_part.cipher)
            .map_err(|_| failed(ErrorCode::AP_ERR_BAD_INTEGRITY, "TGT does not decrypt"))?,
    );
    let enc_ticket: EncTicketPart = rasn::der::decode(&plain)
        .map_err(|_| failed(ErrorCode::AP_ERR_BAD_INTEGRITY, "TGT content malformed"))?;
    let session_key = key_of(&enc_ticket.key)
        .ok_or_else(|| failed(ErrorCode::AP_ERR_BAD_INTEGRITY, "TGT session key unusable"))?;

    let plain = zeroize::Zeroizing::new(
        session_key
            .decrypt(KEY_USAGE_TGS_REQ_AUTH, &ap_req.authenticator.cipher)
            .map_err(|_| {
                failed(
                    ErrorCode::AP_ERR_BAD_INTEGRITY,
                    "authenticator does not decrypt with the TGT session key",
                )
            })?,
    );
    let authenticator: Authenticator = rasn::der::decode(&plain)
        .map_err(|_| failed(ErrorCode::AP_ERR_BAD_INTEGRITY, "authenticator malformed"))?;
    if authenticator.crealm != enc_ticket.crealm
        || authenticator.cname.string != enc_ticket.cname.string
    {
        return Err(failed(
            ErrorCode::AP_ERR_BADMATCH,
            "authenticator client differs from the ticket's",
        ));
    }
    let client_time = system_time(&authenticator.ctime);
    let offset = match now.duration_since(client_time) {
        Ok(behind) => behind,
        Err(ahead) => ahead.duration(),
    };
    if offset > skew {
        return Err(KdcError::Skew {
            skew_secs: offset.as_secs(),
            allowed_secs: skew.as_secs(),
        });
    }
    let checksum = authenticator.cksum.as_ref().ok_or_else(|| {
        failed(
            ErrorCode::AP_ERR_INAPP_CKSUM,
            "authenticator has no request checksum",
        )
    })?;
    if checksum.r#type != session_key.enctype().checksum_type() {
        return Err(failed(
            ErrorCode::AP_ERR_INAPP_CKSUM,
            format!(
                "checksum type {} for a {} session key",
                checksum.r#type,
                session_key.enctype()
            ),
        ));
    }
    session_key
        .verify_checksum(KEY_USAGE_TGS_REQ_AUTH_CKSUM, body_der, &checksum.checksum)
        .map_err(|_| {
            failed(
                ErrorCode::AP_ERR_MODIFIED,
                "request body checksum does not match",
            )
        })?;
    let subkey = match &authenticator.subkey {
        Some(key) => Some(
            key_of(key)
                .ok_or_else(|| failed(ErrorCode::AP_ERR_BAD_INTEGRITY, "subkey unusable"))?,
        ),
        None => None,
    };
    let start = enc_ticket
        .start_time
        .as_ref()
        .unwrap_or(&enc_ticket.auth_time);
    if system_time(start) > now + skew {
        return Err(failed(ErrorCode::AP_ERR_TKT_NYV, "TGT not yet valid"));
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
    if !kdc
        .tgs_replays()
        .first_use(fingerprint, now, client_time + skew)
    {
        return Err(failed(
            ErrorCode::AP_ERR_REPEAT,
            format!(
                "authenticator of {} at {} already used",
                name_to_string(&authenticator.cname),
                authenticator.ctime.0
            ),
        ));
    }
    Ok(Authenticated {
        ticket: enc_ticket,
        session_key,
        subkey,
    })
}

fn key_of(key: &rasn_kerberos::EncryptionKey) -> Option<Key> {
    Key::new(Enctype::from_i32(key.r#type)?, &key.value).ok()
}
