//! The LDAP backend against a private slapd, beyond the shared battery: AD's exact
//! msDS-KeyCredentialLink text (MS-ADTS 2.2.20, DN-Binary) read and matched, LDAPS and
//! StartTLS (RFC 4513 §3) with a CA file, servers failing over in order, a silent server
//! timing out, recovery after a restart, the cache counters, and the cn=config schema.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod ldap_support;
mod support;

use std::time::{Duration, Instant};

use base64::Engine;
use kdc_config::GroupMembership;
use kdc_directory::{
    Directory, DirectoryAdmin, DirectoryError, Group, KeyUsage, LdapDirectory, Sid,
};
use kdc_integration::slapd::{self, SlapdOptions};
use ldap_support::{ALICE_DN, REALM, settings, vector_key};

fn testdata(name: &str) -> String {
    std::fs::read_to_string(support::testdata_dir().join(name))
        .unwrap()
        .trim()
        .to_string()
}

fn alice_entry(links: &[&str]) -> String {
    slapd::user_ldif(ALICE_DN, "alice@EXAMPLE.TEST", "alice", 512, links)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ad_exact_key_credential_link_is_read_and_matched() {
    let slapd = ldap_support::slapd(SlapdOptions {
        suffix: "DC=contoso,DC=com".into(),
        ..SlapdOptions::default()
    });
    // As DSInternals' tests print AD's value: spaces in the owner DN, upper-case hex.
    let ngc = testdata("dsi_user_ngc_ad_rsa1.dnbinary");
    let fido = testdata("dsi_fido_yubikey5.dnbinary");
    assert!(ngc.ends_with(":CN = Admin,CN = Users,DC = contoso,DC = com"));
    slapd
        .add_ldif(&slapd::user_ldif(
            "CN=Admin,CN=Users,DC=contoso,DC=com",
            "Admin@contoso.com",
            "Admin",
            512,
            &[&ngc, &fido],
        ))
        .unwrap();
    // slapd keeps the text exactly as AD wrote it.
    let stored = slapd
        .search("(sAMAccountName=Admin)", &["msDS-KeyCredentialLink"])
        .unwrap();
    assert!(
        stored.contains(&format!("msDS-KeyCredentialLink: {ngc}\n")),
        "{stored}"
    );

    let directory = LdapDirectory::new(&settings(&slapd, &slapd.url())).unwrap();
    let admin = directory
        .find_user("admin", "CONTOSO.COM")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(admin.user_principal_name, "Admin@contoso.com");
    assert_eq!(admin.key_credentials.len(), 2);
    let key = vector_key("dsi_user_ngc_ad_rsa1");
    let link = admin
        .registered_ngc_key(&key)
        .expect("the AD value matches its key");
    // vectors.toml: KeyID and DeviceId that DSInternals states for this blob.
    assert_eq!(
        base64::engine::general_purpose::STANDARD.encode(link.credential.key_id()),
        "IHF64FL8z1RqrQ1R6Hiq1pzgT9w59ajY4866a8tNoOc="
    );
    assert_eq!(
        link.credential.device_id().unwrap().to_string(),
        "47f577e3-d2d0-4a0a-8aca-e0501098bde4"
    );
    // The FIDO value is read, but is no NGC key and names another owner.
    assert!(
        admin
            .key_credentials
            .iter()
            .any(|l| l.credential.key_usage() == KeyUsage::Fido)
    );
    assert_eq!(
        directory.find_key_owners(&key).await.unwrap(),
        ["Admin@contoso.com"]
    );
    assert!(
        admin
            .registered_ngc_key(&vector_key("msf_ngc_rsa1"))
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ldaps_and_starttls_need_the_ca() {
    let slapd = ldap_support::slapd(SlapdOptions {
        tls: true,
        ..SlapdOptions::default()
    });
    slapd.add_ldif(&alice_entry(&[])).unwrap();
    let ldaps = slapd.ldaps_url().unwrap();

    let over_ldaps = LdapDirectory::new(&settings(&slapd, &ldaps)).unwrap();
    assert!(
        over_ldaps
            .find_user("alice", REALM)
            .await
            .unwrap()
            .is_some()
    );

    let mut starttls = settings(&slapd, &slapd.url());
    starttls.starttls = true;
    let over_starttls = LdapDirectory::new(&starttls).unwrap();
    assert!(
        over_starttls
            .find_user("alice", REALM)
            .await
            .unwrap()
            .is_some()
    );

    // Without the test CA the server is not trusted, and the reason says so.
    let mut untrusted = settings(&slapd, &ldaps);
    untrusted.ca_file = None;
    let error = LdapDirectory::new(&untrusted)
        .unwrap()
        .find_user("alice", REALM)
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(matches!(error, DirectoryError::Unavailable(_)), "{message}");
    assert!(
        message.contains(&ldaps) && message.contains("certificate"),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servers_fail_over_in_order_and_errors_name_each() {
    let slapd = ldap_support::slapd(SlapdOptions::default());
    slapd.add_ldif(&alice_entry(&[])).unwrap();
    let dead = format!(
        "ldap://127.0.0.1:{}",
        kdc_integration::ports::free_port().unwrap()
    );
    let mut both = settings(&slapd, &dead);
    both.urls.push(slapd.url());
    let directory = LdapDirectory::new(&both).unwrap();
    assert!(directory.find_user("alice", REALM).await.unwrap().is_some());

    let also_dead = format!(
        "ldap://127.0.0.1:{}",
        kdc_integration::ports::free_port().unwrap()
    );
    let mut none = settings(&slapd, &dead);
    none.urls.push(also_dead.clone());
    let error = LdapDirectory::new(&none)
        .unwrap()
        .find_user("alice", REALM)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.contains(&dead) && error.contains(&also_dead),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_server_times_out_within_the_bound() {
    // Accepts TCP connections (the kernel does) but never answers an LDAP message.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ldap://{}", silent.local_addr().unwrap());
    let slapd = ldap_support::slapd(SlapdOptions::default());
    let mut hung = settings(&slapd, &url);
    hung.timeout_ms = 300;
    let directory = LdapDirectory::new(&hung).unwrap();
    let started = Instant::now();
    let error = directory.find_user("alice", REALM).await.unwrap_err();
    let elapsed = started.elapsed();
    assert!(matches!(error, DirectoryError::Unavailable(_)), "{error}");
    assert!(error.to_string().contains(&url), "{error}");
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
    // Right after, the backoff answers at once with the same reason.
    let started = Instant::now();
    let again = directory.find_user("bob", REALM).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_millis(250), "{again}");
    assert!(again.to_string().contains(&url), "{again}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recovers_after_a_server_restart_and_bad_bind_is_reported() {
    let mut slapd = ldap_support::slapd(SlapdOptions::default());
    slapd.add_ldif(&alice_entry(&[])).unwrap();
    let mut no_cache = settings(&slapd, &slapd.url());
    no_cache.cache_ttl_secs = 0;
    let directory = LdapDirectory::new(&no_cache).unwrap();
    assert!(directory.find_user("alice", REALM).await.unwrap().is_some());

    slapd.stop();
    let error = directory.find_user("alice", REALM).await.unwrap_err();
    assert!(matches!(error, DirectoryError::Unavailable(_)), "{error}");
    slapd.restart().unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match directory.find_user("alice", REALM).await {
            Ok(found) => {
                assert!(found.is_some());
                break;
            }
            Err(e) => assert!(Instant::now() < deadline, "no recovery: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let mut wrong = settings(&slapd, &slapd.url());
    let file = slapd.tmp().join("wrong.password");
    std::fs::write(&file, "not-the-password\n").unwrap();
    wrong.bind_password_file = Some(file);
    let error = LdapDirectory::new(&wrong)
        .unwrap()
        .check()
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("invalidCredentials"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cache_serves_hot_users_and_remembers_unknown_ones() {
    let slapd = ldap_support::slapd(SlapdOptions::default());
    slapd.add_ldif(&alice_entry(&[])).unwrap();
    let directory = LdapDirectory::new(&settings(&slapd, &slapd.url())).unwrap();
    assert!(
        !directory
            .find_user("alice", REALM)
            .await
            .unwrap()
            .unwrap()
            .is_disabled()
    );
    // Changed behind the KDC's back: the cached entry is served until its TTL.
    slapd
        .modify_ldif(&format!(
            "dn: {ALICE_DN}\nchangetype: modify\nreplace: userAccountControl\nuserAccountControl: 514\n"
        ))
        .unwrap();
    assert!(
        !directory
            .find_user("ALICE", "example.test")
            .await
            .unwrap()
            .unwrap()
            .is_disabled()
    );
    assert_eq!(directory.find_user("carol", REALM).await.unwrap(), None);
    assert_eq!(directory.find_user("carol", REALM).await.unwrap(), None);
    let stats = directory.cache_stats();
    assert_eq!((stats.hits, stats.negative_hits, stats.misses), (1, 1, 2));
    // A write through the backend drops the cache, so it sees the change.
    directory
        .set_disabled("alice@EXAMPLE.TEST", true)
        .await
        .unwrap();
    assert!(
        directory
            .find_user("alice", REALM)
            .await
            .unwrap()
            .unwrap()
            .is_disabled()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cn_config_schema_from_the_ldif_loads_and_serves() {
    let slapd = ldap_support::slapd(SlapdOptions {
        cn_config: true,
        ..SlapdOptions::default()
    });
    let link = ldap_support::ngc_link(ALICE_DN, &vector_key("msf_ngc_rsa1")).to_dn_binary();
    slapd.add_ldif(&alice_entry(&[&link])).unwrap();
    let directory = LdapDirectory::new(&settings(&slapd, &slapd.url())).unwrap();
    let alice = directory.find_user("alice", REALM).await.unwrap().unwrap();
    assert!(
        alice
            .registered_ngc_key(&vector_key("msf_ngc_rsa1"))
            .is_some()
    );
    assert_eq!(directory.list_users().await.unwrap().len(), 1);
}

/// AD always writes userAccountControl; an entry without it is not known to be enabled, so
/// it is refused (and logged), unlike the embedded file's documented default of 512.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_entry_without_user_account_control_is_refused() {
    let slapd = ldap_support::slapd(SlapdOptions::default());
    let ldif = slapd::user_ldif(ALICE_DN, "alice@EXAMPLE.TEST", "alice", 512, &[]);
    let without: String = ldif
        .lines()
        .filter(|line| !line.starts_with("userAccountControl:"))
        .map(|line| format!("{line}\n"))
        .collect();
    assert_ne!(ldif, without);
    slapd.add_ldif(&without).unwrap();
    let directory = LdapDirectory::new(&settings(&slapd, &slapd.url())).unwrap();
    let alice = directory.find_user("alice", REALM).await.unwrap().unwrap();
    assert_eq!(
        alice.refusal(std::time::SystemTime::now()),
        Some(kdc_directory::AccountRefusal::Disabled)
    );
}

/// deploy/ldap's example tree, through the cn=config schema of kdc.ldif: alice is in Staff,
/// in Engineers through Staff, and in Domain Users (RID 513, her primary group), as the
/// file's header says; objectSid values are AD's binary form.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_tree_gives_alice_her_nested_groups() {
    let slapd = ldap_support::slapd(SlapdOptions {
        cn_config: true,
        ..SlapdOptions::default()
    });
    let ldif =
        std::fs::read_to_string(slapd::repo_root().join("deploy/ldap/example-dit.ldif")).unwrap();
    // The harness made the suffix, CN=Users and CN=kdc already.
    let made = ["dn: DC=example,DC=test\n", "dn: CN=Users,", "dn: CN=kdc,"];
    let rest: Vec<&str> = ldif
        .split("\n\n")
        .filter(|record| record.lines().any(|line| line.starts_with("dn: ")))
        .filter(|record| !made.iter().any(|dn| record.contains(dn)))
        .collect();
    assert_eq!(rest.len(), 7, "four users and three groups");
    slapd.add_ldif(&rest.join("\n\n")).unwrap();

    let settings = ldap_support::group_settings(&slapd, GroupMembership::MemberSearch);
    let directory = LdapDirectory::new(&settings).unwrap();
    let alice = directory.find_user("alice", REALM).await.unwrap().unwrap();
    let domain = "S-1-5-21-1004336348-1177238915-682003330";
    assert_eq!(
        alice.object_sid.as_ref().map(ToString::to_string),
        Some(format!("{domain}-1103"))
    );
    assert_eq!(alice.primary_group_id, 513);
    let named = |rid: u32, name: &str| Group {
        sid: format!("{domain}-{rid}").parse().unwrap(),
        name: Some(name.into()),
    };
    assert_eq!(
        directory.groups_of(&alice).await.unwrap(),
        [
            named(513, "Domain Users"),
            named(1200, "Staff"),
            named(1201, "Engineers")
        ]
    );
    let bob = directory.find_user("bob", REALM).await.unwrap().unwrap();
    assert_eq!(
        directory.groups_of(&bob).await.unwrap(),
        [named(513, "Domain Users")]
    );
}

/// tokenGroups as AD returns it may hold SIDs with no entry here (BUILTIN, other domains):
/// listed unnamed. No value (AD hides what the bind account may not read), a value that is
/// no SID, or more values than the bound refuse the list.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_groups_name_what_they_can_and_refuse_what_they_cannot_read() {
    let slapd = ldap_support::slapd(SlapdOptions::default());
    slapd.add_ldif(&alice_entry(&[])).unwrap();
    let settings = ldap_support::group_settings(&slapd, GroupMembership::TokenGroups);
    let mut uncached = settings.clone();
    uncached.cache_ttl_secs = 0;
    let directory = LdapDirectory::new(&uncached).unwrap();
    let set_token_groups = |values: &[Vec<u8>]| {
        let mut ldif = format!("dn: {ALICE_DN}\nchangetype: modify\nreplace: tokenGroups\n");
        for value in values {
            ldif.push_str(&format!(
                "tokenGroups:: {}\n",
                base64::engine::general_purpose::STANDARD.encode(value)
            ));
        }
        slapd.modify_ldif(&ldif).unwrap();
    };
    slapd
        .modify_ldif(&format!(
            "dn: {ALICE_DN}\nchangetype: modify\nadd: objectClass\nobjectClass: kdcTestTokenGroups\n"
        ))
        .unwrap();
    // AD lists the primary group at least: no value means the attribute was not readable.
    let alice = directory.find_user("alice", REALM).await.unwrap().unwrap();
    let refused = directory.groups_of(&alice).await;
    assert!(
        matches!(&refused, Err(DirectoryError::Membership { reason, .. }) if reason.contains("may not read")),
        "{refused:?}"
    );
    let builtin_users: Sid = "S-1-5-32-545".parse().unwrap();
    set_token_groups(&[builtin_users.to_binary()]);
    // No objectSid: no primary group either.
    assert_eq!(
        directory.groups_of(&alice).await.unwrap(),
        [Group {
            sid: builtin_users.clone(),
            name: None
        }]
    );

    set_token_groups(&[builtin_users.to_binary(), vec![1, 5, 0]]);
    let refused = directory.groups_of(&alice).await;
    assert!(
        matches!(&refused, Err(DirectoryError::Membership { reason, .. }) if reason.contains("no SID")),
        "{refused:?}"
    );

    let many: Vec<Vec<u8>> = (0..=kdc_directory::MAX_GROUPS)
        .map(|i| ldap_support::domain_sid(5000 + u32::try_from(i).unwrap()).to_binary())
        .collect();
    set_token_groups(&many);
    let refused = directory.groups_of(&alice).await;
    assert!(
        matches!(&refused, Err(DirectoryError::Membership { reason, .. }) if reason.contains("more than 1000 groups")),
        "{refused:?}"
    );
    set_token_groups(&many[1..]);
    assert_eq!(
        directory.groups_of(&alice).await.unwrap().len(),
        kdc_directory::MAX_GROUPS
    );
}

/// The member search follows a chain of groups as deep as the bound, and refuses one level
/// more, naming the group beyond it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn member_search_nesting_is_bounded() {
    use kdc_directory::MAX_GROUP_NESTING;
    let slapd = ldap_support::slapd(SlapdOptions::default());
    slapd.add_ldif(&alice_entry(&[])).unwrap();
    let mut settings = ldap_support::group_settings(&slapd, GroupMembership::MemberSearch);
    settings.cache_ttl_secs = 0;
    let directory = LdapDirectory::new(&settings).unwrap();
    let add_level = |level: usize| {
        let member = if level == 0 {
            ALICE_DN.to_owned()
        } else {
            ldap_support::users_dn(&format!("G{}", level - 1))
        };
        slapd
            .add_ldif(&ldap_support::battery_group_ldif_with(
                &format!("G{level}"),
                2000 + u32::try_from(level).unwrap(),
                &[member],
            ))
            .unwrap();
    };
    for level in 0..MAX_GROUP_NESTING {
        add_level(level);
    }
    let alice = directory.find_user("alice", REALM).await.unwrap().unwrap();
    assert_eq!(
        directory.groups_of(&alice).await.unwrap().len(),
        MAX_GROUP_NESTING
    );
    add_level(MAX_GROUP_NESTING);
    let refused = directory.groups_of(&alice).await;
    let beyond = ldap_support::users_dn(&format!("G{MAX_GROUP_NESTING}"));
    assert!(
        matches!(&refused, Err(DirectoryError::Membership { reason, .. })
            if reason.contains("deeper than 16 levels") && kdc_directory::dn_equivalent(
                reason.rsplit("through ").next().unwrap().trim_end_matches(')'), &beyond)),
        "{refused:?}"
    );
}

/// Groups come from the cache for the users' TTL (a change behind the KDC's back shows
/// after it); with the directory down, the same typed error as a user lookup.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_are_cached_and_a_directory_down_is_unavailable() {
    let mut slapd = ldap_support::slapd(SlapdOptions::default());
    slapd.add_ldif(&alice_entry(&[])).unwrap();
    slapd
        .add_ldif(&ldap_support::battery_group_ldif_with(
            "Staff",
            1200,
            &[ALICE_DN.to_owned()],
        ))
        .unwrap();
    let settings = ldap_support::group_settings(&slapd, GroupMembership::MemberSearch);
    let cached = LdapDirectory::new(&settings).unwrap();
    let mut no_cache = settings.clone();
    no_cache.cache_ttl_secs = 0;
    let uncached = LdapDirectory::new(&no_cache).unwrap();
    let alice = cached.find_user("alice", REALM).await.unwrap().unwrap();
    assert_eq!(cached.groups_of(&alice).await.unwrap().len(), 1);
    assert_eq!(uncached.groups_of(&alice).await.unwrap().len(), 1);
    slapd
        .add_ldif(&ldap_support::battery_group_ldif_with(
            "Engineers",
            1201,
            &[ldap_support::users_dn("Staff")],
        ))
        .unwrap();
    assert_eq!(cached.groups_of(&alice).await.unwrap().len(), 1);
    assert_eq!(uncached.groups_of(&alice).await.unwrap().len(), 2);
    let stats = cached.group_cache_stats();
    assert_eq!((stats.hits, stats.misses, stats.entries), (1, 1, 1));

    slapd.stop();
    let error = uncached.groups_of(&alice).await.unwrap_err();
    assert!(matches!(error, DirectoryError::Unavailable(_)), "{error}");
    let lookup = uncached.find_user("alice", REALM).await;
    assert!(
        matches!(lookup, Err(DirectoryError::Unavailable(_))),
        "{lookup:?}"
    );
}
