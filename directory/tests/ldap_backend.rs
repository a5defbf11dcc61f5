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
use kdc_directory::{Directory, DirectoryAdmin, DirectoryError, KeyUsage, LdapDirectory};
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
