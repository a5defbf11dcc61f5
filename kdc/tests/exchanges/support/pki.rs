//! The unit tests' PKI, every certificate they make with rcgen: self-signed keys for key
//! trust, and for certificate trust (RFC 5280 certificates and CRLs) CAs, client
//! certificates for a user, the development realm that trusts them, and logins with the
//! in-process PKINIT client.

use std::path::Path;

use kdc::dev_realm::{client_extensions, sid_extension};
use kdc_client::ClientOptions;
use kdc_directory::{Directory, EmbeddedDirectory};
use rcgen::{
    CertificateParams, CertificateRevocationListParams, CrlIssuingDistributionPoint, DnType,
    ExtendedKeyUsagePurpose, KeyIdMethod, KeyPair, KeyUsagePurpose, RevokedCertParams,
    SerialNumber,
};
use time::{Duration, OffsetDateTime};

pub use super::shared::{Ca, crossed};
use super::{REALM, Realm, code};

/// The CRLs a test CA issues (the CA itself is the unit tests' too: src/testing/mod.rs).
impl Ca {
    /// A CRL of this CA listing `revoked`, whose nextUpdate is `next_update` from now.
    pub fn crl(&self, revoked: &[u8], next_update: Duration) -> String {
        self.crl_scoped(revoked, next_update, None)
    }

    /// [`Ca::crl`] with an issuingDistributionPoint extension.
    pub fn crl_scoped(
        &self,
        revoked: &[u8],
        next_update: Duration,
        issuing_distribution_point: Option<CrlIssuingDistributionPoint>,
    ) -> String {
        let now = OffsetDateTime::now_utc();
        let params = CertificateRevocationListParams {
            this_update: now - Duration::days(2),
            next_update: now + next_update,
            crl_number: vec![2].into(),
            issuing_distribution_point,
            revoked_certs: (!revoked.is_empty())
                .then(|| RevokedCertParams {
                    serial_number: SerialNumber::from(revoked.to_vec()),
                    revocation_time: now - Duration::days(1),
                    reason_code: None,
                    invalidity_date: None,
                })
                .into_iter()
                .collect(),
            key_identifier_method: KeyIdMethod::Sha256,
        };
        params.signed_by(&self.issuer()).unwrap().pem().unwrap()
    }
}

/// Writes a self-signed RSA certificate and key for `name` (`NAME.pem`, `NAME.key`) into `dir`,
/// a Windows Hello key's stand-in for key trust.
pub fn self_signed(dir: &Path, name: &str) {
    let key = KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).unwrap();
    let mut params = CertificateParams::default();
    params.distinguished_name.push(DnType::CommonName, name);
    let cert = params.self_signed(&key).unwrap();
    std::fs::write(dir.join(format!("{name}.pem")), cert.pem()).unwrap();
    std::fs::write(dir.join(format!("{name}.key")), key.serialize_pem()).unwrap();
}

/// What a client certificate says.
pub struct Leaf<'a> {
    /// The user its id-pkinit-san and UPN name; None for no subjectAltName.
    pub names: Option<&'a str>,
    pub sid: Option<String>,
    pub ekus: Vec<ExtendedKeyUsagePurpose>,
    pub valid_from_days: i64,
    pub valid_until_days: i64,
    pub serial: u8,
    /// The key the certificate certifies (and the client signs with).
    pub key: &'static rcgen::SignatureAlgorithm,
}

impl Leaf<'_> {
    pub fn for_user(user: &str, sid: Option<String>) -> Leaf<'_> {
        Leaf {
            names: Some(user),
            sid,
            ekus: vec![ExtendedKeyUsagePurpose::Other(vec![1, 3, 6, 1, 5, 2, 3, 4])],
            valid_from_days: -1,
            valid_until_days: 30,
            serial: 0x42,
            key: &rcgen::PKCS_RSA_SHA256,
        }
    }
}

/// Writes `NAME.pem` (the leaf, then `chain`) and `NAME.key` into the realm folder.
pub fn issue(dir: &Path, name: &str, ca: &Ca, chain: &[&Ca], leaf: Leaf<'_>) {
    let key = KeyPair::generate_for(leaf.key).unwrap();
    let mut params = CertificateParams::default();
    params.distinguished_name.push(DnType::CommonName, name);
    params.serial_number = Some(SerialNumber::from(vec![leaf.serial]));
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = leaf.ekus;
    params.not_before = OffsetDateTime::now_utc() + Duration::days(leaf.valid_from_days);
    params.not_after = OffsetDateTime::now_utc() + Duration::days(leaf.valid_until_days);
    params.custom_extensions = match leaf.names {
        Some(user) => client_extensions(REALM, user, leaf.sid.as_deref()).unwrap(),
        None => leaf.sid.iter().map(|sid| sid_extension(sid)).collect(),
    };
    let mut pem = params.signed_by(&key, &ca.issuer()).unwrap().pem();
    for link in chain {
        pem.push_str(&link.pem);
    }
    std::fs::write(dir.join(format!("{name}.pem")), pem).unwrap();
    std::fs::write(dir.join(format!("{name}.key")), key.serialize_pem()).unwrap();
}

pub async fn sid_of(dir: &Path, user: &str) -> String {
    let directory = EmbeddedDirectory::load(dir.join("directory.toml"))
        .await
        .unwrap();
    let user = directory.find_user(user, REALM).await.unwrap().unwrap();
    user.object_sid.unwrap().to_string()
}

/// The dev realm trusting also `root.pem` (with `root.crl`), and `edit` applied to kdc.toml.
pub async fn realm(
    edit: impl FnOnce(String) -> String,
    setup: impl AsyncFnOnce(&Path, &Ca),
) -> Realm {
    realm_and_root(edit, setup).await.0
}

pub async fn realm_and_root(
    edit: impl FnOnce(String) -> String,
    setup: impl AsyncFnOnce(&Path, &Ca),
) -> (Realm, Ca) {
    let root = Ca::root("Test Root CA");
    let realm = Realm::new(
        |c| {
            edit(
                c.replace(
                    "anchors = [\"ca.pem\"]",
                    "anchors = [\"ca.pem\", \"root.pem\"]",
                )
                .replace("crls = [\"ca.crl\"]", "crls = [\"ca.crl\", \"root.crl\"]")
                .replace("reload_interval_secs = 30", "reload_interval_secs = 0"),
            )
        },
        async |dir| {
            std::fs::write(dir.join("root.pem"), &root.pem).unwrap();
            std::fs::write(dir.join("root.crl"), root.crl(&[], Duration::days(7))).unwrap();
            setup(dir, &root).await;
        },
    )
    .await;
    (realm, root)
}

pub async fn login(realm: &Realm, user: &str, identity: &str) -> i32 {
    let options = ClientOptions::new(REALM, user);
    match realm.login(&options, &realm.signer(identity)).await {
        Ok(_) => 0,
        Err(e) => code(Err(e)),
    }
}

pub async fn bob_with(leaf: impl FnOnce(String) -> Leaf<'static>) -> Realm {
    realm(
        |c| c,
        async |dir, root| {
            let sid = sid_of(dir, "bob").await;
            issue(dir, "card", root, &[], leaf(sid));
        },
    )
    .await
}
