//! Operator commands on the directory: `kdc user add|disable|enable|list` and
//! `kdc key add|list|remove`, writing complete KEYCREDENTIALLINK_BLOBs (MS-ADTS 2.2.20).

use std::path::Path;

use anyhow::{Context, Result, bail};
use base64::Engine;
use kdc_config::Config;
use kdc_directory::keycredlink::{Guid, RsaPublicKey, filetime_now};
use kdc_directory::{
    DirectoryAdmin, KeyCredential, KeyCredentialLink, NewUser, UF_NORMAL_ACCOUNT, User,
};

use crate::open::directory as open_directory;

pub async fn user_add(
    config: &Path,
    upn: &str,
    sam: Option<String>,
    dn: Option<String>,
) -> Result<()> {
    let config = Config::load(config)?;
    let directory = open_directory(&config).await?;
    let (name, suffix) = upn
        .split_once('@')
        .with_context(|| format!("{upn:?} is not name@REALM"))?;
    let dn = dn.unwrap_or_else(|| NewUser::default_dn(name, suffix));
    let object_sid = new_user_sid(directory.as_ref(), &config).await?;
    let user = directory
        .add_user(NewUser {
            dn,
            user_principal_name: upn.to_owned(),
            sam_account_name: Some(sam.unwrap_or_else(|| name.to_owned())),
            user_account_control: UF_NORMAL_ACCOUNT,
            object_sid,
        })
        .await?;
    println!("added {} ({})", user.user_principal_name, user.dn);
    match (&user.object_sid, &config.realm.domain_sid) {
        (Some(sid), _) => println!("objectSid {sid}"),
        (None, Some(_)) => println!(
            "note: give the entry an objectSid in the realm's domain; without one the KDC \
             refuses its logons (a PAC names the user by SID)"
        ),
        (None, None) => {}
    }
    Ok(())
}

/// The objectSid a new user gets when the realm issues PACs and the directory leaves the
/// choice to us (the embedded one); None otherwise.
pub async fn new_user_sid(
    directory: &dyn DirectoryAdmin,
    config: &Config,
) -> Result<Option<kdc_directory::Sid>> {
    let Some(domain) = &config.realm.domain_sid else {
        return Ok(None);
    };
    Ok(directory
        .next_rid(domain)
        .await?
        .map(|rid| domain.with_rid(rid)))
}

pub async fn user_set_disabled(config: &Path, upn: &str, disabled: bool) -> Result<()> {
    let config = Config::load(config)?;
    open_directory(&config)
        .await?
        .set_disabled(upn, disabled)
        .await?;
    println!("{upn} {}", if disabled { "disabled" } else { "enabled" });
    Ok(())
}

pub async fn user_list(config: &Path) -> Result<()> {
    let config = Config::load(config)?;
    for user in open_directory(&config).await?.list_users().await? {
        println!(
            "{}\t{}\t{}\tkeys={}\t{}",
            user.user_principal_name,
            user.sam_account_name.as_deref().unwrap_or("-"),
            if user.is_disabled() {
                "disabled"
            } else {
                "enabled"
            },
            user.key_credentials.len(),
            user.dn
        );
    }
    Ok(())
}

/// Reads the public key of a PEM certificate, SubjectPublicKeyInfo or PKCS#1 RSA public key.
pub fn read_public_key(path: &Path) -> Result<RsaPublicKey> {
    let text = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let block = pem::parse(&text).with_context(|| format!("{}: not PEM", path.display()))?;
    let key = match block.tag() {
        "CERTIFICATE" => {
            let (_, cert) = x509_parser::parse_x509_certificate(block.contents())
                .map_err(|e| anyhow::anyhow!("{}: bad certificate: {e}", path.display()))?;
            RsaPublicKey::from_spki_der(cert.public_key().raw)?
        }
        "PUBLIC KEY" => RsaPublicKey::from_spki_der(block.contents())?,
        "RSA PUBLIC KEY" => RsaPublicKey::from_pkcs1_der(block.contents())?,
        other => bail!(
            "{}: PEM block {other:?} is not a certificate or public key",
            path.display()
        ),
    };
    Ok(key)
}

pub async fn key_add(config: &Path, upn: &str, key_file: &Path) -> Result<()> {
    let config = Config::load(config)?;
    let directory = open_directory(&config).await?;
    let key = read_public_key(key_file)?;
    let key_id = register_key(&*directory, upn, &key).await?;
    println!(
        "{}",
        base64::engine::general_purpose::STANDARD.encode(key_id)
    );
    Ok(())
}

/// The user whose userPrincipalName is `upn` (case-insensitively, as the admin commands name
/// users).
pub async fn user_by_upn(directory: &dyn DirectoryAdmin, upn: &str) -> Result<User> {
    directory
        .list_users()
        .await?
        .into_iter()
        .find(|u| u.user_principal_name.eq_ignore_ascii_case(upn))
        .with_context(|| format!("no user {upn}"))
}

/// Registers an NGC key for a user, as Windows Hello for Business enrolment would.
pub async fn register_key(
    directory: &dyn DirectoryAdmin,
    upn: &str,
    key: &RsaPublicKey,
) -> Result<Vec<u8>> {
    let user = user_by_upn(directory, upn).await?;
    let mut device = [0u8; 16];
    aws_lc_rs::rand::fill(&mut device).map_err(|_| anyhow::anyhow!("random generator failed"))?;
    let credential = KeyCredential::new_ngc(key, Guid::from_bytes(device), filetime_now());
    let key_id = credential.key_id().to_vec();
    directory
        .add_key_credential(
            upn,
            KeyCredentialLink {
                owner_dn: user.dn,
                credential,
            },
        )
        .await?;
    Ok(key_id)
}

pub async fn key_list(config: &Path, upn: Option<&str>) -> Result<()> {
    let config = Config::load(config)?;
    let users: Vec<User> = open_directory(&config).await?.list_users().await?;
    for user in users
        .iter()
        .filter(|u| upn.is_none_or(|upn| u.user_principal_name.eq_ignore_ascii_case(upn)))
    {
        for link in &user.key_credentials {
            let credential = &link.credential;
            println!(
                "{}\t{}\t{:?}\t{}\tdevice={}\t{}",
                user.user_principal_name,
                base64::engine::general_purpose::STANDARD.encode(credential.key_id()),
                credential.key_usage(),
                credential
                    .rsa_public_key()
                    .map(|k| format!("rsa{}", k.modulus_bits()))
                    .unwrap_or_else(|| "unusable".into()),
                credential
                    .device_id()
                    .map(|d| d.to_string())
                    .unwrap_or_else(|| "-".into()),
                link.owner_dn
            );
        }
    }
    Ok(())
}

pub async fn key_remove(config: &Path, upn: &str, key_id: &str) -> Result<()> {
    let config = Config::load(config)?;
    let directory = open_directory(&config).await?;
    let key_id = base64::engine::general_purpose::STANDARD
        .decode(key_id)
        .or_else(|_| hex::decode(key_id))
        .with_context(|| format!("key id {key_id:?} is neither base64 nor hex"))?;
    if !directory.remove_key_credential(upn, &key_id).await? {
        bail!("{upn} has no key with that KeyID");
    }
    println!("removed");
    Ok(())
}
