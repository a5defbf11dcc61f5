//! A CRL (RFC 5280 §5) as the trust store keeps it: parsed once when the store is read, its
//! revoked serials indexed, and its signature verified once per issuer key that asks. An
//! enterprise CRL runs to megabytes and tens of thousands of entries; a logon looks one
//! serial up instead of parsing and verifying the whole list. A CRL whose
//! issuingDistributionPoint (§5.2.5) limits it to a scope this KDC does not implement is
//! kept but never taken as the issuer's CRL, so revocation fails closed for its CA.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use x509_parser::certificate::X509Certificate;
use x509_parser::der_parser::oid::Oid;
use x509_parser::extensions::{IssuingDistributionPoint, ParsedExtension};
use x509_parser::oid_registry::{
    OID_X509_EXT_DELTA_CRL_INDICATOR, OID_X509_EXT_ISSUER_DISTRIBUTION_POINT,
};
use x509_parser::prelude::FromDer;
use x509_parser::revocation_list::CertificateRevocationList;
use x509_parser::time::ASN1Time;

use crate::proto::der;

/// deltaCRLIndicator (RFC 5280 §5.2.4): such a CRL lists only changes.
const DELTA_CRL_INDICATOR: Oid<'static> = OID_X509_EXT_DELTA_CRL_INDICATOR;

/// issuingDistributionPoint (RFC 5280 §5.2.5): a CRL that covers only part of its issuer's
/// certificates.
const ISSUING_DISTRIBUTION_POINT: Oid<'static> = OID_X509_EXT_ISSUER_DISTRIBUTION_POINT;

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
    /// Which certificates of its issuer the CRL covers (issuingDistributionPoint).
    pub scope: Scope,
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
            .any(|ext| ext.oid == DELTA_CRL_INDICATOR);
        let scope = crl
            .extensions()
            .iter()
            .filter(|ext| ext.oid == ISSUING_DISTRIBUTION_POINT)
            .map(|ext| match ext.parsed_extension() {
                ParsedExtension::IssuingDistributionPoint(idp) => Scope::of(idp),
                _ => Scope::Unsupported("an unreadable issuingDistributionPoint".into()),
            })
            .next()
            .unwrap_or(Scope::Complete);
        let issuer = crl.issuer().as_raw().to_vec();
        let (this_update, next_update) = (crl.last_update(), crl.next_update());
        Ok(Crl {
            der,
            issuer,
            this_update,
            next_update,
            is_delta,
            scope,
            revoked,
            signers: Mutex::new(Vec::new()),
        })
    }

    /// Whether this CRL speaks for every certificate of its issuer of this kind (a CA's
    /// certificate, or an end entity's).
    pub fn covers(&self, ca_certificate: bool) -> bool {
        match self.scope {
            Scope::Complete => true,
            Scope::EndEntities => !ca_certificate,
            Scope::Unsupported(_) => false,
        }
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

/// The part of its issuer's certificates a CRL covers (RFC 5280 §5.2.5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// No issuingDistributionPoint, or one that limits nothing.
    Complete,
    /// onlyContainsUserCerts: complete for end-entity certificates, silent on CAs.
    EndEntities,
    /// A scope this KDC does not implement (partitioned, reason-split, indirect, CA-only
    /// or attribute-certificate CRLs), named for the log. Such a CRL is never used.
    Unsupported(String),
}

impl Scope {
    fn of(idp: &IssuingDistributionPoint<'_>) -> Scope {
        let unsupported: Vec<&str> = [
            (idp.distribution_point.is_some(), "a distributionPoint"),
            (idp.only_some_reasons.is_some(), "onlySomeReasons"),
            (idp.indirect_crl, "indirectCRL"),
            (idp.only_contains_ca_certs, "onlyContainsCACerts"),
            (
                idp.only_contains_attribute_certs,
                "onlyContainsAttributeCerts",
            ),
        ]
        .into_iter()
        .filter_map(|(set, name)| set.then_some(name))
        .collect();
        if !unsupported.is_empty() {
            Scope::Unsupported(unsupported.join(", "))
        } else if idp.only_contains_user_certs {
            Scope::EndEntities
        } else {
            Scope::Complete
        }
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

    #[test]
    fn scopes_it_cannot_honour_make_a_crl_unusable() {
        let idp = |f: &dyn Fn(&mut IssuingDistributionPoint<'static>)| {
            let mut idp = IssuingDistributionPoint {
                distribution_point: None,
                only_contains_user_certs: false,
                only_contains_ca_certs: false,
                only_some_reasons: None,
                indirect_crl: false,
                only_contains_attribute_certs: false,
            };
            f(&mut idp);
            Scope::of(&idp)
        };
        assert_eq!(idp(&|_| {}), Scope::Complete);
        assert_eq!(
            idp(&|i| i.only_contains_user_certs = true),
            Scope::EndEntities
        );
        for (set, name) in [
            (
                &(|i: &mut IssuingDistributionPoint<'static>| i.indirect_crl = true)
                    as &dyn Fn(&mut IssuingDistributionPoint<'static>),
                "indirectCRL",
            ),
            (&|i| i.only_contains_ca_certs = true, "onlyContainsCACerts"),
            (
                &|i| i.only_contains_attribute_certs = true,
                "onlyContainsAttributeCerts",
            ),
            (
                &|i| {
                    i.only_some_reasons = Some(x509_parser::extensions::ReasonFlags { flags: 0x02 })
                },
                "onlySomeReasons",
            ),
        ] {
            assert_eq!(idp(set), Scope::Unsupported(name.into()));
        }
        let (params, key, _) = ca("Partitioned CA");
        let now = OffsetDateTime::now_utc();
        let crl_der = CertificateRevocationListParams {
            this_update: now - Duration::days(1),
            next_update: now + Duration::days(7),
            crl_number: vec![1].into(),
            issuing_distribution_point: Some(rcgen::CrlIssuingDistributionPoint {
                distribution_point: rcgen::CrlDistributionPoint {
                    uris: vec!["http://pki.example.test/1.crl".into()],
                },
                scope: Some(rcgen::CrlScope::UserCertsOnly),
            }),
            revoked_certs: Vec::new(),
            key_identifier_method: KeyIdMethod::Sha256,
        }
        .signed_by(&Issuer::new(params, &key))
        .unwrap()
        .der()
        .to_vec();
        let crl = Crl::parse(crl_der).unwrap();
        assert_eq!(crl.scope, Scope::Unsupported("a distributionPoint".into()));
        assert!(!crl.covers(false) && !crl.covers(true));
    }
}
