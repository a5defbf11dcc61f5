//! PKCS#10 certification requests (RFC 2986 §4) with an extensionRequest attribute
//! (RFC 2985 §5.4.2), signed by any `KdcSigner`: `kdc tpm provision` has the TPM key sign
//! its own request, proving possession of it to the enterprise CA.

use crate::proto::der::{self, tag};
use crate::signer::{KdcSigner, SignerError};

use super::signed_envelope;

const EXTENSION_REQUEST: &[u32] = &[1, 2, 840, 113_549, 1, 9, 14];

/// A DER CertificationRequest for `subject` (a DER Name) and `spki`, asking for `extensions`.
pub async fn certification_request(
    subject: &[u8],
    spki: &[u8],
    extensions: &[Vec<u8>],
    signer: &dyn KdcSigner,
) -> Result<Vec<u8>, SignerError> {
    let extension_request = der::encode_parts(
        tag::SEQUENCE,
        &[
            &der::encode_oid(EXTENSION_REQUEST),
            &der::encode(tag::SET, &der::encode(tag::SEQUENCE, &extensions.concat())),
        ],
    );
    let info = der::encode_parts(
        tag::SEQUENCE,
        &[
            &der::encode(tag::INTEGER, &[0]),
            subject,
            spki,
            &der::encode(tag::context(0), &extension_request),
        ],
    );
    signed_envelope(info, signer).await
}

#[cfg(test)]
mod tests {
    use x509_parser::prelude::FromDer;

    use super::*;
    use crate::signer::software::{SoftwareKey, SoftwareSigner};
    use crate::signer::x509::{extensions, name};

    /// A throw-away signer whose "certificate" is made by rcgen for the same key.
    fn signer(pkcs8: &[u8]) -> SoftwareSigner {
        let rc_key = rcgen::KeyPair::try_from(pkcs8).unwrap();
        let cert = rcgen::CertificateParams::new(vec!["x.test".into()])
            .unwrap()
            .self_signed(&rc_key)
            .unwrap();
        SoftwareSigner::from_der(pkcs8, vec![cert.der().to_vec()]).unwrap()
    }

    #[tokio::test]
    async fn request_verifies_and_carries_the_extensions() {
        for alg in [&rcgen::PKCS_RSA_SHA256, &rcgen::PKCS_ECDSA_P256_SHA256] {
            let rc_key = rcgen::KeyPair::generate_for(alg).unwrap();
            let pkcs8 = rc_key.serialize_der();
            let key = SoftwareKey::from_pkcs8(&pkcs8).unwrap();
            let signer = signer(&pkcs8);
            let exts = extensions::kdc("EXAMPLE.TEST", "kdc.example.test").unwrap();
            let der = certification_request(
                &name("EXAMPLE.TEST", "kdc.example.test"),
                &key.spki_der().unwrap(),
                &exts,
                &signer,
            )
            .await
            .unwrap();
            let (rest, csr) =
                x509_parser::certification_request::X509CertificationRequest::from_der(&der)
                    .unwrap();
            assert!(rest.is_empty());
            csr.verify_signature().unwrap();
            let requested: Vec<_> = csr.requested_extensions().unwrap().collect();
            assert_eq!(requested.len(), 3);
            assert_eq!(
                csr.certification_request_info.subject.to_string(),
                "O=EXAMPLE.TEST, CN=kdc.example.test"
            );
        }
    }
}
