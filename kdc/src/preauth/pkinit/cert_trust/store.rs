//! The trust material of certificate trust (RFC 5280 §6.1.1 inputs): trust anchors, an
//! intermediate pool and CRLs (RFC 5280 §5), read from PEM/DER files or folders, and read
//! again when any of them changes, so an operator rotates a CA or drops in a fresh CRL
//! without restarting the KDC.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant, SystemTime};

use x509_parser::prelude::{FromDer, X509Certificate};

use super::crl::{Crl, Scope};

/// Why the trust material could not be read.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {message}", path.display())]
    Parse { path: PathBuf, message: String },
    #[error("no trust anchor in {0:?}")]
    NoAnchor(Vec<PathBuf>),
    #[error("pkinit.certificate_trust.ekus: {0}")]
    Eku(String),
}

/// A certificate, the name it is found by (its subject) and the name it leads to (its
/// issuer), read once when the store is read so that path building parses nothing of it.
#[derive(Clone, Debug)]
pub struct Named {
    pub der: Vec<u8>,
    pub name: Vec<u8>,
    pub issuer: Vec<u8>,
    pub source: PathBuf,
}

/// A snapshot of the trust material; requests hold an `Arc` of one.
#[derive(Debug, Default)]
pub struct TrustStore {
    pub anchors: Vec<Named>,
    pub intermediates: Vec<Named>,
    pub crls: Vec<Crl>,
}

/// Where the material comes from.
#[derive(Clone, Debug)]
pub struct Sources {
    pub anchors: Vec<PathBuf>,
    pub intermediates: Vec<PathBuf>,
    pub crls: Vec<PathBuf>,
    /// How often, at most, the files are checked for changes.
    pub check_interval: Duration,
}

impl TrustStore {
    /// Reads every file; any unreadable file or object is an error naming it.
    pub fn read(sources: &Sources) -> Result<TrustStore, StoreError> {
        let store = TrustStore {
            anchors: certificates(read_all(&sources.anchors, Kind::Certificate)?)?,
            intermediates: certificates(read_all(&sources.intermediates, Kind::Certificate)?)?,
            crls: read_all(&sources.crls, Kind::Crl)?
                .into_iter()
                .map(|(der, file)| {
                    let crl = Crl::parse(der).map_err(|message| StoreError::Parse {
                        path: file.clone(),
                        message,
                    })?;
                    if let Scope::Unsupported(what) = &crl.scope {
                        tracing::warn!(file = %file.display(), scope = %what, "CRL limited by an issuingDistributionPoint this KDC does not implement; not used, so its CA's certificates fall under missing_crl");
                    }
                    Ok(crl)
                })
                .collect::<Result<_, _>>()?,
        };
        if store.anchors.is_empty() {
            return Err(StoreError::NoAnchor(sources.anchors.clone()));
        }
        Ok(store)
    }
}

/// The store in use, re-read when its files change (checked at most every
/// `check_interval`, on the request that finds the interval over) or on [`Self::reload`].
pub struct ReloadingStore {
    sources: Sources,
    current: RwLock<Arc<TrustStore>>,
    checked: Mutex<(Instant, Vec<Stamp>)>,
}

impl ReloadingStore {
    pub fn load(sources: Sources) -> Result<ReloadingStore, StoreError> {
        let stamps = stamps(&sources);
        let store = TrustStore::read(&sources)?;
        Ok(ReloadingStore {
            current: RwLock::new(Arc::new(store)),
            checked: Mutex::new((Instant::now(), stamps)),
            sources,
        })
    }

    /// The current material, first re-read if the check interval is over and a file
    /// changed. A re-read that fails keeps the previous material (and says so in the log).
    pub fn current(&self) -> Arc<TrustStore> {
        let changed = {
            let mut checked = self.checked.lock().unwrap_or_else(PoisonError::into_inner);
            if checked.0.elapsed() < self.sources.check_interval {
                false
            } else {
                let now = stamps(&self.sources);
                let changed = now != checked.1;
                *checked = (Instant::now(), now);
                changed
            }
        };
        if changed && let Err(error) = self.reload() {
            tracing::warn!(%error, "certificate trust material changed but could not be read; keeping the previous one");
        }
        Arc::clone(&self.current.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Re-reads every file now (for SIGHUP or an admin command).
    pub fn reload(&self) -> Result<(), StoreError> {
        let store = TrustStore::read(&self.sources)?;
        tracing::info!(
            anchors = store.anchors.len(),
            intermediates = store.intermediates.len(),
            crls = store.crls.len(),
            "certificate trust material loaded"
        );
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(store);
        Ok(())
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Certificate,
    Crl,
}

/// A file's identity for change detection: path, length, modification time.
type Stamp = (PathBuf, u64, Option<SystemTime>);

fn stamps(sources: &Sources) -> Vec<Stamp> {
    let all = sources
        .anchors
        .iter()
        .chain(&sources.intermediates)
        .chain(&sources.crls);
    all.flat_map(|path| files_of(path).unwrap_or_else(|_| vec![path.clone()]))
        .map(|file| match std::fs::metadata(&file) {
            Ok(meta) => (file, meta.len(), meta.modified().ok()),
            Err(_) => (file, 0, None),
        })
        .collect()
}

/// A file itself, or a folder's regular files in name order (hidden files skipped).
fn files_of(path: &Path) -> Result<Vec<PathBuf>, StoreError> {
    let io = |source| StoreError::Io {
        path: path.to_owned(),
        source,
    };
    if !std::fs::metadata(path).map_err(io)?.is_dir() {
        return Ok(vec![path.to_owned()]);
    }
    let mut files = Vec::new();
    for entry in std::fs::read_dir(path).map_err(io)? {
        let entry = entry.map_err(io)?;
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if !hidden && entry.file_type().map_err(io)?.is_file() {
            files.push(entry.path());
        }
    }
    files.sort();
    Ok(files)
}

/// Every DER object of `kind` in the files, with the file it came from.
fn read_all(paths: &[PathBuf], kind: Kind) -> Result<Vec<(Vec<u8>, PathBuf)>, StoreError> {
    let mut objects = Vec::new();
    for path in paths {
        for file in files_of(path)? {
            let bytes = std::fs::read(&file).map_err(|source| StoreError::Io {
                path: file.clone(),
                source,
            })?;
            for der in der_objects(&bytes, kind) {
                objects.push((der, file.clone()));
            }
        }
    }
    Ok(objects)
}

/// The DER objects of a file: its PEM blocks of the right label, or the file itself if it
/// is not PEM (DER).
fn der_objects(bytes: &[u8], kind: Kind) -> Vec<Vec<u8>> {
    let label = match kind {
        Kind::Certificate => "CERTIFICATE",
        Kind::Crl => "X509 CRL",
    };
    match pem::parse_many(bytes) {
        Ok(blocks) if !blocks.is_empty() => blocks
            .into_iter()
            .filter(|b| b.tag() == label)
            .map(pem::Pem::into_contents)
            .collect(),
        _ => vec![bytes.to_vec()],
    }
}

fn certificates(objects: Vec<(Vec<u8>, PathBuf)>) -> Result<Vec<Named>, StoreError> {
    objects
        .into_iter()
        .map(|(der, file)| {
            let (_, cert) = X509Certificate::from_der(&der).map_err(|e| StoreError::Parse {
                path: file.clone(),
                message: format!("not an X.509 certificate: {e}"),
            })?;
            let name = cert.subject().as_raw().to_vec();
            let issuer = cert.issuer().as_raw().to_vec();
            Ok(Named {
                der,
                name,
                issuer,
                source: file,
            })
        })
        .collect()
}
