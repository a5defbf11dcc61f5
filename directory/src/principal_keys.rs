//! Principal keys: the long-term keys of `krbtgt/REALM` and of the services, each key version
//! with its kvno and enctype (RFC 4120 §5.3: tickets are sealed under them, §5.2.9), sealed
//! by the KDC under its master key so that no store holds a key in clear. Owns the
//! [`ServiceStore`] trait and its file backend, one TOML file replaced atomically (the LDAP
//! backend is `ldap::principals`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::DirectoryError;
use crate::embedded::file::{create_new, replace_atomically};

/// One key version of a principal, sealed under the master key by the KDC.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealedKey {
    pub kvno: u32,
    pub enctype: i32,
    /// The sealed key, hex.
    pub sealed: String,
}

/// A principal the KDC issues tickets for: `krbtgt/REALM` or a service such as
/// `host/web.example` (names without the realm).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServicePrincipal {
    pub name: String,
    #[serde(default, rename = "key")]
    pub keys: Vec<SealedKey>,
}

/// Where principal keys are kept.
#[async_trait]
pub trait ServiceStore: Send + Sync {
    /// The principal, matched case-sensitively (Kerberos names are).
    async fn find_service(&self, name: &str) -> Result<Option<ServicePrincipal>, DirectoryError>;
    async fn list_services(&self) -> Result<Vec<ServicePrincipal>, DirectoryError>;
    /// Adds or replaces the principal of that name.
    async fn put_service(&self, principal: ServicePrincipal) -> Result<(), DirectoryError>;
}

#[derive(Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoreFile {
    #[serde(default)]
    principal: Vec<ServicePrincipal>,
}

const HEADER: &str = "# kdc principal keys: krbtgt and services. Each key is sealed under the master key.\n# Written by `kdc service add` and `kdc krbtgt rotate`; do not edit by hand.\n\n";

/// The file backend, read once into memory.
pub struct FileServiceStore {
    path: PathBuf,
    principals: tokio::sync::RwLock<Arc<Vec<ServicePrincipal>>>,
}

impl FileServiceStore {
    pub async fn load(path: &Path) -> Result<FileServiceStore, DirectoryError> {
        let text = tokio::fs::read_to_string(path)
            .await
            .map_err(|source| DirectoryError::Io {
                path: path.to_owned(),
                source,
            })?;
        let file: StoreFile = toml::from_str(&text).map_err(|e| DirectoryError::Parse {
            file: path.to_owned(),
            line: e
                .span()
                .map(|s| text.get(..s.start).unwrap_or("").matches('\n').count() + 1)
                .unwrap_or(0),
            message: e.message().to_owned(),
        })?;
        Ok(FileServiceStore {
            path: path.to_owned(),
            principals: tokio::sync::RwLock::new(Arc::new(file.principal)),
        })
    }

    /// Creates an empty store; fails if the file exists.
    pub async fn create_empty(path: &Path) -> Result<FileServiceStore, DirectoryError> {
        create_new(path, HEADER).map_err(|source| DirectoryError::Io {
            path: path.to_owned(),
            source,
        })?;
        Self::load(path).await
    }
}

#[async_trait]
impl ServiceStore for FileServiceStore {
    async fn find_service(&self, name: &str) -> Result<Option<ServicePrincipal>, DirectoryError> {
        Ok(self
            .principals
            .read()
            .await
            .iter()
            .find(|p| p.name == name)
            .cloned())
    }

    async fn list_services(&self) -> Result<Vec<ServicePrincipal>, DirectoryError> {
        Ok(self.principals.read().await.to_vec())
    }

    async fn put_service(&self, principal: ServicePrincipal) -> Result<(), DirectoryError> {
        let mut guard = self.principals.write().await;
        let mut next: Vec<ServicePrincipal> = guard
            .iter()
            .filter(|p| p.name != principal.name)
            .cloned()
            .collect();
        next.push(principal);
        next.sort_by(|a, b| a.name.cmp(&b.name));
        let text = toml::to_string(&StoreFile {
            principal: next.clone(),
        })
        .map_err(|e| DirectoryError::Invalid(format!("cannot render the key store: {e}")))?;
        replace_atomically(&self.path, &format!("{HEADER}{text}")).map_err(|source| {
            DirectoryError::Io {
                path: self.path.clone(),
                source,
            }
        })?;
        *guard = Arc::new(next);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn principals_persist_and_replace() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("principals.toml");
        let store = FileServiceStore::create_empty(&path).await.unwrap();
        assert!(
            store
                .find_service("krbtgt/EXAMPLE.TEST")
                .await
                .unwrap()
                .is_none()
        );
        let key = |kvno| SealedKey {
            kvno,
            enctype: 18,
            sealed: "00ff".into(),
        };
        store
            .put_service(ServicePrincipal {
                name: "krbtgt/EXAMPLE.TEST".into(),
                keys: vec![key(1)],
            })
            .await
            .unwrap();
        store
            .put_service(ServicePrincipal {
                name: "krbtgt/EXAMPLE.TEST".into(),
                keys: vec![key(1), key(2)],
            })
            .await
            .unwrap();
        let reloaded = FileServiceStore::load(&path).await.unwrap();
        let tgt = reloaded
            .find_service("krbtgt/EXAMPLE.TEST")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(tgt.keys.len(), 2);
        assert_eq!(reloaded.list_services().await.unwrap().len(), 1);
        assert!(
            reloaded
                .find_service("KRBTGT/EXAMPLE.TEST")
                .await
                .unwrap()
                .is_none()
        );
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    #[tokio::test]
    async fn a_bad_file_names_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.toml");
        std::fs::write(&path, "[[principal]]\nname = \"x\"\nbogus = 1\n").unwrap();
        let err = FileServiceStore::load(&path).await.err().unwrap();
        assert!(
            matches!(err, DirectoryError::Parse { line: 3, .. }),
            "{err}"
        );
    }
}
