//! The client side of the TGS exchange (RFC 4120 §3.3.1, §5.5.1): a TGS-REQ carrying an
//! AP-REQ with the TGT and an authenticator that checksums the request body, and reading the
//! TGS-REP under the session key or subkey.

use std::time::{SystemTime, UNIX_EPOCH};

use kdc::crypto::Key;
use kdc::proto::codes::padata;
use kdc::proto::kerberos::{flags, kerberos_string, kerberos_time};
use rasn_kerberos::{
    ApOptions, ApReq, Authenticator, Checksum, EncTgsRepPart, EncryptedData, EncryptionKey,
    KdcOptions, KdcReqBody, KrbError, PrincipalName, TgsRep, TgsReq, Ticket,
};

use crate::ClientError;

/// How a TGS-REQ is made; fields exist to produce the failures the KDC must catch.
pub struct TgsOptions<'a> {
    pub realm: &'a str,
    pub client: &'a PrincipalName,
    pub tgt: &'a Ticket,
    pub session_key: &'a Key,
    pub service: PrincipalName,
    pub kdc_options: u32,
    pub etypes: Vec<i32>,
    pub subkey: Option<Key>,
}

pub struct TgsRequest {
    pub message: Vec<u8>,
    nonce: u32,
}

pub fn build_tgs_request(options: &TgsOptions<'_>) -> Result<TgsRequest, ClientError> {
    let build = |what: &str, e: &dyn std::fmt::Display| ClientError::Build(format!("{what}: {e}"));
    let now = SystemTime::now();
    let nonce = crate::random_u32()?;
    let body = tgs_request_body(options, now, nonce);
    let body_der = rasn::der::encode(&body).map_err(|e| build("body", &e))?;
    let authenticator = Authenticator {
        authenticator_vno: 5.into(),
        crealm: kerberos_string(options.realm),
        cname: options.client.clone(),
        cksum: Some(Checksum {
            r#type: options.session_key.enctype().checksum_type(),
            checksum: options.session_key.checksum(6, &body_der).into(),
        }),
        cusec: now
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_micros())
            .unwrap_or(0)
            .into(),
        ctime: kerberos_time(now),
        subkey: options.subkey.as_ref().map(|k| EncryptionKey {
            r#type: k.enctype().as_i32(),
            value: k.as_bytes().to_vec().into(),
        }),
        seq_number: None,
        authorization_data: None,
    };
    let authenticator_der =
        rasn::der::encode(&authenticator).map_err(|e| build("authenticator", &e))?;
    Ok(TgsRequest {
        message: tgs_request_with_authenticator(
            options.tgt,
            options.session_key,
            body,
            &authenticator_der,
        )?,
        nonce,
    })
}

/// The KDC-REQ-BODY [`build_tgs_request`] sends for `options` at `now`.
pub fn tgs_request_body(options: &TgsOptions<'_>, now: SystemTime, nonce: u32) -> KdcReqBody {
    KdcReqBody {
        kdc_options: KdcOptions(flags(options.kdc_options)),
        cname: None,
        realm: kerberos_string(options.realm),
        sname: Some(options.service.clone()),
        from: None,
        till: kerberos_time(now + std::time::Duration::from_secs(86_400)),
        rtime: None,
        nonce,
        etype: options.etypes.clone(),
        addresses: None,
        enc_authorization_data: None,
        additional_tickets: None,
    }
}

/// A TGS-REQ with `body` and a PA-TGS-REQ whose AP-REQ carries `tgt` and the authenticator
/// `authenticator_der` exactly as given, encrypted under `session_key` (RFC 4120 §5.5.1, key
/// usage 7): any bytes, so that fuzzing and tests reach what the KDC checks after decryption.
pub fn tgs_request_with_authenticator(
    tgt: &Ticket,
    session_key: &Key,
    body: KdcReqBody,
    authenticator_der: &[u8],
) -> Result<Vec<u8>, ClientError> {
    let build = |what: &str, e: &dyn std::fmt::Display| ClientError::Build(format!("{what}: {e}"));
    let cipher = session_key
        .encrypt(7, authenticator_der)
        .map_err(|e| build("authenticator encryption", &e))?;
    let ap_req = ApReq {
        pvno: 5.into(),
        msg_type: 14.into(),
        ap_options: ApOptions(flags(0)),
        ticket: tgt.clone(),
        authenticator: EncryptedData {
            etype: session_key.enctype().as_i32(),
            kvno: None,
            cipher: cipher.into(),
        },
    };
    let ap_req = rasn::der::encode(&ap_req).map_err(|e| build("AP-REQ", &e))?;
    let request = TgsReq(crate::kdc_req(
        crate::TGS_REQ,
        padata::TGS_REQ,
        ap_req,
        body,
    ));
    rasn::der::encode(&request).map_err(|e| build("TGS-REQ", &e))
}

/// The service ticket and its session key from a TGS-REP.
pub fn read_tgs_reply(
    request: &TgsRequest,
    reply: &[u8],
    reply_key: &Key,
    usage: u32,
) -> Result<(Ticket, EncTgsRepPart), ClientError> {
    let bad = |what: &str| ClientError::BadReply(what.to_owned());
    if reply.first() == Some(&0x7e) {
        let error: KrbError = rasn::der::decode(reply).map_err(|_| bad("undecodable KRB-ERROR"))?;
        return Err(ClientError::KrbError(error.error_code));
    }
    let rep: TgsRep =
        rasn::der::decode(reply).map_err(|e| ClientError::BadReply(format!("TGS-REP: {e}")))?;
    let plain = reply_key
        .decrypt(usage, &rep.0.enc_part.cipher)
        .map_err(|e| ClientError::BadReply(format!("enc-part: {e}")))?;
    let part: EncTgsRepPart = rasn::der::decode(&plain).map_err(|_| bad("EncTGSRepPart"))?;
    if part.0.nonce != request.nonce {
        return Err(bad("nonce mismatch"));
    }
    Ok((rep.0.ticket, part))
}
