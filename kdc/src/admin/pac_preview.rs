//! `kdc user show`: what the PAC of a TGT issued to a user now would carry ([MS-PAC] 2.5,
//! 2.10, 2.15), from the directory and the realm's settings, so an operator sees the SIDs
//! and groups before a service does. Nothing is signed.

use std::fmt::Write;
use std::path::Path;

use anyhow::{Result, bail};
use kdc_config::Config;
use kdc_directory::{Directory, Group, Sid};

use crate::open::directory as open_directory;
use crate::pac::build::{Authentication, PacIdentity, asserted_sid_meaning};

pub async fn user_show(config: &Path, upn: &str) -> Result<()> {
    let config = Config::load(config)?;
    let directory = open_directory(&config).await?;
    let user = super::users::user_by_upn(directory.as_ref(), upn).await?;
    let mut out = format!(
        "{}\n  dn                {}\n  sAMAccountName    {}\n  objectSid         {}\n",
        user.user_principal_name,
        user.dn,
        user.sam_account_name.as_deref().unwrap_or("-"),
        user.object_sid
            .as_ref()
            .map_or("-".to_owned(), Sid::to_string),
    );
    let Some(settings) = config.pac() else {
        out.push_str("PAC: none; this realm issues no PACs ([realm] domain_sid is not set)\n");
        print!("{out}");
        return Ok(());
    };
    let groups = Directory::groups_of(directory.as_ref(), &user).await?;
    let identity = match PacIdentity::from_directory(&user, &groups, &settings) {
        Ok(identity) => identity,
        Err(e) => {
            print!("{out}");
            bail!("no PAC, and no TGT: {e}");
        }
    };
    let name_of = |sid: &Sid| -> String {
        groups
            .iter()
            .find(|g: &&Group| &g.sid == sid)
            .and_then(|g| g.name.clone())
            .unwrap_or_else(|| "(no entry)".to_owned())
    };
    let domain = &settings.domain_sid;
    let _ = writeln!(out, "PAC of a TGT issued now:");
    let _ = writeln!(out, "  LOGON_INFO");
    let _ = writeln!(out, "    EffectiveName     {}", identity.account_name);
    let _ = writeln!(out, "    UserId            {}", identity.user_rid);
    let _ = writeln!(
        out,
        "    PrimaryGroupId    {} {}",
        identity.primary_group_rid,
        name_of(&domain.with_rid(identity.primary_group_rid))
    );
    for (i, rid) in identity.domain_groups.iter().enumerate() {
        let label = if i == 0 { "GroupIds" } else { "" };
        let _ = writeln!(
            out,
            "    {label:<17} {rid} {}",
            name_of(&domain.with_rid(*rid))
        );
    }
    let mut extra: Vec<(Sid, String)> = identity
        .other_groups
        .iter()
        .map(|sid| (sid.clone(), name_of(sid)))
        .collect();
    for sid in (Authentication {
        key_trust: true,
        fresh: true,
    })
    .asserted_sids()
    {
        let meaning = asserted_sid_meaning(&sid).unwrap_or_default().to_owned();
        extra.push((sid, meaning));
    }
    for (i, (sid, what)) in extra.iter().enumerate() {
        let label = if i == 0 { "ExtraSids" } else { "" };
        let _ = writeln!(out, "    {label:<17} {sid} {what}");
    }
    let _ = writeln!(out, "    LogonDomainName   {}", settings.netbios_name);
    let _ = writeln!(out, "    LogonDomainId     {domain}");
    let _ = writeln!(out, "    LogonServer       {}", settings.logon_server);
    let _ = writeln!(
        out,
        "    UserAccountControl {:#06x} (SAM flags)",
        identity.sam_account_flags
    );
    let _ = writeln!(
        out,
        "  UPN_DNS_INFO      {} {} sam {} sid {}",
        identity.upn, config.realm.name, identity.account_name, identity.user_sid
    );
    let _ = writeln!(out, "  REQUESTOR         {}", identity.user_sid);
    print!("{out}");
    Ok(())
}
