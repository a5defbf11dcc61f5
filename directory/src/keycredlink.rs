//! KEYCREDENTIALLINK_BLOB, the binary part of an msDS-KeyCredentialLink value
//! (MS-ADTS 2.2.20): parsing, the integrity checks of 2.2.20.6 and writing new NGC keys.
//!
//! Strictness: the version must be 0x200; entries must appear in strictly increasing
//! identifier order (2.2.20.2), which also rules out duplicates; identifiers outside
//! 0x01..=0x09 are rejected rather than kept, because 2.2.20.6 defines no others and a blob
//! with one is more likely damaged than extended. KeyID, KeyHash, KeyMaterial and KeyUsage are
//! required; the other entries are optional, as Samba and computer keys omit some.
//! The KeyID and KeyHash checks are reported, not enforced: FIDO keys carry a credential ID as
//! KeyID, and real tools write wrong KeyHashes.

mod entries;
mod fields;
mod material;
mod rsa_key;
mod time;

pub use fields::{
    CustomKeyFlags, CustomKeyInformation, ExtendedCki, Guid, GuidParseError, KeySource, KeyUsage,
};
pub use material::{KeyMaterial, RsaKeyFormat};
pub use rsa_key::{MAX_MODULUS_BYTES, RsaKeyError, RsaPublicKey};
pub use time::{KeyTime, filetime_now};

use entries::{Tail, fixed, non_empty, push_entry};
use sha2::{Digest, Sha256};

use entries as entry;

/// KEY_CREDENTIAL_LINK_VERSION_2, the only version in use.
pub const KEY_CREDENTIAL_LINK_VERSION_2: u32 = 0x0000_0200;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyCredentialError {
    #[error("blob of {0} bytes is too short to hold a version")]
    TooShort(usize),
    #[error("unsupported KEYCREDENTIALLINK_BLOB version {0:#x}")]
    UnsupportedVersion(u32),
    #[error("entry at offset {offset} runs past the end of the blob")]
    Truncated { offset: usize },
    #[error("unknown entry identifier {id:#04x} at offset {offset}")]
    UnknownIdentifier { id: u8, offset: usize },
    #[error("entry {id:#04x} at offset {offset} is out of order or repeated")]
    OutOfOrder { id: u8, offset: usize },
    #[error("entry {id:#04x} has length {len}, expected {expected}")]
    BadLength {
        id: u8,
        len: usize,
        expected: &'static str,
    },
    #[error("required entry {0} is missing")]
    MissingEntry(&'static str),
}

/// One parsed KEYCREDENTIALLINK_BLOB. Every value is kept as stored, so `to_blob` gives
/// back the parsed bytes exactly, and every value fits an entry's u16 length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyCredential {
    key_id: Vec<u8>,
    key_hash: [u8; 32],
    key_material: KeyMaterial,
    key_usage: KeyUsage,
    key_source: Option<KeySource>,
    device_id: Option<Guid>,
    custom_key_information: Option<CustomKeyInformation>,
    last_logon: Option<u64>,
    creation_time: Option<u64>,
}

impl KeyCredential {
    /// Parses a KEYCREDENTIALLINK_BLOB. Never panics, whatever the input.
    pub fn parse(blob: &[u8]) -> Result<Self, KeyCredentialError> {
        let (version, mut rest) = blob
            .split_first_chunk::<4>()
            .ok_or(KeyCredentialError::TooShort(blob.len()))?;
        let version = u32::from_le_bytes(*version);
        if version != KEY_CREDENTIAL_LINK_VERSION_2 {
            return Err(KeyCredentialError::UnsupportedVersion(version));
        }
        let mut key_id = None;
        let mut key_hash = None;
        let mut key_material = None;
        let mut key_usage = None;
        let mut credential_tail = Tail::default();
        let mut offset = 4;
        let mut previous_id = 0;
        while let Some(([len_lo, len_hi, id], after_header)) =
            rest.split_first_chunk::<3>().map(|(h, r)| (*h, r))
        {
            let (value, after) = after_header
                .split_at_checked(usize::from(u16::from_le_bytes([len_lo, len_hi])))
                .ok_or(KeyCredentialError::Truncated { offset })?;
            if !(entry::KEY_ID..=entry::KEY_CREATION_TIME).contains(&id) {
                return Err(KeyCredentialError::UnknownIdentifier { id, offset });
            }
            if id <= previous_id {
                return Err(KeyCredentialError::OutOfOrder { id, offset });
            }
            match id {
                entry::KEY_ID => key_id = Some(non_empty(id, value)?),
                entry::KEY_HASH => key_hash = Some(fixed::<32>(id, value, "32")?),
                entry::KEY_MATERIAL => {
                    key_material = Some(KeyMaterial::from_bytes(non_empty(id, value)?))
                }
                entry::KEY_USAGE => {
                    key_usage = Some(KeyUsage::from(fixed::<1>(id, value, "1")?[0]))
                }
                _ => credential_tail.set(id, value)?,
            }
            previous_id = id;
            offset += 3 + value.len();
            rest = after;
        }
        if !rest.is_empty() {
            return Err(KeyCredentialError::Truncated { offset });
        }
        Ok(KeyCredential {
            key_id: key_id.ok_or(KeyCredentialError::MissingEntry("KeyID"))?,
            key_hash: key_hash.ok_or(KeyCredentialError::MissingEntry("KeyHash"))?,
            key_material: key_material.ok_or(KeyCredentialError::MissingEntry("KeyMaterial"))?,
            key_usage: key_usage.ok_or(KeyCredentialError::MissingEntry("KeyUsage"))?,
            key_source: credential_tail.key_source,
            device_id: credential_tail.device_id,
            custom_key_information: credential_tail.custom_key_information,
            last_logon: credential_tail.last_logon,
            creation_time: credential_tail.creation_time,
        })
    }

    /// A Windows Hello for Business user key as Windows writes it for an AD user: RSA1
    /// KeyMaterial, KeyUsage NGC, KeySource AD, the device's ID, CustomKeyInformation
    /// version 1 without flags, and last logon = creation time; KeyID and KeyHash computed.
    pub fn new_ngc(public_key: &RsaPublicKey, device_id: Guid, creation_filetime: u64) -> Self {
        let mut credential = KeyCredential {
            key_id: Vec::new(),
            key_hash: [0; 32],
            key_material: KeyMaterial::from_rsa_bcrypt(public_key),
            key_usage: KeyUsage::Ngc,
            key_source: Some(KeySource::Ad),
            device_id: Some(device_id),
            custom_key_information: CustomKeyInformation::from_bytes(vec![0x01, 0x00]),
            last_logon: Some(creation_filetime),
            creation_time: Some(creation_filetime),
        };
        credential.key_id = Sha256::digest(credential.key_material.as_bytes()).to_vec();
        credential.key_hash = Sha256::digest(credential.entries_after_key_hash()).into();
        credential
    }

    /// The blob: version, then every present entry in identifier order.
    pub fn to_blob(&self) -> Vec<u8> {
        let mut out = KEY_CREDENTIAL_LINK_VERSION_2.to_le_bytes().to_vec();
        push_entry(&mut out, entry::KEY_ID, &self.key_id);
        push_entry(&mut out, entry::KEY_HASH, &self.key_hash);
        out.extend(self.entries_after_key_hash());
        out
    }

    /// The bytes KeyHash covers: every entry after the KeyHash entry.
    fn entries_after_key_hash(&self) -> Vec<u8> {
        let mut out = Vec::new();
        push_entry(&mut out, entry::KEY_MATERIAL, self.key_material.as_bytes());
        push_entry(&mut out, entry::KEY_USAGE, &[u8::from(self.key_usage)]);
        if let Some(source) = self.key_source {
            push_entry(&mut out, entry::KEY_SOURCE, &[u8::from(source)]);
        }
        if let Some(device_id) = &self.device_id {
            push_entry(&mut out, entry::DEVICE_ID, device_id.as_bytes());
        }
        if let Some(info) = &self.custom_key_information {
            push_entry(&mut out, entry::CUSTOM_KEY_INFORMATION, info.as_bytes());
        }
        if let Some(time) = self.last_logon {
            push_entry(
                &mut out,
                entry::KEY_APPROXIMATE_LAST_LOGON_TIMESTAMP,
                &time.to_le_bytes(),
            );
        }
        if let Some(time) = self.creation_time {
            push_entry(&mut out, entry::KEY_CREATION_TIME, &time.to_le_bytes());
        }
        out
    }

    /// KeyID == SHA-256(KeyMaterial), as 2.2.20.6 requires (false for FIDO keys).
    pub fn key_id_matches_material(&self) -> bool {
        Sha256::digest(self.key_material.as_bytes()).as_slice() == self.key_id.as_slice()
    }

    /// KeyHash == SHA-256(all entries after KeyHash), as 2.2.20.6 requires.
    pub fn key_hash_matches(&self) -> bool {
        Sha256::digest(self.entries_after_key_hash()).as_slice() == self.key_hash.as_slice()
    }

    pub fn version(&self) -> u32 {
        KEY_CREDENTIAL_LINK_VERSION_2
    }

    pub fn key_id(&self) -> &[u8] {
        &self.key_id
    }

    pub fn key_hash(&self) -> &[u8; 32] {
        &self.key_hash
    }

    pub fn key_material(&self) -> &KeyMaterial {
        &self.key_material
    }

    /// Shorthand for `key_material().rsa_public_key()`.
    pub fn rsa_public_key(&self) -> Option<&RsaPublicKey> {
        self.key_material.rsa_public_key()
    }

    pub fn key_usage(&self) -> KeyUsage {
        self.key_usage
    }

    /// The KeySource entry; `None` when absent (MS-ADTS then means AD).
    pub fn key_source(&self) -> Option<KeySource> {
        self.key_source
    }

    pub fn device_id(&self) -> Option<Guid> {
        self.device_id
    }

    pub fn custom_key_information(&self) -> Option<&CustomKeyInformation> {
        self.custom_key_information.as_ref()
    }

    /// KeyApproximateLastLogonTimeStamp as stored.
    pub fn last_logon_raw(&self) -> Option<u64> {
        self.last_logon
    }

    /// KeyCreationTime as stored.
    pub fn creation_time_raw(&self) -> Option<u64> {
        self.creation_time
    }

    /// KeyApproximateLastLogonTimeStamp decoded by KeySource (see `decode_time`).
    pub fn last_logon(&self) -> Option<KeyTime> {
        self.last_logon.map(|raw| self.decode_time(raw))
    }

    /// KeyCreationTime decoded by KeySource (see `decode_time`).
    pub fn creation_time(&self) -> Option<KeyTime> {
        self.creation_time.map(|raw| self.decode_time(raw))
    }

    /// FILETIME when KeySource is AD or absent; otherwise .NET `DateTime.ToBinary`, which
    /// is what DSInternals assumes for every non-AD source.
    pub fn decode_time(&self, raw: u64) -> KeyTime {
        match self.key_source {
            None | Some(KeySource::Ad) => KeyTime::from_filetime(raw),
            Some(_) => KeyTime::from_dotnet_binary(raw),
        }
    }
}
