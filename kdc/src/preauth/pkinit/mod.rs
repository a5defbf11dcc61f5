//! PKINIT (RFC 4556 §3.2): the signed AuthPack, who the signer is (key trust or
//! certificate trust), the PKAuthenticator checks (with RFC 8070 freshness), the key
//! agreement, and the signed PA-PK-AS-REP with the reply key.

pub mod agreement;
pub mod authenticator;
pub mod cert_trust;
pub mod cms;
pub mod dh_key_choice;
pub mod dh_params;
pub mod digest_choice;
pub mod freshness;
pub mod key_trust;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use kdc_config::DhStrength;
use kdc_directory::{Directory, User};
use rasn_kerberos::PrincipalName;
use x509_parser::certificate::X509Certificate;
use zeroize::Zeroizing;

use self::agreement::{PkinitKdf, ReusedKeys};
use self::cert_trust::{CertTrust, CertTrustMatch};
use self::cms::{SignedContent, Verified};
use self::digest_choice::DigestPolicy;
use self::key_trust::KeyTrustMatch;
use crate::crypto::{Enctype, Key};
use crate::error::KdcError;
use crate::proto::kerberos::kerberos_time;
use crate::proto::pkinit::{AuthPack, DhRepInfo, KdcDhKeyInfo, PaPkAsRep, PaPkAsReq};
use crate::signer::{DigestAlgorithm, KdcSigner};

/// Length of the serverDHNonce sent when the client sent a clientDHNonce (RFC 4556 §3.2.3.1).
const SERVER_DH_NONCE_LEN: usize = 32;

/// PKINIT policy and the parts it needs.
pub struct Pkinit {
    pub directory: Arc<dyn Directory>,
    pub signer: Arc<dyn KdcSigner>,
    pub min_dh_bits: DhStrength,
    pub clock_skew: Duration,
    /// Certificate trust, when `[pkinit.certificate_trust]` is configured.
    pub cert_trust: Option<Arc<CertTrust>>,
    /// The DH keys reused for clients that send clientDHNonce (`dh_key_reuse_secs`).
    pub dh_keys: ReusedKeys,
    pub digests: DigestPolicy,
    pub checksums: authenticator::ChecksumPolicy,
}

/// Which trust model vouched for the client.
#[derive(Clone, Debug)]
pub enum Trust {
    Key(KeyTrustMatch),
    Certificate(CertTrustMatch),
}

/// What one PA-PK-AS-REQ is checked against.
pub struct PkinitRequest<'a> {
    /// The whole AS-REQ as received (RFC 8636 §6 binds the reply key to it).
    pub message: &'a [u8],
    /// The KDC-REQ-BODY as received (paChecksum covers it).
    pub body_der: &'a [u8],
    pub pa_value: &'a [u8],
    pub user: &'a User,
    pub realm: &'a str,
    pub client_name: &'a PrincipalName,
    pub server_name: &'a PrincipalName,
    pub enctype: Enctype,
    pub freshness: &'a freshness::Tokens<'a>,
}

/// A successful PKINIT: the AS-REP's reply key and its PA-PK-AS-REP.
pub struct PkinitReply {
    pub reply_key: Key,
    pub pa_pk_as_rep: Vec<u8>,
    pub trust: Trust,
    /// The PKAuthenticator carried a valid freshness token.
    pub fresh: bool,
    /// How the client and the KDC spoke, for the audit line and the metrics.
    pub details: ExchangeDetails,
}

/// What a PKINIT exchange used that operators watch: legacy digests, lenient encodings, DH
/// key reuse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExchangeDetails {
    /// The digest of the KDC's reply signature.
    pub reply_digest: DigestAlgorithm,
    /// Client DH INTEGERs read as unsigned although they read as negative (dh_params.rs).
    pub negative_dh_integers: Vec<&'static str>,
    pub dh_key: DhKeyUse,
    /// The MODP group or curve of the key agreement.
    pub dh_group: agreement::DhGroup,
}

/// Where the KDC's DH key of one exchange came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DhKeyUse {
    /// A key for this exchange alone (no clientDHNonce).
    Ephemeral,
    /// A key made now and announced with dhKeyExpiration.
    ReusableNew,
    /// A key made for an earlier exchange, still before its dhKeyExpiration.
    Reused,
    /// A key for this exchange alone, drawn until ZZ has no leading zero byte, for a client
    /// that may truncate ZZ (Heimdal; dh_key_choice.rs).
    NoLeadingZero,
}

impl DhKeyUse {
    pub fn label(self) -> &'static str {
        match self {
            DhKeyUse::Ephemeral => "ephemeral",
            DhKeyUse::ReusableNew => "new",
            DhKeyUse::Reused => "reused",
            DhKeyUse::NoLeadingZero => "no_leading_zero",
        }
    }
}

impl Pkinit {
    pub async fn process(
        &self,
        request: PkinitRequest<'_>,
        now: SystemTime,
    ) -> Result<PkinitReply, KdcError> {
        let pa: PaPkAsReq = rasn::der::decode(request.pa_value)
            .map_err(|e| KdcError::PreauthFailed(format!("PA-PK-AS-REQ undecodable: {e}")))?;
        let signed = cms::parse(&pa.signed_auth_pack, cms::ContentType::AuthPack)
            .map_err(|e| KdcError::PreauthFailed(format!("signed AuthPack refused: {e}")))?;
        self.digests.check_client(signed.digest_algorithm())?;
        // Only content whose signature verified is read. The directory is asked nothing
        // until the clock and the request checksum have passed: they cost nothing, and a
        // stale or replayed request must not reach it (key owners, certificate mapping).
        let (verified, signer) = self.verify_signer(request.user, &signed, now)?;
        let auth_pack: AuthPack = rasn::der::decode(verified.content())
            .map_err(|e| KdcError::PreauthFailed(format!("AuthPack undecodable: {e}")))?;
        let modp = auth_pack
            .client_public_value
            .as_ref()
            .is_some_and(dh_params::offers_modp);
        authenticator::check(
            &auth_pack.pk_authenticator,
            request.body_der,
            now,
            self.clock_skew,
            &self.checksums,
            modp,
        )?;
        let trust = self.trust(request.user, request.realm, signer).await?;
        // RFC 8070 §2.4: the token is checked once the request is otherwise valid.
        let fresh = request.freshness.check(
            auth_pack
                .pk_authenticator
                .freshness_token
                .as_ref()
                .map(|token| token.as_ref()),
            now,
        )?;

        let client_value = auth_pack.client_public_value.as_ref().ok_or_else(|| {
            KdcError::PreauthFailed(
                "no clientPublicValue (RSA key transport is not offered)".into(),
            )
        })?;
        let client_dh = dh_params::client_public_value(client_value, self.min_dh_bits)?;
        let group = client_dh.group;
        if group.strength() < self.min_dh_bits {
            return Err(dh_params::not_accepted(
                format!(
                    "{} is below the minimum {:?} (min_dh_bits)",
                    group.name(),
                    self.min_dh_bits
                ),
                self.min_dh_bits,
            ));
        }
        let kdf = auth_pack
            .supported_kdfs
            .iter()
            .flatten()
            .find_map(|id| PkinitKdf::from_oid(&id.kdf_id));
        let client_dh_nonce = auth_pack.client_dh_nonce.is_some();
        let dh_key_choice::ChosenKey {
            key: dh_key,
            key_use: dh_key_use,
            server_dh_nonce,
            shared,
        } = dh_key_choice::choose(
            &self.dh_keys,
            &client_dh,
            client_dh_nonce,
            dh_key_choice::may_truncate_zz(kdf, client_dh_nonce, &client_dh),
            now,
        )?;
        let key_info = KdcDhKeyInfo {
            dh_key_expiration: server_dh_nonce
                .is_some()
                .then(|| kerberos_time(dh_key.expires)),
            ..KdcDhKeyInfo::new(
                &group.public_value_bits(&dh_key.public),
                auth_pack.pk_authenticator.nonce,
            )
        };
        let key_info_der = rasn::der::encode(&key_info)
            .map_err(|e| KdcError::Internal(format!("KDCDHKeyInfo encoding: {e}")))?;
        let reply_digest = self.digests.reply_digest(
            auth_pack.supported_cms_types.as_deref(),
            signed.digest_algorithm(),
            self.signer.scheme(),
            self.signer.digests(),
        );
        let signed = cms::sign(
            cms::ContentType::DhKeyInfo,
            &key_info_der,
            &*self.signer,
            reply_digest,
        )
        .await
        .map_err(|e| KdcError::SignerUnavailable(e.to_string()))?;
        let reply = PaPkAsRep::DhInfo(DhRepInfo::new(
            signed,
            server_dh_nonce.clone(),
            kdf.map(|k| k.oid().to_owned()),
        ));
        let pa_pk_as_rep = rasn::der::encode(&reply)
            .map_err(|e| KdcError::Internal(format!("PA-PK-AS-REP encoding: {e}")))?;

        let key_len = request.enctype.key_len();
        let key_bytes: Zeroizing<Vec<u8>> = match kdf {
            Some(kdf) => agreement::rfc8636_kdf(
                kdf,
                &shared,
                request.realm,
                request.client_name,
                request.realm,
                request.server_name,
                request.enctype.as_i32(),
                request.message,
                &pa_pk_as_rep,
                key_len,
            )
            .map_err(|e| KdcError::Internal(format!("RFC 8636 KDF: {e}")))?,
            None => agreement::octetstring2key(
                &shared,
                auth_pack.client_dh_nonce.as_deref(),
                server_dh_nonce.as_deref(),
                key_len,
            ),
        };
        let reply_key = Key::new(request.enctype, &key_bytes)
            .map_err(|e| KdcError::Internal(format!("reply key: {e}")))?;
        Ok(PkinitReply {
            reply_key,
            pa_pk_as_rep,
            trust,
            fresh,
            details: ExchangeDetails {
                reply_digest,
                negative_dh_integers: client_dh.negative_integers,
                dh_key: dh_key_use,
                dh_group: group,
            },
        })
    }

    /// Verifies the signature and decides who the signer is: [`Self::verify_signer`], then
    /// [`Self::trust`], with nothing between them.
    pub async fn authenticate(
        &self,
        user: &User,
        realm: &str,
        signed: &SignedContent<'_>,
        now: SystemTime,
    ) -> Result<Trust, KdcError> {
        let (_, signer) = self.verify_signer(user, signed, now)?;
        self.trust(user, realm, signer).await
    }

    /// Routes the signer to a trust model (RFC 4556 §3.2.2) and checks the signature with
    /// what that model trusts, without the directory. Without certificate trust configured,
    /// everything is key trust's. With it, key trust takes only a self-signed certificate (a
    /// Hello key's) or none (MIT leaves a self-signed one out); a certificate issued by a CA
    /// is certificate trust's to chain or refuse, whose refusal is final: one that chains
    /// nowhere known may be revoked under a CA this KDC has no CRL of.
    fn verify_signer<'a, 's, 'u>(
        &'s self,
        user: &'u User,
        signed: &SignedContent<'a>,
        now: SystemTime,
    ) -> Result<(Verified<'a>, Signer<'a, 's, 'u>), KdcError> {
        // Finding the signer's certificate reads them: a client chooses how many it sends.
        cert_trust::path_search::check_count(signed.certificates())?;
        let issued = match (&self.cert_trust, signed.signer_certificate()) {
            (Some(cert_trust), Some(der)) => {
                Some((cert_trust, der, cert_trust::chain::parse(der)?))
            }
            _ => None,
        };
        match issued {
            Some((cert_trust, der, leaf)) if !cert_trust::is_self_signed(&leaf) => {
                let verified = cert_trust.verify(signed, der, now)?;
                Ok((
                    verified,
                    Signer::Certificate {
                        cert_trust,
                        leaf: Box::new(leaf),
                    },
                ))
            }
            _ => key_trust::verify(user, signed)
                .map(|(verified, candidate)| (verified, Signer::Key(candidate))),
        }
    }

    /// The directory's part of the verdict on a verified signer: the certificate's mapping
    /// to `user`, or whose key an unregistered one is.
    async fn trust(
        &self,
        user: &User,
        realm: &str,
        signer: Signer<'_, '_, '_>,
    ) -> Result<Trust, KdcError> {
        match signer {
            Signer::Certificate { cert_trust, leaf } => cert_trust
                .map(&*self.directory, user, realm, &leaf)
                .await
                .map(Trust::Certificate),
            Signer::Key(candidate) => key_trust::confirm(&*self.directory, user, candidate)
                .await
                .map(Trust::Key),
        }
    }
}

/// A signer whose signature verified, with the trust model that will judge it.
enum Signer<'a, 's, 'u> {
    /// A CA-issued leaf whose path, EKU and revocation certificate trust has checked.
    Certificate {
        cert_trust: &'s CertTrust,
        /// Boxed: a parsed certificate is ten times the size of the other variant.
        leaf: Box<X509Certificate<'a>>,
    },
    Key(key_trust::Candidate<'u>),
}

fn random_bytes(len: usize) -> Result<Vec<u8>, KdcError> {
    let mut bytes = vec![0u8; len];
    aws_lc_rs::rand::fill(&mut bytes)
        .map_err(|_| KdcError::Internal("random generator failed".into()))?;
    Ok(bytes)
}
