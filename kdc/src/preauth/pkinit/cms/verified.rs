//! Content a CMS signature vouches for (RFC 5652 §5.6): the one way to read what a
//! SignedData carries. The only constructor checks the signature, so an AuthPack or a
//! KDCDHKeyInfo whose signature did not verify is never decoded.

use aws_lc_rs::signature::{UnparsedPublicKey, VerificationAlgorithm};

use super::{CmsError, SignedContent};
use crate::signer::DigestAlgorithm;

/// A SignedData's content, its signature verified with the key of `signer_certificate`
/// (or with a key the caller held, when that is None). Whether that key is trusted is the
/// caller's to decide.
#[derive(Debug)]
pub struct Verified<'a> {
    content: &'a [u8],
    signer_certificate: Option<&'a [u8]>,
    digest_algorithm: DigestAlgorithm,
    digest_algorithm_ids: Vec<&'a [u8]>,
}

impl<'a> Verified<'a> {
    /// Checks the signature of `signed` over its signed attributes, whose messageDigest
    /// `cms::parse` matched to the content: with it the content is the key holder's.
    pub(super) fn check(
        signed: &SignedContent<'a>,
        algorithm: &'static dyn VerificationAlgorithm,
        public_key: &[u8],
        signer_certificate: Option<&'a [u8]>,
    ) -> Result<Self, CmsError> {
        UnparsedPublicKey::new(algorithm, public_key)
            .verify(&signed.signed_attributes, signed.signature)
            .map_err(|_| CmsError::Signature)?;
        Ok(Verified {
            content: signed.content,
            signer_certificate,
            digest_algorithm: signed.digest_algorithm,
            digest_algorithm_ids: signed.digest_algorithm_ids.clone(),
        })
    }

    /// The eContent, as signed.
    pub fn content(&self) -> &'a [u8] {
        self.content
    }

    /// The certificate whose key verified the signature, when one did.
    pub fn signer_certificate(&self) -> Option<&'a [u8]> {
        self.signer_certificate
    }

    /// The digest the signer used (its SignerInfo's digestAlgorithm).
    pub fn digest_algorithm(&self) -> DigestAlgorithm {
        self.digest_algorithm
    }

    /// Every digest AlgorithmIdentifier as sent: digestAlgorithms, then the SignerInfo's
    /// (clients that follow Windows check their parameters).
    pub fn digest_algorithm_ids(&self) -> &[&'a [u8]] {
        &self.digest_algorithm_ids
    }
}
