//! `[pkinit.certificate_trust]`: PKINIT with CA-issued client certificates (RFC 4556
//! §3.2.2, validated per RFC 5280 §6, mapped per MS-PKCA 3.1.5.2.1 and KB5014754). Without
//! this table certificate trust is off and every client certificate goes to key trust.
//! Every option with its default.

use std::path::PathBuf;

use serde::Deserialize;

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertificateTrustConfig {
    /// Required, at least one. PEM files, or directories whose `*.pem`/`*.crt` files are
    /// read, holding the CA certificates that are trusted to issue client certificates
    /// (roots or issuing CAs). Re-read when they change, without a restart.
    pub anchors: Vec<PathBuf>,
    /// PEM files or directories of intermediate CA certificates, used to build chains when
    /// the client does not send them. Not trusted by themselves. Default: none.
    #[serde(default)]
    pub intermediates: Vec<PathBuf>,
    /// CRL files (PEM or DER) or directories of them (`*.crl`, `*.pem`), one or more per CA;
    /// each is matched to its CA by issuer name and signature. Re-read when they change.
    /// Default: none.
    #[serde(default)]
    pub crls: Vec<PathBuf>,
    /// A CA in the chain without any CRL: `fail_closed` refuses with
    /// KDC_ERR_REVOCATION_STATUS_UNKNOWN, `allow` accepts with a warning in the log.
    /// Default `fail_closed`.
    #[serde(default)]
    pub missing_crl: RevocationPolicy,
    /// A CRL whose nextUpdate has passed: `fail_closed` refuses with
    /// KDC_ERR_REVOCATION_STATUS_UNKNOWN, `allow` still uses it (a certificate it lists is
    /// still refused as revoked) with a warning in the log. Default `fail_closed`.
    #[serde(default)]
    pub stale_crl: RevocationPolicy,
    /// Extended key usages (dotted OIDs) of which the client certificate must carry at
    /// least one, else KDC_ERR_INCONSISTENT_KEY_PURPOSE. Default: id-pkinit-KPClientAuth
    /// 1.3.6.1.5.2.3.4, Microsoft smart card logon 1.3.6.1.4.1.311.20.2.2, clientAuth
    /// 1.3.6.1.5.5.7.3.2.
    #[serde(default = "default_ekus")]
    pub ekus: Vec<String>,
    /// KB5014754 strong mapping: `full` refuses a certificate that is neither bound to the
    /// user by the SID extension (1.3.6.1.4.1.311.25.2 = objectSid) nor by a strong
    /// altSecurityIdentities value (`X509:<I>..<SR>..`, `<SKI>`, `<SHA1-PUKEY>`);
    /// `compatibility` accepts it with a warning in the log; `none` checks neither (nor a
    /// SID extension naming someone else). Default `full`.
    #[serde(default)]
    pub strong_mapping: StrongMapping,
    /// How often, at most, the anchor, intermediate and CRL files are checked for changes
    /// (on the next request after the interval). 0 checks on every request. Default 30.
    #[serde(default = "default_reload_interval_secs")]
    pub reload_interval_secs: u64,
}

/// What to do when the revocation status cannot be known from a current CRL.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RevocationPolicy {
    #[default]
    FailClosed,
    Allow,
}

/// KB5014754 enforcement modes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StrongMapping {
    #[default]
    Full,
    Compatibility,
    None,
}

fn default_ekus() -> Vec<String> {
    [
        "1.3.6.1.5.2.3.4",
        "1.3.6.1.4.1.311.20.2.2",
        "1.3.6.1.5.5.7.3.2",
    ]
    .map(str::to_owned)
    .to_vec()
}

fn default_reload_interval_secs() -> u64 {
    30
}

impl CertificateTrustConfig {
    pub(crate) fn resolve_paths(&mut self, resolve: impl Fn(&mut PathBuf)) {
        self.anchors
            .iter_mut()
            .chain(&mut self.intermediates)
            .chain(&mut self.crls)
            .for_each(resolve);
    }

    /// The key (under `pkinit.certificate_trust.`) and the problem, for the first invalid
    /// option.
    pub(crate) fn check(&self) -> Result<(), (&'static str, String)> {
        crate::bounds::check([crate::bounds::Bound::new(
            "pkinit.certificate_trust.reload_interval_secs",
            self.reload_interval_secs,
            0..=crate::bounds::DAY,
        )])?;
        if self.anchors.is_empty() {
            return Err((
                "pkinit.certificate_trust.anchors",
                "must name at least one file or directory".into(),
            ));
        }
        if self.ekus.is_empty() {
            return Err((
                "pkinit.certificate_trust.ekus",
                "must name at least one OID".into(),
            ));
        }
        if let Some(bad) = self.ekus.iter().find(|oid| !is_dotted_oid(oid)) {
            return Err((
                "pkinit.certificate_trust.ekus",
                format!("{bad:?} is not a dotted OID such as 1.3.6.1.5.2.3.4"),
            ));
        }
        Ok(())
    }
}

fn is_dotted_oid(text: &str) -> bool {
    let arcs: Vec<&str> = text.split('.').collect();
    arcs.len() >= 2
        && arcs
            .iter()
            .all(|arc| !arc.is_empty() && arc.bytes().all(|b| b.is_ascii_digit()))
}
