//! The KDC's secrets on disk (the master key, the KDC's private key): written with mode 0600,
//! and read only when neither group nor others may read or write them, as ssh treats a
//! private key, into a buffer wiped when dropped.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use zeroize::Zeroizing;

/// Permission bits that expose a secret: any for group or others.
const EXPOSING_BITS: u32 = 0o077;

#[derive(Debug, thiserror::Error)]
pub enum SecretFileError {
    #[error("{path}: {error}")]
    Io { path: String, error: std::io::Error },
    #[error(
        "{path}: mode {mode:04o} lets group or others read it; this file holds a secret key: chmod 600 {path}"
    )]
    Exposed { path: String, mode: u32 },
}

/// Reads a secret file, refusing one that group or others may access.
pub fn read(path: &Path) -> Result<Zeroizing<Vec<u8>>, SecretFileError> {
    let io = |error| SecretFileError::Io {
        path: path.display().to_string(),
        error,
    };
    let mode = std::fs::metadata(path).map_err(io)?.permissions().mode() & 0o7777;
    if mode & EXPOSING_BITS != 0 {
        return Err(SecretFileError::Exposed {
            path: path.display().to_string(),
            mode,
        });
    }
    std::fs::read(path).map(Zeroizing::new).map_err(io)
}

/// Writes a new secret file with mode 0600; fails if it exists.
pub fn write(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_readable_by_others_is_refused_and_0600_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kdc.key");
        write(&path, b"secret").unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(read(&path).unwrap().as_slice(), b"secret");
        for mode in [0o640, 0o604, 0o660, 0o644] {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
            let error = read(&path).unwrap_err();
            assert!(
                matches!(error, SecretFileError::Exposed { mode: m, .. } if m == mode),
                "{mode:o}: {error}"
            );
            assert!(error.to_string().contains("chmod 600"), "{error}");
        }
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o400)).unwrap();
        assert!(read(&path).is_ok());
        assert!(matches!(
            read(&dir.path().join("missing")),
            Err(SecretFileError::Io { .. })
        ));
    }
}
