//! What clients demand of the KDC certificate (RFC 4556 §3.2.4; MIT and Heimdal): the
//! extendedKeyUsage id-pkinit-KPKdc (1.3.6.1.5.2.3.5) and a subjectAltName otherName
//! id-pkinit-san (1.3.6.1.5.2.2) naming krbtgt/REALM@REALM; and a validity that covers now.

use std::time::SystemTime;

use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;

use crate::proto::der::{Tlv, tag};
use crate::proto::pkinit::Krb5PrincipalName;

const PKINIT_KP_KDC: &str = "1.3.6.1.5.2.3.5";
const PKINIT_SAN: &str = "1.3.6.1.5.2.2";

/// Every problem clients would have with this certificate (empty: none).
pub fn problems(cert_der: &[u8], realm: &str, now: SystemTime) -> Vec<String> {
    let cert = match x509_parser::parse_x509_certificate(cert_der) {
        Ok((_, cert)) => cert,
        Err(e) => return vec![format!("not an X.509 certificate: {e}")],
    };
    let mut found = Vec::new();
    if !has_kdc_eku(&cert) {
        found.push("no extendedKeyUsage id-pkinit-KPKdc (1.3.6.1.5.2.3.5): Heimdal and Windows clients refuse it".to_owned());
    }
    let wanted = format!("krbtgt/{realm}@{realm}");
    let names = krb5_names(&cert);
    if !names.contains(&wanted) {
        found.push(format!(
            "no subjectAltName id-pkinit-san {wanted} (has {names:?}): MIT kinit reports \"KDC name mismatch\""
        ));
    }
    let seconds = |at: SystemTime| {
        at.duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
    };
    let validity = cert.validity();
    let now = seconds(now);
    if now < validity.not_before.timestamp() {
        found.push(format!("not valid before {}", validity.not_before));
    }
    if now > validity.not_after.timestamp() {
        found.push(format!("expired on {}", validity.not_after));
    }
    found
}

fn has_kdc_eku(cert: &X509Certificate<'_>) -> bool {
    matches!(cert.extended_key_usage(), Ok(Some(eku))
        if eku.value.other.iter().any(|oid| oid.to_id_string() == PKINIT_KP_KDC))
}

/// The id-pkinit-san names, as `name/components@REALM`.
fn krb5_names(cert: &X509Certificate<'_>) -> Vec<String> {
    let Ok(Some(san)) = cert.subject_alternative_name() else {
        return Vec::new();
    };
    san.value
        .general_names
        .iter()
        .filter_map(|name| match name {
            GeneralName::OtherName(oid, value) if oid.to_id_string() == PKINIT_SAN => {
                let inner = Tlv::read_only(value, tag::context(0)).ok()?.value;
                let name: Krb5PrincipalName = rasn::der::decode(inner).ok()?;
                let components: Vec<String> = name
                    .principal_name
                    .string
                    .iter()
                    .map(|c| String::from_utf8_lossy(c.as_bytes()).into_owned())
                    .collect();
                Some(format!(
                    "{}@{}",
                    components.join("/"),
                    String::from_utf8_lossy(name.realm.as_bytes())
                ))
            }
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dev_kdc_certificate(dir: &std::path::Path) -> Vec<u8> {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime
            .block_on(crate::dev_realm::create(dir, "EXAMPLE.TEST", 8888))
            .unwrap();
        crate::signer::software::read_chain(&dir.join("kdc.pem"))
            .unwrap()
            .remove(0)
    }

    #[test]
    fn dev_realm_certificate_passes_and_others_fail() {
        let dir = tempfile::tempdir().unwrap();
        let kdc = dev_kdc_certificate(dir.path());
        assert_eq!(
            problems(&kdc, "EXAMPLE.TEST", SystemTime::now()),
            Vec::<String>::new()
        );
        let other_realm = problems(&kdc, "OTHER.TEST", SystemTime::now());
        assert_eq!(other_realm.len(), 1, "{other_realm:?}");
        assert!(
            other_realm[0].contains("krbtgt/OTHER.TEST@OTHER.TEST"),
            "{other_realm:?}"
        );
        let later = SystemTime::now() + std::time::Duration::from_secs(400 * 86_400);
        let expired = problems(&kdc, "EXAMPLE.TEST", later);
        assert!(expired[0].starts_with("expired on"), "{expired:?}");
        // alice's self-signed client certificate has neither.
        let alice = crate::signer::software::read_chain(&dir.path().join("alice.pem"))
            .unwrap()
            .remove(0);
        assert_eq!(problems(&alice, "EXAMPLE.TEST", SystemTime::now()).len(), 2);
    }
}
