//! `kdc dev-realm`: a complete development realm in one folder: a CA, a KDC certificate that
//! MIT and Windows clients accept (RFC 4556 §3.2.4: id-pkinit-san krbtgt/REALM@REALM,
//! id-pkinit-KPKdc, serverAuth, dNSName; or, with `--kdc-cert dc`, a domain controller's
//! dNSName-only form), the krbtgt key, users alice and bob, alice's self-signed key-trust
//! certificate registered for her, bob's CA-issued certificate for certificate trust
//! (RFC 4556 §3.2.2 id-pkinit-san and MS UPN SAN, id-pkinit-KPClientAuth, the KB5014754 SID
//! extension matching his objectSid), an empty CRL of the CA, kdc.toml (with a random domain
//! SID and the NetBIOS name, what a PAC names the domain by) and a krb5.conf. The directory
//! gives alice and bob objectSids in that domain and puts them in groups: Domain Users (RID
//! 513, their primary group) and Developers (alice).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use kdc_directory::keycredlink::RsaPublicKey;
use kdc_directory::{DirectoryAdmin, EmbeddedDirectory, NewUser, UF_NORMAL_ACCOUNT};
use rcgen::{
    BasicConstraints, CustomExtension, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, PKCS_RSA_SHA256, PublicKeyData,
};

use crate::crypto::Enctype;
use crate::keys::{MasterKey, new_key_version};
use crate::proto::codes::oid;
use crate::proto::der::{self, tag};
use crate::proto::kerberos::{NT_SRV_INST, principal};
use crate::proto::pkinit::Krb5PrincipalName;
use crate::secret_file;

use crate::admin::users::register_key;
use crate::dev_certs::{base_params, empty_crl, random_domain_sid};
pub use crate::dev_certs::{client_extensions, sid_extension};
use kdc_config::NetbiosName;
use kdc_directory::principal_keys::{FileServiceStore, ServiceStore};
use kdc_directory::sid::{DOMAIN_USERS_RID, DomainSid};

/// alice's and bob's RIDs: the first ones after those AD gives its built-in accounts.
const ALICE_RID: u32 = 1103;
const BOB_RID: u32 = 1104;
/// The one group beside Domain Users, and its RID: after the users'.
const DEVELOPERS: &str = "Developers";
const DEVELOPERS_RID: u32 = 1105;

/// The shape of the KDC certificate `dev-realm` issues.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum KdcCert {
    /// id-pkinit-san krbtgt/REALM@REALM and a dNSName (RFC 4556 §3.2.4): every client
    /// accepts it.
    #[default]
    KrbtgtSan,
    /// A domain controller's, as AD CS's "Kerberos Authentication" template issues it: dNSName
    /// kdc.<realm in lower case>, no id-pkinit-san (some clients cannot parse one); MIT kinit
    /// needs `pkinit_kdc_hostname`, which the generated krb5.conf sets.
    Dc,
}

/// What `dev-realm` made, for the caller to print.
pub struct DevRealm {
    pub dir: PathBuf,
    pub realm: String,
    pub port: u16,
    pub kdc_cert: KdcCert,
    /// The KDC certificate's dNSName.
    pub kdc_host: String,
}

impl DevRealm {
    pub fn config_path(&self) -> PathBuf {
        self.dir.join("kdc.toml")
    }

    /// Where the metrics listener is (the port after the KDC's), if there is one.
    pub fn metrics_url(&self) -> Option<String> {
        metrics_port(self.port).map(|port| format!("http://127.0.0.1:{port}/metrics"))
    }

    /// The command line that gets alice a TGT with MIT kinit (key trust).
    pub fn kinit_command(&self) -> String {
        self.kinit_command_for("alice")
    }

    /// The same for `user` (`bob` uses certificate trust).
    pub fn kinit_command_for(&self, user: &str) -> String {
        let d = self.dir.display();
        format!(
            "KRB5_CONFIG={d}/krb5.conf KRB5CCNAME=FILE:{d}/{user}.ccache kinit -X X509_user_identity=FILE:{d}/{user}.pem,{d}/{user}.key {user}@{realm}",
            realm = self.realm
        )
    }
}

/// Creates the realm in `dir` (which must not hold one already).
pub async fn create(dir: &Path, realm: &str, port: u16) -> Result<DevRealm> {
    create_with(dir, realm, port, KdcCert::default()).await
}

/// [`create`] with a KDC certificate of the given shape.
pub async fn create_with(
    dir: &Path,
    realm: &str,
    port: u16,
    kdc_cert: KdcCert,
) -> Result<DevRealm> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let dir = dir
        .canonicalize()
        .with_context(|| format!("resolving {}", dir.display()))?;
    if dir.join("kdc.toml").exists() {
        anyhow::bail!("{} already holds a realm (kdc.toml exists)", dir.display());
    }
    let domain = realm.to_lowercase();

    let ca_key = KeyPair::generate_for(&PKCS_RSA_SHA256)?;
    let mut ca_params = base_params(&format!("{realm} development CA"), realm)?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(1));
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca_params.self_signed(&ca_key)?;
    let ca = Issuer::new(ca_params, &ca_key);

    let kdc_host = format!("kdc.{domain}");
    let kdc_key = KeyPair::generate_for(&PKCS_RSA_SHA256)?;
    let mut kdc_params = base_params(&kdc_host, realm)?;
    kdc_params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    let kp_kdc =
        ExtendedKeyUsagePurpose::Other(oid::PKINIT_KP_KDC.iter().copied().map(u64::from).collect());
    let (extended_key_usages, krbtgt_san) = match kdc_cert {
        KdcCert::KrbtgtSan => (
            vec![kp_kdc, ExtendedKeyUsagePurpose::ServerAuth],
            Some(realm),
        ),
        KdcCert::Dc => (
            vec![
                kp_kdc,
                ExtendedKeyUsagePurpose::ServerAuth,
                ExtendedKeyUsagePurpose::ClientAuth,
            ],
            None,
        ),
    };
    kdc_params.extended_key_usages = extended_key_usages;
    kdc_params.custom_extensions = vec![kdc_san(krbtgt_san, &kdc_host)?];
    let kdc_certificate = kdc_params.signed_by(&kdc_key, &ca)?;

    let alice_key = KeyPair::generate_for(&PKCS_RSA_SHA256)?;
    let mut alice_params = base_params("alice", realm)?;
    alice_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    alice_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let alice_cert = alice_params.self_signed(&alice_key)?;

    let domain_sid = random_domain_sid()?;
    let bob_sid = domain_sid.with_rid(BOB_RID);
    let bob_key = KeyPair::generate_for(&PKCS_RSA_SHA256)?;
    let mut bob_params = base_params("bob", realm)?;
    bob_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    bob_params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::Other(vec![1, 3, 6, 1, 5, 2, 3, 4]),
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    bob_params.custom_extensions = client_extensions(realm, "bob", Some(&bob_sid.to_string()))?;
    let bob_cert = bob_params.signed_by(&bob_key, &ca)?;
    let crl = empty_crl(&ca)?;

    std::fs::write(dir.join("ca.pem"), ca_cert.pem())?;
    secret_file::write(&dir.join("ca.key"), ca_key.serialize_pem().as_bytes())?;
    std::fs::write(dir.join("kdc.pem"), kdc_certificate.pem())?;
    secret_file::write(&dir.join("kdc.key"), kdc_key.serialize_pem().as_bytes())?;
    std::fs::write(dir.join("alice.pem"), alice_cert.pem())?;
    secret_file::write(&dir.join("alice.key"), alice_key.serialize_pem().as_bytes())?;
    std::fs::write(dir.join("bob.pem"), bob_cert.pem())?;
    secret_file::write(&dir.join("bob.key"), bob_key.serialize_pem().as_bytes())?;
    std::fs::write(dir.join("ca.crl"), crl)?;
    MasterKey::generate_file(&dir.join("master.key"))?;
    let master = MasterKey::load(&dir.join("master.key"))?;
    let store = FileServiceStore::create_empty(&dir.join("principals.toml")).await?;
    let (krbtgt, _) = new_key_version(
        &master,
        None,
        &format!("krbtgt/{realm}"),
        &[Enctype::Aes256CtsHmacSha196],
    )?;
    store.put_service(krbtgt).await?;

    let directory = EmbeddedDirectory::create_empty(&dir.join("directory.toml")).await?;
    for name in ["alice", "bob"] {
        directory
            .add_user(NewUser {
                dn: NewUser::default_dn(name, &domain),
                user_principal_name: format!("{name}@{realm}"),
                sam_account_name: Some(name.to_owned()),
                user_account_control: UF_NORMAL_ACCOUNT,
                object_sid: None,
            })
            .await?;
    }
    let alice_public = RsaPublicKey::from_spki_der(&alice_key.subject_public_key_info())?;
    register_key(&directory, &format!("alice@{realm}"), &alice_public).await?;
    let alice_sid = Some(domain_sid.with_rid(ALICE_RID));
    directory
        .set_certificate_mapping(&format!("alice@{realm}"), alice_sid, Vec::new())
        .await?;
    directory
        .set_certificate_mapping(&format!("bob@{realm}"), Some(bob_sid), Vec::new())
        .await?;
    let user_dn = |name| NewUser::default_dn(name, &domain);
    directory
        .add_group(
            &user_dn("Domain Users"),
            "Domain Users",
            domain_sid.with_rid(DOMAIN_USERS_RID),
            vec![user_dn("alice"), user_dn("bob")],
        )
        .await?;
    directory
        .add_group(
            &user_dn(DEVELOPERS),
            DEVELOPERS,
            domain_sid.with_rid(DEVELOPERS_RID),
            vec![user_dn("alice")],
        )
        .await?;

    std::fs::write(dir.join("kdc.toml"), kdc_toml(realm, &domain_sid, port))?;
    // MIT kinit matches a certificate without the krbtgt SAN only by a dNSName it is told.
    let kdc_hostname = (kdc_cert == KdcCert::Dc).then_some(kdc_host.as_str());
    std::fs::write(
        dir.join("krb5.conf"),
        krb5_conf(&dir, realm, port, kdc_hostname),
    )?;
    Ok(DevRealm {
        dir,
        realm: realm.to_owned(),
        port,
        kdc_cert,
        kdc_host,
    })
}

/// subjectAltName with otherName id-pkinit-san = krbtgt/REALM@REALM (when a realm is given)
/// and a dNSName.
pub(crate) fn kdc_san(krbtgt_realm: Option<&str>, dns_name: &str) -> Result<CustomExtension> {
    let mut names = Vec::new();
    if let Some(realm) = krbtgt_realm {
        let krbtgt = Krb5PrincipalName::new(realm, principal(NT_SRV_INST, &["krbtgt", realm]));
        let krbtgt_der =
            rasn::der::encode(&krbtgt).map_err(|e| anyhow::anyhow!("KRB5PrincipalName: {e}"))?;
        names.push(der::encode_parts(
            tag::context(0),
            &[
                &der::encode_oid(oid::PKINIT_SAN),
                &der::encode(tag::context(0), &krbtgt_der),
            ],
        ));
    }
    names.push(der::encode(tag::context_primitive(2), dns_name.as_bytes()));
    let parts: Vec<&[u8]> = names.iter().map(Vec::as_slice).collect();
    let general_names = der::encode_parts(tag::SEQUENCE, &parts);
    Ok(CustomExtension::from_oid_content(
        &[2, 5, 29, 17],
        general_names,
    ))
}

/// The metrics listener's port: the one after the KDC's.
fn metrics_port(port: u16) -> Option<u16> {
    port.checked_add(1)
}

fn kdc_toml(realm: &str, domain_sid: &DomainSid, port: u16) -> String {
    let metrics = metrics_port(port).map_or(String::new(), |metrics| {
        format!(
            "\n[metrics]\n# Prometheus metrics at /metrics, health at /healthz.\nlisten = \"127.0.0.1:{metrics}\"\nprobe_interval_secs = 10\n"
        )
    });
    let netbios_name = NetbiosName::from_dns_name(realm)
        .map_or(String::new(), |name| format!("netbios_name = \"{name}\"\n"));
    format!(
        r#"# kdc configuration for the development realm {realm}, made by `kdc dev-realm`.
# Every option is listed with its default; relative paths are relative to this file.

[realm]
name = "{realm}"
# A random domain SID, as a new AD domain gets: users' and groups' objectSid values in
# directory.toml are RIDs under it.
domain_sid = "{domain_sid}"
{netbios_name}
[pac]
# logon_server = "KDC"   # default: this host's name, upper-case, <= 15 characters
accept_tgt_without_pac = true

[listen]
udp = ["127.0.0.1:{port}"]
tcp = ["127.0.0.1:{port}"]
max_request_bytes = 65536
max_udp_reply_bytes = 4096
tcp_idle_timeout_secs = 30
max_tcp_connections = 1024
max_tcp_connections_per_ip = 64
request_timeout_secs = 10

[tickets]
lifetime_secs = 36000
renewable_lifetime_secs = 604800
clock_skew_secs = 300
enctypes = ["aes256-cts-hmac-sha1-96", "aes128-cts-hmac-sha1-96", "aes256-cts-hmac-sha384-192", "aes128-cts-hmac-sha256-128"]

[pkinit]
certificate = "kdc.pem"
key = "kdc.key"
min_dh_bits = 2048
freshness = "supported"
dh_key_reuse_secs = 60
sha1_signatures = "allow"
require_pa_checksum2 = "never"
pa_checksum_hashes = ["sha1", "sha256", "sha384", "sha512"]
workers = 0
queue = 256
udp_queue_timeout_ms = 1000

# Certificate trust: client certificates issued by ca.pem (bob.pem). Remove this table to
# serve key trust only.
[pkinit.certificate_trust]
anchors = ["ca.pem"]
intermediates = []
crls = ["ca.crl"]
missing_crl = "fail_closed"
stale_crl = "fail_closed"
ekus = ["1.3.6.1.5.2.3.4", "1.3.6.1.4.1.311.20.2.2", "1.3.6.1.5.5.7.3.2"]
strong_mapping = "full"
reload_interval_secs = 30

[directory]
type = "embedded"
path = "directory.toml"

[keys]
master_key = "master.key"
store = "principals.toml"

[log]
format = "text"
level = "info"
{metrics}"#
    )
}

/// `kdc_hostname`: the KDC certificate's dNSName, for a certificate without the krbtgt SAN.
fn krb5_conf(dir: &Path, realm: &str, port: u16, kdc_hostname: Option<&str>) -> String {
    let d = dir.display();
    let hostname = kdc_hostname.map_or(String::new(), |host| {
        format!(
            "        # The KDC certificate has no id-pkinit-san krbtgt/{realm}@{realm}: accept its dNSName.\n        pkinit_kdc_hostname = {host}\n"
        )
    });
    format!(
        r#"# MIT krb5.conf for the development realm {realm}, made by `kdc dev-realm`.
# alice's certificate is self-signed (key trust): the client must trust it too to send it.
# bob's is issued by ca.pem (certificate trust), which the client trusts already.
[libdefaults]
    default_realm = {realm}
    dns_lookup_kdc = false
    dns_lookup_realm = false
    rdns = false
    dns_canonicalize_hostname = false

[realms]
    {realm} = {{
        kdc = 127.0.0.1:{port}
        pkinit_anchors = FILE:{d}/ca.pem
        pkinit_anchors = FILE:{d}/alice.pem
{hostname}    }}
"#
    )
}

#[cfg(test)]
mod tests {
    use kdc_config::Config;
    use kdc_directory::{Directory, Group};

    use super::*;

    /// kdc.toml names the domain the directory's SIDs are in, with the realm's NetBIOS name,
    /// and the directory puts alice and bob in Domain Users and alice in Developers.
    #[tokio::test]
    async fn the_realm_has_a_domain_and_groups() {
        let dir = tempfile::tempdir().unwrap();
        let made = create(dir.path(), "EXAMPLE.TEST", 1).await.unwrap();
        let config = Config::load(&made.config_path()).unwrap();
        let pac = config.pac().unwrap();
        assert_eq!(pac.netbios_name.as_str(), "EXAMPLE");
        assert!(pac.accept_tgt_without_pac);
        let domain = pac.domain_sid;

        let directory = EmbeddedDirectory::load(dir.path().join("directory.toml"))
            .await
            .unwrap();
        let group = |rid: u32, name: &str| Group {
            sid: domain.with_rid(rid),
            name: Some(name.to_owned()),
        };
        for (name, rid, groups) in [
            (
                "alice",
                1103,
                vec![group(513, "Domain Users"), group(1105, "Developers")],
            ),
            ("bob", 1104, vec![group(513, "Domain Users")]),
        ] {
            let user = directory
                .find_user(name, "EXAMPLE.TEST")
                .await
                .unwrap()
                .unwrap();
            assert_eq!(user.object_sid, Some(domain.with_rid(rid)), "{name}");
            assert_eq!(user.primary_group_id, 513, "{name}");
            assert_eq!(directory.groups_of(&user).await.unwrap(), groups, "{name}");
        }
        // The group DNs sit where AD puts them, beside the users.
        let text = std::fs::read_to_string(dir.path().join("directory.toml")).unwrap();
        assert!(
            text.contains("distinguishedName = \"CN=Domain Users,CN=Users,DC=example,DC=test\""),
            "{text}"
        );
    }
}
