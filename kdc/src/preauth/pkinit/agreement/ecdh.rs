//! Elliptic-curve Diffie-Hellman for PKINIT (RFC 5349 §4): the NIST curves P-256, P-384 and
//! P-521 named in the client's SubjectPublicKeyInfo, public values as uncompressed points, and
//! the shared secret as the x-coordinate of the shared point (RFC 5349 §4, SEC 1 §3.3.1).
//! aws-lc-rs does the arithmetic in constant time and refuses a peer point that is not on the
//! curve (or is the point at infinity).

use aws_lc_rs::agreement::{self, ECDH_P256, ECDH_P384, ECDH_P521, PrivateKey, UnparsedPublicKey};
use zeroize::Zeroizing;

use super::AgreementError;
use crate::proto::codes::oid;

/// A curve PKINIT may agree keys on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EcCurve {
    P256,
    P384,
    P521,
}

impl EcCurve {
    pub const ALL: [EcCurve; 3] = [EcCurve::P256, EcCurve::P384, EcCurve::P521];

    /// The namedCurve OID (RFC 5480 §2.1.1.1).
    pub fn oid(self) -> &'static [u32] {
        match self {
            EcCurve::P256 => oid::SECP256R1,
            EcCurve::P384 => oid::SECP384R1,
            EcCurve::P521 => oid::SECP521R1,
        }
    }

    pub fn from_oid(arcs: &[u32]) -> Option<EcCurve> {
        Self::ALL.into_iter().find(|c| c.oid() == arcs)
    }

    /// The name MIT's `pkinit_dh_min_bits` and this KDC's `min_dh_bits` use.
    pub fn name(self) -> &'static str {
        match self {
            EcCurve::P256 => "P-256",
            EcCurve::P384 => "P-384",
            EcCurve::P521 => "P-521",
        }
    }

    fn algorithm(self) -> &'static agreement::Algorithm {
        match self {
            EcCurve::P256 => &ECDH_P256,
            EcCurve::P384 => &ECDH_P384,
            EcCurve::P521 => &ECDH_P521,
        }
    }
}

/// A private key on a curve, usable for several agreements (DH key reuse, RFC 4556
/// §3.2.3.1); aws-lc-rs wipes it when dropped.
pub struct EcPrivateKey {
    curve: EcCurve,
    key: PrivateKey,
}

impl std::fmt::Debug for EcPrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EcPrivateKey")
            .field("curve", &self.curve)
            .finish_non_exhaustive()
    }
}

/// A new key pair on `curve`, and its public value as an uncompressed point.
pub fn generate(curve: EcCurve) -> Result<(EcPrivateKey, Vec<u8>), AgreementError> {
    let key = PrivateKey::generate(curve.algorithm()).map_err(|_| AgreementError::Random)?;
    let public = key
        .compute_public_key()
        .map_err(|_| AgreementError::Arithmetic)?
        .as_ref()
        .to_vec();
    Ok((EcPrivateKey { curve, key }, public))
}

impl EcPrivateKey {
    pub fn curve(&self) -> EcCurve {
        self.curve
    }

    /// The x-coordinate of the shared point with the peer's public point (uncompressed, or
    /// compressed where aws-lc-rs reads it); a point off the curve is refused.
    pub fn agree(&self, peer_point: &[u8]) -> Result<Zeroizing<Vec<u8>>, AgreementError> {
        let peer = UnparsedPublicKey::new(self.curve.algorithm(), peer_point);
        agreement::agree(&self.key, peer, AgreementError::InvalidPublicValue, |x| {
            Ok(Zeroizing::new(x.to_vec()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_sides_agree_on_every_curve() {
        for curve in EcCurve::ALL {
            let (kdc, kdc_public) = generate(curve).unwrap();
            let (client, client_public) = generate(curve).unwrap();
            let one = kdc.agree(&client_public).unwrap();
            let other = client.agree(&kdc_public).unwrap();
            assert_eq!(*one, *other, "{curve:?}");
            // The x-coordinate is as long as the field: 32, 48, 66 bytes.
            assert_eq!(
                one.len(),
                [32, 48, 66][EcCurve::ALL.iter().position(|c| *c == curve).unwrap()]
            );
            // Uncompressed points: 04 || X || Y.
            assert_eq!(kdc_public.first(), Some(&0x04));
            assert_eq!(kdc_public.len(), 1 + 2 * one.len());
        }
    }

    #[test]
    fn points_off_the_curve_or_of_another_curve_are_refused() {
        let (kdc, _) = generate(EcCurve::P256).unwrap();
        let (_, p384_public) = generate(EcCurve::P384).unwrap();
        assert_eq!(
            kdc.agree(&p384_public),
            Err(AgreementError::InvalidPublicValue)
        );
        let (_, mut public) = generate(EcCurve::P256).unwrap();
        if let Some(last) = public.last_mut() {
            *last ^= 1;
        }
        assert_eq!(kdc.agree(&public), Err(AgreementError::InvalidPublicValue));
        assert_eq!(kdc.agree(&[0x00]), Err(AgreementError::InvalidPublicValue));
        assert_eq!(kdc.agree(&[]), Err(AgreementError::InvalidPublicValue));
    }

    #[test]
    fn curves_are_known_by_their_oids() {
        for curve in EcCurve::ALL {
            assert_eq!(EcCurve::from_oid(curve.oid()), Some(curve));
        }
        assert_eq!(EcCurve::from_oid(&[1, 3, 132, 0, 10]), None, "secp256k1");
    }
}
