//! Which DH key the KDC answers one offer with (RFC 4556 §3.2.3.1) and the shared secret ZZ:
//! a fresh key for clients without clientDHNonce, the reused key of the group for those with
//! one, and, for clients that may derive their key from a truncated ZZ (Heimdal), a fresh key
//! whose ZZ has no leading zero byte.
//!
//! Heimdal (7.8, and its kdc/pkinit.c and lib/krb5/pkinit.c as of 2026) pads ZZ to the
//! length of p, then hands octetstring2key the padded buffer with the *unpadded* length: when
//! ZZ starts with a zero byte it hashes a prefix of the padded value, not ZZ, and one logon
//! in 256 fails with "Password incorrect". Heimdal's own KDC makes the same cut, so only
//! other KDCs see it. The two readings agree whenever ZZ's first byte is not zero, and the
//! KDC chooses its key: for such clients it draws fresh keys until that holds. Never with the
//! reused key: whether *its* ZZ starts with zero would tell a client a bit about a secret
//! that other exchanges share (the Raccoon attack on TLS-DH, CVE-2020-1968). Discarded
//! fresh keys tell nothing about any key in use.

use std::sync::Arc;
use std::time::SystemTime;

use zeroize::Zeroizing;

use super::agreement::{AgreementError, PkinitKdf, ReusableKey, ReusedKeys, generate_key};
use super::dh_params::ClientDhValue;
use super::{DhKeyUse, SERVER_DH_NONCE_LEN, random_bytes};
use crate::error::KdcError;

/// Fresh keys drawn at most for one exchange: each has ZZ's first byte zero with probability
/// 1/256, so 16 draws all failing is 2^-128.
const MAX_DRAWS: usize = 16;

/// The KDC's side of one key agreement.
pub struct ChosenKey {
    pub key: Arc<ReusableKey>,
    pub key_use: DhKeyUse,
    /// serverDHNonce, sent (with dhKeyExpiration) exactly when the client sent clientDHNonce.
    pub server_dh_nonce: Option<Vec<u8>>,
    /// ZZ, padded to p's length (RFC 2631 §2.1.1) or the curve's field length.
    pub shared: Zeroizing<Vec<u8>>,
}

/// Whether the client derives its key as Heimdal does: octetstring2key (no RFC 8636 KDF
/// agreed), with a clientDHNonce and a non-zero q in its MODP domain parameters. Heimdal
/// always sends both; the tools that follow Windows domain controllers send q = 0, and MIT
/// sends no clientDHNonce. A client matched wrongly only loses key reuse.
pub fn may_truncate_zz(kdf: Option<PkinitKdf>, client_dh_nonce: bool, dh: &ClientDhValue) -> bool {
    kdf.is_none() && client_dh_nonce && dh.sends_subgroup_order
}

pub fn choose(
    keys: &ReusedKeys,
    client: &ClientDhValue,
    client_dh_nonce: bool,
    truncates_zz: bool,
    now: SystemTime,
) -> Result<ChosenKey, KdcError> {
    let generation = |e: AgreementError| KdcError::Internal(format!("DH key generation: {e}"));
    if truncates_zz {
        for _ in 0..MAX_DRAWS {
            let key = Arc::new(ephemeral(client, now).map_err(generation)?);
            let shared = agree(&key, client)?;
            if shared.first().is_some_and(|&byte| byte != 0) {
                return Ok(ChosenKey {
                    key,
                    key_use: DhKeyUse::NoLeadingZero,
                    server_dh_nonce: Some(random_bytes(SERVER_DH_NONCE_LEN)?),
                    shared,
                });
            }
        }
        return Err(KdcError::Internal(format!(
            "{MAX_DRAWS} fresh DH keys all gave a shared secret with a leading zero byte"
        )));
    }
    // RFC 4556 §3.2.3.1: a key is reused only for clients that sent clientDHNonce, and
    // then serverDHNonce and dhKeyExpiration go together.
    let (key, key_use, server_dh_nonce) = if client_dh_nonce {
        let (key, made) = keys.key(client.group, now).map_err(generation)?;
        let key_use = if made {
            DhKeyUse::ReusableNew
        } else {
            DhKeyUse::Reused
        };
        (key, key_use, Some(random_bytes(SERVER_DH_NONCE_LEN)?))
    } else {
        let key = Arc::new(ephemeral(client, now).map_err(generation)?);
        (key, DhKeyUse::Ephemeral, None)
    };
    let shared = agree(&key, client)?;
    Ok(ChosenKey {
        key,
        key_use,
        server_dh_nonce,
        shared,
    })
}

/// A key for this exchange alone. Its expiration, announced only to clients that sent
/// clientDHNonce, is now: it is never used again.
fn ephemeral(client: &ClientDhValue, now: SystemTime) -> Result<ReusableKey, AgreementError> {
    let (private, public) = generate_key(client.group)?;
    Ok(ReusableKey {
        private,
        public,
        expires: now,
    })
}

fn agree(key: &ReusableKey, client: &ClientDhValue) -> Result<Zeroizing<Vec<u8>>, KdcError> {
    key.private.agree(&client.y).map_err(|e| match e {
        AgreementError::InvalidPublicValue => {
            KdcError::PreauthFailed(format!("client DH value refused: {e}"))
        }
        other => KdcError::Internal(format!("DH shared secret: {other}")),
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::preauth::pkinit::agreement::{DhGroup, DhKey, EcCurve, ModpGroup};

    const MODP2: DhGroup = DhGroup::Modp(ModpGroup::Modp2);

    fn offer(group: DhGroup, sends_subgroup_order: bool) -> (DhKey, ClientDhValue) {
        let (private, y) = generate_key(group).unwrap();
        let offer = ClientDhValue {
            group,
            y,
            negative_integers: Vec::new(),
            sends_subgroup_order,
        };
        (private, offer)
    }

    #[test]
    fn only_heimdal_shaped_offers_may_truncate() {
        let (_, heimdal) = offer(MODP2, true);
        let (_, q_zero) = offer(MODP2, false);
        let (_, ec) = offer(DhGroup::Ec(EcCurve::P256), false);
        assert!(may_truncate_zz(None, true, &heimdal));
        // MIT: a KDF and no clientDHNonce; a KDF alone already pads ZZ.
        assert!(!may_truncate_zz(Some(PkinitKdf::Sha256), false, &heimdal));
        assert!(!may_truncate_zz(Some(PkinitKdf::Sha1), true, &heimdal));
        // Without clientDHNonce, q = 0 (tools that follow Windows DCs), or a curve.
        assert!(!may_truncate_zz(None, false, &heimdal));
        assert!(!may_truncate_zz(None, true, &q_zero));
        assert!(!may_truncate_zz(None, true, &ec));
    }

    /// One ZZ in 256 starts with a zero byte: over 3000 exchanges, keys taken without a
    /// second draw would give about 12 such secrets (none at all with probability 1e-5).
    #[test]
    fn a_client_that_may_truncate_never_gets_a_leading_zero_and_agrees() {
        let keys = ReusedKeys::new(Duration::from_secs(60));
        let now = SystemTime::now();
        let (client_key, client) = offer(MODP2, true);
        let mut kdc_keys = std::collections::HashSet::new();
        for _ in 0..3000 {
            let chosen = choose(&keys, &client, true, true, now).unwrap();
            assert_eq!(chosen.key_use, DhKeyUse::NoLeadingZero);
            assert_ne!(chosen.shared[0], 0);
            assert_eq!(chosen.shared.len(), 128, "ZZ is as long as p");
            assert_eq!(chosen.server_dh_nonce.as_ref().map(Vec::len), Some(32));
            assert_eq!(
                *client_key.agree(&chosen.key.public).unwrap(),
                *chosen.shared
            );
            kdc_keys.insert(chosen.key.public.clone());
        }
        assert_eq!(kdc_keys.len(), 3000, "every exchange has its own key");
    }

    #[test]
    fn other_clients_keep_reuse_and_fresh_keys() {
        let keys = ReusedKeys::new(Duration::from_secs(60));
        let now = SystemTime::now();
        let (_, client) = offer(MODP2, true);
        let first = choose(&keys, &client, true, false, now).unwrap();
        let second = choose(&keys, &client, true, false, now).unwrap();
        assert_eq!(first.key_use, DhKeyUse::ReusableNew);
        assert_eq!(second.key_use, DhKeyUse::Reused);
        assert_eq!(first.key.public, second.key.public);
        assert_ne!(first.server_dh_nonce, second.server_dh_nonce);
        let plain = choose(&keys, &client, false, false, now).unwrap();
        assert_eq!(plain.key_use, DhKeyUse::Ephemeral);
        assert_eq!(plain.server_dh_nonce, None);
        assert_ne!(plain.key.public, first.key.public);
    }
}
