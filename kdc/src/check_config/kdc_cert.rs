//! What clients demand of the KDC certificate (RFC 4556 §3.2.4; MIT and Heimdal): the
//! extendedKeyUsage id-pkinit-KPKdc and a subjectAltName that names the KDC, either the
//! otherName id-pkinit-san krbtgt/REALM@REALM, which every client accepts, or only the
//! dNSName that Active Directory puts into domain controllers' certificates, which MIT kinit
//! accepts with `pkinit_kdc_hostname` and Heimdal with `pkinit_require_krbtgt_otherName =
//! false`; and a validity that covers now.

use std::time::SystemTime;

use x509_parser::certificate::X509Certificate;
use x509_parser::der_parser::oid::Oid;
use x509_parser::extensions::GeneralName;

use crate::proto::codes::oid;
use crate::proto::der::{Tlv, tag};
use crate::proto::pkinit::Krb5PrincipalName;

/// What clients would make of a KDC certificate.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Verdict {
    /// What some client refuses however it is configured (empty: none).
    pub problems: Vec<String>,
    /// What works, but only for clients configured for it.
    pub notes: Vec<String>,
}

/// Checks a KDC certificate for `realm` as clients would at `now`.
pub fn check(cert_der: &[u8], realm: &str, now: SystemTime) -> Verdict {
    let cert = match x509_parser::parse_x509_certificate(cert_der) {
        Ok((_, cert)) => cert,
        Err(e) => {
            return Verdict {
                problems: vec![format!("not an X.509 certificate: {e}")],
                notes: Vec::new(),
            };
        }
    };
    let mut verdict = Verdict::default();
    let kp_kdc = has_kdc_eku(&cert);
    if !kp_kdc {
        // MIT skips the EKU check only when the krbtgt SAN matched; Heimdal
        // (pkinit_require_eku) and Windows check it always.
        verdict.problems.push(
            "no extendedKeyUsage id-pkinit-KPKdc (1.3.6.1.5.2.3.5, \"KDC Authentication\"): \
             Heimdal and Windows clients refuse it, and MIT kinit too unless the certificate \
             carries the krbtgt id-pkinit-san"
                .to_owned(),
        );
    }
    let wanted = format!("krbtgt/{realm}@{realm}");
    let names = krb5_names(&cert);
    let dns_names = dns_names(&cert);
    if names.contains(&wanted) {
        // Every client matches this name; nothing to configure.
    } else if !names.is_empty() {
        verdict.problems.push(format!(
            "subjectAltName id-pkinit-san names {names:?}, not {wanted}: issued for another \
             realm? MIT kinit reports \"KDC name mismatch\" and Heimdal refuses it"
        ));
    } else if dns_names.is_empty() {
        verdict.problems.push(format!(
            "subjectAltName has neither id-pkinit-san {wanted} nor a dNSName: no client can \
             tell it is this realm's KDC (MIT kinit reports \"KDC name mismatch\")"
        ));
    } else if kp_kdc {
        verdict.notes.push(dc_form_note(realm, &wanted, &dns_names));
    } else {
        verdict.problems.push(format!(
            "no subjectAltName id-pkinit-san {wanted}, and its dNSName {} is accepted only \
             with the id-pkinit-KPKdc extendedKeyUsage",
            dns_names.join(", ")
        ));
    }
    let seconds = |at: SystemTime| {
        at.duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
    };
    let validity = cert.validity();
    let now = seconds(now);
    if now < validity.not_before.timestamp() {
        verdict
            .problems
            .push(format!("not valid before {}", validity.not_before));
    }
    if now > validity.not_after.timestamp() {
        verdict
            .problems
            .push(format!("expired on {}", validity.not_after));
    }
    verdict
}

/// What each client needs for a domain controller's certificate: MIT kinit matches a dNSName
/// only against `pkinit_kdc_hostname` (and then checks the EKU); Heimdal demands the krbtgt
/// SAN unless told otherwise.
fn dc_form_note(realm: &str, wanted: &str, dns_names: &[String]) -> String {
    let hostnames = dns_names
        .iter()
        .map(|name| format!("`pkinit_kdc_hostname = {name}`"))
        .collect::<Vec<_>>()
        .join(" or ");
    format!(
        "domain controller form, as Active Directory issues it (dNSName {}, KDC \
         Authentication EKU, no id-pkinit-san {wanted}): MIT kinit needs {hostnames} in \
         krb5.conf [realms] {realm} (else \"KDC name mismatch\"), Heimdal needs \
         `pkinit_require_krbtgt_otherName = false` there; with the id-pkinit-san added, every \
         client accepts it unconfigured",
        dns_names.join(", ")
    )
}

/// Whether `found` is the OID whose arcs are `arcs` (as in [`oid`]).
fn is_oid(found: &Oid<'_>, arcs: &[u32]) -> bool {
    found
        .iter()
        .is_some_and(|found| found.eq(arcs.iter().copied().map(u64::from)))
}

fn has_kdc_eku(cert: &X509Certificate<'_>) -> bool {
    matches!(cert.extended_key_usage(), Ok(Some(eku))
        if eku.value.other.iter().any(|found| is_oid(found, oid::PKINIT_KP_KDC)))
}

/// The subjectAltName's general names that `pick` maps to a string.
fn san_names(
    cert: &X509Certificate<'_>,
    pick: impl Fn(&GeneralName<'_>) -> Option<String>,
) -> Vec<String> {
    let Ok(Some(san)) = cert.subject_alternative_name() else {
        return Vec::new();
    };
    san.value.general_names.iter().filter_map(pick).collect()
}

/// The subjectAltName's dNSNames.
fn dns_names(cert: &X509Certificate<'_>) -> Vec<String> {
    san_names(cert, |name| match name {
        GeneralName::DNSName(dns) => Some((*dns).to_owned()),
        _ => None,
    })
}

/// The id-pkinit-san names, as `name/components@REALM`.
fn krb5_names(cert: &X509Certificate<'_>) -> Vec<String> {
    san_names(cert, |name| match name {
        GeneralName::OtherName(found, value) if is_oid(found, oid::PKINIT_SAN) => {
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
}

#[cfg(test)]
mod tests {
    use rcgen::{ExtendedKeyUsagePurpose, KeyPair};

    use super::*;
    use crate::dev_realm::KdcCert;

    const REALM: &str = "EXAMPLE.TEST";

    fn dev_certificate(dir: &std::path::Path, kdc_cert: KdcCert, file: &str) -> Vec<u8> {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime
            .block_on(crate::dev_realm::create_with(dir, REALM, 8888, kdc_cert))
            .unwrap();
        crate::signer::software::read_chain(&dir.join(file))
            .unwrap()
            .remove(0)
    }

    /// A self-signed certificate with these EKUs and, given a DNS name, a subjectAltName with
    /// it (and the krbtgt SAN for `krbtgt_realm`).
    fn certificate(
        ekus: Vec<ExtendedKeyUsagePurpose>,
        krbtgt_realm: Option<&str>,
        dns_name: Option<&str>,
    ) -> Vec<u8> {
        let mut params = crate::dev_certs::base_params("kdc.example.test", REALM).unwrap();
        params.extended_key_usages = ekus;
        params.custom_extensions = dns_name
            .map(|dns| crate::dev_realm::kdc_san(krbtgt_realm, dns).unwrap())
            .into_iter()
            .collect();
        params
            .self_signed(&KeyPair::generate().unwrap())
            .unwrap()
            .der()
            .to_vec()
    }

    fn kp_kdc() -> ExtendedKeyUsagePurpose {
        ExtendedKeyUsagePurpose::Other(oid::PKINIT_KP_KDC.iter().map(|&a| a.into()).collect())
    }

    fn now() -> SystemTime {
        SystemTime::now()
    }

    #[test]
    fn dev_realm_certificate_passes_and_others_fail() {
        let dir = tempfile::tempdir().unwrap();
        let kdc = dev_certificate(dir.path(), KdcCert::KrbtgtSan, "kdc.pem");
        assert_eq!(check(&kdc, REALM, now()), Verdict::default());
        let other_realm = check(&kdc, "OTHER.TEST", now());
        assert!(other_realm.notes.is_empty(), "{other_realm:?}");
        assert_eq!(other_realm.problems.len(), 1, "{other_realm:?}");
        assert!(
            other_realm.problems[0].contains("not krbtgt/OTHER.TEST@OTHER.TEST"),
            "{other_realm:?}"
        );
        let later = now() + std::time::Duration::from_secs(400 * 86_400);
        let expired = check(&kdc, REALM, later);
        assert!(expired.problems[0].starts_with("expired on"), "{expired:?}");
        // alice's self-signed client certificate has neither the EKU nor any SAN.
        let alice = crate::signer::software::read_chain(&dir.path().join("alice.pem"))
            .unwrap()
            .remove(0);
        let alice = check(&alice, REALM, now());
        assert_eq!(alice.problems.len(), 2, "{alice:?}");
        assert!(alice.problems[0].contains("id-pkinit-KPKdc"), "{alice:?}");
        assert!(alice.problems[1].contains("nor a dNSName"), "{alice:?}");
    }

    /// `dev-realm --kdc-cert dc`: accepted, with a note of what MIT and Heimdal need.
    #[test]
    fn dc_form_passes_with_a_note_for_mit_and_heimdal() {
        let dir = tempfile::tempdir().unwrap();
        let kdc = dev_certificate(dir.path(), KdcCert::Dc, "kdc.pem");
        let verdict = check(&kdc, REALM, now());
        assert!(verdict.problems.is_empty(), "{verdict:?}");
        assert_eq!(verdict.notes.len(), 1, "{verdict:?}");
        let note = &verdict.notes[0];
        for needle in [
            "domain controller form",
            "no id-pkinit-san krbtgt/EXAMPLE.TEST@EXAMPLE.TEST",
            "MIT kinit needs `pkinit_kdc_hostname = kdc.example.test` in krb5.conf [realms] EXAMPLE.TEST",
            "Heimdal needs `pkinit_require_krbtgt_otherName = false`",
        ] {
            assert!(note.contains(needle), "no {needle:?} in {note}");
        }
        // Its EKUs are a domain controller's: KDC Authentication, serverAuth, clientAuth.
        let (_, cert) = x509_parser::parse_x509_certificate(&kdc).unwrap();
        let eku = cert.extended_key_usage().unwrap().unwrap().value;
        assert!(eku.server_auth && eku.client_auth, "{eku:?}");
        assert!(eku.other.iter().any(|o| is_oid(o, oid::PKINIT_KP_KDC)));
        // The note names the certificate's own dNSName.
        let dc1 = certificate(vec![kp_kdc()], None, Some("dc1.example.test"));
        let note = &check(&dc1, REALM, now()).notes[0];
        assert!(
            note.contains("`pkinit_kdc_hostname = dc1.example.test`"),
            "{note}"
        );
    }

    #[test]
    fn krbtgt_san_without_the_kdc_eku_is_a_problem() {
        let cert = certificate(
            vec![ExtendedKeyUsagePurpose::ServerAuth],
            Some(REALM),
            Some("kdc.example.test"),
        );
        let verdict = check(&cert, REALM, now());
        assert_eq!(verdict.problems.len(), 1, "{verdict:?}");
        assert!(
            verdict.problems[0].contains("id-pkinit-KPKdc"),
            "{verdict:?}"
        );
        assert!(verdict.notes.is_empty(), "{verdict:?}");
    }

    /// A dNSName alone names the KDC only together with the KDC EKU: MIT checks it then.
    #[test]
    fn dns_name_without_the_kdc_eku_is_a_problem() {
        let cert = certificate(
            vec![ExtendedKeyUsagePurpose::ServerAuth],
            None,
            Some("kdc.example.test"),
        );
        let verdict = check(&cert, REALM, now());
        assert!(verdict.notes.is_empty(), "{verdict:?}");
        assert_eq!(verdict.problems.len(), 2, "{verdict:?}");
        assert!(
            verdict.problems[0].contains("id-pkinit-KPKdc"),
            "{verdict:?}"
        );
        assert!(
            verdict.problems[1].contains("dNSName kdc.example.test is accepted only"),
            "{verdict:?}"
        );
    }

    #[test]
    fn kdc_eku_without_any_name_is_a_problem() {
        let cert = certificate(vec![kp_kdc()], None, None);
        let verdict = check(&cert, REALM, now());
        assert!(verdict.notes.is_empty(), "{verdict:?}");
        assert_eq!(verdict.problems.len(), 1, "{verdict:?}");
        assert!(
            verdict.problems[0]
                .contains("neither id-pkinit-san krbtgt/EXAMPLE.TEST@EXAMPLE.TEST nor a dNSName"),
            "{verdict:?}"
        );
    }
}
