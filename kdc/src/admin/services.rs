//! Operator commands on principal keys: `kdc service add|list`, `kdc keytab export` and
//! `kdc krbtgt rotate`. New key versions are added, never replaced, so tickets sealed under
//! an older kvno stay valid until they expire (RFC 4120 §5.3 kvno).

use std::path::Path;

use anyhow::{Context, Result, bail};
use kdc_config::Config;
use kdc_directory::principal_keys::ServiceStore;

use super::keytab::{KeytabEntry, encode};
use crate::crypto::Enctype;
use crate::keys::{KeyRing, MasterKey, new_key_version};
use crate::proto::kerberos::{NT_PRINCIPAL, NT_SRV_INST};
use crate::secret_file;

struct Store {
    config: Config,
    master: MasterKey,
    store: std::sync::Arc<dyn ServiceStore>,
}

async fn open(config: &Path) -> Result<Store> {
    let config = Config::load(config)?;
    let master = MasterKey::load(&config.keys.master_key)?;
    let store = crate::open::key_store(&config).await?;
    Ok(Store {
        config,
        master,
        store,
    })
}

/// `host/web.example@REALM` or `host/web.example` -> (name without realm, realm).
fn split_principal<'a>(principal: &'a str, default_realm: &'a str) -> (&'a str, &'a str) {
    principal
        .rsplit_once('@')
        .unwrap_or((principal, default_realm))
}

fn realm_enctypes(config: &Config) -> Vec<Enctype> {
    config.tickets.enctypes.iter().map(|&e| e.into()).collect()
}

pub async fn service_add(config: &Path, principal: &str) -> Result<()> {
    let s = open(config).await?;
    let (name, realm) = split_principal(principal, &s.config.realm.name);
    if realm != s.config.realm.name {
        bail!("{principal} is not in realm {}", s.config.realm.name);
    }
    if !name.contains('/') || name.starts_with("krbtgt/") {
        bail!("{name:?} is not a service name like host/web.example");
    }
    if s.store.find_service(name).await?.is_some() {
        bail!("{name}@{realm} exists already");
    }
    let (service, kvno) = new_key_version(&s.master, None, name, &realm_enctypes(&s.config))?;
    s.store.put_service(service).await?;
    println!("added {name}@{realm} kvno {kvno}; restart kdc serve to use it");
    Ok(())
}

pub async fn service_list(config: &Path) -> Result<()> {
    let s = open(config).await?;
    for service in s.store.list_services().await? {
        let kvnos: Vec<String> = service
            .keys
            .iter()
            .map(|k| format!("{}:{}", k.kvno, k.enctype))
            .collect();
        println!(
            "{}@{}\t{}",
            service.name,
            s.config.realm.name,
            kvnos.join(" ")
        );
    }
    Ok(())
}

pub async fn keytab_export(config: &Path, principal: &str, out: &Path) -> Result<()> {
    let s = open(config).await?;
    let (name, realm) = split_principal(principal, &s.config.realm.name);
    let ring = KeyRing::load(&*s.store, &s.master).await?;
    let stored = s
        .store
        .find_service(name)
        .await?
        .with_context(|| format!("no principal {name}"))?;
    let components: Vec<&str> = name.split('/').collect();
    let name_type = if components.len() > 1 {
        NT_SRV_INST
    } else {
        NT_PRINCIPAL
    };
    let timestamp = u32::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
    )
    .unwrap_or(u32::MAX);
    let mut entries = Vec::new();
    for sealed in &stored.keys {
        let key = ring
            .get(name, Some(sealed.kvno), sealed.enctype)
            .with_context(|| {
                format!(
                    "key kvno {} enctype {} not in the key ring",
                    sealed.kvno, sealed.enctype
                )
            })?;
        entries.push(KeytabEntry {
            realm,
            components: components.clone(),
            name_type: u32::try_from(name_type).unwrap_or(1),
            timestamp,
            kvno: sealed.kvno,
            key,
        });
    }
    let bytes = zeroize::Zeroizing::new(encode(&entries)?);
    secret_file::write(out, &bytes).with_context(|| format!("writing {}", out.display()))?;
    println!(
        "wrote {} keys of {name}@{realm} to {}",
        entries.len(),
        out.display()
    );
    Ok(())
}

pub async fn krbtgt_rotate(config: &Path) -> Result<()> {
    let s = open(config).await?;
    let name = format!("krbtgt/{}", s.config.realm.name);
    let existing = s.store.find_service(&name).await?;
    let enctypes: Vec<Enctype> = match &existing {
        Some(principal) => {
            let newest = principal.keys.iter().map(|k| k.kvno).max().unwrap_or(0);
            principal
                .keys
                .iter()
                .filter(|k| k.kvno == newest)
                .filter_map(|k| Enctype::from_i32(k.enctype))
                .collect()
        }
        None => vec![Enctype::Aes256CtsHmacSha196],
    };
    let (principal, kvno) = new_key_version(&s.master, existing, &name, &enctypes)?;
    s.store.put_service(principal).await?;
    println!(
        "{name} now at kvno {kvno}; earlier versions kept. Restart kdc serve to issue under it."
    );
    Ok(())
}
