//! Which key agreement a PKINIT exchange uses, finite-field (RFC 4556 §3.2.3.1) or
//! elliptic-curve (RFC 5349), and its key pair: one type for both, so the exchange, the DH key
//! reuse and the client need not know which.

use kdc_config::DhStrength;
use zeroize::Zeroizing;

use super::ecdh::{self, EcCurve, EcPrivateKey};
use super::{AgreementError, DhPrivateKey, ModpGroup};
use crate::proto::der::{self, Tlv, tag};

/// A group or curve.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DhGroup {
    Modp(ModpGroup),
    Ec(EcCurve),
}

impl DhGroup {
    /// Every group and curve, weakest first (MIT's `pkinit_dh_min_bits` order).
    pub const ALL: [DhGroup; 6] = [
        DhGroup::Modp(ModpGroup::Modp2),
        DhGroup::Modp(ModpGroup::Modp14),
        DhGroup::Ec(EcCurve::P256),
        DhGroup::Modp(ModpGroup::Modp16),
        DhGroup::Ec(EcCurve::P384),
        DhGroup::Ec(EcCurve::P521),
    ];

    pub fn strength(self) -> DhStrength {
        match self {
            DhGroup::Modp(ModpGroup::Modp2) => DhStrength::Modp1024,
            DhGroup::Modp(ModpGroup::Modp14) => DhStrength::Modp2048,
            DhGroup::Modp(ModpGroup::Modp16) => DhStrength::Modp4096,
            DhGroup::Ec(EcCurve::P256) => DhStrength::P256,
            DhGroup::Ec(EcCurve::P384) => DhStrength::P384,
            DhGroup::Ec(EcCurve::P521) => DhStrength::P521,
        }
    }

    /// The groups of at least `minimum`, weakest first.
    pub fn accepted(minimum: DhStrength) -> impl Iterator<Item = DhGroup> {
        Self::ALL
            .into_iter()
            .filter(move |g| g.strength() >= minimum)
    }

    /// The name logs, metrics and MIT's configuration use: `MODP-2048`, `P-256`.
    pub fn name(self) -> &'static str {
        match self {
            DhGroup::Modp(ModpGroup::Modp2) => "MODP-1024",
            DhGroup::Modp(ModpGroup::Modp14) => "MODP-2048",
            DhGroup::Modp(ModpGroup::Modp16) => "MODP-4096",
            DhGroup::Ec(curve) => curve.name(),
        }
    }

    /// A public value as a SubjectPublicKeyInfo's or KDCDHKeyInfo's BIT STRING carries it: a
    /// DER INTEGER for MODP (RFC 3279 §2.3.3), the point itself for ECDH (RFC 5480 §2.2).
    pub fn public_value_bits(self, public: &[u8]) -> Vec<u8> {
        match self {
            DhGroup::Modp(_) => der::encode_unsigned_integer(public),
            DhGroup::Ec(_) => public.to_vec(),
        }
    }

    /// The public value in such a BIT STRING: the INTEGER's magnitude (read leniently, see
    /// dh_params.rs), or the point.
    pub fn public_value_of_bits(self, bits: &[u8]) -> Result<Vec<u8>, AgreementError> {
        match self {
            DhGroup::Modp(_) => Tlv::read_only(bits, tag::INTEGER)
                .map(|y| der::unsigned_integer_bytes(y.value).to_vec())
                .map_err(|_| AgreementError::InvalidPublicValue),
            DhGroup::Ec(_) => Ok(bits.to_vec()),
        }
    }
}

/// One side's private key of an agreement.
#[derive(Debug)]
pub enum DhKey {
    Modp(DhPrivateKey),
    Ec(EcPrivateKey),
}

/// A new key pair in `group` and its public value (MODP: y big-endian; ECDH: the point).
pub fn generate_key(group: DhGroup) -> Result<(DhKey, Vec<u8>), AgreementError> {
    match group {
        DhGroup::Modp(modp) => super::generate(modp).map(|(key, y)| (DhKey::Modp(key), y)),
        DhGroup::Ec(curve) => ecdh::generate(curve).map(|(key, point)| (DhKey::Ec(key), point)),
    }
}

impl DhKey {
    pub fn group(&self) -> DhGroup {
        match self {
            DhKey::Modp(key) => DhGroup::Modp(key.group()),
            DhKey::Ec(key) => DhGroup::Ec(key.curve()),
        }
    }

    /// The shared secret with the peer's public value: ZZ padded to p's length (RFC 2631
    /// §2.1.1), or the shared point's x-coordinate (RFC 5349 §4). Unsafe peer values refused.
    pub fn agree(&self, peer: &[u8]) -> Result<Zeroizing<Vec<u8>>, AgreementError> {
        match self {
            DhKey::Modp(key) => super::agree(key, peer),
            DhKey::Ec(key) => key.agree(peer),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_are_ordered_as_mits_pkinit_dh_min_bits() {
        let strengths: Vec<DhStrength> = DhGroup::ALL.iter().map(|g| g.strength()).collect();
        let mut sorted = strengths.clone();
        sorted.sort();
        assert_eq!(strengths, sorted);
        let names: Vec<&str> = DhGroup::accepted(DhStrength::P256)
            .map(DhGroup::name)
            .collect();
        assert_eq!(names, ["P-256", "MODP-4096", "P-384", "P-521"]);
    }

    #[test]
    fn every_group_agrees_through_the_common_type() {
        for group in DhGroup::ALL {
            let (one, one_public) = generate_key(group).unwrap();
            let (other, other_public) = generate_key(group).unwrap();
            assert_eq!(one.group(), group);
            let bits = group.public_value_bits(&other_public);
            let read = group.public_value_of_bits(&bits).unwrap();
            assert_eq!(
                *one.agree(&read).unwrap(),
                *other.agree(&one_public).unwrap(),
                "{group:?}"
            );
        }
    }
}
