//! `kdc tpm provision`: makes the KDC key inside the TPM (TPM2_CreatePrimary in the owner
//! hierarchy with a random unique field, so each provisioning yields a new key), persists it
//! (TPM2_EvictControl, TPM 2.0 Part 3 §28.5), and writes its public key, a PKCS#10 request
//! (RFC 2986) signed by the TPM key, and an openssl extfile for the enterprise CA.

use std::path::{Path, PathBuf};

use tss_esapi::handles::{ObjectHandle, PersistentTpmHandle, TpmHandle};
use tss_esapi::interface_types::algorithm::{HashingAlgorithm, RsaSchemeAlgorithm};
use tss_esapi::interface_types::dynamic_handles::Persistent;
use tss_esapi::interface_types::ecc::EccCurve;
use tss_esapi::interface_types::key_bits::RsaKeyBits;
use tss_esapi::interface_types::resource_handles::{Hierarchy, Provision};
use tss_esapi::interface_types::session_handles::AuthSession;
use tss_esapi::structures::{
    Auth, EccParameter, EccPoint, EccScheme, Public, PublicKeyRsa, RsaExponent, RsaScheme,
};
use tss_esapi::utils;
use zeroize::Zeroizing;

use super::esapi::{self, TpmError, tpm};
use super::{TpmOptions, TpmSigner};
use crate::signer::x509::{csr, extensions, name};
use crate::signer::{SignatureScheme, SignerError};

/// The two uses of the TPM key (see `[pkinit.tpm] mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyRole {
    /// The KDC certificate itself.
    Direct,
    /// A pathLen-0 CA that certifies short-lived in-memory KDC keys.
    Delegated,
}

pub struct Provisioning {
    pub tcti: String,
    pub handle: u32,
    pub scheme: SignatureScheme,
    pub role: KeyRole,
    pub realm: String,
    pub dns_name: String,
    pub auth: Zeroizing<Vec<u8>>,
    /// Replace a key already persisted at `handle`.
    pub force: bool,
    pub out: PathBuf,
}

/// The files written, for the operator.
pub struct Provisioned {
    pub public_key: PathBuf,
    pub csr: PathBuf,
    pub extfile: PathBuf,
    pub extensions_section: &'static str,
}

/// Creates and persists the key, then has it sign its request.
pub async fn provision(request: &Provisioning) -> Result<Provisioned, SignerError> {
    let unavailable = |e: TpmError| SignerError::Unavailable(e.to_string());
    let spki = {
        let (tcti, handle, scheme, force) = (
            request.tcti.clone(),
            request.handle,
            request.scheme,
            request.force,
        );
        let auth = request.auth.clone();
        tokio::task::spawn_blocking(move || create_persistent(&tcti, handle, scheme, &auth, force))
            .await
            .map_err(|e| SignerError::Key(format!("provisioning thread: {e}")))?
            .map_err(unavailable)?
    };
    let signer = TpmSigner::start_uncertified(
        TpmOptions {
            tcti: request.tcti.clone(),
            handle: request.handle,
            auth: request.auth.clone(),
            queue_depth: 4,
        },
        request.scheme,
    )?;
    let (common_name, requested) = match request.role {
        KeyRole::Direct => (
            request.dns_name.clone(),
            extensions::kdc(&request.realm, &request.dns_name)?,
        ),
        KeyRole::Delegated => (
            format!("{} KDC key CA", request.dns_name),
            extensions::delegating_ca(),
        ),
    };
    let subject = name(&request.realm, &common_name);
    let request_der = csr::certification_request(&subject, &spki, &requested, &signer).await?;

    std::fs::create_dir_all(&request.out)
        .map_err(|e| SignerError::Key(format!("{}: {e}", request.out.display())))?;
    let written = Provisioned {
        public_key: request.out.join("tpm-key.pub.pem"),
        csr: request.out.join("tpm-key.csr"),
        extfile: request.out.join("tpm-key.ext"),
        extensions_section: match request.role {
            KeyRole::Direct => "kdc_cert",
            KeyRole::Delegated => "kdc_delegation_ca",
        },
    };
    write(
        &written.public_key,
        pem::encode(&pem::Pem::new("PUBLIC KEY", spki)),
    )?;
    write(
        &written.csr,
        pem::encode(&pem::Pem::new("CERTIFICATE REQUEST", request_der)),
    )?;
    write(
        &written.extfile,
        openssl_extfile(&request.realm, &request.dns_name),
    )?;
    Ok(written)
}

fn write(path: &Path, text: String) -> Result<(), SignerError> {
    std::fs::write(path, text).map_err(|e| SignerError::Key(format!("{}: {e}", path.display())))
}

/// TPM2_CreatePrimary + TPM2_EvictControl + TPM2_FlushContext; returns the SPKI.
fn create_persistent(
    tcti: &str,
    handle: u32,
    scheme: SignatureScheme,
    auth: &[u8],
    force: bool,
) -> Result<Vec<u8>, TpmError> {
    let mut context = esapi::connect(tcti)?;
    let persistent = PersistentTpmHandle::new(handle).map_err(tpm("persistent handle"))?;
    if let Ok(existing) = context.tr_from_tpm_public(TpmHandle::Persistent(persistent)) {
        if !force {
            return Err(TpmError::Key(format!(
                "a key is already persisted at {handle:#010x} (give --force to replace it)"
            )));
        }
        context
            .execute_with_session(Some(AuthSession::Password), |ctx| {
                ctx.evict_control(
                    Provision::Owner,
                    existing,
                    Persistent::Persistent(persistent),
                )
            })
            .map_err(tpm("TPM2_EvictControl (remove the old key)"))?;
    }
    let template = template(scheme)?;
    let auth = Auth::try_from(auth.to_vec()).map_err(tpm("auth value"))?;
    let created = context
        .execute_with_session(Some(AuthSession::Password), |ctx| {
            ctx.create_primary(Hierarchy::Owner, template, Some(auth), None, None, None)
        })
        .map_err(tpm("TPM2_CreatePrimary"))?;
    let transient = ObjectHandle::from(created.key_handle);
    let persisted = context.execute_with_session(Some(AuthSession::Password), |ctx| {
        ctx.evict_control(
            Provision::Owner,
            transient,
            Persistent::Persistent(persistent),
        )
    });
    // Without a resource manager (swtpm) a transient object stays loaded until flushed.
    let flushed = context.flush_context(transient);
    persisted.map_err(tpm("TPM2_EvictControl"))?;
    flushed.map_err(tpm("TPM2_FlushContext"))?;
    super::public::spki_der(&created.out_public)
}

/// An unrestricted signing key; the random unique field makes the primary key new each time
/// (a primary key is otherwise derived from the hierarchy seed and the template alone).
fn template(scheme: SignatureScheme) -> Result<Public, TpmError> {
    let mut unique = [0u8; 32];
    aws_lc_rs::rand::fill(&mut unique)
        .map_err(|_| TpmError::Key("random generator failed".into()))?;
    match scheme {
        SignatureScheme::RsaPkcs1Sha256 => {
            utils::create_unrestricted_signing_rsa_public_with_unique(
                RsaScheme::create(RsaSchemeAlgorithm::RsaSsa, Some(HashingAlgorithm::Sha256))
                    .map_err(tpm("RSA scheme"))?,
                RsaKeyBits::Rsa2048,
                RsaExponent::default(),
                PublicKeyRsa::try_from(unique.to_vec()).map_err(tpm("unique"))?,
            )
            .map_err(tpm("RSA template"))
        }
        SignatureScheme::EcdsaP256Sha256 => {
            let public = utils::create_unrestricted_signing_ecc_public(
                EccScheme::create(
                    tss_esapi::interface_types::algorithm::EccSchemeAlgorithm::EcDsa,
                    Some(HashingAlgorithm::Sha256),
                    None,
                )
                .map_err(tpm("ECC scheme"))?,
                EccCurve::NistP256,
            )
            .map_err(tpm("ECC template"))?;
            let point = EccPoint::new(
                EccParameter::try_from(unique.to_vec()).map_err(tpm("unique"))?,
                EccParameter::default(),
            );
            match public {
                Public::Ecc {
                    object_attributes,
                    name_hashing_algorithm,
                    auth_policy,
                    parameters,
                    ..
                } => Ok(Public::Ecc {
                    object_attributes,
                    name_hashing_algorithm,
                    auth_policy,
                    parameters,
                    unique: point,
                }),
                _ => Err(TpmError::Key("ECC template is not ECC".into())),
            }
        }
    }
}

/// An openssl x509 extfile with both sections: the KDC certificate (direct mode) and the
/// delegation CA (delegated mode). The id-pkinit-san follows MIT's documented recipe.
pub fn openssl_extfile(realm: &str, dns_name: &str) -> String {
    format!(
        r#"# Extensions for the TPM-held KDC key; `openssl x509 -req -extfile THIS -extensions SECTION`.
[kdc_cert]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = 1.3.6.1.5.2.3.5,serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = otherName:1.3.6.1.5.2.2;SEQUENCE:kdc_principal,DNS:{dns_name}

[kdc_delegation_ca]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,digitalSignature,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[kdc_principal]
realm = EXPLICIT:0,GeneralString:{realm}
principal_name = EXPLICIT:1,SEQUENCE:kdc_principal_name

[kdc_principal_name]
name_type = EXPLICIT:0,INTEGER:2
name_string = EXPLICIT:1,SEQUENCE:kdc_principal_components

[kdc_principal_components]
component1 = GeneralString:krbtgt
component2 = GeneralString:{realm}
"#
    )
}
