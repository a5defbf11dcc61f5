//! The supported Kerberos encryption types and their assigned numbers (RFC 3962 §7,
//! RFC 8009 §7). Their MIT krb5 names are kdc-config's [`EnctypeName`] table.

use std::fmt;

use kdc_config::EnctypeName;

/// An AES encryption type. Discriminants are the IANA etype numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(i32)]
pub enum Enctype {
    /// aes128-cts-hmac-sha1-96 (RFC 3962).
    Aes128CtsHmacSha196 = 0x11,
    /// aes256-cts-hmac-sha1-96 (RFC 3962).
    Aes256CtsHmacSha196 = 0x12,
    /// aes128-cts-hmac-sha256-128 (RFC 8009).
    Aes128CtsHmacSha256128 = 0x13,
    /// aes256-cts-hmac-sha384-192 (RFC 8009).
    Aes256CtsHmacSha384192 = 0x14,
}

/// Which key derivation, string-to-key and integrity construction an enctype uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Profile {
    /// RFC 3962: DK with n-fold, HMAC-SHA1 over confounder | plaintext.
    Rfc3962,
    /// RFC 8009: KDF-HMAC-SHA2, HMAC over IV | ciphertext.
    Rfc8009,
}

impl Enctype {
    /// All supported enctypes in ascending etype-number order.
    pub const ALL: [Enctype; 4] = [
        Enctype::Aes128CtsHmacSha196,
        Enctype::Aes256CtsHmacSha196,
        Enctype::Aes128CtsHmacSha256128,
        Enctype::Aes256CtsHmacSha384192,
    ];

    /// Maps an etype number from the wire; `None` for anything not supported here.
    pub fn from_i32(value: i32) -> Option<Enctype> {
        Self::ALL.into_iter().find(|e| e.as_i32() == value)
    }

    /// The etype number as carried in `EncryptedData.etype` and `EncryptionKey.keytype`.
    pub fn as_i32(self) -> i32 {
        self as i32
    }

    /// Protocol key length in bytes.
    pub fn key_len(self) -> usize {
        match self {
            Enctype::Aes128CtsHmacSha196 | Enctype::Aes128CtsHmacSha256128 => 16,
            Enctype::Aes256CtsHmacSha196 | Enctype::Aes256CtsHmacSha384192 => 32,
        }
    }

    /// The MIT krb5 name; RFC 8009 also puts it into the string-to-key salt.
    pub fn name(self) -> &'static str {
        EnctypeName::from(self).name()
    }

    /// Parses an MIT krb5 enctype name or one of its short aliases, ignoring ASCII case
    /// as krb5.conf does.
    pub fn from_name(name: &str) -> Option<Enctype> {
        EnctypeName::parse(name).map(Enctype::from)
    }

    /// The keyed checksum type that goes with this enctype: hmac-sha1-96-aes128 (15),
    /// hmac-sha1-96-aes256 (16), hmac-sha256-128-aes128 (19), hmac-sha384-192-aes256 (20).
    pub fn checksum_type(self) -> i32 {
        match self {
            Enctype::Aes128CtsHmacSha196 => 0x0f,
            Enctype::Aes256CtsHmacSha196 => 0x10,
            Enctype::Aes128CtsHmacSha256128 => 0x13,
            Enctype::Aes256CtsHmacSha384192 => 0x14,
        }
    }

    /// Length in bytes of the truncated HMAC, both the integrity tag of an encryption and
    /// the keyed checksum.
    pub fn checksum_len(self) -> usize {
        match self {
            Enctype::Aes128CtsHmacSha196 | Enctype::Aes256CtsHmacSha196 => 12,
            Enctype::Aes128CtsHmacSha256128 => 16,
            Enctype::Aes256CtsHmacSha384192 => 24,
        }
    }

    /// PBKDF2 iteration count to use when no s2kparams are given: 4096 (RFC 3962 §4) or
    /// 32768 (RFC 8009 §4).
    pub fn default_iterations(self) -> u32 {
        match self.profile() {
            Profile::Rfc3962 => 0x1000,
            Profile::Rfc8009 => 0x8000,
        }
    }

    /// aes128/aes256-cts-hmac-sha1-96: the enctypes whose checksums Windows verifies in a PAC.
    pub fn is_aes_sha1(self) -> bool {
        self.profile() == Profile::Rfc3962
    }

    /// Smallest valid ciphertext: confounder plus integrity tag (empty plaintext).
    pub fn min_ciphertext_len(self) -> usize {
        super::CONFOUNDER_LEN + self.checksum_len()
    }

    pub(crate) fn profile(self) -> Profile {
        match self {
            Enctype::Aes128CtsHmacSha196 | Enctype::Aes256CtsHmacSha196 => Profile::Rfc3962,
            Enctype::Aes128CtsHmacSha256128 | Enctype::Aes256CtsHmacSha384192 => Profile::Rfc8009,
        }
    }
}

impl From<EnctypeName> for Enctype {
    fn from(name: EnctypeName) -> Enctype {
        match name {
            EnctypeName::Aes128CtsHmacSha196 => Enctype::Aes128CtsHmacSha196,
            EnctypeName::Aes256CtsHmacSha196 => Enctype::Aes256CtsHmacSha196,
            EnctypeName::Aes128CtsHmacSha256128 => Enctype::Aes128CtsHmacSha256128,
            EnctypeName::Aes256CtsHmacSha384192 => Enctype::Aes256CtsHmacSha384192,
        }
    }
}

impl From<Enctype> for EnctypeName {
    fn from(enctype: Enctype) -> EnctypeName {
        match enctype {
            Enctype::Aes128CtsHmacSha196 => EnctypeName::Aes128CtsHmacSha196,
            Enctype::Aes256CtsHmacSha196 => EnctypeName::Aes256CtsHmacSha196,
            Enctype::Aes128CtsHmacSha256128 => EnctypeName::Aes128CtsHmacSha256128,
            Enctype::Aes256CtsHmacSha384192 => EnctypeName::Aes256CtsHmacSha384192,
        }
    }
}

impl fmt::Display for Enctype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_names_and_checksum_types_match_the_registry() {
        let table = [
            (17, "aes128-cts-hmac-sha1-96", 16, 15, 12),
            (18, "aes256-cts-hmac-sha1-96", 32, 16, 12),
            (19, "aes128-cts-hmac-sha256-128", 16, 19, 16),
            (20, "aes256-cts-hmac-sha384-192", 32, 20, 24),
        ];
        for (number, name, key_len, cksumtype, cksum_len) in table {
            let e = Enctype::from_i32(number).unwrap();
            assert_eq!(e.as_i32(), number);
            assert_eq!(e.name(), name);
            assert_eq!(e.to_string(), name);
            assert_eq!(Enctype::from_name(name), Some(e));
            assert_eq!(Enctype::from_name(&name.to_ascii_uppercase()), Some(e));
            assert_eq!(e.key_len(), key_len);
            assert_eq!(e.checksum_type(), cksumtype);
            assert_eq!(e.checksum_len(), cksum_len);
        }
    }

    #[test]
    fn unsupported_numbers_are_rejected() {
        for number in [0, 1, 3, 16, 21, 23, 24, -128] {
            assert_eq!(Enctype::from_i32(number), None, "{number}");
        }
    }

    /// Every configurable name converts to the enctype of the same name and back.
    #[test]
    fn config_names_convert_both_ways() {
        for name in EnctypeName::ALL {
            let enctype = Enctype::from(name);
            assert_eq!(enctype.name(), name.name());
            assert_eq!(EnctypeName::from(enctype), name);
        }
        assert_eq!(Enctype::from_name("rc4-hmac"), None);
    }
}
