//! A CRL (RFC 5280 §5) as the trust store keeps it: parsed once when the store is read, its
//! revoked serials indexed, and its signature verified once per issuer key that asks. An
//! enterprise CRL runs to megabytes and tens of thousands of entries; a logon looks one
//! serial up instead of parsing and verifying the whole list.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use x509_parser::certificate::X509Certificate;
use x509_parser::prelude::FromDer;
use x509_parser::revocation_list::CertificateRevocationList;
use x509_parser::time::ASN1Time;

use crate::proto::der;

/// deltaCRLIndicator (RFC 5280 §5.2.4): such a CRL lists only changes.
const DELTA_CRL_INDICATOR: &str = "2.5.29.27";

/// How many issuer keys a CRL remembers its verdict for; more than a CA ever has at once,
/// few enough that a stream of forged issuers cannot grow it.
const REMEMBERED_SIGNERS: usize = 8;

/// One CRL of the store.
#[derive(Debug)]
pub struct Crl {
    der: Vec<u8>,
    /// The issuer's name, DER as in the CRL: the certificate whose subject it must match.
    pub issuer: Vec<u8>,
    pub this_update: ASN1Time,
    pub next_update: Option<ASN1Time>,
    /// A delta CRL (RFC 5280 §5.2.4), which the revocation check does not use.
    pub is_delta: bool,
    /// Serial number (unsigned, no leading zeros) -> revocation date.
    revoked: HashMap<Vec<u8>, ASN1Time>,
    /// Issuer public keys (SubjectPublicKeyInfo DER) already checked, with the verdict.
    signers: Mutex<Vec<(Vec<u8>, bool)>>,
}

impl Crl {
    /// Parses a DER CRL; the error says what is wrong with it.
    pub fn parse(der: Vec<u8>) -> Result<Crl, String> {
        let (_, crl) =
            CertificateRevocationList::from_der(&der).map_err(|e| format!("not a CRL: {e}"))?;
        let revoked = crl
            .iter_revoked_certificates()
            .map(|entry| {
                (
                    der::unsigned_integer_bytes(entry.raw_serial()).to_vec(),
                    entry.revocation_date,
                )
            })
            .collect();
        let is_delta = crl
            .extensions()
            .iter()
            .any(|ext| ext.oid.to_id_string() == DELTA_CRL_INDICATOR);
        let issuer = crl.issuer().as_raw().to_vec();
        let (this_update, next_update) = (crl.last_update(), crl.next_update());
        Ok(Crl {
            der,
            issuer,
            this_update,
            next_update,
            is_delta,
            revoked,
            signers: Mutex::new(Vec::new()),
        })
    }

    /// When `serial` (the certificate's DER INTEGER content) was revoked, if it was.
    pub fn revocation_date(&self, serial: &[u8]) -> Option<ASN1Time> {
        self.revoked
            .get(der::unsigned_integer_bytes(serial))
            .copied()
    }

    /// Whether `issuer`'s key signed this CRL; the verdict is remembered per key.
    pub fn is_signed_by(&self, issuer: &X509Certificate<'_>) -> bool {
        let key = issuer.public_key().raw;
        if let Some((_, verdict)) = self.signers().iter().find(|(spki, _)| spki == key) {
            return *verdict;
        }
        let verdict = CertificateRevocationList::from_der(&self.der)
            .is_ok_and(|(_, crl)| crl.verify_signature(issuer.public_key()).is_ok());
        let mut signers = self.signers();
        if signers.len() < REMEMBERED_SIGNERS {
            signers.push((key.to_vec(), verdict));
        }
        verdict
    }

    fn signers(&self) -> std::sync::MutexGuard<'_, Vec<(Vec<u8>, bool)>> {
        self.signers.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use rcgen::{
        BasicConstraints, CertificateParams, CertificateRevocationListParams, DnType, IsCa, Issuer,
        KeyIdMethod, KeyPair, KeyUsagePurpose, RevokedCertParams, SerialNumber,
    };
    use time::{Duration, OffsetDateTime};
    use x509_parser::prelude::FromDer;

    use super::*;

    fn ca(name: &str) -> (CertificateParams, KeyPair, Vec<u8>) {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::default();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let der = params.self_signed(&key).unwrap().der().to_vec();
        (params, key, der)
    }

    #[test]
    fn indexes_serials_and_remembers_each_signer_apart() {
        let (params, key, genuine_der) = ca("Some CA");
        let (_, _, impostor_der) = ca("Some CA");
        let now = OffsetDateTime::now_utc();
        let crl_der = CertificateRevocationListParams {
            this_update: now - Duration::days(1),
            next_update: now + Duration::days(7),
            crl_number: vec![1].into(),
            issuing_distribution_point: None,
            revoked_certs: vec![RevokedCertParams {
                serial_number: SerialNumber::from(vec![0x01, 0x42]),
                revocation_time: now - Duration::hours(1),
                reason_code: None,
                invalidity_date: None,
            }],
            key_identifier_method: KeyIdMethod::Sha256,
        }
        .signed_by(&Issuer::new(params, &key))
        .unwrap()
        .der()
        .to_vec();
        let crl = Crl::parse(crl_der).unwrap();
        assert!(!crl.is_delta);
        // The serial as a certificate carries it: DER INTEGER content, maybe a 0x00 in front.
        assert!(crl.revocation_date(&[0x01, 0x42]).is_some());
        assert!(crl.revocation_date(&[0x00, 0x01, 0x42]).is_some());
        assert!(crl.revocation_date(&[0x42]).is_none());

        let genuine = X509Certificate::from_der(&genuine_der).unwrap().1;
        let impostor = X509Certificate::from_der(&impostor_der).unwrap().1;
        assert_eq!(crl.issuer, genuine.subject().as_raw());
        for _ in 0..2 {
            assert!(crl.is_signed_by(&genuine));
            assert!(!crl.is_signed_by(&impostor));
        }
    }

    #[test]
    fn refuses_what_is_not_a_crl() {
        assert!(Crl::parse(vec![0x30, 0x03, 0x02, 0x01, 0x01]).is_err());
    }
}
