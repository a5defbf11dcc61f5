//! Ticket times and flags for an initial ticket (RFC 4120 §3.1.3, §5.4.1 KDCOptions,
//! §5.3 TicketFlags), sealing an EncTicketPart under the service key (key usage 2), and the
//! clock-skew bound on the client's timestamps (§1.6, §3.1.2, §3.3.2).

use std::time::{Duration, SystemTime};

use rasn_kerberos::{
    EncKdcRepPart, EncTicketPart, EncryptedData, EncryptionKey, KdcReqBody, LastReqValue,
    PrincipalName, Ticket, TicketFlags, TransitedEncoding,
};

use crate::crypto::Key;
use crate::error::KdcError;
use crate::pac::authz_data::{placeholder, with_pac};
use crate::pac::checksum::{Signing, add_placeholders, sign};
use crate::pac::in_tickets::{PacKind, TicketPac};
use crate::proto::kerberos::{flag, flags, kerberos_string, kerberos_time, system_time};

/// KDCOptions bits (RFC 4120 §5.4.1).
pub(crate) mod option {
    pub const FORWARDABLE: usize = 1;
    pub const PROXIABLE: usize = 3;
    pub const RENEWABLE: usize = 8;
    pub const FORWARDED: usize = 2;
    /// RFC 6806 §5: answer with the client's canonical name.
    pub const CANONICALIZE: usize = 15;
    pub const RENEWABLE_OK: usize = 27;
    pub const RENEW: usize = 30;
    pub const VALIDATE: usize = 31;
}

/// TicketFlags bits (RFC 4120 §5.3), as masks of the 32-bit field (bit 0 most significant).
pub mod ticket_flag {
    pub const FORWARDABLE: u32 = 0x4000_0000;
    pub const FORWARDED: u32 = 0x2000_0000;
    pub const PROXIABLE: u32 = 0x1000_0000;
    pub const RENEWABLE: u32 = 0x0080_0000;
    pub const INITIAL: u32 = 0x0040_0000;
    pub const PRE_AUTHENT: u32 = 0x0020_0000;
}

/// Key usage of the ticket's enc-part (RFC 4120 §7.5.1).
const KEY_USAGE_TICKET: u32 = 2;

/// A client timestamp (PKAuthenticator ctime, TGS authenticator ctime) must be within the
/// allowed skew of our clock, ahead or behind, else KRB_AP_ERR_SKEW.
pub fn check_skew(
    client_time: SystemTime,
    now: SystemTime,
    allowed: Duration,
) -> Result<(), KdcError> {
    let skew = match now.duration_since(client_time) {
        Ok(behind) => behind,
        Err(ahead) => ahead.duration(),
    };
    if skew > allowed {
        return Err(KdcError::Skew {
            skew_secs: skew.as_secs(),
            allowed_secs: allowed.as_secs(),
        });
    }
    Ok(())
}

/// The realm's limits on ticket lifetimes.
#[derive(Clone, Copy, Debug)]
pub struct LifetimePolicy {
    pub max_life: Duration,
    pub max_renewable_life: Duration,
}

/// The times and flags of one ticket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TicketTimes {
    pub auth_time: SystemTime,
    /// Absent when it equals the authtime (initial tickets).
    pub start_time: Option<SystemTime>,
    pub end_time: SystemTime,
    pub renew_till: Option<SystemTime>,
    pub flags: u32,
}

/// Times and flags for an initial, pre-authenticated ticket as the request asks, within policy.
pub fn initial_ticket_times(
    body: &KdcReqBody,
    now: SystemTime,
    policy: LifetimePolicy,
) -> TicketTimes {
    let options = &body.kdc_options.0;
    let longest = now + policy.max_life;
    let till = requested_time(&body.till, now).unwrap_or(longest);
    let end_time = till.min(longest);
    let mut ticket_flags = ticket_flag::INITIAL | ticket_flag::PRE_AUTHENT;
    if flag(options, option::FORWARDABLE) {
        ticket_flags |= ticket_flag::FORWARDABLE;
    }
    if flag(options, option::PROXIABLE) {
        ticket_flags |= ticket_flag::PROXIABLE;
    }
    let renew_till = requested_renew_till(body, till, end_time, now)
        .map(|wanted| wanted.min(now + policy.max_renewable_life))
        .filter(|&renew| renew > end_time);
    if renew_till.is_some() {
        ticket_flags |= ticket_flag::RENEWABLE;
    }
    TicketTimes {
        auth_time: now,
        start_time: None,
        end_time,
        renew_till,
        flags: ticket_flags,
    }
}

/// The renew-till the request asks for: its rtime with the renewable option, or its till
/// with renewable-ok when the till cannot be granted (RFC 4120 §5.4.1); the caller caps it.
pub(crate) fn requested_renew_till(
    body: &KdcReqBody,
    till: SystemTime,
    end_time: SystemTime,
    now: SystemTime,
) -> Option<SystemTime> {
    let options = &body.kdc_options.0;
    if flag(options, option::RENEWABLE) {
        Some(
            body.rtime
                .as_ref()
                .and_then(|r| requested_time(r, now))
                .unwrap_or(till),
        )
    } else if flag(options, option::RENEWABLE_OK) && till > end_time {
        Some(till)
    } else {
        None
    }
}

/// The encrypted part of an AS-REP or TGS-REP (RFC 4120 §5.4.2) for a ticket just issued.
pub fn reply_part(
    session_key: &Key,
    times: &TicketTimes,
    nonce: u32,
    realm: &str,
    server: &PrincipalName,
    now: SystemTime,
) -> EncKdcRepPart {
    EncKdcRepPart {
        key: EncryptionKey {
            r#type: session_key.enctype().as_i32(),
            value: session_key.as_bytes().to_vec().into(),
        },
        last_req: vec![LastReqValue {
            r#type: 0,
            value: kerberos_time(now),
        }],
        nonce,
        key_expiration: None,
        flags: TicketFlags(flags(times.flags)),
        auth_time: kerberos_time(times.auth_time),
        start_time: times.start_time.map(kerberos_time),
        end_time: kerberos_time(times.end_time),
        renew_till: times.renew_till.map(kerberos_time),
        srealm: kerberos_string(realm),
        sname: server.clone(),
        caddr: None,
        encrypted_pa_data: None,
    }
}

/// A requested time; the epoch (`19700101000000Z`) means "as long as allowed".
pub(crate) fn requested_time(
    time: &rasn_kerberos::KerberosTime,
    now: SystemTime,
) -> Option<SystemTime> {
    let t = system_time(time);
    (t > SystemTime::UNIX_EPOCH).then_some(t.max(now))
}

/// Encrypts a ticket for `server` under `service_key`, with its PAC signed for it.
pub fn seal_ticket(
    realm: &str,
    server: &PrincipalName,
    client: &PrincipalName,
    session_key: &Key,
    times: &TicketTimes,
    service_key: (u32, &Key),
    pac: Option<TicketPac<'_>>,
) -> Result<Ticket, KdcError> {
    let (kvno, key) = service_key;
    let mut part = EncTicketPart {
        flags: TicketFlags(flags(times.flags)),
        key: EncryptionKey {
            r#type: session_key.enctype().as_i32(),
            value: session_key.as_bytes().to_vec().into(),
        },
        crealm: kerberos_string(realm),
        cname: client.clone(),
        transited: TransitedEncoding {
            r#type: 1,
            contents: Vec::new().into(),
        },
        auth_time: kerberos_time(times.auth_time),
        start_time: times.start_time.map(kerberos_time),
        end_time: kerberos_time(times.end_time),
        renew_till: times.renew_till.map(kerberos_time),
        caddr: None,
        authorization_data: None,
    };
    if let Some(pac) = pac {
        part.authorization_data = Some(signed_pac(&mut part, pac, key)?);
    }
    let plain = zeroize::Zeroizing::new(
        rasn::der::encode(&part).map_err(|e| KdcError::Internal(format!("EncTicketPart: {e}")))?,
    );
    let cipher = key
        .encrypt(KEY_USAGE_TICKET, &plain)
        .map_err(|e| KdcError::Internal(format!("ticket encryption: {e}")))?;
    Ok(Ticket {
        tkt_vno: 5.into(),
        realm: kerberos_string(realm),
        sname: server.clone(),
        enc_part: EncryptedData {
            etype: key.enctype().as_i32(),
            kvno: Some(kvno),
            cipher: cipher.into(),
        },
    })
}

/// The ticket's authorization-data with its PAC signed ([MS-PAC] 2.8.1): a service
/// ticket's ticket signature covers the EncTicketPart as it will be, with the PAC replaced
/// by a placeholder; the server signature is under the ticket's own key.
fn signed_pac(
    part: &mut EncTicketPart,
    pac: TicketPac<'_>,
    ticket_key: &Key,
) -> Result<rasn_kerberos::AuthorizationData, KdcError> {
    let TicketPac {
        mut pac,
        kind,
        krbtgt_key,
    } = pac;
    let internal = |e: crate::pac::PacError| KdcError::Internal(format!("PAC: {e}"));
    let signed = match kind {
        PacKind::Tgt => {
            add_placeholders(&mut pac, ticket_key, krbtgt_key, false);
            sign(pac, ticket_key, krbtgt_key, Signing::Tgt)
        }
        PacKind::Service => {
            add_placeholders(&mut pac, ticket_key, krbtgt_key, true);
            part.authorization_data = Some(placeholder().map_err(internal)?);
            let with_placeholder = zeroize::Zeroizing::new(
                rasn::der::encode(&*part)
                    .map_err(|e| KdcError::Internal(format!("EncTicketPart: {e}")))?,
            );
            sign(
                pac,
                ticket_key,
                krbtgt_key,
                Signing::Service {
                    ticket_with_placeholder: &with_placeholder,
                },
            )
        }
    };
    with_pac(&signed).map_err(internal)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::kerberos::KdcRequest;

    const HOUR: Duration = Duration::from_secs(3600);
    const POLICY: LifetimePolicy = LifetimePolicy {
        max_life: Duration::from_secs(10 * 3600),
        max_renewable_life: Duration::from_secs(7 * 24 * 3600),
    };

    fn mit_body() -> (KdcReqBody, SystemTime) {
        let bytes = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../testdata/wire/mit_as_req_nopreauth.der"
        ))
        .unwrap();
        let body = KdcRequest::decode(&bytes).unwrap().req.req_body;
        // Captured at 2026-11-25T20:02:20Z with till 24 h later, forwardable + renewable-ok.
        let now = system_time(&body.till) - 24 * HOUR;
        (body, now)
    }

    #[test]
    fn mit_default_request_gets_capped_life_and_renewable_ok() {
        let (body, now) = mit_body();
        let times = initial_ticket_times(&body, now, POLICY);
        assert_eq!(times.end_time, now + 10 * HOUR);
        assert_eq!(times.renew_till, Some(now + 24 * HOUR));
        assert_eq!(
            times.flags,
            ticket_flag::INITIAL
                | ticket_flag::PRE_AUTHENT
                | ticket_flag::FORWARDABLE
                | ticket_flag::RENEWABLE
        );
    }

    #[test]
    fn short_request_is_not_renewable_and_not_extended() {
        let (mut body, now) = mit_body();
        body.till = kerberos_time(now + HOUR);
        body.kdc_options.0 = flags(0x0000_0010);
        let times = initial_ticket_times(&body, now, POLICY);
        assert_eq!(times.end_time, now + HOUR);
        assert_eq!(times.renew_till, None);
        assert_eq!(times.flags, ticket_flag::INITIAL | ticket_flag::PRE_AUTHENT);
    }

    #[test]
    fn renewable_request_is_capped_by_policy() {
        let (mut body, now) = mit_body();
        body.kdc_options.0 = flags(0x0080_0000);
        body.rtime = Some(kerberos_time(now + 30 * 24 * HOUR));
        let times = initial_ticket_times(&body, now, POLICY);
        assert_eq!(times.renew_till, Some(now + 7 * 24 * HOUR));
        assert!(times.flags & ticket_flag::RENEWABLE != 0);
    }
}
