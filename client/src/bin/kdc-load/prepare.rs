//! `kdc-load prepare`: load-test users in a development realm, each with an RSA-2048 key and
//! a certificate: self-signed with the key registered as an NGC key credential (key trust,
//! MS-ADTS 2.2.20), or issued by the realm CA naming the user in id-pkinit-san (RFC 4556
//! §3.2.2) and the Microsoft UPN (certificate trust; MIT krb5kdc accepts these too).

use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use kdc::dev_certs::client_extensions;
use kdc::secret_file;
use kdc_config::Config;
use kdc_directory::keycredlink::RsaPublicKey;
use kdc_directory::{DirectoryAdmin, NewUser, UF_NORMAL_ACCOUNT};
use rcgen::{
    CertificateParams, ExtendedKeyUsagePurpose, Issuer, KeyPair, KeyUsagePurpose, PKCS_RSA_SHA256,
    PublicKeyData,
};

use super::options::{PrepareArgs, TrustKind};
use super::target::{LOAD_USERS_DIR, USERS_FILE};

/// id-pkinit-KPClientAuth (RFC 4556 §3.2.2) and Microsoft smart card logon.
const EKU_PKINIT_CLIENT: &[u64] = &[1, 3, 6, 1, 5, 2, 3, 4];
const EKU_SMARTCARD_LOGON: &[u64] = &[1, 3, 6, 1, 4, 1, 311, 20, 2, 2];

/// Makes the users; returns the users file.
pub async fn prepare(args: &PrepareArgs) -> Result<PathBuf> {
    let config = Config::load(&args.realm_dir.join("kdc.toml"))?;
    let realm = config.realm.name.clone();
    let directory = kdc::open::directory(&config).await?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| args.realm_dir.join(LOAD_USERS_DIR));
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let issuer = match args.trust {
        TrustKind::Key => None,
        TrustKind::Certificate => Some(realm_ca(&args.realm_dir)?),
    };
    let existing: HashSet<String> = directory
        .list_users()
        .await?
        .into_iter()
        .map(|u| u.user_principal_name.to_lowercase())
        .collect();
    let mut listing = format!("# kdc-load users of {realm} ({:?} trust)\n", args.trust);
    for n in 1..=args.users {
        let name = format!("load{n:05}");
        let upn = format!("{name}@{realm}");
        if !existing.contains(&upn.to_lowercase()) {
            let object_sid = kdc::admin::users::new_user_sid(directory.as_ref(), &config).await?;
            directory
                .add_user(NewUser {
                    dn: NewUser::default_dn(&name, &realm),
                    user_principal_name: upn.clone(),
                    sam_account_name: Some(name.clone()),
                    user_account_control: UF_NORMAL_ACCOUNT,
                    object_sid,
                })
                .await?;
        }
        let key = KeyPair::generate_for(&PKCS_RSA_SHA256)?;
        let pem = match &issuer {
            None => key_trust_certificate(directory.as_ref(), &name, &upn, &key).await?,
            Some(issuer) => ca_issued_certificate(&name, &realm, &key, issuer)?,
        };
        std::fs::write(out.join(format!("{name}.pem")), pem)?;
        secret_file::write(
            &out.join(format!("{name}.key")),
            key.serialize_pem().as_bytes(),
        )?;
        let _ = writeln!(listing, "{name} {name}.pem {name}.key");
    }
    let users_file = out.join(USERS_FILE);
    std::fs::write(&users_file, listing)?;
    Ok(users_file)
}

fn realm_ca(dir: &Path) -> Result<Issuer<'static, KeyPair>> {
    let read = |file: &str| {
        std::fs::read_to_string(dir.join(file))
            .with_context(|| format!("reading {}", dir.join(file).display()))
    };
    let key = KeyPair::from_pem(&read("ca.key")?)?;
    Ok(Issuer::from_ca_cert_pem(&read("ca.pem")?, key)?)
}

/// The dev realm's certificate skeleton, for a signing-only end-entity certificate.
fn params(common_name: &str, realm: &str) -> Result<CertificateParams> {
    let mut params = kdc::dev_certs::base_params(common_name, realm)?;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    Ok(params)
}

async fn key_trust_certificate(
    directory: &dyn DirectoryAdmin,
    name: &str,
    upn: &str,
    key: &KeyPair,
) -> Result<String> {
    let mut params = params(name, "key trust")?;
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let cert = params.self_signed(key)?;
    let public = RsaPublicKey::from_spki_der(&key.subject_public_key_info())?;
    kdc::admin::users::register_key(directory, upn, &public).await?;
    Ok(cert.pem())
}

fn ca_issued_certificate(
    name: &str,
    realm: &str,
    key: &KeyPair,
    issuer: &Issuer<'static, KeyPair>,
) -> Result<String> {
    let mut params = params(name, realm)?;
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::Other(EKU_PKINIT_CLIENT.to_vec()),
        ExtendedKeyUsagePurpose::ClientAuth,
        ExtendedKeyUsagePurpose::Other(EKU_SMARTCARD_LOGON.to_vec()),
    ];
    params.custom_extensions = client_extensions(realm, name, None)?;
    Ok(params.signed_by(key, issuer)?.pem())
}
