//! The fixed-layout PAC buffers: PAC_CLIENT_INFO ([MS-PAC] 2.7), UPN_DNS_INFO (2.10),
//! PAC_ATTRIBUTES_INFO (2.14), PAC_REQUESTOR (2.15) and PAC_SIGNATURE_DATA (2.8).

use kdc_directory::sid::Sid;

use super::PacError;
use super::ndr::Utf16;

/// PAC_CLIENT_INFO: the ticket's authtime and client name (without the realm).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientInfo {
    /// The authtime as a FILETIME.
    pub client_id: u64,
    pub name: Utf16,
}

impl ClientInfo {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = self.client_id.to_le_bytes().to_vec();
        out.extend_from_slice(&self.name.byte_len().to_le_bytes());
        out.extend_from_slice(&self.name.to_le_bytes());
        out
    }

    pub fn decode(buffer: &[u8]) -> Result<ClientInfo, PacError> {
        let mut r = Fields(buffer);
        let client_id = r.u64()?;
        let len = r.u16()?;
        Ok(ClientInfo {
            client_id,
            name: Utf16::from_le_bytes(r.take(usize::from(len))?)?,
        })
    }
}

/// UPN_DNS_INFO flag: the user has no userPrincipalName; the UPN was made from the account
/// name and the DNS domain.
pub const UPN_CONSTRUCTED: u32 = 0x01;
/// UPN_DNS_INFO flag: SamName and Sid follow (the extended form, [MS-PAC] 2.10.1).
pub const UPN_EXTENDED: u32 = 0x02;

/// UPN_DNS_INFO, in its extended form when `sam_and_sid` is present.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpnDnsInfo {
    pub upn: Utf16,
    pub dns_domain: Utf16,
    pub flags: u32,
    pub sam_and_sid: Option<(Utf16, Sid)>,
}

impl UpnDnsInfo {
    /// The header, then each item on an 8-byte boundary, as Windows lays it out.
    pub fn encode(&self) -> Vec<u8> {
        let header_len = if self.sam_and_sid.is_some() { 20 } else { 12 };
        let mut items: Vec<Vec<u8>> = vec![self.upn.to_le_bytes(), self.dns_domain.to_le_bytes()];
        if let Some((sam, sid)) = &self.sam_and_sid {
            items.push(sam.to_le_bytes());
            items.push(sid.to_binary());
        }
        let mut body = Vec::new();
        let mut places = Vec::new();
        let mut at = align8(header_len);
        for item in &items {
            places.push((item.len() as u16, at as u16));
            body.resize(at - align8(header_len), 0);
            body.extend_from_slice(item);
            at = align8(at + item.len());
        }
        let mut out = Vec::with_capacity(at);
        let mut pairs = places.iter();
        for (len, offset) in pairs.by_ref().take(2) {
            out.extend_from_slice(&len.to_le_bytes());
            out.extend_from_slice(&offset.to_le_bytes());
        }
        out.extend_from_slice(&self.flags.to_le_bytes());
        for (len, offset) in pairs {
            out.extend_from_slice(&len.to_le_bytes());
            out.extend_from_slice(&offset.to_le_bytes());
        }
        out.resize(align8(header_len), 0);
        out.extend_from_slice(&body);
        out.resize(at, 0);
        out
    }

    pub fn decode(buffer: &[u8]) -> Result<UpnDnsInfo, PacError> {
        let mut r = Fields(buffer);
        let upn = (r.u16()?, r.u16()?);
        let dns = (r.u16()?, r.u16()?);
        let flags = r.u32()?;
        let item = |(len, offset): (u16, u16)| {
            let start = usize::from(offset);
            buffer
                .get(start..start + usize::from(len))
                .ok_or(PacError::Buffer("UPN_DNS_INFO item outside its buffer"))
        };
        let sam_and_sid = if flags & UPN_EXTENDED != 0 {
            let sam = (r.u16()?, r.u16()?);
            let sid = (r.u16()?, r.u16()?);
            let sid = Sid::from_binary(item(sid)?)
                .map_err(|_| PacError::Buffer("UPN_DNS_INFO Sid is not a SID"))?;
            Some((Utf16::from_le_bytes(item(sam)?)?, sid))
        } else {
            None
        };
        Ok(UpnDnsInfo {
            upn: Utf16::from_le_bytes(item(upn)?)?,
            dns_domain: Utf16::from_le_bytes(item(dns)?)?,
            flags,
            sam_and_sid,
        })
    }
}

/// PAC_ATTRIBUTES_INFO flag: the AS-REQ asked for a PAC with PA-PAC-REQUEST TRUE.
pub const PAC_WAS_REQUESTED: u32 = 0x01;
/// PAC_ATTRIBUTES_INFO flag: the AS-REQ had no PA-PAC-REQUEST.
pub const PAC_WAS_GIVEN_IMPLICITLY: u32 = 0x02;
/// FlagsLength: the number of defined flag bits ([MS-PAC] 2.14).
const ATTRIBUTES_FLAGS_LENGTH: u32 = 0x02;

/// PAC_ATTRIBUTES_INFO: whether the client asked for the PAC; 0 means it declined one, and
/// then service tickets carry none ([MS-KILE] 3.3.5.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attributes(pub u32);

impl Attributes {
    pub fn encode(self) -> Vec<u8> {
        [ATTRIBUTES_FLAGS_LENGTH.to_le_bytes(), self.0.to_le_bytes()].concat()
    }

    pub fn decode(buffer: &[u8]) -> Result<Attributes, PacError> {
        let mut r = Fields(buffer);
        let bits = r.u32()?;
        let flags = r.u32()?;
        // Bits beyond FlagsLength are not defined; read as Samba does.
        let defined = if bits >= 32 {
            u32::MAX
        } else {
            (1 << bits) - 1
        };
        Ok(Attributes(flags & defined))
    }

    pub fn pac_requested(self) -> bool {
        self.0 & (PAC_WAS_REQUESTED | PAC_WAS_GIVEN_IMPLICITLY) != 0
    }
}

/// PAC_SIGNATURE_DATA: a checksum type and the checksum. An RODC identifier may follow a
/// KDC signature; this KDC writes none and reads past it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signature {
    pub checksum_type: i32,
    pub checksum: Vec<u8>,
}

impl Signature {
    pub fn encode(&self) -> Vec<u8> {
        [&self.checksum_type.to_le_bytes()[..], &self.checksum].concat()
    }

    /// `checksum_len` comes from the type ([`super::checksum`]); the rest is the RODC id.
    pub fn decode(
        buffer: &[u8],
        checksum_len: impl Fn(i32) -> Option<usize>,
    ) -> Result<Signature, PacError> {
        let mut r = Fields(buffer);
        let checksum_type = r.u32()? as i32;
        let len = checksum_len(checksum_type).ok_or(PacError::ChecksumType(checksum_type))?;
        Ok(Signature {
            checksum_type,
            checksum: r.take(len)?.to_vec(),
        })
    }
}

fn align8(at: usize) -> usize {
    at.next_multiple_of(8)
}

/// Little-endian fields read from the front of a buffer.
struct Fields<'a>(&'a [u8]);

impl<'a> Fields<'a> {
    fn take(&mut self, len: usize) -> Result<&'a [u8], PacError> {
        let (head, rest) = self
            .0
            .split_at_checked(len)
            .ok_or(PacError::Buffer("PAC buffer truncated"))?;
        self.0 = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], PacError> {
        self.take(N)?
            .try_into()
            .map_err(|_| PacError::Buffer("PAC buffer truncated"))
    }

    fn u16(&mut self) -> Result<u16, PacError> {
        self.array().map(u16::from_le_bytes)
    }

    fn u32(&mut self) -> Result<u32, PacError> {
        self.array().map(u32::from_le_bytes)
    }

    fn u64(&mut self) -> Result<u64, PacError> {
        self.array().map(u64::from_le_bytes)
    }
}
