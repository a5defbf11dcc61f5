//! The AS exchange (RFC 4120 §3.1.2-§3.1.3, §5.4.2) with PKINIT as its only pre-authentication
//! (RFC 4556 §3.2): client lookup and account state (`account`), enctype choice,
//! PREAUTH_REQUIRED, the TGT under the requested or canonical name (RFC 6806 §5), and the
//! AS-REP whose enc-part is sealed under the PKINIT reply key (key usage 3).

use std::time::SystemTime;

use rasn_kerberos::{AsRep, EncAsRepPart, EncryptedData, KdcRep, PaData, PrincipalName};

use crate::account::{canonical_name, client_account, directory_name};
use crate::crypto::{Enctype, Key};
use crate::error::KdcError;
use crate::pac::build::{Authentication, Logon};
use crate::pac::in_tickets::{self, PacKind, TicketPac, pac_request};
use crate::preauth::pkinit::{ExchangeDetails, PkinitRequest, Trust};
use crate::proto::codes::padata;
use crate::proto::kerberos::{KdcRequest, flag, kerberos_string, krbtgt_name, name_to_string};
use crate::proto::nonce;
use crate::realm::Realm;
use crate::ticket::{initial_ticket_times, option, reply_part, seal_ticket};

/// Key usage of the AS-REP enc-part (RFC 4120 §7.5.1).
const KEY_USAGE_AS_REP_ENC_PART: u32 = 3;

/// What the log says about a successful AS exchange.
#[derive(Debug)]
pub struct AsOutcome {
    pub reply: Vec<u8>,
    pub client: String,
    pub trust: Trust,
    /// The request carried a valid freshness token (RFC 8070).
    pub fresh: bool,
    pub exchange: ExchangeDetails,
}

pub async fn handle(
    realm: &Realm,
    request: &KdcRequest<'_>,
    message: &[u8],
    now: SystemTime,
) -> Result<AsOutcome, KdcError> {
    let body = &request.req.req_body;
    let realm_name = realm.name();
    let requested_realm = String::from_utf8_lossy(body.realm.as_bytes());
    if requested_realm != realm_name {
        return Err(KdcError::WrongRealm(requested_realm.into_owned()));
    }
    let client_name = body.cname.as_ref().ok_or(KdcError::NoClientName)?;
    let server_name = body
        .sname
        .clone()
        .unwrap_or_else(|| krbtgt_name(realm_name));
    if !is_krbtgt(&server_name, realm_name) {
        return Err(KdcError::UnknownServer(name_to_string(&server_name)));
    }
    let client = directory_name(client_name)?;
    let user = client_account(realm, &client, now).await?;
    // RFC 6806 §5: with canonicalize the reply and the ticket name the entry as the
    // directory does; without it they keep the requested name, which MIT's client insists on.
    let ticket_client = if flag(&body.kdc_options.0, option::CANONICALIZE) {
        canonical_name(&user, realm_name)
    } else {
        client_name.clone()
    };
    let enctype = choose_enctype(&body.etype, &realm.policy().enctypes)?;
    let freshness = realm.freshness_tokens();
    let Some(pa_value) = request.padata(padata::PK_AS_REQ) else {
        let asked = request.padata(padata::AS_FRESHNESS).is_some();
        return Err(KdcError::PreauthRequired {
            method_data: crate::preauth::method_data(freshness.offer(asked, now)?)?,
        });
    };

    let pkinit = realm
        .pkinit()
        .process(
            PkinitRequest {
                message,
                body_der: request.body_der,
                pa_value,
                user: &user,
                realm: realm_name,
                client_name,
                server_name: &server_name,
                enctype,
                freshness: &freshness,
            },
            now,
        )
        .await?;

    let session_key =
        Key::random(enctype).map_err(|e| KdcError::Internal(format!("session key: {e}")))?;
    let times = initial_ticket_times(body, now, realm.policy().lifetime);
    let (kvno, krbtgt_key) = realm.current_krbtgt_key()?;
    let client_name = name_to_string(&ticket_client);
    let logon = Logon {
        auth_time: times.auth_time,
        client_name: &client_name,
        realm: realm_name,
        authentication: Authentication {
            key_trust: matches!(pkinit.trust, Trust::Key(_)),
            fresh: pkinit.fresh,
        },
        request: pac_request(request.padata(padata::PAC_REQUEST)),
    };
    let pac = in_tickets::for_new_tgt(realm, &user, &logon)
        .await?
        .map(|pac| TicketPac {
            pac,
            kind: PacKind::Tgt,
            krbtgt_key,
        });
    let ticket = seal_ticket(
        realm_name,
        &server_name,
        &ticket_client,
        &session_key,
        &times,
        (kvno, krbtgt_key),
        pac,
    )?;

    let enc_part = EncAsRepPart(reply_part(
        &session_key,
        &times,
        body.nonce,
        realm_name,
        &server_name,
        now,
    ));
    let plain = nonce::encode_rep_part(&enc_part, request.nonce_form)
        .map_err(|e| KdcError::Internal(format!("EncASRepPart: {e}")))?;
    let cipher = pkinit
        .reply_key
        .encrypt(KEY_USAGE_AS_REP_ENC_PART, &plain)
        .map_err(|e| KdcError::Internal(format!("AS-REP encryption: {e}")))?;
    let reply = AsRep(KdcRep {
        pvno: 5.into(),
        msg_type: 11.into(),
        padata: Some(vec![PaData {
            r#type: padata::PK_AS_REP,
            value: pkinit.pa_pk_as_rep.into(),
        }]),
        crealm: kerberos_string(realm_name),
        cname: ticket_client,
        ticket,
        enc_part: EncryptedData {
            etype: enctype.as_i32(),
            kvno: None,
            cipher: cipher.into(),
        },
    });
    let reply =
        rasn::der::encode(&reply).map_err(|e| KdcError::Internal(format!("AS-REP: {e}")))?;
    Ok(AsOutcome {
        reply,
        client: user.user_principal_name,
        trust: pkinit.trust,
        fresh: pkinit.fresh,
        exchange: pkinit.details,
    })
}

fn is_krbtgt(name: &PrincipalName, realm: &str) -> bool {
    matches!(name.string.as_slice(), [service, instance]
        if service.as_bytes() == b"krbtgt" && instance.as_bytes() == realm.as_bytes())
}

/// A KeyID as the admin commands print it.
pub fn base64_key_id(key_id: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(key_id)
}

/// The first of the client's enctypes that the realm allows (RFC 4120 §3.1.3).
pub fn choose_enctype(client: &[i32], allowed: &[Enctype]) -> Result<Enctype, KdcError> {
    client
        .iter()
        .filter_map(|&e| Enctype::from_i32(e))
        .find(|e| allowed.contains(e))
        .ok_or_else(|| KdcError::NoCommonEnctype(client.to_vec()))
}
