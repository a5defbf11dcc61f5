//! A PKINIT client (RFC 4556 §3.2.1 request, §3.2.3-§3.2.4 reply processing) that signs with
//! a software key and always includes its certificate, as Windows does. It drives the KDC in
//! tests and is the core of the load generator; it is not a general Kerberos library.
#![forbid(unsafe_code)]

pub mod tgs;
mod windows;

use std::time::{SystemTime, UNIX_EPOCH};

use kdc::crypto::{Enctype, Key};
use kdc::preauth::pkinit::agreement::{self, DhGroup, DhKey, ModpGroup, PkinitKdf};
use kdc::preauth::pkinit::cms;
use kdc::proto::codes::{oid, padata};
use kdc::proto::der::{self, tag};
use kdc::proto::kerberos::{
    NT_PRINCIPAL, flags, kerberos_string, kerberos_time, krbtgt_name, principal,
};
use kdc::proto::pkinit::{
    AuthPack, KdcDhKeyInfo, KdfAlgorithmId, PaChecksum2, PaPkAsRep, PaPkAsReq, PkAuthenticator,
};
use kdc::signer::{DigestAlgorithm, KdcSigner};
use rasn::types::{Any, BitString, ObjectIdentifier};
use rasn_kerberos::{
    AsRep, AsReq, EncAsRepPart, EncTgsRepPart, KdcOptions, KdcReq, KdcReqBody, KrbError, PaData,
    PrincipalName, Ticket,
};
use rasn_pkix::{AlgorithmIdentifier, SubjectPublicKeyInfo};

/// Why a request could not be made or a reply not be used.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("the KDC answered KRB-ERROR {0}")]
    KrbError(i32),
    #[error("reply unusable: {0}")]
    BadReply(String),
    #[error("cannot build the request: {0}")]
    Build(String),
}

/// How the client asks.
#[derive(Clone, Debug)]
pub struct ClientOptions {
    pub realm: String,
    pub user: String,
    /// The MODP group or curve offered.
    pub group: DhGroup,
    /// RFC 8636 KDFs offered, in order; empty = none (RFC 4556 octetstring2key).
    pub kdfs: Vec<PkinitKdf>,
    pub etypes: Vec<i32>,
    pub send_client_dh_nonce: bool,
    /// q in the MODP domain parameters (RFC 3279 §2.3.3), as MIT and Heimdal send it; false
    /// sends q = 0.
    pub send_subgroup_order: bool,
    /// Added to the client's clock, to test skew handling.
    pub clock_offset_secs: i64,
    /// Use the KDC-REQ-BODY nonce as the PKAuthenticator nonce too, as MIT's kinit does:
    /// MIT's KDC echoes the body nonce in KDCDHKeyInfo where RFC 4556 §3.2.3.1 names the
    /// PKAuthenticator one, so only with equal nonces do both KDCs' replies check.
    pub same_nonce: bool,
    /// An RFC 8070 freshness token from the KDC, signed into the PKAuthenticator.
    pub freshness_token: Option<Vec<u8>>,
    /// The digest of the AuthPack signature.
    pub signature_digest: DigestAlgorithm,
    /// supportedCMSTypes, as digests of the signer's key type: None leaves the field out,
    /// an empty list sends it empty (as clients that follow Windows do).
    pub supported_cms_types: Option<Vec<DigestAlgorithm>>,
    /// DH INTEGERs (public value, p, q) without their sign byte. The client then draws DH
    /// keys until its public value reads as negative, so the KDC always sees that case.
    pub unsigned_integers: bool,
    /// Check the reply as clients that follow Windows do (`windows::check_reply`).
    pub windows_reply_checks: bool,
    /// Also send MS-PKCA's paChecksum2 over the request body with this hash.
    pub pa_checksum2: Option<DigestAlgorithm>,
    /// Ask for the client's canonical name (KDC option canonicalize, RFC 6806 §5).
    pub canonicalize: bool,
    /// PA-PAC-REQUEST ([MS-KILE] 2.2.3) with include-pac as given, as Windows and Heimdal
    /// send it; None sends none, as MIT kinit does.
    pub pac_request: Option<bool>,
}

impl ClientOptions {
    pub fn new(realm: &str, user: &str) -> Self {
        Self {
            realm: realm.to_owned(),
            user: user.to_owned(),
            group: DhGroup::Modp(ModpGroup::Modp14),
            kdfs: vec![PkinitKdf::Sha256, PkinitKdf::Sha1, PkinitKdf::Sha512],
            etypes: vec![18, 17, 20, 19],
            send_client_dh_nonce: false,
            send_subgroup_order: true,
            clock_offset_secs: 0,
            same_nonce: false,
            freshness_token: None,
            signature_digest: DigestAlgorithm::Sha256,
            supported_cms_types: None,
            unsigned_integers: false,
            windows_reply_checks: false,
            pa_checksum2: None,
            canonicalize: false,
            pac_request: None,
        }
    }
}

/// A signed AS-REQ and what is needed to read its reply.
pub struct PreparedRequest {
    pub message: Vec<u8>,
    dh_private: DhKey,
    client_dh_nonce: Option<Vec<u8>>,
    pk_nonce: u32,
    body_nonce: u32,
    client_name: PrincipalName,
}

/// What a successful AS exchange yields.
pub struct AsReply {
    pub session_key: Key,
    pub ticket: Ticket,
    pub enc_part: EncAsRepPart,
    pub reply_key: Key,
}

/// KDCOptions forwardable and renewable-ok (RFC 4120 §5.4.1), as masks of the 32-bit field.
const FORWARDABLE_RENEWABLE_OK: u32 = 0x4000_0010;
/// KDCOptions bit 15, canonicalize (RFC 6806 §5).
const CANONICALIZE: u32 = 0x0001_0000;

/// The KDC-REQ-BODY of an AS-REQ for a TGT (forwardable, renewable-ok, one day).
fn request_body(
    options: &ClientOptions,
    client_name: &PrincipalName,
    now: SystemTime,
    nonce: u32,
) -> KdcReqBody {
    KdcReqBody {
        kdc_options: KdcOptions(flags(if options.canonicalize {
            FORWARDABLE_RENEWABLE_OK | CANONICALIZE
        } else {
            FORWARDABLE_RENEWABLE_OK
        })),
        cname: Some(client_name.clone()),
        realm: kerberos_string(&options.realm),
        sname: Some(krbtgt_name(&options.realm)),
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

/// An AS-REQ without pre-authentication that asks for a freshness token with an empty
/// PA_AS_FRESHNESS (RFC 8070 §2.1), as MIT kinit's first request does.
pub fn build_freshness_request(options: &ClientOptions) -> Result<Vec<u8>, ClientError> {
    let now = shifted_now(options.clock_offset_secs);
    let client_name = principal(NT_PRINCIPAL, &[options.user.as_str()]);
    let body = request_body(options, &client_name, now, random_u32()?);
    let request = AsReq(kdc_req(AS_REQ, padata::AS_FRESHNESS, Vec::new(), body));
    rasn::der::encode(&request).map_err(|e| ClientError::Build(format!("AS-REQ: {e}")))
}

/// The freshness token a KDC's answer carries: PA_AS_FRESHNESS in the METHOD-DATA of a
/// KRB-ERROR (RFC 8070 §2.2). None for anything else.
pub fn freshness_token_of(reply: &[u8]) -> Option<Vec<u8>> {
    let error: rasn_kerberos::KrbError = rasn::der::decode(reply).ok()?;
    let methods: Vec<PaData> = rasn::der::decode(error.e_data.as_ref()?).ok()?;
    methods
        .into_iter()
        .find(|m| m.r#type == padata::AS_FRESHNESS)
        .map(|m| m.value.to_vec())
}

/// Builds a signed PKINIT AS-REQ.
pub async fn build_request(
    options: &ClientOptions,
    signer: &dyn KdcSigner,
) -> Result<PreparedRequest, ClientError> {
    let build = |what: &str, e: &dyn std::fmt::Display| ClientError::Build(format!("{what}: {e}"));
    let now = shifted_now(options.clock_offset_secs);
    let body_nonce = random_u32()?;
    let pk_nonce = match options.same_nonce {
        true => body_nonce,
        false => random_u32()?,
    };
    let client_name = principal(NT_PRINCIPAL, &[options.user.as_str()]);
    let body = request_body(options, &client_name, now, body_nonce);
    let body_der = rasn::der::encode(&body).map_err(|e| build("body", &e))?;
    let (dh_private, public) = dh_key(options).map_err(|e| build("DH", &e))?;
    let client_dh_nonce = match options.send_client_dh_nonce {
        true => Some(random_bytes(32)?),
        false => None,
    };
    let pk_authenticator = pk_authenticator(options, &body_der, now, pk_nonce)?;
    let mut auth_pack = AuthPack::new(pk_authenticator);
    auth_pack.client_public_value = Some(dh_spki(options, &public)?);
    auth_pack.supported_cms_types = options.supported_cms_types.as_ref().map(|digests| {
        digests
            .iter()
            .filter_map(|&d| signature_algorithm(signer.scheme().signature_oid(d)))
            .collect()
    });
    auth_pack.client_dh_nonce = client_dh_nonce.clone().map(Into::into);
    auth_pack.supported_kdfs = (!options.kdfs.is_empty()).then(|| {
        options
            .kdfs
            .iter()
            .map(|k| KdfAlgorithmId::new(k.oid().to_owned()))
            .collect()
    });
    let auth_pack_der = rasn::der::encode(&auth_pack).map_err(|e| build("AuthPack", &e))?;
    let mut message =
        signed_as_request(body, &auth_pack_der, signer, options.signature_digest).await?;
    if let Some(include) = options.pac_request {
        message = with_pac_request(&message, include)?;
    }
    Ok(PreparedRequest {
        message,
        dh_private,
        client_dh_nonce,
        pk_nonce,
        body_nonce,
        client_name,
    })
}

/// The PKAuthenticator [`build_request`] signs (RFC 4556 §3.2.1): `now`, `nonce`, paChecksum
/// over `body_der`, and the freshness token and paChecksum2 that `options` ask for.
pub fn pk_authenticator(
    options: &ClientOptions,
    body_der: &[u8],
    now: SystemTime,
    nonce: u32,
) -> Result<PkAuthenticator, ClientError> {
    let cusec = now
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_micros())
        .unwrap_or(0);
    let mut pk_authenticator = PkAuthenticator::new(cusec, kerberos_time(now), nonce);
    pk_authenticator.pa_checksum = Some(
        aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, body_der)
            .as_ref()
            .to_vec()
            .into(),
    );
    pk_authenticator.freshness_token = options.freshness_token.clone().map(Into::into);
    pk_authenticator.pa_checksum2 = options
        .pa_checksum2
        .map(|digest| pa_checksum2(digest, body_der))
        .transpose()?;
    Ok(pk_authenticator)
}

/// The KDC-REQ-BODY [`build_request`] sends for `options` at `now`, for callers that make
/// their own AuthPack over it.
pub fn as_request_body(options: &ClientOptions, now: SystemTime, nonce: u32) -> KdcReqBody {
    let client_name = principal(NT_PRINCIPAL, &[options.user.as_str()]);
    request_body(options, &client_name, now, nonce)
}

/// An AS-REQ with `body` and a PA-PK-AS-REQ (RFC 4556 §3.2.1) whose AuthPack is
/// `auth_pack_der` exactly as given, signed by `signer` over `digest`: any bytes, so that
/// fuzzing and tests reach what the KDC checks after the signature.
pub async fn signed_as_request(
    body: KdcReqBody,
    auth_pack_der: &[u8],
    signer: &dyn KdcSigner,
    digest: DigestAlgorithm,
) -> Result<Vec<u8>, ClientError> {
    let build = |what: &str, e: &dyn std::fmt::Display| ClientError::Build(format!("{what}: {e}"));
    let signed = cms::sign(cms::ContentType::AuthPack, auth_pack_der, signer, digest)
        .await
        .map_err(|e| build("signing", &e))?;
    let pa = rasn::der::encode(&PaPkAsReq::new(signed)).map_err(|e| build("PA-PK-AS-REQ", &e))?;
    let request = AsReq(kdc_req(AS_REQ, padata::PK_AS_REQ, pa, body));
    rasn::der::encode(&request).map_err(|e| build("AS-REQ", &e))
}

/// The AS-REQ with a PA-PAC-REQUEST added: `KERB-PA-PAC-REQUEST ::= SEQUENCE {
/// include-pac [0] BOOLEAN }`. PA-DATA is outside what the client signs.
fn with_pac_request(message: &[u8], include: bool) -> Result<Vec<u8>, ClientError> {
    let build = |e: &dyn std::fmt::Display| ClientError::Build(format!("PA-PAC-REQUEST: {e}"));
    let mut request: AsReq = rasn::der::decode(message).map_err(|e| build(&e))?;
    let value = vec![
        0x30,
        0x05,
        0xa0,
        0x03,
        0x01,
        0x01,
        if include { 0xff } else { 0x00 },
    ];
    request.0.padata.get_or_insert_with(Vec::new).push(PaData {
        r#type: padata::PAC_REQUEST,
        value: value.into(),
    });
    rasn::der::encode(&request).map_err(|e| build(&e))
}

/// msg-type of an AS-REQ and of a TGS-REQ (RFC 4120 §5.4.1).
const AS_REQ: u8 = 0x0a;
pub(crate) const TGS_REQ: u8 = 0x0c;

/// A KDC-REQ (RFC 4120 §5.4.1) with one PA-DATA, as every request of this client has.
pub(crate) fn kdc_req(
    msg_type: u8,
    padata_type: i32,
    padata_value: Vec<u8>,
    body: KdcReqBody,
) -> KdcReq {
    KdcReq {
        pvno: 5.into(),
        msg_type: msg_type.into(),
        padata: Some(vec![PaData {
            r#type: padata_type,
            value: padata_value.into(),
        }]),
        req_body: body,
    }
}

/// Reads the KDC's answer: checks the KDC's signature (by `kdc_certificate`), the nonces,
/// derives the reply key and decrypts the enc-part.
pub fn read_reply(
    options: &ClientOptions,
    request: &PreparedRequest,
    reply: &[u8],
    kdc_certificate: &[u8],
) -> Result<AsReply, ClientError> {
    let bad = |what: &str| ClientError::BadReply(what.to_owned());
    if reply.first() == Some(&0x7e) {
        let error: KrbError = rasn::der::decode(reply).map_err(|_| bad("undecodable KRB-ERROR"))?;
        return Err(ClientError::KrbError(error.error_code));
    }
    let rep: AsRep =
        rasn::der::decode(reply).map_err(|e| ClientError::BadReply(format!("AS-REP: {e}")))?;
    let pa_value = rep
        .0
        .padata
        .iter()
        .flatten()
        .find(|pa| pa.r#type == padata::PK_AS_REP)
        .map(|pa| pa.value.to_vec())
        .ok_or_else(|| bad("no PA-PK-AS-REP"))?;
    let PaPkAsRep::DhInfo(info) = rasn::der::decode(&pa_value).map_err(|_| bad("PA-PK-AS-REP"))?
    else {
        return Err(bad("not dhInfo"));
    };
    let verified = cms::verify(&info.dh_signed_data, cms::ContentType::DhKeyInfo)
        .map_err(|e| ClientError::BadReply(format!("KDC signature: {e}")))?;
    if verified.signer_certificate() != Some(kdc_certificate) {
        return Err(bad("signed by another certificate than the KDC's"));
    }
    if options.windows_reply_checks {
        windows::check_reply(&verified, &info)?;
    }
    let key_info: KdcDhKeyInfo =
        rasn::der::decode(verified.content()).map_err(|_| bad("KDCDHKeyInfo"))?;
    if key_info.nonce != request.pk_nonce {
        return Err(bad("KDCDHKeyInfo nonce is not the PKAuthenticator nonce"));
    }
    let kdc_public = options
        .group
        .public_value_of_bits(key_info.subject_public_key.as_raw_slice())
        .map_err(|_| bad("KDC public value"))?;
    let shared = request
        .dh_private
        .agree(&kdc_public)
        .map_err(|e| ClientError::BadReply(format!("KDC DH value: {e}")))?;
    let enctype = Enctype::from_i32(rep.0.enc_part.etype).ok_or_else(|| bad("enc-part enctype"))?;
    let key_bytes = match info.kdf.as_ref() {
        Some(kdf) => {
            let kdf = PkinitKdf::from_oid(&kdf.kdf_id).ok_or_else(|| bad("unknown KDF"))?;
            if !options.kdfs.contains(&kdf) {
                return Err(bad("KDF not offered"));
            }
            agreement::rfc8636_kdf(
                kdf,
                &shared,
                &options.realm,
                &request.client_name,
                &options.realm,
                &krbtgt_name(&options.realm),
                enctype.as_i32(),
                &request.message,
                &pa_value,
                enctype.key_len(),
            )
            .map_err(|e| ClientError::BadReply(format!("KDF: {e}")))?
        }
        None => agreement::octetstring2key(
            &shared,
            request.client_dh_nonce.as_deref(),
            info.server_dh_nonce.as_deref(),
            enctype.key_len(),
        ),
    };
    let reply_key =
        Key::new(enctype, &key_bytes).map_err(|e| ClientError::BadReply(e.to_string()))?;
    let plain = reply_key
        .decrypt(3, &rep.0.enc_part.cipher)
        .map_err(|e| ClientError::BadReply(format!("enc-part: {e}")))?;
    // RFC 4120 §5.4.2 compatibility note: MIT's KDC sends an EncTGSRepPart (APPLICATION 26)
    // in AS-REPs too; the content is the same EncKDCRepPart.
    let enc_part: EncAsRepPart = rasn::der::decode(&plain)
        .or_else(|_| rasn::der::decode::<EncTgsRepPart>(&plain).map(|part| EncAsRepPart(part.0)))
        .map_err(|_| bad("EncASRepPart"))?;
    if enc_part.0.nonce != request.body_nonce {
        return Err(bad("EncASRepPart nonce is not the request nonce"));
    }
    let session_enctype =
        Enctype::from_i32(enc_part.0.key.r#type).ok_or_else(|| bad("session key enctype"))?;
    let session_key = Key::new(session_enctype, &enc_part.0.key.value)
        .map_err(|e| ClientError::BadReply(e.to_string()))?;
    Ok(AsReply {
        session_key,
        ticket: rep.0.ticket,
        enc_part,
        reply_key,
    })
}

/// The client's key pair; with `unsigned_integers` and a MODP group, one whose public value
/// has its top bit set (about every other key has).
fn dh_key(options: &ClientOptions) -> Result<(DhKey, Vec<u8>), agreement::AgreementError> {
    const ATTEMPTS: usize = 64;
    let wants_top_bit = options.unsigned_integers && matches!(options.group, DhGroup::Modp(_));
    let mut pair = agreement::generate_key(options.group)?;
    for _ in 1..ATTEMPTS {
        if !wants_top_bit || pair.1.first().is_some_and(|&b| b & 0x80 != 0) {
            break;
        }
        pair = agreement::generate_key(options.group)?;
    }
    Ok(pair)
}

fn pa_checksum2(digest: DigestAlgorithm, body_der: &[u8]) -> Result<PaChecksum2, ClientError> {
    Ok(PaChecksum2::new(
        digest.digest(body_der),
        signature_algorithm(digest.oid()).ok_or_else(|| ClientError::Build("digest OID".into()))?,
    ))
}

fn signature_algorithm(arcs: &[u32]) -> Option<AlgorithmIdentifier> {
    Some(AlgorithmIdentifier {
        algorithm: ObjectIdentifier::new(arcs.to_vec())?,
        parameters: None,
    })
}

/// SubjectPublicKeyInfo for the public value: dhpublicnumber with (p, g, q or 0) (RFC 3279
/// §2.3.3), or id-ecPublicKey with the namedCurve and the point (RFC 5480 §2).
fn dh_spki(options: &ClientOptions, public: &[u8]) -> Result<SubjectPublicKeyInfo, ClientError> {
    let group = match options.group {
        DhGroup::Modp(group) => group,
        DhGroup::Ec(curve) => {
            let algorithm = ObjectIdentifier::new(oid::EC_PUBLIC_KEY.to_vec())
                .ok_or_else(|| ClientError::Build("id-ecPublicKey OID".into()))?;
            return Ok(SubjectPublicKeyInfo {
                algorithm: AlgorithmIdentifier {
                    algorithm,
                    parameters: Some(Any::new(der::encode_oid(curve.oid()))),
                },
                subject_public_key: BitString::from_vec(public.to_vec()),
            });
        }
    };
    let integer = |magnitude: &[u8]| windows::integer(magnitude, options.unsigned_integers);
    let params = der::encode_parts(
        tag::SEQUENCE,
        &[
            &integer(group.prime_bytes()),
            &integer(group.generator()),
            &if options.send_subgroup_order {
                integer(&group.subgroup_order())
            } else {
                integer(&[])
            },
        ],
    );
    let algorithm = ObjectIdentifier::new(oid::DH_PUBLIC_NUMBER.to_vec())
        .ok_or_else(|| ClientError::Build("dhpublicnumber OID".into()))?;
    Ok(SubjectPublicKeyInfo {
        algorithm: AlgorithmIdentifier {
            algorithm,
            parameters: Some(Any::new(params)),
        },
        subject_public_key: BitString::from_vec(integer(public)),
    })
}

fn shifted_now(offset_secs: i64) -> SystemTime {
    let now = SystemTime::now();
    let shift = std::time::Duration::from_secs(offset_secs.unsigned_abs());
    if offset_secs >= 0 {
        now + shift
    } else {
        now - shift
    }
}

fn random_bytes(len: usize) -> Result<Vec<u8>, ClientError> {
    let mut bytes = vec![0u8; len];
    aws_lc_rs::rand::fill(&mut bytes)
        .map_err(|_| ClientError::Build("random generator failed".into()))?;
    Ok(bytes)
}

pub(crate) fn random_u32() -> Result<u32, ClientError> {
    let mut bytes = [0u8; 4];
    aws_lc_rs::rand::fill(&mut bytes)
        .map_err(|_| ClientError::Build("random generator failed".into()))?;
    Ok(u32::from_be_bytes(bytes) & 0x7fff_ffff)
}
