//! Key trust (Windows Hello for Business): the request must be signed by a public key that is
//! registered for the requested user in msDS-KeyCredentialLink (MS-ADTS 2.2.20, MS-PKCA
//! 3.1.5.2.1.5) with KeyUsage NGC and the user's own DN. Keys are compared as normalised
//! public keys, never as blob bytes; the certificate, when sent, only carries the key.

use kdc_directory::keycredlink::RsaPublicKey;
use kdc_directory::{Directory, User};

use super::cms::SignedContent;
use crate::error::KdcError;

/// The registered key that vouched for the client, for the log.
#[derive(Clone, Debug)]
pub struct KeyTrustMatch {
    pub key_id: Vec<u8>,
    pub device_id: Option<String>,
}

/// Verifies the SignedData with a key registered for `user`.
///
/// With the signer's certificate in the request (Windows, Heimdal) its key is looked up
/// among the user's keys, and a key registered to someone else is a name mismatch. Without
/// it (MIT kinit omits a self-signed certificate) the user's registered keys are tried in
/// turn; whose key it is cannot be named then, so any failure is "not trusted".
pub async fn check(
    directory: &dyn Directory,
    user: &User,
    signed: &SignedContent<'_>,
) -> Result<KeyTrustMatch, KdcError> {
    match signed.signer_certificate() {
        Some(certificate) => check_certificate_key(directory, user, signed, certificate).await,
        None => find_signing_key(user, signed),
    }
}

async fn check_certificate_key(
    directory: &dyn Directory,
    user: &User,
    signed: &SignedContent<'_>,
    certificate_der: &[u8],
) -> Result<KeyTrustMatch, KdcError> {
    signed
        .verify_with_certificate(certificate_der)
        .map_err(|e| KdcError::PreauthFailed(format!("signed AuthPack refused: {e}")))?;
    let (_, certificate) = x509_parser::parse_x509_certificate(certificate_der)
        .map_err(|e| KdcError::ClientNotTrusted(format!("certificate unparsable: {e}")))?;
    let key = RsaPublicKey::from_spki_der(certificate.public_key().raw).map_err(|e| {
        KdcError::ClientNotTrusted(format!("certificate key not usable for key trust: {e}"))
    })?;
    if let Some(link) = user.registered_ngc_key(&key) {
        return Ok(matched(link));
    }
    let owners: Vec<String> = directory
        .find_key_owners(&key)
        .await
        .map_err(|e| KdcError::DirectoryUnavailable(e.to_string()))?
        .into_iter()
        .filter(|upn| !upn.eq_ignore_ascii_case(&user.user_principal_name))
        .collect();
    if owners.is_empty() {
        Err(KdcError::ClientNotTrusted(format!(
            "key not registered for {}",
            user.user_principal_name
        )))
    } else {
        Err(KdcError::ClientNameMismatch { owners })
    }
}

fn find_signing_key(user: &User, signed: &SignedContent<'_>) -> Result<KeyTrustMatch, KdcError> {
    for link in &user.key_credentials {
        let Some(key) = link.credential.rsa_public_key() else {
            continue;
        };
        if user.registered_ngc_key(key).is_none() {
            continue;
        }
        let Ok(pkcs1) = key.to_pkcs1_der() else {
            continue;
        };
        if signed.verify_with_rsa_key(&pkcs1).is_ok() {
            return Ok(matched(link));
        }
    }
    Err(KdcError::ClientNotTrusted(format!(
        "no certificate in the request, and no key registered for {} verifies its signature",
        user.user_principal_name
    )))
}

fn matched(link: &kdc_directory::KeyCredentialLink) -> KeyTrustMatch {
    KeyTrustMatch {
        key_id: link.credential.key_id().to_vec(),
        device_id: link.credential.device_id().map(|id| id.to_string()),
    }
}
