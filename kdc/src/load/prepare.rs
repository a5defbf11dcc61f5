//! `kdc-load prepare`: load-test users in a development realm, each with an RSA-2048 key and
//! a certificate: self-signed with the key registered as an NGC key credential (key trust,
//! MS-ADTS 2.2.20), or issued by the realm CA naming the user in id-pkinit-san (RFC 4556
//! §3.2.2) and the Microsoft UPN (certificate trust; MIT krb5kdc accepts these too).

use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use kdc_config::Config;
use kdc_directory::keycredlink::RsaPublicKey;
use kdc_directory::{DirectoryAdmin, NewUser, UF_NORMAL_ACCOUNT};
use rcgen::{
    CertificateParams, CustomExtension, ExtendedKeyUsagePurpose, Issuer, KeyPair, KeyUsagePurpose,
    PKCS_RSA_SHA256, PublicKeyData,
};

use super::options::{PrepareArgs, TrustKind};
use super::target::{LOAD_USERS_DIR, USERS_FILE};
use crate::proto::der::{self, tag};
use crate::proto::kerberos::{NT_PRINCIPAL, principal};
use crate::proto::pkinit::Krb5PrincipalName;
use crate::secret_file;

/// id-pkinit-KPClientAuth (RFC 4556 §3.2.2) and Microsoft smart card logon.
const EKU_PKINIT_CLIENT: &[u64] = &[1, 3, 6, 1, 5, 2, 3, 4];
const EKU_SMARTCARD_LOGON: &[u64] = &[1, 3, 6, 1, 4, 1, 311, 20, 2, 2];
/// Microsoft UPN otherName (MS-PKCA 3.1.5.2.1.1).
const MS_UPN: &[u32] = &[1, 3, 6, 1, 4, 1, 311, 20, 2, 3];
const UTF8_STRING: u8 = 0x0c;

/// Makes the users; returns the users file.
pub async fn prepare(args: &PrepareArgs) -> Result<PathBuf> {
    let config = Config::load(&args.realm_dir.join("kdc.toml"))?;
    let realm = config.realm.name.clone();
    let directory = crate::daemon::open_directory(&config).await?;
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
    let base_dn = realm
        .to_lowercase()
        .split('.')
        .map(|part| format!("DC={part}"))
        .collect::<Vec<_>>()
        .join(",");
    let mut listing = format!("# kdc-load users of {realm} ({:?} trust)\n", args.trust);
    for n in 1..=args.users {
        let name = format!("load{n:05}");
        let upn = format!("{name}@{realm}");
        if !existing.contains(&upn.to_lowercase()) {
            directory
                .add_user(NewUser {
                    dn: format!("CN={name},CN=Users,{base_dn}"),
                    user_principal_name: upn.clone(),
                    sam_account_name: Some(name.clone()),
                    user_account_control: UF_NORMAL_ACCOUNT,
                })
                .await?;
        }
        let key = KeyPair::generate_for(&PKCS_RSA_SHA256)?;
        let pem = match &issuer {
            None => key_trust_certificate(directory.as_ref(), &name, &upn, &key).await?,
            Some(issuer) => ca_issued_certificate(&name, &realm, &upn, &key, issuer)?,
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
    let mut params = crate::dev_realm::base_params(common_name, realm)?;
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
    crate::dev_realm::register_key(directory, upn, &public).await?;
    Ok(cert.pem())
}

fn ca_issued_certificate(
    name: &str,
    realm: &str,
    upn: &str,
    key: &KeyPair,
    issuer: &Issuer<'static, KeyPair>,
) -> Result<String> {
    let mut params = params(name, realm)?;
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::Other(EKU_PKINIT_CLIENT.to_vec()),
        ExtendedKeyUsagePurpose::ClientAuth,
        ExtendedKeyUsagePurpose::Other(EKU_SMARTCARD_LOGON.to_vec()),
    ];
    params.custom_extensions = vec![client_san(name, realm, upn)?];
    Ok(params.signed_by(key, issuer)?.pem())
}

/// subjectAltName: otherName id-pkinit-san = name@REALM, otherName MS UPN = upn.
fn client_san(name: &str, realm: &str, upn: &str) -> Result<CustomExtension> {
    let krb5_name = Krb5PrincipalName::new(realm, principal(NT_PRINCIPAL, &[name]));
    let krb5_der =
        rasn::der::encode(&krb5_name).map_err(|e| anyhow::anyhow!("KRB5PrincipalName: {e}"))?;
    let other_name = |oid: &[u32], value: &[u8]| {
        der::encode_parts(
            tag::context(0),
            &[&der::encode_oid(oid), &der::encode(tag::context(0), value)],
        )
    };
    let pkinit_san = other_name(crate::proto::codes::oid::PKINIT_SAN, &krb5_der);
    let ms_upn = other_name(MS_UPN, &der::encode(UTF8_STRING, upn.as_bytes()));
    let names = der::encode_parts(tag::SEQUENCE, &[&pkinit_san, &ms_upn]);
    Ok(CustomExtension::from_oid_content(&[2, 5, 29, 17], names))
}
