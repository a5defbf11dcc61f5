//! PKINIT freshness tokens (RFC 8070): the KDC hands a client that asks (an empty
//! PA_AS_FRESHNESS in its AS-REQ) a token in PREAUTH_REQUIRED, and the client signs it into
//! PKAuthenticator.freshnessToken. A valid token proves the request was signed after the KDC
//! made the token, not pre-generated with a future ctime (RFC 8070 §1).
//!
//! The token is opaque to clients (§2.1); ours is
//! `0x01 || krbtgt kvno (u32 BE) || enctype (i32 BE) || E(krbtgt key, usage 514, time)`, the
//! time being seconds since the epoch as i64 BE. The krbtgt key makes every replica of the
//! realm accept every other replica's tokens without shared state, and the kvno lets tokens
//! outlive a key rotation; 514 is the key usage MIT's KDC uses for its own tokens.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kdc_config::Freshness;

use crate::error::KdcError;
use crate::keys::KeyRing;

/// Key usage of the token's encryption (MIT's KRB5_KEYUSAGE_PA_AS_FRESHNESS).
const KEY_USAGE_PA_AS_FRESHNESS: u32 = 514;

/// Format version, so that another layout can follow.
const TOKEN_VERSION: u8 = 0x01;

/// How long a token stays valid: enough for a PIN prompt between the two AS exchanges of a
/// logon, short enough to bound how far ahead a stolen key's holder can sign (MIT: 600 s).
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(600);

/// Makes and checks tokens with the realm's krbtgt keys.
pub struct Tokens<'a> {
    pub policy: Freshness,
    pub keys: &'a KeyRing,
    /// The krbtgt principal's name in the key ring.
    pub krbtgt: &'a str,
    /// How far a token's time may be ahead of ours (another replica's clock).
    pub clock_skew: Duration,
}

impl Tokens<'_> {
    /// A new token for `now`.
    pub fn issue(&self, now: SystemTime) -> Result<Vec<u8>, KdcError> {
        let (kvno, key) = self
            .keys
            .current(self.krbtgt)
            .ok_or_else(|| KdcError::Internal("no krbtgt key for a freshness token".into()))?;
        let sealed = key
            .encrypt(KEY_USAGE_PA_AS_FRESHNESS, &unix_seconds(now).to_be_bytes())
            .map_err(|e| KdcError::Internal(format!("freshness token: {e}")))?;
        let mut token = Vec::with_capacity(9 + sealed.len());
        token.push(TOKEN_VERSION);
        token.extend_from_slice(&kvno.to_be_bytes());
        token.extend_from_slice(&key.enctype().as_i32().to_be_bytes());
        token.extend_from_slice(&sealed);
        Ok(token)
    }

    /// The token for a PREAUTH_REQUIRED answer: when the client asked and tokens are on.
    pub fn offer(&self, client_asked: bool, now: SystemTime) -> Result<Option<Vec<u8>>, KdcError> {
        if client_asked && self.policy != Freshness::Off {
            self.issue(now).map(Some)
        } else {
            Ok(None)
        }
    }

    /// Checks the PKAuthenticator's token (RFC 8070 §2.4): whether a valid one was sent.
    /// An invalid token is KDC_ERR_PREAUTH_EXPIRED whatever the policy; a missing one under
    /// `required` is KDC_ERR_PREAUTH_FAILED. Both answers carry a new token.
    pub fn check(&self, token: Option<&[u8]>, now: SystemTime) -> Result<bool, KdcError> {
        let Some(token) = token else {
            if self.policy == Freshness::Required {
                return Err(KdcError::FreshnessTokenMissing {
                    method_data: crate::preauth::method_data(Some(self.issue(now)?))?,
                });
            }
            return Ok(false);
        };
        match self.verify(token, now) {
            Ok(()) => Ok(true),
            Err(reason) => Err(KdcError::FreshnessTokenInvalid {
                reason,
                method_data: crate::preauth::method_data(Some(self.issue(now)?))?,
            }),
        }
    }

    fn verify(&self, token: &[u8], now: SystemTime) -> Result<(), String> {
        let (&version, rest) = token.split_first().ok_or("empty token")?;
        if version != TOKEN_VERSION {
            return Err(format!("unknown token version {version}"));
        }
        let (kvno, rest) = rest.split_first_chunk::<4>().ok_or("token too short")?;
        let (enctype, sealed) = rest.split_first_chunk::<4>().ok_or("token too short")?;
        let (kvno, enctype) = (u32::from_be_bytes(*kvno), i32::from_be_bytes(*enctype));
        let key = self
            .keys
            .get(self.krbtgt, Some(kvno), enctype)
            .ok_or_else(|| format!("no krbtgt key of kvno {kvno} and enctype {enctype}"))?;
        let plain = key
            .decrypt(KEY_USAGE_PA_AS_FRESHNESS, sealed)
            .map_err(|_| "token not made by this realm's KDCs".to_owned())?;
        let issued = <[u8; 8]>::try_from(plain.as_slice())
            .map(i64::from_be_bytes)
            .map_err(|_| "token time malformed".to_owned())?;
        let now = unix_seconds(now);
        let age = now.saturating_sub(issued);
        let lifetime = i64::try_from(TOKEN_LIFETIME.as_secs()).unwrap_or(i64::MAX);
        let skew = i64::try_from(self.clock_skew.as_secs()).unwrap_or(i64::MAX);
        if age > lifetime {
            Err(format!("token {age} s old, valid for {lifetime} s"))
        } else if age < -skew {
            Err(format!("token made {} s in the future", -age))
        } else {
            Ok(())
        }
    }
}

fn unix_seconds(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_secs()).map_or(i64::MIN, |s| -s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{Enctype, Key};
    use crate::error::KdcError;
    use crate::proto::codes::{ErrorCode, padata};

    const KRBTGT: &str = "krbtgt/EXAMPLE.TEST";

    fn ring(kvnos: &[u32]) -> KeyRing {
        let keys = kvnos
            .iter()
            .map(|&kvno| (kvno, Key::random(Enctype::Aes256CtsHmacSha196).unwrap()))
            .collect();
        KeyRing::of(KRBTGT, keys)
    }

    fn tokens(keys: &KeyRing, policy: Freshness) -> Tokens<'_> {
        Tokens {
            policy,
            keys,
            krbtgt: KRBTGT,
            clock_skew: Duration::from_secs(300),
        }
    }

    /// The token inside an error's METHOD-DATA, next to PA-PK-AS-REQ.
    fn offered_token(error: &KdcError) -> Vec<u8> {
        let methods: Vec<rasn_kerberos::PaData> =
            rasn::der::decode(&error.e_data().unwrap()).unwrap();
        assert_eq!(
            methods.iter().map(|m| m.r#type).collect::<Vec<_>>(),
            vec![padata::PK_AS_REQ, padata::AS_FRESHNESS]
        );
        methods[1].value.to_vec()
    }

    #[test]
    fn a_fresh_token_from_any_kdc_of_the_realm_is_valid() {
        let keys = ring(&[3]);
        let now = SystemTime::now();
        let token = tokens(&keys, Freshness::Supported).issue(now).unwrap();
        // Same krbtgt keys, another replica: required policy, clock a little behind or ahead.
        let other = tokens(&keys, Freshness::Required);
        for at in [now, now + TOKEN_LIFETIME, now - Duration::from_secs(300)] {
            assert!(other.check(Some(&token), at).unwrap());
        }
    }

    #[test]
    fn old_future_forged_and_foreign_tokens_are_preauth_expired_with_a_new_token() {
        let keys = ring(&[3]);
        let issuer = tokens(&keys, Freshness::Supported);
        let now = SystemTime::now();
        let token = issuer.issue(now).unwrap();
        let mut forged = token.clone();
        *forged.last_mut().unwrap() ^= 1;
        let other_realm_keys = ring(&[3]);
        let foreign = tokens(&other_realm_keys, Freshness::Supported)
            .issue(now)
            .unwrap();
        let mut unknown_kvno = token.clone();
        unknown_kvno[4] = 9;
        let cases: [(&[u8], SystemTime); 7] = [
            (&token, now + TOKEN_LIFETIME + Duration::from_secs(1)),
            (&token, now - Duration::from_secs(301)),
            (&forged, now),
            (&foreign, now),
            (&unknown_kvno, now),
            (&token[..20], now),
            (&[], now),
        ];
        for (bad, at) in cases {
            let error = issuer.check(Some(bad), at).unwrap_err();
            assert_eq!(error.code(), ErrorCode::PREAUTH_EXPIRED, "{error}");
            // The new token in the answer is itself valid.
            assert!(issuer.check(Some(&offered_token(&error)), at).unwrap());
        }
    }

    #[test]
    fn tokens_outlive_a_krbtgt_rotation() {
        let old = ring(&[3]);
        let now = SystemTime::now();
        let token = tokens(&old, Freshness::Supported).issue(now).unwrap();
        let (_, old_key) = old.current(KRBTGT).unwrap();
        let rotated = KeyRing::of(
            KRBTGT,
            vec![
                (3, Key::new(old_key.enctype(), old_key.as_bytes()).unwrap()),
                (4, Key::random(Enctype::Aes256CtsHmacSha196).unwrap()),
            ],
        );
        assert!(
            tokens(&rotated, Freshness::Supported)
                .check(Some(&token), now)
                .unwrap()
        );
    }

    #[test]
    fn a_missing_token_is_refused_only_when_required() {
        let keys = ring(&[1]);
        let now = SystemTime::now();
        assert!(
            !tokens(&keys, Freshness::Supported)
                .check(None, now)
                .unwrap()
        );
        assert!(!tokens(&keys, Freshness::Off).check(None, now).unwrap());
        let required = tokens(&keys, Freshness::Required);
        let error = required.check(None, now).unwrap_err();
        assert_eq!(error.code(), ErrorCode::PREAUTH_FAILED);
        assert!(required.check(Some(&offered_token(&error)), now).unwrap());
    }

    #[test]
    fn tokens_are_offered_to_clients_that_ask_unless_off() {
        let keys = ring(&[1]);
        let now = SystemTime::now();
        assert!(
            tokens(&keys, Freshness::Supported)
                .offer(true, now)
                .unwrap()
                .is_some()
        );
        assert!(
            tokens(&keys, Freshness::Required)
                .offer(true, now)
                .unwrap()
                .is_some()
        );
        assert!(
            tokens(&keys, Freshness::Supported)
                .offer(false, now)
                .unwrap()
                .is_none()
        );
        assert!(
            tokens(&keys, Freshness::Off)
                .offer(true, now)
                .unwrap()
                .is_none()
        );
    }
}
