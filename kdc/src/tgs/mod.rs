//! The TGS exchange (RFC 4120 §3.3, §5.4.2): service tickets from a TGT, renewal of renewable
//! tickets before they expire (KDC option renew, §2.3), the client's account re-checked on
//! renewal and for older TGTs, flags and lifetimes bounded by the TGT and the realm, the
//! session-key enctype negotiated from the client's list and the service's keys, and the
//! TGS-REP sealed under the authenticator subkey (usage 9) or the TGT session key (usage 8).

mod authenticate;
pub mod replay;

use std::time::{Duration, SystemTime};

use rasn_kerberos::{EncTgsRepPart, EncryptedData, KdcRep, PrincipalName, TgsRep};

use self::authenticate::{Authenticated, authenticate};
use crate::account::{client_account, directory_name};
use crate::crypto::{Enctype, Key};
use crate::error::KdcError;
use crate::pac::in_tickets::{self, TgtPacSeen, TicketPac};
use crate::proto::codes::padata;
use crate::proto::kerberos::{KdcRequest, flag, name_to_string, system_time};
use crate::proto::nonce;
use crate::realm::Realm;
use crate::ticket::{
    TicketTimes, option, reply_part, requested_renew_till, requested_time, seal_ticket, ticket_flag,
};

/// How old a TGT (from its authtime) may be before the TGS looks at the account again, as a
/// Windows DC does: a disabled, expired, locked-out or deleted account stops getting service
/// tickets within this time instead of at the TGT's renew-till (up to 7 days).
pub const ACCOUNT_RECHECK_AFTER: Duration = Duration::from_secs(20 * 60);

const KEY_USAGE_TGS_REP_SESSION_KEY: u32 = 8;
const KEY_USAGE_TGS_REP_SUBKEY: u32 = 9;

/// What the log says about a ticket issued by the TGS.
#[derive(Debug)]
pub struct TgsOutcome {
    pub reply: Vec<u8>,
    pub client: String,
    pub service: String,
    pub renewed: bool,
    pub tgt_pac: Option<TgtPacSeen>,
}

pub async fn handle(
    realm: &Realm,
    request: &KdcRequest<'_>,
    now: SystemTime,
) -> Result<TgsOutcome, KdcError> {
    let body = &request.req.req_body;
    let ap_req = request.padata(padata::TGS_REQ).ok_or(KdcError::NoTgsReq)?;
    let auth = authenticate(realm, ap_req, request.body_der, now)?;
    let tgt_pac = in_tickets::verify_tgt_pac(realm, &auth.ticket, &auth.krbtgt_key)?;
    let options = &body.kdc_options.0;
    if flag(options, option::VALIDATE) {
        return Err(KdcError::BadOption(
            "validate: this KDC issues no postdated tickets".into(),
        ));
    }
    let sname = body
        .sname
        .clone()
        .ok_or_else(|| KdcError::UnknownServer("(no sname)".into()))?;
    let service = name_to_string(&sname);
    if body.realm.as_bytes() != realm.name().as_bytes() || !realm.keys().contains(&service) {
        return Err(KdcError::UnknownServer(format!(
            "{service}@{}",
            String::from_utf8_lossy(body.realm.as_bytes())
        )));
    }
    // RFC 4120 §2.3: a ticket is renewed before it expires, not after.
    check_not_expired(&auth, now)?;
    let renewing = flag(options, option::RENEW);
    if renewing || needs_account_check(&auth, now) {
        let name = directory_name(&auth.ticket.cname)?;
        let user = client_account(realm, &name, now).await?;
        in_tickets::check_requestor(&tgt_pac, &user)?;
    }
    let times = if renewing {
        renewal_times(&auth, &service, realm, now)?
    } else {
        service_ticket_times(body, &auth, realm, now)
    };

    let service_enctypes = realm.keys().enctypes(&service);
    let session_enctype = body
        .etype
        .iter()
        .filter_map(|&e| Enctype::from_i32(e))
        .find(|e| service_enctypes.contains(e) && realm.policy().allows(*e))
        .ok_or_else(|| KdcError::NoCommonEnctype(body.etype.clone()))?;
    let session_key = Key::random(session_enctype)
        .map_err(|e| KdcError::Internal(format!("session key: {e}")))?;
    let service_key = realm
        .keys()
        .current(&service)
        .ok_or_else(|| KdcError::Internal(format!("{service} has no key")))?;
    let client = &auth.ticket.cname;
    let seen = tgt_pac.seen();
    let pac = in_tickets::for_tgs_ticket(
        realm,
        tgt_pac,
        client,
        &auth.ticket.auth_time,
        service == realm.krbtgt_principal(),
        now,
    )
    .await?;
    let (_, krbtgt_key) = realm.current_krbtgt_key()?;
    let pac = pac.map(|(pac, kind)| TicketPac {
        pac,
        kind,
        krbtgt_key,
    });
    let crealm = String::from_utf8_lossy(auth.ticket.crealm.as_bytes()).into_owned();
    let ticket = seal_ticket(
        &crealm,
        &sname,
        client,
        &session_key,
        &times,
        service_key,
        pac,
    )?;

    let reply_part = EncTgsRepPart(reply_part(
        &session_key,
        &times,
        body.nonce,
        realm.name(),
        &sname,
        now,
    ));
    let plain = nonce::encode_rep_part(&reply_part, request.nonce_form)
        .map_err(|e| KdcError::Internal(format!("EncTGSRepPart: {e}")))?;
    let (reply_key, usage) = match &auth.subkey {
        Some(subkey) => (subkey, KEY_USAGE_TGS_REP_SUBKEY),
        None => (&auth.session_key, KEY_USAGE_TGS_REP_SESSION_KEY),
    };
    let cipher = reply_key
        .encrypt(usage, &plain)
        .map_err(|e| KdcError::Internal(format!("TGS-REP encryption: {e}")))?;
    let reply = TgsRep(KdcRep {
        pvno: 5.into(),
        msg_type: 13.into(),
        padata: None,
        crealm: auth.ticket.crealm.clone(),
        cname: client.clone(),
        ticket,
        enc_part: EncryptedData {
            etype: reply_key.enctype().as_i32(),
            kvno: None,
            cipher: cipher.into(),
        },
    });
    Ok(TgsOutcome {
        reply: rasn::der::encode(&reply)
            .map_err(|e| KdcError::Internal(format!("TGS-REP: {e}")))?,
        client: format!("{}@{crealm}", name_to_string(client)),
        service,
        renewed: renewing,
        tgt_pac: seen,
    })
}

fn ticket_flags(auth: &Authenticated) -> u32 {
    let raw = auth.ticket.flags.0.as_raw_slice();
    raw.get(..4)
        .and_then(|b| b.try_into().ok())
        .map(u32::from_be_bytes)
        .unwrap_or(0)
}

/// Renewals always re-check the account; other requests once the TGT is older than
/// [`ACCOUNT_RECHECK_AFTER`], so fresh TGTs cost no directory lookup.
fn needs_account_check(auth: &Authenticated, now: SystemTime) -> bool {
    now.duration_since(system_time(&auth.ticket.auth_time))
        .is_ok_and(|age| age > ACCOUNT_RECHECK_AFTER)
}

fn check_not_expired(auth: &Authenticated, now: SystemTime) -> Result<(), KdcError> {
    if system_time(&auth.ticket.end_time) <= now {
        return Err(KdcError::TicketExpired);
    }
    Ok(())
}

/// Renewal (RFC 4120 §3.3.3.1): the same ticket again with its original life from now, never
/// past its renew-till, for a ticket that is renewable, not yet expired (checked by the
/// caller) and still within renew-till.
fn renewal_times(
    auth: &Authenticated,
    service: &str,
    realm: &Realm,
    now: SystemTime,
) -> Result<TicketTimes, KdcError> {
    let tgt_flags = ticket_flags(auth);
    if tgt_flags & ticket_flag::RENEWABLE == 0 {
        return Err(KdcError::BadOption(
            "renew: the ticket is not renewable".into(),
        ));
    }
    if service != realm.krbtgt_principal() {
        return Err(KdcError::BadOption(
            "renew: only the presented ticket's own service can be renewed".into(),
        ));
    }
    let renew_till = auth
        .ticket
        .renew_till
        .as_ref()
        .map(system_time)
        .unwrap_or(SystemTime::UNIX_EPOCH);
    if renew_till <= now {
        return Err(KdcError::RenewTillPassed);
    }
    let start = system_time(
        auth.ticket
            .start_time
            .as_ref()
            .unwrap_or(&auth.ticket.auth_time),
    );
    let life = system_time(&auth.ticket.end_time)
        .duration_since(start)
        .unwrap_or(Duration::ZERO);
    Ok(TicketTimes {
        auth_time: system_time(&auth.ticket.auth_time),
        start_time: Some(now),
        end_time: (now + life).min(renew_till),
        renew_till: Some(renew_till),
        flags: tgt_flags & !ticket_flag::INITIAL,
    })
}

/// A new ticket within the TGT's bounds: flags only as the TGT allows them.
fn service_ticket_times(
    body: &rasn_kerberos::KdcReqBody,
    auth: &Authenticated,
    realm: &Realm,
    now: SystemTime,
) -> TicketTimes {
    let options = &body.kdc_options.0;
    let tgt_flags = ticket_flags(auth);
    let tgt_end = system_time(&auth.ticket.end_time);
    let till = requested_time(&body.till, now).unwrap_or(tgt_end);
    let end_time = till
        .min(tgt_end)
        .min(now + realm.policy().lifetime.max_life);
    let mut ticket_flags = tgt_flags & ticket_flag::PRE_AUTHENT;
    if tgt_flags & ticket_flag::FORWARDABLE != 0 {
        if flag(options, option::FORWARDABLE) {
            ticket_flags |= ticket_flag::FORWARDABLE;
        }
        if flag(options, option::FORWARDED) || tgt_flags & ticket_flag::FORWARDED != 0 {
            ticket_flags |= ticket_flag::FORWARDED;
        }
    }
    let tgt_renew_till = auth.ticket.renew_till.as_ref().map(system_time);
    let wanted = requested_renew_till(body, till, end_time, now);
    let renew_till = match (
        tgt_flags & ticket_flag::RENEWABLE != 0,
        wanted,
        tgt_renew_till,
    ) {
        (true, Some(wanted), Some(limit)) => Some(wanted.min(limit)).filter(|&r| r > end_time),
        _ => None,
    };
    if renew_till.is_some() {
        ticket_flags |= ticket_flag::RENEWABLE;
    }
    TicketTimes {
        auth_time: system_time(&auth.ticket.auth_time),
        start_time: Some(now),
        end_time,
        renew_till,
        flags: ticket_flags,
    }
}

/// Service names compared as Kerberos does: component strings, whatever the name-type.
pub fn service_name(name: &PrincipalName) -> String {
    name_to_string(name)
}
