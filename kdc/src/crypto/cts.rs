//! AES protocol keys and AES-CBC with ciphertext stealing and an all-zero IV
//! (RFC 3962 §5, the RFC 2040 §8 variant), the cipher E/D of all four enctypes.
//!
//! For input longer than one block the result is CBC over the zero-padded input with the
//! last two ciphertext blocks swapped and the output cut to the input length; exactly one
//! block is plain AES.

use aes::cipher::consts::U16;
use aes::cipher::{BlockDecrypt, BlockEncrypt, BlockSizeUser, KeyInit};
use zeroize::Zeroizing;

use super::{CryptoError, Enctype};

pub(super) const BLOCK_LEN: usize = 16;

type Block = [u8; BLOCK_LEN];

/// AES key bytes of one of the two AES sizes; the size is part of the type so that
/// building the cipher cannot fail. Wiped on drop.
#[derive(Clone)]
pub(super) enum AesKey {
    Aes128(Zeroizing<[u8; 16]>),
    Aes256(Zeroizing<[u8; 32]>),
}

impl AesKey {
    /// An all-zero key of the enctype's size, to be filled in place.
    pub(super) fn zeroed(enctype: Enctype) -> AesKey {
        match enctype.key_len() {
            16 => AesKey::Aes128(Zeroizing::new([0; 16])),
            _ => AesKey::Aes256(Zeroizing::new([0; 32])),
        }
    }

    /// An all-zero key of the same size as `self`.
    pub(super) fn zeroed_like(&self) -> AesKey {
        match self {
            AesKey::Aes128(_) => AesKey::Aes128(Zeroizing::new([0; 16])),
            AesKey::Aes256(_) => AesKey::Aes256(Zeroizing::new([0; 32])),
        }
    }

    /// Copies `bytes` into a key of the enctype's size; `None` if the length differs.
    pub(super) fn from_slice(enctype: Enctype, bytes: &[u8]) -> Option<AesKey> {
        let mut key = AesKey::zeroed(enctype);
        if bytes.len() != key.as_bytes().len() {
            return None;
        }
        key.as_mut_bytes()
            .iter_mut()
            .zip(bytes)
            .for_each(|(d, s)| *d = *s);
        Some(key)
    }

    pub(super) fn as_bytes(&self) -> &[u8] {
        match self {
            AesKey::Aes128(k) => k.as_slice(),
            AesKey::Aes256(k) => k.as_slice(),
        }
    }

    pub(super) fn as_mut_bytes(&mut self) -> &mut [u8] {
        match self {
            AesKey::Aes128(k) => k.as_mut_slice(),
            AesKey::Aes256(k) => k.as_mut_slice(),
        }
    }
}

/// Encrypts with AES-CBC-CTS and a zero IV. The output has the input's length, except
/// that input shorter than one block is zero-padded to a block (RFC 3962 §5 allows any
/// padding; Kerberos never encrypts less than the 16-byte confounder).
pub(super) fn encrypt(key: &AesKey, plaintext: &[u8]) -> Vec<u8> {
    match key {
        AesKey::Aes128(k) => encrypt_with(&aes::Aes128::new((&**k).into()), plaintext),
        AesKey::Aes256(k) => encrypt_with(&aes::Aes256::new((&**k).into()), plaintext),
    }
}

fn encrypt_with<C>(cipher: &C, plaintext: &[u8]) -> Vec<u8>
where
    C: BlockEncrypt + BlockSizeUser<BlockSize = U16>,
{
    let mut blocks = to_blocks(plaintext);
    let mut chain = [0u8; BLOCK_LEN];
    for block in blocks.iter_mut() {
        xor_into(block, &chain);
        cipher.encrypt_block(block.into());
        chain = *block;
    }
    if let [.., next_to_last, last] = blocks.as_mut_slice() {
        std::mem::swap(next_to_last, last);
    }
    let mut out: Vec<u8> = blocks.iter().flatten().copied().collect();
    out.truncate(plaintext.len().max(BLOCK_LEN));
    out
}

/// Decrypts AES-CBC-CTS with a zero IV; the input must be at least one block.
pub(super) fn decrypt(key: &AesKey, ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    if ciphertext.len() < BLOCK_LEN {
        return Err(CryptoError::CiphertextTooShort {
            actual: ciphertext.len(),
            minimum: BLOCK_LEN,
        });
    }
    Ok(match key {
        AesKey::Aes128(k) => decrypt_with(&aes::Aes128::new((&**k).into()), ciphertext),
        AesKey::Aes256(k) => decrypt_with(&aes::Aes256::new((&**k).into()), ciphertext),
    })
}

/// `ciphertext` is at least one block long.
fn decrypt_with<C>(cipher: &C, ciphertext: &[u8]) -> Zeroizing<Vec<u8>>
where
    C: BlockDecrypt + BlockSizeUser<BlockSize = U16>,
{
    let mut blocks = to_blocks(ciphertext);
    let partial_len = ciphertext.len() - (blocks.len() - 1) * BLOCK_LEN;
    if let [.., stolen, head] = blocks.as_mut_slice() {
        // `stolen` is CBC's final block C_n = E(P_n padded ^ C_{n-1}); `head` holds only the
        // first bytes of C_{n-1}. Decrypting C_n yields P_n padded ^ C_{n-1}, and since the
        // padding is zero its tail is the missing tail of C_{n-1}.
        let mut decrypted = *stolen;
        cipher.decrypt_block((&mut decrypted).into());
        head.iter_mut()
            .zip(decrypted)
            .skip(partial_len)
            .for_each(|(h, d)| *h = d);
        // Back to plain CBC order: ..., C_{n-1}, C_n.
        std::mem::swap(stolen, head);
    }
    let mut chain = [0u8; BLOCK_LEN];
    for block in blocks.iter_mut() {
        let ciphertext_block = *block;
        cipher.decrypt_block(block.into());
        xor_into(block, &chain);
        chain = ciphertext_block;
    }
    let mut out = Zeroizing::new(blocks.iter().flatten().copied().collect::<Vec<u8>>());
    out.truncate(ciphertext.len());
    out
}

/// Splits `data` into blocks, zero-padding the last one; empty input gives one zero block.
fn to_blocks(data: &[u8]) -> Zeroizing<Vec<Block>> {
    let mut blocks: Vec<Block> = data
        .chunks(BLOCK_LEN)
        .map(|chunk| {
            let mut block = [0u8; BLOCK_LEN];
            block.iter_mut().zip(chunk).for_each(|(d, s)| *d = *s);
            block
        })
        .collect();
    if blocks.is_empty() {
        blocks.push([0u8; BLOCK_LEN]);
    }
    Zeroizing::new(blocks)
}

fn xor_into(block: &mut Block, other: &Block) {
    block.iter_mut().zip(other).for_each(|(b, o)| *b ^= o);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_ciphertext_is_an_error() {
        let key = AesKey::zeroed(Enctype::Aes128CtsHmacSha196);
        for len in 0..BLOCK_LEN {
            assert_eq!(
                decrypt(&key, &vec![0u8; len]).unwrap_err(),
                CryptoError::CiphertextTooShort {
                    actual: len,
                    minimum: BLOCK_LEN
                }
            );
        }
    }

    #[test]
    fn round_trip_every_length_both_key_sizes() {
        for enctype in [Enctype::Aes128CtsHmacSha196, Enctype::Aes256CtsHmacSha196] {
            let mut key = AesKey::zeroed(enctype);
            key.as_mut_bytes()
                .iter_mut()
                .enumerate()
                .for_each(|(i, b)| *b = i as u8);
            for len in BLOCK_LEN..100 {
                let plaintext: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
                let ciphertext = encrypt(&key, &plaintext);
                assert_eq!(ciphertext.len(), len);
                assert_ne!(ciphertext, plaintext);
                assert_eq!(decrypt(&key, &ciphertext).unwrap().as_slice(), plaintext);
            }
        }
    }

    #[test]
    fn from_slice_checks_length() {
        assert!(AesKey::from_slice(Enctype::Aes128CtsHmacSha196, &[0; 16]).is_some());
        assert!(AesKey::from_slice(Enctype::Aes128CtsHmacSha196, &[0; 32]).is_none());
        assert!(AesKey::from_slice(Enctype::Aes256CtsHmacSha384192, &[0; 32]).is_some());
        assert!(AesKey::from_slice(Enctype::Aes256CtsHmacSha384192, &[0; 31]).is_none());
    }
}
