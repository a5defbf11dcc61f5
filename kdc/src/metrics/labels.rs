//! Label values with bounded sets: message type, transport, the KRB-ERROR name of a result
//! (RFC 4120 §7.5.9, RFC 4556 §3.1.3), and the PKINIT trust model.

use crate::proto::codes::ErrorCode;
use crate::proto::kerberos::RequestKind;
use crate::server::Transport;

/// The trust model of a PKINIT logon (RFC 4556 §3.2.2 certificate trust, or Windows Hello
/// for Business key trust), or `Unknown` for a failure that happened before it was decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrustModel {
    Key,
    Cert,
    Unknown,
}

impl TrustModel {
    pub fn label(self) -> &'static str {
        match self {
            TrustModel::Key => "key",
            TrustModel::Cert => "cert",
            TrustModel::Unknown => "unknown",
        }
    }
}

/// The trust model a refused PKINIT logon was judged under, as far as its error code says:
/// the certificate-path codes are certificate trust's, "no registered key" and "key of
/// another user" key trust's; any other failure is common to both.
pub fn trust_of_error(code: ErrorCode) -> TrustModel {
    match code.0 {
        0x46..=0x4a | 0x4d | 0x4e => TrustModel::Cert,
        0x3e | 0x4b => TrustModel::Key,
        _ => TrustModel::Unknown,
    }
}

pub(super) fn kind(kind: RequestKind) -> &'static str {
    match kind {
        RequestKind::As => "as",
        RequestKind::Tgs => "tgs",
    }
}

pub(super) fn transport(transport: Transport) -> &'static str {
    match transport {
        Transport::Udp => "udp",
        Transport::Tcp => "tcp",
    }
}

/// The RFC name of a KRB-ERROR code; a code without one is `KRB_ERR_<decimal>`. The KDC
/// only sends codes of its own error mapping, so the set stays small.
pub fn error_name(code: ErrorCode) -> String {
    let name = match code.0 {
        0x06 => "KDC_ERR_C_PRINCIPAL_UNKNOWN",
        0x07 => "KDC_ERR_S_PRINCIPAL_UNKNOWN",
        0x08 => "KDC_ERR_PRINCIPAL_NOT_UNIQUE",
        0x09 => "KDC_ERR_NULL_KEY",
        0x0d => "KDC_ERR_BADOPTION",
        0x0e => "KDC_ERR_ETYPE_NOSUPP",
        0x10 => "KDC_ERR_PADATA_TYPE_NOSUPP",
        0x12 => "KDC_ERR_CLIENT_REVOKED",
        0x18 => "KDC_ERR_PREAUTH_FAILED",
        0x19 => "KDC_ERR_PREAUTH_REQUIRED",
        0x1d => "KDC_ERR_SVC_UNAVAILABLE",
        0x1f => "KRB_AP_ERR_BAD_INTEGRITY",
        0x20 => "KRB_AP_ERR_TKT_EXPIRED",
        0x21 => "KRB_AP_ERR_TKT_NYV",
        0x22 => "KRB_AP_ERR_REPEAT",
        0x23 => "KRB_AP_ERR_NOT_US",
        0x24 => "KRB_AP_ERR_BADMATCH",
        0x25 => "KRB_AP_ERR_SKEW",
        0x28 => "KRB_AP_ERR_MSG_TYPE",
        0x29 => "KRB_AP_ERR_MODIFIED",
        0x2c => "KRB_AP_ERR_BADKEYVER",
        0x32 => "KRB_AP_ERR_INAPP_CKSUM",
        0x34 => "KRB_ERR_RESPONSE_TOO_BIG",
        0x3c => "KRB_ERR_GENERIC",
        0x3d => "KRB_ERR_FIELD_TOOLONG",
        0x3e => "KDC_ERR_CLIENT_NOT_TRUSTED",
        0x40 => "KDC_ERR_INVALID_SIG",
        0x41 => "KDC_ERR_DH_KEY_PARAMETERS_NOT_ACCEPTED",
        0x44 => "KDC_ERR_WRONG_REALM",
        0x46 => "KDC_ERR_CANT_VERIFY_CERTIFICATE",
        0x47 => "KDC_ERR_INVALID_CERTIFICATE",
        0x48 => "KDC_ERR_REVOKED_CERTIFICATE",
        0x49 => "KDC_ERR_REVOCATION_STATUS_UNKNOWN",
        0x4a => "KDC_ERR_REVOCATION_STATUS_UNAVAILABLE",
        0x4b => "KDC_ERR_CLIENT_NAME_MISMATCH",
        0x4c => "KDC_ERR_KDC_NAME_MISMATCH",
        0x4d => "KDC_ERR_INCONSISTENT_KEY_PURPOSE",
        0x4e => "KDC_ERR_DIGEST_IN_CERT_NOT_ACCEPTED",
        0x4f => "KDC_ERR_PA_CHECKSUM_MUST_BE_INCLUDED",
        0x50 => "KDC_ERR_DIGEST_IN_SIGNED_DATA_NOT_ACCEPTED",
        0x5a => "KDC_ERR_PREAUTH_EXPIRED",
        other => return format!("KRB_ERR_{other}"),
    };
    name.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Names and numbers as RFC 4120 §7.5.9 and RFC 4556 §3.1.3 list them.
    #[test]
    fn error_names_follow_the_rfcs() {
        assert_eq!(error_name(ErrorCode(25)), "KDC_ERR_PREAUTH_REQUIRED");
        assert_eq!(error_name(ErrorCode(6)), "KDC_ERR_C_PRINCIPAL_UNKNOWN");
        assert_eq!(error_name(ErrorCode(8)), "KDC_ERR_PRINCIPAL_NOT_UNIQUE");
        assert_eq!(error_name(ErrorCode(9)), "KDC_ERR_NULL_KEY");
        assert_eq!(error_name(ErrorCode(62)), "KDC_ERR_CLIENT_NOT_TRUSTED");
        assert_eq!(error_name(ErrorCode(72)), "KDC_ERR_REVOKED_CERTIFICATE");
        assert_eq!(error_name(ErrorCode(75)), "KDC_ERR_CLIENT_NAME_MISMATCH");
        assert_eq!(
            error_name(ErrorCode(77)),
            "KDC_ERR_INCONSISTENT_KEY_PURPOSE"
        );
        assert_eq!(error_name(ErrorCode(37)), "KRB_AP_ERR_SKEW");
        assert_eq!(error_name(ErrorCode(99)), "KRB_ERR_99");
        assert_eq!(
            error_name(ErrorCode::SVC_UNAVAILABLE),
            "KDC_ERR_SVC_UNAVAILABLE"
        );
    }

    #[test]
    fn trust_follows_the_error_code() {
        assert_eq!(trust_of_error(ErrorCode(70)), TrustModel::Cert);
        assert_eq!(trust_of_error(ErrorCode(74)), TrustModel::Cert);
        assert_eq!(trust_of_error(ErrorCode(77)), TrustModel::Cert);
        assert_eq!(trust_of_error(ErrorCode(62)), TrustModel::Key);
        assert_eq!(trust_of_error(ErrorCode(75)), TrustModel::Key);
        assert_eq!(trust_of_error(ErrorCode(37)), TrustModel::Unknown);
    }
}
