//! PACTYPE and PAC_INFO_BUFFER ([MS-PAC] 2.3, 2.4): the PAC as a list of typed buffers,
//! each on an 8-byte boundary, read with every offset and length checked.

use super::{PacError, buffer_type};

/// More buffers than this is refused: a PAC this KDC reads has at most a dozen kinds.
const MAX_BUFFERS: usize = 0x40;
const HEADER_LEN: usize = 0x08;
const INFO_BUFFER_LEN: usize = 0x10;
/// PACTYPE Version ([MS-PAC] 2.3).
const VERSION: u32 = 0x00;

/// One PAC_INFO_BUFFER and its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Buffer {
    pub kind: u32,
    pub data: Vec<u8>,
}

/// A PAC: buffers in the order they are written, which once signed must not change.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pac {
    pub buffers: Vec<Buffer>,
}

impl Pac {
    /// Reads a PAC as MIT's `krb5_pac_parse` does (version 0, 8-aligned offsets inside the
    /// PAC, after the header) and refuses a second buffer of any type this KDC interprets,
    /// as Heimdal does for the signatures.
    pub fn parse(bytes: &[u8]) -> Result<Pac, PacError> {
        Self::parse_with_offsets(bytes).map(|(pac, _)| pac)
    }

    /// [`Pac::parse`], and where each buffer starts in `bytes`.
    pub fn parse_with_offsets(bytes: &[u8]) -> Result<(Pac, Vec<usize>), PacError> {
        let count = read_u32(bytes, 0)? as usize;
        if read_u32(bytes, 4)? != VERSION {
            return Err(PacError::Layout("PAC version is not 0"));
        }
        if count == 0 || count > MAX_BUFFERS {
            return Err(PacError::Layout("PAC buffer count out of range"));
        }
        let header_len = HEADER_LEN + count * INFO_BUFFER_LEN;
        let mut buffers = Vec::with_capacity(count);
        let mut offsets = Vec::with_capacity(count);
        for i in 0..count {
            let at = HEADER_LEN + i * INFO_BUFFER_LEN;
            let kind = read_u32(bytes, at)?;
            let size = read_u32(bytes, at + 4)? as usize;
            let offset = read_u64(bytes, at + 8)?;
            let offset = usize::try_from(offset)
                .map_err(|_| PacError::Layout("PAC buffer offset out of range"))?;
            if !offset.is_multiple_of(8) || offset < header_len {
                return Err(PacError::Layout(
                    "PAC buffer offset misaligned or in the header",
                ));
            }
            let data = offset
                .checked_add(size)
                .and_then(|end| bytes.get(offset..end))
                .ok_or(PacError::Layout("PAC buffer beyond the end of the PAC"))?;
            if buffer_type::INTERPRETED.contains(&kind)
                && buffers.iter().any(|b: &Buffer| b.kind == kind)
            {
                return Err(PacError::Duplicate(kind));
            }
            buffers.push(Buffer {
                kind,
                data: data.to_vec(),
            });
            offsets.push(offset);
        }
        Ok((Pac { buffers }, offsets))
    }

    /// The PAC's bytes: the header, then each buffer in order, 8-aligned, the last one
    /// padded too (as Windows and MIT write it).
    pub fn encode(&self) -> Vec<u8> {
        self.encode_with_offsets().0
    }

    /// The bytes, and where each buffer's data starts in them.
    pub fn encode_with_offsets(&self) -> (Vec<u8>, Vec<usize>) {
        let header_len = HEADER_LEN + self.buffers.len() * INFO_BUFFER_LEN;
        let mut out = Vec::with_capacity(
            header_len + self.buffers.iter().map(|b| b.data.len() + 7).sum::<usize>(),
        );
        out.extend_from_slice(&(self.buffers.len() as u32).to_le_bytes());
        out.extend_from_slice(&VERSION.to_le_bytes());
        let mut offsets = Vec::with_capacity(self.buffers.len());
        let mut at = header_len;
        for buffer in &self.buffers {
            out.extend_from_slice(&buffer.kind.to_le_bytes());
            out.extend_from_slice(&(buffer.data.len() as u32).to_le_bytes());
            out.extend_from_slice(&(at as u64).to_le_bytes());
            offsets.push(at);
            at = (at + buffer.data.len()).next_multiple_of(8);
        }
        for buffer in &self.buffers {
            out.extend_from_slice(&buffer.data);
            out.resize(out.len().next_multiple_of(8), 0);
        }
        (out, offsets)
    }

    /// The data of the buffer of this type.
    pub fn get(&self, kind: u32) -> Option<&[u8]> {
        self.buffers
            .iter()
            .find(|b| b.kind == kind)
            .map(|b| b.data.as_slice())
    }

    pub fn set(&mut self, kind: u32, data: Vec<u8>) {
        match self.buffers.iter_mut().find(|b| b.kind == kind) {
            Some(buffer) => buffer.data = data,
            None => self.buffers.push(Buffer { kind, data }),
        }
    }

    pub fn types(&self) -> Vec<u32> {
        self.buffers.iter().map(|b| b.kind).collect()
    }
}

fn read_u32(bytes: &[u8], at: usize) -> Result<u32, PacError> {
    bytes
        .get(at..at + 4)
        .and_then(|b| b.try_into().ok())
        .map(u32::from_le_bytes)
        .ok_or(PacError::Layout("PAC header truncated"))
}

fn read_u64(bytes: &[u8], at: usize) -> Result<u64, PacError> {
    bytes
        .get(at..at + 8)
        .and_then(|b| b.try_into().ok())
        .map(u64::from_le_bytes)
        .ok_or(PacError::Layout("PAC header truncated"))
}
