//! aes128-cts-hmac-sha1-96 and aes256-cts-hmac-sha1-96 (RFC 3962) on the RFC 3961 §5.3
//! simplified profile: DR/DK key derivation (RFC 3961 §5.1), PBKDF2-HMAC-SHA1 + DK
//! string-to-key (RFC 3962 §4), and encryption with an HMAC-SHA1-96 tag over
//! confounder | plaintext.

use hmac::Hmac;
use sha1::Sha1;
use zeroize::Zeroizing;

use super::cts::{self, AesKey, BLOCK_LEN};
use super::nfold::nfold;
use super::{CONFOUNDER_LEN, CryptoError, Enctype, Purpose, mac, usage_constant};

/// DK(base, constant) (RFC 3961 §5.1): the n-folded constant is encrypted, then each
/// output block again, until there are key-length bytes. random-to-key is the identity
/// for AES (RFC 3962 §6), so DK equals DR here.
pub(super) fn dk(base: &AesKey, constant: &[u8]) -> AesKey {
    let mut derived = base.zeroed_like();
    let mut block = Zeroizing::new(if constant.len() == BLOCK_LEN {
        constant.to_vec()
    } else {
        nfold(constant, BLOCK_LEN)
    });
    for piece in derived.as_mut_bytes().chunks_mut(BLOCK_LEN) {
        block = Zeroizing::new(cts::encrypt(base, &block));
        piece
            .iter_mut()
            .zip(block.iter())
            .for_each(|(d, s)| *d = *s);
    }
    derived
}

fn derive(base: &AesKey, usage: u32, purpose: Purpose) -> AesKey {
    dk(base, &usage_constant(usage, purpose))
}

/// tkey = PBKDF2-HMAC-SHA1(password, salt, iterations); key = DK(tkey, "kerberos").
pub(super) fn string_to_key(
    enctype: Enctype,
    password: &[u8],
    salt: &[u8],
    iterations: u32,
) -> AesKey {
    let mut tkey = AesKey::zeroed(enctype);
    pbkdf2::pbkdf2_hmac::<Sha1>(password, salt, iterations, tkey.as_mut_bytes());
    dk(&tkey, b"kerberos")
}

/// E(Ke, confounder | plaintext) | HMAC-SHA1(Ki, confounder | plaintext)[..12].
pub(super) fn encrypt(
    enctype: Enctype,
    base: &AesKey,
    usage: u32,
    confounder: &[u8; CONFOUNDER_LEN],
    plaintext: &[u8],
) -> Vec<u8> {
    let ke = derive(base, usage, Purpose::Encryption);
    let ki = derive(base, usage, Purpose::Integrity);
    let mut data = Zeroizing::new(Vec::with_capacity(CONFOUNDER_LEN + plaintext.len()));
    data.extend_from_slice(confounder);
    data.extend_from_slice(plaintext);
    let mut out = cts::encrypt(&ke, &data);
    let tag = mac::hmac_truncated::<Hmac<Sha1>>(ki.as_bytes(), &[&data], enctype.checksum_len());
    out.extend_from_slice(&tag);
    out
}

/// Splits off the tag, decrypts, checks the tag over the decrypted confounder | plaintext
/// and returns the plaintext.
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
    let ke = derive(base, usage, Purpose::Encryption);
    let ki = derive(base, usage, Purpose::Integrity);
    let data = cts::decrypt(&ke, body)?;
    let expected =
        mac::hmac_truncated::<Hmac<Sha1>>(ki.as_bytes(), &[&data], enctype.checksum_len());
    mac::verify(&expected, tag)?;
    Ok(data
        .get(CONFOUNDER_LEN..)
        .map(<[u8]>::to_vec)
        .unwrap_or_default())
}

/// hmac-sha1-96-aes128/-aes256: HMAC-SHA1(Kc, data)[..12].
pub(super) fn checksum(enctype: Enctype, base: &AesKey, usage: u32, data: &[u8]) -> Vec<u8> {
    let kc = derive(base, usage, Purpose::Checksum);
    mac::hmac_truncated::<Hmac<Sha1>>(kc.as_bytes(), &[data], enctype.checksum_len()).to_vec()
}
