//! `[tickets] enctypes`: the names of the encryption types the KDC implements (RFC 3962 §7,
//! RFC 8009 §7), as MIT krb5 writes them, with its short aliases. The one table of these
//! names: the kdc crate's `Enctype` converts from [`EnctypeName`] and borrows its names.

use serde::Deserialize;

/// An encryption type named in the configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(try_from = "String")]
pub enum EnctypeName {
    /// aes128-cts-hmac-sha1-96 (RFC 3962), etype 0x11.
    Aes128CtsHmacSha196,
    /// aes256-cts-hmac-sha1-96 (RFC 3962), etype 0x12.
    Aes256CtsHmacSha196,
    /// aes128-cts-hmac-sha256-128 (RFC 8009), etype 0x13.
    Aes128CtsHmacSha256128,
    /// aes256-cts-hmac-sha384-192 (RFC 8009), etype 0x14.
    Aes256CtsHmacSha384192,
}

/// MIT krb5's short names (krb5.conf(5), "Encryption types").
const ALIASES: [(&str, EnctypeName); 6] = [
    ("aes128-cts", EnctypeName::Aes128CtsHmacSha196),
    ("aes128-sha1", EnctypeName::Aes128CtsHmacSha196),
    ("aes256-cts", EnctypeName::Aes256CtsHmacSha196),
    ("aes256-sha1", EnctypeName::Aes256CtsHmacSha196),
    ("aes128-sha2", EnctypeName::Aes128CtsHmacSha256128),
    ("aes256-sha2", EnctypeName::Aes256CtsHmacSha384192),
];

impl EnctypeName {
    pub const ALL: [EnctypeName; 4] = [
        EnctypeName::Aes128CtsHmacSha196,
        EnctypeName::Aes256CtsHmacSha196,
        EnctypeName::Aes128CtsHmacSha256128,
        EnctypeName::Aes256CtsHmacSha384192,
    ];

    /// The MIT krb5 name; RFC 8009 also puts it into the string-to-key salt.
    pub fn name(self) -> &'static str {
        match self {
            EnctypeName::Aes128CtsHmacSha196 => "aes128-cts-hmac-sha1-96",
            EnctypeName::Aes256CtsHmacSha196 => "aes256-cts-hmac-sha1-96",
            EnctypeName::Aes128CtsHmacSha256128 => "aes128-cts-hmac-sha256-128",
            EnctypeName::Aes256CtsHmacSha384192 => "aes256-cts-hmac-sha384-192",
        }
    }

    /// Parses an MIT krb5 name or one of its short aliases, ignoring ASCII case as
    /// krb5.conf does.
    pub fn parse(name: &str) -> Option<EnctypeName> {
        Self::ALL
            .into_iter()
            .map(|e| (e.name(), e))
            .chain(ALIASES)
            .find(|(known, _)| known.eq_ignore_ascii_case(name))
            .map(|(_, e)| e)
    }
}

impl TryFrom<String> for EnctypeName {
    type Error = String;

    fn try_from(name: String) -> Result<Self, Self::Error> {
        EnctypeName::parse(&name).ok_or_else(|| {
            let known: Vec<&str> = EnctypeName::ALL.iter().map(|e| e.name()).collect();
            format!(
                "unknown enctype {name:?}: must be one of {}",
                known.join(", ")
            )
        })
    }
}

impl std::fmt::Display for EnctypeName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_aliases_parse_in_any_case() {
        for e in EnctypeName::ALL {
            assert_eq!(EnctypeName::parse(e.name()), Some(e));
            assert_eq!(EnctypeName::parse(&e.name().to_ascii_uppercase()), Some(e));
        }
        assert_eq!(
            EnctypeName::parse("AES256-SHA2"),
            Some(EnctypeName::Aes256CtsHmacSha384192)
        );
        assert_eq!(
            EnctypeName::parse("aes256-cts"),
            Some(EnctypeName::Aes256CtsHmacSha196)
        );
    }

    #[test]
    fn unsupported_names_are_refused_listing_the_known_ones() {
        for name in [
            "",
            "rc4-hmac",
            "des3-cbc-sha1",
            "aes",
            "aes128-cts-hmac-sha1-96 ",
        ] {
            assert_eq!(EnctypeName::parse(name), None, "{name:?}");
        }
        let message = EnctypeName::try_from("rc4-hmac".to_owned()).unwrap_err();
        assert!(message.contains("\"rc4-hmac\""), "{message}");
        assert!(message.contains("aes256-cts-hmac-sha384-192"), "{message}");
    }
}
