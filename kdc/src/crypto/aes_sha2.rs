//! aes128-cts-hmac-sha256-128 and aes256-cts-hmac-sha384-192 (RFC 8009): KDF-HMAC-SHA2
//! key derivation (§3), PBKDF2-HMAC-SHA2 string-to-key with the enctype name in the salt
//! (§4), and encrypt-then-MAC with the tag over IV | ciphertext (§5).

use hmac::Hmac;
use sha2::{Sha256, Sha384};
use zeroize::Zeroizing;

use super::cts::{self, AesKey, BLOCK_LEN};
use super::{CONFOUNDER_LEN, CryptoError, Enctype, Purpose, mac, usage_constant};

/// The cipher state is all zeros and RFC 8009 §5 covers it with the MAC.
const ZERO_IV: [u8; BLOCK_LEN] = [0; BLOCK_LEN];

/// HMAC-SHA-384 for aes256-cts-hmac-sha384-192, HMAC-SHA-256 otherwise; only called with
/// the two RFC 8009 enctypes.
fn hmac_sha2(enctype: Enctype, key: &[u8], parts: &[&[u8]], len: usize) -> Zeroizing<Vec<u8>> {
    match enctype {
        Enctype::Aes256CtsHmacSha384192 => mac::hmac_truncated::<Hmac<Sha384>>(key, parts, len),
        _ => mac::hmac_truncated::<Hmac<Sha256>>(key, parts, len),
    }
}

/// KDF-HMAC-SHA2(key, label, k) = k-truncate(HMAC(key, 0x00000001 | label | 0x00 | k)),
/// with k in bits as a 32-bit big-endian number. One HMAC block suffices because no
/// derived key is longer than the hash output.
pub(super) fn kdf(
    enctype: Enctype,
    key: &[u8],
    label: &[u8],
    out_len: usize,
) -> Zeroizing<Vec<u8>> {
    let out_bits = u32::try_from(out_len * 8).unwrap_or(u32::MAX).to_be_bytes();
    hmac_sha2(
        enctype,
        key,
        &[&1u32.to_be_bytes(), label, &[0], &out_bits],
        out_len,
    )
}

/// Ke = KDF(base, usage | 0xAA, key length).
pub(super) fn derive_ke(enctype: Enctype, base: &AesKey, usage: u32) -> AesKey {
    let mut ke = AesKey::zeroed(enctype);
    let label = usage_constant(usage, Purpose::Encryption);
    let bytes = kdf(enctype, base.as_bytes(), &label, ke.as_bytes().len());
    ke.as_mut_bytes()
        .iter_mut()
        .zip(bytes.iter())
        .for_each(|(d, s)| *d = *s);
    ke
}

/// Ki and Kc: KDF(base, usage | 0x55 or 0x99, MAC length).
pub(super) fn derive_mac_key(
    enctype: Enctype,
    base: &AesKey,
    usage: u32,
    purpose: Purpose,
) -> Zeroizing<Vec<u8>> {
    kdf(
        enctype,
        base.as_bytes(),
        &usage_constant(usage, purpose),
        enctype.checksum_len(),
    )
}

/// saltp = enctype name | 0x00 | salt; tkey = PBKDF2-HMAC-SHA2(password, saltp);
/// base key = KDF(tkey, "kerberos", key length).
pub(super) fn string_to_key(
    enctype: Enctype,
    password: &[u8],
    salt: &[u8],
    iterations: u32,
) -> AesKey {
    let saltp: Vec<u8> = [enctype.name().as_bytes(), &[0], salt].concat();
    let mut tkey = AesKey::zeroed(enctype);
    match enctype {
        Enctype::Aes256CtsHmacSha384192 => {
            pbkdf2::pbkdf2_hmac::<Sha384>(password, &saltp, iterations, tkey.as_mut_bytes());
        }
        _ => pbkdf2::pbkdf2_hmac::<Sha256>(password, &saltp, iterations, tkey.as_mut_bytes()),
    }
    let mut key = AesKey::zeroed(enctype);
    let bytes = kdf(enctype, tkey.as_bytes(), b"kerberos", key.as_bytes().len());
    key.as_mut_bytes()
        .iter_mut()
        .zip(bytes.iter())
        .for_each(|(d, s)| *d = *s);
    key
}

/// C = E(Ke, confounder | plaintext); output C | HMAC(Ki, IV | C)[..h].
pub(super) fn encrypt(
    enctype: Enctype,
    base: &AesKey,
    usage: u32,
    confounder: &[u8; CONFOUNDER_LEN],
    plaintext: &[u8],
) -> Vec<u8> {
    let ke = derive_ke(enctype, base, usage);
    let ki = derive_mac_key(enctype, base, usage, Purpose::Integrity);
    let mut data = Zeroizing::new(Vec::with_capacity(CONFOUNDER_LEN + plaintext.len()));
    data.extend_from_slice(confounder);
    data.extend_from_slice(plaintext);
    let mut out = cts::encrypt(&ke, &data);
    let tag = hmac_sha2(enctype, &ki, &[&ZERO_IV, &out], enctype.checksum_len());
    out.extend_from_slice(&tag);
    out
}

/// Checks the tag over IV | C before decrypting, then strips the confounder.
pub(super) fn decrypt(
    enctype: Enctype,
    base: &AesKey,
    usage: u32,
    ciphertext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let too_short = CryptoError::CiphertextTooShort {
        actual: ciphertext.len(),
        minimum: enctype.min_ciphertext_len(),
    };
    if ciphertext.len() < enctype.min_ciphertext_len() {
        return Err(too_short);
    }
    let (body, tag) = ciphertext
        .split_at_checked(ciphertext.len() - enctype.checksum_len())
        .ok_or(too_short)?;
    let ki = derive_mac_key(enctype, base, usage, Purpose::Integrity);
    let expected = hmac_sha2(enctype, &ki, &[&ZERO_IV, body], enctype.checksum_len());
    mac::verify(&expected, tag)?;
    let ke = derive_ke(enctype, base, usage);
    let data = cts::decrypt(&ke, body)?;
    Ok(data
        .get(CONFOUNDER_LEN..)
        .map(<[u8]>::to_vec)
        .unwrap_or_default())
}

/// hmac-sha256-128-aes128 / hmac-sha384-192-aes256: HMAC(Kc, data)[..h].
pub(super) fn checksum(enctype: Enctype, base: &AesKey, usage: u32, data: &[u8]) -> Vec<u8> {
    let kc = derive_mac_key(enctype, base, usage, Purpose::Checksum);
    hmac_sha2(enctype, &kc, &[data], enctype.checksum_len()).to_vec()
}
