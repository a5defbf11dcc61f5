//! Issuing one delegated KDC certificate (RFC 5280 §4.1): a fresh aws-lc-rs key, a
//! TBSCertificate naming the issuer's subject and key identifier, the RFC 4556 §3.2.4 KDC
//! extensions, notBefore backdated by the clock skew, notAfter two periods ahead; signed by
//! the issuer and checked against the issuer certificate before it is used.

use std::time::{Duration, SystemTime};

use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::ParsedExtension;

use super::Current;
use crate::signer::software::SoftwareKey;
use crate::signer::x509::{self, TbsFields, extensions};
use crate::signer::{CertificateChain, KdcSigner, SignatureScheme, SignerError};

/// What each delegated certificate says and how long it lives.
#[derive(Clone, Debug)]
pub struct Policy {
    pub realm: String,
    /// dNSName in the SAN and the subject CN.
    pub dns_name: String,
    /// Time between two keys; each certificate is valid for two periods.
    pub period: Duration,
    /// notBefore is this much in the past; also the margin kept before notAfter.
    pub clock_skew: Duration,
    pub key_scheme: SignatureScheme,
}

impl Policy {
    /// A key stops being used this long before its notAfter: the clock skew, but never more
    /// than half a period (so a short period still leaves a usable window).
    fn margin(&self) -> Duration {
        self.clock_skew.min(self.period / 2)
    }
}

fn parse(der: &[u8]) -> Result<X509Certificate<'_>, SignerError> {
    x509_parser::parse_x509_certificate(der)
        .map(|(_, c)| c)
        .map_err(|e| SignerError::Key(format!("issuer certificate: {e}")))
}

/// The issuer must be a CA allowed to sign certificates (basicConstraints cA, keyCertSign).
pub fn check_issuer(chain: &[Vec<u8>]) -> Result<(), SignerError> {
    let ca = chain
        .first()
        .ok_or_else(|| SignerError::Key("no certificate for the issuing key".into()))?;
    let ca = parse(ca)?;
    let is_ca = ca
        .basic_constraints()
        .ok()
        .flatten()
        .is_some_and(|bc| bc.value.ca);
    let may_sign = ca
        .key_usage()
        .ok()
        .flatten()
        .is_none_or(|ku| ku.value.key_cert_sign());
    if !is_ca || !may_sign {
        return Err(SignerError::Key(
            "the TPM key's certificate is not a CA (delegated mode needs basicConstraints \
             cA TRUE, pathLen 0, keyCertSign)"
                .into(),
        ));
    }
    Ok(())
}

fn subject_key_id<'a>(cert: &'a X509Certificate<'_>) -> Option<&'a [u8]> {
    cert.extensions()
        .iter()
        .find_map(|ext| match ext.parsed_extension() {
            ParsedExtension::SubjectKeyIdentifier(id) => Some(id.0),
            _ => None,
        })
}

pub(super) async fn next(
    issuer: &dyn KdcSigner,
    issuer_chain: &CertificateChain,
    policy: &Policy,
) -> Result<Current, SignerError> {
    let scheme = policy.key_scheme;
    let key = tokio::task::spawn_blocking(move || SoftwareKey::generate(scheme))
        .await
        .map_err(|e| SignerError::Key(format!("key generation task: {e}")))??;
    let spki = key.spki_der()?;
    let ca_der = issuer_chain
        .certificates()
        .first()
        .ok_or_else(|| SignerError::Key("no issuer certificate".into()))?;
    let ca = parse(ca_der)?;

    let mut exts = extensions::kdc(&policy.realm, &policy.dns_name)?;
    exts.push(extensions::subject_key_identifier(key.public_key_bits()));
    if let Some(id) = subject_key_id(&ca) {
        exts.push(extensions::authority_key_identifier(id));
    }
    let now = SystemTime::now();
    let not_after = now + policy.period * 2;
    let subject = x509::name(&policy.realm, &policy.dns_name);
    let cert = x509::issue(
        TbsFields {
            serial: x509::random_serial()?,
            issuer: ca.subject().as_raw(),
            not_before: now - policy.clock_skew,
            not_after,
            subject: &subject,
            spki: &spki,
            extensions: exts,
        },
        issuer,
    )
    .await?;
    // A wrong key in the TPM would otherwise make every client refuse every reply.
    let (_, issued) = x509_parser::parse_x509_certificate(&cert)
        .map_err(|e| SignerError::Key(format!("issued certificate does not parse: {e}")))?;
    issued
        .verify_signature(Some(ca.public_key()))
        .map_err(|_| {
            SignerError::Key(
                "the issued KDC certificate does not verify with the TPM key's certificate".into(),
            )
        })?;
    let chain: Vec<Vec<u8>> = std::iter::once(cert)
        .chain(issuer_chain.certificates().iter().cloned())
        .collect();
    Ok(Current {
        key,
        chain: CertificateChain::new(chain)?,
        not_after,
        usable_until: not_after - policy.margin(),
    })
}
