//! A minimal DER TLV reader (X.690 §8.1) that reports byte offsets, so tests can find and
//! change single bytes of a real client message in place without re-encoding it.

use anyhow::{Context, Result, bail};

/// One TLV inside a buffer: where it starts, how long its header is, how long its content is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tlv {
    /// First identifier octet (class, constructed bit and low tag number).
    pub tag: u8,
    /// Offset of the identifier octet in the buffer that was parsed.
    pub offset: usize,
    /// Identifier plus length octets.
    pub header_len: usize,
    /// Content octets.
    pub content_len: usize,
}

impl Tlv {
    pub fn content_start(&self) -> usize {
        self.offset + self.header_len
    }

    pub fn end(&self) -> usize {
        self.content_start() + self.content_len
    }

    pub fn constructed(&self) -> bool {
        self.tag & 0x20 != 0
    }

    /// The content octets of this TLV within `buf` (the buffer it was parsed from).
    pub fn content<'a>(&self, buf: &'a [u8]) -> Result<&'a [u8]> {
        buf.get(self.content_start()..self.end())
            .context("TLV content outside its buffer")
    }

    /// The whole encoding (header and content) of this TLV within `buf`.
    pub fn encoding<'a>(&self, buf: &'a [u8]) -> Result<&'a [u8]> {
        buf.get(self.offset..self.end())
            .context("TLV outside its buffer")
    }

    /// The TLVs directly inside this constructed TLV.
    pub fn children(&self, buf: &[u8]) -> Result<Vec<Tlv>> {
        if !self.constructed() {
            bail!("tag {:#04x} at {} is primitive", self.tag, self.offset);
        }
        parse_sequence(buf, self.content_start(), self.end())
    }

    /// The child with identifier octet `tag` (first match).
    pub fn child(&self, buf: &[u8], tag: u8) -> Result<Tlv> {
        self.children(buf)?
            .into_iter()
            .find(|c| c.tag == tag)
            .with_context(|| format!("no child {tag:#04x} in TLV at {}", self.offset))
    }
}

/// Reads the TLV that starts at `offset`; it must end at or before `limit`.
/// Only low tag numbers (< 31) and definite lengths: everything Kerberos and CMS send.
pub fn parse_at(buf: &[u8], offset: usize, limit: usize) -> Result<Tlv> {
    let tag = *buf.get(offset).context("TLV starts past the end")?;
    if tag & 0x1f == 0x1f {
        bail!("high tag number form at {offset}");
    }
    let first_len = *buf.get(offset + 1).context("TLV has no length octet")?;
    let (header_len, content_len) = if first_len < 0x80 {
        (2, usize::from(first_len))
    } else {
        let count = usize::from(first_len & 0x7f);
        if count == 0 || count > 4 {
            bail!("unsupported length form {first_len:#04x} at {offset}");
        }
        let octets = buf
            .get(offset + 2..offset + 2 + count)
            .context("length octets past the end")?;
        let len = octets
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (2 + count, len)
    };
    let tlv = Tlv {
        tag,
        offset,
        header_len,
        content_len,
    };
    if tlv.end() > limit || tlv.end() > buf.len() {
        bail!("TLV at {offset} runs past its enclosing element");
    }
    Ok(tlv)
}

/// Reads the single TLV that fills `buf`.
pub fn parse(buf: &[u8]) -> Result<Tlv> {
    let tlv = parse_at(buf, 0, buf.len())?;
    if tlv.end() != buf.len() {
        bail!("{} trailing bytes after the TLV", buf.len() - tlv.end());
    }
    Ok(tlv)
}

/// Reads consecutive TLVs filling `buf[start..end]`.
pub fn parse_sequence(buf: &[u8], start: usize, end: usize) -> Result<Vec<Tlv>> {
    let mut out = Vec::new();
    let mut at = start;
    while at < end {
        let tlv = parse_at(buf, at, end)?;
        at = tlv.end();
        out.push(tlv);
    }
    Ok(out)
}

/// The dotted form of an OBJECT IDENTIFIER's content octets (X.690 §8.19): base-128 arcs,
/// the first of which packs the first two (40 * X + Y).
pub fn oid_string(content: &[u8]) -> Result<String> {
    let mut arcs: Vec<u128> = Vec::new();
    let mut arc: u128 = 0;
    for (i, byte) in content.iter().enumerate() {
        arc = arc
            .checked_mul(128)
            .and_then(|a| a.checked_add(u128::from(byte & 0x7f)))
            .with_context(|| format!("OID arc too long at byte {i}"))?;
        if byte & 0x80 == 0 {
            arcs.push(arc);
            arc = 0;
        }
    }
    let Some((&first, rest)) = arcs.split_first() else {
        bail!("empty OID");
    };
    if content.last().is_some_and(|b| b & 0x80 != 0) {
        bail!("OID ends inside an arc");
    }
    let (x, y) = match first {
        0..40 => (0, first),
        40..80 => (1, first - 40),
        _ => (2, first - 80),
    };
    let mut parts = vec![x.to_string(), y.to_string()];
    parts.extend(rest.iter().map(u128::to_string));
    Ok(parts.join("."))
}

/// Encodes a definite DER length.
pub fn encode_len(len: usize) -> Vec<u8> {
    if len < 0x80 {
        // Fits in the short form by the check above.
        return vec![len.to_be_bytes().last().copied().unwrap_or(0)];
    }
    let bytes = len.to_be_bytes();
    let significant: Vec<u8> = bytes.iter().copied().skip_while(|b| *b == 0).collect();
    let mut out = Vec::with_capacity(1 + significant.len());
    out.push(0x80 | u8::try_from(significant.len()).unwrap_or(0x7f));
    out.extend(significant);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oids_in_dotted_form() {
        // id-ecPublicKey, secp256r1, secp521r1 (RFC 5480 §2.1.1), dhpublicnumber (RFC 3279).
        let cases: [(&[u8], &str); 4] = [
            (
                &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01],
                "1.2.840.10045.2.1",
            ),
            (
                &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07],
                "1.2.840.10045.3.1.7",
            ),
            (&[0x2b, 0x81, 0x04, 0x00, 0x23], "1.3.132.0.35"),
            (
                &[0x2a, 0x86, 0x48, 0xce, 0x3e, 0x02, 0x01],
                "1.2.840.10046.2.1",
            ),
        ];
        for (content, dotted) in cases {
            assert_eq!(oid_string(content).unwrap(), dotted);
        }
        assert!(oid_string(&[]).is_err());
        assert!(oid_string(&[0x2a, 0x86]).is_err());
    }

    #[test]
    fn reads_short_and_long_lengths() {
        // SEQUENCE { INTEGER 5, OCTET STRING of 200 bytes }
        let mut buf = vec![0x30, 0x81, 0xce, 0x02, 0x01, 0x05, 0x04, 0x81, 0xc8];
        buf.extend(std::iter::repeat_n(0xaa, 200));
        let seq = parse(&buf).unwrap();
        assert_eq!((seq.tag, seq.header_len, seq.content_len), (0x30, 3, 206));
        let kids = seq.children(&buf).unwrap();
        assert_eq!(kids.len(), 2);
        assert_eq!(kids[0].content(&buf).unwrap(), &[0x05]);
        assert_eq!((kids[1].offset, kids[1].header_len), (6, 3));
        assert_eq!(kids[1].content(&buf).unwrap().len(), 200);
    }

    #[test]
    fn rejects_overrun_and_trailing_bytes() {
        assert!(parse(&[0x30, 0x03, 0x02, 0x01]).is_err());
        assert!(parse(&[0x02, 0x01, 0x05, 0x00]).is_err());
        // child longer than its parent
        assert!(
            parse(&[0x30, 0x03, 0x04, 0x05, 0x00, 0x00, 0x00, 0x00])
                .and_then(|t| t.children(&[0x30, 0x03, 0x04, 0x05, 0x00, 0x00, 0x00, 0x00]))
                .is_err()
        );
    }

    #[test]
    fn encodes_lengths_like_x690() {
        assert_eq!(encode_len(0x7f), vec![0x7f]);
        assert_eq!(encode_len(0x80), vec![0x81, 0x80]);
        assert_eq!(encode_len(0x0adb), vec![0x82, 0x0a, 0xdb]);
    }
}
