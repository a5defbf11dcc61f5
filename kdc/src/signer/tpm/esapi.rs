//! One connection to a TPM 2.0 through tss-esapi: the TCTI from its configuration string, the
//! key by persistent handle (Esys_TR_FromTPMPublic, TPM2_ReadPublic) with its auth value, and
//! TPM2_Sign over an externally computed SHA-256 digest (TPM 2.0 Part 3 §20.2) with a
//! password session. A `Session` is not Send: it lives and dies on the TPM thread.

use std::str::FromStr;

use tss_esapi::Context;
use tss_esapi::constants::tss::{TPM2_RH_NULL, TPM2_ST_HASHCHECK};
use tss_esapi::handles::{KeyHandle, PersistentTpmHandle, TpmHandle};
use tss_esapi::interface_types::algorithm::HashingAlgorithm;
use tss_esapi::interface_types::session_handles::AuthSession;
use tss_esapi::structures::{
    Auth, Digest, HashScheme, HashcheckTicket, Public, Signature, SignatureScheme as TpmScheme,
};
use tss_esapi::tcti_ldr::TctiNameConf;
use tss_esapi::tss2_esys::TPMT_TK_HASHCHECK;

use super::public;
use crate::signer::SignatureScheme;

/// Why a TPM operation failed; every one makes the signer unavailable until it reconnects.
#[derive(Debug, thiserror::Error)]
pub enum TpmError {
    #[error("TCTI {tcti:?}: {source}")]
    Tcti {
        tcti: String,
        source: tss_esapi::Error,
    },
    #[error("{operation}: {source}")]
    Tpm {
        operation: &'static str,
        source: tss_esapi::Error,
    },
    #[error("{0}")]
    Key(String),
}

pub(crate) fn tpm(operation: &'static str) -> impl FnOnce(tss_esapi::Error) -> TpmError {
    move |source| TpmError::Tpm { operation, source }
}

/// A TSS2 ESAPI context for `tcti` (`device:/dev/tpmrm0`, `swtpm:host=..,port=..`, `tabrmd`).
pub fn connect(tcti: &str) -> Result<Context, TpmError> {
    let failed = |source| TpmError::Tcti {
        tcti: tcti.to_owned(),
        source,
    };
    let conf = TctiNameConf::from_str(tcti).map_err(failed)?;
    Context::new(conf).map_err(failed)
}

/// The persistent key at `handle`, ready to sign.
pub struct Session {
    context: Context,
    key: KeyHandle,
    public: Public,
}

impl Session {
    pub fn open(tcti: &str, handle: u32, auth: &[u8]) -> Result<Session, TpmError> {
        let mut context = connect(tcti)?;
        let persistent = PersistentTpmHandle::new(handle).map_err(tpm("persistent handle"))?;
        let object = context
            .tr_from_tpm_public(TpmHandle::Persistent(persistent))
            .map_err(tpm("TPM2_ReadPublic of the persistent key"))?;
        let auth = Auth::try_from(auth.to_vec()).map_err(tpm("auth value"))?;
        context
            .tr_set_auth(object, auth)
            .map_err(tpm("Esys_TR_SetAuth"))?;
        let key = KeyHandle::from(object);
        let (public, _, _) = context.read_public(key).map_err(tpm("TPM2_ReadPublic"))?;
        Ok(Session {
            context,
            key,
            public,
        })
    }

    /// The key's SubjectPublicKeyInfo, DER.
    pub fn spki_der(&self) -> Result<Vec<u8>, TpmError> {
        public::spki_der(&self.public)
    }

    /// The scheme the key signs with.
    pub fn scheme(&self) -> Result<SignatureScheme, TpmError> {
        public::scheme(&self.public)
    }

    /// TPM2_Sign of a SHA-256 digest; the signature as CMS and X.509 carry it.
    pub fn sign(&mut self, scheme: SignatureScheme, digest: &[u8]) -> Result<Vec<u8>, TpmError> {
        let digest = Digest::try_from(digest.to_vec()).map_err(tpm("digest"))?;
        let hash_scheme = HashScheme::new(HashingAlgorithm::Sha256);
        let tpm_scheme = match scheme {
            SignatureScheme::RsaPkcs1Sha256 => TpmScheme::RsaSsa { hash_scheme },
            SignatureScheme::EcdsaP256Sha256 => TpmScheme::EcDsa { hash_scheme },
        };
        // A null ticket: the digest was not made by the TPM, which an unrestricted key allows.
        let validation = HashcheckTicket::try_from(TPMT_TK_HASHCHECK {
            tag: TPM2_ST_HASHCHECK,
            hierarchy: TPM2_RH_NULL,
            digest: Default::default(),
        })
        .map_err(tpm("hashcheck ticket"))?;
        let key = self.key;
        let signature = self
            .context
            .execute_with_session(Some(AuthSession::Password), |ctx| {
                ctx.sign(key, digest, tpm_scheme, validation)
            })
            .map_err(tpm("TPM2_Sign"))?;
        match signature {
            Signature::RsaSsa(rsa) => Ok(rsa.signature().value().to_vec()),
            Signature::EcDsa(ecc) => Ok(public::ecdsa_sig_value(
                ecc.signature_r().value(),
                ecc.signature_s().value(),
            )),
            _ => Err(TpmError::Key(
                "the TPM returned another signature kind".into(),
            )),
        }
    }
}
