//! Long-term keys of the principals the KDC issues tickets for (RFC 4120 §5.3, §7.5.1): the
//! master key that seals them in the store, and the in-memory key ring of unsealed keys by
//! principal and kvno (newest first) that the exchanges use.

use std::collections::HashMap;
use std::path::Path;

use kdc_directory::principal_keys::{SealedKey, ServicePrincipal, ServiceStore};
use rasn::prelude::*;

use crate::crypto::{Enctype, Key};

/// Key usage for sealing principal keys under the master key: in the range RFC 4120 §7.5.1
/// leaves to applications, distinct from every protocol usage.
const KEY_USAGE_SEALED_KEY: u32 = 0x0406;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("{path}: {message}")]
    File { path: String, message: String },
    #[error("sealed key of {principal} kvno {kvno}: {message}")]
    Sealed {
        principal: String,
        kvno: u32,
        message: String,
    },
    #[error("key store: {0}")]
    Store(String),
}

/// What is sealed: the key bound to its principal, kvno and enctype, so a sealed value
/// cannot be moved to another principal or version unnoticed.
#[derive(AsnType, Decode, Encode)]
struct SealedContent {
    #[rasn(tag(explicit(0)))]
    principal: Utf8String,
    #[rasn(tag(explicit(1)))]
    kvno: u32,
    #[rasn(tag(explicit(2)))]
    enctype: i32,
    #[rasn(tag(explicit(3)))]
    key: OctetString,
}

/// The master key (aes256-cts-hmac-sha384-192), from a file of one hex line, mode 0600.
pub struct MasterKey(Key);

impl MasterKey {
    pub fn load(path: &Path) -> Result<MasterKey, KeyError> {
        let err = |message: String| KeyError::File {
            path: path.display().to_string(),
            message,
        };
        let bytes = crate::secret_file::read(path).map_err(|e| KeyError::File {
            path: path.display().to_string(),
            message: match e {
                crate::secret_file::SecretFileError::Io { error, .. } => error.to_string(),
                exposed => exposed.to_string(),
            },
        })?;
        let text = std::str::from_utf8(&bytes).map_err(|_| err("not a hex key".into()))?;
        let hex_line = text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with('#'))
            .unwrap_or("");
        let bytes = zeroize::Zeroizing::new(
            hex::decode(hex_line).map_err(|_| err("not a hex key".into()))?,
        );
        Key::new(Enctype::Aes256CtsHmacSha384192, &bytes)
            .map(MasterKey)
            .map_err(|e| err(e.to_string()))
    }

    /// Writes a new random master key; fails if the file exists.
    pub fn generate_file(path: &Path) -> Result<(), KeyError> {
        let err = |message: String| KeyError::File {
            path: path.display().to_string(),
            message,
        };
        let key = Key::random(Enctype::Aes256CtsHmacSha384192).map_err(|e| err(e.to_string()))?;
        let text = zeroize::Zeroizing::new(format!(
            "# kdc master key: seals every principal key in the store. Keep it secret and backed up.\n{}\n",
            hex::encode(key.as_bytes())
        ));
        crate::secret_file::write(path, text.as_bytes()).map_err(|e| err(e.to_string()))
    }

    pub fn seal(&self, principal: &str, kvno: u32, key: &Key) -> Result<SealedKey, KeyError> {
        let err = |message: String| KeyError::Sealed {
            principal: principal.to_owned(),
            kvno,
            message,
        };
        let content = SealedContent {
            principal: principal.to_owned(),
            kvno,
            enctype: key.enctype().as_i32(),
            key: key.as_bytes().to_vec().into(),
        };
        let plain =
            zeroize::Zeroizing::new(rasn::der::encode(&content).map_err(|e| err(e.to_string()))?);
        let sealed = self
            .0
            .encrypt(KEY_USAGE_SEALED_KEY, &plain)
            .map_err(|e| err(e.to_string()))?;
        Ok(SealedKey {
            kvno,
            enctype: key.enctype().as_i32(),
            sealed: hex::encode(sealed),
        })
    }

    pub fn unseal(&self, principal: &str, sealed: &SealedKey) -> Result<Key, KeyError> {
        let err = |message: &str| KeyError::Sealed {
            principal: principal.to_owned(),
            kvno: sealed.kvno,
            message: message.to_owned(),
        };
        let cipher = hex::decode(&sealed.sealed).map_err(|_| err("not hex"))?;
        let plain = zeroize::Zeroizing::new(
            self.0
                .decrypt(KEY_USAGE_SEALED_KEY, &cipher)
                .map_err(|_| err("does not unseal with this master key"))?,
        );
        let content: SealedContent =
            rasn::der::decode(&plain).map_err(|_| err("sealed content malformed"))?;
        let key_bytes = zeroize::Zeroizing::new(content.key.to_vec());
        if content.principal != principal
            || content.kvno != sealed.kvno
            || content.enctype != sealed.enctype
        {
            return Err(err("sealed for another principal, kvno or enctype"));
        }
        let enctype =
            Enctype::from_i32(content.enctype).ok_or_else(|| err("unsupported enctype"))?;
        Key::new(enctype, &key_bytes).map_err(|e| err(&e.to_string()))
    }
}

/// Unsealed keys of every principal, loaded once at start.
#[derive(Default)]
pub struct KeyRing {
    principals: HashMap<String, Vec<(u32, Key)>>,
}

impl KeyRing {
    pub async fn load(store: &dyn ServiceStore, master: &MasterKey) -> Result<KeyRing, KeyError> {
        let mut principals = HashMap::new();
        for principal in store
            .list_services()
            .await
            .map_err(|e| KeyError::Store(e.to_string()))?
        {
            let mut keys = principal
                .keys
                .iter()
                .map(|sealed| Ok((sealed.kvno, master.unseal(&principal.name, sealed)?)))
                .collect::<Result<Vec<_>, KeyError>>()?;
            keys.sort_by_key(|(kvno, _)| std::cmp::Reverse(*kvno));
            principals.insert(principal.name, keys);
        }
        Ok(KeyRing { principals })
    }

    /// A ring of one principal's keys, newest kvno first (tests and fuzz fixtures).
    pub fn of(principal: &str, mut keys: Vec<(u32, Key)>) -> KeyRing {
        keys.sort_by_key(|(kvno, _)| std::cmp::Reverse(*kvno));
        KeyRing {
            principals: HashMap::from([(principal.to_owned(), keys)]),
        }
    }

    /// Whether the principal exists.
    pub fn contains(&self, principal: &str) -> bool {
        self.principals.contains_key(principal)
    }

    /// The newest key of the principal, preferring `enctypes` order among that kvno's keys.
    pub fn current(&self, principal: &str) -> Option<(u32, &Key)> {
        let keys = self.principals.get(principal)?;
        let newest = keys.first()?.0;
        keys.iter()
            .find(|(kvno, _)| *kvno == newest)
            .map(|(kvno, key)| (*kvno, key))
    }

    /// The key of a kvno and enctype (for decrypting a ticket).
    pub fn get(&self, principal: &str, kvno: Option<u32>, enctype: i32) -> Option<&Key> {
        let keys = self.principals.get(principal)?;
        let kvno = kvno.or_else(|| keys.first().map(|(k, _)| *k))?;
        keys.iter()
            .find(|(k, key)| *k == kvno && key.enctype().as_i32() == enctype)
            .map(|(_, key)| key)
    }

    /// The enctypes the principal has keys for in its newest kvno.
    pub fn enctypes(&self, principal: &str) -> Vec<Enctype> {
        let Some((newest, _)) = self.current(principal) else {
            return Vec::new();
        };
        self.principals
            .get(principal)
            .into_iter()
            .flatten()
            .filter(|(kvno, _)| *kvno == newest)
            .map(|(_, key)| key.enctype())
            .collect()
    }
}

/// Makes a new principal version with random keys of `enctypes`, sealed, kvno one past the
/// newest existing one; the old versions are kept (tickets under them stay valid).
pub fn new_key_version(
    master: &MasterKey,
    existing: Option<ServicePrincipal>,
    name: &str,
    enctypes: &[Enctype],
) -> Result<(ServicePrincipal, u32), KeyError> {
    let mut principal = existing.unwrap_or(ServicePrincipal {
        name: name.to_owned(),
        keys: Vec::new(),
    });
    let kvno = principal.keys.iter().map(|k| k.kvno).max().unwrap_or(0) + 1;
    for &enctype in enctypes {
        let key = Key::random(enctype).map_err(|e| KeyError::Store(e.to_string()))?;
        principal.keys.push(master.seal(name, kvno, &key)?);
    }
    Ok((principal, kvno))
}

#[cfg(test)]
mod tests {
    use super::*;
    use kdc_directory::principal_keys::FileServiceStore;

    #[tokio::test]
    async fn keys_seal_unseal_and_rotate() {
        let dir = tempfile::tempdir().unwrap();
        MasterKey::generate_file(&dir.path().join("master.key")).unwrap();
        let master = MasterKey::load(&dir.path().join("master.key")).unwrap();
        let store = FileServiceStore::create_empty(&dir.path().join("principals.toml"))
            .await
            .unwrap();
        let name = "krbtgt/EXAMPLE.TEST";
        let (v1, kvno) =
            new_key_version(&master, None, name, &[Enctype::Aes256CtsHmacSha196]).unwrap();
        assert_eq!(kvno, 1);
        store.put_service(v1.clone()).await.unwrap();
        let (v2, kvno) =
            new_key_version(&master, Some(v1), name, &[Enctype::Aes256CtsHmacSha196]).unwrap();
        assert_eq!(kvno, 2);
        store.put_service(v2).await.unwrap();
        let ring = KeyRing::load(&store, &master).await.unwrap();
        assert_eq!(ring.current(name).unwrap().0, 2);
        let old = ring.get(name, Some(1), 18).unwrap();
        assert_ne!(old.as_bytes(), ring.current(name).unwrap().1.as_bytes());
        assert!(ring.get(name, Some(3), 18).is_none());
        // The file never holds a key in clear.
        let file = std::fs::read_to_string(dir.path().join("principals.toml")).unwrap();
        assert!(!file.contains(&hex::encode(old.as_bytes())));
    }

    #[test]
    fn a_sealed_key_cannot_move_to_another_principal_or_master() {
        let dir = tempfile::tempdir().unwrap();
        MasterKey::generate_file(&dir.path().join("m1")).unwrap();
        MasterKey::generate_file(&dir.path().join("m2")).unwrap();
        let m1 = MasterKey::load(&dir.path().join("m1")).unwrap();
        let m2 = MasterKey::load(&dir.path().join("m2")).unwrap();
        let key = Key::random(Enctype::Aes128CtsHmacSha196).unwrap();
        let sealed = m1.seal("host/a", 1, &key).unwrap();
        assert_eq!(
            m1.unseal("host/a", &sealed).unwrap().as_bytes(),
            key.as_bytes()
        );
        assert!(m1.unseal("host/b", &sealed).is_err());
        assert!(m2.unseal("host/a", &sealed).is_err());
        let relabelled = SealedKey { kvno: 2, ..sealed };
        assert!(m1.unseal("host/a", &relabelled).is_err());
    }
}
