//! Certificate trust (RFC 4556 §3.2.2 with RFC 5280 §6 path validation, MS-PKCA 3.1.5.2.1
//! and KB5014754 mapping): a client certificate issued by a configured CA is validated
//! like a domain controller validates a smart card certificate and mapped to exactly one
//! user. Every signer certificate that is not self-signed comes here (the routing is in
//! `Pkinit::authenticate`); a failure is final: it never falls back to key trust.

mod altsecid;
pub mod chain;
pub mod crl;
mod eku;
pub mod mapping;
pub mod path_search;
pub mod revocation;
mod san;
pub mod store;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kdc_config::{CertificateTrustConfig, StrongMapping};
use kdc_directory::{Directory, User};
use x509_parser::certificate::X509Certificate;
use x509_parser::time::ASN1Time;

use self::store::{ReloadingStore, Sources, StoreError};
use super::cms::{SignedContent, Verified};
use crate::error::KdcError;

/// Certificate trust: its policy and its (reloading) trust material.
pub struct CertTrust {
    store: ReloadingStore,
    ekus: eku::EkuPolicy,
    revocation: revocation::Policy,
    strong_mapping: StrongMapping,
}

/// The certificate that vouched for the client, for the log.
#[derive(Clone, Debug)]
pub struct CertTrustMatch {
    /// Serial number in hex, as `openssl x509 -serial` prints it.
    pub serial: String,
    /// Issuer DN, RFC 4514 style.
    pub issuer: String,
    pub binding: &'static str,
}

impl CertTrust {
    /// Reads the configured anchors, intermediates and CRLs; any unreadable file is an error.
    pub fn new(config: &CertificateTrustConfig) -> Result<CertTrust, StoreError> {
        let store = ReloadingStore::load(Sources {
            anchors: config.anchors.clone(),
            intermediates: config.intermediates.clone(),
            crls: config.crls.clone(),
            check_interval: Duration::from_secs(config.reload_interval_secs),
        })?;
        Ok(CertTrust {
            store,
            ekus: eku::EkuPolicy::new(&config.ekus).map_err(StoreError::Eku)?,
            revocation: revocation::Policy {
                missing_crl: config.missing_crl,
                stale_crl: config.stale_crl,
            },
            strong_mapping: config.strong_mapping,
        })
    }

    /// Re-reads the trust material now (SIGHUP, admin command); on error the old stays.
    pub fn reload(&self) -> Result<(), StoreError> {
        self.store.reload()
    }

    /// Validates the path, the EKU and revocation, then checks the SignedData's signature
    /// with the leaf's key: all the trust material says, without the directory.
    pub fn verify<'a>(
        &self,
        signed: &SignedContent<'a>,
        leaf_der: &'a [u8],
        now: SystemTime,
    ) -> Result<Verified<'a>, KdcError> {
        let now = asn1_time(now)?;
        let store = self.store.current();
        let paths = path_search::name_paths(leaf_der, signed.certificates(), &store)?;
        if paths.is_empty() {
            let issuer = chain::parse(leaf_der).map_or_else(
                |_| "an unreadable issuer".into(),
                |c| c.issuer().to_string(),
            );
            return Err(KdcError::CantVerifyCertificate(format!(
                "issued by {issuer}, from which no path leads to a trust anchor; with \
                 certificate trust on, only a self-signed certificate may use key trust"
            )));
        }
        let certs = chain::validate(&paths, now)?;
        let leaf = certs
            .first()
            .ok_or_else(|| KdcError::Internal("validated path is empty".into()))?;
        self.ekus.check(leaf)?;
        for pair in certs.windows(2) {
            if let [cert, issuer] = pair {
                revocation::check(cert, issuer, &store, self.revocation, now)?;
            }
        }
        signed
            .verify_with_parsed_certificate(leaf_der, leaf)
            .map_err(|e| KdcError::PreauthFailed(format!("signed AuthPack refused: {e}")))
    }

    /// Maps a leaf that [`Self::verify`] accepted to `user` (MS-PKCA 3.1.5.2.1, KB5014754).
    pub async fn map(
        &self,
        directory: &dyn Directory,
        user: &User,
        realm: &str,
        leaf: &X509Certificate<'_>,
    ) -> Result<CertTrustMatch, KdcError> {
        let mapping = mapping::map(directory, user, realm, leaf, self.strong_mapping).await?;
        Ok(CertTrustMatch {
            serial: hex::encode(crate::proto::der::unsigned_integer_bytes(leaf.raw_serial())),
            issuer: leaf.issuer().to_string(),
            binding: mapping.binding,
        })
    }
}

/// Issuer = subject and the certificate's own key verifies its signature.
pub fn is_self_signed(cert: &X509Certificate<'_>) -> bool {
    cert.issuer().as_raw() == cert.subject().as_raw() && cert.verify_signature(None).is_ok()
}

fn asn1_time(now: SystemTime) -> Result<ASN1Time, KdcError> {
    let secs = now
        .duration_since(UNIX_EPOCH)
        .map_err(|_| KdcError::Internal("clock before 1970".into()))?
        .as_secs();
    i64::try_from(secs)
        .ok()
        .and_then(|secs| ASN1Time::from_timestamp(secs).ok())
        .ok_or_else(|| KdcError::Internal("clock out of range".into()))
}
