//! Every way a request can fail, and the one place that maps a failure to its KRB-ERROR code
//! (RFC 4120 §7.5.9, RFC 4556 §3.1.3) and to the PKINIT trust model it was judged under. The
//! client sees the code and its generic e-text (from `proto::codes`); the detail goes to the
//! log only.

use kdc_directory::DirectoryError;
use rasn::types::GeneralizedTime;

use crate::metrics::TrustModel;
use crate::proto::codes::ErrorCode;

/// A request that cannot be answered with a ticket.
#[derive(Debug, thiserror::Error)]
pub enum KdcError {
    #[error("request for realm {0:?}, not ours")]
    WrongRealm(String),
    #[error("request without a client name")]
    NoClientName,
    #[error("client {0} not in the directory")]
    UnknownClient(String),
    #[error("service {0} not served by this KDC")]
    UnknownServer(String),
    #[error("account {client} refused: {reason}")]
    ClientRevoked {
        client: String,
        reason: kdc_directory::AccountRefusal,
    },
    /// The client name resolves to more than one directory entry (CVE-2021-42287).
    #[error("client name {name} matches several entries: {}", dns.join("; "))]
    PrincipalNotUnique { name: String, dns: Vec<String> },
    #[error("no enctype in common with the client's list {0:?}")]
    NoCommonEnctype(Vec<i32>),
    #[error("pre-authentication required")]
    PreauthRequired { method_data: Vec<u8> },
    #[error("pre-authentication failed: {0}")]
    PreauthFailed(String),
    /// RFC 8070 §2.4: freshness required, none in the PKAuthenticator; e-data has a token.
    #[error("no freshness token, and the realm requires one")]
    FreshnessTokenMissing { method_data: Vec<u8> },
    /// RFC 8070 §2.4: the PKAuthenticator's token is not valid; e-data has a new one.
    #[error("freshness token refused: {reason}")]
    FreshnessTokenInvalid {
        reason: String,
        method_data: Vec<u8>,
    },
    #[error("client not trusted: {0}")]
    ClientNotTrusted(String),
    #[error("certificate key belongs to {owners:?}, not to the requested client")]
    ClientNameMismatch { owners: Vec<String> },
    /// Certificate trust: the certificate does not map to the requested user (MS-PKCA
    /// 3.1.5.2.1.3, KB5014754).
    #[error("certificate does not map to the requested client: {0}")]
    CertificateNameMismatch(String),
    /// No path of issuer names from the certificate to a trust anchor (RFC 4556 §3.2.2).
    #[error("client certificate cannot be verified: {0}")]
    CantVerifyCertificate(String),
    /// A certificate of a path to an anchor fails a check (signature, validity,
    /// constraints): RFC 4556 §3.2.2 KDC_ERR_INVALID_CERTIFICATE.
    #[error("client certificate invalid: {0}")]
    InvalidCertificate(String),
    #[error("client certificate revoked: {0}")]
    RevokedCertificate(String),
    #[error("revocation status unknown: {0}")]
    RevocationStatusUnknown(String),
    #[error("client certificate key purpose refused: {0}")]
    InconsistentKeyPurpose(String),
    #[error("client clock skew {skew_secs} s exceeds the allowed {allowed_secs} s")]
    Skew { skew_secs: u64, allowed_secs: u64 },
    #[error("DH parameters not accepted: {reason}")]
    DhParametersNotAccepted {
        reason: String,
        td_dh_parameters: Vec<u8>,
    },
    /// RFC 4556 §3.2.2: the digest of the client's signature is not accepted (here: SHA-1
    /// under `sha1_signatures = "refuse"`); e-data is TD-CMS-DIGEST-ALGORITHMS (RFC 8636 §3).
    #[error("digest not accepted: {reason}")]
    DigestNotAccepted {
        reason: String,
        td_cms_digest_algorithms: Vec<u8>,
    },
    /// RFC 4556 §3.1.3 / MS-PKCA: no request-body checksum the realm's policy accepts.
    #[error("request checksum missing: {0}")]
    PaChecksumMustBeIncluded(String),
    /// The directory's error itself, for whoever matches on it; its text is in the message
    /// (the log prints only the message), so it is not also a `source`, which would print it
    /// twice wherever a whole chain is shown.
    #[error("directory unavailable: {0}")]
    DirectoryUnavailable(DirectoryError),
    #[error("KDC signer unavailable: {0}")]
    SignerUnavailable(String),
    /// The PKINIT pool had no room for the exchange (`crypto_pool.rs`).
    #[error("busy: {0}")]
    Busy(String),
    // The TGS's refusals of the AP-REQ in PA-TGS-REQ (RFC 4120 §3.3.2, §3.2.3, §5.5.1): the
    // log says "TGS authentication failed" and why; the client, the code and a generic e-text.
    #[error("TGS authentication failed: no PA-TGS-REQ")]
    NoTgsReq,
    #[error("TGS authentication failed: AP-REQ undecodable: {0}")]
    ApReqUndecodable(rasn::error::DecodeError),
    #[error("TGS authentication failed: ticket is for {0}, not our TGS")]
    TicketNotForUs(String),
    #[error("TGS authentication failed: no krbtgt key kvno {kvno:?} enctype {enctype}")]
    NoKrbtgtKey { kvno: Option<u32>, enctype: i32 },
    /// The TGT or authenticator does not decrypt or decode under its key.
    #[error("TGS authentication failed: {0}")]
    BadIntegrity(&'static str),
    #[error("TGS authentication failed: authenticator client differs from the ticket's")]
    AuthenticatorClientMismatch,
    #[error("TGS authentication failed: authenticator has no request checksum")]
    NoRequestChecksum,
    #[error(
        "TGS authentication failed: checksum type {checksum_type} for a {session_key} session key"
    )]
    InappropriateChecksum {
        checksum_type: i32,
        session_key: crate::crypto::Enctype,
    },
    #[error("TGS authentication failed: request body checksum does not match")]
    RequestModified,
    #[error("TGS authentication failed: TGT not yet valid")]
    TicketNotYetValid,
    #[error("TGS authentication failed: TGT expired")]
    TicketExpired,
    #[error("TGS authentication failed: renew-till has passed")]
    RenewTillPassed,
    #[error("TGS authentication failed: authenticator of {client} at {ctime} already used")]
    Repeat {
        client: String,
        ctime: GeneralizedTime,
    },
    /// The TGT's PAC is malformed or its signatures do not verify under the krbtgt key.
    #[error("TGS authentication failed: the TGT's PAC: {0}")]
    PacModified(crate::pac::PacError),
    /// The TGT's PAC names another client than the ticket or the directory does, or the TGT
    /// has no PAC where one is required.
    #[error("TGT refused: {0}")]
    TgtRevoked(String),
    /// The directory entry cannot be put into a PAC; the operator has to fix it.
    #[error("no PAC can be made for this user: {0}")]
    NoPacIdentity(String),
    #[error("option not allowed: {0}")]
    BadOption(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl KdcError {
    /// A failed user lookup: an ambiguous name is the client's problem (its own code), any
    /// other failure means the directory cannot answer now.
    pub fn from_lookup(error: DirectoryError) -> KdcError {
        match error {
            DirectoryError::Ambiguous { name, dns } => KdcError::PrincipalNotUnique { name, dns },
            other => KdcError::DirectoryUnavailable(other),
        }
    }

    /// The wire code: the single mapping from failure to KRB-ERROR.
    pub fn code(&self) -> ErrorCode {
        match self {
            KdcError::WrongRealm(_) => ErrorCode::WRONG_REALM,
            KdcError::NoClientName | KdcError::UnknownClient(_) => ErrorCode::C_PRINCIPAL_UNKNOWN,
            KdcError::UnknownServer(_) => ErrorCode::S_PRINCIPAL_UNKNOWN,
            KdcError::ClientRevoked { .. } => ErrorCode::CLIENT_REVOKED,
            KdcError::PrincipalNotUnique { .. } => ErrorCode::PRINCIPAL_NOT_UNIQUE,
            KdcError::NoCommonEnctype(_) => ErrorCode::ETYPE_NOSUPP,
            KdcError::PreauthRequired { .. } => ErrorCode::PREAUTH_REQUIRED,
            KdcError::PreauthFailed(_) | KdcError::FreshnessTokenMissing { .. } => {
                ErrorCode::PREAUTH_FAILED
            }
            KdcError::FreshnessTokenInvalid { .. } => ErrorCode::PREAUTH_EXPIRED,
            KdcError::ClientNotTrusted(_) => ErrorCode::CLIENT_NOT_TRUSTED,
            KdcError::ClientNameMismatch { .. } | KdcError::CertificateNameMismatch(_) => {
                ErrorCode::CLIENT_NAME_MISMATCH
            }
            KdcError::CantVerifyCertificate(_) => ErrorCode::CANT_VERIFY_CERTIFICATE,
            KdcError::InvalidCertificate(_) => ErrorCode::INVALID_CERTIFICATE,
            KdcError::RevokedCertificate(_) => ErrorCode::REVOKED_CERTIFICATE,
            KdcError::RevocationStatusUnknown(_) => ErrorCode::REVOCATION_STATUS_UNKNOWN,
            KdcError::InconsistentKeyPurpose(_) => ErrorCode::INCONSISTENT_KEY_PURPOSE,
            KdcError::Skew { .. } => ErrorCode::SKEW,
            KdcError::DhParametersNotAccepted { .. } => ErrorCode::DH_KEY_PARAMETERS_NOT_ACCEPTED,
            KdcError::DigestNotAccepted { .. } => ErrorCode::DIGEST_IN_SIGNED_DATA_NOT_ACCEPTED,
            KdcError::PaChecksumMustBeIncluded(_) => ErrorCode::PA_CHECKSUM_MUST_BE_INCLUDED,
            KdcError::DirectoryUnavailable(_)
            | KdcError::SignerUnavailable(_)
            | KdcError::Busy(_) => ErrorCode::SVC_UNAVAILABLE,
            KdcError::NoTgsReq => ErrorCode::PADATA_TYPE_NOSUPP,
            KdcError::ApReqUndecodable(_) | KdcError::BadIntegrity(_) => {
                ErrorCode::AP_ERR_BAD_INTEGRITY
            }
            KdcError::TicketNotForUs(_) => ErrorCode::AP_ERR_NOT_US,
            KdcError::NoKrbtgtKey { .. } => ErrorCode::AP_ERR_BADKEYVER,
            KdcError::AuthenticatorClientMismatch => ErrorCode::AP_ERR_BADMATCH,
            KdcError::NoRequestChecksum | KdcError::InappropriateChecksum { .. } => {
                ErrorCode::AP_ERR_INAPP_CKSUM
            }
            KdcError::RequestModified => ErrorCode::AP_ERR_MODIFIED,
            KdcError::TicketNotYetValid => ErrorCode::AP_ERR_TKT_NYV,
            KdcError::TicketExpired | KdcError::RenewTillPassed => ErrorCode::AP_ERR_TKT_EXPIRED,
            KdcError::Repeat { .. } => ErrorCode::AP_ERR_REPEAT,
            KdcError::PacModified(_) => ErrorCode::AP_ERR_MODIFIED,
            KdcError::TgtRevoked(_) => ErrorCode::TGT_REVOKED,
            KdcError::NoPacIdentity(_) => ErrorCode::POLICY,
            KdcError::BadOption(_) => ErrorCode::BADOPTION,
            KdcError::Internal(_) => ErrorCode::GENERIC,
        }
    }

    /// The e-text for the client: its code's, from the one table in `proto::codes`.
    pub fn client_text(&self) -> &'static str {
        match self {
            // RFC 8070 §2.4 refuses a missing token with PREAUTH_FAILED, which says nothing of
            // freshness; the text tells the client what to send.
            KdcError::FreshnessTokenMissing { .. } => "FRESHNESS_TOKEN_REQUIRED",
            other => other.code().e_text(),
        }
    }

    /// The trust model a refused PKINIT logon was judged under: the certificate-path checks
    /// are certificate trust's; "no registered key" and "key of another user" key trust's;
    /// any other failure is common to both, or came before the model was decided.
    pub fn trust_model(&self) -> TrustModel {
        match self {
            KdcError::CantVerifyCertificate(_)
            | KdcError::InvalidCertificate(_)
            | KdcError::RevokedCertificate(_)
            | KdcError::RevocationStatusUnknown(_)
            | KdcError::InconsistentKeyPurpose(_)
            | KdcError::CertificateNameMismatch(_) => TrustModel::Cert,
            KdcError::ClientNotTrusted(_) | KdcError::ClientNameMismatch { .. } => TrustModel::Key,
            _ => TrustModel::Unknown,
        }
    }

    /// e-data that the code calls for: METHOD-DATA for PREAUTH_REQUIRED and for a missing or
    /// invalid freshness token (RFC 8070 §2.4), TD-DH-PARAMETERS for refused DH groups
    /// (RFC 4556 §3.2.2), TD-CMS-DIGEST-ALGORITHMS for a refused digest (RFC 8636 §3).
    pub fn e_data(&self) -> Option<Vec<u8>> {
        match self {
            KdcError::PreauthRequired { method_data }
            | KdcError::FreshnessTokenMissing { method_data }
            | KdcError::FreshnessTokenInvalid { method_data, .. } => Some(method_data.clone()),
            KdcError::DhParametersNotAccepted {
                td_dh_parameters, ..
            } => Some(td_dh_parameters.clone()),
            KdcError::DigestNotAccepted {
                td_cms_digest_algorithms,
                ..
            } => Some(td_cms_digest_algorithms.clone()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4120 §7.5.9 numbers for the TGS refusals, and the one e-text they all show.
    #[test]
    fn tgs_refusals_carry_their_krb_ap_err_codes() {
        let cases = [
            (KdcError::NoTgsReq, 16),
            (KdcError::BadIntegrity("TGT does not decrypt"), 31),
            (KdcError::TicketExpired, 32),
            (KdcError::RenewTillPassed, 32),
            (KdcError::TicketNotYetValid, 33),
            (KdcError::TicketNotForUs("krbtgt/OTHER".into()), 35),
            (KdcError::AuthenticatorClientMismatch, 36),
            (KdcError::RequestModified, 41),
            (
                KdcError::NoKrbtgtKey {
                    kvno: Some(7),
                    enctype: 18,
                },
                44,
            ),
            (KdcError::NoRequestChecksum, 50),
        ];
        for (error, code) in cases {
            assert_eq!(error.code(), ErrorCode(code), "{error}");
            assert_eq!(error.client_text(), "TGS_AUTHENTICATION_FAILED", "{error}");
            assert_eq!(error.trust_model(), TrustModel::Unknown, "{error}");
            assert!(error.to_string().starts_with("TGS authentication failed: "));
        }
    }

    #[test]
    fn client_text_is_the_codes_except_for_a_missing_freshness_token() {
        let busy = KdcError::Busy("pool full".into());
        assert_eq!(busy.client_text(), "SERVICE_UNAVAILABLE");
        let preauth = KdcError::PreauthFailed("bad signature".into());
        assert_eq!(preauth.client_text(), "PREAUTH_FAILED");
        let missing = KdcError::FreshnessTokenMissing {
            method_data: Vec::new(),
        };
        assert_eq!(missing.code(), preauth.code());
        assert_eq!(missing.client_text(), "FRESHNESS_TOKEN_REQUIRED");
    }

    /// The trust model follows the check that refused, not the code: a certificate that maps
    /// to another user shares KDC_ERR_CLIENT_NAME_MISMATCH with a key registered to another
    /// user, but only the second is key trust's.
    #[test]
    fn trust_model_follows_the_refusing_check() {
        let cert = [
            KdcError::CantVerifyCertificate("no path".into()),
            KdcError::InvalidCertificate("expired".into()),
            KdcError::RevokedCertificate("serial 2".into()),
            KdcError::RevocationStatusUnknown("no CRL".into()),
            KdcError::InconsistentKeyPurpose("no clientAuth".into()),
            KdcError::CertificateNameMismatch("UPN of bob".into()),
        ];
        for error in cert {
            assert_eq!(error.trust_model(), TrustModel::Cert, "{error}");
        }
        let key = [
            KdcError::ClientNotTrusted("no registered key".into()),
            KdcError::ClientNameMismatch {
                owners: vec!["bob@EXAMPLE".into()],
            },
        ];
        for error in key {
            assert_eq!(error.trust_model(), TrustModel::Key, "{error}");
        }
        let neither = KdcError::Skew {
            skew_secs: 600,
            allowed_secs: 300,
        };
        assert_eq!(neither.trust_model(), TrustModel::Unknown);
    }
}
