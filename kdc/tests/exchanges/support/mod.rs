//! Test fixtures shared by the in-process exchange tests: a development realm on disk, the
//! KDC core built from it, and the PKINIT client logging in.

pub mod pki;
#[path = "../../../src/testing/mod.rs"]
mod shared;

pub use pki::self_signed;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use kdc_directory::{Directory, DirectoryError, EmbeddedDirectory, Group, RsaPublicKey, User};

use kdc::answer::Kdc;
use kdc::server::{RequestContext, Transport};
use kdc::signer::software::SoftwareSigner;
use kdc_client::{self as client, ClientError, ClientOptions};

pub use shared::wire;

pub const REALM: &str = "EXAMPLE.TEST";

pub struct Realm {
    pub dir: tempfile::TempDir,
    pub kdc: Arc<Kdc>,
}

impl Realm {
    pub async fn new(
        edit_config: impl FnOnce(String) -> String,
        setup: impl AsyncFnOnce(&Path),
    ) -> Realm {
        Realm::named(REALM, edit_config, setup).await
    }

    /// [`Realm::new`] for a realm of another name than [`REALM`].
    pub async fn named(
        name: &str,
        edit_config: impl FnOnce(String) -> String,
        setup: impl AsyncFnOnce(&Path),
    ) -> Realm {
        let dir = tempfile::tempdir().unwrap();
        kdc::dev_realm::create(dir.path(), name, 1).await.unwrap();
        let config = dir.path().join("kdc.toml");
        let text = std::fs::read_to_string(&config).unwrap();
        std::fs::write(&config, edit_config(text)).unwrap();
        setup(dir.path()).await;
        let (_, kdc) = kdc::build::from_file(&config).await.unwrap();
        Realm { dir, kdc }
    }

    /// [`Realm::new`] with a directory that counts its calls.
    pub async fn counting(
        edit_config: impl FnOnce(String) -> String,
        setup: impl AsyncFnOnce(&Path),
    ) -> (Realm, Arc<CountingDirectory>) {
        let realm = Realm::new(edit_config, setup).await;
        let counting = Arc::new(std::sync::Mutex::new(None));
        let slot = Arc::clone(&counting);
        let config = kdc_config::Config::load(&realm.dir.path().join("kdc.toml")).unwrap();
        let options = kdc::build::BuildOptions {
            wrap_directory: Some(Box::new(move |inner| {
                let wrapped = Arc::new(CountingDirectory {
                    inner,
                    find_user: AtomicUsize::new(0),
                    find_key_owners: AtomicUsize::new(0),
                    groups_of: AtomicUsize::new(0),
                });
                *slot.lock().unwrap() = Some(Arc::clone(&wrapped));
                wrapped
            })),
            ..Default::default()
        };
        let kdc = kdc::build::build(&config, options).await.unwrap().kdc;
        let counting = counting.lock().unwrap().take().unwrap();
        (Realm { kdc, ..realm }, counting)
    }

    pub async fn dev() -> Realm {
        Realm::new(|c| c, async |_| {}).await
    }

    pub fn signer(&self, name: &str) -> SoftwareSigner {
        SoftwareSigner::load(
            &self.dir.path().join(format!("{name}.key")),
            &self.dir.path().join(format!("{name}.pem")),
        )
        .unwrap()
    }

    pub fn kdc_certificate(&self) -> Vec<u8> {
        pem::parse(std::fs::read(self.dir.path().join("kdc.pem")).unwrap())
            .unwrap()
            .into_contents()
    }

    pub async fn send(&self, message: &[u8]) -> Vec<u8> {
        let ctx = RequestContext {
            peer: SocketAddr::from(([127, 0, 0, 1], 40000)),
            transport: Transport::Tcp,
        };
        self.kdc
            .answer(message, ctx)
            .await
            .expect("the KDC answers every request")
    }

    pub async fn login(
        &self,
        options: &ClientOptions,
        signer: &SoftwareSigner,
    ) -> Result<client::AsReply, ClientError> {
        self.exchange(options, signer).await.1
    }

    /// One PKINIT AS exchange: the raw reply and what the client made of it.
    pub async fn exchange(
        &self,
        options: &ClientOptions,
        signer: &SoftwareSigner,
    ) -> (Vec<u8>, Result<client::AsReply, ClientError>) {
        let request = client::build_request(options, signer).await.unwrap();
        let reply = self.send(&request.message).await;
        let read = client::read_reply(options, &request, &reply, &self.kdc_certificate());
        (reply, read)
    }
}

/// `message` (a PKINIT AS-REQ) with one bit flipped near the end of its CMS SignedData, in the
/// signature, so only signature verification can catch it.
pub fn with_signature_bit_flipped(message: &[u8]) -> Vec<u8> {
    let mut as_req: rasn_kerberos::AsReq = rasn::der::decode(message).unwrap();
    let padata = as_req.0.padata.as_mut().unwrap();
    let mut pa: kdc::proto::pkinit::PaPkAsReq = rasn::der::decode(&padata[0].value).unwrap();
    let mut signed = pa.signed_auth_pack.to_vec();
    let near_end = signed.len() - 10;
    signed[near_end] ^= 0x01;
    pa.signed_auth_pack = signed.into();
    padata[0].value = rasn::der::encode(&pa).unwrap().into();
    rasn::der::encode(&as_req).unwrap()
}

/// MIT kinit's captured first AS-REQ for alice (no pre-authentication; empty PA_AS_FRESHNESS
/// and PA_REQ_ENC_PA_REP), moved into `realm`.
pub fn mit_first_request(realm: &str) -> Vec<u8> {
    let message = wire("mit_as_req_nopreauth.der");
    let mut request: rasn_kerberos::AsReq = rasn::der::decode(&message).unwrap();
    request.0.req_body.realm = kdc::proto::kerberos::kerberos_string(realm);
    request.0.req_body.sname = Some(kdc::proto::kerberos::krbtgt_name(realm));
    rasn::der::encode(&request).unwrap()
}

pub async fn register(dir: &Path, upn: &str, cert: &str) {
    let directory = EmbeddedDirectory::load(&dir.join("directory.toml"))
        .await
        .unwrap();
    let key = kdc::admin::users::read_public_key(&dir.join(cert)).unwrap();
    kdc::admin::users::register_key(&directory, upn, &key)
        .await
        .unwrap();
}

pub fn code(result: Result<client::AsReply, ClientError>) -> i32 {
    match result {
        Err(ClientError::KrbError(code)) => code,
        Err(other) => panic!("expected a KRB-ERROR, got {other}"),
        Ok(_) => panic!("expected a KRB-ERROR, got a ticket"),
    }
}

/// A directory that counts the calls it passes on.
pub struct CountingDirectory {
    inner: Arc<dyn Directory>,
    pub find_user: AtomicUsize,
    pub find_key_owners: AtomicUsize,
    pub groups_of: AtomicUsize,
}

impl CountingDirectory {
    pub fn owner_searches(&self) -> usize {
        self.find_key_owners.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl Directory for CountingDirectory {
    async fn find_user(&self, name: &str, realm: &str) -> Result<Option<User>, DirectoryError> {
        self.find_user.fetch_add(1, Ordering::SeqCst);
        self.inner.find_user(name, realm).await
    }

    async fn find_key_owners(
        &self,
        public_key: &RsaPublicKey,
    ) -> Result<Vec<String>, DirectoryError> {
        self.find_key_owners.fetch_add(1, Ordering::SeqCst);
        self.inner.find_key_owners(public_key).await
    }

    async fn groups_of(&self, user: &User) -> Result<Vec<Group>, DirectoryError> {
        self.groups_of.fetch_add(1, Ordering::SeqCst);
        self.inner.groups_of(user).await
    }
}

/// Adds an enabled user `CN=<cn>,CN=Users,DC=example,DC=test` to the realm's directory file.
pub async fn add_user(dir: &Path, cn: &str, upn: &str, sam: Option<&str>) {
    use kdc_directory::{DirectoryAdmin, NewUser, UF_NORMAL_ACCOUNT};
    let directory = EmbeddedDirectory::load(&dir.join("directory.toml"))
        .await
        .unwrap();
    let config = kdc_config::Config::load(&dir.join("kdc.toml")).unwrap();
    let object_sid = kdc::admin::users::new_user_sid(&directory, &config)
        .await
        .unwrap();
    directory
        .add_user(NewUser {
            dn: format!("CN={cn},CN=Users,DC=example,DC=test"),
            user_principal_name: upn.into(),
            sam_account_name: sam.map(Into::into),
            user_account_control: UF_NORMAL_ACCOUNT,
            object_sid,
        })
        .await
        .unwrap();
}

/// A dev realm's kdc.toml without `domain_sid`: a realm that issues no PACs.
pub fn without_pacs(config: String) -> String {
    config
        .lines()
        .filter(|line| !line.starts_with("domain_sid"))
        .map(|line| format!("{line}\n"))
        .collect()
}

/// Writes `attribute = value` (TOML) into the user table of `upn` in the directory file, for
/// attributes the admin commands do not write (accountExpires, lockoutTime).
pub fn set_user_attribute(dir: &Path, upn: &str, attribute: &str, value: &str) {
    let path = dir.join("directory.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let line = format!("userPrincipalName = \"{upn}\"");
    assert!(text.contains(&line), "{upn} not in {text}");
    let text = text.replace(&line, &format!("{line}\n{attribute} = {value}"));
    std::fs::write(&path, text).unwrap();
}
