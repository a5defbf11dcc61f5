//! The RFC 8636 §6 KDF input: OtherInfo (NIST SP 800-56A's ASN.1 form) with the PKINIT
//! party and supplementary information, DER-encoded with rasn. The Kerberos ASN.1 module
//! uses EXPLICIT TAGS, hence the explicit context tags below.

use rasn::prelude::*;
use rasn_kerberos::{PrincipalName, Realm};

use super::AgreementError;

/// AlgorithmIdentifier (RFC 5280 §4.1.1.2); RFC 8636 §6 puts the KDF OID here with the
/// parameters absent.
#[derive(AsnType, Clone, Debug, Encode)]
struct AlgorithmIdentifier {
    algorithm: ObjectIdentifier,
    parameters: Option<Any>,
}

/// KRB5PrincipalName (RFC 4556 §3.2.2): a realm and a name in it.
#[derive(AsnType, Clone, Debug, Encode)]
struct Krb5PrincipalName {
    #[rasn(tag(explicit(0)))]
    realm: Realm,
    #[rasn(tag(explicit(1)))]
    principal_name: PrincipalName,
}

/// PkinitSuppPubInfo (RFC 8636 §6): binds the key to the enctype and both messages.
#[derive(AsnType, Clone, Debug, Encode)]
struct PkinitSuppPubInfo {
    #[rasn(tag(explicit(0)))]
    enctype: i32,
    #[rasn(tag(explicit(1)))]
    as_req: OctetString,
    #[rasn(tag(explicit(2)))]
    pk_as_rep: OctetString,
}

/// OtherInfo (RFC 8636 §6, after SP 800-56A).
#[derive(AsnType, Clone, Debug, Encode)]
struct OtherInfo {
    algorithm_id: AlgorithmIdentifier,
    #[rasn(tag(explicit(0)))]
    party_u_info: OctetString,
    #[rasn(tag(explicit(1)))]
    party_v_info: OctetString,
    #[rasn(tag(explicit(2)))]
    supp_pub_info: Option<OctetString>,
    #[rasn(tag(explicit(3)))]
    supp_priv_info: Option<OctetString>,
}

/// One party of the exchange: its realm and principal name.
pub(super) struct Party<'a> {
    pub(super) realm: &'a str,
    pub(super) name: &'a PrincipalName,
}

/// What OtherInfo binds besides the parties.
pub(super) struct ExchangeInfo<'a> {
    pub(super) enctype: i32,
    pub(super) as_req_der: &'a [u8],
    pub(super) pk_as_rep_der: &'a [u8],
}

/// DER of OtherInfo: algorithmID = the KDF OID without parameters, partyUInfo = the
/// client's KRB5PrincipalName, partyVInfo = the KDC's, suppPubInfo = PkinitSuppPubInfo.
pub(super) fn other_info_der(
    kdf_oid: &Oid,
    client: &Party<'_>,
    kdc: &Party<'_>,
    exchange: &ExchangeInfo<'_>,
) -> Result<Vec<u8>, AgreementError> {
    let supp_pub_info = PkinitSuppPubInfo {
        enctype: exchange.enctype,
        as_req: OctetString::from_slice(exchange.as_req_der),
        pk_as_rep: OctetString::from_slice(exchange.pk_as_rep_der),
    };
    let other_info = OtherInfo {
        algorithm_id: AlgorithmIdentifier {
            algorithm: kdf_oid.to_owned(),
            parameters: None,
        },
        party_u_info: principal_der(client, "client principal name")?,
        party_v_info: principal_der(kdc, "KDC principal name")?,
        supp_pub_info: Some(der(&supp_pub_info, "PkinitSuppPubInfo")?),
        supp_priv_info: None,
    };
    rasn::der::encode(&other_info).map_err(|_| AgreementError::Encoding { what: "OtherInfo" })
}

fn principal_der(party: &Party<'_>, what: &'static str) -> Result<OctetString, AgreementError> {
    let realm = GeneralString::from_bytes(party.realm.as_bytes()).map_err(|_| {
        AgreementError::Encoding {
            what: "realm is not a GeneralString",
        }
    })?;
    let principal = Krb5PrincipalName {
        realm,
        principal_name: party.name.clone(),
    };
    der(&principal, what)
}

fn der<T: Encode>(value: &T, what: &'static str) -> Result<OctetString, AgreementError> {
    rasn::der::encode(value)
        .map(OctetString::from)
        .map_err(|_| AgreementError::Encoding { what })
}
