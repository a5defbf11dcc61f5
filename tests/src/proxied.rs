//! A started realm whose MIT client reaches the KDC through a recording [`TcpProxy`], and the
//! check that a kinit through it was refused: by the KRB-ERROR codes the proxy saw on the wire
//! (RFC 4120 §7.5.9, RFC 4556 §3.1.3), never by kinit's message text.

use anyhow::{Result, bail};

use crate::krb;
use crate::mit::{ClientRun, MitClient};
use crate::proxy::TcpProxy;
use crate::realm::Realm;

pub struct ProxiedRealm {
    pub realm: Realm,
    pub proxy: TcpProxy,
    pub client: MitClient,
}

impl ProxiedRealm {
    /// Starts `realm` (its directory and kdc.toml already as the test wants them) behind a
    /// proxy that passes every request through unchanged.
    pub fn start(realm: Realm) -> Result<ProxiedRealm> {
        ProxiedRealm::start_with(realm, |_: &[u8]| None)
    }

    /// The same with a proxy that passes client requests through `mutator` (see
    /// [`TcpProxy::start_with`]).
    pub fn start_with<F>(mut realm: Realm, mutator: F) -> Result<ProxiedRealm>
    where
        F: Fn(&[u8]) -> Option<Vec<u8>> + Send + Sync + 'static,
    {
        realm.start()?;
        let proxy = TcpProxy::start_with(realm.addr(), mutator)?;
        let client = realm.client_via(&proxy.host_port())?;
        Ok(ProxiedRealm {
            realm,
            proxy,
            client,
        })
    }

    /// Fails unless `run` failed, the KDC's KRB-ERRORs end in `expected` (see
    /// [`krb::check_error_sequence`]), no ticket was stored and the KDC did not panic.
    pub fn check_refused(&self, run: &ClientRun, expected: i32) -> Result<()> {
        let context = || {
            format!(
                "{}\n{}\n--- KDC stderr ---\n{}",
                run.report(),
                self.proxy.summary(),
                self.realm.log()
            )
        };
        if run.success() {
            bail!("kinit succeeded:\n{}", context());
        }
        if let Err(e) = krb::check_error_sequence(&self.proxy.error_codes(), expected) {
            bail!("{e}\n{}", context());
        }
        if self.client.klist()?.success() {
            bail!("a ticket was stored:\n{}", context());
        }
        self.realm.check_no_panic()
    }
}
