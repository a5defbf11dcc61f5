//! Certificate trust end to end in process (RFC 4556 §3.2.2, RFC 5280 §6, KB5014754): the
//! development realm, a test PKI made with rcgen, and the PKINIT client, which always sends
//! its certificate chain. One test per refusal of the issue, each with its code, and
//! acceptance with and without an intermediate CA.

use kdc::preauth::pkinit::agreement::{DhGroup, EcCurve, ModpGroup};
use kdc::proto::codes::ErrorCode;
use kdc_client::ClientOptions;
use kdc_directory::EmbeddedDirectory;
use rcgen::ExtendedKeyUsagePurpose;
use time::Duration;

use crate::support::pki::{Ca, Leaf, bob_with, issue, login, realm, realm_and_root, sid_of};
use crate::support::{REALM, Realm, register};

#[tokio::test]
async fn dev_realm_bob_gets_a_tgt_with_his_ca_issued_certificate() {
    let realm = Realm::dev().await;
    assert_eq!(login(&realm, "bob", "bob").await, 0);
    // alice's self-signed certificate still goes to key trust.
    assert_eq!(login(&realm, "alice", "alice").await, 0);
}

#[tokio::test]
async fn accepted_with_an_intermediate_sent_or_from_the_pool() {
    let realm = realm(
        |c| c.replace("intermediates = []", "intermediates = [\"inter.pem\"]"),
        async |dir, root| {
            let sid = sid_of(dir, "bob").await;
            let inter = root.intermediate("Test Issuing CA", Some(0));
            std::fs::write(dir.join("inter.pem"), &inter.pem).unwrap();
            std::fs::write(dir.join("root.crl"), root.crl(&[], Duration::days(7))).unwrap();
            std::fs::write(dir.join("inter.crl"), inter.crl(&[], Duration::days(7))).unwrap();
            issue(
                dir,
                "sent",
                &inter,
                &[&inter],
                Leaf::for_user("bob", Some(sid.clone())),
            );
            issue(dir, "pooled", &inter, &[], Leaf::for_user("bob", Some(sid)));
        },
    )
    .await;
    // Without inter.crl configured, the intermediate's revocation status is unknown.
    assert_eq!(
        login(&realm, "bob", "sent").await,
        ErrorCode::REVOCATION_STATUS_UNKNOWN.0
    );
    let config = realm.dir.path().join("kdc.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace("\"root.crl\"]", "\"root.crl\", \"inter.crl\"]"),
    )
    .unwrap();
    let realm = Realm {
        kdc: kdc::build::from_file(&config).await.unwrap().1,
        dir: realm.dir,
    };
    assert_eq!(login(&realm, "bob", "sent").await, 0);
    assert_eq!(login(&realm, "bob", "pooled").await, 0);
}

#[tokio::test]
async fn expired_and_not_yet_valid_are_invalid_certificate() {
    let realm = realm(
        |c| c,
        async |dir, root| {
            let sid = sid_of(dir, "bob").await;
            let expired = Leaf {
                valid_from_days: -30,
                valid_until_days: -1,
                ..Leaf::for_user("bob", Some(sid.clone()))
            };
            issue(dir, "expired", root, &[], expired);
            let future = Leaf {
                valid_from_days: 1,
                ..Leaf::for_user("bob", Some(sid))
            };
            issue(dir, "future", root, &[], future);
        },
    )
    .await;
    for name in ["expired", "future"] {
        assert_eq!(
            login(&realm, "bob", name).await,
            ErrorCode::INVALID_CERTIFICATE.0,
            "{name}"
        );
    }
}

#[tokio::test]
async fn unknown_ca_is_cant_verify_certificate() {
    let realm = realm(
        |c| c,
        async |dir, _| {
            let sid = sid_of(dir, "bob").await;
            issue(
                dir,
                "stranger",
                &Ca::root("Unknown CA"),
                &[],
                Leaf::for_user("bob", Some(sid)),
            );
        },
    )
    .await;
    assert_eq!(
        login(&realm, "bob", "stranger").await,
        ErrorCode::CANT_VERIFY_CERTIFICATE.0
    );
}

/// Issuer name of a trusted CA, signature by another key: refused, not passed to key trust.
#[tokio::test]
async fn broken_chain_signature_is_invalid_certificate_even_with_a_registered_key() {
    let realm = realm(
        |c| c,
        async |dir, _| {
            let sid = sid_of(dir, "bob").await;
            let impostor = Ca::root("Test Root CA");
            issue(
                dir,
                "forged",
                &impostor,
                &[],
                Leaf::for_user("bob", Some(sid)),
            );
            register(dir, &format!("bob@{REALM}"), "forged.pem").await;
        },
    )
    .await;
    assert_eq!(
        login(&realm, "bob", "forged").await,
        ErrorCode::INVALID_CERTIFICATE.0
    );
}

#[tokio::test]
async fn wrong_eku_is_inconsistent_key_purpose() {
    let realm = bob_with(|sid| Leaf {
        ekus: vec![ExtendedKeyUsagePurpose::ServerAuth],
        ..Leaf::for_user("bob", Some(sid))
    })
    .await;
    assert_eq!(
        login(&realm, "bob", "card").await,
        ErrorCode::INCONSISTENT_KEY_PURPOSE.0
    );
}

/// A new CRL is read on the next request (reload_interval_secs = 0): no restart.
#[tokio::test]
async fn a_new_crl_revokes_without_restart() {
    let (realm, root) = realm_and_root(
        |c| c,
        async |dir, root| {
            let sid = sid_of(dir, "bob").await;
            issue(dir, "card", root, &[], Leaf::for_user("bob", Some(sid)));
        },
    )
    .await;
    assert_eq!(login(&realm, "bob", "card").await, 0);
    let crl = realm.dir.path().join("root.crl");
    std::fs::write(&crl, root.crl(&[0x42], Duration::days(7))).unwrap();
    assert_eq!(
        login(&realm, "bob", "card").await,
        ErrorCode::REVOKED_CERTIFICATE.0
    );
}

#[tokio::test]
async fn revoked_certificate_is_refused_even_if_its_key_is_registered() {
    let realm = realm(
        |c| c,
        async |dir, root| {
            let sid = sid_of(dir, "bob").await;
            issue(dir, "card", root, &[], Leaf::for_user("bob", Some(sid)));
            std::fs::write(dir.join("root.crl"), root.crl(&[0x42], Duration::days(7))).unwrap();
            register(dir, &format!("bob@{REALM}"), "card.pem").await;
        },
    )
    .await;
    assert_eq!(
        login(&realm, "bob", "card").await,
        ErrorCode::REVOKED_CERTIFICATE.0
    );
}

/// A CRL that names the issuer but is signed by another key proves nothing: it neither
/// revokes nor stands in for the issuer's own CRL.
#[tokio::test]
async fn a_crl_signed_by_another_key_is_ignored() {
    let impostor = Ca::root("Test Root CA");
    let forged = impostor.crl(&[0x42], Duration::days(7));
    let with_genuine = realm(
        |c| c.replace("\"root.crl\"]", "\"root.crl\", \"forged.crl\"]"),
        async |dir, root| {
            let sid = sid_of(dir, "bob").await;
            issue(dir, "card", root, &[], Leaf::for_user("bob", Some(sid)));
            std::fs::write(dir.join("forged.crl"), &forged).unwrap();
        },
    )
    .await;
    assert_eq!(login(&with_genuine, "bob", "card").await, 0);
    let forged_only = realm(
        |c| c,
        async |dir, root| {
            let sid = sid_of(dir, "bob").await;
            issue(dir, "card", root, &[], Leaf::for_user("bob", Some(sid)));
            std::fs::write(dir.join("root.crl"), &forged).unwrap();
        },
    )
    .await;
    assert_eq!(
        login(&forged_only, "bob", "card").await,
        ErrorCode::REVOCATION_STATUS_UNKNOWN.0
    );
}

#[tokio::test]
async fn stale_crl_fails_closed_or_is_allowed_and_a_missing_one_too() {
    let stale = async |edit: fn(String) -> String| {
        realm(edit, async |dir, root| {
            let sid = sid_of(dir, "bob").await;
            issue(dir, "card", root, &[], Leaf::for_user("bob", Some(sid)));
            std::fs::write(dir.join("root.crl"), root.crl(&[], -Duration::days(1))).unwrap();
        })
        .await
    };
    let closed = stale(|c| c).await;
    assert_eq!(
        login(&closed, "bob", "card").await,
        ErrorCode::REVOCATION_STATUS_UNKNOWN.0
    );
    let allowed =
        stale(|c| c.replace("stale_crl = \"fail_closed\"", "stale_crl = \"allow\"")).await;
    assert_eq!(login(&allowed, "bob", "card").await, 0);
    let no_crl = realm(
        |c| c.replace("\"ca.crl\", \"root.crl\"", "\"ca.crl\""),
        async |dir, root| {
            let sid = sid_of(dir, "bob").await;
            issue(dir, "card", root, &[], Leaf::for_user("bob", Some(sid)));
        },
    )
    .await;
    assert_eq!(
        login(&no_crl, "bob", "card").await,
        ErrorCode::REVOCATION_STATUS_UNKNOWN.0
    );
}

#[tokio::test]
async fn upn_of_another_user_is_client_name_mismatch() {
    let realm = bob_with(|sid| Leaf::for_user("alice", Some(sid))).await;
    assert_eq!(
        login(&realm, "bob", "card").await,
        ErrorCode::CLIENT_NAME_MISMATCH.0
    );
}

#[tokio::test]
async fn sid_of_another_user_is_client_name_mismatch() {
    let realm = realm(
        |c| c,
        async |dir, root| {
            let alice_sid = sid_of(dir, "alice").await;
            issue(
                dir,
                "card",
                root,
                &[],
                Leaf::for_user("bob", Some(alice_sid)),
            );
        },
    )
    .await;
    assert_eq!(
        login(&realm, "bob", "card").await,
        ErrorCode::CLIENT_NAME_MISMATCH.0
    );
}

#[tokio::test]
async fn missing_strong_mapping_is_refused_in_full_and_accepted_in_compatibility() {
    let weak = async |edit: fn(String) -> String| {
        realm(edit, async |dir, root| {
            issue(dir, "card", root, &[], Leaf::for_user("bob", None));
        })
        .await
    };
    let full = weak(|c| c).await;
    assert_eq!(
        login(&full, "bob", "card").await,
        ErrorCode::CLIENT_NAME_MISMATCH.0
    );
    let compatibility = weak(|c| {
        c.replace(
            "strong_mapping = \"full\"",
            "strong_mapping = \"compatibility\"",
        )
    })
    .await;
    assert_eq!(login(&compatibility, "bob", "card").await, 0);
}

/// No SID extension and no names, but an altSecurityIdentities value of bob's binds it.
#[tokio::test]
async fn explicit_issuer_serial_mapping_is_strong() {
    let realm = realm(
        |c| c,
        async |dir, root| {
            let leaf = Leaf {
                names: None,
                ..Leaf::for_user("bob", None)
            };
            issue(dir, "card", root, &[], leaf);
            let directory = EmbeddedDirectory::load(dir.join("directory.toml"))
                .await
                .unwrap();
            let sid = sid_of(dir, "bob").await;
            let mapping = "X509:<I>CN=Test Root CA<SR>42".to_owned();
            directory
                .set_certificate_mapping(
                    &format!("bob@{REALM}"),
                    Some(sid.parse().unwrap()),
                    vec![mapping],
                )
                .await
                .unwrap();
        },
    )
    .await;
    assert_eq!(login(&realm, "bob", "card").await, 0);
    // The same certificate presented for alice maps to nobody of hers.
    assert_eq!(
        login(&realm, "alice", "card").await,
        ErrorCode::CLIENT_NAME_MISMATCH.0
    );
}

/// Without `[pkinit.certificate_trust]` a CA-issued certificate is key trust's.
#[tokio::test]
async fn without_the_table_every_certificate_goes_to_key_trust() {
    let realm = Realm::new(
        |c| {
            let start = c.find("[pkinit.certificate_trust]").unwrap();
            let end = start + c[start..].find("[directory]").unwrap();
            format!("{}{}", &c[..start], &c[end..])
        },
        async |_| {},
    )
    .await;
    assert_eq!(
        login(&realm, "bob", "bob").await,
        ErrorCode::CLIENT_NOT_TRUSTED.0
    );
}

/// EC client certificates (issue 14): a P-256 smart-card certificate under the CA gets a TGT
/// by certificate trust, with MODP and with ECDH.
#[tokio::test]
async fn a_p256_card_certificate_gets_a_tgt() {
    let realm = bob_with(|sid| Leaf {
        key: &rcgen::PKCS_ECDSA_P256_SHA256,
        ..Leaf::for_user("bob", Some(sid))
    })
    .await;
    let signer = realm.signer("card");
    for group in [DhGroup::Modp(ModpGroup::Modp14), DhGroup::Ec(EcCurve::P256)] {
        let options = ClientOptions {
            group,
            ..ClientOptions::new(REALM, "bob")
        };
        realm
            .login(&options, &signer)
            .await
            .unwrap_or_else(|e| panic!("{group:?}: {e}"));
    }
}
