//! Ephemeral finite-field Diffie-Hellman for the KDC side of RFC 4556 §3.2.3.1: key pair
//! generation, validation of the client's public value, and the shared secret ZZ
//! (RFC 2631 §2.1.1). Arithmetic on secrets is constant-time with a fixed exponent length:
//! crypto-bigint's multi-exponentiation for key generation, and for ZZ crypto-bigint's
//! Montgomery exponentiation or, with the `openssl` feature, OpenSSL's.
//!
//! Every group is a safe prime p = 2q + 1, so a value in [2, p - 2] has order q or 2q. Private
//! exponents are even (the cofactor 2 cleared, as X25519 clamps its scalars), which maps any
//! such peer value into the order-q subgroup: ZZ = (y^2)^(x/2) is never 1 and reveals nothing
//! about x to a peer that sent a value of order 2q. The peer check is therefore the range
//! check 1 < y < p - 1 of RFC 7919 §5.1; a Legendre-symbol test (RFC 2631 §2.1.5 makes the
//! subgroup check a MAY) would add a third of the DH cost and no protection.

use std::fmt;

use crypto_bigint::modular::FixedMontyForm;
use crypto_bigint::{MultiExponentiateBoundedExp, U64, Uint, Word};
use zeroize::{Zeroize, Zeroizing};

use super::AgreementError;
use super::groups::{
    EXPONENT_DIGIT_BITS, Field, GENERATOR_POWERS, MODP2, MODP14, MODP16, ModpGroup,
    strip_leading_zeros,
};

/// Room for the longest private exponent we draw (320 bits).
const EXPONENT_BYTES: usize = 40;

/// How often to redraw an all-zero exponent before blaming the random generator.
const RANDOM_ATTEMPTS: usize = 4;

const WORD_BYTES: usize = core::mem::size_of::<Word>();

/// Private exponent length in bits. NIST SP 800-56A Rev. 3 §5.6.1.1 draws x from
/// [1, 2^N - 1] with N >= 2s, s being the group's security strength (SP 800-57 Part 1:
/// 80 bits for 1024-bit p, 112 for 2048-bit; SP 800-56A Rev. 3 App. D: 152 for MODP-4096).
/// 256 bits covers groups 2 and 14 (and the 128-bit strength of the AES reply key);
/// 320 bits (>= 304, a whole number of 64-bit words) covers group 16; the even exponent
/// keeps 255 and 319 random bits. A short exponent is safe here because g generates the
/// prime-order subgroup of a safe prime, and it keeps each exponentiation about 8x cheaper
/// than a full-length one.
fn exponent_bits(group: ModpGroup) -> u32 {
    match group {
        ModpGroup::Modp2 | ModpGroup::Modp14 => 256,
        ModpGroup::Modp16 => 320,
    }
}

/// The KDC's ephemeral DH private exponent; wiped on drop, never printed.
pub struct DhPrivateKey {
    group: ModpGroup,
    /// x, big-endian, even, 2 <= x < 2^exponent_bits(group).
    exponent: Zeroizing<[u8; EXPONENT_BYTES]>,
}

impl DhPrivateKey {
    /// The group this key belongs to.
    pub fn group(&self) -> ModpGroup {
        self.group
    }

    /// A key with a chosen exponent, so tests can pin ZZ.
    #[cfg(test)]
    pub(super) fn from_exponent(group: ModpGroup, exponent_be: &[u8]) -> Option<Self> {
        let mut exponent = Zeroizing::new([0u8; EXPONENT_BYTES]);
        let start = EXPONENT_BYTES.checked_sub(exponent_be.len())?;
        exponent.get_mut(start..)?.copy_from_slice(exponent_be);
        Some(Self { group, exponent })
    }

    /// g^x, as generate() computes it.
    #[cfg(test)]
    pub(super) fn public_value(&self) -> Vec<u8> {
        match self.group {
            ModpGroup::Modp2 => public_value(&MODP2, self),
            ModpGroup::Modp14 => public_value(&MODP14, self),
            ModpGroup::Modp16 => public_value(&MODP16, self),
        }
    }
}

impl fmt::Debug for DhPrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DhPrivateKey")
            .field("group", &self.group)
            .finish_non_exhaustive()
    }
}

/// Generates the KDC's ephemeral key pair in `group`. Returns the private key and the public
/// value y = g^x mod p, big-endian without leading zeros (the caller DER-encodes it).
pub fn generate(group: ModpGroup) -> Result<(DhPrivateKey, Vec<u8>), AgreementError> {
    let key = DhPrivateKey {
        group,
        exponent: random_exponent(exponent_bits(group))?,
    };
    let public = match group {
        ModpGroup::Modp2 => public_value(&MODP2, &key),
        ModpGroup::Modp14 => public_value(&MODP14, &key),
        ModpGroup::Modp16 => public_value(&MODP16, &key),
    };
    Ok((key, public))
}

/// Checks a peer public value y (big-endian, leading zeros allowed): 1 < y < p - 1, which
/// leaves out the elements of order 1 and 2 (see the module comment for why that suffices
/// with even exponents). y is public, so this runs in variable time.
pub fn validate_public(group: ModpGroup, y: &[u8]) -> Result<(), AgreementError> {
    match group {
        ModpGroup::Modp2 => parse_public(&MODP2, y).map(drop),
        ModpGroup::Modp14 => parse_public(&MODP14, y).map(drop),
        ModpGroup::Modp16 => parse_public(&MODP16, y).map(drop),
    }
}

/// Validates the peer value, then computes ZZ = y^x mod p. RFC 4556 §3.2.3.1 takes
/// DHSharedSecret to be ZZ of RFC 2631 §2.1.1, whose leading zeros "MUST be preserved, so
/// that ZZ occupies as many octets as p": the result is left-padded to p's byte length.
pub fn agree(private: &DhPrivateKey, peer_y: &[u8]) -> Result<Zeroizing<Vec<u8>>, AgreementError> {
    match private.group {
        ModpGroup::Modp2 => shared_secret(&MODP2, private, peer_y),
        ModpGroup::Modp14 => shared_secret(&MODP14, private, peer_y),
        ModpGroup::Modp16 => shared_secret(&MODP16, private, peer_y),
    }
}

fn random_exponent(bits: u32) -> Result<Zeroizing<[u8; EXPONENT_BYTES]>, AgreementError> {
    let unused_bytes = EXPONENT_BYTES.saturating_sub(bits as usize / 8);
    let mut exponent = Zeroizing::new([0u8; EXPONENT_BYTES]);
    for _ in 0..RANDOM_ATTEMPTS {
        let (_, low) = exponent
            .split_at_mut_checked(unused_bytes)
            .ok_or(AgreementError::Random)?;
        aws_lc_rs::rand::fill(low).map_err(|_| AgreementError::Random)?;
        // Clear the cofactor: an even x sends a peer value of order 2q into the order-q
        // subgroup (module comment).
        if let Some(last) = low.last_mut() {
            *last &= 0xFE;
        }
        // x = 0 would make y = 1; fold instead of `any` so the scan does not stop early.
        if low.iter().fold(0u8, |acc, byte| acc | byte) != 0 {
            return Ok(exponent);
        }
    }
    Err(AgreementError::Random)
}

fn public_value<const LIMBS: usize>(field: &Field<LIMBS>, key: &DhPrivateKey) -> Vec<u8> {
    // One digit per 64 bits of exponent_bits(group): 4 for 256 bits, 5 for 320.
    let mut y = match key.group {
        ModpGroup::Modp2 | ModpGroup::Modp14 => generator_power::<LIMBS, 4>(field, key),
        ModpGroup::Modp16 => generator_power::<LIMBS, GENERATOR_POWERS>(field, key),
    };
    let y_be = y.to_be_bytes();
    y.as_mut_words().zeroize();
    strip_leading_zeros(y_be.as_slice()).to_vec()
}

/// g^x mod p for x < 2^(64 DIGITS), as prod_i (g^(2^(64 i)))^(x_i) over the 64-bit digits
/// x_i of x, with the powers of g precomputed per group (Straus multi-exponentiation in
/// crypto-bigint). It needs 64 squarings where a plain g^x needs one per exponent bit;
/// DIGITS never exceeds GENERATOR_POWERS, so no bit of x is dropped. Constant-time in x:
/// crypto-bigint multiplies by every digit window, looking the power up with constant-time
/// selects, and the number of steps depends only on DIGITS.
fn generator_power<const LIMBS: usize, const DIGITS: usize>(
    field: &Field<LIMBS>,
    key: &DhPrivateKey,
) -> Uint<LIMBS> {
    let one = FixedMontyForm::one(&field.params);
    let mut terms = [(one, U64::ZERO); DIGITS];
    // rchunks walks the big-endian exponent from its least significant digit up.
    let digits = key.exponent.rchunks(EXPONENT_DIGIT_BITS as usize / 8);
    for ((term, base), digit) in terms.iter_mut().zip(&field.generator_powers).zip(digits) {
        *term = (*base, uint_from_be_truncating(digit));
    }
    let mut power = FixedMontyForm::multi_exponentiate_bounded_exp(&terms, EXPONENT_DIGIT_BITS);
    for (_, digit) in &mut terms {
        digit.as_mut_words().zeroize();
    }
    let result = power.retrieve();
    power.as_montgomery_mut().as_mut_words().zeroize();
    result
}

fn shared_secret<const LIMBS: usize>(
    field: &Field<LIMBS>,
    key: &DhPrivateKey,
    peer_y: &[u8],
) -> Result<Zeroizing<Vec<u8>>, AgreementError> {
    let y = parse_public(field, peer_y)?;
    #[cfg(feature = "openssl")]
    {
        super::openssl_modexp::power(
            field.prime_be(),
            y.to_be_bytes().as_slice(),
            key.exponent.as_slice(),
            field.prime_len(),
        )
    }
    #[cfg(not(feature = "openssl"))]
    {
        Ok(power_padded(field, &y, key))
    }
}

/// y^x mod p with crypto-bigint, left-padded to p's length. The `openssl` build checks
/// OpenSSL's result against it in tests.
#[cfg(any(test, not(feature = "openssl")))]
pub(super) fn power_padded<const LIMBS: usize>(
    field: &Field<LIMBS>,
    y: &Uint<LIMBS>,
    key: &DhPrivateKey,
) -> Zeroizing<Vec<u8>> {
    let mut zz = modexp(field, y, key);
    let mut zz_be = zz.to_be_bytes();
    zz.as_mut_words().zeroize();
    // The encoding is exactly as long as p for 1024/2048/4096-bit groups; keep the low
    // prime_len bytes (the rest, if any, are zero since zz < p).
    let encoded = zz_be.as_slice();
    let padded = Zeroizing::new(
        encoded
            .get(encoded.len().saturating_sub(field.prime_len())..)
            .unwrap_or(encoded)
            .to_vec(),
    );
    zz_be.as_mut_slice().zeroize();
    padded
}

/// base^x mod p in constant time: the exponent length is the group's fixed bit count, not
/// the length of x.
#[cfg(any(test, not(feature = "openssl")))]
fn modexp<const LIMBS: usize>(
    field: &Field<LIMBS>,
    base: &Uint<LIMBS>,
    key: &DhPrivateKey,
) -> Uint<LIMBS> {
    let mut x: crypto_bigint::U320 = uint_from_be_truncating(key.exponent.as_slice());
    let mut power =
        FixedMontyForm::new(base, &field.params).pow_bounded_exp(&x, exponent_bits(key.group));
    x.as_mut_words().zeroize();
    let result = power.retrieve();
    power.as_montgomery_mut().as_mut_words().zeroize();
    result
}

fn parse_public<const LIMBS: usize>(
    field: &Field<LIMBS>,
    y: &[u8],
) -> Result<Uint<LIMBS>, AgreementError> {
    let y_digits = strip_leading_zeros(y);
    if y_digits.len() > LIMBS * WORD_BYTES {
        return Err(AgreementError::InvalidPublicValue);
    }
    let y: Uint<LIMBS> = uint_from_be_truncating(y_digits);
    let p_minus_1 = field.prime.as_ref().wrapping_sub(&Uint::ONE);
    if y.cmp_vartime(&Uint::ONE).is_gt() && y.cmp_vartime(&p_minus_1).is_lt() {
        Ok(y)
    } else {
        Err(AgreementError::InvalidPublicValue)
    }
}

/// Reads big-endian bytes into a Uint; bytes beyond its width (at the front) are ignored,
/// so callers check the length first where that matters.
fn uint_from_be_truncating<const LIMBS: usize>(bytes: &[u8]) -> Uint<LIMBS> {
    let mut value = Uint::<LIMBS>::ZERO;
    for (chunk, word) in bytes.rchunks(WORD_BYTES).zip(value.as_mut_words()) {
        let mut word_be = [0u8; WORD_BYTES];
        for (dst, src) in word_be.iter_mut().rev().zip(chunk.iter().rev()) {
            *dst = *src;
        }
        *word = Word::from_be_bytes(word_be);
        word_be.zeroize();
    }
    value
}
