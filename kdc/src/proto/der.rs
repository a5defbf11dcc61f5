//! A small DER reader and writer (X.690 §8, §10) for the CMS structures PKINIT signs
//! (RFC 5652 §5): signatures cover exact bytes, so those parts are read as raw slices
//! rather than decoded and re-encoded.

/// Why bytes are not acceptable DER.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DerError {
    #[error("truncated DER")]
    Truncated,
    #[error("unsupported DER form (high tag number, indefinite or over-long length)")]
    Unsupported,
    #[error("unexpected DER tag {found:#04x}, wanted {wanted:#04x}")]
    UnexpectedTag { found: u8, wanted: u8 },
    #[error("trailing bytes after DER value")]
    Trailing,
}

/// One tag-length-value: `raw` is the whole encoding, `value` its contents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tlv<'a> {
    pub tag: u8,
    pub value: &'a [u8],
    pub raw: &'a [u8],
}

impl<'a> Tlv<'a> {
    /// Reads one TLV from the front of `input`, returning it and the rest.
    pub fn read(input: &'a [u8]) -> Result<(Tlv<'a>, &'a [u8]), DerError> {
        let (&tag, after_tag) = input.split_first().ok_or(DerError::Truncated)?;
        if tag & 0x1f == 0x1f {
            return Err(DerError::Unsupported);
        }
        let (&first, mut rest) = after_tag.split_first().ok_or(DerError::Truncated)?;
        let len = if first < 0x80 {
            usize::from(first)
        } else {
            let count = usize::from(first & 0x7f);
            if count == 0 || count > 4 {
                return Err(DerError::Unsupported);
            }
            let (len_bytes, after) = rest.split_at_checked(count).ok_or(DerError::Truncated)?;
            rest = after;
            let len = len_bytes
                .iter()
                .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
            if len < 0x80 || len_bytes.first() == Some(&0) {
                return Err(DerError::Unsupported);
            }
            len
        };
        let header = input.len() - rest.len();
        let (value, rest) = rest.split_at_checked(len).ok_or(DerError::Truncated)?;
        let raw = input.get(..header + len).ok_or(DerError::Truncated)?;
        Ok((Tlv { tag, value, raw }, rest))
    }

    /// Reads exactly one TLV with the given tag and nothing after it.
    pub fn read_only(input: &'a [u8], tag: u8) -> Result<Tlv<'a>, DerError> {
        let (tlv, rest) = Self::read(input)?;
        if !rest.is_empty() {
            return Err(DerError::Trailing);
        }
        tlv.expect(tag)
    }

    pub fn expect(self, tag: u8) -> Result<Tlv<'a>, DerError> {
        if self.tag == tag {
            Ok(self)
        } else {
            Err(DerError::UnexpectedTag {
                found: self.tag,
                wanted: tag,
            })
        }
    }

    /// The TLVs inside a constructed value.
    pub fn children(&self) -> Children<'a> {
        Children { rest: self.value }
    }
}

/// Iterator over the TLVs inside a constructed value; stops at the first error.
pub struct Children<'a> {
    rest: &'a [u8],
}

impl<'a> Children<'a> {
    /// The next child, which must be present.
    pub fn next_required(&mut self) -> Result<Tlv<'a>, DerError> {
        self.next().ok_or(DerError::Truncated)?
    }

    /// The next child if it carries `tag`; otherwise nothing is consumed.
    pub fn next_if(&mut self, tag: u8) -> Result<Option<Tlv<'a>>, DerError> {
        if self.rest.first() != Some(&tag) {
            return Ok(None);
        }
        self.next_required().map(Some)
    }
}

impl<'a> Iterator for Children<'a> {
    type Item = Result<Tlv<'a>, DerError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        match Tlv::read(self.rest) {
            Ok((tlv, rest)) => {
                self.rest = rest;
                Some(Ok(tlv))
            }
            Err(e) => {
                self.rest = &[];
                Some(Err(e))
            }
        }
    }
}

pub mod tag {
    pub const INTEGER: u8 = 0x02;
    pub const BIT_STRING: u8 = 0x03;
    pub const OCTET_STRING: u8 = 0x04;
    pub const NULL: u8 = 0x05;
    pub const OID: u8 = 0x06;
    pub const SEQUENCE: u8 = 0x30;
    pub const SET: u8 = 0x31;
    /// `[n]` constructed, context-specific.
    pub const fn context(n: u8) -> u8 {
        0xa0 | n
    }
    /// `[n]` primitive, context-specific.
    pub const fn context_primitive(n: u8) -> u8 {
        0x80 | n
    }
}

/// Encodes one TLV.
pub fn encode(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + 6);
    out.push(tag);
    let len = value.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        let significant = bytes.get(skip..).unwrap_or_default();
        out.push(0x80 | significant.len() as u8);
        out.extend_from_slice(significant);
    }
    out.extend_from_slice(value);
    out
}

/// Encodes a constructed TLV from already-encoded parts.
pub fn encode_parts(tag: u8, parts: &[&[u8]]) -> Vec<u8> {
    encode(tag, &parts.concat())
}

/// A SET OF in DER order: elements sorted by their encodings (X.690 §11.6).
pub fn encode_set_of(tag: u8, mut elements: Vec<Vec<u8>>) -> Vec<u8> {
    elements.sort();
    encode(tag, &elements.concat())
}

/// An OBJECT IDENTIFIER from its arcs.
pub fn encode_oid(arcs: &[u32]) -> Vec<u8> {
    let mut body = Vec::new();
    let mut arcs_iter = arcs.iter().copied();
    let first = arcs_iter.next().unwrap_or(0);
    let second = arcs_iter.next().unwrap_or(0);
    push_base128(&mut body, first * 40 + second);
    for arc in arcs_iter {
        push_base128(&mut body, arc);
    }
    encode(tag::OID, &body)
}

fn push_base128(out: &mut Vec<u8>, value: u32) {
    let mut groups = [0u8; 5];
    let mut count = 0;
    let mut v = value;
    loop {
        if let Some(slot) = groups.get_mut(count) {
            *slot = (v & 0x7f) as u8;
        }
        count += 1;
        v >>= 7;
        if v == 0 {
            break;
        }
    }
    for i in (0..count).rev() {
        let continuation = if i > 0 { 0x80 } else { 0 };
        out.push(groups.get(i).copied().unwrap_or(0) | continuation);
    }
}

/// How many base-128 groups an OID arc takes (X.690 §8.19.2).
const fn base128_len(value: u32) -> usize {
    let mut len = 1;
    let mut rest = value >> 7;
    while rest != 0 {
        len += 1;
        rest >>= 7;
    }
    len
}

/// The length of the contents octets of an OBJECT IDENTIFIER: the first two arcs share one
/// subidentifier (X.690 §8.19.4).
const fn oid_contents_len(arcs: &[u32]) -> usize {
    let (first, rest) = match arcs {
        [a, b, rest @ ..] => (*a * 40 + *b, rest),
        [a] => (*a * 40, &[] as &[u32]),
        [] => (0, &[] as &[u32]),
    };
    let mut len = base128_len(first);
    let mut rest = rest;
    while let [arc, tail @ ..] = rest {
        len += base128_len(*arc);
        rest = tail;
    }
    len
}

/// The length of [`oid_der_array`]'s encoding of `arcs`: tag, one length octet, contents. Every
/// OID this KDC names is far below 128 content octets; a longer one fails the build.
pub const fn oid_der_len(arcs: &[u32]) -> usize {
    let contents = oid_contents_len(arcs);
    assert!(contents < 0x80, "OID too long for a short-form length");
    2 + contents
}

/// Writes `byte` at `at` if `out` has room (const code cannot index without a lint).
const fn put(out: &mut [u8], at: usize, byte: u8) {
    if at < out.len() {
        let (_, tail) = out.split_at_mut(at);
        if let Some((slot, _)) = tail.split_first_mut() {
            *slot = byte;
        }
    }
}

/// Writes `value` in base 128, most significant group first; returns where it ended.
const fn put_base128(out: &mut [u8], at: usize, value: u32) -> usize {
    let len = base128_len(value);
    let mut group = len;
    while group > 0 {
        group -= 1;
        let continuation = if group > 0 { 0x80 } else { 0 };
        put(
            out,
            at + len - 1 - group,
            ((value >> (7 * group)) & 0x7f) as u8 | continuation,
        );
    }
    at + len
}

/// The DER OBJECT IDENTIFIER (tag and length included) with these arcs, computed where the
/// compiler evaluates it: [`oid_der!`] makes a `&'static [u8]` of it, so
/// requests compare bytes and never encode an OID. `N` must be [`oid_der_len`]`(arcs)`.
pub const fn oid_der_array<const N: usize>(arcs: &[u32]) -> [u8; N] {
    assert!(N == oid_der_len(arcs), "N is not oid_der_len(arcs)");
    let mut out = [0u8; N];
    put(&mut out, 0, tag::OID);
    put(&mut out, 1, oid_contents_len(arcs) as u8);
    let (first, rest) = match arcs {
        [a, b, rest @ ..] => (*a * 40 + *b, rest),
        [a] => (*a * 40, &[] as &[u32]),
        [] => (0, &[] as &[u32]),
    };
    let mut at = put_base128(&mut out, 2, first);
    let mut rest = rest;
    while let [arc, tail @ ..] = rest {
        at = put_base128(&mut out, at, *arc);
        rest = tail;
    }
    out
}

/// A `&'static [u8]` holding the DER OBJECT IDENTIFIER of a constant list of arcs, built at
/// compile time ([`oid_der_array`]).
macro_rules! oid_der {
    ($arcs:expr) => {{
        const LEN: usize = $crate::proto::der::oid_der_len($arcs);
        const DER: [u8; LEN] = $crate::proto::der::oid_der_array::<LEN>($arcs);
        &DER
    }};
}
pub(crate) use oid_der;

/// A non-negative INTEGER from big-endian magnitude bytes (minimal, sign-safe).
pub fn encode_unsigned_integer(magnitude: &[u8]) -> Vec<u8> {
    let trimmed: &[u8] = {
        let skip = magnitude.iter().take_while(|&&b| b == 0).count();
        magnitude.get(skip..).unwrap_or_default()
    };
    let mut body = Vec::with_capacity(trimmed.len() + 1);
    if trimmed.first().is_none_or(|&b| b & 0x80 != 0) {
        body.push(0);
    }
    body.extend_from_slice(trimmed);
    encode(tag::INTEGER, &body)
}

/// Whether an INTEGER's content reads as negative: its top bit set with no leading zero, as
/// some clients encode large positive values.
pub fn reads_negative(content: &[u8]) -> bool {
    content.first().is_some_and(|&b| b & 0x80 != 0)
}

/// The magnitude of an INTEGER's content as unsigned big-endian bytes. A negative encoding
/// (top bit set, no leading zero) is read as its unsigned two's-complement bit pattern,
/// because some clients encode large positive values that way (DESIGN.md: Devolutions sspi).
pub fn unsigned_integer_bytes(content: &[u8]) -> &[u8] {
    let skip = content.iter().take_while(|&&b| b == 0).count();
    content.get(skip..).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_short_and_long_lengths() {
        let short = [0x04, 0x02, 0xaa, 0xbb, 0xff];
        let (tlv, rest) = Tlv::read(&short).unwrap();
        assert_eq!(
            (tlv.tag, tlv.value, rest),
            (0x04, &[0xaa, 0xbb][..], &[0xff][..])
        );
        let mut long = vec![0x04, 0x81, 0x80];
        long.extend(std::iter::repeat_n(7u8, 0x80));
        let (tlv, rest) = Tlv::read(&long).unwrap();
        assert_eq!(tlv.value.len(), 0x80);
        assert!(rest.is_empty());
        assert_eq!(tlv.raw, &long[..]);
    }

    #[test]
    fn rejects_non_der_lengths_and_truncation() {
        assert_eq!(
            Tlv::read(&[0x04, 0x81, 0x05, 1, 2, 3, 4, 5]).unwrap_err(),
            DerError::Unsupported
        );
        assert_eq!(Tlv::read(&[0x04, 0x80]).unwrap_err(), DerError::Unsupported);
        assert_eq!(
            Tlv::read(&[0x04, 0x05, 1]).unwrap_err(),
            DerError::Truncated
        );
        assert_eq!(
            Tlv::read(&[0x1f, 0x01, 0]).unwrap_err(),
            DerError::Unsupported
        );
        assert_eq!(Tlv::read(&[]).unwrap_err(), DerError::Truncated);
    }

    #[test]
    fn every_prefix_of_a_message_is_handled() {
        let bytes = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../testdata/wire/mit_as_req_pkinit_dh2048.der"
        ))
        .unwrap();
        for end in 0..bytes.len() {
            assert!(Tlv::read_only(&bytes[..end], 0x6a).is_err());
        }
        assert_eq!(Tlv::read_only(&bytes, 0x6a).unwrap().raw.len(), bytes.len());
    }

    #[test]
    fn compile_time_oids_equal_the_runtime_encoding() {
        use crate::proto::codes::oid;
        const SIGNED_DATA: &[u8] = oid_der!(oid::SIGNED_DATA);
        const SHA1: &[u8] = oid_der!(oid::SHA1);
        const SHA512: &[u8] = oid_der!(oid::SHA512);
        const LARGE_ARC: &[u8] = oid_der!(&[2, 999, 0x0fff_ffff, 1]);
        assert_eq!(hex::encode(SIGNED_DATA), "06092a864886f70d010702");
        for (built, arcs) in [
            (SIGNED_DATA, oid::SIGNED_DATA),
            (SHA1, oid::SHA1),
            (SHA512, oid::SHA512),
            (LARGE_ARC, &[2, 999, 0x0fff_ffff, 1]),
        ] {
            assert_eq!(built, encode_oid(arcs).as_slice(), "{arcs:?}");
        }
    }

    #[test]
    fn encodes_oids_integers_and_lengths() {
        assert_eq!(
            encode_oid(&[1, 2, 840, 113_549, 1, 7, 2]),
            hex::decode("06092a864886f70d010702").unwrap()
        );
        assert_eq!(
            encode_unsigned_integer(&[0x80]),
            vec![0x02, 0x02, 0x00, 0x80]
        );
        assert_eq!(
            encode_unsigned_integer(&[0x00, 0x01]),
            vec![0x02, 0x01, 0x01]
        );
        assert_eq!(encode_unsigned_integer(&[]), vec![0x02, 0x01, 0x00]);
        let big = encode(0x04, &[0u8; 300]);
        assert_eq!(&big[..4], &[0x04, 0x82, 0x01, 0x2c]);
    }

    #[test]
    fn set_of_is_sorted() {
        let set = encode_set_of(0x31, vec![vec![0x30, 0x01, 0x02], vec![0x30, 0x01, 0x01]]);
        assert_eq!(set, vec![0x31, 0x06, 0x30, 0x01, 0x01, 0x30, 0x01, 0x02]);
    }
}
