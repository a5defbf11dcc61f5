//! The small typed entries of a KEYCREDENTIALLINK_BLOB: KeyUsage, KeySource, DeviceId and
//! CustomKeyInformation (MS-ADTS 2.2.20.1, 2.2.20.2.1, 2.2.20.6).

use std::{fmt, str::FromStr};

/// KeyUsage (entry 0x04). Numeric values follow DSInternals and real data: Samba's IDL
/// gives FIDO = 0x02 and FEK = 0x03, which real blobs contradict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyUsage {
    /// KEY_USAGE_NGC: a Windows Hello for Business key, the only kind PKINIT key trust uses.
    Ngc,
    /// Device transport key, on device objects (DSInternals "STK").
    Stk,
    /// KEY_USAGE_FIDO: a FIDO2 security key registered through Azure AD.
    Fido,
    /// KEY_USAGE_FEK: a file encryption key.
    Fek,
    Other(u8),
}

impl From<u8> for KeyUsage {
    fn from(value: u8) -> Self {
        match value {
            0x01 => KeyUsage::Ngc,
            0x02 => KeyUsage::Stk,
            0x07 => KeyUsage::Fido,
            0x08 => KeyUsage::Fek,
            other => KeyUsage::Other(other),
        }
    }
}

impl From<KeyUsage> for u8 {
    fn from(usage: KeyUsage) -> u8 {
        match usage {
            KeyUsage::Ngc => 0x01,
            KeyUsage::Stk => 0x02,
            KeyUsage::Fido => 0x07,
            KeyUsage::Fek => 0x08,
            KeyUsage::Other(other) => other,
        }
    }
}

/// KeySource (entry 0x05). It also decides how the timestamps are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeySource {
    /// KEY_SOURCE_AD: on-premises Active Directory; timestamps are FILETIME.
    Ad,
    /// Azure AD ("hybrid key trust"); timestamps are .NET `DateTime.ToBinary` values.
    AzureAd,
    Other(u8),
}

impl From<u8> for KeySource {
    fn from(value: u8) -> Self {
        match value {
            0x00 => KeySource::Ad,
            0x01 => KeySource::AzureAd,
            other => KeySource::Other(other),
        }
    }
}

impl From<KeySource> for u8 {
    fn from(source: KeySource) -> u8 {
        match source {
            KeySource::Ad => 0x00,
            KeySource::AzureAd => 0x01,
            KeySource::Other(other) => other,
        }
    }
}

/// A GUID kept in the byte order it is stored in (.NET `Guid.ToByteArray`: the first three
/// groups little-endian), displayed the way Windows shows it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Guid([u8; 16]);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a GUID of the form xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx")]
pub struct GuidParseError;

impl Guid {
    pub const NIL: Guid = Guid([0; 16]);

    /// From the 16 bytes as stored in a blob.
    pub const fn from_bytes(bytes: [u8; 16]) -> Self {
        Guid(bytes)
    }

    /// The 16 bytes as stored in a blob.
    pub const fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

impl fmt::Display for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a0, a1, a2, a3, b0, b1, c0, c1, rest @ ..] = self.0;
        let data1 = u32::from_le_bytes([a0, a1, a2, a3]);
        let data2 = u16::from_le_bytes([b0, b1]);
        let data3 = u16::from_le_bytes([c0, c1]);
        let [d0, d1, node @ ..] = rest;
        write!(f, "{data1:08x}-{data2:04x}-{data3:04x}-{d0:02x}{d1:02x}-")?;
        node.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Guid({self})")
    }
}

impl FromStr for Guid {
    type Err = GuidParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let groups: Vec<&str> = s.split('-').collect();
        let lengths: Vec<usize> = groups.iter().map(|g| g.len()).collect();
        if lengths != [8, 4, 4, 4, 12] {
            return Err(GuidParseError);
        }
        let big_endian = hex::decode(groups.concat()).map_err(|_| GuidParseError)?;
        let mut bytes: [u8; 16] = big_endian.try_into().map_err(|_| GuidParseError)?;
        bytes.get_mut(0..4).ok_or(GuidParseError)?.reverse();
        bytes.get_mut(4..6).ok_or(GuidParseError)?.reverse();
        bytes.get_mut(6..8).ok_or(GuidParseError)?.reverse();
        Ok(Guid(bytes))
    }
}

/// CustomKeyInformation (entry 0x07, MS-ADTS 2.2.20.2.1): Version, Flags, VolType,
/// SupportsNotification, FekKeyVersion, KeyStrength, 10 reserved bytes, then
/// EncodedExtendedCKI items. Real blobs stop after any of these fields (2, 4, 5, 6 and 15
/// bytes are all seen), so every field past Version is optional.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomKeyInformation(Vec<u8>);

/// Flags of CustomKeyInformation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct CustomKeyFlags(pub u8);

impl CustomKeyFlags {
    /// CUSTOM_KEY_INFO_FLAGS_ATTESTATION.
    pub const ATTESTATION: u8 = 0x01;
    /// CUSTOM_KEY_INFO_FLAGS_MFA_NOT_USED.
    pub const MFA_NOT_USED: u8 = 0x02;

    pub fn attestation(self) -> bool {
        self.0 & Self::ATTESTATION != 0
    }

    pub fn mfa_not_used(self) -> bool {
        self.0 & Self::MFA_NOT_USED != 0
    }
}

/// One EncodedExtendedCKI item: Version, Size, then Size bytes of data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtendedCki<'a> {
    pub version: u8,
    pub data: &'a [u8],
}

const RESERVED: std::ops::Range<usize> = 6..16;

impl CustomKeyInformation {
    /// From the raw entry value; `None` if it is empty (Version is the one required byte).
    pub fn from_bytes(raw: Vec<u8>) -> Option<Self> {
        (!raw.is_empty()).then_some(CustomKeyInformation(raw))
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    pub fn version(&self) -> u8 {
        self.0.first().copied().unwrap_or_default()
    }

    pub fn flags(&self) -> Option<CustomKeyFlags> {
        self.0.get(1).copied().map(CustomKeyFlags)
    }

    /// VolType: 0 none, 1 OS volume, 2 fixed data volume, 3 removable data volume.
    pub fn volume_type(&self) -> Option<u8> {
        self.0.get(2).copied()
    }

    pub fn supports_notification(&self) -> Option<bool> {
        self.0.get(3).map(|&b| b != 0)
    }

    pub fn fek_key_version(&self) -> Option<u8> {
        self.0.get(4).copied()
    }

    /// KeyStrength: 0 unknown, 1 weak, 2 normal.
    pub fn key_strength(&self) -> Option<u8> {
        self.0.get(5).copied()
    }

    /// The reserved bytes that are present (at most 10).
    pub fn reserved(&self) -> &[u8] {
        let end = self.0.len().min(RESERVED.end);
        self.0.get(RESERVED.start..end).unwrap_or_default()
    }

    /// The bytes after the reserved field.
    pub fn encoded_extended(&self) -> &[u8] {
        self.0.get(RESERVED.end..).unwrap_or_default()
    }

    /// The EncodedExtendedCKI items, or `None` if they do not parse.
    pub fn extended_items(&self) -> Option<Vec<ExtendedCki<'_>>> {
        let mut items = Vec::new();
        let mut rest = self.encoded_extended();
        while let Some((&[version, size], after)) = rest.split_first_chunk::<2>() {
            let (data, after) = after.split_at_checked(usize::from(size))?;
            items.push(ExtendedCki { version, data });
            rest = after;
        }
        rest.is_empty().then_some(items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guid_uses_dotnet_mixed_endian_order() {
        // DeviceId of the DSInternals user key (vectors.toml, dsi_user_ngc_ad_rsa1).
        let raw: [u8; 16] = hex::decode("e377f547d0d20a4a8acae0501098bde4")
            .unwrap()
            .try_into()
            .unwrap();
        let guid = Guid::from_bytes(raw);
        assert_eq!(guid.to_string(), "47f577e3-d2d0-4a0a-8aca-e0501098bde4");
        assert_eq!(
            "47F577E3-D2D0-4A0A-8ACA-E0501098BDE4"
                .parse::<Guid>()
                .unwrap(),
            guid
        );
        assert!(
            "47f577e3-d2d0-4a0a-8aca-e0501098bde"
                .parse::<Guid>()
                .is_err()
        );
        assert!(
            "+7f577e3-d2d0-4a0a-8aca-e0501098bde4"
                .parse::<Guid>()
                .is_err()
        );
    }

    #[test]
    fn usage_and_source_values_round_trip() {
        for byte in 0..=u8::MAX {
            assert_eq!(u8::from(KeyUsage::from(byte)), byte);
            assert_eq!(u8::from(KeySource::from(byte)), byte);
        }
    }

    #[test]
    fn truncated_extended_cki_is_not_misread() {
        let mut raw = vec![1, 0, 0, 0, 0, 0];
        raw.extend_from_slice(&[0; 10]);
        raw.extend_from_slice(&[0, 3, 1, 2]);
        let cki = CustomKeyInformation::from_bytes(raw).unwrap();
        assert_eq!(cki.extended_items(), None);
        assert!(CustomKeyInformation::from_bytes(Vec::new()).is_none());
    }
}
