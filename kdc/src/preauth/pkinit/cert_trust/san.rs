//! The identities a client certificate claims (RFC 4556 §3.2.2, MS-PKCA 3.1.5.2.1.1):
//! subjectAltName otherNames id-pkinit-san (KRB5PrincipalName, 1.3.6.1.5.2.2) and the
//! Microsoft UPN (1.3.6.1.4.1.311.20.2.3, UTF8String), and the KB5014754 SID extension
//! 1.3.6.1.4.1.311.25.2: SEQUENCE { [0] { OID 1.3.6.1.4.1.311.25.2.1, [0] OCTET STRING
//! "S-1-5-..." } }, otherName-shaped.

use kdc_directory::Sid;
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;

use crate::error::KdcError;
use crate::proto::der::{Tlv, tag};
use crate::proto::pkinit::Krb5PrincipalName;

const PKINIT_SAN: &str = "1.3.6.1.5.2.2";
const MS_UPN: &str = "1.3.6.1.4.1.311.20.2.3";
const SID_EXTENSION: &str = "1.3.6.1.4.1.311.25.2";
const SID_OTHER_NAME: &str = "1.3.6.1.4.1.311.25.2.1";
const UTF8_STRING: u8 = 0x0c;

/// A name the certificate gives its subject.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CertName {
    /// id-pkinit-san: realm and name components.
    Principal {
        realm: String,
        components: Vec<String>,
    },
    /// Microsoft UPN otherName.
    Upn(String),
}

impl std::fmt::Display for CertName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CertName::Principal { realm, components } => {
                write!(f, "id-pkinit-san {}@{realm}", components.join("/"))
            }
            CertName::Upn(upn) => write!(f, "UPN {upn}"),
        }
    }
}

fn invalid(what: String) -> KdcError {
    KdcError::InvalidCertificate(what)
}

/// The id-pkinit-san and UPN names of the subjectAltName; other names are ignored.
pub fn names(cert: &X509Certificate<'_>) -> Result<Vec<CertName>, KdcError> {
    let Some(san) = cert
        .subject_alternative_name()
        .map_err(|e| invalid(format!("subjectAltName unreadable: {e}")))?
    else {
        return Ok(Vec::new());
    };
    let mut names = Vec::new();
    for name in &san.value.general_names {
        let GeneralName::OtherName(oid, explicit) = name else {
            continue;
        };
        let oid = oid.to_id_string();
        if oid != PKINIT_SAN && oid != MS_UPN {
            continue;
        }
        let value = Tlv::read_only(explicit, tag::context(0))
            .map_err(|e| invalid(format!("otherName {oid} malformed: {e}")))?
            .value;
        names.push(if oid == PKINIT_SAN {
            principal(value)?
        } else {
            let text = Tlv::read_only(value, UTF8_STRING)
                .map_err(|e| invalid(format!("UPN otherName malformed: {e}")))?;
            CertName::Upn(utf8(text.value, "UPN")?)
        });
    }
    Ok(names)
}

fn principal(value: &[u8]) -> Result<CertName, KdcError> {
    let name: Krb5PrincipalName =
        rasn::der::decode(value).map_err(|e| invalid(format!("id-pkinit-san malformed: {e}")))?;
    let components = name
        .principal_name
        .string
        .iter()
        .map(|c| utf8(c.as_bytes(), "id-pkinit-san"))
        .collect::<Result<_, _>>()?;
    Ok(CertName::Principal {
        realm: utf8(name.realm.as_bytes(), "id-pkinit-san realm")?,
        components,
    })
}

fn utf8(bytes: &[u8], what: &str) -> Result<String, KdcError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| invalid(format!("{what} is not UTF-8")))
}

/// The SID the KB5014754 extension carries, if the certificate has the extension.
pub fn sid_extension(cert: &X509Certificate<'_>) -> Result<Option<Sid>, KdcError> {
    let Some(ext) = cert
        .extensions()
        .iter()
        .find(|ext| ext.oid.to_id_string() == SID_EXTENSION)
    else {
        return Ok(None);
    };
    parse_sid_extension(ext.value)
        .map(Some)
        .map_err(|what| invalid(format!("SID extension malformed: {what}")))
}

fn parse_sid_extension(value: &[u8]) -> Result<Sid, String> {
    let names = Tlv::read_only(value, tag::SEQUENCE).map_err(|e| e.to_string())?;
    for name in names.children() {
        let name = name.map_err(|e| e.to_string())?;
        if name.tag != tag::context(0) {
            continue;
        }
        let mut parts = name.children();
        let oid = parts.next_required().map_err(|e| e.to_string())?;
        if oid.tag != tag::OID || oid.raw != crate::proto::der::encode_oid(SID_OID_ARCS) {
            continue;
        }
        let explicit = parts
            .next_required()
            .and_then(|t| t.expect(tag::context(0)))
            .map_err(|e| e.to_string())?;
        let sid = Tlv::read_only(explicit.value, tag::OCTET_STRING).map_err(|e| e.to_string())?;
        let sid = std::str::from_utf8(sid.value).map_err(|_| "SID is not text".to_owned())?;
        return sid
            .parse()
            .map_err(|e: kdc_directory::sid::SidError| e.to_string());
    }
    Err(format!("no {SID_OTHER_NAME} value"))
}

const SID_OID_ARCS: &[u32] = &[1, 3, 6, 1, 4, 1, 311, 25, 2, 1];

#[cfg(test)]
mod tests {
    use super::*;

    /// The extension value as the PowerShell encoder in the KB5014754 tooling builds it:
    /// 30 { A0 { 06 0A 2B0601040182371902 01, A0 { 04 len "S-1-5-..." } } }.
    #[test]
    fn sid_extension_value_decodes() {
        let sid = b"S-1-5-21-3623811015-3361044348-30300820-1013";
        let mut octets = vec![0x04, sid.len() as u8];
        octets.extend_from_slice(sid);
        let mut explicit = vec![0xa0, octets.len() as u8];
        explicit.extend(octets);
        let mut other = hex::decode("060a2b060104018237190201").unwrap();
        other.extend(explicit);
        let mut named = vec![0xa0, other.len() as u8];
        named.extend(other);
        let mut value = vec![0x30, named.len() as u8];
        value.extend(named);
        assert_eq!(
            parse_sid_extension(&value).unwrap().to_string(),
            "S-1-5-21-3623811015-3361044348-30300820-1013"
        );
        let mut wrong_oid = value.clone();
        wrong_oid[15] = 0x02;
        assert!(parse_sid_extension(&wrong_oid).is_err());
        assert!(parse_sid_extension(&value[..value.len() - 1]).is_err());
    }
}
