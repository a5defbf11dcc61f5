//! The KDC with its users and registered keys in OpenLDAP (issue 3): MIT kinit gets a TGT by
//! key trust (RFC 4556, keys in msDS-KeyCredentialLink per MS-ADTS 2.2.20) through a private
//! slapd over plain LDAP, LDAPS and StartTLS (RFC 4513); the operator CLI writes to LDAP and
//! takes effect without a restart; slapd going away gives KDC_ERR_SVC_UNAVAILABLE in bounded
//! time, and its return brings service back without restarting the KDC.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::{Duration, Instant};

use kdc_integration::slapd::{Slapd, SlapdOptions};
use kdc_integration::{Realm, TcpProxy, fuzz, krb};

const KDC_ERR_CLIENT_REVOKED: i32 = 18;
const KDC_ERR_SVC_UNAVAILABLE: i32 = 29;
const KDC_ERR_CLIENT_NOT_TRUSTED: i32 = 62;

/// Fast reactions for tests: no cache (a removed key stops working at once), short
/// timeout and backoff.
const TEST_OPTIONS: &[&str] = &[
    "cache_ttl_secs = 0",
    "negative_cache_ttl_secs = 0",
    "timeout_ms = 1000",
    "reconnect_backoff_ms = 50",
    "reconnect_backoff_max_ms = 300",
];

/// Points the realm's kdc.toml at `url` of this slapd, with [`TEST_OPTIONS`] and `extra`.
fn use_ldap(realm: &Realm, slapd: &Slapd, url: &str, extra: &[&str]) {
    let mut options = TEST_OPTIONS.to_vec();
    options.extend_from_slice(extra);
    slapd.serve_realm(realm, url, &options).unwrap();
}

fn ldap_realm(options: SlapdOptions) -> (Realm, Slapd) {
    let realm = Realm::create().unwrap();
    let slapd = Slapd::start(options).unwrap();
    slapd.add_users_of(&realm).unwrap();
    (realm, slapd)
}

#[test]
fn kinit_by_key_trust_through_openldap() {
    let (mut realm, slapd) = ldap_realm(SlapdOptions::default());
    use_ldap(&realm, &slapd, &slapd.url(), &[]);
    realm.start().unwrap();
    let client = realm.client().unwrap();
    let run = client
        .kinit(&realm.principal("alice"), &realm.alice())
        .unwrap();
    assert!(run.success(), "{}\n{}", run.report(), realm.log());
    let klist = client.klist().unwrap();
    assert!(
        klist
            .output
            .stdout
            .contains("krbtgt/EXAMPLE.TEST@EXAMPLE.TEST"),
        "{}",
        klist.report()
    );
    realm.check_no_panic().unwrap();
}

/// krbtgt and service keys kept in slapd (`kdcPrincipal` entries, sealed under the master
/// key) instead of the key store file: the whole realm lives in the directory.
#[test]
fn principal_keys_in_openldap_serve_tgts_and_service_tickets() {
    let (mut realm, slapd) = ldap_realm(SlapdOptions::default());
    use_ldap(&realm, &slapd, &slapd.url(), &[]);
    let path = realm.kdc_toml_path();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("store = \"principals.toml\"\n"));
    std::fs::write(&path, text.replace("store = \"principals.toml\"\n", "")).unwrap();
    std::fs::remove_file(realm.dir().join("principals.toml")).unwrap();

    realm.admin(&["krbtgt", "rotate"]).unwrap().ok().unwrap();
    let web = realm.add_service("host/web.example").unwrap();
    let stored = slapd.search("(objectClass=kdcPrincipal)", &[]).unwrap();
    assert!(
        stored.contains("kdcPrincipalName: host/web.example"),
        "{stored}"
    );
    assert!(
        stored.contains("kdcPrincipalName: krbtgt/EXAMPLE.TEST"),
        "{stored}"
    );
    assert!(stored.contains("kdcSealedKey: 1:18:"), "{stored}");

    realm.start().unwrap();
    let client = realm.client().unwrap();
    let run = client
        .kinit(&realm.principal("alice"), &realm.alice())
        .unwrap();
    assert!(run.success(), "{}\n{}", run.report(), realm.log());
    let run = client.kvno(&[&web]).unwrap();
    assert!(run.success(), "{}\n{}", run.report(), realm.log());
    realm.check_no_panic().unwrap();
}

#[test]
fn kinit_over_ldaps_and_starttls() {
    let (mut realm, slapd) = ldap_realm(SlapdOptions {
        tls: true,
        ..SlapdOptions::default()
    });
    let ldaps = slapd.ldaps_url().unwrap();
    for (url, extra) in [
        (ldaps.as_str(), &[][..]),
        (slapd.url().as_str(), &["starttls = true"][..]),
    ] {
        use_ldap(&realm, &slapd, url, extra);
        realm.start().unwrap();
        let client = realm.client().unwrap();
        let run = client
            .kinit(&realm.principal("alice"), &realm.alice())
            .unwrap();
        assert!(
            run.success(),
            "{url} {extra:?}\n{}\n{}",
            run.report(),
            realm.log()
        );
        realm.stop().unwrap();
    }
}

#[test]
fn operator_commands_write_to_ldap_and_take_effect_without_restart() {
    let (mut realm, slapd) = ldap_realm(SlapdOptions::default());
    use_ldap(&realm, &slapd, &slapd.url(), &[]);
    realm.start().unwrap();
    let proxy = TcpProxy::start(realm.addr()).unwrap();
    let client = realm.client_via(&proxy.host_port()).unwrap();
    let alice = realm.principal("alice");
    let laptop = realm.new_identity("laptop").unwrap();
    client.trust(&laptop.cert).unwrap();

    // Not registered yet.
    let run = client.kinit(&alice, &laptop).unwrap();
    assert!(!run.success(), "{}", run.report());
    assert!(
        proxy.error_codes().contains(&KDC_ERR_CLIENT_NOT_TRUSTED),
        "{}",
        proxy.summary()
    );

    let cert = laptop.cert.to_str().unwrap();
    let added = realm
        .admin(&["key", "add", "--user", &alice, "--cert", cert])
        .unwrap()
        .ok()
        .unwrap();
    let key_id = added.stdout.split_whitespace().last().unwrap().to_owned();
    let stored = slapd
        .search("(sAMAccountName=alice)", &["msDS-KeyCredentialLink"])
        .unwrap();
    assert_eq!(
        stored.matches("msDS-KeyCredentialLink: B:").count(),
        2,
        "{stored}"
    );
    let listed = realm
        .admin(&["key", "list", "--user", &alice])
        .unwrap()
        .ok()
        .unwrap();
    assert!(listed.stdout.contains(&key_id), "{listed}");

    let run = client.kinit(&alice, &laptop).unwrap();
    assert!(
        run.success(),
        "{}\n{}\n{}",
        run.report(),
        proxy.summary(),
        realm.log()
    );

    realm
        .admin(&["key", "remove", "--user", &alice, "--key-id", &key_id])
        .unwrap()
        .ok()
        .unwrap();
    let before = proxy.error_codes().len();
    let run = client.kinit(&alice, &laptop).unwrap();
    assert!(!run.success(), "{}", run.report());
    assert!(
        proxy.error_codes()[before..].contains(&KDC_ERR_CLIENT_NOT_TRUSTED),
        "{}",
        proxy.summary()
    );
    // Her enrolled key still works, until her account is disabled.
    let run = client.kinit(&alice, &realm.alice()).unwrap();
    assert!(run.success(), "{}", run.report());
    realm
        .admin(&["user", "disable", &alice])
        .unwrap()
        .ok()
        .unwrap();
    let before = proxy.error_codes().len();
    let run = client.kinit(&alice, &realm.alice()).unwrap();
    assert!(!run.success(), "{}", run.report());
    assert!(
        proxy.error_codes()[before..].contains(&KDC_ERR_CLIENT_REVOKED),
        "{}",
        proxy.summary()
    );
    realm
        .admin(&["user", "enable", &alice])
        .unwrap()
        .ok()
        .unwrap();

    // A user added with the CLI lands in LDAP and can enrol a key.
    let carol = realm.principal("carol");
    realm.admin(&["user", "add", &carol]).unwrap().ok().unwrap();
    let users = realm.admin(&["user", "list"]).unwrap().ok().unwrap();
    assert!(users.stdout.contains(&carol), "{users}");
    let carol_id = realm.new_identity("carol").unwrap();
    client.trust(&carol_id.cert).unwrap();
    let cert = carol_id.cert.to_str().unwrap();
    realm
        .admin(&["key", "add", "--user", &carol, "--cert", cert])
        .unwrap()
        .ok()
        .unwrap();
    let run = client.kinit(&carol, &carol_id).unwrap();
    assert!(run.success(), "{}\n{}", run.report(), realm.log());
    realm.check_no_panic().unwrap();
}

#[test]
fn slapd_outage_gives_svc_unavailable_then_recovers_without_restart() {
    let (mut realm, mut slapd) = ldap_realm(SlapdOptions::default());
    use_ldap(&realm, &slapd, &slapd.url(), &[]);
    realm.start().unwrap();
    let proxy = TcpProxy::start(realm.addr()).unwrap();
    let client = realm.client_via(&proxy.host_port()).unwrap();
    let alice = realm.principal("alice");
    let run = client.kinit(&alice, &realm.alice()).unwrap();
    assert!(run.success(), "{}", run.report());

    slapd.stop();
    // The KDC's own answer is bounded by the LDAP timeout (1 s here): replay the first
    // AS-REQ with a fresh nonce (so no reply cache can answer) and time the reply.
    let mut request = proxy.exchanges()[0].request.clone();
    let nonce = krb::req_body_nonce_range(&request).unwrap();
    for byte in &mut request[nonce] {
        *byte ^= 0x5a;
    }
    let started = Instant::now();
    let (reply, _) =
        fuzz::tcp_exchange(realm.addr(), &krb::frame(&request), Duration::from_secs(10)).unwrap();
    let elapsed = started.elapsed();
    assert_eq!(
        fuzz::error_codes(&reply).first().copied().flatten(),
        Some(KDC_ERR_SVC_UNAVAILABLE),
        "{reply:02x?}"
    );
    assert!(
        elapsed < Duration::from_secs(3),
        "the KDC answered after {elapsed:?}"
    );
    // MIT kinit sees the same code (and then tries other transports, so it takes longer).
    let before = proxy.error_codes().len();
    let run = client.kinit(&alice, &realm.alice()).unwrap();
    assert!(!run.success(), "{}", run.report());
    assert!(
        proxy.error_codes()[before..].contains(&KDC_ERR_SVC_UNAVAILABLE),
        "{}",
        proxy.summary()
    );
    let log = realm.log();
    assert!(
        log.contains(&slapd.url()),
        "the log must name the server that failed:\n{log}"
    );

    slapd.restart().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let run = client.kinit(&alice, &realm.alice()).unwrap();
        if run.success() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no recovery:\n{}\n{}",
            run.report(),
            realm.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(
        realm.is_running().unwrap(),
        "the KDC must not have been restarted"
    );
    realm.check_no_panic().unwrap();
}

/// The CVE-2021-42287 shape in OpenLDAP, written by the operator CLI: mallory's entry has the
/// UPN `victim@REALM` and alice's key, robert's the sAMAccountName `victim`. kinit as victim
/// is refused with KDC_ERR_PRINCIPAL_NOT_UNIQUE rather than served from mallory's entry.
#[test]
fn a_upn_and_a_sam_account_name_on_two_entries_refuse_the_name() {
    let (mut realm, slapd) = ldap_realm(SlapdOptions::default());
    use_ldap(&realm, &slapd, &slapd.url(), &[]);
    let upn = realm.add_upn_squatter().unwrap();
    realm.start().unwrap();
    let client = realm.client().unwrap();
    let run = client.kinit(&upn, &realm.alice()).unwrap();
    assert!(!run.success(), "{}", run.report());
    assert!(
        run.report()
            .contains("Principal has multiple entries in Kerberos database"),
        "{}\n{}",
        run.report(),
        realm.log()
    );
    realm.check_no_panic().unwrap();
}
