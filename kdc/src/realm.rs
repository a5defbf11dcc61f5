//! One realm's state, as the exchanges read it (RFC 4120 §3.1, §3.3): its name and krbtgt
//! principal, the ticket policy (enctypes, lifetimes, clock skew), the principal keys, the
//! directory, PKINIT (RFC 4556) with its signer, the TGS replay cache (§3.3.2) and RFC 8070
//! freshness, built once from the configuration.

use std::sync::Arc;
use std::time::Duration;

use kdc_config::{Config, Freshness, PacSettings};
use kdc_directory::Directory;

use crate::crypto::{Enctype, Key};
use crate::error::KdcError;
use crate::keys::KeyRing;
use crate::preauth::pkinit::Pkinit;
use crate::preauth::pkinit::agreement::ReusedKeys;
use crate::preauth::pkinit::authenticator::ChecksumPolicy;
use crate::preauth::pkinit::cert_trust::CertTrust;
use crate::preauth::pkinit::cert_trust::store::StoreError;
use crate::preauth::pkinit::digest_choice::DigestPolicy;
use crate::preauth::pkinit::freshness::Tokens;
use crate::signer::{DigestAlgorithm, KdcSigner};
use crate::tgs::replay::{self, ReplayCache};
use crate::ticket::LifetimePolicy;

/// What the AS and TGS exchanges need of their realm, and nothing of the transport, the
/// metrics or the reply cache.
pub struct Realm {
    name: String,
    /// `krbtgt/REALM`, the TGS's name in the key ring.
    krbtgt: String,
    policy: TicketPolicy,
    keys: KeyRing,
    directory: Arc<dyn Directory>,
    pkinit: Pkinit,
    freshness: Freshness,
    /// TGS authenticators seen within the skew (RFC 4120 §3.3.2).
    tgs_replays: ReplayCache,
    /// How PACs are made and checked; None when the realm has no domain SID (no PACs).
    pac: Option<PacSettings>,
}

/// The realm's rules for the tickets it issues.
#[derive(Clone, Debug)]
pub struct TicketPolicy {
    /// The session-key enctypes the realm allows, in the order the configuration lists them.
    pub enctypes: Vec<Enctype>,
    pub lifetime: LifetimePolicy,
    pub clock_skew: Duration,
}

impl TicketPolicy {
    pub fn allows(&self, enctype: Enctype) -> bool {
        self.enctypes.contains(&enctype)
    }
}

/// A configuration the realm cannot be built from. The cause is kept as a value, and its
/// text is in the message as it always was; it is not also a `source`, since the daemon
/// prints the whole chain and would show it twice.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("pkinit.certificate_trust: {0}")]
    CertificateTrust(StoreError),
}

impl Realm {
    pub fn new(
        config: &Config,
        directory: Arc<dyn Directory>,
        signer: Arc<dyn KdcSigner>,
        keys: KeyRing,
    ) -> Result<Realm, SetupError> {
        let clock_skew = Duration::from_secs(config.tickets.clock_skew_secs);
        Ok(Realm {
            name: config.realm.name.clone(),
            krbtgt: format!("krbtgt/{}", config.realm.name),
            policy: TicketPolicy {
                enctypes: config.tickets.enctypes.iter().map(|&e| e.into()).collect(),
                lifetime: LifetimePolicy {
                    max_life: Duration::from_secs(config.tickets.lifetime_secs),
                    max_renewable_life: Duration::from_secs(config.tickets.renewable_lifetime_secs),
                },
                clock_skew,
            },
            keys,
            pkinit: Pkinit {
                directory: Arc::clone(&directory),
                signer,
                min_dh_bits: config.pkinit.min_dh_bits,
                clock_skew,
                cert_trust: match &config.pkinit.certificate_trust {
                    Some(trust) => Some(Arc::new(
                        CertTrust::new(trust).map_err(SetupError::CertificateTrust)?,
                    )),
                    None => None,
                },
                dh_keys: ReusedKeys::new(Duration::from_secs(config.pkinit.dh_key_reuse_secs)),
                digests: DigestPolicy {
                    sha1: config.pkinit.sha1_signatures,
                },
                checksums: ChecksumPolicy {
                    require_checksum2: config.pkinit.require_pa_checksum2,
                    hashes: config
                        .pkinit
                        .pa_checksum_hashes
                        .iter()
                        .map(|&h| DigestAlgorithm::from(h))
                        .collect(),
                },
            },
            directory,
            freshness: config.pkinit.freshness,
            tgs_replays: ReplayCache::new(replay::DEFAULT_CAPACITY),
            pac: config.pac(),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }
    /// The krbtgt principal's name in the key ring.
    pub fn krbtgt_principal(&self) -> &str {
        &self.krbtgt
    }
    pub fn policy(&self) -> &TicketPolicy {
        &self.policy
    }
    pub fn keys(&self) -> &KeyRing {
        &self.keys
    }
    /// The newest krbtgt key: what TGTs are sealed and PACs signed with.
    pub fn current_krbtgt_key(&self) -> Result<(u32, &Key), KdcError> {
        self.keys
            .current(&self.krbtgt)
            .ok_or_else(|| KdcError::Internal("no krbtgt key in the key store".into()))
    }
    pub fn directory(&self) -> &dyn Directory {
        &*self.directory
    }
    pub fn pkinit(&self) -> &Pkinit {
        &self.pkinit
    }
    pub fn pac(&self) -> Option<&PacSettings> {
        self.pac.as_ref()
    }
    pub fn tgs_replays(&self) -> &ReplayCache {
        &self.tgs_replays
    }
    /// RFC 8070 freshness tokens under the realm's policy and krbtgt keys.
    pub fn freshness_tokens(&self) -> Tokens<'_> {
        Tokens {
            policy: self.freshness,
            keys: &self.keys,
            krbtgt: &self.krbtgt,
            clock_skew: self.policy.clock_skew,
        }
    }
}
