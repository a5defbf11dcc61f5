//! PKAuthenticator checks (RFC 4556 §3.2.2): the request-body checksums (paChecksum, SHA-1
//! over the KDC-REQ-BODY as received; MS-PKCA §2.2.3 paChecksum2 with its named hash) under the
//! realm's policy (which hashes count, when paChecksum2 is required, as Windows Server 2025
//! configures it), and the client time within the allowed skew. The nonce need not equal the
//! body nonce (§3.2.1), so it is not compared.

use std::time::{Duration, SystemTime};

use kdc_config::PaChecksum2Policy;
use subtle::ConstantTimeEq;

use crate::error::KdcError;
use crate::proto::kerberos::system_time;
use crate::proto::pkinit::PkAuthenticator;
use crate::signer::DigestAlgorithm;
use crate::ticket::check_skew;

/// Which request-body checksums a realm accepts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChecksumPolicy {
    pub require_checksum2: PaChecksum2Policy,
    /// The hashes a checksum may use to count.
    pub hashes: Vec<DigestAlgorithm>,
}

impl Default for ChecksumPolicy {
    fn default() -> Self {
        Self {
            require_checksum2: PaChecksum2Policy::Never,
            hashes: DigestAlgorithm::ALL.to_vec(),
        }
    }
}

/// Checks the PKAuthenticator against the request body bytes and the KDC's clock; `modp` says
/// whether the client offered finite-field DH (Windows' paChecksum2 rule is about those).
pub fn check(
    authenticator: &PkAuthenticator,
    body_der: &[u8],
    now: SystemTime,
    allowed_skew: Duration,
    policy: &ChecksumPolicy,
    modp: bool,
) -> Result<(), KdcError> {
    check_checksums(authenticator, body_der, policy, modp)?;
    let client_time = system_time(&authenticator.ctime)
        + Duration::from_micros(u64::from(authenticator.cusec.min(999_999)));
    check_skew(client_time, now, allowed_skew)
}

/// Every checksum present must match; at least one must use an accepted hash; paChecksum2
/// must be there when the policy says so.
fn check_checksums(
    authenticator: &PkAuthenticator,
    body_der: &[u8],
    policy: &ChecksumPolicy,
    modp: bool,
) -> Result<(), KdcError> {
    let mut counted = Vec::new();
    if let Some(sum) = &authenticator.pa_checksum {
        verify(DigestAlgorithm::Sha1, sum, body_der, "paChecksum")?;
        counted.push(DigestAlgorithm::Sha1);
    }
    let required = match policy.require_checksum2 {
        PaChecksum2Policy::Never => false,
        PaChecksum2Policy::Modp => modp,
        PaChecksum2Policy::Always => true,
    };
    match &authenticator.pa_checksum2 {
        Some(sum2) => {
            let named = &sum2.algorithm_identifier.algorithm;
            let digest = DigestAlgorithm::from_oid(named).ok_or_else(|| {
                KdcError::PreauthFailed("paChecksum2 names a hash this KDC does not know".into())
            })?;
            verify(digest, &sum2.checksum, body_der, "paChecksum2")?;
            counted.push(digest);
        }
        None if required => {
            return Err(KdcError::PaChecksumMustBeIncluded(
                "require_pa_checksum2 asks for paChecksum2 and the request has none".into(),
            ));
        }
        None => {}
    }
    if counted.iter().any(|d| policy.hashes.contains(d)) {
        return Ok(());
    }
    let sent: Vec<&str> = counted.iter().map(|d| d.label()).collect();
    Err(KdcError::PaChecksumMustBeIncluded(format!(
        "no request checksum in an accepted hash (sent: {sent:?}; pa_checksum_hashes accepts {:?})",
        policy.hashes.iter().map(|d| d.label()).collect::<Vec<_>>()
    )))
}

fn verify(
    digest: DigestAlgorithm,
    sum: &[u8],
    body_der: &[u8],
    what: &str,
) -> Result<(), KdcError> {
    let expected = digest.digest(body_der);
    if bool::from(sum.ct_eq(&expected)) {
        Ok(())
    } else {
        Err(KdcError::PreauthFailed(format!(
            "{what} does not match the request body"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preauth::pkinit::cms;
    use crate::proto::codes::padata;
    use crate::proto::kerberos::KdcRequest;
    use crate::proto::pkinit::PaChecksum2;
    use crate::proto::pkinit::{AuthPack, PaPkAsReq};

    fn check_default(
        authenticator: &PkAuthenticator,
        body: &[u8],
        now: SystemTime,
        skew: Duration,
    ) -> Result<(), KdcError> {
        check(
            authenticator,
            body,
            now,
            skew,
            &ChecksumPolicy::default(),
            true,
        )
    }

    fn capture(name: &str) -> (Vec<u8>, AuthPack) {
        let bytes = crate::testing::wire(name);
        let request = KdcRequest::decode(&bytes).unwrap();
        let pa: PaPkAsReq = rasn::der::decode(request.padata(padata::PK_AS_REQ).unwrap()).unwrap();
        let verified = cms::verify(&pa.signed_auth_pack, cms::ContentType::AuthPack).unwrap();
        let auth_pack: AuthPack = rasn::der::decode(verified.content()).unwrap();
        (request.body_der.to_vec(), auth_pack)
    }

    #[test]
    fn real_captures_pass_at_their_own_time_and_fail_an_hour_later() {
        for name in [
            "mit_as_req_pkinit_dh2048.der",
            "heimdal_as_req_pkinit_dh2048.der",
        ] {
            let (body, pack) = capture(name);
            let then = system_time(&pack.pk_authenticator.ctime);
            let skew = Duration::from_secs(300);
            check_default(
                &pack.pk_authenticator,
                &body,
                then + Duration::from_secs(10),
                skew,
            )
            .unwrap();
            let err = check_default(
                &pack.pk_authenticator,
                &body,
                then + Duration::from_secs(3600),
                skew,
            )
            .unwrap_err();
            assert!(matches!(err, KdcError::Skew { .. }), "{name}: {err}");
            let err = check_default(
                &pack.pk_authenticator,
                &body,
                then - Duration::from_secs(3600),
                skew,
            )
            .unwrap_err();
            assert!(matches!(err, KdcError::Skew { .. }), "{name}: {err}");
        }
    }

    #[test]
    fn a_changed_body_byte_fails_the_checksum() {
        let (mut body, pack) = capture("mit_as_req_pkinit_dh2048.der");
        let now = system_time(&pack.pk_authenticator.ctime);
        let last = body.len() - 1;
        body[last] ^= 0x01;
        let err = check_default(&pack.pk_authenticator, &body, now, Duration::from_secs(300))
            .unwrap_err();
        assert!(matches!(err, KdcError::PreauthFailed(_)), "{err}");
    }

    #[test]
    fn missing_checksum_is_refused() {
        let (body, mut pack) = capture("mit_as_req_pkinit_dh2048.der");
        let now = system_time(&pack.pk_authenticator.ctime);
        pack.pk_authenticator.pa_checksum = None;
        assert!(
            check_default(&pack.pk_authenticator, &body, now, Duration::from_secs(300)).is_err()
        );
    }

    fn checksum2(digest: DigestAlgorithm, body: &[u8]) -> PaChecksum2 {
        PaChecksum2 {
            checksum: digest.digest(body).into(),
            algorithm_identifier: rasn_pkix::AlgorithmIdentifier {
                algorithm: rasn::types::ObjectIdentifier::new(digest.oid().to_vec()).unwrap(),
                parameters: None,
            },
        }
    }

    /// Windows Server 2025's rules: paChecksum2 required for MODP (not ECDH) or always, and
    /// only checksums in an accepted hash count.
    #[test]
    fn pa_checksum2_and_hash_policies() {
        let (body, pack) = capture("mit_as_req_pkinit_dh2048.der");
        let now = system_time(&pack.pk_authenticator.ctime);
        let skew = Duration::from_secs(300);
        let sha1_only = pack.pk_authenticator.clone();
        let mut with_sha256 = pack.pk_authenticator.clone();
        with_sha256.pa_checksum2 = Some(checksum2(DigestAlgorithm::Sha256, &body));
        let policy = |require_checksum2, hashes: &[DigestAlgorithm]| ChecksumPolicy {
            require_checksum2,
            hashes: hashes.to_vec(),
        };
        let must = |result: Result<(), KdcError>| {
            let err = result.unwrap_err();
            assert_eq!(
                err.code(),
                crate::proto::codes::ErrorCode::PA_CHECKSUM_MUST_BE_INCLUDED,
                "{err}"
            );
        };
        let modp = policy(PaChecksum2Policy::Modp, &DigestAlgorithm::ALL);
        must(check(&sha1_only, &body, now, skew, &modp, true));
        check(&sha1_only, &body, now, skew, &modp, false).unwrap();
        check(&with_sha256, &body, now, skew, &modp, true).unwrap();
        let always = policy(PaChecksum2Policy::Always, &DigestAlgorithm::ALL);
        must(check(&sha1_only, &body, now, skew, &always, false));
        let no_sha1 = policy(PaChecksum2Policy::Never, &[DigestAlgorithm::Sha256]);
        must(check(&sha1_only, &body, now, skew, &no_sha1, true));
        check(&with_sha256, &body, now, skew, &no_sha1, true).unwrap();
        // A wrong paChecksum2 fails whatever the policy.
        let mut wrong = with_sha256.clone();
        wrong.pa_checksum2 = Some(checksum2(DigestAlgorithm::Sha256, b"another body"));
        let err = check(&wrong, &body, now, skew, &ChecksumPolicy::default(), true).unwrap_err();
        assert!(matches!(err, KdcError::PreauthFailed(_)), "{err}");
    }
}
