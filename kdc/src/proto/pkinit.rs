//! PKINIT ASN.1 types (RFC 4556 §3.2.1-§3.2.3, with the RFC 8636 `supportedKDFs`/`kdf` and
//! RFC 8070 `freshnessToken` extensions, and MS-PKCA `paChecksum2`). The module is EXPLICIT
//! TAGS, so only the fields marked IMPLICIT in the RFC use implicit tags here. Structures are
//! extensible: fields after the `...` marker from newer clients are tolerated.

use rasn::prelude::*;
use rasn_kerberos::KerberosTime;
use rasn_pkix::{AlgorithmIdentifier, SubjectPublicKeyInfo};

/// PA-PK-AS-REQ (RFC 4556 §3.2.1).
#[derive(AsnType, Clone, Debug, Decode, Encode, PartialEq, Eq)]
#[non_exhaustive]
pub struct PaPkAsReq {
    /// DER ContentInfo (SignedData over an AuthPack).
    #[rasn(tag(context, 0))]
    pub signed_auth_pack: OctetString,
    #[rasn(tag(explicit(1)))]
    pub trusted_certifiers: Option<SequenceOf<Any>>,
    #[rasn(tag(context, 2))]
    pub kdc_pk_id: Option<OctetString>,
}

impl PaPkAsReq {
    /// A request with no trustedCertifiers and no kdcPkId, as every client sends.
    pub fn new(signed_auth_pack: Vec<u8>) -> Self {
        Self {
            signed_auth_pack: signed_auth_pack.into(),
            trusted_certifiers: None,
            kdc_pk_id: None,
        }
    }
}

/// AuthPack (RFC 4556 §3.2.1, RFC 8636 §4).
#[derive(AsnType, Clone, Debug, Decode, Encode, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuthPack {
    #[rasn(tag(explicit(0)))]
    pub pk_authenticator: PkAuthenticator,
    #[rasn(tag(explicit(1)))]
    pub client_public_value: Option<SubjectPublicKeyInfo>,
    #[rasn(tag(explicit(2)))]
    pub supported_cms_types: Option<SequenceOf<AlgorithmIdentifier>>,
    #[rasn(tag(explicit(3)))]
    pub client_dh_nonce: Option<OctetString>,
    #[rasn(tag(explicit(4)))]
    pub supported_kdfs: Option<SequenceOf<KdfAlgorithmId>>,
}

impl AuthPack {
    /// An AuthPack with none of its OPTIONAL fields; the caller sets those it sends.
    pub fn new(pk_authenticator: PkAuthenticator) -> Self {
        Self {
            pk_authenticator,
            client_public_value: None,
            supported_cms_types: None,
            client_dh_nonce: None,
            supported_kdfs: None,
        }
    }
}

/// PKAuthenticator (RFC 4556 §3.2.1, RFC 8070 §4, MS-PKCA §2.2.3).
#[derive(AsnType, Clone, Debug, Decode, Encode, PartialEq, Eq)]
#[non_exhaustive]
pub struct PkAuthenticator {
    #[rasn(tag(explicit(0)))]
    pub cusec: u32,
    #[rasn(tag(explicit(1)))]
    pub ctime: KerberosTime,
    #[rasn(tag(explicit(2)))]
    pub nonce: u32,
    #[rasn(tag(explicit(3)))]
    pub pa_checksum: Option<OctetString>,
    #[rasn(tag(explicit(4)))]
    pub freshness_token: Option<OctetString>,
    #[rasn(tag(explicit(5)))]
    pub pa_checksum2: Option<PaChecksum2>,
}

impl PkAuthenticator {
    /// A PKAuthenticator with none of its OPTIONAL fields; the caller sets those it sends.
    pub fn new(cusec: u32, ctime: KerberosTime, nonce: u32) -> Self {
        Self {
            cusec,
            ctime,
            nonce,
            pa_checksum: None,
            freshness_token: None,
            pa_checksum2: None,
        }
    }
}

/// PAChecksum2 (MS-PKCA §2.2.3): a checksum of the request body with a named digest.
#[derive(AsnType, Clone, Debug, Decode, Encode, PartialEq, Eq)]
#[non_exhaustive]
pub struct PaChecksum2 {
    #[rasn(tag(explicit(0)))]
    pub checksum: OctetString,
    #[rasn(tag(explicit(1)))]
    pub algorithm_identifier: AlgorithmIdentifier,
}

impl PaChecksum2 {
    pub fn new(checksum: Vec<u8>, algorithm_identifier: AlgorithmIdentifier) -> Self {
        Self {
            checksum: checksum.into(),
            algorithm_identifier,
        }
    }
}

/// KDFAlgorithmId (RFC 8636 §4).
#[derive(AsnType, Clone, Debug, Decode, Encode, PartialEq, Eq)]
#[non_exhaustive]
pub struct KdfAlgorithmId {
    #[rasn(tag(explicit(0)))]
    pub kdf_id: ObjectIdentifier,
}

impl KdfAlgorithmId {
    pub fn new(kdf_id: ObjectIdentifier) -> Self {
        Self { kdf_id }
    }
}

/// PA-PK-AS-REP (RFC 4556 §3.2.3).
#[derive(AsnType, Clone, Debug, Decode, Encode, PartialEq, Eq)]
#[rasn(choice)]
pub enum PaPkAsRep {
    #[rasn(tag(explicit(0)))]
    DhInfo(DhRepInfo),
    #[rasn(tag(context, 1))]
    EncKeyPack(OctetString),
}

/// DHRepInfo (RFC 4556 §3.2.3.1, RFC 8636 §4).
#[derive(AsnType, Clone, Debug, Decode, Encode, PartialEq, Eq)]
#[non_exhaustive]
pub struct DhRepInfo {
    /// DER ContentInfo (SignedData over a KDCDHKeyInfo).
    #[rasn(tag(context, 0))]
    pub dh_signed_data: OctetString,
    #[rasn(tag(explicit(1)))]
    pub server_dh_nonce: Option<OctetString>,
    #[rasn(tag(explicit(2)))]
    pub kdf: Option<KdfAlgorithmId>,
}

impl DhRepInfo {
    pub fn new(
        dh_signed_data: Vec<u8>,
        server_dh_nonce: Option<Vec<u8>>,
        kdf: Option<ObjectIdentifier>,
    ) -> Self {
        Self {
            dh_signed_data: dh_signed_data.into(),
            server_dh_nonce: server_dh_nonce.map(Into::into),
            kdf: kdf.map(KdfAlgorithmId::new),
        }
    }
}

/// KDCDHKeyInfo (RFC 4556 §3.2.3.1).
#[derive(AsnType, Clone, Debug, Decode, Encode, PartialEq, Eq)]
#[non_exhaustive]
pub struct KdcDhKeyInfo {
    /// The KDC's public value: a DER INTEGER inside the BIT STRING for MODP, the point for
    /// ECDH (RFC 5349 §4).
    #[rasn(tag(explicit(0)))]
    pub subject_public_key: BitString,
    /// The nonce of the client's PKAuthenticator.
    #[rasn(tag(explicit(1)))]
    pub nonce: u32,
    #[rasn(tag(explicit(2)))]
    pub dh_key_expiration: Option<KerberosTime>,
}

impl KdcDhKeyInfo {
    pub fn new(public_value_bits: &[u8], nonce: u32) -> Self {
        Self {
            subject_public_key: BitString::from_slice(public_value_bits),
            nonce,
            dh_key_expiration: None,
        }
    }
}

/// KRB5PrincipalName (RFC 4556 §3.2.2): the id-pkinit-san otherName value.
#[derive(AsnType, Clone, Debug, Decode, Encode, PartialEq, Eq)]
pub struct Krb5PrincipalName {
    #[rasn(tag(explicit(0)))]
    pub realm: rasn_kerberos::Realm,
    #[rasn(tag(explicit(1)))]
    pub principal_name: rasn_kerberos::PrincipalName,
}

impl Krb5PrincipalName {
    pub fn new(realm: &str, principal_name: rasn_kerberos::PrincipalName) -> Self {
        Self {
            realm: crate::proto::kerberos::kerberos_string(realm),
            principal_name,
        }
    }
}

/// TYPED-DATA element (RFC 4120 §5.9.1), for KRB-ERROR e-data such as TD-DH-PARAMETERS.
#[derive(AsnType, Clone, Debug, Decode, Encode, PartialEq, Eq)]
pub struct TypedDataEntry {
    #[rasn(tag(explicit(0)))]
    pub data_type: i32,
    #[rasn(tag(explicit(1)))]
    pub data_value: Option<OctetString>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::kerberos::KdcRequest;
    use crate::testing::wire;

    fn auth_pack_of(name: &str) -> (PaPkAsReq, Vec<u8>) {
        let bytes = wire(name);
        let request = KdcRequest::decode(&bytes).unwrap();
        let pa = request
            .padata(crate::proto::codes::padata::PK_AS_REQ)
            .unwrap()
            .to_vec();
        (rasn::der::decode::<PaPkAsReq>(&pa).unwrap(), pa)
    }

    #[test]
    fn decodes_mit_and_heimdal_pa_pk_as_req() {
        for name in [
            "mit_as_req_pkinit_dh2048.der",
            "mit_as_req_pkinit_dh4096.der",
            "heimdal_as_req_pkinit_dh2048.der",
        ] {
            let (pa, raw) = auth_pack_of(name);
            assert!(pa.signed_auth_pack.len() > 1000, "{name}");
            // Re-encoding is byte-identical: nothing was lost in decoding.
            assert_eq!(rasn::der::encode(&pa).unwrap(), raw, "{name}");
        }
    }

    #[test]
    fn decodes_mit_pa_pk_as_rep_dh_info_with_kdf() {
        let bytes = wire("mit_as_rep_pkinit_dh2048.der");
        let rep: rasn_kerberos::AsRep = rasn::der::decode(&bytes).unwrap();
        let padata = rep.0.padata.unwrap();
        let pa = padata.iter().find(|p| p.r#type == 17).unwrap();
        let PaPkAsRep::DhInfo(info) = rasn::der::decode::<PaPkAsRep>(&pa.value).unwrap() else {
            panic!("not dhInfo");
        };
        let kdf = info.kdf.unwrap();
        assert_eq!(kdf.kdf_id.to_string(), "1.3.6.1.5.2.3.6.2");
        assert!(info.server_dh_nonce.is_none());
        assert_eq!(
            rasn::der::encode(&PaPkAsRep::DhInfo(DhRepInfo {
                kdf: Some(kdf),
                ..info
            }))
            .unwrap(),
            pa.value.to_vec()
        );
    }
}
