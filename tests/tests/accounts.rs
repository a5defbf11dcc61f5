//! Client accounts with MIT clients against `kdc serve`: a name on two directory entries
//! gets KDC_ERR_PRINCIPAL_NOT_UNIQUE (the CVE-2021-42287 shape), `kinit -C` gets the
//! canonical name (RFC 6806 §5) and plain kinit the requested one, and a TGT older than the
//! re-check threshold stops yielding service tickets and renewals once the account is
//! disabled (the KDC's clock set back with libfaketime when the TGT is issued).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use kdc_integration::{MitClient, Realm};

/// MIT's texts for KDC_ERR_PRINCIPAL_NOT_UNIQUE (8) and KDC_ERR_CLIENT_REVOKED (18).
const NOT_UNIQUE: &str = "Principal has multiple entries in Kerberos database";
const REVOKED: &str = "Client's credentials have been revoked";

fn admin(realm: &Realm, args: &[&str]) {
    let run = realm.admin(args).unwrap();
    assert!(run.success(), "{args:?}: {run:?}");
}

/// A realm where mallory squats robert's name (`Realm::add_upn_squatter`).
fn realm_with_a_upn_squatter() -> Realm {
    let realm = Realm::create().unwrap();
    realm.add_upn_squatter().unwrap();
    realm
}

#[test]
fn kinit_of_a_name_on_two_entries_gets_principal_not_unique() {
    let mut realm = realm_with_a_upn_squatter();
    realm.start().unwrap();
    let client = realm.client().unwrap();
    let run = client
        .kinit(&realm.principal("victim"), &realm.alice())
        .unwrap();
    assert!(!run.success(), "{}", run.report());
    assert!(run.report().contains(NOT_UNIQUE), "{}", run.report());
    assert!(
        realm
            .log()
            .contains("CN=mallory,CN=Users,DC=example,DC=test")
            && realm
                .log()
                .contains("CN=robert,CN=Users,DC=example,DC=test"),
        "the log names both entries:\n{}",
        realm.log()
    );
    // The key itself works under mallory's own name.
    let run = client
        .kinit(&realm.principal("mallory"), &realm.alice())
        .unwrap();
    assert!(run.success(), "{}\n{}", run.report(), realm.log());
    realm.check_no_panic().unwrap();
}

#[test]
fn kinit_dash_c_gets_the_canonical_name_and_plain_kinit_the_requested_one() {
    let mut realm = Realm::create().unwrap();
    let upn = realm.principal("carol.smith");
    admin(
        &realm,
        &[
            "user",
            "add",
            &upn,
            "--sam",
            "carol",
            "--dn",
            "CN=carol,CN=Users,DC=example,DC=test",
        ],
    );
    let cert = realm.dir().join("alice.pem");
    admin(
        &realm,
        &[
            "key",
            "add",
            "--user",
            &upn,
            "--cert",
            cert.to_str().unwrap(),
        ],
    );
    realm.start().unwrap();
    let client = realm.client().unwrap();

    let run = client.kinit_with(&["-C"], &upn, &realm.alice()).unwrap();
    assert!(run.success(), "{}\n{}", run.report(), realm.log());
    let klist = client.klist().unwrap();
    assert!(
        klist.output.stdout.contains(&format!(
            "Default principal: {}\n",
            realm.principal("carol")
        )),
        "{}",
        klist.report()
    );

    let run = client.kinit(&upn, &realm.alice()).unwrap();
    assert!(run.success(), "{}\n{}", run.report(), realm.log());
    let klist = client.klist().unwrap();
    assert!(
        klist
            .output
            .stdout
            .contains(&format!("Default principal: {upn}\n")),
        "{}",
        klist.report()
    );
}

/// The TGT is issued while the KDC's clock (and the client's) runs 25 minutes behind, so
/// afterwards, on the real clock, it is older than the 20-minute re-check threshold.
#[test]
fn an_old_tgt_of_a_disabled_user_gets_no_service_ticket_and_no_renewal() {
    const BEHIND_SECS: i64 = 25 * 60;
    let mut realm = Realm::create().unwrap();
    let services = ["host/web.example", "host/web2.example"].map(|s| realm.principal(s));
    for service in &services {
        admin(&realm, &["service", "add", service]);
    }
    realm.set_clock_offset(-BEHIND_SECS).unwrap();
    realm.start().unwrap();
    let behind =
        realm
            .client()
            .unwrap()
            .with_wrapper(["faketime", "-f", &format!("-{BEHIND_SECS}")]);
    let run = behind
        .kinit(&realm.principal("alice"), &realm.alice())
        .unwrap();
    assert!(run.success(), "{}\n{}", run.report(), realm.log());
    realm.stop().unwrap();
    realm.set_clock_offset(0).unwrap();
    realm.start().unwrap();

    // The same credential cache on the real clock.
    let now = MitClient::new(behind.dir(), &behind.krb5_conf().unwrap()).unwrap();
    let run = now.kvno(&[&services[0]]).unwrap();
    assert!(
        run.success(),
        "old TGT, account fine: {}\n{}",
        run.report(),
        realm.log()
    );

    admin(&realm, &["user", "disable", &realm.principal("alice")]);
    realm.restart().unwrap();
    let run = now.kvno(&[&services[1]]).unwrap();
    assert!(!run.success(), "{}", run.report());
    assert!(run.report().contains(REVOKED), "{}", run.report());
    let run = now.renew().unwrap();
    assert!(!run.success(), "{}", run.report());
    assert!(run.report().contains(REVOKED), "{}", run.report());
    realm.check_no_panic().unwrap();
}
