//! Entry-level encoding of a KEYCREDENTIALLINK_BLOB (MS-ADTS 2.2.20.2, 2.2.20.6): the
//! identifiers, value length rules and the optional entries 0x05..=0x09.

use super::{CustomKeyInformation, Guid, KeyCredentialError, KeySource};

// Entry identifiers (MS-ADTS 2.2.20.6).
pub const KEY_ID: u8 = 0x01;
pub const KEY_HASH: u8 = 0x02;
pub const KEY_MATERIAL: u8 = 0x03;
pub const KEY_USAGE: u8 = 0x04;
pub const KEY_SOURCE: u8 = 0x05;
pub const DEVICE_ID: u8 = 0x06;
pub const CUSTOM_KEY_INFORMATION: u8 = 0x07;
pub const KEY_APPROXIMATE_LAST_LOGON_TIMESTAMP: u8 = 0x08;
pub const KEY_CREATION_TIME: u8 = 0x09;

pub(super) fn fixed<const N: usize>(
    id: u8,
    value: &[u8],
    expected: &'static str,
) -> Result<[u8; N], KeyCredentialError> {
    value.try_into().map_err(|_| KeyCredentialError::BadLength {
        id,
        len: value.len(),
        expected,
    })
}

pub(super) fn non_empty(id: u8, value: &[u8]) -> Result<Vec<u8>, KeyCredentialError> {
    if value.is_empty() {
        return Err(KeyCredentialError::BadLength {
            id,
            len: 0,
            expected: "at least 1",
        });
    }
    Ok(value.to_vec())
}

pub(super) fn push_entry(out: &mut Vec<u8>, id: u8, value: &[u8]) {
    // Values come from a parsed entry or from bounded key encodings, so they always fit.
    let len = u16::try_from(value.len()).unwrap_or(u16::MAX);
    out.extend_from_slice(&len.to_le_bytes());
    out.push(id);
    out.extend_from_slice(value);
}

/// The optional entries 0x05..=0x09.
#[derive(Default)]
pub(super) struct Tail {
    pub key_source: Option<KeySource>,
    pub device_id: Option<Guid>,
    pub custom_key_information: Option<CustomKeyInformation>,
    pub last_logon: Option<u64>,
    pub creation_time: Option<u64>,
}

impl Tail {
    pub fn set(&mut self, id: u8, value: &[u8]) -> Result<(), KeyCredentialError> {
        let timestamp = || fixed::<8>(id, value, "8").map(u64::from_le_bytes);
        match id {
            KEY_SOURCE => self.key_source = Some(KeySource::from(fixed::<1>(id, value, "1")?[0])),
            DEVICE_ID => self.device_id = Some(Guid::from_bytes(fixed::<16>(id, value, "16")?)),
            CUSTOM_KEY_INFORMATION => {
                self.custom_key_information =
                    Some(CustomKeyInformation::from_bytes(value.to_vec()).ok_or(
                        KeyCredentialError::BadLength {
                            id,
                            len: 0,
                            expected: "at least 1",
                        },
                    )?);
            }
            KEY_APPROXIMATE_LAST_LOGON_TIMESTAMP => self.last_logon = Some(timestamp()?),
            KEY_CREATION_TIME => self.creation_time = Some(timestamp()?),
            _ => return Err(KeyCredentialError::UnknownIdentifier { id, offset: 0 }),
        }
        Ok(())
    }
}
