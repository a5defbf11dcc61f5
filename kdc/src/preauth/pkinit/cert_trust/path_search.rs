//! Certification path building (RFC 4158, for RFC 5280 §6 validation) of a PKINIT client
//! certificate (RFC 4556 §3.2.2): every path of issuer/subject names from the signer's
//! certificate through the SignedData's certificates and the intermediate pool to a trust
//! anchor, before any signature is checked. The client chooses what it presents, so the work
//! is bounded: at most [`MAX_PRESENTED_CERTIFICATES`] certificates, each parsed once, and at
//! most [`MAX_LINKS`] links tried. Going over either is KDC_ERR_CANT_VERIFY_CERTIFICATE.

use x509_parser::prelude::{FromDer, X509Certificate};

use super::store::TrustStore;
use crate::error::KdcError;

/// Most certificates a SignedData may carry for certificate trust. Real clients send their
/// chain below the anchor (MIT, Heimdal) or with it (Windows): one to five certificates.
pub const MAX_PRESENTED_CERTIFICATES: usize = 10;
/// Most links (a certificate appended to a partial path) one search may try. A chain needs
/// one per intermediate, and renewed CAs that share a name multiply that by a few; a set of
/// certificates that name each other multiplies it by their number at every level.
pub const MAX_LINKS: usize = 64;
/// Longest path looked for: leaf, up to four intermediates, anchor.
const MAX_PATH_LEN: usize = 6;
/// Name paths returned at most (renewed CAs share names; loops are cut).
const MAX_PATHS: usize = 16;

/// A path from the leaf (first) to an anchor (last), as DER.
pub type Path<'a> = Vec<&'a [u8]>;

/// A certificate that may extend a path, with its names read once.
struct Candidate<'a> {
    der: &'a [u8],
    subject: &'a [u8],
    issuer: &'a [u8],
}

/// Every path of names from `leaf` to an anchor, through `presented` (the SignedData's
/// certificates, the leaf among them) and the intermediate pool; signatures are not checked
/// yet. Empty if the leaf's issuer leads to no anchor; an error if the client presented more
/// than the search may look at.
pub fn name_paths<'a>(
    leaf: &'a [u8],
    presented: &[&'a [u8]],
    store: &'a TrustStore,
) -> Result<Vec<Path<'a>>, KdcError> {
    check_count(presented)?;
    let Some(leaf_names) = names(leaf) else {
        return Ok(Vec::new());
    };
    let pool = store.intermediates.iter().map(|named| Candidate {
        der: &named.der,
        subject: &named.name,
        issuer: &named.issuer,
    });
    let candidates: Vec<Candidate<'a>> = presented
        .iter()
        .filter_map(|der| names(der))
        .chain(pool)
        .collect();
    let mut search = Search {
        candidates: &candidates,
        store,
        paths: Vec::new(),
        links: 0,
    };
    let mut path = vec![leaf];
    search.extend(&mut path, leaf_names.issuer)?;
    Ok(search.paths)
}

/// Refuses more presented certificates than a client's chain needs, before any is read.
pub fn check_count(presented: &[&[u8]]) -> Result<(), KdcError> {
    if presented.len() > MAX_PRESENTED_CERTIFICATES {
        return Err(KdcError::CantVerifyCertificate(format!(
            "the SignedData carries {} certificates, more than the {MAX_PRESENTED_CERTIFICATES} \
             a client's chain needs; refused before reading them",
            presented.len()
        )));
    }
    Ok(())
}

struct Search<'s, 'a> {
    candidates: &'s [Candidate<'a>],
    store: &'a TrustStore,
    paths: Vec<Path<'a>>,
    links: usize,
}

impl<'a> Search<'_, 'a> {
    /// Extends `path`, whose last certificate names `issuer`, by an anchor or a candidate.
    fn extend(&mut self, path: &mut Path<'a>, issuer: &[u8]) -> Result<(), KdcError> {
        for anchor in self.store.anchors.iter().filter(|a| a.name == issuer) {
            if self.paths.len() < MAX_PATHS && !path.contains(&anchor.der.as_slice()) {
                let mut found = path.clone();
                found.push(&anchor.der);
                self.paths.push(found);
            }
        }
        if path.len() + 1 >= MAX_PATH_LEN {
            return Ok(());
        }
        for candidate in self.candidates {
            if self.paths.len() >= MAX_PATHS {
                return Ok(());
            }
            // A self-issued certificate would loop back to itself; anchors end paths above.
            if candidate.subject != issuer
                || candidate.issuer == candidate.subject
                || path.contains(&candidate.der)
            {
                continue;
            }
            self.links += 1;
            if self.links > MAX_LINKS {
                return Err(KdcError::CantVerifyCertificate(format!(
                    "path building gave up after {MAX_LINKS} links without finishing: the \
                     presented certificates name each other in a loop, or too many share a name"
                )));
            }
            path.push(candidate.der);
            let extended = self.extend(path, candidate.issuer);
            path.pop();
            extended?;
        }
        Ok(())
    }
}

/// A certificate's subject and issuer names as DER; None if it does not parse.
fn names(der: &[u8]) -> Option<Candidate<'_>> {
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    // Through the fields: their names borrow from `der`, not from `cert`.
    let tbs = cert.tbs_certificate;
    Some(Candidate {
        der,
        subject: tbs.subject.as_raw(),
        issuer: tbs.issuer.as_raw(),
    })
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::preauth::pkinit::cert_trust::store::Named;
    use crate::testing::{Ca, crossed};

    fn der(pem_text: &str) -> Vec<u8> {
        pem::parse(pem_text).unwrap().into_contents()
    }

    fn store_trusting(root: &Ca) -> TrustStore {
        let der = der(&root.pem);
        let name = X509Certificate::from_der(&der)
            .unwrap()
            .1
            .subject()
            .as_raw()
            .to_vec();
        TrustStore {
            anchors: vec![Named {
                issuer: name.clone(),
                name,
                der,
                source: PathBuf::from("root.pem"),
            }],
            ..TrustStore::default()
        }
    }

    fn leaf_under(ca: &Ca) -> Vec<u8> {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::default();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "leaf");
        params.signed_by(&key, &ca.issuer()).unwrap().der().to_vec()
    }

    #[test]
    fn finds_the_path_through_a_presented_intermediate() {
        let root = Ca::root("Root");
        let inter = root.intermediate("Issuing", None);
        let leaf = leaf_under(&inter);
        let inter_der = der(&inter.pem);
        let store = store_trusting(&root);
        let paths = name_paths(&leaf, &[&leaf, &inter_der], &store).unwrap();
        assert_eq!(paths.len(), 1);
        assert_eq!(paths[0].len(), 3);
        assert_eq!(paths[0][1], inter_der.as_slice());
    }

    /// Ten crossed certificates pass the count but would take 5 + 25 + 125 + 625 links.
    #[test]
    fn crossed_certificates_within_the_count_hit_the_link_bound() {
        let (ca_x, certificates) = crossed("X", "Y", MAX_PRESENTED_CERTIFICATES - 1);
        let leaf = leaf_under(&ca_x);
        let ders: Vec<Vec<u8>> = certificates.iter().map(|c| der(c)).collect();
        let mut presented: Vec<&[u8]> = vec![&leaf];
        presented.extend(ders.iter().map(Vec::as_slice));
        let store = store_trusting(&Ca::root("Root"));
        let error = name_paths(&leaf, &presented, &store).unwrap_err();
        assert!(
            matches!(&error, KdcError::CantVerifyCertificate(why) if why.contains("gave up")),
            "{error}"
        );
    }

    #[test]
    fn more_certificates_than_a_chain_needs_are_refused_unread() {
        let leaf = leaf_under(&Ca::root("Root"));
        let presented = vec![leaf.as_slice(); MAX_PRESENTED_CERTIFICATES + 1];
        let store = store_trusting(&Ca::root("Root"));
        let error = name_paths(&leaf, &presented, &store).unwrap_err();
        assert!(
            matches!(&error, KdcError::CantVerifyCertificate(why) if why.contains("carries 11")),
            "{error}"
        );
        assert!(name_paths(&leaf, &presented[1..], &store).is_ok());
    }
}
