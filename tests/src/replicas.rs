//! Two KDC replicas on a replicated directory (deploy/replicas.md, issue 18): two OpenLDAP
//! providers replicating each other (deploy/ldap/multi-provider.conf.example), and two
//! `kdc serve` of one realm, replica A on 127.0.0.2 reading the first server, replica B on
//! 127.0.0.3 reading the second, with the principals' keys in LDAP (no key store file) and
//! the same master key. Clients list both KDCs, A first.

use std::net::Ipv4Addr;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::conf;
use crate::mit::MitClient;
use crate::realm::Realm;
use crate::slapd::{REPLICATION_TIMEOUT, Slapd};

pub const HOST_A: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);
pub const HOST_B: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 3);

/// How long each replica keeps what it read from its directory: short, so that tests of
/// changes wait seconds, long enough that the cache is used.
pub const CACHE_TTL: Duration = Duration::from_secs(2);

/// The LDAP options of both replicas: the cache above, quick reconnects.
fn ldap_options() -> Vec<String> {
    vec![
        format!("cache_ttl_secs = {}", CACHE_TTL.as_secs()),
        format!("negative_cache_ttl_secs = {}", CACHE_TTL.as_secs()),
        "timeout_ms = 1000".to_owned(),
        "reconnect_backoff_ms = 50".to_owned(),
        "reconnect_backoff_max_ms = 300".to_owned(),
    ]
}

pub struct Replicas {
    /// The two LDAP providers: `ldap[0]` is replica A's, `ldap[1]` replica B's.
    pub ldap: [Slapd; 2],
    /// Replica A (127.0.0.2) and replica B (127.0.0.3).
    pub kdc: [Realm; 2],
}

impl Replicas {
    /// Both LDAP servers, the dev realm's users (with their keys and SIDs) and the krbtgt and
    /// `host/web.example` keys written through A's server and replicated to B's, both KDCs
    /// started.
    pub fn start() -> Result<Replicas> {
        let ldap = Slapd::start_pair()?;
        let mut a = Realm::create()?;
        a.move_to_host(HOST_A)?;
        ldap[0].add_users_of(&a)?;
        let options = ldap_options();
        let options: Vec<&str> = options.iter().map(String::as_str).collect();
        ldap[0].serve_realm(&a, &ldap[0].url(), &options)?;
        // Keys in LDAP: no key store file; krbtgt and the service written by the CLI.
        let path = a.kdc_toml_path();
        let text = std::fs::read_to_string(&path)?;
        std::fs::write(&path, text.replace("store = \"principals.toml\"\n", ""))?;
        std::fs::remove_file(a.dir().join("principals.toml"))?;
        a.admin(&["krbtgt", "rotate"])?.ok()?;
        a.add_service("host/web.example")?;
        let mut b = a.replica(HOST_B)?;
        ldap[1].serve_realm(&b, &ldap[1].url(), &options)?;
        for filter in [
            "(kdcPrincipalName=host/web.example)",
            "(userPrincipalName=alice@EXAMPLE.TEST)",
        ] {
            ldap[1]
                .wait_for(filter, REPLICATION_TIMEOUT)
                .with_context(|| format!("replication of {filter}"))?;
        }
        a.start()?;
        b.start()?;
        Ok(Replicas { ldap, kdc: [a, b] })
    }

    /// A client whose krb5.conf lists both KDCs, A first.
    pub fn client(&self) -> Result<MitClient> {
        let [a, b] = &self.kdc;
        let client = a.client()?;
        let (a, b) = (a.addr().to_string(), b.addr().to_string());
        client.edit_krb5_conf(|text| conf::set_kdc_addresses(text, &[&a, &b]))?;
        Ok(client)
    }

    /// A client that knows replica `index` only.
    pub fn client_of(&self, index: usize) -> Result<MitClient> {
        self.kdc
            .get(index)
            .context("two replicas: 0 and 1")?
            .client()
    }

    /// Both KDCs' logs, for failure messages.
    pub fn logs(&self) -> String {
        let [a, b] = &self.kdc;
        format!("--- replica A\n{}\n--- replica B\n{}", a.log(), b.log())
    }
}
