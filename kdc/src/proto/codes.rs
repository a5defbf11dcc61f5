//! Protocol constants: KRB-ERROR codes (RFC 4120 §7.5.9, RFC 4556 §3.1.3), PA-DATA and
//! TYPED-DATA types (RFC 4120 §7.5.2, RFC 4556 §3.2), and the OIDs PKINIT uses.

/// A KRB-ERROR error-code, as sent on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ErrorCode(pub i32);

impl ErrorCode {
    /// The RFC name; a code not declared below is `KRB_ERR_<decimal>`.
    pub fn name(self) -> std::borrow::Cow<'static, str> {
        match self.rfc_name() {
            Some(name) => std::borrow::Cow::Borrowed(name),
            None => std::borrow::Cow::Owned(format!("KRB_ERR_{}", self.0)),
        }
    }
}

/// Declares each code once: its constant, its RFC name (RFC 4120 §7.5.9, RFC 4556 §3.1.3,
/// RFC 6113 §5.2) and the short e-text a refusal with it shows the client, so the wire number,
/// the name logs and metrics show and the client's text cannot drift apart.
macro_rules! error_codes {
    ($($(#[$doc:meta])* $constant:ident = $value:literal => $name:literal e_text $e_text:literal,)*) => {
        impl ErrorCode {
            $($(#[$doc])* pub const $constant: ErrorCode = ErrorCode($value);)*

            /// The RFC name of a declared code.
            pub fn rfc_name(self) -> Option<&'static str> {
                match self.0 {
                    $($value => Some($name),)*
                    _ => None,
                }
            }

            /// The e-text a KRB-ERROR with this code carries: a generic word for the client,
            /// never detail (that goes to the log).
            pub fn e_text(self) -> &'static str {
                match self.0 {
                    $($value => $e_text,)*
                    _ => "KRB_ERR_GENERIC",
                }
            }
        }
    };
}

error_codes! {
    C_PRINCIPAL_UNKNOWN = 0x06 => "KDC_ERR_C_PRINCIPAL_UNKNOWN" e_text "CLIENT_NOT_FOUND",
    S_PRINCIPAL_UNKNOWN = 0x07 => "KDC_ERR_S_PRINCIPAL_UNKNOWN" e_text "SERVER_NOT_FOUND",
    /// RFC 4120 §7.5.9: more than one entry for the client name. 8, not 9 (9 is
    /// KDC_ERR_NULL_KEY, which MIT's client shows as "Client or server has a null key").
    PRINCIPAL_NOT_UNIQUE = 0x08 => "KDC_ERR_PRINCIPAL_NOT_UNIQUE" e_text "PRINCIPAL_NOT_UNIQUE",
    WRONG_REALM = 0x44 => "KDC_ERR_WRONG_REALM" e_text "WRONG_REALM",
    /// A user the directory describes in a way no PAC can carry (no objectSid, or one outside
    /// the realm's domain; too many groups).
    POLICY = 0x0c => "KDC_ERR_POLICY" e_text "POLICY",
    BADOPTION = 0x0d => "KDC_ERR_BADOPTION" e_text "BAD_OPTION",
    ETYPE_NOSUPP = 0x0e => "KDC_ERR_ETYPE_NOSUPP" e_text "BAD_ENCRYPTION_TYPE",
    CLIENT_REVOKED = 0x12 => "KDC_ERR_CLIENT_REVOKED" e_text "CLIENT_LOCKED_OUT",
    /// Sent only for a TGS-REQ without PA-TGS-REQ, hence its text. Every KRB_AP_ERR below
    /// but SKEW comes from the TGS checking that AP-REQ, and the client learns no more than that.
    /// A TGT whose PAC does not name its client's directory entry, or that has no PAC when
    /// one is required ([MS-KILE] 3.3.5.7.1, as a DC patched for CVE-2021-42287 refuses it).
    TGT_REVOKED = 0x14 => "KDC_ERR_TGT_REVOKED" e_text "TGT_REVOKED",
    PADATA_TYPE_NOSUPP = 0x10 => "KDC_ERR_PADATA_TYPE_NOSUPP" e_text "TGS_AUTHENTICATION_FAILED",
    PREAUTH_FAILED = 0x18 => "KDC_ERR_PREAUTH_FAILED" e_text "PREAUTH_FAILED",
    PREAUTH_REQUIRED = 0x19 => "KDC_ERR_PREAUTH_REQUIRED" e_text "NEEDED_PREAUTH",
    SVC_UNAVAILABLE = 0x1d => "KDC_ERR_SVC_UNAVAILABLE" e_text "SERVICE_UNAVAILABLE",
    AP_ERR_BAD_INTEGRITY = 0x1f => "KRB_AP_ERR_BAD_INTEGRITY" e_text "TGS_AUTHENTICATION_FAILED",
    AP_ERR_TKT_EXPIRED = 0x20 => "KRB_AP_ERR_TKT_EXPIRED" e_text "TGS_AUTHENTICATION_FAILED",
    AP_ERR_TKT_NYV = 0x21 => "KRB_AP_ERR_TKT_NYV" e_text "TGS_AUTHENTICATION_FAILED",
    AP_ERR_NOT_US = 0x23 => "KRB_AP_ERR_NOT_US" e_text "TGS_AUTHENTICATION_FAILED",
    AP_ERR_BADMATCH = 0x24 => "KRB_AP_ERR_BADMATCH" e_text "TGS_AUTHENTICATION_FAILED",
    AP_ERR_REPEAT = 0x22 => "KRB_AP_ERR_REPEAT" e_text "TGS_AUTHENTICATION_FAILED",
    SKEW = 0x25 => "KRB_AP_ERR_SKEW" e_text "CLOCK_SKEW",
    AP_ERR_MODIFIED = 0x29 => "KRB_AP_ERR_MODIFIED" e_text "TGS_AUTHENTICATION_FAILED",
    AP_ERR_BADKEYVER = 0x2c => "KRB_AP_ERR_BADKEYVER" e_text "TGS_AUTHENTICATION_FAILED",
    AP_ERR_INAPP_CKSUM = 0x32 => "KRB_AP_ERR_INAPP_CKSUM" e_text "TGS_AUTHENTICATION_FAILED",
    MSG_TYPE = 0x28 => "KRB_AP_ERR_MSG_TYPE" e_text "KRB_AP_ERR_MSG_TYPE",
    GENERIC = 0x3c => "KRB_ERR_GENERIC" e_text "INTERNAL_ERROR",
    FIELD_TOOLONG = 0x3d => "KRB_ERR_FIELD_TOOLONG" e_text "KRB_ERR_FIELD_TOOLONG",
    RESPONSE_TOO_BIG = 0x34 => "KRB_ERR_RESPONSE_TOO_BIG" e_text "KRB_ERR_RESPONSE_TOO_BIG",
    CLIENT_NOT_TRUSTED = 0x3e => "KDC_ERR_CLIENT_NOT_TRUSTED" e_text "CLIENT_NOT_TRUSTED",
    INVALID_SIG = 0x40 => "KDC_ERR_INVALID_SIG" e_text "KDC_ERR_INVALID_SIG",
    DH_KEY_PARAMETERS_NOT_ACCEPTED = 0x41 => "KDC_ERR_DH_KEY_PARAMETERS_NOT_ACCEPTED" e_text "DH_PARAMETERS_NOT_ACCEPTED",
    CANT_VERIFY_CERTIFICATE = 0x46 => "KDC_ERR_CANT_VERIFY_CERTIFICATE" e_text "CANT_VERIFY_CERTIFICATE",
    INVALID_CERTIFICATE = 0x47 => "KDC_ERR_INVALID_CERTIFICATE" e_text "INVALID_CERTIFICATE",
    REVOKED_CERTIFICATE = 0x48 => "KDC_ERR_REVOKED_CERTIFICATE" e_text "REVOKED_CERTIFICATE",
    REVOCATION_STATUS_UNKNOWN = 0x49 => "KDC_ERR_REVOCATION_STATUS_UNKNOWN" e_text "REVOCATION_STATUS_UNKNOWN",
    CLIENT_NAME_MISMATCH = 0x4b => "KDC_ERR_CLIENT_NAME_MISMATCH" e_text "CLIENT_NAME_MISMATCH",
    INCONSISTENT_KEY_PURPOSE = 0x4d => "KDC_ERR_INCONSISTENT_KEY_PURPOSE" e_text "INCONSISTENT_KEY_PURPOSE",
    PA_CHECKSUM_MUST_BE_INCLUDED = 0x4f => "KDC_ERR_PA_CHECKSUM_MUST_BE_INCLUDED" e_text "PA_CHECKSUM_MUST_BE_INCLUDED",
    DIGEST_IN_SIGNED_DATA_NOT_ACCEPTED = 0x50 => "KDC_ERR_DIGEST_IN_SIGNED_DATA_NOT_ACCEPTED" e_text "DIGEST_NOT_ACCEPTED",
    /// RFC 6113 §5.2; RFC 8070 §2.4 answers an invalid freshness token with it.
    PREAUTH_EXPIRED = 0x5a => "KDC_ERR_PREAUTH_EXPIRED" e_text "FRESHNESS_TOKEN_EXPIRED",
    // Named for the logs only: this KDC does not send these (nor the transport's codes above,
    // FIELD_TOOLONG and RESPONSE_TOO_BIG, with an e-text).
    NULL_KEY = 0x09 => "KDC_ERR_NULL_KEY" e_text "KDC_ERR_NULL_KEY",
    REVOCATION_STATUS_UNAVAILABLE = 0x4a => "KDC_ERR_REVOCATION_STATUS_UNAVAILABLE" e_text "KDC_ERR_REVOCATION_STATUS_UNAVAILABLE",
    KDC_NAME_MISMATCH = 0x4c => "KDC_ERR_KDC_NAME_MISMATCH" e_text "KDC_ERR_KDC_NAME_MISMATCH",
    DIGEST_IN_CERT_NOT_ACCEPTED = 0x4e => "KDC_ERR_DIGEST_IN_CERT_NOT_ACCEPTED" e_text "KDC_ERR_DIGEST_IN_CERT_NOT_ACCEPTED",
}

/// PA-DATA types (RFC 4120 §7.5.2, RFC 4556 §3.2.1, RFC 6113, RFC 8070).
pub mod padata {
    pub const TGS_REQ: i32 = 0x01;
    pub const PK_AS_REQ: i32 = 0x10;
    pub const PK_AS_REP: i32 = 0x11;
    /// RFC 8070: empty in an AS-REQ, "send me a freshness token"; in e-data, the token.
    pub const AS_FRESHNESS: i32 = 0x96;
    /// PA-PAC-REQUEST ([MS-KILE] 2.2.3): whether the client wants a PAC.
    pub const PAC_REQUEST: i32 = 0x80;
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

#[cfg(test)]
mod tests {
    use super::ErrorCode;

    #[test]
    fn each_code_has_its_number_name_and_e_text_in_one_row() {
        assert_eq!(ErrorCode::PREAUTH_REQUIRED, ErrorCode(25));
        assert_eq!(ErrorCode(25).name(), "KDC_ERR_PREAUTH_REQUIRED");
        assert_eq!(ErrorCode(25).e_text(), "NEEDED_PREAUTH");
        assert_eq!(ErrorCode(0x12).e_text(), "CLIENT_LOCKED_OUT");
        // A transport code: never sent with an e-text, its RFC name stands in the column.
        assert_eq!(ErrorCode(0x34).e_text(), "KRB_ERR_RESPONSE_TOO_BIG");
        // Not declared at all.
        assert_eq!(ErrorCode(99).rfc_name(), None);
        assert_eq!(ErrorCode(99).name(), "KRB_ERR_99");
        assert_eq!(ErrorCode(99).e_text(), "KRB_ERR_GENERIC");
    }
}
