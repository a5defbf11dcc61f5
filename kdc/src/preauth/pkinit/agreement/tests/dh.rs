//! Tests for the MODP groups and the DH arithmetic (RFC 4556 §3.2.3.1, RFC 2631 §2.1.1).

use crypto_bigint::modular::{FixedMontyForm, FixedMontyParams};
use crypto_bigint::{Odd, Uint};

use crate::preauth::pkinit::agreement::groups::{Field, MODP2, MODP14, MODP16};
use crate::preauth::pkinit::agreement::{
    AgreementError, DhPrivateKey, ModpGroup, agree, generate, validate_public,
};

// A known answer in group 14 computed outside this crate with CPython's built-in
// pow(): KAT14_PEER_Y = pow(2, a, p) for a random a, KAT14_PUBLIC = pow(2, x, p),
// KAT14_ZZ = pow(KAT14_PEER_Y, x, p) written on 256 bytes.
const KAT14_X: &str = "b49a347fcedc9c929aa308a342cfc7afa9569270051fda241235689f5514a2e2";
const KAT14_PEER_Y: &str = concat!(
    "d5206b81a4bf900cf9d6fa8086ff6e8d3896c955f5aee83f861123b057dd4312",
    "4aa7bb4efec6ea9dfcde3f8cdaff8b600ef18c7a19132cfb2e2f8b0e18bade82",
    "254dff6c5adfd7f04f4c277b7bfee1804805a077532f85036fbf506472c77eb0",
    "4737d40e7dce80be10afb32d48eb5b54b327fca43c5dcf0e6f159e309a20a814",
    "ae39976f3c3b202c3a660173013efd19b45b720c89911643492898d04274355c",
    "6cb36eb95be4299c1f2d37f193bb4ad3087e01fa837bf96a8089dc8bbeab2fd4",
    "7e4e323356d1a9e2a3593c139ce36991fda8a5c9928fe6c843a29cf4c57b0f59",
    "c16bebc44cc3c502cd0cda74eed2baa4954b3e929373fd18332dcc3e83c5b923",
);
const KAT14_PUBLIC: &str = concat!(
    "d72e163aa6855c925155bd904ba47f43642cfc3b4890d9d1dd8bd88fb2229d99",
    "4d8deefb79722b8d71adafed90d65e6fe60e49e6c5da02835b05b794a27b2d2f",
    "a7f6173bb5ba5560ab13f39459871f2454ea865454aa9ba8798c9003dc5194a6",
    "eb71b2f547f6a58854b43379df38a65b046a8ac8ac1470458dc1ecff3f68e7e5",
    "47b6f80e321dff1c50b3398cf2d8052f4c15f25e4668dd1611a031ada9a7fd67",
    "17e87257ba3245b8c026a5ff4c638f3152f655091f0ff09c51ac1a8780cc635c",
    "f5453fccd1bb07cb14c4aa0db31065ae06903fcafaaa6f19caff8f075e2ebf09",
    "eeeeb8120c468298935d78e4b1e2c8f965fedc79e201433d2e743503712666a8",
);
const KAT14_ZZ: &str = concat!(
    "7a8e77e7aeb0704d0edea46b4332b9c8402bdca517513e16b8ebb87203dc6482",
    "da5085221da76f5a346b8ac11227235f7bc01bb7c0313b866c51b41037ab60aa",
    "7b7513bbbb7ff002b6c3c6cac8770a6772dfad8c2799c8e32128c360316a764d",
    "bdbf1de5fc9525bb2f782f5b60adbd50fb0e225bccfb650a40371b4bbdc4d581",
    "dfd588beb991e47eefc8f649f7e5602b7aa3c5452725f136754046849ac11e6a",
    "94c23457fb85da7e1ac08e1e8a6c94b090d207e2420e4b22301ce838b32eb989",
    "3f879732b10f9ed5c791d417a558a306a18ad27bd89e52de4e04049f3f460430",
    "c1a7c30eae7959995b24e13a008cf430eef24b301d1346b2d8880216db2a8cda",
);

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

/// p - k as big-endian bytes of p's length.
fn prime_minus(group: ModpGroup, k: u8) -> Vec<u8> {
    let mut value = group.prime_bytes().to_vec();
    let last = value.last_mut().unwrap();
    *last -= k; // p ends in 0xFF..., so no borrow for small k
    value
}

fn pow_mod<const L: usize>(field: &Field<L>, base: &Uint<L>, exponent: &Uint<L>) -> Uint<L> {
    FixedMontyForm::new(base, &field.params)
        .pow(exponent)
        .retrieve()
}

/// The structure RFC 2409/3526 give p (64 ones at both ends, top bit set), p = 7 mod 8 so
/// that 2 is a quadratic residue and generates the order-q subgroup, and Fermat tests of p
/// and q: a mistyped digit would fail them.
fn check_safe_prime<const L: usize>(group: ModpGroup, field: &Field<L>) {
    let p_bytes = group.prime_bytes();
    assert_eq!(p_bytes.len() * 8, usize::try_from(group.bits()).unwrap());
    assert!(
        p_bytes[..8]
            .iter()
            .chain(&p_bytes[p_bytes.len() - 8..])
            .all(|b| *b == 0xFF)
    );
    let p = *field.prime.as_ref();
    assert_eq!(p.as_words()[0] & 7, 7);

    let q = p.shr_vartime(1);
    assert_eq!(group.subgroup_order(), q.to_be_bytes().as_slice());
    let one = Uint::<L>::ONE;
    let p_minus_1 = p.wrapping_sub(&one);
    assert_eq!(pow_mod(field, &Uint::from_u8(3), &p_minus_1), one);
    assert_eq!(
        pow_mod(field, &Uint::from_u8(2), &q),
        one,
        "2 is not in the q-subgroup"
    );

    let q_field = FixedMontyParams::new_vartime(Odd::new(q).into_option().unwrap());
    let q_minus_1 = q.wrapping_sub(&one);
    let fermat_q = FixedMontyForm::new(&Uint::from_u8(3), &q_field).pow(&q_minus_1);
    assert_eq!(fermat_q.retrieve(), one, "q is not prime");
}

#[test]
fn group_constants_are_safe_primes_of_the_rfc_form() {
    check_safe_prime(ModpGroup::Modp2, &MODP2);
    check_safe_prime(ModpGroup::Modp14, &MODP14);
    check_safe_prime(ModpGroup::Modp16, &MODP16);
}

#[test]
fn groups_are_recognised_by_value() {
    for group in ModpGroup::all() {
        let p = group.prime_bytes();
        assert_eq!(ModpGroup::from_params(p, &[2]), Some(*group));
        // A DER INTEGER carries a 0x00 sign octet before p's set top bit.
        let signed_p = [&[0u8][..], p].concat();
        assert_eq!(ModpGroup::from_params(&signed_p, &[0, 2]), Some(*group));
        assert_eq!(group.generator(), &[2]);
        assert_eq!(ModpGroup::from_params(p, &[5]), None);
        assert_eq!(ModpGroup::from_params(&prime_minus(*group, 2), &[2]), None);
    }
    assert_eq!(ModpGroup::from_params(&[], &[2]), None);
}

#[test]
fn generated_keys_agree_in_every_group() {
    for group in ModpGroup::all() {
        let (kdc, kdc_public) = generate(*group).unwrap();
        let (client, client_public) = generate(*group).unwrap();
        assert_eq!(kdc.group(), *group);
        assert!(kdc_public.len() <= group.prime_bytes().len());
        assert_ne!(kdc_public.first(), Some(&0), "public value must be minimal");
        validate_public(*group, &kdc_public).unwrap();

        let zz_kdc = agree(&kdc, &client_public).unwrap();
        let zz_client = agree(&client, &kdc_public).unwrap();
        assert_eq!(zz_kdc.as_slice(), zz_client.as_slice());
        assert_eq!(zz_kdc.len(), group.prime_bytes().len());
        assert_ne!(kdc_public, client_public);
    }
}

#[test]
fn private_key_debug_hides_the_exponent() {
    let key = DhPrivateKey::from_exponent(ModpGroup::Modp2, &[0xAB; 32]).unwrap();
    assert_eq!(format!("{key:?}"), "DhPrivateKey { group: Modp2, .. }");
}

#[test]
fn known_answer_group14() {
    let key = DhPrivateKey::from_exponent(ModpGroup::Modp14, &unhex(KAT14_X)).unwrap();
    assert_eq!(key.public_value(), unhex(KAT14_PUBLIC));
    let zz = agree(&key, &unhex(KAT14_PEER_Y)).unwrap();
    assert_eq!(zz.as_slice(), unhex(KAT14_ZZ).as_slice());
}

#[test]
fn shared_secret_keeps_leading_zeros() {
    // x = 1 makes ZZ = y, so a small y shows the left padding to p's length.
    for group in ModpGroup::all() {
        let key = DhPrivateKey::from_exponent(*group, &[1]).unwrap();
        let zz = agree(&key, &[4]).unwrap();
        let mut expected = vec![0u8; group.prime_bytes().len()];
        *expected.last_mut().unwrap() = 4;
        assert_eq!(zz.as_slice(), expected.as_slice());
    }
}

#[test]
fn peer_values_out_of_range_are_refused() {
    for group in ModpGroup::all() {
        let p = group.prime_bytes();
        let too_long = [&[1u8][..], p].concat();
        let refused: [&[u8]; 6] = [&[], &[0], &[1], &prime_minus(*group, 1), p, &too_long];
        for y in refused {
            assert_eq!(
                validate_public(*group, y),
                Err(AgreementError::InvalidPublicValue)
            );
            let key = DhPrivateKey::from_exponent(*group, &[6]).unwrap();
            assert_eq!(
                agree(&key, y).map(|_| ()),
                Err(AgreementError::InvalidPublicValue)
            );
        }
        // The ends of the range; a 0x00 sign octet in front is fine.
        validate_public(*group, &[2]).unwrap();
        validate_public(*group, &[0, 0, 4]).unwrap();
        validate_public(*group, &prime_minus(*group, 2)).unwrap();
    }
}

#[test]
fn generated_exponents_clear_the_cofactor() {
    // p = 7 mod 8 makes -2 = p - 2 a non-residue, of order 2q. (-2)^x = 2^x exactly when x
    // is even, so a key whose exponent kept its low bit tells the two apart; 16 keys miss an
    // odd exponent with probability 2^-16.
    for group in ModpGroup::all() {
        for _ in 0..16 {
            let (key, _) = generate(*group).unwrap();
            assert_eq!(
                agree(&key, &prime_minus(*group, 2)).unwrap().as_slice(),
                agree(&key, &[2]).unwrap().as_slice()
            );
        }
    }
}

fn shared_secrets_land_in_the_subgroup<const L: usize>(
    group: ModpGroup,
    field: &Field<L>,
    samples: usize,
) {
    let q = field.prime.as_ref().shr_vartime(1);
    let (mut residues, mut non_residues) = (0, 0);
    for _ in 0..samples {
        let mut y = vec![0u8; group.prime_bytes().len()];
        aws_lc_rs::rand::fill(&mut y).unwrap();
        y[0] &= 0x7F; // below p, whose top 64 bits are set
        let y_uint = Uint::<L>::from_be_slice(&y);
        if pow_mod(field, &y_uint, &q) == Uint::ONE {
            residues += 1
        } else {
            non_residues += 1
        }
        let (key, _) = generate(group).unwrap();
        let zz = Uint::<L>::from_be_slice(&agree(&key, &y).unwrap());
        assert_eq!(
            pow_mod(field, &zz, &q),
            Uint::ONE,
            "y = {}",
            hex::encode(&y)
        );
        assert_ne!(zz, Uint::ONE);
    }
    assert!(
        residues > 0 && non_residues > 0,
        "{residues} residues, {non_residues} not"
    );
}

#[test]
fn shared_secrets_are_in_the_prime_order_subgroup_whatever_the_peer_sends() {
    shared_secrets_land_in_the_subgroup(ModpGroup::Modp2, &MODP2, 48);
    shared_secrets_land_in_the_subgroup(ModpGroup::Modp14, &MODP14, 24);
    shared_secrets_land_in_the_subgroup(ModpGroup::Modp16, &MODP16, 12);
}

/// g^x the plain way (crypto-bigint's single exponentiation over every bit of a
/// full-width exponent), to check the fixed-base multi-exponentiation against.
fn plain_public<const L: usize>(field: &Field<L>, exponent_be: &[u8]) -> Vec<u8> {
    let mut padded = vec![0u8; L * crypto_bigint::Limb::BYTES];
    let start = padded.len() - exponent_be.len();
    padded[start..].copy_from_slice(exponent_be);
    let y = pow_mod(field, &Uint::from_u8(2), &Uint::<L>::from_be_slice(&padded));
    let y_be = y.to_be_bytes();
    let first = y_be.as_slice().iter().position(|b| *b != 0).unwrap();
    y_be.as_slice()[first..].to_vec()
}

fn fixed_base_matches_plain_exponentiation<const L: usize>(
    group: ModpGroup,
    field: &Field<L>,
    exponent_bytes: usize,
) {
    // g^(2^(64 i)), the precomputed bases, from an exponent with only bit 64 i set.
    for (i, base) in field.generator_powers.iter().enumerate() {
        let mut exponent = vec![0u8; 40];
        exponent[39 - 8 * i] = 1;
        let expected = plain_public(field, &exponent);
        let base_be = base.retrieve().to_be_bytes();
        let first = base_be.as_slice().iter().position(|b| *b != 0).unwrap();
        assert_eq!(
            &base_be.as_slice()[first..],
            expected.as_slice(),
            "g^(2^(64*{i}))"
        );
    }
    // Every digit all ones or all zeros (digit boundaries, the top digit included), then
    // random exponents of the group's full length.
    let mut exponents = vec![vec![0xFF; exponent_bytes], vec![0x01; 1]];
    let mut alternating = vec![0u8; exponent_bytes];
    for (i, byte) in alternating.iter_mut().enumerate() {
        *byte = if (i / 8) % 2 == 0 { 0xFF } else { 0x00 };
    }
    exponents.push(alternating);
    for _ in 0..4 {
        let mut x = vec![0u8; exponent_bytes];
        aws_lc_rs::rand::fill(&mut x).unwrap();
        exponents.push(x);
    }
    for x in exponents {
        let key = DhPrivateKey::from_exponent(group, &x).unwrap();
        assert_eq!(
            key.public_value(),
            plain_public(field, &x),
            "x = {}",
            hex::encode(&x)
        );
    }
}

#[test]
fn fixed_base_generation_matches_plain_exponentiation() {
    // 32 bytes = the 256-bit exponents of groups 2 and 14, 40 bytes = 320 bits for group 16.
    fixed_base_matches_plain_exponentiation(ModpGroup::Modp2, &MODP2, 32);
    fixed_base_matches_plain_exponentiation(ModpGroup::Modp14, &MODP14, 32);
    fixed_base_matches_plain_exponentiation(ModpGroup::Modp16, &MODP16, 40);
}

#[cfg(feature = "openssl")]
fn openssl_matches_crypto_bigint<const L: usize>(group: ModpGroup, field: &Field<L>) {
    let p_minus_2 = prime_minus(group, 2);
    for i in 0..8 {
        let (key, _) = generate(group).unwrap();
        let (_, mut y) = generate(group).unwrap();
        if i == 0 {
            y = p_minus_2.clone();
        }
        let y_uint =
            Uint::<L>::from_be_slice(&[vec![0; field.prime_len() - y.len()], y.clone()].concat());
        assert_eq!(
            agree(&key, &y).unwrap().as_slice(),
            crate::preauth::pkinit::agreement::dh::power_padded(field, &y_uint, &key).as_slice()
        );
    }
}

#[cfg(feature = "openssl")]
#[test]
fn openssl_shared_secret_matches_crypto_bigint() {
    openssl_matches_crypto_bigint(ModpGroup::Modp2, &MODP2);
    openssl_matches_crypto_bigint(ModpGroup::Modp14, &MODP14);
    openssl_matches_crypto_bigint(ModpGroup::Modp16, &MODP16);
}
