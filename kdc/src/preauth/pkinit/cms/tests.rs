//! Tests of CMS SignedData verification against real client captures and of the KDC's own
//! signatures (RFC 5652 §5).

use crate::preauth::pkinit::cms::{self, CmsError};
use crate::proto::codes::{oid, padata};
use crate::proto::der::{self, tag};
use crate::proto::kerberos::KdcRequest;
use crate::proto::pkinit::PaPkAsReq;
use crate::signer::software::SoftwareSigner;
use crate::signer::{DigestAlgorithm, KdcSigner};

fn signed_auth_pack(name: &str) -> Vec<u8> {
    let bytes = crate::testing::wire(name);
    let request = KdcRequest::decode(&bytes).unwrap();
    let pa: PaPkAsReq = rasn::der::decode(request.padata(padata::PK_AS_REQ).unwrap()).unwrap();
    pa.signed_auth_pack.to_vec()
}

/// A software signer with a fresh self-signed certificate for `name`, and that certificate.
fn self_signed_signer(
    algorithm: &'static rcgen::SignatureAlgorithm,
    name: &str,
) -> (SoftwareSigner, Vec<u8>) {
    let key = rcgen::KeyPair::generate_for(algorithm).unwrap();
    let cert = rcgen::CertificateParams::new(vec![name.to_owned()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let der = cert.der().to_vec();
    let signer = SoftwareSigner::from_der(&key.serialize_der(), vec![der.clone()]).unwrap();
    (signer, der)
}

fn alice_certificate_der() -> Vec<u8> {
    let pem = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../testdata/wire/alice.pem"
    ))
    .unwrap();
    pem::parse(pem).unwrap().into_contents()
}

#[test]
fn real_mit_and_heimdal_signatures_verify() {
    for name in [
        "mit_as_req_pkinit_dh2048.der",
        "mit_as_req_pkinit_dh4096.der",
        "heimdal_as_req_pkinit_dh2048.der",
    ] {
        let content_info = signed_auth_pack(name);
        let verified = cms::verify(&content_info, cms::ContentType::AuthPack)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            verified.signer_certificate(),
            Some(alice_certificate_der().as_slice()),
            "{name}"
        );
        assert!(verified.content().len() > 500);
    }
}

#[test]
fn flipped_signed_bytes_fail_verification() {
    let original = signed_auth_pack("mit_as_req_pkinit_dh2048.der");
    let content = cms::verify(&original, cms::ContentType::AuthPack)
        .unwrap()
        .content();
    let content_start = content.as_ptr() as usize - original.as_ptr() as usize;
    let content_range = content_start..content_start + content.len();
    // The signature is the last 256 bytes (RSA-2048, no unsigned attributes).
    let signature_range = original.len() - 256..original.len();
    for i in content_range.step_by(5).chain(signature_range.step_by(3)) {
        let mut tampered = original.clone();
        tampered[i] ^= 0x01;
        assert!(
            cms::verify(&tampered, cms::ContentType::AuthPack).is_err(),
            "byte {i} changed yet verified"
        );
    }
}

#[test]
fn wrong_content_type_is_refused() {
    let content_info = signed_auth_pack("mit_as_req_pkinit_dh2048.der");
    assert!(matches!(
        cms::verify(&content_info, cms::ContentType::DhKeyInfo),
        Err(CmsError::ContentType)
    ));
}

#[tokio::test]
async fn kdc_signature_verifies_with_its_own_verifier() {
    let (signer, cert) = self_signed_signer(&rcgen::PKCS_RSA_SHA256, "kdc.example.test");
    // The all-features build signs every digest (SHA-1 through OpenSSL).
    assert_eq!(
        signer.digests().len(),
        if cfg!(feature = "openssl") { 4 } else { 3 }
    );
    for &digest in signer.digests() {
        let signed = cms::sign(cms::ContentType::DhKeyInfo, b"key info", &signer, digest)
            .await
            .unwrap();
        let verified = cms::verify(&signed, cms::ContentType::DhKeyInfo).unwrap();
        assert_eq!(verified.content(), b"key info");
        assert_eq!(verified.signer_certificate(), Some(cert.as_slice()));
        assert_eq!(verified.digest_algorithm(), digest);
        // digestAlgorithms and the SignerInfo's digestAlgorithm, each with NULL parameters
        // (RFC 5754 §2 allows both forms; clients that follow Windows accept only this one).
        assert_eq!(
            verified.digest_algorithm_ids(),
            [
                digest.algorithm_identifier_der(),
                digest.algorithm_identifier_der()
            ]
        );
    }
}

/// Digest AlgorithmIdentifiers are read with absent or NULL parameters alike (RFC 5754 §2):
/// MIT and Windows write NULL, and the absent form is what this KDC sent before.
#[tokio::test]
async fn digest_parameters_absent_or_null_both_verify() {
    let (signer, _) = self_signed_signer(&rcgen::PKCS_RSA_SHA256, "client");
    let with_null = DigestAlgorithm::Sha256.algorithm_identifier_der();
    let signed = cms::sign(
        cms::ContentType::AuthPack,
        b"auth pack",
        &signer,
        DigestAlgorithm::Sha256,
    )
    .await
    .unwrap();
    let absent = der::encode(tag::SEQUENCE, &der::encode_oid(oid::SHA256));
    let rewritten = rewrite(&signed, &with_null, &absent);
    assert_ne!(rewritten, signed);
    for content_info in [signed, rewritten] {
        let verified = cms::verify(&content_info, cms::ContentType::AuthPack).unwrap();
        assert_eq!(verified.content(), b"auth pack");
        assert_eq!(verified.digest_algorithm(), DigestAlgorithm::Sha256);
    }
    // MIT kinit's own SignedData arrives with NULL parameters.
    let mit = signed_auth_pack("mit_as_req_pkinit_dh2048.der");
    let verified = cms::verify(&mit, cms::ContentType::AuthPack).unwrap();
    assert!(
        verified
            .digest_algorithm_ids()
            .iter()
            .all(|id| *id == with_null.as_slice())
    );
}

/// Replaces every occurrence of `from` (a whole TLV) inside `tlv`, re-encoding the
/// constructed TLVs around it.
fn rewrite(tlv: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    if tlv == from {
        return to.to_vec();
    }
    let (node, _) = der::Tlv::read(tlv).unwrap();
    if node.tag & 0x20 == 0 {
        return tlv.to_vec();
    }
    let children: Vec<u8> = node
        .children()
        .flat_map(|child| rewrite(child.unwrap().raw, from, to))
        .collect();
    der::encode(node.tag, &children)
}

/// Heimdal sends a SignedData without a SignerInfo when its certificate lacks keyUsage
/// digitalSignature: the refusal must say so, not "truncated DER".
#[test]
fn a_signed_data_without_signer_info_says_so() {
    let encap = der::encode_parts(
        tag::SEQUENCE,
        &[
            &der::encode_oid(oid::PKINIT_AUTH_DATA),
            &der::encode(
                tag::context(0),
                &der::encode(tag::OCTET_STRING, b"auth pack"),
            ),
        ],
    );
    let signed_data = der::encode_parts(
        tag::SEQUENCE,
        &[
            &der::encode(tag::INTEGER, &[3]),
            &der::encode(tag::SET, &[]),
            &encap,
            &der::encode(tag::SET, &[]),
        ],
    );
    let content_info = der::encode_parts(
        tag::SEQUENCE,
        &[
            &der::encode_oid(oid::SIGNED_DATA),
            &der::encode(tag::context(0), &signed_data),
        ],
    );
    let error = cms::parse(&content_info, cms::ContentType::AuthPack).unwrap_err();
    assert!(matches!(error, CmsError::NoSignerInfo), "{error:?}");
    assert!(error.to_string().contains("no SignerInfo"), "{error}");
}

/// RFC 5758 §3.2: ecdsa-with-SHA256 is encoded with the parameters field absent, so the
/// SignerInfo's signatureAlgorithm is exactly `30 0a 06 08 2a 86 48 ce 3d 04 03 02`.
#[tokio::test]
async fn ecdsa_kdc_signature_has_no_null_parameters_and_verifies() {
    let (signer, _) = self_signed_signer(&rcgen::PKCS_ECDSA_P256_SHA256, "kdc.example.test");
    let signed = cms::sign(
        cms::ContentType::DhKeyInfo,
        b"key info",
        &signer,
        DigestAlgorithm::Sha256,
    )
    .await
    .unwrap();
    let ecdsa_with_sha256 = [
        0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02,
    ];
    // In the SignerInfo, signatureAlgorithm is followed by the signature OCTET STRING (04);
    // in the certificate by a BIT STRING (03), so this finds the SignerInfo's.
    let mut in_signer_info = ecdsa_with_sha256.to_vec();
    in_signer_info.push(0x04);
    assert!(
        signed
            .windows(in_signer_info.len())
            .any(|w| w == in_signer_info.as_slice()),
        "SignerInfo signatureAlgorithm is not ecdsa-with-SHA256 without parameters"
    );
    let verified = cms::verify(&signed, cms::ContentType::DhKeyInfo).unwrap();
    assert_eq!(verified.content(), b"key info");
}

/// The SignedData inside a message of testdata/wire-ec: a PA-PK-AS-REQ's signedAuthPack or a
/// PA-PK-AS-REP's dhSignedData.
fn ec_capture_signed_data(name: &str) -> Vec<u8> {
    let bytes = std::fs::read(format!(
        "{}/../testdata/wire-ec/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    if let Ok(request) = KdcRequest::decode(&bytes) {
        let pa: PaPkAsReq = rasn::der::decode(request.padata(padata::PK_AS_REQ).unwrap()).unwrap();
        return pa.signed_auth_pack.to_vec();
    }
    let reply: rasn_kerberos::AsRep = rasn::der::decode(&bytes).unwrap();
    let pa = reply
        .0
        .padata
        .unwrap()
        .into_iter()
        .find(|p| p.r#type == padata::PK_AS_REP)
        .unwrap();
    match rasn::der::decode::<crate::proto::pkinit::PaPkAsRep>(&pa.value).unwrap() {
        crate::proto::pkinit::PaPkAsRep::DhInfo(info) => info.dh_signed_data.to_vec(),
        other => panic!("not a DH reply: {other:?}"),
    }
}

/// MIT 1.20 labels its ECDSA signatures sha256WithRSAEncryption (testdata/wire-ec/README.md):
/// both a client's AuthPack and a KDC's reply verify by the signer's P-256 key.
#[test]
fn mit_ecdsa_signatures_labelled_rsa_verify_by_the_key() {
    let client = ec_capture_signed_data("mit_as_req_pkinit_ec_p256_client.der");
    cms::verify(&client, cms::ContentType::AuthPack).unwrap();
    let kdc = ec_capture_signed_data("mit_as_rep_pkinit_ec_p256_kdc.der");
    cms::verify(&kdc, cms::ContentType::DhKeyInfo).unwrap();
    // The signature is the SignedData's last field: one flipped bit of it still fails.
    let mut flipped = client.clone();
    *flipped.last_mut().unwrap() ^= 0x01;
    assert!(matches!(
        cms::verify(&flipped, cms::ContentType::AuthPack),
        Err(CmsError::Signature)
    ));
}

/// Which labels each key type takes: the key decides the scheme, the label only has to name
/// the same hash; an RSA key never takes an ECDSA label, and ECDSA never takes SHA-1.
#[test]
fn signature_labels_follow_the_key() {
    let der = |arcs: &[u32]| crate::proto::der::encode_oid(arcs);
    let (rsa, ec) = (cms::KeyAlgorithm::Rsa, cms::KeyAlgorithm::Ec);
    let accepted = |digest: &[u32], label: &[u32], key| {
        let digest = DigestAlgorithm::from_oid(digest).unwrap();
        cms::verification_algorithm(digest, &der(label), key).is_ok()
    };
    assert!(accepted(oid::SHA256, oid::SHA256_WITH_RSA, rsa));
    assert!(accepted(oid::SHA256, oid::RSA_ENCRYPTION, rsa));
    assert!(accepted(oid::SHA256, oid::ECDSA_WITH_SHA256, ec));
    assert!(accepted(oid::SHA256, oid::SHA256_WITH_RSA, ec)); // MIT 1.20
    assert!(accepted(oid::SHA256, oid::EC_PUBLIC_KEY, ec));
    assert!(accepted(oid::SHA384, oid::SHA384_WITH_RSA, ec));
    assert!(!accepted(oid::SHA256, oid::ECDSA_WITH_SHA256, rsa));
    assert!(!accepted(oid::SHA256, oid::EC_PUBLIC_KEY, rsa));
    assert!(!accepted(oid::SHA256, oid::SHA384_WITH_RSA, ec));
    assert!(!accepted(oid::SHA1, oid::SHA1_WITH_RSA, ec));
    assert!(!accepted(oid::SHA512, oid::SHA512_WITH_RSA, ec));
}

/// Content is read only through `Verified`, whose one constructor checks the signature: a
/// SignedData that parses but whose signature fails under every key yields no content.
#[test]
fn a_signature_that_fails_yields_no_content() {
    let mut content_info = signed_auth_pack("mit_as_req_pkinit_dh2048.der");
    *content_info.last_mut().unwrap() ^= 0x01;
    let signed = cms::parse(&content_info, cms::ContentType::AuthPack).unwrap();
    let alice = alice_certificate_der();
    assert!(matches!(
        signed.verify_with_certificate(&alice),
        Err(CmsError::Signature)
    ));
    let key = x509_parser::parse_x509_certificate(&alice)
        .unwrap()
        .1
        .public_key()
        .subject_public_key
        .data
        .to_vec();
    assert!(matches!(
        signed.verify_with_rsa_key(&key),
        Err(CmsError::Signature)
    ));
    assert!(matches!(
        cms::verify(&content_info, cms::ContentType::AuthPack),
        Err(CmsError::Signature)
    ));
}
