//! NDR20 little-endian encoding ([MS-RPCE] 2.2.5 and 14.2 of C706) of the types
//! KERB_VALIDATION_INFO is made of: aligned scalars, unique pointers written as referent ids
//! with their pointees deferred, conformant(-varying) arrays, RPC_UNICODE_STRING and RPC_SID,
//! and the type serialization version 1 envelope around it ([MS-RPCE] 2.2.6).

use kdc_directory::sid::Sid;

use super::PacError;

/// Referent ids of unique pointers count up from here, as Windows writes them; readers look
/// only at null versus non-null.
const FIRST_REFERENT: u32 = 0x0002_0000;
/// Type serialization v1 common header: version 1, little-endian (0x10), header length 8,
/// filler 0xcccccccc ([MS-RPCE] 2.2.6.1).
const COMMON_HEADER: [u8; 8] = [0x01, 0x10, 0x08, 0x00, 0xcc, 0xcc, 0xcc, 0xcc];
/// The common and private headers before the body.
const ENVELOPE_LEN: usize = 0x10;

/// Writes an NDR stream; offsets and alignment are relative to its start, which the PAC
/// places on an 8-byte boundary.
pub struct Writer {
    out: Vec<u8>,
    next_referent: u32,
}

impl Default for Writer {
    fn default() -> Writer {
        Writer::new()
    }
}

impl Writer {
    pub fn new() -> Writer {
        Writer {
            out: Vec::new(),
            next_referent: FIRST_REFERENT,
        }
    }

    fn align(&mut self, to: usize) {
        while !self.out.len().is_multiple_of(to) {
            self.out.push(0);
        }
    }

    pub fn u16(&mut self, value: u16) {
        self.align(2);
        self.out.extend_from_slice(&value.to_le_bytes());
    }

    pub fn u32(&mut self, value: u32) {
        self.align(4);
        self.out.extend_from_slice(&value.to_le_bytes());
    }

    /// FILETIME is two DWORDs, so 4-byte aligned, low half first ([MS-DTYP] 2.3.3).
    pub fn filetime(&mut self, value: u64) {
        self.u32(value as u32);
        self.u32((value >> 32) as u32);
    }

    pub fn bytes(&mut self, bytes: &[u8]) {
        self.out.extend_from_slice(bytes);
    }

    /// A unique pointer: a fresh referent id, or 0 for null.
    pub fn pointer(&mut self, present: bool) {
        if present {
            let referent = self.next_referent;
            self.next_referent = self.next_referent.wrapping_add(4);
            self.u32(referent);
        } else {
            self.u32(0);
        }
    }

    /// RPC_UNICODE_STRING's scalar part: Length and MaximumLength in bytes, and the buffer
    /// pointer (never null, even for an empty string, as Windows writes it).
    pub fn string_header(&mut self, value: &Utf16, extra_capacity: u16) {
        let len = value.byte_len();
        self.u16(len);
        self.u16(len.saturating_add(extra_capacity));
        self.pointer(true);
    }

    /// The deferred buffer of an RPC_UNICODE_STRING: a conformant-varying array of WCHAR
    /// without a terminating NUL.
    pub fn string_body(&mut self, value: &Utf16, extra_capacity: u16) {
        let units = value.units.len() as u32;
        self.u32(units + u32::from(extra_capacity / 2));
        self.u32(0);
        self.u32(units);
        for unit in &value.units {
            self.out.extend_from_slice(&unit.to_le_bytes());
        }
    }

    /// RPC_SID as a conformant structure: the sub-authority count first ([MS-DTYP] 2.4.2.3).
    pub fn sid(&mut self, sid: &Sid) {
        self.u32(sid.sub_authorities().len() as u32);
        self.bytes(&sid.to_binary());
    }

    /// The stream in its type serialization v1 envelope, padded to 8 bytes.
    pub fn into_serialized(mut self) -> Vec<u8> {
        self.align(8);
        let mut envelope = Vec::with_capacity(ENVELOPE_LEN + self.out.len());
        envelope.extend_from_slice(&COMMON_HEADER);
        envelope.extend_from_slice(&(self.out.len() as u32).to_le_bytes());
        envelope.extend_from_slice(&[0; 4]);
        envelope.extend_from_slice(&self.out);
        envelope
    }
}

/// Reads an NDR stream with every length and count checked against the bytes left.
pub struct Reader<'a> {
    input: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    /// Opens a type serialization v1 envelope: the headers must say version 1,
    /// little-endian, and a body length that is a multiple of 8 within the buffer.
    pub fn serialized(buffer: &'a [u8]) -> Result<Reader<'a>, PacError> {
        let header = buffer
            .get(..ENVELOPE_LEN)
            .ok_or(PacError::Ndr("type serialization header truncated"))?;
        if header.get(..4) != COMMON_HEADER.get(..4) {
            return Err(PacError::Ndr(
                "not a little-endian type serialization v1 stream",
            ));
        }
        let body_len = header
            .get(8..12)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_le_bytes)
            .ok_or(PacError::Ndr("type serialization header truncated"))?
            as usize;
        if !body_len.is_multiple_of(8) {
            return Err(PacError::Ndr("serialized body length not a multiple of 8"));
        }
        let body = buffer
            .get(ENVELOPE_LEN..ENVELOPE_LEN.saturating_add(body_len))
            .ok_or(PacError::Ndr("serialized body longer than its buffer"))?;
        Ok(Reader { input: body, at: 0 })
    }

    fn align(&mut self, to: usize) -> Result<(), PacError> {
        let aligned = self.at.next_multiple_of(to);
        if aligned > self.input.len() {
            return Err(PacError::Ndr("truncated"));
        }
        self.at = aligned;
        Ok(())
    }

    pub fn bytes(&mut self, len: usize) -> Result<&'a [u8], PacError> {
        let end = self.at.checked_add(len).ok_or(PacError::Ndr("truncated"))?;
        let bytes = self
            .input
            .get(self.at..end)
            .ok_or(PacError::Ndr("truncated"))?;
        self.at = end;
        Ok(bytes)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], PacError> {
        self.bytes(N)?
            .try_into()
            .map_err(|_| PacError::Ndr("truncated"))
    }

    pub fn u16(&mut self) -> Result<u16, PacError> {
        self.align(2)?;
        self.array().map(u16::from_le_bytes)
    }

    pub fn u32(&mut self) -> Result<u32, PacError> {
        self.align(4)?;
        self.array().map(u32::from_le_bytes)
    }

    pub fn filetime(&mut self) -> Result<u64, PacError> {
        let low = self.u32()?;
        let high = self.u32()?;
        Ok(u64::from(high) << 32 | u64::from(low))
    }

    /// A unique pointer: whether a pointee follows in the deferred part.
    pub fn pointer(&mut self) -> Result<bool, PacError> {
        Ok(self.u32()? != 0)
    }

    /// The conformance count of an array whose elements take at least `element_len` bytes,
    /// refused when the rest of the stream cannot hold that many.
    pub fn count(&mut self, element_len: usize) -> Result<usize, PacError> {
        let count = self.u32()? as usize;
        let left = self.input.len().saturating_sub(self.at);
        if count.saturating_mul(element_len) > left {
            return Err(PacError::Ndr("array count larger than the buffer"));
        }
        Ok(count)
    }

    /// The deferred buffer of an RPC_UNICODE_STRING whose header said `byte_len` and
    /// `capacity`: conformance and variance must agree with them.
    pub fn string_body(&mut self, byte_len: u16, capacity: u16) -> Result<Utf16, PacError> {
        let max_count = self.u32()?;
        let offset = self.u32()?;
        let actual = self.count(2)?;
        if offset != 0
            || !byte_len.is_multiple_of(2)
            || actual != usize::from(byte_len / 2)
            || max_count < actual as u32
            || capacity < byte_len
        {
            return Err(PacError::Ndr("string lengths disagree"));
        }
        Utf16::from_le_bytes(self.bytes(actual * 2)?)
    }

    /// RPC_SID with its conformance count, which must match SubAuthorityCount.
    pub fn sid(&mut self) -> Result<Sid, PacError> {
        let count = self.count(4)?;
        let header = self.bytes(8)?;
        if header.get(1).map(|&n| usize::from(n)) != Some(count) {
            return Err(PacError::Ndr("SID sub-authority counts disagree"));
        }
        let sub_authorities = self.bytes(count * 4)?;
        Sid::from_binary(&[header, sub_authorities].concat())
            .map_err(|_| PacError::Ndr("not a SID"))
    }

    /// Every byte but the alignment padding to 8 was read.
    pub fn finish(self) -> Result<(), PacError> {
        if self.input.len() - self.at >= 8 {
            return Err(PacError::Ndr("bytes left after the structure"));
        }
        Ok(())
    }
}

/// A string as Windows carries it: UTF-16 code units, no terminating NUL.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Utf16 {
    units: Vec<u16>,
}

impl Utf16 {
    /// In bytes, as RPC_UNICODE_STRING counts; a string that does not fit in 32 KiB is cut
    /// (no directory value the PAC carries is that long).
    pub fn byte_len(&self) -> u16 {
        u16::try_from(self.units.len() * 2).unwrap_or(0xfffe)
    }

    pub fn units(&self) -> &[u16] {
        &self.units
    }

    pub fn to_le_bytes(&self) -> Vec<u8> {
        self.units.iter().flat_map(|u| u.to_le_bytes()).collect()
    }

    pub fn from_le_bytes(bytes: &[u8]) -> Result<Utf16, PacError> {
        if !bytes.len().is_multiple_of(2) {
            return Err(PacError::Ndr("odd number of bytes in a UTF-16 string"));
        }
        Ok(Utf16 {
            units: bytes
                .chunks_exact(2)
                .filter_map(|c| c.try_into().ok().map(u16::from_le_bytes))
                .collect(),
        })
    }
}

impl From<&str> for Utf16 {
    fn from(text: &str) -> Utf16 {
        let mut units: Vec<u16> = text.encode_utf16().collect();
        units.truncate(usize::from(u16::MAX / 2));
        Utf16 { units }
    }
}

impl std::fmt::Display for Utf16 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&String::from_utf16_lossy(&self.units))
    }
}
