//! The MODP groups PKINIT finite-field DH may use (RFC 4556 §3.2.3.1): Oakley group 2
//! (RFC 2409 §6.2, 1024-bit) and groups 14 and 16 (RFC 3526 §3 and §5, 2048- and 4096-bit),
//! all with generator 2, recognised by value (p, g) only.

use std::sync::LazyLock;

use crypto_bigint::modular::{FixedMontyForm, FixedMontyParams};
use crypto_bigint::{EncodedUint, Odd, U1024, U2048, U4096, Uint};

/// RFC 2409 §6.2: p = 2^1024 - 2^960 - 1 + 2^64 * { [2^894 pi] + 129093 }.
const MODP2_PRIME_HEX: &str = concat!(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74",
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437",
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED",
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE65381FFFFFFFFFFFFFFFF",
);

/// RFC 3526 §3: p = 2^2048 - 2^1984 - 1 + 2^64 * { [2^1918 pi] + 124476 }.
const MODP14_PRIME_HEX: &str = concat!(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74",
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437",
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED",
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05",
    "98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB",
    "9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B",
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718",
    "3995497CEA956AE515D2261898FA051015728E5A8AACAA68FFFFFFFFFFFFFFFF",
);

/// RFC 3526 §5: p = 2^4096 - 2^4032 - 1 + 2^64 * { [2^3966 pi] + 240904 }.
const MODP16_PRIME_HEX: &str = concat!(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74",
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437",
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED",
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05",
    "98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB",
    "9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B",
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718",
    "3995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33",
    "A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7",
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864",
    "D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E2",
    "08E24FA074E5AB3143DB5BFCE0FD108E4B82D120A92108011A723C12A787E6D7",
    "88719A10BDBA5B2699C327186AF4E23C1A946834B6150BDA2583E9CA2AD44CE8",
    "DBBBC2DB04DE8EF92E8EFC141FBECAA6287C59474E6BC05D99B2964FA090C3A2",
    "233BA186515BE7ED1F612970CEE2D7AFB81BDD762170481CD0069127D5B05AA9",
    "93B4EA988D8FDDC186FFB7DC90A6C08F4DF435C934063199FFFFFFFFFFFFFFFF",
);

/// The generator g of all three groups, big-endian.
const GENERATOR: [u8; 1] = [0x02];

/// Bits per digit when a private exponent is cut into digits for a fixed-base
/// exponentiation of g (see [`Field::generator_powers`]).
pub(super) const EXPONENT_DIGIT_BITS: u32 = 64;

/// How many powers g^(2^(64 i)) each group keeps: enough digits for the longest private
/// exponent (320 bits).
pub(super) const GENERATOR_POWERS: usize = 5;

/// A safe prime p = 2q + 1 with its Montgomery parameters, computed once.
pub(super) struct Field<const LIMBS: usize> {
    pub(super) prime: Odd<Uint<LIMBS>>,
    pub(super) params: FixedMontyParams<LIMBS>,
    /// g^(2^(64 i)) mod p for i = 0, 1, ..., in Montgomery form. With them g^x is the
    /// product of these bases raised to the 64-bit digits of x, which a multi-exponentiation
    /// does with 64 squarings instead of one per bit of x.
    pub(super) generator_powers: [FixedMontyForm<LIMBS>; GENERATOR_POWERS],
    prime_be: EncodedUint<LIMBS>,
}

impl<const LIMBS: usize> Field<LIMBS> {
    fn from_hex(prime_hex: &str) -> Self {
        let prime = Odd::<Uint<LIMBS>>::from_be_hex(prime_hex);
        // The modulus and g are public, so the variable-time setup leaks nothing.
        let params = FixedMontyParams::new_vartime(prime);
        let [generator] = GENERATOR;
        let mut power = FixedMontyForm::new(&Uint::from_u8(generator), &params);
        let generator_powers = std::array::from_fn(|_| {
            let this_power = power;
            power = power.square_repeat_vartime(EXPONENT_DIGIT_BITS);
            this_power
        });
        Self {
            prime,
            params,
            generator_powers,
            prime_be: prime.as_ref().to_be_bytes(),
        }
    }

    fn subgroup_order(&self) -> Vec<u8> {
        // p is odd, so (p - 1) / 2 is p shifted right by one bit.
        let q_be = self.prime.as_ref().shr_vartime(1).to_be_bytes();
        strip_leading_zeros(q_be.as_slice()).to_vec()
    }

    /// p, big-endian, on prime_len() bytes.
    #[cfg(feature = "openssl")]
    pub(super) fn prime_be(&self) -> &[u8] {
        self.prime_be.as_slice()
    }

    /// Byte length of p, which is also the length of every ZZ in this group.
    pub(super) fn prime_len(&self) -> usize {
        self.prime_be.as_slice().len()
    }
}

pub(super) static MODP2: LazyLock<Field<{ U1024::LIMBS }>> =
    LazyLock::new(|| Field::from_hex(MODP2_PRIME_HEX));
pub(super) static MODP14: LazyLock<Field<{ U2048::LIMBS }>> =
    LazyLock::new(|| Field::from_hex(MODP14_PRIME_HEX));
pub(super) static MODP16: LazyLock<Field<{ U4096::LIMBS }>> =
    LazyLock::new(|| Field::from_hex(MODP16_PRIME_HEX));

/// A MODP group the KDC can do DH in. Whether a group is acceptable is the caller's policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ModpGroup {
    /// Oakley group 2 (RFC 2409 §6.2), 1024-bit: weak, for old clients only.
    Modp2,
    /// RFC 3526 group 14, 2048-bit: MIT kinit's default.
    Modp14,
    /// RFC 3526 group 16, 4096-bit.
    Modp16,
}

impl ModpGroup {
    /// Every supported group, smallest first.
    pub fn all() -> &'static [ModpGroup] {
        &[ModpGroup::Modp2, ModpGroup::Modp14, ModpGroup::Modp16]
    }

    /// Recognises a group from its DomainParameters p and g (big-endian unsigned; leading
    /// zero bytes, as in a DER INTEGER with its sign octet, are ignored). Any q or j the
    /// client sent is not looked at: the value of (p, g) fixes the group.
    pub fn from_params(p: &[u8], g: &[u8]) -> Option<ModpGroup> {
        if strip_leading_zeros(g) != GENERATOR.as_slice() {
            return None;
        }
        let p = strip_leading_zeros(p);
        Self::all()
            .iter()
            .copied()
            .find(|group| group.prime_bytes() == p)
    }

    /// Size of p in bits.
    pub fn bits(self) -> u32 {
        match self {
            ModpGroup::Modp2 => 1024,
            ModpGroup::Modp14 => 2048,
            ModpGroup::Modp16 => 4096,
        }
    }

    /// p, big-endian, without leading zeros (its top bit is set).
    pub fn prime_bytes(self) -> &'static [u8] {
        match self {
            ModpGroup::Modp2 => MODP2.prime_be.as_slice(),
            ModpGroup::Modp14 => MODP14.prime_be.as_slice(),
            ModpGroup::Modp16 => MODP16.prime_be.as_slice(),
        }
    }

    /// g, big-endian: 2 for every group here.
    pub fn generator(self) -> &'static [u8] {
        &GENERATOR
    }

    /// q = (p - 1) / 2, the order of the subgroup g generates, big-endian without leading
    /// zeros: X9.42 DomainParameters (e.g. in TD-DH-PARAMETERS) require it.
    pub fn subgroup_order(self) -> Vec<u8> {
        match self {
            ModpGroup::Modp2 => MODP2.subgroup_order(),
            ModpGroup::Modp14 => MODP14.subgroup_order(),
            ModpGroup::Modp16 => MODP16.subgroup_order(),
        }
    }
}

/// The bytes of a big-endian unsigned value without its leading zero bytes.
pub(super) fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let first = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    bytes.get(first..).unwrap_or_default()
}
