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

/// The RFC name of a KRB-ERROR code, as a label value (the names live with the codes, in
/// `proto::codes`); a code without one is `KRB_ERR_<decimal>`.
pub fn error_name(code: ErrorCode) -> String {
    code.name().into_owned()
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
}
