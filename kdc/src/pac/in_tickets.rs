//! The PAC in this KDC's tickets ([MS-KILE] 3.3.5.3, 3.3.5.7): made for every TGT the AS
//! issues, verified in every TGT the TGS is shown (both signatures under the krbtgt key, the
//! client it names), and carried into service tickets with new signatures. A TGT without a
//! PAC is accepted only while `[pac] accept_tgt_without_pac` allows it.

use kdc_config::PacSettings;
use kdc_directory::sid::Sid;
use kdc_directory::{DirectoryError, User};
use rasn_kerberos::{EncTicketPart, PrincipalName};

use super::authz_data::find_pac;
use super::build::{
    Authentication, Logon, PacIdentity, PacRequest, renewed_tgt_pac, service_pac, tgt_pac,
    whole_seconds_filetime,
};
use super::checksum::verify;
use super::small_buffers::ClientInfo;
use super::{Pac, buffer_type};
use crate::account::{client_account, directory_name};
use crate::crypto::Key;
use crate::error::KdcError;
use crate::proto::der::{Tlv, tag};
use crate::proto::kerberos::{name_to_string, system_time};
use crate::realm::Realm;

/// DER BOOLEAN.
const BOOLEAN: u8 = 0x01;

/// A PAC on its way into a ticket: signed by `seal_ticket` for the ticket it goes into.
pub struct TicketPac<'a> {
    pub pac: Pac,
    pub kind: PacKind,
    /// The KDC (and full and ticket) signatures' key: the current krbtgt key.
    pub krbtgt_key: &'a Key,
}

/// A TGT's PAC has server and KDC signatures under the krbtgt key; a service ticket's all
/// four ([MS-PAC] 2.8).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PacKind {
    Tgt,
    Service,
}

/// What the AS-REQ's PA-PAC-REQUEST says; absent or undecodable is "not asked", as MIT's
/// and Heimdal's KDCs read it.
pub fn pac_request(value: Option<&[u8]>) -> PacRequest {
    let include = value
        .and_then(|v| Tlv::read_only(v, tag::SEQUENCE).ok())
        .and_then(|seq| seq.children().next_if(tag::context(0)).ok().flatten())
        .and_then(|field| Tlv::read_only(field.value, BOOLEAN).ok())
        .and_then(|boolean| match boolean.value {
            [0x00] => Some(false),
            [_] => Some(true),
            _ => None,
        });
    match include {
        None => PacRequest::Implicit,
        Some(true) => PacRequest::Include,
        Some(false) => PacRequest::Decline,
    }
}

/// The unsigned PAC for a TGT the AS issues to `user`; None when the realm issues no PACs.
/// Reads the user's groups: call it only once the client is authenticated.
pub async fn for_new_tgt(
    realm: &Realm,
    user: &User,
    logon: &Logon<'_>,
) -> Result<Option<Pac>, KdcError> {
    let Some(settings) = realm.pac() else {
        return Ok(None);
    };
    let identity = identity(realm, user, settings).await?;
    Ok(Some(tgt_pac(&identity, logon, settings)))
}

async fn identity(
    realm: &Realm,
    user: &User,
    settings: &PacSettings,
) -> Result<PacIdentity, KdcError> {
    let groups = realm
        .directory()
        .groups_of(user)
        .await
        .map_err(|e| match e {
            DirectoryError::Membership { .. } => KdcError::NoPacIdentity(e.to_string()),
            other => KdcError::from_lookup(other),
        })?;
    PacIdentity::from_directory(user, &groups, settings)
        .map_err(|e| KdcError::NoPacIdentity(e.to_string()))
}

/// What the TGS learned of a TGT's PAC.
#[derive(Debug)]
pub enum TgtPac {
    /// The realm issues no PACs; any PAC in the TGT is ignored.
    Off,
    /// A TGT from before PACs were turned on, accepted for the transition.
    Absent,
    /// Signed by this realm's krbtgt key and naming the ticket's client.
    Verified { pac: Pac, requestor: Sid },
}

impl TgtPac {
    /// For the metrics: what the TGT had, when the realm issues PACs.
    pub fn seen(&self) -> Option<TgtPacSeen> {
        match self {
            TgtPac::Off => None,
            TgtPac::Absent => Some(TgtPacSeen::Absent),
            TgtPac::Verified { .. } => Some(TgtPacSeen::Verified),
        }
    }
}

/// The label of `kdc_tgs_tgt_pacs_total`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TgtPacSeen {
    Verified,
    Absent,
}

impl TgtPacSeen {
    pub fn label(self) -> &'static str {
        match self {
            TgtPacSeen::Verified => "verified",
            TgtPacSeen::Absent => "absent",
        }
    }
}

/// Verifies the PAC of a TGT decrypted with `krbtgt_key` ([MS-KILE] 3.3.5.7.1): signatures
/// (KRB_AP_ERR_MODIFIED), CLIENT_INFO against the ticket's client and authtime, and the
/// REQUESTOR SID against LOGON_INFO's user (KDC_ERR_TGT_REVOKED).
pub fn verify_tgt_pac(
    realm: &Realm,
    ticket: &EncTicketPart,
    krbtgt_key: &Key,
) -> Result<TgtPac, KdcError> {
    let Some(settings) = realm.pac() else {
        return Ok(TgtPac::Off);
    };
    let raw = find_pac(ticket.authorization_data.as_ref()).map_err(KdcError::PacModified)?;
    let Some(raw) = raw else {
        let client = name_to_string(&ticket.cname);
        if settings.accept_tgt_without_pac {
            tracing::warn!(
                client,
                "TGT without a PAC accepted ([pac] accept_tgt_without_pac); the service ticket \
                 gets a PAC from the directory"
            );
            return Ok(TgtPac::Absent);
        }
        return Err(KdcError::TgtRevoked(format!(
            "the TGT of {client} has no PAC and [pac] accept_tgt_without_pac is false"
        )));
    };
    let pac = verify(&raw, krbtgt_key, krbtgt_key, None).map_err(KdcError::PacModified)?;
    let client = ClientInfo::decode(
        pac.get(buffer_type::CLIENT_INFO)
            .ok_or_else(|| revoked("has no CLIENT_INFO"))?,
    )
    .map_err(KdcError::PacModified)?;
    if client.name.to_string() != name_to_string(&ticket.cname)
        || client.client_id != whole_seconds_filetime(system_time(&ticket.auth_time))
    {
        return Err(revoked("names another client or logon than the ticket"));
    }
    let requestor = Sid::from_binary(
        pac.get(buffer_type::REQUESTOR)
            .ok_or_else(|| revoked("has no REQUESTOR"))?,
    )
    .map_err(|_| revoked("has a REQUESTOR that is no SID"))?;
    let logon = super::logon_info::ValidationInfo::decode(
        pac.get(buffer_type::LOGON_INFO)
            .ok_or_else(|| revoked("has no LOGON_INFO"))?,
    )
    .map_err(KdcError::PacModified)?;
    if logon.user_sid().as_ref() != Some(&requestor) {
        return Err(revoked("has a REQUESTOR that is not its user"));
    }
    Ok(TgtPac::Verified { pac, requestor })
}

fn revoked(what: &str) -> KdcError {
    KdcError::TgtRevoked(format!("the TGT's PAC {what}"))
}

/// The TGT's PAC must name the directory entry its client name finds now: an account
/// deleted and re-created under the same name, or renamed to another's old name, is not
/// the one the TGT was issued to (CVE-2021-42287).
pub fn check_requestor(tgt_pac: &TgtPac, user: &User) -> Result<(), KdcError> {
    match tgt_pac {
        TgtPac::Verified { requestor, .. } if user.object_sid.as_ref() != Some(requestor) => {
            Err(KdcError::TgtRevoked(format!(
                "the TGT's PAC names {requestor}, but {} is now {}",
                user.user_principal_name,
                user.object_sid
                    .as_ref()
                    .map_or("without an objectSid".to_owned(), Sid::to_string)
            )))
        }
        _ => Ok(()),
    }
}

/// The unsigned PAC of a ticket the TGS issues: a TGT's own PAC again for a ticket to
/// krbtgt (renewal), the service form otherwise, none when the client declined one. A TGT
/// without a PAC (transition) gets one made from the directory now, with only the
/// authority-asserted SID, since how that user logged on is not known.
pub async fn for_tgs_ticket(
    realm: &Realm,
    from_tgt: TgtPac,
    client: &PrincipalName,
    auth_time: &rasn_kerberos::KerberosTime,
    to_krbtgt: bool,
    now: std::time::SystemTime,
) -> Result<Option<(Pac, PacKind)>, KdcError> {
    let pac = match from_tgt {
        TgtPac::Off => return Ok(None),
        TgtPac::Verified { pac, .. } => pac,
        TgtPac::Absent => {
            let Some(settings) = realm.pac() else {
                return Ok(None);
            };
            let user = client_account(realm, &directory_name(client)?, now).await?;
            let client_name = name_to_string(client);
            let logon = Logon {
                auth_time: system_time(auth_time),
                client_name: &client_name,
                realm: realm.name(),
                authentication: Authentication {
                    key_trust: false,
                    fresh: false,
                },
                request: PacRequest::Implicit,
            };
            tgt_pac(&identity(realm, &user, settings).await?, &logon, settings)
        }
    };
    if to_krbtgt {
        return Ok(Some((renewed_tgt_pac(&pac), PacKind::Tgt)));
    }
    Ok(service_pac(&pac)
        .map_err(KdcError::PacModified)?
        .map(|pac| (pac, PacKind::Service)))
}
