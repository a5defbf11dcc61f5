//! MIT kinit 1.22 (Debian sid's, unpacked by `tests/run`) against `kdc serve`: a TGT by key
//! trust (alice) and by certificate trust (bob) with MODP at the default
//! `pkinit_dh_min_bits`, a service ticket with kvno, and ECDH (RFC 5349) when
//! `pkinit_dh_min_bits` names a curve, checked on the wire (the AuthPack's clientPublicValue)
//! and in the KDC's audit line.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use kdc_integration::{
    Identity, MitClient, OID_DHPUBLICNUMBER, OID_EC_PUBLIC_KEY, OID_SECP256R1, OID_SECP384R1,
    OID_SECP521R1, Realm, TcpProxy, conf, krb,
};

const WEB: &str = "host/web.example";

/// Who logs in, and how the KDC trusts them (the audit line's `trust`).
#[derive(Clone, Copy, Debug)]
enum User {
    /// dev-realm's alice: self-signed certificate, key registered (key trust).
    Alice,
    /// dev-realm's bob: certificate issued by the realm's CA (certificate trust).
    Bob,
}

impl User {
    fn name(self) -> &'static str {
        match self {
            User::Alice => "alice",
            User::Bob => "bob",
        }
    }

    fn identity(self, realm: &Realm) -> Identity {
        match self {
            User::Alice => realm.alice(),
            User::Bob => realm.bob(),
        }
    }

    fn trust(self) -> &'static str {
        match self {
            User::Alice => "trust=\"key\"",
            User::Bob => "trust=\"certificate\"",
        }
    }
}

struct Login {
    realm: Realm,
    proxy: TcpProxy,
    client: MitClient,
}

/// A realm with the service WEB, MIT 1.22 reaching it through a recording proxy with
/// `pkinit_dh_min_bits` set to `min_bits` (MIT's default, 2048, when None), and `user`'s
/// kinit, which must succeed.
fn login(user: User, min_bits: Option<&str>) -> Login {
    let mut realm = Realm::create().unwrap();
    realm.add_service(WEB).unwrap();
    realm.start().unwrap();
    let proxy = TcpProxy::start(realm.addr()).unwrap();
    let client = realm.client_122_via(&proxy.host_port()).unwrap();
    if let Some(bits) = min_bits {
        client
            .edit_krb5_conf(|t| conf::set_libdefault(t, "pkinit_dh_min_bits", bits))
            .unwrap();
    }
    let run = client
        .kinit(&realm.principal(user.name()), &user.identity(&realm))
        .unwrap();
    assert!(
        run.success(),
        "{}\n{}\n{}",
        run.report(),
        proxy.summary(),
        realm.log()
    );
    Login {
        realm,
        proxy,
        client,
    }
}

impl Login {
    /// clientPublicValue's (algorithm, namedCurve) of every PKINIT AS-REQ the client sent.
    fn offers(&self) -> Vec<(String, Option<String>)> {
        self.proxy
            .exchanges()
            .iter()
            .filter(|e| krb::is_pkinit_as_req(&e.request))
            .map(|e| krb::pkinit_client_public_value_oids(&e.request).unwrap())
            .collect()
    }

    /// The KDC's audit line for the TGT (target kdc::audit).
    fn audit_line(&self) -> String {
        let log = self.realm.log();
        log.lines()
            .find(|l| l.contains("kdc::audit") && l.contains("issued TGT"))
            .unwrap_or_else(|| panic!("no audit line for the TGT:\n{log}"))
            .to_owned()
    }

    /// klist shows the user's TGT, kvno gets a ticket for WEB from it.
    fn check_tickets(&self, user: User) {
        let klist = self.client.klist().unwrap();
        assert!(klist.success(), "{}", klist.report());
        let tgt = format!("krbtgt/{0}@{0}", self.realm.name());
        let default = format!("Default principal: {}", self.realm.principal(user.name()));
        assert!(klist.output.stdout.contains(&tgt), "{}", klist.report());
        assert!(klist.output.stdout.contains(&default), "{}", klist.report());
        let web = format!("{WEB}@{}", self.realm.name());
        let kvno = self.client.kvno(&[&web]).unwrap();
        assert!(kvno.success(), "{}\n{}", kvno.report(), self.realm.log());
        assert!(kvno.output.stdout.contains("kvno = 1"), "{}", kvno.report());
        self.realm.check_no_panic().unwrap();
    }
}

/// MIT 1.22's default `pkinit_dh_min_bits` (2048) offers MODP group 14, as 1.20 does.
fn modp(user: User) {
    let login = login(user, None);
    let summary = login.proxy.summary();
    assert_eq!(
        login.offers(),
        vec![(OID_DHPUBLICNUMBER.to_owned(), None)],
        "{summary}"
    );
    let request = login
        .proxy
        .exchanges()
        .into_iter()
        .find(|e| krb::is_pkinit_as_req(&e.request))
        .unwrap()
        .request;
    assert_eq!(krb::pkinit_dh_modulus_bits(&request).unwrap(), 2048);
    let audit = login.audit_line();
    assert!(audit.contains(user.trust()), "{audit}");
    assert!(audit.contains("dh_group=\"MODP-2048\""), "{audit}");
    login.check_tickets(user);
}

/// `pkinit_dh_min_bits = CURVE` makes MIT 1.22 offer ECDH on that curve: id-ecPublicKey with
/// the curve's namedCurve OID. The KDC answers with its own point and issues the TGT.
fn ecdh(user: User, curve: &str, curve_oid: &str) {
    let login = login(user, Some(curve));
    let summary = login.proxy.summary();
    assert_eq!(
        login.offers(),
        vec![(OID_EC_PUBLIC_KEY.to_owned(), Some(curve_oid.to_owned()))],
        "{summary}"
    );
    let audit = login.audit_line();
    assert!(audit.contains(user.trust()), "{audit}");
    assert!(audit.contains(&format!("dh_group=\"{curve}\"")), "{audit}");
    login.check_tickets(user);
}

#[test]
fn key_trust_modp() {
    modp(User::Alice);
}

#[test]
fn certificate_trust_modp() {
    modp(User::Bob);
}

#[test]
fn key_trust_ecdh_p256() {
    ecdh(User::Alice, "P-256", OID_SECP256R1);
}

#[test]
fn key_trust_ecdh_p384() {
    ecdh(User::Alice, "P-384", OID_SECP384R1);
}

#[test]
fn key_trust_ecdh_p521() {
    ecdh(User::Alice, "P-521", OID_SECP521R1);
}

#[test]
fn certificate_trust_ecdh_p256() {
    ecdh(User::Bob, "P-256", OID_SECP256R1);
}

#[test]
fn certificate_trust_ecdh_p384() {
    ecdh(User::Bob, "P-384", OID_SECP384R1);
}

#[test]
fn certificate_trust_ecdh_p521() {
    ecdh(User::Bob, "P-521", OID_SECP521R1);
}

/// Windows Server 2025's paChecksum2 rule (`require_pa_checksum2`): MIT kinit 1.22 sends
/// paChecksum2 and passes it with MODP and ECDH; MIT 1.20 sends only paChecksum and gets
/// KDC_ERR_PA_CHECKSUM_MUST_BE_INCLUDED.
#[test]
fn require_pa_checksum2_passes_mit_1_22_and_refuses_1_20() {
    let mut realm = Realm::create().unwrap();
    realm
        .set_kdc_option("pkinit", "require_pa_checksum2", "\"always\"")
        .unwrap();
    realm.start().unwrap();
    for min_bits in ["2048", "P-256"] {
        let client = realm.client_122().unwrap();
        client
            .edit_krb5_conf(|t| conf::set_libdefault(t, "pkinit_dh_min_bits", min_bits))
            .unwrap();
        let run = client
            .kinit(&realm.principal("alice"), &realm.alice())
            .unwrap();
        assert!(
            run.success(),
            "{min_bits}\n{}\n{}",
            run.report(),
            realm.log()
        );
    }
    assert_eq!(
        realm.log().matches("issued TGT").count(),
        2,
        "{}",
        realm.log()
    );
    let old = realm.client().unwrap();
    let run = old
        .kinit(&realm.principal("alice"), &realm.alice())
        .unwrap();
    assert!(
        !run.success(),
        "MIT 1.20 sends no paChecksum2\n{}",
        run.report()
    );
    assert!(
        realm.log().contains("KDC_ERR_PA_CHECKSUM_MUST_BE_INCLUDED"),
        "{}",
        realm.log()
    );
    realm.check_no_panic().unwrap();
}
