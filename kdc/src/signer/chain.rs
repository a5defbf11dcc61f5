//! The certificate chain of a signing key, leaf first, as a PA-PK-AS-REP's SignedData
//! carries it (RFC 4556 §3.2.3), with what every reply needs of it encoded once, when the
//! chain is made: the SignedData's certificates field (RFC 5652 §5.1), the leaf's
//! issuerAndSerialNumber, which names the signer in the SignerInfo (§5.3, §10.2.4), and the
//! leaf's notAfter, which the metrics report.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::SignerError;
use crate::proto::der::{self, tag};

/// A chain, cheap to clone: every signature hands out the one its key belongs to. It may be
/// empty (a TPM key that is being provisioned signs its request before it has a certificate).
#[derive(Clone, Debug)]
pub struct CertificateChain(Arc<Chain>);

#[derive(Debug)]
struct Chain {
    certificates: Vec<Vec<u8>>,
    /// DER `[0] IMPLICIT CertificateSet`.
    certificate_set: Vec<u8>,
    leaf: Option<Leaf>,
}

#[derive(Debug)]
struct Leaf {
    /// DER IssuerAndSerialNumber.
    issuer_and_serial: Vec<u8>,
    not_after: Option<SystemTime>,
}

impl CertificateChain {
    /// The chain `certificates` (leaf first); fails if the leaf is not a certificate.
    pub fn new(certificates: Vec<Vec<u8>>) -> Result<CertificateChain, SignerError> {
        let leaf = certificates.first().map(|der| leaf(der)).transpose()?;
        let certificate_set = der::encode_set_of(tag::context(0), certificates.clone());
        Ok(CertificateChain(Arc::new(Chain {
            certificates,
            certificate_set,
            leaf,
        })))
    }

    /// The certificates, DER, leaf first.
    pub fn certificates(&self) -> &[Vec<u8>] {
        &self.0.certificates
    }

    /// The SignedData's `certificates [0] IMPLICIT CertificateSet` (RFC 5652 §5.1), DER.
    pub fn certificate_set(&self) -> &[u8] {
        &self.0.certificate_set
    }

    /// The leaf's DER IssuerAndSerialNumber; None for an empty chain.
    pub fn issuer_and_serial(&self) -> Option<&[u8]> {
        self.0.leaf.as_ref().map(|l| l.issuer_and_serial.as_slice())
    }

    /// When the leaf expires; None for an empty chain (or a date before 1970).
    pub fn not_after(&self) -> Option<SystemTime> {
        self.0.leaf.as_ref().and_then(|l| l.not_after)
    }
}

fn leaf(der_bytes: &[u8]) -> Result<Leaf, SignerError> {
    let (_, cert) = x509_parser::parse_x509_certificate(der_bytes)
        .map_err(|e| SignerError::Key(format!("bad KDC certificate: {e}")))?;
    let issuer_and_serial = der::encode_parts(
        tag::SEQUENCE,
        &[
            cert.issuer().as_raw(),
            &der::encode(tag::INTEGER, cert.raw_serial()),
        ],
    );
    let not_after = u64::try_from(cert.validity().not_after.timestamp())
        .ok()
        .and_then(|seconds| SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(seconds)));
    Ok(Leaf {
        issuer_and_serial,
        not_after,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_leafs_issuer_serial_and_expiry_once() {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(vec!["kdc.example.test".into()]).unwrap();
        params.serial_number = Some(vec![0x00, 0x9A, 0x01].into());
        params.not_after = rcgen::date_time_ymd(2031, 1, 2);
        let cert = params.self_signed(&key).unwrap();
        let chain = CertificateChain::new(vec![cert.der().to_vec()]).unwrap();

        let (_, parsed) = x509_parser::parse_x509_certificate(cert.der()).unwrap();
        let fields = der::Tlv::read_only(chain.issuer_and_serial().unwrap(), tag::SEQUENCE)
            .unwrap()
            .children();
        let parts: Vec<_> = fields.map(|part| part.unwrap().raw).collect();
        assert_eq!(parts[0], parsed.issuer().as_raw());
        assert_eq!(parts[1], der::encode(tag::INTEGER, parsed.raw_serial()));
        assert_eq!(
            chain.not_after(),
            Some(SystemTime::UNIX_EPOCH + Duration::from_secs(1_925_078_400))
        );
        assert_eq!(chain.certificates(), [cert.der().to_vec()]);
        assert_eq!(
            chain.certificate_set(),
            der::encode(tag::context(0), cert.der())
        );
    }

    #[test]
    fn a_chain_may_be_empty_but_not_a_leaf_that_is_no_certificate() {
        let empty = CertificateChain::new(vec![]).unwrap();
        assert!(empty.issuer_and_serial().is_none() && empty.not_after().is_none());
        assert!(matches!(
            CertificateChain::new(vec![b"not a certificate".to_vec()]),
            Err(SignerError::Key(_))
        ));
    }
}
