//! TLS for `ldaps://` and StartTLS (RFC 4513 §3): the server certificate must chain to the
//! configured CA file (or the system store) and name the host of the URL (RFC 6125).

use std::path::Path;
use std::sync::Arc;

use ldap3::LdapConnSettings;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use rustls::{ClientConfig, RootCertStore};

use crate::DirectoryError;

fn invalid(path: &Path, why: impl std::fmt::Display) -> DirectoryError {
    DirectoryError::Invalid(format!("LDAP CA file {}: {why}", path.display()))
}

/// Connection settings for every server: StartTLS on `ldap://` URLs if asked, and a trust
/// store made of `ca_file` alone when one is given.
pub fn connection_settings(
    starttls: bool,
    ca_file: Option<&Path>,
) -> Result<LdapConnSettings, DirectoryError> {
    // ldap3 builds its default configuration with the process-wide provider; installing
    // aws-lc-rs (the only one compiled in) first means that can never fail. An error only
    // says one was installed already.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let settings = LdapConnSettings::new().set_starttls(starttls);
    let Some(path) = ca_file else {
        return Ok(settings);
    };
    let mut roots = RootCertStore::empty();
    let certificates = CertificateDer::pem_file_iter(path)
        .map_err(|e| invalid(path, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid(path, e))?;
    for certificate in certificates {
        roots.add(certificate).map_err(|e| invalid(path, e))?;
    }
    if roots.is_empty() {
        return Err(invalid(path, "holds no PEM certificate"));
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| invalid(path, e))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(settings.set_config(Arc::new(config)))
}
