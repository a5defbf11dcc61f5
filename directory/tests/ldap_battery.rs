//! The one directory test battery (issue 3, point 7), run against the embedded file backend
//! and against the LDAP backend on a private slapd (RFC 4511), with the same assertions.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod ldap_support;
mod support;

use kdc_config::GroupMembership;
use kdc_directory::{EmbeddedDirectory, LdapDirectory};
use kdc_integration::slapd::SlapdOptions;

#[tokio::test]
async fn battery_on_the_embedded_backend() {
    let dir = tempfile::tempdir().unwrap();
    let directory = EmbeddedDirectory::create_empty(dir.path().join("directory.toml"))
        .await
        .unwrap();
    ldap_support::battery(&directory).await;
}

#[tokio::test]
async fn account_state_on_the_embedded_backend() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("directory.toml");
    let directory = EmbeddedDirectory::create_empty(&path).await.unwrap();
    ldap_support::account_state_battery(
        &directory,
        async |dn: &str, attribute: &str, value: &str| {
            // The file names users by UPN; the battery's are CN=<name>,... with UPN <name>@REALM.
            let name = dn.trim_start_matches("CN=").split(',').next().unwrap();
            let line = format!("userPrincipalName = \"{name}@{}\"", ldap_support::REALM);
            let text = std::fs::read_to_string(&path).unwrap();
            assert!(text.contains(&line), "{text}");
            std::fs::write(
                &path,
                text.replace(&line, &format!("{line}\n{attribute} = {value}")),
            )
            .unwrap();
            directory.reload().await.unwrap();
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_state_on_the_ldap_backend() {
    let slapd = ldap_support::slapd(SlapdOptions::default());
    let directory = LdapDirectory::new(&ldap_support::settings(&slapd, &slapd.url())).unwrap();
    ldap_support::account_state_battery(
        &directory,
        async |dn: &str, attribute: &str, value: &str| {
            slapd
                .modify_ldif(&format!(
                    "dn: {dn}\nchangetype: modify\nreplace: {attribute}\n{attribute}: {value}\n"
                ))
                .unwrap();
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn battery_on_the_ldap_backend() {
    let slapd = ldap_support::slapd(SlapdOptions::default());
    let directory = LdapDirectory::new(&ldap_support::settings(&slapd, &slapd.url())).unwrap();
    ldap_support::battery(&directory).await;
    // Everything the battery wrote is in the server, in AD's form.
    let stored = slapd
        .search(
            "(userPrincipalName=bob@corp.example)",
            &["msDS-KeyCredentialLink", "userAccountControl"],
        )
        .unwrap();
    assert!(stored.contains("userAccountControl: 514"), "{stored}");
    assert!(
        stored.contains(&format!(
            "msDS-KeyCredentialLink: B:{}",
            ldap_support::ngc_link(
                ldap_support::BOB_DN,
                &ldap_support::vector_key("dsi_user_ngc_ad_rsa1")
            )
            .to_dn_binary()
            .trim_start_matches("B:")
        )),
        "{stored}"
    );
}

#[tokio::test]
async fn group_battery_on_the_embedded_backend() {
    use ldap_support::{BATTERY_GROUPS, BATTERY_USERS, REALM, domain_sid, users_dn};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("directory.toml");
    let directory = EmbeddedDirectory::create_empty(&path).await.unwrap();
    ldap_support::group_battery(&directory, async || {
        let mut text = std::fs::read_to_string(&path).unwrap();
        for user in &BATTERY_USERS {
            let line = format!("userPrincipalName = \"{}@{REALM}\"", user.cn);
            assert!(text.contains(&line), "{text}");
            let mut added = line.clone();
            if let Some(rid) = user.rid {
                added.push_str(&format!("\nobjectSid = \"{}\"", domain_sid(rid)));
            }
            if let Some(primary) = user.primary_group_id {
                added.push_str(&format!("\nprimaryGroupID = {primary}"));
            }
            text = text.replace(&line, &added);
        }
        for group in &BATTERY_GROUPS {
            let members: Vec<String> = group
                .members
                .iter()
                .map(|m| format!("\"{}\"", users_dn(m)))
                .collect();
            text.push_str(&format!(
                "\n[[group]]\ndistinguishedName = \"{}\"\nsAMAccountName = \"{}\"\n\
                 objectSid = \"{}\"\nmember = [{}]\n",
                users_dn(group.cn),
                group.cn,
                domain_sid(group.rid),
                members.join(", ")
            ));
        }
        std::fs::write(&path, text).unwrap();
        directory.reload().await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_battery_on_the_ldap_backend_by_member_search() {
    let slapd = ldap_support::slapd(SlapdOptions::default());
    let settings = ldap_support::group_settings(&slapd, GroupMembership::MemberSearch);
    let directory = LdapDirectory::new(&settings).unwrap();
    ldap_support::group_battery(&directory, async || {
        ldap_support::write_battery_to(&slapd, false);
    })
    .await;
    // The second round of each user came from the cache.
    let stats = directory.group_cache_stats();
    assert_eq!((stats.hits, stats.misses), (3, 3), "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_battery_on_the_ldap_backend_by_token_groups() {
    let slapd = ldap_support::slapd(SlapdOptions::default());
    let settings = ldap_support::group_settings(&slapd, GroupMembership::TokenGroups);
    let directory = LdapDirectory::new(&settings).unwrap();
    ldap_support::group_battery(&directory, async || {
        ldap_support::write_battery_to(&slapd, true);
    })
    .await;
}
