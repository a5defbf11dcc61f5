//! PKAuthenticator checks (RFC 4556 §3.2.2): the request-body checksum (paChecksum, SHA-1 over
//! the KDC-REQ-BODY as received; MS-PKCA paChecksum2 where sent) and the client time within
//! the allowed skew. The nonce need not equal the body nonce (§3.2.1), so it is not compared.

use std::time::{Duration, SystemTime};

use aws_lc_rs::digest;
use subtle::ConstantTimeEq;

use crate::error::KdcError;
use crate::proto::codes::oid;
use crate::proto::der;
use crate::proto::kerberos::system_time;
use crate::proto::pkinit::PkAuthenticator;

/// Checks the PKAuthenticator against the request body bytes and the KDC's clock.
pub fn check(
    authenticator: &PkAuthenticator,
    body_der: &[u8],
    now: SystemTime,
    allowed_skew: Duration,
) -> Result<(), KdcError> {
    check_checksums(authenticator, body_der)?;
    let client_time = system_time(&authenticator.ctime)
        + Duration::from_micros(u64::from(authenticator.cusec.min(999_999)));
    let skew = match now.duration_since(client_time) {
        Ok(behind) => behind,
        Err(ahead) => ahead.duration(),
    };
    if skew > allowed_skew {
        return Err(KdcError::Skew {
            skew_secs: skew.as_secs(),
            allowed_secs: allowed_skew.as_secs(),
        });
    }
    Ok(())
}

fn check_checksums(authenticator: &PkAuthenticator, body_der: &[u8]) -> Result<(), KdcError> {
    let mut checked = false;
    if let Some(sum) = &authenticator.pa_checksum {
        let expected = digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, body_der);
        if !bool::from(sum.as_ref().ct_eq(expected.as_ref())) {
            return Err(KdcError::PreauthFailed(
                "paChecksum does not match the request body".into(),
            ));
        }
        checked = true;
    }
    if let Some(sum2) = &authenticator.pa_checksum2 {
        let algorithm = der::encode_oid(&oid_arcs(&sum2.algorithm_identifier.algorithm));
        let digest_alg = if algorithm == der::encode_oid(oid::SHA256) {
            &digest::SHA256
        } else if algorithm == der::encode_oid(oid::SHA384) {
            &digest::SHA384
        } else if algorithm == der::encode_oid(oid::SHA512) {
            &digest::SHA512
        } else {
            return Err(KdcError::PreauthFailed(
                "paChecksum2 digest not supported".into(),
            ));
        };
        let expected = digest::digest(digest_alg, body_der);
        if !bool::from(sum2.checksum.as_ref().ct_eq(expected.as_ref())) {
            return Err(KdcError::PreauthFailed(
                "paChecksum2 does not match the request body".into(),
            ));
        }
        checked = true;
    }
    if checked {
        Ok(())
    } else {
        Err(KdcError::PreauthFailed(
            "PKAuthenticator carries no request checksum".into(),
        ))
    }
}

fn oid_arcs(oid: &rasn::types::ObjectIdentifier) -> Vec<u32> {
    oid.iter().copied().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preauth::pkinit::cms;
    use crate::proto::codes::padata;
    use crate::proto::kerberos::KdcRequest;
    use crate::proto::pkinit::{AuthPack, PaPkAsReq};

    fn capture(name: &str) -> (Vec<u8>, AuthPack) {
        let bytes = crate::testing::wire(name);
        let request = KdcRequest::decode(&bytes).unwrap();
        let pa: PaPkAsReq = rasn::der::decode(request.padata(padata::PK_AS_REQ).unwrap()).unwrap();
        let verified = cms::verify(&pa.signed_auth_pack, oid::PKINIT_AUTH_DATA).unwrap();
        let auth_pack: AuthPack = rasn::der::decode(verified.content).unwrap();
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
            check(
                &pack.pk_authenticator,
                &body,
                then + Duration::from_secs(10),
                skew,
            )
            .unwrap();
            let err = check(
                &pack.pk_authenticator,
                &body,
                then + Duration::from_secs(3600),
                skew,
            )
            .unwrap_err();
            assert!(matches!(err, KdcError::Skew { .. }), "{name}: {err}");
            let err = check(
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
        let err = check(&pack.pk_authenticator, &body, now, Duration::from_secs(300)).unwrap_err();
        assert!(matches!(err, KdcError::PreauthFailed(_)), "{err}");
    }

    #[test]
    fn missing_checksum_is_refused() {
        let (body, mut pack) = capture("mit_as_req_pkinit_dh2048.der");
        let now = system_time(&pack.pk_authenticator.ctime);
        pack.pk_authenticator.pa_checksum = None;
        assert!(check(&pack.pk_authenticator, &body, now, Duration::from_secs(300)).is_err());
    }
}
