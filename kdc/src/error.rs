//! Every way a request can fail, and the one place that maps a failure to its KRB-ERROR code
//! (RFC 4120 §7.5.9, RFC 4556 §3.1.3). The client sees the code and a generic text; the
//! detail goes to the log only.

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
    #[error("directory unavailable: {0}")]
    DirectoryUnavailable(String),
    #[error("KDC signer unavailable: {0}")]
    SignerUnavailable(String),
    /// The PKINIT pool had no room for the exchange (`crypto_pool.rs`).
    #[error("busy: {0}")]
    Busy(String),
    #[error("TGS authentication failed: {reason}")]
    ApFailed { code: ErrorCode, reason: String },
    #[error("option not allowed: {0}")]
    BadOption(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl KdcError {
    /// A failed user lookup: an ambiguous name is the client's problem (its own code), any
    /// other failure means the directory cannot answer now.
    pub fn from_lookup(error: kdc_directory::DirectoryError) -> KdcError {
        match error {
            kdc_directory::DirectoryError::Ambiguous { name, dns } => {
                KdcError::PrincipalNotUnique { name, dns }
            }
            other => KdcError::DirectoryUnavailable(other.to_string()),
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
            KdcError::ApFailed { code, .. } => *code,
            KdcError::BadOption(_) => ErrorCode::BADOPTION,
            KdcError::Internal(_) => ErrorCode::GENERIC,
        }
    }

    /// A short text for the client: never secrets or internal detail.
    pub fn client_text(&self) -> &'static str {
        match self {
            KdcError::WrongRealm(_) => "WRONG_REALM",
            KdcError::NoClientName | KdcError::UnknownClient(_) => "CLIENT_NOT_FOUND",
            KdcError::UnknownServer(_) => "SERVER_NOT_FOUND",
            KdcError::ClientRevoked { .. } => "CLIENT_LOCKED_OUT",
            KdcError::PrincipalNotUnique { .. } => "PRINCIPAL_NOT_UNIQUE",
            KdcError::NoCommonEnctype(_) => "BAD_ENCRYPTION_TYPE",
            KdcError::PreauthRequired { .. } => "NEEDED_PREAUTH",
            KdcError::PreauthFailed(_) => "PREAUTH_FAILED",
            KdcError::FreshnessTokenMissing { .. } => "FRESHNESS_TOKEN_REQUIRED",
            KdcError::FreshnessTokenInvalid { .. } => "FRESHNESS_TOKEN_EXPIRED",
            KdcError::ClientNotTrusted(_) => "CLIENT_NOT_TRUSTED",
            KdcError::ClientNameMismatch { .. } | KdcError::CertificateNameMismatch(_) => {
                "CLIENT_NAME_MISMATCH"
            }
            KdcError::CantVerifyCertificate(_) => "CANT_VERIFY_CERTIFICATE",
            KdcError::InvalidCertificate(_) => "INVALID_CERTIFICATE",
            KdcError::RevokedCertificate(_) => "REVOKED_CERTIFICATE",
            KdcError::RevocationStatusUnknown(_) => "REVOCATION_STATUS_UNKNOWN",
            KdcError::InconsistentKeyPurpose(_) => "INCONSISTENT_KEY_PURPOSE",
            KdcError::Skew { .. } => "CLOCK_SKEW",
            KdcError::DhParametersNotAccepted { .. } => "DH_PARAMETERS_NOT_ACCEPTED",
            KdcError::DigestNotAccepted { .. } => "DIGEST_NOT_ACCEPTED",
            KdcError::PaChecksumMustBeIncluded(_) => "PA_CHECKSUM_MUST_BE_INCLUDED",
            KdcError::DirectoryUnavailable(_)
            | KdcError::SignerUnavailable(_)
            | KdcError::Busy(_) => "SERVICE_UNAVAILABLE",
            KdcError::ApFailed { .. } => "TGS_AUTHENTICATION_FAILED",
            KdcError::BadOption(_) => "BAD_OPTION",
            KdcError::Internal(_) => "INTERNAL_ERROR",
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
