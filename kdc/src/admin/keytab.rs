//! Writing MIT keytab files (format 0x0502, as read by MIT krb5 and Heimdal; big-endian
//! fields, one entry per key version and enctype) so a service can decrypt its tickets.

use crate::crypto::Key;

/// One keytab entry.
pub struct KeytabEntry<'a> {
    pub realm: &'a str,
    pub components: Vec<&'a str>,
    pub name_type: u32,
    pub timestamp: u32,
    pub kvno: u32,
    pub key: &'a Key,
}

#[derive(Debug, thiserror::Error)]
#[error("keytab field too long: {0}")]
pub struct KeytabError(&'static str);

/// The keytab bytes for these entries.
pub fn encode(entries: &[KeytabEntry<'_>]) -> Result<Vec<u8>, KeytabError> {
    let mut out = vec![0x05, 0x02];
    for entry in entries {
        let mut record = Vec::new();
        let count = u16::try_from(entry.components.len()).map_err(|_| KeytabError("components"))?;
        record.extend_from_slice(&count.to_be_bytes());
        counted(&mut record, entry.realm.as_bytes(), "realm")?;
        for component in &entry.components {
            counted(&mut record, component.as_bytes(), "component")?;
        }
        record.extend_from_slice(&entry.name_type.to_be_bytes());
        record.extend_from_slice(&entry.timestamp.to_be_bytes());
        // The 8-bit kvno is kept for old readers; the 32-bit one at the end is authoritative.
        record.push(u8::try_from(entry.kvno & 0xff).unwrap_or(0));
        let enctype =
            u16::try_from(entry.key.enctype().as_i32()).map_err(|_| KeytabError("enctype"))?;
        record.extend_from_slice(&enctype.to_be_bytes());
        counted(&mut record, entry.key.as_bytes(), "key")?;
        record.extend_from_slice(&entry.kvno.to_be_bytes());
        let size = i32::try_from(record.len()).map_err(|_| KeytabError("entry"))?;
        out.extend_from_slice(&size.to_be_bytes());
        out.extend_from_slice(&record);
    }
    Ok(out)
}

fn counted(out: &mut Vec<u8>, bytes: &[u8], what: &'static str) -> Result<(), KeytabError> {
    let len = u16::try_from(bytes.len()).map_err(|_| KeytabError(what))?;
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(bytes);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::Enctype;

    #[test]
    fn entry_layout_matches_the_mit_format() {
        let key = Key::new(Enctype::Aes128CtsHmacSha196, &[0x11; 16]).unwrap();
        let bytes = encode(&[KeytabEntry {
            realm: "EX",
            components: vec!["host", "h"],
            name_type: 1,
            timestamp: 0x0102_0304,
            kvno: 0x0000_0105,
            key: &key,
        }])
        .unwrap();
        let mut expected = vec![0x05, 0x02, 0, 0, 0, 48];
        expected.extend([
            0, 2, 0, 2, b'E', b'X', 0, 4, b'h', b'o', b's', b't', 0, 1, b'h',
        ]);
        expected.extend([0, 0, 0, 1, 1, 2, 3, 4, 0x05, 0, 17, 0, 16]);
        expected.extend([0x11; 16]);
        expected.extend([0, 0, 1, 5]);
        assert_eq!(bytes, expected);
    }
}
