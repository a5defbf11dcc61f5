//! The TGS exchange with MIT clients (RFC 4120 §3.3): `kvno` gets a service ticket from the
//! PKINIT TGT, `kvno -k` proves it decrypts with the exported keytab, `kinit -R` renews, and
//! a TGT from before `kdc krbtgt rotate` keeps working while new ones use the new kvno.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use kdc_integration::Realm;

const WEB: &str = "host/web.example";

fn realm_with_web() -> (Realm, String, std::path::PathBuf) {
    let mut realm = Realm::create().unwrap();
    let web = realm.add_service(WEB).unwrap();
    let keytab = realm.tmp().join("web.keytab");
    let keytab_arg = keytab.to_str().unwrap().to_owned();
    realm
        .admin(&[
            "keytab",
            "export",
            "--principal",
            &web,
            "--out",
            &keytab_arg,
        ])
        .unwrap()
        .ok()
        .unwrap();
    realm.start().unwrap();
    (realm, web, keytab)
}

#[test]
fn kvno_gets_a_service_ticket_that_the_keytab_decrypts() {
    let (realm, web, keytab) = realm_with_web();
    let client = realm.client().unwrap();
    let alice = realm.principal("alice");
    let run = client.kinit(&alice, &realm.alice()).unwrap();
    assert!(run.success(), "{}", run.report());

    let run = client.kvno(&[&web]).unwrap();
    assert!(run.success(), "{}\n{}", run.report(), realm.log());
    assert!(run.output.stdout.contains("kvno = 1"), "{}", run.report());
    let run = client
        .kvno(&["-k", keytab.to_str().unwrap(), &web])
        .unwrap();
    assert!(run.success(), "{}", run.report());
    assert!(
        run.output.stdout.contains("keytab entry valid"),
        "{}",
        run.report()
    );

    let unknown = format!("host/nowhere.example@{}", realm.name());
    let run = client.kvno(&[&unknown]).unwrap();
    assert!(!run.success());
    assert!(
        run.trace.contains("not found in Kerberos database"),
        "{}",
        run.report()
    );
    realm.check_no_panic().unwrap();
}

#[test]
fn renewable_tgt_renews_and_a_non_renewable_one_is_refused() {
    let (realm, _web, _keytab) = realm_with_web();
    let client = realm.client().unwrap();
    let alice = realm.principal("alice");
    // MIT kinit asks for a day with renewable-ok: the 10 h TGT comes back renewable.
    assert!(client.kinit(&alice, &realm.alice()).unwrap().success());
    let run = client.renew().unwrap();
    assert!(run.success(), "{}\n{}", run.report(), realm.log());

    // Asking for less than the realm's lifetime leaves renewable-ok unused: not renewable.
    client
        .edit_krb5_conf(|conf| {
            Ok(conf.replace("[libdefaults]", "[libdefaults]\n    ticket_lifetime = 1h"))
        })
        .unwrap();
    assert!(client.kinit(&alice, &realm.alice()).unwrap().success());
    let run = client.renew().unwrap();
    assert!(!run.success(), "{}", run.report());
    assert!(
        run.trace.contains("KDC can't fulfill requested option"),
        "{}",
        run.report()
    );
}

#[test]
fn after_krbtgt_rotation_old_tgts_still_work_and_new_ones_use_the_new_kvno() {
    let (mut realm, web, _keytab) = realm_with_web();
    let krbtgt = format!("krbtgt/{0}@{0}", realm.name());
    let before = realm.client().unwrap();
    let alice = realm.principal("alice");
    assert!(before.kinit(&alice, &realm.alice()).unwrap().success());

    realm.admin(&["krbtgt", "rotate"]).unwrap().ok().unwrap();
    realm.restart().unwrap();

    let run = before.kvno(&[&web]).unwrap();
    assert!(
        run.success(),
        "old TGT after rotation: {}\n{}",
        run.report(),
        realm.log()
    );
    let after = realm.client().unwrap();
    assert!(after.kinit(&alice, &realm.alice()).unwrap().success());
    let run = after.kvno(&[&krbtgt]).unwrap();
    assert!(run.output.stdout.contains("kvno = 2"), "{}", run.report());
    let run = before.kvno(&[&krbtgt]).unwrap();
    assert!(run.output.stdout.contains("kvno = 1"), "{}", run.report());
}
