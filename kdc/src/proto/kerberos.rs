//! Kerberos message helpers over rasn-kerberos (RFC 4120 §5): request decoding that keeps the
//! KDC-REQ-BODY bytes as received (PKINIT checksums them, RFC 4556 §3.2.1), times in whole
//! seconds (§5.2.3), 32-bit flag fields (§5.2.8), principal names, and KRB-ERROR (§5.9.1).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rasn::types::{BitString, GeneralString};
use rasn_kerberos::{
    AsReq, KdcReq, KerberosFlags, KerberosString, KerberosTime, KrbError, PrincipalName,
};

use super::codes::ErrorCode;
use super::der::{DerError, Tlv, tag};
use super::nonce::{self, NonceForm};

/// NT-PRINCIPAL (RFC 4120 §6.2).
pub const NT_PRINCIPAL: i32 = 0x01;
/// NT-SRV-INST (RFC 4120 §6.2).
pub const NT_SRV_INST: i32 = 0x02;
/// NT-ENTERPRISE (RFC 6806 §5).
pub const NT_ENTERPRISE: i32 = 0x0a;

const APPLICATION_AS_REQ: u8 = 0x6a;
const APPLICATION_TGS_REQ: u8 = 0x6c;
const APPLICATION_KRB_ERROR: u8 = 0x7e;
/// The constructed bit of an identifier octet (X.690 §8.1.2.5).
const CONSTRUCTED: u8 = 0x20;

/// Why a message could not be decoded as a KDC request.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("not a KDC request (first byte {0:#04x})")]
    NotARequest(u8),
    #[error("malformed DER: {0}")]
    Der(#[from] DerError),
    #[error("malformed request: {0}")]
    Asn1(String),
    #[error("empty message")]
    Empty,
}

/// Which exchange a request starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestKind {
    As,
    Tgs,
}

impl RequestKind {
    /// The kind a message's first byte (its APPLICATION tag) announces, before decoding it.
    pub fn of_tag(first_byte: u8) -> Option<RequestKind> {
        match first_byte {
            APPLICATION_AS_REQ => Some(RequestKind::As),
            APPLICATION_TGS_REQ => Some(RequestKind::Tgs),
            _ => None,
        }
    }
}

/// A decoded AS-REQ or TGS-REQ, with the body's DER exactly as received.
#[derive(Clone, Debug)]
pub struct KdcRequest<'a> {
    pub kind: RequestKind,
    pub req: KdcReq,
    pub body_der: &'a [u8],
    /// How the client encoded the body's nonce; the reply echoes it the same way.
    pub nonce_form: NonceForm,
}

impl<'a> KdcRequest<'a> {
    pub fn decode(message: &'a [u8]) -> Result<KdcRequest<'a>, DecodeError> {
        let first = *message.first().ok_or(DecodeError::Empty)?;
        let kind = RequestKind::of_tag(first).ok_or(DecodeError::NotARequest(first))?;
        let outer = Tlv::read_only(message, first)?;
        let sequence = Tlv::read_only(outer.value, tag::SEQUENCE)?;
        let mut body_der = None;
        for field in sequence.children() {
            let field = field?;
            if field.tag == tag::context(4) {
                body_der = Some(Tlv::read_only(field.value, tag::SEQUENCE)?.raw);
            }
        }
        let body_der = body_der.ok_or(DecodeError::Asn1("no req-body".to_owned()))?;
        let unsigned = nonce::unsigned_request(message)?;
        let nonce_form = match unsigned {
            Some(_) => NonceForm::Signed,
            None => NonceForm::Unsigned,
        };
        let decodable = unsigned.as_deref().unwrap_or(message);
        let req = match kind {
            RequestKind::As => rasn::der::decode::<AsReq>(decodable).map(|r| r.0),
            RequestKind::Tgs => rasn::der::decode::<rasn_kerberos::TgsReq>(decodable).map(|r| r.0),
        }
        .map_err(|e| DecodeError::Asn1(e.to_string()))?;
        Ok(KdcRequest {
            kind,
            req,
            body_der,
            nonce_form,
        })
    }

    /// The value of the first PA-DATA of this type.
    pub fn padata(&self, padata_type: i32) -> Option<&[u8]> {
        self.req
            .padata
            .as_ref()?
            .iter()
            .find(|pa| pa.r#type == padata_type)
            .map(|pa| pa.value.as_ref())
    }
}

/// Whether an AS-REQ may carry PA-DATA of `padata_type` (RFC 4120 §5.4.1: `padata [3]`, each
/// entry's `padata-type [1]`), read from its DER without decoding the request: false only for
/// an AS-REQ whose every PA-DATA type was read and none matched, or a message that is not an
/// AS-REQ. It routes a request before the full decode and errs towards true, so a request
/// it cannot read goes where one that carries the type would go.
pub fn as_req_may_carry(message: &[u8], padata_type: i32) -> bool {
    message.first().copied().and_then(RequestKind::of_tag) == Some(RequestKind::As)
        && padata_types_include(message, padata_type).unwrap_or(true)
}

fn padata_types_include(message: &[u8], padata_type: i32) -> Result<bool, DerError> {
    let outer = Tlv::read_only(message, APPLICATION_AS_REQ)?;
    let fields = Tlv::read_only(outer.value, tag::SEQUENCE)?;
    let mut found = false;
    for field in fields.children() {
        let field = field?;
        if !is_context(field.tag, 3) {
            continue;
        }
        for entry in Tlv::read_only(field.value, tag::SEQUENCE)?.children() {
            for part in entry?.expect(tag::SEQUENCE)?.children() {
                let part = part?;
                if is_context(part.tag, 1) {
                    let value = Tlv::read_only(part.value, tag::INTEGER)?.value;
                    found |= small_integer(value) == Some(i64::from(padata_type));
                }
            }
        }
    }
    Ok(found)
}

/// Whether a tag is context-specific `[n]`, constructed or not: rasn's decoder takes an
/// explicit tag in either form (found by fuzzing), so the walk must not skip either.
fn is_context(tag_byte: u8, n: u8) -> bool {
    tag_byte & !CONSTRUCTED == tag::context_primitive(n)
}

/// A DER INTEGER's content as i64, if it fits.
fn small_integer(content: &[u8]) -> Option<i64> {
    let negative = content.first()? & 0x80 != 0;
    (content.len() <= 8).then(|| {
        content
            .iter()
            .fold(if negative { -1 } else { 0 }, |acc, &b| {
                (acc << 8) | i64::from(b)
            })
    })
}

/// A KerberosTime (whole seconds, UTC) for a system time.
pub fn kerberos_time(time: SystemTime) -> KerberosTime {
    let secs = time
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let secs = i64::try_from(secs).unwrap_or(i64::MAX);
    let utc = chrono::DateTime::from_timestamp(secs, 0).unwrap_or_default();
    KerberosTime(utc.fixed_offset())
}

/// The system time of a KerberosTime; times before 1970 clamp to the epoch.
pub fn system_time(time: &KerberosTime) -> SystemTime {
    let secs = u64::try_from(time.0.timestamp()).unwrap_or(0);
    UNIX_EPOCH + Duration::from_secs(secs)
}

/// A 32-bit KerberosFlags value; bit 0 is the most significant (RFC 4120 §5.2.8).
pub fn flags(bits: u32) -> KerberosFlags {
    BitString::from_slice(&bits.to_be_bytes())
}

/// Whether flag `bit` (0 = most significant) is set; absent bits are clear.
pub fn flag(flags: &KerberosFlags, bit: usize) -> bool {
    flags.get(bit).is_some_and(|b| *b)
}

pub fn kerberos_string(value: &str) -> KerberosString {
    GeneralString::from_bytes(value.as_bytes()).unwrap_or_default()
}

pub fn principal(name_type: i32, components: &[&str]) -> PrincipalName {
    PrincipalName {
        r#type: name_type,
        string: components.iter().map(|c| kerberos_string(c)).collect(),
    }
}

pub fn krbtgt_name(realm: &str) -> PrincipalName {
    principal(NT_SRV_INST, &["krbtgt", realm])
}

/// A principal name's components joined with '/', as in `krbtgt/EXAMPLE.TEST`.
pub fn name_to_string(name: &PrincipalName) -> String {
    name.string
        .iter()
        .map(|c| String::from_utf8_lossy(c.as_bytes()).into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// Fields of a KRB-ERROR beyond its code.
#[derive(Clone, Debug, Default)]
pub struct ErrorContext {
    pub realm: String,
    pub cname: Option<PrincipalName>,
    pub sname: Option<PrincipalName>,
    pub e_text: Option<String>,
    pub e_data: Option<Vec<u8>>,
}

/// Encodes a KRB-ERROR stamped with the current time (stime/susec let clients correct
/// their clock offset, RFC 4120 §5.9.1).
pub fn krb_error(code: ErrorCode, context: ErrorContext, now: SystemTime) -> Vec<u8> {
    let micros = now
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_micros())
        .unwrap_or(0);
    let sname = context.sname.unwrap_or_else(|| krbtgt_name(&context.realm));
    let error = KrbError {
        pvno: 5.into(),
        msg_type: 30.into(),
        ctime: None,
        cusec: None,
        stime: kerberos_time(now),
        susec: micros.into(),
        error_code: code.0,
        crealm: context
            .cname
            .as_ref()
            .map(|_| kerberos_string(&context.realm)),
        cname: context.cname,
        realm: kerberos_string(&context.realm),
        sname,
        e_text: context.e_text.as_deref().map(kerberos_string),
        e_data: context.e_data.map(Into::into),
    };
    rasn::der::encode(&error).unwrap_or_default()
}

/// The error code of a KRB-ERROR (RFC 4120 §5.9.1), or None for any other message.
pub fn krb_error_code(message: &[u8]) -> Option<ErrorCode> {
    if message.first() != Some(&APPLICATION_KRB_ERROR) {
        return None;
    }
    rasn::der::decode::<KrbError>(message)
        .ok()
        .map(|error| ErrorCode(error.error_code))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::wire;

    #[test]
    fn mit_request_body_bytes_match_the_capture() {
        use sha1::Digest;
        // vectors.toml: req_body_offset 47, length 134, sha1 fdca2a16...
        let bytes = wire("mit_as_req_nopreauth.der");
        let request = KdcRequest::decode(&bytes).unwrap();
        assert_eq!(request.kind, RequestKind::As);
        assert_eq!(request.body_der.len(), 134);
        assert_eq!(
            hex::encode(sha1::Sha1::digest(request.body_der)),
            "fdca2a16e7faadebd081b91aa21d247f6eb5f427"
        );
        assert_eq!(request.req.req_body.nonce, 131_403_650);
        assert_eq!(
            request.req.req_body.etype,
            vec![18, 17, 20, 19, 16, 23, 25, 26]
        );
        assert!(flag(&request.req.req_body.kdc_options.0, 1));
        assert!(flag(&request.req.req_body.kdc_options.0, 27));
        assert!(!flag(&request.req.req_body.kdc_options.0, 8));
    }

    #[test]
    fn tgs_request_is_recognised() {
        let bytes = wire("mit_tgs_req_host.der");
        assert_eq!(KdcRequest::decode(&bytes).unwrap().kind, RequestKind::Tgs);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(KdcRequest::decode(&[]).is_err());
        assert!(KdcRequest::decode(&[0x6a]).is_err());
        assert!(KdcRequest::decode(&[0x7e, 0x00]).is_err());
        let bytes = wire("mit_as_req_pkinit_dh2048.der");
        for end in 0..bytes.len() {
            assert!(KdcRequest::decode(&bytes[..end]).is_err());
        }
    }

    #[test]
    fn krb_error_round_trips_with_code_and_time() {
        let now = UNIX_EPOCH + Duration::new(1_800_000_000, 123_456_789);
        let bytes = krb_error(
            ErrorCode::PREAUTH_REQUIRED,
            ErrorContext {
                realm: "EXAMPLE.TEST".into(),
                cname: Some(principal(NT_PRINCIPAL, &["alice"])),
                ..Default::default()
            },
            now,
        );
        let decoded: KrbError = rasn::der::decode(&bytes).unwrap();
        assert_eq!(decoded.error_code, 25);
        assert_eq!(decoded.susec, 123_456.into());
        assert_eq!(
            system_time(&decoded.stime),
            UNIX_EPOCH + Duration::from_secs(1_800_000_000)
        );
        assert_eq!(name_to_string(&decoded.sname), "krbtgt/EXAMPLE.TEST");
    }

    #[test]
    fn flags_are_32_bits_msb_first() {
        let f = flags(0x4000_0010);
        assert_eq!(f.len(), 32);
        assert!(flag(&f, 1) && flag(&f, 27) && !flag(&f, 0));
    }

    #[test]
    fn padata_types_are_read_without_decoding() {
        use crate::proto::codes::padata;
        use crate::testing::wire;
        let pkinit = wire("mit_as_req_pkinit_dh2048.der");
        assert!(as_req_may_carry(&pkinit, padata::PK_AS_REQ));
        assert!(as_req_may_carry(
            &wire("heimdal_as_req_pkinit_dh2048.der"),
            padata::PK_AS_REQ
        ));
        // Every type it carries is read, and only those: the full decode agrees.
        let decoded = KdcRequest::decode(&pkinit).unwrap();
        for pa in decoded.req.padata.iter().flatten() {
            assert!(as_req_may_carry(&pkinit, pa.r#type));
        }
        assert!(!as_req_may_carry(&pkinit, 0x7fff_ffff));
        assert!(!as_req_may_carry(&pkinit, -128));
        assert!(!as_req_may_carry(
            &wire("mit_as_req_nopreauth.der"),
            padata::PK_AS_REQ
        ));
        // Not an AS-REQ.
        assert!(!as_req_may_carry(
            &wire("mit_tgs_req_host.der"),
            padata::PK_AS_REQ
        ));
        assert!(!as_req_may_carry(&[], padata::PK_AS_REQ));
        // Unreadable: it may carry anything.
        assert!(as_req_may_carry(
            &[0x6a, 0x03, 0x30, 0x01],
            padata::PK_AS_REQ
        ));
        assert!(as_req_may_carry(
            &pkinit[..pkinit.len() - 1],
            padata::PK_AS_REQ
        ));
        // PA-PK-AS-REQ's padata-type as a primitive [1] (0x81, found by fuzzing): rasn's
        // decoder takes it, so the walk must, or the request would skip the pool.
        let pk_type = [0xa1, 0x03, 0x02, 0x01, 0x10];
        let at = pkinit
            .windows(pk_type.len())
            .position(|w| w == pk_type)
            .unwrap();
        let mut primitive = pkinit.clone();
        primitive[at] = 0x81;
        let decoded = KdcRequest::decode(&primitive).unwrap();
        assert!(decoded.padata(padata::PK_AS_REQ).is_some());
        assert!(as_req_may_carry(&primitive, padata::PK_AS_REQ));
    }

    #[test]
    fn small_integers_read_as_der_encodes_them() {
        assert_eq!(small_integer(&[0x10]), Some(16));
        assert_eq!(small_integer(&[0x00, 0x80]), Some(128));
        assert_eq!(small_integer(&[0x80]), Some(-128));
        assert_eq!(small_integer(&[0xff, 0x7f]), Some(-129));
        assert_eq!(small_integer(&[]), None);
        assert_eq!(small_integer(&[1; 9]), None);
    }

    #[test]
    fn a_krb_errors_code_is_read_back() {
        let context = ErrorContext {
            realm: "EXAMPLE.TEST".into(),
            ..ErrorContext::default()
        };
        let error = krb_error(ErrorCode::SVC_UNAVAILABLE, context, SystemTime::now());
        assert_eq!(krb_error_code(&error), Some(ErrorCode::SVC_UNAVAILABLE));
        assert_eq!(krb_error_code(&error[..error.len() - 1]), None);
        assert_eq!(
            krb_error_code(&crate::testing::wire("mit_tgs_req_host.der")),
            None
        );
        assert_eq!(krb_error_code(&[]), None);
    }
}
