//! The in-process KDC that the targets past the signature talk to (issue 16 point 2): a
//! development realm with the service `host/web.example`, built once per process, and what
//! its user alice holds: her key-trust key (RSA 2048, registered for her by `dev-realm`), a
//! freshness token (RFC 8070) and a TGT. Requests reach the KDC through `server::Handler`, as
//! UDP and TCP hand them over. No tracing subscriber and no metrics: a fuzz process spends its
//! time in the KDC's checks, not in logging.

use std::net::SocketAddr;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use kdc::answer::Kdc;
use kdc::crypto::Key;
use kdc::preauth::pkinit::freshness::TOKEN_LIFETIME;
use kdc::proto::kerberos::{NT_PRINCIPAL, principal};
use kdc::server::{Handler, RequestContext, Transport};
use kdc::signer::software::SoftwareSigner;
use kdc_client::{self as client, ClientOptions};
use rasn_kerberos::{PrincipalName, Ticket};

pub const REALM: &str = "EXAMPLE.TEST";
/// The fixture's user: her key is the one the fixture signs with.
pub const USER: &str = "alice";
/// A service of the realm, for TGS-REQs.
pub const SERVICE: &str = "host/web.example";

/// A TGT is used this long before the fixture logs in again: well within the realm's ticket
/// lifetime (10 h), and past `tgs::ACCOUNT_RECHECK_AFTER`, so a long campaign reaches the TGS's
/// account re-check as well as the path without it.
const TGT_REFRESH: Duration = Duration::from_secs(3600);

pub static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| match Fixture::new() {
    Ok(fixture) => fixture,
    Err(error) => {
        // Not a finding: the fuzz process cannot start.
        eprintln!("the fuzz fixture cannot be built: {error:#}");
        std::process::abort()
    }
});

pub struct Fixture {
    kdc: KdcHandle,
    freshness_token: Mutex<(Instant, Vec<u8>)>,
    tgt: Mutex<(Instant, Arc<Tgt>)>,
}

/// The KDC, the runtime that drives it, and alice's credentials.
pub struct KdcHandle {
    runtime: tokio::runtime::Runtime,
    pub kdc: Arc<Kdc>,
    /// alice's key and self-signed certificate.
    pub signer: SoftwareSigner,
    pub kdc_certificate: Vec<u8>,
}

/// What an AS exchange gave alice.
pub struct Tgt {
    pub ticket: Ticket,
    pub session_key: Key,
    /// The client the TGT names: alice as she asked (no canonicalize).
    pub client: PrincipalName,
}

impl Fixture {
    fn new() -> Result<Fixture> {
        let kdc = KdcHandle::new()?;
        let token = kdc.fetch_freshness_token()?;
        let tgt = kdc.log_in()?;
        Ok(Fixture {
            kdc,
            freshness_token: Mutex::new((Instant::now(), token)),
            tgt: Mutex::new((Instant::now(), Arc::new(tgt))),
        })
    }

    pub fn kdc(&self) -> &KdcHandle {
        &self.kdc
    }

    /// A freshness token the KDC handed out less than half its lifetime ago.
    pub fn freshness_token(&self) -> Vec<u8> {
        let mut held = self
            .freshness_token
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if held.0.elapsed() > TOKEN_LIFETIME / 2 {
            match self.kdc.fetch_freshness_token() {
                Ok(token) => *held = (Instant::now(), token),
                Err(error) => eprintln!("fixture: no new freshness token: {error:#}"),
            }
        }
        held.1.clone()
    }

    /// alice's TGT, from a login less than [`TGT_REFRESH`] ago.
    pub fn tgt(&self) -> Arc<Tgt> {
        let mut held = self.tgt.lock().unwrap_or_else(PoisonError::into_inner);
        if held.0.elapsed() > TGT_REFRESH {
            match self.kdc.log_in() {
                Ok(tgt) => *held = (Instant::now(), Arc::new(tgt)),
                Err(error) => eprintln!("fixture: no new TGT: {error:#}"),
            }
        }
        Arc::clone(&held.1)
    }
}

impl KdcHandle {
    fn new() -> Result<KdcHandle> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let dir = tempfile::tempdir()?;
        let (kdc, signer, kdc_certificate) = runtime.block_on(async {
            kdc::dev_realm::create(dir.path(), REALM, 1).await?;
            let config = dir.path().join("kdc.toml");
            kdc::admin::services::service_add(&config, SERVICE).await?;
            let (_, kdc) = kdc::build::from_file(&config).await?;
            let signer = SoftwareSigner::load(
                &dir.path().join(format!("{USER}.key")),
                &dir.path().join(format!("{USER}.pem")),
            )?;
            let chain = kdc::signer::software::read_chain(&dir.path().join("kdc.pem"))?;
            let kdc_certificate = chain.into_iter().next().context("kdc.pem is empty")?;
            anyhow::Ok((kdc, signer, kdc_certificate))
        })?;
        // Everything is in memory now; the realm's files need not outlive the build.
        drop(dir);
        Ok(KdcHandle {
            runtime,
            kdc,
            signer,
            kdc_certificate,
        })
    }

    /// Sends `message` to the KDC as `transport` delivers it: the reply, or None for a drop.
    pub fn send(&self, message: Vec<u8>, transport: Transport) -> Option<Vec<u8>> {
        let ctx = RequestContext {
            peer: SocketAddr::from(([127, 0, 0, 1], 40000)),
            transport,
        };
        self.runtime
            .block_on(Handler::handle(&*self.kdc, message.into(), ctx))
    }

    pub fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// The token in the KDC's answer to an AS-REQ that asks for one (RFC 8070 §2.1).
    fn fetch_freshness_token(&self) -> Result<Vec<u8>> {
        let request = client::build_freshness_request(&ClientOptions::new(REALM, USER))?;
        let reply = self
            .send(request, Transport::Tcp)
            .context("the KDC dropped the freshness request")?;
        client::freshness_token_of(&reply).context("the KDC handed out no freshness token")
    }

    fn log_in(&self) -> Result<Tgt> {
        let options = ClientOptions::new(REALM, USER);
        let request = self.block_on(client::build_request(&options, &self.signer))?;
        let reply = self
            .send(request.message.clone(), Transport::Tcp)
            .context("the KDC dropped alice's AS-REQ")?;
        let reply = client::read_reply(&options, &request, &reply, &self.kdc_certificate)?;
        Ok(Tgt {
            ticket: reply.ticket,
            session_key: reply.session_key,
            client: principal(NT_PRINCIPAL, &[USER]),
        })
    }
}
