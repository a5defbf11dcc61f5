//! Reply-key derivation from the DH shared secret: RFC 4556 §3.2.3.1 octetstring2key and the
//! RFC 8636 §6 KDFs (the NIST SP 800-56A one-step KDF over SHA-1/SHA-256/SHA-512). Both
//! return the random bits; the caller applies the enctype's random-to-key.

use rasn::types::Oid;
use rasn_kerberos::PrincipalName;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};
use zeroize::{Zeroize, Zeroizing};

use super::AgreementError;
use super::other_info::{ExchangeInfo, Party, other_info_der};

/// id-pkinit-kdf-ah-sha1 (RFC 8636 §6): { id-pkinit-kdf 1 }, id-pkinit-kdf = 1.3.6.1.5.2.3.6.
const KDF_SHA1_OID: &Oid = Oid::const_new(&[1, 3, 6, 1, 5, 2, 3, 6, 1]);
/// id-pkinit-kdf-ah-sha256.
const KDF_SHA256_OID: &Oid = Oid::const_new(&[1, 3, 6, 1, 5, 2, 3, 6, 2]);
/// id-pkinit-kdf-ah-sha512.
const KDF_SHA512_OID: &Oid = Oid::const_new(&[1, 3, 6, 1, 5, 2, 3, 6, 3]);

/// The RFC 8636 key derivation functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PkinitKdf {
    /// id-pkinit-kdf-ah-sha1
    Sha1,
    /// id-pkinit-kdf-ah-sha256
    Sha256,
    /// id-pkinit-kdf-ah-sha512
    Sha512,
}

impl PkinitKdf {
    /// The KDF named by a KDFAlgorithmId's kdf-id, if we implement it.
    pub fn from_oid(oid: &Oid) -> Option<PkinitKdf> {
        [PkinitKdf::Sha1, PkinitKdf::Sha256, PkinitKdf::Sha512]
            .into_iter()
            .find(|kdf| kdf.oid() == oid)
    }

    /// The kdf-id OID.
    pub fn oid(self) -> &'static Oid {
        match self {
            PkinitKdf::Sha1 => KDF_SHA1_OID,
            PkinitKdf::Sha256 => KDF_SHA256_OID,
            PkinitKdf::Sha512 => KDF_SHA512_OID,
        }
    }
}

/// RFC 4556 §3.2.3.1: x = DHSharedSecret || n_c || n_k (an absent nonce is empty), then
/// k-truncate(SHA1(0x00 | x) | SHA1(0x01 | x) | ...) to `key_len` bytes.
///
/// The counter is one octet; it wraps after 256 blocks (5120 bytes), far beyond any
/// Kerberos key.
pub fn octetstring2key(
    shared: &[u8],
    client_dh_nonce: Option<&[u8]>,
    server_dh_nonce: Option<&[u8]>,
    key_len: usize,
) -> Zeroizing<Vec<u8>> {
    let mut x = Zeroizing::new(Vec::with_capacity(
        shared.len()
            + client_dh_nonce.map_or(0, <[u8]>::len)
            + server_dh_nonce.map_or(0, <[u8]>::len),
    ));
    x.extend_from_slice(shared);
    x.extend_from_slice(client_dh_nonce.unwrap_or_default());
    x.extend_from_slice(server_dh_nonce.unwrap_or_default());

    let mut key = Zeroizing::new(Vec::with_capacity(key_len));
    let mut counter = 0u8;
    while key.len() < key_len {
        let mut block = Sha1::new()
            .chain_update([counter])
            .chain_update(x.as_slice())
            .finalize();
        let take = block.len().min(key_len - key.len());
        key.extend(block.iter().take(take));
        block.as_mut_slice().zeroize();
        counter = counter.wrapping_add(1);
    }
    key
}

/// RFC 8636 §6: the one-step KDF of NIST SP 800-56A §5.8.1,
/// K(i) = H(counter_i || ZZ || OtherInfo) with a 32-bit big-endian counter from 1, truncated
/// to `key_len` bytes. OtherInfo binds the KDF, both principals, the enctype and the exact
/// bytes of both messages: `as_req_der` is the DER of the AS-REQ as the client sent it,
/// `pk_as_rep_der` the DER of the PA-PK-AS-REP (the padata-value) the KDC sends back.
#[allow(clippy::too_many_arguments)] // one parameter per input RFC 8636 §6 names
pub fn rfc8636_kdf(
    kdf: PkinitKdf,
    zz: &[u8],
    client_realm: &str,
    client_name: &PrincipalName,
    kdc_realm: &str,
    kdc_name: &PrincipalName,
    enctype: i32,
    as_req_der: &[u8],
    pk_as_rep_der: &[u8],
    key_len: usize,
) -> Result<Zeroizing<Vec<u8>>, AgreementError> {
    let other_info = other_info_der(
        kdf.oid(),
        &Party {
            realm: client_realm,
            name: client_name,
        },
        &Party {
            realm: kdc_realm,
            name: kdc_name,
        },
        &ExchangeInfo {
            enctype,
            as_req_der,
            pk_as_rep_der,
        },
    )?;
    match kdf {
        PkinitKdf::Sha1 => one_step_kdf::<Sha1>(zz, &other_info, key_len),
        PkinitKdf::Sha256 => one_step_kdf::<Sha256>(zz, &other_info, key_len),
        PkinitKdf::Sha512 => one_step_kdf::<Sha512>(zz, &other_info, key_len),
    }
}

fn one_step_kdf<H: Digest>(
    zz: &[u8],
    other_info: &[u8],
    key_len: usize,
) -> Result<Zeroizing<Vec<u8>>, AgreementError> {
    // SP 800-56A allows at most 2^32 - 1 hash blocks.
    let blocks = u32::try_from(key_len.div_ceil(<H as Digest>::output_size()))
        .map_err(|_| AgreementError::KeyLengthTooLong(key_len))?;
    let mut key = Zeroizing::new(Vec::with_capacity(key_len));
    for counter in 1..=blocks {
        let mut block = H::new()
            .chain_update(counter.to_be_bytes())
            .chain_update(zz)
            .chain_update(other_info)
            .finalize();
        let take = block.len().min(key_len - key.len());
        key.extend(block.iter().take(take));
        block.as_mut_slice().zeroize();
    }
    Ok(key)
}
