//! X.509 certificates and PKCS#10 requests built by hand (RFC 5280 §4.1, RFC 2986 §4) so that
//! any `KdcSigner`, a TPM key included, can sign them: rcgen wants the private key in process.
//! Names, validity, serials and the signed envelope live here; extensions and CSRs beside.

pub mod csr;
pub mod extensions;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::proto::der::{self, tag};
use crate::signer::{KdcSigner, SignerError};

const UTF8_STRING: u8 = 0x0c;
const UTC_TIME: u8 = 0x17;
const GENERALIZED_TIME: u8 = 0x18;
const BOOLEAN: u8 = 0x01;
const ORGANIZATION: &[u32] = &[2, 5, 4, 10];
const COMMON_NAME: &[u32] = &[2, 5, 4, 3];

/// A distinguished name `O=organization, CN=common_name` (RFC 5280 §4.1.2.4), UTF8String.
pub fn name(organization: &str, common_name: &str) -> Vec<u8> {
    let rdn = |kind: &[u32], value: &str| {
        let attribute = der::encode_parts(
            tag::SEQUENCE,
            &[
                &der::encode_oid(kind),
                &der::encode(UTF8_STRING, value.as_bytes()),
            ],
        );
        der::encode(tag::SET, &attribute)
    };
    der::encode_parts(
        tag::SEQUENCE,
        &[
            &rdn(ORGANIZATION, organization),
            &rdn(COMMON_NAME, common_name),
        ],
    )
}

/// Validity: UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 §4.1.2.5).
pub fn validity(not_before: SystemTime, not_after: SystemTime) -> Result<Vec<u8>, SignerError> {
    Ok(der::encode_parts(
        tag::SEQUENCE,
        &[&time(not_before)?, &time(not_after)?],
    ))
}

fn time(at: SystemTime) -> Result<Vec<u8>, SignerError> {
    let seconds = at
        .duration_since(UNIX_EPOCH)
        .map_err(|_| SignerError::Key("time before 1970".into()))?
        .as_secs();
    let at = time::OffsetDateTime::from_unix_timestamp(i64::try_from(seconds).unwrap_or(i64::MAX))
        .map_err(|_| SignerError::Key("time out of range".into()))?;
    let (year, month, day) = (at.year(), u8::from(at.month()), at.day());
    let clock = format!(
        "{month:02}{day:02}{:02}{:02}{:02}Z",
        at.hour(),
        at.minute(),
        at.second()
    );
    Ok(if (1950..2050).contains(&year) {
        der::encode(UTC_TIME, format!("{:02}{clock}", year % 100).as_bytes())
    } else {
        der::encode(GENERALIZED_TIME, format!("{year:04}{clock}").as_bytes())
    })
}

/// A positive 127-bit random serial number (RFC 5280 §4.1.2.2: at most 20 octets).
pub fn random_serial() -> Result<Vec<u8>, SignerError> {
    let mut serial = [0u8; 16];
    aws_lc_rs::rand::fill(&mut serial)
        .map_err(|_| SignerError::Key("random generator failed".into()))?;
    if let Some(first) = serial.first_mut() {
        *first = (*first & 0x7f) | 0x40;
    }
    Ok(der::encode_unsigned_integer(&serial))
}

/// One Extension (RFC 5280 §4.1): extnID, critical when true, extnValue.
pub fn extension(id: &[u32], critical: bool, value: &[u8]) -> Vec<u8> {
    let critical: &[u8] = if critical { &[BOOLEAN, 1, 0xff] } else { &[] };
    der::encode_parts(
        tag::SEQUENCE,
        &[
            &der::encode_oid(id),
            critical,
            &der::encode(tag::OCTET_STRING, value),
        ],
    )
}

/// What a TBSCertificate (RFC 5280 §4.1.2) says; the signature algorithm comes from the
/// issuer's signer.
pub struct TbsFields<'a> {
    pub serial: Vec<u8>,
    pub issuer: &'a [u8],
    pub not_before: SystemTime,
    pub not_after: SystemTime,
    pub subject: &'a [u8],
    pub spki: &'a [u8],
    pub extensions: Vec<Vec<u8>>,
}

/// Builds the TBSCertificate (v3) and has `issuer` sign it: a DER Certificate.
pub async fn issue(fields: TbsFields<'_>, issuer: &dyn KdcSigner) -> Result<Vec<u8>, SignerError> {
    let scheme = issuer.scheme();
    let algorithm = scheme.signature_algorithm_der(scheme.default_digest());
    let version = der::encode(tag::context(0), &der::encode(tag::INTEGER, &[2]));
    let extensions = der::encode(
        tag::context(3),
        &der::encode(tag::SEQUENCE, &fields.extensions.concat()),
    );
    let tbs = der::encode_parts(
        tag::SEQUENCE,
        &[
            &version,
            &fields.serial,
            &algorithm,
            fields.issuer,
            &validity(fields.not_before, fields.not_after)?,
            fields.subject,
            fields.spki,
            &extensions,
        ],
    );
    signed_envelope(tbs, issuer).await
}

/// `SEQUENCE { tbs, signatureAlgorithm, BIT STRING signature }`: the shape shared by
/// Certificate (RFC 5280 §4.1.1) and CertificationRequest (RFC 2986 §4.2).
pub async fn signed_envelope(
    to_be_signed: Vec<u8>,
    signer: &dyn KdcSigner,
) -> Result<Vec<u8>, SignerError> {
    let scheme = signer.scheme();
    let digest = scheme.default_digest();
    let algorithm = scheme.signature_algorithm_der(digest);
    let signed = signer.sign(&to_be_signed, digest).await?;
    let mut bits = Vec::with_capacity(signed.signature.len() + 1);
    bits.push(0);
    bits.extend_from_slice(&signed.signature);
    Ok(der::encode_parts(
        tag::SEQUENCE,
        &[
            &to_be_signed,
            &algorithm,
            &der::encode(tag::BIT_STRING, &bits),
        ],
    ))
}

/// Whole seconds, for validity arithmetic.
pub fn seconds(n: u64) -> Duration {
    Duration::from_secs(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_switch_encoding_at_2050() {
        // RFC 5280 §4.1.2.5.1/2: 2049-12-31T23:59:59Z is UTCTime, 2050-01-01 GeneralizedTime.
        let last_utc = UNIX_EPOCH + seconds(2_524_607_999);
        assert_eq!(time(last_utc).unwrap(), b"\x17\x0d491231235959Z");
        let first_generalized = UNIX_EPOCH + seconds(2_524_608_000);
        assert_eq!(time(first_generalized).unwrap(), b"\x18\x0f20500101000000Z");
    }

    #[test]
    fn serial_is_positive_and_sixteen_bytes() {
        let serial = random_serial().unwrap();
        assert_eq!(serial.len(), 18);
        assert_eq!(serial.get(..2), Some(&[0x02, 0x10][..]));
        assert!(serial.get(2).is_some_and(|b| b & 0x80 == 0 && *b != 0));
    }
}
