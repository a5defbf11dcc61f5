//! Search filters in their string form (RFC 4515): assertion values escaped per §3, so a
//! client-chosen principal name can never change the shape of a filter, and the configured
//! base filter checked by parsing it. (Attribute descriptions, RFC 4512 §2.5, are checked by
//! kdc-config's `is_attribute_description`.)

use std::fmt::Write;

/// Escapes an assertion value (RFC 4515 §3): `*`, `(`, `)`, `\` and NUL become `\XX`.
/// Everything else, UTF-8 included, is left as it is, which §3 allows.
pub fn escape_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '*' | '(' | ')' | '\\' | '\0' => {
                // Writing to a String cannot fail.
                let _ = write!(out, "\\{:02x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out
}

/// `(attribute=value)` with the value escaped.
pub fn equality(attribute: &str, value: &str) -> String {
    format!("({attribute}={})", escape_value(value))
}

/// `(attribute=value)` for a binary value: every octet escaped as `\XX` (RFC 4515 §3 allows
/// any octet to be escaped, and a binary value must be).
pub fn equality_bytes(attribute: &str, value: &[u8]) -> String {
    let mut out = format!("({attribute}=");
    for byte in value {
        // Writing to a String cannot fail.
        let _ = write!(out, "\\{byte:02x}");
    }
    out.push(')');
    out
}

/// An objectSid assertion matching the binary form Active Directory stores and the string
/// form a hand-written OpenLDAP entry may hold.
pub fn sid_equality(attribute: &str, sid: &crate::Sid) -> String {
    or(&[
        equality_bytes(attribute, &sid.to_binary()),
        equality(attribute, &sid.to_string()),
    ])
}

/// `(attribute=*)`.
pub fn present(attribute: &str) -> String {
    format!("({attribute}=*)")
}

pub fn and(parts: &[String]) -> String {
    format!("(&{})", parts.concat())
}

pub fn or(parts: &[String]) -> String {
    format!("(|{})", parts.concat())
}

/// The configured base filter in the parenthesised form RFC 4515 requires (RFC 4516 URLs
/// and many tools accept it without the outer parentheses), or why it cannot be used.
pub fn normalize_base_filter(filter: &str) -> Result<String, String> {
    let trimmed = filter.trim();
    let wrapped = if trimmed.starts_with('(') {
        trimmed.to_string()
    } else {
        format!("({trimmed})")
    };
    ldap3::parse_filter(&wrapped)
        .map(|_| wrapped.clone())
        .map_err(|_| format!("{filter:?} is not an RFC 4515 search filter"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The examples of RFC 4515 §4 whose values need escaping.
    #[test]
    fn rfc4515_section4_examples() {
        assert_eq!(
            equality("cn", "Parens R Us (for all your parenthetical needs)"),
            "(cn=Parens R Us \\28for all your parenthetical needs\\29)"
        );
        assert_eq!(
            equality("filename", "C:\\MyFile"),
            "(filename=C:\\5cMyFile)"
        );
        assert_eq!(
            equality("bin", "\0\0\0\u{4}"),
            "(bin=\\00\\00\\00\u{4})",
            "only NUL must be escaped; other control octets may stay"
        );
        // "(cn=*\2A*)": a literal '*' inside a substring assertion.
        assert_eq!(format!("(cn=*{}*)", escape_value("*")), "(cn=*\\2a*)");
        // UTF-8 may appear unescaped (the §4 example escapes it; both are valid).
        assert_eq!(equality("o", "Lučić"), "(o=Lučić)");
    }

    #[test]
    fn a_hostile_name_stays_one_assertion() {
        let filter = and(&[
            "(objectClass=user)".into(),
            or(&[
                equality("userPrincipalName", "*)(|(objectClass=*"),
                equality("sAMAccountName", "x)(uid=*"),
            ]),
        ]);
        assert_eq!(
            filter,
            "(&(objectClass=user)(|(userPrincipalName=\\2a\\29\\28|\\28objectClass=\\2a)\
             (sAMAccountName=x\\29\\28uid=\\2a)))"
        );
        assert!(ldap3::parse_filter(&filter).is_ok());
    }

    /// MS-DTYP 2.4.2.4's BUILTIN\Administrators, S-1-5-32-544, as AD's documentation writes
    /// an objectSid search: every octet escaped.
    #[test]
    fn sids_are_searched_in_both_forms() {
        let sid: crate::Sid = "S-1-5-32-544".parse().unwrap();
        assert_eq!(
            sid_equality("objectSid", &sid),
            "(|(objectSid=\\01\\02\\00\\00\\00\\00\\00\\05\\20\\00\\00\\00\\20\\02\\00\\00)\
             (objectSid=S-1-5-32-544))"
        );
        assert!(ldap3::parse_filter(sid_equality("objectSid", &sid)).is_ok());
    }

    #[test]
    fn base_filter_is_parenthesised_and_checked() {
        assert_eq!(
            normalize_base_filter("objectClass=kdcAccount").unwrap(),
            "(objectClass=kdcAccount)"
        );
        assert_eq!(
            normalize_base_filter(" (&(a=b)(c=d)) ").unwrap(),
            "(&(a=b)(c=d))"
        );
        assert!(normalize_base_filter("(&(a=b)").is_err());
        assert!(normalize_base_filter("").is_err());
    }
}
