//! What this KDC puts in a PAC: KERB_VALIDATION_INFO filled as Active Directory fills it
//! ([MS-KILE] 3.3.5.6.4.1, [MS-PAC] 2.5), the asserted-identity SIDs a DC adds ([MS-DTYP]
//! 2.4.2.4, [MS-SFU] 3.2.5.1.2, [MS-PKCA] 3.1.5.2.1.4), CLIENT_INFO, UPN_DNS_INFO, and
//! ATTRIBUTES_INFO and REQUESTOR in TGTs only ([MS-KILE] 3.3.5.6.4.7, 3.3.5.6.4.8), in the
//! buffer order MIT and Heimdal verify.

use std::time::{Duration, SystemTime};

use kdc_config::PacSettings;
use kdc_directory::sid::Sid;
use kdc_directory::{ACCOUNT_NEVER_EXPIRES, Group, User, filetime};

use super::account_flags::sam_account_flags;
use super::container::Pac;
use super::logon_info::{
    GroupMembership, LOGON_EXTRA_SIDS, NdrString, SE_GROUP_DEFAULT, SidAndAttributes,
    ValidationInfo,
};
use super::ndr::Utf16;
use super::small_buffers::{
    Attributes, ClientInfo, PAC_WAS_GIVEN_IMPLICITLY, PAC_WAS_REQUESTED, UPN_EXTENDED, UpnDnsInfo,
};
use super::{PacError, buffer_type};

/// The SID authority of the asserted-identity SIDs, `S-1-18` ([MS-DTYP] 2.4.2.4).
const AUTHENTICATION_AUTHORITY: u64 = 0x12;
/// S-1-18-1, AUTHENTICATION_AUTHORITY_ASSERTED_IDENTITY: the KDC itself authenticated the
/// user (every AS exchange here; S4U2Self would add S-1-18-2 instead, [MS-SFU] 3.2.5.1.2).
const AUTHORITY_ASSERTED: u32 = 0x01;
/// S-1-18-3, FRESH_PUBLIC_KEY_IDENTITY: the signed AuthPack carried a valid RFC 8070
/// freshness token ("clients successfully authenticating with the PKInit Freshness
/// Extension receive the fresh public key identity SID": Microsoft, "What's New in Kerberos
/// Authentication", learn.microsoft.com/windows-server/security/kerberos/).
const FRESH_PUBLIC_KEY: u32 = 0x03;
/// S-1-18-4, KEY_TRUST_IDENTITY: the user was found by the public key registered for the
/// account (msDS-KeyCredentialLink, [MS-PKCA] 3.1.5.2.1.4; named in [MS-DTYP] 2.4.2.4, and
/// added for "Public Key Trust-based client authentication" per the same page).
const KEY_TRUST: u32 = 0x04;

/// What an asserted-identity SID says, for `kdc user show`; None for any other SID.
pub fn asserted_sid_meaning(sid: &Sid) -> Option<&'static str> {
    match (sid.authority(), sid.sub_authorities()) {
        (AUTHENTICATION_AUTHORITY, [AUTHORITY_ASSERTED]) => {
            Some("authentication authority asserted identity: every logon")
        }
        (AUTHENTICATION_AUTHORITY, [KEY_TRUST]) => Some("key trust identity: key trust logons"),
        (AUTHENTICATION_AUTHORITY, [FRESH_PUBLIC_KEY]) => {
            Some("fresh public key identity: logons with a freshness token")
        }
        _ => None,
    }
}

/// How the user proved who they are, as the PAC's asserted-identity SIDs record it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Authentication {
    pub key_trust: bool,
    pub fresh: bool,
}

impl Authentication {
    /// The SIDs a Windows DC adds to ExtraSids for such a logon, in the order it adds them.
    pub fn asserted_sids(self) -> Vec<Sid> {
        let mut rids = vec![AUTHORITY_ASSERTED];
        if self.key_trust {
            rids.push(KEY_TRUST);
        }
        if self.fresh {
            rids.push(FRESH_PUBLIC_KEY);
        }
        rids.into_iter()
            .filter_map(|rid| Sid::new(AUTHENTICATION_AUTHORITY, &[rid]).ok())
            .collect()
    }
}

/// What the client's AS-REQ said about a PAC (PA-PAC-REQUEST, [MS-KILE] 2.2.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PacRequest {
    /// No PA-PAC-REQUEST (MIT kinit sends none): a PAC, as if asked.
    Implicit,
    Include,
    /// include-pac FALSE: the TGT still carries the PAC (as a patched DC does, so that its
    /// REQUESTOR protects the TGT) but service tickets from it get none.
    Decline,
}

impl PacRequest {
    fn attributes(self) -> Attributes {
        Attributes(match self {
            PacRequest::Implicit => PAC_WAS_GIVEN_IMPLICITLY,
            PacRequest::Include => PAC_WAS_REQUESTED,
            PacRequest::Decline => 0,
        })
    }
}

/// A user as the PAC names them: the directory entry checked against the realm's domain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PacIdentity {
    pub user_sid: Sid,
    pub user_rid: u32,
    /// sAMAccountName, else the UPN's local part: EffectiveName and UPN_DNS_INFO SamName.
    pub account_name: String,
    pub full_name: String,
    pub upn: String,
    pub primary_group_rid: u32,
    /// The groups of the user's domain, by RID, primary group first.
    pub domain_groups: Vec<u32>,
    /// Groups of other domains, by SID.
    pub other_groups: Vec<Sid>,
    pub sam_account_flags: u32,
    /// accountExpires as a FILETIME; [`ACCOUNT_NEVER_EXPIRES`] when it never does.
    pub account_expires: u64,
    /// pwdLastSet as a FILETIME; 0 when never set.
    pub password_last_set: u64,
}

/// Why a user cannot have a PAC: an operator has to fix the entry.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    #[error("{upn} has no objectSid; a PAC names the user by SID")]
    NoSid { upn: String },
    #[error("{upn}'s objectSid {sid} is not in the realm's domain {domain}")]
    OutsideDomain {
        upn: String,
        sid: Sid,
        domain: String,
    },
}

impl PacIdentity {
    pub fn from_directory(
        user: &User,
        groups: &[Group],
        settings: &PacSettings,
    ) -> Result<PacIdentity, IdentityError> {
        let upn = user.user_principal_name.clone();
        let sid = user
            .object_sid
            .clone()
            .ok_or_else(|| IdentityError::NoSid { upn: upn.clone() })?;
        let domain = &settings.domain_sid;
        let user_rid = domain
            .rid_of(&sid)
            .ok_or_else(|| IdentityError::OutsideDomain {
                upn: upn.clone(),
                sid: sid.clone(),
                domain: domain.to_string(),
            })?;
        let mut domain_groups = vec![user.primary_group_id];
        let mut other_groups = Vec::new();
        for group in groups {
            match domain.rid_of(&group.sid) {
                Some(rid) if !domain_groups.contains(&rid) => domain_groups.push(rid),
                Some(_) => {}
                None if !other_groups.contains(&group.sid) => other_groups.push(group.sid.clone()),
                None => {}
            }
        }
        let account_name = user.sam_account_name.clone().unwrap_or_else(|| {
            upn.split_once('@')
                .map_or(upn.as_str(), |(local, _)| local)
                .to_owned()
        });
        Ok(PacIdentity {
            user_sid: sid,
            user_rid,
            account_name,
            full_name: String::new(),
            upn,
            primary_group_rid: user.primary_group_id,
            domain_groups,
            other_groups,
            sam_account_flags: sam_account_flags(user.user_account_control),
            account_expires: match user.account_expires {
                0 => ACCOUNT_NEVER_EXPIRES,
                expires => expires.min(ACCOUNT_NEVER_EXPIRES),
            },
            password_last_set: user.pwd_last_set,
        })
    }
}

/// One logon: when, under which ticket name, how, and whether the client asked for a PAC.
#[derive(Clone, Debug)]
pub struct Logon<'a> {
    pub auth_time: SystemTime,
    /// The ticket's cname without the realm, as MIT's CLIENT_INFO check unparses it.
    pub client_name: &'a str,
    /// The realm, upper-case: UPN_DNS_INFO's DnsDomainName.
    pub realm: &'a str,
    pub authentication: Authentication,
    pub request: PacRequest,
}

/// The unsigned PAC of a TGT: LOGON_INFO, CLIENT_INFO, UPN_DNS_INFO, ATTRIBUTES_INFO,
/// REQUESTOR; the signatures are added by [`super::checksum`].
pub fn tgt_pac(identity: &PacIdentity, logon: &Logon<'_>, settings: &PacSettings) -> Pac {
    let mut pac = Pac::default();
    pac.set(
        buffer_type::LOGON_INFO,
        validation_info(identity, logon, settings).encode(),
    );
    pac.set(buffer_type::CLIENT_INFO, client_info(logon).encode());
    pac.set(
        buffer_type::UPN_DNS_INFO,
        UpnDnsInfo {
            upn: Utf16::from(identity.upn.as_str()),
            dns_domain: Utf16::from(logon.realm),
            flags: UPN_EXTENDED,
            sam_and_sid: Some((
                Utf16::from(identity.account_name.as_str()),
                identity.user_sid.clone(),
            )),
        }
        .encode(),
    );
    pac.set(
        buffer_type::ATTRIBUTES_INFO,
        logon.request.attributes().encode(),
    );
    pac.set(buffer_type::REQUESTOR, identity.user_sid.to_binary());
    pac
}

/// The unsigned PAC of a service ticket from a TGT's verified PAC: the data buffers copied
/// unchanged (they record the logon), without the TGT-only ones and the old signatures.
/// None when the client declined a PAC ([MS-KILE] 3.3.5.3).
pub fn service_pac(tgt_pac: &Pac) -> Result<Option<Pac>, PacError> {
    if let Some(attributes) = tgt_pac.get(buffer_type::ATTRIBUTES_INFO)
        && !Attributes::decode(attributes)?.pac_requested()
    {
        return Ok(None);
    }
    let mut pac = Pac::default();
    for buffer in &tgt_pac.buffers {
        if !TGT_ONLY_AND_SIGNATURES.contains(&buffer.kind) {
            pac.buffers.push(buffer.clone());
        }
    }
    Ok(Some(pac))
}

/// The TGT's PAC for a TGT issued by the TGS (renewal): as it was, unsigned again.
pub fn renewed_tgt_pac(tgt_pac: &Pac) -> Pac {
    Pac {
        buffers: tgt_pac
            .buffers
            .iter()
            .filter(|b| !SIGNATURES.contains(&b.kind))
            .cloned()
            .collect(),
    }
}

const SIGNATURES: [u32; 4] = [
    buffer_type::SERVER_CHECKSUM,
    buffer_type::KDC_CHECKSUM,
    buffer_type::TICKET_CHECKSUM,
    buffer_type::FULL_CHECKSUM,
];

const TGT_ONLY_AND_SIGNATURES: [u32; 6] = [
    buffer_type::ATTRIBUTES_INFO,
    buffer_type::REQUESTOR,
    buffer_type::SERVER_CHECKSUM,
    buffer_type::KDC_CHECKSUM,
    buffer_type::TICKET_CHECKSUM,
    buffer_type::FULL_CHECKSUM,
];

fn client_info(logon: &Logon<'_>) -> ClientInfo {
    ClientInfo {
        client_id: whole_seconds_filetime(logon.auth_time),
        name: Utf16::from(logon.client_name),
    }
}

/// The authtime as the ticket carries it (KerberosTime has whole seconds), as a FILETIME:
/// MIT compares CLIENT_INFO's time with the ticket's to the second, and so does the TGS.
pub fn whole_seconds_filetime(time: SystemTime) -> u64 {
    let secs = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    filetime(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
}

fn validation_info(
    identity: &PacIdentity,
    logon: &Logon<'_>,
    settings: &PacSettings,
) -> ValidationInfo {
    let extra_sids: Vec<SidAndAttributes> = identity
        .other_groups
        .iter()
        .cloned()
        .chain(logon.authentication.asserted_sids())
        .map(|sid| SidAndAttributes {
            sid,
            attributes: SE_GROUP_DEFAULT,
        })
        .collect();
    ValidationInfo {
        logon_time: whole_seconds_filetime(logon.auth_time),
        logoff_time: identity.account_expires,
        kick_off_time: identity.account_expires,
        // AD adds the domain's minPwdAge and maxPwdAge, which this KDC does not read: the
        // password may change at once and (for passwordless logons) never must.
        password_last_set: identity.password_last_set,
        password_can_change: identity.password_last_set,
        password_must_change: ACCOUNT_NEVER_EXPIRES,
        effective_name: NdrString::new(&identity.account_name),
        full_name: NdrString::new(&identity.full_name),
        user_id: identity.user_rid,
        primary_group_id: identity.primary_group_rid,
        group_ids: identity
            .domain_groups
            .iter()
            .map(|&rid| GroupMembership {
                rid,
                attributes: SE_GROUP_DEFAULT,
            })
            .collect(),
        user_flags: if extra_sids.is_empty() {
            0
        } else {
            LOGON_EXTRA_SIDS
        },
        logon_server: NdrString::with_nul_room(settings.logon_server.as_str()),
        logon_domain_name: NdrString::with_nul_room(settings.netbios_name.as_str()),
        logon_domain_id: Some(settings.domain_sid.sid().clone()),
        user_account_control: identity.sam_account_flags,
        extra_sids,
        ..ValidationInfo::default()
    }
}
