//! The first RDN of a DN in its string form (RFC 4514 §3), unescaped: a new entry must carry
//! its naming attribute's value (RFC 4512 §2.3), which the admin command derives from the DN.

use kdc_config::is_attribute_description;

/// The first RDN's attribute and unescaped value (RFC 4514 §3), e.g. ("CN", "alice").
pub fn first_rdn(dn: &str) -> Option<(String, String)> {
    let mut attribute = String::new();
    let mut value = Vec::new();
    let mut chars = dn.chars();
    for c in chars.by_ref() {
        if c == '=' {
            break;
        }
        attribute.push(c);
    }
    let mut escaped = false;
    let mut hex = String::new();
    for c in chars {
        if escaped {
            if hex.is_empty() && !c.is_ascii_hexdigit() {
                let mut buf = [0u8; 4];
                value.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                escaped = false;
            } else {
                hex.push(c);
                if hex.len() == 2 {
                    value.push(u8::from_str_radix(&hex, 16).ok()?);
                    hex.clear();
                    escaped = false;
                }
            }
        } else if c == '\\' {
            escaped = true;
        } else if c == ',' || c == '+' {
            break;
        } else {
            let mut buf = [0u8; 4];
            value.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        }
    }
    let value = String::from_utf8(value).ok()?.trim().to_string();
    let attribute = attribute.trim().to_string();
    (is_attribute_description(&attribute) && !value.is_empty()).then_some((attribute, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_rdn_unescapes_rfc4514_forms() {
        assert_eq!(
            first_rdn("CN=alice,CN=Users,DC=example,DC=test"),
            Some(("CN".into(), "alice".into()))
        );
        assert_eq!(
            first_rdn("cn = Smith\\, John ,ou=x"),
            Some(("cn".into(), "Smith, John".into()))
        );
        assert_eq!(
            first_rdn("CN=Lu\\C4\\8Di\\C4\\87,DC=x"),
            Some(("CN".into(), "Lučić".into()))
        );
        assert_eq!(
            first_rdn("uid=a+cn=b,dc=x"),
            Some(("uid".into(), "a".into()))
        );
        assert_eq!(first_rdn("nothing"), None);
        assert_eq!(first_rdn("CN=,DC=x"), None);
        assert_eq!(first_rdn("C N=a"), None);
    }
}
