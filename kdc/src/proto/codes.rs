//! Protocol constants: KRB-ERROR codes (RFC 4120 §7.5.9, RFC 4556 §3.1.3), PA-DATA and
//! TYPED-DATA types (RFC 4120 §7.5.2, RFC 4556 §3.2), and the OIDs PKINIT uses.

/// A KRB-ERROR error-code, as sent on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ErrorCode(pub i32);

impl ErrorCode {
    pub const C_PRINCIPAL_UNKNOWN: ErrorCode = ErrorCode(0x06);
    pub const S_PRINCIPAL_UNKNOWN: ErrorCode = ErrorCode(0x07);
    /// RFC 4120 §7.5.9: more than one entry for the client name. 8, not 9 (9 is
    /// KDC_ERR_NULL_KEY, which MIT's client shows as "Client or server has a null key").
    pub const PRINCIPAL_NOT_UNIQUE: ErrorCode = ErrorCode(0x08);
    pub const WRONG_REALM: ErrorCode = ErrorCode(0x44);
    pub const BADOPTION: ErrorCode = ErrorCode(0x0d);
    pub const ETYPE_NOSUPP: ErrorCode = ErrorCode(0x0e);
    pub const CLIENT_REVOKED: ErrorCode = ErrorCode(0x12);
    pub const PADATA_TYPE_NOSUPP: ErrorCode = ErrorCode(0x10);
    pub const PREAUTH_FAILED: ErrorCode = ErrorCode(0x18);
    pub const PREAUTH_REQUIRED: ErrorCode = ErrorCode(0x19);
    pub const SVC_UNAVAILABLE: ErrorCode = ErrorCode(0x1d);
    pub const AP_ERR_BAD_INTEGRITY: ErrorCode = ErrorCode(0x1f);
    pub const AP_ERR_TKT_EXPIRED: ErrorCode = ErrorCode(0x20);
    pub const AP_ERR_TKT_NYV: ErrorCode = ErrorCode(0x21);
    pub const AP_ERR_NOT_US: ErrorCode = ErrorCode(0x23);
    pub const AP_ERR_BADMATCH: ErrorCode = ErrorCode(0x24);
    pub const AP_ERR_REPEAT: ErrorCode = ErrorCode(0x22);
    pub const SKEW: ErrorCode = ErrorCode(0x25);
    pub const AP_ERR_MODIFIED: ErrorCode = ErrorCode(0x29);
    pub const AP_ERR_BADKEYVER: ErrorCode = ErrorCode(0x2c);
    pub const AP_ERR_INAPP_CKSUM: ErrorCode = ErrorCode(0x32);
    pub const MSG_TYPE: ErrorCode = ErrorCode(0x28);
    pub const GENERIC: ErrorCode = ErrorCode(0x3c);
    pub const FIELD_TOOLONG: ErrorCode = ErrorCode(0x3d);
    pub const RESPONSE_TOO_BIG: ErrorCode = ErrorCode(0x34);
    pub const CLIENT_NOT_TRUSTED: ErrorCode = ErrorCode(0x3e);
    pub const INVALID_SIG: ErrorCode = ErrorCode(0x40);
    pub const DH_KEY_PARAMETERS_NOT_ACCEPTED: ErrorCode = ErrorCode(0x41);
    pub const CANT_VERIFY_CERTIFICATE: ErrorCode = ErrorCode(0x46);
    pub const INVALID_CERTIFICATE: ErrorCode = ErrorCode(0x47);
    pub const REVOKED_CERTIFICATE: ErrorCode = ErrorCode(0x48);
    pub const REVOCATION_STATUS_UNKNOWN: ErrorCode = ErrorCode(0x49);
    pub const CLIENT_NAME_MISMATCH: ErrorCode = ErrorCode(0x4b);
    pub const INCONSISTENT_KEY_PURPOSE: ErrorCode = ErrorCode(0x4d);
    pub const PA_CHECKSUM_MUST_BE_INCLUDED: ErrorCode = ErrorCode(0x4f);
    pub const DIGEST_IN_SIGNED_DATA_NOT_ACCEPTED: ErrorCode = ErrorCode(0x50);
    /// RFC 6113 §5.2; RFC 8070 §2.4 answers an invalid freshness token with it.
    pub const PREAUTH_EXPIRED: ErrorCode = ErrorCode(0x5a);
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
