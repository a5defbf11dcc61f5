//! The Active Directory DN-Binary syntax (Object(DN-Binary), OID 1.2.840.113556.1.4.903) in
//! which msDS-KeyCredentialLink values travel: `B:<count>:<hex>:<DN>`, where count is the
//! number of hex characters. Also a tolerant DN comparison for owner checks.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DnBinaryError {
    #[error("DN-Binary value does not start with \"B:\"")]
    MissingPrefix,
    #[error("DN-Binary value has no ':' between its parts")]
    MissingSeparator,
    #[error("DN-Binary character count {0:?} is not a decimal number")]
    BadCount(String),
    #[error("DN-Binary count says {stated} hex characters, the value has {actual}")]
    CountMismatch { stated: usize, actual: usize },
    #[error("DN-Binary data is not an even number of hex digits")]
    BadHex,
    #[error("DN-Binary value has an empty DN")]
    EmptyDn,
}

/// A parsed DN-Binary value. Hex digits are accepted in either case and written upper-case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnBinary {
    pub binary: Vec<u8>,
    pub dn: String,
}

impl DnBinary {
    pub fn parse(value: &str) -> Result<Self, DnBinaryError> {
        let rest = value
            .strip_prefix("B:")
            .or_else(|| value.strip_prefix("b:"))
            .ok_or(DnBinaryError::MissingPrefix)?;
        let (count, rest) = rest
            .split_once(':')
            .ok_or(DnBinaryError::MissingSeparator)?;
        // The DN itself may contain ':', so only the first separator after the hex counts.
        let (hex_digits, dn) = rest
            .split_once(':')
            .ok_or(DnBinaryError::MissingSeparator)?;
        if count.is_empty() || !count.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DnBinaryError::BadCount(count.to_string()));
        }
        let stated: usize = count
            .parse()
            .map_err(|_| DnBinaryError::BadCount(count.to_string()))?;
        if stated != hex_digits.len() {
            return Err(DnBinaryError::CountMismatch {
                stated,
                actual: hex_digits.len(),
            });
        }
        let binary = hex::decode(hex_digits).map_err(|_| DnBinaryError::BadHex)?;
        if dn.is_empty() {
            return Err(DnBinaryError::EmptyDn);
        }
        Ok(DnBinary {
            binary,
            dn: dn.to_string(),
        })
    }
}

impl fmt::Display for DnBinary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hex_digits = hex::encode_upper(&self.binary);
        write!(f, "B:{}:{}:{}", hex_digits.len(), hex_digits, self.dn)
    }
}

/// Whether two DNs name the same entry, comparing as AD does for the forms it emits:
/// attribute types and values case-insensitively, ignoring spaces around ',' and '='
/// (`CN = Admin,CN = Users` equals `cn=admin,cn=users`). Escapes are compared literally;
/// this is not a full RFC 4514 matcher.
pub fn dn_equivalent(a: &str, b: &str) -> bool {
    normalize_dn(a) == normalize_dn(b)
}

/// The canonical form used by [`dn_equivalent`].
pub fn normalize_dn(dn: &str) -> String {
    split_unescaped(dn, ',')
        .iter()
        .map(|rdn| match rdn.split_once('=') {
            Some((attribute, value)) => format!("{}={}", attribute.trim(), value.trim()),
            None => rdn.trim().to_string(),
        })
        .collect::<Vec<_>>()
        .join(",")
        .to_lowercase()
}

fn split_unescaped(s: &str, separator: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    for (index, c) in s.char_indices() {
        match c {
            '\\' if !escaped => escaped = true,
            c if c == separator && !escaped => {
                parts.push(s.get(start..index).unwrap_or_default());
                start = index + c.len_utf8();
            }
            _ => escaped = false,
        }
    }
    parts.push(s.get(start..).unwrap_or_default());
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn count_is_hex_characters_and_checked() {
        let value = DnBinary::parse("B:4:0aFF:CN=a:b,DC=x").unwrap();
        assert_eq!(value.binary, [0x0A, 0xFF]);
        assert_eq!(value.dn, "CN=a:b,DC=x");
        assert_eq!(value.to_string(), "B:4:0AFF:CN=a:b,DC=x");
        assert_eq!(
            DnBinary::parse("B:2:0AFF:CN=a"),
            Err(DnBinaryError::CountMismatch {
                stated: 2,
                actual: 4
            })
        );
        assert_eq!(DnBinary::parse("B:3:0AF:CN=a"), Err(DnBinaryError::BadHex));
        assert!(matches!(
            DnBinary::parse("B:+4:0AFF:CN=a"),
            Err(DnBinaryError::BadCount(_))
        ));
        assert_eq!(DnBinary::parse("B:4:0AFF:"), Err(DnBinaryError::EmptyDn));
        assert_eq!(
            DnBinary::parse("X:4:0AFF:CN=a"),
            Err(DnBinaryError::MissingPrefix)
        );
        assert_eq!(
            DnBinary::parse("B:4:0AFF"),
            Err(DnBinaryError::MissingSeparator)
        );
    }

    #[test]
    fn dn_comparison_tolerates_spacing_and_case_only() {
        assert!(dn_equivalent(
            "CN = Admin,CN = Users,DC = contoso,DC = com",
            "cn=admin, cn=users,dc=contoso,dc=com"
        ));
        assert!(!dn_equivalent(
            "CN=Admin,CN=Users,DC=contoso,DC=com",
            "CN=Admin2,CN=Users,DC=contoso,DC=com"
        ));
        assert!(!dn_equivalent("CN=a\\,b,DC=x", "CN=a,CN=b,DC=x"));
    }
}
