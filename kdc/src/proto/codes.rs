//! Protocol constants: KRB-ERROR codes (RFC 4120 §7.5.9, RFC 4556 §3.1.3), PA-DATA and
//! TYPED-DATA types (RFC 4120 §7.5.2, RFC 4556 §3.2), and the OIDs PKINIT uses.

/// A KRB-ERROR error-code, as sent on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ErrorCode(pub i32);

/// Declares each code once: its constant and its RFC name (RFC 4120 §7.5.9, RFC 4556 §3.1.3,
/// RFC 6113 §5.2), so the wire number and the name logs and metrics show cannot drift apart.
macro_rules! error_codes {
    ($($(#[$doc:meta])* $constant:ident = $value:literal => $name:literal,)*) => {
        impl ErrorCode {
            $($(#[$doc])* pub const $constant: ErrorCode = ErrorCode($value);)*

            /// The RFC name; a code not declared here is `KRB_ERR_<decimal>`.
            pub fn name(self) -> std::borrow::Cow<'static, str> {
                match self.0 {
                    $($value => std::borrow::Cow::Borrowed($name),)*
                    other => std::borrow::Cow::Owned(format!("KRB_ERR_{other}")),
                }
            }
        }
    };
}

error_codes! {
    C_PRINCIPAL_UNKNOWN = 0x06 => "KDC_ERR_C_PRINCIPAL_UNKNOWN",
    S_PRINCIPAL_UNKNOWN = 0x07 => "KDC_ERR_S_PRINCIPAL_UNKNOWN",
    /// RFC 4120 §7.5.9: more than one entry for the client name. 8, not 9 (9 is
    /// KDC_ERR_NULL_KEY, which MIT's client shows as "Client or server has a null key").
    PRINCIPAL_NOT_UNIQUE = 0x08 => "KDC_ERR_PRINCIPAL_NOT_UNIQUE",
    WRONG_REALM = 0x44 => "KDC_ERR_WRONG_REALM",
    BADOPTION = 0x0d => "KDC_ERR_BADOPTION",
    ETYPE_NOSUPP = 0x0e => "KDC_ERR_ETYPE_NOSUPP",
    CLIENT_REVOKED = 0x12 => "KDC_ERR_CLIENT_REVOKED",
    PADATA_TYPE_NOSUPP = 0x10 => "KDC_ERR_PADATA_TYPE_NOSUPP",
    PREAUTH_FAILED = 0x18 => "KDC_ERR_PREAUTH_FAILED",
    PREAUTH_REQUIRED = 0x19 => "KDC_ERR_PREAUTH_REQUIRED",
    SVC_UNAVAILABLE = 0x1d => "KDC_ERR_SVC_UNAVAILABLE",
    AP_ERR_BAD_INTEGRITY = 0x1f => "KRB_AP_ERR_BAD_INTEGRITY",
    AP_ERR_TKT_EXPIRED = 0x20 => "KRB_AP_ERR_TKT_EXPIRED",
    AP_ERR_TKT_NYV = 0x21 => "KRB_AP_ERR_TKT_NYV",
    AP_ERR_NOT_US = 0x23 => "KRB_AP_ERR_NOT_US",
    AP_ERR_BADMATCH = 0x24 => "KRB_AP_ERR_BADMATCH",
    AP_ERR_REPEAT = 0x22 => "KRB_AP_ERR_REPEAT",
    SKEW = 0x25 => "KRB_AP_ERR_SKEW",
    AP_ERR_MODIFIED = 0x29 => "KRB_AP_ERR_MODIFIED",
    AP_ERR_BADKEYVER = 0x2c => "KRB_AP_ERR_BADKEYVER",
    AP_ERR_INAPP_CKSUM = 0x32 => "KRB_AP_ERR_INAPP_CKSUM",
    MSG_TYPE = 0x28 => "KRB_AP_ERR_MSG_TYPE",
    GENERIC = 0x3c => "KRB_ERR_GENERIC",
    FIELD_TOOLONG = 0x3d => "KRB_ERR_FIELD_TOOLONG",
    RESPONSE_TOO_BIG = 0x34 => "KRB_ERR_RESPONSE_TOO_BIG",
    CLIENT_NOT_TRUSTED = 0x3e => "KDC_ERR_CLIENT_NOT_TRUSTED",
    INVALID_SIG = 0x40 => "KDC_ERR_INVALID_SIG",
    DH_KEY_PARAMETERS_NOT_ACCEPTED = 0x41 => "KDC_ERR_DH_KEY_PARAMETERS_NOT_ACCEPTED",
    CANT_VERIFY_CERTIFICATE = 0x46 => "KDC_ERR_CANT_VERIFY_CERTIFICATE",
    INVALID_CERTIFICATE = 0x47 => "KDC_ERR_INVALID_CERTIFICATE",
    REVOKED_CERTIFICATE = 0x48 => "KDC_ERR_REVOKED_CERTIFICATE",
    REVOCATION_STATUS_UNKNOWN = 0x49 => "KDC_ERR_REVOCATION_STATUS_UNKNOWN",
    CLIENT_NAME_MISMATCH = 0x4b => "KDC_ERR_CLIENT_NAME_MISMATCH",
    INCONSISTENT_KEY_PURPOSE = 0x4d => "KDC_ERR_INCONSISTENT_KEY_PURPOSE",
    PA_CHECKSUM_MUST_BE_INCLUDED = 0x4f => "KDC_ERR_PA_CHECKSUM_MUST_BE_INCLUDED",
    DIGEST_IN_SIGNED_DATA_NOT_ACCEPTED = 0x50 => "KDC_ERR_DIGEST_IN_SIGNED_DATA_NOT_ACCEPTED",
    /// RFC 6113 §5.2; RFC 8070 §2.4 answers an invalid freshness token with it.
    PREAUTH_EXPIRED = 0x5a => "KDC_ERR_PREAUTH_EXPIRED",
    // Named for the logs only: this KDC does not send these.
    NULL_KEY = 0x09 => "KDC_ERR_NULL_KEY",
    REVOCATION_STATUS_UNAVAILABLE = 0x4a => "KDC_ERR_REVOCATION_STATUS_UNAVAILABLE",
    KDC_NAME_MISMATCH = 0x4c => "KDC_ERR_KDC_NAME_MISMATCH",
    DIGEST_IN_CERT_NOT_ACCEPTED = 0x4e => "KDC_ERR_DIGEST_IN_CERT_NOT_ACCEPTED",
}

/// PA-DATA types (RFC 4120 §7.5.2, RFC 4556 §3.2.1, RFC 6113, RFC 8070).
pub mod padata {
    pub const TGS_REQ: i32 = 0x01;
    pub const PK_AS_REQ: i32 = 0x10;
    pub const PK_AS_REP: i32 = 0x11;
    /// RFC 8070: empty in an AS-REQ, "send me a freshness token"; in e-data, the token.
    pub const AS_FRESHNESS: i32 = 0x96;
}

/// TYPED-DATA types carried in KRB-ERROR e-data (RFC 4556 §3.2.2).
pub mod typed_data {
    pub const TD_DH_PARAMETERS: i32 = 0x6d;
    /// RFC 8636 §3: the digests the KDC accepts, with KDC_ERR_DIGEST_IN_SIGNED_DATA_NOT_ACCEPTED.
    pub const TD_CMS_DIGEST_ALGORITHMS: i32 = 0x6f;
}

/// Object identifiers, as dotted strings for x509-parser and as arcs for rasn.
pub mod oid {
    /// id-pkinit-authData (RFC 4556 §3.2.1): the eContentType of a signed AuthPack.
    pub const PKINIT_AUTH_DATA: &[u32] = &[1, 3, 6, 1, 5, 2, 3, 1];
    /// id-pkinit-DHKeyData (RFC 4556 §3.2.3.1): the eContentType of a signed KDCDHKeyInfo.
    pub const PKINIT_DH_KEY_DATA: &[u32] = &[1, 3, 6, 1, 5, 2, 3, 2];
    /// id-pkinit-san (RFC 4556 §3.2.2): KRB5PrincipalName otherName.
    pub const PKINIT_SAN: &[u32] = &[1, 3, 6, 1, 5, 2, 2];
    /// id-pkinit-KPKdc (RFC 4556 §3.2.4).
    pub const PKINIT_KP_KDC: &[u32] = &[1, 3, 6, 1, 5, 2, 3, 5];
    /// id-pkinit-KPClientAuth (RFC 4556 §3.2.2).
    pub const PKINIT_KP_CLIENT_AUTH: &[u32] = &[1, 3, 6, 1, 5, 2, 3, 4];
    /// dhpublicnumber (ANSI X9.42, RFC 3279 §2.3.3).
    pub const DH_PUBLIC_NUMBER: &[u32] = &[1, 2, 840, 10046, 2, 1];
    pub const SIGNED_DATA: &[u32] = &[1, 2, 840, 113_549, 1, 7, 2];
    pub const CONTENT_TYPE: &[u32] = &[1, 2, 840, 113_549, 1, 9, 3];
    pub const MESSAGE_DIGEST: &[u32] = &[1, 2, 840, 113_549, 1, 9, 4];
    pub const RSA_ENCRYPTION: &[u32] = &[1, 2, 840, 113_549, 1, 1, 1];
    pub const SHA1_WITH_RSA: &[u32] = &[1, 2, 840, 113_549, 1, 1, 5];
    pub const SHA256_WITH_RSA: &[u32] = &[1, 2, 840, 113_549, 1, 1, 11];
    pub const SHA384_WITH_RSA: &[u32] = &[1, 2, 840, 113_549, 1, 1, 12];
    pub const SHA512_WITH_RSA: &[u32] = &[1, 2, 840, 113_549, 1, 1, 13];
    pub const EC_PUBLIC_KEY: &[u32] = &[1, 2, 840, 10045, 2, 1];
    /// Named curves (RFC 5480 §2.1.1.1): P-256, P-384, P-521.
    pub const SECP256R1: &[u32] = &[1, 2, 840, 10045, 3, 1, 7];
    pub const SECP384R1: &[u32] = &[1, 3, 132, 0, 34];
    pub const SECP521R1: &[u32] = &[1, 3, 132, 0, 35];
    pub const ECDSA_WITH_SHA1: &[u32] = &[1, 2, 840, 10045, 4, 1];
    pub const ECDSA_WITH_SHA256: &[u32] = &[1, 2, 840, 10045, 4, 3, 2];
    pub const ECDSA_WITH_SHA384: &[u32] = &[1, 2, 840, 10045, 4, 3, 3];
    pub const ECDSA_WITH_SHA512: &[u32] = &[1, 2, 840, 10045, 4, 3, 4];
    pub const SHA1: &[u32] = &[1, 3, 14, 3, 2, 26];
    pub const SHA256: &[u32] = &[2, 16, 840, 1, 101, 3, 4, 2, 1];
    pub const SHA384: &[u32] = &[2, 16, 840, 1, 101, 3, 4, 2, 2];
    pub const SHA512: &[u32] = &[2, 16, 840, 1, 101, 3, 4, 2, 3];
}
