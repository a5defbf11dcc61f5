//! msDS-KeyCredentialLink values as LDAP returns them, in the DN-Binary syntax
//! (`B:<count>:<hex>:<DN>`, Object(DN-Binary)), with the blob inside (see `keycredlink`) and
//! the DN comparison used for owner checks.

use kdc_directory::{DnBinary, KeyCredentialLink, dn_equivalent};

pub fn run(data: &[u8]) {
    let Ok(value) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(parsed) = DnBinary::parse(value) {
        assert!(!parsed.dn.is_empty());
        assert_eq!(DnBinary::parse(&parsed.to_string()).as_ref(), Ok(&parsed));
    }
    if let Ok(link) = KeyCredentialLink::parse(value) {
        assert_eq!(
            KeyCredentialLink::parse(&link.to_dn_binary()).as_ref(),
            Ok(&link)
        );
        assert!(dn_equivalent(&link.owner_dn, &link.owner_dn));
    }
    // Attribute types and values compare without regard to (ASCII) case.
    assert!(dn_equivalent(value, value));
    assert!(dn_equivalent(value, &value.to_ascii_uppercase()));
}
