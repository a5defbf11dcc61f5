//! The krbtgt long-term keys that TGTs are encrypted under (RFC 4120 §5.3): a file of
//! `kvno enctype hex-key` lines, newest kvno used for new tickets, older kept for rotation.
//! (The directory will hold these, encrypted under a master key, once the TGS issue lands.)

use std::io::Write;
use std::path::Path;

use crate::crypto::{Enctype, Key};

#[derive(Debug, thiserror::Error)]
pub enum KrbtgtError {
    #[error("{path}: {message}")]
    File { path: String, message: String },
    #[error("{path}:{line}: {message}")]
    Line {
        path: String,
        line: usize,
        message: String,
    },
}

/// The krbtgt keys by version.
pub struct KrbtgtKeys {
    keys: Vec<(u32, Key)>,
}

impl KrbtgtKeys {
    pub fn load(path: &Path) -> Result<KrbtgtKeys, KrbtgtError> {
        let text = std::fs::read_to_string(path).map_err(|e| KrbtgtError::File {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        let line_error = |line: usize, message: &str| KrbtgtError::Line {
            path: path.display().to_string(),
            line,
            message: message.to_owned(),
        };
        let mut keys = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let line_no = index + 1;
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut parts = line.split_whitespace();
            let (Some(kvno), Some(enctype), Some(key), None) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                return Err(line_error(line_no, "expected `kvno enctype hex-key`"));
            };
            let kvno: u32 = kvno
                .parse()
                .map_err(|_| line_error(line_no, "kvno is not a number"))?;
            let enctype = Enctype::from_name(enctype)
                .ok_or_else(|| line_error(line_no, "unknown enctype"))?;
            let bytes = zeroize::Zeroizing::new(
                hex::decode(key).map_err(|_| line_error(line_no, "key is not hex"))?,
            );
            let key = Key::new(enctype, &bytes).map_err(|e| line_error(line_no, &e.to_string()))?;
            keys.push((kvno, key));
        }
        keys.sort_by_key(|(kvno, _)| std::cmp::Reverse(*kvno));
        if keys.is_empty() {
            return Err(KrbtgtError::File {
                path: path.display().to_string(),
                message: "no krbtgt key".into(),
            });
        }
        Ok(KrbtgtKeys { keys })
    }

    /// The key new tickets are issued under, with its kvno.
    pub fn current(&self) -> Option<(u32, &Key)> {
        self.keys.first().map(|(kvno, key)| (*kvno, key))
    }

    /// Writes a new key file with one random aes256-cts-hmac-sha1-96 key, kvno 1, mode 0600.
    pub fn generate_file(path: &Path) -> Result<(), KrbtgtError> {
        let err = |message: String| KrbtgtError::File {
            path: path.display().to_string(),
            message,
        };
        let key = Key::random(Enctype::Aes256CtsHmacSha196).map_err(|e| err(e.to_string()))?;
        let text = zeroize::Zeroizing::new(format!(
            "# krbtgt keys: kvno enctype hex-key. Keep this file secret.\n1 {} {}\n",
            Enctype::Aes256CtsHmacSha196.name(),
            hex::encode(key.as_bytes())
        ));
        write_private(path, text.as_bytes()).map_err(|e| err(e.to_string()))
    }
}

/// Creates a file readable by its owner only.
pub fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
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
    fn generated_file_loads_and_bad_lines_name_their_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("krbtgt.keys");
        KrbtgtKeys::generate_file(&path).unwrap();
        let keys = KrbtgtKeys::load(&path).unwrap();
        let (kvno, key) = keys.current().unwrap();
        assert_eq!(kvno, 1);
        assert_eq!(key.enctype(), Enctype::Aes256CtsHmacSha196);
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );

        let bad = dir.path().join("bad.keys");
        std::fs::write(&bad, "# c\n1 aes256-cts-hmac-sha1-96 zz\n").unwrap();
        let err = KrbtgtKeys::load(&bad).err().unwrap().to_string();
        assert!(err.contains(":2:"), "{err}");
    }
}
