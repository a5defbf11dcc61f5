//! The strong forms of altSecurityIdentities (MS-PKCA 3.1.5.2.1.3, KB5014754 "strong"
//! explicit mappings): `X509:<I>issuer<SR>serial`, `X509:<SKI>hex`, `X509:<SHA1-PUKEY>hex`.
//! The weak forms (`<S>`, `<I>..<S>`, `<RFC822>`) never count.
//!
//! `<I>` is the issuer DN with its RDNs in certificate (X.500) order, `DC=com,DC=contoso,
//! CN=CONTOSO-DC-CA`, the reverse of RFC 4514 text; either order is accepted. `<SR>` is the
//! serial with its bytes reversed, as AD tools write it (CryptoAPI keeps serials
//! little-endian): serial 2B0000000011AC0000000012 is written 1200000000AC11000000002B.
//! `<SHA1-PUKEY>` is described as the SHA-1 hash of the public key without saying which
//! bytes; the hash of the SubjectPublicKeyInfo, of the subjectPublicKey bits, and of the
//! certificate (what some tools write) are all accepted: each binds this key or certificate.

use aws_lc_rs::digest::{SHA1_FOR_LEGACY_USE_ONLY, digest};
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::ParsedExtension;
use x509_parser::x509::X509Name;

use crate::proto::der;

/// The first strong form among `values` that binds `cert`, named for the log.
pub fn strong_match(cert: &X509Certificate<'_>, values: &[String]) -> Option<&'static str> {
    values.iter().find_map(|value| matches(cert, value))
}

fn matches(cert: &X509Certificate<'_>, value: &str) -> Option<&'static str> {
    let rest = strip_prefix_ignore_case(value.trim(), "X509:")?;
    if let Some(hex) = strip_prefix_ignore_case(rest, "<SKI>") {
        let ski = subject_key_identifier(cert)?;
        return (decode_hex(hex)? == ski).then_some("altSecurityIdentities <SKI>");
    }
    if let Some(hex) = strip_prefix_ignore_case(rest, "<SHA1-PUKEY>") {
        let wanted = decode_hex(hex)?;
        let spki = cert.public_key();
        let candidates = [
            spki.raw,
            spki.subject_public_key.data.as_ref(),
            cert.as_raw(),
        ];
        return candidates
            .iter()
            .any(|bytes| digest(&SHA1_FOR_LEGACY_USE_ONLY, bytes).as_ref() == wanted.as_slice())
            .then_some("altSecurityIdentities <SHA1-PUKEY>");
    }
    let issuer_and_serial = strip_prefix_ignore_case(rest, "<I>")?;
    let (issuer, serial) = split_ignore_case(issuer_and_serial, "<SR>")?;
    if issuer.to_ascii_uppercase().contains("<S>") {
        return None;
    }
    let mut reversed = decode_hex(serial)?;
    reversed.reverse();
    let serial_matches =
        der::unsigned_integer_bytes(&reversed) == der::unsigned_integer_bytes(cert.raw_serial());
    (serial_matches && issuer_matches(cert.issuer(), issuer))
        .then_some("altSecurityIdentities <I><SR>")
}

fn subject_key_identifier(cert: &X509Certificate<'_>) -> Option<Vec<u8>> {
    cert.extensions()
        .iter()
        .find_map(|ext| match ext.parsed_extension() {
            ParsedExtension::SubjectKeyIdentifier(id) => Some(id.0.to_vec()),
            _ => None,
        })
}

/// The issuer's attributes as (short type, value), in certificate order.
fn attributes(name: &X509Name<'_>) -> Option<Vec<(String, String)>> {
    name.iter_attributes()
        .map(|attr| {
            let value = attr.as_str().ok()?.trim().to_lowercase();
            Some((short_type(&attr.attr_type().to_id_string())?, value))
        })
        .collect()
}

/// The attribute type names AD writes (CryptoAPI's CertNameToStr), by OID.
fn short_type(oid: &str) -> Option<String> {
    let name = match oid {
        "2.5.4.3" => "CN",
        "2.5.4.5" => "SERIALNUMBER",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "S",
        "2.5.4.9" => "STREET",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.12" => "T",
        "2.5.4.42" => "G",
        "2.5.4.4" => "SN",
        "0.9.2342.19200300.100.1.25" => "DC",
        "0.9.2342.19200300.100.1.1" => "UID",
        "1.2.840.113549.1.9.1" => "E",
        _ => return None,
    };
    Some(name.to_owned())
}

/// `TYPE=value` pairs of a DN string, split at unescaped ',' and '+'; aliases folded.
fn parse_dn(text: &str) -> Option<Vec<(String, String)>> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut escaped = false;
    for c in text.chars() {
        match c {
            _ if escaped => {
                current.push(c);
                escaped = false;
            }
            '\\' => escaped = true,
            ',' | '+' => parts.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    parts.push(current);
    parts
        .iter()
        .map(|part| {
            let (kind, value) = part.split_once('=')?;
            let kind = match kind.trim().to_ascii_uppercase().as_str() {
                "ST" => "S".to_owned(),
                "EMAIL" | "EMAILADDRESS" => "E".to_owned(),
                other => other.to_owned(),
            };
            Some((kind, value.trim().trim_matches('"').to_lowercase()))
        })
        .collect()
}

fn issuer_matches(issuer: &X509Name<'_>, text: &str) -> bool {
    let (Some(cert), Some(mut written)) = (attributes(issuer), parse_dn(text)) else {
        return false;
    };
    if written == cert {
        return true;
    }
    written.reverse();
    written == cert
}

fn strip_prefix_ignore_case<'t>(text: &'t str, prefix: &str) -> Option<&'t str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| text.get(prefix.len()..))
        .flatten()
}

fn split_ignore_case<'t>(text: &'t str, separator: &str) -> Option<(&'t str, &'t str)> {
    let at = text.to_ascii_uppercase().find(separator)?;
    Some((text.get(..at)?, text.get(at + separator.len()..)?))
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    hex::decode(compact).ok().filter(|bytes| !bytes.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(der: &[u8]) -> X509Certificate<'_> {
        x509_parser::parse_x509_certificate(der).unwrap().1
    }

    /// KB5014754's example: serial 2B0000000011AC0000000012 is written
    /// `<SR>1200000000AC11000000002B`, after the issuer in certificate order
    /// (`DC=com,DC=contoso,CN=CONTOSO-DC-CA` there; rcgen keeps one value per attribute
    /// type, so the issuer here is DC=com,O=Contoso,CN=CONTOSO-DC-CA).
    #[test]
    fn issuer_serial_form_of_kb5014754() {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut ca = rcgen::CertificateParams::default();
        ca.distinguished_name = rcgen::DistinguishedName::new();
        let dc = rcgen::DnType::CustomDnType(vec![0, 9, 2342, 19200300, 100, 1, 25]);
        ca.distinguished_name.push(dc, "com");
        ca.distinguished_name
            .push(rcgen::DnType::OrganizationName, "Contoso");
        ca.distinguished_name
            .push(rcgen::DnType::CommonName, "CONTOSO-DC-CA");
        ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let issuer = rcgen::Issuer::new(ca, &key);
        let mut leaf = rcgen::CertificateParams::default();
        leaf.serial_number = Some(hex::decode("2B0000000011AC0000000012").unwrap().into());
        let der = leaf.signed_by(&key, &issuer).unwrap().der().to_vec();
        let cert = parsed(&der);

        let found = |value: &str| strong_match(&cert, &[value.to_owned()]);
        assert_eq!(
            found("X509:<I>DC=com,O=Contoso,CN=CONTOSO-DC-CA<SR>1200000000AC11000000002B"),
            Some("altSecurityIdentities <I><SR>")
        );
        assert!(
            found("x509:<i>CN=CONTOSO-DC-CA, O=contoso, DC=com<sr>1200000000ac11000000002b")
                .is_some()
        );
        // The serial as displayed (not reversed) is another certificate's.
        assert_eq!(
            found("X509:<I>DC=com,O=Contoso,CN=CONTOSO-DC-CA<SR>2B0000000011AC0000000012"),
            None
        );
        assert_eq!(
            found("X509:<I>DC=com,O=Fabrikam,CN=CONTOSO-DC-CA<SR>1200000000AC11000000002B"),
            None
        );
        // Weak forms never match.
        assert_eq!(
            found("X509:<I>DC=com,O=Contoso,CN=CONTOSO-DC-CA<S>CN=x"),
            None
        );
    }

    #[test]
    fn ski_and_sha1_public_key_forms() {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::default();
        // rcgen writes subjectKeyIdentifier only with an explicit basicConstraints.
        params.is_ca = rcgen::IsCa::ExplicitNoCa;
        params.key_identifier_method = rcgen::KeyIdMethod::PreSpecified(vec![0xdd, 0xde, 0x2c]);
        let der = params.self_signed(&key).unwrap().der().to_vec();
        let cert = parsed(&der);
        let found = |value: String| strong_match(&cert, &[value]);
        assert!(found("X509:<SKI>ddde2c".into()).is_some());
        assert!(found("X509:<SKI>ddde2d".into()).is_none());
        let spki_hash = hex::encode(digest(&SHA1_FOR_LEGACY_USE_ONLY, cert.public_key().raw));
        assert!(found(format!("X509:<SHA1-PUKEY>{spki_hash}")).is_some());
        let cert_hash = hex::encode(digest(&SHA1_FOR_LEGACY_USE_ONLY, &der));
        assert!(found(format!("X509:<SHA1-PUKEY>{cert_hash}")).is_some());
        assert!(found("X509:<SHA1-PUKEY>00".into()).is_none());
    }
}
