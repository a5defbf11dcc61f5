//! Security identifiers (MS-DTYP 2.4.2): the binary form Active Directory stores in
//! objectSid (2.4.2.2) turned into the string form `S-1-5-21-...` (2.4.2.1) that the
//! KB5014754 certificate SID extension carries.

/// The string form of a binary SID, or None if `binary` is not one: revision 1, a
/// sub-authority count, a 48-bit big-endian identifier authority, then that many 32-bit
/// little-endian sub-authorities, and nothing after them.
pub fn sid_to_string(binary: &[u8]) -> Option<String> {
    let (&revision, rest) = binary.split_first()?;
    let (&count, rest) = rest.split_first()?;
    let (authority, rest) = rest.split_at_checked(6)?;
    if revision != 1 || count > 15 || rest.len() != usize::from(count) * 4 {
        return None;
    }
    let authority = authority
        .iter()
        .fold(0u64, |value, &byte| (value << 8) | u64::from(byte));
    let mut text = format!("S-1-{authority}");
    for chunk in rest.chunks_exact(4) {
        let sub = u32::from_le_bytes(chunk.try_into().ok()?);
        text.push_str(&format!("-{sub}"));
    }
    Some(text)
}

/// An objectSid value as a directory returns it: the binary form (Active Directory), or
/// already the string form (an OpenLDAP entry written by hand).
pub fn object_sid_value(value: &[u8]) -> Option<String> {
    match std::str::from_utf8(value) {
        Ok(text) if is_sid_string(text) => Some(text.to_owned()),
        _ => sid_to_string(value),
    }
}

/// `S-1-` followed by decimal numbers separated by '-'.
pub fn is_sid_string(text: &str) -> bool {
    let Some(rest) = text.strip_prefix("S-1-") else {
        return false;
    };
    rest.split('-')
        .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_known_sids_from_ms_dtyp() {
        // MS-DTYP 2.4.2.4: BUILTIN\Administrators, S-1-5-32-544.
        let administrators = [1, 2, 0, 0, 0, 0, 0, 5, 0x20, 0, 0, 0, 0x20, 2, 0, 0];
        assert_eq!(
            sid_to_string(&administrators).as_deref(),
            Some("S-1-5-32-544")
        );
        // Everyone, S-1-1-0.
        assert_eq!(
            sid_to_string(&[1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]).as_deref(),
            Some("S-1-1-0")
        );
    }

    #[test]
    fn damaged_values_are_refused() {
        assert_eq!(sid_to_string(&[]), None);
        assert_eq!(
            sid_to_string(&[1, 2, 0, 0, 0, 0, 0, 5, 0x20, 0, 0, 0]),
            None
        );
        assert_eq!(sid_to_string(&[2, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]), None);
        assert_eq!(
            object_sid_value(b"S-1-5-21-1-2-3-1104").as_deref(),
            Some("S-1-5-21-1-2-3-1104")
        );
        assert!(!is_sid_string("S-1-5-"));
        assert!(!is_sid_string("S-1-5-x"));
    }
}
