//! The PAC's four signatures ([MS-PAC] 2.8): ticket (2.8.2) over the EncTicketPart with a
//! placeholder PAC, full (2.8.3) over the PAC, server (2.8.4) over the PAC, KDC (2.8.5) over
//! the server signature; made in that order ([MS-PAC] 2.8.1), each with the signature
//! fields it must not cover zeroed, and verified the same way on the bytes as received.

use super::container::Pac;
use super::small_buffers::Signature;
use super::{PacError, buffer_type};
use crate::crypto::{Enctype, Key};

/// KERB_NON_KERB_CKSUM_SALT, the key usage of every PAC signature ([MS-KILE] 3.1.5.9).
pub const KEY_USAGE_PAC_SIGNATURE: u32 = 0x11;
/// KERB_CHECKSUM_HMAC_MD5 (RFC 4757), which RC4 keys sign with: read so that such a PAC
/// parses, never accepted as a signature here (this KDC has no RC4 keys).
const HMAC_MD5: i32 = -0x8a;
const HMAC_MD5_LEN: usize = 0x10;

/// The length of a signature of this checksum type.
pub fn checksum_len(checksum_type: i32) -> Option<usize> {
    Enctype::ALL
        .into_iter()
        .find(|e| e.checksum_type() == checksum_type)
        .map(Enctype::checksum_len)
        .or((checksum_type == HMAC_MD5).then_some(HMAC_MD5_LEN))
}

/// What the PAC is signed for: a TGT (server and KDC signatures, both under the krbtgt key)
/// or a service ticket (all four; the ticket signature over `ticket_with_placeholder`, the
/// DER EncTicketPart whose PAC is the single byte 0).
pub enum Signing<'a> {
    Tgt,
    Service { ticket_with_placeholder: &'a [u8] },
}

/// The signature buffers, zero-filled to their lengths, appended in the order MIT and
/// Heimdal place them (after the data buffers).
pub fn add_placeholders(pac: &mut Pac, server: &Key, kdc: &Key, service_ticket: bool) {
    let mut kinds = Vec::with_capacity(4);
    if service_ticket {
        kinds.extend([
            (buffer_type::TICKET_CHECKSUM, kdc),
            (buffer_type::FULL_CHECKSUM, kdc),
        ]);
    }
    kinds.extend([
        (buffer_type::SERVER_CHECKSUM, server),
        (buffer_type::KDC_CHECKSUM, kdc),
    ]);
    for (kind, key) in kinds {
        pac.set(kind, zero_signature(key).encode());
    }
}

fn zero_signature(key: &Key) -> Signature {
    Signature {
        checksum_type: key.enctype().checksum_type(),
        checksum: vec![0; key.enctype().checksum_len()],
    }
}

/// Signs a PAC that has its placeholders ([`add_placeholders`]) and returns its bytes.
pub fn sign(mut pac: Pac, server: &Key, kdc: &Key, signing: Signing<'_>) -> Vec<u8> {
    let put = |pac: &mut Pac, kind: u32, key: &Key, data: &[u8]| {
        let checksum = key.checksum(KEY_USAGE_PAC_SIGNATURE, data);
        pac.set(
            kind,
            Signature {
                checksum_type: key.enctype().checksum_type(),
                checksum,
            }
            .encode(),
        );
    };
    if let Signing::Service {
        ticket_with_placeholder,
    } = signing
    {
        put(
            &mut pac,
            buffer_type::TICKET_CHECKSUM,
            kdc,
            ticket_with_placeholder,
        );
        let zeroed = pac.encode();
        put(&mut pac, buffer_type::FULL_CHECKSUM, kdc, &zeroed);
    }
    let zeroed = pac.encode();
    put(&mut pac, buffer_type::SERVER_CHECKSUM, server, &zeroed);
    let server_signature = signature_of(&pac, buffer_type::SERVER_CHECKSUM)
        .map(|s| s.checksum)
        .unwrap_or_default();
    put(&mut pac, buffer_type::KDC_CHECKSUM, kdc, &server_signature);
    pac.encode()
}

fn signature_of(pac: &Pac, kind: u32) -> Result<Signature, PacError> {
    let data = pac.get(kind).ok_or(PacError::Missing(kind))?;
    Signature::decode(data, checksum_len)
}

/// Verifies the server and KDC signatures of a PAC as received (`raw`), and the full and
/// ticket signatures when `ticket_with_placeholder` is given (a service ticket). Each
/// signature's type must be the one its key makes.
pub fn verify(
    raw: &[u8],
    server: &Key,
    kdc: &Key,
    ticket_with_placeholder: Option<&[u8]>,
) -> Result<Pac, PacError> {
    let received = Received::parse(raw)?;
    received.check_server(server)?;
    received.check_kdc(kdc)?;
    if let Some(ticket) = ticket_with_placeholder {
        received.check_full(kdc)?;
        received.check(buffer_type::TICKET_CHECKSUM, kdc, ticket)?;
    }
    Ok(received.pac)
}

/// A PAC as received: its bytes, which the signatures cover, and where its buffers are.
pub struct Received<'a> {
    raw: &'a [u8],
    pac: Pac,
    offsets: Vec<usize>,
}

impl<'a> Received<'a> {
    pub fn parse(raw: &'a [u8]) -> Result<Received<'a>, PacError> {
        let (pac, offsets) = Pac::parse_with_offsets(raw)?;
        Ok(Received { raw, pac, offsets })
    }

    /// The server signature, over the PAC with the server and KDC signatures zeroed.
    pub fn check_server(&self, key: &Key) -> Result<(), PacError> {
        let zeroed = self.zeroed(&[buffer_type::SERVER_CHECKSUM, buffer_type::KDC_CHECKSUM])?;
        self.check(buffer_type::SERVER_CHECKSUM, key, &zeroed)
    }

    /// The KDC signature, over the server signature's checksum bytes.
    pub fn check_kdc(&self, key: &Key) -> Result<(), PacError> {
        let server = signature_of(&self.pac, buffer_type::SERVER_CHECKSUM)?;
        self.check(buffer_type::KDC_CHECKSUM, key, &server.checksum)
    }

    /// The full signature, over the PAC with the server, KDC and full signatures zeroed.
    pub fn check_full(&self, key: &Key) -> Result<(), PacError> {
        let zeroed = self.zeroed(&[
            buffer_type::SERVER_CHECKSUM,
            buffer_type::KDC_CHECKSUM,
            buffer_type::FULL_CHECKSUM,
        ])?;
        self.check(buffer_type::FULL_CHECKSUM, key, &zeroed)
    }

    fn check(&self, kind: u32, key: &Key, data: &[u8]) -> Result<(), PacError> {
        let signature = signature_of(&self.pac, kind)?;
        if signature.checksum_type != key.enctype().checksum_type() {
            return Err(PacError::ChecksumType(signature.checksum_type));
        }
        key.verify_checksum(KEY_USAGE_PAC_SIGNATURE, data, &signature.checksum)
            .map_err(|_| PacError::BadSignature(kind))
    }

    /// A copy of the bytes with these signatures' fields (all but the type) zeroed, as
    /// MIT zeroes them.
    fn zeroed(&self, kinds: &[u32]) -> Result<Vec<u8>, PacError> {
        let mut copy = self.raw.to_vec();
        for &kind in kinds {
            let (buffer, &offset) = self
                .pac
                .buffers
                .iter()
                .zip(&self.offsets)
                .find(|(b, _)| b.kind == kind)
                .ok_or(PacError::Missing(kind))?;
            let field = offset + 4..offset + buffer.data.len();
            copy.get_mut(field)
                .ok_or(PacError::Buffer("signature shorter than its type"))?
                .fill(0);
        }
        Ok(copy)
    }
}
