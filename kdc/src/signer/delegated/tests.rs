//! Delegated signing with a software CA standing in for the TPM key: the chain, the
//! certificate's fields, CMS replies that verify, and issuer outages.

use std::sync::atomic::AtomicBool;

use x509_parser::prelude::*;

use super::*;
use crate::preauth::pkinit::cms;
use crate::signer::software::SoftwareSigner;

/// A CA signer that can be switched off, as a TPM that went away.
struct FlakyIssuer {
    inner: SoftwareSigner,
    down: AtomicBool,
}

#[async_trait]
impl KdcSigner for FlakyIssuer {
    fn scheme(&self) -> SignatureScheme {
        self.inner.scheme()
    }
    fn digests(&self) -> &'static [DigestAlgorithm] {
        self.inner.digests()
    }
    async fn sign(&self, message: &[u8], digest: DigestAlgorithm) -> Result<Signed, SignerError> {
        if self.down.load(Ordering::Relaxed) {
            return Err(SignerError::Unavailable("issuer down".into()));
        }
        self.inner.sign(message, digest).await
    }
}

/// A root CA and, under it, a pathLen-0 CA whose key is the issuer (as the TPM key is).
fn issuer(
    alg: &'static rcgen::SignatureAlgorithm,
) -> (Arc<FlakyIssuer>, CertificateChain, Vec<u8>) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, KeyUsagePurpose};
    let root_key = KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).unwrap();
    let mut root = CertificateParams::new(Vec::new()).unwrap();
    root.is_ca = IsCa::Ca(BasicConstraints::Constrained(1));
    root.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    let root_cert = root.self_signed(&root_key).unwrap();
    let root_issuer = Issuer::new(root, &root_key);
    let ca_key = KeyPair::generate_for(alg).unwrap();
    let mut ca = CertificateParams::new(Vec::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca.signed_by(&ca_key, &root_issuer).unwrap();
    let chain: Vec<Vec<u8>> = vec![ca_cert.der().to_vec()];
    let inner = SoftwareSigner::from_der(&ca_key.serialize_der(), chain.clone()).unwrap();
    (
        Arc::new(FlakyIssuer {
            inner,
            down: AtomicBool::new(false),
        }),
        CertificateChain::new(chain).unwrap(),
        root_cert.der().to_vec(),
    )
}

fn policy(key_scheme: SignatureScheme) -> Policy {
    Policy {
        realm: "EXAMPLE.TEST".into(),
        dns_name: "kdc.example.test".into(),
        period: Duration::from_secs(600),
        clock_skew: Duration::from_secs(300),
        key_scheme,
    }
}

#[tokio::test]
async fn replies_carry_a_fresh_kdc_certificate_and_the_ca() {
    for (ca_alg, key_scheme) in [
        (
            &rcgen::PKCS_ECDSA_P256_SHA256,
            SignatureScheme::RsaPkcs1Sha256,
        ),
        (&rcgen::PKCS_RSA_SHA256, SignatureScheme::EcdsaP256Sha256),
    ] {
        let (issuer, chain, _root) = issuer(ca_alg);
        let signer = DelegatedSigner::start(issuer, chain.clone(), policy(key_scheme))
            .await
            .unwrap();
        let signed = cms::sign(
            cms::ContentType::DhKeyInfo,
            b"key info",
            &signer,
            DigestAlgorithm::Sha256,
        )
        .await
        .unwrap();
        let verified = cms::verify(&signed, cms::ContentType::DhKeyInfo).unwrap();
        assert_eq!(verified.content(), b"key info");

        let reply_chain = signer
            .sign(b"x", DigestAlgorithm::Sha256)
            .await
            .unwrap()
            .chain
            .certificates()
            .to_vec();
        assert_eq!(reply_chain.len(), 2);
        assert_eq!(reply_chain[1], chain.certificates()[0]);
        assert_eq!(
            verified.signer_certificate(),
            Some(reply_chain[0].as_slice())
        );
        let (_, leaf) = parse_x509_certificate(&reply_chain[0]).unwrap();
        let (_, ca) = parse_x509_certificate(&chain.certificates()[0]).unwrap();
        leaf.verify_signature(Some(ca.public_key())).unwrap();
        assert_eq!(leaf.issuer().as_raw(), ca.subject().as_raw());
        assert!(!leaf.is_ca());
        let eku = leaf.extended_key_usage().unwrap().unwrap().value;
        assert!(eku.server_auth);
        assert_eq!(eku.other[0].to_id_string(), "1.3.6.1.5.2.3.5");
        // notBefore backdated by the skew, notAfter two periods ahead.
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let not_before = leaf.validity().not_before.timestamp();
        let not_after = leaf.validity().not_after.timestamp();
        assert!(
            (now - 300 - 5..=now - 300).contains(&not_before),
            "{not_before} vs {now}"
        );
        assert!(
            (now + 1200 - 5..=now + 1200).contains(&not_after),
            "{not_after} vs {now}"
        );
        assert_eq!(signer.stats().rotations.load(Ordering::Relaxed), 1);
    }
}

#[tokio::test]
async fn issuer_outage_costs_nothing_while_the_certificate_lives() {
    let (issuer, chain, _) = issuer(&rcgen::PKCS_ECDSA_P256_SHA256);
    let signer = DelegatedSigner::start(
        issuer.clone(),
        chain,
        policy(SignatureScheme::EcdsaP256Sha256),
    )
    .await
    .unwrap();
    let before = signer
        .sign(b"a", DigestAlgorithm::Sha256)
        .await
        .unwrap()
        .chain
        .certificates()
        .to_vec();
    issuer.down.store(true, Ordering::Relaxed);
    assert!(signer.rotate_now().await.is_err());
    let during = signer
        .sign(b"b", DigestAlgorithm::Sha256)
        .await
        .unwrap()
        .chain
        .certificates()
        .to_vec();
    assert_eq!(before[0], during[0], "the certificate in use stays");
    assert_eq!(signer.stats().failed_rotations.load(Ordering::Relaxed), 1);
    issuer.down.store(false, Ordering::Relaxed);
    signer.rotate_now().await.unwrap();
    let after = signer
        .sign(b"c", DigestAlgorithm::Sha256)
        .await
        .unwrap()
        .chain
        .certificates()
        .to_vec();
    assert_ne!(before[0], after[0], "a new key and certificate");
}

#[tokio::test]
async fn no_certificate_yet_means_unavailable_until_the_issuer_returns() {
    let (issuer, chain, _) = issuer(&rcgen::PKCS_RSA_SHA256);
    issuer.down.store(true, Ordering::Relaxed);
    let signer = DelegatedSigner::start(
        issuer.clone(),
        chain,
        policy(SignatureScheme::RsaPkcs1Sha256),
    )
    .await
    .unwrap();
    assert!(matches!(
        signer.sign(b"a", DigestAlgorithm::Sha256).await,
        Err(SignerError::Unavailable(_))
    ));
    assert_eq!(signer.stats().refused.load(Ordering::Relaxed), 1);
    issuer.down.store(false, Ordering::Relaxed);
    signer.rotate_now().await.unwrap();
    assert!(signer.sign(b"a", DigestAlgorithm::Sha256).await.is_ok());
}

#[tokio::test]
async fn an_issuer_that_is_not_a_ca_is_refused() {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let cert = rcgen::CertificateParams::new(vec!["kdc.example.test".into()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let chain = vec![cert.der().to_vec()];
    let inner = SoftwareSigner::from_der(&key.serialize_der(), chain.clone()).unwrap();
    let result = DelegatedSigner::start(
        Arc::new(inner),
        CertificateChain::new(chain).unwrap(),
        policy(SignatureScheme::RsaPkcs1Sha256),
    )
    .await;
    assert!(matches!(result, Err(SignerError::Key(_))));
}
