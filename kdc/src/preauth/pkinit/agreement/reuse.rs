//! The KDC's DH key pairs reused across requests, one per group or curve, as RFC 4556 §3.2.3.1
//! allows when the client sent a clientDHNonce: the reply then carries serverDHNonce and the
//! key's dhKeyExpiration, and the nonces keep every reply key distinct. A key is never used
//! at or after the expiration it was announced with.
//!
//! Reuse is safe with these groups: the MODP groups are safe primes and the exponents even
//! (dh.rs), so a hostile client value learns nothing about x whichever subgroup it lies in,
//! and the curves have prime order with every peer point checked to be on the curve
//! (ecdh.rs), however often either is sent.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::{AgreementError, DhGroup, DhKey, generate_key};

/// A key pair with the time after which it is not used (whole seconds, as dhKeyExpiration
/// carries it).
pub struct ReusableKey {
    pub private: DhKey,
    /// g^x big-endian without leading zeros, or the curve point.
    pub public: Vec<u8>,
    pub expires: SystemTime,
}

/// One slot per group, each holding the key in use.
pub struct ReusedKeys {
    lifetime: Duration,
    slots: Mutex<Vec<(DhGroup, Arc<ReusableKey>)>>,
}

impl ReusedKeys {
    /// Keys live `lifetime`; zero makes a new key for every call.
    pub fn new(lifetime: Duration) -> Self {
        Self {
            lifetime,
            slots: Mutex::new(Vec::new()),
        }
    }

    /// The key for `group` at `now`, and whether it was made by this call. The key is made
    /// outside the lock: two requests racing on an expired slot may each make one, and the
    /// later stays.
    pub fn key(
        &self,
        group: DhGroup,
        now: SystemTime,
    ) -> Result<(Arc<ReusableKey>, bool), AgreementError> {
        if let Some(key) = self.current(group, now) {
            return Ok((key, false));
        }
        let (private, public) = generate_key(group)?;
        let key = Arc::new(ReusableKey {
            private,
            public,
            expires: whole_seconds(now + self.lifetime),
        });
        if !self.lifetime.is_zero()
            && let Ok(mut slots) = self.slots.lock()
        {
            slots.retain(|(g, _)| *g != group);
            slots.push((group, Arc::clone(&key)));
        }
        Ok((key, true))
    }

    /// The stored key if it is still usable at `now`: before its expiration, and not from
    /// a clock that has since gone back by more than a lifetime.
    fn current(&self, group: DhGroup, now: SystemTime) -> Option<Arc<ReusableKey>> {
        let slots = self.slots.lock().ok()?;
        let (_, key) = slots.iter().find(|(g, _)| *g == group)?;
        let left = key.expires.duration_since(now).ok()?;
        (!left.is_zero() && left <= self.lifetime).then(|| Arc::clone(key))
    }
}

/// `at` truncated to the second, so the announced dhKeyExpiration is never later than the
/// key's real end of use.
fn whole_seconds(at: SystemTime) -> SystemTime {
    match at.duration_since(UNIX_EPOCH) {
        Ok(since) => UNIX_EPOCH + Duration::from_secs(since.as_secs()),
        Err(_) => at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preauth::pkinit::agreement::{EcCurve, ModpGroup};

    const MODP14: DhGroup = DhGroup::Modp(ModpGroup::Modp14);

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_700_000_000) + Duration::from_millis(secs * 1000 + 400)
    }

    #[test]
    fn a_key_is_reused_until_it_expires_then_replaced() {
        let keys = ReusedKeys::new(Duration::from_secs(60));
        let (first, made) = keys.key(MODP14, at(0)).unwrap();
        assert!(made);
        // Announced on a whole second, never after the key's real end of use.
        assert_eq!(first.expires, whole_seconds(at(60)));
        assert!(first.expires <= at(60));
        let (again, made) = keys.key(MODP14, at(59)).unwrap();
        assert!(!made);
        assert_eq!(again.public, first.public);
        let (next, made) = keys.key(MODP14, at(60)).unwrap();
        assert!(made, "the key was used at its expiration");
        assert_ne!(next.public, first.public);
        assert_eq!(next.expires, whole_seconds(at(120)));
    }

    #[test]
    fn each_group_has_its_own_key() {
        let keys = ReusedKeys::new(Duration::from_secs(60));
        let (modp14, _) = keys.key(MODP14, at(0)).unwrap();
        let (p256, made) = keys.key(DhGroup::Ec(EcCurve::P256), at(1)).unwrap();
        assert!(made);
        assert_eq!(p256.private.group(), DhGroup::Ec(EcCurve::P256));
        let (again, made) = keys.key(MODP14, at(2)).unwrap();
        assert!(!made);
        assert_eq!(again.public, modp14.public);
    }

    #[test]
    fn zero_lifetime_makes_a_key_per_call() {
        let keys = ReusedKeys::new(Duration::ZERO);
        let (first, made_first) = keys.key(MODP14, at(0)).unwrap();
        let (second, made_second) = keys.key(MODP14, at(0)).unwrap();
        assert!(made_first && made_second);
        assert_ne!(first.public, second.public);
        assert_eq!(first.expires, whole_seconds(at(0)));
    }

    #[test]
    fn a_clock_gone_back_does_not_stretch_a_key() {
        let keys = ReusedKeys::new(Duration::from_secs(60));
        let (first, _) = keys.key(MODP14, at(1000)).unwrap();
        let (after_jump, made) = keys.key(MODP14, at(0)).unwrap();
        assert!(made, "a key expiring 1060 s on is not used at 0 s");
        assert_ne!(after_jump.public, first.public);
    }
}
